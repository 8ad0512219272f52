//! Large objects: what the cluster allows (`/info`), when an upload is split into segments,
//! where segments go and what they are called, the manifests of Static and Dynamic Large
//! Objects, and the segments an overwrite or a delete leaves behind.
//!
//! An object larger than the segment size becomes a Static Large Object: its segments go to
//! the segment container into a set of the upload's own ([`ownership`]), each with its MD5 as
//! `ETag`, then a manifest listing every segment with its ETag and size makes the object
//! visible. Swift checks the manifest against the segments, so no segment that differs from
//! what was read can be part of the object, and no segment is shared by two uploads, so
//! removing what one object is made of never touches another.
//!
//! The layers run one way: `put` decides, `segmented` and `stream` send, `commit` puts the
//! manifest up or discards a failed set, `ownership` names sets, `sweep` removes orphans;
//! this file holds the cluster's limits and what an existing object is made of.

mod commit;
mod get;
mod manifest;
pub(crate) mod ownership;
mod put;
mod segmented;
mod stream;
mod sweep;

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde::Deserialize;

pub(crate) use manifest::{parse_manifest, SegmentRef, MAX_MANIFEST};

use super::request::{Plain, Swift, Target};
use crate::error::{Error, ErrorKind, Result};
use crate::headers;
use crate::http::answer::{self, About};
use crate::log;

/// Swift's default `max_file_size`, for clusters whose `/info` says nothing.
const DEFAULT_MAX_FILE_SIZE: u64 = 5 * 1024 * 1024 * 1024 + 2;
/// Swift's default `max_manifest_segments`.
const DEFAULT_MAX_SEGMENTS: u64 = 1000;
/// Objects this small are never segmented without an explicit segment size (no cluster limits
/// a single object to less), so small uploads need no `/info`.
const NEVER_SEGMENTED: u64 = 1024 * 1024;
/// The segment size without `openstack-segment-size`, on a cluster whose `/info` shows Static
/// Large Objects (held to its `max_file_size`). Larger files go up as segments sent in parallel,
/// each hashed while it is sent and checked by Swift through the manifest, instead of a pass
/// over the whole file before a single request; a failure costs one segment, not the file.
pub(crate) const DEFAULT_SEGMENT_SIZE: u64 = 128 * 1024 * 1024;
/// Asks Swift for the newest of an object's copies (reads that decide a deletion).
const NEWEST: (&str, &str) = ("X-Newest", "true");
/// How long "the segment container does not exist" is believed before it is asked again.
const ABSENCE_KEPT: Duration = Duration::from_secs(60);

/// What the cluster allows, from `/info`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Limits {
    /// The largest single object.
    pub(crate) max_file_size: u64,
    /// The most segments one manifest may list.
    pub(crate) max_segments: u64,
    /// The smallest segment (but the last) a manifest may list.
    pub(crate) min_segment_size: u64,
    /// The limits of object metadata.
    pub(crate) meta: crate::swift::meta::MetaLimits,
    /// Whether the cluster offers Static Large Objects: `None` when `/info` did not say
    /// (unreadable or disabled), so only what must be segmented is.
    pub(crate) slo: Option<bool>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            max_segments: DEFAULT_MAX_SEGMENTS,
            min_segment_size: 1,
            meta: crate::swift::meta::MetaLimits::default(),
            slo: None,
        }
    }
}

#[derive(Deserialize)]
struct Info {
    swift: Option<InfoSwift>,
    slo: Option<InfoSlo>,
}

#[derive(Deserialize)]
struct InfoSwift {
    max_file_size: Option<u64>,
    max_meta_name_length: Option<usize>,
    max_meta_value_length: Option<usize>,
    max_meta_count: Option<usize>,
    max_meta_overall_size: Option<usize>,
}

#[derive(Deserialize)]
struct InfoSlo {
    max_manifest_segments: Option<u64>,
    min_segment_size: Option<u64>,
}

/// Reads the limits from the body of `/info`; what it lacks keeps Swift's defaults.
pub(crate) fn parse_info(body: &[u8]) -> Limits {
    let d = Limits::default();
    let Ok(info) = serde_json::from_slice::<Info>(body) else {
        return d;
    };
    let slo = info.slo.as_ref();
    let sw = info.swift.as_ref();
    let m = d.meta;
    let meta = crate::swift::meta::MetaLimits {
        max_meta_name_length: sw
            .and_then(|s| s.max_meta_name_length)
            .unwrap_or(m.max_meta_name_length),
        max_meta_value_length: sw
            .and_then(|s| s.max_meta_value_length)
            .unwrap_or(m.max_meta_value_length),
        max_meta_count: sw
            .and_then(|s| s.max_meta_count)
            .unwrap_or(m.max_meta_count),
        max_meta_overall_size: sw
            .and_then(|s| s.max_meta_overall_size)
            .unwrap_or(m.max_meta_overall_size),
    };
    Limits {
        meta,
        slo: Some(slo.is_some()),
        max_file_size: sw
            .and_then(|s| s.max_file_size)
            .filter(|n| *n > 0)
            .unwrap_or(d.max_file_size),
        max_segments: slo
            .and_then(|s| s.max_manifest_segments)
            .filter(|n| *n > 0)
            .unwrap_or(d.max_segments),
        min_segment_size: slo
            .and_then(|s| s.min_segment_size)
            .unwrap_or(d.min_segment_size)
            .max(1),
    }
}

/// How an upload is split.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Plan {
    /// The size of the object.
    pub(crate) size: u64,
    /// The size of every segment but the last.
    pub(crate) segment_size: u64,
    /// The number of segments.
    pub(crate) count: u64,
}

impl Plan {
    /// Offset and length of segment `index`.
    pub(crate) fn segment(&self, index: u64) -> (u64, u64) {
        let offset = index * self.segment_size;
        (offset, self.segment_size.min(self.size - offset))
    }
}

impl Limits {
    /// The segment size for `wanted` (`openstack-segment-size`): without it,
    /// [`DEFAULT_SEGMENT_SIZE`] where the cluster shows Static Large Objects and its
    /// `max_file_size` otherwise; always within what the cluster allows.
    pub(crate) fn segment_size(&self, wanted: Option<u64>) -> u64 {
        let default = match self.slo {
            Some(true) => DEFAULT_SEGMENT_SIZE,
            _ => self.max_file_size,
        };
        wanted
            .unwrap_or(default)
            .min(self.max_file_size)
            .max(self.min_segment_size)
            .max(1)
    }

    /// Refuses a manifest on a cluster whose `/info` shows no Static Large Objects: there,
    /// Swift would store the manifest itself as the object, in place of the one it replaces.
    pub(crate) fn check_slo(&self, size: u64) -> Result<()> {
        if self.slo == Some(false) {
            return Err(Error::new(
                ErrorKind::TooLarge,
                format!(
                    "an object of {size} bytes needs segments, but this cluster offers no Static Large Objects (its /info lists no 'slo'), so nothing larger than {} bytes can be stored: ask its operator to enable the slo middleware",
                    self.max_file_size
                ),
            ));
        }
        Ok(())
    }
}

/// Decides whether an object of `size` bytes is segmented, and how. `wanted` is
/// `openstack-segment-size`. On a cluster without Static Large Objects, an object that fits
/// in one request is never segmented, and a larger one is refused.
pub(crate) fn plan(size: u64, wanted: Option<u64>, limits: &Limits) -> Result<Option<Plan>> {
    if limits.slo == Some(false) {
        if size <= limits.max_file_size {
            if wanted.is_some_and(|w| size > w) {
                log::info!("this cluster offers no Static Large Objects: {size} bytes go up in one request");
            }
            return Ok(None);
        }
        limits.check_slo(size)?;
    }
    let mut segment_size = limits.segment_size(wanted);
    if size <= segment_size {
        return Ok(None);
    }
    let mut count = size.div_ceil(segment_size);
    if count > limits.max_segments {
        // More segments than a manifest may list: larger segments, as far as the cluster allows.
        let larger = size.div_ceil(limits.max_segments);
        if larger > limits.max_file_size {
            return Err(Error::new(
                ErrorKind::TooLarge,
                format!(
                    "an object of {size} bytes needs more than {} segments of the cluster's largest size ({} bytes): Swift cannot store it",
                    limits.max_segments, limits.max_file_size
                ),
            ));
        }
        log::info!(
            "{size} bytes in segments of {segment_size} would need {count} segments, more than the cluster's {}: using segments of {larger} bytes",
            limits.max_segments
        );
        segment_size = larger;
        count = size.div_ceil(segment_size);
    }
    Ok(Some(Plan {
        size,
        segment_size,
        count,
    }))
}

/// What an existing object is made of, beyond its own data.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Parts {
    /// A Static Large Object's segments.
    Static(Vec<SegmentRef>),
    /// A Dynamic Large Object: every object of `container` whose name starts with `prefix`.
    Dynamic {
        /// The segments' container.
        container: String,
        /// Their common name prefix.
        prefix: String,
    },
}

/// Which of `old`'s segments (container, name) an object now made of `now` still uses, so
/// that removing `old`'s parts spares them; `None` when `old` cannot be removed safely at all
/// (both are dynamic with overlapping prefixes: the same segments, maybe).
pub(crate) fn still_used(old: &Parts, now: Option<&Parts>) -> Option<HashSet<(String, String)>> {
    let overlaps = |a: &str, b: &str| a.starts_with(b) || b.starts_with(a);
    match (old, now) {
        (_, None) => Some(HashSet::new()),
        (_, Some(Parts::Static(refs))) => Some(
            refs.iter()
                .map(|r| (r.container.clone(), r.name.clone()))
                .collect(),
        ),
        (Parts::Static(refs), Some(Parts::Dynamic { container, prefix })) => Some(
            refs.iter()
                .filter(|r| &r.container == container && r.name.starts_with(prefix.as_str()))
                .map(|r| (r.container.clone(), r.name.clone()))
                .collect(),
        ),
        (
            Parts::Dynamic { container, prefix },
            Some(Parts::Dynamic {
                container: c2,
                prefix: p2,
            }),
        ) => (container != c2 || !overlaps(prefix, p2)).then(HashSet::new),
    }
}

/// Per-destination knowledge about large objects.
#[derive(Default)]
pub(crate) struct LargeState {
    limits: std::sync::OnceLock<Limits>,
    /// When the segment container was last found missing; `Some(None)` once it is known to
    /// exist.
    segments_absent: Mutex<Option<Option<Instant>>>,
}

impl Swift {
    /// The cluster's limits: `/info`, read once per destination (Swift's defaults when the
    /// cluster does not publish it).
    pub(crate) fn limits(&self) -> Result<Limits> {
        if let Some(l) = self.large.limits.get() {
            return Ok(*l);
        }
        let what = "reading the cluster's limits (/info)";
        let mut exchange = Plain::new(&[], |resp: crate::http::driver::Response, _| {
            if !resp.status().is_success() {
                log::info!(
                    "{what}: HTTP {}; assuming Swift's defaults",
                    resp.status().as_u16()
                );
                return Ok(Limits::default());
            }
            let body =
                read_bounded(resp, 1 << 20).map_err(|e| answer::transport_failure(what, &e))?;
            Ok(parse_info(&body))
        });
        let limits = self.send(
            what,
            Method::GET,
            Target::Info,
            Some(self.config.timeouts.short),
            &mut exchange,
        )?;
        log::debug!("{what}: {limits:?}");
        Ok(*self.large.limits.get_or_init(|| limits))
    }

    /// How an object of `size` bytes is uploaded: `None` for one request.
    pub(crate) fn plan(&self, size: u64) -> Result<Option<Plan>> {
        let wanted = self.config.large.segment_size;
        match wanted {
            Some(w) if size <= w => return Ok(None),
            None if size <= NEVER_SEGMENTED => return Ok(None),
            _ => {}
        }
        plan(size, wanted, &self.limits()?)
    }

    /// The target of a segment.
    pub(crate) fn segment_target<'a>(&'a self, name: &'a str) -> Target<'a> {
        Target::In {
            container: &self.config.large.segment_container,
            object: Some(name),
            query: None,
        }
    }

    /// Whether the segment container may hold segments (cached: a HEAD at most once a minute
    /// while it is missing, none once it is known to exist).
    fn segments_may_exist(&self) -> bool {
        let mut state = self
            .large
            .segments_absent
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        match *state {
            Some(None) => return true,
            Some(Some(since)) if since.elapsed() < ABSENCE_KEPT => return false,
            _ => {}
        }
        let container = &self.config.large.segment_container;
        let exists = self.exists(Target::In {
            container,
            object: None,
            query: None,
        });
        *state = match exists {
            Some(false) => Some(Some(Instant::now())),
            _ => Some(None),
        };
        exists != Some(false)
    }

    /// Creates the segment container when it is missing, with the storage policy of the
    /// destination's container.
    pub(crate) fn ensure_segment_container(&self) -> Result<()> {
        let container = &self.config.large.segment_container;
        let target = Target::In {
            container,
            object: None,
            query: None,
        };
        if self.exists(target) == Some(true) {
            self.segments_known_to_exist();
            return Ok(());
        }
        let what = format!("creating the segment container '{container}'");
        let main = self.request(
            &what,
            Method::HEAD,
            Target::Container(None),
            self.config.timeouts.short,
            &[],
        )?;
        let policy = main
            .headers()
            .get("x-storage-policy")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let headers: Vec<(&'static str, &str)> = match &policy {
            Some(p) => vec![("X-Storage-Policy", p.as_str())],
            None => Vec::new(),
        };
        let resp = self.request(
            &what,
            Method::PUT,
            target,
            self.config.timeouts.short,
            &headers,
        )?;
        if !resp.status().is_success() {
            return Err(answer::swift_error(
                &what,
                resp.status().as_u16(),
                resp.headers(),
                About::Container(container),
            ));
        }
        log::info!("{what}: done");
        self.segments_known_to_exist();
        Ok(())
    }

    fn segments_known_to_exist(&self) {
        *self
            .large
            .segments_absent
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(None);
    }

    /// What the object `full` is made of, when it is a large object; `None` for an ordinary or
    /// a missing object. `always` asks even when the segment container does not exist (for a
    /// delete, which must find segments anywhere); uploads ask only when it does. What this
    /// says decides deletions, so it is asked of the newest copy (`X-Newest`): a replica that
    /// missed the last write may answer otherwise.
    pub(crate) fn parts_of(&self, full: &str, always: bool) -> Result<Option<Parts>> {
        if !always && !self.segments_may_exist() {
            return Ok(None);
        }
        let what = format!("reading the metadata of '{full}'");
        let resp = self.request(
            &what,
            Method::HEAD,
            Target::Object(full),
            self.config.timeouts.short,
            &[NEWEST],
        )?;
        match resp.status().as_u16() {
            200..=299 => {}
            404 => return Ok(None),
            _ => return Err(self.object_failure(&what, &resp, full)),
        }
        let h = resp.headers();
        if let Some(m) = h.get("x-object-manifest").and_then(|v| v.to_str().ok()) {
            let decoded = percent_encoding::percent_decode_str(m)
                .decode_utf8_lossy()
                .into_owned();
            return Ok(match decoded.split_once('/') {
                Some((container, prefix)) if !container.is_empty() => Some(Parts::Dynamic {
                    container: container.to_string(),
                    prefix: prefix.to_string(),
                }),
                _ => None,
            });
        }
        if !headers::is_true(h, "x-static-large-object") {
            return Ok(None);
        }
        Ok(Some(Parts::Static(self.manifest_of(full)?)))
    }

    /// The segments a Static Large Object's manifest lists (the newest copy's).
    pub(crate) fn manifest_of(&self, full: &str) -> Result<Vec<SegmentRef>> {
        let what = format!("reading the manifest of '{full}'");
        let query = "multipart-manifest=get";
        let mut exchange = Plain::new(&[NEWEST], |resp: crate::http::driver::Response, _| {
            if !resp.status().is_success() {
                return Err(crate::http::TryError::Fail(
                    self.object_failure(&what, &resp, full),
                ));
            }
            read_bounded(resp, manifest::MAX_MANIFEST)
                .map_err(|e| answer::transport_failure(&what, &e))
        });
        let body = self.send(
            &what,
            Method::GET,
            Target::In {
                container: &self.config.container,
                object: Some(full),
                query: Some(query),
            },
            Some(self.config.timeouts.list),
            &mut exchange,
        )?;
        parse_manifest(&body).map_err(|e| {
            Error::new(
                ErrorKind::Server,
                format!("{what}: the manifest is not what Swift sends: {e}"),
            )
        })
    }

    /// The segments (container, name) of the large object `parts`: a Static Large Object's
    /// manifest entries, or the objects in a Dynamic Large Object's prefix *folder* (names that
    /// continue the prefix with `/`, or any when the prefix ends with one: `backup` would also
    /// match `backup-2025`, another file). `spare` (container, name) are never counted, nor
    /// anything when the prefix is empty (every object of the container).
    pub(crate) fn segments_of(
        &self,
        parts: Parts,
        spare: &HashSet<(String, String)>,
    ) -> Result<Vec<(String, String)>> {
        let mut found: Vec<(String, String)> = Vec::new();
        match parts {
            Parts::Static(refs) => found.extend(refs.into_iter().map(|r| (r.container, r.name))),
            Parts::Dynamic { container, prefix } => {
                if prefix.is_empty() {
                    return Err(Error::invalid_argument(format!(
                        "the dynamic large object's segments are every object of '{container}': nothing is done to them"
                    )));
                }
                let folder =
                    |name: &str| prefix.ends_with('/') || name[prefix.len()..].starts_with('/');
                let mut skipped = 0usize;
                self.list_pages_in(&container, &prefix, "", true, |page| {
                    for e in page {
                        if folder(&e.name) {
                            found.push((container.clone(), e.name));
                        } else {
                            skipped += 1;
                        }
                    }
                    Ok(true)
                })?;
                if skipped > 0 {
                    log::info!("{skipped} objects of '{container}' start with the segment prefix '{prefix}' but are not in its folder: they are not its segments");
                }
            }
        }
        found.retain(|k| !spare.contains(k));
        Ok(found)
    }

    /// Gives every segment of the large object `full` the expiry `at` (an absolute
    /// `X-Delete-At`), or none: a POST to each, which replaces the segment's own metadata
    /// (segments this library writes have none). The manifest itself is not touched.
    pub(crate) fn set_segments_expiry(
        &self,
        full: &str,
        parts: Parts,
        at: Option<crate::swift::meta::Expiry>,
    ) -> Result<()> {
        let spare = HashSet::from([(self.config.container.clone(), full.to_string())]);
        let segments = self.segments_of(parts, &spare)?;
        let headers: Vec<_> = at.map(|e| e.header()).into_iter().collect();
        for (container, name) in &segments {
            let what = format!("setting the expiry of the segment '{container}/{name}'");
            let target = Target::In {
                container,
                object: Some(name),
                query: None,
            };
            let resp = self.request_with(
                &what,
                Method::POST,
                target,
                self.config.timeouts.short,
                &[],
                &headers,
            )?;
            if !resp.status().is_success() {
                return Err(self.failure(&what, &resp, target));
            }
        }
        log::info!(
            "set the expiry of the {} segments of '{full}'",
            segments.len()
        );
        Ok(())
    }

    /// Deletes the segments of `old` (what an overwritten or deleted object was made of),
    /// except those in `keep` (segment container, name), which the new object uses. Failures
    /// are logged, not returned: the object itself is already what it should be, and a
    /// leftover segment costs space, not data.
    pub(crate) fn remove_parts(&self, old: Parts, keep: &HashSet<(String, String)>) {
        if self.config.large.leave_segments {
            log::info!("leaving the old segments in place (openstack-leave-segments)");
            return;
        }
        let doomed = match self.segments_of(old, keep) {
            Ok(d) => d,
            Err(e) => {
                log::warning!("the old segments were left: {e}");
                return;
            }
        };
        let mut left = 0usize;
        for (container, name) in doomed {
            let target = Target::In {
                container: &container,
                object: Some(&name),
                query: None,
            };
            if let Err(e) = self.delete_in(target, &name) {
                log::warning!("could not delete the old segment '{container}/{name}': {e}");
                left += 1;
            }
        }
        if left > 0 {
            log::warning!("{left} old segments were left behind");
        }
    }

    /// Deletes the segment container when it holds nothing (any more); otherwise, or when it
    /// does not exist, leaves it.
    pub(crate) fn remove_segment_container_if_empty(&self) {
        let container = &self.config.large.segment_container;
        let target = Target::In {
            container,
            object: None,
            query: None,
        };
        match self.request(
            "deleting the segment container",
            Method::DELETE,
            target,
            self.config.timeouts.short,
            &[],
        ) {
            Ok(resp) if resp.status().is_success() => {
                log::info!("deleted the segment container '{container}', left empty")
            }
            Ok(resp) if resp.status().as_u16() == 409 => {
                log::info!("the segment container '{container}' still holds segments: it stays")
            }
            _ => {}
        }
    }

    /// Deletes the object `name` at `target`; a 404 counts as done.
    pub(crate) fn delete_in(&self, target: Target, name: &str) -> Result<()> {
        let what = format!("deleting '{name}'");
        let resp = self.request(
            &what,
            Method::DELETE,
            target,
            self.config.timeouts.short,
            &[],
        )?;
        match resp.status().as_u16() {
            200..=299 | 404 => Ok(()),
            _ => Err(self.failure(&what, &resp, target)),
        }
    }

    /// Deletes the object `full` with whatever makes it up: the segments of a large object
    /// (unless `openstack-leave-segments`), after the object itself.
    pub(crate) fn delete_with_parts(&self, full: &str) -> Result<()> {
        let parts = self.parts_of(full, true)?;
        self.delete_object(full)?;
        if let Some(parts) = parts {
            self.remove_parts(parts, &HashSet::new());
        }
        Ok(())
    }
}

/// Reads a body of at most `limit` bytes.
pub(crate) fn read_bounded(
    resp: crate::http::driver::Response,
    limit: u64,
) -> std::result::Result<Vec<u8>, crate::http::driver::SendError> {
    use std::io::Read;
    let mut out = Vec::new();
    resp.take(limit)
        .read_to_end(&mut out)
        .map_err(crate::http::driver::SendError::Body)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const L: Limits = Limits {
        max_file_size: 100,
        max_segments: 10,
        min_segment_size: 5,
        meta: crate::swift::meta::MetaLimits::SWIFT,
        slo: Some(true),
    };

    #[test]
    fn objects_up_to_the_segment_size_stay_whole() {
        assert_eq!(plan(100, None, &L).unwrap(), None);
        assert_eq!(plan(40, Some(40), &L).unwrap(), None);
        assert_eq!(
            plan(101, None, &L).unwrap(),
            Some(Plan {
                size: 101,
                segment_size: 100,
                count: 2
            })
        );
        // A wanted size above the cluster's limit is held to it; below the minimum, raised.
        assert_eq!(plan(150, Some(500), &L).unwrap().unwrap().segment_size, 100);
        assert_eq!(plan(12, Some(2), &L).unwrap().unwrap().segment_size, 5);
    }

    #[test]
    fn without_a_segment_size_files_over_128_mib_are_segmented_where_the_cluster_has_slo() {
        const MIB: u64 = 1 << 20;
        let slo = parse_info(br#"{"swift":{"max_file_size":5368709122},"slo":{}}"#);
        assert_eq!(plan(128 * MIB, None, &slo).unwrap(), None);
        let p = plan(1024 * MIB, None, &slo).unwrap().unwrap();
        assert_eq!((p.segment_size, p.count), (128 * MIB, 8));
        // Held to a smaller max_file_size.
        let small = Limits {
            max_file_size: 32 * MIB,
            ..slo
        };
        assert_eq!(small.segment_size(None), 32 * MIB);
        // /info unreadable: only what cannot go in one request is segmented.
        let unknown = Limits::default();
        assert_eq!(plan(1024 * MIB, None, &unknown).unwrap(), None);
        assert!(plan(6 * 1024 * MIB, None, &unknown).unwrap().is_some());
    }

    #[test]
    fn without_slo_objects_go_whole_or_are_refused() {
        let none = Limits {
            slo: Some(false),
            ..L
        };
        // An explicit segment size cannot make Swift store a manifest as the object.
        assert_eq!(plan(60, Some(10), &none).unwrap(), None);
        assert_eq!(plan(100, None, &none).unwrap(), None);
        let e = plan(101, Some(10), &none).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TooLarge);
        assert!(e.to_string().contains("slo middleware"), "{e}");
        assert!(none.check_slo(10).is_err() && L.check_slo(10).is_ok());
        assert!(Limits::default().check_slo(10).is_ok());
    }

    #[test]
    fn too_many_segments_means_larger_segments_or_too_large() {
        let p = plan(200, Some(10), &L).unwrap().unwrap();
        assert_eq!((p.segment_size, p.count), (20, 10));
        assert_eq!(p.segment(9), (180, 20));
        let e = plan(1001, None, &L).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TooLarge);
        let huge = plan(u64::MAX, Some(1), &Limits::default()).unwrap_err();
        assert_eq!(huge.kind(), ErrorKind::TooLarge);
    }

    #[test]
    fn info_fills_what_it_says() {
        let l = parse_info(br#"{"swift":{"max_file_size":33554432,"max_meta_count":3},"slo":{"max_manifest_segments":20,"min_segment_size":2}}"#);
        assert_eq!(
            l,
            Limits {
                max_file_size: 33554432,
                max_segments: 20,
                min_segment_size: 2,
                meta: crate::swift::meta::MetaLimits {
                    max_meta_count: 3,
                    ..Default::default()
                },
                slo: Some(true),
            }
        );
        assert_eq!(parse_info(b"not json"), Limits::default());
        assert_eq!(
            parse_info(br#"{"swift":{"max_file_size":0}}"#),
            Limits {
                slo: Some(false),
                ..Limits::default()
            }
        );
    }
}
