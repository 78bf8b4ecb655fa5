//! Any API, connected through its provider spec: a request the typed API does not cover, sent
//! with the connection's credentials and policies, the answer kept as it came; and a resource
//! paged by the spec. Run it with `cargo run --example passthrough`.
//!
//! The provider here is a fake on 127.0.0.1 (from the testkit's fake kit) standing for an API
//! with bearer tokens and cursor paging; its spec is written below as a host would write one
//! for an API the SDK does not ship. A catalog spec works the same way:
//! `integrations::spec::catalog_spec("stripe")`.

use integration_testkit::fake::{app::FakeApi, auth::Auth, collection::Collection, dataset::Dataset, paging::Paging};
use integrations::spec::{Passthrough, ProviderSpec, SpecClient, catalog};
use integrations::{BuildContext, ConnectionId, Domain, IntegrationConfig, ProviderId, TenantId};
use serde_json::json;

const SPEC: &str = r#"
id = "ledgerly"
name = "Ledgerly"
domains = ["accounting"]
docs = "https://ledgerly.example.com/docs/api"
base_url = "https://api.ledgerly.example.com"

[[secrets]]
key = "api_token"
description = "An API token (Settings → Developers)"

[auth]
kind = "bearer"
token = "{api_token}"

[pagination]
style = "cursor"
records = "/data"
limit_param = "limit"
max_limit = 100
cursor_param = "cursor"
next_cursor = "/next_cursor"

[check]
path = "/v1/invoices"
"#;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The provider: five invoices behind a bearer token.
    let invoices = Dataset::starting_at(1001);
    for amount in [120, 80, 310, 45, 990] {
        invoices.add(amount);
    }
    let api = FakeApi::new(Auth::Bearer("ldg_live_4f9a".into()));
    let render =
        |i: &integration_testkit::fake::dataset::Record<i32>| json!({"id": i.id.to_string(), "amount": i.value});
    let server = api.serve(Collection::new(invoices, Paging::Cursor, render).router("/v1/invoices")).await;

    // The connection: the spec, and a configuration (pointed at the fake with `base_url`).
    let spec = ProviderSpec::parse(SPEC)?;
    let config = IntegrationConfig::new(
        TenantId::new("acme")?,
        ConnectionId::new("ledgerly")?,
        Domain::Accounting,
        ProviderId::new("ledgerly")?,
    )
    .with_setting("base_url", server.base_url())
    .with_secret("api_token", "ldg_live_4f9a");
    let ledgerly = SpecClient::new(spec, &config, &BuildContext::default())?;
    ledgerly.check().await?;

    // Passthrough: any request, the answer as it came.
    let one = ledgerly.passthrough(Passthrough::get("/v1/invoices/1003")).await?;
    println!("GET /v1/invoices/1003 → {} {}", one.status, String::from_utf8_lossy(&one.body));
    let missing = ledgerly.passthrough(Passthrough::get("/v1/invoices/7")).await?;
    println!("GET /v1/invoices/7    → {} {}", missing.status, String::from_utf8_lossy(&missing.body));
    let elsewhere = ledgerly.passthrough(Passthrough::get("https://attacker.example.net/collect")).await;
    if let Err(refused) = elsewhere {
        println!("another host          → refused: {refused}");
    }

    // Paging by the spec.
    let (mut total, mut at) = (0, None);
    loop {
        let page = ledgerly.page("/v1/invoices", at.as_deref(), Some(2)).await?;
        total += page.records.iter().filter_map(|r| r["amount"].as_i64()).sum::<i64>();
        match page.next {
            Some(next) => at = Some(next),
            None => break,
        }
    }
    println!("all invoices, two a page: {total} in total");
    println!("the catalog ships {} API specs", catalog().len());
    Ok(())
}
