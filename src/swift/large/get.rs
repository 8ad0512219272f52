//! Downloads of Static Large Objects, segment by segment, each checked against the length and
//! MD5 its manifest gives: in order into a stream, or in parallel into a file at their offsets.

use std::io::Write;

use super::manifest::{parse_manifest, SegmentRef};
use crate::error::{Error, ErrorKind, Result};
use crate::log;
use crate::swift::download::Download;
use crate::swift::pool::run_indexed;
use crate::swift::request::{Swift, Target};
use crate::swift::types::Progress;

fn segment_target(s: &SegmentRef) -> Target<'_> {
    Target::In {
        container: &s.container,
        object: Some(&s.name),
        query: None,
    }
}

impl Swift {
    /// Downloads the Static Large Object `full` whose manifest is `body`; `whole` is the object
    /// as Swift assembles it (read when the manifest has ranges or nested manifests). Returns
    /// the bytes written.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn get_segmented(
        &self,
        full: &str,
        whole: Target,
        body: &[u8],
        sink: &mut dyn Write,
        sink_kind: ErrorKind,
        mut progress: Option<Progress>,
        file: Option<&std::fs::File>,
    ) -> Result<u64> {
        let what = format!("downloading '{full}'");
        let segments = parse_manifest(body).map_err(|e| {
            Error::new(
                ErrorKind::Server,
                format!("{what}: the manifest is not what Swift sends: {e}"),
            )
        })?;
        let total = segments
            .iter()
            .try_fold(0u64, |t, s| t.checked_add(s.bytes))
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::Server,
                    format!("{what}: the manifest's sizes overflow"),
                )
            })?;
        if segments.iter().any(|s| !s.whole) {
            // Ranges of segments or nested manifests: Swift assembles it, the length is checked.
            log::info!("{what}: the manifest has ranges or nested manifests; reading it whole");
            let mut d = Download::new(self, &what, whole, sink, sink_kind);
            d.progress = progress;
            d.run()?;
            return Ok(total);
        }
        #[cfg(unix)]
        if let Some(file) = file {
            if self.config.large.threads > 1 && segments.len() > 1 {
                return self.get_parallel(full, &segments, total, file, progress);
            }
        }
        let _ = file;
        let mut base = 0u64;
        for (i, s) in segments.iter().enumerate() {
            let what = format!(
                "downloading segment {} of {} of '{full}'",
                i + 1,
                segments.len()
            );
            let mut d = Download::new(self, &what, segment_target(s), sink, sink_kind)
                .segment(s.bytes, &s.hash, base, total);
            d.progress = progress.take();
            progress = d.run()?.1;
            base += s.bytes;
        }
        if total == 0 {
            if let Some(p) = progress.as_mut() {
                if !p(0, Some(0)) {
                    return Err(Error::new(
                        ErrorKind::Cancelled,
                        format!("{what}: cancelled by the progress callback"),
                    ));
                }
            }
        }
        log::info!(
            "downloaded '{full}' ({total} bytes in {} segments)",
            segments.len()
        );
        Ok(total)
    }

    /// Downloads the segments into `file` at their offsets, `openstack-segment-threads` at a
    /// time; progress is reported on the calling thread.
    #[cfg(unix)]
    fn get_parallel(
        &self,
        full: &str,
        segments: &[SegmentRef],
        total: u64,
        file: &std::fs::File,
        progress: Option<Progress>,
    ) -> Result<u64> {
        let offsets: Vec<u64> = segments
            .iter()
            .scan(0u64, |at, s| {
                let here = *at;
                *at += s.bytes;
                Some(here)
            })
            .collect();
        let threads = self.config.large.threads.min(segments.len());
        let cancelled = || {
            Error::new(
                ErrorKind::Cancelled,
                format!("downloading '{full}': cancelled by the progress callback"),
            )
        };
        run_indexed(
            segments.len(),
            threads,
            total,
            progress,
            cancelled,
            |i, lane| {
                let s = &segments[i];
                let what = format!(
                    "downloading segment {} of {} of '{full}'",
                    i + 1,
                    segments.len()
                );
                let mut out = crate::swift::file_writer::FileAt::new(file, offsets[i]);
                let mut d =
                    Download::new(self, &what, segment_target(s), &mut out, ErrorKind::LocalIo)
                        .segment(s.bytes, &s.hash, 0, total);
                d.progress = Some(lane.progress());
                d.run().map(|_| ())
            },
        )?;
        log::info!(
            "downloaded '{full}' ({total} bytes in {} segments, {threads} at a time)",
            segments.len()
        );
        Ok(total)
    }
}
