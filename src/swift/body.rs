//! What an upload sends: its sources (memory, a file, a range of a file, a stream held to its
//! promised size), each of which can start again from its beginning, and their MD5 (one loop
//! for all).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use bytes::Bytes;
use md5::{Digest, Md5};

use super::meta::Headers;
use super::types::UploadSource;
use crate::error::{Error, ErrorKind, Result};

/// Bytes read from a source at a time (bounds the memory of a streamed upload).
pub(crate) use crate::http::CHUNK;

/// Where the data of an upload comes from.
pub(crate) enum UploadBody<'a> {
    /// Bytes in memory.
    Bytes(Bytes),
    /// A local file, read twice: once for its MD5, once to send it.
    File(&'a Path),
    /// A stream, and its size when known. A known size is a promise: it is sent as
    /// `Content-Length`, and a source that yields fewer or more bytes fails the upload.
    Stream(Box<dyn UploadSource>, Option<u64>),
}

/// A file opened for an upload; rewinding seeks to its start.
pub(crate) struct FileSource(pub(crate) File);

impl UploadSource for FileSource {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf)
    }
    fn rewind(&mut self) -> std::io::Result<bool> {
        self.0.seek(SeekFrom::Start(0))?;
        Ok(true)
    }
    fn can_rewind(&self) -> bool {
        true
    }
}

/// Bytes in memory as a source.
pub(crate) struct BytesSource(pub(crate) Bytes, pub(crate) usize);

impl UploadSource for BytesSource {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.0.len() - self.1);
        buf[..n].copy_from_slice(&self.0[self.1..self.1 + n]);
        self.1 += n;
        Ok(n)
    }
    fn rewind(&mut self) -> std::io::Result<bool> {
        self.1 = 0;
        Ok(true)
    }
    fn can_rewind(&self) -> bool {
        true
    }
}

/// The MD5 (hex) and length of everything `source` yields, read to its end; a failing read is
/// an error of the source's kind saying `what` was read.
pub(crate) fn md5_of(source: &mut dyn UploadSource, what: &str) -> Result<(String, u64)> {
    let mut md5 = Md5::new();
    let mut buf = vec![0u8; CHUNK];
    let mut total = 0u64;
    loop {
        match source.read(&mut buf) {
            Ok(0) => return Ok((hex(&md5.finalize()), total)),
            Ok(n) => {
                md5.update(&buf[..n]);
                total += n as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                return Err(Error::new(
                    source.failure_kind(),
                    format!("{what}: reading the data failed: {e}"),
                ))
            }
        }
    }
}

/// The MD5 (hex) and length of the file at `path`.
fn file_md5(path: &Path) -> Result<(String, u64)> {
    let f = File::open(path)
        .map_err(|e| Error::local_io(&format!("opening '{}'", path.display()), &e))?;
    md5_of(&mut FileSource(f), &format!("reading '{}'", path.display()))
}

/// The MD5 (hex) of a stream that promised `size` bytes, read to its end; a stream that ends
/// before its promise or goes past it fails with the message a sent upload would give.
pub(crate) fn stream_md5(source: &mut dyn UploadSource, size: u64, what: &str) -> Result<String> {
    Ok(md5_of(&mut Promised::new(source, size), what)?.0)
}

/// The MD5 (hex) of `len` bytes of `path` from `offset`; a file shorter than that fails.
pub(crate) fn range_md5(path: &Path, offset: u64, len: u64) -> Result<String> {
    let what = format!("reading '{}'", path.display());
    let (md5, read) = md5_of(&mut FileRange::open(path, offset, len)?, &what)?;
    if read < len {
        return Err(Error::new(
            ErrorKind::LocalIo,
            format!("{what}: the file is shorter than it was"),
        ));
    }
    Ok(md5)
}

/// Why a source that promised `size` bytes ended after `seen`.
pub(crate) fn ended_short(seen: u64, size: u64) -> String {
    format!("the data ended after {seen} of the {size} bytes its size promised; nothing was stored")
}

/// Why a source that promised `size` bytes yielded more.
pub(crate) fn went_past(size: u64) -> String {
    format!("the data goes on past the {size} bytes its size promised; nothing was stored")
}

/// A source held to the size it promised: reading fails once it goes past `size`, or when it
/// ends before. Whoever reads it stores nothing after such a failure.
pub(crate) struct Promised<S> {
    inner: S,
    size: u64,
    seen: u64,
}

impl<S> Promised<S> {
    /// Holds `inner` to `size` bytes.
    pub(crate) fn new(inner: S, size: u64) -> Promised<S> {
        Promised {
            inner,
            size,
            seen: 0,
        }
    }
}

impl<S: std::ops::DerefMut<Target = T> + Send, T: UploadSource + ?Sized> UploadSource
    for Promised<S>
{
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.seen += n as u64;
        if n == 0 && self.seen < self.size && !buf.is_empty() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                ended_short(self.seen, self.size),
            ));
        }
        if self.seen > self.size {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                went_past(self.size),
            ));
        }
        Ok(n)
    }
    fn rewind(&mut self) -> std::io::Result<bool> {
        let ok = self.inner.rewind()?;
        self.seen = 0;
        Ok(ok)
    }
    fn can_rewind(&self) -> bool {
        self.inner.can_rewind()
    }
    fn failure_kind(&self) -> ErrorKind {
        self.inner.failure_kind()
    }
}

/// `len` bytes of a file from `offset`, as a source that rewinds to `offset`.
pub(crate) struct FileRange {
    file: File,
    offset: u64,
    left: u64,
    len: u64,
}

impl FileRange {
    /// Opens `path` for the range.
    pub(crate) fn open(path: &Path, offset: u64, len: u64) -> Result<FileRange> {
        let mut file = File::open(path)
            .map_err(|e| Error::local_io(&format!("opening '{}'", path.display()), &e))?;
        file.seek(SeekFrom::Start(offset))
            .map_err(|e| Error::local_io(&format!("reading '{}'", path.display()), &e))?;
        Ok(FileRange {
            file,
            offset,
            left: len,
            len,
        })
    }
}

impl UploadSource for FileRange {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let want = usize::try_from(self.left)
            .unwrap_or(usize::MAX)
            .min(buf.len());
        let n = self.file.read(&mut buf[..want])?;
        self.left -= n as u64;
        Ok(n)
    }
    fn rewind(&mut self) -> std::io::Result<bool> {
        self.file.seek(SeekFrom::Start(self.offset))?;
        self.left = self.len;
        Ok(true)
    }
    fn can_rewind(&self) -> bool {
        true
    }
}

/// A slice of bytes in memory as a source.
pub(crate) fn bytes_source(b: Bytes) -> Box<dyn UploadSource> {
    Box::new(BytesSource(b, 0))
}

/// The hex form of a digest.
pub(crate) fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

impl<'a> UploadBody<'a> {
    /// The headers an upload of this body stores with the object: a file's modification time
    /// as `X-Object-Meta-Mtime`.
    pub(crate) fn metadata(&self) -> Headers {
        match self {
            UploadBody::File(path) => std::fs::metadata(path)
                .and_then(|m| m.modified())
                .ok()
                .and_then(crate::headers::mtime_value)
                .and_then(|v| reqwest::header::HeaderValue::from_str(&v).ok())
                .map(|v| {
                    vec![(
                        reqwest::header::HeaderName::from_static("x-object-meta-mtime"),
                        v,
                    )]
                })
                .unwrap_or_default(),
            _ => Vec::new(),
        }
    }

    /// The same body once more, for a second PUT: memory and files only.
    pub(crate) fn again(&self) -> Option<UploadBody<'a>> {
        match self {
            UploadBody::Bytes(b) => Some(UploadBody::Bytes(b.clone())),
            UploadBody::File(path) => Some(UploadBody::File(path)),
            UploadBody::Stream(..) => None,
        }
    }

    /// The MD5 (hex) of memory or a file, read once here; `None` for a stream.
    pub(crate) fn md5(&self) -> Result<Option<String>> {
        Ok(match self {
            UploadBody::Bytes(b) => Some(hex(&Md5::digest(b))),
            UploadBody::File(path) => Some(file_md5(path)?.0),
            UploadBody::Stream(..) => None,
        })
    }

    /// The size of the body, when known before sending.
    pub(crate) fn size(&self) -> Result<Option<u64>> {
        Ok(match self {
            UploadBody::Bytes(b) => Some(b.len() as u64),
            UploadBody::File(path) => Some(
                std::fs::metadata(path)
                    .map_err(|e| Error::local_io(&format!("reading '{}'", path.display()), &e))?
                    .len(),
            ),
            UploadBody::Stream(_, size) => *size,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Yields `total` bytes in pieces of the given sizes (then the rest at once).
    struct Pieces {
        pieces: Vec<usize>,
        left: usize,
    }

    impl UploadSource for Pieces {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let want = if self.pieces.is_empty() {
                self.left
            } else {
                self.pieces.remove(0)
            };
            let n = want.min(self.left).min(buf.len());
            buf[..n].fill(b'p');
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

    proptest! {
        /// A promised source reads to its end exactly when it yields what it promised, however
        /// its reads are cut; otherwise the failure says so, and nothing past the promise is
        /// ever handed on.
        #[test]
        fn a_promise_holds_only_when_kept(
            total in 0usize..5000,
            promise in 0u64..5000,
            pieces in proptest::collection::vec(0usize..700, 0..12),
        ) {
            let mut source = Pieces { pieces, left: total };
            let mut held = Promised::new(&mut source as &mut dyn UploadSource, promise);
            let mut buf = [0u8; 512];
            let mut handed = 0u64;
            let outcome = loop {
                match held.read(&mut buf) {
                    Ok(0) => break Ok(()),
                    Ok(n) => handed += n as u64,
                    Err(e) => break Err(e),
                }
            };
            prop_assert!(handed <= promise);
            match outcome {
                Ok(()) => prop_assert_eq!(total as u64, promise),
                Err(e) => {
                    prop_assert_ne!(total as u64, promise);
                    prop_assert!(e.to_string().contains("promised"), "{}", e);
                }
            }
            // The MD5 pass keeps the same promise.
            let mut again = Pieces { pieces: Vec::new(), left: total };
            let md5 = stream_md5(&mut again, promise, "uploading 'x'");
            prop_assert_eq!(md5.is_ok(), total as u64 == promise);
        }
    }
}
