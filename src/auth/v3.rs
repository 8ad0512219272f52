//! Keystone v3: `POST {authuri}/auth/tokens`, password method, project scope.

use serde_json::{json, Value};

use super::catalog::{Endpoint, Service};
use super::TokenAnswer;
use crate::config::Interface;
use crate::error::{Error, ErrorKind, Result};
use crate::secret::Secret;

/// The request body for a project-scoped v3 token.
pub fn request_body(
    username: &str,
    password: &Secret,
    user_domain: &str,
    project: &str,
    project_domain: &str,
) -> Value {
    json!({
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {
                        "name": username,
                        "domain": { "name": user_domain },
                        "password": password.expose()
                    }
                }
            },
            "scope": {
                "project": { "name": project, "domain": { "name": project_domain } }
            }
        }
    })
}

/// The request body for a token from an application credential (scoped by the credential).
pub fn app_credential_body(credential: &crate::config::AppCredential, secret: &Secret) -> Value {
    use crate::config::AppCredential;
    let who = match credential {
        AppCredential::Id(id) => json!({ "id": id, "secret": secret.expose() }),
        AppCredential::Name {
            name,
            username,
            user_domain,
        } => json!({
            "name": name,
            "user": { "name": username, "domain": { "name": user_domain } },
            "secret": secret.expose()
        }),
    };
    json!({
        "auth": {
            "identity": {
                "methods": ["application_credential"],
                "application_credential": who
            }
        }
    })
}

/// Reads expiry and catalog from a v3 answer; the token itself comes from `X-Subject-Token`.
pub fn parse_answer(subject_token: Option<&str>, body: &Value) -> Result<TokenAnswer> {
    let token = subject_token.filter(|t| !t.is_empty()).ok_or_else(|| {
        Error::new(ErrorKind::Auth, "Keystone v3 answered without an X-Subject-Token header: is openstack-authuri a Keystone v3 URL?")
    })?;
    let t = &body["token"];
    let expires = t["expires_at"]
        .as_str()
        .and_then(crate::time::parse_timestamp);
    let mut catalog = Vec::new();
    for svc in t["catalog"].as_array().into_iter().flatten() {
        let endpoints = svc["endpoints"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|ep| {
                let interface = match ep["interface"].as_str()? {
                    "public" => Interface::Public,
                    "internal" => Interface::Internal,
                    "admin" => Interface::Admin,
                    _ => return None,
                };
                Some(Endpoint {
                    region: ep["region"].as_str().map(str::to_string),
                    region_id: ep["region_id"].as_str().map(str::to_string),
                    interface,
                    url: ep["url"].as_str()?.to_string(),
                })
            })
            .collect();
        catalog.push(Service {
            service_type: svc["type"].as_str().unwrap_or_default().to_string(),
            endpoints,
        });
    }
    let issued = t["issued_at"]
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
    use crate::auth::catalog::choose_endpoint;

    #[test]
    fn body_is_exact() {
        let b = request_body("bob", &Secret::new("pw"), "UD", "proj", "PD");
        assert_eq!(
            b,
            json!({"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"bob","domain":{"name":"UD"},"password":"pw"}}},
                   "scope":{"project":{"name":"proj","domain":{"name":"PD"}}}}})
        );
    }

    #[test]
    fn answer_filters_interfaces() {
        let body = json!({"token":{"expires_at":"2030-01-01T00:00:00.000000Z","catalog":[
            {"type":"object-store","endpoints":[
                {"interface":"admin","region":"RegionOne","region_id":"RegionOne","url":"http://admin"},
                {"interface":"public","region":"RegionOne","region_id":"RegionOne","url":"http://one"},
                {"interface":"public","region":"RegionTwo","region_id":"RegionTwo","url":"http://two"}]}]}});
        let a = parse_answer(Some("tok"), &body).unwrap();
        assert_eq!(a.token.expose(), "tok");
        assert_eq!(
            choose_endpoint(&a.catalog, None, Interface::Public).unwrap(),
            "http://one"
        );
        assert_eq!(
            choose_endpoint(&a.catalog, Some("REGIONTWO"), Interface::Public).unwrap(),
            "http://two"
        );
        assert_eq!(
            choose_endpoint(&a.catalog, None, Interface::Admin).unwrap(),
            "http://admin"
        );
        assert!(parse_answer(None, &body).is_err());
    }
}
