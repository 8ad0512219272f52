//! The host's own metadata and expiry against the real Swift: put with metadata and
//! `X-Delete-After` / `X-Delete-At`, the destination's `openstack-delete-after`, updates that
//! keep what they do not name, large objects whose segments expire with them, refused input
//! that stores nothing, and interop with python-swiftclient both ways.

mod support;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use openstack_dest::{Destination, ErrorKind, PutOptions, ReadOnce};
use support::real::{open_created, swift_cli, temp_dir, testbed, unique_container, var, Testbed};

const DAY: Duration = Duration::from_secs(86400);

fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).unwrap().as_secs()
}

fn now() -> u64 {
    unix(SystemTime::now())
}

/// The expiry is `after` from about now (the server's clock is this machine's).
fn assert_expires_in(at: Option<SystemTime>, after: Duration) {
    let at = unix(at.expect("an X-Delete-At"));
    let want = now() + after.as_secs();
    assert!(
        at.abs_diff(want) < 120,
        "X-Delete-At {at}, expected about {want}"
    );
}

#[test]
fn metadata_and_expiry_round_trip_and_swiftclient_agrees() {
    let Some(_) = testbed() else { return };
    let c = unique_container("meta");
    let d = open_created(&c, "");
    let dir = temp_dir("interop");

    // Bytes with metadata (non-ASCII, '%' and a percent-escape kept as they are) and an expiry.
    let options = PutOptions::new()
        .meta("Backup-Set", "2024-05-01")
        .meta("color", "blüe 50% a%20b")
        .delete_after(DAY);
    d.put_bytes_opts("a.bin", b"data", &options).unwrap();
    let e = d.stat("a.bin").unwrap();
    assert_eq!(e.metadata.len(), 2, "{:?}", e.metadata);
    assert_eq!(e.metadata["backup-set"], "2024-05-01");
    assert_eq!(e.metadata["color"], "blüe 50% a%20b");
    assert_eq!(e.mtime, None);
    assert_expires_in(e.delete_at, DAY);

    // python-swiftclient sees the same (it shows percent-escapes decoded, as it always does).
    let stat = swift_cli(&["stat", &c, "a.bin"], &dir);
    assert!(stat.contains("Meta Backup-Set: 2024-05-01"), "{stat}");
    assert!(stat.contains("Meta Color: blüe 50%"), "{stat}");
    let at = unix(e.delete_at.unwrap()).to_string();
    assert!(stat.contains(&format!("X-Delete-At: {at}")), "{stat}");

    // What swiftclient sets, the library reads.
    std::fs::write(dir.join("by-swift.txt"), b"x").unwrap();
    swift_cli(
        &[
            "upload",
            &c,
            "by-swift.txt",
            "-H",
            "X-Object-Meta-From-Swift: välue ok",
            "-H",
            "X-Delete-At: 4102444800",
        ],
        &dir,
    );
    let e = d.stat("by-swift.txt").unwrap();
    assert_eq!(e.metadata["from-swift"], "välue ok");
    assert!(e.mtime.is_some(), "swift upload stores the file time");
    assert!(!e.metadata.contains_key("mtime"));
    assert_eq!(unix(e.delete_at.unwrap()), 4_102_444_800);

    // A delete_at, and the put of a file keeps its file time besides the host's keys.
    let at = SystemTime::now() + 2 * DAY;
    let src = dir.join("f.txt");
    std::fs::write(&src, b"file").unwrap();
    d.put_file_opts(
        "f.txt",
        &src,
        None,
        &PutOptions::new()
            .meta("a", "1")
            .meta("b", "2")
            .delete_at(at),
    )
    .unwrap();
    let e = d.stat("f.txt").unwrap();
    assert!(e.mtime.is_some());
    assert_eq!(unix(e.delete_at.unwrap()), unix(at) + 1); // whole seconds, rounded up
    let kept = e.delete_at;

    // An update sets, removes, keeps the rest, the file time and the expiry.
    d.update_metadata("f.txt", &PutOptions::new().meta("b", "3").meta("a", ""))
        .unwrap();
    let e2 = d.stat("f.txt").unwrap();
    assert_eq!(
        e2.metadata.into_iter().collect::<Vec<_>>(),
        [("b".to_string(), "3".to_string())]
    );
    assert_eq!(e2.mtime, e.mtime);
    assert_eq!(e2.delete_at, kept);
    assert_eq!(d.get_bytes("f.txt").unwrap(), b"file");
    // Keys another tool set are kept by an update too.
    d.update_metadata("by-swift.txt", &PutOptions::new().meta("mine", "1"))
        .unwrap();
    let e = d.stat("by-swift.txt").unwrap();
    assert_eq!(e.metadata["from-swift"], "välue ok");
    assert_eq!(e.metadata["mine"], "1");
    assert!(e.mtime.is_some());
    // no_expiry removes the expiry; delete_after sets a new one.
    d.update_metadata("f.txt", &PutOptions::new().no_expiry())
        .unwrap();
    let e = d.stat("f.txt").unwrap();
    assert_eq!(e.delete_at, None);
    assert_eq!(e.metadata["b"], "3");
    d.update_metadata("f.txt", &PutOptions::new().delete_after(3 * DAY))
        .unwrap();
    assert_expires_in(d.stat("f.txt").unwrap().delete_at, 3 * DAY);
    let stat = swift_cli(&["stat", &c, "f.txt"], &dir);
    assert!(
        stat.contains("Meta B: 3") && stat.contains("Meta Mtime:"),
        "{stat}"
    );
    // A rename (a server-side copy) keeps metadata, file time and expiry.
    let before = d.stat("f.txt").unwrap();
    d.rename("f.txt", "renamed.txt").unwrap();
    let after = d.stat("renamed.txt").unwrap();
    assert_eq!(
        (&after.metadata, after.mtime, after.delete_at),
        (&before.metadata, before.mtime, before.delete_at)
    );
    d.rename("renamed.txt", "f.txt").unwrap();
    assert_eq!(
        d.update_metadata("missing", &PutOptions::new().meta("a", "1"))
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );

    // A file time another writer set in milliseconds, past year 9999 or not a number is unknown,
    // never a wrapped number (18446744073709552 s is 384 ms after the epoch once wrapped in 64
    // bits); a restore leaves such a file its own time. (Moved here from the C and Python suites.)
    d.put_bytes("odd-time", b"t").unwrap();
    let back = dir.join("odd-time");
    for v in [
        "18446744073709552",
        "1000000000000",
        "253402300800",
        "10000000000000000",
        "18446744073709551616",
        "-5",
        "1e3",
        "inf",
    ] {
        let header = format!("X-Object-Meta-Mtime: {v}");
        swift_cli(&["post", "-H", &header, &c, "odd-time"], &dir);
        let e = d.stat("odd-time").unwrap();
        assert_eq!((e.mtime, e.size), (None, Some(1)), "{header}");
        assert!(e.last_modified.is_some());
        d.get_file("odd-time", &back).unwrap();
        let modified = std::fs::metadata(&back).unwrap().modified().unwrap();
        let age = modified.elapsed().unwrap_or_default();
        assert!(
            age.as_secs() < 600,
            "{header}: the file's time is {age:?} old"
        );
    }

    d.delete_container(true).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_destinations_expiry_applies_to_every_put_unless_the_put_says_otherwise() {
    let Some(_) = testbed() else { return };
    let c = unique_container("retention");
    let d = open_created(&c, "&openstack-delete-after=30d");
    d.put_bytes("plain", b"x").unwrap();
    assert_expires_in(d.stat("plain").unwrap().delete_at, 30 * DAY);
    d.put_reader("streamed", &b"y"[..]).unwrap();
    assert_expires_in(d.stat("streamed").unwrap().delete_at, 30 * DAY);
    d.put_bytes_opts("kept", b"x", &PutOptions::new().no_expiry())
        .unwrap();
    assert_eq!(d.stat("kept").unwrap().delete_at, None);
    d.put_bytes_opts("sooner", b"x", &PutOptions::new().delete_after(DAY))
        .unwrap();
    assert_expires_in(d.stat("sooner").unwrap().delete_at, DAY);
    // An update keeps the expiry the object has; the destination's does not apply.
    d.update_metadata("kept", &PutOptions::new().meta("k", "v"))
        .unwrap();
    assert_eq!(d.stat("kept").unwrap().delete_at, None);
    d.delete_container(true).unwrap();
}

#[test]
fn bad_metadata_is_refused_and_nothing_is_stored() {
    let Some(_) = testbed() else { return };
    let c = unique_container("badmeta");
    let d = open_created(&c, "");
    let long = "v".repeat(257);
    let many = (0..91).fold(PutOptions::new(), |o, i| o.meta(format!("k{i}"), "v"));
    let big = (0..17).fold(PutOptions::new(), |o, i| {
        o.meta(format!("k{i}"), "ü".repeat(128))
    });
    let bad = [
        PutOptions::new().meta("mtime", "1"),
        PutOptions::new().meta("under_score", "1"),
        PutOptions::new().meta("a b", "1"),
        PutOptions::new().meta("", "1"),
        PutOptions::new().meta("k", "line\r\nX-Injected: 1"),
        PutOptions::new().meta("k", "nul\0"),
        PutOptions::new().meta("k", " padded"),
        PutOptions::new().meta("k", long.clone()),
        PutOptions::new().meta("k".repeat(129), "v"),
        many,
        big,
        PutOptions::new().delete_after(Duration::ZERO),
        PutOptions::new().delete_at(SystemTime::now() - DAY),
        PutOptions::new().delete_after(DAY).no_expiry(),
    ];
    for options in &bad {
        let e = d.put_bytes_opts("x", b"x", options).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{options:?}: {e}");
        let e = d
            .put_stream_opts("x", Box::new(ReadOnce(&b"x"[..])), None, None, options)
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    }
    assert_eq!(d.stat("x").unwrap_err().kind(), ErrorKind::NotFound);
    // An update that would go over the limits leaves the object as it was.
    d.put_bytes_opts("y", b"y", &PutOptions::new().meta("a", "1"))
        .unwrap();
    let e = d
        .update_metadata("y", &PutOptions::new().meta("b", long))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert_eq!(d.stat("y").unwrap().metadata["a"], "1");
    d.delete_container(true).unwrap();
}

#[test]
fn a_large_objects_segments_expire_with_it() {
    let Some(_) = testbed() else { return };
    let c = unique_container("expseg");
    let segs = format!("{c}_segments");
    let d = open_created(&c, "&openstack-segment-size=1MiB");
    let data: Vec<u8> = (0..(2 * 1024 * 1024 + 300))
        .map(|i| (i % 251) as u8)
        .collect();
    d.put_bytes_opts(
        "big.bin",
        &data,
        &PutOptions::new().meta("set", "7").delete_after(DAY),
    )
    .unwrap();
    let manifest = d.stat("big.bin").unwrap();
    assert_eq!(manifest.metadata["set"], "7");
    assert_expires_in(manifest.delete_at, DAY);
    let sd = Destination::open(&Testbed.v3(&segs, "", &var("OSD_REGION1"))).unwrap();
    let segment_expiry = || -> Vec<Option<SystemTime>> {
        let mut names = Vec::new();
        sd.list_with(
            &openstack_dest::ListOptions {
                prefix: String::new(),
                recursive: true,
            },
            |e| {
                names.push(e.name);
                true
            },
        )
        .unwrap();
        names
            .iter()
            .map(|n| sd.stat(n).unwrap().delete_at)
            .collect()
    };
    let at = segment_expiry();
    assert_eq!(at.len(), 3);
    assert!(at.iter().all(|t| *t == manifest.delete_at), "{at:?}");

    // An update of the expiry reaches the segments too; one of the metadata only keeps both.
    d.update_metadata("big.bin", &PutOptions::new().delete_after(2 * DAY))
        .unwrap();
    let manifest = d.stat("big.bin").unwrap();
    assert_expires_in(manifest.delete_at, 2 * DAY);
    assert!(segment_expiry().iter().all(|t| *t == manifest.delete_at));
    d.update_metadata("big.bin", &PutOptions::new().meta("set", "8"))
        .unwrap();
    let again = d.stat("big.bin").unwrap();
    assert_eq!(
        (again.delete_at, again.size),
        (manifest.delete_at, Some(data.len() as u64))
    );
    d.update_metadata("big.bin", &PutOptions::new().no_expiry())
        .unwrap();
    assert_eq!(d.stat("big.bin").unwrap().delete_at, None);
    assert!(segment_expiry().iter().all(Option::is_none));
    assert_eq!(d.get_bytes("big.bin").unwrap(), data);

    // A stream of unknown size cut into segments, and one that fits in one object after all.
    let long: Vec<u8> = (0..(5 * 1024 * 1024 + 7))
        .map(|i| (i % 253) as u8)
        .collect();
    d.put_stream_opts(
        "stream.bin",
        Box::new(ReadOnce(std::io::Cursor::new(long.clone()))),
        None,
        None,
        &PutOptions::new().meta("kind", "stream").delete_after(DAY),
    )
    .unwrap();
    let e = d.stat("stream.bin").unwrap();
    assert_eq!(e.metadata["kind"], "stream");
    assert_expires_in(e.delete_at, DAY);
    let d8 = open_created(&c, "&openstack-segment-size=8MiB");
    d8.put_stream_opts(
        "one.bin",
        Box::new(ReadOnce(std::io::Cursor::new(long.clone()))),
        None,
        None,
        &PutOptions::new().meta("kind", "one").delete_after(DAY),
    )
    .unwrap();
    let e = d8.stat("one.bin").unwrap();
    assert_eq!(e.metadata["kind"], "one");
    assert_expires_in(e.delete_at, DAY);
    assert_eq!(d8.get_bytes("one.bin").unwrap(), long);
    d.delete_container(true).unwrap();
}
