//! Where credentials go and what shows them, against the real Keystone and Swift of the test
//! bed: userinfo in URL-valued options is a secret (errors, log lines, Debug); the region rule
//! over a catalog of two object-store services with non-ASCII region names.

mod support;

use std::sync::{Arc, Mutex};

use openstack_dest::log::{self, Level};
use openstack_dest::{Destination, ErrorKind};
use serde_json::json;
use support::fake::{Action, Fake, Request};
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

/// Nothing listens here: an endpoint the rule must not choose.
const DEAD: &str = "http://127.0.0.1:9/v1/AUTH_dead";

/// A Keystone (v3 at `/v3`, v2 at `/v2.0`) that hands out `token` — a real one — with a catalog
/// of two object-store services whose endpoints are `(region, url)` each, public.
fn keystone_with_catalog(token: String, services: Vec<Vec<(&'static str, String)>>) -> Fake {
    Fake::start(Arc::new(move |r: &Request| {
        let v3: Vec<serde_json::Value> = services
            .iter()
            .map(|eps| {
                let eps: Vec<_> = eps
                    .iter()
                    .map(|(region, url)| json!({"interface": "public", "region": region, "region_id": region, "url": url}))
                    .collect();
                json!({"type": "object-store", "endpoints": eps})
            })
            .collect();
        if r.path.starts_with("/v3/auth/tokens") {
            return Action::Respond {
                status: 201,
                headers: vec![
                    ("Content-Type".into(), "application/json".into()),
                    ("X-Subject-Token".into(), token.clone()),
                ],
                body: json!({"token": {"expires_at": "2099-01-01T00:00:00Z", "catalog": v3}})
                    .to_string()
                    .into_bytes(),
            };
        }
        if r.path.starts_with("/v2.0/tokens") {
            let v2: Vec<serde_json::Value> = services
                .iter()
                .map(|eps| {
                    let eps: Vec<_> = eps
                        .iter()
                        .map(|(region, url)| json!({"region": region, "publicURL": url}))
                        .collect();
                    json!({"type": "object-store", "endpoints": eps})
                })
                .collect();
            return Action::json(
                200,
                json!({"access": {"token": {"id": token, "expires": "2099-01-01T00:00:00Z"}, "serviceCatalog": v2}}),
            );
        }
        Action::status(404)
    }))
}

#[test]
fn region_rule_over_two_object_store_services_and_non_ascii_names() {
    let Some(tb) = testbed() else { return };
    let c = unique_container("region");
    let real = Destination::open(&tb.v3(&c, "", &var("OSD_REGION1"))).unwrap();
    real.create_container().unwrap();
    let session = real.session().unwrap();
    let swift = session.storage_url.clone();
    // The first service offers Straße-Süd too, but not publicly at a live address; the rule
    // decides which of the two live ones is used.
    let keystone = keystone_with_catalog(
        session.token.expose().to_string(),
        vec![
            vec![
                ("Région-Nord", DEAD.to_string()),
                ("Straße-Süd", swift.clone()),
            ],
            vec![
                ("STRASSE-SÜD", DEAD.to_string()),
                ("ΟΔΟΣ", swift.clone()),
                ("Région-Nord", swift.clone()),
            ],
        ],
    );
    let open = |version: &str, region: &str| {
        let path = if version == "v3" { "/v3" } else { "/v2.0" };
        Destination::open(&format!(
            "openstack://{c}/?auth-username=u&auth-password=p&openstack-tenant-name=t&openstack-domain-name=Default&openstack-authuri={}&openstack-region={region}&number-of-retries=0&short-timeout=5s",
            keystone.url(path)
        ))
        .unwrap()
    };
    for version in ["v3", "v2"] {
        // Unicode case: STRASSE-SÜD is Straße-Süd; the first service's endpoint comes first.
        for region in ["STRASSE-S%C3%9CD", "stra%C3%9Fe-s%C3%BCd"] {
            let d = open(version, region);
            d.put_bytes("r", version.as_bytes())
                .unwrap_or_else(|e| panic!("{version} {region}: {e}"));
            assert_eq!(d.get_bytes("r").unwrap(), version.as_bytes());
        }
        // Found only in the second service (final sigma or not).
        let d = open(version, "%CE%BF%CE%B4%CE%BF%CF%82");
        assert_eq!(d.get_bytes("r").unwrap(), version.as_bytes(), "{version}");
        // RÉGION-NORD is in both services: the first, dead one is chosen, not the live one later.
        let e = open(version, "R%C3%89GION-NORD")
            .get_bytes("r")
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Network, "{version}: {e}");
        // A region nobody has: the first endpoint (dead) with a warning.
        let e = open(version, "Mars").get_bytes("r").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Network, "{version}: {e}");
    }
    real.delete("r").unwrap();
    real.delete_container(false).unwrap();
}
