//! Uploads: from memory, a file or a stream, streamed through a bounded buffer, with the MD5
//! sent as `ETag` when known up front and checked against Swift's ETag otherwise.

use std::fs::File;
use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::http::driver::{Body, RequestBuilder, Response};
use md5::{Digest, Md5};
use reqwest::Method;

use super::body::{ended_short, hex, went_past, BytesSource, FileSource, UploadBody};
use super::meta::{Headers, Prepared};
use super::request::{Exchange, Swift, Target};
use super::types::{Progress, UploadSource};
use crate::error::{Error, ErrorKind, Result};
use crate::http::TryError;
use crate::lock::Recover;
use crate::log;

/// The slowest upload rate the deadline allows for, in bytes per second.
const SLOWEST_RATE: u64 = 16 * 1024;

/// The source side of one upload, shared with the body reader reqwest drives.
struct Feed {
    source: Box<dyn UploadSource>,
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
        self.sent = 0;
        if self.md5.is_some() {
            self.md5 = Some(Md5::new());
        }
        self.failure = None;
        Ok(ok)
    }

    /// Reads the source straight into `out` (the buffer the connection sends), hashing it when
    /// the MD5 is computed on the way, and reports progress.
    fn fill(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = self.read_source(out)?;
        if let Some(m) = self.md5.as_mut() {
            m.update(&out[..n]);
        }
        self.sent += n as u64;
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

    fn read_source(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        loop {
            match self.source.read(out) {
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
        if out.is_empty() {
            return Ok(0);
        }
        self.0.lock().recover().fill(out)
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
            Box::new(move |done, of| (shared.lock().recover())(done, of)) as Progress
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
    /// A taken name in a versioned container: Swift stored the data as a version before it
    /// refused to make it current (`X-Object-Version-Id` of the 412), a stray version to delete.
    pub(crate) stray_version: Option<String>,
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
            let mut f = self.feed.lock().recover();
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
        self.feed.lock().recover().failure.take()
    }
}

impl Swift {
    /// Sends one PUT with a body, retried within the budget when the source can rewind.
    pub(crate) fn put(&self, req: PutRequest) -> Result<Stored> {
        let can_rewind = req.source.can_rewind();
        let feed = Arc::new(Mutex::new(Feed {
            source: req.source,
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
        let version = resp
            .headers()
            .get("x-object-version-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        if version.is_some() {
            // The container keeps versions: no more If-None-Match puts, old segments stay.
            self.cluster
                .versioned
                .store(true, std::sync::atomic::Ordering::Relaxed);
        }
        let stray_version = version.filter(|_| taken);
        let mut f = feed.lock().recover();
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
            stray_version,
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
            if let Some(v) = &stored.stray_version {
                self.delete_stray_version(full, v);
            }
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
