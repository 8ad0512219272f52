//! The last steps of a segmented upload: the manifest that makes a set of segments one object,
//! and what happens to the set when that fails.
//!
//! The manifest goes up with `?heartbeat=on`: Swift answers at once and keeps the connection
//! alive while it checks every segment, then gives the real status in the body, so a long
//! validation on a busy cluster never runs into the read timeout. When the answer is lost or
//! is a failure, the object is read back (`X-Newest`) before anything is deleted: a manifest
//! that made it in place owns its segments, whatever the answer said.

use reqwest::Method;
use serde::Deserialize;

use super::manifest::{manifest_body, slo_etag, slo_etag_binary};
use super::Parts;
use crate::error::{Error, ErrorKind, Result};
use crate::http::answer::{self, About};
use crate::log;
use crate::swift::meta::Headers;
use crate::swift::request::{SmallBody, Swift, Target};

/// One segment of a manifest to put up: name (in the segment container), MD5, size.
pub(crate) type Row = (String, String, u64);

/// The largest body of a heartbeat answer read (whitespace, then a small JSON document).
const MAX_HEARTBEAT_ANSWER: u64 = 4 * 1024 * 1024;

/// What Swift says at the end of a heartbeat answer.
#[derive(Deserialize)]
struct Final {
    #[serde(rename = "Response Status")]
    status: String,
    #[serde(rename = "Etag", default)]
    etag: Option<String>,
    #[serde(rename = "Errors", default)]
    errors: Vec<serde_json::Value>,
    #[serde(rename = "Response Body", default)]
    body: Option<String>,
}

/// How a manifest PUT ended: the status and ETag Swift gave, and its problems.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Outcome {
    /// The HTTP status of the PUT (from the heartbeat body when there was one).
    pub(crate) status: u16,
    /// The object's ETag, when Swift gave one.
    pub(crate) etag: Option<String>,
    /// What Swift found wrong (segment problems), in one line.
    pub(crate) problems: String,
}

/// Reads the answer to a manifest PUT: an ordinary answer (`status`, `etag` header), or a
/// heartbeat answer (202, whitespace, then a JSON document with the real status).
pub(crate) fn read_outcome(status: u16, etag: Option<String>, body: &[u8]) -> Outcome {
    if status != 202 {
        return Outcome {
            status,
            etag,
            problems: String::from_utf8_lossy(body)
                .trim()
                .chars()
                .take(300)
                .collect(),
        };
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    match serde_json::from_str::<Final>(text) {
        Ok(f) => {
            let status = f
                .status
                .split_whitespace()
                .next()
                .and_then(|s| s.parse().ok())
                .unwrap_or(502);
            let mut problems: Vec<String> = f.errors.iter().map(|e| e.to_string()).collect();
            if let Some(b) = f.body.filter(|b| !b.trim().is_empty() && status >= 300) {
                problems.push(b.trim().to_string());
            }
            Outcome {
                status,
                etag: f.etag.map(|e| e.trim_matches('"').to_ascii_lowercase()),
                problems: problems.join("; ").chars().take(300).collect(),
            }
        }
        Err(_) => Outcome {
            status: 502,
            etag: None,
            problems: format!(
                "the heartbeat answer did not end in the JSON document Swift sends ({} bytes)",
                text.len()
            ),
        },
    }
}

impl Swift {
    /// Puts up the manifest that makes the segments `rows` of the segment container the
    /// object `full`. Swift checks every segment's size and MD5 against the manifest before
    /// the object changes; the ETag it answers is then compared with the one the segments
    /// give, in either form servers use, and an ETag in a form not known here is accepted
    /// once the stored manifest reads back as the one sent: nothing that replaced the object
    /// is ever deleted for the form of its ETag.
    pub(crate) fn put_manifest(&self, full: &str, rows: &[Row], metadata: &Headers) -> Result<()> {
        let size: u64 = rows.iter().map(|r| r.2).sum();
        self.limits()?.check_slo(size)?;
        let container = self.config.large.segment_container.clone();
        let what = format!("storing the manifest of '{full}'");
        let mut exchange = SmallBody {
            body: manifest_body(&container, rows).into(),
            headers: &[
                ("Accept", "application/json"),
                ("Content-Type", "application/json"),
            ],
            extra: metadata,
            limit: MAX_HEARTBEAT_ANSWER,
        };
        let answer = self.send(
            &what,
            Method::PUT,
            Target::In {
                container: &self.config.container,
                object: Some(full),
                query: Some("multipart-manifest=put&heartbeat=on"),
            },
            Some(self.config.timeouts.list),
            &mut exchange,
        )?;
        let outcome = read_outcome(
            answer.status,
            crate::headers::etag(&answer.headers),
            &answer.body,
        );
        if !(200..300).contains(&outcome.status) {
            let mut e = answer::swift_error(
                &what,
                outcome.status,
                &reqwest::header::HeaderMap::new(),
                About::Object(full),
            );
            if !outcome.problems.is_empty() {
                e = Error::new(e.kind(), format!("{} ({})", e.message(), outcome.problems))
                    .with_http(outcome.status, None);
            }
            return Err(e);
        }
        let md5s = || rows.iter().map(|r| r.1.as_str());
        match outcome.etag {
            Some(etag) if etag != slo_etag(md5s()) && etag != slo_etag_binary(md5s()) => {
                if self.manifest_is(full, rows)? {
                    log::info!("{what}: Swift's ETag {etag} has a form not known here, but the manifest reads back as the one sent");
                } else {
                    return Err(Error::new(
                        ErrorKind::Integrity,
                        format!("{what}: the object now under the name is not the manifest sent (another writer replaced it at the same time?); nothing was deleted"),
                    ));
                }
            }
            _ => {}
        }
        log::info!(
            "uploaded '{full}' ({size} bytes in {} segments)",
            rows.len()
        );
        Ok(())
    }

    /// Whether the object `full` is (now, asked with `X-Newest`) a Static Large Object made of
    /// exactly `rows`.
    fn manifest_is(&self, full: &str, rows: &[Row]) -> Result<bool> {
        let container = &self.config.large.segment_container;
        let refs = self.manifest_of(full)?;
        Ok(refs.len() == rows.len()
            && refs.iter().zip(rows).all(|(r, (name, md5, size))| {
                &r.container == container && &r.name == name && &r.hash == md5 && r.bytes == *size
            }))
    }

    /// Whether the object under `full` is a manifest that references a segment of the set
    /// `set`: `None` when that cannot be told (nothing may then be deleted).
    pub(crate) fn references(&self, full: &str, set: &str) -> Option<bool> {
        let container = &self.config.large.segment_container;
        match self.parts_of(full, true) {
            Ok(Some(Parts::Static(refs))) => Some(
                refs.iter()
                    .any(|r| &r.container == container && r.name.starts_with(set)),
            ),
            Ok(Some(Parts::Dynamic {
                container: c,
                prefix,
            })) => Some(&c == container && (set.starts_with(&prefix) || prefix.starts_with(set))),
            Ok(None) => Some(false),
            Err(e) => {
                log::info!("could not read what '{full}' is made of ({e})");
                None
            }
        }
    }

    /// Deletes the set of segments `set` (its segments and its mark) of a failed upload of
    /// `full`, once the object under `full` is known not to reference it.
    pub(crate) fn discard_set(&self, full: &str, set: &str) {
        let container = self.config.large.segment_container.clone();
        match self.references(full, set) {
            Some(false) => {}
            Some(true) => {
                log::info!("the segments under '{container}/{set}' are what '{full}' is made of: they stay");
                return;
            }
            None => {
                log::warning!("the segments under '{container}/{set}' stay: whether '{full}' uses them could not be told");
                return;
            }
        }
        let mut names = Vec::new();
        if let Err(e) = self.list_pages_in(&container, set, "", true, |page| {
            names.extend(page.into_iter().map(|e| e.name));
            Ok(true)
        }) {
            log::warning!(
                "the segments under '{container}/{set}' could not be listed to remove them: {e}"
            );
            return;
        }
        let all = names.len();
        let removed = self.delete_all_in(&container, names);
        log::info!(
            "removed {removed} of {all} segments of the failed upload under '{container}/{set}'"
        );
    }

    /// Deletes the objects `names` of `container` (a 404 counts as done), logging each that
    /// fails; returns how many are gone.
    pub(crate) fn delete_all_in(&self, container: &str, names: Vec<String>) -> usize {
        let mut gone = 0;
        for name in names {
            let target = Target::In {
                container,
                object: Some(&name),
                query: None,
            };
            match self.delete_in(target, &name) {
                Ok(_) => gone += 1,
                Err(e) => log::warning!("could not delete '{container}/{name}': {e}"),
            }
        }
        gone
    }

    /// Puts the zero-byte mark of a set whose upload may resume (see [`super::ownership`]).
    pub(crate) fn put_mark(&self, mark: &str) -> Result<()> {
        let container = self.config.large.segment_container.clone();
        self.put_mark_in(&container, mark)
    }

    /// Puts the zero-byte mark `mark` of a set in `container`.
    pub(crate) fn put_mark_in(&self, container: &str, mark: &str) -> Result<()> {
        let what = format!("marking the segments under '{container}/{mark}'");
        let target = Target::In {
            container,
            object: Some(mark),
            query: None,
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
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heartbeat_answers_give_the_real_status() {
        let ok = read_outcome(
            202,
            None,
            b"   \r\n\r\n{\"Response Status\": \"201 Created\", \"Response Body\": \"\", \"Etag\": \"\\\"54d8cdc668602821ead47fa2c308a131\\\"\", \"Last Modified\": \"x\", \"Errors\": []}",
        );
        assert_eq!(ok.status, 201);
        assert_eq!(ok.etag.as_deref(), Some("54d8cdc668602821ead47fa2c308a131"));
        let bad = read_outcome(
            202,
            None,
            b" \r\n\r\n{\"Response Status\": \"400 Bad Request\", \"Response Body\": \"\", \"Errors\": [[\"/c_segments/a/1\", \"404 Not Found\"]]}",
        );
        assert_eq!(bad.status, 400);
        assert!(bad.problems.contains("404 Not Found"), "{}", bad.problems);
        // Cut off, or not Swift's document: a failure, never a success.
        assert_eq!(read_outcome(202, None, b"     ").status, 502);
        assert_eq!(
            read_outcome(202, None, b" {\"Response Status\": \"x\"}").status,
            502
        );
        // A server that ignores the heartbeat answers as usual.
        let plain = read_outcome(201, Some("e".into()), b"");
        assert_eq!((plain.status, plain.etag.as_deref()), (201, Some("e")));
    }
}
