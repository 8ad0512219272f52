//! The one retry loop: a budget of `number-of-retries` after the first try, exponential backoff
//! with jitter, `Retry-After` honoured (capped), every retry logged at warning level.

use std::time::Duration;

use crate::config::RetryPolicy;
use crate::error::{Error, Result};
use crate::headers::MAX_RETRY_AFTER;
use crate::log;

/// The longest wait between two tries, whatever the backoff says.
const MAX_BACKOFF: Duration = MAX_RETRY_AFTER;

/// How one try ended when it did not succeed.
pub(crate) enum TryError {
    /// Worth another try (after `after`, when the server said how long to wait).
    Retry(Error, Option<Duration>),
    /// Final.
    Fail(Error),
}

impl From<Error> for TryError {
    fn from(e: Error) -> Self {
        TryError::Fail(e)
    }
}

/// Runs `attempt` (given the try number, from 1) until it succeeds, fails for good, or the
/// policy's retries are spent: `number-of-retries` = 2 means at most 3 tries, whatever failed.
pub(crate) fn with_retries<T>(
    policy: &RetryPolicy,
    what: &str,
    mut attempt: impl FnMut(u32) -> std::result::Result<T, TryError>,
) -> Result<T> {
    let tries = policy.retries.saturating_add(1);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

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
