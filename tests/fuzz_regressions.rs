//! Replays the fuzz seeds (`fuzz/seeds/<target>/`) and the inputs that once broke a target
//! (`fuzz/regressions/<target>/`) through the same calls and checks as the fuzz targets, without
//! a fuzzer: the byte-to-call decoding is `fuzz/src/lib.rs`, shared with the targets.

#[path = "../fuzz/src/lib.rs"]
mod fuzz_shared;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use fuzz_shared::UrlCheck;

const TARGETS: &[&str] = &["url_options", "token_answers", "listing", "headers"];

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .map(|e| e.expect("a readable directory entry").path())
            .filter(|p| p.is_file())
            .collect(),
        Err(_) => Vec::new(),
    };
    out.sort();
    out
}

fn run(target: &str, data: &[u8]) -> Option<UrlCheck> {
    match target {
        "url_options" => return Some(fuzz_shared::url_options(data)),
        "token_answers" => fuzz_shared::token_answers(data),
        "listing" => fuzz_shared::listing(data),
        "headers" => fuzz_shared::headers(data),
        other => panic!("unknown fuzz target {other}"),
    }
    None
}

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// Runs every input of `fuzz/<kind>/<target>/` through its target; returns how many ran and
/// the failures, one line each.
fn replay(kinds: &[&str]) -> (usize, Vec<String>) {
    let mut failures = Vec::new();
    let mut replayed = 0;
    for target in TARGETS {
        for kind in kinds {
            for path in files(&fuzz_dir().join(kind).join(target)) {
                let data = std::fs::read(&path).expect("a readable input");
                replayed += 1;
                if let Err(panic) = catch_unwind(AssertUnwindSafe(|| run(target, &data))) {
                    let message = panic
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default();
                    failures.push(format!("{}: {message}", path.display()));
                }
            }
        }
    }
    (replayed, failures)
}

#[test]
fn every_seed_and_regression_passes_its_target() {
    for target in TARGETS {
        let seeds = files(&fuzz_dir().join("seeds").join(target));
        assert!(
            seeds.len() >= 4,
            "fuzz/seeds/{target}/ has {} inputs; the fuzzer needs realistic seeds",
            seeds.len()
        );
    }
    let (replayed, failures) = replay(&["seeds", "regressions"]);
    assert!(
        failures.is_empty(),
        "{} of {replayed} fuzz inputs fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn url_seeds_check_secrets_and_parse() {
    let dir = fuzz_dir().join("seeds").join("url_options");
    let check = |name: &str| fuzz_shared::url_options(&std::fs::read(dir.join(name)).unwrap());
    // Realistic destinations are accepted, with the secret in every place a secret may be.
    for name in [
        "v2_password_query",
        "v3_map_every_option",
        "v2_apikey_map_cased_key",
        "preauth_token_encoded",
        "userinfo_password",
        "userinfo_overridden_by_map",
    ] {
        assert_eq!(
            check(name),
            UrlCheck {
                secret_checked: true,
                parsed: true
            },
            "{name}"
        );
    }
    // Refused ones are checked for the secret in their message.
    for name in [
        "bad_scheme_userinfo",
        "bad_interface_and_appcred",
        "dot_segment_prefix",
        "version_mismatch_and_timeouts",
    ] {
        assert_eq!(
            check(name),
            UrlCheck {
                secret_checked: true,
                parsed: false
            },
            "{name}"
        );
    }
}

#[test]
fn the_secret_is_checked_only_where_secrets_belong() {
    let checked = |input: &str| fuzz_shared::url_options(input.as_bytes()).secret_checked;
    let base = "auth-username=u&openstack-tenant-name=t&openstack-authuri=http://k/v2.0";
    assert!(checked(&format!("openstack://u:$S@c/p?{base}")));
    assert!(checked(&format!("openstack://u:x$Sy@c/p?{base}")));
    assert!(checked(&format!("openstack://c/p?{base}&Auth-Password=$E")));
    assert!(checked(&format!(
        "openstack://c/p?{base}&auth%2Dpassword=$S&openstack-application-credential-secret=$S"
    )));
    assert!(checked(&format!(
        "openstack://c/p?{base}\n openstack-APIKEY =$S\n"
    )));
    assert!(checked("ftp://u:$S@host/x"));
    // Not secret places: a user name, the container, a path, a fragment, an option name, an
    // ordinary option's value, the query of a URL that is not openstack://.
    for input in [
        format!("openstack://$S:p@c/p?{base}"),
        format!("openstack://u:p@c$S/p?{base}"),
        format!("openstack://c/$S?{base}"),
        format!("openstack://c/p?{base}&auth-password=pw#$S"),
        format!("openstack://c/p?{base}&openstack-region=$S"),
        format!("openstack://c/p?{base}\n$S=auth-password"),
        format!("openstack://c/p?{base}\nauth-password=$S\nopenstack-region=$S"),
        "https://h/?auth-password=$S".to_string(),
        format!("openstack://c/p?{base}"),
    ] {
        assert!(!checked(&input), "{input}");
    }
}

#[test]
fn the_checker_catches_a_secret_shown_in_the_config() {
    // A secret in a non-secret field shows in the Config: had it been marked as a secret there,
    // the check would have to fail. Shown here by calling the library directly.
    let secret = fuzz_shared::secret_for(b"probe");
    let url = format!(
        "openstack://c/p?auth-username=u&auth-password=pw-1&openstack-tenant-name=t&openstack-authuri=http://k/v2.0&openstack-region={secret}"
    );
    let config = openstack_dest::fuzzing::url_and_options(&url, &[]).expect("a valid URL");
    assert!(format!("{config:?}").contains(&secret));
}
