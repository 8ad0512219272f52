//! The object lifecycle on the real test bed: sequences of calls a backup host runs (rotate a
//! file by renaming it, upload the same file again, prune the old one), two containers sharing
//! a segment container, a file changing under an upload, expiry changes that fail part-way, a
//! lost manifest answer. No operation may touch another object's data. Each test ends by asking
//! python-swiftclient (tests/openstack/inventory.py), not the library, what Swift holds.

mod support;

use std::path::Path;
use std::time::Duration;

use openstack_dest::{Destination, ErrorKind, PutOptions};
use support::fake::md5_hex;
use support::real::{
    account_path, destination_via, dlo_by_swift, inventory, open_created, orphans_of,
    swift_hostport, temp_dir, testbed, unique_container, var, Testbed,
};
use support::relay::{Dir, Fault, Relay};

const MIB: usize = 1 << 20;

fn payload(n: usize, seed: u64) -> Vec<u8> {
    let mut rng = fastrand::Rng::with_seed(seed);
    (0..n).map(|_| rng.u8(..)).collect()
}

/// Asserts that python-swiftclient reads `name` of `container` back as `data` (a large object
/// whose segments are gone fails here).
fn assert_holds(container: &str, name: &str, data: &[u8]) {
    let inv = inventory(container);
    assert_eq!(
        inv.get(name),
        Some(&(data.len() as u64, md5_hex(data))),
        "{container}/{name} in {inv:?}"
    );
}

/// A file of `data` whose modification time is fixed, so that writing it again gives "the same
/// file" (same size and mtime) as a backup host sees it.
fn same_file(path: &Path, data: &[u8]) {
    std::fs::write(path, data).unwrap();
    let f = std::fs::File::options().write(true).open(path).unwrap();
    f.set_modified(std::time::UNIX_EPOCH + Duration::from_secs(1_700_000_000))
        .unwrap();
}

#[test]
fn rename_then_the_same_file_again_then_pruning_the_first_name_keeps_the_renamed_object() {
    let Some(_) = testbed() else { return };
    let c = unique_container("life-rename");
    let d = open_created(&c, "&openstack-segment-size=1MiB");
    let dir = temp_dir("life-rename");
    let f = dir.join("f");
    let data = payload(3 * MIB + 5, 1);
    same_file(&f, &data);

    // The sequence: delete a.bin after the same file went up again under its name.
    d.put_file("a.bin", &f).unwrap();
    d.rename("a.bin", "b.bin").unwrap();
    d.put_file("a.bin", &f).unwrap();
    d.delete("a.bin").unwrap();
    assert_holds(&c, "b.bin", &data);

    // An overwrite of the first name, a cancelled and a failed re-upload of the same file.
    d.put_file("a.bin", &f).unwrap();
    d.put_bytes("a.bin", b"small now").unwrap();
    assert_holds(&c, "b.bin", &data);
    let cancel: openstack_dest::Progress = Box::new(|done, _| done < (3 * MIB / 2) as u64);
    let e = d.put_file_with("a.bin", &f, Some(cancel)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Cancelled, "{e}");
    let gone = dir.join("missing");
    assert!(d.put_file("a.bin", &gone).is_err());
    assert_holds(&c, "a.bin", b"small now");
    assert_holds(&c, "b.bin", &data);

    // Renamed back onto a large object of the same file, and pruned: nothing is left over.
    d.put_file("a.bin", &f).unwrap();
    d.rename("b.bin", "a.bin").unwrap();
    assert_holds(&c, "a.bin", &data);
    let (all, orphans) = orphans_of(&[&c], &format!("{c}_segments"));
    assert_eq!((all, orphans.len()), (4, 0), "{orphans:?}");
    d.delete("a.bin").unwrap();
    assert_eq!(orphans_of(&[&c], &format!("{c}_segments")), (0, vec![]));
    d.delete_container(true).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn two_containers_sharing_a_segment_container_never_touch_each_others_segments() {
    let Some(_) = testbed() else { return };
    let (c1, c2) = (unique_container("share1"), unique_container("share2"));
    let segc = format!("{c1}_shared");
    let opts = format!("&openstack-segment-size=1MiB&openstack-segment-container={segc}");
    let (d1, d2) = (open_created(&c1, &opts), open_created(&c2, &opts));
    let dir = temp_dir("share");
    let f = dir.join("x.bin");
    let data = payload(2 * MIB + 1, 2);
    same_file(&f, &data);

    d1.put_file("x.bin", &f).unwrap();
    d2.put_file("x.bin", &f).unwrap();
    d1.delete("x.bin").unwrap();
    assert_holds(&c2, "x.bin", &data);
    d1.put_file("x.bin", &f).unwrap();
    d1.put_bytes("x.bin", b"replaced").unwrap();
    assert_holds(&c2, "x.bin", &data);

    // An interrupted upload left in c1 (as a killed host leaves it): a sweep of c1 with no
    // grace removes it and nothing of c2's; a sweep of c2 finds nothing to remove.
    let keep = Destination::open(&format!(
        "{}{opts}&openstack-leave-segments=true",
        Testbed.v3(&c1, "", &var("OSD_REGION1"))
    ))
    .unwrap();
    let cancel: openstack_dest::Progress = Box::new(|done, _| done < MIB as u64);
    assert!(keep.put_file_with("y.bin", &f, Some(cancel)).is_err());
    let (all, orphans) = orphans_of(&[&c1, &c2], &segc);
    assert!(
        !orphans.is_empty() && all == 3 + orphans.len(),
        "{all} {orphans:?}"
    );
    let report = d2.sweep_segments(Duration::ZERO).unwrap();
    assert_eq!(report.removed, 0);
    let sizes = inventory(&segc);
    let orphan_bytes: u64 = orphans
        .iter()
        .map(|n| sizes[n.strip_prefix(&format!("{segc}/")).unwrap()].0)
        .sum();
    let report = d1.sweep_segments(Duration::ZERO).unwrap();
    assert_eq!(report.removed as usize, orphans.len(), "{report:?}");
    assert_eq!(report.bytes, orphan_bytes, "{report:?}");
    assert_eq!(orphans_of(&[&c1, &c2], &segc), (3, vec![]));
    assert_holds(&c2, "x.bin", &data);
    assert_holds(&c1, "x.bin", b"replaced");
    // A day's grace (the default a host would use) spares what is young.
    assert!(keep
        .put_file_with("y.bin", &f, Some(Box::new(|d, _| d < MIB as u64)))
        .is_err());
    assert_eq!(
        d1.sweep_segments(Duration::from_secs(86400))
            .unwrap()
            .removed,
        0
    );
    d1.sweep_segments(Duration::ZERO).unwrap();
    d2.delete("x.bin").unwrap();
    assert_eq!(orphans_of(&[&c1, &c2], &segc), (0, vec![]));
    d1.delete_container(true).unwrap();
    d2.delete_container(true).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn renaming_onto_a_dynamic_large_object_whose_prefix_covers_the_new_name_keeps_the_copy() {
    let Some(_) = testbed() else { return };
    let c = unique_container("life-dlo");
    let d = open_created(&c, "");
    // A segment container exists (the destination has written large objects before).
    open_created(&format!("{c}_segments"), "");
    let dir = temp_dir("life-dlo");
    d.put_bytes("dir/part1", b"old segment").unwrap();
    dlo_by_swift(&dir, &c, "dir/obj", &format!("{c}/dir/"));
    d.put_bytes("src", b"the new content").unwrap();
    d.rename("src", "dir/obj").unwrap();
    assert_eq!(d.get_bytes("dir/obj").unwrap(), b"the new content");
    assert_holds(&c, "dir/obj", b"the new content");
    // The old object's segment went with it.
    assert!(!inventory(&c).contains_key("dir/part1"));
    d.delete_container(true).unwrap();
    open_created(&format!("{c}_segments"), "")
        .delete_container(true)
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_file_that_changes_while_its_segments_go_up_fails_and_leaves_the_object_in_place() {
    let Some(_) = testbed() else { return };
    let c = unique_container("life-change");
    let d = open_created(
        &c,
        "&openstack-segment-size=1MiB&openstack-segment-threads=1",
    );
    let dir = temp_dir("life-change");
    let f = dir.join("db.bin");
    let before = payload(4 * MIB, 3);
    std::fs::write(&f, &before).unwrap();
    d.put_file("db.bin", &f).unwrap();
    // Halfway through the next upload, another program rewrites the file in place.
    let next = payload(4 * MIB, 4);
    std::fs::write(&f, &next).unwrap();
    let (path, later) = (f.clone(), payload(4 * MIB, 5));
    let mut done_once = false;
    let e = d
        .put_file_with(
            "db.bin",
            &f,
            Some(Box::new(move |done, _| {
                if done > 2 * MIB as u64 && !done_once {
                    done_once = true;
                    use std::io::Write;
                    let mut f = std::fs::File::options().write(true).open(&path).unwrap();
                    f.write_all(&later).unwrap();
                }
                true
            })),
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::LocalIo, "{e}");
    assert!(e.message().contains("changed while"), "{e}");
    assert_holds(&c, "db.bin", &before);
    let (all, orphans) = orphans_of(&[&c], &format!("{c}_segments"));
    assert_eq!((all, orphans.len()), (4, 0), "{orphans:?}");
    d.delete_container(true).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

/// When `name` of the segment container expires (`X-Delete-At`), by a stat through a
/// destination on that container.
fn expiry_of(segments: &Destination, name: &str) -> Option<std::time::SystemTime> {
    segments.stat(name).unwrap().delete_at
}

#[test]
fn an_expiry_change_that_fails_part_way_never_lets_a_segment_expire_before_its_manifest() {
    let Some(_) = testbed() else { return };
    let c = unique_container("life-expiry");
    let segc = format!("{c}_segments");
    let relay = Relay::start(&swift_hostport());
    let quick = [
        ("openstack-segment-size", "1MiB"),
        ("number-of-retries", "2"),
        ("retry-delay", "10ms"),
    ];
    let d = destination_via(&relay.url(), None, &c, &quick);
    let data = payload(4 * MIB, 6);
    d.put_bytes("vol", &data).unwrap();
    let seg_view = open_created(&segc, "");
    let mut segments: Vec<String> = inventory(&segc).into_keys().collect();
    segments.sort();
    assert_eq!(segments.len(), 4);
    let trigger = format!("POST {}/{segc}/{} ", account_path(&c), segments[2]);
    let check = |d: &Destination, what: &str| {
        let manifest = d.stat("vol").unwrap().delete_at;
        for s in &segments {
            let seg = expiry_of(&seg_view, s);
            let ok = match (manifest, seg) {
                (_, None) => true,
                (None, Some(_)) => false,
                (Some(m), Some(s)) => s >= m,
            };
            assert!(
                ok,
                "{what}: segment {s} expires at {seg:?}, the manifest at {manifest:?}"
            );
        }
        assert!(d.get_bytes("vol").unwrap() == data, "{what}");
    };
    // Setting an expiry (earlier than "never"): the third segment's POST keeps failing.
    relay.on(&trigger, Dir::Up, Fault::Reset { after: 0 }, 100);
    let day = PutOptions::new().delete_after(Duration::from_secs(86400));
    assert!(d.update_metadata("vol", &day).is_err());
    check(&d, "an expiry set part-way");
    // Removing it again, failing the same way.
    assert!(d
        .update_metadata("vol", &PutOptions::new().no_expiry())
        .is_err());
    check(&d, "an expiry removed part-way");
    // Without the relay, both work, and the segments follow the manifest.
    let d = open_created(&c, "");
    d.update_metadata("vol", &day).unwrap();
    check(&d, "an expiry set");
    let at = d.stat("vol").unwrap().delete_at.unwrap();
    for s in &segments {
        assert_eq!(expiry_of(&seg_view, s), Some(at), "{s}");
    }
    d.update_metadata("vol", &PutOptions::new().no_expiry())
        .unwrap();
    assert!(segments.iter().all(|s| expiry_of(&seg_view, s).is_none()));
    d.delete_container(true).unwrap();
}

#[test]
fn an_expiry_on_a_dynamic_large_object_reaches_only_the_objects_in_its_prefix_folder() {
    let Some(_) = testbed() else { return };
    let c = unique_container("life-dlo-expiry");
    let d = open_created(&c, "");
    let dir = temp_dir("life-dlo-expiry");
    d.put_bytes("parts/vol/1", b"one").unwrap();
    d.put_bytes("parts/vol/2", b"two").unwrap();
    d.put_bytes("parts/vol-other", b"another file").unwrap();
    dlo_by_swift(&dir, &c, "vol", &format!("{c}/parts/vol"));
    let day = PutOptions::new().delete_after(Duration::from_secs(86400));
    d.update_metadata("vol", &day).unwrap();
    let at = d.stat("vol").unwrap().delete_at;
    assert!(at.is_some());
    assert_eq!(d.stat("parts/vol/1").unwrap().delete_at, at);
    assert_eq!(d.stat("parts/vol/2").unwrap().delete_at, at);
    assert_eq!(d.stat("parts/vol-other").unwrap().delete_at, None);
    d.delete_container(true).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_lost_answer_to_the_manifest_keeps_the_object_it_made() {
    let Some(_) = testbed() else { return };
    let c = unique_container("life-lost");
    let relay = Relay::start(&swift_hostport());
    let quick = [
        ("openstack-segment-size", "1MiB"),
        ("number-of-retries", "1"),
        ("retry-delay", "10ms"),
        ("list-timeout", "3s"),
    ];
    let d = destination_via(&relay.url(), None, &c, &quick);
    let data = payload(3 * MIB, 7);
    // No answer to the manifest PUT ever arrives in time, but Swift stores it each time.
    let trigger = format!("PUT {}/{c}/vol?multipart-manifest=put", account_path(&c));
    relay.on(
        &trigger,
        Dir::Down,
        Fault::Stall {
            after: 0,
            pause: Duration::from_secs(30),
        },
        100,
    );
    d.put_bytes("vol", &data).unwrap();
    relay.calm();
    assert_holds(&c, "vol", &data);
    let (all, orphans) = orphans_of(&[&c], &format!("{c}_segments"));
    assert_eq!((all, orphans.len()), (3, 0), "{orphans:?}");
    d.delete_container(true).unwrap();
}

#[test]
fn a_rename_that_fails_after_its_copy_leaves_two_names_and_deleting_either_keeps_the_other() {
    let Some(_) = testbed() else { return };
    let c = unique_container("life-half-rename");
    let relay = Relay::start(&swift_hostport());
    let quick = [
        ("openstack-segment-size", "1MiB"),
        ("number-of-retries", "1"),
        ("retry-delay", "10ms"),
    ];
    let d = destination_via(&relay.url(), None, &c, &quick);
    let data = payload(3 * MIB, 8);
    for (from, to, prune) in [("a", "b", "a"), ("c", "d", "d")] {
        d.put_bytes(from, &data).unwrap();
        // The copy is made, then every delete of the source is refused on the way.
        let trigger = format!("DELETE {}/{c}/{from} ", account_path(&c));
        relay.on(&trigger, Dir::Up, Fault::Reset { after: 0 }, 2);
        assert!(d.rename(from, to).is_err());
        assert_holds(&c, from, &data);
        assert_holds(&c, to, &data);
        // The host prunes one of the two names: the other stays whole.
        d.delete(prune).unwrap();
        let other = if prune == from { to } else { from };
        assert_holds(&c, other, &data);
        d.delete(other).unwrap();
    }
    assert_eq!(orphans_of(&[&c], &format!("{c}_segments")), (0, vec![]));
    d.delete_container(true).unwrap();
}

#[test]
fn an_upload_killed_with_sigkill_resumes_with_its_segments_and_the_object_in_place_stays_whole() {
    let Some(_) = testbed() else { return };
    let c = unique_container("life-kill");
    let opts = "&openstack-segment-size=1MiB&openstack-segment-threads=1";
    let d = open_created(&c, opts);
    let dir = temp_dir("life-kill");
    let f = dir.join("vol.bin");
    d.put_bytes("vol.bin", b"the version before").unwrap();
    let data = payload(12 * MIB, 9);
    same_file(&f, &data);
    // A child process uploads the file through a relay of 2 MiB/s (so the upload takes about
    // 6 s however fast the machine is) and is killed once a few segments are in.
    let relay = Relay::start(&swift_hostport());
    relay.set_rate(2 << 20);
    let through_relay = format!("&openstack-storage-url={}{}", relay.url(), account_path(&c));
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "killed_upload_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(
            "OSD_KILL_CHILD_URL",
            format!(
                "{}{opts}{through_relay}",
                Testbed.v3(&c, "", &var("OSD_REGION1"))
            ),
        )
        .env("OSD_KILL_CHILD_FILE", &f)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let segc = format!("{c}_segments");
    let seg_view = Destination::open(&Testbed.v3(&segc, "", &var("OSD_REGION1"))).unwrap();
    let stored = || {
        let all = openstack_dest::ListOptions {
            prefix: String::new(),
            recursive: true,
        };
        let mut n = 0;
        let _ = seg_view.list_with(&all, |_| {
            n += 1;
            true
        });
        n
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while stored() < 4 {
        assert!(
            std::time::Instant::now() < deadline,
            "the child stored no segments"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let early = child.try_wait().unwrap();
    assert!(
        early.is_none(),
        "the child finished before it was killed ({early:?})"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    assert_holds(&c, "vol.bin", b"the version before");
    let left = inventory(&segc).len() - 1; // the set's pending mark
    assert!((3..12).contains(&left), "{left} segments left");
    // The same file again: only the missing segments go.
    let lines = support::real::capture_log("segments of 'vol.bin'");
    d.put_file("vol.bin", &f).unwrap();
    openstack_dest::log::set_sink(None, openstack_dest::log::Level::Error);
    let lines = lines.lock().unwrap().clone();
    assert!(
        lines
            .iter()
            .any(|l| l.ends_with(&format!(": {} sent, {left} already stored", 12 - left))),
        "{lines:?} (left {left})"
    );
    assert_holds(&c, "vol.bin", &data);
    assert_eq!(orphans_of(&[&c], &segc), (12, vec![]));
    d.delete_container(true).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The child process of the kill test: uploads a file (through the parent's slow relay). A
/// no-op when not started as such.
#[test]
fn killed_upload_child() {
    let (Ok(url), Ok(file)) = (
        std::env::var("OSD_KILL_CHILD_URL"),
        std::env::var("OSD_KILL_CHILD_FILE"),
    ) else {
        return;
    };
    let d = Destination::open(&url).unwrap();
    let slow: openstack_dest::Progress = Box::new(|_, _| {
        std::thread::sleep(Duration::from_millis(40));
        true
    });
    d.put_file_with("vol.bin", Path::new(&file), Some(slow))
        .unwrap();
}

#[test]
fn openstack_list_newest_asks_every_replica_for_listings_and_only_then() {
    let Some(_) = testbed() else { return };
    let c = unique_container("life-newest");
    let relay = Relay::start(&swift_hostport());
    let listing = format!("GET {}/{c}?format=json", account_path(&c));
    relay.watch(&listing);
    relay.watch("x-newest: true");
    let plain = destination_via(&relay.url(), None, &c, &[]);
    plain.put_bytes("a", b"1").unwrap();
    assert_eq!(plain.list().unwrap().len(), 1);
    assert!(relay.seen(&listing) >= 1);
    assert_eq!(relay.seen("x-newest: true"), 0, "no X-Newest unless asked");
    let newest = destination_via(&relay.url(), None, &c, &[("openstack-list-newest", "true")]);
    let before = relay.seen(&listing);
    assert_eq!(newest.list().unwrap().len(), 1);
    let lists = relay.seen(&listing) - before;
    assert!(
        lists >= 1 && relay.seen("x-newest: true") == lists,
        "{lists}"
    );
    newest.delete_container(true).unwrap();
}
