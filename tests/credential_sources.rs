//! One source per credential set, against the real Keystone and Swift of the test bed: an
//! application credential in `OS_*` does not replace the URL's password, and a password from
//! `OS_*` or `clouds.yaml` never reaches a Keystone that only the URL named (a recording fake
//! stands in for it). One test, so that setting the process environment races with nothing.

mod support;

use std::sync::Arc;

use openstack_dest::{Destination, ErrorKind};
use support::fake::{Action, Fake, Request};
use support::real::{testbed, unique_container, var};

/// Creates an application credential of the test bed's member user (Default domain) through
/// Keystone's API; returns its id and secret.
fn member_app_credential() -> (String, String) {
    let client = reqwest::blocking::Client::new();
    let keystone = var("OSD_AUTH_V3");
    let login = serde_json::json!({"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": var("OSD_USER"), "domain": {"name": "Default"}, "password": var("OSD_PASSWORD")}}},
        "scope": {"project": {"name": var("OSD_PROJECT"), "domain": {"name": "Default"}}}}});
    let resp = client
        .post(format!("{keystone}/auth/tokens"))
        .json(&login)
        .send()
        .unwrap();
    assert!(resp.status().is_success(), "login: {}", resp.status());
    let token = resp.headers()["x-subject-token"]
        .to_str()
        .unwrap()
        .to_string();
    let body: serde_json::Value = resp.json().unwrap();
    let user = body["token"]["user"]["id"].as_str().unwrap().to_string();
    let resp = client
        .post(format!("{keystone}/users/{user}/application_credentials"))
        .header("X-Auth-Token", &token)
        .json(&serde_json::json!({"application_credential": {
            "name": format!("osd-sources-{}", fastrand::u64(..))}}))
        .send()
        .unwrap();
    assert!(resp.status().is_success(), "create: {}", resp.status());
    let body: serde_json::Value = resp.json().unwrap();
    let cred = &body["application_credential"];
    (
        cred["id"].as_str().unwrap().to_string(),
        cred["secret"].as_str().unwrap().to_string(),
    )
}

/// The Swift account (`/v1/AUTH_...`) a destination works in.
fn account_of(d: &Destination) -> String {
    let url = d.session().unwrap().storage_url;
    url[url.find("/v1/").unwrap()..].to_string()
}

#[test]
fn credentials_come_from_one_source_and_go_only_where_it_points() {
    let Some(tb) = testbed() else { return };
    let c = unique_container("sources");
    let member_account =
        account_of(&Destination::open(&tb.v3(&c, "", &var("OSD_REGION1"))).unwrap());
    let user2 = Destination::open(&tb.v3_domain2(&c)).unwrap();
    let user2_account = account_of(&user2);
    assert_ne!(member_account, user2_account, "the test needs two projects");

    // 1. The URL gives user2's password; the environment an application credential of the
    //    member user (another project). The backup must land in user2's project.
    let (app_id, app_secret) = member_app_credential();
    let openrc_app = [
        ("OS_AUTH_URL", var("OSD_AUTH_V3")),
        ("OS_AUTH_TYPE", "v3applicationcredential".to_string()),
        ("OS_APPLICATION_CREDENTIAL_ID", app_id),
        ("OS_APPLICATION_CREDENTIAL_SECRET", app_secret),
    ];
    for (k, v) in &openrc_app {
        std::env::set_var(k, v);
    }
    let with_env = Destination::open(&format!(
        "{}&openstack-auth-from-env=true",
        tb.v3_domain2(&c)
    ))
    .unwrap();
    assert_eq!(
        account_of(&with_env),
        user2_account,
        "the URL's password, not the environment's application credential"
    );
    // With nothing in the URL the environment's credential is the set (the member's project).
    let env_only =
        Destination::open(&format!("openstack://{c}/?openstack-auth-from-env=true")).unwrap();
    assert_eq!(account_of(&env_only), member_account);
    for (k, _) in &openrc_app {
        std::env::remove_var(k);
    }

    // 2. A password in OS_* (with the real OS_AUTH_URL) and a Keystone that only the URL names:
    //    the password is not sent there.
    let seen: Arc<std::sync::Mutex<Vec<String>>> = Arc::default();
    let s2 = seen.clone();
    let stranger = Fake::start(Arc::new(move |r: &Request| {
        s2.lock()
            .unwrap()
            .push(String::from_utf8_lossy(&r.body).into_owned());
        Action::status(401)
    }));
    let password = var("OSD_PASSWORD");
    let openrc_password = [
        ("OS_AUTH_URL", var("OSD_AUTH_V3")),
        ("OS_USERNAME", var("OSD_USER")),
        ("OS_PASSWORD", password.clone()),
        ("OS_PROJECT_NAME", var("OSD_PROJECT")),
        ("OS_USER_DOMAIN_NAME", "Default".to_string()),
        ("OS_PROJECT_DOMAIN_NAME", "Default".to_string()),
    ];
    for (k, v) in &openrc_password {
        std::env::set_var(k, v);
    }
    let to_stranger = format!(
        "openstack://{c}/?openstack-auth-from-env=true&openstack-authuri={}&number-of-retries=0",
        stranger.url("/v3")
    );
    let outcome = Destination::open(&to_stranger).and_then(|d| d.test());
    let e = outcome.expect_err("the environment's password must not reach the URL's Keystone");
    assert_eq!(e.kind(), ErrorKind::InvalidUrl, "{e}");
    assert!(e.message().contains("OS_*"), "{e}");
    // The same variables with no Keystone in the URL: their own, which works.
    let own = Destination::open(&format!("openstack://{c}/?openstack-auth-from-env=true")).unwrap();
    assert_eq!(account_of(&own), member_account);
    for (k, _) in &openrc_password {
        std::env::remove_var(k);
    }

    // 3. The same with a clouds.yaml cloud.
    let dir = std::env::temp_dir().join(format!("osd-sources-{}", fastrand::u64(..)));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("clouds.yaml"),
        format!(
            "clouds:\n  tb:\n    auth:\n      auth_url: {}\n      username: {}\n      password: {password}\n      project_name: {}\n      user_domain_name: Default\n      project_domain_name: Default\n",
            var("OSD_AUTH_V3"),
            var("OSD_USER"),
            var("OSD_PROJECT")
        ),
    )
    .unwrap();
    std::env::set_var("OS_CLIENT_CONFIG_FILE", dir.join("clouds.yaml"));
    let e = Destination::open(&format!(
        "openstack://{c}/?openstack-cloud=tb&openstack-authuri={}&number-of-retries=0",
        stranger.url("/v3")
    ))
    .and_then(|d| d.test())
    .expect_err("the cloud's password must not reach the URL's Keystone");
    assert!(e.message().contains("cloud 'tb'"), "{e}");
    let cloud = Destination::open(&format!("openstack://{c}/?openstack-cloud=tb")).unwrap();
    assert_eq!(account_of(&cloud), member_account);
    std::env::remove_var("OS_CLIENT_CONFIG_FILE");
    std::fs::remove_dir_all(&dir).unwrap();

    let bodies = seen.lock().unwrap();
    assert!(
        bodies.iter().all(|b| !b.contains(&password)),
        "the password reached the stranger: {bodies:?}"
    );
    assert!(
        bodies.is_empty(),
        "nothing at all was sent there: {bodies:?}"
    );
}
