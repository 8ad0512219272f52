//! What the cluster allows (`/info`): a value each destination reads once and keeps, with what
//! it learned about the segment container. Large objects and metadata checks use it; the
//! request path only carries it.

use std::sync::{Mutex, OnceLock};
use std::time::Instant;

use reqwest::Method;
use serde::Deserialize;

use super::request::{read_bounded, Plain, Swift, Target};
use crate::error::Result;
use crate::http::answer;
use crate::log;

/// Swift's default `max_file_size`, for clusters whose `/info` says nothing.
const DEFAULT_MAX_FILE_SIZE: u64 = 5 * 1024 * 1024 * 1024 + 2;
/// Swift's default `max_manifest_segments`.
const DEFAULT_MAX_SEGMENTS: u64 = 1000;
/// What the cluster allows, from `/info`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Limits {
    /// The largest single object.
    pub(crate) max_file_size: u64,
    /// The most segments one manifest may list.
    pub(crate) max_segments: u64,
    /// The smallest segment (but the last) a manifest may list.
    pub(crate) min_segment_size: u64,
    /// The limits of object metadata.
    pub(crate) meta: crate::swift::meta::MetaLimits,
    /// Whether the cluster offers Static Large Objects: `None` when `/info` did not say
    /// (unreadable or disabled), so only what must be segmented is.
    pub(crate) slo: Option<bool>,
    /// The most names one bulk delete may carry, when the cluster offers bulk deletes.
    pub(crate) bulk_delete: Option<u64>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            max_segments: DEFAULT_MAX_SEGMENTS,
            min_segment_size: 1,
            meta: crate::swift::meta::MetaLimits::default(),
            slo: None,
            bulk_delete: None,
        }
    }
}

/// What the cluster offers beyond limits, from `/info`: its storage policies and whether it
/// has object versioning. `None` where `/info` could not be read or does not say.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Features {
    /// The storage policies: each one's name and aliases (the name among them).
    pub(crate) policies: Option<Vec<Vec<String>>>,
    /// Whether `/info` lists `object_versioning` (Swift 2.24+ with `allow_object_versioning`).
    pub(crate) object_versioning: Option<bool>,
}

#[derive(Deserialize)]
struct InfoPolicy {
    name: String,
    aliases: Option<String>,
}

#[derive(Deserialize)]
struct FeatureInfo {
    swift: Option<FeatureSwift>,
    object_versioning: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct FeatureSwift {
    policies: Option<Vec<InfoPolicy>>,
}

/// Reads the storage policies and object versioning from the body of `/info`.
pub(crate) fn parse_features(body: &[u8]) -> Features {
    let Ok(info) = serde_json::from_slice::<FeatureInfo>(body) else {
        return Features::default();
    };
    let policies = info.swift.and_then(|s| s.policies).map(|ps| {
        ps.into_iter()
            .map(|p| {
                let mut names = vec![p.name.clone()];
                for a in p.aliases.unwrap_or_default().split(',') {
                    let a = a.trim();
                    if !a.is_empty() && a != p.name {
                        names.push(a.to_string());
                    }
                }
                names
            })
            .collect()
    });
    Features {
        policies,
        object_versioning: Some(info.object_versioning.is_some()),
    }
}

#[derive(Deserialize)]
struct Info {
    swift: Option<InfoSwift>,
    slo: Option<InfoSlo>,
    bulk_delete: Option<InfoBulkDelete>,
}

#[derive(Deserialize)]
struct InfoBulkDelete {
    max_deletes_per_request: Option<u64>,
}

#[derive(Deserialize)]
struct InfoSwift {
    max_file_size: Option<u64>,
    max_meta_name_length: Option<usize>,
    max_meta_value_length: Option<usize>,
    max_meta_count: Option<usize>,
    max_meta_overall_size: Option<usize>,
}

#[derive(Deserialize)]
struct InfoSlo {
    max_manifest_segments: Option<u64>,
    min_segment_size: Option<u64>,
}

/// Reads the limits from the body of `/info`; what it lacks keeps Swift's defaults.
pub(crate) fn parse_info(body: &[u8]) -> Limits {
    let d = Limits::default();
    let Ok(info) = serde_json::from_slice::<Info>(body) else {
        return d;
    };
    let slo = info.slo.as_ref();
    let sw = info.swift.as_ref();
    let m = d.meta;
    let meta = crate::swift::meta::MetaLimits {
        max_meta_name_length: sw
            .and_then(|s| s.max_meta_name_length)
            .unwrap_or(m.max_meta_name_length),
        max_meta_value_length: sw
            .and_then(|s| s.max_meta_value_length)
            .unwrap_or(m.max_meta_value_length),
        max_meta_count: sw
            .and_then(|s| s.max_meta_count)
            .unwrap_or(m.max_meta_count),
        max_meta_overall_size: sw
            .and_then(|s| s.max_meta_overall_size)
            .unwrap_or(m.max_meta_overall_size),
    };
    Limits {
        meta,
        slo: Some(slo.is_some()),
        // Swift's default is 10,000 names a request; a bulk_delete section without a number
        // takes a cautious 1,000.
        bulk_delete: info
            .bulk_delete
            .map(|b| b.max_deletes_per_request.filter(|n| *n > 0).unwrap_or(1000)),
        max_file_size: sw
            .and_then(|s| s.max_file_size)
            .filter(|n| *n > 0)
            .unwrap_or(d.max_file_size),
        max_segments: slo
            .and_then(|s| s.max_manifest_segments)
            .filter(|n| *n > 0)
            .unwrap_or(d.max_segments),
        min_segment_size: slo
            .and_then(|s| s.min_segment_size)
            .unwrap_or(d.min_segment_size)
            .max(1),
    }
}

/// What a destination learned about the cluster.
#[derive(Default)]
pub(crate) struct ClusterState {
    limits: OnceLock<Limits>,
    features: OnceLock<Features>,
    /// Whether the container was seen versioned (or asked to be): old segments then stay.
    pub(crate) versioned: std::sync::atomic::AtomicBool,
    /// When the segment container was last found missing; `Some(None)` once it is known to
    /// exist.
    pub(crate) segments_absent: Mutex<Option<Option<Instant>>>,
}

impl Swift {
    /// The cluster's limits: `/info`, read once per destination (Swift's defaults when the
    /// cluster does not publish it).
    pub(crate) fn limits(&self) -> Result<Limits> {
        if let Some(l) = self.cluster.limits.get() {
            return Ok(*l);
        }
        let what = "reading the cluster's limits (/info)";
        let mut exchange = Plain::new(&[], |resp: crate::http::driver::Response, _| {
            if !resp.status().is_success() {
                log::info!(
                    "{what}: HTTP {}; assuming Swift's defaults",
                    resp.status().as_u16()
                );
                return Ok((Limits::default(), Features::default()));
            }
            let body =
                read_bounded(resp, 1 << 20).map_err(|e| answer::transport_failure(what, &e))?;
            Ok((parse_info(&body), parse_features(&body)))
        });
        let (limits, features) = self.send(
            what,
            Method::GET,
            Target::Info,
            Some(self.config.timeouts.short),
            &mut exchange,
        )?;
        log::debug!("{what}: {limits:?} {features:?}");
        let _ = self.cluster.features.set(features);
        Ok(*self.cluster.limits.get_or_init(|| limits))
    }

    /// The cluster's storage policies and whether it offers object versioning, from the same
    /// `/info` as [`Swift::limits`] (read once per destination).
    pub(crate) fn features(&self) -> Result<Features> {
        if let Some(f) = self.cluster.features.get() {
            return Ok(f.clone());
        }
        self.limits()?;
        Ok(self.cluster.features.get().cloned().unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_fills_what_it_says() {
        let l = parse_info(br#"{"swift":{"max_file_size":33554432,"max_meta_count":3},"slo":{"max_manifest_segments":20,"min_segment_size":2}}"#);
        assert_eq!(
            l,
            Limits {
                max_file_size: 33554432,
                max_segments: 20,
                min_segment_size: 2,
                meta: crate::swift::meta::MetaLimits {
                    max_meta_count: 3,
                    ..Default::default()
                },
                slo: Some(true),
                bulk_delete: None,
            }
        );
        assert_eq!(parse_info(b"not json"), Limits::default());
        let f = parse_features(br#"{"swift":{"policies":[{"name":"Policy-0","aliases":"Policy-0","default":true},{"name":"gold","aliases":"gold, silver"}]},"object_versioning":{}}"#);
        assert_eq!(
            f.policies,
            Some(vec![
                vec!["Policy-0".to_string()],
                vec!["gold".to_string(), "silver".to_string()]
            ])
        );
        assert_eq!(f.object_versioning, Some(true));
        let f = parse_features(br#"{"swift":{}}"#);
        assert_eq!((f.policies, f.object_versioning), (None, Some(false)));
        assert_eq!(parse_features(b"[1"), Features::default());
        let bulk = |j: &str| parse_info(j.as_bytes()).bulk_delete;
        assert_eq!(
            bulk(r#"{"bulk_delete":{"max_deletes_per_request":10000}}"#),
            Some(10000)
        );
        assert_eq!(bulk(r#"{"bulk_delete":{}}"#), Some(1000));
        assert_eq!(
            bulk(r#"{"bulk_delete":{"max_deletes_per_request":0}}"#),
            Some(1000)
        );
        assert_eq!(
            parse_info(br#"{"swift":{"max_file_size":0}}"#),
            Limits {
                slo: Some(false),
                ..Limits::default()
            }
        );
    }
}
