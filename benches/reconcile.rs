//! Reconciliation, beside a hand-written matcher in the same run: 10,000 invoices against
//! 10,000 payments — a third quoting the invoice number, a third applied by the provider, a third
//! found by amount, date and contact — through `Reconciler` (three rules, outcomes, counts),
//! beside the same matching written over `HashMap`s by hand (references normalized, applications
//! by id, amounts by exact value).
//!
//! `cargo bench --bench reconcile --features accounting`; the ratio is printed at the end.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use integrations::accounting::reconcile::{Entry, Reconciler};
use integrations::accounting::{Currency, Decimal};

const SIZE: usize = 10_000;

fn day(n: usize) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default() + chrono::Duration::days((n % 300) as i64)
}

fn ledger() -> (Vec<Entry>, Vec<Entry>) {
    let mut owed = Vec::with_capacity(SIZE);
    let mut paid = Vec::with_capacity(SIZE);
    for i in 0..SIZE {
        let total = Decimal::new(10_000 + i as i64, 2);
        let (id, number, contact) = (format!("inv-{i}"), format!("INV-{i:05}"), format!("c-{}", i % 97));
        owed.push(Entry::owed(&id, total, Currency::USD).reference(&number).contact(&contact).on(day(i)));
        let payment = Entry::paid(format!("pay-{i}"), total, Currency::USD);
        paid.push(match i % 3 {
            0 => payment.reference(format!("inv {i:05}")),
            1 => payment.applied(&id, total),
            _ => payment.contact(&contact).on(day(i)),
        });
    }
    (owed, paid)
}

fn normalized(text: &str) -> String {
    text.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

/// The same matching by hand: what a host would write for exactly this ledger.
fn by_hand(owed: &[Entry], paid: &[Entry]) -> usize {
    let mut by_id: HashMap<&str, usize> = HashMap::new();
    let mut by_reference: HashMap<String, usize> = HashMap::new();
    let mut by_amount: HashMap<Decimal, Vec<usize>> = HashMap::new();
    for (n, entry) in owed.iter().enumerate() {
        by_id.insert(&entry.id, n);
        for reference in &entry.references {
            by_reference.insert(normalized(reference), n);
        }
        by_amount.entry(entry.amount.normalize()).or_default().push(n);
    }
    let mut received = vec![Decimal::ZERO; owed.len()];
    for payment in paid {
        if let Some((id, amount)) = payment.applied_to.first() {
            if let Some(&n) = by_id.get(id.as_str()) {
                received[n] += *amount;
            }
        } else if let Some(&n) = payment.references.first().and_then(|r| by_reference.get(&normalized(r))) {
            received[n] += payment.amount;
        } else if let Some(&[n]) = by_amount.get(&payment.amount.normalize()).map(Vec::as_slice)
            && owed[n].contact_id == payment.contact_id
        {
            received[n] += payment.amount;
        }
    }
    owed.iter().zip(&received).filter(|(e, r)| e.amount == **r).count()
}

fn ours(owed: &[Entry], paid: &[Entry]) -> usize {
    Reconciler::new().reconcile(owed, paid).counts.matched
}

fn time(rounds: u32, owed: &[Entry], paid: &[Entry], work: fn(&[Entry], &[Entry]) -> usize) -> Duration {
    let started = Instant::now();
    for _ in 0..rounds {
        assert_eq!(work(owed, paid), SIZE, "every invoice matched");
    }
    started.elapsed()
}

fn benches(c: &mut Criterion) {
    let (owed, paid) = ledger();
    let mut group = c.benchmark_group("reconcile");
    group.throughput(Throughput::Elements(SIZE as u64));
    group.sample_size(20);
    group.bench_function("reconciler", |b| b.iter(|| ours(&owed, &paid)));
    group.bench_function("by_hand", |b| b.iter(|| by_hand(&owed, &paid)));
    group.finish();

    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..7 {
        a.push(time(5, &owed, &paid, ours));
        b.push(time(5, &owed, &paid, by_hand));
    }
    a.sort();
    b.sort();
    let per = |d: Duration| d.as_secs_f64() * 1000.0 / 5.0;
    println!(
        "reconcile: {SIZE} invoices against {SIZE} payments in {:.1} ms; hand-written {:.1} ms; ratio {:.2}",
        per(a[3]),
        per(b[3]),
        a[3].as_secs_f64() / b[3].as_secs_f64()
    );
}

criterion_group!(reconcile, benches);
criterion_main!(reconcile);
