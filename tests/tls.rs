//! TLS against the real test bed: Keystone and Swift behind stunnel4 with the test bed's own CA
//! (tests/openstack/README.md, "TLS"). Verification failures are `ErrorKind::Tls`, are not
//! retried, and say which host, why and which option helps; `openstack-ca-file`, `SSL_CERT_FILE`
//! and `openstack-tls-fingerprint` each make the https servers usable.

mod support;

use std::time::{Duration, Instant};

use openstack_dest::{Destination, ErrorKind};
use support::real::{testbed, unique_container, var, Testbed};

/// Retries that would take at least 10 s (a first backoff of 5 s, ±50 %): a failure that comes
/// back sooner was not retried.
const SLOW_RETRIES: &str = "&number-of-retries=3&retry-delay=5s";
const FAST: Duration = Duration::from_secs(2);

/// The test bed's TLS settings are there (a test bed started before TLS was added lacks them).
fn tls_testbed() -> Option<Testbed> {
    let tb = testbed()?;
    if std::env::var("OSD_CA_FILE").is_err() {
        panic!("the test bed has no TLS settings (OSD_CA_FILE): run `bash tests/openstack/testbed.sh start` again and source its env.sh");
    }
    Some(tb)
}

/// A v3 URL for the member user at `authuri`, in `region`, with extra query options.
fn v3_url(container: &str, authuri: &str, region: &str, extra: &str) -> String {
    format!(
        "openstack://{container}/tls?auth-username={}&auth-password={}&openstack-tenant-name={}&openstack-domain-name=Default&openstack-authuri={authuri}&openstack-region={region}{extra}",
        var("OSD_USER"),
        var("OSD_PASSWORD"),
        var("OSD_PROJECT")
    )
}

/// A real token and the account path (`/v1/AUTH_...`), from Keystone over plain http.
fn token_and_account(tb: &Testbed) -> (String, String) {
    let d = Destination::open(&tb.v3("unused", "", &var("OSD_REGION1"))).unwrap();
    let session = d.session().unwrap();
    let url = session.storage_url;
    let at = url.find("/v1/").expect("a storage URL with /v1/");
    (session.token.expose().to_string(), url[at..].to_string())
}

/// A pre-authenticated destination on `root` (e.g. `https://localhost:8444`).
fn preauth(root: &str, token: &str, account: &str, extra: &str) -> Destination {
    Destination::open(&format!(
        "openstack://{}/?openstack-storage-url={root}{account}&openstack-auth-token={token}{extra}",
        unique_container("tls-pre")
    ))
    .unwrap()
}

/// put, get, list and delete through `d`, in a new container.
fn round_trip(d: &Destination) {
    d.create_container().unwrap();
    let data: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
    d.put_bytes("over https.bin", &data).unwrap();
    assert_eq!(d.get_bytes("over https.bin").unwrap(), data);
    let names: Vec<String> = d.list().unwrap().into_iter().map(|e| e.name).collect();
    assert_eq!(names, ["over https.bin"]);
    d.delete("over https.bin").unwrap();
    assert!(d.list().unwrap().is_empty());
    d.delete_container(true).unwrap();
}

/// Runs `f` and says how long it took.
fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let t0 = Instant::now();
    let v = f();
    (v, t0.elapsed())
}

#[test]
fn an_unknown_ca_fails_at_once_naming_the_host_and_the_option() {
    let Some(_tb) = tls_testbed() else { return };
    // Keystone over https: the first request of all.
    let url = v3_url(
        &unique_container("tls-ca"),
        &var("OSD_AUTH_V3_TLS"),
        &var("OSD_REGION_TLS"),
        SLOW_RETRIES,
    );
    let d = Destination::open(&url).unwrap();
    let (r, took) = timed(|| d.test());
    let e = r.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Tls, "{e}");
    assert!(took < FAST, "retried: {took:?} for {e}");
    let m = e.message();
    for words in [
        "localhost:5443",
        "unknown CA",
        "openstack-ca-file",
        "SSL_CERT_FILE",
    ] {
        assert!(m.contains(words), "'{words}' missing in: {m}");
    }
    assert!(!m.contains(&var("OSD_PASSWORD")), "{m}");
    assert!(!m.contains("could not connect"), "{m}");

    // Keystone over http, Swift over https from the catalog (RegionTLS): Swift's host is named.
    let url = v3_url(
        &unique_container("tls-ca"),
        &var("OSD_AUTH_V3"),
        &var("OSD_REGION_TLS"),
        SLOW_RETRIES,
    );
    let d = Destination::open(&url).unwrap();
    let (r, took) = timed(|| d.put_bytes("x", b"x"));
    let e = r.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Tls, "{e}");
    assert!(took < FAST, "retried: {took:?} for {e}");
    assert!(e.message().contains("localhost:8443"), "{e}");
    assert!(e.message().contains("openstack-ca-file"), "{e}");
}

#[test]
fn the_ca_file_makes_keystone_and_swift_over_https_work() {
    let Some(_tb) = tls_testbed() else { return };
    // Keystone over https, and Swift over https as the catalog's RegionTLS says.
    let ca = format!("&openstack-ca-file={}", var("OSD_CA_FILE"));
    let d = Destination::open(&v3_url(
        &unique_container("tls-cafile"),
        &var("OSD_AUTH_V3_TLS"),
        &var("OSD_REGION_TLS"),
        &ca,
    ))
    .unwrap();
    let session = d.session().unwrap();
    assert!(
        session
            .storage_url
            .starts_with(&format!("{}/v1/AUTH_", var("OSD_SWIFT_TLS"))),
        "{}",
        session.storage_url
    );
    round_trip(&d);

    // The same through the option map, as hosts pass options.
    let d = Destination::open_with(
        &v3_url(
            &unique_container("tls-cafile"),
            &var("OSD_AUTH_V3_TLS"),
            &var("OSD_REGION_TLS"),
            "",
        ),
        [("openstack-ca-file", var("OSD_CA_FILE"))],
    )
    .unwrap();
    d.test().unwrap_err(); // the container does not exist: but TLS was fine
    assert_eq!(d.test().unwrap_err().kind(), ErrorKind::ContainerNotFound);
}

#[test]
fn a_bad_ca_file_fails_the_open_naming_the_option() {
    let Some(_tb) = tls_testbed() else { return };
    let dir = std::env::temp_dir().join(format!("osd-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let garbage = dir.join("garbage.pem");
    std::fs::write(&garbage, "no certificate here\n").unwrap();
    for path in [dir.join("missing.pem"), garbage] {
        let url = v3_url(
            "c",
            &var("OSD_AUTH_V3_TLS"),
            &var("OSD_REGION_TLS"),
            &format!("&openstack-ca-file={}", path.display()),
        );
        let e = Destination::open(&url).expect_err("open must fail");
        assert_eq!(e.kind(), ErrorKind::InvalidUrl, "{e}");
        assert!(e.message().contains("openstack-ca-file"), "{e}");
        assert!(e.message().contains(&path.display().to_string()), "{e}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_pin_works_without_a_ca_file_and_a_wrong_pin_fails() {
    let Some(tb) = tls_testbed() else { return };
    let pin = var("OSD_TLS_FINGERPRINT");
    // Keystone over http, Swift over https (RegionTLS) trusted by its pin alone.
    let d = Destination::open(&v3_url(
        &unique_container("tls-pin"),
        &var("OSD_AUTH_V3"),
        &var("OSD_REGION_TLS"),
        &format!("&openstack-tls-fingerprint={pin}"),
    ))
    .unwrap();
    round_trip(&d);

    // Keystone over https too, pinned in openssl's spelling (upper case, colons), beside another.
    let colons: Vec<String> = pin
        .as_bytes()
        .chunks(2)
        .map(|c| std::str::from_utf8(c).unwrap().to_uppercase())
        .collect();
    let both = format!(
        "{},{}",
        var("OSD_TLS_FINGERPRINT_OTHER_HOST"),
        colons.join(":")
    );
    let d = Destination::open_with(
        &v3_url(
            &unique_container("tls-pin"),
            &var("OSD_AUTH_V3_TLS"),
            &var("OSD_REGION_TLS"),
            "",
        ),
        [("openstack-tls-fingerprint", both.as_str())],
    )
    .unwrap();
    assert_eq!(d.test().unwrap_err().kind(), ErrorKind::ContainerNotFound);

    // A pin accepts its certificate even for another name (the :8444 certificate names only
    // other.invalid).
    let (token, account) = token_and_account(&tb);
    let other = preauth(
        &var("OSD_SWIFT_TLS_OTHER_HOST"),
        &token,
        &account,
        &format!(
            "&openstack-tls-fingerprint={}",
            var("OSD_TLS_FINGERPRINT_OTHER_HOST")
        ),
    );
    round_trip(&other);

    // A wrong pin: refused at once, even with the CA file that would trust the certificate.
    let d = Destination::open(&v3_url(
        &unique_container("tls-pin"),
        &var("OSD_AUTH_V3_TLS"),
        &var("OSD_REGION_TLS"),
        &format!(
            "&openstack-tls-fingerprint={}&openstack-ca-file={}{SLOW_RETRIES}",
            var("OSD_TLS_FINGERPRINT_OTHER_HOST"),
            var("OSD_CA_FILE")
        ),
    ))
    .unwrap();
    let (r, took) = timed(|| d.test());
    let e = r.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Tls, "{e}");
    assert!(took < FAST, "retried: {took:?} for {e}");
    let m = e.message();
    assert!(m.contains("localhost:5443"), "{m}");
    assert!(m.contains("fingerprint mismatch"), "{m}");
    assert!(m.contains("openstack-tls-fingerprint"), "{m}");
    assert!(
        m.contains(&colons.join(":").to_lowercase()),
        "the presented fingerprint is shown: {m}"
    );
}

#[test]
fn a_certificate_for_another_name_or_expired_fails() {
    let Some(tb) = tls_testbed() else { return };
    let (token, account) = token_and_account(&tb);
    let ca = format!("&openstack-ca-file={}{SLOW_RETRIES}", var("OSD_CA_FILE"));

    let d = preauth(&var("OSD_SWIFT_TLS_OTHER_HOST"), &token, &account, &ca);
    let (r, took) = timed(|| d.test());
    let e = r.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Tls, "{e}");
    assert!(took < FAST, "retried: {took:?} for {e}");
    let m = e.message();
    assert!(m.contains("localhost:8444"), "{m}");
    assert!(m.contains("name mismatch"), "{m}");
    assert!(m.contains("'localhost'"), "{m}");
    assert!(
        m.contains(&format!("it names {}", var("OSD_TLS_OTHER_HOSTNAME"))),
        "{m}"
    );
    assert!(!m.contains(&token), "{m}");

    let d = preauth(&var("OSD_SWIFT_TLS_EXPIRED"), &token, &account, &ca);
    let (r, took) = timed(|| d.test());
    let e = r.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Tls, "{e}");
    assert!(took < FAST, "retried: {took:?} for {e}");
    assert!(e.message().contains("localhost:8445"), "{e}");
    assert!(e.message().contains("expired"), "{e}");
    assert!(e.message().contains("2021-01-01"), "{e}");

    // The good certificate, by its IP address (in its SAN too), with the same CA file.
    let by_ip = var("OSD_SWIFT_TLS").replace("localhost", "127.0.0.1");
    let d = preauth(&by_ip, &token, &account, &ca);
    assert_eq!(d.test().unwrap_err().kind(), ErrorKind::ContainerNotFound);
}

/// `SSL_CERT_FILE` is read when the client loads the system's roots; environment variables are
/// process-wide, so the check runs in a child: this test binary again, running only
/// [`ssl_cert_file_child`] with the variable set.
#[test]
fn ssl_cert_file_is_honoured() {
    let Some(_tb) = tls_testbed() else { return };
    let run = |ca: Option<String>| {
        let mut cmd = std::process::Command::new(std::env::current_exe().unwrap());
        cmd.args([
            "--exact",
            "ssl_cert_file_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("OSD_TLS_CHILD", "1")
        .env_remove("SSL_CERT_DIR");
        match ca {
            Some(ca) => cmd.env("SSL_CERT_FILE", ca),
            None => cmd.env_remove("SSL_CERT_FILE"),
        };
        cmd.output().unwrap()
    };
    let out = run(Some(var("OSD_CA_FILE")));
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "with SSL_CERT_FILE: {text}");
    assert!(text.contains("ssl-cert-file-child: ok"), "{text}");
    let out = run(None);
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "without SSL_CERT_FILE the test CA must not be trusted: {text}"
    );
    assert!(text.contains("unknown CA"), "{text}");
}

/// The child of [`ssl_cert_file_is_honoured`]: does nothing unless started by it.
#[test]
fn ssl_cert_file_child() {
    if std::env::var_os("OSD_TLS_CHILD").is_none() {
        return;
    }
    let url = v3_url(
        &unique_container("tls-env"),
        &var("OSD_AUTH_V3_TLS"),
        &var("OSD_REGION_TLS"),
        "&number-of-retries=0",
    );
    let d = Destination::open(&url).unwrap();
    match d.create_container() {
        Ok(()) => {
            round_trip_existing(&d);
            println!("ssl-cert-file-child: ok");
        }
        Err(e) => panic!("ssl-cert-file-child: {e}"),
    }
}

/// [`round_trip`] for a destination whose container exists.
fn round_trip_existing(d: &Destination) {
    d.put_bytes("env", b"trusted through SSL_CERT_FILE")
        .unwrap();
    assert_eq!(
        d.get_bytes("env").unwrap(),
        b"trusted through SSL_CERT_FILE"
    );
    d.delete("env").unwrap();
    d.delete_container(true).unwrap();
}
