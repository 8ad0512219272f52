//! `delete_many` against the real Swift: a proxy of the test's own with a small bulk-delete
//! limit (so names go in several requests), and one without the bulk middleware (so names go
//! one DELETE each); a mix of present names, missing names, a bad name and large objects of
//! both kinds; and 10,101 names through the test bed's proxy, in several bulk requests at once.
//! Each test ends by asking python-swiftclient what Swift holds.

mod support;

use openstack_dest::{Destination, ErrorKind};
use support::real::{
    destination_via, inventory, orphans_of, swift_cli, temp_dir, testbed, unique_container, var,
};
use support::servers::OwnProxy;

const MIB: usize = 1 << 20;

/// A ustar archive of `files` (name, contents): Swift's bulk upload (`?extract-archive=tar`)
/// makes them objects in one request.
fn tar_of(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, data) in files {
        let mut h = [0u8; 512];
        h[..name.len()].copy_from_slice(name.as_bytes());
        h[100..107].copy_from_slice(b"0000644");
        h[108..115].copy_from_slice(b"0000000");
        h[116..123].copy_from_slice(b"0000000");
        h[124..135].copy_from_slice(format!("{:011o}", data.len()).as_bytes());
        h[136..147].copy_from_slice(b"00000000000");
        h[148..156].copy_from_slice(b"        ");
        h[156] = b'0';
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        let sum: u32 = h.iter().map(|b| *b as u32).sum();
        h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
        out.extend_from_slice(&h);
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.resize(out.len() + 1024, 0);
    out
}

/// Puts `count` small objects `v/NNNNN` into `container` in one bulk upload.
fn many_objects(d: &Destination, container: &str, count: usize) -> Vec<String> {
    let names: Vec<String> = (0..count).map(|i| format!("v/{i:05}")).collect();
    let files: Vec<(String, Vec<u8>)> = names
        .iter()
        .map(|n| (n.clone(), n.as_bytes().to_vec()))
        .collect();
    let s = d.session().unwrap();
    let url = format!("{}/{container}?extract-archive=tar", s.storage_url);
    let resp = reqwest::blocking::Client::new()
        .put(url)
        .header("X-Auth-Token", s.token.expose())
        .header("Accept", "application/json")
        .timeout(std::time::Duration::from_secs(600))
        .body(tar_of(&files))
        .send()
        .unwrap();
    let body = resp.text().unwrap();
    assert!(
        body.contains(&format!("\"Number Files Created\": {count}")),
        "{body}"
    );
    names
}

/// Present names, missing names, a bad name, a Static Large Object of ours and a Dynamic one
/// of python-swiftclient's: every name is gone but the bad one, and no segment is left.
/// `maker` makes the objects (its proxy must offer bulk uploads); `d` deletes them.
fn delete_a_mix(d: &Destination, maker: &Destination, c: &str, count: usize) {
    let mut names = many_objects(maker, c, count);
    d.put_bytes("big/slo", &vec![7u8; 3 * MIB + 1]).unwrap();
    let dir = temp_dir("many");
    std::fs::write(dir.join("dlo.bin"), vec![9u8; 2 * MIB]).unwrap();
    swift_cli(
        &[
            "upload",
            "-S",
            "1048576",
            "--object-name",
            "big/dlo",
            c,
            "dlo.bin",
        ],
        &dir,
    );
    assert_eq!(inventory(c).len(), count + 2);
    names.extend(["big/slo".to_string(), "big/dlo".to_string()]);
    names.extend((0..20).map(|i| format!("gone/{i}")));
    names.push("a/../b".to_string());
    let report = d.delete_many(&names).unwrap();
    assert_eq!(report.deleted as usize, count + 2, "{report:?}");
    assert_eq!(report.missing, 20, "{report:?}");
    assert_eq!(report.failures.len(), 1, "{report:?}");
    assert_eq!(report.failures[0].0, "a/../b");
    assert_eq!(report.failures[0].1.kind(), ErrorKind::InvalidArgument);
    assert!(
        inventory(c).is_empty(),
        "{:?}",
        inventory(c).keys().take(5).collect::<Vec<_>>()
    );
    let segc = format!("{c}_segments");
    assert_eq!(orphans_of(&[c], &segc), (0, vec![]));
    // The same names again: all missing, nothing fails.
    let again = d.delete_many(&names[..count]).unwrap();
    assert_eq!(
        (again.deleted, again.missing as usize, again.failures.len()),
        (0, count, 0)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bulk_deletes_go_in_requests_of_the_clusters_limit() {
    let Some(_) = testbed() else { return };
    let proxy = OwnProxy::start(&[("filter:bulk", "max_deletes_per_request", "40")]);
    let c = unique_container("many-bulk");
    let d = destination_via(&format!("http://{}", proxy.hostport()), None, &c, &[]);
    // 473 names, eight requests at once: the limit (40 names a request) binds, 12 requests.
    delete_a_mix(&d, &d, &c, 450);
    d.delete_container(true).unwrap();
}

#[test]
fn without_the_bulk_middleware_names_go_one_delete_each() {
    let Some(_) = testbed() else { return };
    let swift_dir = format!("{}/etc/swift", var("OSD_STATE_DIR"));
    let conf = std::fs::read_to_string(format!("{swift_dir}/proxy-server-1.conf")).unwrap();
    let pipeline = conf
        .lines()
        .find_map(|l| l.strip_prefix("pipeline = "))
        .unwrap()
        .replace(" bulk ", " ");
    let proxy = OwnProxy::start(&[("pipeline:main", "pipeline", &pipeline)]);
    let c = unique_container("many-plain");
    let d = destination_via(&format!("http://{}", proxy.hostport()), None, &c, &[]);
    // (The objects are made through the test bed's own proxy, which has bulk uploads.)
    let direct =
        Destination::open(&support::real::Testbed.v3(&c, "", &var("OSD_REGION1"))).unwrap();
    let names = many_objects(&direct, &c, 100);
    let report = d.delete_many(&names).unwrap();
    assert_eq!(
        (report.deleted, report.missing, report.failures.len()),
        (100, 0, 0)
    );
    delete_a_mix(&d, &direct, &c, 30);
    direct.delete_container(true).unwrap();
}

#[test]
fn ten_thousand_names_go_in_several_requests_at_once() {
    let Some(_) = testbed() else { return };
    // The test bed's own proxy (Swift's default limit, 10,000 names a request). A relay in
    // front of it counts the bulk requests.
    let relay = support::relay::Relay::start(&support::real::swift_hostport());
    relay.watch("?bulk-delete");
    let c = unique_container("many-10k");
    let d = destination_via(&relay.url(), None, &c, &[]);
    let direct =
        Destination::open(&support::real::Testbed.v3(&c, "", &var("OSD_REGION1"))).unwrap();
    // 600 objects (made in one bulk upload), 9,500 missing names, a large object of ours:
    // 10,101 names.
    let mut names = many_objects(&direct, &c, 600);
    d.put_bytes("big/slo", &vec![7u8; 3 * MIB + 1]).unwrap();
    names.push("big/slo".to_string());
    names.extend((0..9500).map(|i| format!("never/{i:05}")));
    let t = std::time::Instant::now();
    let report = d.delete_many(&names).unwrap();
    eprintln!(
        "delete_many of {} names: {:.1} s, {} bulk requests",
        names.len(),
        t.elapsed().as_secs_f64(),
        relay.seen("?bulk-delete")
    );
    assert_eq!(
        (report.deleted, report.missing, report.failures.len()),
        (601, 9500, 0),
        "{:?}",
        report.failures.first()
    );
    // Eight requests at once (openstack-segment-threads, at least 8), of 1,263 names each.
    assert_eq!(
        relay.seen("?bulk-delete"),
        8,
        "10,101 names in eight requests"
    );
    assert!(inventory(&c).is_empty());
    assert_eq!(orphans_of(&[&c], &format!("{c}_segments")), (0, vec![]));
    direct.delete_container(true).unwrap();
}
