//! `openstack-auth-from-env=true`: the options the URL and the map leave out, from the standard
//! `OS_*` variables of an openrc file, as the OpenStack command-line tools read them.

use std::collections::HashMap;

use super::keys;
use crate::error::Result;

/// Whether `key` belongs to the kind of authentication `OS_AUTH_TYPE` names (all do when it is
/// not set): an openrc for an application credential may still carry a password, and the other
/// way round.
fn wanted(auth_type: Option<&str>, key: &str) -> bool {
    let app = [
        keys::APP_CREDENTIAL_ID,
        keys::APP_CREDENTIAL_NAME,
        keys::APP_CREDENTIAL_SECRET,
    ];
    match auth_type.map(|t| t.trim().to_ascii_lowercase()).as_deref() {
        None | Some("") => true,
        Some("v3applicationcredential") => !matches!(key, keys::PASSWORD | keys::TENANT),
        Some(_) => !app.contains(&key),
    }
}

/// What the `OS_*` variables of `var` (the process environment) offer, as options, when
/// `openstack-auth-from-env` is true in `given` (else nothing). Which of them are used is
/// decided by the caller (see `super::combine`): what the URL and the map give wins, and
/// credentials come as one set from one source.
pub(super) fn from_env(
    given: &HashMap<String, String>,
    var: impl Fn(&str) -> Option<String>,
) -> Result<HashMap<String, String>> {
    let mut found = HashMap::new();
    let asked = given.get(keys::AUTH_FROM_ENV).map(String::as_str);
    if !super::options::boolean(keys::AUTH_FROM_ENV, asked, false)? {
        return Ok(found);
    }
    let auth_type = var("OS_AUTH_TYPE");
    for (name, key) in keys::from_env() {
        if found.contains_key(key) || !wanted(auth_type.as_deref(), key) {
            continue;
        }
        if let Some(value) = var(name).filter(|v| !v.is_empty()) {
            found.insert(key.to_string(), super::normalise(key, value));
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The given options with what the environment offers added where they have nothing.
    fn run(given: &[(&str, &str)], env: &[(&str, &str)]) -> Result<HashMap<String, String>> {
        let mut m: HashMap<String, String> = given
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let offered = from_env(&m, |n| {
            env.iter()
                .find(|(k, _)| *k == n)
                .map(|(_, v)| v.to_string())
        })?;
        for (k, v) in offered {
            m.entry(k).or_insert(v);
        }
        Ok(m)
    }

    const OPENRC: &[(&str, &str)] = &[
        ("OS_AUTH_URL", "https://ks.example/v3"),
        ("OS_USERNAME", "alice"),
        ("OS_PASSWORD", "env-pw"),
        ("OS_PROJECT_NAME", "proj"),
        ("OS_USER_DOMAIN_NAME", "Default"),
        ("OS_PROJECT_DOMAIN_NAME", "Default"),
        ("OS_REGION_NAME", "RegionTwo"),
        ("OS_IDENTITY_API_VERSION", "3"),
    ];

    #[test]
    fn only_when_asked_and_only_what_is_missing() {
        let m = run(&[], OPENRC).unwrap();
        assert!(m.is_empty(), "not asked: {m:?}");
        let m = run(
            &[(keys::AUTH_FROM_ENV, "true"), (keys::USERNAME, "bob")],
            OPENRC,
        )
        .unwrap();
        assert_eq!(m[keys::USERNAME], "bob", "the URL and the map win");
        assert_eq!(m[keys::PASSWORD], "env-pw");
        assert_eq!(m[keys::TENANT], "proj");
        assert_eq!(m[keys::VERSION], "v3");
        assert_eq!(m[keys::REGION], "RegionTwo");
        let e = run(&[(keys::AUTH_FROM_ENV, "perhaps")], OPENRC).unwrap_err();
        assert!(e.message().contains(keys::AUTH_FROM_ENV), "{e}");
    }

    #[test]
    fn the_auth_type_picks_the_credential() {
        let env = [
            ("OS_AUTH_TYPE", "v3applicationcredential"),
            ("OS_APPLICATION_CREDENTIAL_ID", "id-1"),
            ("OS_APPLICATION_CREDENTIAL_SECRET", "s-1"),
            ("OS_PASSWORD", "pw"),
            ("OS_PROJECT_NAME", "p"),
        ];
        let m = run(&[(keys::AUTH_FROM_ENV, "1")], &env).unwrap();
        assert_eq!(m[keys::APP_CREDENTIAL_ID], "id-1");
        assert!(!m.contains_key(keys::PASSWORD) && !m.contains_key(keys::TENANT));
        let env = [
            ("OS_AUTH_TYPE", "password"),
            ("OS_APPLICATION_CREDENTIAL_ID", "id-1"),
            ("OS_PASSWORD", "pw"),
        ];
        let m = run(&[(keys::AUTH_FROM_ENV, "1")], &env).unwrap();
        assert!(!m.contains_key(keys::APP_CREDENTIAL_ID));
        assert_eq!(m[keys::PASSWORD], "pw");
    }

    #[test]
    fn os_cacert_fills_the_ca_file() {
        let on = [(keys::AUTH_FROM_ENV, "true")];
        let m = run(&on, &[("OS_CACERT", "/etc/ca.pem")]).unwrap();
        assert_eq!(m[keys::CA_FILE], "/etc/ca.pem");
        let given = [(keys::AUTH_FROM_ENV, "true"), (keys::CA_FILE, "/mine.pem")];
        let m = run(&given, &[("OS_CACERT", "/etc/ca.pem")]).unwrap();
        assert_eq!(m[keys::CA_FILE], "/mine.pem", "the options win");
    }
}
