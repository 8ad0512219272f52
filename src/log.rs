//! The library's log lines: a process-wide sink that a host can set (the C ABI routes it to a
//! callback), or stderr when `OPENSTACK_DEST_LOG` is set. Lines never carry a secret.

use std::sync::{Arc, RwLock};

/// Severity of a log line; the numbers match `os_log_level`.
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

static SINK: RwLock<Option<(Sink, Level)>> = RwLock::new(None);

/// Sends the library's log lines up to `max_level` to `sink`; `None` turns logging off.
pub fn set_sink(sink: Option<Sink>, max_level: Level) {
    let mut guard = SINK.write().unwrap_or_else(|e| e.into_inner());
    *guard = sink.map(|s| (s, max_level));
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
    let guard = SINK.read().unwrap_or_else(|e| e.into_inner());
    match &*guard {
        Some((_, max)) => level <= *max,
        None => env_level().is_some_and(|max| level <= max),
    }
}

/// Emits one line, scrubbed of every secret the process knows.
pub fn emit(level: Level, message: &str) {
    let message = &crate::secret::scrub(message);
    let sink = {
        let guard = SINK.read().unwrap_or_else(|e| e.into_inner());
        guard.clone()
    };
    match sink {
        Some((sink, max)) if level <= max => sink(level, message),
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
