//! Getting and keeping a token and the Swift storage URL: Keystone v2, v3, or a pre-authenticated
//! pair. A token is shared by every destination of the process with the same identity
//! ([`shared`]) and, with `openstack-token-cache`, by later processes ([`token_file`]); it is
//! refreshed shortly before it expires.

pub mod catalog;
pub(crate) mod shared;
pub(crate) mod token_file;
pub mod v2;
pub mod v3;

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use crate::http::driver::Client;
use serde_json::Value;

use crate::config::{AuthMethod, Config};
use crate::error::{Error, ErrorKind};
use crate::http::{answer, TryError};
use crate::lock::Recover;
use crate::log;
use crate::secret::Secret;

/// What a Keystone answer gives: the token, its expiry and the catalog.
pub struct TokenAnswer {
    /// The token.
    pub token: Secret,
    /// When it expires, if Keystone said (Keystone's clock).
    pub expires: Option<SystemTime>,
    /// When Keystone issued it, if Keystone said (Keystone's clock).
    pub issued: Option<SystemTime>,
    /// The service catalog.
    pub catalog: Vec<catalog::Service>,
}

/// A token in use, with the storage URL it is for. Its `Debug` shows neither the token nor the
/// storage URL's userinfo.
pub struct Token {
    /// The token (`X-Auth-Token`).
    pub value: Secret,
    /// The Swift account URL, without a trailing `/`.
    pub storage_url: String,
    /// When it expires, on the local clock.
    expires: Option<SystemTime>,
    /// When it was obtained, on the local clock.
    obtained: SystemTime,
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Token")
            .field("value", &self.value)
            .field(
                "storage_url",
                &crate::secret::hide_userinfo(&self.storage_url),
            )
            .field("expires", &self.expires)
            .field("obtained", &self.obtained)
            .finish()
    }
}

impl std::fmt::Debug for crate::swift::types::Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field(
                "storage_url",
                &crate::secret::hide_userinfo(&self.storage_url),
            )
            .field("token", &self.token)
            .finish()
    }
}

/// When a token expires on the local clock. Keystone's `expires_at` is on Keystone's clock, so
/// what counts is the lifetime left when it was issued: `expires - issued` (or `expires - Date`
/// of the answer), added to the local time the answer came. Only with neither is Keystone's
/// expiry compared with the local clock directly. A local clock ahead of Keystone's by more than
/// the lifetime would otherwise see every token as expired.
fn local_expiry(
    expires: Option<SystemTime>,
    issued: Option<SystemTime>,
    server_date: Option<SystemTime>,
    local_now: SystemTime,
) -> Option<SystemTime> {
    let expires = expires?;
    match issued.or(server_date) {
        Some(reference) => {
            let left = expires.duration_since(reference).unwrap_or(Duration::ZERO);
            local_now.checked_add(left).or(Some(expires))
        }
        None => Some(expires),
    }
}

impl Token {
    /// True when the token should be replaced before use: expired, or within the refresh margin
    /// (a tenth of its lifetime, at most a minute).
    fn needs_refresh(&self, now: SystemTime) -> bool {
        let Some(expires) = self.expires else {
            return false;
        };
        let lifetime = expires
            .duration_since(self.obtained)
            .unwrap_or(Duration::ZERO);
        let margin = (lifetime / 10).min(Duration::from_secs(60));
        match expires.duration_since(now) {
            Ok(left) => left <= margin,
            Err(_) => true,
        }
    }
}

/// The token of one identity, shared by the destinations that have it (see [`shared`]).
pub struct Authenticator {
    state: Mutex<State>,
    file: Option<token_file::TokenFile>,
}

#[derive(Default)]
struct State {
    /// The token in use.
    current: Option<Arc<Token>>,
    /// The last token Swift refused: not to be taken from the token cache file again.
    refused: Option<Secret>,
}

impl Authenticator {
    /// An empty cache, kept in `file` too when given.
    pub(crate) fn new(file: Option<token_file::TokenFile>) -> Self {
        Authenticator {
            state: Mutex::new(State::default()),
            file,
        }
    }

    /// The current token, authenticating (one try: the caller's retry loop decides about
    /// another) when there is none or it is about to expire. One caller authenticates; the
    /// others of the same identity wait for its token.
    pub(crate) fn token(
        &self,
        client: &Client,
        config: &Config,
    ) -> std::result::Result<Arc<Token>, TryError> {
        // Lines logged while the lock is held (authenticating, the region rule) go out after it
        // is released: a host's log callback may use this destination.
        let _quiet = log::hold();
        let mut state = self.state.lock().recover();
        let now = SystemTime::now();
        if let Some(t) = state.current.as_ref() {
            if !t.needs_refresh(now) {
                return Ok(t.clone());
            }
            log::debug!("token expires soon; authenticating again");
        }
        if let Some(file) = &self.file {
            if let Some(t) = file.load(state.refused.as_ref(), now) {
                let t = Arc::new(t);
                state.current = Some(t.clone());
                return Ok(t);
            }
        }
        let fresh = Arc::new(authenticate(client, config)?);
        if let Some(file) = &self.file {
            file.store(&fresh, SystemTime::now());
        }
        state.current = Some(fresh.clone());
        Ok(fresh)
    }

    /// Forgets `stale` (after Swift refused it with 401), unless another destination or thread
    /// replaced it already: one refusal costs one authentication, however many share the token.
    pub fn invalidate(&self, stale: &Token) {
        let mut state = self.state.lock().recover();
        if state
            .current
            .as_ref()
            .is_some_and(|t| t.value == stale.value)
        {
            state.current = None;
            state.refused = Some(stale.value.clone());
        }
    }
}

fn join(base: &url::Url, tail: &str) -> String {
    format!("{}/{tail}", base.as_str().trim_end_matches('/'))
}

/// Authenticates once (one request), following the configuration's method.
fn authenticate(client: &Client, config: &Config) -> std::result::Result<Token, TryError> {
    let now = SystemTime::now();
    let ((answer, server_date), who) = match &config.auth {
        AuthMethod::PreAuthenticated { storage_url, token } => {
            return Ok(Token {
                value: token.clone(),
                storage_url: storage_url.as_str().trim_end_matches('/').to_string(),
                expires: None,
                obtained: now,
            })
        }
        AuthMethod::V2 {
            auth_uri,
            username,
            credential,
            tenant,
        } => {
            let body = v2::request_body(username, credential, tenant.as_deref());
            let (_, date, json) = post(client, config, &join(auth_uri, "tokens"), &body, "v2")?;
            (
                (v2::parse_answer(&json)?, date),
                describe_user(username, tenant.as_deref(), None),
            )
        }
        AuthMethod::V3ApplicationCredential {
            auth_uri,
            credential,
            secret,
        } => {
            let body = v3::app_credential_body(credential, secret);
            let (subject, date, json) =
                post(client, config, &join(auth_uri, "auth/tokens"), &body, "v3")?;
            let who = match credential {
                crate::config::AppCredential::Id(id) => format!("application credential {id}"),
                crate::config::AppCredential::Name { name, username, .. } => {
                    format!("application credential '{name}' of user '{username}'")
                }
            };
            ((v3::parse_answer(subject.as_deref(), &json)?, date), who)
        }
        AuthMethod::V3 {
            auth_uri,
            username,
            password,
            user_domain,
            project,
            project_domain,
        } => {
            let body = v3::request_body(username, password, user_domain, project, project_domain);
            let (subject, date, json) =
                post(client, config, &join(auth_uri, "auth/tokens"), &body, "v3")?;
            (
                (v3::parse_answer(subject.as_deref(), &json)?, date),
                describe_user(username, Some(project), Some(user_domain)),
            )
        }
    };
    let url = match &config.storage_url_override {
        Some(url) => url.as_str().to_string(),
        None => {
            catalog::choose_endpoint(&answer.catalog, config.region.as_deref(), config.interface)?
        }
    };
    // A catalog's URL may carry userinfo too: a secret like any other.
    if let Ok(parsed) = url::Url::parse(&url) {
        crate::secret::remember_userinfo(&parsed);
    }
    log::info!("authenticated {who}; Swift endpoint {url}");
    let now = SystemTime::now();
    Ok(Token {
        value: answer.token,
        storage_url: url.trim_end_matches('/').to_string(),
        expires: local_expiry(answer.expires, answer.issued, server_date, now),
        obtained: now,
    })
}

fn describe_user(user: &str, project: Option<&str>, domain: Option<&str>) -> String {
    let mut s = format!("user '{user}'");
    if let Some(p) = project {
        s.push_str(&format!(" in project '{p}'"));
    }
    if let Some(d) = domain {
        s.push_str(&format!(" (domain '{d}')"));
    }
    s
}

/// POSTs an auth body once; returns `X-Subject-Token`, the answer's `Date` and the JSON answer.
fn post(
    client: &Client,
    config: &Config,
    url: &str,
    body: &Value,
    version: &str,
) -> std::result::Result<(Option<String>, Option<SystemTime>, Value), TryError> {
    let what = format!("Keystone {version} authentication at {url}");
    let resp = client
        .post(url)
        .timeout(config.timeouts.short)
        .json(body)
        .send()
        .map_err(|e| answer::transport_failure(&what, &e))?;
    let status = resp.status().as_u16();
    if answer::is_retryable(status) {
        let after = crate::headers::retry_after(resp.headers(), SystemTime::now());
        return Err(TryError::Retry(
            answer::retryable_error(&what, status, resp.headers()),
            after,
        ));
    }
    if !resp.status().is_success() {
        return Err(TryError::Fail(answer::keystone_error(
            &what,
            status,
            resp.headers(),
            version,
        )));
    }
    let subject = resp
        .headers()
        .get("x-subject-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let date = crate::headers::date(resp.headers());
    let json: Value = resp.json().map_err(|e| {
        if let crate::http::driver::SendError::Body(io) = &e {
            if io.kind() != std::io::ErrorKind::InvalidData {
                return TryError::Retry(answer::transport_error(&what, &e), None);
            }
        }
        TryError::Fail(Error::new(
            ErrorKind::Auth,
            format!(
                "{what}: the answer is not the JSON Keystone sends ({}): check openstack-authuri",
                answer::cause_chain(&e)
            ),
        ))
    })?;
    Ok((subject, date, json))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_is_judged_on_keystones_clock() {
        let local = SystemTime::now();
        let hour = Duration::from_secs(3600);
        // The local clock runs 3 hours ahead of Keystone's; tokens live 1 hour.
        let keystone_now = local - 3 * hour;
        let expires = Some(keystone_now + hour);
        for (issued, date) in [(Some(keystone_now), None), (None, Some(keystone_now))] {
            let at = local_expiry(expires, issued, date, local).unwrap();
            assert_eq!(at, local + hour);
            let t = Token {
                value: Secret::new("t"),
                storage_url: String::new(),
                expires: Some(at),
                obtained: local,
            };
            assert!(
                !t.needs_refresh(local),
                "a fresh token must not look expired"
            );
        }
        // Without issued_at or Date, Keystone's expiry is all there is.
        assert_eq!(local_expiry(expires, None, None, local), expires);
        assert_eq!(local_expiry(None, Some(keystone_now), None, local), None);
    }

    #[test]
    fn refresh_margin() {
        let now = SystemTime::now();
        let t = |lifetime: u64, left: i64| Token {
            value: Secret::new("t"),
            storage_url: String::new(),
            obtained: now - Duration::from_secs(lifetime - left.max(0) as u64),
            expires: Some(if left >= 0 {
                now + Duration::from_secs(left as u64)
            } else {
                now - Duration::from_secs((-left) as u64)
            }),
        };
        assert!(!t(3600, 3000).needs_refresh(now));
        assert!(t(3600, 30).needs_refresh(now));
        assert!(t(3600, -5).needs_refresh(now));
        assert!(!t(20, 10).needs_refresh(now));
        assert!(t(20, 1).needs_refresh(now));
    }
}
