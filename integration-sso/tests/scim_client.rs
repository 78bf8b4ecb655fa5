//! The SCIM client against scim2-server (PyPI, a SCIM service written by others, started by the
//! testkit): users and groups provisioned, a second run changing nothing, a change and a removal
//! converging, a run interrupted after its creates repeated without a second user, a user made by
//! someone else adopted by userName; the token never in errors or Debug output.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use integration_core::ProviderId;
use integration_core::http::{HttpClient, HttpPolicy, ProviderClient};
use integration_sso::scim::client::{DesiredGroup, DesiredUser, Removal, ScimTarget};
use integration_testkit::peers::ScimServerPeer;
use secrecy::SecretString;
use serde_json::{Value, json};

fn http() -> ProviderClient {
    HttpClient::new().expect("a client").provider_with(ProviderId::new("scim").expect("id"), HttpPolicy::standard())
}

fn user(id: &str, name: &str, active: bool) -> DesiredUser {
    DesiredUser::new(id, json!({"userName": name, "active": active, "name": {"givenName": name}}))
}

async fn users_at(peer: &ScimServerPeer) -> Vec<Value> {
    let answer: Value = reqwest::Client::new()
        .get(format!("{}/Users?count=100", peer.url()))
        .bearer_auth(ScimServerPeer::TOKEN)
        .send()
        .await
        .expect("listed")
        .json()
        .await
        .expect("JSON");
    answer["Resources"].as_array().cloned().unwrap_or_default()
}

async fn provisioning_converges_and_is_safe_to_repeat() {
    let Some(peer) = tokio::task::spawn_blocking(ScimServerPeer::start).await.expect("started") else { return };
    let target = ScimTarget::new(http(), peer.url(), &SecretString::from(ScimServerPeer::TOKEN));
    assert!(!format!("{target:?}").contains(ScimServerPeer::TOKEN));

    // Someone else's user, without an externalId: adopted when the host provisions that userName.
    let made: Value = reqwest::Client::new()
        .post(format!("{}/Users", peer.url()))
        .bearer_auth(ScimServerPeer::TOKEN)
        .header("content-type", "application/scim+json")
        .body(json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "grace"}).to_string())
        .send()
        .await
        .expect("made")
        .json()
        .await
        .expect("JSON");
    let graces_id = made["id"].as_str().expect("an id").to_owned();

    let desired = vec![user("h1", "ada", true), user("h2", "kai", true), user("h3", "grace", true)];
    let first = target.provision_users(&desired, Removal::Deactivate).await.expect("provisioned");
    assert!(first.failed.is_empty(), "{:?}", first.failed);
    assert_eq!((first.created.len(), first.adopted.clone()), (2, vec!["h3".to_owned()]));
    assert_eq!(first.ids.get("h3"), Some(&graces_id), "grace adopted, not made again");
    let groups = vec![DesiredGroup::new("g1", "Engineers", ["h1".to_owned(), "h2".to_owned()])];
    let made_groups = target.provision_groups(&groups, &first.ids).await.expect("provisioned");
    assert_eq!(made_groups.created, ["g1"]);

    // Again: nothing to do.
    let again = target.provision_users(&desired, Removal::Deactivate).await.expect("provisioned");
    assert_eq!((again.created.len(), again.updated.len(), again.unchanged.len()), (0, 0, 3), "{again:?}");
    let groups_again = target.provision_groups(&groups, &again.ids).await.expect("provisioned");
    assert_eq!(groups_again.unchanged, ["g1"]);

    // Kai renamed, Ada gone from the host: one update, one deactivation; Kai leaves the group.
    let changed = vec![user("h2", "kai.lee", true), user("h3", "grace", true)];
    let third = target.provision_users(&changed, Removal::Deactivate).await.expect("provisioned");
    assert_eq!((third.updated.clone(), third.removed.clone()), (vec!["h2".to_owned()], vec!["h1".to_owned()]));
    let fewer = vec![DesiredGroup::new("g1", "Engineers", ["h2".to_owned()])];
    assert_eq!(target.provision_groups(&fewer, &third.ids).await.expect("provisioned").updated, ["g1"]);
    let at_target = users_at(&peer).await;
    let by_name = |name: &str| at_target.iter().find(|u| u["userName"] == name).cloned().unwrap_or(Value::Null);
    assert_eq!(by_name("ada")["active"], json!(false), "deactivated, not deleted");
    assert_eq!(by_name("kai.lee")["externalId"], json!("h2"));
    assert_eq!(at_target.len(), 3, "no user made twice: {at_target:?}");

    // A run repeated after being cut short finds what it made: the same users, no duplicates.
    let ids_before: BTreeMap<String, String> = third.ids.clone();
    let repeat = target.provision_users(&changed, Removal::Delete).await.expect("provisioned");
    assert_eq!(repeat.ids.get("h2"), ids_before.get("h2"));
    assert_eq!(repeat.removed, ["h1"], "deleted this time");
    assert_eq!(users_at(&peer).await.len(), 2);
}

fn main() -> std::process::ExitCode {
    use integration_testkit::harness::{self, Need};
    harness::run(
        &[Need::python("scim2")],
        integration_testkit::trials![async provisioning_converges_and_is_safe_to_repeat],
    )
}
