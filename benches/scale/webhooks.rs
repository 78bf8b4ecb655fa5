//! Webhook ingress through the axum mount (issue 24, item 3).
//!
//! `SCALE_WEBHOOK_TENANTS` tenants (10) each have a BambooHR connection and a webhook endpoint;
//! the BambooHR fake's people (`SCALE_WEBHOOK_PEOPLE`, 1,000) are already in every tenant's
//! cache. An open-loop generator changes a person at the fake and posts the fake's own signed
//! delivery (`X-BambooHR-Signature`) for it to one tenant's endpoint, `rate` times a second —
//! whether or not earlier requests were answered. The server is the SDK as a host runs it:
//! [`routes`](integration_core::webhook::axum::routes) under axum records each delivery in
//! SQLite and acknowledges; a [`DeliveryWorker`] woken by the router maps it with the adapter
//! (which reads the employee back from the fake, as BambooHR's field-based webhooks require) and
//! writes the change to the records cache. A watcher reads every tenant's change stream.
//!
//! Measured per phase: acknowledgement latency (request sent → response read) p50 / p99,
//! delivery-to-cache latency (request sent → the change is in the change stream) p50 / p99, the
//! rate actually offered, and the resident size each second (flat or growing). The first phase
//! runs `SCALE_WEBHOOK_RATE` (1,000) requests a second for `SCALE_WEBHOOK_SECONDS` (60); then
//! steps of `SCALE_WEBHOOK_STEP_SECONDS` (10) find the highest rate sustained — up by half the
//! rate while each holds, or down by a quarter until one does. A rate is sustained when the
//! generator offered it, every request was acknowledged with acknowledgement p99 under 50 ms,
//! and every change reached the cache with p99 under 1 s.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use integration_core::store::{ChangeCursor, RecordStore};
use integration_core::webhook::{
    Adapters, ApplyToCache, DeliveryWorker, Endpoint, StaticEndpoints, WebhookRouter, WebhookSecret,
};
use integration_core::{
    BuildContext, CancellationToken, ConnectionId, ProviderId, SyncEngine, SyncJob, SyncMode, TenantId,
};
use integration_store::SqlStore;
use integration_testkit::fake::bamboohr::FakeBambooHr;
use integration_testkit::fake::people::People;
use integration_testkit::poll::eventually;
use tokio::task::JoinSet;

use crate::report::{Cpu, Row, quantile, setting};
use crate::resident::resident;

/// Sent and not yet seen in the cache: (tenant index, employee id) → each delivery's number
/// (the surname it gave the employee, `Surname{n}`) and when it was sent. A delivery is in the
/// cache when its change or a later one of the same employee is.
type Pending = Arc<Mutex<HashMap<(usize, String), Vec<(usize, Instant)>>>>;

/// What one phase measured.
struct Phase {
    rate: usize,
    seconds: u64,
    sent: usize,
    failed: usize,
    acks: Vec<f64>,
    to_cache: Vec<f64>,
    unseen: usize,
    offered: f64,
    /// Resident size (MiB) at the end of each second.
    rss: Vec<f64>,
    /// Where the CPU went while sending.
    cpu: String,
}

impl Phase {
    fn ack(&mut self, q: f64) -> f64 {
        quantile(&mut self.acks, q) * 1000.0
    }

    fn cache(&mut self, q: f64) -> f64 {
        quantile(&mut self.to_cache, q) * 1000.0
    }

    fn sustained(&mut self) -> bool {
        self.failed == 0
            && self.unseen == 0
            && self.offered >= self.rate as f64 * 0.95
            && self.ack(0.99) < 50.0
            && self.cache(0.99) < 1000.0
    }

    fn summary(&mut self) -> String {
        let (ack50, ack99, cache50, cache99) = (self.ack(0.5), self.ack(0.99), self.cache(0.5), self.cache(0.99));
        format!(
            "{} sent ({:.0}/s offered), {} failed, {} never in the cache; ack p50 {ack50:.1} ms, p99 {ack99:.1} ms; to cache p50 {cache50:.0} ms, p99 {cache99:.0} ms; {}",
            self.sent, self.offered, self.failed, self.unseen, self.cpu,
        )
    }
}

/// The server, the fake and what the generator needs to sign and address deliveries.
struct World {
    fake: FakeBambooHr,
    store: SqlStore,
    key: String,
    url: String,
    tenants: Vec<TenantId>,
    people: Vec<u64>,
    shutdown: CancellationToken,
}

/// The store the server records to and the cache lives in.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Backing {
    /// SQLite, every commit synced (the default).
    Sqlite,
    /// SQLite with `Durability::Normal`.
    SqliteNormal,
    /// A new schema on the PostgreSQL server.
    Postgres,
}

impl Backing {
    fn label(self) -> &'static str {
        match self {
            Self::Sqlite => "SQLite",
            Self::SqliteNormal => "SQLite, Durability::Normal",
            Self::Postgres => "PostgreSQL",
        }
    }

    async fn open(self, dir: &std::path::Path) -> SqlStore {
        match self {
            Self::Sqlite => SqlStore::sqlite(dir.join("webhooks.db")).await.unwrap(),
            Self::SqliteNormal => {
                SqlStore::sqlite_with(dir.join("webhooks-normal.db"), integration_store::Durability::Normal)
                    .await
                    .unwrap()
            }
            Self::Postgres => SqlStore::connect(&crate::workers::fresh_schema().await, 16).await.unwrap(),
        }
    }
}

async fn world(dir: &std::path::Path, backing: Backing) -> World {
    let (tenant_count, people) = (setting("SCALE_WEBHOOK_TENANTS", 10), setting("SCALE_WEBHOOK_PEOPLE", 1000));
    let fake = FakeBambooHr::start(People::generate(27, people)).await;
    let store = backing.open(dir).await;
    let engine = SyncEngine::new(Arc::new(store.clone()), Arc::new(store.clone()), "webhooks");
    // The fake posts nowhere: the generator takes its signed deliveries and posts them.
    let key = fake.add_webhook("http://127.0.0.1:9/unused");
    let (endpoints, adapters) = (Arc::new(StaticEndpoints::new()), Arc::new(Adapters::new()));
    let (connection, provider) = (ConnectionId::new("hr").unwrap(), ProviderId::new("bamboohr").unwrap());
    let context = BuildContext::default();
    let mut tenants = Vec::new();
    for t in 0..tenant_count {
        let tenant = TenantId::new(format!("hooked-{t:03}")).unwrap();
        let endpoint = Endpoint::new(
            tenant.clone(),
            connection.clone(),
            provider.clone(),
            FakeBambooHr::webhook_scheme(),
            vec![WebhookSecret::new(key.clone())],
        );
        endpoints.add_endpoint(&format!("t{t}"), endpoint).unwrap();
        let adapter = integration_hris::build(&fake.config(tenant.clone(), connection.clone()), &context).unwrap();
        // Everyone is in the cache before the first delivery, as after a connection's first sync.
        let job = SyncJob::new(tenant.clone(), connection.clone(), "employees", SyncMode::FullRefresh);
        engine.run(adapter.as_ref(), &job, &CancellationToken::new()).await.unwrap();
        adapters.insert(tenant.clone(), connection.clone(), adapter);
        tenants.push(tenant);
    }
    let router = Arc::new(WebhookRouter::new(endpoints, Arc::new(store.clone()), Arc::new(store.clone())));
    let worker = DeliveryWorker::new(Arc::new(store.clone()), Arc::new(ApplyToCache::new(adapters, engine)));
    let shutdown = CancellationToken::new();
    let (wake, stop) = (router.wake_handle(), shutdown.clone());
    tokio::spawn(async move { worker.run(wake, Duration::from_millis(200), stop.cancelled_owned()).await });
    let app = axum::Router::new().nest("/webhooks", integration_core::webhook::axum::routes(router));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhooks/bamboohr", listener.local_addr().unwrap());
    let stop = shutdown.clone();
    tokio::spawn(async move { axum::serve(listener, app).with_graceful_shutdown(stop.cancelled_owned()).await });
    let people = fake.people().people().iter().map(|p| p.id).collect();
    World { fake, store, key, url, tenants, people, shutdown }
}

/// Reads every tenant's change stream from its end (as it is now, before anything is sent),
/// taking what arrives off `pending`.
async fn watch(world: &World, pending: Pending, stop: CancellationToken) -> tokio::task::JoinHandle<Vec<f64>> {
    let (store, tenants) = (world.store.clone(), world.tenants.clone());
    let mut cursors: Vec<Option<ChangeCursor>> = Vec::new();
    for tenant in &tenants {
        let mut cursor = None;
        loop {
            let batch = store.changes_since(tenant, cursor.as_ref(), 10_000).await.unwrap();
            let done = batch.changes.is_empty();
            cursor = Some(batch.next);
            if done {
                break;
            }
        }
        cursors.push(cursor);
    }
    tokio::spawn(async move {
        let mut latencies = Vec::new();
        loop {
            let stopping = stop.is_cancelled();
            for (t, tenant) in tenants.iter().enumerate() {
                let batch = store.changes_since(tenant, cursors[t].as_ref(), 10_000).await.unwrap();
                let seen = Instant::now();
                cursors[t] = Some(batch.next);
                let mut waiting = pending.lock().unwrap();
                for change in batch.changes {
                    let surname = change.data["last_name"].as_str().unwrap_or_default();
                    let Some(n) = surname.strip_prefix("Surname").and_then(|n| n.parse::<usize>().ok()) else {
                        continue;
                    };
                    let key = (t, change.remote_id);
                    if let Some(sent) = waiting.get_mut(&key) {
                        sent.retain(|(m, at)| {
                            let reached = *m <= n;
                            if reached {
                                latencies.push(seen.duration_since(*at).as_secs_f64());
                            }
                            !reached
                        });
                        if sent.is_empty() {
                            waiting.remove(&key);
                        }
                    }
                }
            }
            if stopping {
                return latencies;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
}

async fn phase(world: &World, rate: usize, seconds: u64) -> Phase {
    let client = reqwest::Client::builder().pool_max_idle_per_host(1024).build().unwrap();
    let pending: Pending = Arc::default();
    let stop_watching = CancellationToken::new();
    let watcher = watch(world, pending.clone(), stop_watching.clone()).await;
    let mut inflight: JoinSet<Option<f64>> = JoinSet::new();
    let (mut acks, mut failed, mut sent) = (Vec::new(), 0, 0usize);
    let mut rss = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let (started, cpu) = (Instant::now(), Cpu::now());
    let end = started + Duration::from_secs(seconds);
    let mut next_sample = started + Duration::from_secs(1);
    let reap = |done: Result<Option<f64>, tokio::task::JoinError>, acks: &mut Vec<f64>, failed: &mut usize| match done {
        Ok(Some(took)) => acks.push(took),
        _ => *failed += 1,
    };
    while Instant::now() < end {
        tick.tick().await;
        // Due by now at `rate` a second, less what was sent: the generator does not slow down
        // when the server does.
        let due = (started.elapsed().as_secs_f64() * rate as f64) as usize;
        while sent < due {
            let (t, who) =
                (sent % world.tenants.len(), world.people[(sent / world.tenants.len()) % world.people.len()]);
            let n = sent;
            world.fake.people().update(who, &["last_name"], |p| p.last_name = format!("Surname{n}"));
            let (headers, body) = world.fake.take_delivery(&world.key).unwrap();
            let sent_at = Instant::now();
            pending.lock().unwrap().entry((t, who.to_string())).or_default().push((n, sent_at));
            let request = client.post(format!("{}/t{t}", world.url)).headers(headers).body(body);
            inflight.spawn(async move {
                let answer = request.send().await.ok()?;
                let ok = answer.status().is_success();
                let _ = answer.bytes().await;
                ok.then(|| sent_at.elapsed().as_secs_f64())
            });
            sent += 1;
        }
        while let Some(done) = inflight.try_join_next() {
            reap(done, &mut acks, &mut failed);
        }
        if Instant::now() >= next_sample {
            rss.push(resident().1 as f64 / 1024.0);
            next_sample += Duration::from_secs(1);
        }
    }
    let offered = sent as f64 / started.elapsed().as_secs_f64();
    let cpu = Cpu::now().since(cpu);
    while let Some(done) = inflight.join_next().await {
        reap(done, &mut acks, &mut failed);
    }
    // Everything sent has 10 s, plus twice the phase, to reach the cache.
    let patience = Duration::from_secs(10 + 2 * seconds);
    eventually(patience, || async { pending.lock().unwrap().is_empty().then_some(()) }).await;
    stop_watching.cancel();
    let to_cache = watcher.await.unwrap();
    let unseen = pending.lock().unwrap().values().map(Vec::len).sum();
    // The next phase starts on an empty queue: deliveries whose change a later one already
    // brought are still to be processed. Looked at every 50 ms, not `eventually`'s 5: each look
    // is twenty reads of the store the worker is draining.
    let deadline = Instant::now() + patience;
    while queued(world).await && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    troubles(world).await;
    Phase { rate, seconds, sent, failed, acks, to_cache, unseen, offered, rss, cpu }
}

/// Whether any delivery waits in the queue.
async fn queued(world: &World) -> bool {
    use integration_core::store::{DeliveryQuery, DeliveryStatus, DeliveryStore};
    for tenant in &world.tenants {
        for status in [DeliveryStatus::Queued, DeliveryStatus::Processing] {
            let query = DeliveryQuery::new().status(status).limit(1);
            if !world.store.list_deliveries(tenant, &query).await.unwrap().is_empty() {
                return true;
            }
        }
    }
    false
}

/// Prints how many deliveries are not processed, by status, with the first error of each.
async fn troubles(world: &World) {
    use integration_core::store::{DeliveryQuery, DeliveryStatus, DeliveryStore};
    for status in
        [DeliveryStatus::Queued, DeliveryStatus::Retrying, DeliveryStatus::DeadLettered, DeliveryStatus::Rejected]
    {
        let (mut count, mut first) = (0, None);
        for tenant in &world.tenants {
            let query = DeliveryQuery::new().status(status).limit(10_000);
            let found = world.store.list_deliveries(tenant, &query).await.unwrap();
            count += found.len();
            first = first.or_else(|| found.first().map(|d| format!("{:?} {:?}", d.last_error, d.rejection)));
        }
        if count > 0 {
            println!("  {count} deliveries {status:?}; one: {}", first.unwrap_or_default());
        }
    }
}

pub(crate) async fn ingress(dir: &std::path::Path, backing: Backing, rows: &mut Vec<Row>) {
    let world = world(dir, backing).await;
    let (rate, seconds) = (setting("SCALE_WEBHOOK_RATE", 1000), setting("SCALE_WEBHOOK_SECONDS", 60) as u64);
    let mut first = phase(&world, rate, seconds).await;
    let rss = &first.rss;
    let flat = match (rss.get(9), rss.last()) {
        (Some(at10), Some(last)) => format!("resident {at10:.0} MiB at 10 s, {last:.0} MiB at {} s", rss.len()),
        _ => "too short to tell".to_owned(),
    };
    rows.push(Row {
        what: format!(
            "webhooks through the axum mount, {} /s for {} s ({})",
            first.rate,
            first.seconds,
            backing.label()
        ),
        result: format!("{}; {flat}", first.summary()),
        target: "ack p99 < 50 ms, to cache p99 < 1 s, memory flat",
    });
    // Then the highest rate sustained: up by half the rate while each step holds, or down by
    // a quarter until one does.
    let step_seconds = setting("SCALE_WEBHOOK_STEP_SECONDS", 10) as u64;
    let mut highest = first.sustained().then_some(rate);
    let mut step = rate;
    while step_seconds > 0 && step > 0 {
        step = if highest.is_some() { step + rate / 2 } else { step.saturating_sub(rate / 4) };
        if step == 0 {
            break;
        }
        let mut next = phase(&world, step, step_seconds).await;
        let holds = next.sustained();
        println!("webhooks ({}) at {step}/s for {step_seconds} s: {}", backing.label(), next.summary());
        match (highest, holds) {
            // Stepping down: the first rate that holds is the answer.
            (None, true) => {
                highest = Some(step);
                break;
            }
            (Some(_), true) => highest = Some(step),
            (Some(_), false) => break,
            (None, false) => {}
        }
    }
    rows.push(Row {
        what: format!("  the highest rate sustained ({})", backing.label()),
        result: highest.map_or_else(|| format!("below {rate} /s"), |r| format!("{r} requests/s")),
        target: "1,000+ requests/s (seeds)",
    });
    world.shutdown.cancel();
}
