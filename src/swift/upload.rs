//! Uploads: from memory, a file or a stream, streamed through a bounded buffer, with the MD5
//! sent as `ETag` when known up front and checked against Swift's ETag otherwise.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use md5::{Digest, Md5};
use reqwest::blocking::{Body, RequestBuilder, Response};
use reqwest::Method;

use super::request::{Exchange, Swift, Target};
use super::types::{Progress, UploadSource};
use crate::error::{Error, ErrorKind, Result};
use crate::http::TryError;
use crate::log;

/// Bytes read from a source at a time (bounds the memory of a streamed upload).
const CHUNK: usize = 256 * 1024;
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
            return Err(self.fail(
                kind,
                format!(
                    "{}: the data ended after {} of the {total} bytes its size promised; nothing was stored",
                    self.label, self.sent
                ),
            ));
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
            return Err(self.fail(
                kind,
                format!(
                    "{}: the data goes on past the {total} bytes its size promised; nothing was stored",
                    self.label
                ),
            ));
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

fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
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

/// One upload as an exchange: each try sends the source again from its start.
struct Upload<'a> {
    swift: &'a Swift,
    what: &'a str,
    full: &'a str,
    feed: Arc<Mutex<Feed>>,
    known_md5: Option<&'a str>,
    total: Option<u64>,
    can_rewind: bool,
    started: bool,
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
        // A known size goes as Content-Length, so a body cut short is never stored.
        let body = match self.total {
            Some(len) => Body::sized(reader, len),
            None => Body::new(reader),
        };
        Ok(rb.body(body))
    }

    fn answer(&mut self, resp: Response, _attempt: u32) -> Result<Response, TryError> {
        if resp.status().is_success() {
            Ok(resp)
        } else {
            Err(TryError::Fail(
                self.swift.object_failure(self.what, &resp, self.full),
            ))
        }
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

impl Swift {
    /// Uploads `body` as the object `full` (prefix included).
    pub(crate) fn upload(
        &self,
        full: &str,
        body: UploadBody,
        progress: Option<Progress>,
    ) -> Result<u64> {
        let what = format!("uploading '{full}'");
        // Memory and files have their MD5 (and length) up front; streams have neither.
        let (source, total, known_md5): (Box<dyn UploadSource>, Option<u64>, Option<String>) =
            match body {
                UploadBody::Bytes(b) => {
                    let md5 = hex(&Md5::digest(&b));
                    let len = b.len() as u64;
                    (Box::new(BytesSource(b, 0)), Some(len), Some(md5))
                }
                UploadBody::File(path) => {
                    let (md5, len) = file_md5(path)?;
                    let f = File::open(path).map_err(|e| {
                        Error::local_io(&format!("opening '{}'", path.display()), &e)
                    })?;
                    (Box::new(FileSource(f)), Some(len), Some(md5))
                }
                UploadBody::Stream(s, hint) => (s, hint, None),
            };
        let can_rewind = source.can_rewind();
        let feed = Arc::new(Mutex::new(Feed {
            source,
            buf: Vec::new(),
            pos: 0,
            len: 0,
            sent: 0,
            total,
            md5: if known_md5.is_none() {
                Some(Md5::new())
            } else {
                None
            },
            progress,
            failure: None,
            label: what.clone(),
        }));
        let deadline = self
            .config
            .timeouts
            .short
            .saturating_add(self.config.timeouts.read_write)
            .saturating_add(
                Duration::from_secs(total.unwrap_or(u64::MAX / 2) / SLOWEST_RATE)
                    .min(Duration::from_secs(7 * 24 * 3600)),
            );
        let mut upload = Upload {
            swift: self,
            what: &what,
            full,
            feed: feed.clone(),
            known_md5: known_md5.as_deref(),
            total,
            can_rewind,
            started: false,
        };
        let resp = self.send(
            &what,
            Method::PUT,
            Target::Object(full),
            Some(deadline),
            &mut upload,
        )?;
        let returned = crate::headers::etag(resp.headers());
        let (sent, computed) = {
            let mut f = feed.lock().unwrap_or_else(|e| e.into_inner());
            let computed = f.md5.take().map(|m| hex(&m.finalize()));
            (f.sent, computed)
        };
        let expected = known_md5.or(computed).unwrap_or_default();
        if let Some(r) = returned {
            if r != expected {
                log::warning!("{what}: Swift's ETag {r} differs from the MD5 sent {expected}; deleting the object");
                let _ = self.delete_object(full);
                return Err(Error::new(
                    ErrorKind::Integrity,
                    format!("{what}: Swift stored data whose MD5 ({r}) differs from what was sent ({expected}); the object was deleted"),
                ));
            }
        }
        log::info!("uploaded '{full}' ({sent} bytes)");
        Ok(sent)
    }
}
