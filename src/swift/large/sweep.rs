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

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use reqwest::Method;

use super::ownership::{self, Owned};
use super::parts::References;
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
    /// Whether it has a pending mark, and the mark's time in the listing.
    mark: Option<SystemTime>,
    /// Whether it has a renamed mark.
    renamed: bool,
}

/// Whether any manifest of `refs` references the set `set` (whose segments are `found`).
fn covered(refs: &References, set: &str, found: &Found) -> bool {
    found.segments.iter().any(|(n, _)| refs.has(n)) || refs.prefixes_cover(set)
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
                let (set, is_mark, is_renamed) = match ownership::owned(&container, &e.name) {
                    Some(Owned::Segment(set)) => (set.to_string(), false, false),
                    Some(Owned::Mark(set)) => (set.to_string(), true, false),
                    Some(Owned::Renamed(set)) => (set.to_string(), false, true),
                    None => continue,
                };
                let f = sets.entry(set).or_default();
                match e.last_modified {
                    Some(t) => f.newest = Some(f.newest.map_or(t, |n| n.max(t))),
                    None => f.untimed = true,
                }
                if is_mark {
                    f.mark = Some(e.last_modified.unwrap_or(SystemTime::UNIX_EPOCH));
                } else if is_renamed {
                    f.renamed = true;
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
            if covered(&refs, &set, &found) {
                continue;
            }
            if let Some(object) = uploaded_as(&container, &set) {
                if self.references(object, &set) != Some(false) {
                    continue;
                }
            }
            let mark = ownership::pending_mark(&set);
            if let Some(listed) = found.mark {
                if !self.mark_unchanged(&mark, listed) {
                    continue;
                }
            }
            let mut names: Vec<String> = found.segments.iter().map(|(n, _)| n.clone()).collect();
            let bytes: u64 = found.segments.iter().map(|(_, b)| *b).sum();
            if found.mark.is_some() {
                names.push(mark);
            }
            if found.renamed {
                names.push(ownership::renamed_mark(&set));
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

    /// Whether the mark `mark` is still the one listed at `listed` (a resuming upload puts it
    /// again, which makes its set young); a mark gone counts as unchanged, one that cannot be
    /// read as changed.
    fn mark_unchanged(&self, mark: &str, listed: SystemTime) -> bool {
        let resp = self.request(
            "reading a pending mark",
            Method::HEAD,
            self.segment_target(mark),
            self.config.timeouts.short,
            &[("X-Newest", "true")],
        );
        match resp {
            Ok(r) if r.status().as_u16() == 404 => true,
            Ok(r) if r.status().is_success() => crate::headers::last_modified(r.headers())
                .is_some_and(|t| t <= listed + Duration::from_millis(1)),
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
