//! Syncing 100,000 records, each beside a hand-written equivalent in the same run:
//!
//! - `memory/engine` vs `memory/handwritten`: the engine alone (in-memory source to in-memory
//!   store, 1,000 per page) against a loop that reads the same pages and writes them to the same
//!   store directly — the engine's own overhead;
//! - `sqlite/engine` vs `sqlite/handwritten`: a loopback HTTP source (1,000 per page) into the
//!   SQLite records cache through the engine, against a reqwest + serde + sqlx loop doing the same
//!   upserts.
//!
//! `cargo bench --bench sync --features sqlite`.

use std::hint::black_box;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use axum::extract::{Query, State};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use integration_testkit::memory_source::{MemorySource, STREAM};
use integrations::descriptor::{Descriptor, Domain, StreamDescriptor};
use integrations::sql::SqlStore;
use integrations::store::{MemoryStore, PageWrite, RecordStore, StreamScope};
use integrations::*;
use serde_json::{Value, json};

const RECORDS: usize = 100_000;
const PAGE: usize = 1_000;

fn record(i: usize) -> Value {
    json!({ "id": format!("e{i:06}"), "name": format!("Employee {i}"), "department": i % 40, "active": !i.is_multiple_of(7) })
}

fn scope() -> StreamScope {
    StreamScope::new(TenantId::new("bench").expect("tenant"), ConnectionId::new("hr").expect("connection"), STREAM)
}

fn job() -> SyncJob {
    SyncJob::new(
        TenantId::new("bench").expect("tenant"),
        ConnectionId::new("hr").expect("connection"),
        STREAM,
        SyncMode::FullRefresh,
    )
    .with_page_size(NonZeroU32::new(PAGE as u32).expect("non-zero"))
}

// --- A loopback HTTP source: GET /employees?after=<id> returns up to 1,000 records. ---

#[derive(serde::Deserialize)]
struct After {
    after: Option<String>,
}

async fn serve(data: Arc<Vec<Value>>) -> String {
    async fn page(State(data): State<Arc<Vec<Value>>>, Query(q): Query<After>) -> axum::Json<Value> {
        let start = match q.after {
            Some(after) => data.partition_point(|r| r["id"].as_str().unwrap_or_default() <= after.as_str()),
            None => 0,
        };
        let end = (start + PAGE).min(data.len());
        let next = (end < data.len()).then(|| data[end - 1]["id"].clone());
        axum::Json(json!({ "employees": &data[start..end], "next": next }))
    }
    let app = axum::Router::new().route("/employees", axum::routing::get(page)).with_state(data);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/employees")
}

#[derive(serde::Deserialize)]
struct PageBody {
    employees: Vec<Value>,
    next: Option<String>,
}

/// The adapter over the loopback source.
#[derive(Debug)]
struct HttpSource {
    descriptor: Descriptor,
    url: String,
    http: reqwest::Client,
}

impl HttpSource {
    fn new(url: &str, http: &reqwest::Client) -> Self {
        // Its reads change nothing, so it declares read-ahead: the engine fetches page N+1 while
        // it writes page N (SYNC_BENCH_NO_READ_AHEAD=1 measures without).
        let stream = StreamDescriptor::new(STREAM, ["id"]);
        let stream =
            if std::env::var_os("SYNC_BENCH_NO_READ_AHEAD").is_some() { stream } else { stream.with_read_ahead() };
        let descriptor =
            Descriptor::builder("loopback", Domain::Hris, "Loopback").stream(stream).build().expect("descriptor");
        Self { descriptor, url: url.to_owned(), http: http.clone() }
    }
}

#[async_trait]
impl Integration for HttpSource {
    fn descriptor(&self) -> &Descriptor {
        &self.descriptor
    }
    async fn connect(&self) -> Result<ConnectionInfo> {
        Ok(ConnectionInfo::default())
    }
    async fn disconnect(&self) -> Result<()> {
        Ok(())
    }
    async fn health_check(&self) -> Result<Health> {
        Ok(Health::healthy(Duration::ZERO))
    }
    async fn read(&self, request: ReadRequest) -> Result<Page> {
        let after: Option<String> = request.checkpoint.as_ref().map(Checkpoint::state).transpose()?;
        let mut get = self.http.get(&self.url);
        if let Some(after) = &after {
            get = get.query(&[("after", after)]);
        }
        let body: PageBody = get
            .send()
            .await
            .map_err(|e| Error::new(ErrorKind::Transient, "request failed").with_source(e))?
            .json()
            .await
            .map_err(|e| Error::invalid_response("bad page").with_source(e))?;
        let records = body
            .employees
            .into_iter()
            .map(|r| Record::new(r["id"].as_str().unwrap_or_default().to_owned(), r))
            .collect();
        Ok(match body.next {
            Some(next) => Page::more(records, Checkpoint::from_state(&next)?),
            None => Page::last(records, None),
        })
    }
}

fn sync(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let data: Arc<Vec<Value>> = Arc::new((0..RECORDS).map(record).collect());
    let source = MemorySource::new();
    source.batch(|b| data.iter().for_each(|r| b.upsert(r["id"].as_str().unwrap_or_default(), r.clone())));

    if let Ok(only) = std::env::var("SYNC_BENCH_ONLY") {
        // For profiles: one sync of the 100,000 records, `memory` (engine into the memory
        // store), `read` (the source's pages alone) or `sqlite` (the loopback HTTP source into
        // SQLite, timed); anything else: the setup alone.
        rt.block_on(async {
            let store = MemoryStore::new();
            match only.as_str() {
                "sqlite" => {
                    let url = serve(data.clone()).await;
                    let adapter = HttpSource::new(&url, &reqwest::Client::new());
                    let path = std::env::temp_dir().join(format!("integrations-bench-{}.db", uuid_like()));
                    let took = sync_into_sqlite(&adapter, &path).await;
                    println!("sqlite: {:.0} records/s", RECORDS as f64 / took.as_secs_f64());
                }
                "memory" => {
                    let engine = SyncEngine::new(Arc::new(store.clone()), Arc::new(store.clone()), "bench");
                    let run = engine.run(&source, &job(), &CancellationToken::new()).await.expect("run");
                    assert_eq!(run.counts.added, RECORDS as u64);
                }
                "read" => {
                    let mut checkpoint = None;
                    loop {
                        let request = ReadRequest::new(STREAM, SyncMode::FullRefresh)
                            .after(checkpoint.take())
                            .with_page_size(NonZeroU32::new(PAGE as u32).expect("non-zero"));
                        let page = black_box(source.read(request).await.expect("read"));
                        if !page.has_more {
                            break;
                        }
                        checkpoint = page.checkpoint;
                    }
                }
                _ => {}
            }
            std::mem::forget(store);
        });
        return;
    }

    let mut group = c.benchmark_group("sync_100k");
    group.throughput(Throughput::Elements(RECORDS as u64));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));

    group.bench_function("memory/handwritten", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut total = Duration::ZERO;
                let mut kept = Vec::new();
                for _ in 0..iters {
                    let store = MemoryStore::new();
                    let start = Instant::now();
                    let mut checkpoint = None;
                    loop {
                        let request = ReadRequest::new(STREAM, SyncMode::FullRefresh)
                            .after(checkpoint.take())
                            .with_page_size(NonZeroU32::new(PAGE as u32).expect("non-zero"));
                        let page = source.read(request).await.expect("read");
                        let write = PageWrite::new(page.records, page.checkpoint.clone(), None);
                        black_box(store.write_page(&scope(), write).await.expect("write"));
                        if !page.has_more {
                            break;
                        }
                        checkpoint = page.checkpoint;
                    }
                    total += start.elapsed();
                    kept.push(store);
                }
                // Freed after measuring, so one iteration's 100,000 records are not being freed
                // (possibly on another thread) while the next is timed.
                drop(kept);
                total
            })
        });
    });

    group.bench_function("memory/engine", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut total = Duration::ZERO;
                let mut kept = Vec::new();
                for _ in 0..iters {
                    let store = MemoryStore::new();
                    let engine = SyncEngine::new(Arc::new(store.clone()), Arc::new(store.clone()), "bench");
                    let start = Instant::now();
                    let run = engine.run(&source, &job(), &CancellationToken::new()).await.expect("run");
                    total += start.elapsed();
                    assert_eq!(run.counts.added, RECORDS as u64);
                    kept.push(store);
                }
                drop(kept);
                total
            })
        });
    });

    let url = rt.block_on(serve(data.clone()));
    let http = reqwest::Client::new();
    let dir = std::env::temp_dir().join(format!("integrations-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp folder");

    group.bench_function("sqlite/handwritten", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut total = Duration::ZERO;
                for n in 0..iters {
                    let path = dir.join(format!("hand-{n}-{}.db", uuid_like()));
                    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=rwc", path.display())).await.expect("open");
                    sqlx::query("CREATE TABLE records (remote_id TEXT PRIMARY KEY, data TEXT NOT NULL, updated_at INTEGER NOT NULL)")
                        .execute(&pool)
                        .await
                        .expect("create");
                    let start = Instant::now();
                    let mut after: Option<String> = None;
                    loop {
                        let mut get = http.get(&url);
                        if let Some(a) = &after {
                            get = get.query(&[("after", a)]);
                        }
                        let page: PageBody = get.send().await.expect("get").json().await.expect("json");
                        let mut tx = pool.begin().await.expect("begin");
                        for r in &page.employees {
                            sqlx::query(
                                "INSERT INTO records (remote_id, data, updated_at) VALUES ($1, $2, $3) \
                                 ON CONFLICT (remote_id) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at",
                            )
                            .bind(r["id"].as_str().unwrap_or_default())
                            .bind(r.to_string())
                            .bind(chrono::Utc::now().timestamp_micros())
                            .execute(&mut *tx)
                            .await
                            .expect("upsert");
                        }
                        tx.commit().await.expect("commit");
                        match page.next {
                            Some(next) => after = Some(next),
                            None => break,
                        }
                    }
                    total += start.elapsed();
                    pool.close().await;
                    let _ = std::fs::remove_file(&path);
                }
                total
            })
        });
    });

    group.bench_function("sqlite/engine", |b| {
        let adapter = HttpSource::new(&url, &http);
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut total = Duration::ZERO;
                for n in 0..iters {
                    total += sync_into_sqlite(&adapter, &dir.join(format!("engine-{n}-{}.db", uuid_like()))).await;
                }
                total
            })
        });
    });
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

/// One full sync of `adapter` into a new SQLite file at `path` (removed after): how long the
/// sync took, opening and closing the store aside.
async fn sync_into_sqlite(adapter: &HttpSource, path: &std::path::Path) -> Duration {
    let store = SqlStore::sqlite(path).await.expect("open");
    let engine = SyncEngine::new(Arc::new(store.clone()), Arc::new(store.clone()), "bench");
    let start = Instant::now();
    let run = engine.run(adapter, &job(), &CancellationToken::new()).await.expect("run");
    let took = start.elapsed();
    assert_eq!(run.counts.added, RECORDS as u64, "{run:?}");
    store.close().await;
    let _ = std::fs::remove_file(path);
    took
}

fn uuid_like() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or_default()
}

criterion_group!(benches, sync);
criterion_main!(benches);
