//! Deleting many objects at once (retention prunes thousands): Swift's bulk delete where the
//! cluster offers it (`/info`'s `bulk_delete`, up to its `max_deletes_per_request` names a
//! request), parallel DELETEs where it does not. Names already missing count as deleted; large
//! objects lose their segments too, by the rules of every delete (never a segment another object
//! still references); each name that fails is reported with its own error.

use std::collections::{BTreeMap, HashMap, HashSet};

use reqwest::Method;
use serde::Deserialize;

use super::large::Parts;
use super::names::{encode_path, encode_segment};
use super::pool::run_indexed;
use super::request::{SmallBody, Swift, Target};
use super::types::DeleteReport;
use crate::error::{Error, ErrorKind, Result};
use crate::http::answer::{self, About};
use crate::log;

/// The largest answer of a bulk delete read (whitespace while it runs, then a document naming
/// at most `max_failed_deletes` names).
const MAX_BULK_ANSWER: u64 = 16 * 1024 * 1024;

/// Fewer names than this are not split into requests sent at once.
const MIN_BULK_CHUNK: usize = 100;

/// What Swift says at the end of a bulk delete.
#[derive(Deserialize)]
struct BulkAnswer {
    #[serde(rename = "Response Status")]
    status: String,
    #[serde(rename = "Response Body", default)]
    body: String,
    #[serde(rename = "Number Deleted", default)]
    deleted: u64,
    #[serde(rename = "Number Not Found", default)]
    missing: u64,
    #[serde(rename = "Errors", default)]
    errors: Vec<(String, String)>,
}

/// How one batch of names ended: counts, and the names that failed with why.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Batch {
    pub(crate) deleted: u64,
    pub(crate) missing: u64,
    /// (the `/container/object` path as Swift gave it back, decoded; the status line)
    pub(crate) failed: Vec<(String, String)>,
    /// Set when the whole request failed (nothing can be said per name).
    pub(crate) whole: Option<(u16, String)>,
}

/// Reads the answer to a bulk delete (its whitespace, then the JSON document).
pub(crate) fn read_bulk_answer(body: &[u8]) -> std::result::Result<Batch, String> {
    let text = String::from_utf8_lossy(body);
    let a: BulkAnswer = serde_json::from_str(text.trim())
        .map_err(|e| format!("the answer is not the document Swift sends: {e}"))?;
    let status: u16 = a
        .status
        .split_whitespace()
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(502);
    let failed: Vec<(String, String)> = a
        .errors
        .into_iter()
        .map(|(name, why)| {
            let name = percent_encoding::percent_decode_str(&name)
                .decode_utf8_lossy()
                .into_owned();
            (name, why)
        })
        .collect();
    let whole = (!(200..300).contains(&status) && failed.is_empty())
        .then(|| (status, a.body.chars().take(300).collect()));
    Ok(Batch {
        deleted: a.deleted,
        missing: a.missing,
        failed,
        whole,
    })
}

/// The status (number) of a status line such as `409 Conflict`.
fn status_of(line: &str) -> u16 {
    line.split_whitespace()
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(502)
}

impl Swift {
    /// Deletes the objects `fulls` (full names, prefix included) of the destination's container
    /// and what their large objects are made of; see the module's documentation.
    pub(crate) fn delete_many(&self, fulls: Vec<(String, String)>) -> Result<DeleteReport> {
        let mut report = DeleteReport::default();
        if fulls.is_empty() {
            return Ok(report);
        }
        let limits = self.limits()?;
        // Which of them are large objects: listed with a Static Large Object's ETag or as zero
        // bytes (how a Dynamic one lists), then asked (the newest copy).
        let candidates = self.maybe_large(&fulls)?;
        let mut parts: Vec<(String, Parts)> = Vec::new();
        for full in candidates {
            match self.parts_of(&full, true) {
                Ok(Some(p)) => parts.push((full, p)),
                Ok(None) => {}
                Err(e) => log::warning!(
                    "could not read what '{full}' is made of ({e}); its segments, if any, stay"
                ),
            }
        }
        let container = self.config.container.clone();
        let paths: Vec<String> = fulls.iter().map(|(_, f)| f.clone()).collect();
        let outcome = self.delete_in_container(&container, &paths, limits.bulk_delete)?;
        let by_full: HashMap<&str, &str> = fulls
            .iter()
            .map(|(n, f)| (f.as_str(), n.as_str()))
            .collect();
        // The segments of the large objects that are gone (not of those whose delete failed).
        let failed: HashSet<&str> = outcome.failures.iter().map(|(f, _)| f.as_str()).collect();
        let mut doomed: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (full, p) in parts {
            if failed.contains(full.as_str()) {
                continue;
            }
            let keep = HashSet::from([(self.config.container.clone(), full)]);
            if let Some(d) = self.doomed_parts(p, &keep) {
                for (c, n) in d {
                    doomed.entry(c).or_default().push(n);
                }
            }
        }
        for (c, segs) in doomed {
            let wanted = segs.len();
            match self.delete_in_container(&c, &segs, limits.bulk_delete) {
                Ok(o) if o.failures.is_empty() => {}
                Ok(o) => log::warning!(
                    "{} of {wanted} segments in '{c}' were left: {}",
                    o.failures.len(),
                    o.failures[0].1
                ),
                Err(e) => log::warning!("the {wanted} segments in '{c}' were left: {e}"),
            }
        }
        report.deleted = outcome.deleted;
        report.missing = outcome.missing;
        for (full, e) in outcome.failures {
            let name = by_full.get(full.as_str()).copied().unwrap_or(full.as_str());
            report.failures.push((name.to_string(), e));
        }
        log::info!(
            "deleted {} objects, {} were already gone, {} failed",
            report.deleted,
            report.missing,
            report.failures.len()
        );
        Ok(report)
    }

    /// The names of `fulls` that a listing shows as possibly large (one listing of their
    /// longest common prefix).
    fn maybe_large(&self, fulls: &[(String, String)]) -> Result<Vec<String>> {
        // The longest prefix all the names share (cut at a character boundary).
        let prefix = fulls[1..].iter().fold(fulls[0].1.as_str(), |p, (_, f)| {
            let end = p
                .char_indices()
                .zip(f.chars())
                .find(|((_, a), b)| a != b)
                .map_or(p.len().min(f.len()), |((i, _), _)| i);
            &p[..end]
        });
        let wanted: HashSet<&str> = fulls.iter().map(|(_, f)| f.as_str()).collect();
        let mut large = Vec::new();
        self.list_pages(prefix, "", true, |page| {
            for e in page {
                if e.maybe_large && wanted.contains(e.name.as_str()) {
                    large.push(e.name);
                }
            }
            Ok(true)
        })?;
        Ok(large)
    }

    /// Deletes `names` of `container`: by bulk delete, `per_request` names a request, when
    /// the cluster offers it; else one DELETE each, `openstack-segment-threads` at a time.
    fn delete_in_container(
        &self,
        container: &str,
        names: &[String],
        per_request: Option<u64>,
    ) -> Result<DeleteReport> {
        let mut report = DeleteReport::default();
        let Some(per_request) = per_request else {
            let outcomes = run_indexed(
                names.len(),
                self.config.large.threads.max(8),
                0,
                None,
                || Error::new(ErrorKind::Cancelled, "cancelled"),
                |i, _| {
                    let target = Target::In {
                        container,
                        object: Some(&names[i]),
                        query: None,
                    };
                    Ok(self.delete_in(target, &names[i]))
                },
            )?;
            for (name, outcome) in names.iter().zip(outcomes) {
                match outcome {
                    Ok(true) => report.deleted += 1,
                    Ok(false) => report.missing += 1,
                    Err(e)
                        if e.kind() == ErrorKind::Auth
                            || e.kind() == ErrorKind::ContainerNotFound =>
                    {
                        return Err(e)
                    }
                    Err(e) => report.failures.push((name.clone(), e)),
                }
            }
            return Ok(report);
        };
        // Swift's bulk middleware deletes a request's names a few at a time (its
        // `delete_concurrency`, 2 by default): many names go as several requests at once (as
        // many as DELETEs would go at once without bulk delete), each within the cluster's limit.
        let threads = self.config.large.threads.max(8);
        let limit = usize::try_from(per_request).unwrap_or(usize::MAX).max(1);
        let per = names.len().div_ceil(threads).max(MIN_BULK_CHUNK).min(limit);
        let chunks: Vec<&[String]> = names.chunks(per).collect();
        let batches = run_indexed(
            chunks.len(),
            threads,
            0,
            None,
            || Error::new(ErrorKind::Cancelled, "cancelled"),
            |i, _| self.bulk_delete(container, chunks[i]),
        )?;
        for (chunk, batch) in chunks.iter().zip(batches) {
            if let Some((status, body)) = batch.whole {
                let e = answer::swift_error(
                    &format!("deleting {} objects of '{container}'", chunk.len()),
                    status,
                    &reqwest::header::HeaderMap::new(),
                    About::Container(container),
                );
                let e = Error::new(e.kind(), format!("{} ({body})", e.message()))
                    .with_http(status, None);
                return Err(e);
            }
            report.deleted += batch.deleted;
            report.missing += batch.missing;
            let prefix = format!("/{container}/");
            for (path, why) in batch.failed {
                let name = path.strip_prefix(&prefix).unwrap_or(&path).to_string();
                let status = status_of(&why);
                let e = answer::swift_error(
                    &format!("deleting '{name}'"),
                    status,
                    &reqwest::header::HeaderMap::new(),
                    About::Object(&name),
                );
                report.failures.push((name, e));
            }
        }
        Ok(report)
    }

    /// One bulk delete of `names` of `container`.
    fn bulk_delete(&self, container: &str, names: &[String]) -> Result<Batch> {
        let what = format!("deleting {} objects of '{container}' at once", names.len());
        let mut body = String::new();
        for n in names {
            body.push('/');
            body.push_str(&encode_segment(container));
            body.push('/');
            body.push_str(&encode_path(n));
            body.push('\n');
        }
        let mut exchange = SmallBody {
            body: body.into_bytes().into(),
            headers: &[
                ("Accept", "application/json"),
                ("Content-Type", "text/plain"),
            ],
            extra: &[],
            limit: MAX_BULK_ANSWER,
        };
        let answer = self.send(
            &what,
            Method::POST,
            Target::BulkDelete,
            Some(self.config.timeouts.list),
            &mut exchange,
        )?;
        if !(200..300).contains(&answer.status) {
            return Err(answer::swift_error(
                &what,
                answer.status,
                &answer.headers,
                About::Container(container),
            ));
        }
        read_bulk_answer(&answer.body)
            .map_err(|e| Error::new(ErrorKind::Server, format!("{what}: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bulk_answer_tells_each_failed_name() {
        let ok = read_bulk_answer(
            b"   \r\n\r\n{\"Number Not Found\": 2, \"Response Status\": \"200 OK\", \"Response Body\": \"\", \"Errors\": [], \"Number Deleted\": 5}",
        )
        .unwrap();
        assert_eq!((ok.deleted, ok.missing, ok.whole), (5, 2, None));
        let some = read_bulk_answer(
            br#"{"Number Not Found": 0, "Response Status": "409 Conflict", "Response Body": "", "Errors": [["/c/a%20b", "409 Conflict"]], "Number Deleted": 1}"#,
        )
        .unwrap();
        assert_eq!(
            some.failed,
            vec![("/c/a b".to_string(), "409 Conflict".to_string())]
        );
        assert_eq!(status_of(&some.failed[0].1), 409);
        let whole = read_bulk_answer(
            br#"{"Number Not Found": 0, "Response Status": "413 Request Entity Too Large", "Response Body": "Maximum Bulk Deletes: 10 per request", "Errors": [], "Number Deleted": 0}"#,
        )
        .unwrap();
        assert_eq!(whole.whole.as_ref().map(|w| w.0), Some(413));
        assert!(read_bulk_answer(b"  ").is_err());
    }
}
