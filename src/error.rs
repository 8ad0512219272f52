//! The one error type of the library, with a stable [`ErrorKind`] that maps 1:1 to the C status.

use std::fmt;

/// What went wrong, in the categories a caller can act on; stable across versions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// A caller-supplied argument was unusable: an empty or over-long name, invalid UTF-8.
    InvalidArgument,
    /// The `openstack://` URL or an option is malformed, missing or contradictory.
    InvalidUrl,
    /// Keystone or Swift refused the credentials or the token.
    Auth,
    /// The user is known but lacks the rights for this operation (HTTP 403).
    Forbidden,
    /// The object does not exist.
    NotFound,
    /// The container does not exist.
    ContainerNotFound,
    /// The catalog has no object-store endpoint for the requested interface.
    EndpointNotFound,
    /// The object or the account quota is too large for the server (HTTP 413).
    TooLarge,
    /// The data did not match its MD5 or its length.
    Integrity,
    /// The connection failed: refused, reset, name resolution, or a TLS failure other than
    /// certificate verification ([`ErrorKind::Tls`]).
    Network,
    /// No progress within the configured timeout.
    Timeout,
    /// The server failed (HTTP 5xx, or 429 that did not clear) after all retries.
    Server,
    /// A local file could not be read or written.
    LocalIo,
    /// A progress callback asked to stop.
    Cancelled,
    /// A host's read or write callback reported an error.
    Callback,
    /// Any other unexpected HTTP answer.
    Http,
    /// The container still holds objects (deleting it needs them deleted first).
    ContainerNotEmpty,
    /// A server's TLS certificate failed verification (unknown CA, wrong name, expired, not the
    /// pinned one). Never retried: waiting does not change a certificate.
    Tls,
}

/// An error with a one-line message a user can act on, and the HTTP status and Swift
/// transaction id where there was one. Never contains a password, API key or token.
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    http_status: Option<u16>,
    trans_id: Option<String>,
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A new error of `kind` with a message (one line). Every secret the process knows
    /// (passwords, API keys, tokens) is replaced by `***`, whatever a server echoed into it.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: crate::secret::scrub(&message.into()),
            http_status: None,
            trans_id: None,
        }
    }

    /// Attaches the HTTP status and Swift's transaction id of the answer behind the error.
    pub fn with_http(mut self, status: u16, trans_id: Option<String>) -> Self {
        self.http_status = Some(status);
        self.trans_id = trans_id.map(|t| crate::secret::scrub(&t));
        self
    }

    /// The category, stable across versions.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message without the HTTP details.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The HTTP status of the answer behind the error, if there was one.
    pub fn http_status(&self) -> Option<u16> {
        self.http_status
    }

    /// Swift's `X-Trans-Id` of the answer behind the error, if there was one.
    pub fn trans_id(&self) -> Option<&str> {
        self.trans_id.as_deref()
    }

    /// Shorthand for an [`ErrorKind::InvalidUrl`] error.
    pub(crate) fn invalid_url(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::InvalidUrl, message)
    }

    /// Shorthand for an [`ErrorKind::InvalidArgument`] error.
    pub(crate) fn invalid_argument(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::InvalidArgument, message)
    }

    /// A local I/O error on `what` (a path or a description).
    pub(crate) fn local_io(what: &str, err: &std::io::Error) -> Self {
        Error::new(ErrorKind::LocalIo, format!("{what}: {err}"))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        match (self.http_status, &self.trans_id) {
            (Some(s), Some(t)) => write!(f, " (HTTP {s}, transaction {t})"),
            (Some(s), None) => write!(f, " (HTTP {s})"),
            _ => Ok(()),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Error({:?}: {self})", self.kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_carries_status_and_transaction() {
        let e = Error::new(ErrorKind::NotFound, "object 'a' is missing")
            .with_http(404, Some("tx123".into()));
        assert_eq!(
            e.to_string(),
            "object 'a' is missing (HTTP 404, transaction tx123)"
        );
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert_eq!(e.http_status(), Some(404));
    }

    #[test]
    fn redact_removes_secrets() {
        let _known = crate::secret::Secret::new("hunter2");
        let e = Error::new(ErrorKind::Auth, "bad pw hunter2 here");
        assert!(!e.to_string().contains("hunter2"));
        assert!(format!("{e:?}").contains("***"));
    }
}
