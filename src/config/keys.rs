//! Every option, once: its key, kind, `OS_*` variables, clouds.yaml fields, whether it is a
//! credential, its default and its documentation. The key constants, the secret, credential and
//! URL lists, the `OS_*` and clouds.yaml mappings, README's options table and the fuzz
//! dictionary all come from [`TABLE`] (the last two checked by `tests/options_table.rs`, which
//! rewrites them with `OSD_BLESS_OPTIONS=1`).

/// What kind of value an option takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Free text (a name).
    Text,
    /// A secret: never shown, scrubbed from every message.
    Secret,
    /// A URL: its userinfo, if any, is a secret.
    Url,
    /// `true` or `false` (also `1`/`0`, `yes`/`no`, `on`/`off`).
    Bool,
    /// A duration: seconds, or `30s`, `5m`, `1h`, `30d`.
    Duration,
    /// A size in bytes: `1048576`, `64MiB`, `500MB`, `1GiB`.
    Size,
    /// A whole number.
    Count,
    /// A file path.
    Path,
    /// One of a few words.
    Choice,
}

/// One field of a clouds.yaml cloud: under its `auth:` or at its top level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CloudField {
    /// Under `auth:`.
    pub in_auth: bool,
    /// The field's name.
    pub name: &'static str,
}

/// One option.
#[derive(Clone, Copy, Debug)]
pub struct OptionSpec {
    /// The key, as hosts pass it.
    pub key: &'static str,
    /// What its value is.
    pub kind: Kind,
    /// A credential: the credentials come as one set from one source (the URL with the map and
    /// its userinfo, a clouds.yaml cloud, or the `OS_*` variables), and a source's are sent only
    /// to that source's auth URL.
    pub credential: bool,
    /// The `OS_*` variables that fill it (`openstack-auth-from-env`), the first set one winning.
    pub env: &'static [&'static str],
    /// The clouds.yaml fields that fill it (`openstack-cloud`), the first set one winning.
    pub cloud: &'static [CloudField],
    /// README's default column.
    pub default: &'static str,
    /// README's meaning column (Markdown).
    pub doc: &'static str,
}

const fn auth(name: &'static str) -> CloudField {
    CloudField {
        in_auth: true,
        name,
    }
}

const fn top(name: &'static str) -> CloudField {
    CloudField {
        in_auth: false,
        name,
    }
}

macro_rules! options {
    ($(
        $name:ident = $key:literal, $kind:ident, credential: $cred:literal,
        env: [$($env:literal),*], cloud: [$($cloud:expr),*],
        default: $default:literal, doc: $doc:literal;
    )*) => {
        $(
            #[doc = $doc]
            pub const $name: &str = $key;
        )*
        /// Every option, in README's order.
        pub const TABLE: &[OptionSpec] = &[$(
            OptionSpec {
                key: $key,
                kind: Kind::$kind,
                credential: $cred,
                env: &[$($env),*],
                cloud: &[$($cloud),*],
                default: $default,
                doc: $doc,
            },
        )*];
    };
}

options! {
    USERNAME = "auth-username", Text, credential: false,
        env: ["OS_USERNAME"], cloud: [auth("username")],
        default: "required (except with a storage URL + token)",
        doc: "the OpenStack user";
    PASSWORD = "auth-password", Secret, credential: true,
        env: ["OS_PASSWORD"], cloud: [auth("password")],
        default: "required, except v2 with an API key",
        doc: "the password";
    AUTHURI = "openstack-authuri", Url, credential: false,
        env: ["OS_AUTH_URL"], cloud: [auth("auth_url")],
        default: "required",
        doc: "Keystone's URL with its version path, e.g. `https://keystone:5000/v3` or `.../v2.0`";
    VERSION = "openstack-version", Choice, credential: false,
        env: ["OS_IDENTITY_API_VERSION"], cloud: [top("identity_api_version")],
        default: "`v3` when the auth URI ends in `/v3` or `/v3/`, else `v2`",
        doc: "`v2` or `v3`, case-insensitive";
    TENANT = "openstack-tenant-name", Text, credential: false,
        env: ["OS_PROJECT_NAME", "OS_TENANT_NAME"], cloud: [auth("project_name"), auth("tenant_name")],
        default: "required for v2 with a password and for v3",
        doc: "v2 tenant / v3 project";
    DOMAIN = "openstack-domain-name", Text, credential: false,
        env: ["OS_DOMAIN_NAME"], cloud: [auth("domain_name")],
        default: "required for v3 (unless both below are set)",
        doc: "v3: domain of the user and of the project";
    USER_DOMAIN = "openstack-user-domain-name", Text, credential: false,
        env: ["OS_USER_DOMAIN_NAME"], cloud: [auth("user_domain_name")],
        default: "`openstack-domain-name`",
        doc: "v3: the user's domain";
    PROJECT_DOMAIN = "openstack-project-domain-name", Text, credential: false,
        env: ["OS_PROJECT_DOMAIN_NAME"], cloud: [auth("project_domain_name")],
        default: "`openstack-domain-name`",
        doc: "v3: the project's domain";
    APIKEY = "openstack-apikey", Secret, credential: true,
        env: [], cloud: [],
        default: "none",
        doc: "v2 only: a Rackspace-style API key instead of the password (`tenantName` optional)";
    REGION = "openstack-region", Text, credential: false,
        env: ["OS_REGION_NAME"], cloud: [top("region_name")],
        default: "the first candidate",
        doc: "the endpoint region. The candidates are the endpoints of the wanted interface of every `object-store` service, in catalog order (services in order, then each one's endpoints); the first whose `region` (or `region_id`) equals this one case-insensitively (Unicode case: `RÉGION` = `région`, `STRASSE` = `Straße`) is used; no match -> the first candidate, with a warning in the log";
    INTERFACE = "openstack-interface", Choice, credential: false,
        env: ["OS_INTERFACE"], cloud: [top("interface")],
        default: "`public`",
        doc: "`public`, `internal` or `admin` endpoint";
    APP_CREDENTIAL_ID = "openstack-application-credential-id", Text, credential: true,
        env: ["OS_APPLICATION_CREDENTIAL_ID"], cloud: [auth("application_credential_id")],
        default: "none",
        doc: "Keystone v3 with an application credential (its project comes with it), with `openstack-application-credential-secret`";
    APP_CREDENTIAL_NAME = "openstack-application-credential-name", Text, credential: true,
        env: ["OS_APPLICATION_CREDENTIAL_NAME"], cloud: [auth("application_credential_name")],
        default: "none",
        doc: "the application credential by name instead of id, with `auth-username` and the user's domain";
    APP_CREDENTIAL_SECRET = "openstack-application-credential-secret", Secret, credential: true,
        env: ["OS_APPLICATION_CREDENTIAL_SECRET"], cloud: [auth("application_credential_secret")],
        default: "none",
        doc: "the application credential's secret";
    AUTH_FROM_ENV = "openstack-auth-from-env", Bool, credential: false,
        env: [], cloud: [],
        default: "`false`",
        doc: "`true`: options the URL and the map leave out come from an openrc's `OS_*` variables (each option's row names its variables; `OS_AUTH_TYPE` picks password or application credential)";
    CLOUD = "openstack-cloud", Text, credential: false,
        env: [], cloud: [],
        default: "none",
        doc: "a cloud of `clouds.yaml` (with `secure.yaml`), found as openstacksdk finds it: `OS_CLIENT_CONFIG_FILE` / `OS_CLIENT_SECURE_FILE`, `./`, `~/.config/openstack/`, `/etc/openstack/`; fills what the URL and the map leave out (before `openstack-auth-from-env`)";
    STORAGE_URL = "openstack-storage-url", Url, credential: false,
        env: ["OS_STORAGE_URL"], cloud: [],
        default: "the catalog's endpoint",
        doc: "the Swift account URL: with `openstack-auth-token`, a pre-authenticated account (no Keystone call at all); with credentials, Keystone authenticates and this URL is used instead of the catalog's endpoint (as the `swift` CLI's `--os-storage-url`: a proxy or load balancer of your own)";
    AUTH_TOKEN = "openstack-auth-token", Secret, credential: true,
        env: ["OS_AUTH_TOKEN"], cloud: [],
        default: "none",
        doc: "a token obtained elsewhere, with `openstack-storage-url`";
    SHORT_TIMEOUT = "short-timeout", Duration, credential: false,
        env: [], cloud: [],
        default: "`30s`",
        doc: "connecting, authenticating, small requests (`30s`, `5m`, `1h`, or seconds)";
    READ_WRITE_TIMEOUT = "read-write-timeout", Duration, credential: false,
        env: [], cloud: [],
        default: "`30s`",
        doc: "the longest a transfer may make no progress";
    LIST_TIMEOUT = "list-timeout", Duration, credential: false,
        env: [], cloud: [],
        default: "`10m`",
        doc: "one listing page";
    RETRIES = "number-of-retries", Count, credential: false,
        env: [], cloud: [],
        default: "`4`",
        doc: "retries after the first try (connection failures, 408, 429, 498, 5xx)";
    RETRY_DELAY = "retry-delay", Duration, credential: false,
        env: [], cloud: [],
        default: "`1s`",
        doc: "the first backoff, doubled on each retry, ±50 % jitter, capped at 60 s; `Retry-After` wins";
    SEGMENT_SIZE = "openstack-segment-size", Size, credential: false,
        env: [], cloud: [],
        default: "128 MiB where the cluster's `/info` shows Static Large Objects (never more than its `max_file_size`); otherwise the cluster's `max_file_size` (5 GiB when `/info` says nothing)",
        doc: "objects larger than this are stored as Static Large Objects in segments of this size (`1048576`, `64MiB`, `500MB`, `1GiB`)";
    SEGMENT_CONTAINER = "openstack-segment-container", Text, credential: false,
        env: [], cloud: [],
        default: "`<container>_segments`",
        doc: "where the segments go (created on demand with the container's storage policy)";
    SEGMENT_THREADS = "openstack-segment-threads", Count, credential: false,
        env: [], cloud: [],
        default: "`4`",
        doc: "segments uploaded or downloaded at once (1–64); `delete_many` sends at least 8 requests at once";
    LEAVE_SEGMENTS = "openstack-leave-segments", Bool, credential: false,
        env: [], cloud: [],
        default: "`false`",
        doc: "keep the segments of a failed upload (marked, so the same file uploaded again resumes them), and of an overwritten or deleted large object";
    MAX_RETRY_WAIT = "openstack-max-retry-wait", Duration, credential: false,
        env: [], cloud: [],
        default: "`60s`",
        doc: "the longest wait a server's `Retry-After` may ask for (an archive tier thawing an object asks about ten minutes); a longer one fails at once with a message naming the wait and this option, instead of sleeping and then failing (`15m`; at most 7 days)";
    LIST_NEWEST = "openstack-list-newest", Bool, credential: false,
        env: [], cloud: [],
        default: "`false`",
        doc: "`true`: listings ask every replica and take the newest answer (`X-Newest`), so an object just put or deleted through this destination is not missed or shown by a replica that lags; more work for the cluster";
    TOKEN_CACHE = "openstack-token-cache", Path, credential: false,
        env: [], cloud: [],
        default: "none: tokens live in the process",
        doc: "a file where tokens are kept for the next process of the same identity, so a series of short processes (`oscli` in a script) authenticates once (see Tokens below); written only with mode 0600, read only when no one else may read it";
    STORAGE_POLICY = "openstack-storage-policy", Text, credential: false,
        env: [], cloud: [],
        default: "the cluster's default",
        doc: "the storage policy (`create_container` creates the container and its segment container with it; a name or an alias, case-insensitive, checked against the cluster's `/info` first). Swift cannot change a container's policy: an existing container or segment container with another one is an `OS_ERR_INVALID_URL` error that says so";
    VERSIONING = "openstack-versioning", Bool, credential: false,
        env: [], cloud: [],
        default: "`false`",
        doc: "`true`: `create_container` turns on Swift's object versioning (see *Versions* below); a cluster without it is an error before anything is created";
    LIST_LARGE_OBJECT_SIZES = "openstack-list-large-object-sizes", Bool, credential: false,
        env: [], cloud: [],
        default: "`true`",
        doc: "listings HEAD zero-byte entries, which is how Swift lists Dynamic Large Objects, for their real size and kind (`false`: such an entry lists as an object of 0 bytes)";
    CA_FILE = "openstack-ca-file", Path, credential: false,
        env: ["OS_CACERT"], cloud: [top("cacert")],
        default: "none",
        doc: "a PEM bundle of CA certificates trusted (for Keystone and Swift) besides the system's roots";
    TLS_FINGERPRINT = "openstack-tls-fingerprint", Text, credential: false,
        env: [], cloud: [],
        default: "none",
        doc: "pin the server certificate: SHA-256 of its DER, 64 hex digits, colons allowed, case-insensitive, several separated by commas; replaces the CA check (see TLS below)";
    DELETE_AFTER = "openstack-delete-after", Duration, credential: false,
        env: [], cloud: [],
        default: "none: objects do not expire",
        doc: "retention: every object put through this destination expires (Swift's `X-Delete-After`) this long after its upload, unless the put says otherwise (`86400`, `30d`, `12h`, `4w`; 1 s to 100 years)";
}

/// The options of `kind`.
fn of_kind(kind: Kind) -> impl Iterator<Item = &'static str> {
    TABLE.iter().filter(move |o| o.kind == kind).map(|o| o.key)
}

/// Every option whose value is a secret: never shown, scrubbed from every message.
pub fn secrets() -> impl Iterator<Item = &'static str> {
    of_kind(Kind::Secret)
}

/// Every option whose value is a URL: its userinfo, if any, is a secret.
pub fn urls() -> impl Iterator<Item = &'static str> {
    of_kind(Kind::Url)
}

/// The credentials: a secret, or what names an application credential (see
/// [`OptionSpec::credential`]).
pub fn credentials() -> impl Iterator<Item = &'static str> {
    TABLE.iter().filter(|o| o.credential).map(|o| o.key)
}

/// Whether `key` is a credential.
pub fn is_credential(key: &str) -> bool {
    credentials().any(|k| k == key)
}

/// Whether `key` (as a host writes it: case and surrounding spaces do not matter) is an option
/// whose value is a secret.
pub fn is_secret(key: &str) -> bool {
    let key = key.trim().to_ascii_lowercase();
    secrets().any(|k| k == key)
}

/// Each `OS_*` variable and the option it fills, in the table's order.
pub fn from_env() -> impl Iterator<Item = (&'static str, &'static str)> {
    TABLE
        .iter()
        .flat_map(|o| o.env.iter().map(move |v| (*v, o.key)))
}

/// Each clouds.yaml field and the option it fills, in the table's order.
pub fn from_cloud() -> impl Iterator<Item = (CloudField, &'static str)> {
    TABLE
        .iter()
        .flat_map(|o| o.cloud.iter().map(move |f| (*f, o.key)))
}

/// README's options table, as Markdown (checked by `tests/options_table.rs`).
pub fn markdown_table() -> String {
    let mut out = String::from("| option | meaning | default |\n| --- | --- | --- |\n");
    for o in TABLE {
        let mut doc = o.doc.to_string();
        let sources: Vec<String> = o
            .env
            .iter()
            .map(|v| format!("`{v}`"))
            .chain(o.cloud.iter().map(|f| {
                if f.in_auth {
                    format!("a cloud's `auth: {}`", f.name)
                } else {
                    format!("a cloud's `{}`", f.name)
                }
            }))
            .collect();
        if !sources.is_empty() {
            doc.push_str(&format!("; also from {}", sources.join(", ")));
        }
        out.push_str(&format!("| `{}` | {doc} | {} |\n", o.key, o.default));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_lowercase_and_the_lists_hold_what_they_should() {
        let mut seen = std::collections::HashSet::new();
        for o in TABLE {
            assert!(seen.insert(o.key), "{} twice", o.key);
            assert_eq!(o.key, o.key.to_ascii_lowercase());
            assert!(!o.doc.is_empty() && !o.default.is_empty(), "{}", o.key);
            assert!(
                o.kind != Kind::Secret || o.credential,
                "{}: a secret is a credential",
                o.key
            );
        }
        let secrets: Vec<_> = secrets().collect();
        assert_eq!(
            secrets,
            [PASSWORD, APIKEY, APP_CREDENTIAL_SECRET, AUTH_TOKEN]
        );
        assert_eq!(urls().collect::<Vec<_>>(), [AUTHURI, STORAGE_URL]);
        assert!(is_secret(" Auth-Password ") && !is_secret(USERNAME));
        let mut env: Vec<_> = from_env().map(|(v, _)| v).collect();
        let n = env.len();
        env.sort();
        env.dedup();
        assert_eq!(env.len(), n, "an OS_* variable fills one option");
    }
}
