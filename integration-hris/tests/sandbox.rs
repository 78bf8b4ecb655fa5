//! The read-only HRIS contract against real provider sandboxes. Ignored by default; run with the
//! provider's credentials in the environment:
//!
//! ```text
//! BAMBOOHR_COMPANY_DOMAIN=acme BAMBOOHR_API_KEY=... \
//!   cargo test -p integration-hris --test sandbox -- --ignored bamboohr
//! ```
//!
//! Run with `--ignored` but without the variables, a test fails and names what is missing.
#![allow(clippy::unwrap_used)]

use integration_core::{BuildContext, ConnectionId, Domain, IntegrationConfig, ProviderId, TenantId};

/// The variables `names`, or a failure naming the missing ones.
fn env(names: &[&str]) -> Vec<String> {
    let missing: Vec<&str> =
        names.iter().copied().filter(|n| std::env::var(n).map_or(true, |v| v.is_empty())).collect();
    assert!(missing.is_empty(), "set {} to run this sandbox test", missing.join(", "));
    names.iter().map(|n| std::env::var(n).unwrap_or_default()).collect()
}

fn config(provider: &str) -> IntegrationConfig {
    IntegrationConfig::new(
        TenantId::new("sandbox").unwrap(),
        ConnectionId::new(provider).unwrap(),
        Domain::Hris,
        ProviderId::new(provider).unwrap(),
    )
}

#[cfg(feature = "bamboohr")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs BAMBOOHR_COMPANY_DOMAIN and BAMBOOHR_API_KEY"]
async fn bamboohr() {
    let vars = env(&["BAMBOOHR_COMPANY_DOMAIN", "BAMBOOHR_API_KEY"]);
    let config =
        config("bamboohr").with_setting("company_domain", vars[0].clone()).with_secret("api_key", vars[1].clone());
    let hris = integration_hris::build(&config, &BuildContext::default()).expect("a valid configuration");
    let run = integration_testkit::contract::hris::sandbox(hris, true).await;
    println!("BambooHR sandbox: {:?}", run.counts);
}

#[cfg(feature = "workday")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs WORKDAY_HOST, WORKDAY_TENANT, WORKDAY_CLIENT_ID, WORKDAY_CLIENT_SECRET and WORKDAY_REFRESH_TOKEN"]
async fn workday() {
    let vars =
        env(&["WORKDAY_HOST", "WORKDAY_TENANT", "WORKDAY_CLIENT_ID", "WORKDAY_CLIENT_SECRET", "WORKDAY_REFRESH_TOKEN"]);
    let config = config("workday")
        .with_setting("base_url", vars[0].clone())
        .with_setting("tenant", vars[1].clone())
        .with_secret("client_id", vars[2].clone())
        .with_secret("client_secret", vars[3].clone())
        .with_secret("refresh_token", vars[4].clone());
    let hris = integration_hris::build(&config, &BuildContext::default()).expect("a valid configuration");
    let run = integration_testkit::contract::hris::sandbox(hris, true).await;
    println!("Workday sandbox: {:?}", run.counts);
}

/// Reads `path`, failing with the variable's name when it cannot.
#[cfg(feature = "adp")]
fn file(variable: &str, path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{variable}={path}: {e}"))
}

/// The employee change listing is not run: ADP's event notifications are a queue that reading
/// acknowledges, and a sandbox's queue belongs to its owner.
#[cfg(feature = "adp")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs ADP_CLIENT_ID, ADP_CLIENT_SECRET, ADP_CERTIFICATE_FILE and ADP_KEY_FILE"]
async fn adp() {
    let vars = env(&["ADP_CLIENT_ID", "ADP_CLIENT_SECRET", "ADP_CERTIFICATE_FILE", "ADP_KEY_FILE"]);
    let config = config("adp")
        .with_setting("client_id", vars[0].clone())
        .with_secret("client_secret", vars[1].clone())
        .with_secret("client_certificate", file("ADP_CERTIFICATE_FILE", &vars[2]))
        .with_secret("client_key", file("ADP_KEY_FILE", &vars[3]));
    let hris = integration_hris::build(&config, &BuildContext::default()).expect("a valid configuration");
    let run = integration_testkit::contract::hris::sandbox(hris, false).await;
    println!("ADP sandbox: {:?}", run.counts);
}
