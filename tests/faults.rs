//! Faults a real Swift will not show on demand, against an in-process fake on 127.0.0.1:
//! an expired token, 5xx bursts, rate limiting, truncated and stalled answers, and secrets that
//! must never appear in an error or a log line.

mod support;

use support::Yields;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use openstack_dest::{Destination, ErrorKind, PutOptions, ReadOnce, Rewindable};
use support::fake::{md5_hex, v3_token_answer, v3_url, Action, Fake, Request};

/// A fake Keystone v3 + Swift; `swift` answers the /v1 requests.
fn fake(swift: impl Fn(&Request, &str) -> Action + Send + Sync + 'static) -> Fake {
    let issued = Arc::new(AtomicUsize::new(0));
    let port = Arc::new(Mutex::new(0u16));
    let port2 = port.clone();
    let f = Fake::start(Arc::new(move |r: &Request| {
        let swift_url = format!("http://127.0.0.1:{}/v1/AUTH_p", *port2.lock().unwrap());
        if r.path.starts_with("/v3/auth/tokens") {
            let n = issued.fetch_add(1, Ordering::SeqCst) + 1;
            return v3_token_answer(&format!("token-{n}"), &swift_url);
        }
        // No segment container: uploads need not ask whether they replace a large object.
        if r.method == "HEAD" && r.path.ends_with("_segments") {
            return Action::status(404);
        }
        let token = r.header("x-auth-token").unwrap_or("").to_string();
        swift(r, &token)
    }));
    *port.lock().unwrap() = f.port;
    f
}

#[test]
fn expired_token_reauthenticates_once_and_repeats() {
    let f = fake(|r, token| {
        if token == "token-1" {
            return Action::status(401);
        }
        assert_eq!(r.method, "PUT");
        Action::status(201)
    });
    let d = Destination::open(&v3_url(&f, "c", "pw", "")).unwrap();
    d.put_bytes("a", b"hello").unwrap();
    assert_eq!(f.count("POST", "/v3/auth/tokens"), 2);
    assert_eq!(f.count("PUT", "/v1/"), 2);
}

#[test]
fn a_token_refused_twice_is_an_auth_error() {
    let f = fake(|_, _| Action::status(401));
    let d = Destination::open(&v3_url(&f, "c", "pw", "")).unwrap();
    let e = d.delete("a").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth, "{e}");
    assert_eq!(e.http_status(), Some(401));
    // A delete first asks (HEAD) whether the object is a large one: that request was refused
    // twice, with one authentication between, and nothing was deleted.
    assert_eq!(f.count("HEAD", "/v1/"), 2);
    assert_eq!(f.count("POST", "/v3/auth/tokens"), 2);
    assert_eq!(f.count("DELETE", "/v1/"), 0);
}

#[test]
fn a_503_burst_is_retried_then_succeeds() {
    let n = Arc::new(AtomicUsize::new(0));
    let n2 = n.clone();
    let f = fake(move |r, _| {
        if r.method == "PUT" && n2.fetch_add(1, Ordering::SeqCst) < 3 {
            return Action::status(503);
        }
        Action::status(201)
    });
    let d = Destination::open(&v3_url(&f, "c", "pw", "")).unwrap();
    d.put_bytes("a", b"data").unwrap();
    assert_eq!(f.count("PUT", "/v1/"), 4);
    // Every try carried the whole body.
    assert!(f
        .requests
        .lock()
        .unwrap()
        .iter()
        .filter(|r| r.method == "PUT")
        .all(|r| r.body == b"data"));
}

#[test]
fn a_server_that_keeps_failing_gives_a_server_error_after_the_retries() {
    let f = fake(|_, _| Action::Respond {
        status: 500,
        headers: vec![("X-Trans-Id".into(), "tx-fake-500".into())],
        body: vec![],
    });
    let d = Destination::open(&v3_url(&f, "c", "pw", "&number-of-retries=2")).unwrap();
    let e = d.get_bytes("a").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Server);
    assert_eq!(f.count("GET", "/v1/"), 3);
    assert!(e.to_string().contains("HTTP 500"), "{e}");
    assert!(e.to_string().contains("tx-fake-500"), "{e}");
}

/// A Swift that answers its first request 429 with `Retry-After: retry_after`, then 204.
fn rate_limited_once(retry_after: &'static str) -> Fake {
    let n = AtomicUsize::new(0);
    fake(move |_, _| {
        if n.fetch_add(1, Ordering::SeqCst) == 0 {
            return Action::Respond {
                status: 429,
                headers: vec![("Retry-After".into(), retry_after.into())],
                body: vec![],
            };
        }
        Action::status(204)
    })
}

#[test]
fn rate_limiting_honours_retry_after() {
    let f = rate_limited_once("1");
    let d = Destination::open(&v3_url(&f, "c", "pw", "")).unwrap();
    let t = Instant::now();
    d.delete("a").unwrap();
    assert!(
        t.elapsed() >= Duration::from_millis(950),
        "waited {:?}",
        t.elapsed()
    );
}

#[test]
fn a_retry_after_longer_than_openstack_max_retry_wait_fails_at_once_naming_both() {
    // An archive tier thawing an object: 429 and ten minutes to wait.
    let f = fake(|_, _| Action::Respond {
        status: 429,
        headers: vec![("Retry-After".into(), "600".into())],
        body: vec![],
    });
    let d = Destination::open(&v3_url(&f, "c", "pw", "")).unwrap();
    let t = Instant::now();
    let e = d.get_bytes("cold").unwrap_err();
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "waited {:?}",
        t.elapsed()
    );
    assert_eq!(e.http_status(), Some(429), "{e}");
    assert!(
        e.message().contains("600 s") && e.message().contains("openstack-max-retry-wait"),
        "{e}"
    );
    assert_eq!(
        f.count("GET", "/v1/AUTH_p/c/pre/cold"),
        1,
        "asked once, not slept on"
    );
    // The cap is the option's: 1 s refuses a 2 s wait; 15 minutes lets the call go on (the
    // waiting itself is rate_limiting_honours_retry_after's); 8 days is more than an option takes.
    let f = rate_limited_once("2");
    let opts = "&openstack-max-retry-wait=1s";
    let d = Destination::open(&v3_url(&f, "c", "pw", opts)).unwrap();
    assert!(d.delete("a").unwrap_err().message().contains("(1 s)"));
    let d = Destination::open(&v3_url(&f, "c", "pw", "&openstack-max-retry-wait=15m")).unwrap();
    d.delete("a").unwrap();
    let e = Destination::open(&v3_url(&f, "c", "pw", "&openstack-max-retry-wait=8d")).unwrap_err();
    assert!(e.message().contains("openstack-max-retry-wait"), "{e}");
}

/// A progress callback that says stop once it has been called `calls` times, counting them.
fn stop_after(calls: usize) -> (Arc<AtomicUsize>, openstack_dest::Progress) {
    let n = Arc::new(AtomicUsize::new(0));
    let seen = n.clone();
    (
        n,
        Box::new(move |_, _| seen.fetch_add(1, Ordering::SeqCst) + 1 < calls),
    )
}

#[test]
fn a_progress_callback_cancels_a_long_wait_before_another_try() {
    // An archive tier thawing: 429 and ten minutes, which openstack-max-retry-wait allows.
    let f = fake(|_, _| Action::Respond {
        status: 429,
        headers: vec![("Retry-After".into(), "600".into())],
        body: vec![],
    });
    let d = Destination::open(&v3_url(&f, "c", "pw", "&openstack-max-retry-wait=15m")).unwrap();
    let t = Instant::now();
    let (calls, progress) = stop_after(4);
    let e = d
        .get_to_writer("cold", &mut Vec::new(), Some(progress))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Cancelled, "{e}");
    assert!(e.message().contains("waiting 600 s"), "{e}");
    assert_eq!(calls.load(Ordering::SeqCst), 4);
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    assert_eq!(f.count("GET", "/v1/"), 1);

    // An upload too, and a segment's wait in a worker thread (asked through the pool).
    for (size, opts) in [(100, ""), (3 << 20, "&openstack-segment-size=1MiB")] {
        let d = Destination::open(&v3_url(
            &f,
            "c",
            "pw",
            &format!("&openstack-max-retry-wait=15m{opts}"),
        ))
        .unwrap();
        let t = Instant::now();
        let (_, progress) = stop_after(6);
        let e = d
            .put_stream(
                "up",
                Box::new(ReadOnce(std::io::Cursor::new(vec![7u8; size]))),
                Some(size as u64),
                Some(progress),
            )
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Cancelled, "{size}: {e}");
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "{size}: {:?}",
            t.elapsed()
        );
    }
}

#[test]
fn a_small_stream_is_read_ahead_and_resent_with_its_md5() {
    let n = Arc::new(AtomicUsize::new(0));
    let n2 = n.clone();
    let f = fake(move |_, _| {
        if n2.fetch_add(1, Ordering::SeqCst) < 2 {
            return Action::status(503);
        }
        Action::Respond {
            status: 201,
            headers: vec![("Etag".into(), md5_hex(b"stream data"))],
            body: vec![],
        }
    });
    let d = Destination::open(&v3_url(&f, "c", "pw", "")).unwrap();
    // A small stream of known size that cannot rewind is read into memory first, so it goes
    // with its MD5 as ETag (Swift checks it before anything is replaced) and can be sent again.
    let once = ReadOnce(std::io::Cursor::new(b"stream data".to_vec()));
    assert_eq!(
        d.put_stream("once", Box::new(once), Some(11), None)
            .unwrap(),
        11
    );
    assert_eq!(f.count("PUT", "/v1/"), 3);
    // Of unknown size and short: read ahead the same way.
    let short = std::io::Cursor::new(b"stream data".to_vec());
    assert_eq!(d.put_reader("short", short).unwrap(), 11);
    // Seekable and sized: read twice, its MD5 first (like a file).
    let src = Rewindable::new(std::io::Cursor::new(b"stream data".to_vec())).unwrap();
    assert_eq!(
        d.put_stream("twice", Box::new(src), Some(11), None)
            .unwrap(),
        11
    );
    let puts: Vec<Request> = f
        .requests
        .lock()
        .unwrap()
        .iter()
        .filter(|r| r.method == "PUT")
        .cloned()
        .collect();
    assert_eq!(puts.len(), 5);
    for put in &puts {
        assert_eq!(put.body, b"stream data", "{}", put.path);
        assert_eq!(
            put.header("etag"),
            Some(md5_hex(b"stream data").as_str()),
            "{}",
            put.path
        );
    }
}

/// The requests the fake Swift received (Keystone's left out), in order.
fn swift_requests(f: &Fake) -> Vec<Request> {
    let log = f.requests.lock().unwrap();
    log.iter()
        .filter(|r| r.path.starts_with("/v1/"))
        .cloned()
        .collect()
}

#[test]
fn a_new_name_takes_one_put_and_a_taken_one_is_looked_at_then_replaced() {
    let f = fake(|r, _| match r.method.as_str() {
        "PUT" if r.path.ends_with("/taken") && r.header("if-none-match") == Some("*") => {
            Action::status(412)
        }
        "PUT" => Action::Respond {
            status: 201,
            headers: vec![("Etag".into(), md5_hex(b"data"))],
            body: vec![],
        },
        // The segment container exists; the object in place is an ordinary one.
        _ => Action::status(204),
    });
    let url = v3_url(&f, "c", "pw", "&openstack-segment-container=segs");
    let d = Destination::open(&url).unwrap();
    d.put_bytes("new", b"data").unwrap();
    d.put_bytes("taken", b"data").unwrap();
    let order: Vec<String> = swift_requests(&f)
        .iter()
        .map(|r| {
            let cond = r.header("if-none-match").unwrap_or("-");
            format!("{} {} {cond} {}", r.method, r.path, r.body.len())
        })
        .collect();
    assert_eq!(
        order,
        [
            // Free: stored by the one request.
            "PUT /v1/AUTH_p/c/pre/new * 4",
            // Taken: refused, then the object in place is looked at (a large object's
            // segments would go once the new object is in place), then replaced.
            "PUT /v1/AUTH_p/c/pre/taken * 4",
            "HEAD /v1/AUTH_p/segs - 0",
            "HEAD /v1/AUTH_p/c/pre/taken - 0",
            "PUT /v1/AUTH_p/c/pre/taken - 4",
        ]
    );
}

#[test]
fn once_the_segment_container_is_known_missing_a_put_is_one_plain_request() {
    let stored = Arc::new(Mutex::new(std::collections::HashSet::new()));
    let names = stored.clone();
    let f = fake(move |r, _| match r.method.as_str() {
        "PUT" if r.header("if-none-match").is_some() && names.lock().unwrap().contains(&r.path) => {
            Action::status(412)
        }
        "PUT" => {
            names.lock().unwrap().insert(r.path.clone());
            Action::Respond {
                status: 201,
                headers: vec![("Etag".into(), md5_hex(b"data"))],
                body: vec![],
            }
        }
        "HEAD" if r.path.ends_with("/segs") => Action::status(404),
        _ => Action::status(204),
    });
    let url = v3_url(&f, "c", "pw", "&openstack-segment-container=segs");
    let d = Destination::open(&url).unwrap();
    for name in ["a", "b", "a", "c", "b"] {
        d.put_bytes(name, b"data").unwrap();
    }
    let order: Vec<String> = swift_requests(&f)
        .iter()
        .map(|r| {
            let cond = r.header("if-none-match").unwrap_or("-");
            format!("{} {} {cond}", r.method, r.path)
        })
        .collect();
    assert_eq!(
        order,
        [
            // New names: one request each, sent only if the name is free.
            "PUT /v1/AUTH_p/c/pre/a *",
            "PUT /v1/AUTH_p/c/pre/b *",
            // A taken name: the segment container is found missing, so the object in place
            // has no segments of ours; replaced at once.
            "PUT /v1/AUTH_p/c/pre/a *",
            "HEAD /v1/AUTH_p/segs -",
            "PUT /v1/AUTH_p/c/pre/a -",
            // From then on (for a minute) a put is one plain request, new name or taken.
            "PUT /v1/AUTH_p/c/pre/c -",
            "PUT /v1/AUTH_p/c/pre/b -",
        ]
    );
}

#[test]
fn a_long_stream_that_cannot_rewind_goes_to_a_segment_first_and_is_not_resent() {
    let f = fake(|r, _| match r.method.as_str() {
        "PUT" if r.path.contains("_segments/") => Action::status(503),
        "PUT" => Action::status(201),
        _ => Action::status(204),
    });
    let d = Destination::open(&v3_url(&f, "c", "pw", "&number-of-retries=2")).unwrap();
    let size = 5usize << 20; // past the 4 MiB read ahead, under the segment size
    let once = ReadOnce(std::io::Cursor::new(vec![7u8; size]));
    let e = d
        .put_stream("big", Box::new(once), Some(size as u64), None)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Server, "{e}");
    // Sent as it was read: one try only, and never to the object's own name.
    assert_eq!(f.count("PUT", "/v1/AUTH_p/c_segments/"), 1);
    assert_eq!(f.count("PUT", "/v1/AUTH_p/c/pre/big"), 0);
}

#[test]
fn a_wrong_etag_after_a_streamed_upload_deletes_the_object_and_fails() {
    let f = fake(|r, _| match r.method.as_str() {
        "PUT" => Action::Respond {
            status: 201,
            headers: vec![("Etag".into(), "0".repeat(32))],
            body: vec![],
        },
        _ => Action::status(204),
    });
    let d = Destination::open(&v3_url(&f, "c", "pw", "")).unwrap();
    let e = d
        .put_stream("x", Box::new(ReadOnce(&b"abc"[..])), Some(3), None)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Integrity, "{e}");
    assert_eq!(f.count("DELETE", "/v1/AUTH_p/c/pre/x"), 1);
}

#[test]
fn a_truncated_download_is_an_integrity_error() {
    let data = vec![7u8; 1000];
    let etag = md5_hex(&data);
    let f = fake(move |_, _| Action::Truncate {
        status: 200,
        headers: vec![("Etag".into(), etag.clone())],
        length: 1000,
        body: vec![7u8; 500],
    });
    let d = Destination::open(&v3_url(&f, "c", "pw", "&number-of-retries=1")).unwrap();
    let e = d.get_bytes("x").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Integrity, "{e}");
    assert!(e.to_string().contains("of 1000 bytes"), "{e}");
}

#[test]
fn a_broken_download_resumes_with_a_range_request() {
    let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let etag = md5_hex(&data);
    let d2 = data.clone();
    let f = fake(move |r, _| match r.header("range") {
        None => Action::Truncate {
            status: 200,
            headers: vec![("Etag".into(), etag.clone())],
            length: d2.len(),
            body: d2[..40_000].to_vec(),
        },
        Some(range) => {
            assert_eq!(r.header("if-match"), Some(etag.as_str()));
            let from: usize = range
                .trim_start_matches("bytes=")
                .trim_end_matches('-')
                .parse()
                .unwrap();
            Action::Respond {
                status: 206,
                headers: vec![("Etag".into(), etag.clone())],
                body: d2[from..].to_vec(),
            }
        }
    });
    let d = Destination::open(&v3_url(&f, "c", "pw", "")).unwrap();
    assert_eq!(d.get_bytes("x").unwrap(), data);
}

#[test]
fn a_corrupt_download_is_an_integrity_error() {
    let f = fake(|_, _| Action::Respond {
        status: 200,
        headers: vec![("Etag".into(), md5_hex(b"good"))],
        body: b"evil".to_vec(),
    });
    let d = Destination::open(&v3_url(&f, "c", "pw", "")).unwrap();
    let e = d.get_bytes("x").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Integrity, "{e}");
    // A file download that fails leaves nothing behind.
    let dir = std::env::temp_dir().join(format!("osd-corrupt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let target = dir.join("restored");
    assert_eq!(
        d.get_file("x", &target).unwrap_err().kind(),
        ErrorKind::Integrity
    );
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_stalled_body_is_a_timeout() {
    let f = fake(|_, _| Action::StallBody {
        headers: vec![],
        length: 100,
        sent: vec![1; 10],
        wait: Duration::from_secs(5),
    });
    let d = Destination::open(&v3_url(
        &f,
        "c",
        "pw",
        "&read-write-timeout=1s&number-of-retries=0",
    ))
    .unwrap();
    let t = Instant::now();
    let e = d.get_bytes("x").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    assert!(t.elapsed() < Duration::from_secs(4));
}

#[test]
fn a_server_that_never_answers_is_a_timeout() {
    let f = fake(|_, _| Action::StallHead(Duration::from_secs(5)));
    let d = Destination::open(&v3_url(
        &f,
        "c",
        "pw",
        "&short-timeout=1s&number-of-retries=0",
    ))
    .unwrap();
    let t = Instant::now();
    let e = d.delete("x").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    assert!(t.elapsed() < Duration::from_secs(4));
}

#[test]
fn nothing_listening_is_a_network_error() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let d = Destination::open(&format!(
        "openstack://c?auth-username=u&auth-password=p&openstack-tenant-name=t&openstack-domain-name=d&openstack-authuri=http://127.0.0.1:{port}/v3&number-of-retries=0"
    ))
    .unwrap();
    assert_eq!(d.test().unwrap_err().kind(), ErrorKind::Network);
}

#[test]
fn listing_pages_until_an_empty_page() {
    // Pages shorter than the limit must not end the listing.
    let f = fake(|r, _| {
        let marker = r
            .path
            .split("marker=")
            .nth(1)
            .map(|m| m.split('&').next().unwrap().to_string());
        let page = match marker.as_deref() {
            None => {
                serde_json::json!([{"name":"pre/a","bytes":1,"hash":"x","last_modified":"2026-01-01T00:00:00.000000"},{"subdir":"pre/d/"}])
            }
            Some("pre%2Fd%2F") => {
                serde_json::json!([{"name":"pre/z","bytes":2,"hash":"y","last_modified":"2026-01-01T00:00:00.000000"}])
            }
            Some(_) => serde_json::json!([]),
        };
        Action::json(200, page)
    });
    let d = Destination::open(&v3_url(&f, "c", "pw", "")).unwrap();
    let names: Vec<(String, bool)> = d
        .list()
        .unwrap()
        .into_iter()
        .map(|e| (e.name, e.is_folder))
        .collect();
    assert_eq!(
        names,
        vec![("a".into(), false), ("d".into(), true), ("z".into(), false)]
    );
    assert_eq!(f.count("GET", "/v1/"), 3);
}

#[test]
fn keystone_v2_password_and_api_key_against_a_fake_v2() {
    let bodies: Arc<Mutex<Vec<serde_json::Value>>> = Arc::default();
    let b2 = bodies.clone();
    let port = Arc::new(Mutex::new(0u16));
    let p2 = port.clone();
    let f = Fake::start(Arc::new(move |r: &Request| {
        if r.path == "/v2.0/tokens" {
            b2.lock()
                .unwrap()
                .push(serde_json::from_slice(&r.body).unwrap());
            let url = format!("http://127.0.0.1:{}/v1/AUTH_p", *p2.lock().unwrap());
            return Action::json(
                200,
                serde_json::json!({"access": {
                "token": {"id": "v2-token", "expires": "2099-01-01T00:00:00Z"},
                "serviceCatalog": [{"type": "object-store", "endpoints": [
                    {"region": "RegionOne", "publicURL": "http://127.0.0.1:1/nowhere"},
                    {"region": "RegionTwo", "publicURL": url}]}]}}),
            );
        }
        assert_eq!(r.header("x-auth-token"), Some("v2-token"));
        Action::status(204)
    }));
    *port.lock().unwrap() = f.port;
    let base = format!(
        "openstack://c?auth-username=alice&openstack-authuri={}&openstack-region=regiontwo",
        f.url("/v2.0")
    );
    Destination::open(&format!("{base}&auth-password=pw&openstack-tenant-name=t"))
        .unwrap()
        .test()
        .unwrap();
    Destination::open(&format!("{base}&openstack-apikey=key-1"))
        .unwrap()
        .test()
        .unwrap();
    let b = bodies.lock().unwrap();
    assert_eq!(b[0]["auth"]["passwordCredentials"]["password"], "pw");
    assert_eq!(b[0]["auth"]["tenantName"], "t");
    assert_eq!(
        b[1]["auth"]["RAX-KSKEY:apiKeyCredentials"]["apiKey"],
        "key-1"
    );
    assert!(b[1]["auth"].get("tenantName").is_none());
}

#[test]
fn no_secret_in_any_error_or_log_line() {
    const PASSWORD: &str = "Pw-Very-Secret-4711";
    const TOKEN: &str = "Tok-Very-Secret-0815";
    const CATALOG_PW: &str = "Cat-Very-Secret-1312";
    let lines: Arc<Mutex<Vec<String>>> = Arc::default();
    let l2 = lines.clone();
    openstack_dest::log::set_sink(
        Some(Arc::new(move |_, m: &str| {
            l2.lock().unwrap().push(m.to_string())
        })),
        openstack_dest::log::Level::Debug,
    );
    let port = Arc::new(Mutex::new(0u16));
    let p2 = port.clone();
    let calls = Arc::new(AtomicUsize::new(0));
    let f = Fake::start(Arc::new(move |r: &Request| {
        let body = String::from_utf8_lossy(&r.body).to_string();
        if r.path.starts_with("/v3/auth/tokens") {
            if body.contains("wrong") {
                // A server that echoes what it got must not make the library echo it too.
                return Action::Respond {
                    status: 401,
                    headers: vec![],
                    body: body.into_bytes(),
                };
            }
            // A catalog URL with userinfo: received credentials are secrets too.
            return v3_token_answer(
                TOKEN,
                &format!(
                    "http://catuser:{CATALOG_PW}@127.0.0.1:{}/v1/AUTH_p",
                    *p2.lock().unwrap()
                ),
            );
        }
        match calls.fetch_add(1, Ordering::SeqCst) % 3 {
            0 => Action::Respond {
                status: 503,
                headers: vec![("X-Trans-Id".into(), format!("tx-{TOKEN}"))],
                body: TOKEN.into(),
            },
            1 => Action::status(404),
            _ => Action::status(401),
        }
    }));
    *port.lock().unwrap() = f.port;
    let mut errors = Vec::new();
    let good = Destination::open(&v3_url(&f, "c", PASSWORD, "&number-of-retries=1")).unwrap();
    errors.push(format!(
        "{:?} {}",
        good.get_bytes("a").unwrap_err(),
        good.get_bytes("a").unwrap_err()
    ));
    errors.push(format!("{}", good.stat("b").unwrap_err()));
    errors.push(format!("{}", good.test().unwrap_err()));
    errors.push(format!("{good:?} {:?}", good.config()));
    let bad = Destination::open(&v3_url(&f, "c", &format!("wrong-{PASSWORD}"), "")).unwrap();
    errors.push(format!("{}", bad.test().unwrap_err()));
    let preauth = Destination::open(&format!(
        "openstack://c?openstack-storage-url={}&openstack-auth-token={TOKEN}&retry-delay=1ms",
        f.url("/v1/AUTH_p")
    ))
    .unwrap();
    errors.push(format!("{}", preauth.get_bytes("x").unwrap_err()));
    let e = Destination::open(&format!(
        "openstack://c?auth-password={PASSWORD}&openstack-authuri=nonsense"
    ))
    .unwrap_err();
    errors.push(e.to_string());
    openstack_dest::log::set_sink(None, openstack_dest::log::Level::Error);
    let all: Vec<String> = errors
        .into_iter()
        .chain(lines.lock().unwrap().iter().cloned())
        .collect();
    assert!(
        all.len() > 8,
        "the test produced too little text to be meaningful: {all:?}"
    );
    for text in &all {
        assert!(!text.contains(PASSWORD), "password leaked: {text}");
        assert!(!text.contains(TOKEN), "token leaked: {text}");
        assert!(
            !text.contains(CATALOG_PW) && !text.contains("catuser"),
            "the catalog URL's userinfo leaked: {text}"
        );
    }
    assert!(
        all.iter().any(|t| t.contains("***@127.0.0.1")),
        "no text names the catalog's endpoint: {all:?}"
    );
}

/// A fake Swift holding one object store in memory: enough for delete and rename semantics.
/// `lose_answer` decides, per request, whether its answer is lost after it was carried out.
fn fake_store(
    objects: Arc<Mutex<std::collections::HashMap<String, Vec<u8>>>>,
    lose_answer: impl Fn(&Request) -> bool + Send + Sync + 'static,
) -> Fake {
    fake(move |r, _| {
        let mut objs = objects.lock().unwrap();
        let key = r.path.split('?').next().unwrap().to_string();
        if key == "/v1/AUTH_p/c" {
            return Action::status(204);
        }
        let action = match r.method.as_str() {
            "HEAD" | "GET" => match objs.get(&key) {
                Some(data) => Action::Respond {
                    status: 200,
                    headers: vec![("ETag".into(), md5_hex(data))],
                    body: data.clone(),
                },
                None => Action::status(404),
            },
            "DELETE" => match objs.remove(&key) {
                Some(_) => Action::status(204),
                None => Action::status(404),
            },
            "PUT" => {
                let data = match r.header("x-copy-from") {
                    Some(from) => match objs.get(&format!("/v1/AUTH_p{from}")) {
                        Some(d) => d.clone(),
                        None => return Action::status(404),
                    },
                    None => r.body.clone(),
                };
                objs.insert(key, data);
                Action::status(201)
            }
            _ => Action::status(405),
        };
        if lose_answer(r) {
            Action::Close
        } else {
            action
        }
    })
}

#[test]
fn a_delete_whose_answer_was_lost_succeeds_on_the_retry_that_finds_nothing() {
    let objects = Arc::new(Mutex::new(std::collections::HashMap::new()));
    objects
        .lock()
        .unwrap()
        .insert("/v1/AUTH_p/c/pre/a".to_string(), b"data".to_vec());
    let first = Arc::new(AtomicUsize::new(0));
    let f = fake_store(objects.clone(), move |r| {
        r.method == "DELETE" && first.fetch_add(1, Ordering::SeqCst) == 0
    });
    let d = Destination::open(&v3_url(&f, "c", "pw", "")).unwrap();
    d.delete("a").unwrap();
    assert_eq!(f.count("DELETE", "/v1/"), 2);
    assert!(objects.lock().unwrap().is_empty());
    // A first try that finds nothing is still "missing".
    assert_eq!(d.delete("a").unwrap_err().kind(), ErrorKind::NotFound);
}

#[test]
fn rename_verifies_the_copy_and_survives_a_lost_delete_answer() {
    let objects = Arc::new(Mutex::new(std::collections::HashMap::new()));
    objects
        .lock()
        .unwrap()
        .insert("/v1/AUTH_p/c/pre/a".to_string(), b"payload".to_vec());
    let first = Arc::new(AtomicUsize::new(0));
    let f = fake_store(objects.clone(), move |r| {
        r.method == "DELETE" && first.fetch_add(1, Ordering::SeqCst) == 0
    });
    let d = Destination::open(&v3_url(&f, "c", "pw", "")).unwrap();
    d.rename("a", "b").unwrap();
    let objs = objects.lock().unwrap().clone();
    assert_eq!(objs.len(), 1);
    assert_eq!(objs["/v1/AUTH_p/c/pre/b"], b"payload");
    // The copy was checked before the source went.
    let log = f.requests.lock().unwrap().clone();
    let order: Vec<String> = log
        .iter()
        .filter(|r| r.path.starts_with("/v1/"))
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(
        order,
        [
            "HEAD /v1/AUTH_p/c/pre/a",
            // Could b be a large object whose parts the copy would orphan? Asked of b itself:
            // a dynamic one's segments may be in any container.
            "HEAD /v1/AUTH_p/c/pre/b",
            // Could a be a large object whose segments must be marked while two names hold
            // them? Not without a segment container.
            "HEAD /v1/AUTH_p/c_segments",
            // A large object's manifest is copied, not its data.
            "PUT /v1/AUTH_p/c/pre/b?multipart-manifest=get",
            "HEAD /v1/AUTH_p/c/pre/b",
            "DELETE /v1/AUTH_p/c/pre/a",
            "DELETE /v1/AUTH_p/c/pre/a"
        ]
    );
}

#[test]
fn rename_keeps_the_source_when_the_copy_differs() {
    let objects = Arc::new(Mutex::new(std::collections::HashMap::new()));
    objects
        .lock()
        .unwrap()
        .insert("/v1/AUTH_p/c/pre/a".to_string(), b"payload".to_vec());
    let o2 = objects.clone();
    let f = fake(move |r, _| {
        let mut objs = o2.lock().unwrap();
        match (r.method.as_str(), r.path.as_str()) {
            ("HEAD", "/v1/AUTH_p/c/pre/a") => Action::Respond {
                status: 200,
                headers: vec![("ETag".into(), md5_hex(b"payload"))],
                body: vec![],
            },
            // A copy that went wrong: another size and ETag.
            ("PUT", _) => {
                objs.insert(r.path.clone(), b"pay".to_vec());
                Action::status(201)
            }
            ("HEAD", _) => Action::Respond {
                status: 200,
                headers: vec![("ETag".into(), md5_hex(b"pay"))],
                body: vec![],
            },
            _ => Action::status(500),
        }
    });
    let d = Destination::open(&v3_url(&f, "c", "pw", "")).unwrap();
    let e = d.rename("a", "b").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Integrity, "{e}");
    assert_eq!(f.count("DELETE", "/v1/"), 0);
    assert!(objects.lock().unwrap().contains_key("/v1/AUTH_p/c/pre/a"));
}

#[test]
fn dot_segment_names_send_nothing() {
    let f = fake(|_, _| Action::status(201));
    let d = Destination::open(&v3_url(&f, "c", "pw", "")).unwrap();
    support::assert_names_refused(&d, &["x/..", "..", "./a", "a/%2e/../b/.."], "a", "./a");
    assert_eq!(f.requests.lock().unwrap().len(), 0, "a request was sent");
}

#[test]
fn a_stream_that_breaks_its_size_promise_stores_nothing() {
    let stored = Arc::new(Mutex::new(Vec::<usize>::new()));
    let s2 = stored.clone();
    let f = fake(move |r, _| {
        s2.lock().unwrap().push(r.body.len());
        Action::status(201)
    });
    let d = Destination::open(&v3_url(&f, "c", "pw", "")).unwrap();
    for (give, promise) in [(5000usize, 10_000u64), (10_000, 5000), (0, 1)] {
        let e = d
            .put_stream("s", Box::new(Yields { left: give }), Some(promise), None)
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::LocalIo, "{e}");
        assert!(e.message().contains("promised"), "{e}");
    }
    // The server never saw a complete request.
    assert!(
        stored.lock().unwrap().is_empty(),
        "{:?}",
        stored.lock().unwrap()
    );
    // A kept promise goes as Content-Length.
    d.put_stream("s", Box::new(Yields { left: 3000 }), Some(3000), None)
        .unwrap();
    let log = f.requests.lock().unwrap().clone();
    let put = log.iter().find(|r| r.method == "PUT").unwrap();
    assert_eq!(put.header("content-length"), Some("3000"));
    assert_eq!(put.body.len(), 3000);
}

#[test]
fn redirects_are_not_followed_and_carry_no_secret() {
    let other = Fake::start(Arc::new(|_: &Request| Action::status(201)));
    let target = other.url("/v3/auth/tokens?token=Leak-Me-42");
    let t2 = target.clone();
    let f = Fake::start(Arc::new(move |_: &Request| Action::Respond {
        status: 307,
        headers: vec![("Location".into(), t2.clone())],
        body: vec![],
    }));
    let d = Destination::open(&v3_url(&f, "c", "Pw-Redirected-1", "")).unwrap();
    let e = d.test().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth, "{e}");
    assert!(e.message().contains("redirect"), "{e}");
    assert!(
        e.message().contains(&format!("127.0.0.1:{}", other.port)),
        "{e}"
    );
    assert!(!e.to_string().contains("Leak-Me-42"), "{e}");
    assert_eq!(
        other.requests.lock().unwrap().len(),
        0,
        "the password went to another host"
    );

    // Swift redirecting elsewhere: the token stays home too.
    let other2 = Fake::start(Arc::new(|_: &Request| Action::status(200)));
    let t3 = other2.url("/v1/AUTH_p/c");
    let f2 = fake(move |_, _| Action::Respond {
        status: 301,
        headers: vec![("Location".into(), t3.clone())],
        body: vec![],
    });
    let d = Destination::open(&v3_url(&f2, "c", "pw", "")).unwrap();
    let e = d.get_bytes("a").unwrap_err();
    assert!(e.message().contains("redirect"), "{e}");
    assert_eq!(
        other2.requests.lock().unwrap().len(),
        0,
        "the token went to another host"
    );
}

#[test]
fn listing_sends_no_fixed_limit_so_a_low_cluster_limit_works() {
    // A cluster whose container_listing_limit is 2: a larger limit is refused with 412.
    let names = ["a", "b", "c", "d", "e"];
    let f = fake(move |r, _| {
        let query = r.path.split_once('?').map(|(_, q)| q).unwrap_or("");
        let param = |k: &str| {
            query
                .split('&')
                .find_map(|p| p.strip_prefix(&format!("{k}=")))
                .map(str::to_string)
        };
        if param("limit")
            .and_then(|l| l.parse::<usize>().ok())
            .unwrap_or(0)
            > 2
        {
            return Action::status(412);
        }
        let marker = param("marker")
            .unwrap_or_default()
            .replace("pre%2F", "pre/");
        let rows: Vec<serde_json::Value> = names
            .iter()
            .map(|n| format!("pre/{n}"))
            .filter(|n| *n > marker)
            .take(2)
            .map(|n| serde_json::json!({"name": n, "bytes": 1, "hash": "x", "last_modified": "2026-01-01T00:00:00"}))
            .collect();
        Action::json(200, serde_json::Value::Array(rows))
    });
    let d = Destination::open(&v3_url(&f, "c", "pw", "")).unwrap();
    let listed: Vec<String> = d.list().unwrap().into_iter().map(|e| e.name).collect();
    assert_eq!(listed, names);
}

#[test]
fn a_download_that_always_breaks_off_makes_exactly_one_budget_of_tries() {
    let data = vec![7u8; 10_000];
    let etag = md5_hex(&data);
    let f = fake(move |r, _| {
        let from: usize = r
            .header("range")
            .and_then(|v| v.strip_prefix("bytes=")?.strip_suffix('-')?.parse().ok())
            .unwrap_or(0);
        // Every answer sends 1000 bytes of what is left, then the connection breaks.
        Action::Truncate {
            status: if from > 0 { 206 } else { 200 },
            headers: vec![("ETag".into(), etag.clone())],
            length: data.len() - from,
            body: data[from..from + 1000].to_vec(),
        }
    });
    let d = Destination::open(&v3_url(&f, "c", "pw", "&number-of-retries=2")).unwrap();
    let e = d.get_bytes("a").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Integrity, "{e}");
    assert!(e.message().contains("3000 of 10000"), "{e}");
    // number-of-retries=2: the first try and two more, resumes included.
    assert_eq!(f.count("GET", "/v1/"), 3);
}

#[test]
fn retries_of_authentication_and_the_request_share_one_budget() {
    let posts = Arc::new(AtomicUsize::new(0));
    let p2 = posts.clone();
    let port = Arc::new(Mutex::new(0u16));
    let port2 = port.clone();
    let f = Fake::start(Arc::new(move |r: &Request| {
        if r.path.starts_with("/v3/auth/tokens") {
            // Keystone fails twice, then answers.
            if p2.fetch_add(1, Ordering::SeqCst) < 2 {
                return Action::status(503);
            }
            let url = format!("http://127.0.0.1:{}/v1/AUTH_p", *port2.lock().unwrap());
            return v3_token_answer("tok", &url);
        }
        Action::status(503)
    }));
    *port.lock().unwrap() = f.port;
    let d = Destination::open(&v3_url(&f, "c", "pw", "&number-of-retries=3")).unwrap();
    let e = d.get_bytes("a").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Server, "{e}");
    // Four tries in all: two spent on Keystone, two on Swift.
    assert_eq!(posts.load(Ordering::SeqCst), 3);
    assert_eq!(f.count("GET", "/v1/"), 2);
}

/// A Swift for segmented uploads: segments are kept in memory, listed and deleted; `etag` gives
/// the ETag answered for a stored segment (by its name and body); manifests get `manifest`.
type Segments = Arc<Mutex<std::collections::BTreeMap<String, Vec<u8>>>>;

fn segment_store(
    etag: impl Fn(&str, &[u8]) -> String + Send + Sync + 'static,
    manifest: u16,
) -> (Fake, Segments) {
    let store: Segments = Arc::default();
    let s2 = store.clone();
    let seg = "/v1/AUTH_p/c_segments";
    let f = fake(move |r, _| {
        let path = r.path.as_str();
        let segment = path.strip_prefix(seg).and_then(|p| p.strip_prefix('/'));
        match (r.method.as_str(), segment) {
            ("PUT", Some(name)) => {
                let tag = etag(name, &r.body);
                s2.lock().unwrap().insert(name.to_string(), r.body.clone());
                Action::Respond {
                    status: 201,
                    headers: vec![("Etag".into(), tag)],
                    body: vec![],
                }
            }
            ("DELETE", Some(name)) => {
                s2.lock().unwrap().remove(name);
                Action::status(204)
            }
            ("GET", None) if path.starts_with(&format!("{seg}?")) => {
                let rows: Vec<serde_json::Value> = if path.contains("marker=") {
                    Vec::new()
                } else {
                    s2.lock()
                        .unwrap()
                        .iter()
                        .map(|(n, b)| serde_json::json!({"name": n, "bytes": b.len(), "hash": md5_hex(b)}))
                        .collect()
                };
                Action::Respond {
                    status: 200,
                    headers: vec![],
                    body: serde_json::to_vec(&rows).unwrap(),
                }
            }
            ("PUT", None) if path.contains("multipart-manifest=put") => Action::status(manifest),
            ("PUT" | "HEAD", None) => Action::status(201),
            _ => Action::status(404),
        }
    });
    (f, store)
}

#[test]
fn a_segment_swift_stored_differently_fails_the_upload_and_leaves_nothing() {
    // Swift's ETag for the second segment is not the MD5 of what was sent: corrupted on the way.
    let (f, store) = segment_store(
        |name, body| {
            if name.ends_with("00000001") {
                "0".repeat(32)
            } else {
                md5_hex(body)
            }
        },
        201,
    );
    let d = Destination::open(&v3_url(
        &f,
        "c",
        "pw",
        "&openstack-segment-size=10&openstack-segment-threads=2",
    ))
    .unwrap();
    let e = d.put_bytes("obj", &[7u8; 35]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Integrity, "{e}");
    assert!(e.message().contains("segment 2 of 4"), "{e}");
    assert_eq!(
        f.count("PUT", "/v1/AUTH_p/c/pre/obj"),
        0,
        "no manifest was sent"
    );
    assert!(
        store.lock().unwrap().is_empty(),
        "{:?}",
        store.lock().unwrap().keys()
    );
}

#[test]
fn a_manifest_swift_refuses_leaves_no_segment_unless_asked() {
    let manifests = |f: &Fake| f.count("PUT", "/v1/AUTH_p/c/pre/obj?multipart-manifest=put");
    let (f, store) = segment_store(|_, body| md5_hex(body), 400);
    let d = Destination::open(&v3_url(&f, "c", "pw", "&openstack-segment-size=10")).unwrap();
    let e = d.put_bytes("obj", &[1u8; 25]).unwrap_err();
    assert_eq!(e.http_status(), Some(400), "{e}");
    assert_eq!(manifests(&f), 1);
    assert!(store.lock().unwrap().is_empty());

    // With openstack-leave-segments they stay, for the next upload of the same data to reuse.
    let (f, store) = segment_store(|_, body| md5_hex(body), 400);
    let opts = "&openstack-segment-size=10&openstack-leave-segments=true";
    let d = Destination::open(&v3_url(&f, "c", "pw", opts)).unwrap();
    assert!(d.put_bytes("obj", &[1u8; 25]).is_err());
    assert_eq!(store.lock().unwrap().len(), 3);
}

#[test]
fn a_cluster_without_slo_gets_whole_objects_and_never_a_manifest() {
    // /info lists no "slo": a manifest PUT would be stored as the object itself.
    let f = fake(|r, _| {
        if r.path == "/info" {
            return Action::json(200, serde_json::json!({"swift": {"max_file_size": 20}}));
        }
        Action::status(201)
    });
    let d = Destination::open(&v3_url(&f, "c", "pw", "&openstack-segment-size=10")).unwrap();
    d.put_bytes("fits", &[3u8; 15]).unwrap();
    assert_eq!(f.count("PUT", "/v1/AUTH_p/c/pre/fits"), 1);
    let e = d.put_bytes("big", &[3u8; 25]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TooLarge, "{e}");
    assert!(e.message().contains("no Static Large Objects"), "{e}");
    assert_eq!(f.count("PUT", "/v1/AUTH_p/c/pre/big"), 0);
    assert_eq!(f.count("PUT", "/v1/AUTH_p/c_segments"), 0);
}

#[test]
fn put_options_go_out_as_headers_and_bad_ones_send_nothing() {
    let f = fake(|r, _| {
        if r.path == "/info" {
            return Action::json(
                200,
                serde_json::json!({"swift": {"max_meta_count": 2, "max_meta_value_length": 8}}),
            );
        }
        Action::status(201)
    });
    let d = Destination::open(&v3_url(&f, "c", "pw", "&openstack-delete-after=2d")).unwrap();
    // Bad syntax: refused before any request at all, authentication included.
    for bad in [
        PutOptions::new().meta("mtime", "1"),
        PutOptions::new().meta("k", "a\r\nX-Injected: 1"),
        PutOptions::new().meta("a_b", "1"),
        PutOptions::new().delete_after(Duration::ZERO),
    ] {
        let e = d.put_bytes_opts("x", b"x", &bad).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
        let e = d.update_metadata("x", &bad).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    }
    assert_eq!(f.requests.lock().unwrap().len(), 0);
    // Over the cluster's limits (from /info): only /info is read.
    let e = d
        .put_bytes_opts("x", b"x", &PutOptions::new().meta("k", "123456789"))
        .unwrap_err();
    assert!(e.message().contains("more than the cluster's 8"), "{e}");
    let three = PutOptions::new()
        .meta("a", "1")
        .meta("b", "2")
        .meta("c", "3");
    assert_eq!(
        d.put_bytes_opts("x", b"x", &three).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    assert_eq!(f.count("PUT", "/v1/"), 0);
    assert_eq!(f.count("GET", "/info"), 1);
    // Good options: the metadata as raw UTF-8, the destination's expiry as X-Delete-After.
    d.put_bytes_opts("x", b"x", &PutOptions::new().meta("Color", "blüe"))
        .unwrap();
    let put = f.last("PUT");
    assert_eq!(put.header("x-object-meta-color"), Some("blüe"));
    assert_eq!(put.header("x-delete-after"), Some("172800"));
    d.put_bytes_opts("y", b"y", &PutOptions::new().no_expiry())
        .unwrap();
    let put = f.last("PUT");
    assert_eq!(put.header("x-delete-after"), None);
    assert_eq!(put.header("x-delete-at"), None);
}

/// A Swift that stores segments and one manifest for `c/pre/obj`; `answer` gives the answer to
/// a manifest PUT from the body sent and the ETag the segments give (the MD5 of their MD5s).
fn manifest_store(
    answer: impl Fn(&[u8], &str) -> Action + Send + Sync + 'static,
) -> (Fake, Segments) {
    let store: Segments = Arc::default();
    let s2 = store.clone();
    let manifest: Arc<Mutex<Option<Vec<u8>>>> = Arc::default();
    let seg = "/v1/AUTH_p/c_segments";
    let obj = "/v1/AUTH_p/c/pre/obj";
    let f = fake(move |r, _| {
        let path = r.path.as_str();
        if let Some(name) = path.strip_prefix(seg).and_then(|p| p.strip_prefix('/')) {
            return match r.method.as_str() {
                "PUT" => {
                    s2.lock().unwrap().insert(name.to_string(), r.body.clone());
                    Action::Respond {
                        status: 201,
                        headers: vec![("Etag".into(), md5_hex(&r.body))],
                        body: vec![],
                    }
                }
                "DELETE" => {
                    s2.lock().unwrap().remove(name);
                    Action::status(204)
                }
                _ => Action::status(404),
            };
        }
        if r.method == "GET" && path.starts_with(&format!("{seg}?")) {
            let rows: Vec<serde_json::Value> = if path.contains("marker=") {
                Vec::new()
            } else {
                s2.lock()
                    .unwrap()
                    .iter()
                    .map(|(n, b)| serde_json::json!({"name": n, "bytes": b.len(), "hash": md5_hex(b)}))
                    .collect()
            };
            return Action::json(200, serde_json::Value::Array(rows));
        }
        match (r.method.as_str(), path) {
            ("PUT", p) if p.starts_with(&format!("{obj}?multipart-manifest=put")) => {
                let sent: Vec<serde_json::Value> = serde_json::from_slice(&r.body).unwrap();
                let etags: String = sent.iter().map(|s| s["etag"].as_str().unwrap()).collect();
                let stored: Vec<serde_json::Value> = sent
                    .iter()
                    .map(|s| serde_json::json!({"name": s["path"], "hash": s["etag"], "bytes": s["size_bytes"]}))
                    .collect();
                let action = answer(&r.body, &md5_hex(etags.as_bytes()));
                if matches!(&action, Action::Respond { body, .. } if !String::from_utf8_lossy(body).contains("400"))
                {
                    *manifest.lock().unwrap() = Some(serde_json::to_vec(&stored).unwrap());
                }
                action
            }
            ("GET", p) if p == format!("{obj}?multipart-manifest=get") => {
                assert_eq!(
                    r.header("x-newest"),
                    Some("true"),
                    "a read that decides asks the newest"
                );
                match manifest.lock().unwrap().clone() {
                    Some(body) => Action::Respond {
                        status: 200,
                        headers: vec![],
                        body,
                    },
                    None => Action::status(404),
                }
            }
            ("HEAD", p) if p == obj => match *manifest.lock().unwrap() {
                Some(_) => Action::Respond {
                    status: 200,
                    headers: vec![("X-Static-Large-Object".into(), "True".into())],
                    body: vec![],
                },
                None => Action::status(404),
            },
            ("PUT" | "HEAD", _) => Action::status(201),
            _ => Action::status(404),
        }
    });
    (f, store)
}

/// A heartbeat answer: 202 at once, whitespace, then Swift's JSON document.
fn heartbeat(status: &str, etag: &str, errors: serde_json::Value) -> Action {
    let doc = serde_json::json!({"Response Status": status, "Response Body": "", "Etag": etag, "Errors": errors});
    Action::Respond {
        status: 202,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: format!("   \r\n\r\n{doc}").into_bytes(),
    }
}

#[test]
fn a_manifest_goes_up_with_a_heartbeat_and_its_etag_may_have_another_form() {
    let obj_deletes = |f: &Fake| f.count("DELETE", "/v1/AUTH_p/c/pre/obj");
    let opts = "&openstack-segment-size=10";
    // The final status arrives in the heartbeat body; an ETag made of the binary digests (as
    // Swift-compatible servers make it) is the same object.
    let (f, store) = manifest_store(|body, _| {
        let sent: Vec<serde_json::Value> = serde_json::from_slice(body).unwrap();
        let mut digests = Vec::new();
        for s in &sent {
            let hex = s["etag"].as_str().unwrap();
            digests.extend(
                (0..32)
                    .step_by(2)
                    .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()),
            );
        }
        heartbeat(
            "201 Created",
            &format!("\"{}\"", md5_hex(&digests)),
            serde_json::json!([]),
        )
    });
    let d = Destination::open(&v3_url(&f, "c", "pw", opts)).unwrap();
    d.put_bytes("obj", &[5u8; 25]).unwrap();
    let put = f.last("PUT");
    assert!(
        put.path.ends_with("multipart-manifest=put&heartbeat=on"),
        "{}",
        put.path
    );
    assert_eq!(
        f.count("GET", "/v1/AUTH_p/c/pre/obj?multipart-manifest=get"),
        0
    );
    assert_eq!(
        obj_deletes(&f),
        0,
        "nothing that replaced the object is deleted"
    );
    assert_eq!(store.lock().unwrap().len(), 3);
    // Swift's own form, in an ordinary answer: no read-back needed.
    let (f, _) = manifest_store(|_, hex_form| Action::Respond {
        status: 201,
        headers: vec![("Etag".into(), format!("\"{hex_form}\""))],
        body: vec![],
    });
    let d = Destination::open(&v3_url(&f, "c", "pw", opts)).unwrap();
    d.put_bytes("obj", &[5u8; 25]).unwrap();
    assert_eq!(
        f.count("GET", "/v1/AUTH_p/c/pre/obj?multipart-manifest=get"),
        0
    );
    // A form not known here: the manifest is read back (the newest copy) and is the one sent.
    let (f, _) = manifest_store(|_, _| {
        heartbeat(
            "201 Created",
            "\"0123456789abcdef0123456789abcdef\"",
            serde_json::json!([]),
        )
    });
    let d = Destination::open(&v3_url(&f, "c", "pw", opts)).unwrap();
    d.put_bytes("obj", &[5u8; 25]).unwrap();
    assert_eq!(
        f.count("GET", "/v1/AUTH_p/c/pre/obj?multipart-manifest=get"),
        1
    );
    assert_eq!(obj_deletes(&f), 0);
    // Swift found a problem while the heartbeat ran: the upload fails with it, and its segments go.
    let (f, store) = manifest_store(|_, _| {
        heartbeat(
            "400 Bad Request",
            "",
            serde_json::json!([["/c_segments/x/00000001", "404 Not Found"]]),
        )
    });
    let d = Destination::open(&v3_url(&f, "c", "pw", opts)).unwrap();
    let e = d.put_bytes("obj", &[5u8; 25]).unwrap_err();
    assert_eq!(e.http_status(), Some(400), "{e}");
    assert!(e.message().contains("404 Not Found"), "{e}");
    assert!(
        store.lock().unwrap().is_empty(),
        "{:?}",
        store.lock().unwrap().keys()
    );
    assert_eq!(obj_deletes(&f), 0);
}
