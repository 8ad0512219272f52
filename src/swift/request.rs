//! The one Swift request path: the token, the URL, one re-authentication after a 401, retries
//! with backoff that honour `Retry-After`, a body sent again from its start, a broken download
//! resumed — all within one budget, `number-of-retries` retries after the first try.
//!
//! An operation describes its request as an [`Exchange`]: what each try adds (headers, a body
//! that can start again, a `Range` to resume) and how an answer is judged (which may read the
//! body; a body that breaks off asks for another try). Adding a new kind of request means
//! writing one `Exchange`, or using [`Plain`].

use std::time::Duration;

use crate::http::driver::{Client, RequestBuilder, Response};
use reqwest::Method;

use super::names::request_path;
use crate::auth::Authenticator;
use crate::config::{AuthMethod, Config};
use crate::error::{Error, Result};
use crate::headers;
use crate::http::answer::{self, About};
use crate::http::{self, TryError};
use crate::log;

/// The URL of the cluster's `/info`: beside the API version of the storage URL
/// (`https://h/swift/v1/AUTH_x` gives `https://h/swift/info`).
pub(crate) fn info_url(storage_url: &str) -> String {
    let (origin, path) = match storage_url.find("://").map(|i| i + 3) {
        Some(start) => match storage_url[start..].find('/') {
            Some(slash) => storage_url.split_at(start + slash),
            None => (storage_url, ""),
        },
        None => (storage_url, ""),
    };
    let mut segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    segments.truncate(segments.len().saturating_sub(2));
    let mut url = origin.to_string();
    for s in segments {
        url.push('/');
        url.push_str(s);
    }
    url.push_str("/info");
    url
}

/// Refuses a target whose container or object name has a `.` or `..` segment. URLs fold such
/// segments away, so the request would reach another object: names from the host are refused
/// earlier ([`super::names::object_name`]), and this catches names a server answer brought
/// (a listing, a manifest) before anything is sent for them.
fn addressable(what: &str, target: Target) -> Result<()> {
    let (container, object) = match target {
        Target::In {
            container, object, ..
        } => (Some(container), object),
        Target::Object(name) => (None, Some(name)),
        _ => (None, None),
    };
    let dots = |p: &str| p.split('/').any(|s| s == "." || s == "..");
    if container.is_some_and(|c| c.contains('/') || dots(c)) || object.is_some_and(dots) {
        return Err(Error::invalid_argument(format!(
            "{what}: the name has a '.' or '..' path segment, which a URL cannot carry (it would reach another object): it cannot be reached through Swift's API as it is"
        )));
    }
    Ok(())
}

/// What a request is about.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Target<'a> {
    /// The account (the storage URL itself).
    Account,
    /// The destination's container, with a query string (already encoded) or none.
    Container(Option<&'a str>),
    /// An object of the container, by full name (prefix included).
    Object(&'a str),
    /// A container (the destination's or another, such as the segment container), one of its
    /// objects, and a query string (already encoded).
    In {
        /// The container.
        container: &'a str,
        /// An object in it, by full name.
        object: Option<&'a str>,
        /// The query string, without `?`.
        query: Option<&'a str>,
    },
    /// The cluster's capabilities (`/info` beside the account, sent without a token).
    Info,
    /// The account's bulk delete (`?bulk-delete`).
    BulkDelete,
}

/// One request of an operation, which the request path may send several times.
pub(crate) trait Exchange {
    /// What a successful exchange gives.
    type Output;

    /// Adds the headers and the body of try `attempt` (from 1) to `rb`. A body must start again
    /// from its beginning (or, for a download, ask for the rest with `Range`).
    fn prepare(&mut self, rb: RequestBuilder, attempt: u32) -> Result<RequestBuilder, TryError>;

    /// Judges the answer to try `attempt` when it is neither a 401 nor a status worth retrying,
    /// and may read its body; a body that breaks off is a [`TryError::Retry`], and the next try
    /// resumes.
    fn answer(&mut self, resp: Response, attempt: u32) -> Result<Self::Output, TryError>;

    /// Whether the request can be sent again after a failed try (a stream that cannot rewind
    /// cannot).
    fn can_resend(&self) -> bool {
        true
    }

    /// After a failed try: a failure on our side (a callback, a local file, a cancel) that ends
    /// the call at once, with that error.
    fn local_failure(&mut self) -> Option<Error> {
        None
    }
}

/// `rb` with the fixed headers `headers` and the checked headers `extra`.
fn with_headers(
    mut rb: RequestBuilder,
    headers: &[(&'static str, &str)],
    extra: &[(reqwest::header::HeaderName, reqwest::header::HeaderValue)],
) -> RequestBuilder {
    for (name, value) in headers {
        rb = rb.header(*name, *value);
    }
    for (name, value) in extra {
        rb = rb.header(name.clone(), value.clone());
    }
    rb
}

/// An exchange with fixed headers, no body, and an answer judged by a closure.
pub(crate) struct Plain<'h, F> {
    headers: &'h [(&'static str, &'h str)],
    extra: &'h [(reqwest::header::HeaderName, reqwest::header::HeaderValue)],
    judge: F,
}

impl<'h, T, F: FnMut(Response, u32) -> Result<T, TryError>> Plain<'h, F> {
    /// An exchange sending `headers`, whose answers `judge` reads.
    pub(crate) fn new(headers: &'h [(&'static str, &'h str)], judge: F) -> Self {
        Plain {
            headers,
            extra: &[],
            judge,
        }
    }

    /// An exchange sending `headers` and the checked headers `extra`.
    pub(crate) fn with_extra(
        headers: &'h [(&'static str, &'h str)],
        extra: &'h [(reqwest::header::HeaderName, reqwest::header::HeaderValue)],
        judge: F,
    ) -> Self {
        Plain {
            headers,
            extra,
            judge,
        }
    }
}

impl<T, F: FnMut(Response, u32) -> Result<T, TryError>> Exchange for Plain<'_, F> {
    type Output = T;

    fn prepare(&mut self, rb: RequestBuilder, _attempt: u32) -> Result<RequestBuilder, TryError> {
        Ok(with_headers(rb, self.headers, self.extra))
    }

    fn answer(&mut self, resp: Response, attempt: u32) -> Result<T, TryError> {
        (self.judge)(resp, attempt)
    }
}

/// An exchange that sends a small body held in memory (the same bytes on every try), with
/// fixed headers, and reads the whole answer up to `limit` bytes: for manifests and bulk
/// deletes, whose answers may be Swift's heartbeat (whitespace, then a document).
pub(crate) struct SmallBody<'h> {
    /// The body.
    pub(crate) body: bytes::Bytes,
    /// Headers with fixed values.
    pub(crate) headers: &'h [(&'static str, &'h str)],
    /// Checked headers (metadata).
    pub(crate) extra: &'h [(reqwest::header::HeaderName, reqwest::header::HeaderValue)],
    /// The most answer bytes read.
    pub(crate) limit: u64,
}

/// What a [`SmallBody`] exchange got back.
pub(crate) struct SmallAnswer {
    /// The HTTP status.
    pub(crate) status: u16,
    /// The answer's headers.
    pub(crate) headers: reqwest::header::HeaderMap,
    /// Its body, up to the limit.
    pub(crate) body: Vec<u8>,
}

impl Exchange for SmallBody<'_> {
    type Output = SmallAnswer;

    fn prepare(
        &mut self,
        mut rb: RequestBuilder,
        _attempt: u32,
    ) -> Result<RequestBuilder, TryError> {
        rb = with_headers(rb, self.headers, self.extra);
        let len = self.body.len() as u64;
        Ok(rb.body(crate::http::driver::Body::sized(
            std::io::Cursor::new(self.body.clone()),
            len,
        )))
    }

    fn answer(&mut self, resp: Response, _attempt: u32) -> Result<SmallAnswer, TryError> {
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = read_bounded(resp, self.limit)
            .map_err(|e| answer::transport_failure("reading the answer", &e))?;
        Ok(SmallAnswer {
            status,
            headers,
            body,
        })
    }
}

/// The state shared by every request of a destination.
pub(crate) struct Swift {
    pub(crate) client: Client,
    pub(crate) config: Config,
    auth: std::sync::Arc<Authenticator>,
    pub(crate) cluster: super::info::ClusterState,
}

impl Swift {
    pub(crate) fn new(config: Config) -> Result<Swift> {
        let client = http::client::build(&config.timeouts, &config.tls)?;
        let auth = crate::auth::shared::authenticator_for(&config);
        Ok(Swift {
            client,
            config,
            auth,
            cluster: Default::default(),
        })
    }

    fn url(&self, storage_url: &str, target: Target) -> String {
        let c = &self.config.container;
        let path = match target {
            Target::Account => String::new(),
            Target::Container(q) => request_path(c, None, q),
            Target::Object(name) => request_path(c, Some(name), None),
            Target::In {
                container,
                object,
                query,
            } => request_path(container, object, query),
            Target::Info => return info_url(storage_url),
            Target::BulkDelete => "?bulk-delete".to_string(),
        };
        format!("{storage_url}{path}")
    }

    /// What a 404 of `target` means, before the operation looks closer.
    pub(crate) fn about<'a>(&'a self, target: Target<'a>) -> About<'a> {
        match target {
            Target::Account => About::Account,
            Target::Container(_) => About::Container(&self.config.container),
            Target::Object(name) => About::Object(name),
            Target::In {
                object: Some(name), ..
            } => About::Object(name),
            Target::In { container, .. } => About::Container(container),
            Target::Info | Target::BulkDelete => About::Account,
        }
    }

    /// The token in use, authenticating now when needed (with retries), so credential
    /// problems surface with their own message.
    pub(crate) fn token(&self) -> Result<std::sync::Arc<crate::auth::Token>> {
        http::with_retries(&self.config.retry, "authenticating", |_| {
            self.auth.token(&self.client, &self.config)
        })
    }

    /// Sends `exchange` to `target` until it succeeds, fails for good, or the retries are spent.
    /// `timeout` replaces the client's read/write timeout for the whole request.
    pub(crate) fn send<E: Exchange>(
        &self,
        what: &str,
        method: Method,
        target: Target,
        timeout: Option<Duration>,
        exchange: &mut E,
    ) -> Result<E::Output> {
        addressable(what, target)?;
        let given_token = matches!(self.config.auth, AuthMethod::PreAuthenticated { .. });
        let mut reauthenticated = false;
        http::with_retries(&self.config.retry, what, |attempt| {
            let result = loop {
                let token = self.auth.token(&self.client, &self.config)?;
                let url = self.url(&token.storage_url, target);
                let mut rb = self.client.request(method.clone(), url);
                if !matches!(target, Target::Info) {
                    rb = rb.header("X-Auth-Token", token.value.expose());
                }
                if let Some(t) = timeout {
                    rb = rb.timeout(t);
                }
                let rb = exchange.prepare(rb, attempt)?;
                let sent = rb.send();
                if let Some(e) = exchange.local_failure() {
                    return Err(TryError::Fail(e));
                }
                let resp = match sent {
                    Ok(resp) => resp,
                    Err(e) => break Err(answer::transport_failure(what, &e)),
                };
                let status = resp.status().as_u16();
                if status == 401 {
                    if !reauthenticated && !given_token {
                        log::info!("{what}: Swift refused the token (401); authenticating again");
                        self.auth.invalidate(&token);
                        reauthenticated = true;
                        continue;
                    }
                    return Err(TryError::Fail(answer::token_refused(
                        what,
                        resp.headers(),
                        given_token,
                    )));
                }
                if answer::is_retryable(status) {
                    let after = headers::retry_after(resp.headers(), std::time::SystemTime::now());
                    break Err(TryError::Retry(
                        answer::retryable_error(what, status, resp.headers()),
                        after,
                    ));
                }
                break exchange.answer(resp, attempt);
            };
            match result {
                Err(TryError::Retry(e, _)) if !exchange.can_resend() => Err(TryError::Fail(e)),
                other => other,
            }
        })
    }

    /// Sends a request without a body and returns whatever Swift answered (but a 401 after
    /// re-authenticating, and retryable failures once the retries are spent, which are errors).
    pub(crate) fn request(
        &self,
        what: &str,
        method: Method,
        target: Target,
        timeout: Duration,
        headers: &[(&'static str, &str)],
    ) -> Result<Response> {
        self.request_with(what, method, target, timeout, headers, &[])
    }

    /// [`Swift::request`] with further checked headers (metadata, whose values may be UTF-8).
    pub(crate) fn request_with(
        &self,
        what: &str,
        method: Method,
        target: Target,
        timeout: Duration,
        headers: &[(&'static str, &str)],
        extra: &[(reqwest::header::HeaderName, reqwest::header::HeaderValue)],
    ) -> Result<Response> {
        let mut exchange = Plain::with_extra(headers, extra, |resp, _| Ok(resp));
        self.send(what, method, target, Some(timeout), &mut exchange)
    }

    /// A request without a body whose answer must be a success; any other answer becomes the
    /// matching error (a 404 of an object after checking its container).
    pub(crate) fn expect_success(
        &self,
        what: &str,
        method: Method,
        target: Target,
    ) -> Result<Response> {
        let resp = self.request(what, method, target, self.config.timeouts.short, &[])?;
        if resp.status().is_success() {
            return Ok(resp);
        }
        Err(self.failure(what, &resp, target))
    }

    /// The error for an unexpected answer about `target`. For an object of the destination's
    /// container this is [`Swift::object_failure`], which tells a missing container apart.
    pub(crate) fn failure(&self, what: &str, resp: &Response, target: Target) -> Error {
        match target {
            Target::Object(full) => self.object_failure(what, resp, full),
            Target::In {
                container,
                object: Some(full),
                ..
            } if container == self.config.container => self.object_failure(what, resp, full),
            _ => answer::swift_error(
                what,
                resp.status().as_u16(),
                resp.headers(),
                self.about(target),
            ),
        }
    }

    /// The error for an unexpected answer about the object `full`. On a 404 the operation first
    /// asks whether the container exists (one HEAD), so the error can say which is missing.
    pub(crate) fn object_failure(&self, what: &str, resp: &Response, full: &str) -> Error {
        let status = resp.status().as_u16();
        let about = if status == 404 && self.container_exists() == Some(false) {
            About::ObjectInMissingContainer(&self.config.container)
        } else {
            About::Object(full)
        };
        answer::swift_error(what, status, resp.headers(), about)
    }

    /// Deletes the object `full`. A 404 on a retry means an earlier try deleted it and its
    /// answer was lost: the delete has done its job.
    pub(crate) fn delete_object(&self, full: &str) -> Result<()> {
        let what = format!("deleting '{full}'");
        let mut exchange = Plain::new(&[], |resp, attempt| Ok((resp, attempt)));
        let (resp, last_try) = self.send(
            &what,
            Method::DELETE,
            Target::Object(full),
            Some(self.config.timeouts.short),
            &mut exchange,
        )?;
        match resp.status().as_u16() {
            200..=299 => log::info!("deleted '{full}'"),
            404 if last_try > 1 => {
                log::info!("deleted '{full}' (a retry found it gone: an earlier try deleted it)")
            }
            _ => return Err(self.object_failure(&what, &resp, full)),
        }
        Ok(())
    }

    /// Whether the container exists (None when that cannot be told).
    pub(crate) fn container_exists(&self) -> Option<bool> {
        self.exists(Target::Container(None))
    }

    /// Whether `target` exists, by a HEAD (None when that cannot be told).
    pub(crate) fn exists(&self, target: Target) -> Option<bool> {
        let resp = self
            .request(
                "checking that it exists",
                Method::HEAD,
                target,
                self.config.timeouts.short,
                &[],
            )
            .ok()?;
        match resp.status().as_u16() {
            200..=299 => Some(true),
            404 => Some(false),
            _ => None,
        }
    }
}

/// Reads a body of at most `limit` bytes.
pub(crate) fn read_bounded(
    resp: crate::http::driver::Response,
    limit: u64,
) -> std::result::Result<Vec<u8>, crate::http::driver::SendError> {
    use std::io::Read;
    let mut out = Vec::new();
    resp.take(limit)
        .read_to_end(&mut out)
        .map_err(crate::http::driver::SendError::Body)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::info_url;

    #[test]
    fn info_sits_beside_the_api_version() {
        assert_eq!(
            info_url("http://127.0.0.1:8080/v1/AUTH_abc"),
            "http://127.0.0.1:8080/info"
        );
        assert_eq!(
            info_url("https://h.example/swift/v1/AUTH_abc/"),
            "https://h.example/swift/info"
        );
        assert_eq!(info_url("https://h.example"), "https://h.example/info");
    }
}
