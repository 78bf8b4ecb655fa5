//! The quickstart: `cargo run --example quickstart`. No credentials, nothing to install.
//!
//! 1. starts the testkit's BambooHR fake on loopback, with eight employees;
//! 2. saves a tenant's connection to it — API key sealed — in a SQLite file, and loads it back;
//! 3. runs a first sync of the `employees` stream into the same SQLite file;
//! 4. changes the fake's data: a hire and a termination;
//! 5. receives the fake's signed webhook on a local axum server, verifies and records it, and
//!    applies it to the cache;
//! 6. runs the incremental sync, which finds nothing left to change;
//! 7. prints the change stream since the first sync and the sync-run log.

use std::error::Error;
use std::io::Write;
use std::sync::Arc;

use integration_core::crypto::{KeyRing, Sealer, SealingKey};
use integration_core::store::{ChangeKind, RecordStore, RunQuery, StateStore, SyncRun};
use integration_core::webhook::{
    Adapters, ApplyToCache, DeliveryWorker, Endpoint, StaticEndpoints, WebhookRouter, WebhookSecret,
};
use integration_core::{
    BuildContext, CancellationToken, ConnectionId, Connections, Integration, ProviderId, SyncEngine, SyncJob, SyncMode,
    TenantId,
};
use integration_hris::{Employee, Remote, bamboohr};
use integration_store::SqlStore;
use integration_testkit::fake::bamboohr::FakeBambooHr;
use integration_testkit::fake::people::People;

/// What the quickstart did, for its test to check (`tests/quickstart.rs`).
#[derive(Debug)]
#[allow(dead_code)]
pub(crate) struct Summary {
    /// The id of the employee hired between the syncs.
    pub(crate) hired: String,
    /// The id of the employee terminated between the syncs.
    pub(crate) terminated: String,
    /// The change stream after the first sync: (kind, remote id, employment status).
    pub(crate) changes: Vec<(ChangeKind, String, String)>,
    /// The first sync.
    pub(crate) first: SyncRun,
    /// The incremental sync after the webhook.
    pub(crate) second: SyncRun,
    /// How many webhook deliveries were processed.
    pub(crate) deliveries: usize,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn Error>> {
    let dir = std::env::temp_dir().join(format!("integrations-quickstart-{}", std::process::id()));
    let summary = run(&dir, &mut std::io::stdout()).await;
    let _ = std::fs::remove_dir_all(&dir);
    summary.map(|_| ())
}

/// Runs the quickstart with its SQLite file in `dir`, writing the report to `out`.
pub(crate) async fn run(dir: &std::path::Path, out: &mut dyn Write) -> Result<Summary, Box<dyn Error>> {
    // 1. A fake BambooHR on 127.0.0.1, serving a generated company.
    let fake = FakeBambooHr::start(People::generate(2026, 8)).await;
    writeln!(out, "fake BambooHR listening on {}", fake.base_url())?;

    // 2. SQLite, the embedded default: one file for connections, cursors, records and webhooks.
    std::fs::create_dir_all(dir)?;
    let store = Arc::new(SqlStore::sqlite(dir.join("quickstart.db")).await?);
    let sealer = Sealer::new(KeyRing::new("quickstart", SealingKey::generate()));
    let connections = Connections::new(store.clone(), sealer, store.clone());
    let (tenant, connection) = (TenantId::new("acme")?, ConnectionId::new("bamboohr")?);
    connections.save(&fake.config(tenant.clone(), connection.clone())).await?;
    let config = connections.load(&tenant, &connection).await?;
    let hris = integration_hris::build(&config, &BuildContext::default())?;
    let account = hris.connect().await?;
    writeln!(
        out,
        "connected tenant {tenant} to BambooHR company {:?} (API key sealed at rest)",
        account.account_id.unwrap_or_default()
    )?;

    // A webhook endpoint on a local axum server; the fake posts to it like BambooHR would.
    let endpoints = Arc::new(StaticEndpoints::new());
    let router = Arc::new(WebhookRouter::new(endpoints.clone(), store.clone(), store.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/webhooks/bamboohr/acme-hr", listener.local_addr()?);
    let app = axum::Router::new().nest("/webhooks", integration_core::webhook::axum::routes(router));
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let private_key = fake.add_webhook(&url);
    let endpoint = Endpoint::new(
        tenant.clone(),
        connection.clone(),
        ProviderId::new(bamboohr::PROVIDER)?,
        bamboohr::webhook_scheme(),
        vec![WebhookSecret::new(private_key)],
    );
    endpoints.add_endpoint("acme-hr", endpoint)?;

    // 3. The first sync reads every employee.
    let engine = SyncEngine::new(store.clone(), store.clone(), "quickstart");
    let job = SyncJob::new(tenant.clone(), connection.clone(), "employees", SyncMode::Incremental);
    let first = engine.run(hris.as_ref(), &job, &CancellationToken::new()).await?;
    writeln!(out, "first sync: {} employees added", first.counts.added)?;
    let after_first = store.changes_since(&tenant, None, 100_000).await?.next;

    // 4. HR changes things.
    let people = fake.people();
    let hired = people.hire("Grace", "Hopper");
    let leaver = 102;
    let today = chrono::Utc::now().date_naive();
    people.terminate(leaver, today);
    writeln!(out, "in BambooHR: hired Grace Hopper (#{hired}), terminated #{leaver} as of {today}")?;

    // 5. BambooHR's webhook arrives: verified, recorded, then applied by the worker.
    let statuses = fake.deliver_webhooks().await;
    writeln!(out, "webhook delivered, our endpoint answered {statuses:?}")?;
    let adapters = Arc::new(Adapters::new());
    let adapter: Arc<dyn Integration> = hris.clone();
    adapters.insert(tenant.clone(), connection.clone(), adapter);
    let worker = DeliveryWorker::new(store.clone(), Arc::new(ApplyToCache::new(adapters, engine.clone())));
    let deliveries = worker.run_until_idle().await?;

    // 6. The incremental sync: the webhook already applied the changes, so nothing is new.
    let second = engine.run(hris.as_ref(), &job, &CancellationToken::new()).await?;
    server.abort();

    // 7. What changed, and the run log.
    let batch = store.changes_since(&tenant, Some(&after_first), 100_000).await?;
    let mut changes = Vec::new();
    let mut rows = Vec::new();
    for change in &batch.changes {
        let employee: Option<Remote<Employee>> = integration_core::decode::decode(&change.data).ok();
        let (name, status) = match &employee {
            Some(e) => (e.fields.display_name.clone().unwrap_or_default(), e.fields.employment.status.to_string()),
            None => (String::new(), "deleted".to_owned()),
        };
        let before = change.previous.as_ref().and_then(|p| p.pointer("/employment/status")).and_then(|s| s.as_str());
        let status_shown = match before {
            Some(before) if before != status => format!("{before} → {status}"),
            _ => status.clone(),
        };
        rows.push(vec![format!("{:?}", change.kind).to_lowercase(), change.remote_id.clone(), name, status_shown]);
        changes.push((change.kind, change.remote_id.clone(), status));
    }
    writeln!(out, "\nchange stream since the first sync")?;
    table(out, &["change", "employee", "name", "employment"], &rows)?;

    let runs = store.list_runs(&tenant, &RunQuery::new()).await?;
    let rows: Vec<Vec<String>> = runs
        .iter()
        .rev()
        .map(|r| {
            let took = r.completed_at.map(|done| (done - r.started_at).num_milliseconds()).unwrap_or_default();
            vec![
                r.stream.clone(),
                r.mode.to_string(),
                format!("{:?}", r.status).to_lowercase(),
                r.counts.added.to_string(),
                r.counts.updated.to_string(),
                r.counts.deleted.to_string(),
                r.counts.failed.to_string(),
                format!("{took} ms"),
            ]
        })
        .collect();
    writeln!(out, "\nsync runs")?;
    table(out, &["stream", "mode", "status", "added", "updated", "deleted", "failed", "took"], &rows)?;
    writeln!(out, "\nwebhook deliveries processed: {deliveries}")?;

    Ok(Summary { hired: hired.to_string(), terminated: leaver.to_string(), changes, first, second, deliveries })
}

/// Prints rows under headers, columns padded to their widest cell.
fn table(out: &mut dyn Write, headers: &[&str], rows: &[Vec<String>]) -> std::io::Result<()> {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| -> String {
        let padded: Vec<String> = cells.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        format!("  {}", padded.join("  ").trim_end())
    };
    writeln!(out, "{}", line(headers.iter().map(|h| (*h).to_owned()).collect()))?;
    writeln!(out, "{}", line(widths.iter().map(|w| "-".repeat(*w)).collect()))?;
    for row in rows {
        writeln!(out, "{}", line(row.clone()))?;
    }
    Ok(())
}
