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
pub(crate) mod parts;
mod put;
mod segmented;
mod stream;
mod sweep;

use std::time::{Duration, Instant};

use reqwest::Method;

pub(crate) use crate::swift::info::{parse_info, Limits};
pub(crate) use crate::swift::request::read_bounded;
pub(crate) use manifest::{parse_manifest, MAX_MANIFEST};
pub(crate) use parts::{still_used, Parts};

use super::request::{Swift, Target};
use crate::error::{Error, ErrorKind, Result};
use crate::http::answer::{self, About};
use crate::lock::Recover;
use crate::log;

/// Objects this small are never segmented without an explicit segment size (no cluster limits
/// a single object to less), so small uploads need no `/info`.
const NEVER_SEGMENTED: u64 = 1024 * 1024;
/// The segment size without `openstack-segment-size`, on a cluster whose `/info` shows Static
/// Large Objects (held to its `max_file_size`). Larger files go up as segments sent in parallel,
/// each hashed while it is sent and checked by Swift through the manifest, instead of a pass
/// over the whole file before a single request; a failure costs one segment, not the file.
pub(crate) const DEFAULT_SEGMENT_SIZE: u64 = 128 * 1024 * 1024;
/// Asks Swift for the newest of an object's copies (reads that decide a deletion).
pub(crate) const NEWEST: (&str, &str) = ("X-Newest", "true");
/// How long "the segment container does not exist" is believed before it is asked again.
const ABSENCE_KEPT: Duration = Duration::from_secs(60);

/// Whether the cached state of the segment container (None: not asked yet; `Some(None)`: it
/// exists; `Some(Some(t))`: found missing at `t`) says it was missing less than
/// [`ABSENCE_KEPT`] ago.
fn absent_recently(state: &Option<Option<Instant>>) -> bool {
    matches!(state, Some(Some(since)) if since.elapsed() < ABSENCE_KEPT)
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
        // A minimum above the cluster's largest object (an /info that contradicts itself)
        // cannot be met: the largest object wins.
        wanted
            .unwrap_or(default)
            .min(self.max_file_size)
            .max(self.min_segment_size.min(self.max_file_size))
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

impl Swift {
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

    /// Whether the segment container was found missing less than [`ABSENCE_KEPT`] ago (what
    /// [`Swift::segments_may_exist`] last learnt), without asking the cluster.
    fn segments_known_absent(&self) -> bool {
        absent_recently(&self.cluster.segments_absent.lock().recover())
    }

    /// Whether the segment container may hold segments (cached: a HEAD at most once a minute
    /// while it is missing, none once it is known to exist).
    fn segments_may_exist(&self) -> bool {
        let mut state = self.cluster.segments_absent.lock().recover();
        if *state == Some(None) {
            return true;
        }
        if absent_recently(&state) {
            return false;
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
        *self.cluster.segments_absent.lock().recover() = Some(None);
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
        bulk_delete: None,
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
        // An /info whose minimum segment is above its largest object: the largest object wins.
        let odd = Limits {
            min_segment_size: u64::MAX,
            ..L
        };
        assert_eq!(odd.segment_size(Some(1)), L.max_file_size);
        let huge = plan(u64::MAX, Some(1), &Limits::default()).unwrap_err();
        assert_eq!(huge.kind(), ErrorKind::TooLarge);
    }
}
