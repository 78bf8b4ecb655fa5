//! The accounting operations through a connection's field mappings: what `build` returns when
//! the connection has some ([`integration_core::mapping`]). Each listing and single read is
//! mapped and checked as its stream's records are in a sync; a write is passed through, its
//! answer mapped like a read.

use async_trait::async_trait;
use integration_core::Result;
use integration_core::domain::{ListRequest, Listing, Remote};
use integration_core::mapping::Mapped;

use crate::accounting::Accounting;
use crate::model::{
    Account, BankTransaction, Contact, CreditNote, Invoice, Item, JournalEntry, Payment, TaxRate, TrackingCategory,
};
use crate::write::{
    ContactInput, ContactUpdate, InvoiceInput, InvoiceUpdate, JournalEntryInput, OperationKey, PaymentInput,
};

#[async_trait]
impl Accounting for Mapped<dyn Accounting> {
    async fn accounts(&self, request: ListRequest) -> Result<Listing<Account>> {
        self.listing("accounts", self.inner().accounts(request).await)
    }

    async fn contacts(&self, request: ListRequest) -> Result<Listing<Contact>> {
        self.listing("contacts", self.inner().contacts(request).await)
    }

    async fn invoices(&self, request: ListRequest) -> Result<Listing<Invoice>> {
        self.listing("invoices", self.inner().invoices(request).await)
    }

    async fn items(&self, request: ListRequest) -> Result<Listing<Item>> {
        self.listing("items", self.inner().items(request).await)
    }

    async fn tax_rates(&self, request: ListRequest) -> Result<Listing<TaxRate>> {
        self.listing("tax_rates", self.inner().tax_rates(request).await)
    }

    async fn tracking_categories(&self, request: ListRequest) -> Result<Listing<TrackingCategory>> {
        self.listing("tracking_categories", self.inner().tracking_categories(request).await)
    }

    async fn credit_notes(&self, request: ListRequest) -> Result<Listing<CreditNote>> {
        self.listing("credit_notes", self.inner().credit_notes(request).await)
    }

    async fn payments(&self, request: ListRequest) -> Result<Listing<Payment>> {
        self.listing("payments", self.inner().payments(request).await)
    }

    async fn journal_entries(&self, request: ListRequest) -> Result<Listing<JournalEntry>> {
        self.listing("journal_entries", self.inner().journal_entries(request).await)
    }

    async fn bank_transactions(&self, request: ListRequest) -> Result<Listing<BankTransaction>> {
        self.listing("bank_transactions", self.inner().bank_transactions(request).await)
    }

    async fn invoice(&self, remote_id: &str) -> Result<Remote<Invoice>> {
        self.one("invoices", self.inner().invoice(remote_id).await)
    }

    async fn contact(&self, remote_id: &str) -> Result<Remote<Contact>> {
        self.one("contacts", self.inner().contact(remote_id).await)
    }

    async fn create_invoice(&self, operation: &OperationKey, invoice: &InvoiceInput) -> Result<Remote<Invoice>> {
        self.one("invoices", self.inner().create_invoice(operation, invoice).await)
    }

    async fn update_invoice(&self, remote_id: &str, update: &InvoiceUpdate) -> Result<Remote<Invoice>> {
        self.one("invoices", self.inner().update_invoice(remote_id, update).await)
    }

    async fn void_invoice(&self, remote_id: &str, version: &str) -> Result<Remote<Invoice>> {
        self.one("invoices", self.inner().void_invoice(remote_id, version).await)
    }

    async fn create_contact(&self, operation: &OperationKey, contact: &ContactInput) -> Result<Remote<Contact>> {
        self.one("contacts", self.inner().create_contact(operation, contact).await)
    }

    async fn update_contact(&self, remote_id: &str, update: &ContactUpdate) -> Result<Remote<Contact>> {
        self.one("contacts", self.inner().update_contact(remote_id, update).await)
    }

    async fn record_payment(&self, operation: &OperationKey, payment: &PaymentInput) -> Result<Remote<Payment>> {
        self.one("payments", self.inner().record_payment(operation, payment).await)
    }

    async fn post_journal_entry(
        &self,
        operation: &OperationKey,
        entry: &JournalEntryInput,
    ) -> Result<Remote<JournalEntry>> {
        self.one("journal_entries", self.inner().post_journal_entry(operation, entry).await)
    }
}
