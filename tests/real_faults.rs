//! Faults on the real test bed: a relay of the project's own (tests/support/relay.rs) between
//! the library and the real Swift proxy resets, stalls and truncates connections; a Swift
//! proxy of the test's own is killed in the middle of an upload; a Keystone of the test's own
//! issues tokens that really expire, and a token is really revoked. Each test ends by asking
//! python-swiftclient (tests/openstack/inventory.py), not the library, what Swift holds.

mod support;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use openstack_dest::{Destination, ErrorKind};
use support::fake::md5_hex;
use support::real::{
    account_path, capture_log, destination_via, inventory, swift_hostport, testbed,
    unique_container, var, Testbed,
};
use support::relay::{Dir, Fault, Relay};
use support::servers::{OwnKeystone, OwnProxy};

const MIB: usize = 1 << 20;

/// Options that keep retries quick.
const QUICK: [(&str, &str); 2] = [("number-of-retries", "5"), ("retry-delay", "100ms")];

fn random_bytes(n: usize) -> Vec<u8> {
    let mut rng = fastrand::Rng::with_seed(n as u64);
    (0..n).map(|_| rng.u8(..)).collect()
}

fn scratch(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(unique_container(tag));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn assert_holds(container: &str, name: &str, data: &[u8]) {
    let inv = inventory(container);
    assert_eq!(
        inv.get(name),
        Some(&(data.len() as u64, md5_hex(data))),
        "python-swiftclient's view of {container}/{name}"
    );
}

fn write_file(dir: &Path, name: &str, data: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, data).unwrap();
    p
}

#[test]
fn an_upload_reset_in_the_middle_is_sent_again_whole() {
    let Some(_) = testbed() else { return };
    let c = unique_container("reset-put");
    let relay = Relay::start(&swift_hostport());
    let d = destination_via(&relay.url(), None, &c, &QUICK);
    let data = random_bytes(8 * MIB);
    let file = write_file(&scratch("reset-put"), "big", &data);
    let trigger = format!("PUT {}/{c}/big ", account_path(&c));
    relay.on(&trigger, Dir::Up, Fault::Reset { after: 3 << 20 }, 1);
    d.put_file("big", &file).unwrap();
    assert_eq!(relay.fired(), 1, "the reset happened");
    assert_eq!(relay.seen(&trigger), 2, "one PUT reset, one sent again");
    assert_holds(&c, "big", &data);
    // And a reset of the answer: the PUT arrived, its answer was lost; sent again, same object.
    relay.on(&trigger, Dir::Down, Fault::Reset { after: 0 }, 1);
    d.put_bytes("big", &data[..MIB]).unwrap();
    assert_eq!(relay.fired(), 2);
    assert_holds(&c, "big", &data[..MIB]);
}

#[test]
fn a_segment_reset_in_the_middle_is_sent_again_and_the_manifest_too() {
    let Some(_) = testbed() else { return };
    let c = unique_container("reset-seg");
    let relay = Relay::start(&swift_hostport());
    let mut opts = QUICK.to_vec();
    opts.push(("openstack-segment-size", "2MiB"));
    let d = destination_via(&relay.url(), None, &c, &opts);
    let data = random_bytes(7 * MIB);
    let file = write_file(&scratch("reset-seg"), "big", &data);
    // The second segment's PUT breaks after 1 MiB of its body; the manifest's answer is lost.
    relay.on(
        "/00000001 HTTP/1.1",
        Dir::Up,
        Fault::Reset { after: MIB as u64 },
        1,
    );
    relay.on(
        "multipart-manifest=put",
        Dir::Down,
        Fault::Reset { after: 0 },
        1,
    );
    d.put_file("big", &file).unwrap();
    assert_eq!(relay.fired(), 2, "both faults happened");
    assert_holds(&c, "big", &data);
    let segments = inventory(&format!("{c}_segments"));
    assert_eq!(segments.len(), 4, "exactly the four segments: {segments:?}");
    assert_eq!(
        segments.values().map(|(n, _)| n).sum::<u64>(),
        data.len() as u64
    );
}

#[test]
fn a_download_reset_in_the_middle_resumes_and_is_verified() {
    let Some(_) = testbed() else { return };
    let c = unique_container("reset-get");
    let relay = Relay::start(&swift_hostport());
    let d = destination_via(&relay.url(), None, &c, &QUICK);
    let data = random_bytes(8 * MIB);
    d.put_bytes("big", &data).unwrap();
    let trigger = format!("GET {}/{c}/big", account_path(&c));
    relay.on(&trigger, Dir::Down, Fault::Reset { after: 3 << 20 }, 1);
    relay.watch("range: bytes=");
    let dir = scratch("reset-get");
    let out = dir.join("restored");
    d.get_file("big", &out).unwrap();
    assert_eq!(relay.fired(), 1);
    assert_eq!(
        relay.seen("range: bytes="),
        1,
        "the rest was asked for with Range"
    );
    assert!(
        std::fs::read(&out).unwrap() == data,
        "restored byte for byte"
    );
    // A truncated answer (a clean close in the middle) is resumed the same way.
    relay.on(&trigger, Dir::Down, Fault::Truncate { after: 5 << 20 }, 1);
    assert!(d.get_bytes("big").unwrap() == data);
    assert_eq!(relay.fired(), 2);
    assert_eq!(relay.seen("range: bytes="), 2);
}

#[test]
fn a_stall_longer_than_the_timeout_is_given_up_and_tried_again() {
    let Some(_) = testbed() else { return };
    let c = unique_container("stall");
    let relay = Relay::start(&swift_hostport());
    let mut opts = QUICK.to_vec();
    opts.push(("read-write-timeout", "2s"));
    let d = destination_via(&relay.url(), None, &c, &opts);
    // The answer to a PUT stalls: once its body is sent, an upload waits read-write-timeout for
    // the answer, then gives up and sends it again.
    let put = format!("PUT {}/{c}/small ", account_path(&c));
    let pause = Duration::from_secs(8);
    relay.on(&put, Dir::Down, Fault::Stall { after: 0, pause }, 1);
    let started = Instant::now();
    d.put_bytes("small", b"a small object").unwrap();
    assert!(started.elapsed() >= Duration::from_secs(2));
    assert!(started.elapsed() < Duration::from_secs(5), "not waited out");
    // The first try stored it (only its answer stalled), so the second, sent only if the name
    // is free, is refused (412); the object in place is looked at and the third try replaces it.
    assert_eq!(relay.seen(&put), 3);
    assert_holds(&c, "small", b"a small object");
    // The body stops moving after 1 MiB: once the buffers are full, the server has taken none
    // of it for 2 s, and the upload gives up and is sent again.
    let body = random_bytes(16 * MIB);
    let put = format!("PUT {}/{c}/body ", account_path(&c));
    relay.on(
        &put,
        Dir::Up,
        Fault::Stall {
            after: MIB as u64,
            pause,
        },
        1,
    );
    let started = Instant::now();
    d.put_bytes("body", &body).unwrap();
    assert!(started.elapsed() >= Duration::from_secs(2));
    assert!(started.elapsed() < pause, "not waited out");
    assert_eq!(relay.seen(&put), 2);
    assert_holds(&c, "body", &body);
    let data = random_bytes(4 * MIB);
    d.put_bytes("big", &data).unwrap();
    // The download stalls after 1 MiB: given up after 2 s, resumed.
    let get = format!("GET {}/{c}/big", account_path(&c));
    relay.on(
        &get,
        Dir::Down,
        Fault::Stall {
            after: MIB as u64,
            pause,
        },
        1,
    );
    let started = Instant::now();
    assert!(d.get_bytes("big").unwrap() == data);
    assert!(started.elapsed() >= Duration::from_secs(2));
    assert!(started.elapsed() < pause, "not waited out");
    assert_eq!(relay.fired(), 3);
    assert_holds(&c, "big", &data);
}

#[test]
fn a_truncated_listing_page_is_read_again_not_taken_as_the_end() {
    let Some(_) = testbed() else { return };
    let c = unique_container("trunc-list");
    let relay = Relay::start(&swift_hostport());
    let d = destination_via(&relay.url(), None, &c, &QUICK);
    for i in 0..40 {
        d.put_bytes(&format!("obj-{i:03}"), b"x").unwrap();
    }
    let listing = format!("GET {}/{c}?", account_path(&c));
    relay.on(&listing, Dir::Down, Fault::Truncate { after: 600 }, 1);
    let mut names: Vec<String> = d.list().unwrap().into_iter().map(|e| e.name).collect();
    assert_eq!(relay.fired(), 1, "the listing was cut");
    names.sort();
    let mut held: Vec<String> = inventory(&c).into_keys().collect();
    held.sort();
    assert_eq!(names.len(), 40);
    assert_eq!(names, held);
}

#[test]
fn a_proxy_killed_during_an_upload_leaves_nothing_partial() {
    let Some(_) = testbed() else { return };
    let c = unique_container("killed");
    let mut proxy = OwnProxy::start(&[]);
    let relay = Relay::start(&proxy.hostport());
    relay.set_rate(4 * MIB as u64); // the upload takes 3 s: time to kill the proxy under it
    let opts = [("number-of-retries", "8"), ("retry-delay", "500ms")];
    let d = Arc::new(destination_via(&relay.url(), None, &c, &opts));
    let data = Arc::new(random_bytes(12 * MIB));
    let put = format!("PUT {}/{c}/big ", account_path(&c));
    relay.watch(&put);
    let (d2, data2) = (d.clone(), data.clone());
    let upload = std::thread::spawn(move || d2.put_bytes("big", &data2));
    std::thread::sleep(Duration::from_millis(1200));
    proxy.kill();
    std::thread::sleep(Duration::from_millis(500));
    proxy.restart();
    let result = upload.join().unwrap();
    let held = inventory(&c);
    match &result {
        Ok(()) => assert_holds(&c, "big", &data),
        Err(e) => {
            assert!(
                matches!(e.kind(), ErrorKind::Network | ErrorKind::Timeout),
                "{e}"
            );
            assert!(!held.contains_key("big"), "a failed upload left {held:?}");
        }
    }
    eprintln!(
        "upload across the kill: {result:?} after {} PUTs",
        relay.seen(&put)
    );
    assert!(relay.seen(&put) >= 2, "the kill interrupted the upload");
    relay.set_rate(0);
    d.put_bytes("big", &data).unwrap();
    assert_holds(&c, "big", &data);
}

#[test]
fn tokens_that_really_expire_cost_one_authentication_each() {
    let Some(_) = testbed() else { return };
    let lifetime = 6;
    let keystone = OwnKeystone::start(lifetime);
    let c = unique_container("expiry");
    let url = Testbed
        .v3(&c, "", &var("OSD_REGION1"))
        .replace(&var("OSD_AUTH_V3"), &keystone.url());
    let d = Destination::open(&url).unwrap();
    d.create_container().unwrap();
    let run = Duration::from_secs(4 * lifetime as u64 + 2);
    let started = Instant::now();
    let mut n = 0u32;
    while started.elapsed() < run {
        let data = format!("object {n}").into_bytes();
        d.put_bytes("o", &data).unwrap();
        assert_eq!(d.get_bytes("o").unwrap(), data);
        n += 1;
        std::thread::sleep(Duration::from_millis(250));
    }
    let posts = keystone.token_requests();
    let lifetimes = run.as_secs_f64() / lifetime as f64;
    eprintln!(
        "{n} puts and gets over {:.0} s with {lifetime} s tokens: {posts} Keystone POSTs for {lifetimes:.1} lifetimes",
        run.as_secs_f64()
    );
    // A new token shortly before each one expires (at 90 % of its life), never one per request.
    assert!(posts >= lifetimes.floor() as usize, "{posts} POSTs");
    assert!(
        posts <= (run.as_secs_f64() / (0.9 * lifetime as f64)).ceil() as usize + 1,
        "{posts} POSTs"
    );
    assert_holds(&c, "o", format!("object {}", n - 1).as_bytes());
}

#[test]
fn a_revoked_token_is_answered_by_one_new_authentication() {
    let Some(_) = testbed() else { return };
    let keystone = OwnKeystone::start(3600);
    // A proxy that asks Keystone about every token (no cache), so a revocation shows at once.
    let proxy = OwnProxy::start(&[("filter:authtoken", "token_cache_time", "-1")]);
    let c = unique_container("revoked");
    let swift = format!("http://{}", proxy.hostport());
    let d = destination_via(&swift, Some(&keystone.url()), &c, &QUICK);
    d.put_bytes("a", b"before").unwrap();
    let token = d.session().unwrap().token;
    let before = keystone.token_requests();
    let revoked = reqwest::blocking::Client::new()
        .delete(format!("{}/auth/tokens", keystone.url()))
        .header("X-Auth-Token", token.expose())
        .header("X-Subject-Token", token.expose())
        .send()
        .unwrap();
    assert_eq!(revoked.status().as_u16(), 204, "Keystone revoked the token");
    let reauth = capture_log("refused the token (401)");
    d.put_bytes("b", b"after").unwrap();
    assert_eq!(
        keystone.token_requests(),
        before + 1,
        "one new authentication"
    );
    assert!(
        reauth.lock().unwrap().iter().any(|l| l.contains("'b'")),
        "{:?}",
        reauth.lock().unwrap()
    );
    assert_ne!(d.session().unwrap().token.expose(), token.expose());
    assert_holds(&c, "b", b"after");
}
