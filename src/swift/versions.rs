//! Swift's object versioning (`X-Versions-Enabled`, Swift 2.24+): turning it on, listing an
//! object's versions, reading one, making one current again, and the rule that keeps the
//! segments of large objects whose older versions still use them.
//!
//! In a versioned container every put writes a new version and a delete writes a delete
//! marker; the older versions stay, each one readable by `?version-id=`. An older version of a
//! Static Large Object is its manifest, which still lists the segments it was made of: so while
//! a container is versioned (or ever was, or the destination asks for versioning), replacing or
//! deleting a large object keeps its segments ([`Swift::versions_kept`]), and the sweep counts
//! every version's manifest as a reference.

use std::io::Write;
use std::path::Path;

use reqwest::Method;
use serde::Deserialize;

use super::names::encode_segment;
use super::request::{Plain, Swift, Target};
use super::types::{Progress, Version};
use super::Destination;
use crate::error::{Error, ErrorKind, Result};
use crate::headers;
use crate::http::answer::{self, About};
use crate::http::driver::Response;
use crate::http::TryError;
use crate::log;

/// The content type of a delete marker in a versions listing.
const DELETE_MARKER: &str = "application/x-deleted;swift_versions_deleted=1";
/// The longest version id accepted (Swift's are about 16 characters).
const MAX_VERSION_ID: usize = 128;

/// Checks a version id given by the host: not empty, at most 128 bytes, and only ASCII
/// letters, digits, `.`, `-` and `_` (Swift's ids are timestamps such as `1796585440.42492`,
/// or `null`). Anything else (`&`, `/`, NUL, spaces) is refused before any request.
pub(crate) fn check_version_id(id: &str) -> Result<()> {
    let fine = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_');
    if id.is_empty() || id.len() > MAX_VERSION_ID || !id.bytes().all(fine) {
        let shown: String = id
            .chars()
            .take(40)
            .collect::<String>()
            .escape_debug()
            .to_string();
        return Err(Error::invalid_argument(format!(
            "'{shown}' is not a version id: use one that list_versions gave (such as '1796585440.42492')"
        )));
    }
    Ok(())
}

/// One row of a `?versions` listing.
#[derive(Deserialize)]
struct Row {
    name: Option<String>,
    subdir: Option<String>,
    version_id: Option<String>,
    bytes: Option<u64>,
    last_modified: Option<String>,
    #[serde(default)]
    is_latest: bool,
    content_type: Option<String>,
    slo_etag: Option<String>,
}

/// A version as the whole-container listing gives it, for the sweep.
pub(crate) struct Listed {
    /// The object's full name.
    pub(crate) name: String,
    /// Its version.
    pub(crate) version: Version,
    /// Whether it may be a large object (a Static Large Object's `slo_etag`, or zero bytes).
    pub(crate) maybe_large: bool,
    /// Whether the listing marks it as a Static Large Object.
    pub(crate) marked_slo: bool,
}

/// Where the next page of a `?versions` listing starts: the last name and its version id.
type NextPage = Option<(String, String)>;

/// Reads one page of a `?versions` listing: the versions and the (marker, version marker) of
/// the next page, `None` after the last.
fn parse_page(body: &[u8]) -> std::result::Result<(Vec<Listed>, NextPage), String> {
    let rows: Vec<Row> = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    let next = rows
        .iter()
        .rev()
        .find_map(|r| Some((r.name.clone()?, r.version_id.clone()?)));
    let mut out = Vec::new();
    for r in rows {
        if r.subdir.is_some() {
            continue;
        }
        let (Some(name), Some(version_id)) = (r.name, r.version_id) else {
            continue;
        };
        let is_delete_marker = r
            .content_type
            .as_deref()
            .is_some_and(|t| t.replace(' ', "").eq_ignore_ascii_case(DELETE_MARKER));
        out.push(Listed {
            name,
            maybe_large: !is_delete_marker && (r.slo_etag.is_some() || r.bytes == Some(0)),
            marked_slo: r.slo_etag.is_some(),
            version: Version {
                version_id,
                size: r.bytes,
                last_modified: r
                    .last_modified
                    .as_deref()
                    .and_then(crate::time::parse_timestamp),
                is_current: r.is_latest,
                is_delete_marker,
            },
        });
    }
    Ok((out, next))
}

impl Swift {
    /// Every version of the objects whose names start with `prefix`, page by page (`marker`
    /// and `version_marker`), in Swift's order (by name, newest version first); `each` gets
    /// every page and returns whether to go on. Memory is bounded by one page. A container
    /// that was never versioned lists its objects as `null` versions.
    pub(crate) fn version_pages(
        &self,
        prefix: &str,
        mut each: impl FnMut(Vec<Listed>) -> Result<bool>,
    ) -> Result<()> {
        let container = &self.config.container;
        let what = format!("listing the versions in container '{container}'");
        let mut marker: Option<(String, String)> = None;
        loop {
            let mut query = format!("versions&format=json&prefix={}", encode_segment(prefix));
            if let Some((m, v)) = &marker {
                query.push_str(&format!(
                    "&marker={}&version_marker={}",
                    encode_segment(m),
                    encode_segment(v)
                ));
            }
            let newest: &[(&'static str, &str)] = if self.config.list_newest {
                &[("X-Newest", "true")]
            } else {
                &[]
            };
            let mut exchange =
                Plain::new(newest, |resp: Response, _| match resp.status().as_u16() {
                    204 => Ok(None),
                    200 => {
                        let body = resp
                            .bytes()
                            .map_err(|e| answer::transport_failure(&what, &e))?;
                        parse_page(&body).map(Some).map_err(|e| {
                            TryError::Fail(Error::new(
                                ErrorKind::Server,
                                format!("{what}: the listing is not the JSON Swift sends: {e}"),
                            ))
                        })
                    }
                    status => Err(TryError::Fail(answer::swift_error(
                        &what,
                        status,
                        resp.headers(),
                        About::Container(container),
                    ))),
                });
            let target = Target::Container(Some(&query));
            let timeout = Some(self.config.timeouts.list);
            let Some((page, next)) =
                self.send(&what, Method::GET, target, timeout, &mut exchange)?
            else {
                return Ok(());
            };
            if page.is_empty() && next.is_none() {
                return Ok(());
            }
            if !each(page)? {
                return Ok(());
            }
            match next {
                Some(n) if Some(&n) != marker.as_ref() => marker = Some(n),
                _ => return Ok(()),
            }
        }
    }

    /// The versions of the object `full` exactly (not of other names that start with it), in
    /// Swift's order: newest first. `each` returns whether to go on.
    pub(crate) fn versions_of(
        &self,
        full: &str,
        mut each: impl FnMut(Version) -> bool,
    ) -> Result<()> {
        self.version_pages(full, |page| {
            for l in page {
                if l.name == full {
                    if !each(l.version) {
                        return Ok(false);
                    }
                } else if l.name.as_str() > full {
                    // Listed by name: the versions of `full` are all behind.
                    return Ok(false);
                }
            }
            Ok(true)
        })
    }

    /// Whether replacing or deleting a large object must keep its segments because an older
    /// version may still use them: the destination asks for versioning
    /// (`openstack-versioning`), or the container is or was versioned (`X-Versions-Enabled`,
    /// either value, or the legacy `X-Versions-Location` / `X-History-Location`). When that
    /// cannot be told, the segments stay. Once seen, the answer is kept (a container that was
    /// versioned keeps its old versions).
    pub(crate) fn versions_kept(&self) -> bool {
        use std::sync::atomic::Ordering;
        if self.config.versioning || self.cluster.versioned.load(Ordering::Relaxed) {
            return true;
        }
        let resp = self.request(
            "checking whether the container keeps versions",
            Method::HEAD,
            Target::Container(None),
            self.config.timeouts.short,
            &[],
        );
        let kept = match resp {
            Ok(r) if r.status().is_success() => {
                let h = r.headers();
                [
                    "x-versions-enabled",
                    "x-versions-location",
                    "x-history-location",
                ]
                .iter()
                .any(|k| h.contains_key(*k))
            }
            Ok(r) if r.status().as_u16() == 404 => false,
            Ok(r) => {
                log::warning!(
                    "whether container '{}' keeps versions could not be told (HTTP {}): old segments stay",
                    self.config.container,
                    r.status().as_u16()
                );
                true
            }
            Err(e) => {
                log::warning!("whether the container keeps versions could not be told ({e}): old segments stay");
                true
            }
        };
        if kept {
            self.cluster.versioned.store(true, Ordering::Relaxed);
        }
        kept
    }

    /// Whether the container has object versioning on now (`X-Versions-Enabled: true`); `false`
    /// when that cannot be told.
    pub(crate) fn versioning_on(&self) -> bool {
        self.request(
            "checking whether the container keeps versions",
            Method::HEAD,
            Target::Container(None),
            self.config.timeouts.short,
            &[],
        )
        .is_ok_and(|r| {
            r.status().is_success() && headers::is_true(r.headers(), "x-versions-enabled")
        })
    }

    /// Turns on object versioning of the destination's container (which exists), after
    /// checking that the cluster offers it, and checks that it is on.
    pub(crate) fn enable_versioning(&self) -> Result<()> {
        let container = &self.config.container;
        let what = format!("turning on object versioning of container '{container}'");
        if self.features()?.object_versioning == Some(false) {
            return Err(Error::invalid_url(format!(
                "{what}: the cluster does not offer object versioning (its /info lists no 'object_versioning': Swift 2.24 or later with allow_object_versioning = true is needed); ask the provider, or remove the option 'openstack-versioning'"
            )));
        }
        let mut exchange = Plain::new(&[("X-Versions-Enabled", "true")], |resp: Response, _| {
            let status = resp.status().as_u16();
            let h = resp.headers().clone();
            let body = super::request::read_bounded(resp, 4096).unwrap_or_default();
            Ok((status, h, String::from_utf8_lossy(&body).trim().to_string()))
        });
        let (status, h, body) = self.send(
            &what,
            Method::POST,
            Target::Container(None),
            Some(self.config.timeouts.short),
            &mut exchange,
        )?;
        match status {
            200..=299 => {}
            400 | 409 | 412 => {
                let said = if body.is_empty() {
                    String::new()
                } else {
                    format!(" ('{body}')")
                };
                return Err(Error::new(
                    ErrorKind::Http,
                    format!("{what}: Swift refused it (HTTP {status}){said}. A container with the legacy X-Versions-Location or X-History-Location cannot use object versioning: use a new container, or remove the option 'openstack-versioning'"),
                )
                .with_http(status, headers::trans_id(&h)));
            }
            _ => {
                return Err(answer::swift_error(
                    &what,
                    status,
                    &h,
                    About::Container(container),
                ))
            }
        }
        let resp = self.expect_success(&what, Method::HEAD, Target::Container(None))?;
        if !headers::is_true(resp.headers(), "x-versions-enabled") {
            return Err(Error::new(
                ErrorKind::Http,
                format!("{what}: Swift accepted the request but the container does not say 'X-Versions-Enabled: true' (the proxy lacks the versioned_writes middleware with allow_object_versioning?): ask the provider, or remove the option 'openstack-versioning'"),
            ));
        }
        self.cluster
            .versioned
            .store(true, std::sync::atomic::Ordering::Relaxed);
        log::info!("{what}: done");
        Ok(())
    }

    /// The version `version_id` of `full`, from its versions listing: a missing one is
    /// [`ErrorKind::NotFound`] (a version id of another object is missing here too).
    fn find_version(&self, full: &str, version_id: &str) -> Result<(Version, Option<Version>)> {
        let mut found = None;
        let mut current = None;
        self.versions_of(full, |v| {
            if v.is_current {
                current = Some(v.clone());
            }
            if v.version_id == version_id {
                found = Some(v);
            }
            found.is_none() || current.is_none()
        })?;
        match found {
            Some(v) => Ok((v, current)),
            None => Err(Error::new(
                ErrorKind::NotFound,
                format!("object '{full}' has no version '{version_id}': list_versions shows the versions it has"),
            )),
        }
    }

    /// Makes the version `version_id` of `full` current again: Swift's `PUT ?version-id=` with
    /// an empty body, which points the object at that version (no data is copied; no version
    /// is lost: the one that was current stays a version).
    pub(crate) fn restore_version(&self, full: &str, version_id: &str) -> Result<()> {
        check_version_id(version_id)?;
        let what = format!("restoring version '{version_id}' of '{full}'");
        let (version, current) = self.find_version(full, version_id)?;
        if version.is_delete_marker {
            return Err(Error::invalid_argument(format!(
                "{what}: that version is a delete marker (the record of a delete), which has no data: restore the version listed after it"
            )));
        }
        if version.is_current {
            log::info!("{what}: it is the current version already");
            return Ok(());
        }
        if let Some(c) = current.filter(|c| c.version_id == "null" && !c.is_delete_marker) {
            return Err(Error::invalid_argument(format!(
                "{what}: the current object was written before versioning was turned on (version '{}'), and Swift would replace it without keeping it: put it again first (then it becomes a version of its own), or copy it away",
                c.version_id
            )));
        }
        let query = format!("version-id={}", encode_segment(version_id));
        let target = Target::In {
            container: &self.config.container,
            object: Some(full),
            query: Some(&query),
        };
        let resp = self.request(
            &what,
            Method::PUT,
            target,
            self.config.timeouts.short,
            &[("Content-Length", "0")],
        )?;
        if !resp.status().is_success() {
            return Err(self.failure(&what, &resp, target));
        }
        log::info!("{what}: done");
        Ok(())
    }

    /// Deletes the version `version` of `full` that an `If-None-Match: *` put left in a
    /// versioned container when the name was taken: the data just sent, never current (the
    /// put is sent again the ordinary way). A failure is logged: a stray version costs space,
    /// not data.
    pub(crate) fn delete_stray_version(&self, full: &str, version: &str) {
        if check_version_id(version).is_err() {
            return;
        }
        let query = format!("version-id={}", encode_segment(version));
        let target = Target::In {
            container: &self.config.container,
            object: Some(full),
            query: Some(&query),
        };
        match self.delete_in(target, full) {
            Ok(_) => log::info!("removed the stray version '{version}' of '{full}' (a put with If-None-Match in a versioned container)"),
            Err(e) => log::warning!("could not remove the stray version '{version}' of '{full}': {e}"),
        }
    }

    /// Adds to `refs` what the older versions of every object of the container reference in
    /// `segc` (their manifests still list their segments), for the sweep and for sparing shared
    /// segments: the versions of the whole container are listed, and those that may be large
    /// objects are asked (all of them when the listing marks no Static Large Object).
    pub(crate) fn version_references(
        &self,
        segc: &str,
        refs: &mut super::large::parts::References,
    ) -> Result<()> {
        let mut candidates: Vec<(String, String, bool)> = Vec::new();
        let mut marked = false;
        self.version_pages("", |page| {
            for l in page {
                if l.version.is_delete_marker || l.version.is_current {
                    // The current version is the object itself: the listing of objects has it.
                    continue;
                }
                marked |= l.marked_slo;
                candidates.push((l.name, l.version.version_id, l.maybe_large));
            }
            Ok(true)
        })?;
        for (name, version, maybe_large) in candidates {
            if !maybe_large && marked {
                continue;
            }
            if let Some(parts) = self.parts_at(&name, Some(&version), true)? {
                refs.add(parts, segc);
            }
        }
        Ok(())
    }
}

impl Destination {
    /// The versions of the object `name` in a container with Swift's object versioning, newest
    /// first: each one's id, size, time, whether it is the current one and whether it is a
    /// delete marker (the record of a delete). An object of a container that was never
    /// versioned has one version, `null`; a name with no versions gives an empty list.
    pub fn list_versions(&self, name: &str) -> Result<Vec<Version>> {
        let mut all = Vec::new();
        self.list_versions_with(name, |v| {
            all.push(v);
            true
        })?;
        Ok(all)
    }

    /// [`Destination::list_versions`] one version at a time (`each` returns whether to go on);
    /// memory is bounded by one listing page, whatever the number of versions.
    pub fn list_versions_with(&self, name: &str, each: impl FnMut(Version) -> bool) -> Result<()> {
        let full = self.full(name)?;
        self.swift.versions_of(&full, each)
    }

    /// Downloads the version `version_id` of the object `name` into memory (checked like
    /// [`Destination::get_bytes`]; a large object's segments too). A version id that is not
    /// one ([`ErrorKind::InvalidArgument`]) is refused before any request; a missing version, a
    /// version of another object and a delete marker are [`ErrorKind::NotFound`].
    pub fn get_version(&self, name: &str, version_id: &str) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        self.get_version_to_sink(name, version_id, &mut out, ErrorKind::LocalIo, None)?;
        Ok(out)
    }

    /// [`Destination::get_version`] into `writer`, streamed; returns the byte count.
    pub fn get_version_to_writer(
        &self,
        name: &str,
        version_id: &str,
        writer: &mut dyn Write,
        progress: Option<Progress>,
    ) -> Result<u64> {
        self.get_version_to_sink(name, version_id, writer, ErrorKind::LocalIo, progress)
    }

    /// [`Destination::get_version_to_writer`], reporting a failing writer as `sink_kind`.
    pub(crate) fn get_version_to_sink(
        &self,
        name: &str,
        version_id: &str,
        writer: &mut dyn Write,
        sink_kind: ErrorKind,
        progress: Option<Progress>,
    ) -> Result<u64> {
        let full = self.full(name)?;
        check_version_id(version_id)?;
        self.swift
            .download_at(&full, Some(version_id), writer, sink_kind, progress, None)
            .map(|(n, _)| n)
            .map_err(|e| missing_version(e, &full, version_id))
    }

    /// [`Destination::get_file_with`] of the version `version_id`: written to a temporary file
    /// that replaces `path` only once verified.
    pub fn get_version_file(
        &self,
        name: &str,
        version_id: &str,
        path: &Path,
        progress: Option<Progress>,
    ) -> Result<()> {
        check_version_id(version_id)?;
        self.get_file_at(name, Some(version_id), path, progress)
            .map_err(|e| missing_version(e, name, version_id))
    }

    /// Makes the version `version_id` of the object `name` current again, so that a plain get
    /// reads it: Swift points the object at that version (`PUT ?version-id=`, no data copied,
    /// a large object's segments included). The version that was current stays a version, so
    /// nothing is lost; restoring a deleted object's last version undoes the delete. A delete
    /// marker cannot be restored, and neither can anything over a current object written
    /// before versioning was turned on (version `null`, which Swift would not keep)
    /// ([`ErrorKind::InvalidArgument`], nothing changed); a missing version is
    /// [`ErrorKind::NotFound`].
    pub fn restore_version(&self, name: &str, version_id: &str) -> Result<()> {
        let full = self.full(name)?;
        self.swift.restore_version(&full, version_id)
    }
}

/// A 404 of a version read (or Swift's 400 for a version id in a container that never kept
/// versions): the message says which version is missing and what to do.
fn missing_version(e: Error, name: &str, version_id: &str) -> Error {
    let unversioned = e.http_status() == Some(400);
    if e.kind() != ErrorKind::NotFound && !unversioned {
        return e;
    }
    let why = if unversioned {
        "the container keeps no versions (only 'null', the object itself)"
    } else {
        "missing, of another object, or a delete marker"
    };
    let mut out = Error::new(
        ErrorKind::NotFound,
        format!("object '{name}' has no version '{version_id}' with data ({why}): list_versions shows its versions"),
    );
    if let Some(status) = e.http_status() {
        out = out.with_http(status, e.trans_id().map(str::to_string));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_ids_are_checked_before_any_request() {
        for good in ["1796585440.42492", "null", "a-b_c.1"] {
            assert!(check_version_id(good).is_ok(), "{good}");
        }
        let long = "1".repeat(MAX_VERSION_ID + 1);
        for bad in [
            "",
            "1&x=2",
            "a/b",
            "a\0b",
            "a b",
            "%41",
            "é",
            "?",
            long.as_str(),
        ] {
            let e = check_version_id(bad).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{bad:?}");
            assert!(e.message().contains("list_versions"), "{e}");
            assert!(!e.message().contains('\0'));
        }
    }

    #[test]
    fn a_versions_page_tells_delete_markers_and_the_next_page() {
        let body = br#"[
          {"bytes":0,"hash":"d41d8cd98f00b204e9800998ecf8427e","name":"big","content_type":"application/x-deleted;swift_versions_deleted=1","last_modified":"2026-12-06T19:30:42.527870","is_latest":true,"version_id":"1796585442.52759"},
          {"bytes":3000,"hash":"d5","name":"big","content_type":"application/octet-stream","last_modified":"2026-12-06T19:30:41.608350","is_latest":false,"version_id":"1796585441.60835","slo_etag":"\"e9\""},
          {"subdir":"dir/"},
          {"bytes":5,"name":"small","is_latest":true,"version_id":"null"}
        ]"#;
        let (page, next) = parse_page(body).unwrap();
        assert_eq!(page.len(), 3);
        assert!(page[0].version.is_delete_marker && page[0].version.is_current);
        assert!(!page[0].maybe_large);
        assert!(page[1].maybe_large && page[1].marked_slo && !page[1].version.is_current);
        assert_eq!(page[1].version.size, Some(3000));
        assert!(page[1].version.last_modified.is_some());
        assert_eq!(page[2].version.version_id, "null");
        assert_eq!(next, Some(("small".to_string(), "null".to_string())));
        let (empty, next) = parse_page(b"[]").unwrap();
        assert!(empty.is_empty() && next.is_none());
        assert!(parse_page(b"{").is_err());
    }
}
