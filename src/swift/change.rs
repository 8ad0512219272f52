//! What changes objects already stored: deletes (one, many), metadata and expiry, renames, and
//! the sweep of orphan segments.

use reqwest::Method;

use super::large;
use super::meta::{self, Expiry, PutOptions};
use super::names::{encode_path, encode_segment};
use super::request::Target;
use super::types::{DeleteReport, SweepReport};
use super::Destination;
use crate::error::{Error, ErrorKind, Result};
use crate::headers;
use crate::log;

impl Destination {
    /// Deletes an object, and the segments of a large object (unless
    /// `openstack-leave-segments`). A retried delete that finds the object gone has done its
    /// job (the first try deleted it and its answer was lost), so that is a success too.
    pub fn delete(&self, name: &str) -> Result<()> {
        let full = self.full(name)?;
        self.swift.delete_with_parts(&full)
    }

    /// Deletes many objects at once, with what their large objects are made of: Swift's bulk
    /// delete where the cluster offers it (`/info`), up to its limit of names a request, else
    /// one DELETE each, several at a time. Names already gone count as deleted (`missing`);
    /// each name that fails (an invalid one included) is reported with its own error, never
    /// hidden behind one status. An error of the whole call (authentication, a missing
    /// container) is the `Err`.
    pub fn delete_many<S: AsRef<str>>(&self, names: &[S]) -> Result<DeleteReport> {
        let mut failures = Vec::new();
        let mut fulls = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for name in names {
            let name = name.as_ref();
            match self.full(name) {
                Ok(full) if seen.insert(full.clone()) => fulls.push((name.to_string(), full)),
                Ok(_) => {}
                Err(e) => failures.push((name.to_string(), e)),
            }
        }
        let mut report = self.swift.delete_many(fulls)?;
        failures.append(&mut report.failures);
        report.failures = failures;
        Ok(report)
    }

    /// Changes the metadata and the expiry of an existing object, without its data (a POST).
    ///
    /// Swift's POST replaces all of an object's metadata, so this reads it first and sends it
    /// back changed: every key of `options.metadata` is set, a key with an empty value is
    /// removed, and every other key stays — the file time the library stored
    /// (`X-Object-Meta-Mtime`) and keys other tools set included. The expiry stays as it is
    /// unless `options` sets one (`delete_after`, `delete_at`) or removes it (`no_expiry`);
    /// the destination's `openstack-delete-after` does not apply here. For a large object the
    /// segments get the same expiry, in the order that never lets a segment expire before the
    /// manifest (a later expiry or none: segments first; an earlier one: manifest first), so
    /// after any failure the object reads back whole until the expiry it reports. A Dynamic
    /// Large Object's segments are the objects in its prefix's folder (as for a delete). The read and the write are two requests: a change another
    /// client makes between them is lost.
    pub fn update_metadata(&self, name: &str, options: &PutOptions) -> Result<()> {
        let full = self.full(name)?;
        let update = meta::prepare(options, None, false)?;
        let what = format!("updating the metadata of '{full}'");
        let resp = self
            .swift
            .expect_success(&what, Method::HEAD, Target::Object(&full))?;
        let h = resp.headers();
        let mut send = meta::merged(meta::all_meta(h), &update);
        if !update.metadata.is_empty() {
            let keys_values = send.iter().map(|(n, v)| {
                (
                    n.as_str().trim_start_matches("x-object-meta-"),
                    v.as_bytes(),
                )
            });
            meta::check_limits(keys_values, &self.swift.limits()?.meta)?;
        }
        // What a POST would otherwise drop: a dynamic large object's manifest (it would become
        // an empty object) and the headers Swift keeps beside the metadata.
        for keep in [
            "x-object-manifest",
            "content-disposition",
            "content-encoding",
            "cache-control",
            "content-language",
            "expires",
            "x-robots-tag",
        ] {
            if let Some(v) = h.get(keep) {
                send.push((reqwest::header::HeaderName::from_static(keep), v.clone()));
            }
        }
        let current = meta::delete_at(h)
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| Expiry::At(d.as_secs()));
        let expiry = if update.no_expiry {
            None
        } else {
            update.expiry.or(current)
        };
        let expiry = expiry.map(Expiry::absolute);
        send.extend(expiry.map(Expiry::header));
        let large =
            headers::is_true(h, "x-static-large-object") || h.contains_key("x-object-manifest");
        let post = || -> Result<()> {
            let resp = self.swift.request_with(
                &what,
                Method::POST,
                Target::Object(&full),
                self.swift.config.timeouts.short,
                &[],
                &send,
            )?;
            if !resp.status().is_success() {
                return Err(self.swift.object_failure(&what, &resp, &full));
            }
            Ok(())
        };
        // The segments are set even when the manifest already has the expiry: a change that
        // failed part-way may have left them otherwise.
        if !(large && update.expiry_given) {
            post()?;
            log::info!("{what}: done");
            return Ok(());
        }
        // The segments must never expire before the manifest: a later expiry (or none) goes to
        // the segments first, an earlier one to the manifest first. A failure part-way leaves
        // segments that outlive the manifest (space, which the sweep reclaims), never a
        // manifest whose segments are gone.
        let parts = match self.swift.parts_of(&full, true)? {
            Some(parts) => parts,
            None => {
                post()?;
                return Ok(());
            }
        };
        let later = match (current, expiry) {
            (_, None) => true,
            (None, Some(_)) => false,
            (Some(Expiry::At(c)), Some(Expiry::At(n))) => n >= c,
            _ => false,
        };
        if later {
            self.swift.set_segments_expiry(&full, parts, expiry)?;
            post()?;
        } else {
            post()?;
            self.swift.set_segments_expiry(&full, parts, expiry)?;
        }
        log::info!("{what}: done");
        Ok(())
    }

    /// Renames an object: a server-side copy, checked (the copy's size and ETag must equal the
    /// source's), then the delete of the source, so no failure can lose both. A large object's
    /// manifest is copied, not its data; its segments stay where they are, marked while both
    /// names may reference them, so that deleting either after a rename that failed half-way
    /// leaves the other whole. Renaming onto itself does nothing.
    pub fn rename(&self, from: &str, to: &str) -> Result<()> {
        let src = self.full(from)?;
        let dst = self.full(to)?;
        if src == dst {
            return Ok(());
        }
        let source = self.stat(from)?;
        // A large object the copy replaces leaves its segments behind unless they are removed
        // afterwards (all but those the source is made of, which the copy now uses).
        let replaced = self.swift.parts_of(&dst, true).unwrap_or_else(|e| {
            log::info!("could not tell whether '{dst}' is a large object ({e}); its segments, if any, stay");
            None
        });
        // While two names reference the same segments, removing either's must ask first.
        let marks = self.swift.mark_renamed(&src)?;
        let what = format!("copying '{src}' to '{dst}'");
        let copy_from = format!(
            "/{}/{}",
            encode_segment(&self.swift.config.container),
            encode_path(&src)
        );
        let resp = self.swift.request(
            &what,
            Method::PUT,
            Target::In {
                container: &self.swift.config.container,
                object: Some(&dst),
                query: Some("multipart-manifest=get"),
            },
            self.swift.config.timeouts.list,
            &[("X-Copy-From", copy_from.as_str()), ("Content-Length", "0")],
        )?;
        if !resp.status().is_success() {
            // A 404 here means the source is missing (or the container).
            let about = if resp.status().as_u16() == 404 {
                &src
            } else {
                &dst
            };
            return Err(self.swift.object_failure(&what, &resp, about));
        }
        let copy = self.stat(to)?;
        if copy.size != source.size || copy.etag != source.etag {
            return Err(Error::new(
                ErrorKind::Integrity,
                format!(
                    "{what}: the copy ({:?} bytes, ETag {:?}) differs from the source ({:?} bytes, ETag {:?}); the source was kept",
                    copy.size, copy.etag, source.size, source.etag
                ),
            ));
        }
        let now = match &replaced {
            None => None,
            Some(_) => match self.swift.parts_of(&dst, true) {
                Ok(now) => Some(now),
                Err(e) => {
                    log::info!("could not read what '{dst}' is made of now ({e}); the segments of the object it replaced stay");
                    None
                }
            },
        };
        self.swift.delete_object(&src)?;
        self.swift.unmark(marks);
        if let (Some(old), Some(now)) = (replaced, now) {
            if let Some(mut keep) = large::still_used(&old, now.as_ref()) {
                // A dynamic manifest's prefix may cover the new name itself.
                keep.insert((self.swift.config.container.clone(), dst.clone()));
                self.swift.remove_parts(old, &keep);
            }
        }
        Ok(())
    }

    /// Removes the segments that no manifest references: what uploads killed and never
    /// resumed left in the segment container. Only segments this library wrote for this
    /// destination's container are looked at, and only those older than `older_than` go (a day
    /// is a safe grace: an upload in progress elsewhere is never hit); segments of other
    /// writers, of other containers sharing the segment container, and of versions before 0.2
    /// stay. Reports how many objects went and their bytes.
    pub fn sweep_segments(&self, older_than: std::time::Duration) -> Result<SweepReport> {
        self.swift.sweep_segments(older_than)
    }
}
