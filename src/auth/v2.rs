//! Keystone v2.0: `POST {authuri}/tokens` with a password or a Rackspace API key.

use serde_json::{json, Value};

use super::catalog::{Endpoint, Service};
use super::TokenAnswer;
use crate::config::{Interface, V2Credential};
use crate::error::{Error, ErrorKind, Result};
use crate::secret::Secret;

/// The request body for a v2 token.
pub fn request_body(username: &str, credential: &V2Credential, tenant: Option<&str>) -> Value {
    let mut auth = match credential {
        V2Credential::Password(p) => json!({
            "passwordCredentials": { "username": username, "password": p.expose() }
        }),
        V2Credential::ApiKey(k) => json!({
            "RAX-KSKEY:apiKeyCredentials": { "username": username, "apiKey": k.expose() }
        }),
    };
    if let Some(t) = tenant {
        auth["tenantName"] = json!(t);
    }
    json!({ "auth": auth })
}

/// Reads token, expiry and catalog from a v2 answer.
pub fn parse_answer(body: &Value) -> Result<TokenAnswer> {
    let access = &body["access"];
    let token = access["token"]["id"].as_str().filter(|t| !t.is_empty()).ok_or_else(|| {
        Error::new(ErrorKind::Auth, "Keystone v2 answered without access.token.id: is openstack-authuri a Keystone v2.0 URL?")
    })?;
    let expires = access["token"]["expires"]
        .as_str()
        .and_then(crate::time::parse_timestamp);
    let mut catalog = Vec::new();
    for svc in access["serviceCatalog"].as_array().into_iter().flatten() {
        let mut endpoints = Vec::new();
        for ep in svc["endpoints"].as_array().into_iter().flatten() {
            let region = ep["region"].as_str().map(str::to_string);
            for (field, interface) in [
                ("publicURL", Interface::Public),
                ("internalURL", Interface::Internal),
                ("adminURL", Interface::Admin),
            ] {
                if let Some(url) = ep[field].as_str() {
                    endpoints.push(Endpoint {
                        region: region.clone(),
                        region_id: None,
                        interface,
                        url: url.to_string(),
                    });
                }
            }
        }
        catalog.push(Service {
            service_type: svc["type"].as_str().unwrap_or_default().to_string(),
            endpoints,
        });
    }
    let issued = access["token"]["issued_at"]
        .as_str()
        .and_then(crate::time::parse_timestamp);
    Ok(TokenAnswer {
        token: Secret::new(token),
        expires,
        issued,
        catalog,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Interface;

    #[test]
    fn password_body() {
        let b = request_body(
            "alice",
            &V2Credential::Password(Secret::new("pw")),
            Some("proj"),
        );
        assert_eq!(
            b,
            json!({"auth":{"passwordCredentials":{"username":"alice","password":"pw"},"tenantName":"proj"}})
        );
    }

    #[test]
    fn api_key_body_with_and_without_tenant() {
        let k = V2Credential::ApiKey(Secret::new("key"));
        assert_eq!(
            request_body("alice", &k, None),
            json!({"auth":{"RAX-KSKEY:apiKeyCredentials":{"username":"alice","apiKey":"key"}}})
        );
        assert_eq!(
            request_body("alice", &k, Some("t")),
            json!({"auth":{"RAX-KSKEY:apiKeyCredentials":{"username":"alice","apiKey":"key"},"tenantName":"t"}})
        );
    }

    #[test]
    fn answer_catalog_and_region() {
        let body = json!({"access":{
            "token":{"id":"tok","expires":"2030-01-01T00:00:00Z"},
            "serviceCatalog":[
                {"type":"object-store","name":"swift","endpoints":[
                    {"region":"RegionOne","publicURL":"http://one/v1/AUTH_p","internalURL":"http://int-one"},
                    {"region":"RegionTwo","publicURL":"http://two/v1/AUTH_p"}]}]}});
        let a = parse_answer(&body).unwrap();
        assert_eq!(a.token.expose(), "tok");
        assert!(a.expires.is_some());
        let url = super::super::catalog::choose_endpoint(
            &a.catalog,
            Some("regiontwo"),
            Interface::Public,
        )
        .unwrap();
        assert_eq!(url, "http://two/v1/AUTH_p");
        let url =
            super::super::catalog::choose_endpoint(&a.catalog, None, Interface::Internal).unwrap();
        assert_eq!(url, "http://int-one");
    }
}
