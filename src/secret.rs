//! Secrets (passwords, API keys, tokens): a string type that never prints itself.

use crate::lock::Recover;
use std::collections::VecDeque;
use std::fmt;
use std::sync::Mutex;

/// How many secrets the process remembers for scrubbing (the newest are kept).
const MAX_KNOWN: usize = 256;

/// Every secret the process has seen (passwords, API keys, tokens), so that any text leaving
/// the library (an error, a log line) can be scrubbed of them, whatever a server echoed.
static KNOWN: Mutex<VecDeque<String>> = Mutex::new(VecDeque::new());

fn remember(value: &str) {
    if value.len() < MIN_SCRUBBED {
        return;
    }
    let mut known = KNOWN.lock().recover();
    if !known.iter().any(|k| k == value) {
        known.push_back(value.to_string());
        if known.len() > MAX_KNOWN {
            known.pop_front();
        }
    }
}

/// Secrets shorter than this cannot be told apart from ordinary text and are not scrubbed.
const MIN_SCRUBBED: usize = 4;

/// `text` with every secret the process knows replaced by `***`, and the userinfo of every
/// URL in it (`scheme://user:password@host`) too.
pub fn scrub(text: &str) -> String {
    let redacted = {
        let known = KNOWN.lock().recover();
        let list: Vec<&str> = known.iter().map(String::as_str).collect();
        redact(text, &list)
    };
    hide_userinfo(&redacted)
}

/// Remembers the password (raw and percent-decoded) of a URL's userinfo as a secret, so that
/// it is scrubbed wherever it shows up, in a URL or not. The user name is hidden with the rest
/// of the userinfo wherever a URL is shown (see [`hide_userinfo`]).
pub(crate) fn remember_userinfo(url: &url::Url) {
    if let Some(pass) = url.password() {
        remember(pass);
        if let Ok(decoded) = percent_encoding::percent_decode_str(pass).decode_utf8() {
            remember(&decoded);
        }
    }
}

/// Whether `c` ends the authority of a URL written in a text (a path, a query or a fragment
/// begins, or the text around the URL goes on).
fn ends_authority(c: char) -> bool {
    matches!(c, '/' | '?' | '#' | '"' | '<' | '>' | '`' | '\'') || c.is_whitespace()
}

/// `text` with the userinfo of every URL in it replaced by `***`: `https://u:p@h/x` becomes
/// `https://***@h/x`. Any URL, whoever wrote it (an option, a catalog, a server's message): a
/// user name and password in a URL are credentials.
pub fn hide_userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (before, after) = rest.split_at(at + 3);
        out.push_str(before);
        let authority_len = after.find(ends_authority).unwrap_or(after.len());
        let authority = &after[..authority_len];
        match authority.rfind('@') {
            Some(end) => {
                out.push_str("***");
                out.push_str(&authority[end..]);
            }
            None => out.push_str(authority),
        }
        rest = &after[authority_len..];
    }
    out.push_str(rest);
    out
}

/// A URL whose userinfo (`user:password@`) is a secret: [`fmt::Debug`] and [`fmt::Display`]
/// show it as `***`; the whole URL is reachable through `Deref` for the one place it is sent.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretUrl(url::Url);

impl SecretUrl {
    /// Wraps `url`; its userinfo password becomes a known secret (scrubbed from every message).
    pub fn new(url: url::Url) -> Self {
        remember_userinfo(&url);
        SecretUrl(url)
    }

    /// The URL as it is sent, userinfo included.
    pub fn expose(&self) -> &url::Url {
        &self.0
    }
}

impl std::ops::Deref for SecretUrl {
    type Target = url::Url;
    fn deref(&self) -> &url::Url {
        &self.0
    }
}

impl fmt::Display for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hide_userinfo(self.0.as_str()))
    }
}

impl fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{self}\"")
    }
}

/// A password, API key or token. `Debug` prints `***`; there is no `Display`.
/// The value is reachable only through [`Secret::expose`], at the place it is sent.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        let value = value.into();
        remember(&value);
        Secret(value)
    }

    /// The secret value, for the one place that sends it over the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// True when the value is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Replaces every non-trivial secret in `text` with `***`.
pub(crate) fn redact(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_string();
    for s in secrets {
        if s.len() >= MIN_SCRUBBED && out.contains(s) {
            out = out.replace(s, "***");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_value() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "***");
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn userinfo_of_every_url_is_hidden() {
        for (text, want) in [
            (
                "at https://u:Pass@keystone:5000/v3/auth/tokens failed",
                "at https://***@keystone:5000/v3/auth/tokens failed",
            ),
            ("url (http://a:b@h)", "url (http://***@h)"),
            (
                "http://user@h?x=1 and ftp://x:y:z@w#f",
                "http://***@h?x=1 and ftp://***@w#f",
            ),
            (
                "http://h/v1/AUTH_x user@example",
                "http://h/v1/AUTH_x user@example",
            ),
            ("'http://p@ss:w@rd@h:1/'", "'http://***@h:1/'"),
            ("no url: a@b", "no url: a@b"),
            ("trailing http://u:p@", "trailing http://***@"),
            ("\u{e9}://\u{e9}:\u{e9}@h", "\u{e9}://***@h"),
        ] {
            assert_eq!(hide_userinfo(text), want, "{text}");
        }
    }

    #[test]
    fn a_secret_url_never_prints_its_userinfo() {
        let u = SecretUrl::new(url::Url::parse("https://bob:Pa%40ss-w0rd@ks.example/v3").unwrap());
        assert_eq!(u.to_string(), "https://***@ks.example/v3");
        assert_eq!(format!("{u:?}"), "\"https://***@ks.example/v3\"");
        assert_eq!(u.as_str(), "https://bob:Pa%40ss-w0rd@ks.example/v3");
        // The decoded password is a known secret too, wherever it shows up.
        assert_eq!(scrub("sent Pa@ss-w0rd"), "sent ***");
    }

    #[test]
    fn every_secret_made_is_scrubbed_from_text() {
        let _s = Secret::new("tok-abcdef-123");
        assert_eq!(scrub("token tok-abcdef-123 here"), "token *** here");
    }
}
