//! Secrets (passwords, API keys, tokens): a string type that never prints itself.

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
    let mut known = KNOWN.lock().unwrap_or_else(|e| e.into_inner());
    if !known.iter().any(|k| k == value) {
        known.push_back(value.to_string());
        if known.len() > MAX_KNOWN {
            known.pop_front();
        }
    }
}

/// Secrets shorter than this cannot be told apart from ordinary text and are not scrubbed.
const MIN_SCRUBBED: usize = 4;

/// `text` with every secret the process knows replaced by `***`.
pub fn scrub(text: &str) -> String {
    let known = KNOWN.lock().unwrap_or_else(|e| e.into_inner());
    let list: Vec<&str> = known.iter().map(String::as_str).collect();
    redact(text, &list)
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
    fn every_secret_made_is_scrubbed_from_text() {
        let _s = Secret::new("tok-abcdef-123");
        assert_eq!(scrub("token tok-abcdef-123 here"), "token *** here");
    }
}
