//! The sweep: removes the segments that no manifest references (an upload killed and never
//! resumed leaves them, and they cost money forever).
//!
//! Only sets this library wrote for the destination's container are looked at
//! ([`super::ownership::owned`]): other writers', other containers' and earlier versions'
//! segments are never touched. A set goes when every one of these holds: no object of the
//! container references it (every Static Large Object's manifest is read, every Dynamic Large
//! Object's prefix is taken as a reference to all it covers); nothing of it, its pending mark
//! included, is younger than the grace period (an upload in progress elsewhere puts segments
//! and a fresh mark); and, asked once more just before, the object it was uploaded as does not
//! reference it and its mark is still old.

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, SystemTime};

use reqwest::Method;

use super::ownership::{self, Owned};
use super::Parts;
use crate::error::{ErrorKind, Result};
use crate::log;
use crate::swift::request::Swift;
use crate::swift::types::SweepReport;

/// One set found in the segment container.
#[derive(Default)]
struct Found {
    /// Its segments: name and size.
    segments: Vec<(String, u64)>,
    /// The newest time of anything in it (segments and mark); `None` when one has no time.
    newest: Option<SystemTime>,
    /// Whether one of its names had no time (then it counts as young).
    untimed: bool,
    /// Whether it has a pending mark.
    mark: bool,
}

/// What the manifests of the container reference.
#[derive(Default)]
struct References {
    /// Segment names (in the segment container) a Static Large Object lists.
    names: HashSet<String>,
    /// Prefixes (in the segment container) a Dynamic Large Object covers.
    prefixes: Vec<String>,
}

impl References {
    fn add(&mut self, parts: Parts, segment_container: &str) {
        match parts {
            Parts::Static(refs) => self.names.extend(
                refs.into_iter()
                    .filter(|r| r.container == segment_container)
                    .map(|r| r.name),
            ),
            Parts::Dynamic { container, prefix } if container == segment_container => {
                self.prefixes.push(prefix)
            }
            Parts::Dynamic { .. } => {}
        }
    }

    fn cover(&self, set: &str, found: &Found) -> bool {
        found.segments.iter().any(|(n, _)| self.names.contains(n))
            || self
                .prefixes
                .iter()
                .any(|p| set.starts_with(p.as_str()) || p.starts_with(set))
    }
}

/// The object a set was uploaded as (its name is part of the set's), unless it was too long
/// and hashed: then `None`.
fn uploaded_as<'a>(container: &str, set: &'a str) -> Option<&'a str> {
    let rest = set.strip_prefix(container)?.strip_prefix('/')?;
    let rest = rest.strip_suffix('/')?;
    // <object>/slo/<stamp>/<size>/<segment size>/<id>
    let mut parts = rest.rsplitn(6, '/');
    for _ in 0..5 {
        parts.next()?;
    }
    parts.next()
}

impl Swift {
    /// Removes the sets of segments of the destination's container that no manifest references
    /// and that are older than `older_than`; reports how many segments (and marks) went and
    /// their bytes. See the module's documentation for what is never touched.
    pub(crate) fn sweep_segments(&self, older_than: Duration) -> Result<SweepReport> {
        let segc = self.config.large.segment_container.clone();
        let container = self.config.container.clone();
        let cutoff = SystemTime::now()
            .checked_sub(older_than)
            .unwrap_or(SystemTime::UNIX_EPOCH);
        let mut sets: BTreeMap<String, Found> = BTreeMap::new();
        let listed = self.list_pages_in(&segc, &format!("{container}/"), "", true, |page| {
            for e in page {
                let (set, is_mark) = match ownership::owned(&container, &e.name) {
                    Some(Owned::Segment(set)) => (set.to_string(), false),
                    Some(Owned::Mark(set)) => (set.to_string(), true),
                    None => continue,
                };
                let f = sets.entry(set).or_default();
                match e.last_modified {
                    Some(t) => f.newest = Some(f.newest.map_or(t, |n| n.max(t))),
                    None => f.untimed = true,
                }
                if is_mark {
                    f.mark = true;
                } else {
                    f.segments.push((e.name, e.size.unwrap_or(0)));
                }
            }
            Ok(true)
        });
        match listed {
            Err(e) if e.kind() == ErrorKind::ContainerNotFound || e.http_status() == Some(404) => {
                log::info!(
                    "sweep: the segment container '{segc}' does not exist: nothing to sweep"
                );
                return Ok(SweepReport::default());
            }
            other => other?,
        }
        let old: Vec<(String, Found)> = sets
            .into_iter()
            .filter(|(_, f)| !f.untimed && f.newest.is_some_and(|t| t < cutoff))
            .collect();
        if old.is_empty() {
            log::info!("sweep: no set of segments in '{segc}' is older than the grace period");
            return Ok(SweepReport::default());
        }
        let refs = self.references_in_container(&segc)?;
        let mut report = SweepReport::default();
        for (set, found) in old {
            if refs.cover(&set, &found) {
                continue;
            }
            if let Some(object) = uploaded_as(&container, &set) {
                if self.references(object, &set) != Some(false) {
                    continue;
                }
            }
            let mark = ownership::pending_mark(&set);
            if found.mark && !self.mark_still_old(&mark, cutoff) {
                continue;
            }
            let mut names: Vec<String> = found.segments.iter().map(|(n, _)| n.clone()).collect();
            let bytes: u64 = found.segments.iter().map(|(_, b)| *b).sum();
            if found.mark {
                names.push(mark);
            }
            let wanted = names.len();
            let gone = self.delete_all_in(&segc, names);
            log::info!(
                "sweep: removed {gone} of {wanted} objects of the unreferenced set '{segc}/{set}'"
            );
            report.removed += gone as u64;
            if gone == wanted {
                report.bytes += bytes;
            }
        }
        log::info!(
            "sweep: removed {} segments ({} bytes) from '{segc}'",
            report.removed,
            report.bytes
        );
        Ok(report)
    }

    /// Everything the objects of the destination's container reference in `segc`. Static
    /// Large Objects are found by the listing's `slo_etag`; zero-byte objects may be Dynamic
    /// ones and are asked. A cluster whose listings mark no Static Large Object at all has every
    /// object asked (a manifest must never be missed).
    fn references_in_container(&self, segc: &str) -> Result<References> {
        let mut candidates: Vec<(String, bool)> = Vec::new();
        let mut marked = false;
        self.list_pages("", "", true, |page| {
            for e in page {
                let slo = e.maybe_large && e.size != Some(0);
                marked |= slo;
                candidates.push((e.name, e.maybe_large));
            }
            Ok(true)
        })?;
        let mut refs = References::default();
        for (name, maybe_large) in candidates {
            if !maybe_large && marked {
                continue;
            }
            if let Some(parts) = self.parts_of(&name, true)? {
                refs.add(parts, segc);
            }
        }
        Ok(refs)
    }

    /// Whether the mark `mark` is still older than `cutoff` (a resuming upload puts it again);
    /// a mark gone counts as old, one that cannot be read as young.
    fn mark_still_old(&self, mark: &str, cutoff: SystemTime) -> bool {
        let resp = self.request(
            "reading a pending mark",
            Method::HEAD,
            self.segment_target(mark),
            self.config.timeouts.short,
            &[("X-Newest", "true")],
        );
        match resp {
            Ok(r) if r.status().as_u16() == 404 => true,
            Ok(r) if r.status().is_success() => {
                crate::headers::last_modified(r.headers()).is_some_and(|t| t < cutoff)
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_names_the_object_it_was_uploaded_as() {
        let set = ownership::set_prefix(
            &ownership::upload_root("c", "dir/a/slo/x.bin", "17.5", 3, 1),
            "abcdefghijkl",
        );
        assert_eq!(uploaded_as("c", &set), Some("dir/a/slo/x.bin"));
        assert_eq!(uploaded_as("d", &set), None);
    }
}
