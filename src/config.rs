//! The `openstack://` URL and its options, turned into a validated [`Config`].
//!
//! `openstack://<container>/<prefix>?auth-username=..&auth-password=..&openstack-tenant-name=..&openstack-authuri=..`
//! The container is the URL host (case kept), the prefix is the path (a trailing `/` added), `+` is
//! a literal `+`, percent-escapes are decoded. Options may also come as a key/value map; the URL
//! query wins over the map, and the map over the URL's userinfo. Unknown options are ignored.

use std::collections::HashMap;
use std::time::Duration;

use percent_encoding::percent_decode_str;
use url::Url;

use crate::error::{Error, Result};
use crate::secret::Secret;

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
        auth_uri: Url,
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
        auth_uri: Url,
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
    /// A storage URL and token obtained elsewhere: no Keystone call at all.
    PreAuthenticated {
        /// `openstack-storage-url`, e.g. `https://swift.example/v1/AUTH_abc`.
        storage_url: Url,
        /// `openstack-auth-token`.
        token: Secret,
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
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            retries: 4,
            delay: Duration::from_secs(1),
        }
    }
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
    /// Time limits.
    pub timeouts: Timeouts,
    /// Retry policy.
    pub retry: RetryPolicy,
}

/// Option names, as hosts pass them.
pub mod keys {
    /// User name.
    pub const USERNAME: &str = "auth-username";
    /// Password.
    pub const PASSWORD: &str = "auth-password";
    /// v2 tenant / v3 project.
    pub const TENANT: &str = "openstack-tenant-name";
    /// v3 domain of user and project.
    pub const DOMAIN: &str = "openstack-domain-name";
    /// v3 user domain.
    pub const USER_DOMAIN: &str = "openstack-user-domain-name";
    /// v3 project domain.
    pub const PROJECT_DOMAIN: &str = "openstack-project-domain-name";
    /// Identity URL with its version path.
    pub const AUTHURI: &str = "openstack-authuri";
    /// `v2` or `v3`.
    pub const VERSION: &str = "openstack-version";
    /// v2 API key.
    pub const APIKEY: &str = "openstack-apikey";
    /// Preferred region.
    pub const REGION: &str = "openstack-region";
    /// Endpoint interface.
    pub const INTERFACE: &str = "openstack-interface";
    /// Pre-authenticated storage URL.
    pub const STORAGE_URL: &str = "openstack-storage-url";
    /// Pre-authenticated token.
    pub const AUTH_TOKEN: &str = "openstack-auth-token";
    /// Short timeout.
    pub const SHORT_TIMEOUT: &str = "short-timeout";
    /// Read/write timeout.
    pub const READ_WRITE_TIMEOUT: &str = "read-write-timeout";
    /// Listing timeout.
    pub const LIST_TIMEOUT: &str = "list-timeout";
    /// Retries.
    pub const RETRIES: &str = "number-of-retries";
    /// First retry delay.
    pub const RETRY_DELAY: &str = "retry-delay";
    /// Every option whose value is a secret: never shown, scrubbed from every message.
    pub const SECRETS: &[&str] = &[
        PASSWORD,
        APIKEY,
        AUTH_TOKEN,
        "openstack-application-credential-secret",
    ];
}

/// The options after merging userinfo, the map and the query; empty values count as absent.
struct Options(HashMap<String, String>);

impl Options {
    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    fn require(&self, key: &str, what: &str) -> Result<&str> {
        self.get(key).ok_or_else(|| {
            Error::invalid_url(format!(
                "missing option '{key}': set it to {what} (in the URL query or the options)"
            ))
        })
    }
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
        let parts = split_url(url)?;
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
        // Known as secrets before any option is judged, so no message can quote them.
        for key in keys::SECRETS {
            if let Some(v) = merged.get(*key) {
                let _ = Secret::new(v.as_str());
            }
        }
        let opts = Options(merged);

        Ok(Config {
            container: parts.container,
            prefix: parts.prefix,
            auth: parse_auth(&opts)?,
            region: opts.get(keys::REGION).map(str::to_string),
            interface: parse_interface(opts.get(keys::INTERFACE))?,
            timeouts: Timeouts {
                short: parse_duration_option(
                    &opts,
                    keys::SHORT_TIMEOUT,
                    Timeouts::default().short,
                )?,
                read_write: parse_duration_option(
                    &opts,
                    keys::READ_WRITE_TIMEOUT,
                    Timeouts::default().read_write,
                )?,
                list: parse_duration_option(&opts, keys::LIST_TIMEOUT, Timeouts::default().list)?,
            },
            retry: RetryPolicy {
                retries: match opts.get(keys::RETRIES) {
                    None => RetryPolicy::default().retries,
                    Some(v) => v
                        .trim()
                        .parse::<u32>()
                        .ok()
                        .filter(|n| *n <= 100)
                        .ok_or_else(|| {
                            Error::invalid_url(format!(
                                "option '{}' must be a whole number from 0 to 100, got '{v}'",
                                keys::RETRIES
                            ))
                        })?,
                },
                delay: match opts.get(keys::RETRY_DELAY) {
                    None => RetryPolicy::default().delay,
                    Some(v) => parse_duration(keys::RETRY_DELAY, v, true)?,
                },
            },
        })
    }
}

struct UrlParts {
    container: String,
    prefix: String,
    user: Option<String>,
    password: Option<String>,
    query: Vec<(String, String)>,
}

const SCHEME: &str = "openstack://";

fn decode(part: &str, what: &str) -> Result<String> {
    percent_decode_str(part)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| {
            Error::invalid_url(format!(
                "the {what} of the URL is not valid UTF-8 after percent-decoding"
            ))
        })
}

/// What a URL that is not `openstack://` starts with, for the error, without quoting any of it
/// that could hold a secret: only a short scheme made of letters, digits, `+`, `-` and `.`, and
/// the slashes after it.
fn describe_start(url: &str) -> String {
    let scheme_len = url
        .find(|c: char| !(c.is_ascii_alphanumeric() || "+-.".contains(c)))
        .unwrap_or(url.len());
    let scheme = &url[..scheme_len];
    let rest = &url[scheme_len..];
    if scheme.is_empty() || scheme_len > 20 || !rest.starts_with(':') {
        return "no scheme".to_string();
    }
    let slashes = rest[1..].chars().take_while(|c| *c == '/').count();
    format!("'{scheme}:{}'", "/".repeat(slashes.min(3)))
}

fn split_url(url: &str) -> Result<UrlParts> {
    let url = url.trim();
    let has_scheme = url.len() >= SCHEME.len()
        && url.is_char_boundary(SCHEME.len())
        && url[..SCHEME.len()].eq_ignore_ascii_case(SCHEME);
    if !has_scheme {
        return Err(Error::invalid_url(format!(
            "the URL must start with openstack:// (it starts with {}); write openstack://<container>/<prefix>?auth-username=...",
            describe_start(url)
        )));
    }
    let rest = &url[SCHEME.len()..];
    // A fragment is not part of the destination.
    let rest = rest.split('#').next().unwrap_or("");
    let (before_query, query) = match rest.split_once('?') {
        Some((a, q)) => (a, q),
        None => (rest, ""),
    };
    let (authority, path) = match before_query.split_once('/') {
        Some((a, p)) => (a, p),
        None => (before_query, ""),
    };
    let (userinfo, host) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };

    let container = decode(host, "container")?;
    if container.is_empty() {
        return Err(Error::invalid_url(
            "the URL has no container: write openstack://<container>/<prefix>?...",
        ));
    }
    if container.contains('/') {
        return Err(Error::invalid_url("the container name may not contain '/'"));
    }
    if container == "." || container == ".." {
        return Err(Error::invalid_url(format!(
            "the container may not be named '{container}': URLs fold it away and the requests would reach the account"
        )));
    }
    if container.len() > MAX_CONTAINER_NAME {
        return Err(Error::invalid_url(format!(
            "the container name is {} bytes long; Swift allows at most {MAX_CONTAINER_NAME}",
            container.len()
        )));
    }

    let mut prefix = decode(path, "path")?.trim_start_matches('/').to_string();
    if !prefix.is_empty() && !prefix.ends_with('/') {
        prefix.push('/');
    }
    crate::swift::names::check_dot_segments(prefix.trim_end_matches('/'), "the prefix")
        .map_err(|e| Error::invalid_url(e.message()))?;

    let (user, password) = match userinfo {
        None => (None, None),
        Some(info) => match info.split_once(':') {
            Some((u, p)) => (Some(decode(u, "user name")?), Some(decode(p, "password")?)),
            None => (Some(decode(info, "user name")?), None),
        },
    };

    let mut pairs = Vec::new();
    for piece in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = piece.split_once('=').unwrap_or((piece, ""));
        let key = decode(k, "query")?;
        let value = decode(v, &format!("value of option '{key}'"))?;
        pairs.push((key, value));
    }

    Ok(UrlParts {
        container,
        prefix,
        user: user.filter(|u| !u.is_empty()),
        password: password.filter(|p| !p.is_empty()),
        query: pairs,
    })
}

fn parse_http_url(key: &str, value: &str) -> Result<Url> {
    let url = Url::parse(value.trim()).map_err(|e| {
        Error::invalid_url(format!(
            "option '{key}' is not a valid URL ({e}): give e.g. https://keystone.example:5000/v3"
        ))
    })?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(Error::invalid_url(format!(
            "option '{key}' must be an http:// or https:// URL, not {}://",
            url.scheme()
        )));
    }
    Ok(url)
}

#[derive(PartialEq)]
enum Version {
    V2,
    V3,
}

fn parse_auth(opts: &Options) -> Result<AuthMethod> {
    let storage_url = opts.get(keys::STORAGE_URL);
    let token = opts.get(keys::AUTH_TOKEN);
    match (storage_url, token) {
        (Some(s), Some(t)) => {
            return Ok(AuthMethod::PreAuthenticated {
                storage_url: parse_http_url(keys::STORAGE_URL, s)?,
                token: Secret::new(t),
            })
        }
        (Some(_), None) => {
            return Err(Error::invalid_url(format!(
                "option '{}' needs '{}' too: set the token that goes with the storage URL",
                keys::STORAGE_URL,
                keys::AUTH_TOKEN
            )))
        }
        (None, Some(_)) => {
            return Err(Error::invalid_url(format!(
                "option '{}' needs '{}' too: set the Swift storage URL the token is for",
                keys::AUTH_TOKEN,
                keys::STORAGE_URL
            )))
        }
        (None, None) => {}
    }

    let auth_uri_text = opts.require(
        keys::AUTHURI,
        "the Keystone identity URL with its version, e.g. https://keystone.example:5000/v3",
    )?;
    let auth_uri = parse_http_url(keys::AUTHURI, auth_uri_text)?;
    let uri_says_v3 = {
        let p = auth_uri.path().trim_end_matches('/');
        p.ends_with("/v3")
    };
    let version = match opts.get(keys::VERSION) {
        None => {
            if uri_says_v3 {
                Version::V3
            } else {
                Version::V2
            }
        }
        Some(v) => match v.trim().to_ascii_lowercase().as_str() {
            "v2" | "v2.0" | "2" => {
                if uri_says_v3 {
                    return Err(Error::invalid_url(format!(
                        "option '{}' says v2 but '{}' ends in /v3: make them agree",
                        keys::VERSION,
                        keys::AUTHURI
                    )));
                }
                Version::V2
            }
            "v3" | "3" => Version::V3,
            other => {
                return Err(Error::invalid_url(format!(
                    "option '{}' must be v2 or v3, got '{other}'",
                    keys::VERSION
                )))
            }
        },
    };
    let username = opts
        .require(keys::USERNAME, "the OpenStack user name")?
        .to_string();
    let password = opts.get(keys::PASSWORD).map(Secret::new);
    let apikey = opts.get(keys::APIKEY).map(Secret::new);
    let tenant = opts.get(keys::TENANT).map(str::to_string);

    match version {
        Version::V2 => {
            let credential = match (apikey, password) {
                (Some(k), _) => V2Credential::ApiKey(k),
                (None, Some(p)) => V2Credential::Password(p),
                (None, None) => {
                    return Err(Error::invalid_url(format!(
                        "missing option '{}' (or '{}' for an API key): set the password of the OpenStack user",
                        keys::PASSWORD,
                        keys::APIKEY
                    )))
                }
            };
            if matches!(credential, V2Credential::Password(_)) && tenant.is_none() {
                return Err(Error::invalid_url(format!(
                    "missing option '{}': Keystone v2 with a password needs the tenant (project) name",
                    keys::TENANT
                )));
            }
            Ok(AuthMethod::V2 {
                auth_uri,
                username,
                credential,
                tenant,
            })
        }
        Version::V3 => {
            if apikey.is_some() {
                return Err(Error::invalid_url(format!(
                    "option '{}' works only with Keystone v2; with v3 set '{}' instead",
                    keys::APIKEY,
                    keys::PASSWORD
                )));
            }
            let password = password.ok_or_else(|| {
                Error::invalid_url(format!(
                    "missing option '{}': set the password of the OpenStack user",
                    keys::PASSWORD
                ))
            })?;
            let project = tenant.ok_or_else(|| {
                Error::invalid_url(format!(
                    "missing option '{}': Keystone v3 needs the project name",
                    keys::TENANT
                ))
            })?;
            let domain = opts.get(keys::DOMAIN);
            let pick = |key: &str| -> Result<String> {
                opts.get(key).or(domain).map(str::to_string).ok_or_else(|| {
                    Error::invalid_url(format!(
                        "missing option '{}': Keystone v3 needs the domain of the user and project (e.g. Default), or '{key}'",
                        keys::DOMAIN
                    ))
                })
            };
            Ok(AuthMethod::V3 {
                auth_uri,
                username,
                password,
                user_domain: pick(keys::USER_DOMAIN)?,
                project,
                project_domain: pick(keys::PROJECT_DOMAIN)?,
            })
        }
    }
}

fn parse_interface(value: Option<&str>) -> Result<Interface> {
    match value.map(|v| v.trim().to_ascii_lowercase()) {
        None => Ok(Interface::Public),
        Some(v) => match v.trim_end_matches("url") {
            "public" => Ok(Interface::Public),
            "internal" => Ok(Interface::Internal),
            "admin" => Ok(Interface::Admin),
            _ => Err(Error::invalid_url(format!(
                "option '{}' must be public, internal or admin, got '{v}'",
                keys::INTERFACE
            ))),
        },
    }
}

/// The longest duration an option may give. Longer timeouts are no timeouts, and deadlines
/// computed from huge values would overflow the clock.
pub const MAX_DURATION: Duration = Duration::from_secs(7 * 24 * 3600);

fn parse_duration(key: &str, value: &str, zero_ok: bool) -> Result<Duration> {
    let v = value.trim();
    let parsed = if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        // A run of digits too long for u64 is still a (too long) number of seconds.
        Some(Duration::from_secs(v.parse::<u64>().unwrap_or(u64::MAX)))
    } else {
        humantime::parse_duration(v).ok()
    };
    match parsed {
        Some(d) if d > MAX_DURATION => Err(Error::invalid_url(format!(
            "option '{key}' is longer than 7 days: give a shorter duration, e.g. 30s, 5m or 1h"
        ))),
        Some(d) if zero_ok || !d.is_zero() => Ok(d),
        Some(_) => Err(Error::invalid_url(format!(
            "option '{key}' must be greater than zero"
        ))),
        None => Err(Error::invalid_url(format!(
            "option '{key}' is not a duration: write e.g. 30s, 5m or 1h (got '{v}')"
        ))),
    }
}

fn parse_duration_option(opts: &Options, key: &str, default: Duration) -> Result<Duration> {
    match opts.get(key) {
        None => Ok(default),
        Some(v) => parse_duration(key, v, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
                secret_key in proptest::sample::select(keys::SECRETS),
                secret in "[A-Za-z0-9]{10}",
                in_userinfo in any::<bool>(),
                in_map in any::<bool>(),
            ) {
                let secret = format!("Zq{secret}");
                let mut query: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
                let mut options: Vec<(String, String)> = map.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
                let userinfo = if in_userinfo { format!("user:{secret}@") } else { String::new() };
                if in_map {
                    options.push((secret_key.to_string(), secret.clone()));
                } else {
                    query.push(format!("{secret_key}={secret}"));
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

    #[test]
    fn errors_and_debug_never_show_the_password() {
        let e = err("openstack://c/?auth-username=u&auth-password=SuperSecret9&openstack-authuri=http://h/v2.0");
        assert!(!e.to_string().contains("SuperSecret9"));
        let c = Config::from_url(V2).unwrap();
        assert!(!format!("{c:?}").contains("pw-1"));
    }
}
