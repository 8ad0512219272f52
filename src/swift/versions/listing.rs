//! The versions of objects as Swift lists them (`GET ?versions`), page by page with `marker`
//! and `version_marker`.

use reqwest::Method;
use serde::Deserialize;

use crate::error::{Error, ErrorKind, Result};
use crate::http::answer::{self, About};
use crate::http::driver::Response;
use crate::http::TryError;
use crate::swift::names::encode_segment;
use crate::swift::request::{Plain, Swift, Target};
use crate::swift::types::Version;

/// The content type of a delete marker in a versions listing.
const DELETE_MARKER: &str = "application/x-deleted;swift_versions_deleted=1";

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
            let newest = self.listing_headers();
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
}

#[cfg(test)]
mod tests {
    use super::*;

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
