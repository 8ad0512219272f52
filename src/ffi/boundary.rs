//! The boundary: panic catching, the thread's last error, and argument checks.

use std::cell::RefCell;
use std::ffi::{c_char, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use super::types::{os_dest, os_status};
use crate::error::{Error, Result};
use crate::Destination;

struct LastError {
    message: CString,
    http_status: i32,
}

thread_local! {
    static LAST: RefCell<LastError> = RefCell::new(LastError { message: CString::default(), http_status: 0 });
}

/// A C string without interior NULs (they are replaced), for messages and names.
pub(crate) fn to_cstring(s: &str) -> CString {
    CString::new(s.replace('\0', "\u{FFFD}")).unwrap_or_default()
}

fn set_last(message: &str, http_status: i32) {
    LAST.with(|l| {
        let mut l = l.borrow_mut();
        l.message = to_cstring(&crate::secret::scrub(message));
        l.http_status = http_status;
    });
}

pub(crate) fn clear_last() {
    set_last("", 0);
}

pub(crate) fn last_message_ptr() -> *const c_char {
    LAST.with(|l| l.borrow().message.as_ptr())
}

pub(crate) fn last_http_status() -> i32 {
    LAST.with(|l| l.borrow().http_status)
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    let detail = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    format!("internal error in libopenstack_dest ({detail}); please report it")
}

/// Runs `f` behind the panic boundary and turns its result into a status, recording the error.
pub(crate) fn guard(f: impl FnOnce() -> Result<()>) -> os_status {
    clear_last();
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => os_status::OS_OK,
        Ok(Err(e)) => {
            set_last(&e.to_string(), e.http_status().map(i32::from).unwrap_or(0));
            e.kind().into()
        }
        Err(payload) => {
            set_last(&panic_text(&*payload), 0);
            os_status::OS_ERR_PANIC
        }
    }
}

/// Runs a function that returns nothing behind the panic boundary (frees, setters).
pub(crate) fn guard_void(f: impl FnOnce()) {
    let _ = catch_unwind(AssertUnwindSafe(f));
}

/// Runs a function that returns a plain value behind the panic boundary; a panic gives
/// `fallback`.
pub(crate) fn guard_value<T>(fallback: T, f: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(fallback)
}

/// A borrowed UTF-8 string argument.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string that outlives the call.
pub(crate) unsafe fn str_arg<'a>(p: *const c_char, what: &str) -> Result<&'a str> {
    if p.is_null() {
        return Err(Error::invalid_argument(format!("{what} is NULL")));
    }
    CStr::from_ptr(p)
        .to_str()
        .map_err(|_| Error::invalid_argument(format!("{what} is not valid UTF-8")))
}

/// The destination behind a handle.
///
/// # Safety
/// `p` is NULL or a handle from os_open that has not been freed.
pub(crate) unsafe fn dest_arg<'a>(p: *mut os_dest) -> Result<&'a Destination> {
    if p.is_null() {
        return Err(Error::invalid_argument("the destination handle is NULL"));
    }
    Ok(&(*p).inner)
}

/// Checks that an out-pointer is not NULL.
pub(crate) fn out_arg<T>(p: *mut T, what: &str) -> Result<()> {
    if p.is_null() {
        Err(Error::invalid_argument(format!(
            "{what} (an output pointer) is NULL"
        )))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn last_message() -> String {
        // SAFETY: the pointer is the thread's own NUL-terminated message.
        unsafe { CStr::from_ptr(last_message_ptr()) }
            .to_string_lossy()
            .into_owned()
    }

    #[test]
    fn a_panic_becomes_a_status_and_a_message() {
        let prev = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let status = guard(|| panic!("boom"));
        std::panic::set_hook(prev);
        assert_eq!(status, os_status::OS_ERR_PANIC);
        assert!(last_message().contains("boom"), "{}", last_message());
    }

    #[test]
    fn errors_set_and_success_clears_the_last_error() {
        let status = guard(|| {
            Err(Error::new(ErrorKind::NotFound, "gone").with_http(404, Some("tx1".into())))
        });
        assert_eq!(status, os_status::OS_ERR_NOT_FOUND);
        assert_eq!(last_message(), "gone (HTTP 404, transaction tx1)");
        assert_eq!(last_http_status(), 404);
        assert_eq!(guard(|| Ok(())), os_status::OS_OK);
        assert_eq!(last_message(), "");
        assert_eq!(last_http_status(), 0);
    }

    #[test]
    fn null_and_invalid_utf8_are_invalid_arguments() {
        // SAFETY: NULL and a valid NUL-terminated buffer.
        let e = unsafe { str_arg(std::ptr::null(), "the name") }.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        let bad = [0xffu8, 0xfe, 0];
        let e = unsafe { str_arg(bad.as_ptr().cast(), "the name") }.unwrap_err();
        assert!(e.message().contains("UTF-8"));
        assert!(unsafe { dest_arg(std::ptr::null_mut()) }.is_err());
    }
}
