//! Automation throughput, each beside a hand-written equivalent in the same run:
//!
//! - `condition`: one event checked against the offboarding condition
//!   (`previous.employment.status == "active" and record.employment.status == "terminated"`) in
//!   MiniJinja, beside the same check written in Rust over `serde_json::Value`.
//! - `dispatch`: 10,000 triggers enqueued (deduplicated, conditions checked) and executed by a
//!   worker at concurrency 16 over the in-memory store, one no-op action each, beside a
//!   hand-written queue (a deduplicating map and a `VecDeque` behind a mutex, drained by 16
//!   tasks calling the same action).
//!
//! `cargo bench --bench automation --features automation`; the ratios are printed at the end.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use integrations::automation::{
    Action, ActionCall, ActionSchema, Actions, Automation, Engine, Expression, Scope, Step, Trigger,
};
use integrations::store::MemoryStore;
use integrations::{AutomationRunId, TenantId};
use serde_json::{Value, json};

const CONDITION: &str = r#"previous.employment.status == "active" and record.employment.status == "terminated""#;
const RUNS: u64 = 10_000;

fn event() -> Value {
    let employee = |status: &str| {
        json!({
            "remote_id": "102", "first_name": "Ada", "last_name": "Lovelace", "display_name": "Ada Lovelace",
            "work_email": "ada@example.com", "department": "Engineering", "job_title": "Engineer",
            "location": "London", "manager": "101", "modified_at": "2026-11-20T10:00:00Z",
            "employment": { "status": status, "type": "full_time", "start_date": "2020-01-06",
                            "pay": { "amount": "120000", "currency": "GBP", "period": "year" } }
        })
    };
    json!({ "trigger": "record_change", "change": "updated", "stream": "employees", "remote_id": "102",
            "record": employee("terminated"), "previous": employee("active") })
}

fn by_index(event: &Value) -> bool {
    event["previous"]["employment"]["status"] == "active" && event["record"]["employment"]["status"] == "terminated"
}

fn by_hand(event: &Value) -> bool {
    event.pointer("/previous/employment/status").and_then(Value::as_str) == Some("active")
        && event.pointer("/record/employment/status").and_then(Value::as_str) == Some("terminated")
}

#[derive(Debug)]
struct Noop;

#[async_trait]
impl Action for Noop {
    fn schema(&self) -> ActionSchema {
        ActionSchema::new("bench.noop", "Does nothing.")
    }
    async fn run(&self, _call: ActionCall) -> integrations::Result<Value> {
        Ok(Value::Null)
    }
}

fn engine() -> Engine {
    let actions = Actions::new().with(Arc::new(Noop)).unwrap_or_default();
    let automation = Automation::builder("bench", Trigger::Manual)
        .when("n >= 0")
        .step(Step::action("bench.noop", json!({})))
        .build(&actions)
        .unwrap_or_else(|e| panic!("{e}"));
    Engine::new(Arc::new(MemoryStore::new()), actions).with_automation(automation).unwrap_or_else(|e| panic!("{e}"))
}

async fn dispatch_with_engine() -> Duration {
    let (enqueue, work) = dispatch_with_engine_split().await;
    enqueue + work
}

/// The time to trigger (enqueue) the runs, and the time the worker takes to execute them.
async fn dispatch_with_engine_split() -> (Duration, Duration) {
    let engine = engine();
    let tenant = TenantId::new("acme").unwrap_or_else(|e| panic!("{e}"));
    let started = Instant::now();
    for n in 0..RUNS {
        engine.trigger(&tenant, "bench", &n.to_string(), json!({ "n": n })).await.unwrap_or_else(|e| panic!("{e}"));
    }
    let enqueued = started.elapsed();
    let started = Instant::now();
    let report = engine.worker("bench").concurrency(16).run_until_idle().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.succeeded, RUNS);
    (enqueued, started.elapsed())
}

async fn dispatch_by_hand() -> Duration {
    let started = Instant::now();
    let seen = Mutex::new(HashSet::new());
    let queue = Arc::new(Mutex::new(VecDeque::new()));
    let tenant = TenantId::new("acme").unwrap_or_else(|e| panic!("{e}"));
    for n in 0..RUNS {
        let data = json!({ "n": n });
        if data["n"].as_u64().is_some_and(|v| v < u64::MAX)
            && seen.lock().unwrap_or_else(|p| p.into_inner()).insert(n.to_string())
        {
            queue.lock().unwrap_or_else(|p| p.into_inner()).push_back(data);
        }
    }
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..16 {
        let (queue, tenant) = (queue.clone(), tenant.clone());
        tasks.spawn(async move {
            loop {
                let next = queue.lock().unwrap_or_else(|p| p.into_inner()).pop_front();
                let Some(data) = next else { break };
                let _ = Noop.run(ActionCall::new(tenant.clone(), AutomationRunId::new(), "0", data)).await;
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    started.elapsed()
}

fn benches(c: &mut Criterion) {
    let data = Arc::new(event());
    let condition = Expression::compile(CONDITION).unwrap_or_else(|e| panic!("{e}"));
    if let Ok(only) = std::env::var("AUTOMATION_BENCH_ONLY") {
        // For instruction counts (callgrind): 100,000 evaluations of the condition
        // (`condition`), of the hand-written check (`hand_written`), or of nothing (`nothing`: the
        // process's own cost, to subtract).
        for _ in 0..100_000 {
            let hit = match only.as_str() {
                "condition" => condition.is_true(&Scope::shared(data.clone())).unwrap_or(false),
                "hand_written" => by_hand(std::hint::black_box(&data)),
                _ => false,
            };
            std::hint::black_box(hit);
        }
        return;
    }
    assert!(condition.is_true(&Scope::shared(data.clone())).unwrap_or(false) && by_hand(&data) && by_index(&data));

    let mut group = c.benchmark_group("condition");
    group.throughput(Throughput::Elements(1));
    group.bench_function("minijinja", |b| b.iter(|| condition.is_true(&Scope::shared(data.clone())).unwrap_or(false)));
    group.bench_function("hand_written", |b| b.iter(|| by_hand(&data)));
    group.finish();

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let mut group = c.benchmark_group("dispatch");
    group.throughput(Throughput::Elements(RUNS));
    group.sample_size(10);
    group.bench_function("engine_memory_store", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut t = Duration::ZERO;
                for _ in 0..iters {
                    t += dispatch_with_engine().await;
                }
                t
            })
        })
    });
    group.bench_function("hand_written_queue", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut t = Duration::ZERO;
                for _ in 0..iters {
                    t += dispatch_by_hand().await;
                }
                t
            })
        })
    });
    group.finish();

    // Paired ratios, measured here in the same process.
    let rounds = 200_000;
    let started = Instant::now();
    for _ in 0..rounds {
        std::hint::black_box(condition.is_true(&Scope::shared(data.clone())).unwrap_or(false));
    }
    let ours = started.elapsed();
    let started = Instant::now();
    for _ in 0..rounds {
        std::hint::black_box(by_hand(std::hint::black_box(&data)));
    }
    let theirs = started.elapsed();
    let started = Instant::now();
    for _ in 0..rounds {
        std::hint::black_box(by_index(std::hint::black_box(&data)));
    }
    let indexed = started.elapsed();
    let constant = Expression::compile("true").unwrap_or_else(|e| panic!("{e}"));
    let started = Instant::now();
    for _ in 0..rounds {
        std::hint::black_box(constant.is_true(&Scope::shared(data.clone())).unwrap_or(false));
    }
    let fixed = started.elapsed();
    let ns = |d: Duration| d.as_nanos() as f64 / rounds as f64;
    println!(
        "condition: hand-written by indexing {:.0} ns; MiniJinja's fixed cost (the expression `true`) {:.0} ns",
        ns(indexed),
        ns(fixed)
    );
    let per_second = rounds as f64 / ours.as_secs_f64();
    println!(
        "condition: {per_second:.0} evaluations/s ({:.0} ns each); hand-written {:.0} ns; ratio {:.1}",
        ours.as_nanos() as f64 / rounds as f64,
        theirs.as_nanos() as f64 / rounds as f64,
        ours.as_secs_f64() / theirs.as_secs_f64()
    );
    let (mut ours, mut theirs, mut splits) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..5 {
        let (enqueue, work) = rt.block_on(dispatch_with_engine_split());
        ours.push(enqueue + work);
        splits.push((enqueue, work));
        theirs.push(rt.block_on(dispatch_by_hand()));
    }
    ours.sort();
    theirs.sort();
    splits.sort_by_key(|(e, w)| *e + *w);
    println!(
        "dispatch: triggering {:.1} µs a run, executing {:.1} µs a run",
        splits[2].0.as_secs_f64() * 1e6 / RUNS as f64,
        splits[2].1.as_secs_f64() * 1e6 / RUNS as f64
    );
    println!(
        "dispatch: {:.0} runs/s with the engine on the memory store; hand-written {:.0} runs/s; ratio {:.1}",
        RUNS as f64 / ours[2].as_secs_f64(),
        RUNS as f64 / theirs[2].as_secs_f64(),
        ours[2].as_secs_f64() / theirs[2].as_secs_f64()
    );
}

criterion_group!(automation, benches);
criterion_main!(automation);
