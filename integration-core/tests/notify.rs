//! Notifications: a streak of failed syncs, a revoked grant, credentials about to expire, a
//! dead-lettered webhook and a failed automation run each become one notification — once,
//! whichever of many notifiers checks — and reach subscribers and sinks.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use integration_core::crypto::{KeyRing, Sealer, SealingKey};
use integration_core::notify::{CREDENTIALS_EXPIRE_AT, Notification, NotificationSink, Notifier, NotifyPolicy};
use integration_core::store::{ConfigStore, DeliveryOutcome, DeliveryStore, MemoryStore, WebhookDelivery};
use integration_core::*;
use integration_testkit::memory_source::{MemorySource, STREAM};
use serde_json::json;

fn tenant() -> TenantId {
    TenantId::new("acme").expect("tenant")
}

fn conn() -> ConnectionId {
    ConnectionId::new("hr").expect("connection")
}

async fn world() -> (Arc<MemoryStore>, Connections) {
    let store = Arc::new(MemoryStore::new());
    let sealer = Sealer::new(KeyRing::new("k1", SealingKey::generate()));
    let connections = Connections::new(store.clone(), sealer, store.clone());
    let config = IntegrationConfig::new(tenant(), conn(), Domain::Hris, ProviderId::new("memory").expect("id"));
    connections.save(&config).await.expect("saved");
    connections.set_status(&tenant(), &conn(), ConnectionStatus::Active).await.expect("active");
    (store, connections)
}

fn notifier(store: &Arc<MemoryStore>) -> Notifier {
    Notifier::new(store.clone(), store.clone(), store.clone(), store.clone())
}

#[derive(Debug, Default)]
struct Heard(Mutex<Vec<(String, String)>>);

#[async_trait]
impl NotificationSink for Heard {
    async fn notify(&self, notification: &Notification, episode: &str) -> Result<()> {
        self.0.lock().expect("lock").push((notification.kind().to_owned(), episode.to_owned()));
        Ok(())
    }
}

#[tokio::test]
async fn repeated_sync_failures_are_one_notification_per_streak() {
    let (store, _) = world().await;
    let source = MemorySource::new();
    source.upsert("e1", json!({"n": 1}));
    let engine = SyncEngine::new(store.clone(), store.clone(), "w");
    let job = SyncJob::new(tenant(), conn(), STREAM, SyncMode::Incremental);
    let heard = Arc::new(Heard::default());
    let notifier = notifier(&store).with_sink(heard.clone()).with_policy(NotifyPolicy::default().sync_failures(2));
    let fail = || async {
        source.fail_on_read(1);
        let run = engine.run(&source, &job, &CancellationToken::new()).await.expect("run");
        assert_eq!(run.status, integration_core::store::RunStatus::Failed);
    };

    fail().await;
    assert!(notifier.check(&tenant()).await.expect("check").is_empty(), "one failure is not a streak");
    fail().await;
    let raised = notifier.check(&tenant()).await.expect("check");
    match &raised[..] {
        [Notification::SyncFailing { stream, consecutive_failures: 2, error, .. }] => {
            assert_eq!(stream, STREAM);
            assert!(!error.is_empty());
        }
        other => panic!("{other:?}"),
    }
    fail().await;
    assert!(notifier.check(&tenant()).await.expect("check").is_empty(), "the same streak is not news");

    // A success ends the streak; a new streak is news again.
    engine.run(&source, &job, &CancellationToken::new()).await.expect("run");
    fail().await;
    fail().await;
    assert_eq!(notifier.check(&tenant()).await.expect("check").len(), 1, "a new streak");
    let heard = heard.0.lock().expect("lock").clone();
    assert_eq!(heard.len(), 2);
    assert_ne!(heard[0].1, heard[1].1, "each streak is its own episode");
}

#[tokio::test]
async fn many_notifiers_raise_a_revocation_once() {
    let (store, connections) = world().await;
    connections.set_status(&tenant(), &conn(), ConnectionStatus::ReauthorizationRequired).await.expect("revoked");
    let notifiers: Vec<Notifier> = (0..4).map(|_| notifier(&store)).collect();
    let mut receivers: Vec<_> = notifiers.iter().map(Notifier::subscribe).collect();
    let t = tenant();
    let (a, b, c, d) =
        tokio::join!(notifiers[0].check(&t), notifiers[1].check(&t), notifiers[2].check(&t), notifiers[3].check(&t));
    let raised: usize = [a, b, c, d].into_iter().map(|r| r.expect("check").len()).sum();
    assert_eq!(raised, 1, "raised once among four notifiers");
    let heard: usize = receivers.iter_mut().map(|r| usize::from(r.try_recv().is_ok())).sum();
    assert_eq!(heard, 1);

    // Connected again, then revoked again: news.
    connections.set_status(&tenant(), &conn(), ConnectionStatus::Active).await.expect("active");
    connections.set_status(&tenant(), &conn(), ConnectionStatus::ReauthorizationRequired).await.expect("revoked");
    let again = notifiers[0].check(&tenant()).await.expect("check");
    assert!(matches!(&again[..], [Notification::ReauthorizationRequired { .. }]), "{again:?}");
}

#[tokio::test]
async fn credentials_that_expire_soon_are_announced_and_later_ones_are_not() {
    let (store, connections) = world().await;
    let later = (Utc::now() + chrono::Duration::days(60)).to_rfc3339();
    connections
        .update_settings(&tenant(), &conn(), |s| {
            s.insert(CREDENTIALS_EXPIRE_AT.into(), json!(later));
        })
        .await
        .expect("settings");
    let notifier =
        notifier(&store).with_policy(NotifyPolicy::default().expiring_within(Duration::from_secs(7 * 86_400)));
    assert!(notifier.check(&tenant()).await.expect("check").is_empty(), "60 days away");
    let soon = Utc::now() + chrono::Duration::days(3);
    connections
        .update_settings(&tenant(), &conn(), |s| {
            s.insert(CREDENTIALS_EXPIRE_AT.into(), json!(soon.to_rfc3339()));
        })
        .await
        .expect("settings");
    let raised = notifier.check(&tenant()).await.expect("check");
    match &raised[..] {
        [Notification::CredentialsExpiring { expires_at, .. }] => {
            assert_eq!(expires_at.timestamp(), soon.timestamp());
        }
        other => panic!("{other:?}"),
    }
    assert!(notifier.check(&tenant()).await.expect("check").is_empty());
    let stored = store.get(&tenant(), &conn()).await.expect("get").expect("stored");
    assert!(stored.settings.contains_key(CREDENTIALS_EXPIRE_AT));
}

#[tokio::test]
async fn a_dead_letter_is_announced_and_again_after_a_failed_replay() {
    let (store, _) = world().await;
    let now = Utc::now();
    let provider = ProviderId::new("memory").expect("id");
    let delivery = WebhookDelivery::queued(tenant(), conn(), provider, "evt-1", bytes::Bytes::from_static(b"{}"), now);
    let id = delivery.id;
    store.record_delivery(delivery).await.expect("recorded");
    let dead_letter = || async {
        let claimed = store.claim_due(10, Duration::from_secs(60)).await.expect("claim");
        assert_eq!(claimed.len(), 1);
        let outcome = DeliveryOutcome::DeadLetter { error: "no such employee".into() };
        store.finish_delivery(&tenant(), id, claimed[0].attempts, outcome).await.expect("finish");
    };
    dead_letter().await;
    let notifier = notifier(&store);
    let raised = notifier.check(&tenant()).await.expect("check");
    assert!(
        matches!(&raised[..], [Notification::WebhookDeadLettered { delivery, error, .. }] if *delivery == id && error == "no such employee"),
        "{raised:?}"
    );
    assert!(notifier.check(&tenant()).await.expect("check").is_empty());
    store.replay(&tenant(), id).await.expect("replay");
    dead_letter().await;
    assert_eq!(notifier.check(&tenant()).await.expect("check").len(), 1, "dead again after a replay: news");
}

#[test]
fn notifications_say_what_happened_and_serialize_with_their_kind() {
    let n = Notification::ReauthorizationRequired {
        tenant: tenant(),
        connection: conn(),
        provider: ProviderId::new("xero").expect("id"),
    };
    assert_eq!(n.to_string(), "xero revoked connection hr: someone must connect it again");
    assert_eq!(n.to_json()["kind"], "reauthorization_required");
    assert_eq!(n.connection(), Some(&conn()));
}
