//! The C ABI: the only `extern "C"` and `unsafe` code of the library (the crate denies
//! `unsafe_code` everywhere else; [`sys`] holds the one system call the rest needs).
//!
//! Conventions: every fallible call returns an [`os_status`]; outputs go through out-pointers
//! written only on success; NULL pointers and invalid UTF-8 give `OS_ERR_INVALID_ARGUMENT`; no
//! panic crosses the boundary; everything the library allocates has exactly one matching
//! `_free`, and every `_free` accepts NULL. Errors are described by [`os_last_error_message`]
//! and [`os_last_http_status`], per thread.
//!
//! Threads: one `os_dest` may be used by several threads at once (all calls on it are
//! thread-safe), but `os_free` must not race with other calls on the same handle. Entry arrays
//! and byte buffers belong to the caller until freed (from any thread); error messages belong to
//! the thread that received them, until its next call.
//! Callbacks run on the calling thread, except the log callback, which may run on any thread.

mod boundary;
mod dest;
mod meta;
mod misc;
mod stream;
pub(crate) mod sys;
mod types;
mod versions;

pub use dest::*;
pub use meta::*;
pub use misc::*;
pub use types::*;
pub use versions::*;
