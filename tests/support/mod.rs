//! Helpers shared by the integration tests.
pub mod fake;
pub mod real;
pub mod relay;
pub mod servers;

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

/// Asserts that put, get and delete of every name are refused as invalid arguments (a `.` or
/// `..` segment), and that renaming `from` onto `to` is too.
#[allow(dead_code)] // not every test binary uses it
pub fn assert_names_refused(d: &openstack_dest::Destination, names: &[&str], from: &str, to: &str) {
    use openstack_dest::ErrorKind::InvalidArgument;
    for name in names {
        let e = d.put_bytes(name, b"overwritten!").unwrap_err();
        assert_eq!(e.kind(), InvalidArgument, "{name}: {e}");
        assert_eq!(
            d.get_bytes(name).unwrap_err().kind(),
            InvalidArgument,
            "{name}"
        );
        assert_eq!(
            d.delete(name).unwrap_err().kind(),
            InvalidArgument,
            "{name}"
        );
    }
    assert_eq!(d.rename(from, to).unwrap_err().kind(), InvalidArgument);
}
