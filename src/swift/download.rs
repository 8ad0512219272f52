//! Downloads: streamed through a bounded buffer into any writer, resumed with `Range` (and
//! `If-Match`, so the object cannot change underneath) after a broken connection, within the
//! request path's one retry budget, and checked against the length and MD5 Swift announced.

use std::io::Write;

use crate::http::driver::{RequestBuilder, Response};
use md5::{Digest, Md5};
use reqwest::Method;

use super::names::encode_segment;
use super::request::{Exchange, Swift, Target};
use super::types::Progress;
use crate::error::{Error, ErrorKind, Result};
use crate::http::answer;
use crate::http::TryError;
use crate::log;

/// What the first answer said about the object.
struct Announced {
    length: Option<u64>,
    etag: Option<String>,
    /// False for large-object manifests, whose ETag is not the MD5 of the content.
    etag_is_md5: bool,
}

/// What the first answer of a download turned out to be.
pub(crate) enum Fetched {
    /// The object's data, now in the sink.
    Data,
    /// A Static Large Object's manifest (asked for with `multipart-manifest=get`).
    Manifest(Vec<u8>),
    /// A Dynamic Large Object's manifest: read the object again, whole.
    Dynamic,
}

/// One download as an exchange: each try asks for the bytes not received yet.
pub(crate) struct Download<'a> {
    swift: &'a Swift,
    what: &'a str,
    target: Target<'a>,
    sink: &'a mut dyn Write,
    sink_kind: ErrorKind,
    pub(crate) progress: Option<Progress>,
    received: u64,
    md5: Md5,
    announced: Option<Announced>,
    /// Whether a large object's manifest comes back instead of the data.
    detect_manifest: bool,
    /// The length and MD5 the data must have (a segment, as its manifest says), instead of
    /// what Swift announces.
    expected: Option<(u64, String)>,
    /// A byte range (offset, length) instead of the whole object.
    range: Option<(u64, u64)>,
    /// Progress is reported as `base + received` of `total` (a segment of a larger object).
    report: Option<(u64, u64)>,
    /// The object's `X-Object-Meta-Mtime`, from the first answer.
    pub(crate) mtime: Option<std::time::SystemTime>,
}

impl<'a> Download<'a> {
    /// A download of `target` into `sink`, whose failures are reported as `sink_kind`.
    pub(crate) fn new(
        swift: &'a Swift,
        what: &'a str,
        target: Target<'a>,
        sink: &'a mut dyn Write,
        sink_kind: ErrorKind,
    ) -> Self {
        Download {
            swift,
            what,
            target,
            sink,
            sink_kind,
            progress: None,
            received: 0,
            md5: Md5::new(),
            announced: None,
            detect_manifest: false,
            expected: None,
            range: None,
            report: None,
            mtime: None,
        }
    }

    /// The segment a manifest lists: its length and MD5 are checked, progress is reported
    /// for the whole object (`base` bytes before it, `total` in all).
    pub(crate) fn segment(mut self, bytes: u64, md5: &str, base: u64, total: u64) -> Self {
        self.expected = Some((bytes, md5.to_string()));
        self.report = Some((base, total));
        self
    }

    /// Sends the exchange (a GET) until the data is in or the retries are spent, and checks it.
    pub(crate) fn run(self) -> Result<(Fetched, Option<Progress>)> {
        Ok(self.run_keeping_mtime()?.0)
    }

    /// [`Download::run`], also giving the object's `X-Object-Meta-Mtime`.
    #[allow(clippy::type_complexity)]
    fn run_keeping_mtime(
        mut self,
    ) -> Result<((Fetched, Option<Progress>), Option<std::time::SystemTime>)> {
        let what = self.what;
        let target = self.target;
        let fetched = self
            .swift
            .send(what, Method::GET, target, None, &mut self)?;
        let mtime = self.mtime;
        match fetched {
            Fetched::Data => {
                let progress = self.verify()?;
                Ok(((Fetched::Data, progress), mtime))
            }
            other => Ok(((other, self.progress.take()), mtime)),
        }
    }

    fn name(&self) -> &str {
        match self.target {
            Target::Object(name) => name,
            Target::In {
                object: Some(name), ..
            } => name,
            _ => "",
        }
    }

    fn cancelled(&self) -> Error {
        Error::new(
            ErrorKind::Cancelled,
            format!("{}: cancelled by the progress callback", self.what),
        )
    }

    /// Reads the body of an answer into the sink; `skip` bytes at its start were received before.
    fn read_body(&mut self, mut resp: Response, mut skip: u64) -> Result<Fetched, TryError> {
        let total = self.announced.as_ref().and_then(|a| a.length);
        let limit = self.range.map(|(_, len)| len);
        loop {
            // The connection's buffers as they arrive: hashed and written without a copy.
            let data = match resp.read_chunk() {
                Ok(None) => return Ok(Fetched::Data),
                Ok(Some(data)) => data,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let got = match total {
                        Some(t) => format!("{} of {t} bytes", self.received),
                        None => format!("{} bytes", self.received),
                    };
                    let short = total.is_some_and(|t| self.received < t);
                    let err = answer::body_error(self.what, &e, &got, short);
                    // Resuming needs the ETag, so the rest is known to be of the same object.
                    let resumable = self.announced.as_ref().is_some_and(|a| a.etag.is_some());
                    return Err(if resumable {
                        TryError::Retry(err, None)
                    } else {
                        TryError::Fail(err)
                    });
                }
            };
            let mut chunk = &data[..];
            if skip > 0 {
                let drop = usize::try_from(skip).unwrap_or(usize::MAX).min(chunk.len());
                chunk = &chunk[drop..];
                skip -= drop as u64;
            }
            if let Some(limit) = limit {
                let room = usize::try_from(limit - self.received).unwrap_or(usize::MAX);
                chunk = &chunk[..chunk.len().min(room)];
            }
            if chunk.is_empty() {
                if limit.is_some_and(|l| self.received >= l) {
                    return Ok(Fetched::Data);
                }
                continue;
            }
            self.sink.write_all(chunk).map_err(|e| {
                Error::new(
                    self.sink_kind,
                    format!("{}: writing the data failed: {e}", self.what),
                )
            })?;
            self.md5.update(chunk);
            self.received += chunk.len() as u64;
            let (done, of) = match self.report {
                Some((base, whole)) => (base + self.received, Some(whole)),
                None => (self.received, limit.or(total)),
            };
            if let Some(p) = self.progress.as_mut() {
                if !p(done, of) {
                    return Err(TryError::Fail(self.cancelled()));
                }
            }
        }
    }

    /// Checks what arrived against what Swift announced (or the manifest said); gives the
    /// progress callback back.
    fn verify(&mut self) -> Result<Option<Progress>> {
        let what = self.what;
        if self.received == 0 && self.report.is_none() {
            // An empty object is reported once, so the host always sees the end.
            if let Some(p) = self.progress.as_mut() {
                if !p(0, Some(0)) {
                    return Err(self.cancelled());
                }
            }
        }
        self.sink.flush().map_err(|e| {
            Error::new(
                self.sink_kind,
                format!("{what}: writing the data failed: {e}"),
            )
        })?;
        let received = self.received;
        let mut a = self.announced.take().unwrap_or(Announced {
            length: None,
            etag: None,
            etag_is_md5: false,
        });
        if let Some((bytes, md5)) = self.expected.take() {
            a = Announced {
                length: Some(bytes),
                etag: Some(md5),
                etag_is_md5: true,
            };
        }
        if let Some((_, len)) = self.range {
            a.length = Some(len);
            a.etag_is_md5 = false;
        }
        if let Some(len) = a.length {
            if len != received {
                return Err(Error::new(
                    ErrorKind::Integrity,
                    format!("{what}: received {received} bytes, Swift announced {len}"),
                ));
            }
        }
        if let (true, Some(etag)) = (a.etag_is_md5, &a.etag) {
            let got: String = std::mem::take(&mut self.md5)
                .finalize()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            if &got != etag {
                return Err(Error::new(
                    ErrorKind::Integrity,
                    format!("{what}: the data's MD5 {got} differs from Swift's ETag {etag}"),
                ));
            }
        }
        log::debug!("downloaded '{}' ({received} bytes)", self.name());
        Ok(self.progress.take())
    }
}

impl Exchange for Download<'_> {
    type Output = Fetched;

    fn prepare(&mut self, rb: RequestBuilder, _attempt: u32) -> Result<RequestBuilder, TryError> {
        let rb = match self.range {
            Some((offset, len)) => rb.header(
                "Range",
                format!(
                    "bytes={}-{}",
                    offset + self.received,
                    (offset + len).saturating_sub(1)
                ),
            ),
            None if self.received > 0 => rb.header("Range", format!("bytes={}-", self.received)),
            None => return Ok(rb),
        };
        if self.received == 0 {
            return Ok(rb);
        }
        Ok(
            match self.announced.as_ref().and_then(|a| a.etag.as_deref()) {
                Some(etag) => rb.header("If-Match", etag),
                None => rb,
            },
        )
    }

    fn answer(&mut self, resp: Response, _attempt: u32) -> Result<Fetched, TryError> {
        let status = resp.status().as_u16();
        let first = self.announced.is_none();
        if first && (200..300).contains(&status) {
            self.mtime = crate::headers::meta_mtime(resp.headers());
        }
        if first && self.detect_manifest && (200..300).contains(&status) {
            let h = resp.headers();
            if crate::headers::is_true(h, "x-static-large-object") {
                let body = super::request::read_bounded(resp, super::large::MAX_MANIFEST)
                    .map_err(|e| answer::transport_failure(self.what, &e))?;
                return Ok(Fetched::Manifest(body));
            }
            if h.contains_key("x-object-manifest") {
                return Ok(Fetched::Dynamic);
            }
        }
        let skip = match (status, self.range) {
            // A server that ignores Range sends everything again: skip what arrived before.
            (200, None) => self.received,
            (200, Some((offset, _))) => offset + self.received,
            (206, Some(_)) => 0,
            (206, None) if self.received > 0 => 0,
            (416, Some((offset, len))) => {
                return Err(TryError::Fail(self.past_the_end(&resp, offset, len)));
            }
            _ => {
                return Err(TryError::Fail(self.swift.failure(
                    self.what,
                    &resp,
                    self.target,
                )))
            }
        };
        if first {
            if let (Some((offset, len)), Some(size)) = (self.range, range_total(&resp)) {
                if offset.saturating_add(len) > size {
                    return Err(TryError::Fail(self.past_the_end(&resp, offset, len)));
                }
            }
            let h = resp.headers();
            self.announced = Some(Announced {
                length: resp.content_length().filter(|_| self.range.is_none()),
                etag: crate::headers::etag(h),
                etag_is_md5: !h.contains_key("x-object-manifest")
                    && !h.contains_key("x-static-large-object"),
            });
        } else if self.received > 0 {
            log::warning!("{}: resuming after {} bytes", self.what, self.received);
        }
        self.read_body(resp, skip)
    }
}

/// The object size a ranged answer gives (`Content-Range: bytes 0-4/12`).
fn range_total(resp: &Response) -> Option<u64> {
    let v = resp.headers().get("content-range")?.to_str().ok()?;
    v.rsplit_once('/')?.1.trim().parse().ok()
}

impl Download<'_> {
    fn past_the_end(&self, resp: &Response, offset: u64, len: u64) -> Error {
        let size = range_total(resp)
            .map(|s| format!("it has {s} bytes"))
            .unwrap_or_else(|| "it is shorter".to_string());
        Error::invalid_argument(format!(
            "{}: the range of {len} bytes from offset {offset} goes past the end of the object ({size})",
            self.what
        ))
    }
}

impl Swift {
    /// Downloads the object `full` into `sink`; a failing `sink` is reported as `sink_kind`.
    /// With `file` (the file behind `sink`, nothing written yet), the segments of a large
    /// object are written into it in parallel at their offsets. Returns the byte count and
    /// the object's `X-Object-Meta-Mtime`.
    pub(crate) fn download(
        &self,
        full: &str,
        sink: &mut dyn Write,
        sink_kind: ErrorKind,
        progress: Option<Progress>,
        file: Option<&std::fs::File>,
    ) -> Result<(u64, Option<std::time::SystemTime>)> {
        self.download_at(full, None, sink, sink_kind, progress, file)
    }

    /// [`Swift::download`] of the version `version` (a checked version id, see
    /// [`super::versions::check_version_id`]) of the object, or of the current one (`None`).
    pub(crate) fn download_at(
        &self,
        full: &str,
        version: Option<&str>,
        sink: &mut dyn Write,
        sink_kind: ErrorKind,
        progress: Option<Progress>,
        file: Option<&std::fs::File>,
    ) -> Result<(u64, Option<std::time::SystemTime>)> {
        // The host's progress callback is asked during waits before another try too.
        let (progress, _watch) = super::pool::watched(progress);
        let what = match version {
            Some(v) => format!("downloading version '{v}' of '{full}'"),
            None => format!("downloading '{full}'"),
        };
        let version_query = version.map(|v| format!("version-id={}", encode_segment(v)));
        let manifest_query = match &version_query {
            Some(q) => format!("multipart-manifest=get&{q}"),
            None => "multipart-manifest=get".to_string(),
        };
        let target = Target::In {
            container: &self.config.container,
            object: Some(full),
            query: Some(&manifest_query),
        };
        // The object as Swift assembles it (a Dynamic Large Object, a manifest with ranges).
        let whole_target = match &version_query {
            Some(q) => Target::In {
                container: &self.config.container,
                object: Some(full),
                query: Some(q),
            },
            None => Target::Object(full),
        };
        let mut counted = Counted(sink, 0);
        let mut first = Download::new(self, &what, target, &mut counted, sink_kind);
        first.detect_manifest = true;
        first.progress = progress;
        let ((fetched, progress), mtime) = first.run_keeping_mtime()?;
        match fetched {
            Fetched::Data => {}
            Fetched::Manifest(body) => {
                return self
                    .get_segmented(
                        full,
                        whole_target,
                        &body,
                        &mut counted,
                        sink_kind,
                        progress,
                        file,
                    )
                    .map(|n| (n, mtime))
            }
            Fetched::Dynamic => {
                let mut whole = Download::new(self, &what, whole_target, &mut counted, sink_kind);
                whole.progress = progress;
                whole.run()?;
            }
        }
        log::info!("downloaded '{full}' ({} bytes)", counted.1);
        Ok((counted.1, mtime))
    }

    /// Downloads `length` bytes of the object `full` from `offset` into `sink`. A range that
    /// goes past the end of the object is an error, not a short read.
    pub(crate) fn download_range(
        &self,
        full: &str,
        offset: u64,
        length: u64,
        sink: &mut dyn Write,
        sink_kind: ErrorKind,
    ) -> Result<u64> {
        let what = format!("reading {length} bytes of '{full}' from offset {offset}");
        if offset.checked_add(length).is_none() {
            return Err(Error::invalid_argument(format!(
                "{what}: the range goes past the end of any object (offset plus length overflows)"
            )));
        }
        if length == 0 {
            // Nothing to read, but the object must exist and the offset be within it.
            let resp = self.expect_success(&what, Method::HEAD, Target::Object(full))?;
            let size = crate::headers::u64_value(resp.headers(), "content-length").unwrap_or(0);
            if offset > size {
                return Err(Error::invalid_argument(format!(
                    "{what}: offset {offset} is past the end of the object (it has {size} bytes)"
                )));
            }
            return Ok(0);
        }
        let mut counted = Counted(sink, 0);
        let mut d = Download::new(self, &what, Target::Object(full), &mut counted, sink_kind);
        d.range = Some((offset, length));
        d.run()?;
        Ok(counted.1)
    }
}

/// A writer that counts what went through it.
struct Counted<'w>(&'w mut dyn Write, u64);

impl Write for Counted<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.0.write(buf)?;
        self.1 += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}
