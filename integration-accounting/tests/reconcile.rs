//! Reconciliation on generated ledgers with known answers: every category counted exactly,
//! whatever the amounts, currencies and order.

use chrono::{Duration, NaiveDate};
use integration_accounting::reconcile::{Entry, Outcome, Reconciler, Rule};
use integration_accounting::{Currency, Decimal};
use proptest::prelude::*;

/// How one generated invoice is (or is not) paid.
#[derive(Debug, Clone, Copy)]
enum Scenario {
    /// Paid exactly, the payment quoting the invoice number in other spelling.
    Exact,
    /// Paid exactly by a payment the provider applied to it.
    Applied,
    /// Paid exactly, found by amount, date and contact (no reference).
    ByAmountAndDate,
    /// Paid in part; the books agree.
    Partial,
    /// Paid in part; the books say it is paid.
    Underpaid,
    /// Paid more than owed.
    Over,
    /// Nothing pays it.
    Unpaid,
    /// A payment quotes it in another currency.
    WrongCurrency,
}

fn scenario() -> impl Strategy<Value = Scenario> {
    prop_oneof![
        Just(Scenario::Exact),
        Just(Scenario::Applied),
        Just(Scenario::ByAmountAndDate),
        Just(Scenario::Partial),
        Just(Scenario::Underpaid),
        Just(Scenario::Over),
        Just(Scenario::Unpaid),
        Just(Scenario::WrongCurrency),
    ]
}

fn day(n: i64) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default() + Duration::days(n)
}

/// The ledger: invoices, payments (shuffled by `rotate`), and the counts it must give.
fn ledger(cases: &[(Scenario, i64, i64)], strays: usize, rotate: usize) -> (Vec<Entry>, Vec<Entry>, [usize; 7]) {
    let (mut owed, mut paid) = (Vec::new(), Vec::new());
    // matched, partially paid, overpaid, underpaid, unmatched owed, unmatched paid, mismatches
    let mut counts = [0usize; 7];
    for (i, &(scenario, cents, delta)) in cases.iter().enumerate() {
        // Totals unique per invoice, so no payment fits two of them by amount.
        let total = Decimal::new(cents * 1000 + i as i64 + 100, 2);
        let delta = Decimal::new(delta.clamp(1, cents * 1000 + 99), 2);
        let (id, number, contact) = (format!("inv-{i}"), format!("INV-{}", 1000 + i), format!("c-{}", i % 7));
        let mut invoice =
            Entry::owed(&id, total, Currency::USD).reference(&number).contact(&contact).on(day(i as i64 * 40));
        let quoted = format!(" inv{} ", 1000 + i);
        let pay = |n: &str, amount| Entry::paid(format!("pay-{i}-{n}"), amount, Currency::USD);
        match scenario {
            Scenario::Exact => {
                paid.push(pay("a", total).reference(&quoted));
                counts[0] += 1;
            }
            Scenario::Applied => {
                paid.push(pay("a", total).applied(&id, total));
                counts[0] += 1;
            }
            Scenario::ByAmountAndDate => {
                paid.push(pay("a", total).contact(&contact).on(day(i as i64 * 40 + 3)));
                counts[0] += 1;
            }
            Scenario::Partial => {
                invoice.open_balance = Some(delta);
                paid.push(pay("a", total - delta).reference(&quoted));
                counts[1] += 1;
            }
            Scenario::Over => {
                paid.push(pay("a", total + delta).reference(&quoted));
                counts[2] += 1;
            }
            Scenario::Underpaid => {
                invoice.open_balance = Some(Decimal::ZERO);
                paid.push(pay("a", total - delta).reference(&quoted));
                counts[3] += 1;
            }
            Scenario::Unpaid => counts[4] += 1,
            Scenario::WrongCurrency => {
                paid.push(Entry::paid(format!("pay-{i}-eur"), total, Currency::EUR).reference(&quoted));
                counts[4] += 1;
                counts[5] += 1;
                counts[6] += 1;
            }
        }
        owed.push(invoice);
    }
    for j in 0..strays {
        paid.push(Entry::paid(format!("stray-{j}"), Decimal::new(7, 2), Currency::USD).reference(format!("zz-{j}")));
        counts[5] += 1;
    }
    let len = paid.len().max(1);
    paid.rotate_left(rotate % len);
    (owed, paid, counts)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn every_category_is_counted_exactly(
        cases in prop::collection::vec((scenario(), 1i64..5_000, 1i64..100_000), 0..60),
        strays in 0usize..10,
        rotate in 0usize..100,
    ) {
        let (owed, paid, expected) = ledger(&cases, strays, rotate);
        let report = Reconciler::new().reconcile(&owed, &paid);
        let c = report.counts;
        let got = [c.matched, c.partially_paid, c.overpaid, c.underpaid, c.unmatched_owed, c.unmatched_paid, c.currency_mismatches];
        prop_assert_eq!(got, expected, "{}", report.table());
        prop_assert_eq!(report.owed.len(), owed.len());
        // Money is never spent twice: what the matches took from a payment is at most its amount.
        for payment in &paid {
            let spent: Decimal = report.matches.iter().filter(|m| m.paid_id == payment.id).map(|m| m.amount).sum();
            prop_assert!(spent <= payment.amount, "{} spent {spent} of {}", payment.id, payment.amount);
        }
    }
}

#[test]
fn each_outcome_names_the_rule_that_made_it() {
    let (owed, paid, _) =
        ledger(&[(Scenario::Exact, 10, 1), (Scenario::Applied, 20, 1), (Scenario::ByAmountAndDate, 30, 1)], 0, 0);
    let report = Reconciler::new().reconcile(&owed, &paid);
    let rules: Vec<Vec<Rule>> = report.owed.iter().map(|o| o.rules.clone()).collect();
    assert_eq!(rules, [vec![Rule::Reference], vec![Rule::Applied], vec![Rule::AmountAndDate { window_days: 7 }]]);
    assert!(report.owed.iter().all(|o| o.outcome == Outcome::Matched));
}

#[test]
fn an_ambiguous_payment_is_left_unmatched_rather_than_guessed() {
    let hundred = Decimal::new(100, 0);
    let owed =
        vec![Entry::owed("a", hundred, Currency::USD).on(day(0)), Entry::owed("b", hundred, Currency::USD).on(day(1))];
    let paid = vec![Entry::paid("p", hundred, Currency::USD).on(day(2))];
    let report = Reconciler::new().reconcile(&owed, &paid);
    assert_eq!((report.counts.unmatched_owed, report.counts.unmatched_paid), (2, 1), "{}", report.table());
    // Outside the window, not even one fits.
    let far = vec![Entry::paid("p", hundred, Currency::USD).on(day(30))];
    let report = Reconciler::new().reconcile(&owed[..1], &far);
    assert_eq!(report.counts.unmatched_owed, 1);
}

#[test]
fn the_table_lists_every_owed_entry_and_the_counts() {
    let (owed, paid, _) = ledger(&[(Scenario::Partial, 10, 5), (Scenario::WrongCurrency, 10, 5)], 1, 0);
    let table = Reconciler::new().reconcile(&owed, &paid).table();
    assert!(table.contains("inv-0") && table.contains("partially_paid"), "{table}");
    assert!(table.contains("currency mismatch: pay-1-eur (EUR) names inv-1 (USD)"), "{table}");
    assert!(table.contains("unmatched payment stray-0"), "{table}");
    assert!(table.contains("partially paid 1"), "{table}");
}
