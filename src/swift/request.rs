//! One authenticated Swift request: the token, the URL, retries, one re-authentication after a
//! 401, and the translation of unexpected answers into errors.

use std::time::Duration;

use reqwest::blocking::{Client, RequestBuilder, Response};
use reqwest::Method;

use super::names::request_path;
use crate::auth::Authenticator;
use crate::config::{AuthMethod, Config, RetryPolicy};
use crate::error::{Error, ErrorKind, Result};
use crate::http::{self, TryError};
use crate::log;

/// What a request is about.
#[derive(Clone, Debug)]
pub(crate) enum Target<'a> {
    /// The account (the storage URL itself).
    Account,
    /// The destination's container, with a query string (already encoded) or none.
    Container(Option<&'a str>),
    /// An object of the container, by full name (prefix included).
    Object(&'a str),
}

/// The state shared by every request of a destination.
pub(crate) struct Swift {
    pub(crate) client: Client,
    pub(crate) config: Config,
    auth: Authenticator,
}

/// Builds a request for one try: gets a fresh builder and the try number, adds headers and body.
pub(crate) type Build<'b> =
    dyn FnMut(RequestBuilder, u32) -> std::result::Result<RequestBuilder, TryError> + 'b;

impl Swift {
    pub(crate) fn new(config: Config) -> Result<Swift> {
        let client = http::build_client(&config.timeouts)?;
        Ok(Swift {
            client,
            config,
            auth: Authenticator::new(),
        })
    }

    fn path(&self, target: &Target) -> String {
        let c = &self.config.container;
        match target {
            Target::Account => String::new(),
            Target::Container(q) => request_path(c, None, *q),
            Target::Object(name) => request_path(c, Some(name), None),
        }
    }

    /// Authenticates now (for `test`), so credential problems surface with their own message.
    pub(crate) fn ensure_token(&self) -> Result<()> {
        self.auth.token(&self.client, &self.config).map(|_| ())
    }

    /// Sends a request with retries; answers other than 401 are returned for the caller to judge.
    /// `local_failure` is asked after a failed try whether our side (a callback, a local file)
    /// caused it; such a failure ends the call at once.
    pub(crate) fn execute(
        &self,
        what: &str,
        method: Method,
        target: &Target,
        timeout: Option<Duration>,
        build: &mut Build,
        local_failure: &dyn Fn() -> Option<Error>,
    ) -> Result<Response> {
        self.execute_with(
            &self.config.retry,
            what,
            method,
            target,
            timeout,
            build,
            local_failure,
        )
    }

    /// [`Swift::execute`] with its own retry policy.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn execute_with(
        &self,
        policy: &RetryPolicy,
        what: &str,
        method: Method,
        target: &Target,
        timeout: Option<Duration>,
        build: &mut Build,
        local_failure: &dyn Fn() -> Option<Error>,
    ) -> Result<Response> {
        let preauth = matches!(self.config.auth, AuthMethod::PreAuthenticated { .. });
        let result = http::with_retries(policy, what, |n| {
            let mut reauthenticated = false;
            loop {
                let token = self.auth.token(&self.client, &self.config)?;
                let url = format!("{}{}", token.storage_url, self.path(target));
                let mut rb = self
                    .client
                    .request(method.clone(), &url)
                    .header("X-Auth-Token", token.value.expose());
                if let Some(t) = timeout {
                    rb = rb.timeout(t);
                }
                let rb = build(rb, n)?;
                let sent = rb.send();
                if let Some(e) = local_failure() {
                    return Err(TryError::Fail(e));
                }
                let resp = http::classify(what, sent)?;
                if resp.status().as_u16() == 401 {
                    if !reauthenticated && !preauth {
                        log::info!("{what}: Swift refused the token (401); authenticating again");
                        self.auth.invalidate(&token);
                        reauthenticated = true;
                        continue;
                    }
                    let hint = if preauth {
                        "Swift refused the token given in openstack-auth-token: get a new token"
                    } else {
                        "Swift refused a fresh token: check that the user has a role on the project that Swift accepts"
                    };
                    return Err(TryError::Fail(
                        Error::new(ErrorKind::Auth, format!("{what}: {hint}"))
                            .with_http(401, crate::headers::trans_id(resp.headers())),
                    ));
                }
                return Ok(resp);
            }
        });
        result
    }

    /// A request without a body.
    pub(crate) fn simple(
        &self,
        what: &str,
        method: Method,
        target: &Target,
        timeout: Duration,
    ) -> Result<Response> {
        self.execute(
            what,
            method,
            target,
            Some(timeout),
            &mut |rb, _| Ok(rb),
            &|| None,
        )
    }

    /// A request without a body whose answer must be a success; any other answer becomes the
    /// matching error.
    pub(crate) fn expect_success(
        &self,
        what: &str,
        method: Method,
        target: &Target,
    ) -> Result<Response> {
        let resp = self.simple(what, method, target, self.config.timeouts.short)?;
        if resp.status().is_success() {
            Ok(resp)
        } else {
            Err(self.status_error(what, resp, target))
        }
    }

    /// Deletes the object `full`. A 404 on a retry means an earlier try deleted it and its
    /// answer was lost: the delete has done its job.
    pub(crate) fn delete_object(&self, full: &str) -> Result<()> {
        let what = format!("deleting '{full}'");
        let target = Target::Object(full);
        let mut last_try = 0;
        let resp = self.execute(
            &what,
            Method::DELETE,
            &target,
            Some(self.config.timeouts.short),
            &mut |rb, n| {
                last_try = n;
                Ok(rb)
            },
            &|| None,
        )?;
        match resp.status().as_u16() {
            200..=299 => log::info!("deleted '{full}'"),
            404 if last_try > 1 => {
                log::info!("deleted '{full}' (a retry found it gone: an earlier try deleted it)")
            }
            _ => return Err(self.status_error(&what, resp, &target)),
        }
        Ok(())
    }

    /// The error for an answer the operation did not expect. A 404 on an object tells a
    /// missing object from a missing container with one more request.
    pub(crate) fn status_error(&self, what: &str, resp: Response, target: &Target) -> Error {
        let status = resp.status().as_u16();
        let id = crate::headers::trans_id(resp.headers());
        let (kind, text) = match status {
            403 => (
                ErrorKind::Forbidden,
                "the user may not do this (403): ask for a role on the project that allows it"
                    .to_string(),
            ),
            404 => match target {
                Target::Object(name) => {
                    if self.container_exists() == Some(false) {
                        (ErrorKind::ContainerNotFound, self.missing_container_text())
                    } else {
                        (
                            ErrorKind::NotFound,
                            format!("object '{name}' does not exist"),
                        )
                    }
                }
                Target::Container(_) => {
                    (ErrorKind::ContainerNotFound, self.missing_container_text())
                }
                Target::Account => (
                    ErrorKind::NotFound,
                    "the Swift account does not exist".to_string(),
                ),
            },
            300..=399 => (
                ErrorKind::Http,
                format!(
                    "Swift answered with a redirect to {}, which is not followed (Swift never needs one, and it could carry the token to another host): check the storage URL in the catalog or openstack-storage-url",
                    crate::headers::redirect_target(resp.headers())
                ),
            ),
            413 => (
                ErrorKind::TooLarge,
                "Swift refused the object as too large, or the quota is exceeded".to_string(),
            ),
            422 => (
                ErrorKind::Integrity,
                "Swift found that the data did not match its MD5 (422); nothing was stored"
                    .to_string(),
            ),
            409 => (
                ErrorKind::Http,
                "Swift reported a conflict (409), e.g. deleting a container that is not empty"
                    .to_string(),
            ),
            s if s >= 500 => (ErrorKind::Server, "the server failed".to_string()),
            _ => (ErrorKind::Http, "unexpected answer from Swift".to_string()),
        };
        Error::new(kind, format!("{what}: {text}")).with_http(status, id)
    }

    fn missing_container_text(&self) -> String {
        format!(
            "container '{}' does not exist: create it first (create_container / os_create_container)",
            self.config.container
        )
    }

    /// Whether the container exists (None when that cannot be told).
    pub(crate) fn container_exists(&self) -> Option<bool> {
        let resp = self
            .simple(
                "checking the container",
                Method::HEAD,
                &Target::Container(None),
                self.config.timeouts.short,
            )
            .ok()?;
        match resp.status().as_u16() {
            200..=299 => Some(true),
            404 => Some(false),
            _ => None,
        }
    }
}
