//! One large full sync's memory (issue 24): a BambooHR company of `SCALE_FULL_PEOPLE` (50,000)
//! employees, whose custom report comes back whole in one answer, synced in full into SQLite
//! through the real adapter.
//!
//! Each side runs in a process of its own (this bench, run again), so neither the fake's memory
//! nor memory the other side freed counts: the peak resident size over the size before the sync,
//! for the SDK's full sync, and beside it for the hand-written baseline
//! ([`baseline::fetch_report`](crate::baseline::fetch_report)).

use std::process::Stdio;
use std::sync::Arc;
use std::time::Instant;

use integration_core::{BuildContext, CancellationToken, ConnectionId, SyncEngine, SyncJob, SyncMode, TenantId};
use integration_store::SqlStore;
use integration_testkit::fake::bamboohr::FakeBambooHr;
use integration_testkit::fake::people::People;

use crate::report::{Row, setting};
use crate::resident::{reset_peak, resident};

/// Set in a child process: which side to run (`sdk` or `baseline`).
const SIDE: &str = "SCALE_FULL_SIDE";

/// In a child process: runs its side and prints `growth_kib records seconds`; `None` when this
/// process is not such a child.
pub(crate) fn child_main() -> Option<()> {
    let side = std::env::var(SIDE).ok()?;
    let fake_url = std::env::var("SCALE_FAKE_URL").unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(async {
        let dir = std::env::temp_dir().join(format!("integrations-full-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (tenant, connection) = (TenantId::new("big").unwrap(), ConnectionId::new("hr").unwrap());
        let config = FakeBambooHr::config_at(&fake_url, tenant.clone(), connection.clone());
        // Everything but the sync itself is set up before the size is taken.
        let store = SqlStore::sqlite(dir.join("full.db")).await.unwrap();
        let adapter = integration_hris::build(&config, &BuildContext::default()).unwrap();
        let engine = SyncEngine::new(Arc::new(store.clone()), Arc::new(store.clone()), "full");
        let client = reqwest::Client::new();
        let (_, before) = resident();
        reset_peak();
        let started = Instant::now();
        let records = if side == "sdk" {
            let job = SyncJob::new(tenant, connection, "employees", SyncMode::FullRefresh);
            let run = engine.run(adapter.as_ref(), &job, &CancellationToken::new()).await.unwrap();
            run.counts.added
        } else {
            crate::baseline::fetch_report(&client, &fake_url).await as u64
        };
        let took = started.elapsed().as_secs_f64();
        let (peak, _) = resident();
        println!("{} {records} {took}", peak.saturating_sub(before));
        let _ = std::fs::remove_dir_all(&dir);
    });
    Some(())
}

/// Runs `side` in a child process; its growth (MiB), records and seconds.
async fn side(fake: &FakeBambooHr, side: &str) -> (f64, u64, f64) {
    // `SCALE_FULL_WRAP="heaptrack -o /tmp/full"` runs each side under a profiler.
    let exe = std::env::current_exe().unwrap();
    let wrap = std::env::var("SCALE_FULL_WRAP").unwrap_or_default();
    let mut words = wrap.split_whitespace();
    let mut command = match words.next() {
        Some(tool) => {
            let mut c = tokio::process::Command::new(tool);
            c.args(words).arg(&exe);
            c
        }
        None => tokio::process::Command::new(&exe),
    };
    let out = command
        .env(SIDE, side)
        .env("SCALE_FAKE_URL", fake.base_url())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .output()
        .await
        .unwrap();
    assert!(out.status.success(), "the {side} side failed: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    // The side's line: three numbers (a profiler prints lines of its own around it).
    let (growth, records, took) = text
        .lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            match f.as_slice() {
                [g, r, t] => Some((g.parse::<f64>().ok()?, r.parse::<u64>().ok()?, t.parse::<f64>().ok()?)),
                _ => None,
            }
        })
        .next_back()
        .unwrap_or_else(|| panic!("the {side} side printed no figures: {text}"));
    (growth / 1024.0, records, took)
}

pub(crate) async fn large_full_sync(rows: &mut Vec<Row>) {
    let people = setting("SCALE_FULL_PEOPLE", 50_000);
    let fake = FakeBambooHr::start(People::generate(29, people)).await;
    let (sdk, records, took) = side(&fake, "sdk").await;
    let (baseline, fetched, fetch_took) = side(&fake, "baseline").await;
    rows.push(Row {
        what: format!("one full sync of {people} BambooHR employees (one report) into SQLite"),
        result: format!(
            "{records} records in {took:.1} s; the process grew {sdk:.0} MiB at its peak; baseline (the report fetched and parsed into serde_json values, {fetched} records in {fetch_took:.1} s): {baseline:.0} MiB — {:.1}× as much",
            sdk / baseline
        ),
        target: "bounded: a page parsed and written, not held whole",
    });
}
