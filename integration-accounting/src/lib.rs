//! The accounting domain: the [`Accounting`] trait, a common model ([`Account`], [`Contact`],
//! [`Item`], [`TaxRate`], [`TrackingCategory`], [`Invoice`], [`CreditNote`], [`Payment`],
//! [`JournalEntry`], [`BankTransaction`]), writes that are idempotent and refuse stale updates,
//! [`reconcile`] (payments and bank lines matched with invoices, by rules, into a report) and
//! [`chart`] (the host's account codes mapped onto a connection's chart of accounts).
//!
//! Money is [`Decimal`] with an ISO 4217 [`Currency`] everywhere — never floating point — and a
//! journal entry whose lines do not sum to zero in each currency is refused before it is sent:
//!
//! ```
//! use integration_accounting::{Currency, Decimal, JournalEntryInput, JournalLine};
//!
//! let date = chrono::NaiveDate::from_ymd_opt(2026, 12, 31).unwrap();
//! let accrual = JournalEntryInput::new(date, Currency::USD, vec![
//!     JournalLine::debit("6100", Decimal::new(125_000, 2)),   // rent expense 1,250.00
//!     JournalLine::credit("2100", Decimal::new(125_000, 2)),  // accrued liabilities
//! ]);
//! accrual.validate()?;
//!
//! let mut typo = accrual.clone();
//! typo.lines[1] = JournalLine::credit("2100", Decimal::new(12_500, 2));
//! let error = typo.validate().unwrap_err();
//! assert_eq!(error.field(), Some("lines"));
//! assert!(error.to_string().contains("USD 1125.00 more debit than credit"), "{error}");
//! # Ok::<(), integration_core::Error>(())
//! ```
//!
//! Adapters implement [`Integration`](integration_core::Integration) with `read` delegating to
//! [`read`], and the [`Accounting`] methods their provider supports.

#![cfg_attr(docsrs, feature(doc_cfg))]

mod accounting;
mod adapter;
pub mod chart;
mod mapped;
mod model;
pub mod prelude;
pub mod reconcile;
pub mod streams;
mod vocabulary;
mod write;

#[cfg(feature = "quickbooks")]
#[cfg_attr(docsrs, doc(cfg(feature = "quickbooks")))]
pub mod quickbooks;
#[cfg(feature = "xero")]
#[cfg_attr(docsrs, doc(cfg(feature = "xero")))]
pub mod xero;

pub use accounting::{Accounting, capability};
pub use adapter::{Adapter, AdapterFactory, build, descriptor, register_all};
pub use integration_core::domain::{ListRequest, Listing, Remote};
pub use iso_currency::Currency;
pub use model::{
    Account, AppliedPayment, BankTransaction, Contact, CreditNote, Invoice, Item, JournalEntry, JournalLine, LineItem,
    Payment, PaymentApplication, TaxRate, TrackingCategory,
};
pub use rust_decimal::Decimal;
pub use streams::{STREAMS, read};
pub use vocabulary::{AccountClassification, BankDirection, InvoiceKind, InvoiceStatus, PostingStatus, RecordStatus};
pub use write::{
    ContactInput, ContactUpdate, InvoiceInput, InvoiceUpdate, JournalEntryInput, LineInput, OperationKey, PaymentInput,
    in_currency, round_to,
};
