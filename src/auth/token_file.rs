//! `openstack-token-cache=PATH`: tokens kept in a file between processes, so that a series of
//! short processes (`oscli` in a script) authenticates once.
//!
//! - The file holds tokens and the storage URLs they are for: it is written only with mode 0600,
//!   always whole (a new file renamed over the old one), and read only when no one else may
//!   read it. Nothing else (no error, no log line) ever shows a token.
//! - An entry is used only by the identity that wrote it: each carries a check, PBKDF2 of the
//!   whole identity (auth URL, credentials and their secret, scope, region, interface) with the
//!   file's salt. The secret cannot be read back from the check but for a brute-force search
//!   that the iteration count makes slow; a wrong password never matches a right one's token.
//! - Whatever is wrong with the file (missing, unreadable, garbled, too open, written by another
//!   version) costs one authentication and a warning, never a failure.

use std::io::{Read, Write};
use std::num::NonZeroU32;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::shared::Identity;
use super::Token;
use crate::lock::Recover;
use crate::log;
use crate::secret::Secret;

/// What the file says it is; another value is a file this version does not read.
const FORMAT: &str = "openstack-dest token cache 1";
/// PBKDF2-HMAC-SHA256 rounds of an entry's check (about 20 ms here, once per process).
const ROUNDS: u32 = 50_000;
/// A larger file is not read.
const MAX_FILE_BYTES: u64 = 1 << 20;
/// At most this many identities are kept (the oldest tokens go first).
const MAX_ENTRIES: usize = 32;

#[derive(Serialize, Deserialize, Default)]
struct File {
    format: String,
    /// Hex of 16 random bytes.
    salt: String,
    entries: Vec<Entry>,
}

#[derive(Serialize, Deserialize, Clone)]
struct Entry {
    /// Hex of PBKDF2(identity, salt).
    check: String,
    token: String,
    storage_url: String,
    /// Seconds since the epoch, on this machine's clock.
    expires: f64,
    obtained: f64,
}

/// The token cache file of one identity.
pub(crate) struct TokenFile {
    path: PathBuf,
    identity: Identity,
    /// The last salt seen and the identity's check under it (PBKDF2 is slow: once per salt).
    check: Mutex<Option<(String, String)>>,
}

impl TokenFile {
    /// The file at `path` for `identity`; nothing is read yet.
    pub(crate) fn new(path: PathBuf, identity: Identity) -> TokenFile {
        TokenFile {
            path,
            identity,
            check: Mutex::new(None),
        }
    }

    /// A token of this identity from the file that is not `refused` and not about to expire.
    pub(crate) fn load(&self, refused: Option<&Secret>, now: SystemTime) -> Option<Token> {
        let file = self.read()?;
        let check = self.check_for(&file.salt);
        let entry = file.entries.iter().find(|e| e.check == check)?;
        if refused.is_some_and(|r| r.expose() == entry.token) {
            return None;
        }
        let token = Token {
            value: Secret::new(entry.token.as_str()),
            storage_url: entry.storage_url.clone(),
            expires: Some(from_seconds(entry.expires)?),
            obtained: from_seconds(entry.obtained)?,
        };
        if token.needs_refresh(now) {
            return None;
        }
        if let Ok(parsed) = url::Url::parse(&token.storage_url) {
            crate::secret::remember_userinfo(&parsed);
        }
        log::debug!("using a token from the token cache {}", self.path.display());
        Some(token)
    }

    /// Keeps `token` in the file for the next process, in place of this identity's previous
    /// one. A failure is a warning: the token works all the same.
    pub(crate) fn store(&self, token: &Token, now: SystemTime) {
        let Some(expires) = token.expires else {
            return; // a token without an end is not kept beyond this process
        };
        let mut file = self.read().unwrap_or_default();
        if file.format != FORMAT || decode_hex(&file.salt).map_or(true, |s| s.len() != 16) {
            file = File {
                format: FORMAT.to_string(),
                salt: hex(&random_salt()),
                entries: Vec::new(),
            };
        }
        let check = self.check_for(&file.salt);
        let now_s = seconds(now);
        file.entries
            .retain(|e| e.check != check && e.expires > now_s && e.expires.is_finite());
        file.entries.push(Entry {
            check,
            token: token.value.expose().to_string(),
            storage_url: token.storage_url.clone(),
            expires: seconds(expires),
            obtained: seconds(token.obtained),
        });
        file.entries
            .sort_by(|a, b| b.obtained.total_cmp(&a.obtained));
        file.entries.truncate(MAX_ENTRIES);
        if let Err(e) = self.write(&file) {
            log::warning!(
                "could not write the token cache {}: {e}; the next process authenticates again",
                self.path.display()
            );
        }
    }

    /// The check of this identity under `salt`.
    fn check_for(&self, salt: &str) -> String {
        let mut guard = self.check.lock().recover();
        if let Some((s, c)) = guard.as_ref() {
            if s == salt {
                return c.clone();
            }
        }
        let mut out = [0u8; 32];
        ring::pbkdf2::derive(
            ring::pbkdf2::PBKDF2_HMAC_SHA256,
            NonZeroU32::new(ROUNDS).expect("ROUNDS is not zero"),
            salt.as_bytes(),
            self.identity.as_bytes(),
            &mut out,
        );
        let check = hex(&out);
        *guard = Some((salt.to_string(), check.clone()));
        check
    }

    /// The file's contents, when it is there, only its owner may read it, and it is ours.
    fn read(&self) -> Option<File> {
        let path = &self.path;
        let mut f = match std::fs::File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(e) => {
                log::warning!("could not read the token cache {}: {e}", path.display());
                return None;
            }
        };
        let meta = f.metadata().ok()?;
        if !meta.is_file() {
            log::warning!("the token cache {} is not a file: not used", path.display());
            return None;
        }
        if meta.mode() & 0o077 != 0 {
            log::warning!(
                "the token cache {} may be read by others (mode {:o}): not used; it is replaced by a file only you can read",
                path.display(),
                meta.mode() & 0o777
            );
            return None;
        }
        if meta.len() > MAX_FILE_BYTES {
            log::warning!("the token cache {} is too large: not used", path.display());
            return None;
        }
        let mut text = String::new();
        if (&mut f)
            .take(MAX_FILE_BYTES)
            .read_to_string(&mut text)
            .is_err()
        {
            log::warning!("the token cache {} is not text: not used", path.display());
            return None;
        }
        match serde_json::from_str::<File>(&text) {
            Ok(file) if file.format == FORMAT => Some(file),
            _ => {
                log::warning!(
                    "the token cache {} is not a token cache of this library: replaced",
                    path.display()
                );
                None
            }
        }
    }

    /// Writes `file` whole: a new file only its owner can read, renamed over the old one.
    fn write(&self, file: &File) -> std::io::Result<()> {
        let dir = match self.path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "tokens".to_string());
        let temporary = dir.join(format!(
            ".{name}.{}.{:x}.tmp",
            std::process::id(),
            fastrand::u64(..)
        ));
        let result =
            write_new(&temporary, file).and_then(|()| std::fs::rename(&temporary, &self.path));
        if result.is_err() {
            let _ = std::fs::remove_file(&temporary);
        }
        result
    }
}

fn write_new(path: &Path, file: &File) -> std::io::Result<()> {
    let text = serde_json::to_vec(file).map_err(std::io::Error::other)?;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(&text)?;
    f.sync_all()
}

fn seconds(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

fn from_seconds(s: f64) -> Option<SystemTime> {
    if !(0.0..1e11).contains(&s) {
        return None;
    }
    UNIX_EPOCH.checked_add(Duration::from_secs_f64(s))
}

fn random_salt() -> [u8; 16] {
    let mut out = [0u8; 16];
    if ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut out).is_err() {
        out.iter_mut().for_each(|b| *b = fastrand::u8(..));
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn identity(password: &str) -> Identity {
        let url = format!(
            "openstack://c/?auth-username=u&auth-password={password}&openstack-tenant-name=t&openstack-domain-name=Default&openstack-authuri=http://127.0.0.1:1/v3"
        );
        Identity::of(&crate::config::Config::from_url(&url).unwrap()).unwrap()
    }

    fn scratch() -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "osd-token-file-{}-{:x}",
            std::process::id(),
            fastrand::u64(..)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("tokens")
    }

    fn token(value: &str, lifetime: u64) -> Token {
        let now = SystemTime::now();
        Token {
            value: Secret::new(value),
            storage_url: "http://127.0.0.1:1/v1/AUTH_p".into(),
            expires: Some(now + Duration::from_secs(lifetime)),
            obtained: now,
        }
    }

    #[test]
    fn a_token_comes_back_only_to_its_identity() {
        let path = scratch();
        let now = SystemTime::now();
        TokenFile::new(path.clone(), identity("pw-right-91c2"))
            .store(&token("tok1-7d1e0c", 3600), now);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "only its owner may read it");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains("pw-right-91c2"), "no password in the file");
        let back = TokenFile::new(path.clone(), identity("pw-right-91c2")).load(None, now);
        assert_eq!(
            back.map(|t| t.value.expose().to_string()),
            Some("tok1-7d1e0c".into())
        );
        assert!(TokenFile::new(path.clone(), identity("pw-wrong-91c2"))
            .load(None, now)
            .is_none());
        // Another identity adds its own entry; both stay.
        TokenFile::new(path.clone(), identity("pw-other-91c2"))
            .store(&token("tok2-7d1e0c", 3600), now);
        let right = TokenFile::new(path.clone(), identity("pw-right-91c2"));
        assert_eq!(right.load(None, now).unwrap().value.expose(), "tok1-7d1e0c");
        // A refused token is not taken again; one about to expire is not taken.
        assert!(right.load(Some(&Secret::new("tok1-7d1e0c")), now).is_none());
        right.store(&token("tok3-7d1e0c", 30), now);
        assert!(right.load(None, now + Duration::from_secs(29)).is_none());
        assert_eq!(right.load(None, now).unwrap().value.expose(), "tok3-7d1e0c");
    }

    #[test]
    fn a_file_others_may_read_or_a_garbled_one_is_not_used_and_is_replaced() {
        let path = scratch();
        let now = SystemTime::now();
        let file = TokenFile::new(path.clone(), identity("pw-p-91c2"));
        file.store(&token("tok0-7d1e0c", 3600), now);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(file.load(None, now).is_none(), "a 0644 file is not read");
        file.store(&token("tokb-7d1e0c", 3600), now);
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(file.load(None, now).unwrap().value.expose(), "tokb-7d1e0c");
        for garbage in [
            "",
            "{",
            "[1,2]",
            "{\"format\":\"something else\"}",
            "\u{0}\u{1}",
        ] {
            std::fs::write(&path, garbage).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
            assert!(file.load(None, now).is_none());
            file.store(&token("tokc-7d1e0c", 3600), now);
            assert_eq!(file.load(None, now).unwrap().value.expose(), "tokc-7d1e0c");
        }
        let dir = path.parent().unwrap();
        let left: Vec<_> = std::fs::read_dir(dir).unwrap().collect();
        assert_eq!(left.len(), 1, "no temporary file is left behind");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
