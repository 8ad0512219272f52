//! Where credentials go and what shows them, against the real Keystone and Swift of the test
//! bed: userinfo in URL-valued options is a secret (errors, log lines, Debug).

mod support;

use std::sync::{Arc, Mutex};

use openstack_dest::log::{self, Level};
use openstack_dest::{Destination, ErrorKind};
use support::real::{testbed, unique_container, var};

/// Every log line of the library while `f` runs (this is the only test of this binary that sets
/// a sink, so the lines are this test's).
fn with_log_lines<T>(f: impl FnOnce() -> T) -> (T, Vec<String>) {
    let lines: Arc<Mutex<Vec<String>>> = Arc::default();
    let l = lines.clone();
    log::set_sink(
        Some(Arc::new(move |_: Level, m: &str| {
            l.lock().unwrap().push(m.to_string())
        })),
        Level::Debug,
    );
    let out = f();
    log::set_sink(None, Level::Error);
    let lines = lines.lock().unwrap().clone();
    (out, lines)
}

/// `http://user:secret@host:port/path` from `http://host:port/path`.
fn with_userinfo(url: &str, user: &str, secret: &str) -> String {
    url.replacen("://", &format!("://{user}:{secret}@"), 1)
}

#[test]
fn userinfo_in_url_options_never_shows() {
    let Some(tb) = testbed() else { return };
    let secret = format!("Ui-{:016x}", fastrand::u64(..));
    let c = unique_container("userinfo");
    let region = var("OSD_REGION1");
    let member = tb.v3(&c, "", &region);
    let auth = var("OSD_AUTH_V3");
    let keystone_with_userinfo = with_userinfo(&auth, "proxyuser", &secret);
    let mut texts: Vec<String> = Vec::new();

    let ((), lines) = with_log_lines(|| {
        // Keystone behind a URL with userinfo, refusing the password.
        let wrong = Destination::open(
            &member
                .replace(&var("OSD_PASSWORD"), "Wrong-Password-1")
                .replace(&auth, &keystone_with_userinfo),
        )
        .unwrap();
        let e = wrong.test().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Auth, "{e}");
        assert!(e.to_string().contains("***@127.0.0.1"), "{e}");
        texts.push(format!("{e} {e:?} {:?}", wrong.config()));

        // The right password through the same URL works: the userinfo is only hidden.
        let right = Destination::open(&member.replace(&auth, &keystone_with_userinfo)).unwrap();
        right.create_container().unwrap();
        texts.push(format!("{:?}", right.config()));

        // A storage URL with userinfo, given with credentials (replacing the catalog's), and a
        // closed port behind userinfo (the transport error names the URL).
        let session = right.session().unwrap();
        let storage = with_userinfo(&session.storage_url, "swiftuser", &secret);
        let via =
            Destination::open_with(&member, [("openstack-storage-url", storage.as_str())]).unwrap();
        via.put_bytes("a", b"through userinfo").unwrap();
        texts.push(format!("{:?} {:?}", via.config(), via.session().unwrap()));
        let closed = Destination::open(&format!(
            "{}&number-of-retries=0",
            member.replace(&auth, &with_userinfo("http://127.0.0.1:9/v3", "u", &secret))
        ))
        .unwrap();
        let e = closed.test().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Network, "{e}");
        texts.push(format!("{e} {e:?}"));
        right.delete("a").unwrap();
        right.delete_container(false).unwrap();
    });
    assert!(
        lines.iter().any(|l| l.contains("Swift endpoint")),
        "no log line names the endpoint: {lines:?}"
    );
    for text in texts.iter().chain(&lines) {
        assert!(!text.contains(&secret), "the userinfo shows: {text}");
        assert!(
            !text.contains("proxyuser") && !text.contains("swiftuser"),
            "{text}"
        );
    }
}
