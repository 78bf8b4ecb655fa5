//! End to end: a termination in the BambooHR fake, picked up by an incremental sync or by its
//! webhook, triggers an automation that writes to the HRIS and calls a loopback receiver —
//! each exactly once, however often the change is seen again.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use integration_automation::hris::{StaticHris, actions as hris_actions};
use integration_automation::{Actions, Engine, HostPolicy, HttpRequest, TriggerOnEvents, load};
use integration_core::store::{AutomationRunQuery, AutomationRunStatus, AutomationStore, MemoryStore, RecordStore};
use integration_core::webhook::{
    Adapters, ApplyToCache, DeliveryWorker, Endpoint, StaticEndpoints, WebhookRouter, WebhookSecret,
};
use integration_core::{
    BuildContext, CancellationToken, ConnectionId, Integration, ProviderId, SyncEngine, SyncJob, SyncMode, TenantId,
};
use integration_hris::{Hris, bamboohr};
use integration_testkit::fake::bamboohr::FakeBambooHr;
use integration_testkit::fake::people::People;
use integration_testkit::fake::receiver::Receiver;
use tokio::net::TcpListener;

const OFFBOARD: &str = r#"{
  "id": "offboard",
  "trigger": { "record_change": { "stream": "employees", "changes": ["updated"] } },
  "when": "previous.employment.status == 'active' and record.employment.status == 'terminated'",
  "steps": [
    { "id": "hris", "action": "hris.update_employee",
      "input": { "connection": "{{ connection }}", "employee_id": "{{ remote_id }}", "update": { "work_email": "" } } },
    { "action": "http.request",
      "input": { "url": "http://127.0.0.1:PORT/offboarded",
                 "body": { "employee": "{{ remote_id }}", "name": "{{ record.display_name }}", "name_after": "{{ steps.hris.display_name }}" } } }
  ]
}"#;

struct World {
    fake: FakeBambooHr,
    hris: Arc<dyn Hris>,
    store: MemoryStore,
    sync: SyncEngine,
    job: SyncJob,
    automations: Engine,
    received: Receiver,
    tenant: TenantId,
    connection: ConnectionId,
}

async fn world() -> World {
    let fake = FakeBambooHr::start(People::generate(7, 6)).await;
    let (tenant, connection) = (TenantId::new("acme").unwrap(), ConnectionId::new("bamboohr").unwrap());
    let hris =
        integration_hris::build(&fake.config(tenant.clone(), connection.clone()), &BuildContext::default()).unwrap();
    let store = MemoryStore::new();
    let sync = SyncEngine::new(Arc::new(store.clone()), Arc::new(store.clone()), "e2e");
    let job = SyncJob::new(tenant.clone(), connection.clone(), "employees", SyncMode::Incremental);

    let received = Receiver::start("HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").await;
    let connections = StaticHris::new();
    connections.insert(tenant.clone(), connection.clone(), hris.clone());
    let http = HttpRequest::new(HostPolicy::new().allow_host("127.0.0.1").allow_plain_http().allow_private_addresses());
    let actions = Actions::new().with(Arc::new(http)).unwrap().with_all(hris_actions(Arc::new(connections))).unwrap();
    let automation = load::from_json(&OFFBOARD.replace("PORT", &received.port().to_string()), &actions).unwrap();
    let automations = Engine::new(Arc::new(store.clone()), actions).with_automation(automation).unwrap();
    World { fake, hris, store, sync, job, automations, received, tenant, connection }
}

impl World {
    async fn sync(&self) {
        self.sync.run(self.hris.as_ref(), &self.job, &CancellationToken::new()).await.unwrap();
    }

    /// Reads the change stream into the automation engine and runs what it started.
    async fn automate(&self) -> u64 {
        self.automations.follow_changes(&self.store, &self.store, &self.tenant).await.unwrap();
        self.automations.worker("w").run_until_idle().await.unwrap().succeeded
    }

    async fn runs(&self) -> Vec<integration_core::store::AutomationRun> {
        self.store.list_automation_runs(&self.tenant, &AutomationRunQuery::new()).await.unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_termination_seen_by_the_incremental_sync_offboards_once() {
    let w = world().await;
    w.sync().await;
    assert_eq!(w.automate().await, 0, "the first sync's additions do not match");

    let leaver = 102;
    w.fake.people().terminate(leaver, chrono::Utc::now().date_naive());
    w.sync().await;
    assert_eq!(w.automate().await, 1);

    assert_eq!(w.fake.employee_writes(), 1, "one HRIS write");
    assert_eq!(w.received.requests().len(), 1, "one HTTP call");
    let body: serde_json::Value = serde_json::from_str(&w.received.requests()[0].body).unwrap();
    assert_eq!(body["employee"], leaver.to_string());
    assert_eq!(body["name_after"], body["name"], "the HTTP step saw the HRIS step's output");
    assert!(body["name"].as_str().is_some_and(|n| !n.is_empty()), "{body}");
    let after = w.hris.employee(&leaver.to_string()).await.unwrap();
    assert_eq!(after.fields.work_email.as_deref().unwrap_or(""), "", "the work email was revoked");

    // The automation's own write is a change too; it does not match (already terminated).
    // Syncing and following again, or replaying the whole change stream, starts nothing more.
    w.sync().await;
    assert_eq!(w.automate().await, 0);
    for change in w.store.changes_since(&w.tenant, None, 10_000).await.unwrap().changes {
        w.automations.on_change(&change).await.unwrap();
    }
    assert_eq!(w.automations.worker("w2").run_until_idle().await.unwrap().claimed, 0);
    assert_eq!((w.fake.employee_writes(), w.received.requests().len()), (1, 1));
    let runs = w.runs().await;
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].status, AutomationRunStatus::Succeeded);
    let steps = w.store.automation_steps(&w.tenant, runs[0].id).await.unwrap();
    assert_eq!(steps.iter().map(|s| s.action.as_str()).collect::<Vec<_>>(), ["hris.update_employee", "http.request"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_termination_seen_by_the_webhook_offboards_once() {
    let w = world().await;
    w.sync().await;
    w.automate().await;

    // BambooHR's webhook → our router → the delivery worker applies it to the cache and
    // triggers on its events.
    let endpoints = Arc::new(StaticEndpoints::new());
    let router = Arc::new(WebhookRouter::new(endpoints.clone(), Arc::new(w.store.clone()), Arc::new(w.store.clone())));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhooks/bamboohr/acme-hr", listener.local_addr().unwrap());
    let app = axum::Router::new().nest("/webhooks", integration_core::webhook::axum::routes(router));
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let key = w.fake.add_webhook(&url);
    let endpoint = Endpoint::new(
        w.tenant.clone(),
        w.connection.clone(),
        ProviderId::new(bamboohr::PROVIDER).unwrap(),
        bamboohr::webhook_scheme(),
        vec![WebhookSecret::new(key)],
    );
    endpoints.add_endpoint("acme-hr", endpoint).unwrap();
    let adapters = Arc::new(Adapters::new());
    let adapter: Arc<dyn Integration> = w.hris.clone();
    adapters.insert(w.tenant.clone(), w.connection.clone(), adapter);
    let apply = Arc::new(ApplyToCache::new(adapters, w.sync.clone()));
    let worker =
        DeliveryWorker::new(Arc::new(w.store.clone()), Arc::new(TriggerOnEvents::new(apply, w.automations.clone())));

    w.fake.people().terminate(104, chrono::Utc::now().date_naive());
    let statuses = w.fake.deliver_webhooks().await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(worker.run_until_idle().await.unwrap(), 1);
    assert_eq!(w.automate().await, 1);
    // The same termination again, through the incremental sync: already in the cache, nothing new.
    w.sync().await;
    assert_eq!(w.automate().await, 0);
    server.abort();
    assert_eq!((w.fake.employee_writes(), w.received.requests().len()), (1, 1));
}
