//! The SSO stores' contract: what every [`ScimStore`] and [`MfaStore`] must hold — memory in
//! `integration-sso`, SQLite and PostgreSQL in `integration-store` — written once.
//!
//! | rule | what it checks |
//! |---|---|
//! | `resources_round_trip_within_their_tenant` | created, read, listed by id; another tenant sees none of them |
//! | `user_names_are_unique_per_tenant_without_regard_to_case` | a second `ADA` in the tenant is refused naming the value; in another tenant, or as a group's name, it is not |
//! | `a_replace_is_a_compare_and_swap` | at the read version it is written; at a stale one nothing changes; two writers at one version: one wins |
//! | `deleting_is_done_once` | true, then false; the resource is gone |
//! | `sessions_are_kept_by_digest_and_revoked_once` | read back as made; used-at times only move forward; revoked once; a user's live sessions revoked in their tenant only |
//! | `saml_assertions_are_taken_once_until_forgotten` | the first use is `true`, a second `false` — also for two callers at once; another tenant or issuer is another assertion; past its time it can be recorded again |
//! | `mfa_records_are_saved_by_compare_and_swap` | a first save at `None`, a second at `None` refused; saves at the read version bump it; a stale one refused; removal |
//!
//! [`sso_store_contract_suite!`](crate::sso_store_contract_suite) expands them for two store
//! expressions — a `ScimStore`, an `MfaStore`, a `SessionStore` and an `AssertionLedger`, each yielding `Option<store>` (`None` skips, as
//! the store contract suite does); a store implementing both is given twice.

use std::sync::Arc;

use chrono::Utc;
use integration_core::TenantId;
use integration_core::crypto::SealedBox;
use integration_sso::mfa::recovery::RecoveryCodes;
use integration_sso::mfa::store::{MfaRecord, MfaStore};
use integration_sso::saml::AssertionLedger;
use integration_sso::scim::resource::{ResourceType, Stored};
use integration_sso::scim::store::{ScimStore, Written};
use integration_sso::session::Session;
use integration_sso::session::store::SessionStore;
use serde_json::json;

/// Expands to one `#[tokio::test]` per rule: the SCIM rules for the store `$scim` yields, the
/// MFA rule for `$mfa`'s, the session rule for `$sessions`', the SAML ledger's for `$saml`'s.
#[macro_export]
macro_rules! sso_store_contract_suite {
    (scim: $scim:expr, mfa: $mfa:expr, sessions: $sessions:expr, saml: $saml:expr $(,)?) => {
        $crate::sso_store_contract_suite!(@each $scim;
            resources_round_trip_within_their_tenant,
            user_names_are_unique_per_tenant_without_regard_to_case,
            a_replace_is_a_compare_and_swap,
            deleting_is_done_once
        );
        $crate::sso_store_contract_suite!(@each $mfa; mfa_records_are_saved_by_compare_and_swap);
        $crate::sso_store_contract_suite!(@each $sessions; sessions_are_kept_by_digest_and_revoked_once);
        $crate::sso_store_contract_suite!(@each $saml; saml_assertions_are_taken_once_until_forgotten);
    };
    (@each $make:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let Some(store) = $make.await else { return };
                $crate::contract::sso_stores::$name(std::sync::Arc::new(store)).await;
            }
        )*
    };
}

fn tenant(name: &str) -> TenantId {
    TenantId::new(name).expect("a tenant")
}

fn user(id: &str, user_name: &str) -> Stored {
    Stored::new(
        ResourceType::User,
        id.to_owned(),
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": user_name}),
        Utc::now(),
    )
}

/// Created, read, listed; another tenant sees nothing.
pub async fn resources_round_trip_within_their_tenant<S: ScimStore + 'static>(store: Arc<S>) {
    let (a, b) = (tenant("acme"), tenant("globex"));
    for (id, name) in [("u2", "kai"), ("u1", "ada")] {
        assert!(matches!(store.create(&a, user(id, name)).await.expect("created"), Written::Done(_)));
    }
    let group = Stored::new(
        ResourceType::Group,
        "g1".into(),
        json!({"displayName": "Engineers", "members": [{"value": "u1"}]}),
        Utc::now(),
    );
    assert!(matches!(store.create(&a, group).await.expect("created"), Written::Done(_)));
    let read = store.get(&a, ResourceType::User, "u1").await.expect("read").expect("there");
    assert_eq!((read.attributes["userName"].as_str(), read.version), (Some("ada"), 1));
    let users: Vec<String> =
        store.list(&a, ResourceType::User).await.expect("listed").into_iter().map(|r| r.id).collect();
    assert_eq!(users, ["u1", "u2"], "by id");
    assert_eq!(store.list(&a, ResourceType::Group).await.expect("listed").len(), 1);
    assert!(store.get(&a, ResourceType::Group, "u1").await.expect("read").is_none(), "kinds are apart");
    assert!(store.get(&b, ResourceType::User, "u1").await.expect("read").is_none());
    assert!(store.list(&b, ResourceType::User).await.expect("listed").is_empty());
}

/// `userName` unique per tenant, without regard to case.
pub async fn user_names_are_unique_per_tenant_without_regard_to_case<S: ScimStore + 'static>(store: Arc<S>) {
    let (a, b) = (tenant("acme"), tenant("globex"));
    assert!(matches!(store.create(&a, user("u1", "ada")).await.expect("created"), Written::Done(_)));
    assert_eq!(store.create(&a, user("u2", "ADA")).await.expect("answered"), Written::NotUnique("ada".into()));
    assert!(matches!(store.create(&b, user("u2", "ADA")).await.expect("created"), Written::Done(_)));
    let group = Stored::new(ResourceType::Group, "g1".into(), json!({"displayName": "ada"}), Utc::now());
    assert!(matches!(store.create(&a, group).await.expect("created"), Written::Done(_)));
    // Renaming another user to a taken name is refused too.
    assert!(matches!(store.create(&a, user("u3", "kai")).await.expect("created"), Written::Done(_)));
    let mut renamed = user("u3", "Ada");
    renamed.version = 2;
    assert_eq!(store.replace(&a, renamed, 1).await.expect("answered"), Written::NotUnique("ada".into()));
    assert_eq!(
        store.get(&a, ResourceType::User, "u3").await.expect("read").expect("there").attributes["userName"],
        json!("kai")
    );
}

/// Replaces at a version; a stale one changes nothing; one of two racing writers wins.
pub async fn a_replace_is_a_compare_and_swap<S: ScimStore + 'static>(store: Arc<S>) {
    let a = tenant("acme");
    assert!(matches!(store.create(&a, user("u1", "ada")).await.expect("created"), Written::Done(_)));
    let mut next = user("u1", "ada");
    (next.attributes["displayName"], next.version) = (json!("Ada"), 2);
    assert!(matches!(store.replace(&a, next.clone(), 1).await.expect("replaced"), Written::Done(_)));
    assert_eq!(store.replace(&a, next.clone(), 1).await.expect("answered"), Written::Stale);
    assert_eq!(store.replace(&a, user("nobody", "x"), 1).await.expect("answered"), Written::Stale, "gone is stale");
    let mut third = next.clone();
    third.version = 3;
    let (x, y) = tokio::join!(store.replace(&a, third.clone(), 2), store.replace(&a, third.clone(), 2));
    let won = [x.expect("answered"), y.expect("answered")].iter().filter(|w| matches!(w, Written::Done(_))).count();
    assert_eq!(won, 1, "one of two writers at one version");
    assert_eq!(store.get(&a, ResourceType::User, "u1").await.expect("read").expect("there").version, 3);
}

/// Deleted once.
pub async fn deleting_is_done_once<S: ScimStore + 'static>(store: Arc<S>) {
    let a = tenant("acme");
    assert!(matches!(store.create(&a, user("u1", "ada")).await.expect("created"), Written::Done(_)));
    assert!(
        !store.delete(&tenant("globex"), ResourceType::User, "u1").await.expect("answered"),
        "not another tenant's"
    );
    assert!(store.delete(&a, ResourceType::User, "u1").await.expect("deleted"));
    assert!(!store.delete(&a, ResourceType::User, "u1").await.expect("answered"));
    assert!(store.get(&a, ResourceType::User, "u1").await.expect("read").is_none());
    // The name is free again.
    assert!(matches!(store.create(&a, user("u2", "ada")).await.expect("created"), Written::Done(_)));
}

/// MFA records: compare-and-swap saves.
pub async fn mfa_records_are_saved_by_compare_and_swap<S: MfaStore + 'static>(store: Arc<S>) {
    let a = tenant("acme");
    let sealed = SealedBox::parse("v1.k1.AAAA").expect("a box");
    let record = MfaRecord::new(&sealed, RecoveryCodes::default());
    assert!(store.load(&a, "u1").await.expect("loaded").is_none());
    assert!(store.save(&a, "u1", &record, None).await.expect("saved"));
    assert!(!store.save(&a, "u1", &record, None).await.expect("answered"), "a second first save");
    let mut read = store.load(&a, "u1").await.expect("loaded").expect("there");
    assert_eq!(read.version, 1);
    read.last_step = Some(42);
    assert!(store.save(&a, "u1", &read, Some(1)).await.expect("saved"));
    assert!(!store.save(&a, "u1", &read, Some(1)).await.expect("answered"), "stale");
    let now = store.load(&a, "u1").await.expect("loaded").expect("there");
    assert_eq!((now.version, now.last_step), (2, Some(42)));
    assert!(store.load(&tenant("globex"), "u1").await.expect("loaded").is_none());
    store.remove(&a, "u1").await.expect("removed");
    assert!(store.load(&a, "u1").await.expect("loaded").is_none());
}

/// Sessions: by digest, touched forward only, revoked once, per user within their tenant.
pub async fn sessions_are_kept_by_digest_and_revoked_once<S: SessionStore + 'static>(store: Arc<S>) {
    use chrono::Duration;
    let (a, b) = (tenant("acme"), tenant("globex"));
    let now = chrono::DateTime::from_timestamp(1_800_000_000, 0).expect("a time");
    let make = |id: &str, tenant: &TenantId, user: &str| {
        Session::stored(
            id.to_owned(),
            tenant.clone(),
            user.to_owned(),
            ["admin".to_owned()].into(),
            (now, now, now + Duration::hours(12)),
            None,
        )
    };
    for (id, t, user) in [("d1", &a, "u1"), ("d2", &a, "u1"), ("d3", &a, "u2"), ("d4", &b, "u1")] {
        store.create(&make(id, t, user)).await.expect("created");
    }
    assert_eq!(store.get("d1").await.expect("read"), Some(make("d1", &a, "u1")));
    assert!(store.get("nope").await.expect("read").is_none());
    store.touch("d1", now + Duration::minutes(10)).await.expect("touched");
    store.touch("d1", now + Duration::minutes(5)).await.expect("touched");
    assert_eq!(store.get("d1").await.expect("read").expect("there").seen_at, now + Duration::minutes(10));
    assert!(store.revoke("d2", "logout").await.expect("revoked"));
    assert!(!store.revoke("d2", "logout").await.expect("answered"), "once");
    assert_eq!(store.revoke_user(&a, "u1", "deactivated").await.expect("revoked"), 1, "d1; d2 already was");
    assert_eq!(store.get("d1").await.expect("read").expect("there").revoked.as_deref(), Some("deactivated"));
    assert_eq!(store.get("d2").await.expect("read").expect("there").revoked.as_deref(), Some("logout"));
    assert!(store.get("d3").await.expect("read").expect("there").revoked.is_none(), "another user");
    assert!(store.get("d4").await.expect("read").expect("there").revoked.is_none(), "another tenant");
}

/// SAML assertions: each taken once per tenant and issuer — of two callers at once, one — until
/// its time has passed.
pub async fn saml_assertions_are_taken_once_until_forgotten<S: AssertionLedger + 'static>(store: Arc<S>) {
    use chrono::Duration;
    let (a, b) = (tenant("acme"), tenant("globex"));
    let now = chrono::DateTime::from_timestamp(1_800_000_000, 0).expect("a time");
    let until = now + Duration::minutes(5);
    let idp = "https://idp.example";
    assert!(store.first_use(&a, idp, "_a1", until, now).await.expect("recorded"));
    assert!(!store.first_use(&a, idp, "_a1", until, now + Duration::minutes(1)).await.expect("answered"), "a replay");
    assert!(store.first_use(&b, idp, "_a1", until, now).await.expect("recorded"), "another tenant");
    assert!(store.first_use(&a, "https://other.example", "_a1", until, now).await.expect("recorded"), "another issuer");
    let later = until + Duration::seconds(1);
    assert!(store.first_use(&a, idp, "_a1", later + Duration::minutes(5), later).await.expect("recorded"), "forgotten");
    assert!(!store.first_use(&a, idp, "_a1", later, later).await.expect("answered"), "remembered again");
    let race = |store: Arc<S>, a: TenantId| async move { store.first_use(&a, idp, "_race", until, now).await };
    let (one, two) = tokio::join!(tokio::spawn(race(store.clone(), a.clone())), tokio::spawn(race(store.clone(), a)));
    let taken = [one.expect("ran").expect("answered"), two.expect("ran").expect("answered")];
    assert_eq!(taken.iter().filter(|t| **t).count(), 1, "{taken:?}");
}
