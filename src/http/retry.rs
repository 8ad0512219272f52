//! The HTTP layer shared by Keystone and Swift calls: the client, retries with backoff and
//! jitter, and turning transport failures and answers into [`Error`]s.

use std::time::{Duration, SystemTime};

use reqwest::blocking::{Client, Response};
use reqwest::StatusCode;

use crate::config::{RetryPolicy, Timeouts};
use crate::error::{Error, ErrorKind, Result};
use crate::headers;
use crate::log;

/// The longest wait between two tries, whatever `Retry-After` or the backoff says.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// Builds the pooled client of one destination. Its default timeout is the read/write timeout:
/// reqwest's blocking client applies it to the wait for the answer's head and to each read of
/// the body, so a download may take as long as it keeps moving.
pub(crate) fn build_client(timeouts: &Timeouts) -> Result<Client> {
    Client::builder()
        .timeout(timeouts.read_write)
        .connect_timeout(timeouts.short)
        .tcp_keepalive(Duration::from_secs(30))
        .pool_idle_timeout(Duration::from_secs(60))
        .tcp_user_timeout(timeouts.read_write)
        // Keystone and Swift never answer with a redirect; following one could carry the
        // password or the token to another host, so a 3xx comes back as an error instead.
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("libopenstack_dest/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| {
            Error::new(
                ErrorKind::Network,
                format!("could not set up the HTTP client: {}", cause_chain(&e)),
            )
        })
}

/// One line describing an error and its causes, without duplicates.
pub(crate) fn cause_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cur = e.source();
    }
    parts.join(": ")
}

/// Turns a transport error of a request described by `what` into an [`Error`].
pub(crate) fn transport_error(what: &str, err: &reqwest::Error) -> Error {
    let chain = cause_chain(err);
    let kind = if err.is_timeout() || chain.contains("timed out") || chain.contains("deadline") {
        ErrorKind::Timeout
    } else {
        ErrorKind::Network
    };
    let hint = match kind {
        ErrorKind::Timeout => {
            " (no answer in time: check the server, or raise short-timeout / read-write-timeout)"
        }
        _ if err.is_connect() => {
            " (could not connect: check the host, the port and that the server runs)"
        }
        _ => "",
    };
    Error::new(kind, format!("{what} failed: {chain}{hint}"))
}

/// True for the answers that are worth trying again.
pub(crate) fn is_retryable_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 408 | 429 | 498 | 500 | 502 | 503 | 504)
}

/// How one try ended when it did not succeed.
pub(crate) enum TryError {
    /// Worth another try (after `after`, when the server said so).
    Retry(Error, Option<Duration>),
    /// Final.
    Fail(Error),
}

impl From<Error> for TryError {
    fn from(e: Error) -> Self {
        TryError::Fail(e)
    }
}

/// Runs `attempt` until it succeeds, fails for good, or the policy's retries are used up.
/// `attempt` gets the try number, starting at 1.
pub(crate) fn with_retries<T>(
    policy: &RetryPolicy,
    what: &str,
    mut attempt: impl FnMut(u32) -> std::result::Result<T, TryError>,
) -> Result<T> {
    let tries = policy.retries + 1;
    let mut n = 1;
    loop {
        match attempt(n) {
            Ok(v) => return Ok(v),
            Err(TryError::Fail(e)) => return Err(e),
            Err(TryError::Retry(e, after)) => {
                if n >= tries {
                    return Err(e);
                }
                let wait = after
                    .map(|a| a.min(MAX_BACKOFF))
                    .unwrap_or_else(|| backoff(policy.delay, n));
                let context = if e.message().starts_with(what) {
                    String::new()
                } else {
                    format!("{what}: ")
                };
                log::warning!(
                    "{context}{e}; retrying in {} ms (try {} of {tries})",
                    wait.as_millis(),
                    n + 1
                );
                std::thread::sleep(wait);
                n += 1;
            }
        }
    }
}

/// Exponential backoff with ±50 % jitter: `base * 2^(n-1)`, capped.
fn backoff(base: Duration, n: u32) -> Duration {
    let exp = base
        .saturating_mul(1u32 << n.saturating_sub(1).min(16))
        .min(MAX_BACKOFF);
    let jitter = 0.5 + fastrand::f64();
    exp.mul_f64(jitter).min(MAX_BACKOFF)
}

/// Classifies a finished request: a transport error or a retryable status becomes
/// [`TryError::Retry`]; any other answer is returned for the caller to judge.
pub(crate) fn classify(
    what: &str,
    result: std::result::Result<Response, reqwest::Error>,
) -> std::result::Result<Response, TryError> {
    match result {
        Err(e) => Err(TryError::Retry(transport_error(what, &e), None)),
        Ok(resp) if is_retryable_status(resp.status()) => {
            let status = resp.status();
            let after = headers::retry_after(resp.headers(), SystemTime::now());
            let id = headers::trans_id(resp.headers());
            let kind = match status.as_u16() {
                408 => ErrorKind::Timeout,
                _ => ErrorKind::Server,
            };
            let text = match status.as_u16() {
                429 | 498 => "the server is rate-limiting requests",
                408 => "the server timed out waiting for the request",
                _ => "the server failed",
            };
            Err(TryError::Retry(
                Error::new(kind, format!("{what}: {text}")).with_http(status.as_u16(), id),
                after,
            ))
        }
        Ok(resp) => Ok(resp),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let base = Duration::from_millis(100);
        let b1 = backoff(base, 1);
        assert!(b1 >= Duration::from_millis(50) && b1 <= Duration::from_millis(150));
        let b4 = backoff(base, 4);
        assert!(b4 >= Duration::from_millis(400) && b4 <= Duration::from_millis(1200));
        assert!(backoff(Duration::from_secs(10), 30) <= MAX_BACKOFF);
        // The largest delay a caller can give must not overflow the jitter's multiplication.
        assert!(backoff(Duration::MAX, 1) <= MAX_BACKOFF);
        assert!(backoff(Duration::MAX, 0) <= MAX_BACKOFF);
    }

    #[test]
    fn retries_stop_after_the_policy() {
        let policy = RetryPolicy {
            retries: 2,
            delay: Duration::from_millis(1),
        };
        let mut calls = 0;
        let r: Result<()> = with_retries(&policy, "op", |_| {
            calls += 1;
            Err(TryError::Retry(Error::new(ErrorKind::Server, "boom"), None))
        });
        assert_eq!(calls, 3);
        assert_eq!(r.unwrap_err().kind(), ErrorKind::Server);
    }
}
