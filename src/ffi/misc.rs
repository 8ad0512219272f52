//! Version, status names, the last error, and the log callback.

use std::ffi::{c_char, c_int, c_void, CString};
use std::sync::Arc;

use super::boundary::{guard_value, guard_void, last_http_status, last_message_ptr};
use super::stream::HostPtr;
use super::types::{os_log_cb, os_log_level, os_status};
use crate::log::{self, Level};

static VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");

/// The library's version, e.g. "0.2.0" (a static string; do not free it).
#[no_mangle]
pub extern "C" fn os_version() -> *const c_char {
    VERSION.as_ptr().cast()
}

/// Whether the option `key` (case and surrounding spaces do not matter) takes a secret (a
/// password, an API key, a token, an application credential's secret), for a host or binding
/// that shows options and must hide those values. False for NULL, an unknown key or one that is
/// not UTF-8. The library itself never shows a secret value.
///
/// # Safety
/// `key` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn os_option_is_secret(key: *const c_char) -> bool {
    guard_value(false, || {
        // SAFETY: the caller's promise above.
        match unsafe { super::boundary::str_arg(key, "key") } {
            Ok(k) => crate::config::keys::is_secret(k),
            Err(_) => false,
        }
    })
}

/// The name of a status (an os_status value), e.g. "OS_ERR_NOT_FOUND" (a static string; do not free it);
/// "OS_UNKNOWN" for a number this version does not know.
#[no_mangle]
pub extern "C" fn os_status_name(status: c_int) -> *const c_char {
    // Taken as an int: C may pass any number, and an unknown one must not be undefined behaviour.
    os_status::name_of(status).as_ptr()
}

/// The last error of this thread as one line (with the HTTP status and Swift's transaction id
/// where there was one); "" when the last call succeeded. Never NULL, never a secret. Valid
/// until the next os_ call on this thread; do not free it.
#[no_mangle]
pub extern "C" fn os_last_error_message() -> *const c_char {
    last_message_ptr()
}

/// The HTTP status behind the last error of this thread, 0 if there was none.
#[no_mangle]
pub extern "C" fn os_last_http_status() -> i32 {
    last_http_status()
}

fn level_of(max_level: c_int) -> Level {
    match max_level {
        i32::MIN..=1 => Level::Error,
        2 => Level::Warn,
        3 => Level::Info,
        _ => Level::Debug,
    }
}

/// The sink that calls `f` with `ctx`, and who it is (the callback's address and `ctx`).
fn sink_of(cb: os_log_cb, ctx: *mut c_void) -> Option<(log::Sink, log::SinkId)> {
    cb.map(|f| {
        let id = (f as usize, ctx as usize);
        let ctx = HostPtr(ctx);
        let sink = Arc::new(move |lvl: Level, msg: &str| {
            let c = CString::new(msg.replace('\0', " ")).unwrap_or_default();
            let lvl = match lvl {
                Level::Error => os_log_level::OS_LOG_ERROR,
                Level::Warn => os_log_level::OS_LOG_WARN,
                Level::Info => os_log_level::OS_LOG_INFO,
                Level::Debug => os_log_level::OS_LOG_DEBUG,
            };
            // SAFETY: the host promised the callback stays valid with this context.
            unsafe { f(ctx.get(), lvl, c.as_ptr()) }
        }) as log::Sink;
        (sink, id)
    })
}

/// Sends the library's log lines up to `max_level` (an os_log_level) to `cb` (process-wide); `cb` NULL turns
/// logging off. `ctx` is passed back to every call, which may come from any thread.
/// When this returns, the previous callback is not running on any thread and is never called
/// again, so its `ctx` may be freed (called from inside the log callback itself, it cannot wait
/// for that call; only the later calls are guaranteed to go to the new callback).
/// It replaces whatever callback another part of the process set: a library or binding that
/// shares the process should use os_set_log_callback_if instead.
///
/// # Safety
/// `cb` must stay callable with `ctx` until it is replaced or logging is turned off.
#[no_mangle]
pub unsafe extern "C" fn os_set_log_callback(cb: os_log_cb, ctx: *mut c_void, max_level: c_int) {
    guard_void(|| log::set_sink_by(sink_of(cb, ctx), level_of(max_level)))
}

/// os_set_log_callback, but only when the callback set now is `expected` with `expected_ctx`
/// (`expected` NULL: only when no callback is set); returns whether it installed `cb` (NULL:
/// turned logging off). A binding installs its callback with `expected` NULL, changes its
/// level or removes it with `expected` = its own callback and context, and so never replaces
/// a callback that another part of the process (the host program, another binding) set.
/// Callbacks are told apart by their address and context.
///
/// # Safety
/// As os_set_log_callback.
#[no_mangle]
pub unsafe extern "C" fn os_set_log_callback_if(
    expected: os_log_cb,
    expected_ctx: *mut c_void,
    cb: os_log_cb,
    ctx: *mut c_void,
    max_level: c_int,
) -> bool {
    let expected = expected.map(|f| (f as usize, expected_ctx as usize));
    guard_value(false, || {
        log::set_sink_if(expected, sink_of(cb, ctx), level_of(max_level))
    })
}

/// Whether a log callback is set (by anyone in the process).
#[no_mangle]
pub extern "C" fn os_log_callback_is_set() -> bool {
    guard_value(false, log::sink_is_set)
}
