//! The one retry loop: a budget of `number-of-retries` after the first try, exponential backoff
//! with jitter, `Retry-After` honoured (capped), every retry logged at warning level.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use crate::config::RetryPolicy;
use crate::error::{Error, ErrorKind, Result};
use crate::log;

/// How often a wait before another try asks whether the caller still wants the call.
const WAIT_SLICE: Duration = Duration::from_millis(250);

/// Asked during a wait before another try: false cancels the call. An operation with a progress
/// callback sets one for its thread ([`watch_waits`]), so a host can cancel a long wait (an
/// archive tier's `Retry-After` of ten minutes) the way it cancels a transfer.
pub(crate) type WaitWatcher = Rc<dyn Fn() -> bool>;

thread_local! {
    static WATCHER: RefCell<Option<WaitWatcher>> = const { RefCell::new(None) };
}

/// Puts the previous watcher back when dropped.
pub(crate) struct Watching(Option<WaitWatcher>);

/// Makes `watcher` the one this thread's waits ask until the guard is dropped.
pub(crate) fn watch_waits(watcher: WaitWatcher) -> Watching {
    Watching(WATCHER.with(|w| w.borrow_mut().replace(watcher)))
}

impl Drop for Watching {
    fn drop(&mut self) {
        let previous = self.0.take();
        WATCHER.with(|w| *w.borrow_mut() = previous);
    }
}

/// Sleeps `wait`, asking the thread's watcher every quarter second whether to go on.
fn pause(wait: Duration, what: &str) -> Result<()> {
    let Some(watcher) = WATCHER.with(|w| w.borrow().clone()) else {
        std::thread::sleep(wait);
        return Ok(());
    };
    let end = Instant::now() + wait;
    loop {
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(());
        }
        std::thread::sleep(left.min(WAIT_SLICE));
        if Instant::now() < end && !watcher() {
            return Err(Error::new(
                ErrorKind::Cancelled,
                format!(
                    "{what}: cancelled by the progress callback while waiting {} s to try again",
                    wait.as_secs()
                ),
            ));
        }
    }
}

/// The longest wait between two tries that backoff makes (a server's `Retry-After` may ask
/// for more, up to `openstack-max-retry-wait`).
const MAX_BACKOFF: Duration = Duration::from_secs(60);

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
                if let Some(a) = after.filter(|a| *a > policy.max_wait) {
                    // Sleeping and then failing helps nobody: say it now (archive tiers ask
                    // for about ten minutes while they thaw an object).
                    let long = Error::new(
                        e.kind(),
                        format!(
                            "{}; the server asks to wait {} s before trying again (Retry-After), longer than openstack-max-retry-wait ({} s): raise openstack-max-retry-wait (e.g. 15m) to wait for it",
                            e.message(),
                            a.as_secs(),
                            policy.max_wait.as_secs()
                        ),
                    );
                    return Err(match e.http_status() {
                        Some(h) => long.with_http(h, e.trans_id().map(str::to_string)),
                        None => long,
                    });
                }
                let wait = after.unwrap_or_else(|| backoff(policy.delay, n));
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
                pause(wait, what)?;
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
            ..RetryPolicy::default()
        };
        let mut calls = 0;
        let r: Result<()> = with_retries(&policy, "op", |_| {
            calls += 1;
            Err(TryError::Retry(Error::new(ErrorKind::Server, "boom"), None))
        });
        assert_eq!(calls, 3);
        assert_eq!(r.unwrap_err().kind(), ErrorKind::Server);
    }

    #[test]
    fn a_watcher_that_says_stop_cancels_a_wait() {
        let policy = RetryPolicy {
            retries: 3,
            ..RetryPolicy::default()
        };
        let asked = Rc::new(std::cell::Cell::new(0));
        let counter = asked.clone();
        let _w = watch_waits(Rc::new(move || {
            counter.set(counter.get() + 1);
            counter.get() < 3
        }));
        let t = Instant::now();
        let r: Result<()> = with_retries(&policy, "op", |_| {
            let e = Error::new(ErrorKind::Http, "op: HTTP 429").with_http(429, None);
            Err(TryError::Retry(e, Some(Duration::from_secs(30))))
        });
        let e = r.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Cancelled, "{e}");
        assert!(e.message().contains("waiting 30 s"), "{e}");
        assert_eq!(asked.get(), 3);
        assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    }

    #[test]
    fn a_wait_longer_than_the_policy_allows_fails_at_once_and_says_so() {
        let policy = RetryPolicy::default();
        let mut calls = 0;
        let t = std::time::Instant::now();
        let r: Result<()> = with_retries(&policy, "op", |_| {
            calls += 1;
            let e = Error::new(ErrorKind::Http, "op: HTTP 429").with_http(429, None);
            Err(TryError::Retry(e, Some(Duration::from_secs(600))))
        });
        let e = r.unwrap_err();
        assert_eq!(
            (calls, e.kind(), e.http_status()),
            (1, ErrorKind::Http, Some(429))
        );
        assert!(t.elapsed() < Duration::from_secs(1));
        let m = e.message();
        assert!(
            m.contains("600 s") && m.contains("openstack-max-retry-wait (60 s)"),
            "{m}"
        );
    }
}
