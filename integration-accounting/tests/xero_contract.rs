//! The Xero adapter against the testkit's Xero fake: the generic and the accounting contracts,
//! and what is Xero's own — its organisations, its rate limit, its missing concurrency check,
//! its webhooks' intent to receive, paging by change time.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use integration_accounting::xero::Xero;
use integration_accounting::{Accounting, Adapter, Currency, Decimal, InvoiceUpdate, LineInput, ListRequest};
use integration_core::webhook::WebhookSecret;
use integration_core::{BuildContext, ConnectionId, ErrorKind, Integration, TenantId, WebhookScheme};
use integration_testkit::contract::accounting::AccountingFixture;
use integration_testkit::contract::harness::{Fake, Fixture, Malformed, SignedDelivery};
use integration_testkit::fake::xero::{FakeXero, TENANT_ID, WEBHOOK_KEY, xero_id};
use serde_json::json;

/// A context whose HTTP policy keeps no rate limit of its own: the fake's limit is what a test
/// sets.
fn context() -> BuildContext {
    BuildContext::default().with_http_policy(|_, mut policy| {
        policy.rate_limit = None;
        policy
    })
}

fn ids() -> (TenantId, ConnectionId) {
    (TenantId::new("acme").expect("tenant"), ConnectionId::new("books").expect("connection"))
}

struct XeroFixture {
    fake: FakeXero,
    adapter: Arc<dyn Accounting>,
}

#[async_trait]
impl Fixture for XeroFixture {
    async fn start(seed: u64, size: usize) -> Self {
        let fake = FakeXero::start(seed, size).await.with_limit(100_000, Duration::from_secs(60));
        let (tenant, connection) = ids();
        let adapter =
            integration_accounting::build(&fake.config(tenant, connection), &context()).expect("the typed build");
        Self { fake, adapter }
    }
    fn integration(&self) -> Arc<dyn Integration> {
        self.adapter.clone()
    }
    fn stream(&self) -> String {
        "invoices".into()
    }
    fn fake(&self) -> &dyn Fake {
        &self.fake
    }
    fn remote_id(&self, id: u64) -> String {
        xero_id("Invoices", id)
    }
    fn malformed(&self) -> Vec<Malformed> {
        vec![
            Malformed { provider_field: "Total", value: json!("lots"), expected_field: "Total" },
            Malformed { provider_field: "Date", value: json!("/Date(yesterday)/"), expected_field: "Date" },
            Malformed { provider_field: "CurrencyCode", value: json!("ZZZ"), expected_field: "CurrencyCode" },
        ]
    }
    fn recovers_expired_credentials(&self) -> bool {
        true
    }
    async fn take_webhook(&self) -> Option<SignedDelivery> {
        let (headers, body) = self.fake.take_webhook()?;
        Some(SignedDelivery { scheme: WebhookScheme::Xero, secret: WebhookSecret::new(WEBHOOK_KEY), headers, body })
    }
}

#[async_trait]
impl AccountingFixture for XeroFixture {
    fn accounting(&self) -> Arc<dyn Accounting> {
        self.adapter.clone()
    }
    fn sale(&self) -> (String, LineInput) {
        (
            xero_id("Contacts", 2),
            LineInput::new("Design work", Decimal::new(3, 0), Decimal::new(12_050, 2)).account("200"),
        )
    }
    fn account(&self) -> String {
        "429".into()
    }
    fn writes(&self) -> u64 {
        self.fake.writes()
    }
    fn create_path(&self) -> String {
        "/Invoices".into()
    }
    fn currency(&self) -> Currency {
        Currency::NZD
    }
    fn deposit_account(&self) -> Option<String> {
        Some("090".into())
    }
}

integration_testkit::accounting_contract_suite!(XeroFixture);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_names_the_organisation_and_refuses_one_the_token_cannot_reach() {
    let fake = FakeXero::start(61, 1).await;
    let (tenant, connection) = ids();
    let xero = Xero::from_config(&fake.config(tenant.clone(), connection.clone()), &context()).expect("built");
    let info = xero.connect().await.expect("connected");
    assert_eq!(
        (info.account_id.as_deref(), info.account_name.as_deref()),
        (Some(TENANT_ID), Some("Demo Company (NZ)"))
    );
    let organisations = xero.organisations().await.expect("the organisations");
    assert_eq!(organisations.iter().map(|o| o.tenant_id.as_str()).collect::<Vec<_>>(), [TENANT_ID]);

    // The first connection rotated the refresh token: a second one starts from the current one.
    let current = fake.current_refresh_token().expect("a refresh token");
    let elsewhere = fake
        .config(tenant, connection)
        .with_setting("tenant_id", "00000000-0000-0000-0000-000000000000")
        .with_secret("refresh_token", current);
    let xero = Xero::from_config(&elsewhere, &context()).expect("built");
    let error = xero.connect().await.expect_err("not reachable");
    assert_eq!((error.kind(), error.field()), (ErrorKind::Config, Some("settings.tenant_id")), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_is_waited_out_as_retry_after_says() {
    let fake = FakeXero::start(62, 3).await.with_limit(2, Duration::from_secs(1));
    let (tenant, connection) = ids();
    let books = integration_accounting::build(&fake.config(tenant, connection), &context()).expect("built");
    for _ in 0..4 {
        let page = books.invoices(ListRequest::first()).await.expect("served after waiting out the limit");
        assert_eq!(page.items.len(), 3);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_between_read_and_update_is_a_conflict_though_xero_has_no_check() {
    let fake = FakeXero::start(63, 2).await.with_limit(100_000, Duration::from_secs(60));
    let (tenant, connection) = ids();
    let books = integration_accounting::build(&fake.config(tenant, connection), &context()).expect("built");
    let id = xero_id("Invoices", 1);
    let read = books.invoice(&id).await.expect("read");
    // Someone edits the invoice in Xero.
    assert!(fake.edit(1));
    let mut update = InvoiceUpdate::on(read.fields.version.clone().expect("a version"));
    update.reference = Some("PO-lost".into());
    let error = books.update_invoice(&id, &update).await.expect_err("changed since it was read");
    assert_eq!(error.kind(), ErrorKind::Conflict);
    assert_eq!(books.invoice(&id).await.expect("read").fields.reference.as_deref(), Some("due date moved"));
    let mut memo = InvoiceUpdate::on(books.invoice(&id).await.expect("read").fields.version.expect("version"));
    memo.memo = Some("an internal note".into());
    let refused = books.update_invoice(&id, &memo).await.expect_err("Xero invoices have no internal note");
    assert_eq!((refused.kind(), refused.field()), (ErrorKind::Validation, Some("memo")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_by_change_time_misses_no_invoice_updated_during_a_pass() {
    let fake = FakeXero::start(64, 250).await.with_limit(100_000, Duration::from_secs(60));
    let (tenant, connection) = ids();
    let books = integration_accounting::build(&fake.config(tenant, connection), &context()).expect("built");
    let (mut seen, mut request) = (BTreeSet::new(), ListRequest::first());
    let mut pages = 0;
    loop {
        let page = books.invoices(request.clone()).await.expect("a page");
        seen.extend(page.items.iter().map(|i| i.remote_id.clone()));
        pages += 1;
        if pages == 1 {
            // Invoices of the first page change while the pass goes on: they move to the end.
            for id in 1..=20 {
                fake.edit(id);
            }
        }
        match page.next {
            Some(next) => request = request.at(Some(next)),
            None => break,
        }
        assert!(pages < 50, "the pass ends");
    }
    let all: BTreeSet<String> = (1..=250).map(|id| xero_id("Invoices", id)).collect();
    assert_eq!(seen, all, "every invoice seen once at least");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_intent_to_receive_changes_nothing_and_other_organisations_are_ignored() {
    let fixture = XeroFixture::start(65, 2).await;
    let empty = br#"{"events":[],"lastEventSequence":0,"firstEventSequence":0,"entropy":"S0m3r4Nd0mt3xt"}"#;
    let webhook =
        integration_core::VerifiedWebhook::trusted(Default::default(), empty.to_vec(), None, chrono::Utc::now());
    let outcome = fixture.adapter.handle_webhook(webhook).await.expect("handled");
    assert!(outcome.changes.is_empty() && outcome.events.is_empty());
    let other = json!({"events": [{"resourceUrl": "x", "resourceId": xero_id("Invoices", 1), "eventDateUtc": "2026-01-01T00:00:00.000",
        "eventType": "UPDATE", "eventCategory": "INVOICE", "tenantId": "someone-else", "tenantType": "ORGANISATION"}],
        "firstEventSequence": 1, "lastEventSequence": 1, "entropy": "x"});
    let webhook = integration_core::VerifiedWebhook::trusted(
        Default::default(),
        other.to_string().into_bytes(),
        None,
        chrono::Utc::now(),
    );
    assert!(fixture.adapter.handle_webhook(webhook).await.expect("handled").changes.is_empty());
}
