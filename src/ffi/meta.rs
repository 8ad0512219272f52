//! Options of puts and metadata updates (the host's metadata, expiry) and reading metadata.

use std::ffi::{c_char, c_void};
use std::time::{Duration, UNIX_EPOCH};

use super::boundary::{dest_arg, guard, guard_void, out_arg, str_arg, to_cstring};
use super::dest::{entry_to_c, options_arg};
use super::stream::HostPtr;
use super::types::{os_dest, os_entry, os_meta_cb, os_put_options, os_status};
use crate::error::{Error, Result};
use crate::swift::meta::{check_key, check_value};

unsafe fn options_mut<'a>(options: *mut os_put_options) -> Result<&'a mut crate::PutOptions> {
    if options.is_null() {
        return Err(Error::invalid_argument("the options are NULL"));
    }
    Ok(&mut (*options).inner)
}

/// New, empty put options (no metadata; the destination's expiry, `openstack-delete-after`).
/// Free them with os_put_options_free; a put does not take them over, so one set of options
/// may serve many puts.
#[no_mangle]
pub extern "C" fn os_put_options_new() -> *mut os_put_options {
    Box::into_raw(Box::new(os_put_options {
        inner: crate::PutOptions::default(),
    }))
}

/// Frees options from os_put_options_new; NULL is a no-op.
///
/// # Safety
/// `options` is NULL or a live handle, not in use by another call.
#[no_mangle]
pub unsafe extern "C" fn os_put_options_free(options: *mut os_put_options) {
    if !options.is_null() {
        guard_void(|| drop(Box::from_raw(options)));
    }
}

/// Sets the metadata key `key` (stored as X-Object-Meta-<key>) to `value`, replacing an earlier
/// value of the same key (keys do not depend on case). Keys are letters, digits and
/// !#$%&'*+-.^`|~ (no '_', which Swift turns into '-'); "mtime" is the library's own (the file
/// time) and refused. Values are UTF-8 without control characters or white space at either
/// end. An empty value stores nothing in a put and removes the key in os_update_metadata.
/// OS_ERR_INVALID_ARGUMENT says what is wrong; the cluster's limits are checked by the put.
///
/// # Safety
/// `options` is NULL or a live handle; `key` and `value` NULL or NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn os_put_options_set_meta(
    options: *mut os_put_options,
    key: *const c_char,
    value: *const c_char,
) -> os_status {
    guard(|| {
        let o = options_mut(options)?;
        let key = check_key(str_arg(key, "the key")?)?;
        let value = str_arg(value, "the value")?;
        check_value(&key, value)?;
        o.metadata.retain(|(k, _)| !k.eq_ignore_ascii_case(&key));
        o.metadata.push((key, value.to_string()));
        Ok(())
    })
}

/// The object expires `seconds` after the put (X-Delete-After; from 1 second to 100 years),
/// whatever the destination's `openstack-delete-after`. Replaces an expiry set before.
///
/// # Safety
/// `options` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn os_put_options_set_delete_after(
    options: *mut os_put_options,
    seconds: u64,
) -> os_status {
    guard(|| {
        let o = options_mut(options)?;
        let d = Duration::from_secs(seconds);
        if seconds == 0 || d > crate::swift::meta::MAX_EXPIRY {
            return Err(Error::invalid_argument(format!(
                "delete_after must be from 1 second to 100 years, got {seconds} seconds"
            )));
        }
        o.delete_after = Some(d);
        o.delete_at = None;
        o.no_expiry = false;
        Ok(())
    })
}

/// The object expires at `unix_seconds` (X-Delete-At, Unix time in seconds, UTC), whatever the
/// destination's `openstack-delete-after`; a time that is not in the future fails the put.
/// Replaces an expiry set before.
///
/// # Safety
/// `options` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn os_put_options_set_delete_at(
    options: *mut os_put_options,
    unix_seconds: i64,
) -> os_status {
    guard(|| {
        let o = options_mut(options)?;
        let at = u64::try_from(unix_seconds)
            .ok()
            .and_then(|s| UNIX_EPOCH.checked_add(Duration::from_secs(s)))
            .ok_or_else(|| {
                Error::invalid_argument(format!(
                    "delete_at must be a Unix time after 1970, got {unix_seconds}"
                ))
            })?;
        o.delete_at = Some(at);
        o.delete_after = None;
        o.no_expiry = false;
        Ok(())
    })
}

/// The object never expires: in a put, whatever the destination's `openstack-delete-after`;
/// in os_update_metadata, its expiry is removed. Replaces an expiry set before.
///
/// # Safety
/// `options` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn os_put_options_set_no_expiry(options: *mut os_put_options) -> os_status {
    guard(|| {
        let o = options_mut(options)?;
        o.delete_after = None;
        o.delete_at = None;
        o.no_expiry = true;
        Ok(())
    })
}

/// Changes the metadata and expiry of the existing object `name` without its data. Swift's
/// POST replaces all metadata, so the library reads it first and sends it back changed: each
/// key set in `options` is set, a key set to "" is removed, every other key stays (the file
/// time the library stored and keys of other tools included). The expiry stays unless
/// `options` sets one or removes it (os_put_options_set_no_expiry); the destination's
/// `openstack-delete-after` does not apply. A large object's segments get the same expiry.
/// OS_ERR_NOT_FOUND when the object does not exist.
///
/// # Safety
/// `dest` is NULL or a live handle; `name` NULL or a NUL-terminated string; `options` NULL or
/// a live handle.
#[no_mangle]
pub unsafe extern "C" fn os_update_metadata(
    dest: *mut os_dest,
    name: *const c_char,
    options: *const os_put_options,
) -> os_status {
    guard(|| {
        let d = dest_arg(dest)?;
        let name = str_arg(name, "the name")?;
        if options.is_null() {
            return Err(Error::invalid_argument("the options are NULL"));
        }
        d.update_metadata(name, &options_arg(options))
    })
}

/// os_stat that also hands the host's metadata to `cb` (may be NULL): one call per key
/// (lower case; not the library's own "mtime", which is in the entry) and value, in key order,
/// with `ctx`, before the call returns, from one request. Values that are not UTF-8 (from
/// another tool) have U+FFFD in place of the bad bytes. The entry's delete_at_ms is the
/// object's expiry. On success `*out` receives an entry to free with os_entry_free.
///
/// # Safety
/// As os_stat; `cb` NULL or callable with `ctx` during the call.
#[no_mangle]
pub unsafe extern "C" fn os_stat_meta(
    dest: *mut os_dest,
    name: *const c_char,
    out: *mut *mut os_entry,
    cb: os_meta_cb,
    ctx: *mut c_void,
) -> os_status {
    guard(|| {
        let d = dest_arg(dest)?;
        let name = str_arg(name, "the name")?;
        out_arg(out, "out")?;
        let e = d.stat(name)?;
        if let Some(cb) = cb {
            let ctx = HostPtr(ctx);
            for (k, v) in &e.metadata {
                let (k, v) = (to_cstring(k), to_cstring(v));
                if cb(ctx.get(), k.as_ptr(), v.as_ptr()) != 0 {
                    break;
                }
            }
        }
        *out = Box::into_raw(Box::new(entry_to_c(&e)));
        Ok(())
    })
}
