//! Object and container names: validation and percent-encoding per path segment.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::error::{Error, Result};

/// Swift's limit on an object name (prefix included), in bytes.
pub const MAX_OBJECT_NAME: usize = 1024;

/// Everything but RFC 3986's unreserved characters is escaped, so spaces, `+`, `%`, `?`, `#`
/// and non-ASCII survive the trip through any proxy.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Escapes one path segment.
pub fn encode_segment(s: &str) -> String {
    utf8_percent_encode(s, SEGMENT).to_string()
}

/// Escapes a path, keeping its `/` separators.
pub fn encode_path(path: &str) -> String {
    path.split('/')
        .map(encode_segment)
        .collect::<Vec<_>>()
        .join("/")
}

/// The full object name for `name` under `prefix`, checked against Swift's limits before any
/// request is made.
pub fn object_name(prefix: &str, name: &str) -> Result<String> {
    if name.is_empty() {
        return Err(Error::invalid_argument(
            "the object name is empty: give the file's name",
        ));
    }
    if name.contains('\0') {
        return Err(Error::invalid_argument(
            "the object name contains a NUL character",
        ));
    }
    let full = format!("{prefix}{name}");
    if full.len() > MAX_OBJECT_NAME {
        return Err(Error::invalid_argument(format!(
            "the object name is {} bytes long with the prefix; Swift allows at most {MAX_OBJECT_NAME}: use a shorter name or prefix",
            full.len()
        )));
    }
    Ok(full)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_must_round_trip() {
        assert_eq!(encode_path("a b/c+d%e?f#g"), "a%20b/c%2Bd%25e%3Ff%23g");
        assert_eq!(encode_path("été/x-y_z.~"), "%C3%A9t%C3%A9/x-y_z.~");
    }

    #[test]
    fn limits() {
        assert!(object_name("p/", "").is_err());
        assert_eq!(object_name("p/", "f").unwrap(), "p/f");
        assert!(object_name("", &"x".repeat(1024)).is_ok());
        let e = object_name("p/", &"x".repeat(1023)).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::InvalidArgument);
        assert!(e.message().contains("1025"));
    }
}
