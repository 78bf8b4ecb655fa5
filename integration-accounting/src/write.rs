//! What the writes take: new invoices, contacts, payments and journal entries, updates with the
//! provider's concurrency token, and the operation key a create is made idempotent with. Each
//! input checks itself ([`InvoiceInput::validate`]...) before anything is sent: a journal entry
//! whose lines do not sum to zero in each currency, or an amount with more decimals than its
//! currency has, is refused naming the entry and the field.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use integration_core::{Error, Result};
use iso_currency::Currency;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::model::{JournalLine, PaymentApplication};
use crate::vocabulary::InvoiceKind;

pub use integration_core::domain::OperationKey;

/// A line of a new invoice.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct LineInput {
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// The account it posts to (the item's account when omitted).
    #[serde(default)]
    pub account_id: Option<String>,
    /// The item sold.
    #[serde(default)]
    pub item_id: Option<String>,
    /// The tax rate or code.
    #[serde(default)]
    pub tax_rate_id: Option<String>,
    /// Quantity (1 when omitted).
    #[serde(default)]
    pub quantity: Option<Decimal>,
    /// Price of one unit.
    pub unit_price: Decimal,
    /// Discount in percent.
    #[serde(default)]
    pub discount_percent: Option<Decimal>,
}

impl LineInput {
    /// `quantity` units at `unit_price`.
    pub fn new(description: impl Into<String>, quantity: Decimal, unit_price: Decimal) -> Self {
        Self { description: Some(description.into()), quantity: Some(quantity), unit_price, ..Self::default() }
    }

    /// With the item sold.
    #[must_use]
    pub fn item(mut self, item_id: impl Into<String>) -> Self {
        self.item_id = Some(item_id.into());
        self
    }

    /// With the account it posts to.
    #[must_use]
    pub fn account(mut self, account_id: impl Into<String>) -> Self {
        self.account_id = Some(account_id.into());
        self
    }

    /// The line's amount: quantity × unit price, less the discount, rounded to `currency`.
    pub fn amount(&self, currency: Currency) -> Decimal {
        let gross = self.quantity.unwrap_or(Decimal::ONE) * self.unit_price;
        let discount = self.discount_percent.map_or(Decimal::ZERO, |p| gross * p / Decimal::ONE_HUNDRED);
        round_to(gross - discount, currency)
    }

    fn validate(&self, at: &str) -> Result<()> {
        if self.quantity.is_some_and(|q| q.is_sign_negative()) {
            return Err(Error::validation(format!("{at}.quantity"), "a quantity is not negative"));
        }
        if self.unit_price.is_sign_negative() {
            return Err(Error::validation(format!("{at}.unit_price"), "a unit price is not negative"));
        }
        if self.discount_percent.is_some_and(|d| d.is_sign_negative() || d > Decimal::ONE_HUNDRED) {
            return Err(Error::validation(format!("{at}.discount_percent"), "a discount is 0 to 100 percent"));
        }
        if self.item_id.is_none() && self.account_id.is_none() {
            return Err(Error::validation(at.to_owned(), "a line names an item or an account"));
        }
        Ok(())
    }
}

/// A new invoice (or bill).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct InvoiceInput {
    /// Receivable (default) or payable.
    #[serde(default = "receivable")]
    pub kind: InvoiceKind,
    /// The customer's (or supplier's) `remote_id`.
    pub contact_id: String,
    /// The document number (the provider numbers it when omitted and it can).
    #[serde(default)]
    pub number: Option<String>,
    /// Issue date (today at the provider when omitted).
    #[serde(default)]
    pub issue_date: Option<NaiveDate>,
    /// Due date.
    #[serde(default)]
    pub due_date: Option<NaiveDate>,
    /// The currency.
    pub currency: Currency,
    /// The lines (one at least).
    pub lines: Vec<LineInput>,
    /// The customer's reference.
    #[serde(default)]
    pub reference: Option<String>,
    /// An internal note.
    #[serde(default)]
    pub memo: Option<String>,
}

fn receivable() -> InvoiceKind {
    InvoiceKind::Receivable
}

impl InvoiceInput {
    /// A receivable invoice to `contact_id` in `currency` with `lines`.
    pub fn new(contact_id: impl Into<String>, currency: Currency, lines: Vec<LineInput>) -> Self {
        Self {
            kind: InvoiceKind::Receivable,
            contact_id: contact_id.into(),
            number: None,
            issue_date: None,
            due_date: None,
            currency,
            lines,
            reference: None,
            memo: None,
        }
    }

    /// The sum of the lines' amounts, before tax.
    pub fn subtotal(&self) -> Decimal {
        self.lines.iter().map(|l| l.amount(self.currency)).sum()
    }

    /// Checks the invoice before it is sent.
    ///
    /// # Errors
    /// A [`Validation`](integration_core::ErrorKind::Validation) error naming the field: no
    /// lines, a line with neither item nor account, a negative quantity or price, a due date
    /// before the issue date, no contact.
    pub fn validate(&self) -> Result<()> {
        if self.contact_id.trim().is_empty() {
            return Err(Error::validation("contact_id", "an invoice is to a contact"));
        }
        if self.lines.is_empty() {
            return Err(Error::validation("lines", "an invoice has one line at least"));
        }
        for (n, line) in self.lines.iter().enumerate() {
            line.validate(&format!("lines[{n}]"))?;
        }
        if let (Some(issued), Some(due)) = (self.issue_date, self.due_date)
            && due < issued
        {
            return Err(Error::validation("due_date", format!("due {due}, before it is issued ({issued})")));
        }
        Ok(())
    }
}

/// Changes to an invoice, with the version they were made on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct InvoiceUpdate {
    /// The invoice's `version` as read: an invoice changed since is a `Conflict`.
    pub version: String,
    /// A new due date.
    #[serde(default)]
    pub due_date: Option<NaiveDate>,
    /// A new reference.
    #[serde(default)]
    pub reference: Option<String>,
    /// A new internal note.
    #[serde(default)]
    pub memo: Option<String>,
    /// New lines, replacing all of them.
    #[serde(default)]
    pub lines: Option<Vec<LineInput>>,
}

impl InvoiceUpdate {
    /// No change yet, on `version`.
    pub fn on(version: impl Into<String>) -> Self {
        Self { version: version.into(), ..Self::default() }
    }

    /// Checks the update.
    ///
    /// # Errors
    /// A [`Validation`](integration_core::ErrorKind::Validation) error: no version, nothing to
    /// change, a bad line.
    pub fn validate(&self) -> Result<()> {
        if self.version.trim().is_empty() {
            return Err(Error::validation("version", "an update names the version it was made on"));
        }
        if self.due_date.is_none() && self.reference.is_none() && self.memo.is_none() && self.lines.is_none() {
            return Err(Error::validation("update", "nothing to change"));
        }
        if let Some(lines) = &self.lines {
            if lines.is_empty() {
                return Err(Error::validation("lines", "an invoice has one line at least"));
            }
            for (n, line) in lines.iter().enumerate() {
                line.validate(&format!("lines[{n}]"))?;
            }
        }
        Ok(())
    }
}

/// A new contact.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ContactInput {
    /// The name shown on documents (unique at most providers).
    pub name: String,
    /// Company name.
    #[serde(default)]
    pub company_name: Option<String>,
    /// Email.
    #[serde(default)]
    pub email: Option<String>,
    /// Phone.
    #[serde(default)]
    pub phone: Option<String>,
    /// A supplier rather than a customer.
    #[serde(default)]
    pub is_supplier: bool,
    /// The currency it is invoiced in.
    #[serde(default)]
    pub currency: Option<Currency>,
}

impl ContactInput {
    /// A customer named `name`.
    pub fn customer(name: impl Into<String>) -> Self {
        Self { name: name.into(), ..Self::default() }
    }

    /// Checks the contact.
    ///
    /// # Errors
    /// A [`Validation`](integration_core::ErrorKind::Validation) error for a blank name or an
    /// email without `@`.
    pub fn validate(&self) -> Result<()> {
        if self.name.trim().is_empty() {
            return Err(Error::validation("name", "a contact has a name"));
        }
        if self.email.as_deref().is_some_and(|e| !e.contains('@')) {
            return Err(Error::validation("email", "not an email address"));
        }
        Ok(())
    }
}

/// Changes to a contact, with the version they were made on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ContactUpdate {
    /// The contact's `version` as read.
    pub version: String,
    /// A new name.
    #[serde(default)]
    pub name: Option<String>,
    /// A new email.
    #[serde(default)]
    pub email: Option<String>,
    /// A new phone number.
    #[serde(default)]
    pub phone: Option<String>,
    /// A new company name.
    #[serde(default)]
    pub company_name: Option<String>,
}

impl ContactUpdate {
    /// No change yet, on `version`.
    pub fn on(version: impl Into<String>) -> Self {
        Self { version: version.into(), ..Self::default() }
    }

    /// Checks the update.
    ///
    /// # Errors
    /// A [`Validation`](integration_core::ErrorKind::Validation) error: no version, nothing to
    /// change, a blank name, an email without `@`.
    pub fn validate(&self) -> Result<()> {
        if self.version.trim().is_empty() {
            return Err(Error::validation("version", "an update names the version it was made on"));
        }
        if self.name.is_none() && self.email.is_none() && self.phone.is_none() && self.company_name.is_none() {
            return Err(Error::validation("update", "nothing to change"));
        }
        if self.name.as_deref().is_some_and(|n| n.trim().is_empty()) {
            return Err(Error::validation("name", "a contact has a name"));
        }
        if self.email.as_deref().is_some_and(|e| !e.contains('@')) {
            return Err(Error::validation("email", "not an email address"));
        }
        Ok(())
    }
}

/// A payment to record against invoices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct PaymentInput {
    /// Received from a customer (default) or paid to a supplier.
    #[serde(default = "receivable")]
    pub kind: InvoiceKind,
    /// The contact's `remote_id`.
    pub contact_id: String,
    /// The payment date.
    pub date: NaiveDate,
    /// The amount.
    pub amount: Decimal,
    /// Its currency.
    pub currency: Currency,
    /// The account it was paid into (or from).
    #[serde(default)]
    pub account_id: Option<String>,
    /// The payer's reference.
    #[serde(default)]
    pub reference: Option<String>,
    /// The invoices it pays (their sum at most `amount`).
    pub applications: Vec<PaymentApplication>,
}

impl PaymentInput {
    /// `amount` received from customer `contact_id` on `date`, applied as `applications` say.
    pub fn new(
        contact_id: impl Into<String>,
        date: NaiveDate,
        amount: Decimal,
        currency: Currency,
        applications: Vec<PaymentApplication>,
    ) -> Self {
        Self {
            kind: InvoiceKind::Receivable,
            contact_id: contact_id.into(),
            date,
            amount,
            currency,
            account_id: None,
            reference: None,
            applications,
        }
    }

    /// Checks the payment.
    ///
    /// # Errors
    /// A [`Validation`](integration_core::ErrorKind::Validation) error: an amount that is not
    /// positive or has more decimals than the currency, applications above the amount, an
    /// application that is not positive.
    pub fn validate(&self) -> Result<()> {
        check_amount("amount", self.amount, self.currency)?;
        if self.amount <= Decimal::ZERO {
            return Err(Error::validation("amount", "a payment is positive"));
        }
        let mut applied = Decimal::ZERO;
        for (n, application) in self.applications.iter().enumerate() {
            check_amount(&format!("applications[{n}].amount"), application.amount, self.currency)?;
            if application.amount <= Decimal::ZERO {
                return Err(Error::validation(format!("applications[{n}].amount"), "an application is positive"));
            }
            applied += application.amount;
        }
        if applied > self.amount {
            return Err(Error::validation(
                "applications",
                format!(
                    "{applied} {} applied, more than the payment's {} {}",
                    self.currency.code(),
                    self.amount,
                    self.currency.code()
                ),
            ));
        }
        Ok(())
    }
}

/// A journal entry to post.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct JournalEntryInput {
    /// The entry's number (its name in errors).
    #[serde(default)]
    pub number: Option<String>,
    /// The posting date.
    pub date: NaiveDate,
    /// Narration.
    #[serde(default)]
    pub memo: Option<String>,
    /// The currency of lines that do not name their own.
    pub currency: Currency,
    /// Debits positive, credits negative; they sum to zero in each currency.
    pub lines: Vec<JournalLine>,
}

impl JournalEntryInput {
    /// An entry of `lines` on `date` in `currency`.
    pub fn new(date: NaiveDate, currency: Currency, lines: Vec<JournalLine>) -> Self {
        Self { number: None, date, memo: None, currency, lines }
    }

    /// How the lines sum in each currency (every sum is zero in a balanced entry).
    pub fn sums(&self) -> BTreeMap<Currency, Decimal> {
        let mut sums = BTreeMap::new();
        for line in &self.lines {
            *sums.entry(line.currency.unwrap_or(self.currency)).or_insert(Decimal::ZERO) += line.amount;
        }
        sums
    }

    /// Checks the entry: two lines at least, each with an account and a non-zero amount in its
    /// currency's decimals, summing to zero in each currency.
    ///
    /// ```
    /// use integration_accounting::{Currency, Decimal, JournalEntryInput, JournalLine};
    ///
    /// let date = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    /// let mut entry = JournalEntryInput::new(date, Currency::EUR, vec![
    ///     JournalLine::debit("6000", Decimal::new(12000, 2)),
    ///     JournalLine::credit("1200", Decimal::new(11000, 2)),
    /// ]);
    /// entry.number = Some("JE-7".into());
    /// let error = entry.validate().unwrap_err();
    /// assert_eq!(error.field(), Some("lines"));
    /// assert!(error.to_string().contains("JE-7"), "{error}");
    /// assert!(error.to_string().contains("EUR 10.00"), "{error}");
    /// ```
    ///
    /// # Errors
    /// A [`Validation`](integration_core::ErrorKind::Validation) error naming the entry (its
    /// number, else its date and memo) and the field.
    pub fn validate(&self) -> Result<()> {
        let name = self.name();
        let refuse = |field: String, why: String| Err(Error::validation(field, format!("journal entry {name}: {why}")));
        if self.lines.len() < 2 {
            return refuse("lines".into(), "an entry has two lines at least".into());
        }
        for (n, line) in self.lines.iter().enumerate() {
            if line.account_id.trim().is_empty() {
                return refuse(format!("lines[{n}].account_id"), "each line names an account".into());
            }
            if line.amount.is_zero() {
                return refuse(format!("lines[{n}].amount"), "a line is a debit or a credit, not zero".into());
            }
            check_amount(&format!("lines[{n}].amount"), line.amount, line.currency.unwrap_or(self.currency)).map_err(
                |e| Error::validation(format!("lines[{n}].amount"), format!("journal entry {name}: {}", e.message())),
            )?;
        }
        let unbalanced: Vec<String> = self
            .sums()
            .into_iter()
            .filter(|(_, sum)| !sum.is_zero())
            .map(|(currency, sum)| {
                let side = if sum.is_sign_positive() { "more debit than credit" } else { "more credit than debit" };
                format!("{} {} {side}", currency.code(), sum.abs())
            })
            .collect();
        if !unbalanced.is_empty() {
            return refuse("lines".into(), format!("the lines do not sum to zero: {}", unbalanced.join(", ")));
        }
        Ok(())
    }

    fn name(&self) -> String {
        match (&self.number, &self.memo) {
            (Some(number), _) => number.clone(),
            (None, Some(memo)) => format!("of {} ({memo:?})", self.date),
            (None, None) => format!("of {}", self.date),
        }
    }
}

/// `amount` written with `currency`'s decimals at least (`2400.0` dollars reads `2400.00`),
/// never dropping a digit: how an amount a provider sent as a JSON number is kept.
pub fn in_currency(amount: Decimal, currency: Currency) -> Decimal {
    let places = currency.exponent().map_or(2, u32::from);
    let mut scaled = amount;
    if scaled.scale() < places {
        scaled.rescale(places);
    }
    scaled
}

/// `amount` rounded to `currency`'s decimals (half away from zero, as invoices round).
pub fn round_to(amount: Decimal, currency: Currency) -> Decimal {
    let places = currency.exponent().map_or(2, u32::from);
    amount.round_dp_with_strategy(places, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
}

/// An amount as a JSON number, checked to read back exactly: providers' JSON readers hold a
/// number in a double, so 17 significant digits and more would not survive — refused instead.
#[cfg_attr(not(any(feature = "quickbooks", feature = "xero")), allow(dead_code))]
pub(crate) fn json_number(field: &str, amount: Decimal) -> Result<serde_json::Value> {
    let text = amount.normalize().to_string();
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| Error::validation(field.to_owned(), format!("{amount} is not a number: {e}")))?;
    let back = value.to_string();
    match std::str::FromStr::from_str(&back).or_else(|_| Decimal::from_scientific(&back)) {
        Ok(read) if read == amount => Ok(value),
        _ => Err(Error::validation(field.to_owned(), format!("{amount} has more digits than a provider keeps"))),
    }
}

/// Refuses an amount with more decimals than `currency` has (`10.001` dollars).
fn check_amount(field: &str, amount: Decimal, currency: Currency) -> Result<()> {
    let places = currency.exponent().map_or(2, u32::from);
    if amount.normalize().scale() > places {
        return Err(Error::validation(
            field.to_owned(),
            format!("{amount} has more decimals than {} has ({places})", currency.code()),
        ));
    }
    Ok(())
}
