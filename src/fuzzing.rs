//! Entry points for the fuzz targets in `fuzz/` and the property tests: each takes raw input as a
//! server or a caller could send it and runs the parser behind it. Not part of the API.

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::config::{Config, Interface};

/// Parses an `openstack://` URL with an option map. Returns the error message on failure, so a
/// target can check that no secret of the input appears in it.
pub fn url_and_options(url: &str, options: &[(String, String)]) -> Result<Config, String> {
    Config::from_url_and_options(url, options.iter().map(|(k, v)| (k, v)))
        .map_err(|e| e.to_string())
}

/// Reads a Keystone v2 token answer (JSON bytes) and chooses the Swift endpoint for `region`.
pub fn v2_token_answer(json: &[u8], region: Option<&str>) {
    if let Ok(value) = serde_json::from_slice(json) {
        if let Ok(answer) = crate::auth::v2::parse_answer(&value) {
            for interface in [Interface::Public, Interface::Internal, Interface::Admin] {
                let _ = crate::auth::catalog::choose_endpoint(&answer.catalog, region, interface);
            }
        }
    }
}

/// Reads a Keystone v3 token answer (the `X-Subject-Token` value and JSON bytes) and chooses the
/// Swift endpoint for `region`.
pub fn v3_token_answer(subject_token: Option<&str>, json: &[u8], region: Option<&str>) {
    if let Ok(value) = serde_json::from_slice(json) {
        if let Ok(answer) = crate::auth::v3::parse_answer(subject_token, &value) {
            for interface in [Interface::Public, Interface::Internal, Interface::Admin] {
                let _ = crate::auth::catalog::choose_endpoint(&answer.catalog, region, interface);
            }
        }
    }
}

/// Reads one page of a Swift JSON listing under `prefix`; returns the number of entries. Checks
/// that every time an entry carries is one every binding can show (what C gets is `-1` or a
/// time from the epoch to year 9999, never a wrapped number).
pub fn listing_page(json: &[u8], prefix: &str) -> Option<usize> {
    let page = crate::swift::listing::parse_page(json, prefix).ok()?;
    for e in &page.entries {
        for t in [e.last_modified, e.mtime, e.delete_at]
            .into_iter()
            .flatten()
        {
            check_time(t);
        }
    }
    Some(page.entries.len())
}

/// A time read from a server: one every binding can show.
fn check_time(t: std::time::SystemTime) {
    let ms = crate::time::to_unix_ms(t);
    assert!(
        (0..=crate::time::LATEST_MS).contains(&ms),
        "{t:?} read from a server is {ms} ms"
    );
}

/// Reads a body as Swift's large-object answers: a Static Large Object manifest
/// (`?multipart-manifest=get`) and the cluster's `/info`, then plans uploads of a few sizes with
/// those limits. Returns the manifest's segment count when it parses; checks what a segment
/// the library would fetch by itself looks like (a container and an object, no dot segment).
pub fn large_object_answers(json: &[u8]) -> Option<usize> {
    let limits = crate::swift::large::parse_info(json);
    for size in [0, 1, limits.max_file_size, u64::MAX / 3, u64::MAX] {
        if let Ok(Some(plan)) = crate::swift::large::plan(size, Some(1 << 20), &limits) {
            assert!(plan.count <= limits.max_segments, "{plan:?} for {size}");
            assert!(plan.segment_size <= limits.max_file_size, "{plan:?}");
        }
    }
    let segments = crate::swift::large::parse_manifest(json).ok()?;
    for s in &segments {
        assert!(!s.container.is_empty() && !s.name.is_empty());
        if s.whole {
            assert!(!s.name.split('/').any(|p| p == "." || p == ".."));
            assert_eq!(s.hash.len(), 32);
        }
    }
    Some(segments.len())
}

/// Runs every header parser on a set of headers given as name/value bytes (pairs that are not
/// valid HTTP headers are skipped, as the HTTP stack would refuse them).
pub fn headers(pairs: &[(&[u8], &[u8])]) {
    let mut h = HeaderMap::new();
    for (name, value) in pairs {
        if let (Ok(n), Ok(v)) = (HeaderName::from_bytes(name), HeaderValue::from_bytes(value)) {
            h.append(n, v);
        }
    }
    let now = std::time::SystemTime::now();
    let _ = crate::headers::retry_after(&h, now);
    for name in [
        "content-length",
        "x-account-bytes-used",
        "x-account-object-count",
        "x-account-container-count",
        "x-account-meta-quota-bytes",
    ] {
        let _ = crate::headers::u64_value(&h, name);
    }
    let _ = crate::headers::etag(&h);
    let _ = crate::headers::trans_id(&h);
    let _ = crate::headers::is_true(&h, "x-static-large-object");
    let _ = crate::swift::meta::user_meta(&h);
    // Every time: unknown, or one every binding can show.
    let times = [
        crate::headers::last_modified(&h),
        crate::headers::date(&h),
        crate::headers::meta_mtime(&h),
        crate::swift::meta::delete_at(&h),
    ];
    for t in times.into_iter().flatten() {
        check_time(t);
    }
    if let Some(v) = h.get("x-timestamp").and_then(|v| v.to_str().ok()) {
        if let Some(t) = crate::headers::unix_seconds(v) {
            check_time(t);
        }
    }
}
