//! Splitting the `openstack://` URL: container (the host, case kept), prefix (the path, with a
//! trailing `/`), userinfo and query, every part percent-decoded (`+` is a literal `+`).

use percent_encoding::percent_decode_str;

use super::MAX_CONTAINER_NAME;
use crate::error::{Error, Result};

/// The pieces of an `openstack://` URL, decoded.
pub(super) struct UrlParts {
    pub(super) container: String,
    pub(super) prefix: String,
    pub(super) user: Option<String>,
    pub(super) password: Option<String>,
    pub(super) query: Vec<(String, String)>,
}

/// The scheme, compared case-insensitively.
const SCHEME: &str = "openstack://";

/// Percent-decodes one part of the URL (`+` stays a `+`).
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

/// Splits and decodes an `openstack://` URL; no message quotes a part that could hold a secret.
pub(super) fn split_url(url: &str) -> Result<UrlParts> {
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
