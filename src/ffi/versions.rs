//! Object versions through the C ABI: list (an array or a callback), get (memory, a write
//! callback, a file) and restore.

use std::ffi::{c_char, c_void, CString};
use std::path::Path;

use super::boundary::{dest_arg, guard, out_arg, str_arg, to_cstring};
use super::dest::{give_array, take_array};
use super::stream::{progress_of, CallbackSink, HostPtr};
use super::types::{
    os_dest, os_object_version, os_progress_cb, os_status, os_version_cb, os_write_cb,
};
use crate::error::{Error, ErrorKind};
use crate::time::to_unix_ms;
use crate::Version;

fn version_to_c(v: &Version) -> os_object_version {
    os_object_version {
        version_id: to_cstring(&v.version_id).into_raw(),
        size: v.size.and_then(|s| i64::try_from(s).ok()).unwrap_or(-1),
        last_modified_ms: v.last_modified.map(to_unix_ms).unwrap_or(-1),
        is_current: v.is_current,
        is_delete_marker: v.is_delete_marker,
    }
}

/// Frees the string of one version.
unsafe fn free_version_string(v: &os_object_version) {
    if !v.version_id.is_null() {
        drop(CString::from_raw(v.version_id as *mut c_char));
    }
}

/// Lists the versions of the object `name`, newest first (a container with Swift's object
/// versioning; an object of a container never versioned has one version, "null"). On success
/// `*versions` and `*count` receive an array to free with os_versions_free (`*versions` is NULL
/// when `*count` is 0, for a name with no versions).
///
/// # Safety
/// `dest` is NULL or a live handle; `name` NULL or a NUL-terminated string; `versions` and
/// `count` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn os_list_versions(
    dest: *mut os_dest,
    name: *const c_char,
    versions: *mut *mut os_object_version,
    count: *mut libc::size_t,
) -> os_status {
    guard(|| {
        let d = dest_arg(dest)?;
        let name = str_arg(name, "the name")?;
        out_arg(versions, "versions")?;
        out_arg(count, "count")?;
        let list = d.list_versions(name)?;
        give_array(list.iter().map(version_to_c).collect(), versions, count);
        Ok(())
    })
}

/// Frees an array from os_list_versions; NULL is a no-op.
///
/// # Safety
/// `versions` and `count` are exactly what os_list_versions returned, not freed yet.
#[no_mangle]
pub unsafe extern "C" fn os_versions_free(versions: *mut os_object_version, count: libc::size_t) {
    // SAFETY: each version's string was made by version_to_c and is freed once.
    take_array(versions, count, |v| unsafe { free_version_string(v) });
}

/// Lists the versions of `name` one by one, newest first, with memory bounded by one listing
/// page whatever their number: `cb` gets each version (borrowed for the call only) with `ctx`,
/// and returns 0 to go on or non-zero to stop (the call then returns OS_OK).
///
/// # Safety
/// `dest` is NULL or a live handle; `name` NULL or a NUL-terminated string; `cb` NULL or
/// callable with `ctx` during the call.
#[no_mangle]
pub unsafe extern "C" fn os_list_versions_each(
    dest: *mut os_dest,
    name: *const c_char,
    cb: os_version_cb,
    ctx: *mut c_void,
) -> os_status {
    guard(|| {
        let d = dest_arg(dest)?;
        let name = str_arg(name, "the name")?;
        let cb = cb.ok_or_else(|| Error::invalid_argument("the version callback is NULL"))?;
        let ctx = HostPtr(ctx);
        d.list_versions_with(name, |v| {
            let c = version_to_c(&v);
            // SAFETY: a host callback with its own context, on the calling thread; the version
            // lives until it returns.
            let go_on = unsafe { cb(ctx.get(), &c) } == 0;
            // SAFETY: the string was made by version_to_c just above and is freed once.
            unsafe { free_version_string(&c) };
            go_on
        })
    })
}

/// Downloads the version `version_id` of `name` into memory (free with os_bytes_free; `*data` is
/// NULL when `*len` is 0), verified like os_get. A version id that is not one (empty, or with
/// characters other than letters, digits, '.', '-', '_') is OS_ERR_INVALID_ARGUMENT before any
/// request; a missing version, a version of another object and a delete marker are
/// OS_ERR_NOT_FOUND.
///
/// # Safety
/// `dest` is NULL or a live handle; `name` and `version_id` NULL or NUL-terminated strings;
/// `data` and `len` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn os_get_version(
    dest: *mut os_dest,
    name: *const c_char,
    version_id: *const c_char,
    data: *mut *mut u8,
    len: *mut libc::size_t,
) -> os_status {
    guard(|| {
        let d = dest_arg(dest)?;
        let name = str_arg(name, "the name")?;
        let version_id = str_arg(version_id, "the version id")?;
        out_arg(data, "data")?;
        out_arg(len, "len")?;
        let bytes = d.get_version(name, version_id)?;
        give_array(bytes, data, len);
        Ok(())
    })
}

/// os_get_version through the `write` callback, streamed (as os_get_stream); `progress` may be
/// NULL.
///
/// # Safety
/// As os_get_version; the callbacks are NULL or callable with their contexts during the call.
#[no_mangle]
pub unsafe extern "C" fn os_get_version_stream(
    dest: *mut os_dest,
    name: *const c_char,
    version_id: *const c_char,
    write: os_write_cb,
    ctx: *mut c_void,
    progress: os_progress_cb,
    progress_ctx: *mut c_void,
) -> os_status {
    guard(|| {
        let d = dest_arg(dest)?;
        let name = str_arg(name, "the name")?;
        let version_id = str_arg(version_id, "the version id")?;
        let mut sink = CallbackSink::new(write, ctx)?;
        d.get_version_to_sink(
            name,
            version_id,
            &mut sink,
            ErrorKind::Callback,
            progress_of(progress, progress_ctx),
        )
        .map(|_| ())
    })
}

/// os_get_version to the local file `path` (as os_get_file: a temporary file that replaces
/// `path` only once verified); `progress` may be NULL.
///
/// # Safety
/// `dest` is NULL or a live handle; `name`, `version_id` and `path` NULL or NUL-terminated
/// strings; `progress` NULL or callable with `progress_ctx`.
#[no_mangle]
pub unsafe extern "C" fn os_get_version_file(
    dest: *mut os_dest,
    name: *const c_char,
    version_id: *const c_char,
    path: *const c_char,
    progress: os_progress_cb,
    progress_ctx: *mut c_void,
) -> os_status {
    guard(|| {
        let d = dest_arg(dest)?;
        let name = str_arg(name, "the name")?;
        let version_id = str_arg(version_id, "the version id")?;
        let path = str_arg(path, "the path")?;
        d.get_version_file(
            name,
            version_id,
            Path::new(path),
            progress_of(progress, progress_ctx),
        )
    })
}

/// Makes the version `version_id` of `name` current again (Swift points the object at it; no
/// data is copied, and the version that was current stays a version). Restoring a deleted
/// object's last version undoes the delete. A current object written while versioning was off
/// (version "null") is first kept as a version of its own (a server-side copy onto itself).
/// A delete marker, or a "null" current object while versioning is off, is
/// OS_ERR_INVALID_ARGUMENT and nothing changes; a missing version is OS_ERR_NOT_FOUND.
///
/// # Safety
/// `dest` is NULL or a live handle; `name` and `version_id` NULL or NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn os_restore_version(
    dest: *mut os_dest,
    name: *const c_char,
    version_id: *const c_char,
) -> os_status {
    guard(|| {
        let d = dest_arg(dest)?;
        let name = str_arg(name, "the name")?;
        let version_id = str_arg(version_id, "the version id")?;
        d.restore_version(name, version_id)
    })
}
