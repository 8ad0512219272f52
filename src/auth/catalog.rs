//! The service catalog of a Keystone token, in one shape for v2 and v3, and the choice of the
//! Swift endpoint.
//!
//! The rule (README's `openstack-region` row and DESIGN say the same): the candidates are the
//! endpoints of the wanted interface of every `object-store` service, in catalog order (the
//! services in order, each one's endpoints in order). With `openstack-region`, the first candidate
//! whose region (or v3 `region_id`) equals it case-insensitively — Unicode case, not ASCII only —
//! is chosen; with no region, or one that no candidate has, the first candidate (a region that
//! matched nothing is logged as a warning).

use crate::config::Interface;
use crate::error::{Error, ErrorKind, Result};
use crate::log;

/// One endpoint of a service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// `region` (v2 and v3).
    pub region: Option<String>,
    /// `region_id` (v3).
    pub region_id: Option<String>,
    /// Which interface the URL serves.
    pub interface: Interface,
    /// The endpoint URL.
    pub url: String,
}

/// One service of the catalog.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Service {
    /// The service type, e.g. `object-store`.
    pub service_type: String,
    /// Its endpoints, in catalog order.
    pub endpoints: Vec<Endpoint>,
}

/// The Swift service type.
pub const OBJECT_STORE: &str = "object-store";

/// Whether two region names are the same, case-insensitively in Unicode: compared after
/// upper-casing then lower-casing both (`Straße` = `STRASSE`, `Région` = `RÉGION`, the Kelvin
/// sign = `k`).
pub fn same_region(a: &str, b: &str) -> bool {
    let fold = |s: &str| s.to_uppercase().to_lowercase();
    a == b || fold(a) == fold(b)
}

/// Picks the storage URL (see the module's doc for the rule): among the endpoints of the wanted
/// interface of every `object-store` service, in catalog order, the first whose region (or region
/// id) is `region` ([`same_region`]); with no region, or none matching, the first (a given
/// region that matched nothing is logged).
pub fn choose_endpoint(
    catalog: &[Service],
    region: Option<&str>,
    interface: Interface,
) -> Result<String> {
    let services: Vec<&Service> = catalog
        .iter()
        .filter(|s| s.service_type == OBJECT_STORE)
        .collect();
    if services.is_empty() {
        return Err(Error::new(
            ErrorKind::EndpointNotFound,
            "the Keystone catalog has no object-store (Swift) service for this user and project: ask the cloud's operator, or check openstack-tenant-name",
        ));
    }
    let candidates: Vec<&Endpoint> = services
        .iter()
        .flat_map(|s| s.endpoints.iter())
        .filter(|e| e.interface == interface)
        .collect();
    let first = candidates.first().ok_or_else(|| {
        Error::new(
            ErrorKind::EndpointNotFound,
            format!(
                "the object-store service has no {} endpoint: set openstack-interface to one the catalog offers",
                interface.as_str()
            ),
        )
    })?;
    let Some(wanted) = region.filter(|r| !r.is_empty()) else {
        return Ok(first.url.clone());
    };
    let matches = |e: &&&Endpoint| {
        [&e.region, &e.region_id]
            .iter()
            .any(|r| r.as_deref().is_some_and(|r| same_region(r, wanted)))
    };
    match candidates.iter().find(matches) {
        Some(e) => Ok(e.url.clone()),
        None => {
            let known: Vec<&str> = candidates
                .iter()
                .filter_map(|e| e.region.as_deref().or(e.region_id.as_deref()))
                .collect();
            log::warning!(
                "openstack-region '{wanted}' matches no object-store endpoint (regions: {}); using the first endpoint, {}",
                known.join(", "),
                first.url
            );
            Ok(first.url.clone())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(region: &str, interface: Interface, url: &str) -> Endpoint {
        Endpoint {
            region: Some(region.into()),
            region_id: None,
            interface,
            url: url.into(),
        }
    }

    fn catalog() -> Vec<Service> {
        vec![
            Service {
                service_type: "identity".into(),
                endpoints: vec![ep("RegionOne", Interface::Public, "http://ks")],
            },
            Service {
                service_type: OBJECT_STORE.into(),
                endpoints: vec![
                    ep("RegionOne", Interface::Internal, "http://int-one"),
                    ep("RegionOne", Interface::Public, "http://pub-one"),
                    ep("RegionTwo", Interface::Public, "http://pub-two"),
                    ep("RegionTwo", Interface::Admin, "http://adm-two"),
                ],
            },
            Service {
                service_type: OBJECT_STORE.into(),
                endpoints: vec![ep("RegionTwo", Interface::Public, "http://second-service")],
            },
        ]
    }

    #[test]
    fn region_rule() {
        let c = catalog();
        assert_eq!(
            choose_endpoint(&c, None, Interface::Public).unwrap(),
            "http://pub-one"
        );
        assert_eq!(
            choose_endpoint(&c, Some("regiontwo"), Interface::Public).unwrap(),
            "http://pub-two"
        );
        assert_eq!(
            choose_endpoint(&c, Some("RegionTwo"), Interface::Public).unwrap(),
            "http://pub-two"
        );
        assert_eq!(
            choose_endpoint(&c, Some("Mars"), Interface::Public).unwrap(),
            "http://pub-one"
        );
        assert_eq!(
            choose_endpoint(&c, Some(""), Interface::Public).unwrap(),
            "http://pub-one"
        );
    }

    #[test]
    fn a_region_offered_only_by_a_later_service_is_found() {
        let c = catalog();
        assert_eq!(
            choose_endpoint(&c[2..], Some("regiontwo"), Interface::Public).unwrap(),
            "http://second-service"
        );
        let mut c = catalog();
        c[1].endpoints
            .retain(|e| e.region.as_deref() != Some("RegionTwo"));
        assert_eq!(
            choose_endpoint(&c, Some("RegionTwo"), Interface::Public).unwrap(),
            "http://second-service"
        );
    }

    #[test]
    fn interfaces() {
        let c = catalog();
        assert_eq!(
            choose_endpoint(&c, Some("RegionTwo"), Interface::Internal).unwrap(),
            "http://int-one"
        );
        assert_eq!(
            choose_endpoint(&c, None, Interface::Admin).unwrap(),
            "http://adm-two"
        );
    }

    #[test]
    fn region_id_is_understood() {
        let c = vec![Service {
            service_type: OBJECT_STORE.into(),
            endpoints: vec![
                Endpoint {
                    region: None,
                    region_id: Some("r1".into()),
                    interface: Interface::Public,
                    url: "http://a".into(),
                },
                Endpoint {
                    region: None,
                    region_id: Some("R2".into()),
                    interface: Interface::Public,
                    url: "http://b".into(),
                },
            ],
        }];
        assert_eq!(
            choose_endpoint(&c, Some("r2"), Interface::Public).unwrap(),
            "http://b"
        );
    }

    #[test]
    fn missing_service_or_interface() {
        let e = choose_endpoint(&catalog()[..1], None, Interface::Public).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::EndpointNotFound);
        let only_internal = vec![Service {
            service_type: OBJECT_STORE.into(),
            endpoints: vec![ep("R", Interface::Internal, "http://i")],
        }];
        let e = choose_endpoint(&only_internal, None, Interface::Public).unwrap_err();
        assert!(e.message().contains("public"), "{e}");
    }

    #[test]
    fn two_object_store_services_the_first_matching_endpoint_wins() {
        let svc = |eps: Vec<Endpoint>| Service {
            service_type: OBJECT_STORE.into(),
            endpoints: eps,
        };
        let c = vec![
            svc(vec![
                ep("RegionOne", Interface::Public, "http://one-a"),
                ep("RegionTwo", Interface::Internal, "http://two-internal"),
            ]),
            svc(vec![
                ep("regiontwo", Interface::Public, "http://two-b"),
                ep("RegionOne", Interface::Public, "http://one-b"),
            ]),
        ];
        let pick = |r: Option<&str>, i| choose_endpoint(&c, r, i).unwrap();
        // Only the second service has RegionTwo publicly: it is found there.
        assert_eq!(pick(Some("REGIONTWO"), Interface::Public), "http://two-b");
        // Both have RegionOne: the first in catalog order wins.
        assert_eq!(pick(Some("regionone"), Interface::Public), "http://one-a");
        // No region, or one nobody has: the first candidate of the first service.
        assert_eq!(pick(None, Interface::Public), "http://one-a");
        assert_eq!(pick(Some("Mars"), Interface::Public), "http://one-a");
        // The interface narrows the candidates before the region is looked at.
        assert_eq!(
            pick(Some("regionone"), Interface::Internal),
            "http://two-internal"
        );
    }

    #[test]
    fn non_ascii_region_names_compare_case_insensitively() {
        let c = vec![Service {
            service_type: OBJECT_STORE.into(),
            endpoints: vec![
                ep("Région-Nord", Interface::Public, "http://nord"),
                ep("Straße-Ost", Interface::Public, "http://ost"),
                ep("ΟΔΟΣ", Interface::Public, "http://odos"),
                ep("Süd", Interface::Public, "http://sued"),
            ],
        }];
        let pick = |r: &str| choose_endpoint(&c, Some(r), Interface::Public).unwrap();
        assert_eq!(pick("RÉGION-NORD"), "http://nord");
        assert_eq!(pick("région-nord"), "http://nord");
        assert_eq!(pick("STRASSE-OST"), "http://ost");
        assert_eq!(pick("straße-ost"), "http://ost");
        assert_eq!(pick("οδος"), "http://odos");
        assert_eq!(pick("οδοσ"), "http://odos");
        assert_eq!(pick("SÜD"), "http://sued");
        // Not the same letters: no match, the first endpoint.
        assert_eq!(pick("Sud"), "http://nord");
        assert!(same_region("\u{212A}elvin", "kelvin"));
        assert!(!same_region("Region1", "Region 1"));
    }
}
