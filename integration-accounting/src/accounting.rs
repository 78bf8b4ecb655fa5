//! The [`Accounting`] trait: what an accounting adapter can do, each operation behind a
//! [`capability`] its descriptor declares.

use async_trait::async_trait;
use integration_core::domain::{ListRequest, Listing, Remote};
use integration_core::{Integration, Result};

use crate::model::{
    Account, BankTransaction, Contact, CreditNote, Invoice, Item, JournalEntry, Payment, TaxRate, TrackingCategory,
};
use crate::write::{
    ContactInput, ContactUpdate, InvoiceInput, InvoiceUpdate, JournalEntryInput, OperationKey, PaymentInput,
};

/// The capabilities an accounting adapter may declare.
pub mod capability {
    use integration_core::Capability;

    /// Listings take `since` (changes at or after it, deletions as tombstones): incremental sync.
    pub const CHANGES: Capability = Capability::from_static("accounting.changes");
    /// Items.
    pub const ITEMS: Capability = Capability::from_static("accounting.items");
    /// Tax rates.
    pub const TAX_RATES: Capability = Capability::from_static("accounting.tax_rates");
    /// Tracking categories.
    pub const TRACKING_CATEGORIES: Capability = Capability::from_static("accounting.tracking_categories");
    /// Credit notes.
    pub const CREDIT_NOTES: Capability = Capability::from_static("accounting.credit_notes");
    /// Payments.
    pub const PAYMENTS: Capability = Capability::from_static("accounting.payments");
    /// Journal entries.
    pub const JOURNAL_ENTRIES: Capability = Capability::from_static("accounting.journal_entries");
    /// Bank transactions.
    pub const BANK_TRANSACTIONS: Capability = Capability::from_static("accounting.bank_transactions");
    /// Create, update and void invoices.
    pub const INVOICE_WRITE: Capability = Capability::from_static("accounting.invoice_write");
    /// Create and update contacts.
    pub const CONTACT_WRITE: Capability = Capability::from_static("accounting.contact_write");
    /// Record payments against invoices.
    pub const PAYMENT_WRITE: Capability = Capability::from_static("accounting.payment_write");
    /// Post journal entries.
    pub const JOURNAL_WRITE: Capability = Capability::from_static("accounting.journal_write");
}

/// An accounting system: its chart of accounts, contacts, invoices and what pays them.
///
/// Listings page with `request.cursor`; with `request.since` (an adapter declaring
/// [`capability::CHANGES`]) they list what changed at or after it, deletions as tombstones.
/// Writes check their input first ([`InvoiceInput::validate`]...), carry an idempotency key
/// derived from the caller's [`OperationKey`] (a create retried after a timeout that reached the
/// provider makes one record), and refuse a stale `version` with a
/// [`Conflict`](integration_core::ErrorKind::Conflict), never overwriting.
#[async_trait]
pub trait Accounting: Integration {
    /// The chart of accounts.
    async fn accounts(&self, request: ListRequest) -> Result<Listing<Account>>;

    /// Customers and suppliers.
    async fn contacts(&self, request: ListRequest) -> Result<Listing<Contact>>;

    /// Invoices and bills.
    async fn invoices(&self, request: ListRequest) -> Result<Listing<Invoice>>;

    /// One invoice.
    async fn invoice(&self, remote_id: &str) -> Result<Remote<Invoice>>;

    /// One contact.
    async fn contact(&self, remote_id: &str) -> Result<Remote<Contact>> {
        let _ = remote_id;
        Err(self.unsupported("contact"))
    }

    /// Items ([`capability::ITEMS`]).
    async fn items(&self, request: ListRequest) -> Result<Listing<Item>> {
        let _ = request;
        Err(self.unsupported("items"))
    }

    /// Tax rates ([`capability::TAX_RATES`]).
    async fn tax_rates(&self, request: ListRequest) -> Result<Listing<TaxRate>> {
        let _ = request;
        Err(self.unsupported("tax_rates"))
    }

    /// Tracking categories ([`capability::TRACKING_CATEGORIES`]).
    async fn tracking_categories(&self, request: ListRequest) -> Result<Listing<TrackingCategory>> {
        let _ = request;
        Err(self.unsupported("tracking_categories"))
    }

    /// Credit notes ([`capability::CREDIT_NOTES`]).
    async fn credit_notes(&self, request: ListRequest) -> Result<Listing<CreditNote>> {
        let _ = request;
        Err(self.unsupported("credit_notes"))
    }

    /// Payments ([`capability::PAYMENTS`]).
    async fn payments(&self, request: ListRequest) -> Result<Listing<Payment>> {
        let _ = request;
        Err(self.unsupported("payments"))
    }

    /// Journal entries ([`capability::JOURNAL_ENTRIES`]).
    async fn journal_entries(&self, request: ListRequest) -> Result<Listing<JournalEntry>> {
        let _ = request;
        Err(self.unsupported("journal_entries"))
    }

    /// Bank transactions ([`capability::BANK_TRANSACTIONS`]).
    async fn bank_transactions(&self, request: ListRequest) -> Result<Listing<BankTransaction>> {
        let _ = request;
        Err(self.unsupported("bank_transactions"))
    }

    /// Creates an invoice ([`capability::INVOICE_WRITE`]); the same `operation` again returns
    /// the invoice the first call made.
    async fn create_invoice(&self, operation: &OperationKey, invoice: &InvoiceInput) -> Result<Remote<Invoice>> {
        let _ = (operation, invoice);
        Err(self.unsupported("create_invoice"))
    }

    /// Changes an invoice made on `update.version`; a newer invoice is a `Conflict`.
    async fn update_invoice(&self, remote_id: &str, update: &InvoiceUpdate) -> Result<Remote<Invoice>> {
        let _ = (remote_id, update);
        Err(self.unsupported("update_invoice"))
    }

    /// Voids an invoice read at `version`.
    async fn void_invoice(&self, remote_id: &str, version: &str) -> Result<Remote<Invoice>> {
        let _ = (remote_id, version);
        Err(self.unsupported("void_invoice"))
    }

    /// Creates a contact ([`capability::CONTACT_WRITE`]).
    async fn create_contact(&self, operation: &OperationKey, contact: &ContactInput) -> Result<Remote<Contact>> {
        let _ = (operation, contact);
        Err(self.unsupported("create_contact"))
    }

    /// Changes a contact made on `update.version`; a newer contact is a `Conflict`.
    async fn update_contact(&self, remote_id: &str, update: &ContactUpdate) -> Result<Remote<Contact>> {
        let _ = (remote_id, update);
        Err(self.unsupported("update_contact"))
    }

    /// Records a payment against invoices ([`capability::PAYMENT_WRITE`]).
    async fn record_payment(&self, operation: &OperationKey, payment: &PaymentInput) -> Result<Remote<Payment>> {
        let _ = (operation, payment);
        Err(self.unsupported("record_payment"))
    }

    /// Posts a journal entry ([`capability::JOURNAL_WRITE`]); an unbalanced one is refused
    /// before anything is sent.
    async fn post_journal_entry(
        &self,
        operation: &OperationKey,
        entry: &JournalEntryInput,
    ) -> Result<Remote<JournalEntry>> {
        let _ = (operation, entry);
        Err(self.unsupported("post_journal_entry"))
    }
}
