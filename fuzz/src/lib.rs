//! How the fuzz targets turn input bytes into calls of `openstack_dest::fuzzing`, and what they
//! check besides "no panic". Shared by the targets in `fuzz/fuzz_targets/` and, through
//! `#[path]`, by the main crate's `tests/fuzz_regressions.rs`, which replays `fuzz/seeds/` and
//! `fuzz/regressions/` without a fuzzer. The input formats are text, so seeds stay readable:
//!
//! - `url_options`: the first line is the URL, every further non-empty line an option `key=value`
//!   of the option map. `$S` stands for a secret made from a hash of the input (12 letters and
//!   digits), `$E` for the same secret percent-encoded. When every `$S`/`$E` sits where a secret
//!   belongs (the value of `auth-password`, `openstack-apikey`, `openstack-auth-token` or
//!   `openstack-application-credential-secret`, in the map or the URL query, or the password of
//!   the URL's userinfo), neither form may appear in the error message nor in the `Debug` of the
//!   `Config`. A `Config` must also name a usable container and a prefix without dot segments.
//! - `token_answers`: header lines `region: R`, `subject-token: T` (or `no-subject-token`), an
//!   empty line, then the JSON body, read as a v2 and as a v3 answer. Without an empty line the
//!   whole input is the body.
//! - `listing`: header line `prefix: P`, an empty line, then one JSON listing page (read also as
//!   a large object's manifest and as `/info`).
//! - `headers`: `Name: value` lines, as in an HTTP answer (`\r\n` or `\n`).

use openstack_dest::fuzzing;

/// The option names whose values are secrets, as the issue lists them (not read from the
/// library, so that a name dropped there is still checked here).
pub const SECRET_OPTIONS: &[&str] = &[
    "auth-password",
    "openstack-apikey",
    "openstack-auth-token",
    "openstack-application-credential-secret",
];

/// Splits `data` at the first empty line into header lines and the body. Header lines are read
/// as lossy UTF-8 and split at the first `:` (value trimmed).
fn header_and_body(data: &[u8]) -> (Vec<(String, String)>, &[u8]) {
    let split = find(data, b"\n\n")
        .map(|i| (i, i + 2))
        .or_else(|| find(data, b"\r\n\r\n").map(|i| (i, i + 4)));
    let Some((end, body_start)) = split else {
        return (Vec::new(), data);
    };
    let head = String::from_utf8_lossy(&data[..end]);
    let fields = head
        .lines()
        .map(|l| match l.split_once(':') {
            Some((k, v)) => (k.trim().to_ascii_lowercase(), v.trim().to_string()),
            None => (l.trim().to_ascii_lowercase(), String::new()),
        })
        .collect();
    (fields, &data[body_start..])
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Target `token_answers`: a Keystone v2 and a v3 token answer, and the endpoint choice.
pub fn token_answers(data: &[u8]) {
    let (fields, body) = header_and_body(data);
    let region = field(&fields, "region");
    let token = if field(&fields, "no-subject-token").is_some() {
        None
    } else {
        Some(field(&fields, "subject-token").unwrap_or("gAAAAABfuzz-subject-token"))
    };
    fuzzing::v2_token_answer(body, region);
    fuzzing::v3_token_answer(token, body, region);
}

/// Target `listing`: one page of a Swift JSON listing under a prefix.
pub fn listing(data: &[u8]) {
    let (fields, body) = header_and_body(data);
    let prefix = field(&fields, "prefix").unwrap_or("");
    if let Some(n) = fuzzing::listing_page(body, prefix) {
        // Every entry comes from a row, and a row takes at least `{}` plus a comma.
        assert!(n <= body.len() / 2, "{n} entries from {} bytes", body.len());
    }
    // The same bytes as a large object's manifest and as the cluster's /info.
    if let Some(n) = fuzzing::large_object_answers(body) {
        assert!(
            n <= body.len() / 2,
            "{n} segments from {} bytes",
            body.len()
        );
    }
}

/// Target `headers`: every header parser on a block of `Name: value` lines.
pub fn headers(data: &[u8]) {
    let mut pairs: Vec<(&[u8], &[u8])> = Vec::new();
    for line in data.split(|b| *b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let (name, value) = match line.iter().position(|b| *b == b':') {
            Some(i) => (&line[..i], &line[i + 1..]),
            None => (line, &b""[..]),
        };
        let start = value
            .iter()
            .position(|b| *b != b' ' && *b != b'\t')
            .unwrap_or(value.len());
        pairs.push((name, &value[start..]));
    }
    fuzzing::headers(&pairs);
}

/// The secret of an input: 12 letters and digits from an FNV-1a hash of the bytes, so the
/// fuzzer cannot know it and no other part of the input holds it by chance.
pub fn secret_for(data: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in data {
        h = (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    (0..12)
        .map(|_| {
            // splitmix64 step
            h = h.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = h;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            ALPHABET[(z % ALPHABET.len() as u64) as usize] as char
        })
        .collect()
}

fn percent_encode_all(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}

/// Percent-decoding as the library does it (a `%` not followed by two hex digits stays).
fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (
                b.get(i + 1).copied().and_then(hex),
                b.get(i + 2).copied().and_then(hex),
            ) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

/// One line of the `url_options` input after `$S`/`$E` were replaced, with where they went.
struct Expanded {
    text: String,
    marks: Vec<std::ops::Range<usize>>,
}

fn expand(line: &str, secret: &str, encoded: &str) -> Expanded {
    let mut text = String::with_capacity(line.len());
    let mut marks = Vec::new();
    let mut rest = line;
    while let Some(i) = rest.find('$') {
        text.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let with = if after.starts_with('S') {
            Some(secret)
        } else if after.starts_with('E') {
            Some(encoded)
        } else {
            None
        };
        match with {
            Some(w) => {
                marks.push(text.len()..text.len() + w.len());
                text.push_str(w);
                rest = &after[1..];
            }
            None => {
                text.push('$');
                rest = after;
            }
        }
    }
    text.push_str(rest);
    Expanded { text, marks }
}

fn within(r: &std::ops::Range<usize>, outer: &std::ops::Range<usize>) -> bool {
    outer.start <= r.start && r.end <= outer.end
}

fn is_secret_key(raw: &str) -> bool {
    SECRET_OPTIONS.contains(&raw.trim().to_ascii_lowercase().as_str())
}

/// Where secrets belong in a URL: the password of its userinfo (by RFC 3986: the authority ends
/// at the first `/`, `?` or `#`, the userinfo at its last `@`, the user name at the first `:`),
/// and, for an `openstack://` URL, the values of the secret options in its query.
fn secret_ranges_of_url(url: &str) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let start = url.len() - url.trim_start().len();
    let trimmed = url.trim();
    let end = start + trimmed.len();
    let scheme_len = trimmed
        .find(|c: char| !(c.is_ascii_alphanumeric() || "+-.".contains(c)))
        .unwrap_or(trimmed.len());
    if scheme_len == 0 || !trimmed[scheme_len..].starts_with("://") {
        return out;
    }
    let auth_start = start + scheme_len + 3;
    let auth_end = url[auth_start..end]
        .find(['/', '?', '#'])
        .map_or(end, |i| auth_start + i);
    if let Some(at) = url[auth_start..auth_end].rfind('@') {
        if let Some(colon) = url[auth_start..auth_start + at].find(':') {
            out.push(auth_start + colon + 1..auth_start + at);
        }
    }
    if !trimmed[..scheme_len].eq_ignore_ascii_case("openstack") {
        return out;
    }
    let frag = url[auth_start..end]
        .find('#')
        .map_or(end, |i| auth_start + i);
    let Some(q) = url[auth_start..frag].find('?') else {
        return out;
    };
    let mut piece_start = auth_start + q + 1;
    for piece in url[piece_start..frag].split('&') {
        if let Some(eq) = piece.find('=') {
            let key = String::from_utf8(percent_decode(&piece[..eq]));
            if key.is_ok_and(|k| is_secret_key(&k)) {
                out.push(piece_start + eq + 1..piece_start + piece.len());
            }
        }
        piece_start += piece.len() + 1;
    }
    out
}

/// What one `url_options` input exercised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UrlCheck {
    /// The input placed `$S`/`$E` only where secrets belong, so their absence was asserted.
    pub secret_checked: bool,
    /// The library accepted the URL and options.
    pub parsed: bool,
}

/// Target `url_options`: the URL and its option map, checked for secrets in messages and for a
/// container and prefix that cannot misplace objects. Panics on a violation.
pub fn url_options(data: &[u8]) -> UrlCheck {
    let input = String::from_utf8_lossy(data);
    let secret = secret_for(data);
    let encoded = percent_encode_all(&secret);
    let mut lines = input.split('\n');
    let url = expand(lines.next().unwrap_or(""), &secret, &encoded);
    let slots = secret_ranges_of_url(&url.text);
    let mut all_placed = url.marks.iter().all(|m| slots.iter().any(|r| within(m, r)));
    let mut any_mark = !url.marks.is_empty();
    let mut options = Vec::new();
    for line in lines.filter(|l| !l.is_empty()) {
        let e = expand(line, &secret, &encoded);
        let (k, v) = match e.text.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (e.text.clone(), String::new()),
        };
        let value = k.len() + 1..e.text.len();
        any_mark |= !e.marks.is_empty();
        all_placed &= e
            .marks
            .iter()
            .all(|m| is_secret_key(&k) && within(m, &value));
        options.push((k, v));
    }
    // The secret must occur nowhere else, in any case, encoded or not.
    let check_secret = any_mark && all_placed && {
        let s_lower = secret.to_ascii_lowercase();
        let decoded = String::from_utf8_lossy(&percent_decode(&input)).to_ascii_lowercase();
        !input.to_ascii_lowercase().contains(&s_lower) && !decoded.contains(&s_lower)
    };

    let result = fuzzing::url_and_options(&url.text, &options);
    if check_secret {
        let shown = match &result {
            Ok(config) => format!("{config:?}"),
            Err(message) => message.clone(),
        };
        let shown_lower = shown.to_ascii_lowercase();
        for form in [&secret, &encoded] {
            assert!(
                !shown_lower.contains(&form.to_ascii_lowercase()),
                "the secret {form} leaked: {shown}"
            );
        }
    }
    let parsed = result.is_ok();
    if let Ok(config) = result {
        let c = &config.container;
        assert!(
            !c.is_empty() && !c.contains('/') && c != "." && c != ".." && c.len() <= 256,
            "unusable container {c:?}"
        );
        let p = &config.prefix;
        assert!(
            p.is_empty() || (p.ends_with('/') && !p.starts_with('/')),
            "prefix {p:?} is neither empty nor a folder"
        );
        assert!(
            !p.split('/').any(|s| s == "." || s == ".."),
            "prefix {p:?} has a dot segment"
        );
    }
    UrlCheck {
        secret_checked: check_secret,
        parsed,
    }
}
