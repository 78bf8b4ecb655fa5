//! The QuickBooks Online adapter against the testkit's QuickBooks fake: the generic and the
//! accounting contracts, and what is QuickBooks' own — the query language's paging and name
//! lists, change data capture's 30-day window and 1,000-object cap, rotating refresh tokens.

use std::sync::Arc;

use async_trait::async_trait;
use integration_accounting::{Accounting, Currency, Decimal, LineInput};
use integration_core::webhook::WebhookSecret;
use integration_core::{BuildContext, ConnectionId, Integration, TenantId, WebhookScheme};
use integration_testkit::contract::accounting::AccountingFixture;
use integration_testkit::contract::harness::{Fake, Fixture, Malformed, SignedDelivery};
use integration_testkit::fake::quickbooks::{FakeQuickBooks, VERIFIER_TOKEN};
use serde_json::json;

struct QuickBooksFixture {
    fake: FakeQuickBooks,
    adapter: Arc<dyn Accounting>,
}

fn ids() -> (TenantId, ConnectionId) {
    (TenantId::new("acme").expect("tenant"), ConnectionId::new("books").expect("connection"))
}

#[async_trait]
impl Fixture for QuickBooksFixture {
    async fn start(seed: u64, size: usize) -> Self {
        let fake = FakeQuickBooks::start(seed, size).await;
        let (tenant, connection) = ids();
        let adapter = integration_accounting::build(&fake.config(tenant, connection), &BuildContext::default())
            .expect("the typed build");
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
    fn malformed(&self) -> Vec<Malformed> {
        vec![
            Malformed { provider_field: "TotalAmt", value: json!("lots"), expected_field: "TotalAmt" },
            Malformed { provider_field: "TxnDate", value: json!("31/02/2026"), expected_field: "TxnDate" },
            Malformed {
                provider_field: "CurrencyRef",
                value: json!({"value": "ZZZ"}),
                expected_field: "CurrencyRef.value",
            },
        ]
    }
    fn recovers_expired_credentials(&self) -> bool {
        true
    }
    fn pages_by_offset(&self) -> bool {
        true
    }
    async fn take_webhook(&self) -> Option<SignedDelivery> {
        let (headers, body) = self.fake.take_webhook()?;
        Some(SignedDelivery {
            scheme: WebhookScheme::Intuit,
            secret: WebhookSecret::new(VERIFIER_TOKEN),
            headers,
            body,
        })
    }
}

#[async_trait]
impl AccountingFixture for QuickBooksFixture {
    fn accounting(&self) -> Arc<dyn Accounting> {
        self.adapter.clone()
    }
    fn sale(&self) -> (String, LineInput) {
        ("2".into(), LineInput::new("Design work", Decimal::new(3, 0), Decimal::new(12_050, 2)).item("1"))
    }
    fn account(&self) -> String {
        "8".into()
    }
    fn writes(&self) -> u64 {
        self.fake.writes()
    }
    fn create_path(&self) -> String {
        "/invoice".into()
    }
    fn currency(&self) -> Currency {
        Currency::USD
    }
}

integration_testkit::accounting_contract_suite!(QuickBooksFixture);
