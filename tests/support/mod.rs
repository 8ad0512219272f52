//! Helpers shared by the integration tests.
pub mod fake;
pub mod real;

/// An upload source that yields `left` bytes (at most 1000 per read), whatever size was
/// promised for it, and cannot rewind: for the size-promise tests.
#[allow(dead_code)] // not every test binary uses it
pub struct Yields {
    pub left: usize,
}

impl openstack_dest::UploadSource for Yields {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.left).min(1000);
        buf[..n].fill(b'y');
        self.left -= n;
        Ok(n)
    }
    fn rewind(&mut self) -> std::io::Result<bool> {
        Ok(false)
    }
    fn can_rewind(&self) -> bool {
        false
    }
}
