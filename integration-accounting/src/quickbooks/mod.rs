//! QuickBooks Online, through the Accounting API v3 (minor version 75), following Intuit's
//! documentation: <https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/invoice>
//! and the pages on data queries, change data capture, webhooks, limits and OAuth 2.0.
//!
//! - the HTTP shape — host and `/v3/company/{realm_id}`, OAuth2 with rotating refresh tokens at
//!   `https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer` (the newest refresh token is
//!   always stored: an old one is `invalid_grant`), `minorversion=75`, `Accept: application/json`,
//!   500 requests a minute, the credential check `GET /companyinfo/{realm_id}`, the webhook
//!   scheme — is the catalog's spec (`integration-core/catalog/quickbooks.toml`);
//! - full listings: the query endpoint, `SELECT * FROM <Entity> STARTPOSITION n MAXRESULTS m`
//!   (at most 1,000 a page; name lists — accounts, customers, vendors, items, classes,
//!   departments — with `WHERE Active IN (true, false)`, or QuickBooks leaves archived ones
//!   out). A stream of two entities (invoices and bills, customers and vendors, classes and
//!   departments, deposits and purchases) reads one, then the other; the second's ids carry a
//!   prefix (`bill:42`, `vendor:7`), as the two entities share no id space;
//! - changes: change data capture, `GET /cdc?entities=&changedSince=`, deletions as
//!   `{"status": "Deleted", "Id"}` tombstones; the answer's `time` is where the next one starts.
//!   CDC looks back at most 30 days: an older checkpoint is a
//!   [`ResyncRequired`](integration_core::ErrorKind::ResyncRequired) error, and the sync
//!   engine reads the stream in full, deletions included. It also cuts an answer at 1,000
//!   objects with no sign and no paging: such an answer cannot be continued safely, so it too
//!   asks for a full read — nothing is lost either way;
//! - writes: `POST /<entity>` with `?requestid=` derived from the caller's [`OperationKey`]
//!   (Intuit answers a repeated request id with the first answer: a create retried after a
//!   timeout makes one record); updates are sparse, carry the `SyncToken` they were made on
//!   (`version`) and a request id of their own, and a stale one (`5010 Stale Object Error`) is
//!   a `Conflict`; `?operation=void` voids an invoice (QuickBooks keeps it, amounts zero,
//!   "Voided" in its note); payments received apply to invoices through `LinkedTxn`; a journal
//!   entry's lines are debits and credits (`PostingType`), one currency per entry;
//! - invoice status, which QuickBooks does not have, follows from the balance and the total
//!   (paid, partially paid, open) and a void; there are no drafts;
//! - webhooks: Intuit's `eventNotifications` (`intuit-signature`, HMAC-SHA256 with the
//!   verifier token); each entity named is read again, a `Delete` is a tombstone, a `Merge` a
//!   tombstone for the merged-away id; notifications for other companies are ignored;
//! - errors: the fault's `Detail` is the message; `5010` and duplicate names (`6240`) are
//!   `Conflict`, `610` is `NotFound`, validation codes are `Validation`.
//!
//! Configuration: `realm_id`; secrets `client_id`, `client_secret` and (when the connection was
//! authorized elsewhere) `refresh_token`; optional `home_currency` (for records that name no
//! currency, default `USD`), `base_url` (a sandbox: `https://sandbox-quickbooks.api.intuit.com`)
//! and `auth_base_url`.
//!
//! Not read: sales receipts, refund receipts, bill payments (a payable [`Accounting::record_payment`]
//! is `Unsupported`), vendor credits, transfers, estimates.

mod wire;

use chrono::{DateTime, Duration, Utc};
use integration_core::VerifiedWebhook;
use integration_core::decode::Fields;
use integration_core::http::Method;
use integration_core::schema::ConfigField;
use integration_core::spec::{SpecClient, shared_catalog_spec};
use integration_core::{WebhookOutcome, WebhookScheme};
use serde_json::Value;

use self::wire::{Ctx, Kind, classify};
use crate::prelude::*;

/// The provider id.
pub const PROVIDER: &str = "quickbooks";

/// The largest page the query endpoint serves.
const MAX_PAGE: u32 = 1000;

/// The most objects one change data capture answer holds; an answer this big may be cut.
pub const CDC_CAP: usize = 1000;

/// How far back change data capture looks, less an hour of margin for clocks.
const CDC_WINDOW: Duration = Duration::hours(30 * 24 - 1);

/// Intuit's limit on a `requestid`.
const REQUEST_ID_LEN: usize = 50;

/// The QuickBooks Online adapter for one connection (one company).
#[derive(Debug)]
pub struct QuickBooks {
    descriptor: Descriptor,
    api: SpecClient,
    realm: String,
    ctx: Ctx,
}

impl Adapter for QuickBooks {
    fn describe() -> Result<Descriptor> {
        let capabilities = [
            capability::CHANGES,
            capability::ITEMS,
            capability::TAX_RATES,
            capability::TRACKING_CATEGORIES,
            capability::CREDIT_NOTES,
            capability::PAYMENTS,
            capability::JOURNAL_ENTRIES,
            capability::BANK_TRANSACTIONS,
            capability::INVOICE_WRITE,
            capability::CONTACT_WRITE,
            capability::PAYMENT_WRITE,
            capability::JOURNAL_WRITE,
            Capability::HEALTH_CHECK,
            Capability::WEBHOOKS,
        ];
        let spec = shared_catalog_spec(PROVIDER).ok_or_else(|| Error::config("no QuickBooks spec in the catalog"))?;
        let refresh = ConfigField::secret("refresh_token")
            .not_required()
            .with_description("a refresh token, when the connection was authorized elsewhere");
        let docs = "https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/invoice";
        descriptor(PROVIDER, "QuickBooks Online", docs, capabilities)
            .http_policy(spec.http_policy())
            .webhook(WebhookScheme::Intuit)
            .setting("realm_id", FieldFormat::Text, "the company's realm ID (realmId on the OAuth redirect)")
            .secret("client_id", FieldFormat::Text, "the app's client id")
            .secret("client_secret", FieldFormat::Text, "the app's client secret")
            .field(refresh)
            .optional_setting(
                "home_currency",
                FieldFormat::Text,
                "the company's currency, for records naming none (default USD)",
            )
            .base_url(
                Some("https://quickbooks.api.intuit.com"),
                "the API host (a sandbox: https://sandbox-quickbooks.api.intuit.com)",
            )
            .optional_setting(
                integration_core::schema::AUTH_BASE_URL,
                FieldFormat::HttpsUrl,
                "the token host, default https://oauth.platform.intuit.com",
            )
            .build()
    }

    fn from_config(config: &IntegrationConfig, context: &BuildContext) -> Result<Self> {
        let descriptor = Self::describe()?;
        let realm = config.setting_str("realm_id")?.to_owned();
        if realm.is_empty() || !realm.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::config(format!("{realm:?} is not a QuickBooks realm ID (digits)"))
                .with_field("settings.realm_id")
                .with_provider(PROVIDER));
        }
        let home = config.setting_or("home_currency", "USD");
        let home = Currency::from_code(&home.to_ascii_uppercase()).ok_or_else(|| {
            Error::config(format!("{home:?} is not an ISO 4217 currency code"))
                .with_field("settings.home_currency")
                .with_provider(PROVIDER)
        })?;
        let spec = shared_catalog_spec(PROVIDER).ok_or_else(|| Error::config("no QuickBooks spec in the catalog"))?;
        let api = SpecClient::for_adapter(spec, descriptor.clone(), config, context)?;
        Ok(Self { descriptor, api, realm, ctx: Ctx { home } })
    }
}

/// A request id for an update: the same for every retry of the same change on the same
/// version, so a repeat after a lost answer replays it instead of failing as stale.
fn update_key(what: &str, id: &str, body: &Value) -> String {
    OperationKey::for_content(what, &[id, &body.to_string()]).for_provider(REQUEST_ID_LEN)
}

impl QuickBooks {
    /// The kind of `kinds` a `remote_id` belongs to (by its prefix), and the entity's own id.
    fn kind_of<'k, T>(kinds: &'k [Kind<T>], remote_id: &'k str) -> (&'k Kind<T>, &'k str) {
        for kind in kinds.iter().filter(|k| !k.prefix.is_empty()) {
            if let Some(id) = remote_id.strip_prefix(kind.prefix) {
                return (kind, id);
            }
        }
        let plain = kinds.iter().find(|k| k.prefix.is_empty()).unwrap_or(&kinds[0]);
        (plain, remote_id)
    }

    fn map_all<T>(&self, kind: &Kind<T>, raws: Vec<Value>) -> Decoded<Remote<T>> {
        map_each(raws, "Id", |r| wire::remote(r, kind.prefix, (kind.map)(r, &self.ctx)?))
    }

    /// A page of a full listing: the query endpoint, one entity after the other. The cursor
    /// is `<entity index>:<start position>`.
    async fn list<T>(&self, kinds: &[Kind<T>], request: &ListRequest) -> Result<Listing<T>> {
        let (phase, start) = match request.cursor.as_deref() {
            None => (0, 1),
            Some(cursor) => cursor
                .split_once(':')
                .and_then(|(p, s)| Some((p.parse::<usize>().ok()?, s.parse::<u64>().ok()?)))
                .filter(|(p, s)| *p < kinds.len() && *s >= 1)
                .ok_or_else(|| {
                    Error::validation("cursor", format!("{cursor:?} is not a QuickBooks listing position"))
                        .with_provider(PROVIDER)
                })?,
        };
        let kind = &kinds[phase];
        let size = request.limit(MAX_PAGE);
        let active = if kind.name_list { " WHERE Active IN (true, false)" } else { "" };
        let query = format!("SELECT * FROM {}{active} STARTPOSITION {start} MAXRESULTS {size}", kind.entity);
        let request = self.api.request(Method::GET, "/query")?.query(&[("query", query.as_str())]);
        let answer: Value = request.read_only().path_template("/query").send_json().await.map_err(classify)?;
        let raws = match answer.pointer(&format!("/QueryResponse/{}", kind.entity)) {
            None => Vec::new(),
            Some(Value::Array(rows)) => rows.clone(),
            Some(_) => {
                return Err(Error::invalid_response(format!("QueryResponse.{} is not a list", kind.entity))
                    .with_provider(PROVIDER));
            }
        };
        let next = if raws.len() >= size as usize {
            Some(format!("{phase}:{}", start + u64::from(size)))
        } else if phase + 1 < kinds.len() {
            Some(format!("{}:1", phase + 1))
        } else {
            None
        };
        Ok(Listing::decoded(self.map_all(kind, raws), next))
    }

    /// What changed since `since` in the entities of `kinds`: one change data capture call.
    async fn changes<T: Default>(&self, kinds: &[Kind<T>], since: DateTime<Utc>) -> Result<Listing<T>> {
        if Utc::now() - since > CDC_WINDOW {
            return Err(Error::resync_required(format!(
                "QuickBooks keeps changes for 30 days, and this stream's were last read at {since}"
            ))
            .with_provider(PROVIDER));
        }
        let entities: Vec<&str> = kinds.iter().map(|k| k.entity).collect();
        let changed_since = since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let query = [("entities", entities.join(",")), ("changedSince", changed_since)];
        let request = self.api.request(Method::GET, "/cdc")?.query(&query);
        let answer: Value = request.read_only().path_template("/cdc").send_json().await.map_err(classify)?;
        let responses =
            answer.pointer("/CDCResponse/0/QueryResponse").and_then(Value::as_array).cloned().unwrap_or_default();
        let mut decoded = Decoded::default();
        let mut objects = 0;
        for kind in kinds {
            // One answer per entity, in no set order: found by its key.
            let rows = responses
                .iter()
                .find_map(|r| r.get(kind.entity))
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            objects += rows.len();
            let (gone, live): (Vec<Value>, Vec<Value>) =
                rows.into_iter().partition(|row| row.get("status").and_then(Value::as_str) == Some("Deleted"));
            decoded.merge(self.map_all(kind, live));
            decoded.merge(map_each(gone, "Id", |r| {
                let id = format!("{}{}", kind.prefix, r.id("Id")?);
                Ok(Remote::deleted(id).modified(r.time("MetaData.LastUpdatedTime")?))
            }));
        }
        if objects >= CDC_CAP {
            return Err(Error::resync_required(format!(
                "{objects} changes since {since}: QuickBooks cuts a change data capture answer at {CDC_CAP} objects"
            ))
            .with_provider(PROVIDER));
        }
        let time = Fields::new(&answer).time("time")?;
        Ok(Listing::decoded(decoded, None).with_high_water(time))
    }

    async fn listing<T: Default>(&self, kinds: &[Kind<T>], request: ListRequest) -> Result<Listing<T>> {
        match request.since {
            Some(since) => self.changes(kinds, since).await,
            None => self.list(kinds, &request).await,
        }
    }

    /// One entity of `kinds` by `remote_id`.
    async fn one<T>(&self, kinds: &[Kind<T>], remote_id: &str) -> Result<Remote<T>> {
        let (kind, id) = Self::kind_of(kinds, remote_id);
        let template = format!("/{}/{{id}}", kind.resource);
        let request = self.api.request_at(Method::GET, &format!("/{}", kind.resource), &[id])?;
        let answer: Value = request.read_only().path_template(template).send_json().await.map_err(classify)?;
        let raw = answer.get(kind.entity).cloned().ok_or_else(|| {
            Error::invalid_response(format!("the answer holds no {}", kind.entity)).with_provider(PROVIDER)
        })?;
        map_one(&raw, "Id", |r| wire::remote(r, kind.prefix, (kind.map)(r, &self.ctx)?))
    }

    /// Posts `body` to entity `kind` with `request_id`, and maps the entity answered.
    async fn post<T>(
        &self,
        kind: &Kind<T>,
        operation: Option<&str>,
        request_id: &str,
        body: &Value,
    ) -> Result<Remote<T>> {
        let mut query = vec![("requestid", request_id)];
        query.extend(operation.map(|o| ("operation", o)));
        let request = self.api.request(Method::POST, &format!("/{}", kind.resource))?.query(&query).json(body);
        // The request id makes a repeat the same write: QuickBooks answers it with the first answer.
        let request = request.idempotent().path_template(format!("/{}", kind.resource));
        let answer: Value = request.send_json().await.map_err(classify)?;
        let raw = answer.get(kind.entity).cloned().ok_or_else(|| {
            Error::invalid_response(format!("the answer holds no {}", kind.entity)).with_provider(PROVIDER)
        })?;
        map_one(&raw, "Id", |r| wire::remote(r, kind.prefix, (kind.map)(r, &self.ctx)?))
    }

    /// The webhook's entities for this company as changes of their streams.
    async fn webhook_changes(&self, payload: &Value) -> Result<WebhookOutcome> {
        let mut outcome = WebhookOutcome::default();
        for notification in Fields::new(payload).items("eventNotifications")? {
            if notification.optional_id("realmId")?.as_deref() != Some(self.realm.as_str()) {
                continue;
            }
            for entity in notification.items("dataChangeEvent.entities")? {
                let (name, id) = (entity.required_text("name")?, entity.id("id")?);
                let operation = entity.text("operation")?.unwrap_or_default();
                let deleted = entity.optional_id("deletedId")?;
                let part = match name.as_str() {
                    "Invoice" | "Bill" => {
                        self.changed("invoices", wire::INVOICES, &name, &id, &operation, deleted).await?
                    }
                    "Customer" | "Vendor" => {
                        self.changed("contacts", wire::CONTACTS, &name, &id, &operation, deleted).await?
                    }
                    "Account" => self.changed("accounts", wire::ACCOUNTS, &name, &id, &operation, deleted).await?,
                    "Item" => self.changed("items", wire::ITEMS, &name, &id, &operation, deleted).await?,
                    "Class" | "Department" => {
                        self.changed("tracking_categories", wire::TRACKING, &name, &id, &operation, deleted).await?
                    }
                    "CreditMemo" => {
                        self.changed("credit_notes", wire::CREDIT_NOTES, &name, &id, &operation, deleted).await?
                    }
                    "Payment" => self.changed("payments", wire::PAYMENTS, &name, &id, &operation, deleted).await?,
                    "JournalEntry" => {
                        self.changed("journal_entries", wire::JOURNAL_ENTRIES, &name, &id, &operation, deleted).await?
                    }
                    "Deposit" | "Purchase" => {
                        self.changed("bank_transactions", wire::BANK_TRANSACTIONS, &name, &id, &operation, deleted)
                            .await?
                    }
                    // Entities no stream reads (estimates, time activities...).
                    _ => continue,
                };
                outcome.changes.extend(part.changes);
                outcome.events.extend(part.events);
            }
        }
        Ok(outcome)
    }

    /// The change one notified entity makes to `stream`: a tombstone for a deletion (and for a
    /// merged-away record), otherwise the entity as read now.
    async fn changed<T: Default + serde::Serialize>(
        &self,
        stream: &'static str,
        kinds: &[Kind<T>],
        entity: &str,
        id: &str,
        operation: &str,
        merged_away: Option<String>,
    ) -> Result<WebhookOutcome> {
        let Some(kind) = kinds.iter().find(|k| k.entity == entity) else { return Ok(WebhookOutcome::default()) };
        let remote_id = format!("{}{id}", kind.prefix);
        let mut items = Vec::new();
        if let Some(gone) = merged_away {
            items.push(Remote::deleted(format!("{}{gone}", kind.prefix)));
        }
        if operation == "Delete" {
            items.push(Remote::deleted(remote_id));
        } else {
            match self.one(kinds, &remote_id).await {
                Ok(record) => items.push(record),
                Err(e) if e.kind() == ErrorKind::NotFound => items.push(Remote::deleted(remote_id)),
                Err(e) => return Err(e),
            }
        }
        let event = |r: &Remote<T>| -> &'static str {
            match (stream, r.remote_was_deleted) {
                ("invoices", true) => "invoice.deleted",
                ("invoices", false) => "invoice.updated",
                ("contacts", true) => "contact.deleted",
                ("contacts", false) => "contact.updated",
                ("payments", _) => "payment.updated",
                (_, true) => "record.deleted",
                (_, false) => "record.updated",
            }
        };
        integration_core::domain::webhook_outcome(stream, items, event)
    }
}

#[async_trait]
impl Integration for QuickBooks {
    fn descriptor(&self) -> &Descriptor {
        &self.descriptor
    }

    async fn connect(&self) -> Result<ConnectionInfo> {
        self.api.check().await.map_err(classify)?;
        Ok(ConnectionInfo::with_account(self.realm.clone(), None))
    }

    async fn disconnect(&self) -> Result<()> {
        // Revokes the refresh token at Intuit and forgets the tokens held here.
        self.api.revoke().await
    }

    async fn health_check(&self) -> Result<Health> {
        Ok(Health::probe(self.api.check()).await)
    }

    async fn read(&self, request: ReadRequest) -> Result<Page> {
        crate::read(self, request).await
    }

    async fn handle_webhook(&self, delivery: VerifiedWebhook) -> Result<WebhookOutcome> {
        self.webhook_changes(&delivery.json()?).await
    }
}

#[async_trait]
impl Accounting for QuickBooks {
    async fn accounts(&self, request: ListRequest) -> Result<Listing<Account>> {
        self.listing(wire::ACCOUNTS, request).await
    }

    async fn contacts(&self, request: ListRequest) -> Result<Listing<Contact>> {
        self.listing(wire::CONTACTS, request).await
    }

    async fn invoices(&self, request: ListRequest) -> Result<Listing<Invoice>> {
        self.listing(wire::INVOICES, request).await
    }

    async fn invoice(&self, remote_id: &str) -> Result<Remote<Invoice>> {
        self.one(wire::INVOICES, remote_id).await
    }

    async fn contact(&self, remote_id: &str) -> Result<Remote<Contact>> {
        self.one(wire::CONTACTS, remote_id).await
    }

    async fn items(&self, request: ListRequest) -> Result<Listing<Item>> {
        self.listing(wire::ITEMS, request).await
    }

    async fn tax_rates(&self, request: ListRequest) -> Result<Listing<TaxRate>> {
        match request.since {
            // Change data capture does not serve tax rates: the (short) list is read whole.
            Some(_) => self.list(wire::TAX_RATES, &ListRequest::first().at(request.cursor)).await,
            None => self.list(wire::TAX_RATES, &request).await,
        }
    }

    async fn tracking_categories(&self, request: ListRequest) -> Result<Listing<TrackingCategory>> {
        self.listing(wire::TRACKING, request).await
    }

    async fn credit_notes(&self, request: ListRequest) -> Result<Listing<CreditNote>> {
        self.listing(wire::CREDIT_NOTES, request).await
    }

    async fn payments(&self, request: ListRequest) -> Result<Listing<Payment>> {
        self.listing(wire::PAYMENTS, request).await
    }

    async fn journal_entries(&self, request: ListRequest) -> Result<Listing<JournalEntry>> {
        self.listing(wire::JOURNAL_ENTRIES, request).await
    }

    async fn bank_transactions(&self, request: ListRequest) -> Result<Listing<BankTransaction>> {
        self.listing(wire::BANK_TRANSACTIONS, request).await
    }

    async fn create_invoice(&self, operation: &OperationKey, invoice: &InvoiceInput) -> Result<Remote<Invoice>> {
        invoice.validate().map_err(|e| e.with_provider(PROVIDER))?;
        let (entity, body) = wire::invoice_body(invoice).map_err(|e| e.with_provider(PROVIDER))?;
        let kind = wire::INVOICES.iter().find(|k| k.entity == entity).unwrap_or(&wire::INVOICES[0]);
        self.post(kind, None, &operation.for_provider(REQUEST_ID_LEN), &body).await
    }

    async fn update_invoice(&self, remote_id: &str, update: &InvoiceUpdate) -> Result<Remote<Invoice>> {
        update.validate().map_err(|e| e.with_provider(PROVIDER))?;
        let (kind, id) = Self::kind_of(wire::INVOICES, remote_id);
        let invoice_kind = if kind.entity == "Bill" { InvoiceKind::Payable } else { InvoiceKind::Receivable };
        let currency = match &update.lines {
            Some(_) => self.one(wire::INVOICES, remote_id).await?.fields.currency,
            None => self.ctx.home,
        };
        let body = wire::invoice_update(id, update, invoice_kind, currency).map_err(|e| e.with_provider(PROVIDER))?;
        self.post(kind, None, &update_key("update", remote_id, &body), &body).await
    }

    async fn void_invoice(&self, remote_id: &str, version: &str) -> Result<Remote<Invoice>> {
        let (kind, id) = Self::kind_of(wire::INVOICES, remote_id);
        if kind.entity == "Bill" {
            return Err(Error::unsupported("void_invoice for a bill (QuickBooks deletes bills instead)")
                .with_provider(PROVIDER));
        }
        let body = serde_json::json!({ "Id": id, "SyncToken": version });
        self.post(kind, Some("void"), &update_key("void", remote_id, &body), &body).await
    }

    async fn create_contact(&self, operation: &OperationKey, contact: &ContactInput) -> Result<Remote<Contact>> {
        contact.validate().map_err(|e| e.with_provider(PROVIDER))?;
        let kind = &wire::CONTACTS[usize::from(contact.is_supplier)];
        self.post(kind, None, &operation.for_provider(REQUEST_ID_LEN), &wire::contact_body(contact)).await
    }

    async fn update_contact(&self, remote_id: &str, update: &ContactUpdate) -> Result<Remote<Contact>> {
        update.validate().map_err(|e| e.with_provider(PROVIDER))?;
        let (kind, id) = Self::kind_of(wire::CONTACTS, remote_id);
        let body = wire::contact_update(id, update);
        self.post(kind, None, &update_key("update", remote_id, &body), &body).await
    }

    async fn record_payment(&self, operation: &OperationKey, payment: &PaymentInput) -> Result<Remote<Payment>> {
        payment.validate().map_err(|e| e.with_provider(PROVIDER))?;
        if payment.kind == InvoiceKind::Payable {
            return Err(
                Error::unsupported("record_payment for a bill (QuickBooks BillPayment)").with_provider(PROVIDER)
            );
        }
        let body = wire::payment_body(payment).map_err(|e| e.with_provider(PROVIDER))?;
        self.post(&wire::PAYMENTS[0], None, &operation.for_provider(REQUEST_ID_LEN), &body).await
    }

    async fn post_journal_entry(
        &self,
        operation: &OperationKey,
        entry: &JournalEntryInput,
    ) -> Result<Remote<JournalEntry>> {
        entry.validate().map_err(|e| e.with_provider(PROVIDER))?;
        let body = wire::journal_body(entry).map_err(|e| e.with_provider(PROVIDER))?;
        self.post(&wire::JOURNAL_ENTRIES[0], None, &operation.for_provider(REQUEST_ID_LEN), &body).await
    }
}
