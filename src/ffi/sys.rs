//! The library's own calls into C: the one system call std has no safe form of. Kept here so
//! that `src/ffi/` holds all of the crate's `unsafe` code (`lib.rs` denies it elsewhere).

use std::fs::File;

/// Asks the kernel to start writing `len` bytes of `file` from `offset` back to the disk,
/// without waiting (Linux's `sync_file_range(SYNC_FILE_RANGE_WRITE)`; nothing elsewhere).
/// Advisory: an error here shows again at the `fsync`, which is checked.
pub(crate) fn start_write_back(file: &File, offset: u64, len: u64) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let (Ok(offset), Ok(len)) = (
            libc::off64_t::try_from(offset),
            libc::off64_t::try_from(len),
        ) else {
            return;
        };
        // SAFETY: a plain system call on a descriptor `file` keeps open; no memory is passed.
        unsafe {
            libc::sync_file_range(file.as_raw_fd(), offset, len, libc::SYNC_FILE_RANGE_WRITE);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (file, offset, len);
}
