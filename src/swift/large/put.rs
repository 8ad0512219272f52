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
use crate::swift::request::{Swift, Target};
use crate::swift::types::{Progress, UploadSource};
use crate::swift::upload::{bytes_source, range_md5, FileRange, PutRequest, UploadBody};

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
    ) -> Result<u64> {
        let size = body.size()?;
        let plan = match size {
            Some(s) => self.plan(s)?,
            None => None,
        };
        let old = self.parts_of(full, false).unwrap_or_else(|e| {
            log::info!("could not tell whether '{full}' is a large object ({e}); its segments, if any, stay");
            None
        });
        let (sent, keep) = match (plan, size) {
            (Some(plan), Some(size)) => {
                self.upload_segmented(full, body, size, plan, old.as_ref(), progress)?
            }
            _ => (self.upload_simple(full, body, progress)?, HashSet::new()),
        };
        if let Some(old) = old {
            self.remove_parts(old, &keep);
        }
        Ok(sent)
    }

    /// Uploads `body` in segments, then its manifest; returns the bytes sent and the segments
    /// (container, name) the new object is made of.
    fn upload_segmented(
        &self,
        full: &str,
        body: UploadBody,
        size: u64,
        plan: Plan,
        old: Option<&Parts>,
        progress: Option<Progress>,
    ) -> Result<(u64, HashSet<(String, String)>)> {
        self.ensure_segment_container()?;
        let container = self.config.large.segment_container.clone();
        let stamp = match &body {
            UploadBody::File(path) => file_stamp(path).unwrap_or_else(unique_stamp),
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
            UploadBody::File(_) => self.segments_under(&prefix).unwrap_or_else(|e| {
                log::info!("could not list earlier segments of '{full}' ({e}); uploading all");
                Existing::new()
            }),
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
                )
            }
            UploadBody::Bytes(b) => {
                let open = |offset: u64, len: u64| -> Result<Box<dyn UploadSource>> {
                    Ok(bytes_source(
                        b.slice(offset as usize..(offset + len) as usize),
                    ))
                };
                self.put_parallel(full, &prefix, plan, size, &open, None, &existing, progress)
            }
            UploadBody::Stream(source, _) => {
                self.put_in_order(full, &prefix, plan, size, source, progress)
            }
        };
        let md5s = match result.and_then(|md5s| {
            self.put_manifest(full, &container, &prefix, plan, size, &md5s)
                .map(|()| md5s)
        }) {
            Ok(md5s) => md5s,
            Err(e) => {
                self.discard_segments(&prefix, old);
                return Err(e);
            }
        };
        let keep = (0..md5s.len() as u64)
            .map(|i| (container.clone(), segment_name(&prefix, i)))
            .collect();
        Ok((size, keep))
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
        let md5 = self.put_checked_segment(&what, &name, open(offset, len)?, len, {
            let tx = tx.clone();
            let abort = w.abort.clone();
            let mut last = 0u64;
            Box::new(move |sent, _| {
                let _ = tx.send(sent as i64 - last as i64);
                last = sent;
                !abort.load(Ordering::SeqCst)
            })
        })?;
        w.sent.fetch_add(1, Ordering::SeqCst);
        Ok(md5)
    }

    /// PUTs one segment and checks Swift's ETag against the MD5 of what was read.
    fn put_checked_segment(
        &self,
        what: &str,
        name: &str,
        source: Box<dyn UploadSource>,
        len: u64,
        progress: Progress,
    ) -> Result<String> {
        let stored = self.put(PutRequest {
            what,
            target: self.segment_target(name),
            source,
            size: Some(len),
            md5: None,
            headers: Vec::new(),
            progress: Some(progress),
        })?;
        match stored.etag {
            Some(etag) if etag != stored.md5 => Err(Error::new(
                ErrorKind::Integrity,
                format!(
                    "{what}: Swift stored data whose MD5 ({etag}) differs from what was read ({})",
                    stored.md5
                ),
            )),
            _ => Ok(stored.md5),
        }
    }

    /// Uploads a stream of known size in segments, in order, on the calling thread. A segment
    /// that fails is sent again only when the stream can rewind (it is rewound and read up to
    /// the segment's start); otherwise the upload fails and its segments are removed.
    fn put_in_order(
        &self,
        full: &str,
        prefix: &str,
        plan: Plan,
        size: u64,
        source: Box<dyn UploadSource>,
        progress: Option<Progress>,
    ) -> Result<Vec<String>> {
        let can_rewind = source.can_rewind();
        let failure_kind = source.failure_kind();
        let parent = Arc::new(Mutex::new(source));
        let progress = Arc::new(Mutex::new(progress));
        let mut md5s = Vec::new();
        for index in 0..plan.count {
            let (offset, len) = plan.segment(index, size);
            let part = StreamPart {
                parent: parent.clone(),
                offset,
                len,
                left: len,
                can_rewind,
                failure_kind,
            };
            let what = format!(
                "uploading segment {} of {} of '{full}'",
                index + 1,
                plan.count
            );
            let shared = progress.clone();
            let report: Progress = Box::new(move |sent, _| {
                match shared.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
                    Some(p) => p(offset + sent, Some(size)),
                    None => true,
                }
            });
            let name = segment_name(prefix, index);
            md5s.push(self.put_checked_segment(&what, &name, Box::new(part), len, report)?);
        }
        // The size was a promise: the stream must end here.
        let mut probe = [0u8; 1];
        let more = parent
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .read(&mut probe)
            .map_err(|e| {
                Error::new(
                    failure_kind,
                    format!("uploading '{full}': reading the data failed: {e}"),
                )
            })?;
        if more > 0 {
            return Err(Error::new(
                failure_kind,
                format!("uploading '{full}': the data goes on past the {size} bytes its size promised; nothing was stored"),
            ));
        }
        Ok(md5s)
    }

    /// PUTs the manifest that makes the segments one object, and checks Swift's ETag for it.
    fn put_manifest(
        &self,
        full: &str,
        container: &str,
        prefix: &str,
        plan: Plan,
        size: u64,
        md5s: &[String],
    ) -> Result<()> {
        let rows: Vec<(String, String, u64)> = md5s
            .iter()
            .enumerate()
            .map(|(i, md5)| {
                let i = i as u64;
                (
                    segment_name(prefix, i),
                    md5.clone(),
                    plan.segment(i, size).1,
                )
            })
            .collect();
        let body = manifest_body(container, &rows);
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
            headers: Vec::new(),
            progress: None,
        })?;
        let expected = slo_etag(md5s.iter().map(String::as_str));
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
            md5s.len()
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
