//! Reading the headers of Keystone and Swift answers. Every function here takes whatever a server
//! sent and either understands it or returns `None`: no value can make them panic.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::header::HeaderMap;

/// The longest wait a server may ask for with `Retry-After`; longer requests are capped to it.
pub(crate) const MAX_RETRY_AFTER: Duration = Duration::from_secs(7 * 24 * 3600);

fn text<'h>(h: &'h HeaderMap, name: &str) -> Option<&'h str> {
    h.get(name)?.to_str().ok().map(str::trim)
}

/// A header holding a whole number of bytes or items (`Content-Length`, `X-Account-Bytes-Used`).
pub(crate) fn u64_value(h: &HeaderMap, name: &str) -> Option<u64> {
    let v = text(h, name)?;
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse().ok()
}

/// Swift's ETag without quotes, lower case; `None` when absent or empty.
pub(crate) fn etag(h: &HeaderMap) -> Option<String> {
    let v = text(h, "etag")?.trim_matches('"').to_ascii_lowercase();
    (!v.is_empty()).then_some(v)
}

/// The `X-Object-Meta-Mtime` of an object: seconds since the epoch with a fraction
/// (`1700000000.123456` from python-swiftclient, nine digits from rclone).
pub(crate) fn meta_mtime(h: &HeaderMap) -> Option<SystemTime> {
    text(h, "x-object-meta-mtime").and_then(unix_seconds)
}

/// The `X-Object-Meta-Mtime` value for `t`: seconds with six decimals, as python-swiftclient
/// writes it.
pub(crate) fn mtime_value(t: SystemTime) -> Option<String> {
    let d = t.duration_since(std::time::UNIX_EPOCH).ok()?;
    Some(format!("{}.{:06}", d.as_secs(), d.subsec_micros()))
}

/// Whether the header `name` says true (`True`, `true`, `1`, `yes`), as Swift writes flags.
pub(crate) fn is_true(h: &HeaderMap, name: &str) -> bool {
    text(h, name).is_some_and(|v| {
        matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "true" | "1" | "yes" | "on"
        )
    })
}

/// Swift's transaction id (or OpenStack's request id) of an answer.
pub(crate) fn trans_id(h: &HeaderMap) -> Option<String> {
    [
        "x-trans-id",
        "x-openstack-request-id",
        "x-compute-request-id",
    ]
    .iter()
    .find_map(|name| text(h, name))
    .filter(|v| !v.is_empty())
    .map(|v| v.chars().take(128).collect())
}

/// The wait an answer asks for with `Retry-After` (seconds or an HTTP date), capped at
/// [`MAX_RETRY_AFTER`]; `now` is the local clock.
pub(crate) fn retry_after(h: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let v = text(h, "retry-after")?;
    let wait = if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        // Any run of digits, however long, is a number of seconds: too many means "a long time".
        Duration::from_secs(v.parse::<u64>().unwrap_or(u64::MAX))
    } else {
        let at = httpdate::parse_http_date(v).ok()?;
        at.duration_since(now).unwrap_or(Duration::ZERO)
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

/// A Unix time in seconds with a fraction, as Swift's `X-Timestamp` and python-swiftclient's
/// `X-Object-Meta-Mtime` hold it. Negative, infinite, NaN, or later than any binding can show
/// (after year 9999, e.g. milliseconds written as seconds): `None`.
pub(crate) fn unix_seconds(v: &str) -> Option<SystemTime> {
    // Read as decimal digits, not as a float, so that `1600000000.123456` is exact.
    let v = v.trim();
    let (whole, fraction) = v.split_once('.').unwrap_or((v, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !all_digits(whole) || !all_digits(fraction) {
        return None;
    }
    let secs: u64 = whole.parse().ok()?;
    let nanos = fraction
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(9)
        .fold(0u32, |n, b| n * 10 + u32::from(b - b'0'));
    UNIX_EPOCH
        .checked_add(Duration::new(secs, nanos))
        .and_then(crate::time::representable)
}

/// The modification time of an object: `X-Timestamp`, else `Last-Modified`.
pub(crate) fn last_modified(h: &HeaderMap) -> Option<SystemTime> {
    text(h, "x-timestamp")
        .and_then(unix_seconds)
        .or_else(|| httpdate::parse_http_date(text(h, "last-modified")?).ok())
        .and_then(crate::time::representable)
}

/// Where a redirect points, as it may be shown: scheme, host, port and path only (no user
/// information, query or fragment, where a secret could hide).
pub(crate) fn redirect_target(h: &HeaderMap) -> String {
    let Some(v) = text(h, "location") else {
        return "nowhere (no Location header)".to_string();
    };
    match url::Url::parse(v) {
        Ok(u) => {
            let host = u.host_str().unwrap_or("");
            let port = u.port().map(|p| format!(":{p}")).unwrap_or_default();
            format!("{}://{host}{port}{}", u.scheme(), u.path())
        }
        // A relative Location: its path only.
        Err(_) => v
            .split(['?', '#'])
            .next()
            .unwrap_or("")
            .chars()
            .take(200)
            .collect(),
    }
}

/// The server's clock from the `Date` header.
pub(crate) fn date(h: &HeaderMap) -> Option<SystemTime> {
    httpdate::parse_http_date(text(h, "date")?)
        .ok()
        .and_then(crate::time::representable)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn times_later_than_any_binding_shows_are_unknown() {
        // Milliseconds written as seconds (year 33658), and values whose milliseconds would
        // wrap an i64: unknown, never a wrapped or an unshowable time.
        for v in [
            "1000000000000",
            "253402300800",
            "10000000000000000",
            "18446744073709551615",
        ] {
            let h = map(&[("x-object-meta-mtime", v), ("x-timestamp", v)]);
            assert_eq!(meta_mtime(&h), None, "{v}");
            assert_eq!(last_modified(&h), None, "{v}");
        }
        let last = unix_seconds("253402300799.999").unwrap();
        assert_eq!(crate::time::to_unix_ms(last), crate::time::LATEST_MS);
    }

    #[test]
    fn timestamps_that_would_panic_a_duration_are_unknown() {
        for bad in ["inf", "-inf", "NaN", "-1", "1e300", "-0.5", "", "x"] {
            assert_eq!(unix_seconds(bad), None, "{bad}");
            assert_eq!(last_modified(&map(&[("x-timestamp", bad)])), None, "{bad}");
        }
        let t = unix_seconds("1700000000.25").unwrap();
        assert_eq!(crate::time::to_unix_ms(t), 1_700_000_000_250);
        // Exact to the nanosecond, as python-swiftclient (6 digits) and rclone (9) write them;
        // digits past nanoseconds and huge values are no panic.
        let exact = |v: &str| unix_seconds(v).map(|t| t.duration_since(UNIX_EPOCH).unwrap());
        assert_eq!(
            exact("1600000000.123456"),
            Some(Duration::new(1_600_000_000, 123_456_000))
        );
        assert_eq!(
            exact("1600000000.123456789123"),
            Some(Duration::new(1_600_000_000, 123_456_789))
        );
        assert_eq!(exact("12"), Some(Duration::from_secs(12)));
        for odd in ["1.2.3", ".5", "1e3", "+1", "99999999999999999999999"] {
            assert_eq!(unix_seconds(odd), None, "{odd}");
        }
        let t = UNIX_EPOCH + Duration::new(1_600_000_000, 123_456_789);
        assert_eq!(mtime_value(t).as_deref(), Some("1600000000.123456"));
        // A bad X-Timestamp falls back to Last-Modified.
        let h = map(&[
            ("x-timestamp", "inf"),
            ("last-modified", "Sun, 06 Nov 1994 08:49:37 GMT"),
        ]);
        assert_eq!(
            crate::time::to_unix_ms(last_modified(&h).unwrap()),
            784_111_777_000
        );
    }

    #[test]
    fn retry_after_is_capped_and_never_panics() {
        let now = SystemTime::now();
        let w = |v: &str| retry_after(&map(&[("retry-after", v)]), now);
        assert_eq!(w("3"), Some(Duration::from_secs(3)));
        assert_eq!(w("99999999999999999999999999"), Some(MAX_RETRY_AFTER));
        assert_eq!(w("Sun, 06 Nov 1994 08:49:37 GMT"), Some(Duration::ZERO));
        assert_eq!(w("-5"), None);
        assert_eq!(w("soon"), None);
    }

    #[test]
    fn redirect_targets_hide_userinfo_and_query() {
        let h = map(&[(
            "location",
            "https://u:pw@evil.example:444/v3/auth?token=t#f",
        )]);
        assert_eq!(redirect_target(&h), "https://evil.example:444/v3/auth");
        let h = map(&[("location", "/other/path?x=secret")]);
        assert_eq!(redirect_target(&h), "/other/path");
        assert!(redirect_target(&HeaderMap::new()).contains("no Location"));
    }

    #[test]
    fn numbers_and_etags() {
        let h = map(&[("content-length", "+5"), ("etag", "\"ABC\"")]);
        assert_eq!(u64_value(&h, "content-length"), None);
        assert_eq!(etag(&h).as_deref(), Some("abc"));
        let h = map(&[("content-length", "18446744073709551616"), ("etag", "\"\"")]);
        assert_eq!(u64_value(&h, "content-length"), None);
        assert_eq!(etag(&h), None);
    }
}
