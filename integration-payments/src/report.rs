//! Payments reporting from the records cache: volumes, fees, refunds and failure rates per
//! currency and period (a day or a month, UTC), from payment intents, refunds and balance
//! transactions as synced — no call to the gateway.
//!
//! ```
//! use integration_payments::report::{Period, Report};
//! use integration_payments::{Currency, DeclineReason, IntentStatus, Money, PaymentIntent, Remote};
//!
//! let at = chrono::DateTime::parse_from_rfc3339("2026-12-07T10:00:00Z").unwrap().to_utc();
//! let intent = |id: &str, cents: i64, status: IntentStatus| {
//!     let mut fields = PaymentIntent::default();
//!     (fields.amount, fields.status) = (Money::new(cents, Currency::EUR).unwrap(), status);
//!     Remote::new(id, fields).created(Some(at))
//! };
//! let mut declined = intent("pi_2", 500, IntentStatus::RequiresPaymentMethod);
//! declined.fields.decline = Some(DeclineReason::InsufficientFunds);
//! let intents = [intent("pi_1", 2_000, IntentStatus::Succeeded), declined];
//! let report = Report::build(Period::Month, &intents, &[], &[])?;
//! let december = &report.buckets[0];
//! assert_eq!((december.succeeded, december.failed, december.volume.minor()), (1, 1, 2_000));
//! assert_eq!(december.failure_rate_percent(), Some(50));
//! assert!(report.table().contains("EUR"));
//! # Ok::<(), integration_core::Error>(())
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use integration_core::Result;
use integration_core::domain::Remote;
use iso_currency::Currency;

use crate::model::{BalanceTransaction, PaymentIntent, Refund};
use crate::money::Money;
use crate::vocabulary::{IntentStatus, RefundStatus};

/// How records are grouped in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    /// By UTC day.
    Day,
    /// By UTC month.
    Month,
}

impl Period {
    fn start(self, at: DateTime<Utc>) -> NaiveDate {
        let day = at.date_naive();
        match self {
            Self::Day => day,
            Self::Month => day.with_day(1).unwrap_or(day),
        }
    }
}

/// One currency in one period.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Bucket {
    /// The period's first day.
    pub period: NaiveDate,
    /// The currency.
    pub currency: Currency,
    /// Payments that succeeded.
    pub succeeded: u64,
    /// Payments whose last attempt was declined (waiting for another payment method) or that
    /// were canceled.
    pub failed: u64,
    /// What the succeeded payments came to.
    pub volume: Money,
    /// Refunds that succeeded or are pending.
    pub refunds: u64,
    /// What they came to.
    pub refunded: Money,
    /// The gateway's fees (balance transactions).
    pub fees: Money,
    /// What reached the balance after fees (balance transactions).
    pub net: Money,
}

impl Bucket {
    fn new(period: NaiveDate, currency: Currency) -> Result<Self> {
        let zero = Money::zero(currency)?;
        Ok(Self {
            period,
            currency,
            succeeded: 0,
            failed: 0,
            volume: zero,
            refunds: 0,
            refunded: zero,
            fees: zero,
            net: zero,
        })
    }

    /// Failed payments in percent of those that ended (succeeded or failed); `None` when none
    /// ended.
    pub fn failure_rate_percent(&self) -> Option<u64> {
        let ended = self.succeeded + self.failed;
        (ended > 0).then(|| self.failed * 100 / ended)
    }
}

/// Buckets by period and currency code.
type Buckets = BTreeMap<(NaiveDate, &'static str), Bucket>;

/// The bucket of `at` (its period) and `currency`, made when new; `None` without a date.
fn bucket_for(
    buckets: &mut Buckets,
    period: Period,
    at: Option<DateTime<Utc>>,
    currency: Currency,
) -> Result<Option<&mut Bucket>> {
    let Some(at) = at else { return Ok(None) };
    let key = (period.start(at), currency.code());
    Ok(Some(match buckets.entry(key) {
        std::collections::btree_map::Entry::Occupied(entry) => entry.into_mut(),
        std::collections::btree_map::Entry::Vacant(entry) => entry.insert(Bucket::new(key.0, currency)?),
    }))
}

/// Volumes, fees, refunds and failure rates per period and currency.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Report {
    /// The buckets, by period then currency.
    pub buckets: Vec<Bucket>,
    /// Records left out: deleted, or without a date.
    pub skipped: u64,
}

impl Report {
    /// The report of `intents`, `refunds` and `balance` transactions (the cached records of
    /// the `payment_intents`, `refunds` and `balance_transactions` streams), by `period`.
    ///
    /// # Errors
    /// A `Validation` error when a sum overflows.
    pub fn build(
        period: Period,
        intents: &[Remote<PaymentIntent>],
        refunds: &[Remote<Refund>],
        balance: &[Remote<BalanceTransaction>],
    ) -> Result<Self> {
        let mut buckets: Buckets = BTreeMap::new();
        let mut skipped = 0;
        for intent in intents.iter().filter(|i| !i.remote_was_deleted) {
            let f = &intent.fields;
            let Some(b) = bucket_for(&mut buckets, period, f.created.or(intent.created_at), f.amount.currency())?
            else {
                skipped += 1;
                continue;
            };
            match f.status {
                IntentStatus::Succeeded => {
                    b.succeeded += 1;
                    b.volume = b.volume.checked_add(f.amount_received.unwrap_or(f.amount))?;
                }
                IntentStatus::Canceled => b.failed += 1,
                IntentStatus::RequiresPaymentMethod if f.decline.is_some() => b.failed += 1,
                _ => {}
            }
        }
        for refund in refunds.iter().filter(|r| !r.remote_was_deleted) {
            let f = &refund.fields;
            if !matches!(f.status, RefundStatus::Succeeded | RefundStatus::Pending) {
                continue;
            }
            let Some(b) = bucket_for(&mut buckets, period, refund.created_at, f.amount.currency())? else {
                skipped += 1;
                continue;
            };
            b.refunds += 1;
            b.refunded = b.refunded.checked_add(f.amount)?;
        }
        for txn in balance.iter().filter(|t| !t.remote_was_deleted) {
            let f = &txn.fields;
            let Some(b) = bucket_for(&mut buckets, period, txn.created_at, f.amount.currency())? else {
                skipped += 1;
                continue;
            };
            b.fees = b.fees.checked_add(f.fee)?;
            b.net = b.net.checked_add(f.net)?;
        }
        Ok(Self { buckets: buckets.into_values().collect(), skipped })
    }

    /// The report as a printable table.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{:<10} {:<4} {:>9} {:>14} {:>7} {:>8} {:>14} {:>12} {:>14}",
            "period", "cur", "payments", "volume", "failed", "refunds", "refunded", "fees", "net"
        );
        for b in &self.buckets {
            let rate = b.failure_rate_percent().map_or_else(|| "-".to_owned(), |r| format!("{r}%"));
            let _ = writeln!(
                out,
                "{:<10} {:<4} {:>9} {:>14} {:>7} {:>8} {:>14} {:>12} {:>14}",
                b.period,
                b.currency.code(),
                b.succeeded,
                b.volume.to_decimal(),
                rate,
                b.refunds,
                b.refunded.to_decimal(),
                b.fees.to_decimal(),
                b.net.to_decimal()
            );
        }
        out
    }
}
