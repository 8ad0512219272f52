//! Downloads: streamed through a bounded buffer into any writer, resumed with `Range` (and
//! `If-Match`, so the object cannot change underneath) after a broken connection, within the
//! request path's one retry budget, and checked against the length and MD5 Swift announced.

use std::io::{Read, Write};

use md5::{Digest, Md5};
use reqwest::blocking::{RequestBuilder, Response};
use reqwest::Method;

use super::request::{Exchange, Swift, Target};
use super::types::Progress;
use crate::error::{Error, ErrorKind, Result};
use crate::http::answer;
use crate::http::TryError;
use crate::log;

/// Bytes read from the connection at a time (bounds the memory of a download).
const CHUNK: usize = 256 * 1024;

/// What the first answer said about the object.
struct Announced {
    length: Option<u64>,
    etag: Option<String>,
    /// False for large-object manifests, whose ETag is not the MD5 of the content.
    etag_is_md5: bool,
}

/// One download as an exchange: each try asks for the bytes not received yet.
struct Download<'a> {
    swift: &'a Swift,
    what: &'a str,
    full: &'a str,
    sink: &'a mut dyn Write,
    sink_kind: ErrorKind,
    progress: Option<Progress>,
    received: u64,
    md5: Md5,
    announced: Option<Announced>,
    buf: Vec<u8>,
}

impl Download<'_> {
    fn cancelled(&self) -> Error {
        Error::new(
            ErrorKind::Cancelled,
            format!("{}: cancelled by the progress callback", self.what),
        )
    }

    /// Reads the body of an answer into the sink; `skip` bytes at its start were received before.
    fn read_body(&mut self, mut resp: Response, mut skip: u64) -> Result<(), TryError> {
        let total = self.announced.as_ref().and_then(|a| a.length);
        loop {
            let n = match resp.read(&mut self.buf) {
                Ok(0) => return Ok(()),
                Ok(n) => n,
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
            let mut chunk = &self.buf[..n];
            if skip > 0 {
                let drop = usize::try_from(skip).unwrap_or(usize::MAX).min(chunk.len());
                chunk = &chunk[drop..];
                skip -= drop as u64;
            }
            if chunk.is_empty() {
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
            if let Some(p) = self.progress.as_mut() {
                if !p(self.received, total) {
                    return Err(TryError::Fail(self.cancelled()));
                }
            }
        }
    }

    /// Checks what arrived against what Swift announced.
    fn verify(mut self) -> Result<u64> {
        let what = self.what;
        if self.received == 0 {
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
        let a = self.announced.unwrap_or(Announced {
            length: None,
            etag: None,
            etag_is_md5: false,
        });
        if let Some(len) = a.length {
            if len != received {
                return Err(Error::new(
                    ErrorKind::Integrity,
                    format!("{what}: received {received} bytes, Swift announced {len}"),
                ));
            }
        }
        if let (true, Some(etag)) = (a.etag_is_md5, &a.etag) {
            let got: String = self
                .md5
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
        log::info!("downloaded '{}' ({received} bytes)", self.full);
        Ok(received)
    }
}

impl Exchange for Download<'_> {
    type Output = ();

    fn prepare(&mut self, rb: RequestBuilder, _attempt: u32) -> Result<RequestBuilder, TryError> {
        if self.received == 0 {
            return Ok(rb);
        }
        let rb = rb.header("Range", format!("bytes={}-", self.received));
        Ok(
            match self.announced.as_ref().and_then(|a| a.etag.as_deref()) {
                Some(etag) => rb.header("If-Match", etag),
                None => rb,
            },
        )
    }

    fn answer(&mut self, resp: Response, _attempt: u32) -> Result<(), TryError> {
        let skip = match resp.status().as_u16() {
            // A server that ignores Range sends everything again: skip what arrived before.
            200 => self.received,
            206 if self.received > 0 => 0,
            _ => {
                return Err(TryError::Fail(
                    self.swift.object_failure(self.what, &resp, self.full),
                ))
            }
        };
        if self.announced.is_none() {
            let h = resp.headers();
            self.announced = Some(Announced {
                length: resp.content_length(),
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

impl Swift {
    /// Downloads the object `full` into `sink`; a failing `sink` is reported as `sink_kind`.
    pub(crate) fn download(
        &self,
        full: &str,
        sink: &mut dyn Write,
        sink_kind: ErrorKind,
        progress: Option<Progress>,
    ) -> Result<u64> {
        let what = format!("downloading '{full}'");
        let mut download = Download {
            swift: self,
            what: &what,
            full,
            sink,
            sink_kind,
            progress,
            received: 0,
            md5: Md5::new(),
            announced: None,
            buf: vec![0u8; CHUNK],
        };
        self.send(
            &what,
            Method::GET,
            Target::Object(full),
            None,
            &mut download,
        )?;
        download.verify()
    }
}
