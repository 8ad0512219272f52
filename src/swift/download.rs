//! Downloads: streamed through a bounded buffer into any writer, resumed with `Range` after a
//! broken connection, and checked against the length and MD5 Swift announced.

use std::io::{Read, Write};

use md5::{Digest, Md5};
use reqwest::Method;

use super::request::{Swift, Target};
use super::types::Progress;
use crate::error::{Error, ErrorKind, Result};
use crate::http;
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

impl Swift {
    /// Downloads the object `full` into `sink`; a failing `sink` is reported as `sink_kind`.
    pub(crate) fn download(
        &self,
        full: &str,
        sink: &mut dyn Write,
        sink_kind: ErrorKind,
        mut progress: Option<Progress>,
    ) -> Result<u64> {
        let what = format!("downloading '{full}'");
        let target = Target::Object(full);
        let mut received: u64 = 0;
        let mut md5 = Md5::new();
        let mut announced: Option<Announced> = None;
        let mut resumes = 0u32;
        let mut buf = vec![0u8; CHUNK];
        'request: loop {
            let resume_from = received;
            let if_match = announced.as_ref().and_then(|a| a.etag.clone());
            let mut resp = self.execute(
                &what,
                Method::GET,
                &target,
                None,
                &mut |rb, _| {
                    Ok(if resume_from > 0 {
                        let rb = rb.header("Range", format!("bytes={resume_from}-"));
                        match &if_match {
                            Some(e) => rb.header("If-Match", e.as_str()),
                            None => rb,
                        }
                    } else {
                        rb
                    })
                },
                &|| None,
            )?;
            let status = resp.status().as_u16();
            let mut skip = 0u64;
            match status {
                200 => skip = resume_from,
                206 if resume_from > 0 => {}
                412 => {
                    return Err(Error::new(
                        ErrorKind::Integrity,
                        format!(
                            "{what}: the object changed while it was being downloaded; try again"
                        ),
                    )
                    .with_http(412, crate::headers::trans_id(resp.headers())))
                }
                _ => return Err(self.status_error(&what, resp, &target)),
            }
            if announced.is_none() {
                let h = resp.headers();
                announced = Some(Announced {
                    length: resp.content_length(),
                    etag: crate::headers::etag(h),
                    etag_is_md5: !h.contains_key("x-object-manifest")
                        && !h.contains_key("x-static-large-object"),
                });
            }
            let total = announced.as_ref().and_then(|a| a.length);
            loop {
                let n = match resp.read(&mut buf) {
                    Ok(0) => break 'request,
                    Ok(n) => n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        let resumable = announced.as_ref().is_some_and(|a| a.etag.is_some());
                        let cause = io_cause(&e);
                        if resumable && resumes < self.config.retry.retries {
                            resumes += 1;
                            log::warning!("{what}: the connection broke after {received} bytes ({cause}); resuming (try {} of {})", resumes + 1, self.config.retry.retries + 1);
                            std::thread::sleep(
                                self.config
                                    .retry
                                    .delay
                                    .min(std::time::Duration::from_secs(5)),
                            );
                            continue 'request;
                        }
                        let kind = if cause.contains("timed out")
                            || e.kind() == std::io::ErrorKind::TimedOut
                        {
                            ErrorKind::Timeout
                        } else if total.is_some_and(|t| received < t) {
                            ErrorKind::Integrity
                        } else {
                            ErrorKind::Network
                        };
                        let got = match total {
                            Some(t) => format!("{received} of {t} bytes"),
                            None => format!("{received} bytes"),
                        };
                        return Err(Error::new(
                            kind,
                            format!("{what}: the transfer broke off after {got}: {cause}"),
                        ));
                    }
                };
                let mut chunk = &buf[..n];
                if skip > 0 {
                    let drop = (skip as usize).min(chunk.len());
                    chunk = &chunk[drop..];
                    skip -= drop as u64;
                }
                if chunk.is_empty() {
                    continue;
                }
                sink.write_all(chunk).map_err(|e| {
                    Error::new(sink_kind, format!("{what}: writing the data failed: {e}"))
                })?;
                md5.update(chunk);
                received += chunk.len() as u64;
                if let Some(p) = progress.as_mut() {
                    if !p(received, total) {
                        return Err(Error::new(
                            ErrorKind::Cancelled,
                            format!("{what}: cancelled by the progress callback"),
                        ));
                    }
                }
            }
        }
        if received == 0 {
            // An empty object is reported once, so the host always sees the end.
            if let Some(p) = progress.as_mut() {
                if !p(0, Some(0)) {
                    return Err(Error::new(
                        ErrorKind::Cancelled,
                        format!("{what}: cancelled by the progress callback"),
                    ));
                }
            }
        }
        sink.flush()
            .map_err(|e| Error::new(sink_kind, format!("{what}: writing the data failed: {e}")))?;
        let a = announced.unwrap_or(Announced {
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
            let got: String = md5.finalize().iter().map(|b| format!("{b:02x}")).collect();
            if &got != etag {
                return Err(Error::new(
                    ErrorKind::Integrity,
                    format!("{what}: the data's MD5 {got} differs from Swift's ETag {etag}"),
                ));
            }
        }
        log::info!("downloaded '{full}' ({received} bytes)");
        Ok(received)
    }
}

fn io_cause(e: &std::io::Error) -> String {
    match e.get_ref() {
        Some(inner) => http::cause_chain(inner),
        None => e.to_string(),
    }
}
