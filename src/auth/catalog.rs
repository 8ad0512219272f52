//! The service catalog of a Keystone token, in one shape for v2 and v3, and the choice of the
//! Swift endpoint: the first `object-store` service, the region rule, the interface.

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

/// Picks the storage URL among the endpoints of the wanted interface of every `object-store`
/// service, in catalog order: the first whose region (or region id) equals `region`
/// case-insensitively; with no region, or none matching, the first (a given region that matched
/// nothing is logged).
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
            .any(|r| r.as_deref().is_some_and(|r| r.eq_ignore_ascii_case(wanted)))
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
}
