//! Access to the project's real Swift + Keystone test bed (tests/openstack/testbed.sh), whose
//! settings arrive as OSD_* environment variables.

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use openstack_dest::log::{self, Level};
use openstack_dest::Destination;

/// The test bed's settings, or None when it is not configured. Under CI (or with
/// OSD_REQUIRE_SERVER set) a missing test bed fails the test instead of skipping it.
pub fn testbed() -> Option<Testbed> {
    match std::env::var("OSD_AUTH_V3") {
        Ok(_) => Some(Testbed),
        Err(_) => {
            if std::env::var_os("CI").is_some() || std::env::var_os("OSD_REQUIRE_SERVER").is_some()
            {
                panic!("the real-server test bed is required (CI or OSD_REQUIRE_SERVER is set) but OSD_AUTH_V3 is missing: run `bash tests/openstack/testbed.sh start` and source its env.sh");
            }
            eprintln!("skipping: no test bed (run `bash tests/openstack/testbed.sh start` and source its env.sh)");
            None
        }
    }
}

pub struct Testbed;

pub fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set by the test bed's env.sh"))
}

/// A container name no other test uses.
pub fn unique_container(tag: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "rs-{tag}-{}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_micros()
            % 1_000_000
    )
}

impl Testbed {
    /// A v3 URL for the Default-domain member user.
    pub fn v3(&self, container: &str, prefix: &str, region: &str) -> String {
        format!(
            "openstack://{container}/{prefix}?auth-username={}&auth-password={}&openstack-tenant-name={}&openstack-domain-name=Default&openstack-authuri={}&openstack-region={region}",
            var("OSD_USER"), var("OSD_PASSWORD"), var("OSD_PROJECT"), var("OSD_AUTH_V3")
        )
    }

    /// A v3 URL for the user of the second domain.
    pub fn v3_domain2(&self, container: &str) -> String {
        format!(
            "openstack://{container}/?auth-username={}&auth-password={}&openstack-tenant-name={}&openstack-domain-name={}&openstack-authuri={}",
            var("OSD_USER2"), var("OSD_PASSWORD2"), var("OSD_PROJECT2"), var("OSD_DOMAIN2"), var("OSD_AUTH_V3")
        )
    }

    /// A v3 URL for the reader-only user.
    pub fn v3_reader(&self, container: &str) -> String {
        format!(
            "openstack://{container}/?auth-username={}&auth-password={}&openstack-tenant-name={}&openstack-domain-name=Default&openstack-authuri={}",
            var("OSD_READER_USER"), var("OSD_READER_PASSWORD"), var("OSD_PROJECT"), var("OSD_AUTH_V3")
        )
    }

    /// A v2 URL with the password.
    pub fn v2_password(&self, container: &str) -> String {
        format!(
            "openstack://{container}/v2?auth-username={}&auth-password={}&openstack-tenant-name={}&openstack-authuri={}",
            var("OSD_USER"), var("OSD_PASSWORD"), var("OSD_PROJECT"), var("OSD_AUTH_V2")
        )
    }

    /// A v2 URL with the API key (no password, no tenant).
    pub fn v2_apikey(&self, container: &str) -> String {
        format!(
            "openstack://{container}/v2?auth-username={}&openstack-apikey={}&openstack-authuri={}",
            var("OSD_USER"),
            var("OSD_APIKEY"),
            var("OSD_AUTH_V2")
        )
    }
}

/// `host:port` of the test bed's RegionOne Swift proxy.
pub fn swift_hostport() -> String {
    var("OSD_SWIFT1").trim_start_matches("http://").to_string()
}

/// The account path of the member user (`/v1/AUTH_<project id>`), from a real login.
pub fn account_path(container: &str) -> String {
    let direct = Destination::open(&Testbed.v3(container, "", &var("OSD_REGION1"))).unwrap();
    let url = direct.session().unwrap().storage_url;
    url[url.find("/v1/").expect("a /v1/ storage URL")..].to_string()
}

/// A destination that logs in to the real Keystone (`auth` URL, or the test bed's) and sends
/// its Swift requests to `swift` (`http://host:port`) instead of the catalog's endpoint.
pub fn destination_via(
    swift: &str,
    auth: Option<&str>,
    container: &str,
    options: &[(&str, &str)],
) -> Destination {
    let mut url = Testbed.v3(container, "", &var("OSD_REGION1"));
    if let Some(auth) = auth {
        url = url.replace(&var("OSD_AUTH_V3"), auth);
    }
    let storage = format!("{swift}{}", account_path(container));
    let mut all: Vec<(&str, &str)> = vec![("openstack-storage-url", &storage)];
    all.extend_from_slice(options);
    let d = Destination::open_with(&url, all).unwrap();
    d.create_container().unwrap();
    d
}

/// What Swift holds under `container`, by python-swiftclient: name -> (bytes, MD5).
pub fn inventory(container: &str) -> HashMap<String, (u64, String)> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/openstack/inventory.py");
    let out = Command::new("/usr/bin/python3")
        .args([script, container])
        .output()
        .expect("python3 runs the inventory");
    assert!(
        out.status.success(),
        "inventory of {container}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v.as_object()
        .unwrap()
        .iter()
        .map(|(k, o)| {
            (
                k.clone(),
                (
                    o["bytes"].as_u64().unwrap(),
                    o["md5"].as_str().unwrap().to_string(),
                ),
            )
        })
        .collect()
}

/// The segments of `<container>_segments` that no Static Large Object of `container` lists,
/// by python-swiftclient: (segments in all, the orphans' names).
pub fn orphan_segments(container: &str) -> (usize, Vec<String>) {
    orphans_of(&[container], &format!("{container}_segments"))
}

/// The objects of `segments` (a segment container several containers share) that no Static
/// Large Object of any of `containers` lists, by python-swiftclient: (objects in all, orphans).
pub fn orphans_of(containers: &[&str], segments: &str) -> (usize, Vec<String>) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/openstack/inventory.py");
    let container = containers.join(",");
    let out = Command::new("/usr/bin/python3")
        .arg(script)
        .arg("--orphans")
        .args(containers)
        .args(["--segments", segments])
        .output()
        .expect("python3 runs the inventory");
    assert!(
        out.status.success(),
        "orphans of {container}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names = v["orphans"].as_array().unwrap();
    (
        v["segments"].as_u64().unwrap() as usize,
        names
            .iter()
            .map(|n| n.as_str().unwrap().to_string())
            .collect(),
    )
}

/// python-swiftclient's `swift` CLI, logged in as the test bed's member user (secrets in the
/// environment, not on the command line).
pub fn swift_cli(args: &[&str], dir: &Path) -> String {
    let out = Command::new("swift")
        .current_dir(dir)
        .env("OS_AUTH_URL", var("OSD_AUTH_V3"))
        .env("OS_IDENTITY_API_VERSION", "3")
        .env("OS_USERNAME", var("OSD_USER"))
        .env("OS_PASSWORD", var("OSD_PASSWORD"))
        .env("OS_PROJECT_NAME", var("OSD_PROJECT"))
        .env("OS_USER_DOMAIN_NAME", "Default")
        .env("OS_PROJECT_DOMAIN_NAME", "Default")
        .env("OS_REGION_NAME", var("OSD_REGION1"))
        .args(args)
        .output()
        .expect("the swift CLI (python3-swiftclient) runs");
    assert!(
        out.status.success(),
        "swift {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Uploads the file `path` as `name` into `container` with python-swiftclient's `SwiftService`
/// (the API its `swift` CLI is built on), as a large object of `segment_size` segments in
/// `<container>_segments`: a Static Large Object with `use_slo`, else a Dynamic Large Object.
/// Logged in as the test bed's member user (secrets in the environment, not on the command line).
pub fn swiftservice_upload(
    container: &str,
    name: &str,
    path: &Path,
    segment_size: u64,
    use_slo: bool,
) {
    const SCRIPT: &str = r#"
import os, sys
from swiftclient.service import SwiftService, SwiftUploadObject
container, name, path, segment_size, use_slo = sys.argv[1:6]
options = {
    "auth_version": "3", "auth": os.environ["OS_AUTH_URL"], "user": os.environ["OS_USERNAME"],
    "key": os.environ["OS_PASSWORD"], "os_project_name": os.environ["OS_PROJECT_NAME"],
    "os_user_domain_name": "Default", "os_project_domain_name": "Default",
    "os_region_name": os.environ["OS_REGION_NAME"],
}
failed = 0
with SwiftService(options=options) as service:
    upload = {"segment_size": int(segment_size), "use_slo": use_slo == "1"}
    for r in service.upload(container, [SwiftUploadObject(path, object_name=name)], options=upload):
        if not r["success"]:
            print(r.get("action"), r.get("error"), file=sys.stderr)
            failed += 1
sys.exit(1 if failed else 0)
"#;
    let out = Command::new("/usr/bin/python3")
        .arg("-c")
        .arg(SCRIPT)
        .arg(container)
        .arg(name)
        .arg(path)
        .arg(segment_size.to_string())
        .arg(if use_slo { "1" } else { "0" })
        .env("OS_AUTH_URL", var("OSD_AUTH_V3"))
        .env("OS_USERNAME", var("OSD_USER"))
        .env("OS_PASSWORD", var("OSD_PASSWORD"))
        .env("OS_PROJECT_NAME", var("OSD_PROJECT"))
        .env("OS_REGION_NAME", var("OSD_REGION1"))
        .output()
        .expect("python3 runs python-swiftclient's SwiftService");
    assert!(
        out.status.success(),
        "SwiftService upload of {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Collects the library's log lines that mention `needle`.
pub fn capture_log(needle: &str) -> Arc<Mutex<Vec<String>>> {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let (l, needle) = (lines.clone(), needle.to_string());
    log::set_sink(
        Some(Arc::new(move |_: Level, m: &str| {
            if m.contains(&needle) {
                l.lock().unwrap().push(m.to_string());
            }
        })),
        Level::Info,
    );
    lines
}

/// A destination of the member user on `container` (created) with `options` appended to its URL.
pub fn open_created(container: &str, options: &str) -> Destination {
    let d = Destination::open(&format!(
        "{}{options}",
        Testbed.v3(container, "", &var("OSD_REGION1"))
    ))
    .unwrap();
    d.create_container().unwrap();
    d
}

/// A new empty directory for one test.
pub fn temp_dir(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("osd-{tag}-{}", fastrand::u64(..)));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Makes `name` in `container` a Dynamic Large Object of `manifest` (`container/prefix`) with
/// python-swiftclient, as another tool would.
pub fn dlo_by_swift(dir: &Path, container: &str, name: &str, manifest: &str) {
    std::fs::write(dir.join("empty"), b"").unwrap();
    let header = format!("X-Object-Manifest: {manifest}");
    swift_cli(
        &[
            "upload",
            "--header",
            &header,
            "--object-name",
            name,
            container,
            "empty",
        ],
        dir,
    );
}
