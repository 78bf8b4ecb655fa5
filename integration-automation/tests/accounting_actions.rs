//! The accounting writes as actions, against the QuickBooks fake: a step run twice (same
//! idempotency key, as after a crash) creates one invoice; inputs are checked by the schema and
//! by the domain before anything is sent.
#![cfg(feature = "accounting")]

use std::sync::Arc;

use integration_automation::accounting::{StaticAccounting, actions};
use integration_automation::{ActionCall, Actions};
use integration_core::{AutomationRunId, BuildContext, ConnectionId, ErrorKind, TenantId};
use integration_testkit::fake::quickbooks::FakeQuickBooks;
use serde_json::json;

async fn setup(seed: u64) -> (FakeQuickBooks, Actions, TenantId) {
    let fake = FakeQuickBooks::start(seed, 2).await;
    let (tenant, connection) =
        (TenantId::new("acme").expect("tenant"), ConnectionId::new("books").expect("connection"));
    let books =
        integration_accounting::build(&fake.config(tenant.clone(), connection.clone()), &BuildContext::default())
            .expect("built");
    let connections = StaticAccounting::new();
    connections.insert(tenant.clone(), connection, books);
    let mut registry = Actions::new();
    for action in actions(Arc::new(connections)) {
        registry = registry.with(action).expect("registered");
    }
    (fake, registry, tenant)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_invoice_step_run_twice_makes_one_invoice() {
    let (fake, registry, tenant) = setup(51).await;
    let input = json!({"connection": "books", "invoice": {
        "contact_id": "3", "currency": "USD", "number": "AUTO-1",
        "lines": [{"description": "Support plan", "item_id": "1", "quantity": "1", "unit_price": "499.00"}]
    }});
    let action = registry.get("accounting.create_invoice").expect("the action");
    registry.schema_of("accounting.create_invoice").expect("schema").check(&input, "input").expect("valid input");
    let run = AutomationRunId::new();
    let first =
        action.run(ActionCall::new(tenant.clone(), run, "bill-customer", input.clone())).await.expect("created");
    let again = action.run(ActionCall::new(tenant, run, "bill-customer", input)).await.expect("the same answer");
    assert_eq!(first["remote_id"], again["remote_id"]);
    assert_eq!(first["total"], "499.00");
    assert_eq!(fake.invoices().live().len(), 3, "one invoice for two runs of the step");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unbalanced_entry_is_refused_naming_it() {
    let (fake, registry, tenant) = setup(52).await;
    let writes = fake.writes();
    let input = json!({"connection": "books", "entry": {
        "number": "JE-9", "date": "2026-12-31", "currency": "USD",
        "lines": [{"account_id": "8", "amount": "100.00"}, {"account_id": "1", "amount": "-90.00"}]
    }});
    let action = registry.get("accounting.post_journal_entry").expect("the action");
    let error =
        action.run(ActionCall::new(tenant, AutomationRunId::new(), "accrue", input)).await.expect_err("refused");
    assert_eq!((error.kind(), error.field()), (ErrorKind::Validation, Some("lines")), "{error}");
    assert!(error.to_string().contains("JE-9"));
    assert_eq!(fake.writes(), writes, "nothing sent");
    let wrong =
        registry.schema_of("accounting.void_invoice").expect("schema").check(&json!({"connection": "books"}), "input");
    assert!(wrong.is_err(), "the schema asks for the invoice and its version");
}
