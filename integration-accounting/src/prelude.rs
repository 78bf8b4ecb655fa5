//! What an accounting adapter uses, in one import: `use integration_accounting::prelude::*;`.
//!
//! The domain (the [`Accounting`] trait, its model, vocabulary and write inputs, [`Adapter`],
//! [`descriptor`]) and the domain kit's prelude (the core contracts an adapter implements,
//! reading provider records, the HTTP client).

pub use integration_core::domain::prelude::*;
pub use iso_currency::Currency;
pub use rust_decimal::Decimal;

pub use crate::accounting::{Accounting, capability};
pub use crate::adapter::{Adapter, descriptor};
pub use crate::model::{
    Account, AppliedPayment, BankTransaction, Contact, CreditNote, Invoice, Item, JournalEntry, JournalLine, LineItem,
    Payment, PaymentApplication, TaxRate, TrackingCategory,
};
pub use crate::vocabulary::{
    AccountClassification, BankDirection, InvoiceKind, InvoiceStatus, PostingStatus, RecordStatus,
};
pub use crate::write::{
    ContactInput, ContactUpdate, InvoiceInput, InvoiceUpdate, JournalEntryInput, LineInput, OperationKey, PaymentInput,
    in_currency, round_to,
};
