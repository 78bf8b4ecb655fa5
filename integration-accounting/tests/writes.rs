//! The writes check themselves before anything is sent: journal entries balance per currency,
//! payments apply no more than they are, amounts fit their currency.

use chrono::NaiveDate;
use integration_accounting::{
    Currency, Decimal, InvoiceInput, JournalEntryInput, JournalLine, LineInput, OperationKey, PaymentApplication,
    PaymentInput,
};
use integration_core::ErrorKind;
use proptest::prelude::*;

fn date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 1).unwrap_or_default()
}

proptest! {
    /// Any entry whose debits equal its credits in each currency passes; moving any one line
    /// by a cent is refused, naming the entry and the currency.
    #[test]
    fn balanced_entries_pass_and_any_imbalance_is_named(
        debits in prop::collection::vec((1i64..10_000_000, any::<bool>()), 1..8),
        nudged in any::<prop::sample::Index>(),
    ) {
        let mut lines = Vec::new();
        for (n, (cents, euro)) in debits.iter().enumerate() {
            let currency = if *euro { Some(Currency::EUR) } else { None };
            let mut debit = JournalLine::debit(format!("{}", 6000 + n), Decimal::new(*cents, 2));
            let mut credit = JournalLine::credit("1200", Decimal::new(*cents, 2));
            (debit.currency, credit.currency) = (currency, currency);
            lines.extend([debit, credit]);
        }
        let mut entry = JournalEntryInput::new(date(), Currency::USD, lines);
        entry.number = Some("JE-42".into());
        prop_assert!(entry.validate().is_ok());
        let line = nudged.index(entry.lines.len());
        entry.lines[line].amount += Decimal::new(1, 2);
        let error = entry.validate().unwrap_err();
        prop_assert_eq!(error.kind(), ErrorKind::Validation);
        prop_assert_eq!(error.field(), Some("lines"));
        let text = error.to_string();
        let currency = entry.lines[line].currency.unwrap_or(Currency::USD);
        prop_assert!(text.contains("JE-42") && text.contains(&format!("{} 0.01", currency.code())), "{}", text);
    }
}

#[test]
fn a_payment_applies_no_more_than_it_is_and_fits_its_currency() {
    let applications = vec![PaymentApplication::new("inv-1", Decimal::new(6000, 2))];
    let mut payment = PaymentInput::new("c-1", date(), Decimal::new(10000, 2), Currency::USD, applications);
    assert!(payment.validate().is_ok());
    payment.applications.push(PaymentApplication::new("inv-2", Decimal::new(4001, 2)));
    assert_eq!(payment.validate().unwrap_err().field(), Some("applications"));
    payment.applications.pop();
    payment.amount = Decimal::new(100_001, 3);
    assert_eq!(payment.validate().unwrap_err().field(), Some("amount"), "a tenth of a cent");
    payment.currency = Currency::KWD; // three decimals
    assert!(payment.validate().is_ok());
    payment.currency = Currency::JPY;
    payment.amount = Decimal::new(10050, 2);
    assert_eq!(payment.validate().unwrap_err().field(), Some("amount"), "yen have no decimals");
}

#[test]
fn an_invoice_needs_lines_that_name_what_they_sell() {
    let line = LineInput::new("Consulting", Decimal::new(3, 0), Decimal::new(15000, 2)).account("4000");
    let invoice = InvoiceInput::new("c-1", Currency::USD, vec![line.clone()]);
    assert!(invoice.validate().is_ok());
    assert_eq!(invoice.subtotal(), Decimal::new(45000, 2));
    let mut nameless = line.clone();
    nameless.account_id = None;
    let error = InvoiceInput::new("c-1", Currency::USD, vec![line, nameless]).validate().unwrap_err();
    assert_eq!(error.field(), Some("lines[1]"));
    assert_eq!(InvoiceInput::new("c-1", Currency::USD, vec![]).validate().unwrap_err().field(), Some("lines"));
}

#[test]
fn operation_keys_fit_the_provider_and_never_change() {
    let key = OperationKey::new("automation run 7 / step charge").expect("a key");
    let sent = key.for_provider(50);
    assert!(sent.len() <= 50 && sent.bytes().all(|b| b.is_ascii_alphanumeric()), "{sent}");
    assert_eq!(sent, OperationKey::new("automation run 7 / step charge").expect("a key").for_provider(50));
    assert_ne!(sent, OperationKey::new("automation run 8 / step charge").expect("a key").for_provider(50));
}
