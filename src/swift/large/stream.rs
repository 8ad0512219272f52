//! Uploads of streams: in order, on the calling thread, segment after segment as the data
//! comes; a stream of unknown size is read ahead first, and one that turns out to fit in one
//! object becomes an ordinary object. Every stream's segments go into a set of the upload's own
//! ([`super::ownership`]), never resumed (a stream cannot be recognised again).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use super::commit::Row;
use super::ownership;
use super::segmented::{large_headers, Set};
use super::Plan;
use crate::error::{Error, ErrorKind, Result};
use crate::lock::Recover;
use crate::log;
use crate::swift::body::{stream_md5, Promised, UploadBody, CHUNK};
use crate::swift::meta::{Headers, Prepared};
use crate::swift::request::{Swift, Target};
use crate::swift::types::{Progress, UploadSource};

/// The part of a stream one segment sends; rewinding rewinds the stream and skips to it.
struct StreamPart {
    parent: Arc<Mutex<Box<dyn UploadSource>>>,
    offset: u64,
    len: u64,
    left: u64,
    can_rewind: bool,
    failure_kind: ErrorKind,
}

impl UploadSource for StreamPart {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let want = usize::try_from(self.left)
            .unwrap_or(usize::MAX)
            .min(buf.len());
        if want == 0 {
            return Ok(0);
        }
        let n = self.parent.lock().recover().read(&mut buf[..want])?;
        self.left -= n as u64;
        Ok(n)
    }
    fn rewind(&mut self) -> std::io::Result<bool> {
        let mut parent = self.parent.lock().recover();
        if !parent.rewind()? {
            return Ok(false);
        }
        let mut skip = self.offset;
        let mut scratch = vec![0u8; CHUNK];
        while skip > 0 {
            let want = usize::try_from(skip)
                .unwrap_or(usize::MAX)
                .min(scratch.len());
            let n = parent.read(&mut scratch[..want])?;
            if n == 0 {
                return Err(std::io::Error::other(
                    "the stream ended before the segment's start after rewinding",
                ));
            }
            skip -= n as u64;
        }
        self.left = self.len;
        Ok(true)
    }
    fn can_rewind(&self) -> bool {
        self.can_rewind
    }
    fn failure_kind(&self) -> ErrorKind {
        self.failure_kind
    }
}

/// Bytes read ahead of a stream, then the rest of it. Rewinding rewinds the stream, which gives
/// the read-ahead bytes again, so they are dropped.
pub(crate) struct Chain {
    head: Vec<u8>,
    pos: usize,
    source: Box<dyn UploadSource>,
}

impl Chain {
    fn new(head: Vec<u8>, source: Box<dyn UploadSource>) -> Self {
        Chain {
            head,
            pos: 0,
            source,
        }
    }

    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.pos < self.head.len() {
            let n = buf.len().min(self.head.len() - self.pos);
            buf[..n].copy_from_slice(&self.head[self.pos..self.pos + n]);
            self.pos += n;
            return Ok(n);
        }
        loop {
            match self.source.read(buf) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                other => return other,
            }
        }
    }

    /// Whether another byte follows (it stays to be read).
    fn peek(&mut self) -> std::io::Result<bool> {
        let mut byte = [0u8; 1];
        if self.read(&mut byte)? == 0 {
            return Ok(false);
        }
        if self.pos > 0 && self.pos <= self.head.len() {
            self.pos -= 1;
            self.head[self.pos] = byte[0];
        } else {
            self.head.drain(..self.pos.min(self.head.len()));
            self.head.insert(0, byte[0]);
            self.pos = 0;
        }
        Ok(true)
    }
}

/// A [`Chain`] shared by the segments of one stream.
struct ChainHandle(Arc<Mutex<Chain>>);

impl UploadSource for ChainHandle {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.lock().recover().read(buf)
    }
    fn rewind(&mut self) -> std::io::Result<bool> {
        let mut c = self.0.lock().recover();
        if !c.source.rewind()? {
            return Ok(false);
        }
        c.head.clear();
        c.pos = 0;
        Ok(true)
    }
    fn can_rewind(&self) -> bool {
        self.0.lock().recover().source.can_rewind()
    }
    fn failure_kind(&self) -> ErrorKind {
        self.0.lock().recover().source.failure_kind()
    }
}

/// A stream of unknown size is read this far ahead: one that ends within it is uploaded from
/// memory, with its MD5 known.
const LOOKAHEAD: usize = 4 * 1024 * 1024;

impl Swift {
    /// Uploads a stream of known size that fits in one object so that no corrupt data can
    /// replace the object in place: Swift must be able to check the data's MD5 before it
    /// stores it under `full`. A stream that can rewind is read twice, like a file: its MD5
    /// first, then sent with it as `ETag`. Any other goes the way of a stream of unknown size
    /// (from memory when small, or else one checked segment copied into place), held to its
    /// promised size.
    pub(crate) fn upload_sized_stream(
        &self,
        full: &str,
        mut source: Box<dyn UploadSource>,
        size: u64,
        progress: Option<Progress>,
        options: &Prepared,
    ) -> Result<(u64, HashSet<(String, String)>)> {
        if !source.can_rewind() {
            let held = Box::new(Promised::new(source, size));
            return self.upload_unknown_size(full, held, progress, options);
        }
        let what = format!("uploading '{full}'");
        let md5 = stream_md5(&mut *source, size, &what)?;
        let rewound = source.rewind().map_err(|e| {
            Error::new(
                source.failure_kind(),
                format!("{what}: could not rewind the data after reading its MD5: {e}"),
            )
        })?;
        if !rewound {
            return Err(Error::new(
                source.failure_kind(),
                format!("{what}: the data could not be rewound after reading its MD5; nothing was stored"),
            ));
        }
        let body = UploadBody::Stream(source, Some(size));
        let sent = self
            .upload_simple(full, body, progress, options, Some(md5), false)?
            .unwrap_or_default();
        Ok((sent, HashSet::new()))
    }

    /// Uploads a stream of unknown size. Up to [`LOOKAHEAD`] bytes are read first: a stream that
    /// ends within them is uploaded from memory (its MD5 known up front, retried like bytes).
    /// A longer one is cut into segments in order as it comes; if it then ends within the first
    /// segment, that segment is copied (server side) to the object's name and removed, so an
    /// object no larger than the segment size stays an ordinary object.
    pub(crate) fn upload_unknown_size(
        &self,
        full: &str,
        mut source: Box<dyn UploadSource>,
        progress: Option<Progress>,
        options: &Prepared,
    ) -> Result<(u64, HashSet<(String, String)>)> {
        let what = format!("uploading '{full}'");
        let kind = source.failure_kind();
        let mut head = Vec::new();
        let mut buf = vec![0u8; CHUNK];
        while head.len() <= LOOKAHEAD {
            match source.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => head.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    return Err(Error::new(
                        kind,
                        format!("{what}: reading the data failed: {e}"),
                    ))
                }
            }
        }
        drop(buf);
        let filled = head.len();
        if filled <= LOOKAHEAD {
            let size = filled as u64;
            let bytes = bytes::Bytes::from(head);
            return match self.plan(size)? {
                Some(plan) => self.upload_segmented(
                    full,
                    UploadBody::Bytes(bytes),
                    plan,
                    None,
                    progress,
                    options,
                ),
                None => Ok((
                    self.upload_simple(
                        full,
                        UploadBody::Bytes(bytes),
                        progress,
                        options,
                        None,
                        false,
                    )?
                    .unwrap_or_default(),
                    HashSet::new(),
                )),
            };
        }
        let limits = self.limits()?;
        let segment_size = limits.segment_size(self.config.large.segment_size);
        self.ensure_segment_container()?;
        let set = self.choose_set(full, None, 0, segment_size, None)?;
        let chain = Arc::new(Mutex::new(Chain::new(head, source)));
        let (metadata, segment_headers) = large_headers(Vec::new(), options);
        let rows = self.put_in_order(
            InOrder {
                full,
                prefix: &set.prefix,
                segment_size,
                size: None,
                headers: &segment_headers,
            },
            chain,
            progress,
        );
        if let Ok(rows) = &rows {
            if rows.len() == 1 {
                return self.promote_single_segment(full, &set, &rows[0], &metadata);
            }
        }
        self.finish(full, &set, rows, &metadata)
    }

    /// Uploads a stream of known `size`, larger than a segment, in segments in order (see
    /// [`Swift::put_in_order`]), then its manifest.
    pub(crate) fn upload_stream_segmented(
        &self,
        full: &str,
        source: Box<dyn UploadSource>,
        plan: Plan,
        progress: Option<Progress>,
        options: &Prepared,
    ) -> Result<(u64, HashSet<(String, String)>)> {
        self.ensure_segment_container()?;
        let (size, segment_size) = (plan.size, plan.segment_size);
        let (metadata, segment_headers) = large_headers(Vec::new(), options);
        let set = self.choose_set(full, None, size, segment_size, None)?;
        let chain = Arc::new(Mutex::new(Chain::new(Vec::new(), source)));
        let rows = self.put_in_order(
            InOrder {
                full,
                prefix: &set.prefix,
                segment_size,
                size: Some(size),
                headers: &segment_headers,
            },
            chain,
            progress,
        );
        self.finish(full, &set, rows, &metadata)
    }

    /// Makes the one segment of a stream that turned out to fit in one object that object: a
    /// server-side copy, checked against the segment's MD5, then the segment is removed.
    fn promote_single_segment(
        &self,
        full: &str,
        set: &Set,
        row: &Row,
        metadata: &Headers,
    ) -> Result<(u64, HashSet<(String, String)>)> {
        let (name, md5, size) = row;
        let what = format!("uploading '{full}' (copying its only segment into place)");
        let from = format!(
            "/{}/{}",
            crate::swift::names::encode_segment(&self.config.large.segment_container),
            crate::swift::names::encode_path(name)
        );
        let copied = self.request_with(
            &what,
            reqwest::Method::PUT,
            Target::Object(full),
            self.config.timeouts.list,
            &[("X-Copy-From", from.as_str()), ("Content-Length", "0")],
            metadata,
        );
        let result = match copied {
            Ok(resp) if resp.status().is_success() => match crate::headers::etag(resp.headers()) {
                Some(etag) if etag != *md5 => {
                    let _ = self.delete_object(full);
                    Err(Error::new(
                            ErrorKind::Integrity,
                            format!("{what}: the copy's ETag {etag} differs from the data's MD5 {md5}; the object was deleted"),
                        ))
                }
                _ => Ok(()),
            },
            Ok(resp) => Err(self.object_failure(&what, &resp, full)),
            Err(e) => Err(e),
        };
        self.discard_set(full, &set.prefix);
        result.map(|()| {
            log::info!("uploaded '{full}' ({size} bytes)");
            (*size, HashSet::new())
        })
    }

    /// Uploads a stream in segments of `segment_size`, in order, on the calling thread, until
    /// `size` bytes (a promise: the stream must end there) or, for a stream of unknown size,
    /// its end. A segment that fails is sent again only when the stream can rewind (it is
    /// rewound and read up to the segment's start); otherwise the upload fails. Returns the
    /// segments (name, MD5, size).
    fn put_in_order(
        &self,
        order: InOrder,
        chain: Arc<Mutex<Chain>>,
        progress: Option<Progress>,
    ) -> Result<Vec<Row>> {
        let InOrder {
            full,
            prefix,
            segment_size,
            size,
            headers,
        } = order;
        let (can_rewind, failure_kind) = {
            let c = chain.lock().recover();
            (c.source.can_rewind(), c.source.failure_kind())
        };
        let read_failed = |e: std::io::Error| {
            Error::new(
                failure_kind,
                format!("uploading '{full}': reading the data failed: {e}"),
            )
        };
        let progress = Arc::new(Mutex::new(progress));
        let mut rows = Vec::new();
        let mut offset = 0u64;
        loop {
            let index = rows.len() as u64;
            let len = size.map(|s| segment_size.min(s - offset));
            let parent: Arc<Mutex<Box<dyn UploadSource>>> =
                Arc::new(Mutex::new(Box::new(ChainHandle(chain.clone()))));
            let part = StreamPart {
                parent,
                offset,
                len: len.unwrap_or(segment_size),
                left: len.unwrap_or(segment_size),
                can_rewind,
                failure_kind,
            };
            let what = match size {
                Some(s) => format!(
                    "uploading segment {} of {} of '{full}'",
                    index + 1,
                    s.div_ceil(segment_size)
                ),
                None => format!("uploading segment {} of '{full}'", index + 1),
            };
            let shared = progress.clone();
            let report: Progress =
                Box::new(move |sent, _| match shared.lock().recover().as_mut() {
                    Some(p) => p(offset + sent, size),
                    None => true,
                });
            let name = ownership::segment_name(prefix, index);
            let (md5, sent) =
                self.put_checked_segment(&what, &name, Box::new(part), len, headers, report)?;
            rows.push((name, md5, sent));
            offset += sent;
            // A short segment of a stream of unknown size is its end.
            if size.is_none() && sent < segment_size {
                break;
            }
            // Otherwise one more byte tells whether the stream goes on.
            let more = chain.lock().recover().peek().map_err(read_failed)?;
            match size {
                Some(s) if offset >= s && more => {
                    return Err(Error::new(
                        failure_kind,
                        format!("uploading '{full}': the data goes on past the {s} bytes its size promised; nothing was stored"),
                    ))
                }
                Some(s) if offset >= s => break,
                // Ended early: the next segment's promise reports how far it got.
                Some(_) => {}
                None if !more => break,
                None => {}
            }
        }
        Ok(rows)
    }
}

/// What [`Swift::put_in_order`] uploads: the object, where its segments go, their size.
struct InOrder<'a> {
    /// The object's full name.
    full: &'a str,
    /// The prefix of its segments' names.
    prefix: &'a str,
    /// Bytes per segment (the last may be shorter).
    segment_size: u64,
    /// The stream's promised size, when known.
    size: Option<u64>,
    /// Headers each segment is stored with.
    headers: &'a Headers,
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Counting(u64, u64);
    impl UploadSource for Counting {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = (buf.len() as u64).min(self.1 - self.0) as usize;
            for b in &mut buf[..n] {
                *b = (self.0 % 251) as u8;
                self.0 += 1;
            }
            Ok(n)
        }
        fn rewind(&mut self) -> std::io::Result<bool> {
            self.0 = 0;
            Ok(true)
        }
        fn can_rewind(&self) -> bool {
            true
        }
    }

    #[test]
    fn a_stream_part_rewinds_to_its_own_start() {
        let parent: Arc<Mutex<Box<dyn UploadSource>>> =
            Arc::new(Mutex::new(Box::new(Counting(0, 1000))));
        let mut skip = vec![0u8; 300];
        parent.lock().unwrap().read(&mut skip).unwrap();
        let mut part = StreamPart {
            parent,
            offset: 300,
            len: 10,
            left: 10,
            can_rewind: true,
            failure_kind: ErrorKind::LocalIo,
        };
        let mut a = [0u8; 64];
        assert_eq!(part.read(&mut a).unwrap(), 10);
        assert_eq!(part.read(&mut a[10..]).unwrap(), 0);
        assert!(part.rewind().unwrap());
        let mut b = [0u8; 64];
        assert_eq!(part.read(&mut b).unwrap(), 10);
        assert_eq!(a[..10], b[..10]);
        assert_eq!(b[0], (300 % 251) as u8);
    }
}
