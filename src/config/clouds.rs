//! `openstack-cloud=NAME`: the options the URL and the map leave out, from that cloud of
//! `clouds.yaml` (and `secure.yaml`), found where openstacksdk looks: `OS_CLIENT_CONFIG_FILE`
//! (`OS_CLIENT_SECURE_FILE`), the current directory, `~/.config/openstack`
//! (`$XDG_CONFIG_HOME/openstack`), `/etc/openstack`; the first file found is used.

use std::collections::HashMap;
use std::path::PathBuf;

use yaml_rust2::{Yaml, YamlLoader};

use super::keys;
use crate::error::{Error, Result};

/// The largest clouds.yaml read.
const MAX_FILE: u64 = 1 << 20;

/// The places a file of openstacksdk's is looked for, in order.
fn candidates(file: &str, env_file: &str, var: &dyn Fn(&str) -> Option<String>) -> Vec<PathBuf> {
    let mut paths = Vec::new();
    if let Some(p) = var(env_file).filter(|p| !p.is_empty()) {
        paths.push(PathBuf::from(p));
    }
    paths.push(PathBuf::from(file));
    let config_home = var("XDG_CONFIG_HOME")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| var("HOME").map(|h| PathBuf::from(h).join(".config")));
    if let Some(dir) = config_home {
        paths.push(dir.join("openstack").join(file));
    }
    paths.push(PathBuf::from("/etc/openstack").join(file));
    paths
}

/// The first of `paths` that exists, read and parsed.
fn load(paths: &[PathBuf]) -> Result<Option<(PathBuf, Yaml)>> {
    for path in paths {
        let Ok(meta) = std::fs::metadata(path) else {
            continue;
        };
        let problem = |what: String| {
            Error::invalid_url(format!(
                "option '{}': {} {what}",
                keys::CLOUD,
                path.display()
            ))
        };
        if meta.len() > MAX_FILE {
            return Err(problem(format!("is larger than {MAX_FILE} bytes")));
        }
        let text = std::fs::read_to_string(path)
            .map_err(|e| problem(format!("could not be read: {e}")))?;
        let docs = YamlLoader::load_from_str(&text).map_err(|e| {
            // The position only: the message must not quote the file, which holds secrets.
            let m = e.marker();
            problem(format!(
                "is not YAML (line {}, column {})",
                m.line(),
                m.col() + 1
            ))
        })?;
        return Ok(Some((
            path.clone(),
            docs.into_iter().next().unwrap_or(Yaml::Null),
        )));
    }
    Ok(None)
}

/// A scalar as text (YAML gives `identity_api_version: 3` as a number).
fn text(y: &Yaml) -> Option<String> {
    match y {
        Yaml::String(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Real(r) => Some(r.clone()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The value of `field` for cloud `cloud`: secure.yaml's wins over clouds.yaml's.
fn field(clouds: &[&Yaml], in_auth: bool, field: &str) -> Option<String> {
    clouds.iter().rev().find_map(|c| {
        let v = if in_auth {
            &c["auth"][field]
        } else {
            &c[field]
        };
        text(v).filter(|s| !s.is_empty())
    })
}

/// What the cloud `openstack-cloud` names in `given` offers, as options (nothing when it names
/// none). Which of them are used is decided by the caller (see `super::combine`).
pub(super) fn from_cloud(
    given: &HashMap<String, String>,
    var: impl Fn(&str) -> Option<String>,
) -> Result<HashMap<String, String>> {
    let mut found = HashMap::new();
    let Some(name) = given.get(keys::CLOUD).map(|n| n.trim().to_string()) else {
        return Ok(found);
    };
    if name.is_empty() {
        return Ok(found);
    }
    let searched = candidates("clouds.yaml", "OS_CLIENT_CONFIG_FILE", &var);
    let Some((path, doc)) = load(&searched)? else {
        let places: Vec<String> = searched.iter().map(|p| p.display().to_string()).collect();
        return Err(Error::invalid_url(format!(
            "option '{}': no clouds.yaml found (looked in {}): set OS_CLIENT_CONFIG_FILE or write one",
            keys::CLOUD,
            places.join(", ")
        )));
    };
    let secure = load(&candidates("secure.yaml", "OS_CLIENT_SECURE_FILE", &var))?;
    let cloud = &doc["clouds"][name.as_str()];
    if cloud.is_badvalue() || cloud.is_null() {
        let known: Vec<String> = doc["clouds"]
            .as_hash()
            .map(|h| h.keys().filter_map(text).collect())
            .unwrap_or_default();
        return Err(Error::invalid_url(format!(
            "option '{}': {} has no cloud '{name}' (it has: {})",
            keys::CLOUD,
            path.display(),
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        )));
    }
    let mut layers = vec![cloud];
    if let Some((_, s)) = &secure {
        let c = &s["clouds"][name.as_str()];
        if !c.is_badvalue() {
            layers.push(c);
        }
    }
    let auth_type = field(&layers, false, "auth_type");
    let app = auth_type.as_deref().map(str::to_ascii_lowercase).as_deref()
        == Some("v3applicationcredential");
    for (f, key) in keys::from_cloud() {
        if found.contains_key(key) || (app && matches!(key, keys::PASSWORD | keys::TENANT)) {
            continue;
        }
        if let Some(value) = field(&layers, f.in_auth, f.name) {
            found.insert(key.to_string(), super::normalise(key, value));
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> PathBuf {
        let d = std::env::temp_dir().join(format!("osd-clouds-{}", fastrand::u64(..)));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn run(cloud: &str, env: &[(&str, String)]) -> Result<HashMap<String, String>> {
        let mut m = HashMap::from([(keys::CLOUD.to_string(), cloud.to_string())]);
        m.insert(keys::REGION.into(), "FromUrl".into());
        let offered = from_cloud(&m, |n| {
            env.iter().find(|(k, _)| *k == n).map(|(_, v)| v.clone())
        })?;
        for (k, v) in offered {
            m.entry(k).or_insert(v);
        }
        Ok(m)
    }

    #[test]
    fn a_cloud_fills_what_is_missing_and_secure_yaml_adds_secrets() {
        let d = dir();
        std::fs::write(
            d.join("clouds.yaml"),
            "clouds:\n  mine:\n    auth:\n      auth_url: https://ks.example/v3\n      username: alice\n      project_name: p\n      user_domain_name: Default\n      project_domain_name: Default\n    region_name: RegionTwo\n    identity_api_version: 3\n    cacert: /etc/my-ca.pem\n  other: {}\n",
        )
        .unwrap();
        std::fs::write(
            d.join("secure.yaml"),
            "clouds:\n  mine:\n    auth:\n      password: from-secure\n",
        )
        .unwrap();
        let env = [
            (
                "OS_CLIENT_CONFIG_FILE",
                d.join("clouds.yaml").display().to_string(),
            ),
            (
                "OS_CLIENT_SECURE_FILE",
                d.join("secure.yaml").display().to_string(),
            ),
            ("HOME", d.display().to_string()),
        ];
        let m = run("mine", &env).unwrap();
        assert_eq!(m[keys::AUTHURI], "https://ks.example/v3");
        assert_eq!(m[keys::PASSWORD], "from-secure");
        assert_eq!(m[keys::VERSION], "v3");
        assert_eq!(m[keys::CA_FILE], "/etc/my-ca.pem", "cacert is the CA file");
        assert_eq!(m[keys::REGION], "FromUrl", "the URL wins");
        let e = run("missing", &env).unwrap_err();
        assert!(
            e.message().contains("mine, other") || e.message().contains("other, mine"),
            "{e}"
        );
        // Not YAML: the position, never the content.
        std::fs::write(d.join("clouds.yaml"), "clouds: [\n  password: Sec-Ret-9\n").unwrap();
        let e = run("mine", &env).unwrap_err();
        assert!(
            e.message().contains("not YAML") && !e.message().contains("Sec-Ret-9"),
            "{e}"
        );
        let none = [("HOME", d.join("nowhere").display().to_string())];
        let e = run("mine", &none).unwrap_err();
        assert!(e.message().contains("no clouds.yaml"), "{e}");
        std::fs::remove_dir_all(&d).unwrap();
    }
}
