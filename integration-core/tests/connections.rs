//! Sealed configurations through `Connections`: tenant and connection binding, key rotation,
//! unknown keys, and the audit trail.

mod common;

use std::sync::Arc;

use common::{API_KEY, config};
use integration_core::crypto::{KeyRing, Sealer, SealingKey};
use integration_core::store::{AuditAction, AuditOutcome, ConfigStore, MemoryStore};
use integration_core::*;
use secrecy::ExposeSecret;

fn key(byte: u8) -> SealingKey {
    SealingKey::from_bytes([byte; 32])
}

fn connections(store: &MemoryStore, keys: KeyRing) -> Connections {
    Connections::new(Arc::new(store.clone()), Sealer::new(keys), Arc::new(store.clone()))
}

#[tokio::test]
async fn secrets_copied_to_another_tenant_or_connection_do_not_open() {
    let store = MemoryStore::new();
    let conns = connections(&store, KeyRing::new("k1", key(1)));
    let ours = config("directory");
    conns.save(&ours).await.expect("save");
    let sealed = store.get(&ours.tenant, &ours.connection).await.expect("get").expect("present").sealed_secrets;

    // An attacker with write access to the table copies A's sealed secrets into B's row.
    let globex = TenantId::new("globex").expect("tenant");
    let mut theirs = config("directory");
    theirs.tenant = globex.clone();
    conns.save(&theirs).await.expect("save");
    let mut row = store.get(&globex, &theirs.connection).await.expect("get").expect("present");
    row.sealed_secrets = sealed.clone();
    store.put(&row).await.expect("overwrite");
    let err = conns.load(&globex, &theirs.connection).await.expect_err("must not open");
    assert_eq!(err.kind(), ErrorKind::Crypto);
    assert!(!format!("{err} {err:?}").contains(API_KEY));
    let failed = store.audit_events(&globex).into_iter().find(|e| e.outcome == AuditOutcome::Failure).expect("audited");
    assert_eq!(failed.action, AuditAction::CredentialDecrypted);

    // And into another connection of the same tenant.
    let mut other = config("directory");
    other.connection = ConnectionId::new("hr-second").expect("connection");
    conns.save(&other).await.expect("save");
    let mut row = store.get(&other.tenant, &other.connection).await.expect("get").expect("present");
    row.sealed_secrets = sealed;
    store.put(&row).await.expect("overwrite");
    assert_eq!(
        conns.load(&other.tenant, &other.connection).await.expect_err("must not open").kind(),
        ErrorKind::Crypto
    );
}

#[tokio::test]
async fn rotation_keeps_old_boxes_readable_until_resealed() {
    let store = MemoryStore::new();
    let before = connections(&store, KeyRing::new("2025", key(1)));
    let cfg = config("directory");
    before.save(&cfg).await.expect("save");

    let after = connections(&store, KeyRing::new("2026", key(2)).with_retired("2025", key(1)));
    let loaded = after.load(&cfg.tenant, &cfg.connection).await.expect("old box opens with the retired key");
    assert_eq!(loaded.secret("api_key").expect("secret").expose_secret(), API_KEY);

    assert_eq!(after.reseal_all(&cfg.tenant).await.expect("reseal"), 1);
    assert_eq!(after.reseal_all(&cfg.tenant).await.expect("reseal again"), 0, "nothing left to reseal");
    let row = store.get(&cfg.tenant, &cfg.connection).await.expect("get").expect("present");
    assert_eq!(row.sealed_secrets.key_id().expect("key id").as_str(), "2026");

    // Once resealed, the old key can be dropped.
    let only_new = connections(&store, KeyRing::new("2026", key(2)));
    let loaded = only_new.load(&cfg.tenant, &cfg.connection).await.expect("opens with the new key alone");
    assert_eq!(loaded.secret("api_key").expect("secret").expose_secret(), API_KEY);
    assert_eq!(loaded.revision, 2);
}

#[tokio::test]
async fn an_unknown_key_id_says_which_key_is_missing() {
    let store = MemoryStore::new();
    let cfg = config("directory");
    connections(&store, KeyRing::new("2025", key(1))).save(&cfg).await.expect("save");
    let err = connections(&store, KeyRing::new("2026", key(2)))
        .load(&cfg.tenant, &cfg.connection)
        .await
        .expect_err("unknown");
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(err.message().contains("\"2025\""), "{err}");
    assert!(err.message().contains("retired key"), "{err}");
}

#[tokio::test]
async fn a_wrong_key_under_a_known_id_fails_as_crypto() {
    let store = MemoryStore::new();
    let cfg = config("directory");
    connections(&store, KeyRing::new("k1", key(1))).save(&cfg).await.expect("save");
    let err = connections(&store, KeyRing::new("k1", key(9)))
        .load(&cfg.tenant, &cfg.connection)
        .await
        .expect_err("wrong key");
    assert_eq!(err.kind(), ErrorKind::Crypto);
}

#[tokio::test]
async fn saves_are_compare_and_swap_and_reads_are_audited() {
    let store = MemoryStore::new();
    let conns = connections(&store, KeyRing::new("k1", key(1)));
    let cfg = config("directory");
    assert_eq!(conns.save(&cfg).await.expect("save"), 1);
    assert_eq!(conns.save(&cfg).await.expect_err("stale revision").kind(), ErrorKind::Conflict);
    let mut loaded = conns.load(&cfg.tenant, &cfg.connection).await.expect("load");
    loaded.settings.insert("subdomain".into(), "globex".into());
    assert_eq!(conns.save(&loaded).await.expect("save at current revision"), 2);
    conns.set_status(&cfg.tenant, &cfg.connection, ConnectionStatus::Active).await.expect("status");
    assert!(conns.delete(&cfg.tenant, &cfg.connection).await.expect("delete"));
    let missing = conns.load(&cfg.tenant, &cfg.connection).await.expect_err("gone");
    assert_eq!(missing.kind(), ErrorKind::NotFound);

    let actions: Vec<AuditAction> = store.audit_events(&cfg.tenant).iter().map(|e| e.action).collect();
    assert_eq!(
        actions,
        [
            AuditAction::ConfigWritten,
            AuditAction::ConfigRead,
            AuditAction::CredentialDecrypted,
            AuditAction::ConfigWritten,
            AuditAction::StatusChanged,
            AuditAction::ConfigDeleted,
        ]
    );
}
