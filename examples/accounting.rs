//! Accounting end to end: `cargo run --example accounting`. No credentials, nothing to install.
//!
//! 1. starts the testkit's QuickBooks Online fake on loopback (a company with six invoices) and
//!    connects to it — OAuth2 with rotating refresh tokens, as QuickBooks does;
//! 2. syncs the `invoices` and `accounts` streams into a store;
//! 3. creates an invoice and records a payment of part of it — each with an operation key, so a
//!    rerun makes no second invoice and no second payment;
//! 4. reconciles the company's invoices with its payments and with a host's bank feed, and
//!    prints the report; each match is an audit event naming its rule.

use std::error::Error;
use std::sync::Arc;

use chrono::NaiveDate;
use integration_accounting::reconcile::{Entry, Reconciler};
use integration_accounting::{
    Currency, Decimal, InvoiceInput, LineInput, ListRequest, Listing, OperationKey, PaymentApplication, PaymentInput,
};
use integration_core::store::{AuditAction, MemoryStore};
use integration_core::{BuildContext, CancellationToken, ConnectionId, SyncEngine, SyncJob, SyncMode, TenantId};
use integration_testkit::fake::quickbooks::FakeQuickBooks;

/// Every page of a listing.
async fn all<T, F, Fut>(list: F) -> Result<Vec<integration_accounting::Remote<T>>, integration_core::Error>
where
    F: Fn(ListRequest) -> Fut,
    Fut: std::future::Future<Output = integration_core::Result<Listing<T>>>,
{
    let (mut items, mut request) = (Vec::new(), ListRequest::first());
    loop {
        let page = list(request.clone()).await?;
        items.extend(page.items);
        match page.next {
            Some(next) => request = request.at(Some(next)),
            None => return Ok(items),
        }
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn Error>> {
    // 1. The company, and a connection to it.
    let fake = FakeQuickBooks::start(7, 6).await;
    let (tenant, connection) = (TenantId::new("acme")?, ConnectionId::new("books")?);
    let config = fake.config(tenant.clone(), connection.clone());
    let books = integration_accounting::build(&config, &BuildContext::default())?;
    let info = books.connect().await?;
    println!("connected to QuickBooks company {}", info.account_id.unwrap_or_default());

    // 2. A first sync of two streams.
    let store = Arc::new(MemoryStore::new());
    let engine = SyncEngine::new(store.clone(), store.clone(), "worker-1");
    for stream in ["invoices", "accounts"] {
        let job = SyncJob::new(tenant.clone(), connection.clone(), stream, SyncMode::FullRefresh);
        let run = engine.run(books.as_ref(), &job, &CancellationToken::new()).await?;
        println!("synced {stream}: {} added, status {:?}", run.counts.added, run.status);
    }

    // 3. An invoice for three days of design work, and a payment of half of it.
    let line = LineInput::new("Design work (days)", Decimal::new(3, 0), Decimal::new(80_000, 2)).item("1");
    let mut invoice = InvoiceInput::new("2", Currency::USD, vec![line]);
    invoice.number = Some("WEB-2001".into());
    let created = books.create_invoice(&OperationKey::new("example:invoice:WEB-2001")?, &invoice).await?;
    let again = books.create_invoice(&OperationKey::new("example:invoice:WEB-2001")?, &invoice).await?;
    assert_eq!(created.remote_id, again.remote_id, "the same operation is the same invoice");
    println!("invoice {} for {} {}", created.remote_id, created.fields.total, created.fields.currency.code());
    let date = NaiveDate::from_ymd_opt(2026, 12, 7).ok_or("a date")?;
    let half = created.fields.total / Decimal::TWO;
    let applications = vec![PaymentApplication::new(created.remote_id.clone(), half)];
    let payment = PaymentInput::new("2", date, half, Currency::USD, applications);
    let paid = books.record_payment(&OperationKey::new("example:payment:WEB-2001:1")?, &payment).await?;
    println!("payment {} of {} applied", paid.remote_id, paid.fields.amount);

    // 4. Reconciliation: the company's invoices against its payments and a host's bank feed.
    let invoices = all(|r| books.invoices(r)).await?;
    let payments = all(|r| books.payments(r)).await?;
    let owed: Vec<Entry> = invoices.iter().filter_map(Entry::from_invoice).collect();
    let mut paid: Vec<Entry> = payments.iter().filter_map(Entry::from_payment).collect();
    // The host's bank feed: a transfer quoting the first invoice's number, and one nobody knows.
    let first = &invoices[0].fields;
    let quoted = format!("Payment for inv {}", first.number.clone().unwrap_or_default());
    paid.push(
        Entry::paid("bank-7731", first.total, first.currency)
            .reference(first.number.clone().unwrap_or_default())
            .reference(quoted),
    );
    paid.push(Entry::paid("bank-7732", Decimal::new(4_210, 2), Currency::USD).reference("REFUND ACME"));
    let report = Reconciler::new().reconcile(&owed, &paid);
    print!("{}", report.table());
    report.audit(store.as_ref(), &tenant, &connection).await?;
    let audited = store.audit_events(&tenant);
    let matches = audited.iter().filter(|e| e.action == AuditAction::RecordsMatched).count();
    println!("{matches} matches audited");
    assert_eq!(matches, report.matches.len());
    Ok(())
}

#[cfg(test)]
mod tests {
    /// The example runs to the end: its own assertions (one invoice per operation, every match
    /// audited) hold.
    #[test]
    fn the_example_runs() {
        super::main().expect("the example runs");
    }
}
