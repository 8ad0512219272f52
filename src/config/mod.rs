//! The `openstack://` URL and its options, turned into a validated [`Config`].
//!
//! `openstack://<container>/<prefix>?auth-username=..&auth-password=..&openstack-tenant-name=..&openstack-authuri=..`
//! The container is the URL host (case kept), the prefix is the path (a trailing `/` added), `+` is
//! a literal `+`, percent-escapes are decoded. Options may also come as a key/value map; the URL
//! query wins over the map, and the map over the URL's userinfo. Unknown options are ignored.

mod auth_method;
mod clouds;
mod env;
pub mod keys;
mod options;
mod url;

use std::collections::HashMap;
use std::time::Duration;

use ::url::Url;

use crate::error::{Error, Result};
use crate::secret::{Secret, SecretUrl};
use options::Options;

/// Swift's limit on container names, in bytes.
pub const MAX_CONTAINER_NAME: usize = 256;

/// Which Keystone endpoint interface to use for Swift.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interface {
    /// `public` (`publicURL` in v2), the default.
    Public,
    /// `internal` (`internalURL` in v2).
    Internal,
    /// `admin` (`adminURL` in v2).
    Admin,
}

impl Interface {
    /// The v3 name of the interface.
    pub fn as_str(self) -> &'static str {
        match self {
            Interface::Public => "public",
            Interface::Internal => "internal",
            Interface::Admin => "admin",
        }
    }
}

/// The credential a Keystone v2 request carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum V2Credential {
    /// `passwordCredentials`.
    Password(Secret),
    /// Rackspace's `RAX-KSKEY:apiKeyCredentials`.
    ApiKey(Secret),
}

/// How the destination gets its token and storage URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthMethod {
    /// Keystone v2.0 (`POST {auth_uri}/tokens`).
    V2 {
        /// The identity URL including `/v2.0`.
        auth_uri: SecretUrl,
        /// `auth-username`.
        username: String,
        /// Password or API key.
        credential: V2Credential,
        /// `openstack-tenant-name` (optional with an API key).
        tenant: Option<String>,
    },
    /// Keystone v3 (`POST {auth_uri}/auth/tokens`), password method, project scope.
    V3 {
        /// The identity URL including `/v3`.
        auth_uri: SecretUrl,
        /// `auth-username`.
        username: String,
        /// `auth-password`.
        password: Secret,
        /// `openstack-user-domain-name` (default: `openstack-domain-name`).
        user_domain: String,
        /// `openstack-tenant-name`.
        project: String,
        /// `openstack-project-domain-name` (default: `openstack-domain-name`).
        project_domain: String,
    },
    /// Keystone v3 with an application credential (the project comes with it: no scope).
    V3ApplicationCredential {
        /// The identity URL including `/v3`.
        auth_uri: SecretUrl,
        /// How the credential is named.
        credential: AppCredential,
        /// `openstack-application-credential-secret`.
        secret: Secret,
    },
    /// A storage URL and token obtained elsewhere: no Keystone call at all.
    PreAuthenticated {
        /// `openstack-storage-url`, e.g. `https://swift.example/v1/AUTH_abc`.
        storage_url: SecretUrl,
        /// `openstack-auth-token`.
        token: Secret,
    },
}

/// Which application credential: by its id, or by its name and its user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AppCredential {
    /// `openstack-application-credential-id`.
    Id(String),
    /// `openstack-application-credential-name`, with `auth-username` and the user's domain.
    Name {
        /// The credential's name.
        name: String,
        /// Its user.
        username: String,
        /// The user's domain (`openstack-user-domain-name` or `openstack-domain-name`).
        user_domain: String,
    },
}

/// Time limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// `short-timeout`: connecting, authenticating and small requests (default 30 s).
    pub short: Duration,
    /// `read-write-timeout`: the longest time a transfer may make no progress (default 30 s).
    pub read_write: Duration,
    /// `list-timeout`: one listing page (default 10 min).
    pub list: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            short: Duration::from_secs(30),
            read_write: Duration::from_secs(30),
            list: Duration::from_secs(600),
        }
    }
}

/// How failed requests are retried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// `number-of-retries`: retries after the first try (default 4).
    pub retries: u32,
    /// `retry-delay`: the first backoff, doubled on each retry, with jitter (default 1 s).
    pub delay: Duration,
    /// `openstack-max-retry-wait`: the longest wait a server's `Retry-After` may ask for
    /// (default 60 s); a longer one fails at once, naming the wait and this option.
    pub max_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            retries: 4,
            delay: Duration::from_secs(1),
            max_wait: Duration::from_secs(60),
        }
    }
}

/// How objects too large for one request are stored: as Static Large Objects, in segments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LargeObjects {
    /// `openstack-segment-size`: objects larger than this are segmented. None: 128 MiB where
    /// the cluster's `/info` shows Static Large Objects (held to its `max_file_size`), else its
    /// `max_file_size` (5 GiB when `/info` does not say).
    pub segment_size: Option<u64>,
    /// `openstack-segment-container` (default `<container>_segments`).
    pub segment_container: String,
    /// `openstack-segment-threads`: segments transferred at once (default 4).
    pub threads: usize,
    /// `openstack-leave-segments`: keep the segments of a failed upload (for a later resume
    /// by hand) and of an overwritten or deleted object (default false).
    pub leave_segments: bool,
    /// `openstack-list-large-object-sizes`: listings ask (HEAD) for the real size of
    /// zero-byte entries, which dynamic large objects list as (default true).
    pub list_sizes: bool,
}

/// How server certificates are checked. Verification is always on: no option turns it off, and
/// nothing falls back to an unverified connection.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsOptions {
    /// `openstack-ca-file`: a PEM bundle of CA certificates trusted for this destination besides
    /// the system's roots (and `SSL_CERT_FILE`) and webpki's. Read when the destination opens.
    pub ca_file: Option<std::path::PathBuf>,
    /// `openstack-tls-fingerprint`: SHA-256 digests of the DER of accepted server certificates.
    /// When not empty, a server certificate is accepted exactly when its digest is one of these,
    /// whoever signed it and whatever names or dates it holds (the handshake signature is still
    /// checked); the CA roots are not consulted.
    pub fingerprints: Vec<[u8; 32]>,
}

/// A validated destination configuration. Its `Debug` output never shows a secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// The Swift container (the URL host, case kept).
    pub container: String,
    /// The object name prefix: empty, or ending in `/`.
    pub prefix: String,
    /// How to authenticate.
    pub auth: AuthMethod,
    /// `openstack-region`: the endpoint region to prefer.
    pub region: Option<String>,
    /// `openstack-interface`.
    pub interface: Interface,
    /// `openstack-storage-url` with credentials: the Swift account URL to use instead of the
    /// catalog's endpoint (region and interface then choose nothing).
    pub storage_url_override: Option<SecretUrl>,
    /// Time limits.
    pub timeouts: Timeouts,
    /// Retry policy.
    pub retry: RetryPolicy,
    /// Segmented (large) objects.
    pub large: LargeObjects,
    /// Server certificate verification (`openstack-ca-file`, `openstack-tls-fingerprint`).
    pub tls: TlsOptions,
    /// `openstack-delete-after`: every object put through this destination expires (Swift's
    /// `X-Delete-After`) this long after its upload, unless the put's options say otherwise.
    /// None: objects do not expire.
    pub delete_after: Option<Duration>,
    /// `openstack-list-newest`: listings ask every replica and take the newest answer
    /// (`X-Newest`), at the cost of more work for the cluster (default false).
    pub list_newest: bool,
    /// `openstack-token-cache`: a file where tokens are kept for other processes of the same
    /// identity (only its owner may read it). None: tokens live in this process only.
    pub token_cache: Option<std::path::PathBuf>,
    /// `openstack-storage-policy`: the storage policy `create_container` creates the container
    /// and its segment container with (checked against the cluster's `/info` first). None: the
    /// cluster's default.
    pub storage_policy: Option<String>,
    /// `openstack-versioning`: `create_container` turns on Swift's object versioning
    /// (`X-Versions-Enabled`), and the segments of replaced or deleted large objects are kept,
    /// since their older versions still use them (default false).
    pub versioning: bool,
}

/// A value of a settings source (clouds.yaml, the environment) written as the URL would write it
/// (`identity_api_version: 3` and `OS_IDENTITY_API_VERSION=3` mean `openstack-version=v3`).
fn normalise(key: &str, value: String) -> String {
    if key == keys::VERSION && !value.starts_with('v') {
        format!("v{value}")
    } else {
        value
    }
}

/// Whether `options` has a non-empty `key`.
fn has(options: &HashMap<String, String>, key: &str) -> bool {
    options.get(key).is_some_and(|v| !v.trim().is_empty())
}

/// Whether two URLs name the same endpoint (a trailing `/` aside).
fn same_url(a: &str, b: &str) -> bool {
    a.trim().trim_end_matches('/') == b.trim().trim_end_matches('/')
}

/// Adds to `given` (the URL, the map and the userinfo) what the settings sources offer — a
/// cloud of clouds.yaml, then the `OS_*` variables — where it has nothing, with one rule for
/// credentials ([`keys::credentials`]):
/// - they come as one set from one source: when `given` has any, none comes from a source;
///   else all come from the first source that has any, and none from the other;
/// - a source's credentials are used only with that source's own auth URL (and, for a token,
///   its own storage URL): never sent to an address another source named.
///
/// Returns the options and, when a source's credentials were set aside, why (for the error a
/// missing credential then gives).
fn combine(
    mut given: HashMap<String, String>,
    sources: [(&str, HashMap<String, String>); 2],
) -> (HashMap<String, String>, Option<String>) {
    let given_credentials = keys::credentials().any(|k| has(&given, k));
    let mut note = None;
    let mut credential_source = None;
    if !given_credentials {
        credential_source = sources
            .iter()
            .position(|(_, s)| keys::credentials().any(|k| has(s, k)));
    }
    // The plain options first, from the first source that has each, so that the auth URL in
    // effect is known before the credentials are judged.
    for (_, source) in &sources {
        for (k, v) in source {
            if !keys::is_credential(k) && !has(&given, k) {
                given.insert(k.clone(), v.clone());
            }
        }
    }
    if let Some(i) = credential_source {
        let (label, source) = &sources[i];
        let token = has(source, keys::AUTH_TOKEN);
        // Where the source's secrets would go, and whether that is the source's own address.
        let (key, own) = if token {
            (keys::STORAGE_URL, source.get(keys::STORAGE_URL))
        } else {
            (keys::AUTHURI, source.get(keys::AUTHURI))
        };
        let in_effect = given.get(key);
        match (own, in_effect) {
            (Some(own), Some(used)) if same_url(own, used) => {
                for k in keys::credentials() {
                    if let Some(v) = source.get(k) {
                        given.insert(k.to_string(), v.clone());
                    }
                }
            }
            (None, _) => {
                note = Some(format!(
                    "the credentials of {label} were not used: it names no '{key}' to send them to (add it there, or give the credentials in the URL or the options)"
                ));
            }
            (Some(_), _) => {
                note = Some(format!(
                    "the credentials of {label} were not used: they are sent only to its own '{key}', and '{key}' here comes from the URL, the options or another source (remove it there, or give the credentials in the URL or the options)"
                ));
            }
        }
    }
    (given, note)
}

impl Config {
    /// Parses an `openstack://` URL alone.
    pub fn from_url(url: &str) -> Result<Config> {
        Config::from_url_and_options(url, std::iter::empty::<(&str, &str)>())
    }

    /// Parses an `openstack://` URL with an extra option map; the URL query wins.
    pub fn from_url_and_options<K, V>(
        url: &str,
        options: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Config>
    where
        K: AsRef<str>,
        V: AsRef<str>,
    {
        Config::from_sources(url, options, |name| std::env::var(name).ok())
    }

    /// [`Config::from_url_and_options`] with the environment read through `var`.
    fn from_sources<K, V>(
        url: &str,
        options: impl IntoIterator<Item = (K, V)>,
        var: impl Fn(&str) -> Option<String> + Copy,
    ) -> Result<Config>
    where
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let parts = url::split_url(url)?;
        let mut merged: HashMap<String, String> = HashMap::new();
        if let Some(user) = parts.user {
            merged.insert(keys::USERNAME.into(), user);
        }
        if let Some(pass) = parts.password {
            merged.insert(keys::PASSWORD.into(), pass);
        }
        for (k, v) in options {
            merged.insert(
                k.as_ref().trim().to_ascii_lowercase(),
                v.as_ref().to_string(),
            );
        }
        for (k, v) in parts.query {
            merged.insert(k.trim().to_ascii_lowercase(), v);
        }
        // The URL and the map first, then the named cloud, then the environment; credentials
        // as one set from one source, sent only where that source points (see `combine`).
        let cloud = clouds::from_cloud(&merged, var)?;
        let environment = env::from_env(&merged, var)?;
        let cloud_name = merged.get(keys::CLOUD).map(|c| c.trim().to_string());
        let cloud_label = format!("the cloud '{}'", cloud_name.unwrap_or_default());
        let (merged, note) = combine(
            merged,
            [
                (cloud_label.as_str(), cloud),
                ("the OS_* variables", environment),
            ],
        );
        // Known as secrets before any option is judged, so no message can quote them: the
        // secret options, and the password in the userinfo of a URL-valued option.
        for key in keys::secrets() {
            if let Some(v) = merged.get(key) {
                let _ = Secret::new(v.as_str());
            }
        }
        for key in keys::urls() {
            if let Some(url) = merged.get(key).and_then(|v| Url::parse(v.trim()).ok()) {
                crate::secret::remember_userinfo(&url);
            }
        }
        let opts = Options::new(merged);
        // Plain values first, the authentication (which depends on several) last: a bad value
        // is named even when the credentials are incomplete too.
        let large = opts.large_objects(&parts.container)?;
        let interface = opts.interface()?;
        let timeouts = opts.timeouts()?;
        let retry = opts.retry_policy()?;
        let tls = opts.tls()?;
        let delete_after = opts.delete_after()?;
        let auth = opts.auth().map_err(|e| match &note {
            Some(note) => Error::invalid_url(format!("{}; {note}", e.message())),
            None => e,
        })?;
        Ok(Config {
            container: parts.container,
            prefix: parts.prefix,
            auth,
            region: opts.get(keys::REGION).map(str::to_string),
            storage_url_override: opts.storage_url_override()?,
            interface,
            timeouts,
            retry,
            large,
            tls,
            delete_after,
            list_newest: opts.boolean(keys::LIST_NEWEST, false)?,
            token_cache: opts.token_cache()?,
            storage_policy: opts.storage_policy()?,
            versioning: opts.boolean(keys::VERSIONING, false)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    const V2: &str = "openstack://MyContainer/backups/host1?auth-username=alice&auth-password=pw-1&openstack-tenant-name=proj&openstack-authuri=https://ks.example:5000/v2.0";
    const V3: &str = "openstack://c/?auth-username=bob&auth-password=pw-2&openstack-tenant-name=p&openstack-domain-name=Dom&openstack-authuri=https://ks.example/v3/&openstack-region=regionTwo";

    fn err(url: &str) -> Error {
        Config::from_url(url).unwrap_err()
    }

    #[test]
    fn v2_seed_example() {
        let c = Config::from_url(V2).unwrap();
        assert_eq!(c.container, "MyContainer");
        assert_eq!(c.prefix, "backups/host1/");
        match c.auth {
            AuthMethod::V2 {
                username,
                credential,
                tenant,
                auth_uri,
            } => {
                assert_eq!(username, "alice");
                assert_eq!(credential, V2Credential::Password(Secret::new("pw-1")));
                assert_eq!(tenant.as_deref(), Some("proj"));
                assert_eq!(auth_uri.as_str(), "https://ks.example:5000/v2.0");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(c.interface, Interface::Public);
        assert_eq!(c.timeouts, Timeouts::default());
    }

    #[test]
    fn v3_seed_example_from_uri_suffix() {
        let c = Config::from_url(V3).unwrap();
        assert_eq!(c.prefix, "");
        assert_eq!(c.region.as_deref(), Some("regionTwo"));
        match c.auth {
            AuthMethod::V3 {
                user_domain,
                project_domain,
                project,
                ..
            } => {
                assert_eq!(user_domain, "Dom");
                assert_eq!(project_domain, "Dom");
                assert_eq!(project, "p");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn quirks_plus_percent_and_case() {
        let c = Config::from_url(
            "OpenStack://My%20Box/a+b/%C3%A9t%C3%A9?auth-username=u&auth-password=p%2Bq+r&openstack-tenant-name=t&openstack-authuri=http://127.0.0.1:5000/v2.0",
        )
        .unwrap();
        assert_eq!(c.container, "My Box");
        assert_eq!(c.prefix, "a+b/été/");
        match c.auth {
            AuthMethod::V2 { credential, .. } => {
                assert_eq!(credential, V2Credential::Password(Secret::new("p+q+r")))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn prefix_normalisation() {
        let base = "?auth-username=u&auth-password=p&openstack-tenant-name=t&openstack-authuri=http://h/v2.0";
        for (path, want) in [
            ("", ""),
            ("/", ""),
            ("/x", "x/"),
            ("/x/", "x/"),
            ("//x/y", "x/y/"),
        ] {
            let c = Config::from_url(&format!("openstack://c{path}{base}")).unwrap();
            assert_eq!(c.prefix, want, "path {path:?}");
        }
    }

    #[test]
    fn userinfo_and_map_and_query_precedence() {
        let map = [
            ("auth-password", "from-map"),
            ("openstack-tenant-name", "t"),
            ("openstack-authuri", "http://h/v2.0"),
        ];
        let c = Config::from_url_and_options("openstack://user:info-pw@c/", map).unwrap();
        match &c.auth {
            AuthMethod::V2 {
                username,
                credential,
                ..
            } => {
                assert_eq!(username, "user");
                assert_eq!(*credential, V2Credential::Password(Secret::new("from-map")));
            }
            other => panic!("{other:?}"),
        }
        let c = Config::from_url_and_options(
            "openstack://c/?auth-username=u&auth-password=from-query",
            map,
        )
        .unwrap();
        match &c.auth {
            AuthMethod::V2 { credential, .. } => {
                assert_eq!(
                    *credential,
                    V2Credential::Password(Secret::new("from-query"))
                )
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn version_rules() {
        let base = "openstack://c/?auth-username=u&auth-password=p&openstack-tenant-name=t&openstack-domain-name=d";
        let v = |extra: &str| {
            Config::from_url(&format!("{base}{extra}"))
                .map(|c| matches!(c.auth, AuthMethod::V3 { .. }))
        };
        assert!(v("&openstack-authuri=http://h/v3").unwrap());
        assert!(v("&openstack-authuri=http://h/v3/").unwrap());
        assert!(v("&openstack-authuri=http://h/identity&openstack-version=V3").unwrap());
        assert!(!v("&openstack-authuri=http://h/v2.0").unwrap());
        assert!(!v("&openstack-authuri=http://h/v2.0&openstack-version=v2").unwrap());
        let e = v("&openstack-authuri=http://h/v3&openstack-version=v2").unwrap_err();
        assert!(e.message().contains("openstack-version"), "{e}");
        let e = v("&openstack-authuri=http://h/v3&openstack-version=v4").unwrap_err();
        assert!(e.message().contains("v2 or v3"), "{e}");
    }

    #[test]
    fn v2_api_key_needs_no_tenant_or_password() {
        let c = Config::from_url(
            "openstack://c?auth-username=u&openstack-apikey=key-1&openstack-authuri=http://h/v2.0",
        )
        .unwrap();
        match c.auth {
            AuthMethod::V2 {
                credential, tenant, ..
            } => {
                assert_eq!(credential, V2Credential::ApiKey(Secret::new("key-1")));
                assert_eq!(tenant, None);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn v3_domains_can_differ() {
        let c = Config::from_url("openstack://c?auth-username=u&auth-password=p&openstack-tenant-name=t&openstack-authuri=http://h/v3&openstack-user-domain-name=UD&openstack-project-domain-name=PD").unwrap();
        match c.auth {
            AuthMethod::V3 {
                user_domain,
                project_domain,
                ..
            } => {
                assert_eq!(
                    (user_domain.as_str(), project_domain.as_str()),
                    ("UD", "PD")
                )
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn pre_authenticated() {
        let c = Config::from_url("openstack://c?openstack-storage-url=http://127.0.0.1:8080/v1/AUTH_x&openstack-auth-token=tok-123").unwrap();
        assert!(matches!(c.auth, AuthMethod::PreAuthenticated { .. }));
        assert!(!format!("{c:?}").contains("tok-123"));
        let e = err("openstack://c?openstack-storage-url=http://127.0.0.1:8080/v1/AUTH_x");
        assert!(e.message().contains("openstack-auth-token"), "{e}");
        // With credentials the storage URL replaces the catalog's endpoint.
        let c = Config::from_url(&format!(
            "{V3}&openstack-storage-url=http://127.0.0.1:9/v1/AUTH_y"
        ))
        .unwrap();
        assert!(matches!(c.auth, AuthMethod::V3 { .. }));
        assert_eq!(
            c.storage_url_override.as_ref().map(|u| u.as_str()),
            Some("http://127.0.0.1:9/v1/AUTH_y")
        );
    }

    #[test]
    fn timeouts_and_retries() {
        let c = Config::from_url(&format!("{V2}&short-timeout=5s&read-write-timeout=2m&list-timeout=1h&number-of-retries=0&retry-delay=10ms")).unwrap();
        assert_eq!(c.timeouts.short, Duration::from_secs(5));
        assert_eq!(c.timeouts.read_write, Duration::from_secs(120));
        assert_eq!(c.timeouts.list, Duration::from_secs(3600));
        assert_eq!(c.retry.retries, 0);
        assert_eq!(c.retry.delay, Duration::from_millis(10));
        let c = Config::from_url(&format!("{V2}&short-timeout=45")).unwrap();
        assert_eq!(c.timeouts.short, Duration::from_secs(45));
        assert!(err(&format!("{V2}&short-timeout=soon"))
            .message()
            .contains("short-timeout"));
        assert!(err(&format!("{V2}&list-timeout=0"))
            .message()
            .contains("list-timeout"));
    }

    #[test]
    fn application_credentials_by_id_or_by_name() {
        let base = "openstack://c/?openstack-authuri=http://h/v3";
        let c = Config::from_url(&format!("{base}&openstack-application-credential-id=I&openstack-application-credential-secret=S1")).unwrap();
        match &c.auth {
            AuthMethod::V3ApplicationCredential {
                credential, secret, ..
            } => {
                assert_eq!(*credential, AppCredential::Id("I".into()));
                assert_eq!(*secret, Secret::new("S1"));
            }
            other => panic!("{other:?}"),
        }
        assert!(!format!("{c:?}").contains("S1"));
        let c = Config::from_url(&format!("{base}&openstack-application-credential-name=N&auth-username=u&openstack-domain-name=D&openstack-application-credential-secret=S")).unwrap();
        assert!(
            matches!(&c.auth, AuthMethod::V3ApplicationCredential { credential: AppCredential::Name { name, username, user_domain }, .. } if name == "N" && username == "u" && user_domain == "D")
        );
        for (extra, names) in [
            ("&openstack-application-credential-id=I", "openstack-application-credential-secret"),
            ("&openstack-application-credential-name=N&openstack-application-credential-secret=S", "auth-username"),
            ("&openstack-application-credential-name=N&auth-username=u&openstack-application-credential-secret=S", "openstack-user-domain-name"),
            // The secret alone names no credential: the password flow asks for its password.
            ("&auth-username=u&openstack-tenant-name=t&openstack-domain-name=D&openstack-application-credential-secret=S", "auth-password"),
        ] {
            let e = err(&format!("{base}{extra}"));
            assert!(e.message().contains(names), "{extra}: {e}");
        }
        let e = err("openstack://c/?openstack-authuri=http://h/v2.0&openstack-application-credential-id=I&openstack-application-credential-secret=S");
        assert!(e.message().contains("v3"), "{e}");
    }

    #[test]
    fn storage_policy_and_versioning_options() {
        let c = Config::from_url(V2).unwrap();
        assert_eq!((c.storage_policy.as_deref(), c.versioning), (None, false));
        let c = Config::from_url(&format!(
            "{V2}&openstack-storage-policy=%20cold%20&openstack-versioning=TRUE"
        ))
        .unwrap();
        assert_eq!(
            (c.storage_policy.as_deref(), c.versioning),
            (Some("cold"), true)
        );
        for bad in [
            "openstack-storage-policy=a%20b",
            "openstack-storage-policy=a,b",
            "openstack-storage-policy=%01",
        ] {
            let e = err(&format!("{V2}&{bad}"));
            assert!(
                e.message().contains("openstack-storage-policy"),
                "{bad}: {e}"
            );
        }
        let e = err(&format!("{V2}&openstack-versioning=maybe"));
        assert!(e.message().contains("openstack-versioning"), "{e}");
    }

    #[test]
    fn large_object_options() {
        let c = Config::from_url(V2).unwrap();
        assert_eq!(c.large.segment_size, None);
        assert_eq!(c.large.segment_container, "MyContainer_segments");
        assert_eq!(
            (c.large.threads, c.large.leave_segments, c.large.list_sizes),
            (4, false, true)
        );
        for (value, want) in [
            ("1048576", 1 << 20),
            ("64MiB", 64 << 20),
            ("500MB", 500_000_000),
            ("1GiB", 1 << 30),
            ("2 gib", 2 << 30),
            ("10k", 10_000),
        ] {
            let c = Config::from_url(&format!("{V2}&openstack-segment-size={value}")).unwrap();
            assert_eq!(c.large.segment_size, Some(want), "{value}");
        }
        for value in [
            "0",
            "-1",
            "1.5GiB",
            "MiB",
            "12XB",
            "99999999999999999999",
            "20000000TiB",
        ] {
            let e = err(&format!("{V2}&openstack-segment-size={value}"));
            assert!(
                e.message().contains("openstack-segment-size"),
                "{value}: {e}"
            );
        }
        let c = Config::from_url(&format!("{V2}&openstack-segment-container=segs&openstack-segment-threads=16&openstack-leave-segments=true&openstack-list-large-object-sizes=false")).unwrap();
        assert_eq!(c.large.segment_container, "segs");
        assert_eq!(
            (c.large.threads, c.large.leave_segments, c.large.list_sizes),
            (16, true, false)
        );
        for bad in [
            "openstack-segment-threads=0",
            "openstack-segment-threads=65",
            "openstack-leave-segments=maybe",
            "openstack-segment-container=a/b",
            "openstack-segment-container=..",
        ] {
            let e = err(&format!("{V2}&{bad}"));
            assert!(
                e.message().contains(bad.split('=').next().unwrap()),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn delete_after_is_a_retention_duration() {
        assert_eq!(Config::from_url(V2).unwrap().delete_after, None);
        for (value, secs) in [
            ("86400", 86400),
            ("90d", 90 * 86400),
            ("12h", 43200),
            ("4w", 4 * 7 * 86400),
        ] {
            let c = Config::from_url(&format!("{V2}&openstack-delete-after={value}")).unwrap();
            assert_eq!(c.delete_after, Some(Duration::from_secs(secs)), "{value}");
        }
        for bad in ["0", "soon", "500ms", "200y", "99999999999999999999999"] {
            let e = err(&format!("{V2}&openstack-delete-after={bad}"));
            assert!(e.message().contains("openstack-delete-after"), "{bad}: {e}");
        }
    }

    #[test]
    fn unknown_options_are_ignored() {
        assert!(Config::from_url(&format!(
            "{V2}&dblock-size=50mb&passphrase=x&Auth-Username=alice"
        ))
        .is_ok());
    }

    #[test]
    fn bad_urls_name_the_problem() {
        let cases: &[(&str, &str)] = &[
            ("s3://bucket/x", "openstack://"),
            ("openstack:///x?auth-username=u", "no container"),
            ("openstack://c/?auth-password=p&openstack-tenant-name=t&openstack-authuri=http://h/v2.0", "auth-username"),
            ("openstack://c/?auth-username=u&openstack-tenant-name=t&openstack-authuri=http://h/v2.0", "auth-password"),
            ("openstack://c/?auth-username=u&auth-password=p&openstack-authuri=http://h/v2.0", "openstack-tenant-name"),
            ("openstack://c/?auth-username=u&auth-password=p&openstack-tenant-name=t", "openstack-authuri"),
            ("openstack://c/?auth-username=u&auth-password=p&openstack-tenant-name=t&openstack-authuri=ftp://h/v3", "http://"),
            ("openstack://c/?auth-username=u&auth-password=p&openstack-tenant-name=t&openstack-authuri=http://h/v3", "openstack-domain-name"),
            ("openstack://c/?auth-username=u&openstack-apikey=k&openstack-tenant-name=t&openstack-authuri=http://h/v3&openstack-domain-name=d", "only with Keystone v2"),
            ("openstack://c/?auth-username=u&auth-password=p&openstack-tenant-name=t&openstack-authuri=http://h/v2.0&openstack-interface=private", "openstack-interface"),
            ("openstack://c%FF/?x=1", "UTF-8"),
            ("openstack://a%2Fb/", "'/'"),
        ];
        for (url, needle) in cases {
            let e = err(url);
            assert_eq!(e.kind(), crate::ErrorKind::InvalidUrl, "{url}");
            assert!(e.message().contains(needle), "{url}: {e}");
        }
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        const KEYS: &[&str] = &[
            keys::USERNAME,
            keys::TENANT,
            keys::DOMAIN,
            keys::USER_DOMAIN,
            keys::PROJECT_DOMAIN,
            keys::AUTHURI,
            keys::VERSION,
            keys::REGION,
            keys::INTERFACE,
            keys::STORAGE_URL,
            keys::SHORT_TIMEOUT,
            keys::READ_WRITE_TIMEOUT,
            keys::LIST_TIMEOUT,
            keys::RETRIES,
            keys::RETRY_DELAY,
            keys::MAX_RETRY_WAIT,
            keys::LIST_NEWEST,
            keys::TOKEN_CACHE,
            keys::STORAGE_POLICY,
            keys::VERSIONING,
            "unknown-option",
        ];

        fn any_value() -> impl Strategy<Value = String> {
            prop_oneof![
                "\\PC{0,12}",
                "[0-9]{1,30}[a-z]{0,3}",
                "(http|https|ftp)://[a-z0-9.:@/%?&=]{0,20}",
                Just("v3".to_string()),
                Just("http://127.0.0.1:5000/v3".to_string()),
            ]
        }

        proptest! {
            /// Whatever the URL and the options, parsing returns (no panic) and no secret value
            /// appears in the error or in the configuration's Debug output.
            #[test]
            fn no_option_map_panics_or_echoes_a_secret(
                scheme in prop_oneof![
                    proptest::sample::select(&["openstack://", "openstack:/", "", "OpenStack://", "s3://"][..]).prop_map(str::to_string),
                    "[a-z:/]{0,12}",
                ],
                container in "[^/?#@]{0,10}",
                path in "[^?#]{0,20}",
                pairs in proptest::collection::vec((proptest::sample::select(KEYS), any_value()), 0..8),
                map in proptest::collection::vec((proptest::sample::select(KEYS), any_value()), 0..6),
                secret_key in proptest::sample::select(keys::secrets().collect::<Vec<_>>()),
                secret in "[A-Za-z0-9]{10}",
                in_userinfo in any::<bool>(),
                in_map in any::<bool>(),
                url_key in proptest::option::of(proptest::sample::select(keys::urls().collect::<Vec<_>>())),
                url_tail in "[a-z0-9.:/%?&=]{0,16}",
            ) {
                let secret = format!("Zq{secret}");
                let mut query: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
                let mut options: Vec<(String, String)> = map.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
                let userinfo = if in_userinfo { format!("user:{secret}@") } else { String::new() };
                // The secret as the password in the userinfo of a URL-valued option, or as the
                // value of a secret option.
                let (key, value) = match url_key {
                    Some(k) => (k, format!("http://someone:{secret}@127.0.0.1:5000/{url_tail}")),
                    None => (secret_key, secret.clone()),
                };
                if in_map {
                    options.push((key.to_string(), value));
                } else {
                    query.push(format!("{key}={}", value.replace('&', "%26")));
                }
                let url = format!("{scheme}{userinfo}{container}/{path}?{}", query.join("&"));
                match Config::from_url_and_options(&url, options) {
                    Ok(c) => {
                        let shown = format!("{c:?}");
                        prop_assert!(!shown.contains(&secret), "{}", shown);
                    }
                    Err(e) => {
                        prop_assert!(!e.to_string().contains(&secret), "{}: {}", url, e);
                        let shown = format!("{e:?}");
                        prop_assert!(!shown.contains(&secret), "{}", shown);
                    }
                }
            }
        }
    }

    #[test]
    fn malformed_schemes_never_quote_the_query() {
        let q = "?auth-username=u&auth-password=Pw-Leak-77&openstack-apikey=Key-Leak-77&openstack-auth-token=Tok-Leak-77&openstack-authuri=http://h/v3";
        for url in [
            format!("openstack:/c{q}"),
            format!("openstack:c{q}"),
            format!("c{q}"),
            q.to_string(),
            format!("s3://bucket{q}"),
            format!("openstack//c{q}"),
            format!("http://u:Pw-Leak-77@h/{q}"),
            format!("://c{q}"),
            format!("very-long-scheme-name-here-x://c{q}"),
        ] {
            let e = err(&url);
            assert_eq!(e.kind(), crate::ErrorKind::InvalidUrl, "{url}");
            assert!(e.message().contains("openstack://"), "{e}");
            assert!(!e.to_string().contains("Leak-77"), "{url}: {e}");
        }
        assert!(err(&format!("openstack:/c{q}"))
            .message()
            .contains("'openstack:/'"));
        assert!(err(&format!("c{q}")).message().contains("no scheme"));
    }

    #[test]
    fn dot_segments_in_prefix_or_container_are_refused() {
        let base = "?auth-username=u&auth-password=p&openstack-tenant-name=t&openstack-authuri=http://h/v2.0";
        for url in [
            "openstack://c/../other",
            "openstack://c/%2e%2e/other",
            "openstack://c/%2E%2E",
            "openstack://c/a/./b",
            "openstack://c/a/%2e/",
            "openstack://../x",
            "openstack://%2e%2e/x",
            "openstack://./",
        ] {
            let e = err(&format!("{url}{base}"));
            assert_eq!(e.kind(), crate::ErrorKind::InvalidUrl, "{url}");
        }
        let c = Config::from_url(&format!("openstack://c/..a/b.{base}")).unwrap();
        assert_eq!(c.prefix, "..a/b./");
    }

    #[test]
    fn durations_that_would_overflow_a_deadline_are_refused() {
        for v in [
            "99999999999999999999999",
            "18446744073709551615",
            "1000000000y",
            "8days",
        ] {
            let e = err(&format!("{V2}&read-write-timeout={v}"));
            assert!(e.message().contains("7 days"), "{v}: {e}");
            let e = err(&format!("{V2}&retry-delay={v}"));
            assert!(e.message().contains("retry-delay"), "{v}: {e}");
        }
        assert!(Config::from_url(&format!("{V2}&short-timeout=7days")).is_ok());
    }

    mod credential_sources {
        //! One source per credential set, and a source's secrets only to its own address: each
        //! pairing of the URL/map, a clouds.yaml cloud and the OS_* variables.
        use super::super::*;

        const KS: &str = "https://ks.example/v3";
        const OTHER_KS: &str = "https://elsewhere.example/v3";

        /// Parses `url` with `env` as the process environment (`OS_CLIENT_CONFIG_FILE` pointing
        /// at a clouds.yaml holding `clouds_yaml`, when given).
        fn parse(url: &str, env: &[(&str, &str)], clouds_yaml: Option<&str>) -> Result<Config> {
            let dir = std::env::temp_dir().join(format!("osd-sources-{}", fastrand::u64(..)));
            let mut env: Vec<(String, String)> = env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            if let Some(yaml) = clouds_yaml {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(dir.join("clouds.yaml"), yaml).unwrap();
                env.push((
                    "OS_CLIENT_CONFIG_FILE".into(),
                    dir.join("clouds.yaml").display().to_string(),
                ));
            }
            env.push(("HOME".into(), dir.join("home").display().to_string()));
            let var = |n: &str| env.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
            let c = Config::from_sources(url, std::iter::empty::<(&str, &str)>(), var);
            let _ = std::fs::remove_dir_all(&dir);
            c
        }

        fn openrc_app() -> Vec<(&'static str, &'static str)> {
            vec![
                ("OS_AUTH_URL", KS),
                ("OS_APPLICATION_CREDENTIAL_ID", "env-app-id"),
                ("OS_APPLICATION_CREDENTIAL_SECRET", "env-app-secret"),
                ("OS_PROJECT_NAME", "env-project"),
            ]
        }

        fn openrc_password(auth_url: &'static str) -> Vec<(&'static str, &'static str)> {
            vec![
                ("OS_AUTH_URL", auth_url),
                ("OS_USERNAME", "env-user"),
                ("OS_PASSWORD", "env-pw"),
                ("OS_PROJECT_NAME", "env-project"),
                ("OS_USER_DOMAIN_NAME", "Default"),
                ("OS_PROJECT_DOMAIN_NAME", "Default"),
            ]
        }

        const CLOUD_APP: &str = "clouds:\n  c:\n    auth:\n      auth_url: https://ks.example/v3\n      application_credential_id: cloud-app-id\n      application_credential_secret: cloud-app-secret\n";
        const CLOUD_PW: &str = "clouds:\n  c:\n    auth:\n      auth_url: https://ks.example/v3\n      username: cloud-user\n      password: cloud-pw\n      project_name: cloud-project\n      user_domain_name: Default\n      project_domain_name: Default\n";
        const CLOUD_URL_ONLY: &str =
            "clouds:\n  c:\n    auth:\n      auth_url: https://cloud-ks.example/v3\n";

        fn password_of(c: &Config) -> (&str, &str, &str, &str) {
            match &c.auth {
                AuthMethod::V3 {
                    auth_uri,
                    username,
                    password,
                    project,
                    ..
                } => (auth_uri.as_str(), username, password.expose(), project),
                other => panic!("not the password flow: {other:?}"),
            }
        }

        #[test]
        fn url_password_is_not_overridden_by_an_env_application_credential() {
            let url = format!("openstack://c/?auth-username=alice&auth-password=url-pw&openstack-tenant-name=mine&openstack-domain-name=Default&openstack-authuri={KS}&openstack-auth-from-env=true");
            let c = parse(&url, &openrc_app(), None).unwrap();
            assert_eq!(password_of(&c), (KS, "alice", "url-pw", "mine"));
        }

        #[test]
        fn url_password_is_not_overridden_by_a_cloud_application_credential() {
            let url = "openstack://c/?auth-username=alice&auth-password=url-pw&openstack-tenant-name=mine&openstack-domain-name=Default&openstack-cloud=c";
            let c = parse(url, &[], Some(CLOUD_APP)).unwrap();
            assert_eq!(password_of(&c), (KS, "alice", "url-pw", "mine"));
        }

        #[test]
        fn url_application_credential_takes_no_password_from_env_or_cloud() {
            let url = format!("openstack://c/?openstack-application-credential-id=url-app&openstack-application-credential-secret=url-secret&openstack-authuri={KS}&openstack-auth-from-env=true&openstack-cloud=c");
            let c = parse(&url, &openrc_password(KS), Some(CLOUD_PW)).unwrap();
            match &c.auth {
                AuthMethod::V3ApplicationCredential {
                    credential, secret, ..
                } => {
                    assert_eq!(*credential, AppCredential::Id("url-app".into()));
                    assert_eq!(secret.expose(), "url-secret");
                }
                other => panic!("{other:?}"),
            }
        }

        #[test]
        fn url_token_or_apikey_takes_nothing_from_env() {
            let url = "openstack://c/?openstack-storage-url=https://swift.example/v1/AUTH_a&openstack-auth-token=url-token&openstack-auth-from-env=true";
            let c = parse(url, &openrc_app(), None).unwrap();
            assert!(
                matches!(&c.auth, AuthMethod::PreAuthenticated { token, .. } if token.expose() == "url-token"),
                "{c:?}"
            );
            let url = "openstack://c/?auth-username=alice&openstack-apikey=url-key&openstack-authuri=https://ks.example/v2.0&openstack-auth-from-env=true";
            let c = parse(url, &openrc_app(), None).unwrap();
            assert!(
                matches!(&c.auth, AuthMethod::V2 { credential: V2Credential::ApiKey(k), .. } if k.expose() == "url-key"),
                "{c:?}"
            );
        }

        #[test]
        fn an_env_password_goes_only_to_os_auth_url() {
            // The URL names no Keystone: the whole set comes from the environment.
            let c = parse(
                "openstack://c/?openstack-auth-from-env=true",
                &openrc_password(KS),
                None,
            )
            .unwrap();
            assert_eq!(password_of(&c), (KS, "env-user", "env-pw", "env-project"));
            // The URL names the same Keystone: still its own address.
            let url =
                format!("openstack://c/?openstack-authuri={KS}/&openstack-auth-from-env=true");
            let c = parse(&url, &openrc_password(KS), None).unwrap();
            assert_eq!(password_of(&c).2, "env-pw");
            // The URL names another Keystone: the password is not sent there, and the error
            // says why.
            let url =
                format!("openstack://c/?openstack-authuri={OTHER_KS}&openstack-auth-from-env=true");
            let e = parse(&url, &openrc_password(KS), None).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::InvalidUrl);
            assert!(
                e.message().contains("auth-password") && e.message().contains("OS_*"),
                "{e}"
            );
            assert!(!e.to_string().contains("env-pw"), "{e}");
        }

        #[test]
        fn a_cloud_password_goes_only_to_the_clouds_auth_url() {
            let c = parse("openstack://c/?openstack-cloud=c", &[], Some(CLOUD_PW)).unwrap();
            assert_eq!(
                password_of(&c),
                (KS, "cloud-user", "cloud-pw", "cloud-project")
            );
            let url = format!("openstack://c/?openstack-cloud=c&openstack-authuri={OTHER_KS}");
            let e = parse(&url, &[], Some(CLOUD_PW)).unwrap_err();
            assert!(
                e.message().contains("auth-password") && e.message().contains("cloud 'c'"),
                "{e}"
            );
        }

        #[test]
        fn the_first_source_with_credentials_gives_all_of_them() {
            // The cloud has a password, the environment an application credential: the cloud's
            // set, and nothing of the environment's.
            let url = "openstack://c/?openstack-cloud=c&openstack-auth-from-env=true";
            let c = parse(url, &openrc_app(), Some(CLOUD_PW)).unwrap();
            assert_eq!(
                password_of(&c),
                (KS, "cloud-user", "cloud-pw", "cloud-project")
            );
            // The other way round: the cloud's application credential, not the env's password.
            let c = parse(url, &openrc_password(KS), Some(CLOUD_APP)).unwrap();
            assert!(
                matches!(&c.auth, AuthMethod::V3ApplicationCredential { credential: AppCredential::Id(id), .. } if id == "cloud-app-id"),
                "{c:?}"
            );
        }

        #[test]
        fn a_source_whose_auth_url_is_shadowed_gives_no_secret() {
            // The cloud names a Keystone but holds no secret; the environment's password is
            // for another: it is not sent to the cloud's.
            let url = "openstack://c/?openstack-cloud=c&openstack-auth-from-env=true";
            let e = parse(url, &openrc_password(KS), Some(CLOUD_URL_ONLY)).unwrap_err();
            assert!(e.message().contains("OS_*"), "{e}");
            // An env token goes only with the env's storage URL.
            let env = [
                ("OS_STORAGE_URL", "https://swift.example/v1/AUTH_env"),
                ("OS_AUTH_TOKEN", "env-token"),
            ];
            let c = parse("openstack://c/?openstack-auth-from-env=true", &env, None).unwrap();
            assert!(
                matches!(&c.auth, AuthMethod::PreAuthenticated { token, .. } if token.expose() == "env-token")
            );
            let url = "openstack://c/?openstack-auth-from-env=true&openstack-storage-url=https://other.example/v1/AUTH_x";
            let e = parse(url, &env, None).unwrap_err();
            assert!(
                e.message().contains("openstack-auth-token") && e.message().contains("OS_*"),
                "{e}"
            );
        }
    }

    #[test]
    fn userinfo_in_url_options_is_a_secret() {
        let with_userinfo = format!(
            "{}&openstack-storage-url=https://swift-user:Store-Pw-31@swift.example/v1/AUTH_x",
            V3.replace(
                "https://ks.example/v3/",
                "https://ks-user:Auth-Pw-27@ks.example/v3/"
            )
        );
        let c = Config::from_url(&with_userinfo).unwrap();
        let shown = format!("{c:?}");
        for secret in ["Auth-Pw-27", "Store-Pw-31", "ks-user", "swift-user"] {
            assert!(!shown.contains(secret), "{secret}: {shown}");
        }
        assert!(shown.contains("https://***@ks.example/v3/"), "{shown}");
        // The whole URL is still what is sent.
        let AuthMethod::V3 { auth_uri, .. } = &c.auth else {
            panic!("{c:?}")
        };
        assert_eq!(
            auth_uri.as_str(),
            "https://ks-user:Auth-Pw-27@ks.example/v3/"
        );
        // An error about another option never quotes them either, not even percent-decoded.
        let e = err(&format!(
            "{}&short-timeout=Store-Pw-32",
            with_userinfo.replace("Store-Pw-31", "Store%2DPw%2D32")
        ));
        assert!(e.message().contains("short-timeout"), "{e}");
        assert!(!e.to_string().contains("Store-Pw-32"), "{e}");
        let pre = Config::from_url(
            "openstack://c?openstack-storage-url=http://u:Pre-Pw-55@h/v1/AUTH_x&openstack-auth-token=tok-1234",
        )
        .unwrap();
        assert!(!format!("{pre:?}").contains("Pre-Pw-55"), "{pre:?}");
    }

    #[test]
    fn errors_and_debug_never_show_the_password() {
        let e = err("openstack://c/?auth-username=u&auth-password=SuperSecret9&openstack-authuri=http://h/v2.0");
        assert!(!e.to_string().contains("SuperSecret9"));
        let c = Config::from_url(V2).unwrap();
        assert!(!format!("{c:?}").contains("pw-1"));
    }

    #[test]
    fn tls_options_default_and_parse() {
        let c = Config::from_url(V2).unwrap();
        assert_eq!(
            c.tls,
            TlsOptions::default(),
            "verification as usual, no pin"
        );
        let upper = "F2:81:65:48:6A:5D:A7:1B:C7:59:D0:CD:70:A8:0E:45:C9:99:65:62:9D:8D:12:DF:BC:77:23:68:83:54:19:53";
        let lower = "e339d0f554d21b95971dc0b8dfaaf645b433b7b3e13b94c4889db7dbd730005c";
        let c = Config::from_url_and_options(
            V2,
            [
                ("openstack-ca-file", " /etc/ssl/my-ca.pem "),
                (
                    "openstack-tls-fingerprint",
                    format!("{upper}, {lower},").as_str(),
                ),
            ],
        )
        .unwrap();
        assert_eq!(
            c.tls.ca_file.as_deref(),
            Some(std::path::Path::new("/etc/ssl/my-ca.pem"))
        );
        assert_eq!(c.tls.fingerprints.len(), 2);
        assert_eq!(c.tls.fingerprints[0][0], 0xf2);
        assert_eq!(c.tls.fingerprints[0][31], 0x53);
        assert_eq!(c.tls.fingerprints[1][0], 0xe3);
        // The same pin in both spellings counts once.
        let both = format!("{upper},{}", upper.replace(':', "").to_lowercase());
        assert_eq!(options::parse_fingerprints(&both).unwrap().len(), 1);
    }

    #[test]
    fn bad_fingerprints_name_the_option() {
        let good = "f28165486a5da71bc759d0cd70a80e45c99965629d8d12dfbc77236883541953";
        for value in [
            "abc",
            &good[..62],
            &format!("{good}00"),
            &good.replace('f', "g"),
            "f2:8165486a5da71bc759d0cd70a80e45c99965629d8d12dfbc77236883541953",
            &format!("{good},nope"),
            "sha256 f28165486a5da71bc759d0cd70a80e45c99965629d8d12dfbc772368835419",
        ] {
            let e = Config::from_url_and_options(V2, [("openstack-tls-fingerprint", value)])
                .unwrap_err();
            assert_eq!(e.kind(), crate::error::ErrorKind::InvalidUrl, "{value}");
            assert!(
                e.message().contains("openstack-tls-fingerprint") && e.message().contains("64 hex"),
                "{value}: {e}"
            );
        }
    }
}
