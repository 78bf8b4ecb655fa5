//! The executor over the in-memory store: retries and backoff, timeouts, on-failure steps,
//! delays, branches, the run log, concurrency limits, backpressure, 10,000 triggers at
//! concurrency 16, and a crash at every step boundary.
#![allow(clippy::unwrap_used)]

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicI64, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use integration_automation::{
    Action, ActionCall, ActionSchema, Actions, Automation, Engine, InputField, InputKind, Limits, RetryPolicy, Step,
    Trigger,
};
use integration_core::clock::{Clock, ManualClock};
use integration_core::store::{
    AutomationRun, AutomationRunQuery, AutomationRunStatus, AutomationStore, ClaimRequest, ClaimedRun, Enqueued,
    MemoryStore, NewAutomationRun, RunLease, RunRelease, StepRecord, StepStatus,
};
use integration_core::{AutomationRunId, Error, ErrorKind, Result, TenantId};
use integration_testkit::poll::eventually;
use proptest::prelude::*;
use serde_json::{Value, json};

/// A provider that honours idempotency keys: it applies each key once, however often it is
/// called with it. Failures can be scripted per call.
#[derive(Debug, Default)]
struct Receiver {
    calls: Mutex<Vec<(String, Value)>>,
    script: Mutex<VecDeque<Error>>,
    in_flight: AtomicI64,
    max_in_flight: AtomicI64,
    hang: bool,
}

impl Receiver {
    fn failing_with(errors: Vec<Error>) -> Self {
        Self { script: Mutex::new(errors.into()), ..Self::default() }
    }

    fn calls(&self) -> Vec<(String, Value)> {
        self.calls.lock().unwrap().clone()
    }

    /// Each idempotency key and how often it was called.
    fn keys(&self) -> HashMap<String, usize> {
        let mut out = HashMap::new();
        for (key, _) in self.calls() {
            *out.entry(key).or_default() += 1;
        }
        out
    }
}

#[derive(Debug, Clone)]
struct Effect(Arc<Receiver>);

#[async_trait]
impl Action for Effect {
    fn schema(&self) -> ActionSchema {
        ActionSchema::new("test.effect", "Records the call.")
            .field(InputField::optional("value", InputKind::Any))
            .field(InputField::optional("api_token", InputKind::String).secret())
    }

    async fn run(&self, call: ActionCall) -> Result<Value> {
        let now = self.0.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.0.max_in_flight.fetch_max(now, Ordering::SeqCst);
        tokio::task::yield_now().await;
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
        if self.0.hang {
            std::future::pending::<()>().await;
        }
        self.0.calls.lock().unwrap().push((call.idempotency_key.clone(), call.input.clone()));
        if let Some(error) = self.0.script.lock().unwrap().pop_front() {
            return Err(error);
        }
        Ok(json!({ "echo": call.input["value"], "attempt": call.attempt, "token": "t-secret" }))
    }
}

fn tenant() -> TenantId {
    TenantId::new("acme").unwrap()
}

struct Setup {
    engine: Engine,
    store: MemoryStore,
    clock: ManualClock,
}

fn setup(receiver: &Arc<Receiver>, automations: impl FnOnce(&Actions) -> Vec<Automation>) -> Setup {
    setup_with(receiver, Limits::default(), automations)
}

fn setup_with(
    receiver: &Arc<Receiver>,
    limits: Limits,
    automations: impl FnOnce(&Actions) -> Vec<Automation>,
) -> Setup {
    let clock = ManualClock::new();
    let store = MemoryStore::with_clock(Arc::new(clock.clone()));
    let actions = Actions::new().with(Arc::new(Effect(receiver.clone()))).unwrap();
    let mut engine =
        Engine::new(Arc::new(store.clone()), actions.clone()).with_clock(Arc::new(clock.clone())).with_limits(limits);
    for automation in automations(&actions) {
        engine = engine.with_automation(automation).unwrap();
    }
    Setup { engine, store, clock }
}

async fn only_run(store: &MemoryStore) -> AutomationRun {
    let runs = store.list_automation_runs(&tenant(), &AutomationRunQuery::new()).await.unwrap();
    assert_eq!(runs.len(), 1, "{runs:?}");
    runs.into_iter().next().unwrap()
}

#[tokio::test]
async fn a_retryable_failure_parks_the_run_then_retries_with_the_same_key() {
    let receiver = Arc::new(Receiver::failing_with(vec![
        Error::new(ErrorKind::Transient, "503").with_retry_after(Duration::from_secs(30)),
        Error::new(ErrorKind::RateLimited, "429"),
    ]));
    let s = setup(&receiver, |a| {
        vec![
            Automation::builder("retry", Trigger::Manual)
                .step(Step::action("test.effect", json!({"value": "{{ n }}"})).retry(RetryPolicy::attempts(3)))
                .build(a)
                .unwrap(),
        ]
    });
    s.engine.trigger(&tenant(), "retry", "k", json!({"n": 7})).await.unwrap();
    let worker = s.engine.worker("w");

    let report = worker.run_until_idle().await.unwrap();
    assert_eq!(report.parked, 1);
    let run = only_run(&s.store).await;
    assert_eq!(run.status, AutomationRunStatus::Waiting);
    assert_eq!((run.due_at - s.clock.now()).num_seconds(), 30, "the provider's Retry-After wins");
    assert_eq!(worker.run_until_idle().await.unwrap().claimed, 0, "not due before the wait");

    s.clock.advance(Duration::from_secs(30));
    assert_eq!(worker.run_until_idle().await.unwrap().parked, 1, "the second attempt fails too (429)");
    s.clock.advance(Duration::from_secs(600));
    assert_eq!(worker.run_until_idle().await.unwrap().succeeded, 1);

    let calls = receiver.calls();
    assert_eq!(calls.len(), 3);
    assert!(calls.iter().all(|(key, input)| *key == calls[0].0 && input["value"] == 7));
    let steps = s.store.automation_steps(&tenant(), run.id).await.unwrap();
    assert_eq!(steps.len(), 1);
    assert_eq!((steps[0].status, steps[0].attempts), (StepStatus::Succeeded, 3));
    assert_eq!(only_run(&s.store).await.status, AutomationRunStatus::Succeeded);
}

#[tokio::test]
async fn a_final_failure_runs_the_on_failure_steps_and_fails_the_run() {
    let receiver = Arc::new(Receiver::failing_with(vec![Error::new(ErrorKind::Provider, "400 bad employee id")]));
    let s = setup(&receiver, |a| {
        vec![
            Automation::builder("fails", Trigger::Manual)
                .step(Step::action("test.effect", json!({"value": "first"})))
                .step(Step::action("test.effect", json!({"value": "never"})))
                .on_failure(Step::action("test.effect", json!({"value": "{{ error }}"})))
                .build(a)
                .unwrap(),
        ]
    });
    s.engine.trigger(&tenant(), "fails", "k", json!({})).await.unwrap();
    let report = s.engine.worker("w").run_until_idle().await.unwrap();
    assert_eq!(report.failed, 1);
    let calls = receiver.calls();
    assert_eq!(calls.len(), 2, "the failed step once (not retryable), then the on-failure step: {calls:?}");
    let alert = calls[1].1["value"].as_str().unwrap();
    assert!(
        alert.contains("step 0 (test.effect) failed after 1 attempt(s)") && alert.contains("bad employee id"),
        "{alert}"
    );
    let run = only_run(&s.store).await;
    assert_eq!(run.status, AutomationRunStatus::Failed);
    assert!(run.error.unwrap().contains("bad employee id"));
    let steps = s.store.automation_steps(&tenant(), run.id).await.unwrap();
    let paths: Vec<(&str, StepStatus)> = steps.iter().map(|s| (s.step.as_str(), s.status)).collect();
    assert_eq!(paths, [("0", StepStatus::Failed), ("on_failure.0", StepStatus::Succeeded)]);
}

#[tokio::test(start_paused = true)]
async fn a_step_that_hangs_times_out_and_counts_as_an_attempt() {
    let receiver = Arc::new(Receiver { hang: true, ..Receiver::default() });
    let s = setup(&receiver, |a| {
        vec![
            Automation::builder("slow", Trigger::Manual)
                .step(
                    Step::action("test.effect", json!({}))
                        .timeout(Duration::from_secs(2))
                        .retry(RetryPolicy::attempts(1)),
                )
                .build(a)
                .unwrap(),
        ]
    });
    s.engine.trigger(&tenant(), "slow", "k", json!({})).await.unwrap();
    assert_eq!(s.engine.worker("w").run_until_idle().await.unwrap().failed, 1);
    let run = only_run(&s.store).await;
    assert!(run.error.unwrap().contains("did not finish within 2s"));
}

#[tokio::test]
async fn delays_park_without_a_worker_and_branches_follow_the_data() {
    let receiver = Arc::new(Receiver::default());
    let s = setup(&receiver, |a| {
        vec![
            Automation::builder("flow", Trigger::Manual)
                .step(Step::action("test.effect", json!({"value": "before"})).id("first"))
                .step(Step::delay(Duration::from_secs(3600)))
                .step(
                    Step::branch(
                        "steps.first.echo == 'before' and level > 2",
                        vec![Step::action("test.effect", json!({"value": "high"}))],
                        vec![Step::action("test.effect", json!({"value": "low"}))],
                    )
                    .unwrap(),
                )
                .build(a)
                .unwrap(),
        ]
    });
    s.engine.trigger(&tenant(), "flow", "k", json!({"level": 5})).await.unwrap();
    let worker = s.engine.worker("w");
    assert_eq!(worker.run_until_idle().await.unwrap().parked, 1);
    assert_eq!(only_run(&s.store).await.status, AutomationRunStatus::Waiting);
    s.clock.advance(Duration::from_secs(3599));
    assert_eq!(worker.run_until_idle().await.unwrap().claimed, 0);
    s.clock.advance(Duration::from_secs(1));
    assert_eq!(worker.run_until_idle().await.unwrap().succeeded, 1);
    let values: Vec<Value> = receiver.calls().into_iter().map(|(_, i)| i["value"].clone()).collect();
    assert_eq!(values, [json!("before"), json!("high")]);
    let run = only_run(&s.store).await;
    let steps = s.store.automation_steps(&tenant(), run.id).await.unwrap();
    let paths: Vec<&str> = steps.iter().map(|s| s.step.as_str()).collect();
    assert_eq!(paths, ["0", "1", "2", "2.then.0"]);
}

#[tokio::test]
async fn the_run_log_redacts_secrets_and_the_dry_run_calls_nothing() {
    let receiver = Arc::new(Receiver::default());
    let s = setup(&receiver, |a| {
        vec![
            Automation::builder("log", Trigger::Manual)
                .when("amount > 10")
                .step(Step::action(
                    "test.effect",
                    json!({"value": {"password": "hunter2", "ok": 1}, "api_token": "{{ token }}"}),
                ))
                .build(a)
                .unwrap(),
        ]
    });
    let data = json!({"amount": 20, "token": "tok-123"});
    let plan = s.engine.dry_run("log", &tenant(), data.clone()).unwrap();
    assert!(plan.matched);
    assert_eq!(
        plan.steps[0].input,
        Some(json!({"value": {"password": "[redacted]", "ok": 1}, "api_token": "[redacted]"}))
    );
    let unmatched = s.engine.dry_run("log", &tenant(), json!({"amount": 5})).unwrap();
    assert_eq!((unmatched.matched, unmatched.unmet.as_deref()), (false, Some("amount > 10")));
    assert!(receiver.calls().is_empty(), "a dry run calls nothing");
    assert!(s.store.list_automation_runs(&tenant(), &AutomationRunQuery::new()).await.unwrap().is_empty());

    assert_eq!(s.engine.trigger(&tenant(), "log", "small", json!({"amount": 5})).await.unwrap(), None);
    s.engine.trigger(&tenant(), "log", "k", data).await.unwrap();
    s.engine.worker("w").run_until_idle().await.unwrap();
    assert_eq!(receiver.calls()[0].1["api_token"], "tok-123", "the action gets the real value");
    let run = only_run(&s.store).await;
    let logged = serde_json::to_string(&s.store.automation_steps(&tenant(), run.id).await.unwrap()).unwrap();
    assert!(!logged.contains("hunter2") && !logged.contains("tok-123") && !logged.contains("t-secret"), "{logged}");
}

#[tokio::test]
async fn pending_runs_are_bounded_per_tenant() {
    let receiver = Arc::new(Receiver::default());
    let s = setup_with(&receiver, Limits::default().max_pending(3), |a| {
        vec![Automation::builder("a", Trigger::Manual).step(Step::action("test.effect", json!({}))).build(a).unwrap()]
    });
    for i in 0..3 {
        assert!(matches!(
            s.engine.trigger(&tenant(), "a", &i.to_string(), json!({})).await.unwrap(),
            Some(Enqueued::Created(_))
        ));
    }
    let err = s.engine.trigger(&tenant(), "a", "3", json!({})).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert!(err.retry_after().is_some());
    let other = TenantId::new("globex").unwrap();
    assert!(s.engine.trigger(&other, "a", "3", json!({})).await.is_ok(), "other tenants are not held back");
    s.engine.worker("w").run_until_idle().await.unwrap();
    assert!(s.engine.trigger(&tenant(), "a", "3", json!({})).await.is_ok(), "accepted again once runs finish");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_triggers_at_concurrency_16_run_once_each() {
    let receiver = Arc::new(Receiver::default());
    let s = setup(&receiver, |a| {
        vec![
            Automation::builder("bulk", Trigger::Manual)
                .step(Step::action("test.effect", json!({"value": "{{ n }}"})))
                .build(a)
                .unwrap(),
            Automation::builder("limited", Trigger::Manual)
                .concurrency(4)
                .step(Step::action("test.effect", json!({"value": "{{ n }}"})))
                .build(a)
                .unwrap(),
        ]
    });
    let engine = s.engine.clone();
    let mut producers = tokio::task::JoinSet::new();
    for chunk in 0..10 {
        let engine = engine.clone();
        producers.spawn(async move {
            for n in chunk * 1000..(chunk + 1) * 1000 {
                engine.trigger(&tenant(), "bulk", &n.to_string(), json!({"n": n})).await.unwrap();
            }
        });
    }
    let worker = engine.worker("w").concurrency(16);
    let consumer = tokio::spawn({
        let worker = worker.clone();
        async move { worker.run_until_idle().await.unwrap() }
    });
    while producers.join_next().await.is_some() {}
    let mut report = consumer.await.unwrap();
    let rest = worker.run_until_idle().await.unwrap();
    report.succeeded += rest.succeeded;
    assert_eq!(report.succeeded, 10_000);
    assert_eq!(report.failed + report.abandoned, 0);
    let keys = receiver.keys();
    assert_eq!(keys.len(), 10_000, "every trigger ran");
    assert!(keys.values().all(|&n| n == 1), "none ran twice");
    let mut seen: Vec<i64> = receiver.calls().iter().map(|(_, i)| i["value"].as_i64().unwrap()).collect();
    seen.sort_unstable();
    assert_eq!(seen, (0..10_000).collect::<Vec<_>>());
    assert!(receiver.max_in_flight.load(Ordering::SeqCst) <= 16);
    for n in 0..10_000 {
        let again = engine.trigger(&tenant(), "bulk", &n.to_string(), json!({"n": n})).await.unwrap();
        assert!(matches!(again, Some(Enqueued::Duplicate(_))));
    }

    receiver.max_in_flight.store(0, Ordering::SeqCst);
    for n in 0..200 {
        engine.trigger(&tenant(), "limited", &n.to_string(), json!({"n": n})).await.unwrap();
    }
    assert_eq!(worker.run_until_idle().await.unwrap().succeeded, 200);
    assert!(receiver.max_in_flight.load(Ordering::SeqCst) <= 4, "the automation's own limit holds");
}

/// A store that dies after a number of writes: every later call fails, like a process that
/// crashed at that point.
#[derive(Debug)]
struct Crashing {
    inner: MemoryStore,
    writes_left: AtomicI64,
}

impl Crashing {
    fn check(&self) -> Result<()> {
        if self.writes_left.fetch_sub(1, Ordering::SeqCst) <= 0 {
            return Err(Error::storage("the worker crashed"));
        }
        Ok(())
    }
}

#[async_trait]
impl AutomationStore for Crashing {
    async fn enqueue_run(&self, run: &NewAutomationRun, max_pending: Option<u64>) -> Result<Enqueued> {
        self.inner.enqueue_run(run, max_pending).await
    }
    async fn claim_runs(&self, request: &ClaimRequest) -> Result<Vec<ClaimedRun>> {
        self.check()?;
        self.inner.claim_runs(request).await
    }
    async fn renew_run_lease(&self, lease: &RunLease, ttl: Duration) -> Result<RunLease> {
        self.check()?;
        self.inner.renew_run_lease(lease, ttl).await
    }
    async fn save_step(&self, lease: &RunLease, step: &StepRecord) -> Result<()> {
        self.check()?;
        self.inner.save_step(lease, step).await
    }
    async fn release_run(&self, lease: &RunLease, release: RunRelease) -> Result<()> {
        self.check()?;
        self.inner.release_run(lease, release).await
    }
    async fn automation_run(&self, tenant: &TenantId, id: AutomationRunId) -> Result<Option<AutomationRun>> {
        self.inner.automation_run(tenant, id).await
    }
    async fn automation_steps(&self, tenant: &TenantId, id: AutomationRunId) -> Result<Vec<StepRecord>> {
        self.inner.automation_steps(tenant, id).await
    }
    async fn list_automation_runs(&self, tenant: &TenantId, query: &AutomationRunQuery) -> Result<Vec<AutomationRun>> {
        self.inner.list_automation_runs(tenant, query).await
    }
}

/// The crash automation's steps allow more attempts than the scenarios crash: a crash during an
/// attempt counts as one (three crashes inside one step exhaust the default three — see
/// `three_crashes_inside_one_step_exhaust_its_attempts`), and these scenarios are about
/// exactly-once, not about giving up.
fn crash_automation(actions: &Actions) -> Automation {
    let effect = |value: &str| Step::action("test.effect", json!({ "value": value })).retry(RetryPolicy::attempts(8));
    Automation::builder("crashy", Trigger::Manual)
        .step(effect("a").id("a"))
        .step(Step::branch("steps.a.echo == 'a'", vec![effect("b")], vec![]).unwrap())
        .step(Step::delay(Duration::from_secs(60)))
        .step(effect("c"))
        .build(actions)
        .unwrap()
}

/// Runs the crash scenario: workers that crash after `crashes[i]` writes each, then one that
/// does not; returns how often each step's effect was applied (by idempotency key) and the calls.
async fn crash_and_resume(crashes: &[i64]) -> (MemoryStore, Arc<Receiver>) {
    let receiver = Arc::new(Receiver::default());
    let clock = ManualClock::new();
    let memory = MemoryStore::with_clock(Arc::new(clock.clone()));
    let actions = Actions::new().with(Arc::new(Effect(receiver.clone()))).unwrap();
    let engine_on = |store: Arc<dyn AutomationStore>| {
        Engine::new(store, actions.clone())
            .with_clock(Arc::new(clock.clone()))
            .with_automation(crash_automation(&actions))
            .unwrap()
    };
    engine_on(Arc::new(memory.clone())).trigger(&tenant(), "crashy", "k", json!({})).await.unwrap();
    for &writes in crashes {
        let crashing = Arc::new(Crashing { inner: memory.clone(), writes_left: AtomicI64::new(writes) });
        let _ = engine_on(crashing).worker("doomed").run_until_idle().await;
        clock.advance(Duration::from_secs(61)); // past the lease (and the delay)
    }
    let survivor = engine_on(Arc::new(memory.clone())).worker("survivor");
    for _ in 0..4 {
        survivor.run_until_idle().await.unwrap();
        clock.advance(Duration::from_secs(61));
    }
    (memory, receiver)
}

/// The number of store writes a clean run of the crash automation makes.
static CLEAN_WRITES: AtomicU32 = AtomicU32::new(0);

#[tokio::test]
async fn a_crash_at_each_step_boundary_applies_every_effect_exactly_once() {
    for crash_after in 0..=24 {
        let (store, receiver) = crash_and_resume(&[crash_after]).await;
        assert_exactly_once(&store, &receiver, &format!("crash after {crash_after} writes")).await;
        CLEAN_WRITES.fetch_max(crash_after as u32, Ordering::SeqCst);
    }
}

async fn assert_exactly_once(store: &MemoryStore, receiver: &Receiver, case: &str) {
    let run = only_run(store).await;
    assert_eq!(run.status, AutomationRunStatus::Succeeded, "{case}: {run:?}");
    let keys = receiver.keys();
    let mut applied: Vec<String> = receiver
        .calls()
        .iter()
        .filter(|(key, _)| keys.contains_key(key))
        .map(|(key, input)| format!("{}={}", key.rsplit(':').next().unwrap(), input["value"].as_str().unwrap()))
        .collect();
    applied.sort();
    applied.dedup();
    assert_eq!(applied, ["0=a", "1.then.0=b", "3=c"], "{case}: each effect under one key");
    let steps = store.automation_steps(&tenant(), run.id).await.unwrap();
    assert!(steps.iter().all(|s| s.status == StepStatus::Succeeded), "{case}: {steps:?}");
    for (key, calls) in keys {
        let step = steps.iter().find(|s| s.idempotency_key == key).unwrap();
        assert_eq!(step.attempts as usize, calls.max(step.attempts as usize), "{case}: attempts count every call");
        assert!(calls <= 2, "{case}: a step runs again only when its result was not saved ({key}: {calls})");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn repeated_crashes_anywhere_still_apply_each_effect_once(crashes in proptest::collection::vec(0i64..24, 1..4)) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let (store, receiver) = crash_and_resume(&crashes).await;
            let run = only_run(&store).await;
            assert_eq!(run.status, AutomationRunStatus::Succeeded, "{crashes:?}");
            let mut effects: Vec<String> = receiver.calls().iter().map(|(k, i)| format!("{k}={}", i["value"])).collect();
            effects.sort();
            effects.dedup();
            assert_eq!(effects.len(), 3, "{crashes:?}: three effects, each under one key: {effects:?}");
        });
    }
}

#[tokio::test]
async fn three_crashes_inside_one_step_exhaust_its_attempts() {
    let receiver = Arc::new(Receiver::default());
    let clock = ManualClock::new();
    let memory = MemoryStore::with_clock(Arc::new(clock.clone()));
    let actions = Actions::new().with(Arc::new(Effect(receiver.clone()))).unwrap();
    let automation = Automation::builder("fragile", Trigger::Manual)
        .step(Step::action("test.effect", json!({"value": "a"})))
        .build(&actions)
        .unwrap();
    let engine_on = |store: Arc<dyn AutomationStore>| {
        Engine::new(store, actions.clone())
            .with_clock(Arc::new(clock.clone()))
            .with_automation(automation.clone())
            .unwrap()
    };
    engine_on(Arc::new(memory.clone())).trigger(&tenant(), "fragile", "k", json!({})).await.unwrap();
    for _ in 0..3 {
        // The claim and the step's start are saved; the worker dies before saving the result.
        let crashing = Arc::new(Crashing { inner: memory.clone(), writes_left: AtomicI64::new(2) });
        let _ = engine_on(crashing).worker("doomed").run_until_idle().await;
        clock.advance(Duration::from_secs(61));
    }
    engine_on(Arc::new(memory.clone())).worker("survivor").run_until_idle().await.unwrap();
    let run = only_run(&memory).await;
    assert_eq!(run.status, AutomationRunStatus::Failed);
    assert!(run.error.as_deref().unwrap_or_default().contains("gave up after 3 attempts"), "{run:?}");
    assert_eq!(receiver.calls().len(), 3, "each crashed attempt called the action once; the survivor did not");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_worker_takes_runs_as_they_come_and_stops_when_cancelled() {
    let receiver = Arc::new(Receiver::default());
    let s = setup(&receiver, |a| {
        vec![
            Automation::builder("live", Trigger::Manual)
                .step(Step::action("test.effect", json!({"value": "{{ n }}"})))
                .build(a)
                .unwrap(),
        ]
    });
    let cancel = integration_core::CancellationToken::new();
    let worker = s.engine.worker("w").concurrency(4).poll_interval(Duration::from_millis(20));
    let running = tokio::spawn({
        let (worker, cancel) = (worker.clone(), cancel.clone());
        async move { worker.run(cancel).await }
    });
    // Two waves, the second after the lanes have found nothing and gone idle.
    for wave in 0..2u64 {
        for n in wave * 50..(wave + 1) * 50 {
            s.engine.trigger(&tenant(), "live", &n.to_string(), json!({ "n": n })).await.unwrap();
        }
        let expected = ((wave + 1) * 50) as usize;
        let taken = eventually(Duration::from_secs(20), || {
            let done = receiver.calls.lock().unwrap().len() >= expected;
            async move { done.then_some(()) }
        })
        .await;
        assert!(taken.is_some(), "wave {wave}: {} of {expected} runs executed", receiver.calls.lock().unwrap().len());
    }
    cancel.cancel();
    let report = running.await.unwrap().unwrap();
    assert_eq!((report.claimed, report.succeeded, report.failed + report.abandoned), (100, 100, 0), "{report:?}");
    assert_eq!(receiver.keys().len(), 100, "each run once");
    assert!(receiver.max_in_flight.load(Ordering::SeqCst) <= 4);
    assert!(receiver.max_in_flight.load(Ordering::SeqCst) > 1, "lanes woke each other to share the wave");
}
