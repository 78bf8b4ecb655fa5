//! What is QuickBooks' own, against the testkit's fake: change data capture's 30-day window and
//! 1,000-object cap (both answered by a full read that loses nothing), name lists read with
//! their archived entries, rotating refresh tokens shared by two processes, Intuit's faults.

use std::collections::BTreeSet;
use std::sync::Arc;

use integration_accounting::{
    Accounting, ContactInput, Decimal, InvoiceInput, LineInput, ListRequest, OperationKey, RecordStatus,
};
use integration_core::crypto::{KeyRing, Sealer, SealingKey};
use integration_core::store::{MemoryStore, RecordStore, RunStatus, StateStore, StreamScope};
use integration_core::{
    BuildContext, CancellationToken, Checkpoint, ConnectionId, ErrorKind, SyncEngine, SyncJob, SyncMode, TenantId,
};
use integration_testkit::contract::harness::Fake;
use integration_testkit::fake::quickbooks::{FakeQuickBooks, invoice_json};
use serde_json::Value;

fn ids() -> (TenantId, ConnectionId) {
    (TenantId::new("acme").expect("tenant"), ConnectionId::new("books").expect("connection"))
}

fn adapter(fake: &FakeQuickBooks) -> Arc<dyn Accounting> {
    let (tenant, connection) = ids();
    integration_accounting::build(&fake.config(tenant, connection), &BuildContext::default()).expect("built")
}

async fn sync(engine: &SyncEngine, adapter: &dyn Accounting, stream: &str) -> integration_core::store::SyncRun {
    let (tenant, connection) = ids();
    let job = SyncJob::new(tenant, connection, stream, SyncMode::Incremental);
    engine.run(adapter, &job, &CancellationToken::new()).await.expect("the run starts")
}

async fn cached_ids(store: &MemoryStore) -> BTreeSet<String> {
    let (tenant, connection) = ids();
    let scope = StreamScope::new(tenant, connection, "invoices");
    store.records(&scope, None, 100_000, false).await.expect("cache").into_iter().map(|r| r.remote_id).collect()
}

fn live_ids(fake: &FakeQuickBooks) -> BTreeSet<String> {
    fake.invoices().live().iter().map(|r| r.id.to_string()).collect()
}

/// Moves the stream's stored change checkpoint `days` back, as if the last sync were that old.
async fn age_checkpoint(store: &MemoryStore, days: i64) {
    let (tenant, connection) = ids();
    let scope = StreamScope::new(tenant, connection, "invoices");
    let stored = store.checkpoint(&scope).await.expect("read").expect("a checkpoint");
    let mut value: Value = stored.checkpoint.as_value().clone();
    let since = chrono::Utc::now() - chrono::Duration::days(days);
    let position = value.pointer_mut("/position").expect("the engine's envelope holds the position");
    position["since"] = Value::from(since.to_rfc3339());
    store.put_checkpoint(&scope, &Checkpoint::new(value), None).await.expect("write");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkpoint_older_than_30_days_is_read_again_in_full_deletions_included() {
    let fake = FakeQuickBooks::start(41, 12).await;
    let (store, adapter) = (Arc::new(MemoryStore::new()), adapter(&fake));
    let engine = SyncEngine::new(store.clone(), store.clone(), "w1");
    assert_eq!(sync(&engine, adapter.as_ref(), "invoices").await.counts.added, 12);

    let ids_now: Vec<u64> = fake.invoices().live().iter().map(|r| r.id).collect();
    fake.invoices().delete(ids_now[2]);
    fake.add();
    age_checkpoint(&store, 31).await;

    let direct = adapter.invoices(ListRequest::first().since(chrono::Utc::now() - chrono::Duration::days(31))).await;
    assert_eq!(direct.expect_err("too old for CDC").kind(), ErrorKind::ResyncRequired);
    let run = sync(&engine, adapter.as_ref(), "invoices").await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    assert_eq!((run.counts.added, run.counts.deleted), (1, 1), "{:?}", run.counts);
    assert_eq!(cached_ids(&store).await, live_ids(&fake), "the cache equals the company's invoices");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_than_1000_changes_in_a_window_lose_nothing() {
    let fake = FakeQuickBooks::start(42, 5).await;
    let (store, adapter) = (Arc::new(MemoryStore::new()), adapter(&fake));
    let engine = SyncEngine::new(store.clone(), store.clone(), "w1");
    assert_eq!(sync(&engine, adapter.as_ref(), "invoices").await.counts.added, 5);

    let day = chrono::Utc::now().date_naive();
    for n in 0..1_150 {
        fake.invoices().add(invoice_json(
            &format!("B-{n}"),
            1 + n % 6,
            "USD",
            day,
            &[("Bulk import", 1, 1_000 + n as i64)],
        ));
    }
    let first = fake.invoices().live()[0].id;
    fake.invoices().delete(first);
    let run = sync(&engine, adapter.as_ref(), "invoices").await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    assert_eq!((run.counts.added, run.counts.deleted), (1_150, 1), "{:?}", run.counts);
    assert_eq!(cached_ids(&store).await, live_ids(&fake));

    // And a quiet window afterwards is an ordinary change listing again.
    fake.add();
    let run = sync(&engine, adapter.as_ref(), "invoices").await;
    assert_eq!((run.status, run.counts.added, run.counts.deleted), (RunStatus::Succeeded, 1, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn name_lists_are_read_with_their_archived_entries() {
    let fake = FakeQuickBooks::start(43, 1).await;
    // One adapter: a second one with the same configured refresh token would find it rotated away.
    let books = adapter(&fake);
    let accounts = books.accounts(ListRequest::first()).await.expect("accounts");
    assert_eq!(accounts.items.len(), 10, "archived accounts too: QuickBooks lists active ones unless asked");
    let old = accounts.items.iter().find(|a| a.fields.number.as_deref() == Some("4900")).expect("the archived account");
    assert_eq!(old.fields.status, Some(RecordStatus::Archived));
    let mut contacts = Vec::new();
    let mut request = ListRequest::first();
    loop {
        let page = books.contacts(request.clone()).await.expect("contacts");
        contacts.extend(page.items);
        match page.next {
            Some(next) => request = request.at(Some(next)),
            None => break,
        }
    }
    assert_eq!(contacts.len(), 9, "customers, then vendors");
    assert!(contacts.iter().any(|c| c.remote_id == "vendor:1" && c.fields.is_supplier));
    let bad = books.contacts(ListRequest::first().at(Some("next please".into()))).await.expect_err("not a position");
    assert_eq!(bad.kind(), ErrorKind::Validation);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_refreshing_at_once_never_lose_the_rotated_refresh_token() {
    let fake = FakeQuickBooks::start(44, 3).await;
    let (tenant, connection) = ids();
    let tokens = Arc::new(MemoryStore::new());
    let sealer = Sealer::new(KeyRing::new("k1", SealingKey::generate()));
    // Two processes: each its own context and token manager, one token store between them.
    let process = || {
        let context = BuildContext::default().with_tokens(tokens.clone(), sealer.clone());
        integration_accounting::build(&fake.config(tenant.clone(), connection.clone()), &context).expect("built")
    };
    let (a, b) = (process(), process());
    for round in 0..4 {
        if round > 0 {
            // Every access token expires: both processes need a new one at the same moment.
            fake.faults().inject(integration_testkit::fake::faults::Fault::ExpiredToken, 1);
        }
        let calls: Vec<_> = (0..6)
            .map(|n| {
                let adapter = if n % 2 == 0 { a.clone() } else { b.clone() };
                tokio::spawn(async move { adapter.invoices(ListRequest::first()).await })
            })
            .collect();
        for call in calls {
            let listing = call.await.expect("joined").expect("the call succeeds with a current token");
            assert_eq!(listing.items.len(), 3);
        }
    }
    assert!(fake.token_requests() <= 4, "one refresh per expiry, not one per process: {}", fake.token_requests());
    // A third process starting now still holds a refresh token the fake accepts.
    let late = process();
    fake.faults().inject(integration_testkit::fake::faults::Fault::ExpiredToken, 1);
    late.invoices(ListRequest::first()).await.expect("the stored refresh token is the current one");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn intuit_faults_are_errors_a_caller_can_branch_on() {
    let fake = FakeQuickBooks::start(45, 2).await;
    let accounting = adapter(&fake);
    let missing = accounting.invoice("999999").await.expect_err("no such invoice");
    assert_eq!((missing.kind(), missing.code()), (ErrorKind::NotFound, Some("610")));
    let key = OperationKey::new("dup-contact").expect("key");
    let taken = accounting.create_contact(&key, &ContactInput::customer("Customer 1")).await.expect_err("taken");
    assert_eq!((taken.kind(), taken.code()), (ErrorKind::Conflict, Some("6240")), "{taken}");
    let unknown = InvoiceInput::new(
        "777",
        integration_accounting::Currency::USD,
        vec![LineInput::new("x", Decimal::ONE, Decimal::TEN).item("1")],
    );
    let refused = accounting
        .create_invoice(&OperationKey::new("bad-customer").expect("key"), &unknown)
        .await
        .expect_err("no such customer");
    assert_eq!(refused.kind(), ErrorKind::Validation, "{refused}");
    assert!(refused.to_string().contains("Customer"), "the provider's detail is kept: {refused}");
}
