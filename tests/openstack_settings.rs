//! The OpenStack settings users already have, against the real Keystone of the test bed: an
//! application credential (by id, and by name with its user), a clouds.yaml with secure.yaml,
//! and an openrc's `OS_*` variables with `openstack-auth-from-env=true`. One test, so that setting the process environment
//! races with nothing.

mod support;

use openstack_dest::{Destination, ErrorKind};
use support::real::{testbed, unique_container, var};

/// Creates an application credential for the test bed's member user through Keystone's API;
/// returns (user id, credential id, name, secret).
fn create_app_credential(client: &reqwest::blocking::Client) -> (String, String, String, String) {
    let auth = serde_json::json!({"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": var("OSD_USER"), "domain": {"name": "Default"}, "password": var("OSD_PASSWORD")}}},
        "scope": {"project": {"name": var("OSD_PROJECT"), "domain": {"name": "Default"}}}}});
    let resp = client
        .post(format!("{}/auth/tokens", var("OSD_AUTH_V3")))
        .json(&auth)
        .send()
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    let token = resp.headers()["x-subject-token"]
        .to_str()
        .unwrap()
        .to_string();
    let body: serde_json::Value = resp.json().unwrap();
    let user_id = body["token"]["user"]["id"].as_str().unwrap().to_string();
    let name = format!("osd-test-{}", fastrand::u64(..));
    let resp = client
        .post(format!(
            "{}/users/{user_id}/application_credentials",
            var("OSD_AUTH_V3")
        ))
        .header("X-Auth-Token", &token)
        .json(&serde_json::json!({"application_credential": {"name": name}}))
        .send()
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    let body: serde_json::Value = resp.json().unwrap();
    let cred = &body["application_credential"];
    (
        user_id,
        cred["id"].as_str().unwrap().to_string(),
        name,
        cred["secret"].as_str().unwrap().to_string(),
    )
}

#[test]
fn application_credentials_and_openrc_variables_reach_swift() {
    let Some(_tb) = testbed() else { return };
    let client = reqwest::blocking::Client::new();
    let (_user, id, name, secret) = create_app_credential(&client);
    let c = unique_container("appcred");
    let base = format!(
        "openstack://{c}/?openstack-authuri={}&openstack-region={}",
        var("OSD_AUTH_V3"),
        var("OSD_REGION1")
    );

    // By id.
    let by_id = Destination::open(&format!(
        "{base}&openstack-application-credential-id={id}&openstack-application-credential-secret={secret}"
    ))
    .unwrap();
    by_id.create_container().unwrap();
    by_id.put_bytes("a", b"by id").unwrap();
    // By name, with its user and the user's domain.
    let by_name = Destination::open(&format!(
        "{base}&openstack-application-credential-name={name}&auth-username={}&openstack-user-domain-name=Default&openstack-application-credential-secret={secret}",
        var("OSD_USER")
    ))
    .unwrap();
    assert_eq!(by_name.get_bytes("a").unwrap(), b"by id");
    // A wrong secret is an authentication error that does not show it.
    let wrong = Destination::open(&format!(
        "{base}&openstack-application-credential-id={id}&openstack-application-credential-secret=Wrong-Secret-123"
    ))
    .unwrap();
    let e = wrong.test().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth, "{e}");
    assert!(!e.to_string().contains("Wrong-Secret-123"), "{e}");

    // A clouds.yaml (found through OS_CLIENT_CONFIG_FILE) with the password in secure.yaml.
    let dir = std::env::temp_dir().join(format!("osd-clouds-{}", fastrand::u64(..)));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("clouds.yaml"),
        format!(
            "clouds:\n  testbed:\n    auth:\n      auth_url: {}\n      username: {}\n      project_name: {}\n      user_domain_name: Default\n      project_domain_name: Default\n    region_name: {}\n    identity_api_version: 3\n",
            var("OSD_AUTH_V3"),
            var("OSD_USER"),
            var("OSD_PROJECT"),
            var("OSD_REGION1")
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("secure.yaml"),
        format!(
            "clouds:\n  testbed:\n    auth:\n      password: {}\n",
            var("OSD_PASSWORD")
        ),
    )
    .unwrap();
    std::env::set_var("OS_CLIENT_CONFIG_FILE", dir.join("clouds.yaml"));
    std::env::set_var("OS_CLIENT_SECURE_FILE", dir.join("secure.yaml"));
    let cloud = Destination::open(&format!("openstack://{c}/?openstack-cloud=testbed")).unwrap();
    assert_eq!(cloud.get_bytes("a").unwrap(), b"by id");
    let e = Destination::open(&format!("openstack://{c}/?openstack-cloud=elsewhere")).unwrap_err();
    assert!(e.message().contains("testbed"), "{e}");
    std::env::remove_var("OS_CLIENT_CONFIG_FILE");
    std::env::remove_var("OS_CLIENT_SECURE_FILE");
    std::fs::remove_dir_all(&dir).unwrap();

    // An openrc's variables, with nothing but the container and the switch in the URL.
    let openrc = [
        ("OS_AUTH_URL", var("OSD_AUTH_V3")),
        ("OS_USERNAME", var("OSD_USER")),
        ("OS_PASSWORD", var("OSD_PASSWORD")),
        ("OS_PROJECT_NAME", var("OSD_PROJECT")),
        ("OS_USER_DOMAIN_NAME", "Default".to_string()),
        ("OS_PROJECT_DOMAIN_NAME", "Default".to_string()),
        ("OS_REGION_NAME", var("OSD_REGION1")),
        ("OS_IDENTITY_API_VERSION", "3".to_string()),
    ];
    for (k, v) in &openrc {
        std::env::set_var(k, v);
    }
    let from_env =
        Destination::open(&format!("openstack://{c}/?openstack-auth-from-env=true")).unwrap();
    assert_eq!(from_env.get_bytes("a").unwrap(), b"by id");
    // Without the switch the variables are not read.
    let e = Destination::open(&format!("openstack://{c}/")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidUrl, "{e}");
    // An openrc for the application credential.
    std::env::set_var("OS_AUTH_TYPE", "v3applicationcredential");
    std::env::set_var("OS_APPLICATION_CREDENTIAL_ID", &id);
    std::env::set_var("OS_APPLICATION_CREDENTIAL_SECRET", &secret);
    let app_env =
        Destination::open(&format!("openstack://{c}/?openstack-auth-from-env=true")).unwrap();
    assert_eq!(app_env.get_bytes("a").unwrap(), b"by id");
    app_env.delete_container(true).unwrap();
}
