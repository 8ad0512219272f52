//! Uploads of memory and files as Static Large Objects: a set of segments of the upload's own
//! ([`super::ownership`]), sent `openstack-segment-threads` at a time, each worker reading its
//! own range; then the manifest ([`super::commit`]).
//!
//! A file's upload can resume: its set is marked pending until just before the manifest goes
//! up, and the next upload of the same file (same name, modification time, size and segment
//! size) takes over a pending set and sends only the segments missing or different. A file that
//! changes while its segments go up fails the upload before the manifest, so no mix of old and
//! new bytes is ever stored.

use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use super::commit::Row;
use super::ownership::{self, FoundSet};
use super::{Parts, Plan};
use crate::error::{Error, ErrorKind, Result};
use crate::log;
use crate::swift::body::{bytes_source, range_md5, FileRange, UploadBody};
use crate::swift::meta::{Headers, Prepared};
use crate::swift::pool::run_indexed;
use crate::swift::request::Swift;
use crate::swift::types::{Progress, UploadSource};
use crate::swift::upload::PutRequest;

/// Segments already stored in a set taken over: name → (size, MD5).
pub(crate) type Existing = std::collections::BTreeMap<String, (u64, String)>;

/// The set an upload writes into.
pub(crate) struct Set {
    /// Its prefix in the segment container (ends with `/`).
    pub(crate) prefix: String,
    /// Segments already there (a pending set taken over).
    pub(crate) existing: Existing,
    /// Whether the set is marked pending, so that a later upload of the same file resumes it.
    pub(crate) resumable: bool,
}

/// What identifies a file's contents cheaply: its size, times and inode. If any differs after
/// the segments went up, the file changed while it was read.
#[derive(Debug, PartialEq, Eq)]
struct FileState {
    len: u64,
    modified: Option<std::time::SystemTime>,
    #[cfg(unix)]
    ids: (u64, u64, i64, i64),
}

impl FileState {
    fn of(path: &Path) -> Result<FileState> {
        let m = std::fs::metadata(path)
            .map_err(|e| Error::local_io(&format!("reading '{}'", path.display()), &e))?;
        #[cfg(unix)]
        let ids = {
            use std::os::unix::fs::MetadataExt;
            (m.dev(), m.ino(), m.ctime(), m.ctime_nsec())
        };
        Ok(FileState {
            len: m.len(),
            modified: m.modified().ok(),
            #[cfg(unix)]
            ids,
        })
    }
}

/// A stamp no other upload has, for data that cannot be recognised again.
pub(crate) fn unique_stamp() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    format!("{}.{:09}", now.as_secs(), now.subsec_nanos())
}

/// The stamp of a file: its modification time, so the same file finds its pending set again.
fn file_stamp(path: &Path) -> Option<String> {
    let mtime = std::fs::metadata(path).ok()?.modified().ok()?;
    let d = mtime.duration_since(std::time::UNIX_EPOCH).ok()?;
    Some(format!("{}.{:09}", d.as_secs(), d.subsec_nanos()))
}

/// The headers of a large object's manifest (`own`, the host's metadata, the expiry) and of
/// its segments (the same expiry): one absolute `X-Delete-At` for all.
pub(crate) fn large_headers(own: Headers, options: &Prepared) -> (Headers, Headers) {
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

/// Where the workers read a segment: `open` gives its bytes, `local_md5` (files) its MD5
/// without sending it, to compare with a segment already stored.
struct Reader<'r> {
    open: &'r (dyn Fn(u64, u64) -> Result<Box<dyn UploadSource>> + Sync),
    local_md5: Option<&'r (dyn Fn(u64, u64) -> Result<String> + Sync)>,
}

impl Swift {
    /// Chooses the set an upload of `full` writes into. A file (without an expiry, whose
    /// segments must all expire together) takes over the pending set of an earlier upload of
    /// the same file when one exists and nothing references it, or starts a new set marked
    /// pending; anything else gets a new set, unmarked.
    pub(crate) fn choose_set(
        &self,
        full: &str,
        stamp: Option<String>,
        size: u64,
        segment_size: u64,
        old: Option<&Parts>,
    ) -> Result<Set> {
        let container = &self.config.container;
        let resumable = stamp.is_some();
        let root = ownership::upload_root(
            container,
            full,
            &stamp.unwrap_or_else(unique_stamp),
            size,
            segment_size,
        );
        if resumable {
            if let Some(set) = self.take_over(full, &root, old) {
                return Ok(set);
            }
        }
        let prefix = ownership::set_prefix(&root, &ownership::new_upload_id());
        if resumable {
            self.put_mark(&ownership::pending_mark(&prefix))?;
        }
        Ok(Set {
            prefix,
            existing: Existing::new(),
            resumable,
        })
    }

    /// The pending set under `root` with the most segments, when no manifest of `full` (`old`,
    /// read with `X-Newest`) references it; its mark is put again, so a sweep sees it young.
    fn take_over(&self, full: &str, root: &str, old: Option<&Parts>) -> Option<Set> {
        let segc = self.config.large.segment_container.clone();
        let mut listed = Vec::new();
        if let Err(e) = self.list_pages_in(&segc, root, "", true, |page| {
            listed.extend(page.into_iter().map(|e| (e.name, e.size, e.etag)));
            Ok(true)
        }) {
            log::info!("could not list earlier segments of '{full}' ({e}); uploading all");
            return None;
        }
        let sets = ownership::group_sets(&self.config.container, listed);
        let (prefix, found) = ownership::best_pending(&sets)?;
        let referenced = |found: &FoundSet| match old {
            Some(Parts::Static(refs)) => refs
                .iter()
                .any(|r| r.container == segc && found.segments.contains_key(&r.name)),
            Some(Parts::Dynamic { .. }) => false,
            None => false,
        };
        if referenced(found) {
            // The upload that marked it put its manifest up and was stopped before it could
            // remove the mark: the set is that object's now.
            log::info!(
                "the segments under '{segc}/{prefix}' are what '{full}' is made of: not taken over"
            );
            let mark = ownership::pending_mark(prefix);
            let _ = self.delete_in(self.segment_target(&mark), &mark);
            return None;
        }
        if let Err(e) = self.put_mark(&ownership::pending_mark(prefix)) {
            log::info!(
                "could not mark the earlier segments of '{full}' again ({e}); uploading all"
            );
            return None;
        }
        log::info!(
            "resuming the upload of '{full}': {} segments already stored under '{segc}/{prefix}'",
            found.segments.len()
        );
        Some(Set {
            prefix: prefix.clone(),
            existing: found.segments.clone(),
            resumable: true,
        })
    }

    /// Uploads `body` (memory or a file) in segments, then its manifest; returns the bytes sent
    /// and the segments (container, name) the new object is made of. With an expiry, the
    /// segments and the manifest get the same `X-Delete-At`, so none outlives the object.
    pub(crate) fn upload_segmented(
        &self,
        full: &str,
        body: UploadBody,
        plan: Plan,
        old: Option<&Parts>,
        progress: Option<Progress>,
        options: &Prepared,
    ) -> Result<(u64, HashSet<(String, String)>)> {
        self.ensure_segment_container()?;
        let size = plan.size;
        let (metadata, segment_headers) = large_headers(body.metadata(), options);
        let file = match &body {
            UploadBody::File(path) => Some((*path, FileState::of(path)?)),
            _ => None,
        };
        let stamp = match &file {
            Some((path, _)) if options.expiry.is_none() => file_stamp(path),
            _ => None,
        };
        let set = self.choose_set(full, stamp, size, plan.segment_size, old)?;
        log::info!(
            "uploading '{full}' ({size} bytes) as {} segments of {} bytes into '{}'",
            plan.count,
            plan.segment_size,
            self.config.large.segment_container
        );
        let md5s = match body {
            UploadBody::File(path) => {
                let open = |offset, len| -> Result<Box<dyn UploadSource>> {
                    Ok(Box::new(FileRange::open(path, offset, len)?))
                };
                let md5 = |offset, len| range_md5(path, offset, len);
                let reader = Reader {
                    open: &open,
                    local_md5: Some(&md5),
                };
                self.put_parallel(full, &set, plan, &reader, progress, &segment_headers)
            }
            UploadBody::Bytes(b) => {
                let open = |offset: u64, len: u64| -> Result<Box<dyn UploadSource>> {
                    Ok(bytes_source(
                        b.slice(offset as usize..(offset + len) as usize),
                    ))
                };
                let reader = Reader {
                    open: &open,
                    local_md5: None,
                };
                self.put_parallel(full, &set, plan, &reader, progress, &segment_headers)
            }
            UploadBody::Stream(..) => Err(Error::new(
                ErrorKind::InvalidArgument,
                "a stream is uploaded in order, not in parallel",
            )),
        };
        // A file that changed while it was read (a failure reading it included) is reported
        // as such: what was sent may mix old and new bytes.
        let md5s = match &file {
            Some((path, before)) if FileState::of(path).ok().as_ref() != Some(before) => {
                Err(Error::new(
                    ErrorKind::LocalIo,
                    format!(
                        "uploading '{full}': '{}' changed while its segments were sent (its size, time or inode differ), so what was read may mix old and new bytes; nothing was stored under the name: upload it again once it no longer changes",
                        path.display()
                    ),
                ))
            }
            _ => md5s,
        };
        let rows = md5s.map(|md5s| {
            md5s.into_iter()
                .enumerate()
                .map(|(i, md5)| {
                    let i = i as u64;
                    (
                        ownership::segment_name(&set.prefix, i),
                        md5,
                        plan.segment(i).1,
                    )
                })
                .collect::<Vec<_>>()
        });
        self.finish(full, &set, rows, &metadata)
    }

    /// Once the segments `rows` of `set` are in (or failed): removes the set's mark and puts
    /// the manifest up. On a failure the set goes, unless the object references it after all
    /// (an answer lost), or `openstack-leave-segments` keeps it (marked, so it resumes).
    /// Returns the bytes stored and the segments the object is made of.
    pub(crate) fn finish(
        &self,
        full: &str,
        set: &Set,
        rows: Result<Vec<Row>>,
        metadata: &Headers,
    ) -> Result<(u64, HashSet<(String, String)>)> {
        let mark = ownership::pending_mark(&set.prefix);
        let committed = rows.and_then(|rows| {
            if set.resumable {
                self.delete_in(self.segment_target(&mark), &mark)?;
            }
            match self.put_manifest(full, &rows, metadata) {
                Ok(()) => Ok(rows),
                Err(e) if e.kind() != ErrorKind::Integrity
                    && self.references(full, &set.prefix) == Some(true) =>
                {
                    log::info!("storing the manifest of '{full}' seemed to fail ({e}), but the object is that manifest now: done");
                    Ok(rows)
                }
                Err(e) => Err(e),
            }
        });
        let rows = match committed {
            Ok(rows) => rows,
            Err(e) => {
                if self.config.large.leave_segments {
                    if set.resumable {
                        let _ = self.put_mark(&mark);
                    }
                    log::info!("the segments under '{}' stay (openstack-leave-segments): uploading the same file again resumes them", set.prefix);
                } else {
                    self.discard_set(full, &set.prefix);
                }
                return Err(e);
            }
        };
        let size = rows.iter().map(|r| r.2).sum();
        let container = &self.config.large.segment_container;
        let keep = rows.into_iter().map(|r| (container.clone(), r.0)).collect();
        Ok((size, keep))
    }

    /// Uploads every segment, `openstack-segment-threads` at a time ([`run_indexed`]);
    /// progress is reported on the calling thread. Returns the segments' MD5s.
    fn put_parallel(
        &self,
        full: &str,
        set: &Set,
        plan: Plan,
        reader: &Reader,
        progress: Option<Progress>,
        headers: &Headers,
    ) -> Result<Vec<String>> {
        let count = usize::try_from(plan.count).unwrap_or(usize::MAX);
        let (sent, reused) = (AtomicU64::new(0), AtomicU64::new(0));
        let cancelled = || {
            Error::new(
                ErrorKind::Cancelled,
                format!("uploading '{full}': cancelled by the progress callback"),
            )
        };
        let md5s = run_indexed(
            count,
            self.config.large.threads,
            plan.size,
            progress,
            cancelled,
            |i, lane| {
                let index = i as u64;
                let name = ownership::segment_name(&set.prefix, index);
                let (offset, len) = plan.segment(index);
                if let (Some((stored_size, stored_md5)), Some(md5_of)) =
                    (set.existing.get(&name), reader.local_md5)
                {
                    if *stored_size == len && md5_of(offset, len)? == *stored_md5 {
                        lane.skip(len);
                        reused.fetch_add(1, Ordering::SeqCst);
                        return Ok(stored_md5.clone());
                    }
                }
                let what = format!(
                    "uploading segment {} of {} of '{full}'",
                    index + 1,
                    plan.count
                );
                let source = (reader.open)(offset, len)?;
                let (md5, _) = self.put_checked_segment(
                    &what,
                    &name,
                    source,
                    Some(len),
                    headers,
                    lane.progress(),
                )?;
                sent.fetch_add(1, Ordering::SeqCst);
                Ok(md5)
            },
        )?;
        log::info!(
            "uploaded the {count} segments of '{full}': {} sent, {} already stored",
            sent.load(Ordering::SeqCst),
            reused.load(Ordering::SeqCst)
        );
        Ok(md5s)
    }

    /// PUTs one segment and checks Swift's ETag against the MD5 of what was read.
    pub(crate) fn put_checked_segment(
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
}
