//! Large objects against the real Swift of the test bed, whose `max_file_size` is 32 MiB:
//! segmented uploads with no option given, explicit segment sizes, parallel segments, failures
//! and cancels that leave nothing, resumed uploads, overwrites both ways, ranged reads, and
//! interop with python-swiftclient's `swift` CLI (its SLO and DLO objects, and ours read by it).

mod support;

use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};

use openstack_dest::log::{self, Level};
use openstack_dest::{Destination, EntryKind, ErrorKind, ListOptions, UploadSource};
use support::real::{
    capture_log, dlo_by_swift, open_created, swift_cli, swiftservice_upload, temp_dir, testbed,
    unique_container, var, Testbed,
};

const MIB: usize = 1024 * 1024;

fn payload(n: usize, seed: u32) -> Vec<u8> {
    (0..n)
        .map(|i| ((i as u32).wrapping_mul(2_654_435_761).wrapping_add(seed) >> 13) as u8)
        .collect()
}

fn md5_hex(data: &[u8]) -> String {
    use md5::Digest;
    md5::Md5::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The tests that give no segment size count on the test bed's limit of 32 MiB.
fn assert_cluster_limit_is_32_mib() {
    let limit = var("OSD_MAX_FILE_SIZE");
    assert_eq!(
        limit, "33554432",
        "the test bed runs with max_file_size={limit} (left so by make bench?): run `bash tests/openstack/testbed.sh start` without OSD_MAX_FILE_SIZE and source its env.sh again"
    );
}

/// The object names in a container, through our own listing of another destination.
fn names_in(tb: &Testbed, container: &str) -> Vec<String> {
    let d = Destination::open(&tb.v3(container, "", &var("OSD_REGION1"))).unwrap();
    let mut names = Vec::new();
    match d.list_with(
        &ListOptions {
            prefix: String::new(),
            recursive: true,
        },
        |e| {
            names.push(e.name);
            true
        },
    ) {
        Ok(()) => names,
        Err(e) if e.kind() == ErrorKind::ContainerNotFound => names,
        Err(e) => panic!("listing {container}: {e}"),
    }
}

#[test]
fn a_file_larger_than_the_cluster_allows_is_stored_and_restored_with_no_option() {
    let Some(tb) = testbed() else { return };
    assert_cluster_limit_is_32_mib();
    let c = unique_container("slo");
    let d = open_created(&c, "");
    let dir = temp_dir("big");
    let data = payload(100 * MIB + 12_345, 7);
    let src = dir.join("dump.bin");
    std::fs::write(&src, &data).unwrap();

    let mut reports = Vec::new();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s2 = seen.clone();
    d.put_file_with(
        "db/dump.bin",
        &src,
        Some(Box::new(move |done, total| {
            s2.lock().unwrap().push((done, total));
            true
        })),
    )
    .unwrap();
    reports.extend(seen.lock().unwrap().iter().copied());
    let (last_done, last_total) = *reports.last().unwrap();
    assert_eq!(last_total, Some(data.len() as u64));
    assert_eq!(
        last_done,
        data.len() as u64,
        "progress covers every segment"
    );

    // Four segments of the cluster's 32 MiB, in <container>_segments.
    let segments = names_in(&tb, &format!("{c}_segments"));
    assert_eq!(segments.len(), 4, "{segments:?}");
    // Named by container, object and an upload of their own.
    let own = format!("{c}/db/dump.bin/slo/");
    assert!(segments.iter().all(|s| s.starts_with(&own)), "{segments:?}");

    let st = d.stat("db/dump.bin").unwrap();
    assert_eq!(st.size, Some(data.len() as u64));
    let listed = d.list_with(
        &ListOptions {
            prefix: "db/".into(),
            recursive: true,
        },
        |e| {
            assert_eq!(e.size, Some(data.len() as u64));
            assert_eq!(e.etag, st.etag, "listing and stat give the same ETag");
            true
        },
    );
    listed.unwrap();

    // Restored byte for byte: into a file (segments in parallel) and into memory (in order).
    let back = dir.join("restored.bin");
    d.get_file("db/dump.bin", &back).unwrap();
    assert!(std::fs::read(&back).unwrap() == data);
    assert!(d.get_bytes("db/dump.bin").unwrap() == data);

    // Ranged reads, across a segment boundary too; past the end is an error.
    let at = 32 * MIB as u64 - 10;
    assert_eq!(
        d.get_range("db/dump.bin", at, 20).unwrap(),
        data[at as usize..at as usize + 20]
    );
    assert_eq!(d.get_range("db/dump.bin", 0, 3).unwrap(), data[..3]);
    let end = data.len() as u64;
    assert_eq!(
        d.get_range("db/dump.bin", end - 5, 5).unwrap(),
        data[data.len() - 5..]
    );
    let e = d.get_range("db/dump.bin", end - 5, 6).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    assert!(e.message().contains("past the end"), "{e}");
    let e = d.get_range("db/dump.bin", end + 100, 1).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    // An empty range is checked too: the object must exist and the offset be within it.
    assert_eq!(d.get_range("db/dump.bin", end, 0).unwrap(), b"");
    let e = d.get_range("db/dump.bin", end + 1, 0).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    let e = d.get_range("db/missing", 0, 0).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");

    // python-swiftclient reads our object byte for byte.
    swift_cli(&["download", "-o", "by-swift.bin", &c, "db/dump.bin"], &dir);
    assert_eq!(
        md5_hex(&std::fs::read(dir.join("by-swift.bin")).unwrap()),
        md5_hex(&data)
    );

    // Renaming copies the manifest, not 100 MiB: the segments stay, the data reads the same.
    d.rename("db/dump.bin", "db/renamed.bin").unwrap();
    assert_eq!(
        d.stat("db/dump.bin").unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(names_in(&tb, &format!("{c}_segments")).len(), 4);
    assert_eq!(
        md5_hex(&d.get_bytes("db/renamed.bin").unwrap()),
        md5_hex(&data)
    );

    // Deleting removes the segments too.
    d.delete("db/renamed.bin").unwrap();
    assert!(names_in(&tb, &format!("{c}_segments")).is_empty());
    assert!(names_in(&tb, &c).is_empty());

    // Emptying the container deletes the segments of its large objects, and the segment
    // container once it is empty.
    d.put_file("again.bin", &src).unwrap();
    d.put_bytes("small", b"x").unwrap();
    assert_eq!(names_in(&tb, &format!("{c}_segments")).len(), 4);
    d.delete_container(true).unwrap();
    let segs =
        Destination::open(&tb.v3(&format!("{c}_segments"), "", &var("OSD_REGION1"))).unwrap();
    assert_eq!(
        segs.test().unwrap_err().kind(),
        ErrorKind::ContainerNotFound
    );
    assert_eq!(d.test().unwrap_err().kind(), ErrorKind::ContainerNotFound);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn explicit_segments_overwrites_both_ways_and_streams() {
    let Some(tb) = testbed() else { return };
    let c = unique_container("seg");
    let d = open_created(
        &c,
        "&openstack-segment-size=1MiB&openstack-segment-threads=3&openstack-segment-container=segs-here",
    );
    let segs = |tb: &Testbed| names_in(tb, "segs-here");
    let before = segs(&tb).len();

    // Bytes from memory, 5.5 MiB in 1 MiB segments.
    let big = payload(5 * MIB + MIB / 2, 1);
    d.put_bytes("v", &big).unwrap();
    assert_eq!(segs(&tb).len(), before + 6);
    assert!(d.get_bytes("v").unwrap() == big);

    // A small object replaces it: the old segments go once the new object is in place.
    d.put_bytes("v", b"small now").unwrap();
    assert_eq!(d.get_bytes("v").unwrap(), b"small now");
    assert_eq!(segs(&tb).len(), before);

    // A stream of known size, segmented in order; then a segmented object replaces another.
    let streamed = payload(3 * MIB + 7, 2);
    d.put_stream(
        "v",
        Box::new(openstack_dest::ReadOnce(std::io::Cursor::new(
            streamed.clone(),
        ))),
        Some(streamed.len() as u64),
        None,
    )
    .unwrap();
    assert!(d.get_bytes("v").unwrap() == streamed);
    assert_eq!(segs(&tb).len(), before + 4);
    let other = payload(2 * MIB + 1, 3);
    d.put_bytes("v", &other).unwrap();
    assert!(d.get_bytes("v").unwrap() == other);
    assert_eq!(
        segs(&tb).len(),
        before + 3,
        "the replaced object's segments are gone"
    );

    // A stream that breaks its size promise in its third segment: an error, nothing stored,
    // the object in place untouched, the new segments removed.
    let e = d
        .put_stream(
            "v",
            Box::new(support::Yields { left: 2 * MIB + 5 }),
            Some(4 * MIB as u64),
            None,
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::LocalIo, "{e}");
    assert!(d.get_bytes("v").unwrap() == other);
    assert_eq!(segs(&tb).len(), before + 3);

    d.delete("v").unwrap();
    assert_eq!(segs(&tb).len(), before);
    d.delete_container(true).unwrap();
}

/// A source that fails after `fail_at` bytes.
struct FailsAt {
    data: Vec<u8>,
    pos: usize,
    fail_at: usize,
}

impl UploadSource for FailsAt {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.pos >= self.fail_at {
            return Err(std::io::Error::other("the disk went away"));
        }
        let n = buf
            .len()
            .min(self.fail_at - self.pos)
            .min(self.data.len() - self.pos);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
    fn rewind(&mut self) -> std::io::Result<bool> {
        Ok(false)
    }
    fn can_rewind(&self) -> bool {
        false
    }
}

#[test]
fn failures_and_cancels_leave_no_object_and_an_interrupted_upload_resumes() {
    let Some(tb) = testbed() else { return };
    let c = unique_container("resume");
    let d = open_created(&c, "&openstack-segment-size=1MiB");
    let segc = format!("{c}_segments");

    // A source failing in the middle: no object, no segment left.
    let data = payload(6 * MIB, 4);
    let e = d
        .put_stream(
            "broken",
            Box::new(FailsAt {
                data: data.clone(),
                pos: 0,
                fail_at: 3 * MIB + 17,
            }),
            Some(data.len() as u64),
            None,
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::LocalIo, "{e}");
    assert_eq!(d.stat("broken").unwrap_err().kind(), ErrorKind::NotFound);
    assert!(names_in(&tb, &segc).is_empty());

    // A cancel halfway through a parallel upload stops every worker and cleans up.
    let dir = temp_dir("resume");
    let src = dir.join("vol.bin");
    let data = payload(12 * MIB + 3, 5);
    std::fs::write(&src, &data).unwrap();
    let half = |limit: u64| -> openstack_dest::Progress { Box::new(move |done, _| done < limit) };
    let e = d
        .put_file_with("vol.bin", &src, Some(half(6 * MIB as u64)))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Cancelled, "{e}");
    assert_eq!(d.stat("vol.bin").unwrap_err().kind(), ErrorKind::NotFound);
    assert!(
        names_in(&tb, &segc).is_empty(),
        "a cancel removes the segments"
    );

    // Interrupted with the segments left (as a killed process leaves them): the next upload of
    // the same file sends only the segments that are missing.
    let keep = Destination::open(&format!(
        "{}&openstack-segment-size=1MiB&openstack-leave-segments=true&openstack-segment-threads=1",
        tb.v3(&c, "", &var("OSD_REGION1"))
    ))
    .unwrap();
    let e = keep
        .put_file_with("vol.bin", &src, Some(half(5 * MIB as u64)))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Cancelled);
    // The set is marked pending (a killed upload leaves the same): the next upload resumes it.
    let names = names_in(&tb, &segc);
    assert_eq!(
        names.iter().filter(|n| n.ends_with("/pending")).count(),
        1,
        "{names:?}"
    );
    let left = names.len() - 1;
    assert!((4..13).contains(&left), "{left} segments left");
    let lines = capture_log("segments of 'vol.bin'");
    d.put_file("vol.bin", &src).unwrap();
    log::set_sink(None, Level::Error);
    let lines = lines.lock().unwrap().clone();
    let summary = lines
        .iter()
        .find(|l| l.starts_with("uploaded the 13 segments"))
        .unwrap_or_else(|| panic!("{lines:?}"));
    assert!(
        summary.ends_with(&format!(": {} sent, {left} already stored", 13 - left)),
        "{summary} (left {left})"
    );
    assert!(d.get_bytes("vol.bin").unwrap() == data);
    assert_eq!(names_in(&tb, &segc).len(), 13);

    // The same file again while it is in place: new names, the object stays readable, and
    // afterwards only the new segments remain.
    d.put_file("vol.bin", &src).unwrap();
    assert!(d.get_bytes("vol.bin").unwrap() == data);
    assert_eq!(names_in(&tb, &segc).len(), 13);
    d.delete("vol.bin").unwrap();
    assert!(names_in(&tb, &segc).is_empty());
    d.delete_container(true).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn large_objects_written_by_python_swiftclient_are_read_sized_and_deleted() {
    let Some(tb) = testbed() else { return };
    let c = unique_container("peer");
    let d = open_created(&c, "");
    let dir = temp_dir("peer");
    let data = payload(3 * MIB + MIB / 3, 6);
    std::fs::write(dir.join("slo.bin"), &data).unwrap();
    std::fs::write(dir.join("dlo.bin"), &data).unwrap();
    swift_cli(
        &[
            "upload",
            "--segment-size",
            "1048576",
            "--use-slo",
            &c,
            "slo.bin",
        ],
        &dir,
    );
    // Without --use-slo, swift 4.1 makes a Dynamic Large Object.
    swift_cli(
        &["upload", "--segment-size", "1048576", &c, "dlo.bin"],
        &dir,
    );
    assert_eq!(names_in(&tb, &format!("{c}_segments")).len(), 8);

    for name in ["slo.bin", "dlo.bin"] {
        assert_eq!(
            d.stat(name).unwrap().size,
            Some(data.len() as u64),
            "{name}"
        );
        assert!(d.get_bytes(name).unwrap() == data, "{name}");
        let back = dir.join(format!("{name}.restored"));
        d.get_file(name, &back).unwrap();
        assert!(std::fs::read(&back).unwrap() == data, "{name}");
        let at = MIB as u64 - 3;
        assert_eq!(
            d.get_range(name, at, 6).unwrap(),
            data[at as usize..at as usize + 6]
        );
    }
    // The listing gives the DLO its real size (Swift lists it as 0 bytes), unless asked not to.
    let sizes: Vec<(String, Option<u64>)> = d
        .list()
        .unwrap()
        .into_iter()
        .map(|e| (e.name, e.size))
        .collect();
    assert!(
        sizes.iter().all(|(_, s)| *s == Some(data.len() as u64)),
        "{sizes:?}"
    );
    let plain = Destination::open(&format!(
        "{}&openstack-list-large-object-sizes=false",
        tb.v3(&c, "", &var("OSD_REGION1"))
    ))
    .unwrap();
    let dlo = plain
        .list()
        .unwrap()
        .into_iter()
        .find(|e| e.name == "dlo.bin")
        .unwrap();
    assert_eq!(dlo.size, Some(0));

    // Renaming a DLO copies its manifest; the segments stay and read the same.
    d.rename("dlo.bin", "dlo-renamed.bin").unwrap();
    assert!(d.get_bytes("dlo-renamed.bin").unwrap() == data);
    assert_eq!(names_in(&tb, &format!("{c}_segments")).len(), 8);
    d.rename("dlo-renamed.bin", "dlo.bin").unwrap();

    d.delete("slo.bin").unwrap();
    assert_eq!(names_in(&tb, &format!("{c}_segments")).len(), 4);
    d.delete("dlo.bin").unwrap();
    assert!(names_in(&tb, &format!("{c}_segments")).is_empty());
    assert!(names_in(&tb, &c).is_empty());
    d.delete_container(true).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn stat_and_listings_tell_what_kind_of_object_an_entry_is() {
    let Some(tb) = testbed() else { return };
    let c = unique_container("kind");
    let d = open_created(&c, "&openstack-segment-size=1MiB");
    let dir = temp_dir("kind");
    let data = payload(2 * MIB + 777, 11);
    let src = dir.join("big.bin");
    std::fs::write(&src, &data).unwrap();
    // A Static Large Object written by the library, a Dynamic Large Object written by
    // python-swiftclient's SwiftService, an ordinary object, and one inside a folder.
    d.put_file("slo.bin", &src).unwrap();
    swiftservice_upload(&c, "dlo.bin", &src, MIB as u64, false);
    d.put_bytes("plain.bin", &data[..1000]).unwrap();
    d.put_bytes("sub/inner.txt", b"inside").unwrap();
    let whole_md5 = md5_hex(&data);

    let plain = d.stat("plain.bin").unwrap();
    assert_eq!(plain.kind, EntryKind::Object);
    assert!(plain.kind.etag_is_md5());
    assert_eq!(plain.etag.as_deref(), Some(md5_hex(&data[..1000]).as_str()));
    let slo = d.stat("slo.bin").unwrap();
    assert_eq!(slo.kind, EntryKind::StaticLarge);
    assert!(!slo.kind.etag_is_md5());
    assert_eq!(slo.size, Some(data.len() as u64));
    assert_ne!(
        slo.etag.as_deref(),
        Some(whole_md5.as_str()),
        "an SLO's ETag is not its MD5"
    );
    let dlo = d.stat("dlo.bin").unwrap();
    assert_eq!(dlo.kind, EntryKind::DynamicLarge);
    assert_eq!(dlo.size, Some(data.len() as u64));
    assert_eq!(d.stat("sub/inner.txt").unwrap().kind, EntryKind::Object);

    // The listing: Swift marks the SLO (slo_etag); the DLO lists as 0 bytes and is known by
    // the HEAD the listing makes of zero-byte entries (the default).
    type Row = (String, EntryKind, bool, Option<u64>, Option<String>);
    let listed: Vec<Row> = d
        .list()
        .unwrap()
        .into_iter()
        .map(|e| (e.name, e.kind, e.is_folder, e.size, e.etag))
        .collect();
    let size = Some(data.len() as u64);
    assert_eq!(
        listed,
        vec![
            (
                "dlo.bin".into(),
                EntryKind::DynamicLarge,
                false,
                size,
                dlo.etag.clone()
            ),
            (
                "plain.bin".into(),
                EntryKind::Object,
                false,
                Some(1000),
                plain.etag.clone()
            ),
            (
                "slo.bin".into(),
                EntryKind::StaticLarge,
                false,
                size,
                slo.etag.clone()
            ),
            ("sub".into(), EntryKind::Folder, true, None, None),
        ]
    );
    let mut recursive = Vec::new();
    d.list_with(
        &ListOptions {
            prefix: "sub/".into(),
            recursive: true,
        },
        |e| {
            recursive.push((e.name, e.kind));
            true
        },
    )
    .unwrap();
    assert_eq!(recursive, vec![("sub/inner.txt".into(), EntryKind::Object)]);

    // Without the HEAD of zero-byte entries, a listing cannot tell a DLO: it says Object, 0 bytes.
    let no_head = Destination::open(&format!(
        "{}&openstack-list-large-object-sizes=false",
        tb.v3(&c, "", &var("OSD_REGION1"))
    ))
    .unwrap();
    let kinds: Vec<(String, EntryKind, Option<u64>)> = no_head
        .list()
        .unwrap()
        .into_iter()
        .map(|e| (e.name, e.kind, e.size))
        .collect();
    assert_eq!(kinds[0], ("dlo.bin".into(), EntryKind::Object, Some(0)));
    assert_eq!(kinds[2], ("slo.bin".into(), EntryKind::StaticLarge, size));

    for name in ["slo.bin", "dlo.bin", "plain.bin", "sub/inner.txt"] {
        d.delete(name).unwrap();
    }
    assert!(names_in(&tb, &format!("{c}_segments")).is_empty());
    d.delete_container(true).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

/// rclone (Debian's 1.60), configured through its environment for the test bed's member user.
/// Its listings ask for 1000 names, more than the test bed's limit of 200, so only the calls
/// that need no listing are used (`copyto` of one object, `--no-check-dest`).
fn rclone(args: &[&str]) {
    let out = Command::new("rclone")
        .env("RCLONE_CONFIG_OSD_TYPE", "swift")
        .env("RCLONE_CONFIG_OSD_AUTH", var("OSD_AUTH_V3"))
        .env("RCLONE_CONFIG_OSD_AUTH_VERSION", "3")
        .env("RCLONE_CONFIG_OSD_USER", var("OSD_USER"))
        .env("RCLONE_CONFIG_OSD_KEY", var("OSD_PASSWORD"))
        .env("RCLONE_CONFIG_OSD_DOMAIN", "Default")
        .env("RCLONE_CONFIG_OSD_TENANT", var("OSD_PROJECT"))
        .env("RCLONE_CONFIG_OSD_TENANT_DOMAIN", "Default")
        .env("RCLONE_CONFIG_OSD_REGION", var("OSD_REGION1"))
        .env("RCLONE_CONFIG_OSD_CHUNK_SIZE", "1M")
        .env("RCLONE_CONFIG", "/dev/null")
        .args(args)
        .args(["-q", "--no-check-dest"])
        .output()
        .expect("rclone (Debian package) runs");
    assert!(
        out.status.success(),
        "rclone {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn rclone_reads_our_large_objects_and_we_read_its() {
    let Some(tb) = testbed() else { return };
    let c = unique_container("rclone");
    let d = open_created(&c, "&openstack-segment-size=1MiB");
    let dir = temp_dir("rclone");
    let data = payload(3 * MIB + 1234, 8);

    // Ours, an SLO of four segments, copied out by rclone.
    d.put_bytes("ours.bin", &data).unwrap();
    let back = dir.join("ours.back");
    rclone(&[
        "copyto",
        &format!("osd:{c}/ours.bin"),
        back.to_str().unwrap(),
    ]);
    assert_eq!(md5_hex(&std::fs::read(&back).unwrap()), md5_hex(&data));

    // Theirs, a DLO of 1 MiB chunks in <container>_segments: sized, read, ranged and deleted.
    let src = dir.join("theirs.bin");
    std::fs::write(&src, &data).unwrap();
    rclone(&[
        "copyto",
        src.to_str().unwrap(),
        &format!("osd:{c}/theirs.bin"),
    ]);
    let segc = format!("{c}_segments");
    let before = names_in(&tb, &segc).len();
    assert_eq!(before, 4 + 4, "our segments and rclone's");
    assert_eq!(d.stat("theirs.bin").unwrap().size, Some(data.len() as u64));
    assert!(d.get_bytes("theirs.bin").unwrap() == data);
    assert_eq!(
        d.get_range("theirs.bin", MIB as u64 - 1, 2).unwrap(),
        data[MIB - 1..MIB + 1]
    );
    d.delete("theirs.bin").unwrap();
    assert_eq!(
        names_in(&tb, &segc).len(),
        4,
        "rclone's segments went with its object"
    );
    d.delete("ours.bin").unwrap();
    assert!(names_in(&tb, &segc).is_empty());
    d.delete_container(true).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn streams_of_unknown_size_are_segmented_as_they_come() {
    let Some(tb) = testbed() else { return };
    assert_cluster_limit_is_32_mib();
    let c = unique_container("unknown");
    let d = open_created(&c, "");
    let small_segments = Destination::open(&format!(
        "{}&openstack-segment-size=1MiB",
        tb.v3(&c, "", &var("OSD_REGION1"))
    ))
    .unwrap();
    let segc = format!("{c}_segments");
    let reader = |data: &[u8]| std::io::Cursor::new(data.to_vec());

    // Larger than the cluster allows, size unknown: 32 MiB + 8 MiB segments, in order.
    let big = payload(40 * MIB + 5, 9);
    assert_eq!(d.put_reader("big", reader(&big)).unwrap(), big.len() as u64);
    assert_eq!(names_in(&tb, &segc).len(), 2);
    assert!(d.get_bytes("big").unwrap() == big);

    // Past the read-ahead but within one segment: an ordinary object in the end, no segment.
    let mid = payload(6 * MIB + 1, 10);
    d.put_reader("mid", reader(&mid)).unwrap();
    assert_eq!(
        d.stat("mid").unwrap().etag.as_deref(),
        Some(md5_hex(&mid).as_str())
    );
    assert_eq!(names_in(&tb, &segc).len(), 2);

    // With 1 MiB segments: within the read-ahead (from memory, in parallel) and beyond it.
    let short = payload(2 * MIB + 3, 11);
    small_segments.put_reader("short", reader(&short)).unwrap();
    let long = payload(7 * MIB + 5, 12);
    small_segments.put_reader("long", reader(&long)).unwrap();
    assert_eq!(names_in(&tb, &segc).len(), 2 + 3 + 8);
    assert!(d.get_bytes("short").unwrap() == short);
    assert!(d.get_bytes("long").unwrap() == long);

    // A stream that fails in its sixth segment: no object, its segments removed.
    let e = small_segments
        .put_stream(
            "fails",
            Box::new(FailsAt {
                data: long.clone(),
                pos: 0,
                fail_at: 5 * MIB + 3,
            }),
            None,
            None,
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::LocalIo, "{e}");
    assert_eq!(d.stat("fails").unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(names_in(&tb, &segc).len(), 13);

    for name in ["big", "mid", "short", "long"] {
        d.delete(name).unwrap();
    }
    assert!(names_in(&tb, &segc).is_empty());
    d.delete_container(true).unwrap();
}

#[test]
fn a_dynamic_manifest_deletes_only_the_segments_in_its_prefixs_folder() {
    let Some(_) = testbed() else { return };
    let c = unique_container("dloprefix");
    let d = open_created(&c, "");
    let dir = temp_dir("dloprefix");
    d.put_bytes("backup-2025", b"another backup").unwrap();
    d.put_bytes("backup/1", b"part").unwrap();
    // A DLO whose segments are "every object starting with 'backup'": another file matches too.
    dlo_by_swift(&dir, &c, "dlo", &format!("{c}/backup"));
    assert_eq!(
        d.stat("dlo").unwrap().size,
        Some(("another backup".len() + "part".len()) as u64)
    );
    d.delete("dlo").unwrap();
    assert_eq!(d.get_bytes("backup-2025").unwrap(), b"another backup");
    assert_eq!(d.stat("backup/1").unwrap_err().kind(), ErrorKind::NotFound);
    d.delete_container(true).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

fn mtime_of(path: &Path) -> std::time::SystemTime {
    std::fs::metadata(path).unwrap().modified().unwrap()
}

#[test]
fn file_times_are_kept_both_ways_with_python_swiftclient() {
    let Some(tb) = testbed() else { return };
    let c = unique_container("mtime");
    let d = open_created(&c, "&openstack-segment-size=1MiB");
    let dir = temp_dir("mtime");
    let when = std::time::UNIX_EPOCH + std::time::Duration::from_micros(1_600_000_000_123_456);
    for (name, size) in [("small.txt", 10usize), ("large.bin", 2 * MIB + 1)] {
        let src = dir.join(name);
        std::fs::write(&src, payload(size, 13)).unwrap();
        std::fs::File::options()
            .write(true)
            .open(&src)
            .unwrap()
            .set_modified(when)
            .unwrap();
        d.put_file(name, &src).unwrap();
        assert_eq!(d.stat(name).unwrap().mtime, Some(when), "{name}");
        let back = dir.join(format!("{name}.ours"));
        d.get_file(name, &back).unwrap();
        assert_eq!(mtime_of(&back), when, "{name}: restored by us");
        let theirs = format!("{name}.swift");
        swift_cli(&["download", "-o", &theirs, &c, name], &dir);
        // python-swiftclient sets the time through a float: equal to the microsecond.
        let got = mtime_of(&dir.join(&theirs));
        let off = got.duration_since(when).unwrap_or_else(|e| e.duration());
        assert!(
            off < std::time::Duration::from_micros(1),
            "{name}: swift restored {got:?}"
        );
    }
    // And what swift uploads, we restore with its time.
    let src = dir.join("by-swift.txt");
    std::fs::write(&src, b"uploaded by swift").unwrap();
    std::fs::File::options()
        .write(true)
        .open(&src)
        .unwrap()
        .set_modified(when)
        .unwrap();
    swift_cli(&["upload", &c, "by-swift.txt"], &dir);
    let back = dir.join("by-swift.back");
    d.get_file("by-swift.txt", &back).unwrap();
    assert_eq!(mtime_of(&back), when);
    d.delete_container(true).unwrap();
    let _ = Destination::open(&tb.v3(&format!("{c}_segments"), "", &var("OSD_REGION1")))
        .and_then(|s| s.delete_container(true));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Sends `method` with `body` to `path` below the storage URL exactly as written (`..`
/// included), as another tool may: reqwest, like every URL library, would fold the dot segments
/// away. Returns the status line.
fn raw(d: &Destination, method: &str, path: &str, body: &[u8]) -> String {
    use std::io::{Read, Write};
    let s = d.session().unwrap();
    let url = s.storage_url.strip_prefix("http://").unwrap();
    let (host, base) = url.split_at(url.find('/').unwrap());
    let mut conn = std::net::TcpStream::connect(host).unwrap();
    write!(
        conn,
        "{method} {base}/{path} HTTP/1.1\r\nHost: {host}\r\nX-Auth-Token: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        s.token.expose(),
        body.len()
    )
    .unwrap();
    conn.write_all(body).unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    answer.lines().next().unwrap_or("").to_string()
}

#[test]
fn names_with_dot_segments_from_a_server_answer_reach_no_other_object() {
    let Some(_) = testbed() else { return };
    let c = unique_container("dotnames");
    let d = open_created(&c, "");
    d.put_bytes("victim", b"keep me").unwrap();
    d.put_bytes("seg/1", b"part").unwrap();
    // Another tool stored a "segment" whose name folds onto "victim" in a URL.
    let put = raw(&d, "PUT", &format!("{c}/seg/../victim"), b"hostile");
    assert!(put.starts_with("HTTP/1.1 201"), "{put}");
    let dir = temp_dir("dotnames");
    dlo_by_swift(&dir, &c, "dlo", &format!("{c}/seg/"));
    // Deleting the DLO deletes its reachable segment, and never "victim".
    d.delete("dlo").unwrap();
    assert_eq!(d.get_bytes("victim").unwrap(), b"keep me");
    assert_eq!(d.stat("seg/1").unwrap_err().kind(), ErrorKind::NotFound);
    // Emptying the container deletes every object it can reach; the dot-named one no URL
    // reaches, so the container stays, with an error that says why.
    let e = d.delete_container(true).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ContainerNotEmpty, "{e}");
    assert!(e.message().contains("'..'"), "{e}");
    let del = raw(&d, "DELETE", &format!("{c}/seg/../victim"), b"");
    assert!(del.starts_with("HTTP/1.1 204"), "{del}");
    d.delete_container(true).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn renaming_onto_a_large_object_removes_its_segments_and_keeps_the_sources() {
    let Some(_) = testbed() else { return };
    let c = unique_container("rename-large");
    let d = open_created(&c, "&openstack-segment-size=1MiB");
    d.create_container().unwrap();
    let (a, b) = (payload(3 << 20, 1), payload((5 << 20) / 2, 2));
    d.put_bytes("a", &a).unwrap();
    d.put_bytes("b", &b).unwrap();
    assert_eq!(support::real::orphan_segments(&c).0, 6);
    // b's three segments go; a's three now belong to b.
    d.rename("a", "b").unwrap();
    assert!(d.get_bytes("b").unwrap() == a);
    let (segments, orphans) = support::real::orphan_segments(&c);
    assert_eq!((segments, orphans.len()), (3, 0), "{orphans:?}");
    // Renamed back, and then a small object renamed onto it: its segments go too.
    d.rename("b", "a").unwrap();
    assert!(d.get_bytes("a").unwrap() == a);
    d.put_bytes("small", b"not large").unwrap();
    d.rename("small", "a").unwrap();
    assert_eq!(support::real::orphan_segments(&c), (0, vec![]));
    assert_eq!(d.get_bytes("a").unwrap(), b"not large");
}
