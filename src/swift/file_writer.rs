//! Writing a restored file at an offset, with early write-back: every [`WRITE_BEHIND`] bytes
//! one writer has written are handed to the kernel to start writing (Linux's
//! `sync_file_range(SYNC_FILE_RANGE_WRITE)`, which does not wait), so the `fsync` that makes
//! the file durable before it replaces the old one has little left to wait for, and the disk
//! works while the network does. The `fsync` stays: it is what reports a failed write.

use std::fs::File;
use std::io::Write;

/// How much one writer writes before it starts the write-back of it.
const WRITE_BEHIND: u64 = 8 * 1024 * 1024;

/// Writes into `file` from a fixed offset onwards (`pwrite`), so several writers can fill
/// their own ranges of one file at once.
pub(crate) struct FileAt<'f> {
    file: &'f File,
    pos: u64,
    /// Where the range whose write-back has not been started begins.
    unflushed: u64,
}

impl<'f> FileAt<'f> {
    /// A writer of `file` from `pos` on.
    pub(crate) fn new(file: &'f File, pos: u64) -> Self {
        FileAt {
            file,
            pos,
            unflushed: pos,
        }
    }

    fn start_write_back(&mut self) {
        crate::ffi::sys::start_write_back(self.file, self.unflushed, self.pos - self.unflushed);
        self.unflushed = self.pos;
    }
}

impl Write for FileAt<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        use std::os::unix::fs::FileExt;
        let n = self.file.write_at(buf, self.pos)?;
        self.pos += n as u64;
        if self.pos - self.unflushed >= WRITE_BEHIND {
            self.start_write_back();
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn writers_fill_their_own_ranges() {
        let dir = std::env::temp_dir().join(format!("osd-file-at-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("f");
        let file = File::create(&path).unwrap();
        let big = vec![7u8; (WRITE_BEHIND as usize) * 2 + 5];
        let mut b = FileAt::new(&file, 3);
        b.write_all(&big).unwrap();
        FileAt::new(&file, 0).write_all(b"abc").unwrap();
        file.sync_all().unwrap();
        let mut got = Vec::new();
        File::open(&path).unwrap().read_to_end(&mut got).unwrap();
        assert_eq!(&got[..3], b"abc");
        assert_eq!(&got[3..], &big[..]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
