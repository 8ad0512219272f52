//! Static Large Object manifests: the one Swift gives back (`?multipart-manifest=get`) and the
//! one an upload sends (`?multipart-manifest=put`).

use serde::{Deserialize, Serialize};

/// The largest manifest read (Swift's own limit is 8 MiB by default).
pub(crate) const MAX_MANIFEST: u64 = 16 * 1024 * 1024;

/// One segment a manifest lists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SegmentRef {
    /// The segment's container.
    pub(crate) container: String,
    /// The segment's object name.
    pub(crate) name: String,
    /// Its size.
    pub(crate) bytes: u64,
    /// Its MD5 (hex, lower case).
    pub(crate) hash: String,
    /// False when the entry is not simply the whole of an ordinary object (a byte range of it,
    /// or a nested manifest): such objects are read whole, not segment by segment.
    pub(crate) whole: bool,
}

#[derive(Deserialize)]
struct Row {
    name: String,
    bytes: u64,
    hash: String,
    #[serde(default)]
    sub_slo: bool,
    range: Option<String>,
}

/// Reads the manifest Swift returns for `?multipart-manifest=get`.
pub(crate) fn parse_manifest(body: &[u8]) -> Result<Vec<SegmentRef>, String> {
    let rows: Vec<Row> = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    rows.into_iter()
        .map(|r| {
            let path = r.name.strip_prefix('/').unwrap_or(&r.name);
            let (container, name) = path
                .split_once('/')
                .filter(|(c, n)| !c.is_empty() && !n.is_empty())
                .ok_or_else(|| {
                    format!(
                        "the segment path '{}' names no container and object",
                        r.name
                    )
                })?;
            let dots = |p: &str| p.split('/').any(|s| s == "." || s == "..");
            let hash = r.hash.to_ascii_lowercase();
            let md5_like = hash.len() == 32 && hash.bytes().all(|b| b.is_ascii_hexdigit());
            Ok(SegmentRef {
                container: container.to_string(),
                name: name.to_string(),
                bytes: r.bytes,
                whole: !r.sub_slo
                    && r.range.is_none()
                    && md5_like
                    && !dots(container)
                    && !dots(name),
                hash,
            })
        })
        .collect()
}

#[derive(Serialize)]
struct PutRow<'a> {
    path: String,
    etag: &'a str,
    size_bytes: u64,
}

/// The body of `?multipart-manifest=put` for `segments` (container, name, MD5, size).
pub(crate) fn manifest_body(container: &str, segments: &[(String, String, u64)]) -> Vec<u8> {
    let rows: Vec<PutRow> = segments
        .iter()
        .map(|(name, md5, size)| PutRow {
            path: format!("/{container}/{name}"),
            etag: md5,
            size_bytes: *size,
        })
        .collect();
    serde_json::to_vec(&rows).unwrap_or_default()
}

/// The ETag Swift gives a Static Large Object: the MD5 of its segments' MD5s, concatenated.
pub(crate) fn slo_etag<'a>(md5s: impl IntoIterator<Item = &'a str>) -> String {
    use md5::Digest;
    let mut m = md5::Md5::new();
    for e in md5s {
        m.update(e.as_bytes());
    }
    super::super::body::hex(&m.finalize())
}

/// The ETag some Swift-compatible servers give a Static Large Object: the MD5 of its segments'
/// binary digests, concatenated (segments whose MD5 is not hex count as their text).
pub(crate) fn slo_etag_binary<'a>(md5s: impl IntoIterator<Item = &'a str>) -> String {
    use md5::Digest;
    let mut m = md5::Md5::new();
    for e in md5s {
        let raw: Option<Vec<u8>> = (e.len() % 2 == 0)
            .then(|| {
                (0..e.len())
                    .step_by(2)
                    .map(|i| e.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
                    .collect()
            })
            .flatten();
        match raw {
            Some(raw) => m.update(&raw),
            None => m.update(e.as_bytes()),
        }
    }
    super::super::body::hex(&m.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swifts_manifest_is_read_and_odd_entries_are_marked() {
        let body = br#"[
          {"name":"/c_segments/a/1","bytes":6,"hash":"B1946AC92492D2347C6235B4D2611184","content_type":"x"},
          {"name":"/c/sub","bytes":6,"hash":"591785b794601e212b260e25925636fd","sub_slo":true},
          {"name":"/c/r","bytes":2,"hash":"591785b794601e212b260e25925636fd","range":"0-1"},
          {"name":"/c/../x","bytes":1,"hash":"591785b794601e212b260e25925636fd"}
        ]"#;
        let m = parse_manifest(body).unwrap();
        assert_eq!(m[0].container, "c_segments");
        assert_eq!(m[0].name, "a/1");
        assert_eq!(m[0].hash, "b1946ac92492d2347c6235b4d2611184");
        assert!(m[0].whole);
        assert!(!m[1].whole && !m[2].whole && !m[3].whole);
        assert!(parse_manifest(br#"[{"name":"nocontainer","bytes":1,"hash":"x"}]"#).is_err());
        assert!(parse_manifest(b"{}").is_err());
    }

    #[test]
    fn the_slo_etag_is_the_md5_of_the_segment_md5s() {
        // Checked against Swift: these two segments ("hello\n", "world\n") gave this ETag.
        assert_eq!(
            slo_etag([
                "b1946ac92492d2347c6235b4d2611184",
                "591785b794601e212b260e25925636fd"
            ]),
            "54d8cdc668602821ead47fa2c308a131"
        );
        // The other form: the MD5 of the binary digests (as S3's multipart ETag is made).
        let hello = {
            use md5::Digest;
            crate::swift::body::hex(&md5::Md5::digest(md5::Md5::digest(b"hello\n")))
        };
        assert_eq!(slo_etag_binary(["b1946ac92492d2347c6235b4d2611184"]), hello);
        let body = manifest_body("c_segments", &[("a/1".into(), "b1".into(), 6)]);
        assert_eq!(
            String::from_utf8(body).unwrap(),
            r#"[{"path":"/c_segments/a/1","etag":"b1","size_bytes":6}]"#
        );
    }
}
