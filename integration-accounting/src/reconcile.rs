//! Reconciliation: what was owed (invoices, or a host ledger's receivables) matched with what
//! was paid (payments, bank lines, or a host ledger's receipts), by rules, into a typed
//! [`Report`] — matched, partially paid, over- and under-paid, unmatched on either side,
//! currency mismatches — with a printable [`Report::table`] and an audit event per match
//! naming its rule ([`Report::audit`]).
//!
//! ```
//! use integration_accounting::reconcile::{Entry, Outcome, Reconciler};
//! use integration_accounting::{Currency, Decimal};
//!
//! let usd = |cents| Decimal::new(cents, 2);
//! let owed = vec![
//!     Entry::owed("inv-1", usd(10000), Currency::USD).reference("INV-1001"),
//!     Entry::owed("inv-2", usd(5000), Currency::USD).reference("INV-1002"),
//! ];
//! let paid = vec![
//!     Entry::paid("pay-1", usd(10000), Currency::USD).reference("inv 1001"), // by reference
//!     Entry::paid("pay-2", usd(2000), Currency::USD).applied("inv-2", usd(2000)), // applied by the provider
//!     Entry::paid("pay-3", usd(999), Currency::USD),                            // nothing to match
//! ];
//! let report = Reconciler::new().reconcile(&owed, &paid);
//! assert_eq!(report.outcome_of("inv-1"), Some(Outcome::Matched));
//! assert_eq!(report.outcome_of("inv-2"), Some(Outcome::PartiallyPaid));
//! assert_eq!(report.counts.unmatched_paid, 1);
//! assert!(report.table().contains("partially_paid"));
//! ```

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::{self, Write as _};

use chrono::NaiveDate;
use integration_core::domain::Remote;
use integration_core::store::{AuditAction, AuditEvent, AuditSink};
use integration_core::{ConnectionId, Result, TenantId};
use iso_currency::Currency;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::model::{BankTransaction, Invoice, Payment};
use crate::vocabulary::{BankDirection, InvoiceStatus, PostingStatus};

/// Which side of the books an entry is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// Owed: an invoice, a receivable.
    Owed,
    /// Paid: a payment, a bank line, a receipt.
    Paid,
}

/// Where an entry came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// An invoice of the accounting system.
    Invoice,
    /// A payment of the accounting system.
    Payment,
    /// A bank line of the accounting system.
    BankTransaction,
    /// A record of the host's own ledger.
    Ledger,
}

/// One thing owed or paid, as reconciliation sees it. Build it from a record
/// ([`from_invoice`](Self::from_invoice), [`from_payment`](Self::from_payment),
/// [`from_bank_transaction`](Self::from_bank_transaction)) or from the host's ledger
/// ([`owed`](Self::owed), [`paid`](Self::paid); it deserializes from the host's records too).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Entry {
    /// Its id: a `remote_id`, or the host's id.
    pub id: String,
    /// Owed or paid.
    pub side: Side,
    /// Where it came from.
    #[serde(default = "ledger")]
    pub source: Source,
    /// The references it is known by: an invoice's number and its customer reference; a
    /// payment's reference.
    #[serde(default)]
    pub references: Vec<String>,
    /// The contact's id, when known.
    #[serde(default)]
    pub contact_id: Option<String>,
    /// Its date (an invoice's issue date, a payment's date).
    #[serde(default)]
    pub date: Option<NaiveDate>,
    /// A second date that counts for the date window (an invoice's due date).
    #[serde(default)]
    pub due_date: Option<NaiveDate>,
    /// The amount owed (a total) or paid.
    pub amount: Decimal,
    /// Its currency.
    pub currency: Currency,
    /// For an owed entry: what the books still say is owed (an invoice's balance).
    #[serde(default)]
    pub open_balance: Option<Decimal>,
    /// For a paid entry: the owed entries it is applied to, and how much to each.
    #[serde(default)]
    pub applied_to: Vec<(String, Decimal)>,
}

fn ledger() -> Source {
    Source::Ledger
}

impl Entry {
    fn new(id: impl Into<String>, side: Side, amount: Decimal, currency: Currency) -> Self {
        Self {
            id: id.into(),
            side,
            source: Source::Ledger,
            references: Vec::new(),
            contact_id: None,
            date: None,
            due_date: None,
            amount,
            currency,
            open_balance: None,
            applied_to: Vec::new(),
        }
    }

    /// `amount` owed, from the host's ledger.
    pub fn owed(id: impl Into<String>, amount: Decimal, currency: Currency) -> Self {
        Self::new(id, Side::Owed, amount, currency)
    }

    /// `amount` paid, from the host's ledger.
    pub fn paid(id: impl Into<String>, amount: Decimal, currency: Currency) -> Self {
        Self::new(id, Side::Paid, amount, currency)
    }

    /// With a reference it is known by.
    #[must_use]
    pub fn reference(mut self, reference: impl Into<String>) -> Self {
        self.references.push(reference.into());
        self
    }

    /// With its contact.
    #[must_use]
    pub fn contact(mut self, contact_id: impl Into<String>) -> Self {
        self.contact_id = Some(contact_id.into());
        self
    }

    /// With its date.
    #[must_use]
    pub fn on(mut self, date: NaiveDate) -> Self {
        self.date = Some(date);
        self
    }

    /// A paid entry applied to owed entry `id` for `amount`.
    #[must_use]
    pub fn applied(mut self, id: impl Into<String>, amount: Decimal) -> Self {
        self.applied_to.push((id.into(), amount));
        self
    }

    /// A receivable or payable invoice, as owed; `None` for a draft, a void or a deleted one,
    /// which owe nothing.
    pub fn from_invoice(invoice: &Remote<Invoice>) -> Option<Self> {
        let i = &invoice.fields;
        if invoice.remote_was_deleted || matches!(i.status, InvoiceStatus::Draft | InvoiceStatus::Void) {
            return None;
        }
        let mut entry = Self::owed(invoice.remote_id.clone(), i.total, i.currency);
        entry.source = Source::Invoice;
        entry.references = i.number.iter().chain(&i.reference).cloned().collect();
        entry.contact_id.clone_from(&i.contact_id);
        (entry.date, entry.due_date, entry.open_balance) = (i.issue_date, i.due_date, Some(i.balance));
        Some(entry)
    }

    /// A payment, as paid, with the invoices it is applied to; `None` for a void or deleted one.
    pub fn from_payment(payment: &Remote<Payment>) -> Option<Self> {
        let p = &payment.fields;
        if payment.remote_was_deleted || p.status == PostingStatus::Void {
            return None;
        }
        let mut entry = Self::paid(payment.remote_id.clone(), p.amount, p.currency);
        entry.source = Source::Payment;
        entry.references = p.reference.iter().cloned().collect();
        entry.contact_id.clone_from(&p.contact_id);
        entry.date = p.date;
        entry.applied_to = p.applied_to.iter().map(|a| (a.invoice_id.clone(), a.amount)).collect();
        Some(entry)
    }

    /// Money received on a bank line, as paid; `None` for money spent, a void or a deleted line.
    pub fn from_bank_transaction(line: &Remote<BankTransaction>) -> Option<Self> {
        let b = &line.fields;
        if line.remote_was_deleted || b.status == PostingStatus::Void || b.direction != BankDirection::Received {
            return None;
        }
        let mut entry = Self::paid(line.remote_id.clone(), b.amount, b.currency);
        entry.source = Source::BankTransaction;
        entry.references = b.reference.iter().chain(&b.description).cloned().collect();
        entry.contact_id.clone_from(&b.contact_id);
        entry.date = b.date;
        Some(entry)
    }
}

/// How a paid entry is matched with an owed one. Rules are tried in order; each match names
/// the rule that made it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "rule")]
#[non_exhaustive]
pub enum Rule {
    /// The provider applied the payment to the invoice (`applied_to`).
    Applied,
    /// A reference of the payment equals one of the invoice's, ignoring case, spaces and
    /// punctuation (`inv 1001` = `INV-1001`); the whole payment goes to that invoice.
    Reference,
    /// The payment is exactly what is still open on one invoice, in its currency, dated within
    /// `window_days` of the invoice's issue or due date, of the same contact when both name one
    /// — and no other invoice fits as well (an ambiguous payment is left unmatched).
    AmountAndDate {
        /// Days either side of the invoice's dates.
        window_days: u32,
    },
}

impl Rule {
    /// The rule's name (`amount_and_date`).
    pub const fn name(self) -> &'static str {
        match self {
            Self::Applied => "applied",
            Self::Reference => "reference",
            Self::AmountAndDate { .. } => "amount_and_date",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A paid entry (part of it) matched with an owed one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Match {
    /// The owed entry.
    pub owed_id: String,
    /// The paid entry.
    pub paid_id: String,
    /// The rule that matched them.
    pub rule: Rule,
    /// How much of the payment went to it.
    pub amount: Decimal,
    /// In this currency.
    pub currency: Currency,
}

/// What became of an owed entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Paid exactly.
    Matched,
    /// Paid in part, as the books say (the open balance is what the money leaves).
    PartiallyPaid,
    /// Paid more than owed.
    Overpaid,
    /// Paid less than owed while the books say otherwise (marked paid with money missing).
    Underpaid,
    /// Nothing found that pays it.
    Unmatched,
}

impl Outcome {
    /// The outcome's name (`partially_paid`).
    pub const fn name(self) -> &'static str {
        match self {
            Self::Matched => "matched",
            Self::PartiallyPaid => "partially_paid",
            Self::Overpaid => "overpaid",
            Self::Underpaid => "underpaid",
            Self::Unmatched => "unmatched",
        }
    }
}

/// An owed entry and what paid it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OwedLine {
    /// The owed entry's id.
    pub id: String,
    /// Where it came from.
    pub source: Source,
    /// Its currency.
    pub currency: Currency,
    /// What was owed.
    pub amount: Decimal,
    /// What the matched money adds up to.
    pub received: Decimal,
    /// The outcome.
    pub outcome: Outcome,
    /// The rules that matched money to it, in order.
    pub rules: Vec<Rule>,
}

/// A paid entry that named an owed one in another currency: not counted toward it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CurrencyMismatch {
    /// The owed entry.
    pub owed_id: String,
    /// The paid entry.
    pub paid_id: String,
    /// The owed entry's currency.
    pub owed_currency: Currency,
    /// The paid entry's currency.
    pub paid_currency: Currency,
}

/// How many of each.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Counts {
    /// Owed entries paid exactly.
    pub matched: usize,
    /// Paid in part, as the books say.
    pub partially_paid: usize,
    /// Paid more than owed.
    pub overpaid: usize,
    /// Paid less than the books say.
    pub underpaid: usize,
    /// Owed entries nothing pays.
    pub unmatched_owed: usize,
    /// Paid entries matched with nothing.
    pub unmatched_paid: usize,
    /// Paid entries naming an owed one in another currency.
    pub currency_mismatches: usize,
}

/// The result of a reconciliation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Report {
    /// Every match, in the order made.
    pub matches: Vec<Match>,
    /// Every owed entry with its outcome, in the order given.
    pub owed: Vec<OwedLine>,
    /// Paid entries matched with nothing, by id.
    pub unmatched_paid: Vec<String>,
    /// Paid entries with money left after their matches: id and what is left.
    pub unapplied: Vec<(String, Decimal, Currency)>,
    /// Currency mismatches.
    pub currency_mismatches: Vec<CurrencyMismatch>,
    /// The counts.
    pub counts: Counts,
}

impl Report {
    /// The outcome of owed entry `id`.
    pub fn outcome_of(&self, id: &str) -> Option<Outcome> {
        self.owed.iter().find(|o| o.id == id).map(|o| o.outcome)
    }

    /// The report as a printable table: one line per owed entry, then unmatched payments and
    /// currency mismatches, then the counts.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ =
            writeln!(out, "{:<24} {:<4} {:>14} {:>14}  {:<15} rules", "owed", "cur", "amount", "received", "outcome");
        for line in &self.owed {
            let rules: Vec<&str> = line.rules.iter().map(|r| r.name()).collect();
            let _ = writeln!(
                out,
                "{:<24} {:<4} {:>14} {:>14}  {:<15} {}",
                clip(&line.id),
                line.currency.code(),
                crate::write::in_currency(line.amount, line.currency),
                crate::write::in_currency(line.received, line.currency),
                line.outcome.name(),
                rules.join(", ")
            );
        }
        for id in &self.unmatched_paid {
            let _ = writeln!(out, "unmatched payment {id}");
        }
        for m in &self.currency_mismatches {
            let _ = writeln!(
                out,
                "currency mismatch: {} ({}) names {} ({})",
                m.paid_id,
                m.paid_currency.code(),
                m.owed_id,
                m.owed_currency.code()
            );
        }
        let c = &self.counts;
        let _ = writeln!(
            out,
            "matched {} · partially paid {} · overpaid {} · underpaid {} · unmatched owed {} · unmatched paid {} · currency mismatches {}",
            c.matched,
            c.partially_paid,
            c.overpaid,
            c.underpaid,
            c.unmatched_owed,
            c.unmatched_paid,
            c.currency_mismatches
        );
        out
    }

    /// Records one audit event per match (`records_matched`, naming the rule, the two ids and
    /// the amount) in `sink`, for `tenant`'s `connection`.
    ///
    /// # Errors
    /// The sink's error; events before it are recorded.
    pub async fn audit(&self, sink: &dyn AuditSink, tenant: &TenantId, connection: &ConnectionId) -> Result<()> {
        for m in &self.matches {
            let detail =
                format!("{} ← {} by rule {}: {} {}", m.owed_id, m.paid_id, m.rule.name(), m.amount, m.currency.code());
            let event = AuditEvent::new(tenant.clone(), AuditAction::RecordsMatched).connection(connection.clone());
            sink.audit(event.detail(detail)).await?;
        }
        Ok(())
    }
}

fn clip(id: &str) -> String {
    if id.chars().count() <= 24 { id.to_owned() } else { format!("{}…", id.chars().take(23).collect::<String>()) }
}

/// References compared ignoring case, spaces and punctuation.
fn normalized(reference: &str) -> String {
    reference.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

/// The matches made so far, and what each owed entry has received.
struct Book {
    report: Report,
    received: Vec<Decimal>,
    rules_of: Vec<Vec<Rule>>,
}

impl Book {
    /// `amount` of `paid` matched with `owed` (the owed entry at `o`) by `rule`.
    fn record(&mut self, owed: &Entry, o: usize, paid: &Entry, rule: Rule, amount: Decimal) {
        self.received[o] += amount;
        if !self.rules_of[o].contains(&rule) {
            self.rules_of[o].push(rule);
        }
        let currency = paid.currency;
        self.report.matches.push(Match { owed_id: owed.id.clone(), paid_id: paid.id.clone(), rule, amount, currency });
    }
}

/// Matches paid entries with owed ones by its rules, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reconciler {
    rules: Vec<Rule>,
}

impl Default for Reconciler {
    fn default() -> Self {
        Self::new()
    }
}

impl Reconciler {
    /// The standard rules: [`Rule::Applied`], [`Rule::Reference`], then
    /// [`Rule::AmountAndDate`] within 7 days.
    pub fn new() -> Self {
        Self { rules: vec![Rule::Applied, Rule::Reference, Rule::AmountAndDate { window_days: 7 }] }
    }

    /// Only `rules`, in this order.
    pub fn with_rules(rules: Vec<Rule>) -> Self {
        Self { rules }
    }

    /// Reconciles `owed` with `paid`. Each paid entry's money is spent once: by the first rule
    /// that matches it, then by later rules for what is left. Entries on the wrong side are
    /// ignored (an owed entry among `paid`).
    pub fn reconcile(&self, owed: &[Entry], paid: &[Entry]) -> Report {
        let owed: Vec<&Entry> = owed.iter().filter(|e| e.side == Side::Owed).collect();
        let paid: Vec<&Entry> = paid.iter().filter(|e| e.side == Side::Paid).collect();
        let mut by_id: BTreeMap<&str, usize> = BTreeMap::new();
        let mut by_reference: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (n, entry) in owed.iter().enumerate() {
            by_id.entry(entry.id.as_str()).or_insert(n);
            for reference in entry.references.iter().map(|r| normalized(r)).filter(|r| !r.is_empty()) {
                let at = by_reference.entry(reference).or_default();
                if !at.contains(&n) {
                    at.push(n);
                }
            }
        }
        let mut book = Book {
            report: Report::default(),
            received: vec![Decimal::ZERO; owed.len()],
            rules_of: vec![Vec::new(); owed.len()],
        };
        let mut left: Vec<Decimal> = paid.iter().map(|p| p.amount).collect();
        let mut mismatched: BTreeSet<(usize, usize)> = BTreeSet::new();
        for rule in &self.rules {
            // For the amount rule: the owed entries by currency and what is still open on them,
            // so a payment looks only at those it could pay exactly.
            let mut open: HashMap<(Currency, Decimal), Vec<usize>> = HashMap::new();
            if matches!(rule, Rule::AmountAndDate { .. }) {
                for (o, entry) in owed.iter().enumerate() {
                    let outstanding = (entry.amount - book.received[o]).normalize();
                    open.entry((entry.currency, outstanding)).or_default().push(o);
                }
            }
            for (p, payment) in paid.iter().enumerate() {
                if left[p] <= Decimal::ZERO {
                    continue;
                }
                match rule {
                    Rule::Applied => {
                        for (id, amount) in &payment.applied_to {
                            let Some(&o) = by_id.get(id.as_str()) else { continue };
                            if owed[o].currency != payment.currency {
                                mismatched.insert((o, p));
                                continue;
                            }
                            let amount = (*amount).min(left[p]);
                            if amount > Decimal::ZERO {
                                left[p] -= amount;
                                book.record(owed[o], o, paid[p], *rule, amount);
                            }
                        }
                    }
                    Rule::Reference => {
                        let found: BTreeSet<usize> = payment
                            .references
                            .iter()
                            .filter_map(|r| by_reference.get(&normalized(r)))
                            .flatten()
                            .copied()
                            .collect();
                        // One invoice by that reference; several would be a guess.
                        if found.len() != 1 {
                            continue;
                        }
                        let o = found.into_iter().next().unwrap_or_default();
                        if owed[o].currency != payment.currency {
                            mismatched.insert((o, p));
                            continue;
                        }
                        let amount = left[p];
                        left[p] = Decimal::ZERO;
                        book.record(owed[o], o, paid[p], *rule, amount);
                    }
                    Rule::AmountAndDate { window_days } => {
                        let window = i64::from(*window_days);
                        let near = |owed: &Entry| match payment.date {
                            None => false,
                            Some(paid_on) => [owed.date, owed.due_date]
                                .into_iter()
                                .flatten()
                                .any(|d| (paid_on - d).num_days().abs() <= window),
                        };
                        // Only the owed entries whose open amount is exactly the payment's.
                        let key = (payment.currency, left[p].normalize());
                        let fits: Vec<usize> = open
                            .get(&key)
                            .into_iter()
                            .flatten()
                            .copied()
                            .filter(|&o| {
                                let e = owed[o];
                                near(e)
                                    && match (&e.contact_id, &payment.contact_id) {
                                        (Some(a), Some(b)) => a == b,
                                        _ => true,
                                    }
                            })
                            .collect();
                        if let [o] = fits[..] {
                            let amount = left[p];
                            left[p] = Decimal::ZERO;
                            book.record(owed[o], o, paid[p], *rule, amount);
                            // Paid in full now: it fits no other payment.
                            if let Some(bucket) = open.get_mut(&key) {
                                bucket.retain(|&other| other != o);
                            }
                        }
                    }
                }
            }
        }
        let Book { mut report, received, mut rules_of } = book;
        for (n, entry) in owed.iter().enumerate() {
            let got = received[n];
            let outcome = if got.is_zero() {
                Outcome::Unmatched
            } else if got == entry.amount {
                Outcome::Matched
            } else if got > entry.amount {
                Outcome::Overpaid
            } else {
                match entry.open_balance {
                    Some(balance) if balance != entry.amount - got => Outcome::Underpaid,
                    _ => Outcome::PartiallyPaid,
                }
            };
            let counts = &mut report.counts;
            match outcome {
                Outcome::Matched => counts.matched += 1,
                Outcome::PartiallyPaid => counts.partially_paid += 1,
                Outcome::Overpaid => counts.overpaid += 1,
                Outcome::Underpaid => counts.underpaid += 1,
                Outcome::Unmatched => counts.unmatched_owed += 1,
            }
            report.owed.push(OwedLine {
                id: entry.id.clone(),
                source: entry.source,
                currency: entry.currency,
                amount: entry.amount,
                received: got,
                outcome,
                rules: std::mem::take(&mut rules_of[n]),
            });
        }
        for (p, payment) in paid.iter().enumerate() {
            if left[p] == payment.amount {
                report.unmatched_paid.push(payment.id.clone());
            } else if left[p] > Decimal::ZERO {
                report.unapplied.push((payment.id.clone(), left[p], payment.currency));
            }
        }
        report.counts.unmatched_paid = report.unmatched_paid.len();
        report.currency_mismatches = mismatched
            .into_iter()
            .map(|(o, p)| CurrencyMismatch {
                owed_id: owed[o].id.clone(),
                paid_id: paid[p].id.clone(),
                owed_currency: owed[o].currency,
                paid_currency: paid[p].currency,
            })
            .collect();
        report.counts.currency_mismatches = report.currency_mismatches.len();
        report
    }
}
