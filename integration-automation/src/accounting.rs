//! The accounting domain's write operations as actions. Each create passes the step's
//! idempotency key as the [`OperationKey`]: a step run again after a crash (same key) makes
//! one invoice, contact, payment or journal entry, never two.
//!
//! | action | input | operation |
//! |---|---|---|
//! | `accounting.create_invoice` | `connection`, `invoice` (an [`InvoiceInput`]) | [`Accounting::create_invoice`] |
//! | `accounting.update_invoice` | `connection`, `invoice_id`, `update` (an [`InvoiceUpdate`] with its `version`) | [`Accounting::update_invoice`] |
//! | `accounting.void_invoice` | `connection`, `invoice_id`, `version` | [`Accounting::void_invoice`] |
//! | `accounting.create_contact` | `connection`, `contact` (a [`ContactInput`]) | [`Accounting::create_contact`] |
//! | `accounting.update_contact` | `connection`, `contact_id`, `update` (a [`ContactUpdate`]) | [`Accounting::update_contact`] |
//! | `accounting.record_payment` | `connection`, `payment` (a [`PaymentInput`]) | [`Accounting::record_payment`] |
//! | `accounting.post_journal_entry` | `connection`, `entry` (a [`JournalEntryInput`]) | [`Accounting::post_journal_entry`] |
//!
//! The output is the record as the provider answered it (the common model with its envelope).

use std::sync::Arc;

use async_trait::async_trait;
use integration_accounting::{
    Accounting, ContactInput, ContactUpdate, InvoiceInput, InvoiceUpdate, JournalEntryInput, OperationKey, PaymentInput,
};
use integration_core::{ConnectionId, Error, ErrorKind, Result, TenantId};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::action::{Action, ActionCall, ActionSchema, InputField, InputKind};
use crate::connections::StaticConnections;

/// Finds a tenant's accounting connection for an action.
#[async_trait]
pub trait AccountingConnections: Send + Sync + std::fmt::Debug {
    /// The adapter for `tenant`'s `connection`; `NotFound` when there is none.
    async fn accounting(&self, tenant: &TenantId, connection: &ConnectionId) -> Result<Arc<dyn Accounting>>;
}

/// Accounting connections built by the host and registered here.
pub type StaticAccounting = StaticConnections<dyn Accounting>;

#[async_trait]
impl AccountingConnections for StaticConnections<dyn Accounting> {
    async fn accounting(&self, tenant: &TenantId, connection: &ConnectionId) -> Result<Arc<dyn Accounting>> {
        self.get(tenant, connection, "accounting")
    }
}

/// The write operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Write {
    CreateInvoice,
    UpdateInvoice,
    VoidInvoice,
    CreateContact,
    UpdateContact,
    RecordPayment,
    PostJournalEntry,
}

const WRITES: [Write; 7] = [
    Write::CreateInvoice,
    Write::UpdateInvoice,
    Write::VoidInvoice,
    Write::CreateContact,
    Write::UpdateContact,
    Write::RecordPayment,
    Write::PostJournalEntry,
];

/// Every accounting write operation as an action.
pub fn actions(connections: Arc<dyn AccountingConnections>) -> Vec<Arc<dyn Action>> {
    WRITES
        .iter()
        .map(|&write| Arc::new(AccountingWrite { write, connections: connections.clone() }) as Arc<dyn Action>)
        .collect()
}

/// One accounting write as an action.
#[derive(Debug)]
struct AccountingWrite {
    write: Write,
    connections: Arc<dyn AccountingConnections>,
}

fn field(name: &str, kind: InputKind, description: &str) -> InputField {
    InputField::required(name, kind).describe(description)
}

/// `input[name]` decoded as `T`, or a `Validation` error naming it.
fn decode<T: DeserializeOwned>(input: &Value, name: &str, what: &str) -> Result<T> {
    serde_json::from_value(input[name].clone())
        .map_err(|e| Error::validation(name.to_owned(), format!("not {what}: {e}")))
}

fn text<'a>(input: &'a Value, name: &str) -> &'a str {
    input[name].as_str().unwrap_or_default()
}

fn output<T: Serialize>(record: &T) -> Result<Value> {
    serde_json::to_value(record)
        .map_err(|e| Error::new(ErrorKind::InvalidResponse, format!("the record does not serialize: {e}")))
}

#[async_trait]
impl Action for AccountingWrite {
    fn schema(&self) -> ActionSchema {
        let connection = field("connection", InputKind::String, "The tenant's accounting connection id.");
        let schema = |name: &str, description: &str| ActionSchema::new(name, description).field(connection.clone());
        match self.write {
            Write::CreateInvoice => schema("accounting.create_invoice", "Creates an invoice (or a bill); a rerun of the step makes no second one.")
                .field(field("invoice", InputKind::Object, "contact_id, currency, lines [{description, item_id or account_id, quantity, unit_price}], and optionally kind, number, issue_date, due_date, reference, memo.")),
            Write::UpdateInvoice => schema("accounting.update_invoice", "Changes an invoice read at a version; a newer invoice is a conflict, never overwritten.")
                .field(field("invoice_id", InputKind::String, "The invoice's remote id."))
                .field(field("update", InputKind::Object, "version (as read), and any of due_date, reference, memo, lines.")),
            Write::VoidInvoice => schema("accounting.void_invoice", "Voids an invoice read at a version.")
                .field(field("invoice_id", InputKind::String, "The invoice's remote id."))
                .field(field("version", InputKind::String, "The invoice's version as read.")),
            Write::CreateContact => schema("accounting.create_contact", "Creates a customer or supplier; a rerun of the step makes no second one.")
                .field(field("contact", InputKind::Object, "name, and optionally company_name, email, phone, is_supplier, currency.")),
            Write::UpdateContact => schema("accounting.update_contact", "Changes a contact read at a version; a newer contact is a conflict.")
                .field(field("contact_id", InputKind::String, "The contact's remote id."))
                .field(field("update", InputKind::Object, "version (as read), and any of name, email, phone, company_name.")),
            Write::RecordPayment => schema("accounting.record_payment", "Records a payment against invoices; a rerun of the step records it once.")
                .field(field("payment", InputKind::Object, "contact_id, date, amount, currency, applications [{invoice_id, amount}], and optionally kind, account_id, reference.")),
            Write::PostJournalEntry => schema("accounting.post_journal_entry", "Posts a journal entry whose lines sum to zero in each currency; an unbalanced one is refused before anything is sent.")
                .field(field("entry", InputKind::Object, "date, currency, lines [{account_id, amount (debit positive, credit negative)}], and optionally number, memo.")),
        }
    }

    async fn run(&self, call: ActionCall) -> Result<Value> {
        let input = &call.input;
        let connection = ConnectionId::new(text(input, "connection"))?;
        let books = self.connections.accounting(&call.tenant, &connection).await?;
        let operation = OperationKey::new(call.idempotency_key.clone())?;
        match self.write {
            Write::CreateInvoice => {
                let invoice: InvoiceInput = decode(input, "invoice", "an invoice")?;
                output(&books.create_invoice(&operation, &invoice).await?)
            }
            Write::UpdateInvoice => {
                let update: InvoiceUpdate = decode(input, "update", "an invoice update")?;
                output(&books.update_invoice(text(input, "invoice_id"), &update).await?)
            }
            Write::VoidInvoice => output(&books.void_invoice(text(input, "invoice_id"), text(input, "version")).await?),
            Write::CreateContact => {
                let contact: ContactInput = decode(input, "contact", "a contact")?;
                output(&books.create_contact(&operation, &contact).await?)
            }
            Write::UpdateContact => {
                let update: ContactUpdate = decode(input, "update", "a contact update")?;
                output(&books.update_contact(text(input, "contact_id"), &update).await?)
            }
            Write::RecordPayment => {
                let payment: PaymentInput = decode(input, "payment", "a payment")?;
                output(&books.record_payment(&operation, &payment).await?)
            }
            Write::PostJournalEntry => {
                let entry: JournalEntryInput = decode(input, "entry", "a journal entry")?;
                output(&books.post_journal_entry(&operation, &entry).await?)
            }
        }
    }
}
