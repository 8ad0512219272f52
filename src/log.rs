//! The library's log lines: a process-wide sink that a host can set (the C ABI routes it to a
//! callback), or stderr when `OPENSTACK_DEST_LOG` is set. Lines never carry a secret.

use crate::lock::Recover;
use std::sync::{Arc, RwLock};

/// Severity of a log line, from the most to the least severe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Something failed.
    Error = 1,
    /// Something unexpected that the library worked around (a retry, a region that matched nothing).
    Warn = 2,
    /// One line per operation.
    Info = 3,
    /// Details for debugging.
    Debug = 4,
}

/// A host's log sink.
pub type Sink = Arc<dyn Fn(Level, &str) + Send + Sync>;

/// Who installed a sink, as the C ABI tells callbacks apart: the callback's address and its
/// context pointer.
pub(crate) type SinkId = (usize, usize);

/// The sink, its level, and who installed it (`None` for a sink set from Rust).
type Installed = (Sink, Level, Option<SinkId>);

static SINK: RwLock<Option<Installed>> = RwLock::new(None);

thread_local! {
    /// How deep this thread is inside calls of a sink (a sink may log, or replace the sink).
    static IN_SINK: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
    /// How many [`Held`] guards this thread has: while any, its lines wait in [`PENDING`].
    static HELD: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
    /// The lines this thread logged while it held a lock, already scrubbed.
    static PENDING: std::cell::RefCell<Vec<(Level, String)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// While it lives, the thread's log lines wait; they go to the sink when the thread's last guard
/// is dropped. Take one before a lock that is held while a line may be logged (declared before
/// the lock's guard, so that it is dropped after it): a sink — a host's callback — then never
/// runs while the library holds a lock, and may use the same destination (which would take the
/// lock again and wait forever).
pub(crate) struct Held(());

/// See [`Held`].
pub(crate) fn hold() -> Held {
    HELD.with(|h| h.set(h.get() + 1));
    Held(())
}

impl Drop for Held {
    fn drop(&mut self) {
        let last = HELD.with(|h| {
            h.set(h.get().saturating_sub(1));
            h.get() == 0
        });
        if last {
            let lines = PENDING.with(|p| std::mem::take(&mut *p.borrow_mut()));
            for (level, line) in lines {
                deliver(level, &line);
            }
        }
    }
}

/// Sends the library's log lines up to `max_level` to `sink`; `None` turns logging off.
///
/// When it returns, the sink it replaced is no longer running on any thread and is never called
/// again, so the host may free what the old sink uses. (Called from inside a sink, it cannot
/// wait for itself: then only later calls are guaranteed to go to the new sink.)
pub fn set_sink(sink: Option<Sink>, max_level: Level) {
    let old = {
        let mut guard = SINK.write().recover();
        std::mem::replace(&mut *guard, sink.map(|s| (s, max_level, None)))
    };
    wait_for(old);
}

/// Whether a sink is set.
pub fn sink_is_set() -> bool {
    SINK.read().recover().is_some()
}

/// Installs `sink` (with who installs it) only when the sink now set is the one `expected`
/// names — with `expected` `None`, only when no sink is set — and returns whether it did. A
/// host replaces its own sink this way without replacing one that another part of the process
/// installed meanwhile. The replaced sink is waited for as in [`set_sink`].
pub(crate) fn set_sink_if(
    expected: Option<SinkId>,
    sink: Option<(Sink, SinkId)>,
    max_level: Level,
) -> bool {
    replace(Some(expected), sink, max_level)
}

/// [`set_sink`] for a sink whose installer is known (see [`set_sink_if`]).
pub(crate) fn set_sink_by(sink: Option<(Sink, SinkId)>, max_level: Level) {
    replace(None, sink, max_level);
}

/// Replaces the sink when `condition` is `None` or names the sink now set.
fn replace(
    condition: Option<Option<SinkId>>,
    sink: Option<(Sink, SinkId)>,
    max_level: Level,
) -> bool {
    let old = {
        let mut guard = SINK.write().recover();
        let current = guard.as_ref().map(|(_, _, id)| *id);
        let matches = match (condition, current) {
            (None, _) => true,
            (Some(None), None) => true,
            (Some(Some(e)), Some(Some(id))) => e == id,
            _ => false,
        };
        if !matches {
            return false;
        }
        let new_id = sink.as_ref().map(|(_, id)| *id);
        let old = std::mem::replace(&mut *guard, sink.map(|(s, id)| (s, max_level, Some(id))));
        // The same callback and context installed again (to change the level): what the old
        // sink uses stays valid, so nothing to wait for — and a host that re-installs its
        // callback while its callback runs on another thread must not wait for it.
        let same = new_id.is_some() && old.as_ref().and_then(|(_, _, id)| *id) == new_id;
        (!same).then_some(old).flatten()
    };
    wait_for(old);
    true
}

/// Waits until no call of the replaced sink is running (unless called from inside a sink).
fn wait_for(old: Option<Installed>) {
    let Some((old, _, _)) = old else { return };
    if IN_SINK.with(|d| d.get()) > 0 {
        return;
    }
    // Every call in progress holds a clone of the old sink; wait until they have returned.
    while Arc::strong_count(&old) > 1 {
        std::thread::sleep(std::time::Duration::from_micros(50));
    }
}

fn env_level() -> Option<Level> {
    static ENV: std::sync::OnceLock<Option<Level>> = std::sync::OnceLock::new();
    *ENV.get_or_init(|| {
        match std::env::var("OPENSTACK_DEST_LOG")
            .ok()?
            .to_ascii_lowercase()
            .as_str()
        {
            "error" => Some(Level::Error),
            "warn" | "warning" => Some(Level::Warn),
            "info" => Some(Level::Info),
            "debug" => Some(Level::Debug),
            _ => None,
        }
    })
}

/// True when a line at `level` would go anywhere (to skip formatting costly lines).
pub fn enabled(level: Level) -> bool {
    let guard = SINK.read().recover();
    match &*guard {
        Some((_, max, _)) => level <= *max,
        None => env_level().is_some_and(|max| level <= max),
    }
}

/// Emits one line, scrubbed of every secret the process knows. While the thread holds a
/// library lock (see [`Held`]), the line waits until the lock is released.
pub fn emit(level: Level, message: &str) {
    let message = crate::secret::scrub(message);
    if HELD.with(|h| h.get()) > 0 {
        PENDING.with(|p| p.borrow_mut().push((level, message)));
        return;
    }
    deliver(level, &message);
}

/// Hands a scrubbed line to the sink (or stderr).
fn deliver(level: Level, message: &str) {
    let sink = {
        let guard = SINK.read().recover();
        guard.clone()
    };
    match sink {
        Some((sink, max, _)) if level <= max => {
            IN_SINK.with(|d| d.set(d.get() + 1));
            sink(level, message);
            IN_SINK.with(|d| d.set(d.get() - 1));
            drop(sink);
        }
        Some(_) => {}
        None => {
            if env_level().is_some_and(|max| level <= max) {
                eprintln!("openstack_dest [{level:?}] {message}");
            }
        }
    }
}

macro_rules! log_at {
    ($level:expr, $($arg:tt)*) => {
        if $crate::log::enabled($level) {
            $crate::log::emit($level, &format!($($arg)*));
        }
    };
}
pub(crate) use log_at;

macro_rules! warning { ($($arg:tt)*) => { $crate::log::log_at!($crate::log::Level::Warn, $($arg)*) }; }
macro_rules! info { ($($arg:tt)*) => { $crate::log::log_at!($crate::log::Level::Info, $($arg)*) }; }
macro_rules! debug { ($($arg:tt)*) => { $crate::log::log_at!($crate::log::Level::Debug, $($arg)*) }; }
pub(crate) use {debug, info, warning};

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::time::Duration;

    #[test]
    fn after_the_sink_is_replaced_the_old_one_is_never_running() {
        let running = Arc::new(AtomicUsize::new(0));
        let freed = Arc::new(AtomicBool::new(false));
        let (r, f) = (running.clone(), freed.clone());
        set_sink(
            Some(Arc::new(move |_, _: &str| {
                r.fetch_add(1, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(30));
                // A host would read freed memory here.
                assert!(
                    !f.load(Ordering::SeqCst),
                    "the old sink ran after set_sink returned"
                );
                r.fetch_sub(1, Ordering::SeqCst);
            })),
            Level::Debug,
        );
        let logger = std::thread::spawn(|| {
            for _ in 0..5 {
                emit(Level::Info, "a line");
            }
        });
        while running.load(Ordering::SeqCst) == 0 {
            std::thread::yield_now();
        }
        set_sink(None, Level::Error);
        assert_eq!(running.load(Ordering::SeqCst), 0);
        freed.store(true, Ordering::SeqCst);
        logger.join().unwrap();
    }
}
