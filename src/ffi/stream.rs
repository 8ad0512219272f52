//! Host callbacks as Rust sources, sinks and progress closures.

use std::ffi::c_void;
use std::io::Write;

use super::types::{os_progress_cb, os_rewind_cb};
use crate::error::ErrorKind;
use crate::{Progress, UploadSource};

/// A host pointer passed back to its callbacks. The host promises that its callbacks may be
/// called with it from the thread that made the call (and, for logging, from any thread).
#[derive(Clone, Copy)]
pub(crate) struct HostPtr(pub(crate) *mut c_void);
// SAFETY: the pointer is only handed back to the host's own callbacks, as the header documents.
unsafe impl Send for HostPtr {}
// SAFETY: as above; the library never dereferences it.
unsafe impl Sync for HostPtr {}

impl HostPtr {
    /// The pointer (a method, so that closures capture the whole `Send` wrapper).
    pub(crate) fn get(self) -> *mut c_void {
        self.0
    }
}

/// An upload source reading through a host's read (and optional rewind) callback.
pub(crate) struct CallbackSource {
    pub(crate) read: unsafe extern "C" fn(*mut c_void, *mut u8, usize) -> isize,
    pub(crate) rewind: os_rewind_cb,
    pub(crate) ctx: HostPtr,
}

impl CallbackSource {
    pub(crate) fn new(
        read: unsafe extern "C" fn(*mut c_void, *mut u8, usize) -> isize,
        rewind: os_rewind_cb,
        ctx: *mut c_void,
    ) -> Self {
        CallbackSource {
            read,
            rewind,
            ctx: HostPtr(ctx),
        }
    }
}

impl UploadSource for CallbackSource {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        // SAFETY: the host's callback gets a buffer valid for `buf.len()` bytes for this call.
        let n = unsafe { (self.read)(self.ctx.0, buf.as_mut_ptr(), buf.len()) };
        if n < 0 {
            return Err(std::io::Error::other(format!(
                "the read callback returned {n}"
            )));
        }
        let n = n as usize;
        if n > buf.len() {
            return Err(std::io::Error::other(format!(
                "the read callback claimed {n} bytes for a buffer of {}",
                buf.len()
            )));
        }
        Ok(n)
    }

    fn rewind(&mut self) -> std::io::Result<bool> {
        match self.rewind {
            None => Ok(false),
            // SAFETY: a host callback with the host's own context.
            Some(f) => match unsafe { f(self.ctx.0) } {
                0 => Ok(true),
                r => Err(std::io::Error::other(format!(
                    "the rewind callback returned {r}"
                ))),
            },
        }
    }

    fn can_rewind(&self) -> bool {
        self.rewind.is_some()
    }

    fn failure_kind(&self) -> ErrorKind {
        ErrorKind::Callback
    }
}

/// A download sink writing through a host's write callback.
pub(crate) struct CallbackSink {
    pub(crate) write: unsafe extern "C" fn(*mut c_void, *const u8, usize) -> std::ffi::c_int,
    pub(crate) ctx: HostPtr,
}

impl CallbackSink {
    /// The sink of a call's `write` callback and its `ctx`; a NULL callback is refused.
    pub(crate) fn new(
        write: crate::ffi::types::os_write_cb,
        ctx: *mut c_void,
    ) -> crate::error::Result<Self> {
        let write = write
            .ok_or_else(|| crate::error::Error::invalid_argument("the write callback is NULL"))?;
        Ok(CallbackSink {
            write,
            ctx: HostPtr(ctx),
        })
    }
}

impl Write for CallbackSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        // SAFETY: the buffer is valid for `buf.len()` bytes during the call.
        match unsafe { (self.write)(self.ctx.0, buf.as_ptr(), buf.len()) } {
            0 => Ok(buf.len()),
            r => Err(std::io::Error::other(format!(
                "the write callback returned {r}"
            ))),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A progress closure over a host's progress callback, or none.
pub(crate) fn progress_of(cb: os_progress_cb, ctx: *mut c_void) -> Option<Progress> {
    let f = cb?;
    let ctx = HostPtr(ctx);
    Some(Box::new(move |done: u64, total: Option<u64>| {
        let total = total.and_then(|t| i64::try_from(t).ok()).unwrap_or(-1);
        // SAFETY: a host callback with the host's own context, on the calling thread.
        unsafe { f(ctx.get(), done, total) == 0 }
    }))
}
