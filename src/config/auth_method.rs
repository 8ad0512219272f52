//! Which [`AuthMethod`] the options give, one small function per kind of credential: a token with
//! its storage URL, an application credential, Keystone v2 (password or API key) and Keystone v3
//! (password with domains). Every complaint names the option to set and quotes no secret.

use super::options::{bad, missing, Options};
use super::{keys, AppCredential, AuthMethod, V2Credential};
use crate::error::Result;
use crate::secret::{Secret, SecretUrl};

/// The Keystone API version the options ask for.
#[derive(Clone, Copy, PartialEq)]
enum Version {
    V2,
    V3,
}

impl Options {
    /// How to authenticate: a storage URL with a token, an application credential, Keystone v2
    /// or Keystone v3.
    pub(super) fn auth(&self) -> Result<AuthMethod> {
        if let Some(method) = self.token_auth()? {
            return Ok(method);
        }
        let auth_uri = self.http_url(
            keys::AUTHURI,
            self.require(
                keys::AUTHURI,
                "set it to the Keystone identity URL with its version, e.g. https://keystone.example:5000/v3",
            )?,
        )?;
        let version = self.keystone_version(&auth_uri)?;
        // An application credential is named by its id or its name; its secret alone names none
        // (and then the user's password is what counts).
        if self.get(keys::APP_CREDENTIAL_ID).is_some()
            || self.get(keys::APP_CREDENTIAL_NAME).is_some()
        {
            return self.app_credential_auth(auth_uri, version);
        }
        match version {
            Version::V2 => self.v2_auth(auth_uri),
            Version::V3 => self.v3_auth(auth_uri),
        }
    }

    /// A storage URL with its token: no Keystone at all. None when the options give no token
    /// (a storage URL alone is then the catalog's replacement, and needs credentials).
    fn token_auth(&self) -> Result<Option<AuthMethod>> {
        match (self.get(keys::STORAGE_URL), self.get(keys::AUTH_TOKEN)) {
            (Some(s), Some(t)) => Ok(Some(AuthMethod::PreAuthenticated {
                storage_url: self.http_url(keys::STORAGE_URL, s)?,
                token: Secret::new(t),
            })),
            (Some(_), None) if self.get(keys::AUTHURI).is_some() => Ok(None),
            (Some(_), None) => Err(missing(
                keys::AUTH_TOKEN,
                format!(
                    "'{}' needs the token that goes with the storage URL, or credentials and '{}' to get one from Keystone",
                    keys::STORAGE_URL,
                    keys::AUTHURI
                ),
            )),
            (None, Some(_)) => Err(missing(
                keys::STORAGE_URL,
                format!(
                    "'{}' needs the Swift storage URL the token is for",
                    keys::AUTH_TOKEN
                ),
            )),
            (None, None) => Ok(None),
        }
    }

    /// The version `openstack-version` names, or else the one the auth URL ends in (v2 unless
    /// it ends in /v3); a v2 option with a /v3 URL is refused rather than guessed.
    fn keystone_version(&self, auth_uri: &SecretUrl) -> Result<Version> {
        let uri_says_v3 = auth_uri.path().trim_end_matches('/').ends_with("/v3");
        let Some(asked) = self.get(keys::VERSION) else {
            return Ok(if uri_says_v3 {
                Version::V3
            } else {
                Version::V2
            });
        };
        match asked.trim().to_ascii_lowercase().as_str() {
            "v2" | "v2.0" | "2" if uri_says_v3 => Err(bad(
                keys::VERSION,
                format!(
                    "says v2 but '{}' ends in /v3: make them agree",
                    keys::AUTHURI
                ),
            )),
            "v2" | "v2.0" | "2" => Ok(Version::V2),
            "v3" | "3" => Ok(Version::V3),
            other => Err(bad(
                keys::VERSION,
                format!("must be v2 or v3, got '{other}'"),
            )),
        }
    }

    /// A Keystone v3 application credential with its secret.
    fn app_credential_auth(&self, auth_uri: SecretUrl, version: Version) -> Result<AuthMethod> {
        let secret = self.require(
            keys::APP_CREDENTIAL_SECRET,
            "an application credential needs its secret",
        )?;
        if version != Version::V3 {
            return Err(bad(
                keys::APP_CREDENTIAL_SECRET,
                format!(
                    "works only with Keystone v3: give '{}' a /v3 URL",
                    keys::AUTHURI
                ),
            ));
        }
        Ok(AuthMethod::V3ApplicationCredential {
            auth_uri,
            credential: self.app_credential()?,
            secret: Secret::new(secret),
        })
    }

    /// Which application credential: by id, or by name with its user and the user's domain.
    fn app_credential(&self) -> Result<AppCredential> {
        if let Some(id) = self.get(keys::APP_CREDENTIAL_ID) {
            return Ok(AppCredential::Id(id.trim().to_string()));
        }
        let name = self.require(
            keys::APP_CREDENTIAL_NAME,
            format!(
                "an application credential is named by '{}' or by '{}' with '{}'",
                keys::APP_CREDENTIAL_ID,
                keys::APP_CREDENTIAL_NAME,
                keys::USERNAME
            )
            .as_str(),
        )?;
        let username = self.require(
            keys::USERNAME,
            "an application credential given by name needs the user it belongs to",
        )?;
        let user_domain = self
            .get(keys::USER_DOMAIN)
            .or(self.get(keys::DOMAIN))
            .ok_or_else(|| {
                missing(
                    keys::USER_DOMAIN,
                    format!(
                        "an application credential given by name needs the user's domain (or '{}')",
                        keys::DOMAIN
                    ),
                )
            })?;
        Ok(AppCredential::Name {
            name: name.trim().to_string(),
            username: username.to_string(),
            user_domain: user_domain.to_string(),
        })
    }

    /// The user name every password or API key goes with.
    fn username(&self) -> Result<String> {
        Ok(self
            .require(keys::USERNAME, "set it to the OpenStack user name")?
            .to_string())
    }

    /// Keystone v2: a user with an API key (which wins) or a password and the tenant.
    fn v2_auth(&self, auth_uri: SecretUrl) -> Result<AuthMethod> {
        let username = self.username()?;
        let tenant = self.get(keys::TENANT).map(str::to_string);
        let credential = if let Some(key) = self.get(keys::APIKEY) {
            V2Credential::ApiKey(Secret::new(key))
        } else {
            let password = self.require(
                keys::PASSWORD,
                &format!(
                    "set the password of the OpenStack user (or '{}' for an API key)",
                    keys::APIKEY
                ),
            )?;
            if tenant.is_none() {
                return Err(missing(
                    keys::TENANT,
                    "Keystone v2 with a password needs the tenant (project) name",
                ));
            }
            V2Credential::Password(Secret::new(password))
        };
        Ok(AuthMethod::V2 {
            auth_uri,
            username,
            credential,
            tenant,
        })
    }

    /// Keystone v3: a user with a password, the project, and the user's and the project's
    /// domains (`openstack-domain-name` for both unless each is given).
    fn v3_auth(&self, auth_uri: SecretUrl) -> Result<AuthMethod> {
        let username = self.username()?;
        if self.get(keys::APIKEY).is_some() {
            return Err(bad(
                keys::APIKEY,
                format!(
                    "works only with Keystone v2; with v3 set '{}' instead",
                    keys::PASSWORD
                ),
            ));
        }
        let password = self
            .get(keys::PASSWORD)
            .map(Secret::new)
            .ok_or_else(|| missing(keys::PASSWORD, "set the password of the OpenStack user"))?;
        let project = self
            .get(keys::TENANT)
            .map(str::to_string)
            .ok_or_else(|| missing(keys::TENANT, "Keystone v3 needs the project name"))?;
        Ok(AuthMethod::V3 {
            auth_uri,
            username,
            password,
            user_domain: self.domain(keys::USER_DOMAIN)?,
            project,
            project_domain: self.domain(keys::PROJECT_DOMAIN)?,
        })
    }

    /// A v3 domain: the option `key`, or else `openstack-domain-name`.
    fn domain(&self, key: &str) -> Result<String> {
        self.get(key)
            .or(self.get(keys::DOMAIN))
            .map(str::to_string)
            .ok_or_else(|| {
                missing(
                    keys::DOMAIN,
                    format!(
                        "Keystone v3 needs the domain of the user and project (e.g. Default), or '{key}'"
                    ),
                )
            })
    }
}
