//! Storage policies (`openstack-storage-policy`): the name checked against the cluster's
//! `/info` (names and aliases, case-insensitively, as Swift compares them), and the policy of a
//! container that already exists compared with it, since Swift cannot change a container's
//! policy.

use reqwest::Method;

use super::request::{Swift, Target};
use crate::error::{Error, Result};
use crate::log;

/// The name of the policy `wanted` names among `policies` (each one's name and aliases), by
/// Swift's rule: names and aliases compare case-insensitively.
pub(crate) fn resolve<'a>(wanted: &str, policies: &'a [Vec<String>]) -> Option<&'a str> {
    policies
        .iter()
        .find(|names| names.iter().any(|n| n.eq_ignore_ascii_case(wanted)))
        .and_then(|names| names.first())
        .map(String::as_str)
}

/// Whether the policy `have` (as a container reports it) is the policy `wanted` (a name or an
/// alias).
fn same(have: &str, wanted: &str, policies: Option<&[Vec<String>]>) -> bool {
    if have.eq_ignore_ascii_case(wanted) {
        return true;
    }
    policies.is_some_and(|ps| resolve(have, ps).is_some_and(|a| Some(a) == resolve(wanted, ps)))
}

impl Swift {
    /// The storage policy the destination asks for (`openstack-storage-policy`), as the
    /// cluster names it; `None` when none is asked for. A name the cluster's `/info` does not
    /// list is an error naming the ones it has (Swift itself would answer 400); a cluster
    /// whose `/info` lists no policies gets the name as given.
    pub(crate) fn wanted_policy(&self) -> Result<Option<String>> {
        let Some(wanted) = self.config.storage_policy.as_deref() else {
            return Ok(None);
        };
        let Some(policies) = self.features()?.policies else {
            log::info!(
                "the cluster's /info lists no storage policies: asking for '{wanted}' as it is"
            );
            return Ok(Some(wanted.to_string()));
        };
        match resolve(wanted, &policies) {
            Some(name) => Ok(Some(name.to_string())),
            None => {
                let known: Vec<String> =
                    policies.iter().map(|names| names.join("' or '")).collect();
                Err(Error::invalid_url(format!(
                    "option 'openstack-storage-policy': the cluster has no storage policy '{wanted}'; it has '{}'",
                    known.join("', '")
                )))
            }
        }
    }

    /// Checks that `container`, when it exists, has the storage policy `wanted`: Swift cannot
    /// change a container's policy, so another one is an error that says what to do. Returns
    /// whether the container exists.
    pub(crate) fn check_policy(&self, container: &str, wanted: &str) -> Result<bool> {
        let target = Target::In {
            container,
            object: None,
            query: None,
        };
        let what = format!("reading the storage policy of container '{container}'");
        let resp = self.request(&what, Method::HEAD, target, self.config.timeouts.short, &[])?;
        match resp.status().as_u16() {
            404 => return Ok(false),
            200..=299 => {}
            _ => return Err(self.failure(&what, &resp, target)),
        }
        let have = resp
            .headers()
            .get("x-storage-policy")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let policies = self.features()?.policies;
        if have.is_empty() || same(&have, wanted, policies.as_deref()) {
            return Ok(true);
        }
        Err(Error::invalid_url(format!(
            "container '{container}' already exists with the storage policy '{have}', not '{wanted}' (option 'openstack-storage-policy'), and Swift cannot change a container's policy: use a new container (copy the objects into it), or set the option to '{have}' or leave it out"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policies() -> Vec<Vec<String>> {
        vec![
            vec!["Policy-0".to_string()],
            vec!["gold".to_string(), "silver".to_string()],
        ]
    }

    #[test]
    fn names_and_aliases_resolve_case_insensitively() {
        let p = policies();
        assert_eq!(resolve("policy-0", &p), Some("Policy-0"));
        assert_eq!(resolve("SILVER", &p), Some("gold"));
        assert_eq!(resolve("bronze", &p), None);
        assert!(same("gold", "Silver", Some(&p)));
        assert!(same("GOLD", "gold", None));
        assert!(!same("Policy-0", "gold", Some(&p)));
    }
}
