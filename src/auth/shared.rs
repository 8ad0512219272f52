//! One token for many destinations: destinations of one process that would authenticate the
//! same way (same auth URL, method, credentials, scope, region, interface, storage URL, TLS
//! settings and token cache file) share one [`Authenticator`], so they share its token and
//! catalog choice, refresh it once for all, and a 401 on one of them invalidates it once for all.
//! Providers limit Keystone (OVH: 90 token requests a minute), and hosts open destinations often.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use super::Authenticator;
use crate::config::{AppCredential, AuthMethod, Config, Interface, V2Credential};
use crate::lock::Recover;

/// The identity of an authentication: every value that decides which token Keystone gives and
/// which storage URL is taken from it, written unambiguously (each field length-prefixed). It
/// holds secrets: it is only hashed, never shown.
pub(crate) struct Identity(Vec<u8>);

impl Identity {
    /// The identity `config` authenticates as; None for a token given by the host (nothing to
    /// share: no Keystone is asked).
    pub(crate) fn of(config: &Config) -> Option<Identity> {
        let mut id = Identity(Vec::new());
        match &config.auth {
            AuthMethod::PreAuthenticated { .. } => return None,
            AuthMethod::V2 {
                auth_uri,
                username,
                credential,
                tenant,
            } => {
                id.field("v2").field(auth_uri.expose().as_str());
                id.field(username);
                match credential {
                    V2Credential::Password(p) => id.field("password").field(p.expose()),
                    V2Credential::ApiKey(k) => id.field("apikey").field(k.expose()),
                };
                id.optional(tenant.as_deref());
            }
            AuthMethod::V3 {
                auth_uri,
                username,
                password,
                user_domain,
                project,
                project_domain,
            } => {
                id.field("v3").field(auth_uri.expose().as_str());
                id.field(username).field(password.expose());
                id.field(user_domain).field(project).field(project_domain);
            }
            AuthMethod::V3ApplicationCredential {
                auth_uri,
                credential,
                secret,
            } => {
                id.field("v3-application-credential")
                    .field(auth_uri.expose().as_str());
                match credential {
                    AppCredential::Id(i) => id.field("id").field(i),
                    AppCredential::Name {
                        name,
                        username,
                        user_domain,
                    } => id
                        .field("name")
                        .field(name)
                        .field(username)
                        .field(user_domain),
                };
                id.field(secret.expose());
            }
        }
        id.optional(config.region.as_deref());
        id.field(match config.interface {
            Interface::Public => "public",
            Interface::Internal => "internal",
            Interface::Admin => "admin",
        });
        id.optional(
            config
                .storage_url_override
                .as_ref()
                .map(|u| u.expose().as_str()),
        );
        // A destination that trusts less (its own CA file, a pin) does not take a token that
        // a destination trusting more obtained.
        let ca = config.tls.ca_file.as_ref().map(|p| p.to_string_lossy());
        id.optional(ca.as_deref());
        for pin in &config.tls.fingerprints {
            id.bytes(pin);
        }
        let cache = config.token_cache.as_ref().map(|p| p.to_string_lossy());
        id.optional(cache.as_deref());
        Some(id)
    }

    fn bytes(&mut self, value: &[u8]) -> &mut Self {
        self.0
            .extend_from_slice(&(value.len() as u64).to_le_bytes());
        self.0.extend_from_slice(value);
        self
    }

    fn field(&mut self, value: &str) -> &mut Self {
        self.bytes(value.as_bytes())
    }

    fn optional(&mut self, value: Option<&str>) -> &mut Self {
        match value {
            Some(v) => self.field("some").field(v),
            None => self.field("none"),
        }
    }

    /// The identity's bytes, for a keyed digest (the token cache file's check).
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// SHA-256 of the identity: the key of the process's table.
    fn digest(&self) -> [u8; 32] {
        let d = ring::digest::digest(&ring::digest::SHA256, &self.0);
        let mut out = [0u8; 32];
        out.copy_from_slice(d.as_ref());
        out
    }
}

/// The authenticators in use in this process, by the digest of their identity. Entries whose
/// destinations are all closed are dropped on the next lookup.
static IN_USE: Mutex<Option<HashMap<[u8; 32], Weak<Authenticator>>>> = Mutex::new(None);

/// The authenticator for `config`: the one another open destination of the same identity uses,
/// or a new one.
pub(crate) fn authenticator_for(config: &Config) -> Arc<Authenticator> {
    let Some(identity) = Identity::of(config) else {
        return Arc::new(Authenticator::new(None));
    };
    let key = identity.digest();
    let mut guard = IN_USE.lock().recover();
    let table = guard.get_or_insert_with(HashMap::new);
    table.retain(|_, weak| weak.strong_count() > 0);
    if let Some(shared) = table.get(&key).and_then(Weak::upgrade) {
        return shared;
    }
    let file = config
        .token_cache
        .as_ref()
        .map(|path| super::token_file::TokenFile::new(path.clone(), identity));
    let fresh = Arc::new(Authenticator::new(file));
    table.insert(key, Arc::downgrade(&fresh));
    fresh
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(url: &str) -> Config {
        Config::from_url(url).unwrap()
    }

    const BASE: &str = "openstack://c/?auth-username=u&auth-password=p&openstack-tenant-name=t&openstack-domain-name=Default&openstack-authuri=http://127.0.0.1:1/v3";

    #[test]
    fn the_same_identity_shares_and_any_difference_does_not() {
        let a = authenticator_for(&config(BASE));
        let elsewhere = BASE.replace("openstack://c/", "openstack://other/prefix/");
        let same = authenticator_for(&config(&format!("{elsewhere}&openstack-segment-threads=2")));
        assert!(
            Arc::ptr_eq(&a, &same),
            "another container, prefix or setting shares"
        );
        for changed in [
            BASE.replace("auth-password=p", "auth-password=q"),
            BASE.replace("auth-username=u", "auth-username=v"),
            BASE.replace("openstack-tenant-name=t", "openstack-tenant-name=t2"),
            BASE.replace(":1/v3", ":2/v3"),
            format!("{BASE}&openstack-region=R"),
            format!("{BASE}&openstack-interface=internal"),
            format!("{BASE}&openstack-token-cache=/tmp/x"),
            format!("{BASE}&openstack-tls-fingerprint={}", "ab".repeat(32)),
        ] {
            assert!(
                !Arc::ptr_eq(&a, &authenticator_for(&config(&changed))),
                "{changed} must not share"
            );
        }
    }

    #[test]
    fn closed_destinations_free_their_entry() {
        let url = format!("{BASE}&openstack-region=only-here");
        let first = authenticator_for(&config(&url));
        let weak = Arc::downgrade(&first);
        drop(first);
        assert!(weak.upgrade().is_none());
        let again = authenticator_for(&config(&url));
        assert_eq!(Arc::strong_count(&again), 1);
    }

    #[test]
    fn a_given_token_is_not_shared() {
        let url = "openstack://c/?openstack-storage-url=http://127.0.0.1:1/v1/AUTH_a&openstack-auth-token=t";
        assert!(!Arc::ptr_eq(
            &authenticator_for(&config(url)),
            &authenticator_for(&config(url))
        ));
    }
}
