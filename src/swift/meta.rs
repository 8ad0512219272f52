//! A host's own object metadata (`X-Object-Meta-*`) and expiry (`X-Delete-After` /
//! `X-Delete-At`): what a put or a metadata update may carry, checked before anything is sent.
//!
//! Keys are HTTP tokens without `_` (Swift turns `_` into `-`), compared without regard to case
//! and returned in lower case, as python-swiftclient returns them. `mtime` is the library's own
//! key (`X-Object-Meta-Mtime`, the file time `put_file` stores) and cannot be set. Values are
//! UTF-8, sent as their raw bytes — what python-swiftclient sends, and what Swift stores and
//! returns — without control characters (CR, LF, NUL...) or leading or trailing white space,
//! which HTTP would drop. Swift's limits (`max_meta_name_length`, `max_meta_value_length`,
//! `max_meta_count`, `max_meta_overall_size` from `/info`, counted in bytes and including the
//! library's own `mtime`) are checked too.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::error::{Error, Result};

/// The longest expiry accepted (an `openstack-delete-after` or a put's `delete_after`).
pub const MAX_EXPIRY: Duration = Duration::from_secs(100 * 366 * 24 * 3600);

/// The key the library keeps for itself (the file time, `X-Object-Meta-Mtime`).
pub const RESERVED_KEY: &str = "mtime";

const META_PREFIX: &str = "x-object-meta-";

/// Headers of a request, names and values checked.
pub(crate) type Headers = Vec<(HeaderName, HeaderValue)>;

/// What a put (or [`crate::Destination::update_metadata`]) stores besides the data: the host's
/// own metadata and an expiry.
///
/// ```
/// use std::time::Duration;
/// let options = openstack_dest::PutOptions::new()
///     .meta("backup-set", "2024-05-01")
///     .delete_after(Duration::from_secs(90 * 24 * 3600));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PutOptions {
    /// The host's metadata, key and value (stored as `X-Object-Meta-<key>`). In a put an empty
    /// value stores nothing; in an update it removes the key.
    pub metadata: Vec<(String, String)>,
    /// The object expires this long after the request (`X-Delete-After`; whole seconds, a
    /// fraction rounds up). Overrides the destination's `openstack-delete-after`.
    pub delete_after: Option<Duration>,
    /// The object expires at this time (`X-Delete-At`, whole seconds). Overrides the
    /// destination's `openstack-delete-after`.
    pub delete_at: Option<SystemTime>,
    /// The object never expires: overrides the destination's `openstack-delete-after` in a put,
    /// and removes the expiry in an update.
    pub no_expiry: bool,
}

impl PutOptions {
    /// No metadata; the destination's default expiry.
    pub fn new() -> Self {
        PutOptions::default()
    }

    /// Adds one metadata key and value.
    pub fn meta(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.push((key.into(), value.into()));
        self
    }

    /// Expires the object `after` from now.
    pub fn delete_after(mut self, after: Duration) -> Self {
        self.delete_after = Some(after);
        self
    }

    /// Expires the object at `at`.
    pub fn delete_at(mut self, at: SystemTime) -> Self {
        self.delete_at = Some(at);
        self
    }

    /// The object never expires, whatever the destination's `openstack-delete-after`.
    pub fn no_expiry(mut self) -> Self {
        self.no_expiry = true;
        self
    }
}

/// Swift's metadata limits, from `/info` (Swift's defaults when it says nothing).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct MetaLimits {
    pub(crate) max_meta_name_length: usize,
    pub(crate) max_meta_value_length: usize,
    pub(crate) max_meta_count: usize,
    pub(crate) max_meta_overall_size: usize,
}

impl MetaLimits {
    /// Swift's defaults.
    pub(crate) const SWIFT: MetaLimits = MetaLimits {
        max_meta_name_length: 128,
        max_meta_value_length: 256,
        max_meta_count: 90,
        max_meta_overall_size: 4096,
    };
}

impl Default for MetaLimits {
    fn default() -> Self {
        MetaLimits::SWIFT
    }
}

/// When an object expires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Expiry {
    /// This many seconds after the request (Swift's clock).
    After(u64),
    /// At this Unix time, in seconds.
    At(u64),
}

impl Expiry {
    /// The header that sets it on a single object.
    pub(crate) fn header(self) -> (HeaderName, HeaderValue) {
        match self {
            Expiry::After(s) => (
                HeaderName::from_static("x-delete-after"),
                HeaderValue::from(s),
            ),
            Expiry::At(s) => (HeaderName::from_static("x-delete-at"), HeaderValue::from(s)),
        }
    }

    /// One absolute time, for everything a large object is made of (its segments and its
    /// manifest expire together, so none is left behind): an `After` counts from now, by the
    /// local clock.
    pub(crate) fn absolute(self) -> Expiry {
        match self {
            Expiry::After(s) => Expiry::At(unix_now().saturating_add(s)),
            at => at,
        }
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Checked options: metadata headers ready to send (keys in lower case, empty values kept for
/// an update to remove them) and the expiry that applies.
#[derive(Clone, Debug, Default)]
pub(crate) struct Prepared {
    /// (key without the prefix, lower case; value).
    pub(crate) metadata: Vec<(String, String)>,
    /// The expiry to set, if any.
    pub(crate) expiry: Option<Expiry>,
    /// Whether the options remove the expiry (an update's `no_expiry`).
    pub(crate) no_expiry: bool,
    /// Whether the options say anything about the expiry.
    pub(crate) expiry_given: bool,
}

impl Prepared {
    /// The metadata as headers (empty values, which a put does not store, left out).
    pub(crate) fn meta_headers(&self) -> Headers {
        self.metadata
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .filter_map(|(k, v)| header(k, v.as_bytes()))
            .collect()
    }
}

fn header(key: &str, value: &[u8]) -> Option<(HeaderName, HeaderValue)> {
    let name = HeaderName::from_bytes(format!("{META_PREFIX}{key}").as_bytes()).ok()?;
    Some((name, HeaderValue::from_bytes(value).ok()?))
}

fn invalid(message: String) -> Error {
    Error::invalid_argument(message)
}

/// Checks one key (syntax only); returns it in lower case.
pub fn check_key(key: &str) -> Result<String> {
    if key.is_empty() {
        return Err(invalid("a metadata key is empty".into()));
    }
    let tchar = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^`|~".contains(c);
    if let Some(c) = key.chars().find(|c| !tchar(*c)) {
        let why = if c == '_' {
            " (Swift would store it as '-')".to_string()
        } else {
            String::new()
        };
        return Err(invalid(format!(
            "the metadata key '{}' has {c:?}{why}: keys are letters, digits and !#$%&'*+-.^`|~",
            key.escape_debug()
        )));
    }
    let lower = key.to_ascii_lowercase();
    if lower == RESERVED_KEY {
        return Err(invalid(format!(
            "the metadata key '{key}' is the library's own (the file time that put_file stores and get_file restores): choose another key"
        )));
    }
    Ok(lower)
}

/// Checks one value (syntax only).
pub fn check_value(key: &str, value: &str) -> Result<()> {
    if let Some(c) = value.chars().find(|c| c.is_control() && *c != '\t') {
        return Err(invalid(format!(
            "the value of metadata key '{key}' has the control character {c:?} (CR, LF, NUL and the like cannot be sent in a header)"
        )));
    }
    if value.trim_matches([' ', '\t']) != value {
        return Err(invalid(format!(
            "the value of metadata key '{key}' starts or ends with white space, which HTTP drops"
        )));
    }
    Ok(())
}

fn whole_seconds_up(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

/// Checks `options` (syntax only: nothing is sent) and resolves the expiry against the
/// destination's `default_after` (which applies only when `put` is true).
pub(crate) fn prepare(
    options: &PutOptions,
    default_after: Option<Duration>,
    put: bool,
) -> Result<Prepared> {
    let mut seen = std::collections::HashSet::new();
    let mut metadata = Vec::with_capacity(options.metadata.len());
    for (k, v) in &options.metadata {
        let key = check_key(k)?;
        check_value(&key, v)?;
        if !seen.insert(key.clone()) {
            return Err(invalid(format!(
                "the metadata key '{key}' is given twice (keys do not depend on case)"
            )));
        }
        metadata.push((key, v.clone()));
    }
    let given = [
        options.delete_after.is_some(),
        options.delete_at.is_some(),
        options.no_expiry,
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if given > 1 {
        return Err(invalid(
            "give at most one of delete_after, delete_at and no_expiry".into(),
        ));
    }
    let expiry = if let Some(d) = options.delete_after {
        if d < Duration::from_secs(1) || d > MAX_EXPIRY {
            return Err(invalid(format!(
                "delete_after must be from 1 second to 100 years, got {d:?}"
            )));
        }
        Some(Expiry::After(whole_seconds_up(d)))
    } else if let Some(at) = options.delete_at {
        let secs = at
            .duration_since(UNIX_EPOCH)
            .map(whole_seconds_up)
            .map_err(|_| invalid("delete_at is before 1970".into()))?;
        if secs <= unix_now() {
            return Err(invalid(format!(
                "delete_at ({secs}, Unix time) is not in the future"
            )));
        }
        if secs > unix_now().saturating_add(MAX_EXPIRY.as_secs()) {
            return Err(invalid(format!(
                "delete_at ({secs}, Unix time) is more than 100 years away"
            )));
        }
        Some(Expiry::At(secs))
    } else if options.no_expiry || !put {
        None
    } else {
        default_after.map(|d| Expiry::After(whole_seconds_up(d)))
    };
    Ok(Prepared {
        metadata,
        expiry,
        no_expiry: options.no_expiry,
        expiry_given: given > 0,
    })
}

/// Checks the whole set of metadata an object will have against Swift's limits: `keys_values`
/// are every `X-Object-Meta-*` key (without the prefix) and value, the library's own included.
pub(crate) fn check_limits<'a>(
    keys_values: impl IntoIterator<Item = (&'a str, &'a [u8])>,
    limits: &MetaLimits,
) -> Result<()> {
    let (mut count, mut size) = (0usize, 0usize);
    for (k, v) in keys_values {
        count += 1;
        size += k.len() + v.len();
        if k.len() > limits.max_meta_name_length {
            return Err(invalid(format!(
                "the metadata key '{k}' is longer than the cluster's {} bytes",
                limits.max_meta_name_length
            )));
        }
        if v.len() > limits.max_meta_value_length {
            return Err(invalid(format!(
                "the value of metadata key '{k}' is {} bytes, more than the cluster's {}",
                v.len(),
                limits.max_meta_value_length
            )));
        }
    }
    if count > limits.max_meta_count {
        return Err(invalid(format!(
            "{count} metadata keys (the library's own 'mtime' included when there is one) are more than the cluster's {}",
            limits.max_meta_count
        )));
    }
    if size > limits.max_meta_overall_size {
        return Err(invalid(format!(
            "the metadata is {size} bytes (keys and values, the library's own 'mtime' included when there is one), more than the cluster's {}",
            limits.max_meta_overall_size
        )));
    }
    Ok(())
}

/// Every `X-Object-Meta-*` header of an answer as (key without the prefix, raw value).
pub(crate) fn all_meta(h: &HeaderMap) -> Vec<(String, HeaderValue)> {
    h.iter()
        .filter_map(|(name, value)| {
            let key = name.as_str().strip_prefix(META_PREFIX)?;
            (!key.is_empty()).then(|| (key.to_string(), value.clone()))
        })
        .collect()
}

/// The host's metadata of an answer (not the library's `mtime`): keys in lower case, values
/// decoded as UTF-8 (bytes that are not UTF-8, from another tool, become U+FFFD).
pub(crate) fn user_meta(h: &HeaderMap) -> BTreeMap<String, String> {
    all_meta(h)
        .into_iter()
        .filter(|(k, _)| k != RESERVED_KEY)
        .map(|(k, v)| (k, String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect()
}

/// The `X-Delete-At` of an answer.
pub(crate) fn delete_at(h: &HeaderMap) -> Option<SystemTime> {
    let v = h.get("x-delete-at")?.to_str().ok()?.trim();
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    UNIX_EPOCH
        .checked_add(Duration::from_secs(v.parse().ok()?))
        .and_then(crate::time::representable)
}

/// The metadata an update leaves: the object's `current` metadata (every key, the library's
/// own `mtime` and keys of other tools included, raw bytes kept) with the update's keys set,
/// and those with an empty value removed.
pub(crate) fn merged(current: Vec<(String, HeaderValue)>, update: &Prepared) -> Headers {
    let mut all: BTreeMap<String, HeaderValue> = current.into_iter().collect();
    for (k, v) in &update.metadata {
        if v.is_empty() {
            all.remove(k);
        } else if let Ok(value) = HeaderValue::from_bytes(v.as_bytes()) {
            all.insert(k.clone(), value);
        }
    }
    all.into_iter()
        .filter_map(|(k, v)| header(&k, v.as_bytes()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prep(o: &PutOptions) -> Result<Prepared> {
        prepare(o, None, true)
    }

    #[test]
    fn keys_are_tokens_in_lower_case_and_mtime_is_reserved() {
        assert_eq!(check_key("Backup-Set").unwrap(), "backup-set");
        for bad in ["", "a b", "a_b", "a:b", "é", "a\r\nx", "a\0"] {
            let e = check_key(bad).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::InvalidArgument, "{bad:?}");
        }
        assert!(check_key("a_b").unwrap_err().message().contains("'-'"));
        for reserved in ["mtime", "MTime"] {
            assert!(check_key(reserved).unwrap_err().message().contains("own"));
        }
    }

    #[test]
    fn values_are_header_safe() {
        check_value("k", "blüe 50% a%20b \t x").unwrap();
        for bad in ["a\rb", "a\nb", "a\0b", "a\u{7f}", " lead", "trail "] {
            assert!(check_value("k", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn options_resolve_the_expiry() {
        let day = Duration::from_secs(86400);
        let p = prepare(&PutOptions::new(), Some(day), true).unwrap();
        assert_eq!(p.expiry, Some(Expiry::After(86400)));
        let p = prepare(&PutOptions::new().no_expiry(), Some(day), true).unwrap();
        assert_eq!(p.expiry, None);
        // An update does not apply the destination's default.
        let p = prepare(&PutOptions::new(), Some(day), false).unwrap();
        assert_eq!((p.expiry, p.expiry_given), (None, false));
        let p = prep(&PutOptions::new().delete_after(Duration::from_millis(1500))).unwrap();
        assert_eq!(p.expiry, Some(Expiry::After(2)));
        let at = SystemTime::now() + day;
        let p = prep(&PutOptions::new().delete_at(at)).unwrap();
        assert!(matches!(p.expiry, Some(Expiry::At(_))));
        for bad in [
            PutOptions::new().delete_after(Duration::ZERO),
            PutOptions::new().delete_after(MAX_EXPIRY * 2),
            PutOptions::new().delete_at(SystemTime::now() - day),
            PutOptions::new().delete_after(day).delete_at(at),
            PutOptions::new().delete_after(day).no_expiry(),
            PutOptions::new().meta("a", "1").meta("A", "2"),
            PutOptions::new().meta("mtime", "1"),
        ] {
            assert!(prep(&bad).is_err(), "{bad:?}");
        }
        assert!(matches!(Expiry::After(10).absolute(), Expiry::At(t) if t > unix_now()));
    }

    #[test]
    fn limits_count_bytes_and_keys() {
        let l = MetaLimits::default();
        check_limits([("k", "v".as_bytes())], &l).unwrap();
        let long = "x".repeat(257);
        assert!(check_limits([("k", long.as_bytes())], &l).is_err());
        let key = "k".repeat(129);
        assert!(check_limits([(key.as_str(), &b"v"[..])], &l).is_err());
        let keys: Vec<String> = (0..91).map(|i| format!("k{i}")).collect();
        assert!(check_limits(keys.iter().map(|k| (k.as_str(), &b"v"[..])), &l).is_err());
        let v = "ü".repeat(128); // 256 bytes
        let keys: Vec<String> = (0..16).map(|i| format!("k{i}")).collect();
        let e = check_limits(keys.iter().map(|k| (k.as_str(), v.as_bytes())), &l).unwrap_err();
        assert!(e.message().contains("4096"), "{e}");
    }

    #[test]
    fn answers_give_user_metadata_and_the_delete_time() {
        let mut h = HeaderMap::new();
        h.insert("x-object-meta-mtime", HeaderValue::from_static("1.5"));
        h.insert(
            "x-object-meta-color",
            HeaderValue::from_bytes("blüe".as_bytes()).unwrap(),
        );
        h.insert(
            "x-object-meta-odd",
            HeaderValue::from_bytes(b"a\xffb").unwrap(),
        );
        h.insert("x-delete-at", HeaderValue::from_static("1796276426"));
        let m = user_meta(&h);
        assert_eq!(m.len(), 2);
        assert_eq!(m["color"], "blüe");
        assert_eq!(m["odd"], "a\u{fffd}b");
        assert_eq!(
            delete_at(&h),
            Some(UNIX_EPOCH + Duration::from_secs(1_796_276_426))
        );
        // An update keeps what it does not name, the library's mtime too.
        let update = prep(&PutOptions::new().meta("color", "").meta("new", "1")).unwrap();
        let names: Vec<String> = merged(all_meta(&h), &update)
            .into_iter()
            .map(|(n, _)| n.as_str().to_string())
            .collect();
        assert_eq!(
            names,
            [
                "x-object-meta-mtime",
                "x-object-meta-new",
                "x-object-meta-odd"
            ]
        );
    }

    #[test]
    fn an_expiry_no_binding_can_show_is_unknown() {
        for v in ["253402300800", "1000000000000000", "18446744073709551615"] {
            let mut h = HeaderMap::new();
            h.insert("x-delete-at", v.parse().unwrap());
            assert_eq!(delete_at(&h), None, "{v}");
        }
    }
}
