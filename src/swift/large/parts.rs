//! What an existing object is made of (a Static Large Object's manifest, a Dynamic one's
//! prefix), read from the newest copy, and the removal of what an overwritten or deleted object
//! was made of: never a segment another object still references.

use std::collections::HashSet;

use reqwest::Method;

use super::manifest::{self, parse_manifest, SegmentRef};
use super::{ownership, read_bounded, NEWEST};
use crate::error::{Error, ErrorKind, Result};
use crate::headers;
use crate::http::answer;
use crate::log;
use crate::swift::request::{Plain, Swift, Target};

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

/// What the manifests of the container reference.
#[derive(Default)]
pub(crate) struct References {
    /// Segment names (in the segment container) a Static Large Object lists.
    names: HashSet<String>,
    /// Prefixes (in the segment container) a Dynamic Large Object covers.
    prefixes: Vec<String>,
}

impl References {
    /// Whether a Dynamic Large Object's prefix covers the set `set` (or a part of it).
    pub(crate) fn prefixes_cover(&self, set: &str) -> bool {
        self.prefixes
            .iter()
            .any(|p| set.starts_with(p.as_str()) || p.starts_with(set))
    }

    pub(crate) fn add(&mut self, parts: Parts, segment_container: &str) {
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

    /// Whether a manifest references the segment `name` (of the segment container asked for).
    pub(crate) fn has(&self, name: &str) -> bool {
        self.names.contains(name) || self.prefixes.iter().any(|p| name.starts_with(p.as_str()))
    }
}

impl Swift {
    /// Everything the objects of the destination's container reference in `segc`. Static
    /// Large Objects are found by the listing's `slo_etag`; zero-byte objects may be Dynamic
    /// ones and are asked. A cluster whose listings mark no Static Large Object at all has every
    /// object asked (a manifest must never be missed).
    pub(crate) fn references_in_container(&self, segc: &str) -> Result<References> {
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
        if self.versions_kept() {
            // Older versions are manifests too, and still read their segments.
            self.version_references(segc, &mut refs)?;
        }
        Ok(refs)
    }

    /// What the object `full` is made of, when it is a large object; `None` for an ordinary or
    /// a missing object. `always` asks even when the segment container does not exist (for a
    /// delete, which must find segments anywhere); uploads ask only when it does. What this
    /// says decides deletions, so it is asked of the newest copy (`X-Newest`): a replica that
    /// missed the last write may answer otherwise.
    pub(crate) fn parts_of(&self, full: &str, always: bool) -> Result<Option<Parts>> {
        self.parts_at(full, None, always)
    }

    /// [`Swift::parts_of`] the version `version` of `full` (the current one for `None`).
    pub(crate) fn parts_at(
        &self,
        full: &str,
        version: Option<&str>,
        always: bool,
    ) -> Result<Option<Parts>> {
        if !always && !self.segments_may_exist() {
            return Ok(None);
        }
        let what = format!("reading the metadata of '{full}'");
        let version_query =
            version.map(|v| format!("version-id={}", crate::swift::names::encode_segment(v)));
        let target = match &version_query {
            Some(q) => Target::In {
                container: &self.config.container,
                object: Some(full),
                query: Some(q),
            },
            None => Target::Object(full),
        };
        let resp = self.request(
            &what,
            Method::HEAD,
            target,
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
        Ok(Some(Parts::Static(self.manifest_at(full, version)?)))
    }

    /// The segments a Static Large Object's manifest lists (the newest copy's).
    pub(crate) fn manifest_of(&self, full: &str) -> Result<Vec<SegmentRef>> {
        self.manifest_at(full, None)
    }

    /// [`Swift::manifest_of`] the version `version` of `full` (the current one for `None`).
    fn manifest_at(&self, full: &str, version: Option<&str>) -> Result<Vec<SegmentRef>> {
        let what = format!("reading the manifest of '{full}'");
        let query = match version {
            Some(v) => format!(
                "multipart-manifest=get&version-id={}",
                crate::swift::names::encode_segment(v)
            ),
            None => "multipart-manifest=get".to_string(),
        };
        let query = query.as_str();
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
        let Some(doomed) = self.doomed_parts(old, keep) else {
            return;
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

    /// The objects (container, name) that removing `old` (but none of `keep`) deletes, by the
    /// rules of [`Swift::remove_parts`]; `None` when nothing may go (`openstack-leave-segments`,
    /// or what `old` is made of could not be told).
    pub(crate) fn doomed_parts(
        &self,
        old: Parts,
        keep: &HashSet<(String, String)>,
    ) -> Option<Vec<(String, String)>> {
        if self.config.large.leave_segments {
            log::info!("leaving the old segments in place (openstack-leave-segments)");
            return None;
        }
        if self.versions_kept() {
            log::info!(
                "leaving the old segments in place: the container keeps versions, and an older version still reads them"
            );
            return None;
        }
        match self
            .segments_of(old, keep)
            .and_then(|d| self.spare_shared(d))
        {
            Ok(d) => Some(d),
            Err(e) => {
                log::warning!("the old segments were left: {e}");
                None
            }
        }
    }

    /// Of the segments `doomed`, those that may go: the segments of a set marked renamed (see
    /// [`ownership`]) are spared when any manifest of the container still references the set
    /// (every manifest is read, once); when none does, its mark goes with it.
    fn spare_shared(&self, doomed: Vec<(String, String)>) -> Result<Vec<(String, String)>> {
        let mut sets: std::collections::BTreeMap<(String, String), Vec<String>> =
            Default::default();
        let mut out = Vec::new();
        for (container, name) in doomed {
            match ownership::set_of(&name).map(str::to_string) {
                Some(set) => sets.entry((container, set)).or_default().push(name),
                None => out.push((container, name)),
            }
        }
        let mut refs: std::collections::HashMap<String, References> = Default::default();
        for ((container, set), names) in sets {
            let mark = ownership::renamed_mark(&set);
            let marked = self.exists(Target::In {
                container: &container,
                object: Some(&mark),
                query: None,
            });
            match marked {
                Some(false) => {}
                None => {
                    log::warning!("whether the segments under '{container}/{set}' are shared by a rename could not be told: they stay");
                    continue;
                }
                Some(true) => {
                    if !refs.contains_key(&container) {
                        let found = self.references_in_container(&container)?;
                        refs.insert(container.clone(), found);
                    }
                    if names.iter().any(|n| refs[&container].has(n)) {
                        log::info!("the segments under '{container}/{set}' are shared with the copy of an unfinished rename: they stay");
                        continue;
                    }
                    out.push((container.clone(), mark));
                }
            }
            out.extend(names.into_iter().map(|n| (container.clone(), n)));
        }
        Ok(out)
    }

    /// Marks the sets of the Static Large Object `full` renamed (see [`ownership`]) before a
    /// rename copies its manifest; returns the marks (container, name) to remove afterwards.
    pub(crate) fn mark_renamed(&self, full: &str) -> Result<Vec<(String, String)>> {
        let Some(Parts::Static(refs)) = self.parts_of(full, false)? else {
            return Ok(Vec::new());
        };
        let sets: std::collections::BTreeSet<(String, String)> = refs
            .iter()
            .filter_map(|r| Some((r.container.clone(), ownership::set_of(&r.name)?.to_string())))
            .collect();
        let mut marks = Vec::new();
        for (container, set) in sets {
            let mark = ownership::renamed_mark(&set);
            self.put_mark_in(&container, &mark)?;
            marks.push((container, mark));
        }
        Ok(marks)
    }

    /// Removes the marks of [`Swift::mark_renamed`] once the rename is done.
    pub(crate) fn unmark(&self, marks: Vec<(String, String)>) {
        for (container, mark) in marks {
            let target = Target::In {
                container: &container,
                object: Some(&mark),
                query: None,
            };
            if let Err(e) = self.delete_in(target, &mark) {
                log::info!("could not remove the mark '{container}/{mark}' ({e}); the sweep removes it with its set");
            }
        }
    }

    /// Deletes the object `name` at `target`; a 404 counts as done. `Ok(true)` when it was
    /// there, `Ok(false)` when it was already gone.
    pub(crate) fn delete_in(&self, target: Target, name: &str) -> Result<bool> {
        let what = format!("deleting '{name}'");
        let resp = self.request(
            &what,
            Method::DELETE,
            target,
            self.config.timeouts.short,
            &[],
        )?;
        match resp.status().as_u16() {
            200..=299 => Ok(true),
            404 => Ok(false),
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
