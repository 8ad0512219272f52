//! The options (merged from userinfo, the map and the query) turned into the parts of a
//! [`Config`]: the interface, timeouts, retries, large objects and TLS (the authentication
//! method is `auth_method`'s). Every complaint about an option goes through [`bad`] or
//! [`missing`], so each names the option and says what to set; no complaint quotes a secret.

use std::collections::HashMap;
use std::time::Duration;

use url::Url;

use super::{keys, Interface, LargeObjects, RetryPolicy, Timeouts, TlsOptions};
use crate::error::{Error, Result};
use crate::secret::SecretUrl;

/// The longest duration an option may give. Longer timeouts are no timeouts, and deadlines
/// computed from huge values would overflow the clock.
pub(super) const MAX_DURATION: Duration = Duration::from_secs(7 * 24 * 3600);

/// The most retries `number-of-retries` may ask for.
const MAX_RETRIES: u32 = 100;

/// The most parallel segment transfers `openstack-segment-threads` may ask for.
const MAX_SEGMENT_THREADS: usize = 64;

/// Parses `1048576`, `64MiB`, `500MB`, `1GiB` (units case-insensitive, a space allowed before
/// them); None when it is not a size or does not fit in 64 bits.
pub(super) fn parse_size(value: &str) -> Option<u64> {
    let v = value.trim();
    let digits = v.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let number: u64 = v[..digits].parse().ok()?;
    let unit = v[digits..].trim().to_ascii_lowercase();
    let factor: u64 = match unit.as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1000,
        "kib" => 1 << 10,
        "m" | "mb" => 1000 * 1000,
        "mib" => 1 << 20,
        "g" | "gb" => 1000 * 1000 * 1000,
        "gib" => 1 << 30,
        "t" | "tb" => 1000 * 1000 * 1000 * 1000,
        "tib" => 1 << 40,
        _ => return None,
    };
    number.checked_mul(factor)
}

/// Parses `openstack-tls-fingerprint`: SHA-256 digests as 64 hex digits each, case-insensitive,
/// with or without `:` between the bytes, several separated by commas (empty entries ignored).
/// None when one of them is not such a digest.
pub(super) fn parse_fingerprints(value: &str) -> Option<Vec<[u8; 32]>> {
    let mut pins = Vec::new();
    for entry in value.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let hex: Vec<u8> = entry.bytes().filter(|b| *b != b':').collect();
        if hex.len() != 64 || !hex.iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        // With colons, they must separate bytes ("ab:cd"), not split them ("a:bcd").
        if entry.contains(':') && entry.split(':').any(|byte| byte.len() != 2) {
            return None;
        }
        let mut pin = [0u8; 32];
        for (i, pair) in hex.chunks(2).enumerate() {
            let text = std::str::from_utf8(pair).ok()?;
            pin[i] = u8::from_str_radix(text, 16).ok()?;
        }
        if !pins.contains(&pin) {
            pins.push(pin);
        }
    }
    Some(pins)
}

/// A boolean option's value (`true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`); `default` when
/// absent or empty.
pub(super) fn boolean(key: &str, value: Option<&str>, default: bool) -> Result<bool> {
    let v = value
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    match v.as_str() {
        "" => Ok(default),
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(bad(key, format!("must be true or false, got '{v}'"))),
    }
}

/// An option with an unusable value: "option 'KEY' PROBLEM".
pub(super) fn bad(key: &str, problem: impl std::fmt::Display) -> Error {
    Error::invalid_url(format!("option '{key}' {problem}"))
}

/// A required option that is absent: "missing option 'KEY': HINT".
pub(super) fn missing(key: &str, hint: impl std::fmt::Display) -> Error {
    Error::invalid_url(format!(
        "missing option '{key}': {hint} (in the URL query or the options)"
    ))
}

/// The merged options; empty values count as absent.
pub(super) struct Options(HashMap<String, String>);

impl Options {
    pub(super) fn new(merged: HashMap<String, String>) -> Self {
        Options(merged)
    }

    /// The value of `key`, when given and not empty.
    pub(super) fn get(&self, key: &str) -> Option<&str> {
        self.0
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    pub(super) fn require(&self, key: &str, hint: &str) -> Result<&str> {
        self.get(key).ok_or_else(|| missing(key, hint))
    }

    pub(super) fn http_url(&self, key: &str, value: &str) -> Result<SecretUrl> {
        let url = Url::parse(value.trim()).map_err(|e| {
            bad(
                key,
                format!("is not a valid URL ({e}): give e.g. https://keystone.example:5000/v3"),
            )
        })?;
        if url.scheme() != "http" && url.scheme() != "https" {
            return Err(bad(
                key,
                format!(
                    "must be an http:// or https:// URL, not {}://",
                    url.scheme()
                ),
            ));
        }
        Ok(SecretUrl::new(url))
    }

    fn duration(&self, key: &str, default: Duration, zero_ok: bool) -> Result<Duration> {
        let Some(value) = self.get(key) else {
            return Ok(default);
        };
        let v = value.trim();
        let parsed = if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
            // A run of digits too long for u64 is still a (too long) number of seconds.
            Some(Duration::from_secs(v.parse::<u64>().unwrap_or(u64::MAX)))
        } else {
            humantime::parse_duration(v).ok()
        };
        match parsed {
            Some(d) if d > MAX_DURATION => Err(bad(
                key,
                "is longer than 7 days: give a shorter duration, e.g. 30s, 5m or 1h",
            )),
            Some(d) if zero_ok || !d.is_zero() => Ok(d),
            Some(_) => Err(bad(key, "must be greater than zero")),
            None => Err(bad(
                key,
                format!("is not a duration: write e.g. 30s, 5m or 1h (got '{v}')"),
            )),
        }
    }

    /// `openstack-delete-after`: a whole number of seconds or a duration (`90d`, `12h`, `4w`);
    /// at least one second, at most 100 years. None when absent or empty.
    pub(super) fn delete_after(&self) -> Result<Option<Duration>> {
        let key = keys::DELETE_AFTER;
        let Some(v) = self.get(key).map(str::trim).filter(|v| !v.is_empty()) else {
            return Ok(None);
        };
        let parsed = if v.bytes().all(|b| b.is_ascii_digit()) {
            Some(Duration::from_secs(v.parse::<u64>().unwrap_or(u64::MAX)))
        } else {
            humantime::parse_duration(v).ok()
        };
        match parsed {
            Some(d) if d > crate::swift::meta::MAX_EXPIRY => Err(bad(
                key,
                "is longer than 100 years: give e.g. 30d, 12w or 365d",
            )),
            Some(d) if d >= Duration::from_secs(1) => Ok(Some(d)),
            Some(_) => Err(bad(key, "must be at least one second")),
            None => Err(bad(
                key,
                format!("is not a duration: write e.g. 86400, 30d, 12h or 4w (got '{v}')"),
            )),
        }
    }

    /// `short-timeout`, `read-write-timeout`, `list-timeout`.
    pub(super) fn timeouts(&self) -> Result<Timeouts> {
        let d = Timeouts::default();
        Ok(Timeouts {
            short: self.duration(keys::SHORT_TIMEOUT, d.short, false)?,
            read_write: self.duration(keys::READ_WRITE_TIMEOUT, d.read_write, false)?,
            list: self.duration(keys::LIST_TIMEOUT, d.list, false)?,
        })
    }

    /// `number-of-retries`, `retry-delay`, `openstack-max-retry-wait`.
    pub(super) fn retry_policy(&self) -> Result<RetryPolicy> {
        let d = RetryPolicy::default();
        let retries = match self.get(keys::RETRIES) {
            None => d.retries,
            Some(v) => v
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|n| *n <= MAX_RETRIES)
                .ok_or_else(|| {
                    bad(
                        keys::RETRIES,
                        format!("must be a whole number from 0 to {MAX_RETRIES}, got '{v}'"),
                    )
                })?,
        };
        Ok(RetryPolicy {
            retries,
            delay: self.duration(keys::RETRY_DELAY, d.delay, true)?,
            max_wait: self.duration(keys::MAX_RETRY_WAIT, d.max_wait, true)?,
        })
    }

    /// A byte size: a whole number of bytes, or one with a unit (`KiB`, `MiB`, `GiB`, `TiB` are
    /// powers of 1024; `kB`/`KB`, `MB`, `GB`, `TB` powers of 1000). None when absent.
    fn size(&self, key: &str) -> Result<Option<u64>> {
        let Some(value) = self.get(key) else {
            return Ok(None);
        };
        match parse_size(value) {
            Some(0) => Err(bad(key, "must be greater than zero")),
            Some(n) => Ok(Some(n)),
            None => Err(bad(
                key,
                format!(
                    "is not a size: write e.g. 1048576, 64MiB, 500MB or 1GiB (got '{}')",
                    value.trim()
                ),
            )),
        }
    }

    pub(super) fn boolean(&self, key: &str, default: bool) -> Result<bool> {
        boolean(key, self.get(key), default)
    }

    /// `openstack-storage-policy`: a policy name (Swift's names are printable ASCII without
    /// spaces or commas); whether the cluster has it is checked when a container is created.
    pub(super) fn storage_policy(&self) -> Result<Option<String>> {
        let Some(v) = self.get(keys::STORAGE_POLICY).map(str::trim) else {
            return Ok(None);
        };
        let fine = |c: char| c.is_ascii_graphic() && c != ',';
        if v.is_empty() || v.len() > 256 || !v.chars().all(fine) {
            return Err(bad(
                keys::STORAGE_POLICY,
                format!("must be the name of one of the cluster's storage policies (letters, digits, '-' and the like; no spaces or commas), got '{v}'"),
            ));
        }
        Ok(Some(v.to_string()))
    }

    /// `openstack-segment-size`, `-segment-container`, `-segment-threads`, `-leave-segments`,
    /// `openstack-list-large-object-sizes`.
    pub(super) fn large_objects(&self, container: &str) -> Result<LargeObjects> {
        let threads = match self.get(keys::SEGMENT_THREADS) {
            None => 4,
            Some(v) => v
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_SEGMENT_THREADS).contains(n))
                .ok_or_else(|| {
                    bad(
                        keys::SEGMENT_THREADS,
                        format!(
                            "must be a whole number from 1 to {MAX_SEGMENT_THREADS}, got '{v}'"
                        ),
                    )
                })?,
        };
        let segment_container = match self.get(keys::SEGMENT_CONTAINER) {
            Some(c) => {
                let c = c.trim();
                if c.contains('/') || c == "." || c == ".." || c.len() > super::MAX_CONTAINER_NAME {
                    return Err(bad(
                        keys::SEGMENT_CONTAINER,
                        format!(
                            "must be a container name (no '/', at most {} bytes)",
                            super::MAX_CONTAINER_NAME
                        ),
                    ));
                }
                c.to_string()
            }
            None => format!("{container}_segments"),
        };
        Ok(LargeObjects {
            segment_size: self.size(keys::SEGMENT_SIZE)?,
            segment_container,
            threads,
            leave_segments: self.boolean(keys::LEAVE_SEGMENTS, false)?,
            list_sizes: self.boolean(keys::LIST_LARGE_OBJECT_SIZES, true)?,
        })
    }

    /// `openstack-ca-file` (the path only: the file is read when the destination opens) and
    /// `openstack-tls-fingerprint`.
    pub(super) fn tls(&self) -> Result<TlsOptions> {
        let ca_file = self
            .get(keys::CA_FILE)
            .map(|p| std::path::PathBuf::from(p.trim()));
        let fingerprints = match self.get(keys::TLS_FINGERPRINT) {
            None => Vec::new(),
            Some(v) => parse_fingerprints(v).ok_or_else(|| {
                bad(
                    keys::TLS_FINGERPRINT,
                    format!(
                        "must be SHA-256 fingerprints of server certificates: 64 hex digits each, colons allowed, several separated by commas (got '{}')",
                        v.trim()
                    ),
                )
            })?,
        };
        Ok(TlsOptions {
            ca_file,
            fingerprints,
        })
    }

    /// `openstack-token-cache`: the file where tokens are kept between processes. Checked here
    /// only for what can be told at once (not empty, not a directory); the file is read and
    /// written when a token is needed.
    pub(super) fn token_cache(&self) -> Result<Option<std::path::PathBuf>> {
        let key = keys::TOKEN_CACHE;
        let Some(v) = self.get(key).map(str::trim).filter(|v| !v.is_empty()) else {
            return Ok(None);
        };
        let path = std::path::PathBuf::from(v);
        if v.ends_with('/') || path.is_dir() {
            return Err(bad(
                key,
                format!("names a directory ('{v}'): give a file path, e.g. ~/.cache/openstack-dest/tokens"),
            ));
        }
        Ok(Some(path))
    }

    /// `openstack-interface`.
    pub(super) fn interface(&self) -> Result<Interface> {
        let Some(value) = self.get(keys::INTERFACE) else {
            return Ok(Interface::Public);
        };
        let v = value.trim().to_ascii_lowercase();
        match v.trim_end_matches("url") {
            "public" => Ok(Interface::Public),
            "internal" => Ok(Interface::Internal),
            "admin" => Ok(Interface::Admin),
            _ => Err(bad(
                keys::INTERFACE,
                format!("must be public, internal or admin, got '{v}'"),
            )),
        }
    }

    /// `openstack-storage-url` given with credentials (not with a token): the Swift account URL
    /// used instead of the catalog's endpoint, as the `swift` CLI's `--os-storage-url`.
    pub(super) fn storage_url_override(&self) -> Result<Option<SecretUrl>> {
        match (self.get(keys::STORAGE_URL), self.get(keys::AUTH_TOKEN)) {
            (Some(s), None) => Ok(Some(self.http_url(keys::STORAGE_URL, s)?)),
            _ => Ok(None),
        }
    }
}
