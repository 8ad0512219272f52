//! Container listings: JSON pages with `marker` until an empty page, `delimiter=/` so that
//! sub-folders come back as folder entries, names made relative to the prefix.
//!
//! No `limit` is sent: Swift then answers with its own `container_listing_limit`, whatever the
//! cluster set it to (a fixed limit above it is refused with 412).

use crate::http::driver::Response;
use reqwest::Method;
use serde::Deserialize;

use super::names::encode_segment;
use super::request::{Plain, Swift, Target};
use super::types::{Entry, EntryKind};
use crate::error::{Error, ErrorKind, Result};
use crate::http::answer::{self, About};
use crate::http::TryError;

/// One row of Swift's JSON listing. A field other than the name of a type or a range it cannot
/// have (`"bytes": -1`, `1e30`, `"12"`) is unknown, not a failed listing.
#[derive(Deserialize)]
struct Row {
    name: Option<String>,
    subdir: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    bytes: Option<u64>,
    #[serde(default, deserialize_with = "lenient")]
    hash: Option<String>,
    /// A Static Large Object's own ETag (its `hash` is the manifest's MD5).
    #[serde(default, deserialize_with = "lenient")]
    slo_etag: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    last_modified: Option<String>,
}

/// A field read as `T` when it is one, else `None` (unknown).
fn lenient<'de, D, T>(d: D) -> std::result::Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    let value = serde_json::Value::deserialize(d)?;
    Ok(serde_json::from_value(value).ok())
}

/// Turns a listing row into an entry relative to `prefix`; rows outside the prefix are dropped.
fn to_entry(row: Row, prefix: &str) -> Option<Entry> {
    if let Some(dir) = row.subdir {
        let rel = dir.strip_prefix(prefix)?.trim_end_matches('/').to_string();
        if rel.is_empty() {
            return None;
        }
        return Some(Entry {
            name: rel,
            size: None,
            last_modified: None,
            is_folder: true,
            kind: EntryKind::Folder,
            etag: None,
            mtime: None,
            metadata: Default::default(),
            delete_at: None,
            maybe_large: false,
        });
    }
    let name = row.name?;
    let rel = name.strip_prefix(prefix)?.to_string();
    if rel.is_empty() {
        return None;
    }
    Some(Entry {
        name: rel,
        size: row.bytes,
        last_modified: row
            .last_modified
            .as_deref()
            .and_then(crate::time::parse_timestamp),
        is_folder: false,
        // A DLO lists as an ordinary zero-byte object: only a HEAD tells (Destination::list_with).
        kind: if row.slo_etag.is_some() {
            EntryKind::StaticLarge
        } else {
            EntryKind::Object
        },
        maybe_large: row.slo_etag.is_some() || row.bytes == Some(0),
        etag: row
            .slo_etag
            .or(row.hash)
            .map(|h| h.trim_matches('"').to_ascii_lowercase()),
        mtime: None,
        metadata: Default::default(),
        delete_at: None,
    })
}

/// The marker for the page after `rows`: the last name or subdir.
fn last_marker(rows: &[Row]) -> Option<String> {
    rows.last()
        .and_then(|r| r.name.clone().or_else(|| r.subdir.clone()))
}

/// One page of a listing.
pub(crate) struct Page {
    /// The entries under the prefix, relative to it.
    pub(crate) entries: Vec<Entry>,
    /// The marker for the next page; `None` when this page was the last.
    pub(crate) next: Option<String>,
}

/// Reads one page of Swift's JSON listing (the body of a 200 answer).
pub(crate) fn parse_page(
    body: &[u8],
    prefix: &str,
) -> std::result::Result<Page, serde_json::Error> {
    let rows: Vec<Row> = serde_json::from_slice(body)?;
    let next = last_marker(&rows);
    let entries = rows
        .into_iter()
        .filter_map(|r| to_entry(r, prefix))
        .collect();
    Ok(Page { entries, next })
}

impl Swift {
    /// The headers of every listing request: `X-Newest` with `openstack-list-newest`.
    pub(crate) fn listing_headers(&self) -> &'static [(&'static str, &'static str)] {
        if self.config.list_newest {
            &[("X-Newest", "true")]
        } else {
            &[]
        }
    }

    /// Lists the objects whose names start with `prefix` (of the container, not the
    /// destination), page by page, names relative to `strip` (a start of `prefix`): with
    /// `recursive` every object, else the objects directly under it and its sub-folders as
    /// folder entries. `each` gets every page and returns whether to go on; memory is bounded
    /// by one page.
    pub(crate) fn list_pages(
        &self,
        prefix: &str,
        strip: &str,
        recursive: bool,
        each: impl FnMut(Vec<Entry>) -> Result<bool>,
    ) -> Result<()> {
        self.list_pages_in(&self.config.container, prefix, strip, recursive, each)
    }

    /// [`Swift::list_pages`] of any container of the account (the segment container).
    pub(crate) fn list_pages_in(
        &self,
        container: &str,
        prefix: &str,
        strip: &str,
        recursive: bool,
        mut each: impl FnMut(Vec<Entry>) -> Result<bool>,
    ) -> Result<()> {
        let what = format!("listing container '{container}'");
        let mut marker: Option<String> = None;
        loop {
            let mut query = format!("format=json&prefix={}", encode_segment(prefix));
            if !recursive {
                query.push_str("&delimiter=%2F");
            }
            if let Some(m) = &marker {
                query.push_str("&marker=");
                query.push_str(&encode_segment(m));
            }
            let newest = self.listing_headers();
            let mut exchange =
                Plain::new(newest, |resp: Response, _| match resp.status().as_u16() {
                    204 => Ok(None),
                    200 => {
                        // A page that breaks off is asked for again (the same marker).
                        let body = resp
                            .bytes()
                            .map_err(|e| answer::transport_failure(&what, &e))?;
                        let page = parse_page(&body, strip).map_err(|e| {
                            Error::new(
                                ErrorKind::Server,
                                format!("{what}: the listing is not the JSON Swift sends: {e}"),
                            )
                        })?;
                        Ok(Some(page))
                    }
                    status => Err(TryError::Fail(answer::swift_error(
                        &what,
                        status,
                        resp.headers(),
                        About::Container(container),
                    ))),
                });
            let target = Target::In {
                container,
                object: None,
                query: Some(&query),
            };
            let timeout = Some(self.config.timeouts.list);
            let Some(page) = self.send(&what, Method::GET, target, timeout, &mut exchange)? else {
                return Ok(());
            };
            if !each(page.entries)? {
                return Ok(());
            }
            match page.next {
                Some(next) if Some(&next) != marker.as_ref() => marker = Some(next),
                _ => return Ok(()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(json: &str) -> Vec<Row> {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn relative_names_folders_and_fields() {
        let r = rows(
            r#"[
            {"subdir":"p/sub/"},
            {"name":"p/a b+c","bytes":5,"hash":"ABC","last_modified":"2026-11-27T09:00:00.250000","content_type":"x"},
            {"name":"other","bytes":1}
        ]"#,
        );
        assert_eq!(last_marker(&r).as_deref(), Some("other"));
        let e: Vec<Entry> = r.into_iter().filter_map(|r| to_entry(r, "p/")).collect();
        assert_eq!(e.len(), 2);
        assert!(e[0].is_folder && e[0].name == "sub" && e[0].size.is_none());
        assert_eq!(e[1].name, "a b+c");
        assert_eq!(e[1].size, Some(5));
        assert_eq!(e[1].etag.as_deref(), Some("abc"));
        assert_eq!(
            crate::time::to_unix_ms(e[1].last_modified.unwrap()),
            1_795_770_000_250
        );
        assert_eq!(e[0].kind, EntryKind::Folder);
        assert_eq!(e[1].kind, EntryKind::Object);
    }

    #[test]
    fn a_static_large_object_lists_with_its_own_etag_and_kind() {
        // Swift 2.30.1's rows (the test bed's): an SLO carries `slo_etag` beside the manifest's
        // MD5 in `hash`; a DLO is an empty object like any other.
        let r = rows(
            r#"[
            {"bytes":0,"hash":"d41d8cd98f00b204e9800998ecf8427e","name":"dlo.bin","content_type":"application/octet-stream","last_modified":"2026-12-06T16:25:00.916410"},
            {"bytes":3000000,"hash":"68d77b20011d84e2a9112178c77c712c","name":"slo.bin","content_type":"application/octet-stream","last_modified":"2026-12-06T16:25:00.838240","slo_etag":"\"6FAD2DD4FDD23822CE57B8E6BD82FF1B\""}
        ]"#,
        );
        let e: Vec<Entry> = r.into_iter().filter_map(|r| to_entry(r, "")).collect();
        assert_eq!((e[0].kind, e[0].size), (EntryKind::Object, Some(0)));
        assert!(e[0].maybe_large);
        assert_eq!(e[1].kind, EntryKind::StaticLarge);
        assert_eq!(
            e[1].etag.as_deref(),
            Some("6fad2dd4fdd23822ce57b8e6bd82ff1b")
        );
    }

    #[test]
    fn odd_fields_of_another_writer_are_unknown_not_a_failed_listing() {
        let page = parse_page(
            br#"[
            {"name":"p/neg","bytes":-1,"hash":5,"last_modified":"99999-01-01T00:00:00"},
            {"name":"p/float","bytes":1.5e30,"last_modified":12},
            {"name":"p/text","bytes":"12","slo_etag":null,"last_modified":"1000000000000"},
            {"name":"p/late","bytes":18446744073709551615,"last_modified":"9999-12-31T23:59:59.999999-01:00"}
        ]"#,
            "p/",
        )
        .unwrap();
        let e = page.entries;
        assert_eq!(e.len(), 4);
        for entry in &e[..3] {
            assert_eq!((entry.size, entry.last_modified), (None, None), "{entry:?}");
        }
        assert_eq!(e[0].etag, None);
        assert_eq!(e[3].size, Some(u64::MAX));
        assert_eq!(e[3].last_modified, None, "year 10000 in UTC");
        assert_eq!(page.next.as_deref(), Some("p/late"));
    }
}
