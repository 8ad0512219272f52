//! The destination calls: open, free, test, containers, put, get, list, stat, delete, rename, quota.

use std::ffi::{c_char, c_void, CString};
use std::path::Path;

use super::boundary::{dest_arg, guard, guard_void, out_arg, str_arg, to_cstring};
use super::stream::{progress_of, CallbackSink, CallbackSource, HostPtr};
use super::types::{
    os_delete_failure_cb, os_dest, os_entry, os_entry_cb, os_progress_cb, os_put_options,
    os_quota_info, os_read_cb, os_rewind_cb, os_status, os_write_cb,
};
use crate::error::{Error, ErrorKind, Result};
use crate::time::to_unix_ms;
use crate::{Destination, Entry, PutOptions};

unsafe fn open_impl(
    url: *const c_char,
    keys: *const *const c_char,
    values: *const *const c_char,
    count: libc::size_t,
) -> Result<Box<os_dest>> {
    let url = str_arg(url, "the URL")?;
    let mut options = Vec::with_capacity(count);
    if count > 0 && (keys.is_null() || values.is_null()) {
        return Err(Error::invalid_argument(
            "keys or values is NULL while count is not 0",
        ));
    }
    for i in 0..count {
        let k = str_arg(*keys.add(i), &format!("option key #{i}"))?;
        let v = str_arg(*values.add(i), &format!("the value of option '{k}'"))?;
        options.push((k, v));
    }
    let inner = Destination::open_with(url, options)?;
    Ok(Box::new(os_dest { inner }))
}

/// Opens a destination from an `openstack://` URL; returns NULL on failure (then
/// os_last_error_message says why). Nothing is sent to the server until the first call.
/// Free the handle with os_free.
///
/// # Safety
/// `url` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn os_open(url: *const c_char) -> *mut os_dest {
    let mut out: *mut os_dest = std::ptr::null_mut();
    let _ = os_open_with(url, std::ptr::null(), std::ptr::null(), 0, &mut out);
    out
}

/// Opens a destination from a URL and `count` options given as two arrays (the URL query wins
/// over them; unknown options are ignored). `keys` and `values` may be NULL when `count` is 0.
/// On success `*out` receives the handle (free it with os_free).
///
/// # Safety
/// `url` and every key and value are NULL or NUL-terminated strings; `keys` and `values` hold
/// `count` pointers each; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn os_open_with(
    url: *const c_char,
    keys: *const *const c_char,
    values: *const *const c_char,
    count: libc::size_t,
    out: *mut *mut os_dest,
) -> os_status {
    guard(|| {
        out_arg(out, "out")?;
        let d = open_impl(url, keys, values, count)?;
        *out = Box::into_raw(d);
        Ok(())
    })
}

/// Frees a destination handle; NULL is a no-op. No other call may use the handle meanwhile.
///
/// # Safety
/// `dest` is NULL or a handle from os_open / os_open_with that was not freed yet.
#[no_mangle]
pub unsafe extern "C" fn os_free(dest: *mut os_dest) {
    if !dest.is_null() {
        guard_void(|| drop(Box::from_raw(dest)));
    }
}

/// Checks credentials, endpoint and container; tells OS_ERR_AUTH, OS_ERR_FORBIDDEN and
/// OS_ERR_CONTAINER_NOT_FOUND apart.
///
/// # Safety
/// `dest` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn os_test(dest: *mut os_dest) -> os_status {
    guard(|| dest_arg(dest)?.test())
}

/// Creates the destination's container; succeeds when it exists already.
///
/// # Safety
/// `dest` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn os_create_container(dest: *mut os_dest) -> os_status {
    guard(|| dest_arg(dest)?.create_container())
}

/// Uploads `len` bytes from memory as `name` (relative to the prefix), replacing any object of
/// that name. The MD5 is sent so that Swift verifies the data. `data` may be NULL when `len` is 0.
///
/// # Safety
/// `dest` is NULL or a live handle; `name` is NULL or a NUL-terminated string; `data` is NULL
/// or readable for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn os_put(
    dest: *mut os_dest,
    name: *const c_char,
    data: *const u8,
    len: libc::size_t,
) -> os_status {
    os_put_opts(dest, name, data, len, std::ptr::null())
}

/// os_put with options (may be NULL for none): the host's metadata and an expiry. Options
/// the cluster would refuse (too many or too long keys or values, an expiry in the past) fail
/// with OS_ERR_INVALID_ARGUMENT before any object request.
///
/// # Safety
/// As os_put; `options` is NULL or a live handle from os_put_options_new.
#[no_mangle]
pub unsafe extern "C" fn os_put_opts(
    dest: *mut os_dest,
    name: *const c_char,
    data: *const u8,
    len: libc::size_t,
    options: *const os_put_options,
) -> os_status {
    guard(|| {
        let d = dest_arg(dest)?;
        let name = str_arg(name, "the name")?;
        let bytes: &[u8] = match (data.is_null(), len) {
            (_, 0) => &[],
            (true, _) => return Err(Error::invalid_argument("data is NULL while len is not 0")),
            (false, _) => std::slice::from_raw_parts(data, len),
        };
        d.put_bytes_opts(name, bytes, &options_arg(options))
    })
}

/// The options a put uses: the host's, or none.
///
/// # Safety
/// `options` is NULL or a live handle.
pub(super) unsafe fn options_arg(options: *const os_put_options) -> PutOptions {
    if options.is_null() {
        PutOptions::default()
    } else {
        (*options).inner.clone()
    }
}

/// Uploads the local file `path` as `name`, streamed; its MD5 is computed first and sent.
///
/// # Safety
/// `dest` is NULL or a live handle; `name` and `path` are NULL or NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn os_put_file(
    dest: *mut os_dest,
    name: *const c_char,
    path: *const c_char,
) -> os_status {
    os_put_file_opts(
        dest,
        name,
        path,
        std::ptr::null(),
        None,
        std::ptr::null_mut(),
    )
}

/// os_put_file with options (may be NULL for none): the host's metadata and an expiry, stored
/// besides the file time (bad options fail as in os_put_opts), and a progress callback (may be
/// NULL) that can cancel.
///
/// # Safety
/// As os_put_file; `options` is NULL or a live handle from os_put_options_new; `progress` is
/// NULL or callable with `progress_ctx`.
#[no_mangle]
pub unsafe extern "C" fn os_put_file_opts(
    dest: *mut os_dest,
    name: *const c_char,
    path: *const c_char,
    options: *const os_put_options,
    progress: os_progress_cb,
    progress_ctx: *mut c_void,
) -> os_status {
    guard(|| {
        let d = dest_arg(dest)?;
        let name = str_arg(name, "the name")?;
        let path = str_arg(path, "the path")?;
        d.put_file_opts(
            name,
            Path::new(path),
            progress_of(progress, progress_ctx),
            &options_arg(options),
        )
    })
}

/// Uploads as `name` what `read` yields, streamed through a bounded buffer (chunked transfer;
/// the MD5 is computed on the way and checked against Swift's ETag, and a mismatch deletes the
/// object). With a `rewind` callback (may be NULL) a failed upload is sent again from the
/// start; without one it is not retried. `size` is the exact size when known, else -1: a
/// known size is a promise, sent as Content-Length; a source that yields fewer or more bytes
/// fails with OS_ERR_CALLBACK and nothing is stored. `read` and `rewind` get `ctx`; `progress`
/// (may be NULL) gets `progress_ctx`. `options` (may be NULL for none): the host's metadata and
/// an expiry; bad options fail as in os_put_opts, before `read` is called.
///
/// # Safety
/// `dest` is NULL or a live handle; `name` NULL or a NUL-terminated string; the callbacks are
/// NULL or callable with their contexts during the call; `options` is NULL or a live handle from
/// os_put_options_new.
#[no_mangle]
// The parameters are the C signature hosts link against: a struct would change the ABI.
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn os_put_stream_opts(
    dest: *mut os_dest,
    name: *const c_char,
    read: os_read_cb,
    rewind: os_rewind_cb,
    ctx: *mut c_void,
    size: i64,
    progress: os_progress_cb,
    progress_ctx: *mut c_void,
    options: *const os_put_options,
) -> os_status {
    guard(|| {
        let d = dest_arg(dest)?;
        let name = str_arg(name, "the name")?;
        let read = read.ok_or_else(|| Error::invalid_argument("the read callback is NULL"))?;
        let source = CallbackSource::new(read, rewind, ctx);
        let size = u64::try_from(size).ok();
        d.put_stream_opts(
            name,
            Box::new(source),
            size,
            progress_of(progress, progress_ctx),
            &options_arg(options),
        )
        .map(|_| ())
    })
}

/// Downloads `name` into memory. On success `*data` and `*len` receive the bytes (free them with
/// os_bytes_free); `*data` is NULL when `*len` is 0. Length and MD5 are verified.
///
/// # Safety
/// `dest` is NULL or a live handle; `name` NULL or a NUL-terminated string; `data` and `len`
/// NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn os_get(
    dest: *mut os_dest,
    name: *const c_char,
    data: *mut *mut u8,
    len: *mut libc::size_t,
) -> os_status {
    guard(|| {
        let d = dest_arg(dest)?;
        let name = str_arg(name, "the name")?;
        out_arg(data, "data")?;
        out_arg(len, "len")?;
        let bytes = d.get_bytes(name)?;
        give_array(bytes, data, len);
        Ok(())
    })
}

/// Reads `length` bytes of `name` from `offset` into memory (across the segments of a large
/// object too). On success `*data` and `*len` receive exactly `length` bytes (free them with
/// os_bytes_free; `*data` is NULL when `length` is 0). A range that goes past the end of the
/// object fails with OS_ERR_INVALID_ARGUMENT; it is never a short read. A length of 0 still
/// checks that the object exists and that `offset` is at most its size.
///
/// # Safety
/// `dest` is NULL or a live handle; `name` NULL or a NUL-terminated string; `data` and `len`
/// NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn os_get_range(
    dest: *mut os_dest,
    name: *const c_char,
    offset: u64,
    length: u64,
    data: *mut *mut u8,
    len: *mut libc::size_t,
) -> os_status {
    guard(|| {
        let d = dest_arg(dest)?;
        let name = str_arg(name, "the name")?;
        out_arg(data, "data")?;
        out_arg(len, "len")?;
        if usize::try_from(length).is_err() {
            return Err(Error::invalid_argument(
                "the length does not fit in memory: use os_get_range_stream",
            ));
        }
        let bytes = d.get_range(name, offset, length)?;
        give_array(bytes, data, len);
        Ok(())
    })
}

/// Reads `length` bytes of `name` from `offset` through the `write` callback, streamed. A
/// range that goes past the end of the object fails with OS_ERR_INVALID_ARGUMENT before any
/// byte is written.
///
/// # Safety
/// `dest` is NULL or a live handle; `name` NULL or a NUL-terminated string; `write` NULL or
/// callable with `ctx` during the call.
#[no_mangle]
pub unsafe extern "C" fn os_get_range_stream(
    dest: *mut os_dest,
    name: *const c_char,
    offset: u64,
    length: u64,
    write: os_write_cb,
    ctx: *mut c_void,
) -> os_status {
    guard(|| {
        let d = dest_arg(dest)?;
        let name = str_arg(name, "the name")?;
        let mut sink = CallbackSink::new(write, ctx)?;
        d.get_range_to_sink(name, offset, length, &mut sink, ErrorKind::Callback)
            .map(|_| ())
    })
}

/// Hands `items` to the host through the out-pointers (NULL for none); [`take_array`] takes
/// them back (os_bytes_free, os_entries_free, os_versions_free).
///
/// # Safety
/// `data` and `len` are writable (checked by the caller).
pub(super) unsafe fn give_array<T>(items: Vec<T>, data: *mut *mut T, len: *mut libc::size_t) {
    let n = items.len();
    *data = if n == 0 {
        std::ptr::null_mut()
    } else {
        Box::into_raw(items.into_boxed_slice()).cast::<T>()
    };
    *len = n;
}

/// Takes back an array [`give_array`] handed out, `release` freeing what each item owns; NULL
/// is a no-op.
///
/// # Safety
/// `data` and `len` are exactly what give_array wrote, not taken back yet.
pub(super) unsafe fn take_array<T>(data: *mut T, len: libc::size_t, release: impl Fn(&T)) {
    if !data.is_null() {
        guard_void(|| {
            let all = Box::from_raw(std::ptr::slice_from_raw_parts_mut(data, len));
            all.iter().for_each(release);
        });
    }
}

/// Frees bytes from os_get or os_get_range; NULL is a no-op.
///
/// # Safety
/// `data` and `len` are exactly what os_get returned, not freed yet.
#[no_mangle]
pub unsafe extern "C" fn os_bytes_free(data: *mut u8, len: libc::size_t) {
    take_array(data, len, |_| {});
}

/// Downloads `name` to the local file `path`. The data goes to a temporary file beside it that
/// replaces `path` only once length and MD5 are verified: a failed download leaves nothing.
///
/// # Safety
/// `dest` is NULL or a live handle; `name` and `path` NULL or NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn os_get_file(
    dest: *mut os_dest,
    name: *const c_char,
    path: *const c_char,
) -> os_status {
    os_get_file_ex(dest, name, path, None, std::ptr::null_mut())
}

/// os_get_file with a progress callback (may be NULL) that can cancel.
///
/// # Safety
/// As os_get_file; `progress` is NULL or callable with `progress_ctx`.
#[no_mangle]
pub unsafe extern "C" fn os_get_file_ex(
    dest: *mut os_dest,
    name: *const c_char,
    path: *const c_char,
    progress: os_progress_cb,
    progress_ctx: *mut c_void,
) -> os_status {
    guard(|| {
        let d = dest_arg(dest)?;
        let name = str_arg(name, "the name")?;
        let path = str_arg(path, "the path")?;
        d.get_file_with(name, Path::new(path), progress_of(progress, progress_ctx))
    })
}

/// Downloads `name` through the `write` callback, streamed through a bounded buffer. Length and
/// MD5 are verified at the end: on OS_ERR_INTEGRITY the host must discard what it received.
///
/// # Safety
/// `dest` is NULL or a live handle; `name` NULL or a NUL-terminated string; the callbacks are
/// NULL or callable with their contexts during the call.
#[no_mangle]
pub unsafe extern "C" fn os_get_stream(
    dest: *mut os_dest,
    name: *const c_char,
    write: os_write_cb,
    ctx: *mut c_void,
    progress: os_progress_cb,
    progress_ctx: *mut c_void,
) -> os_status {
    guard(|| {
        let d = dest_arg(dest)?;
        let name = str_arg(name, "the name")?;
        let mut sink = CallbackSink::new(write, ctx)?;
        d.get_to_sink(
            name,
            &mut sink,
            ErrorKind::Callback,
            progress_of(progress, progress_ctx),
        )
        .map(|_| ())
    })
}

/// Deletes `name`; OS_ERR_NOT_FOUND when it does not exist.
///
/// # Safety
/// `dest` is NULL or a live handle; `name` NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn os_delete(dest: *mut os_dest, name: *const c_char) -> os_status {
    guard(|| dest_arg(dest)?.delete(str_arg(name, "the name")?))
}

/// Renames `from` to `to` (a server-side copy, then the delete of `from`).
///
/// # Safety
/// `dest` is NULL or a live handle; `from` and `to` NULL or NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn os_rename(
    dest: *mut os_dest,
    from: *const c_char,
    to: *const c_char,
) -> os_status {
    guard(|| {
        let d = dest_arg(dest)?;
        d.rename(str_arg(from, "the old name")?, str_arg(to, "the new name")?)
    })
}

pub(super) fn entry_to_c(e: &Entry) -> os_entry {
    os_entry {
        name: to_cstring(&e.name).into_raw(),
        size: e.size.and_then(|s| i64::try_from(s).ok()).unwrap_or(-1),
        last_modified_ms: e.last_modified.map(to_unix_ms).unwrap_or(-1),
        is_folder: e.is_folder,
        etag: e
            .etag
            .as_deref()
            .map(|t| to_cstring(t).into_raw() as *const c_char)
            .unwrap_or(std::ptr::null()),
        mtime_ms: e.mtime.map(to_unix_ms).unwrap_or(-1),
        delete_at_ms: e.delete_at.map(to_unix_ms).unwrap_or(-1),
        kind: e.kind.into(),
    }
}

/// Frees the strings of one entry.
pub(super) unsafe fn free_entry_strings(e: &os_entry) {
    if !e.name.is_null() {
        drop(CString::from_raw(e.name as *mut c_char));
    }
    if !e.etag.is_null() {
        drop(CString::from_raw(e.etag as *mut c_char));
    }
}

/// Size, ETag and modification time of `name`. On success `*out` receives an entry to free
/// with os_entry_free.
///
/// # Safety
/// `dest` is NULL or a live handle; `name` NULL or a NUL-terminated string; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn os_stat(
    dest: *mut os_dest,
    name: *const c_char,
    out: *mut *mut os_entry,
) -> os_status {
    guard(|| {
        let d = dest_arg(dest)?;
        let name = str_arg(name, "the name")?;
        out_arg(out, "out")?;
        let e = d.stat(name)?;
        *out = Box::into_raw(Box::new(entry_to_c(&e)));
        Ok(())
    })
}

/// Frees an entry from os_stat; NULL is a no-op.
///
/// # Safety
/// `entry` is NULL or what os_stat returned, not freed yet.
#[no_mangle]
pub unsafe extern "C" fn os_entry_free(entry: *mut os_entry) {
    if !entry.is_null() {
        guard_void(|| {
            let e = Box::from_raw(entry);
            free_entry_strings(&e);
        });
    }
}

/// Lists the files and folders under the prefix (every page). On success `*entries` and
/// `*count` receive the array (free it with os_entries_free); `*entries` is NULL when `*count`
/// is 0.
///
/// # Safety
/// `dest` is NULL or a live handle; `entries` and `count` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn os_list(
    dest: *mut os_dest,
    entries: *mut *mut os_entry,
    count: *mut libc::size_t,
) -> os_status {
    guard(|| {
        let d = dest_arg(dest)?;
        out_arg(entries, "entries")?;
        out_arg(count, "count")?;
        let list = d.list()?;
        give_array(list.iter().map(entry_to_c).collect(), entries, count);
        Ok(())
    })
}

/// Lists entry by entry, for listings of any size (memory bounded by one listing page): `cb`
/// gets each entry (borrowed for the call only) with `ctx`, and returns 0 to go on or non-zero
/// to stop (the call then returns OS_OK). `prefix` (NULL or "" for all) keeps only names that
/// start with it, relative to the destination's prefix (it need not end in '/'). With
/// `recursive` every object at any depth is listed and no folders; without, the objects
/// directly under the prefix and its sub-folders as folder entries. Names are relative to the
/// destination's prefix.
///
/// # Safety
/// `dest` is NULL or a live handle; `prefix` NULL or a NUL-terminated string; `cb` NULL or
/// callable with `ctx` during the call.
#[no_mangle]
pub unsafe extern "C" fn os_list_each(
    dest: *mut os_dest,
    prefix: *const c_char,
    recursive: bool,
    cb: os_entry_cb,
    ctx: *mut c_void,
) -> os_status {
    guard(|| {
        let d = dest_arg(dest)?;
        let prefix = if prefix.is_null() {
            ""
        } else {
            str_arg(prefix, "the prefix")?
        };
        let cb = cb.ok_or_else(|| Error::invalid_argument("the entry callback is NULL"))?;
        let ctx = HostPtr(ctx);
        let options = crate::ListOptions {
            prefix: prefix.to_string(),
            recursive,
        };
        d.list_with(&options, |entry| {
            let e = entry_to_c(&entry);
            // SAFETY: a host callback with its own context, on the calling thread; the entry
            // lives until it returns.
            let go_on = unsafe { cb(ctx.get(), &e) } == 0;
            // SAFETY: the strings were made by entry_to_c just above and are freed once.
            unsafe { free_entry_strings(&e) };
            go_on
        })
    })
}

/// Deletes the container. One that still holds objects is refused with
/// OS_ERR_CONTAINER_NOT_EMPTY, unless `empty_first`, which first deletes every object in it
/// (all of them, not only those under the destination's prefix).
///
/// # Safety
/// `dest` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn os_delete_container(dest: *mut os_dest, empty_first: bool) -> os_status {
    guard(|| dest_arg(dest)?.delete_container(empty_first))
}

/// Frees an array from os_list; NULL is a no-op.
///
/// # Safety
/// `entries` and `count` are exactly what os_list returned, not freed yet.
#[no_mangle]
pub unsafe extern "C" fn os_entries_free(entries: *mut os_entry, count: libc::size_t) {
    // SAFETY: each entry's strings were made by entry_to_c and are freed once.
    take_array(entries, count, |e| unsafe { free_entry_strings(e) });
}

/// The account's usage and quota, written to `*out` on success.
///
/// # Safety
/// `dest` is NULL or a live handle; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn os_quota(dest: *mut os_dest, out: *mut os_quota_info) -> os_status {
    guard(|| {
        let d = dest_arg(dest)?;
        out_arg(out, "out")?;
        let q = d.quota()?;
        let as_i64 = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        *out = os_quota_info {
            bytes_used: as_i64(q.bytes_used),
            quota_bytes: q.quota_bytes.map(as_i64).unwrap_or(-1),
            object_count: as_i64(q.object_count),
            container_count: as_i64(q.container_count),
        };
        Ok(())
    })
}

/// Removes the segments that no manifest references (uploads killed and never resumed leave
/// them): only segments this library wrote for the destination's container, and only those
/// older than `older_than_seconds` (86400, a day, is a safe grace: an upload in progress
/// elsewhere is never hit). Writes the number of objects removed and their bytes.
///
/// # Safety
/// `dest` is NULL or a live handle; `removed` and `bytes` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn os_sweep_segments(
    dest: *mut os_dest,
    older_than_seconds: u64,
    removed: *mut u64,
    bytes: *mut u64,
) -> os_status {
    guard(|| {
        let d = dest_arg(dest)?;
        out_arg(removed, "removed")?;
        out_arg(bytes, "bytes")?;
        let report = d.sweep_segments(std::time::Duration::from_secs(older_than_seconds))?;
        *removed = report.removed;
        *bytes = report.bytes;
        Ok(())
    })
}

/// Reads `count` names from `names` (NULL only when `count` is 0).
unsafe fn names_arg<'a>(names: *const *const c_char, count: libc::size_t) -> Result<Vec<&'a str>> {
    if count > 0 && names.is_null() {
        return Err(Error::invalid_argument(
            "names is NULL while count is not 0",
        ));
    }
    (0..count)
        .map(|i| str_arg(*names.add(i), &format!("name #{i}")))
        .collect()
}

/// Deletes the `count` objects `names` at once, with the segments of large objects: Swift's
/// bulk delete where the cluster offers it, else one DELETE each, several at a time. Names
/// already gone count as deleted. OS_OK when every name is gone, with `*deleted` the number
/// deleted now (not counting those already gone); otherwise the status of the first name that
/// failed, with its message (use os_delete_many_ex to hear of every failure).
///
/// # Safety
/// `dest` is NULL or a live handle; `names` holds `count` NUL-terminated strings (NULL when
/// `count` is 0); `deleted` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn os_delete_many(
    dest: *mut os_dest,
    names: *const *const c_char,
    count: libc::size_t,
    deleted: *mut libc::size_t,
) -> os_status {
    guard(|| {
        let d = dest_arg(dest)?;
        out_arg(deleted, "deleted")?;
        let names = names_arg(names, count)?;
        let report = d.delete_many(&names)?;
        if let Some((name, e)) = report.failures.into_iter().next() {
            return Err(Error::new(e.kind(), format!("'{name}': {e}")));
        }
        *deleted = usize::try_from(report.deleted).unwrap_or(usize::MAX);
        Ok(())
    })
}

/// os_delete_many that tells of every name that failed: `on_failure` (may be NULL) is called
/// once for each, on the calling thread, before the call returns. OS_OK when the deletes ran
/// (even if some names failed), with `*deleted` and `*missing` (names already gone) written;
/// an error of the whole call (authentication, a missing container) is its status.
///
/// # Safety
/// As for os_delete_many; `missing` NULL or writable; `ctx` is passed to `on_failure` as is.
#[no_mangle]
pub unsafe extern "C" fn os_delete_many_ex(
    dest: *mut os_dest,
    names: *const *const c_char,
    count: libc::size_t,
    on_failure: os_delete_failure_cb,
    ctx: *mut c_void,
    deleted: *mut libc::size_t,
    missing: *mut libc::size_t,
) -> os_status {
    guard(|| {
        let d = dest_arg(dest)?;
        out_arg(deleted, "deleted")?;
        out_arg(missing, "missing")?;
        let names = names_arg(names, count)?;
        let report = d.delete_many(&names)?;
        if let Some(cb) = on_failure {
            for (name, e) in &report.failures {
                let name = to_cstring(name);
                let message = to_cstring(&e.to_string());
                cb(ctx, name.as_ptr(), e.kind().into(), message.as_ptr());
            }
        }
        *deleted = usize::try_from(report.deleted).unwrap_or(usize::MAX);
        *missing = usize::try_from(report.missing).unwrap_or(usize::MAX);
        Ok(())
    })
}
