//! PATCH and projection: RFC 7644's operation shapes (value filters, sub-attributes, no path,
//! extension attributes), all-or-nothing, mutability respected, errors typed; `attributes` and
//! `excludedAttributes` as §3.9 says.

use integration_sso::scim::patch;
use integration_sso::scim::resource::{ResourceType, check, project};
use serde_json::{Value, json};

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn ada() -> Value {
    check(
        ResourceType::User,
        &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "ada",
                "name": {"givenName": "Ada", "middleName": "King", "familyName": "Lovelace"},
                "emails": [{"value": "ada@work.example", "type": "work", "primary": true},
                           {"value": "ada@home.example", "type": "home"}],
                "password": "s3cret", "groups": [{"value": "forged"}], "id": "forged"}),
    )
    .expect("a user")
}

fn ops(operations: Value) -> Value {
    json!({"schemas": [patch::PATCH_OP], "Operations": operations})
}

fn patched(operations: Value) -> Result<Value, integration_sso::scim::ScimError> {
    patch::apply(ResourceType::User, &ada(), &ops(operations))
}

#[test]
fn a_client_cannot_set_read_only_attributes() {
    let user = ada();
    assert!(user.get("groups").is_none() && user.get("id").is_none(), "{user}");
    let error = patched(json!([{"op": "add", "path": "groups", "value": [{"value": "g1"}]}])).expect_err("read-only");
    assert_eq!(error.scim_type(), Some("mutability"), "{error}");
}

#[test]
fn operations_reach_what_their_paths_name() {
    let user = patched(json!([
        {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "ada@new.example"},
        {"op": "remove", "path": "name.middleName"},
        {"op": "add", "path": "emails", "value": [{"value": "ada@other.example", "type": "other"}]},
        {"op": "remove", "path": "emails[type eq \"home\"]"},
        {"op": "replace", "value": {"displayName": "Countess", "active": false}},
        {"op": "add", "path": format!("{ENTERPRISE}:department"), "value": "Analytical Engines"},
        {"Op": "Replace", "path": "NAME.givenName", "value": "Augusta Ada"},
    ]))
    .expect("patched");
    let emails: Vec<&str> =
        user["emails"].as_array().expect("emails").iter().filter_map(|e| e["value"].as_str()).collect();
    assert_eq!(emails, ["ada@new.example", "ada@other.example"]);
    assert_eq!(user["name"], json!({"givenName": "Augusta Ada", "familyName": "Lovelace"}));
    assert_eq!((&user["displayName"], &user["active"]), (&json!("Countess"), &json!(false)));
    assert_eq!(user[ENTERPRISE]["department"], json!("Analytical Engines"));
    assert!(user["schemas"].as_array().expect("schemas").contains(&json!(ENTERPRISE)));
}

#[test]
fn a_failing_operation_applies_nothing_and_says_why() {
    for (operations, scim_type) in [
        (
            json!([{"op": "replace", "path": "displayName", "value": "x"}, {"op": "remove", "path": "userName"}]),
            "mutability",
        ),
        (json!([{"op": "replace", "path": "emails[type eq \"fax\"].value", "value": "x"}]), "noTarget"),
        (json!([{"op": "remove"}]), "noTarget"),
        (json!([{"op": "add", "path": "nickName[value eq \"x\"]", "value": "y"}]), "invalidPath"),
        (json!([{"op": "add", "path": "shoeSize", "value": 42}]), "invalidPath"),
        (json!([{"op": "add", "path": "emails[type eq", "value": "y"}]), "invalidPath"),
        (json!([{"op": "replace", "path": "active", "value": "yes"}]), "invalidValue"),
        (json!([{"op": "merge", "path": "active", "value": true}]), "invalidSyntax"),
    ] {
        let error = patched(operations.clone()).expect_err("refused");
        assert_eq!((error.status(), error.scim_type()), (400, Some(scim_type)), "{operations}: {error}");
    }
    let error = patch::apply(ResourceType::User, &ada(), &json!({"Operations": []})).expect_err("not a PatchOp");
    assert_eq!(error.scim_type(), Some("invalidSyntax"));
}

#[test]
fn group_members_are_added_and_removed_by_filter() {
    let group =
        check(ResourceType::Group, &json!({"displayName": "Engineers", "members": [{"value": "u1", "type": "User"}]}))
            .expect("a group");
    let added = patch::apply(
        ResourceType::Group,
        &group,
        &ops(json!([{"op": "add", "path": "members", "value": [{"value": "u2", "type": "User"}, {"value": "u1", "type": "User"}]}])),
    )
    .expect("added");
    assert_eq!(added["members"].as_array().map(Vec::len), Some(2), "a member already there is not added twice");
    let removed =
        patch::apply(ResourceType::Group, &added, &ops(json!([{"op": "remove", "path": "members[value eq \"u1\"]"}])))
            .expect("removed");
    assert_eq!(removed["members"], json!([{"value": "u2", "type": "User"}]));
    let emptied = patch::apply(ResourceType::Group, &removed, &ops(json!([{"op": "remove", "path": "members"}])))
        .expect("emptied");
    assert!(emptied.get("members").is_none());
    let error = patch::apply(ResourceType::Group, &group, &ops(json!([{"op": "remove", "path": "displayName"}])))
        .expect_err("required");
    assert_eq!(error.scim_type(), Some("mutability"));
}

#[test]
fn projection_follows_attributes_excluded_attributes_and_returned() {
    let mut user = ada();
    user["id"] = json!("u1");
    user["meta"] = json!({"resourceType": "User"});
    let all = project(ResourceType::User, &user, None, None);
    assert!(all.get("password").is_none(), "never returned");
    assert!(all.get("meta").is_some() && all.get("emails").is_some());
    let some = project(ResourceType::User, &user, Some("userName,name.givenName"), None);
    assert_eq!(
        some,
        json!({"id": "u1", "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "ada", "name": {"givenName": "Ada"}})
    );
    let fewer = project(ResourceType::User, &user, None, Some("emails,name.middleName,id"));
    assert!(fewer.get("emails").is_none());
    assert_eq!(fewer["name"], json!({"givenName": "Ada", "familyName": "Lovelace"}));
    assert_eq!(fewer["id"], json!("u1"), "id is always returned");
    let asked_password = project(ResourceType::User, &user, Some("password"), None);
    assert!(asked_password.get("password").is_none(), "never is never");
}

mod any_operations {
    use proptest::prelude::*;

    use super::*;

    fn value() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            "\\PC{0,10}".prop_map(Value::from),
            Just(json!({"value": "x", "type": "work"})),
            Just(json!([{"value": "y"}])),
            Just(json!({"givenName": "G", "bogus": 1})),
        ]
    }

    fn path() -> impl Strategy<Value = Option<String>> {
        prop::option::of(prop_oneof![
            prop::sample::select(vec![
                "userName",
                "name",
                "name.givenName",
                "emails",
                "emails.value",
                "emails[type eq \"work\"]",
                "emails[type eq \"work\"].value",
                "emails[value co \"@\"].primary",
                "groups",
                "active",
                "password",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
                "meta",
                "id",
                "externalId",
                "emails[",
                "name[givenName eq \"x\"]",
                "x509Certificates",
            ])
            .prop_map(str::to_owned),
            "\\PC{0,20}",
        ])
    }

    proptest! {
        /// Any operations: a resource that passes the schema check, or a SCIM 4xx error —
        /// never a panic, never a resource without its `userName`.
        #[test]
        fn any_operations_give_a_checked_resource_or_a_scim_error(
            operations in prop::collection::vec((prop::sample::select(vec!["add", "remove", "replace", "x"]), path(), value()), 1..5)
        ) {
            let operations: Vec<Value> = operations
                .into_iter()
                .map(|(op, path, value)| {
                    let mut o = json!({"op": op, "value": value});
                    if let Some(path) = path {
                        o["path"] = json!(path);
                    }
                    o
                })
                .collect();
            match patched(Value::Array(operations)) {
                Ok(user) => {
                    prop_assert!(user["userName"].is_string());
                    prop_assert!(check(ResourceType::User, &user).is_ok());
                }
                Err(e) => prop_assert!((400..500).contains(&e.status()), "{e}"),
            }
        }
    }
}
