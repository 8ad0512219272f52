//! Every operation against the real Swift + Keystone of the test bed: both regions, Keystone v3
//! in two domains, v2 with password and API key, a reader-only user, wrong credentials, and
//! missing containers and objects.

mod support;

use support::Yields;

use std::io::Write;
use std::sync::Arc;

use openstack_dest::{Destination, ErrorKind, ReadOnce, Rewindable};
use support::real::{testbed, unique_container, var};

fn payload(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| {
            (i as u32)
                .wrapping_mul(2_654_435_761)
                .wrapping_add(seed as u32) as u8
        })
        .collect()
}

#[test]
fn every_operation_round_trips_in_region_one() {
    let Some(tb) = testbed() else { return };
    let c = unique_container("ops");
    let d = Destination::open(&tb.v3(&c, "backup/set1", &var("OSD_REGION1"))).unwrap();
    assert_eq!(d.test().unwrap_err().kind(), ErrorKind::ContainerNotFound);
    assert_eq!(d.list().unwrap_err().kind(), ErrorKind::ContainerNotFound);
    d.create_container().unwrap();
    d.create_container().unwrap(); // idempotent
    d.test().unwrap();
    assert!(d.list().unwrap().is_empty());

    // bytes
    let data = payload(300_000, 1);
    d.put_bytes("vol1.zip", &data).unwrap();
    assert_eq!(d.get_bytes("vol1.zip").unwrap(), data);
    // overwrite
    d.put_bytes("vol1.zip", b"smaller").unwrap();
    assert_eq!(d.get_bytes("vol1.zip").unwrap(), b"smaller");
    assert_eq!(
        d.stat("vol1.zip").unwrap().etag.as_deref(),
        Some(support::fake::md5_hex(b"smaller").as_str())
    );
    // empty object
    d.put_bytes("empty", b"").unwrap();
    assert_eq!(d.get_bytes("empty").unwrap(), b"");
    assert_eq!(
        d.stat("empty").unwrap().etag.as_deref(),
        Some("d41d8cd98f00b204e9800998ecf8427e")
    );

    // an empty stream still reports its end to the progress callback, both ways
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let c1 = calls.clone();
    let progress = move |_: u64, _: Option<u64>| {
        c1.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        true
    };
    d.put_stream(
        "empty-stream",
        Box::new(ReadOnce(&b""[..])),
        None,
        Some(Box::new(progress.clone())),
    )
    .unwrap();
    let mut sink = Vec::new();
    d.get_to_writer("empty-stream", &mut sink, Some(Box::new(progress)))
        .unwrap();
    assert!(sink.is_empty());
    assert!(calls.load(std::sync::atomic::Ordering::SeqCst) >= 2);
    d.delete("empty-stream").unwrap();

    // file
    let dir = std::env::temp_dir().join(&c);
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join("src.bin");
    let file_data = payload(3 * 1024 * 1024 + 17, 2);
    std::fs::write(&src, &file_data).unwrap();
    let mut seen = Vec::new();
    let (tx, rx) = std::sync::mpsc::channel();
    d.put_file_with(
        "files/src.bin",
        &src,
        Some(Box::new(move |done, total| {
            tx.send((done, total)).unwrap();
            true
        })),
    )
    .unwrap();
    seen.extend(rx.try_iter());
    assert_eq!(
        seen.last().copied(),
        Some((file_data.len() as u64, Some(file_data.len() as u64)))
    );
    let restored = dir.join("restored.bin");
    // A longer local file is replaced completely.
    std::fs::write(&restored, payload(5 * 1024 * 1024, 3)).unwrap();
    d.get_file("files/src.bin", &restored).unwrap();
    assert_eq!(std::fs::read(&restored).unwrap(), file_data);
    // Local errors: a missing file or a directory to upload stores nothing; a restore into a
    // missing directory.
    for bad in [dir.join("no-such-file"), dir.clone()] {
        let e = d.put_file("files/bad.bin", &bad).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::LocalIo, "{e}");
        assert_eq!(
            d.stat("files/bad.bin").unwrap_err().kind(),
            ErrorKind::NotFound
        );
    }
    let e = d
        .get_file("files/src.bin", &dir.join("no-such-dir/x.bin"))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::LocalIo, "{e}");

    // streams, one of unknown length
    let n = d
        .put_stream(
            "stream",
            Box::new(ReadOnce(std::io::Cursor::new(file_data.clone()))),
            None,
            None,
        )
        .unwrap();
    assert_eq!(n, file_data.len() as u64);
    let mut out = Vec::new();
    d.get_to_writer("stream", &mut out, None).unwrap();
    assert_eq!(out, file_data);
    d.put_stream(
        "seekable",
        Box::new(Rewindable::new(std::fs::File::open(&src).unwrap()).unwrap()),
        Some(file_data.len() as u64),
        None,
    )
    .unwrap();

    // stat
    let st = d.stat("files/src.bin").unwrap();
    assert_eq!(st.size, Some(file_data.len() as u64));
    assert_eq!(
        st.etag.as_deref(),
        Some(support::fake::md5_hex(&file_data).as_str())
    );
    let age = std::time::SystemTime::now()
        .duration_since(st.last_modified.unwrap())
        .unwrap_or_default();
    assert!(age.as_secs() < 600, "last modified {age:?} ago");

    // list: files relative to the prefix, the sub-folder as a folder entry
    let mut names: Vec<(String, bool, Option<u64>)> = d
        .list()
        .unwrap()
        .into_iter()
        .map(|e| (e.name, e.is_folder, e.size))
        .collect();
    names.sort();
    assert_eq!(
        names,
        vec![
            ("empty".into(), false, Some(0)),
            ("files".into(), true, None),
            ("seekable".into(), false, Some(file_data.len() as u64)),
            ("stream".into(), false, Some(file_data.len() as u64)),
            ("vol1.zip".into(), false, Some(7)),
        ]
    );

    // rename
    d.rename("vol1.zip", "vol1-renamed.zip").unwrap();
    assert_eq!(d.get_bytes("vol1-renamed.zip").unwrap(), b"smaller");
    assert_eq!(
        d.get_bytes("vol1.zip").unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        d.rename("nope", "x").unwrap_err().kind(),
        ErrorKind::NotFound
    );

    // delete and missing objects
    d.delete("vol1-renamed.zip").unwrap();
    let e = d.delete("vol1-renamed.zip").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert_eq!(e.http_status(), Some(404));
    assert!(e.to_string().contains("transaction tx"), "{e}");
    assert_eq!(d.stat("nope").unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(
        d.get_file("nope", &dir.join("nope")).unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert!(!dir.join("nope").exists());
    // ... and an existing file is left as it was.
    std::fs::write(dir.join("keep.txt"), b"keep me").unwrap();
    assert_eq!(
        d.get_file("nope", &dir.join("keep.txt"))
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
    assert_eq!(std::fs::read(dir.join("keep.txt")).unwrap(), b"keep me");

    // quota
    let q = d.quota().unwrap();
    assert!(q.container_count >= 1, "{q:?}");

    for e in d.list().unwrap() {
        if !e.is_folder {
            d.delete(&e.name).unwrap();
        }
    }
    d.delete("files/src.bin").unwrap();
    assert!(d.list().unwrap().is_empty());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn names_with_special_characters_round_trip() {
    let Some(tb) = testbed() else { return };
    let c = unique_container("names");
    let d = Destination::open(&tb.v3(&c, "p+q r", &var("OSD_REGION1"))).unwrap();
    d.create_container().unwrap();
    let names = [
        "a b.txt",
        "plus+sign",
        "100%",
        "what?",
        "hash#tag",
        "été/日本語.dat",
        "semi;colon&amp=1",
        "~tilde'quote\"",
    ];
    for (i, n) in names.iter().enumerate() {
        d.put_bytes(n, format!("content {i}").as_bytes()).unwrap();
    }
    for (i, n) in names.iter().enumerate() {
        assert_eq!(
            d.get_bytes(n).unwrap(),
            format!("content {i}").as_bytes(),
            "{n}"
        );
        assert_eq!(
            d.stat(n).unwrap().size,
            Some(format!("content {i}").len() as u64)
        );
    }
    let mut listed: Vec<String> = d.list().unwrap().into_iter().map(|e| e.name).collect();
    listed.sort();
    let mut want: Vec<String> = names
        .iter()
        .filter(|n| !n.contains('/'))
        .map(|s| s.to_string())
        .collect();
    want.push("été".into());
    want.sort();
    assert_eq!(listed, want);
    // Over-long names are refused before any request.
    let e = d.put_bytes(&"x".repeat(1100), b"x").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    // The longest name the library allows (1024 bytes) is one the real Swift accepts.
    let root = Destination::open(&tb.v3(&c, "", &var("OSD_REGION1"))).unwrap();
    let longest = "m".repeat(1024);
    root.put_bytes(&longest, b"max").unwrap();
    assert_eq!(root.get_bytes(&longest).unwrap(), b"max");
    root.delete(&longest).unwrap();
    for n in names {
        d.delete(n).unwrap();
    }
}

#[test]
fn hostile_names_broken_promises_and_rename_lose_nothing() {
    let Some(tb) = testbed() else { return };
    let c = unique_container("hostile");
    let d = Destination::open(&tb.v3(&c, "p", &var("OSD_REGION1"))).unwrap();
    d.create_container().unwrap();
    d.put_bytes("keep", b"the only copy").unwrap();
    d.put_bytes("x", b"x's data").unwrap();

    // Dot segments would reach another object (or a listing): refused, and nothing changed.
    support::assert_names_refused(
        &d,
        &["x/..", "keep/.", "./keep", "a/../keep", ".."],
        "keep",
        "./keep",
    );
    assert_eq!(d.get_bytes("keep").unwrap(), b"the only copy");
    assert_eq!(d.get_bytes("x").unwrap(), b"x's data");
    // Dots inside a name, and a literal "%2e", are ordinary names that round-trip.
    for name in ["...", ".hidden", "%2e", "%2E%2e/y"] {
        d.put_bytes(name, name.as_bytes()).unwrap();
        assert_eq!(d.get_bytes(name).unwrap(), name.as_bytes(), "{name}");
        d.delete(name).unwrap();
    }
    // A prefix that climbs out of the container is refused when the destination is opened.
    let e = Destination::open(&tb.v3(&c, "../other", &var("OSD_REGION1"))).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidUrl, "{e}");

    // A stream that breaks its size promise leaves nothing, and no short version of an old object.
    for (give, promise) in [(300_000usize, 600_000u64), (600_000, 300_000)] {
        let e = d
            .put_stream(
                "promised",
                Box::new(Yields { left: give }),
                Some(promise),
                None,
            )
            .unwrap_err();
        assert!(e.message().contains("promised"), "{e}");
        assert_eq!(
            d.get_bytes("promised").unwrap_err().kind(),
            ErrorKind::NotFound
        );
        let e = d
            .put_stream("keep", Box::new(Yields { left: give }), Some(promise), None)
            .unwrap_err();
        assert!(e.message().contains("promised"), "{e}");
        assert_eq!(d.get_bytes("keep").unwrap(), b"the only copy");
    }

    // Past the 4 MiB read ahead and unable to rewind, a sized stream goes up as one segment
    // that Swift checked, copied into place: a plain object, no segment left, and a broken
    // promise replaces nothing.
    let long = 5usize << 20;
    d.put_stream(
        "long",
        Box::new(Yields { left: long }),
        Some(long as u64),
        None,
    )
    .unwrap();
    let e = d
        .put_stream(
            "long",
            Box::new(Yields { left: long }),
            Some(long as u64 + 1),
            None,
        )
        .unwrap_err();
    assert!(e.message().contains("promised"), "{e}");
    assert_eq!(d.get_bytes("long").unwrap(), vec![b'y'; long]);
    let plain = support::fake::md5_hex(&vec![b'y'; long]);
    assert_eq!(
        d.stat("long").unwrap().etag.as_deref(),
        Some(plain.as_str())
    );
    let segments = Destination::open(&tb.v3(&format!("{c}_segments"), "", &var("OSD_REGION1")))
        .unwrap()
        .list()
        .unwrap();
    assert!(segments.is_empty(), "{segments:?}");
    d.delete("long").unwrap();

    // Rename copies, checks the copy, then deletes the source.
    d.rename("keep", "kept").unwrap();
    assert_eq!(d.get_bytes("kept").unwrap(), b"the only copy");
    assert_eq!(d.get_bytes("keep").unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(
        d.rename("keep", "again").unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(d.get_bytes("kept").unwrap(), b"the only copy");

    // A restore goes through a private temporary file and replaces a symlink, never its target.
    let dir = std::env::temp_dir().join(&c);
    std::fs::create_dir_all(&dir).unwrap();
    let victim = dir.join("victim");
    std::fs::write(&victim, b"not to be touched").unwrap();
    let link = dir.join("restored");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    d.get_file("kept", &link).unwrap();
    assert_eq!(std::fs::read(&victim).unwrap(), b"not to be touched");
    assert_eq!(std::fs::read(&link).unwrap(), b"the only copy");
    assert!(!std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    let leftovers: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(leftovers.len(), 2, "a temporary file was left behind");
    std::fs::remove_dir_all(&dir).unwrap();
    for n in ["kept", "x"] {
        d.delete(n).unwrap();
    }
}

#[test]
fn listing_pages_at_the_clusters_own_limit() {
    let Some(tb) = testbed() else { return };
    let c = unique_container("pages");
    let d = Arc::new(Destination::open(&tb.v3(&c, "many", &var("OSD_REGION1"))).unwrap());
    d.create_container().unwrap();
    // The test bed's container_listing_limit is 200: this takes two pages and a bit.
    let count = 450;
    let workers: Vec<_> = (0..6)
        .map(|w| {
            let d = d.clone();
            std::thread::spawn(move || {
                for i in (w..count).step_by(6) {
                    d.put_bytes(&format!("obj-{i:04}"), b"x").unwrap();
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let names: Vec<String> = d.list().unwrap().into_iter().map(|e| e.name).collect();
    let want: Vec<String> = (0..count).map(|i| format!("obj-{i:04}")).collect();
    assert_eq!(names, want);
}

#[test]
fn listing_options_and_deleting_containers() {
    let Some(tb) = testbed() else { return };
    let c = unique_container("lsdel");
    let d = Destination::open(&tb.v3(&c, "base", &var("OSD_REGION1"))).unwrap();
    assert_eq!(
        d.delete_container(false).unwrap_err().kind(),
        ErrorKind::ContainerNotFound
    );
    d.create_container().unwrap();
    for n in ["a1", "a2", "b1", "sub/a3", "sub/deep/a4", "subway"] {
        d.put_bytes(n, n.as_bytes()).unwrap();
    }
    let outside = Destination::open(&tb.v3(&c, "elsewhere", &var("OSD_REGION1"))).unwrap();
    outside.put_bytes("x", b"x").unwrap();
    let root = Destination::open(&tb.v3(&c, "", &var("OSD_REGION1"))).unwrap();
    root.put_bytes("basement.txt", b"b").unwrap(); // "base" + "ment": not under "base/"
    let list = |prefix: &str, recursive: bool| {
        let mut names = Vec::new();
        let options = openstack_dest::ListOptions {
            prefix: prefix.into(),
            recursive,
        };
        d.list_with(&options, |e| {
            names.push(if e.is_folder {
                format!("{}/", e.name)
            } else {
                e.name
            });
            true
        })
        .unwrap();
        names
    };
    assert_eq!(list("", false), ["a1", "a2", "b1", "sub/", "subway"]);
    assert_eq!(
        list("", true),
        ["a1", "a2", "b1", "sub/a3", "sub/deep/a4", "subway"]
    );
    assert_eq!(list("a", false), ["a1", "a2"]);
    assert_eq!(list("sub", false), ["sub/", "subway"]);
    assert_eq!(list("sub/", false), ["sub/a3", "sub/deep/"]);
    assert_eq!(list("sub/", true), ["sub/a3", "sub/deep/a4"]);
    // Stopping early.
    let mut seen = 0;
    d.list_with(&Default::default(), |_| {
        seen += 1;
        seen < 2
    })
    .unwrap();
    assert_eq!(seen, 2);
    // A container with objects is not deleted unless asked to empty it; then everything goes.
    let e = d.delete_container(false).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ContainerNotEmpty, "{e}");
    assert_eq!(d.get_bytes("a1").unwrap(), b"a1");
    d.delete_container(true).unwrap();
    assert_eq!(d.test().unwrap_err().kind(), ErrorKind::ContainerNotFound);
    assert_eq!(
        outside.get_bytes("x").unwrap_err().kind(),
        ErrorKind::ContainerNotFound
    );
}

#[test]
fn region_two_and_the_region_rule() {
    let Some(tb) = testbed() else { return };
    let c = unique_container("region");
    let one = Destination::open(&tb.v3(&c, "", &var("OSD_REGION1"))).unwrap();
    let two = Destination::open(&tb.v3(&c, "", &var("OSD_REGION2").to_lowercase())).unwrap();
    two.create_container().unwrap();
    two.put_bytes("via-two", b"2").unwrap();
    // Same cluster behind both proxies: what one region wrote, the other reads.
    assert_eq!(one.get_bytes("via-two").unwrap(), b"2");
    // A region that matches nothing falls back to the first endpoint.
    let lines: Arc<std::sync::Mutex<Vec<String>>> = Arc::default();
    let l2 = lines.clone();
    openstack_dest::log::set_sink(
        Some(Arc::new(move |_, m: &str| {
            l2.lock().unwrap().push(m.to_string())
        })),
        openstack_dest::log::Level::Warn,
    );
    let mars = Destination::open(&tb.v3(&c, "", "Mars")).unwrap();
    assert_eq!(mars.get_bytes("via-two").unwrap(), b"2");
    openstack_dest::log::set_sink(None, openstack_dest::log::Level::Error);
    assert!(
        lines
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("'Mars' matches no object-store endpoint")),
        "{:?}",
        lines.lock().unwrap()
    );
    two.delete("via-two").unwrap();
}

#[test]
fn keystone_v3_in_a_second_domain() {
    let Some(tb) = testbed() else { return };
    let c = unique_container("dom2");
    let d = Destination::open(&tb.v3_domain2(&c)).unwrap();
    d.create_container().unwrap();
    d.put_bytes("x", b"domain two").unwrap();
    assert_eq!(d.get_bytes("x").unwrap(), b"domain two");
    // The first domain's user works in another project: it does not see this container.
    let other = Destination::open(&tb.v3(&c, "", &var("OSD_REGION1"))).unwrap();
    assert_eq!(
        other.test().unwrap_err().kind(),
        ErrorKind::ContainerNotFound
    );
    d.delete("x").unwrap();

    // An account quota (set by the reseller admin, as an operator would): reported by quota(),
    // and an upload over it is refused as too large. Done in this project only, as other tests
    // share the first one.
    let client = reqwest::blocking::Client::new();
    let mine = d.session().unwrap();
    let admin_url = format!(
        "openstack://x/?auth-username={}&auth-password={}&openstack-tenant-name={}&openstack-domain-name=Default&openstack-authuri={}",
        var("OSD_ADMIN_USER"),
        var("OSD_ADMIN_PASSWORD"),
        var("OSD_ADMIN_PROJECT"),
        var("OSD_AUTH_V3")
    );
    let admin = Destination::open(&admin_url).unwrap().session().unwrap();
    struct QuotaGuard<'a>(&'a reqwest::blocking::Client, String, String);
    impl QuotaGuard<'_> {
        fn set(&self, header: &str, value: &str) {
            let r = self
                .0
                .post(&self.1)
                .header("X-Auth-Token", &self.2)
                .header(header, value)
                .send()
                .unwrap();
            assert!(
                r.status().is_success(),
                "setting the account quota: {}",
                r.status()
            );
        }
    }
    impl Drop for QuotaGuard<'_> {
        fn drop(&mut self) {
            self.set("X-Remove-Account-Meta-Quota-Bytes", "x");
        }
    }
    let guard = QuotaGuard(
        &client,
        mine.storage_url.clone(),
        admin.token.expose().to_string(),
    );
    guard.set("X-Account-Meta-Quota-Bytes", "100");
    assert_eq!(d.quota().unwrap().quota_bytes, Some(100));
    let e = d.put_bytes("too-big", &[0u8; 4096]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TooLarge, "{e}");
    assert_eq!(e.http_status(), Some(413));
    drop(guard);
    assert_eq!(d.quota().unwrap().quota_bytes, None);
    d.put_bytes("fits-again", &[0u8; 4096]).unwrap();
    d.delete("fits-again").unwrap();
}

#[test]
fn keystone_v2_with_password_and_with_api_key() {
    let Some(tb) = testbed() else { return };
    let c = unique_container("v2");
    let pw = Destination::open(&tb.v2_password(&c)).unwrap();
    pw.create_container().unwrap();
    pw.put_bytes("a", b"via v2 password").unwrap();
    let key = Destination::open(&tb.v2_apikey(&c)).unwrap();
    assert_eq!(key.get_bytes("a").unwrap(), b"via v2 password");
    key.delete("a").unwrap();
    // The password is not an API key.
    let wrong = Destination::open(&format!(
        "openstack://{c}/?auth-username={}&openstack-apikey={}&openstack-authuri={}",
        var("OSD_USER"),
        var("OSD_PASSWORD"),
        var("OSD_AUTH_V2")
    ))
    .unwrap();
    assert_eq!(wrong.test().unwrap_err().kind(), ErrorKind::Auth);
}

#[test]
fn wrong_credentials_reader_and_missing_things() {
    let Some(tb) = testbed() else { return };
    let c = unique_container("errs");
    let good = Destination::open(&tb.v3(&c, "", &var("OSD_REGION1"))).unwrap();
    good.create_container().unwrap();
    good.put_bytes("readable", b"r").unwrap();

    let bad_pw = tb
        .v3(&c, "", &var("OSD_REGION1"))
        .replace(&var("OSD_PASSWORD"), "Wrong-Password-123");
    let e = Destination::open(&bad_pw).unwrap().test().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth);
    assert_eq!(e.http_status(), Some(401));
    assert!(e.to_string().contains("auth-password"), "{e}");
    // An unknown user and an unknown project (moved here from the C suite): Keystone refuses
    // both; an unknown project may be refused as forbidden.
    let unknown_user = tb.v3(&c, "", &var("OSD_REGION1")).replacen(
        &format!("auth-username={}", var("OSD_USER")),
        "auth-username=no-such-user-osd",
        1,
    );
    assert_ne!(unknown_user, tb.v3(&c, "", &var("OSD_REGION1")));
    let e = Destination::open(&unknown_user)
        .unwrap()
        .test()
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth, "{e}");
    let unknown_project = tb.v3(&c, "", &var("OSD_REGION1")).replacen(
        &format!("openstack-tenant-name={}", var("OSD_PROJECT")),
        "openstack-tenant-name=no-such-project-osd",
        1,
    );
    assert_ne!(unknown_project, tb.v3(&c, "", &var("OSD_REGION1")));
    let e = Destination::open(&unknown_project)
        .unwrap()
        .test()
        .unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::Auth | ErrorKind::Forbidden),
        "{e}"
    );

    let reader = Destination::open(&tb.v3_reader(&c)).unwrap();
    let e = reader.put_bytes("nope", b"x").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Forbidden, "{e}");
    assert_eq!(e.http_status(), Some(403));

    assert_eq!(
        good.get_bytes("missing").unwrap_err().kind(),
        ErrorKind::NotFound
    );
    let missing =
        Destination::open(&tb.v3(&format!("{c}-missing"), "", &var("OSD_REGION1"))).unwrap();
    for e in [
        missing.get_bytes("x").unwrap_err(),
        missing.put_bytes("x", b"x").unwrap_err(),
        missing.delete("x").unwrap_err(),
    ] {
        assert_eq!(e.kind(), ErrorKind::ContainerNotFound, "{e}");
    }
    let e = Destination::open("openstack://c/?auth-username=u").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidUrl);
    good.delete("readable").unwrap();
}

#[test]
fn many_threads_share_one_destination() {
    let Some(tb) = testbed() else { return };
    let c = unique_container("threads");
    let d = Arc::new(Destination::open(&tb.v3(&c, "t", &var("OSD_REGION1"))).unwrap());
    d.create_container().unwrap();
    let handles: Vec<_> = (0..8)
        .map(|t| {
            let d = d.clone();
            std::thread::spawn(move || {
                for i in 0..5 {
                    let name = format!("thread{t}/obj{i}");
                    let data = payload(10_000 + i * 100, t as u8);
                    d.put_bytes(&name, &data).unwrap();
                    assert_eq!(d.get_bytes(&name).unwrap(), data);
                    d.list().unwrap();
                    d.delete(&name).unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert!(d.list().unwrap().is_empty());
}

#[test]
fn pre_authenticated_storage_url_and_token() {
    let Some(tb) = testbed() else { return };
    let c = unique_container("preauth");
    let d = Destination::open(&tb.v3(&c, "", &var("OSD_REGION1"))).unwrap();
    d.create_container().unwrap();
    // Get a token and the storage URL the way a host that authenticates itself would.
    let token = d.session().unwrap();
    let url = format!(
        "openstack://{c}/?openstack-storage-url={}&openstack-auth-token={}",
        token.storage_url,
        token.token.expose()
    );
    let pre = Destination::open(&url).unwrap();
    pre.put_bytes("p", b"pre").unwrap();
    assert_eq!(d.get_bytes("p").unwrap(), b"pre");
    let bad = Destination::open(&format!(
        "openstack://{c}/?openstack-storage-url={}&openstack-auth-token=not-a-token",
        token.storage_url
    ))
    .unwrap();
    assert_eq!(bad.test().unwrap_err().kind(), ErrorKind::Auth);
    pre.delete("p").unwrap();
    let _ = std::io::stdout().flush();
}
