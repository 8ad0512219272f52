//! Versioning of the container: turning it on, telling whether it keeps versions (then the
//! segments of replaced or deleted large objects stay, and every older version's manifest counts
//! as a reference for the sweep), and removing the stray version a refused put leaves.

use reqwest::Method;

use super::check_version_id;
use crate::error::{Error, ErrorKind, Result};
use crate::headers;
use crate::http::answer::{self, About};
use crate::http::driver::Response;
use crate::log;
use crate::swift::names::encode_segment;
use crate::swift::request::{Plain, Swift, Target};

impl Swift {
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
            let body = crate::swift::request::read_bounded(resp, 4096).unwrap_or_default();
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
        refs: &mut crate::swift::large::parts::References,
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
