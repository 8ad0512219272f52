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

use super::names::{encode_path, encode_segment};
use super::request::{Swift, Target};
use super::types::{Progress, Version};
use super::Destination;
use crate::error::{Error, ErrorKind, Result};
use crate::log;

mod keep;
mod listing;

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

impl Swift {
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

    /// Makes the current object `full`, written while versioning was off (version `null`), a
    /// version of its own: a server-side copy onto itself (the manifest of a large object, not
    /// its data), which a versioned container stores as a new version after keeping the one it
    /// replaces under a version id.
    fn keep_null_version(&self, full: &str) -> Result<()> {
        let container = &self.config.container;
        let what = format!("keeping '{full}', written while versioning was off, as a version");
        let copy_from = format!("/{}/{}", encode_segment(container), encode_path(full));
        let target = Target::In {
            container,
            object: Some(full),
            query: Some("multipart-manifest=get"),
        };
        let resp = self.request(
            &what,
            Method::PUT,
            target,
            self.config.timeouts.list,
            &[("X-Copy-From", copy_from.as_str()), ("Content-Length", "0")],
        )?;
        if !resp.status().is_success() {
            return Err(self.failure(&what, &resp, target));
        }
        log::info!("{what}: done");
        Ok(())
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
        if current.is_some_and(|c| c.version_id == "null" && !c.is_delete_marker) {
            // Swift's PUT ?version-id= would replace it without keeping it.
            if !self.versioning_on() {
                return Err(Error::invalid_argument(format!(
                    "{what}: the current object was written while versioning was off (version 'null'), and with versioning off now Swift would replace it without keeping it: turn versioning on first (openstack-versioning=true and create_container), nothing was changed"
                )));
            }
            self.keep_null_version(full)?;
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
    /// nothing is lost; restoring a deleted object's last version undoes the delete. A current
    /// object written while versioning was off (version `null`, which Swift's restore would not
    /// keep) is first made a version of its own by a server-side copy onto itself; with
    /// versioning off now, that is refused. A delete marker cannot be restored either
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
}
