//! Uploads: one request for objects up to the segment size, a Static Large Object above it.
//!
//! Segments of a file (or of bytes in memory) go up `openstack-segment-threads` at a time, each
//! worker reading its own range; a stream is cut into segments in order. Each segment's MD5 is
//! computed on the way and compared with the ETag Swift answers; the manifest then lists every
//! segment's MD5 and size, and Swift checks them before the object becomes visible. A failure
//! before that removes the segments (unless `openstack-leave-segments`); the same file uploaded
//! again reuses the segments already stored whose size and MD5 match.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};

use super::manifest::{manifest_body, slo_etag};
use super::{segment_name, segment_prefix, Parts, Plan};
use crate::error::{Error, ErrorKind, Result};
use crate::log;
use crate::swift::meta::{self, Headers, Prepared};
use crate::swift::request::{Swift, Target};
use crate::swift::types::{Progress, UploadSource};
use crate::swift::upload::{
    bytes_source, range_md5, stream_md5, FileRange, Promised, PutRequest, SharedProgress,
    UploadBody,
};

/// Segments found in the segment container: name → (size, MD5).
type Existing = HashMap<String, (u64, String)>;

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
        let n = self
            .parent
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .read(&mut buf[..want])?;
        self.left -= n as u64;
        Ok(n)
    }
    fn rewind(&mut self) -> std::io::Result<bool> {
        let mut parent = self.parent.lock().unwrap_or_else(|e| e.into_inner());
        if !parent.rewind()? {
            return Ok(false);
        }
        let mut skip = self.offset;
        let mut scratch = vec![0u8; 256 * 1024];
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
        self.0.lock().unwrap_or_else(|e| e.into_inner()).read(buf)
    }
    fn rewind(&mut self) -> std::io::Result<bool> {
        let mut c = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if !c.source.rewind()? {
            return Ok(false);
        }
        c.head.clear();
        c.pos = 0;
        Ok(true)
    }
    fn can_rewind(&self) -> bool {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .source
            .can_rewind()
    }
    fn failure_kind(&self) -> ErrorKind {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .source
            .failure_kind()
    }
}

/// A stream of unknown size is read this far ahead: one that ends within it is uploaded from
/// memory, with its MD5 known.
const LOOKAHEAD: usize = 4 * 1024 * 1024;

/// A stamp no other upload has, for data that cannot be recognised again.
fn unique_stamp() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let tail: String = std::iter::repeat_with(fastrand::alphanumeric)
        .take(8)
        .collect();
    format!("{}.{:09}-{tail}", now.as_secs(), now.subsec_nanos())
}

/// The stamp of a file: its modification time, so the same file gets the same segment names.
fn file_stamp(path: &Path) -> Option<String> {
    let mtime = std::fs::metadata(path).ok()?.modified().ok()?;
    let d = mtime.duration_since(std::time::UNIX_EPOCH).ok()?;
    Some(format!("{}.{:09}", d.as_secs(), d.subsec_nanos()))
}

/// The headers of a large object's manifest (`own`, the host's metadata, the expiry) and of
/// its segments (the same expiry): one absolute `X-Delete-At` for all.
fn large_headers(own: Headers, options: &Prepared) -> (Headers, Headers) {
    let expiry: Headers = options
        .expiry
        .map(|e| e.absolute().header())
        .into_iter()
        .collect();
    let mut manifest = own;
    manifest.extend(options.meta_headers());
    manifest.extend(expiry.iter().cloned());
    (manifest, expiry)
}

/// The shared state of parallel segment uploads.
struct Workers<'a> {
    full: &'a str,
    prefix: &'a str,
    plan: Plan,
    size: u64,
    existing: &'a Existing,
    next: AtomicU64,
    abort: Arc<AtomicBool>,
    md5s: Mutex<Vec<Option<String>>>,
    failure: Mutex<Option<Error>>,
    reused: AtomicU64,
    sent: AtomicU64,
    /// What every segment is stored with (its expiry).
    headers: &'a Headers,
}

impl Swift {
    /// Uploads `body` as the object `full` (prefix included): one request, or segments and a
    /// manifest when it is larger than the segment size. Once the new object is in place, the
    /// segments of the object it replaced are removed.
    pub(crate) fn upload(
        &self,
        full: &str,
        body: UploadBody,
        progress: Option<Progress>,
        options: &Prepared,
    ) -> Result<u64> {
        // Swift's limits on metadata, checked before anything is stored (only /info is read,
        // once per destination, and only when the host gives metadata of its own).
        if !options.metadata.is_empty() {
            let own = body.metadata();
            let host = options.meta_headers();
            let keys_values = own.iter().chain(host.iter()).map(|(n, v)| {
                (
                    n.as_str().trim_start_matches("x-object-meta-"),
                    v.as_bytes(),
                )
            });
            meta::check_limits(keys_values, &self.limits()?.meta)?;
        }
        let size = body.size()?;
        let plan = match size {
            Some(s) => self.plan(s)?,
            None => None,
        };
        let old_parts = || {
            self.parts_of(full, false).unwrap_or_else(|e| {
                log::info!("could not tell whether '{full}' is a large object ({e}); its segments, if any, stay");
                None
            })
        };
        // A whole object from memory or a file is first sent only if the name is free
        // (`If-None-Match: *`): a new name then costs one request, where asking first whether
        // the object in place is a large one (whose segments must go) costs two. A taken name
        // is refused (412) before Swift reads the body; the body then goes again the long way.
        if let (None, Some(again)) = (&plan, body.again()) {
            let md5 = body.md5()?;
            let progress = SharedProgress::new(progress);
            let first =
                self.upload_simple(full, body, progress.lend(), options, md5.clone(), true)?;
            if let Some(sent) = first {
                return Ok(sent);
            }
            let old = old_parts();
            let sent = self
                .upload_simple(full, again, progress.lend(), options, md5, false)?
                .unwrap_or_default();
            self.replaced(full, old, HashSet::new());
            return Ok(sent);
        }
        let old = old_parts();
        let (sent, keep) = match (plan, size, body) {
            (Some(plan), Some(size), body) => {
                self.upload_segmented(full, body, size, plan, old.as_ref(), progress, options)?
            }
            (_, None, UploadBody::Stream(source, None)) => {
                self.upload_unknown_size(full, source, old.as_ref(), progress, options)?
            }
            (None, Some(size), UploadBody::Stream(source, Some(_))) => {
                self.upload_sized_stream(full, source, size, old.as_ref(), progress, options)?
            }
            (_, _, body) => (
                self.upload_simple(full, body, progress, options, None, false)?
                    .unwrap_or_default(),
                HashSet::new(),
            ),
        };
        self.replaced(full, old, keep);
        Ok(sent)
    }

    /// Once `full` is in place: removes the parts of the large object it replaced (`old`), but
    /// none of `keep`, which the new object is made of.
    fn replaced(&self, full: &str, old: Option<Parts>, mut keep: HashSet<(String, String)>) {
        if let Some(old) = old {
            // A dynamic manifest's prefix may cover the object's own name.
            keep.insert((self.config.container.clone(), full.to_string()));
            self.remove_parts(old, &keep);
        }
    }

    /// Uploads `body` in segments, then its manifest; returns the bytes sent and the segments
    /// (container, name) the new object is made of. With an expiry, the segments and the
    /// manifest get the same `X-Delete-At`, so none outlives the object, and no segment of an
    /// earlier upload is reused (it might expire at another time, or never).
    #[allow(clippy::too_many_arguments)]
    fn upload_segmented(
        &self,
        full: &str,
        body: UploadBody,
        size: u64,
        plan: Plan,
        old: Option<&Parts>,
        progress: Option<Progress>,
        options: &Prepared,
    ) -> Result<(u64, HashSet<(String, String)>)> {
        self.ensure_segment_container()?;
        let container = self.config.large.segment_container.clone();
        let (metadata, segment_headers) = large_headers(body.metadata(), options);
        let stamp = match &body {
            UploadBody::File(path) if options.expiry.is_none() => {
                file_stamp(path).unwrap_or_else(unique_stamp)
            }
            _ => unique_stamp(),
        };
        let mut prefix = segment_prefix(full, &stamp, size, plan.segment_size);
        // The object in place already uses these names (the same file, uploaded before): new
        // names, so nothing it is made of is touched until the new object replaces it.
        if let Some(Parts::Static(refs)) = old {
            if refs
                .iter()
                .any(|r| r.container == container && r.name.starts_with(&prefix))
            {
                prefix = segment_prefix(full, &unique_stamp(), size, plan.segment_size);
            }
        }
        let existing = match &body {
            UploadBody::File(_) if options.expiry.is_none() => {
                self.segments_under(&prefix).unwrap_or_else(|e| {
                    log::info!("could not list earlier segments of '{full}' ({e}); uploading all");
                    Existing::new()
                })
            }
            _ => Existing::new(),
        };
        log::info!(
            "uploading '{full}' ({size} bytes) as {} segments of {} bytes into '{container}'",
            plan.count,
            plan.segment_size
        );
        let result = match body {
            UploadBody::File(path) => {
                let open = |offset, len| -> Result<Box<dyn UploadSource>> {
                    Ok(Box::new(FileRange::open(path, offset, len)?))
                };
                let md5 = |offset, len| range_md5(path, offset, len);
                self.put_parallel(
                    full,
                    &prefix,
                    plan,
                    size,
                    &open,
                    Some(&md5),
                    &existing,
                    progress,
                    &segment_headers,
                )
            }
            UploadBody::Bytes(b) => {
                let open = |offset: u64, len: u64| -> Result<Box<dyn UploadSource>> {
                    Ok(bytes_source(
                        b.slice(offset as usize..(offset + len) as usize),
                    ))
                };
                self.put_parallel(
                    full,
                    &prefix,
                    plan,
                    size,
                    &open,
                    None,
                    &existing,
                    progress,
                    &segment_headers,
                )
            }
            UploadBody::Stream(source, _) => {
                let chain = Arc::new(Mutex::new(Chain::new(Vec::new(), source)));
                self.put_in_order(
                    full,
                    &prefix,
                    plan.segment_size,
                    Some(size),
                    chain,
                    progress,
                    &segment_headers,
                )
                .map(|rows| rows.into_iter().map(|r| r.1).collect())
            }
        };
        let rows = result.map(|md5s| {
            md5s.into_iter()
                .enumerate()
                .map(|(i, md5)| {
                    let i = i as u64;
                    (segment_name(&prefix, i), md5, plan.segment(i, size).1)
                })
                .collect::<Vec<_>>()
        });
        self.finish_segmented(full, &prefix, rows, old, metadata)
    }

    /// Puts the manifest for `rows` (segment name, MD5, size) once the segments are in; on any
    /// failure removes them. Returns the bytes stored and the segments the object is made of.
    fn finish_segmented(
        &self,
        full: &str,
        prefix: &str,
        rows: Result<Vec<(String, String, u64)>>,
        old: Option<&Parts>,
        metadata: Headers,
    ) -> Result<(u64, HashSet<(String, String)>)> {
        let container = self.config.large.segment_container.clone();
        let rows = match rows.and_then(|rows| {
            self.put_manifest(full, &container, &rows, metadata)
                .map(|()| rows)
        }) {
            Ok(rows) => rows,
            Err(e) => {
                self.discard_segments(prefix, old);
                return Err(e);
            }
        };
        let size = rows.iter().map(|r| r.2).sum();
        let keep = rows.into_iter().map(|r| (container.clone(), r.0)).collect();
        Ok((size, keep))
    }

    /// Uploads a stream of known size that fits in one object so that no corrupt data can
    /// replace the object in place: Swift must be able to check the data's MD5 before it
    /// stores it under `full`. A stream that can rewind is read twice, like a file: its MD5
    /// first, then sent with it as `ETag`. Any other goes the way of a stream of unknown size
    /// (from memory when small, or else one checked segment copied into place), held to its
    /// promised size.
    fn upload_sized_stream(
        &self,
        full: &str,
        mut source: Box<dyn UploadSource>,
        size: u64,
        old: Option<&Parts>,
        progress: Option<Progress>,
        options: &Prepared,
    ) -> Result<(u64, HashSet<(String, String)>)> {
        if !source.can_rewind() {
            let held = Box::new(Promised::new(source, size));
            return self.upload_unknown_size(full, held, old, progress, options);
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
    fn upload_unknown_size(
        &self,
        full: &str,
        mut source: Box<dyn UploadSource>,
        old: Option<&Parts>,
        progress: Option<Progress>,
        options: &Prepared,
    ) -> Result<(u64, HashSet<(String, String)>)> {
        let what = format!("uploading '{full}'");
        let kind = source.failure_kind();
        let mut head = Vec::new();
        let mut buf = vec![0u8; 256 * 1024];
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
                    size,
                    plan,
                    old,
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
        let prefix = segment_prefix(full, &unique_stamp(), 0, segment_size);
        let chain = Arc::new(Mutex::new(Chain::new(head, source)));
        let (metadata, segment_headers) = large_headers(Vec::new(), options);
        let rows = self.put_in_order(
            full,
            &prefix,
            segment_size,
            None,
            chain,
            progress,
            &segment_headers,
        );
        if let Ok(rows) = &rows {
            if rows.len() == 1 {
                return self.promote_single_segment(full, &prefix, &rows[0], old, &metadata);
            }
        }
        self.finish_segmented(full, &prefix, rows, old, metadata)
    }

    /// Makes the one segment of a stream that turned out to fit in one object that object: a
    /// server-side copy, checked against the segment's MD5, then the segment is removed.
    fn promote_single_segment(
        &self,
        full: &str,
        prefix: &str,
        row: &(String, String, u64),
        old: Option<&Parts>,
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
        self.discard_segments(prefix, old);
        result.map(|()| {
            log::info!("uploaded '{full}' ({size} bytes)");
            (*size, HashSet::new())
        })
    }

    /// The segments already stored under `prefix`.
    fn segments_under(&self, prefix: &str) -> Result<Existing> {
        let mut found = Existing::new();
        let container = &self.config.large.segment_container;
        self.list_pages_in(container, prefix, "", true, |page| {
            for e in page {
                if let (Some(size), Some(etag)) = (e.size, e.etag) {
                    found.insert(e.name, (size, etag));
                }
            }
            Ok(true)
        })?;
        Ok(found)
    }

    /// Removes the segments of a failed upload (unless `openstack-leave-segments`), but none
    /// that the object in place (`old`) is made of.
    fn discard_segments(&self, prefix: &str, old: Option<&Parts>) {
        if self.config.large.leave_segments {
            log::info!("the segments under '{prefix}' stay (openstack-leave-segments): uploading the same file again reuses them");
            return;
        }
        let container = self.config.large.segment_container.clone();
        let in_use: HashSet<(String, String)> = match old {
            Some(Parts::Static(refs)) => refs
                .iter()
                .map(|r| (r.container.clone(), r.name.clone()))
                .collect(),
            _ => HashSet::new(),
        };
        let mut names = Vec::new();
        if let Err(e) = self.list_pages_in(&container, prefix, "", true, |page| {
            names.extend(page.into_iter().map(|e| e.name));
            Ok(true)
        }) {
            log::warning!(
                "the segments under '{container}/{prefix}' could not be listed to remove them: {e}"
            );
            return;
        }
        let all = names.len();
        let mut removed = 0usize;
        for name in names {
            if in_use.contains(&(container.clone(), name.clone())) {
                continue;
            }
            match self.delete_in(self.segment_target(&name), &name) {
                Ok(()) => removed += 1,
                Err(e) => log::warning!("could not remove the segment '{container}/{name}': {e}"),
            }
        }
        log::info!(
            "removed {removed} of {all} segments of the failed upload under '{container}/{prefix}'"
        );
    }

    /// Uploads every segment, `openstack-segment-threads` at a time; progress is reported on
    /// the calling thread. Returns the segments' MD5s.
    #[allow(clippy::too_many_arguments)]
    fn put_parallel(
        &self,
        full: &str,
        prefix: &str,
        plan: Plan,
        size: u64,
        open: &(dyn Fn(u64, u64) -> Result<Box<dyn UploadSource>> + Sync),
        local_md5: Option<&(dyn Fn(u64, u64) -> Result<String> + Sync)>,
        existing: &Existing,
        mut progress: Option<Progress>,
        headers: &Headers,
    ) -> Result<Vec<String>> {
        let count = usize::try_from(plan.count).unwrap_or(usize::MAX);
        let w = Workers {
            full,
            prefix,
            plan,
            size,
            existing,
            next: AtomicU64::new(0),
            abort: Arc::new(AtomicBool::new(false)),
            md5s: Mutex::new(vec![None; count]),
            failure: Mutex::new(None),
            reused: AtomicU64::new(0),
            sent: AtomicU64::new(0),
            headers,
        };
        let threads = self.config.large.threads.min(count).max(1);
        let (tx, rx) = mpsc::channel::<i64>();
        let mut cancelled = false;
        std::thread::scope(|scope| {
            for _ in 0..threads {
                let tx = tx.clone();
                let w = &w;
                scope.spawn(move || self.segment_worker(w, open, local_md5, tx));
            }
            drop(tx);
            let mut done: i64 = 0;
            for delta in rx {
                done += delta;
                if cancelled {
                    continue;
                }
                if let Some(p) = progress.as_mut() {
                    if !p(done.max(0) as u64, Some(size)) {
                        cancelled = true;
                        w.abort.store(true, Ordering::SeqCst);
                    }
                }
            }
        });
        if cancelled {
            return Err(Error::new(
                ErrorKind::Cancelled,
                format!("uploading '{full}': cancelled by the progress callback"),
            ));
        }
        if let Some(e) = w.failure.lock().unwrap_or_else(|e| e.into_inner()).take() {
            return Err(e);
        }
        log::info!(
            "uploaded the {count} segments of '{full}': {} sent, {} already stored",
            w.sent.load(Ordering::SeqCst),
            w.reused.load(Ordering::SeqCst)
        );
        let md5s = w.md5s.into_inner().unwrap_or_else(|e| e.into_inner());
        md5s.into_iter()
            .map(|m| {
                m.ok_or_else(|| {
                    Error::new(
                        ErrorKind::Server,
                        "a segment was not uploaded (no error was recorded)",
                    )
                })
            })
            .collect()
    }

    /// One worker: takes the next segment until none is left or one failed.
    fn segment_worker(
        &self,
        w: &Workers,
        open: &(dyn Fn(u64, u64) -> Result<Box<dyn UploadSource>> + Sync),
        local_md5: Option<&(dyn Fn(u64, u64) -> Result<String> + Sync)>,
        tx: mpsc::Sender<i64>,
    ) {
        loop {
            if w.abort.load(Ordering::SeqCst) {
                return;
            }
            let index = w.next.fetch_add(1, Ordering::SeqCst);
            if index >= w.plan.count {
                return;
            }
            match self.put_segment(w, index, open, local_md5, &tx) {
                Ok(md5) => {
                    w.md5s.lock().unwrap_or_else(|e| e.into_inner())[index as usize] = Some(md5);
                }
                Err(e) => {
                    w.abort.store(true, Ordering::SeqCst);
                    let mut failure = w.failure.lock().unwrap_or_else(|e| e.into_inner());
                    // A cancel seen by other workers is a consequence, not the cause.
                    if failure.is_none() || e.kind() != ErrorKind::Cancelled {
                        failure.get_or_insert(e);
                    }
                    return;
                }
            }
        }
    }

    /// Uploads segment `index`, or reuses the one stored when its size and MD5 match.
    fn put_segment(
        &self,
        w: &Workers,
        index: u64,
        open: &(dyn Fn(u64, u64) -> Result<Box<dyn UploadSource>> + Sync),
        local_md5: Option<&(dyn Fn(u64, u64) -> Result<String> + Sync)>,
        tx: &mpsc::Sender<i64>,
    ) -> Result<String> {
        let name = segment_name(w.prefix, index);
        let (offset, len) = w.plan.segment(index, w.size);
        if let (Some((stored_size, stored_md5)), Some(md5_of)) = (w.existing.get(&name), local_md5)
        {
            if *stored_size == len && md5_of(offset, len)? == *stored_md5 {
                let _ = tx.send(len as i64);
                w.reused.fetch_add(1, Ordering::SeqCst);
                return Ok(stored_md5.clone());
            }
        }
        let what = format!(
            "uploading segment {} of {} of '{}'",
            index + 1,
            w.plan.count,
            w.full
        );
        let md5 = self
            .put_checked_segment(&what, &name, open(offset, len)?, Some(len), w.headers, {
                let tx = tx.clone();
                let abort = w.abort.clone();
                let mut last = 0u64;
                Box::new(move |sent, _| {
                    let _ = tx.send(sent as i64 - last as i64);
                    last = sent;
                    !abort.load(Ordering::SeqCst)
                })
            })?
            .0;
        w.sent.fetch_add(1, Ordering::SeqCst);
        Ok(md5)
    }

    /// PUTs one segment and checks Swift's ETag against the MD5 of what was read.
    fn put_checked_segment(
        &self,
        what: &str,
        name: &str,
        source: Box<dyn UploadSource>,
        len: Option<u64>,
        headers: &Headers,
        progress: Progress,
    ) -> Result<(String, u64)> {
        let stored = self.put(PutRequest {
            what,
            target: self.segment_target(name),
            source,
            size: len,
            md5: None,
            headers: headers.clone(),
            progress: Some(progress),
            if_absent: false,
        })?;
        match stored.etag {
            Some(etag) if etag != stored.md5 => Err(Error::new(
                ErrorKind::Integrity,
                format!(
                    "{what}: Swift stored data whose MD5 ({etag}) differs from what was read ({})",
                    stored.md5
                ),
            )),
            _ => Ok((stored.md5, stored.sent)),
        }
    }

    /// Uploads a stream in segments of `segment_size`, in order, on the calling thread, until
    /// `size` bytes (a promise: the stream must end there) or, for a stream of unknown size,
    /// its end. A segment that fails is sent again only when the stream can rewind (it is
    /// rewound and read up to the segment's start); otherwise the upload fails. Returns the
    /// segments (name, MD5, size).
    #[allow(clippy::too_many_arguments)]
    fn put_in_order(
        &self,
        full: &str,
        prefix: &str,
        segment_size: u64,
        size: Option<u64>,
        chain: Arc<Mutex<Chain>>,
        progress: Option<Progress>,
        headers: &Headers,
    ) -> Result<Vec<(String, String, u64)>> {
        let (can_rewind, failure_kind) = {
            let c = chain.lock().unwrap_or_else(|e| e.into_inner());
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
            let report: Progress = Box::new(move |sent, _| {
                match shared.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
                    Some(p) => p(offset + sent, size),
                    None => true,
                }
            });
            let name = segment_name(prefix, index);
            let (md5, sent) =
                self.put_checked_segment(&what, &name, Box::new(part), len, headers, report)?;
            rows.push((name, md5, sent));
            offset += sent;
            // A short segment of a stream of unknown size is its end.
            if size.is_none() && sent < segment_size {
                break;
            }
            // Otherwise one more byte tells whether the stream goes on.
            let more = chain
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .peek()
                .map_err(read_failed)?;
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

    /// PUTs the manifest that makes the segments `rows` (name, MD5, size) one object, and
    /// checks Swift's ETag for it.
    fn put_manifest(
        &self,
        full: &str,
        container: &str,
        rows: &[(String, String, u64)],
        metadata: Headers,
    ) -> Result<()> {
        let size: u64 = rows.iter().map(|r| r.2).sum();
        self.limits()?.check_slo(size)?;
        let body = manifest_body(container, rows);
        let len = body.len() as u64;
        let what = format!("storing the manifest of '{full}'");
        let stored = self.put(PutRequest {
            what: &what,
            target: Target::In {
                container: &self.config.container,
                object: Some(full),
                query: Some("multipart-manifest=put"),
            },
            source: bytes_source(body.into()),
            size: Some(len),
            md5: None,
            headers: metadata,
            progress: None,
            if_absent: false,
        })?;
        let expected = slo_etag(rows.iter().map(|r| r.1.as_str()));
        if let Some(etag) = stored.etag {
            if etag != expected {
                let _ = self.delete_object(full);
                return Err(Error::new(
                    ErrorKind::Integrity,
                    format!("{what}: Swift's ETag {etag} for the object differs from the one its segments give ({expected}); the object was deleted"),
                ));
            }
        }
        log::info!(
            "uploaded '{full}' ({size} bytes in {} segments)",
            rows.len()
        );
        Ok(())
    }
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
