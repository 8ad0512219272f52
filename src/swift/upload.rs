//! Uploads: from memory, a file or a stream, streamed through a bounded buffer, with the MD5
//! sent as `ETag` when known up front and checked against Swift's ETag otherwise.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::http::driver::{Body, RequestBuilder, Response};
use bytes::Bytes;
use md5::{Digest, Md5};
use reqwest::Method;

use super::meta::{Headers, Prepared};
use super::request::{Exchange, Swift, Target};
use super::types::{Progress, UploadSource};
use crate::error::{Error, ErrorKind, Result};
use crate::http::TryError;
use crate::log;

/// Bytes read from a source at a time (bounds the memory of a streamed upload).
pub(crate) const CHUNK: usize = 256 * 1024;
/// The slowest upload rate the deadline allows for, in bytes per second.
const SLOWEST_RATE: u64 = 16 * 1024;

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

/// The source side of one upload, shared with the body reader reqwest drives.
struct Feed {
    source: Box<dyn UploadSource>,
    buf: Vec<u8>,
    pos: usize,
    len: usize,
    sent: u64,
    total: Option<u64>,
    /// Hashing on the way is needed only when the MD5 was not known up front.
    md5: Option<Md5>,
    progress: Option<Progress>,
    failure: Option<Error>,
    label: String,
    /// Whether the progress callback has been called (an empty sized body is never read).
    reported: bool,
}

impl Feed {
    fn reset(&mut self) -> Result<bool> {
        let ok = self.source.rewind().map_err(|e| {
            Error::new(
                self.source.failure_kind(),
                format!("{}: could not rewind for another try: {e}", self.label),
            )
        })?;
        self.pos = 0;
        self.len = 0;
        self.sent = 0;
        if self.md5.is_some() {
            self.md5 = Some(Md5::new());
        }
        self.failure = None;
        Ok(ok)
    }

    fn fill(&mut self) -> std::io::Result<usize> {
        if self.buf.is_empty() {
            self.buf = vec![0; CHUNK];
        }
        let n = self.read_source()?;
        if let Some(m) = self.md5.as_mut() {
            m.update(&self.buf[..n]);
        }
        self.sent += n as u64;
        self.pos = 0;
        self.len = n;
        self.keep_promise(n)?;
        // Every chunk is reported, and an empty source once, so the host always sees the end.
        if n > 0 || self.sent == 0 {
            self.reported = true;
            if let Some(p) = self.progress.as_mut() {
                if !p(self.sent, self.total) {
                    return Err(self.fail(
                        ErrorKind::Cancelled,
                        format!("{}: cancelled by the progress callback", self.label),
                    ));
                }
            }
        }
        Ok(n)
    }

    fn read_source(&mut self) -> std::io::Result<usize> {
        loop {
            match self.source.read(&mut self.buf) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let kind = self.source.failure_kind();
                    return Err(self.fail(
                        kind,
                        format!("{}: reading the data failed: {e}", self.label),
                    ));
                }
            }
        }
    }

    /// Checks the promised size after a read of `n` bytes: the source may not end before it or
    /// go past it. Once all bytes are read, one more read must find the end.
    fn keep_promise(&mut self, n: usize) -> std::io::Result<()> {
        let Some(total) = self.total else {
            return Ok(());
        };
        let kind = self.source.failure_kind();
        if n == 0 && self.sent < total {
            let why = ended_short(self.sent, total);
            return Err(self.fail(kind, format!("{}: {why}", self.label)));
        }
        let more = if self.sent == total && n > 0 {
            let mut probe = [0u8; 1];
            loop {
                match self.source.read(&mut probe) {
                    Ok(m) => break m > 0,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        return Err(self.fail(
                            kind,
                            format!("{}: reading the data failed: {e}", self.label),
                        ))
                    }
                }
            }
        } else {
            self.sent > total
        };
        if more {
            let why = went_past(total);
            return Err(self.fail(kind, format!("{}: {why}", self.label)));
        }
        Ok(())
    }

    /// Records why the upload stops and gives the body reader an error to abort the request.
    fn fail(&mut self, kind: ErrorKind, message: String) -> std::io::Error {
        self.failure = Some(Error::new(kind, message));
        std::io::Error::other("the upload's source failed")
    }
}

struct FeedReader(Arc<Mutex<Feed>>);

impl Read for FeedReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let mut f = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if f.pos == f.len && f.fill()? == 0 {
            return Ok(0);
        }
        let n = out.len().min(f.len - f.pos);
        out[..n].copy_from_slice(&f.buf[f.pos..f.pos + n]);
        f.pos += n;
        Ok(n)
    }
}

/// A file opened for an upload; rewinding seeks to its start.
struct FileSource(File);

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
struct BytesSource(Bytes, usize);

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

fn file_md5(path: &Path) -> Result<(String, u64)> {
    let mut f = File::open(path)
        .map_err(|e| Error::local_io(&format!("opening '{}'", path.display()), &e))?;
    let mut md5 = Md5::new();
    let mut buf = vec![0u8; 1024 * 1024];
    let mut total = 0u64;
    loop {
        let n = f
            .read(&mut buf)
            .map_err(|e| Error::local_io(&format!("reading '{}'", path.display()), &e))?;
        if n == 0 {
            break;
        }
        md5.update(&buf[..n]);
        total += n as u64;
    }
    Ok((hex(&md5.finalize()), total))
}

/// The MD5 (hex) of a stream that promised `size` bytes, read to its end; a stream that ends
/// before its promise or goes past it fails with the message a sent upload would give.
pub(crate) fn stream_md5(source: &mut dyn UploadSource, size: u64, what: &str) -> Result<String> {
    let mut checked = Promised::new(source, size);
    let mut md5 = Md5::new();
    let mut buf = vec![0u8; CHUNK];
    loop {
        match checked.read(&mut buf) {
            Ok(0) => return Ok(hex(&md5.finalize())),
            Ok(n) => md5.update(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                return Err(Error::new(
                    checked.failure_kind(),
                    format!("{what}: reading the data failed: {e}"),
                ))
            }
        }
    }
}

/// Why a source that promised `size` bytes ended after `seen`.
fn ended_short(seen: u64, size: u64) -> String {
    format!("the data ended after {seen} of the {size} bytes its size promised; nothing was stored")
}

/// Why a source that promised `size` bytes yielded more.
fn went_past(size: u64) -> String {
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

/// One progress callback lent to the PUTs of one upload in turn (a conditional PUT, then the
/// one that replaces).
pub(crate) struct SharedProgress(Option<Arc<Mutex<Progress>>>);

impl SharedProgress {
    /// Shares `progress`.
    pub(crate) fn new(progress: Option<Progress>) -> SharedProgress {
        SharedProgress(progress.map(|p| Arc::new(Mutex::new(p))))
    }

    /// A callback that calls the shared one.
    pub(crate) fn lend(&self) -> Option<Progress> {
        self.0.as_ref().map(|shared| {
            let shared = shared.clone();
            Box::new(move |done, of| (shared.lock().unwrap_or_else(|e| e.into_inner()))(done, of))
                as Progress
        })
    }
}

/// One PUT with a body: what [`Swift::put`] sends.
pub(crate) struct PutRequest<'a> {
    /// What the call does, for messages ("uploading 'x'").
    pub(crate) what: &'a str,
    /// Where the body goes.
    pub(crate) target: Target<'a>,
    /// The body.
    pub(crate) source: Box<dyn UploadSource>,
    /// Its size when known: a promise, sent as `Content-Length`.
    pub(crate) size: Option<u64>,
    /// Its MD5 when known up front: sent as `ETag`, so Swift refuses other data. Otherwise the
    /// MD5 is computed on the way.
    pub(crate) md5: Option<String>,
    /// Further headers.
    pub(crate) headers: Headers,
    /// Called with the bytes sent so far; `false` cancels.
    pub(crate) progress: Option<Progress>,
    /// Store only if nothing is under the name (`If-None-Match: *`); see [`Stored::taken`].
    pub(crate) if_absent: bool,
}

/// What a PUT stored.
pub(crate) struct Stored {
    /// Bytes sent.
    pub(crate) sent: u64,
    /// The MD5 of what was sent (known up front, or computed on the way).
    pub(crate) md5: String,
    /// The ETag Swift answered with, when it sent one.
    pub(crate) etag: Option<String>,
    /// An `if_absent` PUT found an object under the name (412): nothing was stored.
    pub(crate) taken: bool,
}

/// One upload as an exchange: each try sends the source again from its start.
struct Upload<'a> {
    swift: &'a Swift,
    what: &'a str,
    target: Target<'a>,
    feed: Arc<Mutex<Feed>>,
    known_md5: Option<&'a str>,
    headers: &'a Headers,
    total: Option<u64>,
    can_rewind: bool,
    started: bool,
    if_absent: bool,
}

impl Exchange for Upload<'_> {
    type Output = Response;

    fn prepare(&mut self, rb: RequestBuilder, _attempt: u32) -> Result<RequestBuilder, TryError> {
        if self.started {
            let mut f = self.feed.lock().unwrap_or_else(|e| e.into_inner());
            if !f.reset()? {
                return Err(TryError::Fail(Error::new(
                    ErrorKind::Network,
                    format!(
                        "{}: the transfer failed and the stream cannot be rewound to send it again",
                        self.what
                    ),
                )));
            }
        }
        self.started = true;
        let reader = FeedReader(self.feed.clone());
        let mut rb = rb.header("Content-Type", "application/octet-stream");
        if let Some(m) = self.known_md5 {
            rb = rb.header("ETag", m);
        }
        if self.if_absent {
            rb = rb.header("If-None-Match", "*");
        }
        for (name, value) in self.headers {
            rb = rb.header(name.clone(), value.clone());
        }
        // A known size goes as Content-Length, so a body cut short is never stored.
        let body = match self.total {
            Some(len) => Body::sized(reader, len),
            None => Body::new(reader),
        };
        Ok(rb.body(body))
    }

    fn answer(&mut self, resp: Response, _attempt: u32) -> Result<Response, TryError> {
        // 412 to `If-None-Match: *`: the name is taken, and the caller decides.
        if resp.status().is_success() || (self.if_absent && resp.status().as_u16() == 412) {
            return Ok(resp);
        }
        Err(TryError::Fail(self.swift.failure(
            self.what,
            &resp,
            self.target,
        )))
    }

    fn can_resend(&self) -> bool {
        self.can_rewind
    }

    fn local_failure(&mut self) -> Option<Error> {
        self.feed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .failure
            .take()
    }
}

/// The MD5 (hex) of `len` bytes of `path` from `offset`.
pub(crate) fn range_md5(path: &Path, offset: u64, len: u64) -> Result<String> {
    let mut f = File::open(path)
        .map_err(|e| Error::local_io(&format!("opening '{}'", path.display()), &e))?;
    f.seek(SeekFrom::Start(offset))
        .map_err(|e| Error::local_io(&format!("reading '{}'", path.display()), &e))?;
    let mut md5 = Md5::new();
    let mut buf = vec![0u8; CHUNK];
    let mut left = len;
    while left > 0 {
        let want = usize::try_from(left).unwrap_or(usize::MAX).min(buf.len());
        let n = f
            .read(&mut buf[..want])
            .map_err(|e| Error::local_io(&format!("reading '{}'", path.display()), &e))?;
        if n == 0 {
            return Err(Error::new(
                ErrorKind::LocalIo,
                format!(
                    "reading '{}': the file is shorter than it was",
                    path.display()
                ),
            ));
        }
        md5.update(&buf[..n]);
        left -= n as u64;
    }
    Ok(hex(&md5.finalize()))
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

impl Swift {
    /// Sends one PUT with a body, retried within the budget when the source can rewind.
    pub(crate) fn put(&self, req: PutRequest) -> Result<Stored> {
        let can_rewind = req.source.can_rewind();
        let feed = Arc::new(Mutex::new(Feed {
            source: req.source,
            buf: Vec::new(),
            pos: 0,
            len: 0,
            sent: 0,
            total: req.size,
            md5: if req.md5.is_none() {
                Some(Md5::new())
            } else {
                None
            },
            progress: req.progress,
            failure: None,
            label: req.what.to_string(),
            reported: false,
        }));
        let deadline = self
            .config
            .timeouts
            .short
            .saturating_add(self.config.timeouts.read_write)
            .saturating_add(
                Duration::from_secs(req.size.unwrap_or(u64::MAX / 2) / SLOWEST_RATE)
                    .min(Duration::from_secs(7 * 24 * 3600)),
            );
        let mut upload = Upload {
            swift: self,
            what: req.what,
            target: req.target,
            feed: feed.clone(),
            known_md5: req.md5.as_deref(),
            headers: &req.headers,
            total: req.size,
            can_rewind,
            started: false,
            if_absent: req.if_absent,
        };
        let resp = self.send(
            req.what,
            Method::PUT,
            req.target,
            Some(deadline),
            &mut upload,
        )?;
        let taken = req.if_absent && resp.status().as_u16() == 412;
        let etag = crate::headers::etag(resp.headers()).filter(|_| !taken);
        let mut f = feed.lock().unwrap_or_else(|e| e.into_inner());
        if !f.reported {
            // An empty body is not read, but the host still sees the end (a cancel comes too
            // late to matter: nothing was sent).
            let (sent, total) = (f.sent, f.total);
            if let Some(p) = f.progress.as_mut() {
                let _ = p(sent, total);
            }
        }
        let md5 = match f.md5.take() {
            Some(m) => hex(&m.finalize()),
            None => req.md5.clone().unwrap_or_default(),
        };
        Ok(Stored {
            sent: f.sent,
            md5,
            etag,
            taken,
        })
    }

    /// Uploads `body` as one object `full` (prefix included), no larger than the cluster allows,
    /// with its MD5 as `ETag` so that Swift refuses other data: `known` when the caller has it,
    /// else computed here for memory and files (a stream without it is hashed on the way and
    /// checked afterwards). With `if_absent`, nothing is stored when an object is already under
    /// the name, and the answer is `None`; otherwise it is the bytes sent.
    pub(crate) fn upload_simple(
        &self,
        full: &str,
        body: UploadBody,
        progress: Option<Progress>,
        options: &Prepared,
        known: Option<String>,
        if_absent: bool,
    ) -> Result<Option<u64>> {
        let what = format!("uploading '{full}'");
        let mut metadata = body.metadata();
        metadata.extend(options.meta_headers());
        metadata.extend(options.expiry.map(|e| e.header()));
        let size = body.size()?;
        let md5 = match known {
            Some(m) => Some(m),
            None => body.md5()?,
        };
        let source: Box<dyn UploadSource> = match body {
            UploadBody::Bytes(b) => Box::new(BytesSource(b, 0)),
            UploadBody::File(path) => {
                Box::new(FileSource(File::open(path).map_err(|e| {
                    Error::local_io(&format!("opening '{}'", path.display()), &e)
                })?))
            }
            UploadBody::Stream(s, _) => s,
        };
        let stored = self.put(PutRequest {
            what: &what,
            target: Target::Object(full),
            source,
            size,
            md5,
            headers: metadata,
            progress,
            if_absent,
        })?;
        if stored.taken {
            log::debug!("'{full}' is taken: it is sent again once its old parts are known");
            return Ok(None);
        }
        if let Some(r) = stored.etag {
            if r != stored.md5 {
                let expected = stored.md5;
                log::warning!("{what}: Swift's ETag {r} differs from the MD5 sent {expected}; deleting the object");
                let _ = self.delete_object(full);
                return Err(Error::new(
                    ErrorKind::Integrity,
                    format!("{what}: Swift stored data whose MD5 ({r}) differs from what was sent ({expected}); the object was deleted"),
                ));
            }
        }
        log::info!("uploaded '{full}' ({} bytes)", stored.sent);
        Ok(Some(stored.sent))
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
