//! The C types: status codes, log levels, entries, quota, callbacks, the opaque handle.

#![allow(non_camel_case_types)]

use std::ffi::{c_char, c_int, c_void};

use crate::error::ErrorKind;
use crate::Destination;

/// Result of every fallible call. The numbers are stable and never reused.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum os_status {
    /// Success.
    OS_OK = 0,
    /// A NULL pointer, invalid UTF-8, or an unusable name (empty, over 1024 bytes with the prefix).
    OS_ERR_INVALID_ARGUMENT = 1,
    /// A bad `openstack://` URL, or a missing or contradictory option (the message names it).
    OS_ERR_INVALID_URL = 2,
    /// Keystone or Swift refused the credentials or the token (HTTP 401).
    OS_ERR_AUTH = 3,
    /// The user lacks the rights for the operation (HTTP 403).
    OS_ERR_FORBIDDEN = 4,
    /// The object (file) does not exist.
    OS_ERR_NOT_FOUND = 5,
    /// The container does not exist: create it with os_create_container.
    OS_ERR_CONTAINER_NOT_FOUND = 6,
    /// The Keystone catalog has no object-store endpoint for the interface.
    OS_ERR_ENDPOINT_NOT_FOUND = 7,
    /// The object is too large for Swift, or the quota is exceeded (HTTP 413).
    OS_ERR_TOO_LARGE = 8,
    /// Data did not match its MD5 or length; nothing corrupt was kept.
    OS_ERR_INTEGRITY = 9,
    /// The connection failed: refused, reset, name resolution, TLS.
    OS_ERR_NETWORK = 10,
    /// No progress within the configured timeout.
    OS_ERR_TIMEOUT = 11,
    /// The server failed (HTTP 5xx, or rate limiting that did not clear) after all retries.
    OS_ERR_SERVER = 12,
    /// A local file could not be read or written.
    OS_ERR_LOCAL_IO = 13,
    /// A progress callback asked to stop.
    OS_ERR_CANCELLED = 14,
    /// An internal error (a caught panic): please report it.
    OS_ERR_PANIC = 15,
    /// A host's read, rewind or write callback reported an error.
    OS_ERR_CALLBACK = 16,
    /// Any other unexpected HTTP answer (e.g. 409, 416).
    OS_ERR_HTTP = 17,
}

impl From<ErrorKind> for os_status {
    fn from(kind: ErrorKind) -> Self {
        match kind {
            ErrorKind::InvalidArgument => os_status::OS_ERR_INVALID_ARGUMENT,
            ErrorKind::InvalidUrl => os_status::OS_ERR_INVALID_URL,
            ErrorKind::Auth => os_status::OS_ERR_AUTH,
            ErrorKind::Forbidden => os_status::OS_ERR_FORBIDDEN,
            ErrorKind::NotFound => os_status::OS_ERR_NOT_FOUND,
            ErrorKind::ContainerNotFound => os_status::OS_ERR_CONTAINER_NOT_FOUND,
            ErrorKind::EndpointNotFound => os_status::OS_ERR_ENDPOINT_NOT_FOUND,
            ErrorKind::TooLarge => os_status::OS_ERR_TOO_LARGE,
            ErrorKind::Integrity => os_status::OS_ERR_INTEGRITY,
            ErrorKind::Network => os_status::OS_ERR_NETWORK,
            ErrorKind::Timeout => os_status::OS_ERR_TIMEOUT,
            ErrorKind::Server => os_status::OS_ERR_SERVER,
            ErrorKind::LocalIo => os_status::OS_ERR_LOCAL_IO,
            ErrorKind::Cancelled => os_status::OS_ERR_CANCELLED,
            ErrorKind::Callback => os_status::OS_ERR_CALLBACK,
            ErrorKind::Http => os_status::OS_ERR_HTTP,
        }
    }
}

/// Level of a log line passed to the log callback.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum os_log_level {
    /// Something failed.
    OS_LOG_ERROR = 1,
    /// Something unexpected that was worked around (a retry, a region that matched nothing).
    OS_LOG_WARN = 2,
    /// One line per operation.
    OS_LOG_INFO = 3,
    /// Details.
    OS_LOG_DEBUG = 4,
}

/// An opaque destination handle, from os_open or os_open_with, freed with os_free.
/// Thread-safe: several threads may use one handle at once.
pub struct os_dest {
    pub(crate) inner: Destination,
}

/// One listing entry, or the result of os_stat. Strings are UTF-8 and owned by the library.
#[repr(C)]
#[derive(Debug)]
pub struct os_entry {
    /// The name relative to the destination's prefix; folder names have no trailing '/'.
    pub name: *const c_char,
    /// Size in bytes, -1 if unknown (folders).
    pub size: i64,
    /// Last modification, Unix time in milliseconds, UTC; -1 if unknown.
    pub last_modified_ms: i64,
    /// True for a folder (a common prefix of several objects).
    pub is_folder: bool,
    /// The MD5 hex as Swift reports it, NULL if none.
    pub etag: *const c_char,
}

/// Account usage, from os_quota.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct os_quota_info {
    /// Bytes used by the account.
    pub bytes_used: i64,
    /// The account quota (X-Account-Meta-Quota-Bytes), -1 when none is set.
    pub quota_bytes: i64,
    /// Objects in the account.
    pub object_count: i64,
    /// Containers in the account.
    pub container_count: i64,
}

/// Read callback: fill `buf` with up to `cap` bytes; return the count, 0 at the end, or a
/// negative value to abort (the call then returns OS_ERR_CALLBACK).
pub type os_read_cb =
    Option<unsafe extern "C" fn(ctx: *mut c_void, buf: *mut u8, cap: usize) -> libc::intptr_t>;

/// Rewind callback: go back to the start of the stream so a failed upload can be sent again;
/// return 0 when done, non-zero when the stream cannot.
pub type os_rewind_cb = Option<unsafe extern "C" fn(ctx: *mut c_void) -> c_int>;

/// Write callback: consume `len` bytes of `buf` (borrowed for the call only); return 0 to go
/// on, non-zero to abort (the call then returns OS_ERR_CALLBACK).
pub type os_write_cb =
    Option<unsafe extern "C" fn(ctx: *mut c_void, buf: *const u8, len: usize) -> c_int>;

/// Progress callback: bytes done so far and the total (-1 if unknown); return 0 to go on,
/// non-zero to cancel (the call then returns OS_ERR_CANCELLED).
pub type os_progress_cb =
    Option<unsafe extern "C" fn(ctx: *mut c_void, done: u64, total: i64) -> c_int>;

/// Log callback: one line of UTF-8, valid for the call only. May be called from any thread.
pub type os_log_cb =
    Option<unsafe extern "C" fn(ctx: *mut c_void, level: os_log_level, message: *const c_char)>;
