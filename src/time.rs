//! Timestamps as Keystone and Swift write them, read as UTC.
//!
//! Every time read from a server is either one that every binding can show — from the Unix
//! epoch to the end of year 9999 (Python's `datetime` and .NET's `DateTime` end there) — or
//! unknown (`None`, `-1` in C): never a wrapped number, an exception or a panic.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The latest time a server's value may name, in milliseconds since the Unix epoch:
/// 9999-12-31T23:59:59.999 UTC.
pub(crate) const LATEST_MS: i64 = 253_402_300_799_999;

/// `t` when every binding can show it (from the Unix epoch to [`LATEST_MS`]), else `None`:
/// a time from a server outside that range is unknown.
pub fn representable(t: SystemTime) -> Option<SystemTime> {
    let ms = t.duration_since(UNIX_EPOCH).ok()?.as_millis();
    (ms <= LATEST_MS as u128).then_some(t)
}

/// Parses an ISO 8601 / RFC 3339-like timestamp: `2026-11-27T09:00:00Z`,
/// `2026-11-27T09:00:00.123456Z`, `2026-11-27T09:00:00+01:00`, or Swift's listing form without a
/// zone (`2026-11-27T09:00:00.123456`), which is UTC.
pub fn parse_timestamp(text: &str) -> Option<SystemTime> {
    let t = text.trim();
    let (base, offset_secs) = split_offset(t)?;
    let at = humantime::parse_rfc3339_weak(base).ok()?;
    let utc = if offset_secs >= 0 {
        at.checked_sub(Duration::from_secs(offset_secs as u64))
    } else {
        at.checked_add(Duration::from_secs((-offset_secs) as u64))
    };
    utc.and_then(representable)
}

/// Splits a trailing `Z` or `±HH:MM` zone off; returns the rest and the offset east of UTC.
fn split_offset(t: &str) -> Option<(&str, i64)> {
    if let Some(base) = t.strip_suffix('Z').or_else(|| t.strip_suffix('z')) {
        return Some((base, 0));
    }
    // A zone needs the date's '-' characters skipped: look only after the time's 'T'.
    let tpos = t.find(['T', 't', ' '])?;
    let time = &t[tpos..];
    if let Some(i) = time.rfind(['+', '-']) {
        let zone = &time[i + 1..];
        let (h, m) = zone
            .split_once(':')
            .unwrap_or((zone.get(..2)?, zone.get(2..).unwrap_or("0")));
        // A zone is at most 23:59 away from UTC; anything else (however many digits) is not one.
        let (h, m) = (small_number(h, 23)?, small_number(m, 59)?);
        let secs = h * 3600 + m * 60;
        let sign = if time.as_bytes()[i] == b'-' { -1 } else { 1 };
        return Some((&t[..tpos + i], sign * secs));
    }
    Some((t, 0))
}

/// A number of one or two digits, at most `max`.
fn small_number(text: &str, max: i64) -> Option<i64> {
    if text.is_empty() || text.len() > 2 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok().filter(|n| *n <= max)
}

/// Milliseconds since the Unix epoch, or `-1` (unknown) for a time outside what every binding
/// can show (before the epoch, after [`LATEST_MS`]): never a wrapped number.
pub fn to_unix_ms(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis())
            .ok()
            .filter(|ms| *ms <= LATEST_MS)
            .unwrap_or(-1),
        Err(_) => -1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keystone_and_swift_forms() {
        let z = parse_timestamp("2026-11-27T09:00:00Z").unwrap();
        assert_eq!(to_unix_ms(z), 1_795_770_000_000);
        let frac = parse_timestamp("2026-11-27T09:00:00.250000Z").unwrap();
        assert_eq!(to_unix_ms(frac), 1_795_770_000_250);
        let swift = parse_timestamp("2026-11-27T09:00:00.250000").unwrap();
        assert_eq!(swift, frac);
        let plus = parse_timestamp("2026-11-27T10:00:00+01:00").unwrap();
        assert_eq!(plus, z);
        let minus = parse_timestamp("2026-11-27T08:30:00-00:30").unwrap();
        assert_eq!(minus, z);
        assert!(parse_timestamp("yesterday").is_none());
        // Zones that would overflow the arithmetic (found by fuzzing) are not zones.
        assert!(parse_timestamp("2026-11-27T09:00:00+9999999999999999:00").is_none());
        assert!(parse_timestamp("2026-11-27T09:00:00+00:999999999999999999").is_none());
        assert!(
            parse_timestamp("7824-01T00-0000000000000000000000000000007321351794228636331")
                .is_none()
        );
    }

    #[test]
    fn times_no_binding_can_show_are_unknown() {
        let last = parse_timestamp("9999-12-31T23:59:59.999Z").unwrap();
        assert_eq!(to_unix_ms(last), LATEST_MS);
        // 9999-12-31T23:00 in a zone west of UTC is in year 10000.
        assert!(parse_timestamp("9999-12-31T23:00:00-02:00").is_none());
        assert!(parse_timestamp("1969-12-31T23:59:59Z").is_none());
        assert!(parse_timestamp("1970-01-01T00:30:00+01:00").is_none());
        let huge = UNIX_EPOCH + Duration::from_secs(10_000_000_000_000_000);
        assert_eq!(to_unix_ms(huge), -1, "not a wrapped number");
        assert_eq!(representable(huge), None);
        assert_eq!(to_unix_ms(UNIX_EPOCH - Duration::from_secs(1)), -1);
        assert_eq!(to_unix_ms(UNIX_EPOCH), 0);
    }
}
