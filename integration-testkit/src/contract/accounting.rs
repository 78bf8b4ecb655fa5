//! The accounting contract: the generic contract on the invoices stream, plus what every
//! accounting adapter's writes must hold — checked against its fake.
//!
//! | rule | what it checks |
//! |---|---|
//! | `a_create_retried_after_a_lost_answer_makes_one_invoice` | the fake applies a create and its answer is lost: the adapter's retry (same idempotency key) answers the invoice, and the fake holds one more invoice, not two |
//! | `the_same_operation_twice_is_one_invoice` | a caller repeating a create with the same operation key gets the same invoice |
//! | `a_stale_update_is_a_conflict_and_changes_nothing` | an update made on a version that has changed since is `Conflict`, and the provider's invoice is as it was |
//! | `payments_reduce_what_invoices_owe` | a payment applied to an invoice leaves it partially paid, then paid |
//! | `a_voided_invoice_is_kept_worth_nothing` | voiding keeps the invoice, status `void` |
//! | `unbalanced_journal_entries_are_refused_before_sending` | the provider sees no write |
//!
//! A fixture implements [`Fixture`] for the invoices stream and
//! [`AccountingFixture`]; [`accounting_contract_suite!`](crate::accounting_contract_suite)
//! expands both suites.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::NaiveDate;
use integration_accounting::{
    Accounting, Currency, Decimal, InvoiceInput, InvoiceStatus, InvoiceUpdate, JournalEntryInput, JournalLine,
    LineInput, OperationKey, PaymentApplication, PaymentInput,
};
use integration_core::ErrorKind;

use super::harness::Fixture;
use crate::fake::faults::Fault;

/// An accounting adapter against its fake, beyond the generic [`Fixture`].
#[async_trait]
pub trait AccountingFixture: Fixture {
    /// The adapter, typed.
    fn accounting(&self) -> Arc<dyn Accounting>;
    /// A customer that can be invoiced, and a line it can be sold.
    fn sale(&self) -> (String, LineInput);
    /// An account a journal entry may post to.
    fn account(&self) -> String;
    /// How many writes the fake has applied.
    fn writes(&self) -> u64;
    /// The path of the provider's invoice create as its fake's faults see it (whose answer the
    /// contract loses).
    fn create_path(&self) -> String;
    /// The invoices' currency.
    fn currency(&self) -> Currency {
        Currency::USD
    }
    /// The account payments are paid into, where the provider wants one named.
    fn deposit_account(&self) -> Option<String> {
        None
    }
}

/// Expands to one `#[tokio::test]` per rule of the generic contract and of the accounting
/// contract for fixture type `$fixture`.
#[macro_export]
macro_rules! accounting_contract_suite {
    ($fixture:ty) => {
        $crate::contract_suite!($fixture);
        $crate::accounting_contract_suite!(@each $fixture;
            a_create_retried_after_a_lost_answer_makes_one_invoice,
            the_same_operation_twice_is_one_invoice,
            a_stale_update_is_a_conflict_and_changes_nothing,
            payments_reduce_what_invoices_owe,
            a_voided_invoice_is_kept_worth_nothing,
            unbalanced_journal_entries_are_refused_before_sending
        );
    };
    (@each $fixture:ty; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                $crate::contract::accounting::$name::<$fixture>().await;
            }
        )*
    };
}

fn key(id: &str) -> OperationKey {
    OperationKey::new(format!("contract:{id}:{}", fastrand::u64(..))).expect("a key")
}

fn invoice_of<F: AccountingFixture>(fixture: &F) -> InvoiceInput {
    let (customer, line) = fixture.sale();
    let mut invoice = InvoiceInput::new(customer, fixture.currency(), vec![line]);
    invoice.memo = Some("contract".into());
    invoice
}

/// The fake applies a create whose answer is then lost on the way: the adapter retries with the
/// same idempotency key and gets the invoice made the first time.
pub async fn a_create_retried_after_a_lost_answer_makes_one_invoice<F: AccountingFixture>() {
    let fixture = F::start(31, 4).await;
    let before = fixture.fake().records().live_ids().len();
    fixture.fake().faults().inject_on(&fixture.create_path(), Fault::TruncatedBody, 1);
    let created = fixture.accounting().create_invoice(&key("lost"), &invoice_of(&fixture)).await.expect("created");
    assert_eq!(fixture.fake().faults().served(), [Fault::TruncatedBody], "the answer was lost once");
    assert_eq!(fixture.fake().records().live_ids().len(), before + 1, "one invoice at the provider, not two");
    assert!(!created.remote_id.is_empty());
}

/// A caller repeating a create with the same operation key gets the same invoice back.
pub async fn the_same_operation_twice_is_one_invoice<F: AccountingFixture>() {
    let fixture = F::start(32, 3).await;
    let (accounting, operation, invoice) = (fixture.accounting(), key("twice"), invoice_of(&fixture));
    let first = accounting.create_invoice(&operation, &invoice).await.expect("created");
    let again = accounting.create_invoice(&operation, &invoice).await.expect("the same answer");
    assert_eq!(first.remote_id, again.remote_id);
    assert_eq!(fixture.fake().records().live_ids().len(), 4);
    let other = accounting.create_invoice(&key("other"), &invoice).await.expect("another invoice");
    assert_ne!(other.remote_id, first.remote_id, "another operation is another invoice");
}

/// An update made on a version changed since is a `Conflict`; the provider's invoice stays.
pub async fn a_stale_update_is_a_conflict_and_changes_nothing<F: AccountingFixture>() {
    let fixture = F::start(33, 3).await;
    let accounting = fixture.accounting();
    let id = fixture.remote_id(fixture.fake().records().live_ids()[0]);
    let read = accounting.invoice(&id).await.expect("the invoice");
    let version = read.fields.version.clone().expect("invoices carry a version");
    let due = read.fields.due_date.unwrap_or_else(|| NaiveDate::from_ymd_opt(2026, 12, 1).expect("a date"));
    let mut update = InvoiceUpdate::on(version.clone());
    update.due_date = Some(due + chrono::Duration::days(14));
    let updated = accounting.update_invoice(&id, &update).await.expect("the first update");
    assert_eq!(updated.fields.due_date, update.due_date);
    assert_ne!(updated.fields.version.as_deref(), Some(version.as_str()), "a write moves the version");
    let mut stale = InvoiceUpdate::on(version);
    stale.due_date = Some(due + chrono::Duration::days(60));
    let error = accounting.update_invoice(&id, &stale).await.expect_err("stale");
    assert_eq!(error.kind(), ErrorKind::Conflict, "{error}");
    let now = accounting.invoice(&id).await.expect("the invoice");
    assert_eq!(now.fields.due_date, update.due_date, "the stale update changed nothing");
    assert_eq!(now.fields.version, updated.fields.version);
}

/// A payment applied to an invoice leaves it partially paid, a second one paid.
pub async fn payments_reduce_what_invoices_owe<F: AccountingFixture>() {
    let fixture = F::start(34, 2).await;
    let accounting = fixture.accounting();
    let invoice = accounting.create_invoice(&key("owed"), &invoice_of(&fixture)).await.expect("created");
    let (total, currency) = (invoice.fields.total, invoice.fields.currency);
    let customer = invoice.fields.contact_id.clone().expect("a customer");
    let date = NaiveDate::from_ymd_opt(2026, 12, 1).expect("a date");
    let part = (total / Decimal::from(4)).round_dp(2);
    let pay = |amount: Decimal| {
        let applications = vec![PaymentApplication::new(invoice.remote_id.clone(), amount)];
        let mut payment = PaymentInput::new(customer.clone(), date, amount, currency, applications);
        payment.account_id = fixture.deposit_account();
        payment
    };
    let payment = accounting.record_payment(&key("part"), &pay(part)).await.expect("a payment");
    assert_eq!(payment.fields.amount, part);
    let after = accounting.invoice(&invoice.remote_id).await.expect("the invoice");
    assert_eq!((after.fields.balance, after.fields.status.clone()), (total - part, InvoiceStatus::PartiallyPaid));
    accounting.record_payment(&key("rest"), &pay(total - part)).await.expect("the rest");
    let paid = accounting.invoice(&invoice.remote_id).await.expect("the invoice");
    assert_eq!((paid.fields.balance, paid.fields.status), (Decimal::ZERO, InvoiceStatus::Paid));
}

/// Voiding keeps the invoice, worth nothing.
pub async fn a_voided_invoice_is_kept_worth_nothing<F: AccountingFixture>() {
    let fixture = F::start(35, 2).await;
    let accounting = fixture.accounting();
    let invoice = accounting.create_invoice(&key("void"), &invoice_of(&fixture)).await.expect("created");
    let version = invoice.fields.version.clone().expect("a version");
    let voided = accounting.void_invoice(&invoice.remote_id, &version).await.expect("voided");
    assert_eq!((voided.fields.status, voided.fields.balance), (InvoiceStatus::Void, Decimal::ZERO));
    let again = accounting.void_invoice(&invoice.remote_id, &version).await;
    assert!(
        again.is_ok_and(|v| v.fields.status == InvoiceStatus::Void),
        "a repeated void (same version) is the same void"
    );
}

/// An unbalanced journal entry never reaches the provider.
pub async fn unbalanced_journal_entries_are_refused_before_sending<F: AccountingFixture>() {
    let fixture = F::start(36, 1).await;
    let before = fixture.writes();
    let date = NaiveDate::from_ymd_opt(2026, 12, 31).expect("a date");
    let account = fixture.account();
    let mut entry = JournalEntryInput::new(
        date,
        fixture.currency(),
        vec![
            JournalLine::debit(&account, Decimal::new(10_000, 2)),
            JournalLine::credit(&account, Decimal::new(9_999, 2)),
        ],
    );
    entry.number = Some("JE-UNBALANCED".into());
    let error = fixture.accounting().post_journal_entry(&key("je"), &entry).await.expect_err("refused");
    assert_eq!((error.kind(), error.field()), (ErrorKind::Validation, Some("lines")), "{error}");
    assert!(error.to_string().contains("JE-UNBALANCED"), "{error}");
    assert_eq!(fixture.writes(), before, "nothing was sent");
    entry.lines[1] = JournalLine::credit(&account, Decimal::new(10_000, 2));
    let posted = fixture.accounting().post_journal_entry(&key("je-ok"), &entry).await.expect("balanced");
    assert_eq!(posted.fields.lines.iter().map(|l| l.amount).sum::<Decimal>(), Decimal::ZERO);
    assert_eq!(fixture.writes(), before + 1);
}
