//! The admin console in a real browser (Debian's headless Chromium driven by npm
//! playwright-core), against `examples/admin.rs`'s world: connect the Google Drive fake through
//! the page's OAuth flow and see it healthy; make BambooHR's syncs fail and see the failed runs
//! listed first and the notification; dead-letter a webhook, replay it from the page and see it
//! processed. Every page and JSON answer is searched for the secrets. Screenshots are kept under
//! the test's output folder (`target/tmp/admin-browser/`).

#![allow(clippy::unwrap_used)]

#[path = "../examples/admin.rs"]
mod admin;

use std::time::Duration;

use integration_core::store::{
    DeliveryQuery, DeliveryStatus, DeliveryStore, RecordStore, RunQuery, RunStatus, StateStore,
};
use integration_core::{ConnectionId, ConnectionStatus};
use integration_testkit::fake::faults::Fault;
use integration_testkit::poll::eventually;

fn the_console_works_in_a_real_browser() {
    // The harness installed it (or reported this test ignored, with the reason).
    let browser = integration_testkit::peers::Browser::install().expect("the browser is installed");
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let dir = std::env::temp_dir().join(format!("integrations-admin-browser-{}", std::process::id()));
    let out = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("admin-browser");
    runtime.block_on(async {
        let served = admin::serve(&dir).await.unwrap();
        let config = served.bamboohr.config(served.tenant.clone(), ConnectionId::new("x").unwrap());
        let api_key = secrecy::ExposeSecret::expose_secret(config.secret("api_key").unwrap()).to_owned();
        let secrets = serde_json::json!([
            api_key,
            integration_testkit::fake::google_drive::CLIENT_SECRET,
            integration_testkit::fake::google_drive::REFRESH_TOKEN,
            served.session,
        ]);
        let phase = |name: &'static str, args: serde_json::Value| {
            let browser = browser.clone();
            let env = vec![
                ("CONSOLE_LOGIN", served.login.clone()),
                ("OUT_DIR", out.display().to_string()),
                ("SECRETS", secrets.to_string()),
                ("PHASE_ARGS", args.to_string()),
            ];
            async move {
                let report = tokio::task::spawn_blocking(move || browser.run(name, &env)).await.unwrap();
                report.unwrap_or_else(|why| panic!("phase {name}: {why}"))
            }
        };
        let tenant = served.tenant.clone();
        let hr = ConnectionId::new("bamboohr").unwrap();
        let succeeded = eventually(Duration::from_secs(30), || async {
            let runs = served.store.list_runs(&tenant, &RunQuery::new().connection(hr.clone())).await.unwrap();
            runs.iter().any(|r| r.status == RunStatus::Succeeded).then_some(())
        })
        .await;
        assert!(succeeded.is_some(), "the first scheduled sync ran");

        // 1. Connect Google Drive through the page and the provider's consent page.
        let report = phase("connect", serde_json::json!({})).await;
        assert!(report["checked"].as_u64().unwrap() >= 8, "{report}");
        let drive = ConnectionId::new("google_drive").unwrap();
        let stored =
            integration_core::store::ConfigStore::get(served.store.as_ref(), &tenant, &drive).await.unwrap().unwrap();
        assert_eq!(stored.status, ConnectionStatus::Active);

        // 2. BambooHR answers 400 three times: three syncs started from the page fail.
        served.bamboohr.faults().inject(Fault::ServerError(400), 3);
        phase("sync-fails", serde_json::json!({})).await;
        let failed = served.store.list_runs(&tenant, &RunQuery::new().connection(hr.clone())).await.unwrap();
        assert!(failed.iter().filter(|r| r.status == RunStatus::Failed).count() >= 3);

        // 3. A hire's webhook arrives while BambooHR fails to answer for that employee: the
        //    worker gives up after three attempts; replayed from the page once BambooHR is back.
        let hired = served.bamboohr.people().hire("Grace", "Hopper");
        served.bamboohr.faults().inject_on(&format!("/employees/{hired}"), Fault::ServerError(400), 50);
        assert_eq!(served.bamboohr.deliver_webhooks().await, vec![200]);
        let dead = eventually(Duration::from_secs(30), || async {
            let query = DeliveryQuery::new().status(DeliveryStatus::DeadLettered);
            served.store.list_deliveries(&tenant, &query).await.unwrap().into_iter().next()
        })
        .await
        .expect("the delivery is dead-lettered");
        served.bamboohr.faults().clear();
        phase("replay", serde_json::json!({"delivery": dead.id.to_string()})).await;
        let replayed = served.store.delivery(&tenant, dead.id).await.unwrap().unwrap();
        assert_eq!(replayed.status, DeliveryStatus::Processed);
        let cached = served
            .store
            .record(
                &integration_core::store::StreamScope::new(tenant.clone(), hr.clone(), "employees"),
                &hired.to_string(),
            )
            .await
            .unwrap();
        assert!(cached.is_some(), "the replayed webhook put the hire in the cache");
        // The SDK's metrics, through the host's exporter.
        let metrics = reqwest::get(served.console.replace("/admin/", "/metrics")).await.unwrap().text().await.unwrap();
        for name in [
            "integrations_sync_runs_total",
            "integrations_http_requests_total",
            "integrations_webhook_deliveries_total",
            "integrations_notifications_total",
        ] {
            assert!(metrics.contains(name), "/metrics has {name}: {metrics}");
        }
        assert!(!metrics.contains(tenant.as_str()), "no tenant in a label");
        for shot in ["connected.png", "sync-failed.png", "dead-letter.png", "replayed.png"] {
            assert!(out.join(shot).exists(), "{shot} was taken");
        }
        served.shutdown.cancel();
    });
    let _ = std::fs::remove_dir_all(&dir);
}

fn main() -> std::process::ExitCode {
    use integration_testkit::harness::{self, Need};
    harness::run(&[Need::browser()], integration_testkit::trials![sync the_console_works_in_a_real_browser])
}
