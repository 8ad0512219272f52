//! Storage policies and object versioning against the real Swift (the test bed has a second
//! policy, `cold`, and `allow_object_versioning`): containers created with a policy, policy
//! conflicts and unknown names refused before anything is created; versions of small and
//! large objects listed, read, restored (a delete undone), their segments kept through
//! overwrites, deletes and sweeps; bad version ids refused; interop with python-swiftclient.

mod support;

use std::time::Duration;

use openstack_dest::{Destination, ErrorKind, ListOptions};
use support::real::{
    account_path, inventory, open_created, swift_cli, temp_dir, testbed, unique_container, var,
    Testbed,
};
use support::servers::OwnProxy;

const MIB: usize = 1 << 20;

/// The value of `header` of `container` (a HEAD with the member user's token), or `None` when
/// the container or the header is missing.
fn stat_field(container: &str, header: &str) -> Option<String> {
    let s = open(container, "").session().unwrap();
    let resp = reqwest::blocking::Client::new()
        .head(format!("{}/{container}", s.storage_url))
        .header("X-Auth-Token", s.token.expose())
        .send()
        .unwrap();
    if resp.status().as_u16() == 404 {
        return None;
    }
    assert!(
        resp.status().is_success(),
        "HEAD {container}: {}",
        resp.status()
    );
    resp.headers()
        .get(header)
        .map(|v| v.to_str().unwrap().to_string())
}

/// Random bytes.
fn random(len: usize) -> Vec<u8> {
    std::iter::repeat_with(|| fastrand::u8(..))
        .take(len)
        .collect()
}

/// A destination of the member user on `container`, not created.
fn open(container: &str, options: &str) -> Destination {
    Destination::open(&format!(
        "{}{options}",
        Testbed.v3(container, "", &var("OSD_REGION1"))
    ))
    .unwrap()
}

/// Deletes every version of every object of `container` and the container (a versioned one
/// cannot go otherwise), then its segment container, with python-swiftclient.
fn remove_versioned(container: &str) {
    let dir = temp_dir("rm");
    swift_cli(
        &["post", "-H", "X-Versions-Enabled: false", container],
        &dir,
    );
    // `swift delete --versions` deletes every version of every object, then the container.
    swift_cli(&["delete", "--versions", container], &dir);
    let segc = format!("{container}_segments");
    if stat_field(&segc, "x-container-object-count").is_some() {
        swift_cli(&["delete", &segc], &dir);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_storage_policy_is_checked_and_given_to_both_containers() {
    let Some(_) = testbed() else { return };
    // Case-insensitive, as Swift compares names.
    let c = unique_container("policy");
    let d = open_created(
        &c,
        "&openstack-storage-policy=COLD&openstack-segment-size=1MiB",
    );
    assert_eq!(stat_field(&c, "x-storage-policy").as_deref(), Some("cold"));
    let segc = format!("{c}_segments");
    assert_eq!(
        stat_field(&segc, "x-storage-policy").as_deref(),
        Some("cold")
    );
    let big = random(2 * MIB + 5);
    d.put_bytes("big", &big).unwrap();
    assert_eq!(d.get_bytes("big").unwrap(), big);
    // Again: nothing to do.
    d.create_container().unwrap();

    // Another policy on the same container: refused, saying what to do.
    let e = open(&c, "&openstack-storage-policy=Policy-0")
        .create_container()
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidUrl, "{e}");
    for part in [
        "'cold'",
        "Policy-0",
        "openstack-storage-policy",
        "new container",
    ] {
        assert!(e.message().contains(part), "{part}: {e}");
    }
    // An unknown name: refused before anything is created, naming the cluster's policies.
    let c2 = unique_container("policy-unknown");
    let d2 = open(&c2, "&openstack-storage-policy=glacier");
    let e = d2.create_container().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidUrl, "{e}");
    for part in [
        "glacier",
        "'Policy-0'",
        "'cold'",
        "openstack-storage-policy",
    ] {
        assert!(e.message().contains(part), "{part}: {e}");
    }
    assert_eq!(d2.test().unwrap_err().kind(), ErrorKind::ContainerNotFound);

    // A segment container of another policy: refused, and the container is not created.
    let c3 = unique_container("policy-seg");
    let dir = temp_dir("policy");
    swift_cli(&["post", &format!("{c3}_segments")], &dir);
    let d3 = open(&c3, "&openstack-storage-policy=cold");
    let e = d3.create_container().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidUrl, "{e}");
    assert!(e.message().contains(&format!("'{c3}_segments'")), "{e}");
    assert_eq!(d3.test().unwrap_err().kind(), ErrorKind::ContainerNotFound);
    swift_cli(&["delete", &format!("{c3}_segments")], &dir);

    d.delete_container(true).unwrap();
    assert!(stat_field(&segc, "x-container-object-count").is_none());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn versions_of_small_and_large_objects_are_listed_read_and_restored() {
    let Some(_) = testbed() else { return };
    let c = unique_container("versions");
    let d = open_created(&c, "&openstack-versioning=true&openstack-segment-size=1MiB");
    assert_eq!(
        stat_field(&c, "x-versions-enabled").as_deref(),
        Some("True")
    );

    // Small: two versions, newest first; names that only start with it are not its versions.
    d.put_bytes("a", b"one").unwrap();
    d.put_bytes("a", b"two").unwrap();
    d.put_bytes("a2", b"other").unwrap();
    d.put_bytes("a/b", b"deeper").unwrap();
    let v = d.list_versions("a").unwrap();
    assert_eq!(v.len(), 2, "{v:?}");
    assert!(v[0].is_current && !v[1].is_current, "{v:?}");
    assert!(v
        .iter()
        .all(|x| !x.is_delete_marker && x.last_modified.is_some()));
    assert_eq!((v[0].size, v[1].size), (Some(3), Some(3)));
    assert_eq!(d.get_version("a", &v[1].version_id).unwrap(), b"one");
    assert_eq!(d.get_version("a", &v[0].version_id).unwrap(), b"two");
    d.restore_version("a", &v[1].version_id).unwrap();
    assert_eq!(d.get_bytes("a").unwrap(), b"one");
    // Restoring keeps every version: the one that was current is still there.
    let after = d.list_versions("a").unwrap();
    assert_eq!(after.len(), 2, "{after:?}");
    assert!(after
        .iter()
        .any(|x| x.version_id == v[1].version_id && x.is_current));
    assert!(d.list_versions("nothing-here").unwrap().is_empty());

    // Large: overwritten, the old version reads back byte for byte, from its own segments.
    let l1 = random(3 * MIB + 1);
    let l2 = random(2 * MIB + 7);
    d.put_bytes("big", &l1).unwrap();
    d.put_bytes("big", &l2).unwrap();
    let v = d.list_versions("big").unwrap();
    assert_eq!(v.len(), 2, "{v:?}");
    let (v2, v1) = (v[0].version_id.clone(), v[1].version_id.clone());
    assert_eq!(v[1].size, Some(l1.len() as u64));
    assert_eq!(d.get_version("big", &v1).unwrap(), l1);
    let dir = temp_dir("versions");
    let file = dir.join("big.old");
    d.get_version_file("big", &v1, &file, None).unwrap();
    assert_eq!(std::fs::read(&file).unwrap(), l1);

    // Deleted: a delete marker is current, the get fails, the versions stay.
    d.delete("big").unwrap();
    assert_eq!(d.get_bytes("big").unwrap_err().kind(), ErrorKind::NotFound);
    let v = d.list_versions("big").unwrap();
    assert_eq!(v.len(), 3, "{v:?}");
    assert!(v[0].is_current && v[0].is_delete_marker, "{v:?}");
    let e = d.restore_version("big", &v[0].version_id).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    assert!(e.message().contains("delete marker"), "{e}");
    let e = d.get_version("big", &v[0].version_id).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");

    // A sweep with no grace keeps the segments every version reads.
    d.sweep_segments(Duration::ZERO).unwrap();
    d.restore_version("big", &v1).unwrap();
    assert_eq!(d.get_bytes("big").unwrap(), l1);
    assert_eq!(d.get_version("big", &v2).unwrap(), l2);
    assert_eq!(d.stat("big").unwrap().size, Some(l1.len() as u64));

    // Bad input: refused before any request, nothing lost.
    for bad in ["", "1&x=2", "a/b", "a\0b", "../x", "1 2"] {
        let e = d.get_version("a", bad).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{bad:?}: {e}");
        let e = d.restore_version("a", bad).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{bad:?}: {e}");
    }
    // A version of another name: missing for this one, and nothing changes.
    let of_a = d.list_versions("a").unwrap()[0].version_id.clone();
    let e = d.get_version("a2", &of_a).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    assert!(e.message().contains("list_versions"), "{e}");
    let e = d.restore_version("a2", &of_a).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    assert_eq!(d.get_bytes("a2").unwrap(), b"other");
    assert_eq!(d.get_bytes("a").unwrap(), b"one");

    // An object written while versioning was off (version 'null') is kept as a version of its
    // own before an older version is restored over it.
    let vdir = temp_dir("null");
    d.put_bytes("n", b"v1").unwrap();
    swift_cli(&["post", "-H", "X-Versions-Enabled: false", &c], &vdir);
    d.put_bytes("n", b"written while off").unwrap();
    let e = d.restore_version("n", &d.list_versions("n").unwrap()[1].version_id);
    assert_eq!(e.unwrap_err().kind(), ErrorKind::InvalidArgument);
    assert_eq!(d.get_bytes("n").unwrap(), b"written while off");
    swift_cli(&["post", "-H", "X-Versions-Enabled: true", &c], &vdir);
    let v = d.list_versions("n").unwrap();
    assert_eq!(v.len(), 2, "{v:?}");
    assert!(v[0].is_current && v[0].version_id == "null", "{v:?}");
    d.restore_version("n", &v[1].version_id).unwrap();
    assert_eq!(d.get_bytes("n").unwrap(), b"v1");
    let kept = d
        .list_versions("n")
        .unwrap()
        .into_iter()
        .filter(|x| !x.is_current)
        .map(|x| d.get_version("n", &x.version_id).unwrap())
        .collect::<Vec<_>>();
    assert!(kept.iter().any(|k| k == b"written while off"), "{kept:?}");
    d.delete("n").unwrap();
    std::fs::remove_dir_all(&vdir).unwrap();

    let held = inventory(&c);
    assert_eq!(held.len(), 4, "{:?}", held.keys());
    // A container that keeps versions is not emptied by deleting its objects: refused, nothing
    // deleted, and the message says what does it.
    let e = d.delete_container(true).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ContainerNotEmpty, "{e}");
    assert!(e.message().contains("swift delete --versions"), "{e}");
    assert_eq!(inventory(&c).len(), 4);
    let e = d.delete_container(false).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ContainerNotEmpty, "{e}");
    remove_versioned(&c);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn version_listings_page_and_keep_to_the_name() {
    let Some(_) = testbed() else { return };
    let c = unique_container("versions-pages");
    let d = open_created(&c, "&openstack-versioning=true");
    // More versions than one listing page (the test bed's container_listing_limit), and a
    // name after it that starts the same.
    let limit: usize = var("OSD_LISTING_LIMIT").parse().unwrap();
    let n = limit + 3;
    for i in 0..n {
        d.put_bytes("p", i.to_string().as_bytes()).unwrap();
    }
    d.put_bytes("p0", b"x").unwrap();
    let v = d.list_versions("p").unwrap();
    assert_eq!(v.len(), n);
    let ids: std::collections::HashSet<_> = v.iter().map(|x| &x.version_id).collect();
    assert_eq!(ids.len(), n);
    assert_eq!(v.iter().filter(|x| x.is_current).count(), 1);
    // Newest first: the oldest is the first put.
    assert_eq!(d.get_version("p", &v[n - 1].version_id).unwrap(), b"0");
    // Streamed, and stopped early.
    let mut seen = 0;
    d.list_versions_with("p", |_| {
        seen += 1;
        seen < 5
    })
    .unwrap();
    assert_eq!(seen, 5);
    remove_versioned(&c);
}

#[test]
fn versions_made_by_python_swiftclient_are_ours_to_restore_and_ours_are_its() {
    let Some(_) = testbed() else { return };
    let c = unique_container("versions-interop");
    let dir = temp_dir("interop");
    // Versioning turned on by another tool: a destination without the option keeps segments.
    swift_cli(&["post", "-H", "X-Versions-Enabled: true", &c], &dir);
    std::fs::write(dir.join("f"), b"first").unwrap();
    swift_cli(&["upload", "--object-name", "f", &c, "f"], &dir);
    std::fs::write(dir.join("f"), b"second").unwrap();
    swift_cli(&["upload", "--object-name", "f", &c, "f"], &dir);
    let d = open(&c, "&openstack-segment-size=1MiB");
    let v = d.list_versions("f").unwrap();
    assert_eq!(v.len(), 2, "{v:?}");
    d.restore_version("f", &v[1].version_id).unwrap();
    swift_cli(&["download", "-o", "back", &c, "f"], &dir);
    assert_eq!(std::fs::read(dir.join("back")).unwrap(), b"first");

    // Small objects put by a destination that does not know the container keeps versions:
    // one version a put (the first put of a taken name, If-None-Match, leaves none behind).
    d.put_bytes("s", b"1").unwrap();
    d.put_bytes("s", b"2").unwrap();
    d.put_bytes("s", b"3").unwrap();
    let v = d.list_versions("s").unwrap();
    assert_eq!(v.len(), 3, "{v:?}");
    assert_eq!(d.get_version("s", &v[1].version_id).unwrap(), b"2");

    // Ours, read by python-swiftclient by version id.
    let l1 = random(2 * MIB + 3);
    d.put_bytes("big", &l1).unwrap();
    d.put_bytes("big", &random(MIB + 9)).unwrap();
    let old = d.list_versions("big").unwrap()[1].version_id.clone();
    let listed = swift_cli(&["list", "--versions", &c], &dir);
    assert!(listed.contains(&old), "{listed}");
    swift_cli(
        &["download", "--version-id", &old, "-o", "old", &c, "big"],
        &dir,
    );
    assert_eq!(std::fs::read(dir.join("old")).unwrap(), l1);
    remove_versioned(&c);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_cluster_without_object_versioning_is_told_before_anything_is_created() {
    let Some(_) = testbed() else { return };
    let proxy = OwnProxy::start(&[(
        "filter:versioned_writes",
        "allow_object_versioning",
        "false",
    )]);
    let c = unique_container("versions-none");
    let storage = format!("http://{}{}", proxy.hostport(), account_path(&c));
    let url = Testbed.v3(&c, "", &var("OSD_REGION1"));
    let d = Destination::open_with(
        &url,
        [
            ("openstack-storage-url", storage.as_str()),
            ("openstack-versioning", "true"),
        ],
    )
    .unwrap();
    let e = d.create_container().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidUrl, "{e}");
    for part in ["object_versioning", "openstack-versioning", "2.24"] {
        assert!(e.message().contains(part), "{part}: {e}");
    }
    assert_eq!(d.test().unwrap_err().kind(), ErrorKind::ContainerNotFound);
}

#[test]
fn a_container_with_legacy_versioning_keeps_the_segments_of_its_archived_versions() {
    let Some(_) = testbed() else { return };
    let c = unique_container("versions-legacy");
    let archive = format!("{c}-archive");
    let dir = temp_dir("legacy");
    swift_cli(&["post", &archive], &dir);
    swift_cli(
        &["post", "-H", &format!("X-Versions-Location: {archive}"), &c],
        &dir,
    );
    // No option: the container's X-Versions-Location tells that versions are kept.
    let d = open(&c, "&openstack-segment-size=1MiB");
    let l1 = random(2 * MIB + 11);
    d.put_bytes("big", &l1).unwrap();
    d.put_bytes("big", &random(MIB + 5)).unwrap();
    // Swift copied the old manifest into the archive container; its segments are still there.
    let a = open(&archive, "");
    let every = ListOptions {
        prefix: String::new(),
        recursive: true,
    };
    let names = || {
        let mut names = Vec::new();
        a.list_with(&every, |e| {
            names.push(e.name);
            true
        })
        .unwrap();
        names
    };
    let archived = names();
    assert_eq!(archived.len(), 1, "{archived:?}");
    assert_eq!(a.get_bytes(&archived[0]).unwrap(), l1);
    // Legacy versioning's delete brings the archived version back: its segments must be there.
    d.delete("big").unwrap();
    assert_eq!(d.get_bytes("big").unwrap(), l1);
    assert!(names().is_empty());
    d.delete("big").unwrap();
    for container in [c.clone(), archive, format!("{c}_segments")] {
        swift_cli(&["delete", &container], &dir);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
