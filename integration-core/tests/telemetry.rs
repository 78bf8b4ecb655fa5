//! What the SDK counts, through the `metrics` facade: attempts by provider and status, retries,
//! sync runs with their records and duration, webhook deliveries by outcome — with no tenant in
//! any label.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use integration_core::http::{HttpClient, HttpPolicy};
use integration_core::store::MemoryStore;
use integration_core::telemetry;
use integration_core::*;
use integration_testkit::memory_source::{MemorySource, STREAM};
use serde_json::json;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Every counter's total and every histogram's sample count, by `name{labels}`.
#[derive(Debug, Default, Clone)]
struct Recorded(Arc<Mutex<BTreeMap<String, f64>>>);

#[derive(Debug)]
struct Slot(Arc<Mutex<BTreeMap<String, f64>>>, String);

impl metrics::CounterFn for Slot {
    fn increment(&self, value: u64) {
        *self.0.lock().unwrap().entry(self.1.clone()).or_default() += value as f64;
    }
    fn absolute(&self, value: u64) {
        self.0.lock().unwrap().insert(self.1.clone(), value as f64);
    }
}

impl metrics::HistogramFn for Slot {
    fn record(&self, _: f64) {
        *self.0.lock().unwrap().entry(self.1.clone()).or_default() += 1.0;
    }
}

impl metrics::GaugeFn for Slot {
    fn increment(&self, value: f64) {
        *self.0.lock().unwrap().entry(self.1.clone()).or_default() += value;
    }
    fn decrement(&self, value: f64) {
        *self.0.lock().unwrap().entry(self.1.clone()).or_default() -= value;
    }
    fn set(&self, value: f64) {
        self.0.lock().unwrap().insert(self.1.clone(), value);
    }
}

impl Recorded {
    fn key(key: &metrics::Key) -> String {
        let labels: Vec<String> = key.labels().map(|l| format!("{}={}", l.key(), l.value())).collect();
        format!("{}{{{}}}", key.name(), labels.join(","))
    }

    fn get(&self, key: &str) -> f64 {
        self.0.lock().unwrap().get(key).copied().unwrap_or_default()
    }

    fn keys(&self) -> Vec<String> {
        self.0.lock().unwrap().keys().cloned().collect()
    }
}

impl metrics::Recorder for Recorded {
    fn describe_counter(&self, _: metrics::KeyName, _: Option<metrics::Unit>, _: metrics::SharedString) {}
    fn describe_gauge(&self, _: metrics::KeyName, _: Option<metrics::Unit>, _: metrics::SharedString) {}
    fn describe_histogram(&self, _: metrics::KeyName, _: Option<metrics::Unit>, _: metrics::SharedString) {}
    fn register_counter(&self, key: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Counter {
        metrics::Counter::from_arc(Arc::new(Slot(self.0.clone(), Self::key(key))))
    }
    fn register_gauge(&self, key: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Gauge {
        metrics::Gauge::from_arc(Arc::new(Slot(self.0.clone(), Self::key(key))))
    }
    fn register_histogram(&self, key: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Histogram {
        metrics::Histogram::from_arc(Arc::new(Slot(self.0.clone(), Self::key(key))))
    }
}

/// Runs `work` on a current-thread runtime with `recorded` as this thread's recorder.
fn with_recorder<F: std::future::Future>(recorded: &Recorded, work: impl FnOnce() -> F) -> F::Output {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    metrics::with_local_recorder(recorded, || runtime.block_on(work()))
}

#[test]
fn attempts_and_retries_are_counted_by_provider_and_status() {
    let recorded = Recorded::default();
    with_recorder(&recorded, || async {
        let server = MockServer::start().await;
        Mock::given(method("GET")).respond_with(ResponseTemplate::new(503)).up_to_n_times(1).mount(&server).await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true})))
            .mount(&server)
            .await;
        let mut retry = integration_core::http::RetryPolicy::standard();
        retry.base_delay = std::time::Duration::from_millis(1);
        retry.max_delay = std::time::Duration::from_millis(5);
        let policy = HttpPolicy::standard().with_retry(retry);
        let client = HttpClient::new().unwrap().provider_with(ProviderId::new("acme-api").unwrap(), policy);
        let answer: serde_json::Value = client.get(format!("{}/x", server.uri())).send_json().await.unwrap();
        assert_eq!(answer["ok"], true);
    });
    assert_eq!(recorded.get("integrations_http_requests_total{provider=acme-api,status=503}"), 1.0);
    assert_eq!(recorded.get("integrations_http_requests_total{provider=acme-api,status=200}"), 1.0);
    assert_eq!(recorded.get("integrations_http_request_duration_seconds{provider=acme-api}"), 2.0);
    assert_eq!(
        recorded.keys().iter().filter(|k| k.starts_with(telemetry::HTTP_RETRIES)).count(),
        1,
        "{:?}",
        recorded.keys()
    );
}

#[test]
fn sync_runs_are_counted_with_their_records_and_duration() {
    let recorded = Recorded::default();
    with_recorder(&recorded, || async {
        let store = Arc::new(MemoryStore::new());
        let source = MemorySource::new();
        (0..3).for_each(|i| source.upsert(&format!("e{i}"), json!({"i": i})));
        let engine = SyncEngine::new(store.clone(), store.clone(), "w");
        let job = SyncJob::new(
            TenantId::new("secret-tenant").unwrap(),
            ConnectionId::new("hr").unwrap(),
            STREAM,
            SyncMode::Incremental,
        );
        engine.run(&source, &job, &CancellationToken::new()).await.unwrap();
        source.fail_on_read(1);
        engine.run(&source, &job, &CancellationToken::new()).await.unwrap();
    });
    let provider = "memory";
    assert_eq!(
        recorded.get(&format!("integrations_sync_runs_total{{provider={provider},stream={STREAM},status=succeeded}}")),
        1.0,
        "{:?}",
        recorded.keys()
    );
    assert_eq!(
        recorded.get(&format!("integrations_sync_runs_total{{provider={provider},stream={STREAM},status=failed}}")),
        1.0
    );
    assert_eq!(
        recorded.get(&format!("integrations_sync_records_total{{provider={provider},stream={STREAM},change=added}}")),
        3.0
    );
    assert_eq!(
        recorded.get(&format!("integrations_sync_duration_seconds{{provider={provider},stream={STREAM}}}")),
        2.0
    );
    assert!(recorded.keys().iter().all(|k| !k.contains("secret-tenant")), "no tenant in a label");
}

#[test]
fn every_documented_name_is_described_once() {
    let names: std::collections::BTreeSet<&str> = telemetry::NAMES.iter().map(|(n, _)| *n).collect();
    assert_eq!(names.len(), telemetry::NAMES.len());
    let table = include_str!("../src/telemetry.rs");
    for name in names {
        assert!(table.contains(&format!("| `{name}` |")), "{name} is in the module's table");
    }
}
