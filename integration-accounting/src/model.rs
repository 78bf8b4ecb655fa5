//! The common accounting model every adapter maps its provider onto.
//!
//! Each record is a [`Remote<T>`](crate::Remote) (the domain kit's envelope: `remote_id`,
//! created and modified times, the deletion flag, the provider's raw JSON) around the fields
//! here. Money is a [`Decimal`] beside an ISO 4217 [`Currency`] — the record's, for every amount
//! on it — serialized as strings, never floating point; dates without a time are
//! [`NaiveDate`]; `version` is the provider's concurrency token (QuickBooks `SyncToken`, Xero
//! `UpdatedDateUTC`), handed back with an update so a stale one is refused.

use chrono::NaiveDate;
use iso_currency::Currency;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::vocabulary::{
    AccountClassification, BankDirection, InvoiceKind, InvoiceStatus, PostingStatus, RecordStatus,
};

/// An account of the chart of accounts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Account {
    /// The account's name.
    pub name: String,
    /// The account number or code (`1200`), when the company numbers its accounts.
    pub number: Option<String>,
    /// A description.
    pub description: Option<String>,
    /// Asset, liability, equity, revenue or expense.
    pub classification: Option<AccountClassification>,
    /// The provider's account type (`Bank`, `Accounts Receivable`, `CURRENT`...), as written.
    pub account_type: Option<String>,
    /// The parent account's `remote_id`, for a sub-account.
    pub parent_id: Option<String>,
    /// Active or archived.
    pub status: Option<RecordStatus>,
    /// The balance the provider reports, in `currency`.
    pub current_balance: Option<Decimal>,
    /// The account's currency (the company's home currency when the provider leaves it out).
    pub currency: Option<Currency>,
}

/// A customer, a supplier, or both.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Contact {
    /// The name shown on documents.
    pub name: String,
    /// The company's legal or trading name, when it differs.
    pub company_name: Option<String>,
    /// Email address.
    pub email: Option<String>,
    /// Phone number, as written.
    pub phone: Option<String>,
    /// Whether the company sells to it.
    pub is_customer: bool,
    /// Whether the company buys from it.
    pub is_supplier: bool,
    /// Active or archived.
    pub status: Option<RecordStatus>,
    /// The currency it is invoiced in.
    pub currency: Option<Currency>,
    /// What it owes (positive) or is owed, as the provider reports it, in `currency`.
    pub balance: Option<Decimal>,
    /// The provider's concurrency token.
    pub version: Option<String>,
}

/// A product or service sold or bought.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Item {
    /// Name.
    pub name: String,
    /// Code or SKU.
    pub code: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// The sales price.
    pub unit_price: Option<Decimal>,
    /// The purchase cost.
    pub purchase_cost: Option<Decimal>,
    /// The revenue account's `remote_id`.
    pub income_account_id: Option<String>,
    /// The expense account's `remote_id`.
    pub expense_account_id: Option<String>,
    /// Active or archived.
    pub status: Option<RecordStatus>,
}

/// A tax rate.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TaxRate {
    /// Name (`GST on Income`, `CA Sales Tax`).
    pub name: String,
    /// The rate in percent (`8.25`).
    pub rate: Option<Decimal>,
    /// Active or archived.
    pub status: Option<RecordStatus>,
}

/// A tracking category (a class, a department, a region) or one of its options.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TrackingCategory {
    /// Name.
    pub name: String,
    /// The parent category's `remote_id`, for a sub-category or an option.
    pub parent_id: Option<String>,
    /// Active or archived.
    pub status: Option<RecordStatus>,
}

/// A line of an invoice or credit note.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LineItem {
    /// The provider's id for the line.
    pub line_id: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// The account it posts to.
    pub account_id: Option<String>,
    /// The item sold or bought.
    pub item_id: Option<String>,
    /// The tax rate or code applied.
    pub tax_rate_id: Option<String>,
    /// Tracking categories (or options) it is tagged with.
    pub tracking_ids: Vec<String>,
    /// Quantity.
    pub quantity: Option<Decimal>,
    /// Price of one unit.
    pub unit_price: Option<Decimal>,
    /// Discount in percent.
    pub discount_percent: Option<Decimal>,
    /// The line's amount (after discount, before tax unless the provider says otherwise).
    pub amount: Decimal,
    /// Tax on the line.
    pub tax_amount: Option<Decimal>,
}

/// A payment applied to an invoice, as the invoice lists it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AppliedPayment {
    /// The payment's `remote_id`.
    pub payment_id: String,
    /// The amount applied, in the invoice's currency (when the provider says).
    pub amount: Option<Decimal>,
    /// When.
    pub date: Option<NaiveDate>,
}

/// An invoice (receivable) or a bill (payable).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Invoice {
    /// Receivable or payable.
    pub kind: InvoiceKind,
    /// The document number.
    pub number: Option<String>,
    /// The customer's or supplier's `remote_id`.
    pub contact_id: Option<String>,
    /// Issue date.
    pub issue_date: Option<NaiveDate>,
    /// Due date.
    pub due_date: Option<NaiveDate>,
    /// When it was fully paid.
    pub paid_date: Option<NaiveDate>,
    /// Draft, submitted, open, partially paid, paid, void.
    pub status: InvoiceStatus,
    /// The invoice's currency: every amount on it is in it.
    pub currency: Currency,
    /// Units of the home currency per unit of `currency`, when they differ.
    pub exchange_rate: Option<Decimal>,
    /// The lines.
    pub lines: Vec<LineItem>,
    /// Sum of the lines before tax.
    pub subtotal: Option<Decimal>,
    /// Tax.
    pub tax_total: Option<Decimal>,
    /// The total.
    pub total: Decimal,
    /// What is still owed.
    pub balance: Decimal,
    /// Payments applied to it.
    pub payments: Vec<AppliedPayment>,
    /// The customer's reference (a purchase order number).
    pub reference: Option<String>,
    /// An internal note.
    pub memo: Option<String>,
    /// The provider's concurrency token.
    pub version: Option<String>,
}

impl Default for Invoice {
    fn default() -> Self {
        Self {
            kind: InvoiceKind::Receivable,
            number: None,
            contact_id: None,
            issue_date: None,
            due_date: None,
            paid_date: None,
            status: InvoiceStatus::Open,
            currency: Currency::XXX,
            exchange_rate: None,
            lines: Vec::new(),
            subtotal: None,
            tax_total: None,
            total: Decimal::ZERO,
            balance: Decimal::ZERO,
            payments: Vec::new(),
            reference: None,
            memo: None,
            version: None,
        }
    }
}

impl Invoice {
    /// What has been paid: the total less the balance.
    pub fn amount_paid(&self) -> Decimal {
        self.total - self.balance
    }
}

/// A credit note (a customer's credit, or a supplier's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CreditNote {
    /// Receivable (to a customer) or payable (from a supplier).
    pub kind: InvoiceKind,
    /// The document number.
    pub number: Option<String>,
    /// The contact's `remote_id`.
    pub contact_id: Option<String>,
    /// Issue date.
    pub issue_date: Option<NaiveDate>,
    /// Status, as for invoices.
    pub status: InvoiceStatus,
    /// Currency of every amount on it.
    pub currency: Currency,
    /// The lines.
    pub lines: Vec<LineItem>,
    /// The total.
    pub total: Decimal,
    /// The credit not yet used.
    pub remaining_credit: Option<Decimal>,
    /// The provider's concurrency token.
    pub version: Option<String>,
}

impl Default for CreditNote {
    fn default() -> Self {
        Self {
            kind: InvoiceKind::Receivable,
            number: None,
            contact_id: None,
            issue_date: None,
            status: InvoiceStatus::Open,
            currency: Currency::XXX,
            lines: Vec::new(),
            total: Decimal::ZERO,
            remaining_credit: None,
            version: None,
        }
    }
}

/// Part of a payment applied to an invoice (or one of its lines).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PaymentApplication {
    /// The invoice's `remote_id`.
    pub invoice_id: String,
    /// The line's id, when the payment is applied to one line.
    #[serde(default)]
    pub line_id: Option<String>,
    /// The amount applied, in the payment's currency.
    pub amount: Decimal,
}

impl PaymentApplication {
    /// `amount` of the payment applied to invoice `invoice_id`.
    pub fn new(invoice_id: impl Into<String>, amount: Decimal) -> Self {
        Self { invoice_id: invoice_id.into(), line_id: None, amount }
    }
}

/// A payment received from a customer or made to a supplier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Payment {
    /// Receivable (received) or payable (paid out).
    pub kind: InvoiceKind,
    /// The contact's `remote_id`.
    pub contact_id: Option<String>,
    /// The payment date.
    pub date: Option<NaiveDate>,
    /// The amount.
    pub amount: Decimal,
    /// Its currency.
    pub currency: Currency,
    /// Units of the home currency per unit of `currency`, when they differ.
    pub exchange_rate: Option<Decimal>,
    /// The payer's reference (a check number, a transfer reference).
    pub reference: Option<String>,
    /// The bank or clearing account it was paid into or from.
    pub account_id: Option<String>,
    /// The invoices it pays.
    pub applied_to: Vec<PaymentApplication>,
    /// What is not applied to any invoice.
    pub unapplied_amount: Option<Decimal>,
    /// Posted or void.
    pub status: PostingStatus,
    /// The provider's concurrency token.
    pub version: Option<String>,
}

impl Default for Payment {
    fn default() -> Self {
        Self {
            kind: InvoiceKind::Receivable,
            contact_id: None,
            date: None,
            amount: Decimal::ZERO,
            currency: Currency::XXX,
            exchange_rate: None,
            reference: None,
            account_id: None,
            applied_to: Vec::new(),
            unapplied_amount: None,
            status: PostingStatus::Posted,
            version: None,
        }
    }
}

/// A line of a journal entry: a debit (positive `amount`) or a credit (negative).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct JournalLine {
    /// The account's `remote_id`.
    pub account_id: String,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Debit positive, credit negative.
    pub amount: Decimal,
    /// The line's currency, when it is not the entry's.
    #[serde(default)]
    pub currency: Option<Currency>,
    /// Tracking categories (or options) it is tagged with.
    #[serde(default)]
    pub tracking_ids: Vec<String>,
}

impl JournalLine {
    /// A debit of `amount` (positive) to `account_id`.
    pub fn debit(account_id: impl Into<String>, amount: Decimal) -> Self {
        Self { account_id: account_id.into(), amount: amount.abs(), ..Self::default() }
    }

    /// A credit of `amount` (positive) to `account_id`.
    pub fn credit(account_id: impl Into<String>, amount: Decimal) -> Self {
        Self { account_id: account_id.into(), amount: -amount.abs(), ..Self::default() }
    }
}

/// A journal entry: lines that sum to zero in each currency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct JournalEntry {
    /// The entry's number.
    pub number: Option<String>,
    /// The posting date.
    pub date: Option<NaiveDate>,
    /// Narration.
    pub memo: Option<String>,
    /// The currency of lines that do not name their own.
    pub currency: Currency,
    /// The lines.
    pub lines: Vec<JournalLine>,
    /// Posted, draft or void.
    pub status: PostingStatus,
    /// The provider's concurrency token.
    pub version: Option<String>,
}

impl Default for JournalEntry {
    fn default() -> Self {
        Self {
            number: None,
            date: None,
            memo: None,
            currency: Currency::XXX,
            lines: Vec::new(),
            status: PostingStatus::Posted,
            version: None,
        }
    }
}

/// A bank line: money into or out of a bank account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BankTransaction {
    /// The bank account's `remote_id`.
    pub account_id: Option<String>,
    /// In or out.
    pub direction: BankDirection,
    /// The date.
    pub date: Option<NaiveDate>,
    /// The amount (positive).
    pub amount: Decimal,
    /// Its currency.
    pub currency: Currency,
    /// Description or payee.
    pub description: Option<String>,
    /// Reference (a check number, a transfer reference).
    pub reference: Option<String>,
    /// The contact's `remote_id`, when known.
    pub contact_id: Option<String>,
    /// Whether it is reconciled in the provider.
    pub reconciled: bool,
    /// Posted or void.
    pub status: PostingStatus,
}

impl Default for BankTransaction {
    fn default() -> Self {
        Self {
            account_id: None,
            direction: BankDirection::Received,
            date: None,
            amount: Decimal::ZERO,
            currency: Currency::XXX,
            description: None,
            reference: None,
            contact_id: None,
            reconciled: false,
            status: PostingStatus::Posted,
        }
    }
}
