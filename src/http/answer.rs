//! The one mapping of what comes back — transport failures and HTTP answers of Keystone and
//! Swift — to [`Error`]s with a kind, a message that says what to do, the HTTP status and the
//! transaction id. Everything here is pure: building an error never sends a request.

use std::error::Error as StdError;

use reqwest::header::HeaderMap;

use super::driver::SendError;
use crate::error::{Error, ErrorKind};
use crate::headers;

/// One line describing an error and its causes, without repeating a cause already shown.
pub(crate) fn cause_chain(err: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = cur {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cur = e.source();
    }
    parts.join(": ")
}

/// Whether a failure (or one of its causes) is a timeout, judged by the errors' types.
fn is_timeout(err: &(dyn StdError + 'static)) -> bool {
    let mut cur: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(r) = e.downcast_ref::<reqwest::Error>() {
            if r.is_timeout() {
                return true;
            }
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::TimedOut {
                return true;
            }
            // reqwest wraps its own errors in io::Error for readers: look inside.
            if let Some(inner) = io.get_ref() {
                if is_timeout(inner) {
                    return true;
                }
            }
        }
        cur = e.source();
    }
    false
}

/// The first error of type `T` among `err` and its causes, looking inside `io::Error`s too
/// (whose `source()` skips the error they wrap).
fn find_cause<'a, T: StdError + 'static>(err: &'a (dyn StdError + 'static)) -> Option<&'a T> {
    let mut cur: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(t) = e.downcast_ref::<T>() {
            return Some(t);
        }
        if let Some(inner) = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            if let Some(t) = find_cause::<T>(inner) {
                return Some(t);
            }
        }
        cur = e.source();
    }
    None
}

/// `host:port` of the request behind a transport error, for messages.
fn host_of(err: &reqwest::Error) -> String {
    match err.url() {
        Some(u) => match (u.host_str(), u.port_or_known_default()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_string(),
            _ => u.as_str().to_string(),
        },
        None => "the server".to_string(),
    }
}

/// The error for a failed certificate verification (found among the causes as rustls's
/// `InvalidCertificate`), or None for any other transport failure.
fn certificate_failure(what: &str, err: &SendError) -> Option<Error> {
    // Certificates are checked in the handshake, before any body moves.
    let SendError::Http(err) = err else {
        return None;
    };
    let rustls::Error::InvalidCertificate(cert) = find_cause::<rustls::Error>(err)? else {
        return None;
    };
    let host = host_of(err);
    let name = err.url().and_then(|u| u.host_str()).unwrap_or("");
    Some(Error::new(
        ErrorKind::Tls,
        format!(
            "{what} failed: the TLS certificate of {host} {}",
            super::tls::describe(cert, name)
        ),
    ))
}

/// How a request that got no answer ends its try: a failed certificate verification is final
/// (waiting does not change a certificate), anything else is worth another try.
pub(crate) fn transport_failure(what: &str, err: &SendError) -> super::TryError {
    match certificate_failure(what, err) {
        Some(e) => super::TryError::Fail(e),
        None => super::TryError::Retry(transport_error(what, err), None),
    }
}

const TIMEOUT_HINT: &str =
    " (no answer in time: check the server, or raise short-timeout / read-write-timeout)";
const CONNECT_HINT: &str =
    " (could not connect: check the host, the port and that the server runs)";

/// A request that got no answer: it could not connect, the connection broke, or time ran out.
pub(crate) fn transport_error(what: &str, err: &SendError) -> Error {
    if let Some(e) = certificate_failure(what, err) {
        return e;
    }
    let chain = cause_chain(err);
    let connect = matches!(err, SendError::Http(e) if e.is_connect());
    if matches!(err, SendError::TimedOut(_)) || is_timeout(err) {
        Error::new(
            ErrorKind::Timeout,
            format!("{what} failed: {chain}{TIMEOUT_HINT}"),
        )
    } else if connect {
        Error::new(
            ErrorKind::Network,
            format!("{what} failed: {chain}{CONNECT_HINT}"),
        )
    } else {
        Error::new(ErrorKind::Network, format!("{what} failed: {chain}"))
    }
}

/// The body of an answer broke off after `got` (a description such as "5 of 10 bytes").
/// A timeout is [`ErrorKind::Timeout`]; a body shorter than announced is
/// [`ErrorKind::Integrity`]; anything else [`ErrorKind::Network`].
pub(crate) fn body_error(what: &str, err: &std::io::Error, got: &str, short: bool) -> Error {
    let cause = match err.get_ref() {
        Some(inner) => cause_chain(inner),
        None => err.to_string(),
    };
    let kind = if is_timeout(err) {
        ErrorKind::Timeout
    } else if short {
        ErrorKind::Integrity
    } else {
        ErrorKind::Network
    };
    Error::new(
        kind,
        format!("{what}: the transfer broke off after {got}: {cause}"),
    )
}

/// True for the answers worth trying again: 408, 429 and 498 (rate limiting), 500, 502-504.
pub(crate) fn is_retryable(status: u16) -> bool {
    matches!(status, 408 | 429 | 498 | 500 | 502 | 503 | 504)
}

/// The error of a retryable answer (used when the retries are spent).
pub(crate) fn retryable_error(what: &str, status: u16, h: &HeaderMap) -> Error {
    let (kind, text) = match status {
        408 => (
            ErrorKind::Timeout,
            "the server timed out waiting for the request",
        ),
        429 | 498 => (ErrorKind::Server, "the server is rate-limiting requests"),
        _ => (ErrorKind::Server, "the server failed"),
    };
    Error::new(kind, format!("{what}: {text}")).with_http(status, headers::trans_id(h))
}

/// What a Swift request was about, which decides what a 404 means.
#[derive(Clone, Copy, Debug)]
pub(crate) enum About<'a> {
    /// The account itself.
    Account,
    /// The container (named).
    Container(&'a str),
    /// An object, by full name, in a container known to exist (or not checked).
    Object(&'a str),
    /// An object whose container the operation found missing.
    ObjectInMissingContainer(&'a str),
}

/// The error for a Swift answer the operation did not expect.
pub(crate) fn swift_error(what: &str, status: u16, h: &HeaderMap, about: About) -> Error {
    let missing_container = |c: &str| {
        (
            ErrorKind::ContainerNotFound,
            format!("container '{c}' does not exist: create it first (create_container)"),
        )
    };
    let (kind, text) = match (status, about) {
        (s, _) if is_retryable(s) => return retryable_error(what, s, h),
        (300..=399, _) => (
            ErrorKind::Http,
            format!(
                "Swift answered with a redirect to {}, which is not followed (Swift never needs one, and it could carry the token to another host): check the storage URL in the catalog or openstack-storage-url",
                headers::redirect_target(h)
            ),
        ),
        (401, _) => (
            ErrorKind::Auth,
            "Swift refused the token: check that the user has a role on the project that Swift accepts"
                .to_string(),
        ),
        (403, _) => (
            ErrorKind::Forbidden,
            "the user may not do this (403): ask for a role on the project that allows it"
                .to_string(),
        ),
        (404, About::Object(name)) => (ErrorKind::NotFound, format!("object '{name}' does not exist")),
        (404, About::Container(c) | About::ObjectInMissingContainer(c)) => missing_container(c),
        (404, About::Account) => (
            ErrorKind::NotFound,
            "the Swift account does not exist".to_string(),
        ),
        (409, About::Container(c)) => (
            ErrorKind::ContainerNotEmpty,
            format!("container '{c}' still holds objects: delete them first, or ask for it to be emptied"),
        ),
        (409, _) => (
            ErrorKind::Http,
            "Swift reported a conflict (409), e.g. deleting a container that is not empty"
                .to_string(),
        ),
        (412, _) => (
            ErrorKind::Integrity,
            "the object changed while it was being read (412): try again".to_string(),
        ),
        (413, _) => (
            ErrorKind::TooLarge,
            "Swift refused the object as too large, or the quota is exceeded".to_string(),
        ),
        (422, _) => (
            ErrorKind::Integrity,
            "Swift found that the data did not match its MD5 (422); nothing was stored"
                .to_string(),
        ),
        (s, _) if s >= 500 => (ErrorKind::Server, "the server failed".to_string()),
        _ => (ErrorKind::Http, "unexpected answer from Swift".to_string()),
    };
    Error::new(kind, format!("{what}: {text}")).with_http(status, headers::trans_id(h))
}

/// The error for Swift refusing a token with 401 after the one re-authentication (or at once,
/// for a token given in the options).
pub(crate) fn token_refused(what: &str, h: &HeaderMap, given_token: bool) -> Error {
    let hint = if given_token {
        "Swift refused the token given in openstack-auth-token: get a new token"
    } else {
        "Swift refused a fresh token: check that the user has a role on the project that Swift accepts"
    };
    Error::new(ErrorKind::Auth, format!("{what}: {hint}")).with_http(401, headers::trans_id(h))
}

/// The error for a Keystone answer other than a token (`version` is "v2" or "v3").
pub(crate) fn keystone_error(what: &str, status: u16, h: &HeaderMap, version: &str) -> Error {
    let (kind, hint) = match status {
        s if is_retryable(s) => return retryable_error(what, s, h),
        300..=399 => (
            ErrorKind::Auth,
            format!(
                "Keystone answered with a redirect to {}, which is not followed (the password is never sent to another address): set openstack-authuri to the final URL",
                headers::redirect_target(h)
            ),
        ),
        400 => (
            ErrorKind::Auth,
            "Keystone called the request malformed: check the user, project and domain names"
                .to_string(),
        ),
        401 if version == "v2" => (
            ErrorKind::Auth,
            "Keystone refused the credentials: check auth-username, auth-password or openstack-apikey, and openstack-tenant-name".to_string(),
        ),
        401 => (
            ErrorKind::Auth,
            "Keystone refused the credentials: check auth-username, auth-password, openstack-tenant-name and openstack-domain-name".to_string(),
        ),
        403 => (
            ErrorKind::Forbidden,
            "Keystone refused the user (disabled, or no role on the project)".to_string(),
        ),
        404 => (
            ErrorKind::Auth,
            format!("Keystone has no {version} token API there: check openstack-authuri (it includes /v3 or /v2.0) and openstack-version"),
        ),
        _ => (ErrorKind::Http, "Keystone gave an unexpected answer".to_string()),
    };
    Error::new(kind, format!("{what}: {hint}")).with_http(status, headers::trans_id(h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_kinds() {
        let h = HeaderMap::new();
        let kind = |s, about| swift_error("op", s, &h, about).kind();
        assert_eq!(kind(404, About::Object("a")), ErrorKind::NotFound);
        assert_eq!(
            kind(404, About::ObjectInMissingContainer("c")),
            ErrorKind::ContainerNotFound
        );
        assert_eq!(
            kind(404, About::Container("c")),
            ErrorKind::ContainerNotFound
        );
        assert_eq!(kind(403, About::Account), ErrorKind::Forbidden);
        assert_eq!(
            kind(409, About::Container("c")),
            ErrorKind::ContainerNotEmpty
        );
        assert_eq!(kind(413, About::Object("a")), ErrorKind::TooLarge);
        assert_eq!(kind(422, About::Object("a")), ErrorKind::Integrity);
        assert_eq!(kind(503, About::Object("a")), ErrorKind::Server);
        assert_eq!(kind(408, About::Object("a")), ErrorKind::Timeout);
        assert_eq!(kind(307, About::Object("a")), ErrorKind::Http);
        assert_eq!(kind(418, About::Object("a")), ErrorKind::Http);
        assert_eq!(
            keystone_error("auth", 401, &h, "v3").kind(),
            ErrorKind::Auth
        );
        assert_eq!(
            keystone_error("auth", 403, &h, "v3").kind(),
            ErrorKind::Forbidden
        );
        assert_eq!(
            swift_error("op", 404, &h, About::Object("a")).http_status(),
            Some(404)
        );
    }

    #[test]
    fn a_certificate_error_is_found_inside_io_errors() {
        // hyper-rustls hands rustls's error up inside an io::Error, whose source() skips it.
        #[derive(Debug)]
        struct Outer(std::io::Error);
        impl std::fmt::Display for Outer {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("connect failed")
            }
        }
        impl StdError for Outer {
            fn source(&self) -> Option<&(dyn StdError + 'static)> {
                Some(&self.0)
            }
        }
        let tls = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let e = Outer(std::io::Error::new(std::io::ErrorKind::InvalidData, tls));
        assert!(matches!(
            find_cause::<rustls::Error>(&e),
            Some(rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer
            ))
        ));
        let plain = Outer(std::io::Error::other("reset"));
        assert!(find_cause::<rustls::Error>(&plain).is_none());
    }

    #[test]
    fn timeouts_are_told_by_type_not_by_text() {
        let e = std::io::Error::new(std::io::ErrorKind::TimedOut, "slow");
        assert!(is_timeout(&e));
        let e = std::io::Error::other("the operation timed out");
        assert!(!is_timeout(&e), "the words of a message are not a timeout");
        let e = body_error("get", &std::io::Error::other("reset"), "1 of 2 bytes", true);
        assert_eq!(e.kind(), ErrorKind::Integrity);
    }
}
