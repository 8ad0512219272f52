//! One token for many destinations, counted at a real Keystone of the test's own: destinations
//! of one process with the same identity authenticate once and re-authenticate once for all
//! after a revocation; with `openstack-token-cache`, a series of processes authenticates once.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;

use openstack_dest::{Destination, ErrorKind};
use support::real::{account_path, testbed, unique_container, var, Testbed};
use support::servers::{OwnKeystone, OwnProxy};

/// A v3 URL of the member user that logs in at `keystone` (and, when given, sends its Swift
/// requests to `swift`).
fn url_at(keystone: &OwnKeystone, container: &str, swift: Option<&str>) -> String {
    let mut url = Testbed
        .v3(container, "", &var("OSD_REGION1"))
        .replace(&var("OSD_AUTH_V3"), &keystone.url());
    if let Some(swift) = swift {
        url.push_str(&format!(
            "&openstack-storage-url={swift}{}",
            account_path(container)
        ));
    }
    url
}

/// Revokes `token` at `keystone` (the token revokes itself).
fn revoke(keystone: &OwnKeystone, token: &str) {
    let answer = reqwest::blocking::Client::new()
        .delete(format!("{}/auth/tokens", keystone.url()))
        .header("X-Auth-Token", token)
        .header("X-Subject-Token", token)
        .send()
        .unwrap();
    assert_eq!(answer.status().as_u16(), 204, "Keystone revoked the token");
}

#[test]
fn fifty_destinations_of_one_identity_authenticate_once() {
    let Some(_) = testbed() else { return };
    let keystone = OwnKeystone::start(3600);
    let c = unique_container("shared");
    let first = Destination::open(&url_at(&keystone, &c, None)).unwrap();
    first.create_container().unwrap();
    first.put_bytes("a", b"shared").unwrap();
    let second = Destination::open(&url_at(&keystone, &c, None)).unwrap();
    assert_eq!(second.get_bytes("a").unwrap(), b"shared");
    assert_eq!(keystone.token_requests(), 1, "two destinations, one token");

    // Fifty more, opened and used at once from fifty threads: still the one token.
    let url = Arc::new(url_at(&keystone, &c, None));
    let threads: Vec<_> = (0..50)
        .map(|i| {
            let url = url.clone();
            std::thread::spawn(move || {
                let d = Destination::open(&url).unwrap();
                d.put_bytes(&format!("o{i}"), format!("{i}").as_bytes())
                    .unwrap();
                assert_eq!(d.get_bytes("a").unwrap(), b"shared");
            })
        })
        .collect();
    threads.into_iter().for_each(|t| t.join().unwrap());
    assert_eq!(keystone.token_requests(), 1, "52 destinations, one token");

    // Another identity has its own token; a wrong password is refused, whatever is cached.
    let other = Destination::open(&url_at(&keystone, &c, None).replace(
        &format!("auth-password={}", var("OSD_PASSWORD")),
        &format!("auth-password={}", var("OSD_PASSWORD2")),
    ))
    .unwrap();
    let e = other.get_bytes("a").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth, "{e}");
    assert!(keystone.token_requests() >= 2);
    first.delete_container(true).unwrap();
}

#[test]
fn a_revoked_shared_token_costs_one_authentication_for_all() {
    let Some(_) = testbed() else { return };
    let keystone = OwnKeystone::start(3600);
    // A proxy that asks Keystone about every token (no cache), so a revocation shows at once.
    let proxy = OwnProxy::start(&[("filter:authtoken", "token_cache_time", "-1")]);
    let c = unique_container("shared-revoked");
    let url = url_at(&keystone, &c, Some(&format!("http://{}", proxy.hostport())));
    let all: Vec<Destination> = (0..10).map(|_| Destination::open(&url).unwrap()).collect();
    all[0].create_container().unwrap();
    all.iter()
        .for_each(|d| d.put_bytes("a", b"before").unwrap());
    assert_eq!(keystone.token_requests(), 1);
    revoke(&keystone, all[0].session().unwrap().token.expose());
    std::thread::scope(|s| {
        for (i, d) in all.iter().enumerate() {
            s.spawn(move || d.put_bytes(&format!("b{i}"), b"after").unwrap());
        }
    });
    assert_eq!(keystone.token_requests(), 2, "one new token for the ten");
    all[0].delete_container(true).unwrap();
}

/// Runs `token_cache_child` in a new process with `url`: whether it read object "a" back.
fn child_reads(url: &str) -> Result<(), String> {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "token_cache_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("OSD_TOKEN_CHILD_URL", url)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let said = text
        .lines()
        .find_map(|l| l.find("child: ").map(|at| &l[at..]));
    match said {
        Some("child: ok") => Ok(()),
        Some(line) => Err(line.to_string()),
        None => panic!("the child did not run: {text}"),
    }
}

/// Not a test on its own: the process `child_reads` starts (it does nothing without its
/// variable). Reads "a" and says how it went.
#[test]
fn token_cache_child() {
    let Ok(url) = std::env::var("OSD_TOKEN_CHILD_URL") else {
        return;
    };
    let result = Destination::open(&url).and_then(|d| d.get_bytes("a"));
    match result {
        Ok(data) if data == b"cached" => println!("child: ok"),
        Ok(other) => println!("child: wrong data {other:?}"),
        Err(e) => println!("child: {:?} {e}", e.kind()),
    }
}

#[test]
fn a_series_of_processes_authenticates_once_through_the_token_cache() {
    let Some(_) = testbed() else { return };
    let keystone = OwnKeystone::start(3600);
    let proxy = OwnProxy::start(&[("filter:authtoken", "token_cache_time", "-1")]);
    let c = unique_container("token-cache");
    let dir = std::env::temp_dir().join(unique_container("token-cache-dir"));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("tokens");
    let base = url_at(&keystone, &c, Some(&format!("http://{}", proxy.hostport())));
    let url = format!("{base}&openstack-token-cache={}", file.display());
    {
        let d = Destination::open(&base).unwrap();
        d.create_container().unwrap();
        d.put_bytes("a", b"cached").unwrap();
    }
    let start = keystone.token_requests();
    for _ in 0..4 {
        child_reads(&url).unwrap();
    }
    assert_eq!(
        keystone.token_requests(),
        start + 1,
        "four processes, one token"
    );
    assert_private_and_without_password(&file);

    // A wrong password does not get the cached token.
    let wrong = url.replace(
        &format!("auth-password={}", var("OSD_PASSWORD")),
        "auth-password=not-the-password",
    );
    let refused = child_reads(&wrong).unwrap_err();
    assert!(refused.contains("Auth"), "{refused}");
    assert_eq!(keystone.token_requests(), start + 2);

    // A cached token Swift refuses (revoked) is replaced once, for the processes after too.
    let cached = Destination::open(&url).unwrap().session().unwrap().token;
    revoke(&keystone, cached.expose());
    child_reads(&url).unwrap();

    child_reads(&url).unwrap();
    assert_eq!(
        keystone.token_requests(),
        start + 3,
        "one new token after the revocation"
    );

    // A cache others may read is not used (and is replaced by a private one).
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    child_reads(&url).unwrap();
    assert_eq!(keystone.token_requests(), start + 4);
    assert_private_and_without_password(&file);
    child_reads(&url).unwrap();
    assert_eq!(keystone.token_requests(), start + 4);
    Destination::open(&base)
        .unwrap()
        .delete_container(true)
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

fn assert_private_and_without_password(file: &Path) {
    let mode = std::fs::metadata(file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the token cache is private");
    let text = std::fs::read_to_string(file).unwrap();
    assert!(
        !text.contains(&var("OSD_PASSWORD")),
        "no password in the token cache"
    );
    let others: Vec<_> = std::fs::read_dir(file.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(others.len(), 1, "no temporary file left: {others:?}");
}
