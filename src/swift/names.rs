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

/// Refuses a path with a `.` or `..` segment. URL normalisation (RFC 3986 and WHATWG, which
/// counts `%2e` as a dot too) folds such segments away before a request leaves, so the request
/// would reach another object, another container or a listing; they cannot be sent literally.
/// `what` names the path in the message ("the object name", "the prefix").
pub fn check_dot_segments(path: &str, what: &str) -> Result<()> {
    match path.split('/').find(|s| *s == "." || *s == "..") {
        None => Ok(()),
        Some(seg) => Err(Error::invalid_argument(format!(
            "{what} '{path}' has a '{seg}' path segment, which URLs fold away (it would reach another object): rename it without '.' or '..' between slashes"
        ))),
    }
}

/// The full object name for `name` under `prefix`, checked against Swift's limits and against
/// dot segments before any request is made.
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
    check_dot_segments(name, "the object name")?;
    let full = format!("{prefix}{name}");
    if full.len() > MAX_OBJECT_NAME {
        return Err(Error::invalid_argument(format!(
            "the object name is {} bytes long with the prefix; Swift allows at most {MAX_OBJECT_NAME}: use a shorter name or prefix",
            full.len()
        )));
    }
    Ok(full)
}

/// The path of a request below the storage URL: `/{container}` with an encoded query, or
/// `/{container}/{object}`, every segment percent-encoded; empty for the account itself.
pub(crate) fn request_path(container: &str, object: Option<&str>, query: Option<&str>) -> String {
    let c = encode_segment(container);
    match (object, query) {
        (Some(name), None) => format!("/{c}/{}", encode_path(name)),
        (Some(name), Some(q)) => format!("/{c}/{}?{q}", encode_path(name)),
        (None, Some(q)) => format!("/{c}?{q}"),
        (None, None) => format!("/{c}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The container and object a URL reaches once parsed the way reqwest parses it.
    fn reached(storage_url: &str, container: &str, full: &str) -> (String, String) {
        let url = url::Url::parse(&format!(
            "{storage_url}{}",
            request_path(container, Some(full), None)
        ))
        .unwrap();
        let segs: Vec<String> = url
            .path_segments()
            .unwrap()
            .map(|s| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8()
                    .unwrap()
                    .into_owned()
            })
            .collect();
        // /v1/AUTH_p/<container>/<object...>
        (segs[2].clone(), segs[3..].join("/"))
    }

    #[test]
    fn dot_segments_are_refused_before_any_request() {
        for name in [
            "x/..",
            "..",
            ".",
            "./a",
            "a/./b",
            "a/../../other/x",
            "a/.",
            "../x",
        ] {
            let e = object_name("p/", name).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::InvalidArgument, "{name}");
            assert!(e.message().contains("path segment"), "{e}");
        }
        // Dots inside a segment, and a literal "%2e" (its '%' is escaped), are ordinary names.
        for name in ["...", ".a", "a.", "a/.b/..c", "%2e", "%2E%2e/x", "a//b"] {
            let full = object_name("p/", name).unwrap();
            assert_eq!(
                reached("http://h/v1/AUTH_p", "c", &full),
                ("c".into(), full.clone())
            );
        }
    }

    proptest! {
        /// Any name is refused, or reaches exactly the container and object it names.
        #[test]
        fn a_name_is_refused_or_reaches_exactly_itself(
            container in "[^/\\x00]{1,20}",
            prefix in "([^\\x00]{0,12}/){0,2}",
            name in "[./a%2eE\\\\?#;]{0,3}(/[./a%2eE?#\\\\]{0,3}){0,3}|\\PC{1,30}",
        ) {
            prop_assume!(container != "." && container != "..");
            prop_assume!(check_dot_segments(&prefix, "the prefix").is_ok());
            if let Ok(full) = object_name(&prefix, &name) {
                let (c, o) = reached("https://swift.example:8080/v1/AUTH_p", &container, &full);
                prop_assert_eq!(c, container);
                prop_assert_eq!(o, full);
            } else {
                prop_assert!(name.is_empty() || name.split('/').any(|s| s == "." || s == "..") || prefix.len() + name.len() > MAX_OBJECT_NAME);
            }
        }
    }

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
