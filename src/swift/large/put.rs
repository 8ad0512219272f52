//! Uploads: which way an object goes up. One request for memory and files up to the segment
//! size (first only if the name is free), a Static Large Object above it
//! ([`super::segmented`]), streams in order ([`super::stream`]); once the new object is in
//! place, the parts of the object it replaced go ([`Swift::remove_parts`]), but none it is made
//! of itself.

use std::collections::HashSet;

use super::Parts;
use crate::error::Result;
use crate::log;
use crate::swift::body::UploadBody;
use crate::swift::meta::{self, Prepared};
use crate::swift::request::Swift;
use crate::swift::types::Progress;
use crate::swift::upload::SharedProgress;

impl Swift {
    /// Uploads `body` as the object `full` (prefix included): one request, or segments and a
    /// manifest when it is larger than the segment size. Once the new object is in place, the
    /// segments of the object it replaced are removed.
    pub(crate) fn upload(
        &self,
        full: &str,
        body: UploadBody,
        progress: Option<Progress>,
        options: &Prepared,
    ) -> Result<u64> {
        // The host's progress callback is asked during waits before another try too.
        let (progress, _watch) = crate::swift::pool::watched(progress);
        // Swift's limits on metadata, checked before anything is stored (only /info is read,
        // once per destination, and only when the host gives metadata of its own).
        if !options.metadata.is_empty() {
            let own = body.metadata();
            let host = options.meta_headers();
            let keys_values = own.iter().chain(host.iter()).map(|(n, v)| {
                (
                    n.as_str().trim_start_matches("x-object-meta-"),
                    v.as_bytes(),
                )
            });
            meta::check_limits(keys_values, &self.limits()?.meta)?;
        }
        let size = body.size()?;
        let plan = match size {
            Some(s) => self.plan(s)?,
            None => None,
        };
        let old_parts = || {
            self.parts_of(full, false).unwrap_or_else(|e| {
                log::info!("could not tell whether '{full}' is a large object ({e}); its segments, if any, stay");
                None
            })
        };
        // A whole object from memory or a file is first sent only if the name is free
        // (`If-None-Match: *`): a new name then costs one request, where asking first whether
        // the object in place is a large one (whose segments must go) costs two. A taken name
        // is refused (412) before Swift reads the body; the body then goes again the long way.
        // Not in a container that keeps versions: Swift stores the data as a version before it
        // refuses the name, which would leave a stray version each time. Nor once the segment
        // container is known to be missing (a taken name found that out): no object in place
        // can then have segments to remove, so a plain PUT is enough, and an overwrite costs
        // one request, not two.
        let versioned = self.config.versioning
            || self
                .cluster
                .versioned
                .load(std::sync::atomic::Ordering::Relaxed);
        let if_absent_first = plan.is_none() && !versioned && !self.segments_known_absent();
        if let (true, Some(again)) = (if_absent_first, body.again()) {
            let md5 = body.md5()?;
            let progress = SharedProgress::new(progress);
            let first =
                self.upload_simple(full, body, progress.lend(), options, md5.clone(), true)?;
            if let Some(sent) = first {
                return Ok(sent);
            }
            let old = old_parts();
            let sent = self
                .upload_simple(full, again, progress.lend(), options, md5, false)?
                .unwrap_or_default();
            self.replaced(full, old, HashSet::new());
            return Ok(sent);
        }
        let old = old_parts();
        let (sent, keep) = match (plan, size, body) {
            (Some(plan), _, UploadBody::Stream(source, _)) => {
                self.upload_stream_segmented(full, source, plan, progress, options)?
            }
            (Some(plan), _, body) => {
                self.upload_segmented(full, body, plan, old.as_ref(), progress, options)?
            }
            (_, None, UploadBody::Stream(source, None)) => {
                self.upload_unknown_size(full, source, progress, options)?
            }
            (None, Some(size), UploadBody::Stream(source, Some(_))) => {
                self.upload_sized_stream(full, source, size, progress, options)?
            }
            (_, _, body) => (
                self.upload_simple(full, body, progress, options, None, false)?
                    .unwrap_or_default(),
                HashSet::new(),
            ),
        };
        self.replaced(full, old, keep);
        Ok(sent)
    }

    /// Once `full` is in place: removes the parts of the large object it replaced (`old`), but
    /// none of `keep`, which the new object is made of.
    fn replaced(&self, full: &str, old: Option<Parts>, mut keep: HashSet<(String, String)>) {
        if let Some(old) = old {
            // A dynamic manifest's prefix may cover the object's own name.
            keep.insert((self.config.container.clone(), full.to_string()));
            self.remove_parts(old, &keep);
        }
    }
}
