//! Xero, through the Accounting API 2.0, following Xero's OpenAPI description
//! (<https://github.com/XeroAPI/Xero-OpenAPI>, `xero_accounting.yaml`) and its guides at
//! <https://developer.xero.com/documentation/api/accounting/overview> (requests and responses,
//! limits, idempotent requests, webhooks):
//!
//! - the HTTP shape — `https://api.xero.com/api.xro/2.0`, OAuth2 with PKCE and rotating refresh
//!   tokens at `https://identity.xero.com/connect/token`, `Accept: application/json` (Xero
//!   answers XML without it), the `xero-tenant-id` header, 60 calls a minute per organisation,
//!   the webhook scheme — is the catalog's spec (`integration-core/catalog/xero.toml`);
//! - the organisation: `tenant_id`, one of the `tenantId`s `GET /connections` lists after the
//!   user authorises; [`Xero::organisations`] lists them, `connect` checks it is among them;
//! - listings: the paged collections (invoices, contacts, credit notes, payments, manual
//!   journals, bank transactions) 100 a page, ordered by `UpdatedDateUTC`, read by that time:
//!   each page asks `If-Modified-Since` the last time seen (to the second, inclusive) rather than
//!   the next page number, so a record updated during a pass — which moves to the end of the
//!   order — never shifts another past the reader; more than a page sharing one second pages
//!   by number within it. Accounts, items and tax rates come in one answer;
//! - changes: the same listings with `If-Modified-Since` (tax rates and tracking categories have
//!   none: read whole); deleted documents come back `Status: DELETED` and become tombstones;
//!   the highest `UpdatedDateUTC` seen is where the next listing starts (Xero's clock, not ours);
//! - writes: `PUT` creates with an `Idempotency-Key` from the caller's [`OperationKey`] (Xero
//!   replays the first answer for six minutes, longer than our retries take); invoices are
//!   created `AUTHORISED`. Xero has **no concurrency check** (last writer wins): an update or a
//!   void first reads the record and refuses with a `Conflict` when its `UpdatedDateUTC` is not
//!   the `version` the caller read — the window between that read and the write remains, and
//!   is Xero's; a payment pays one invoice from a bank account (`account_id`); a manual journal
//!   is posted in the organisation's base currency;
//! - webhooks: `x-xero-signature` (HMAC-SHA256 with the webhook key); the intent-to-receive
//!   deliveries carry no events and change nothing; each invoice, contact or credit note named
//!   is read again; events for other organisations are ignored;
//! - errors: a validation exception's first message is the error's (`Validation`; a name
//!   already taken is a `Conflict`); `429` is retried after `Retry-After`.
//!
//! Configuration: `tenant_id`; secrets `client_id`, `client_secret` and (authorized elsewhere)
//! `refresh_token`; optional `base_url` and `auth_base_url`.
//!
//! Not supported: credit note allocation, batch payments, overpayments and prepayments,
//! purchase orders, quotes, an invoice's internal note (`memo`: Xero has none), choosing
//! customer or supplier on a new contact (Xero decides from its invoices), tracking categories'
//! changes (read whole).

mod wire;

use chrono::{DateTime, Utc};
use integration_core::VerifiedWebhook;
use integration_core::decode::Fields;
use integration_core::http::Method;
use integration_core::schema::ConfigField;
use integration_core::spec::{SpecClient, shared_catalog_spec};
use integration_core::{WebhookOutcome, WebhookScheme};
use serde_json::Value;
use tokio::sync::OnceCell;

use self::wire::{Kind, classify};
use crate::prelude::*;

/// The provider id.
pub const PROVIDER: &str = "xero";

/// Records a page holds.
const PAGE_SIZE: u32 = 100;

/// Xero's limit on an idempotency key.
const KEY_LEN: usize = 128;

/// An organisation the connection's token may reach (`GET /connections`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Organisation {
    /// The `tenantId` to configure.
    pub tenant_id: String,
    /// Its name.
    pub name: Option<String>,
    /// `ORGANISATION` or `PRACTICE`.
    pub kind: Option<String>,
}

/// The Xero adapter for one connection (one organisation).
#[derive(Debug)]
pub struct Xero {
    descriptor: Descriptor,
    api: SpecClient,
    tenant_id: String,
    /// The organisation's base currency, read once.
    home: OnceCell<Currency>,
}

impl Adapter for Xero {
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
        let spec = shared_catalog_spec(PROVIDER).ok_or_else(|| Error::config("no Xero spec in the catalog"))?;
        let refresh = ConfigField::secret("refresh_token")
            .not_required()
            .with_description("a refresh token, when the connection was authorized elsewhere");
        descriptor(PROVIDER, "Xero", &spec.docs, capabilities)
            .http_policy(spec.http_policy())
            .webhook(WebhookScheme::Xero)
            .setting("tenant_id", FieldFormat::Text, "the organisation's tenantId (GET /connections)")
            .secret("client_id", FieldFormat::Text, "the app's client id")
            .secret("client_secret", FieldFormat::Text, "the app's client secret")
            .field(refresh)
            .base_url(Some("https://api.xero.com"), "the API host")
            .optional_setting(
                integration_core::schema::AUTH_BASE_URL,
                FieldFormat::HttpsUrl,
                "the token host, default https://identity.xero.com",
            )
            .build()
    }

    fn from_config(config: &IntegrationConfig, context: &BuildContext) -> Result<Self> {
        let descriptor = Self::describe()?;
        let tenant_id = config.setting_str("tenant_id")?.to_owned();
        let spec = shared_catalog_spec(PROVIDER).ok_or_else(|| Error::config("no Xero spec in the catalog"))?;
        let api = SpecClient::for_adapter(spec, descriptor.clone(), config, context)?;
        Ok(Self { descriptor, api, tenant_id, home: OnceCell::new() })
    }
}

/// An idempotency key for an update: the same for every retry of the same change.
fn key_of(what: &str, id: &str, body: &Value) -> String {
    OperationKey::for_content(what, &[id, &body.to_string()]).for_provider(KEY_LEN)
}

/// `If-Modified-Since`, to the second, in UTC.
fn since_header(at: i64) -> String {
    DateTime::from_timestamp(at, 0).unwrap_or_default().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl Xero {
    /// The organisations the connection's token may reach: `GET /connections`. The
    /// configured `tenant_id` must be one of them.
    ///
    /// # Errors
    /// The provider's error; an `InvalidResponse` for an answer that is not a list.
    pub async fn organisations(&self) -> Result<Vec<Organisation>> {
        let url = self.api.base_url().join("/connections").map_err(|e| Error::config(format!("not a URL: {e}")))?;
        let request = self.api.request(Method::GET, url.as_str())?.read_only().path_template("/connections");
        let answer: Value = request.send_json().await?;
        let rows = answer
            .as_array()
            .ok_or_else(|| Error::invalid_response("GET /connections did not answer a list").with_provider(PROVIDER))?;
        rows.iter()
            .map(|row| {
                let r = Fields::new(row);
                Ok(Organisation {
                    tenant_id: r.id("tenantId")?,
                    name: r.text("tenantName")?,
                    kind: r.text("tenantType")?,
                })
            })
            .collect()
    }

    /// The organisation's base currency (`GET /Organisation`, once).
    async fn home(&self) -> Result<Currency> {
        self.home
            .get_or_try_init(|| async {
                let answer: Value =
                    self.api.request(Method::GET, "/Organisation")?.read_only().send_json().await.map_err(classify)?;
                let organisation = answer.pointer("/Organisations/0").cloned().unwrap_or_default();
                Fields::new(&organisation).currency("BaseCurrency")?.ok_or_else(|| {
                    Error::invalid_response("the organisation has no BaseCurrency").with_provider(PROVIDER)
                })
            })
            .await
            .copied()
    }

    fn map_all<T: Default>(&self, kind: &Kind<T>, raws: Vec<Value>, home: Currency) -> Decoded<Remote<T>> {
        map_each(raws, kind.id, |r| match (kind.map)(r, home)? {
            Some(fields) => wire::remote(r, kind.id, fields),
            None => Ok(Remote::deleted(r.id(kind.id)?).modified(wire::time(r, "UpdatedDateUTC")?)),
        })
    }

    /// A page of `kind`, by `UpdatedDateUTC`: the cursor is `<since, Unix seconds or ->:<page>`.
    async fn listing<T: Default>(&self, kind: &Kind<T>, request: ListRequest) -> Result<Listing<T>> {
        let home = self.home().await?;
        let bad = |cursor: &str| {
            Error::validation("cursor", format!("{cursor:?} is not a Xero listing position")).with_provider(PROVIDER)
        };
        let (mut since, page) = match request.cursor.as_deref() {
            None => (None, 1),
            Some(cursor) => {
                let (s, p) = cursor.split_once(':').ok_or_else(|| bad(cursor))?;
                let since = if s == "-" { None } else { Some(s.parse::<i64>().map_err(|_| bad(cursor))?) };
                (since, p.parse::<u32>().ok().filter(|p| *p >= 1).ok_or_else(|| bad(cursor))?)
            }
        };
        if since.is_none() && kind.modified_since {
            since = request.since.map(|s| s.timestamp());
        }
        let mut query: Vec<(&str, String)> = Vec::new();
        if kind.paged {
            query.extend([("page", page.to_string()), ("pageSize", PAGE_SIZE.to_string())]);
        }
        if kind.collection == "Contacts" || kind.collection == "Invoices" {
            query.push(("includeArchived", "true".into()));
        }
        let path = format!("/{}", kind.collection);
        let mut call = self.api.request(Method::GET, &path)?.query(&query).read_only().path_template(path.clone());
        if let Some(at) = since.filter(|_| kind.modified_since) {
            call = call.header("If-Modified-Since", &since_header(at));
        }
        let answer: Value = call.send_json().await.map_err(classify)?;
        let rows = match answer.get(kind.collection) {
            None => Vec::new(),
            Some(Value::Array(rows)) => rows.clone(),
            Some(_) => {
                return Err(
                    Error::invalid_response(format!("{} is not a list", kind.collection)).with_provider(PROVIDER)
                );
            }
        };
        let times: Vec<i64> = rows
            .iter()
            .filter_map(|row| wire::time(&Fields::new(row), "UpdatedDateUTC").ok().flatten())
            .map(|t| t.timestamp())
            .collect();
        let next = match (kind.paged, times.last()) {
            (true, Some(&last)) if rows.len() >= PAGE_SIZE as usize => Some(match since {
                // The page ended later than it began: go on from there (what repeats is absorbed).
                Some(from) if last == from => format!("{from}:{}", page + 1),
                _ => format!("{last}:1"),
            }),
            _ => None,
        };
        let high = times.iter().max().and_then(|t| DateTime::<Utc>::from_timestamp(*t, 0));
        Ok(Listing::decoded(self.map_all(kind, rows, home), next).with_high_water(high))
    }

    async fn one<T: Default>(&self, kind: &Kind<T>, id: &str) -> Result<Remote<T>> {
        let home = self.home().await?;
        let template = format!("/{}/{{id}}", kind.collection);
        let request = self.api.request_at(Method::GET, &format!("/{}", kind.collection), &[id])?;
        let answer: Value = request.read_only().path_template(template).send_json().await.map_err(classify)?;
        let raw = answer.pointer(&format!("/{}/0", kind.collection)).cloned().ok_or_else(|| {
            Error::invalid_response(format!("the answer holds no {}", kind.collection)).with_provider(PROVIDER)
        })?;
        let decoded = self.map_all(kind, vec![raw], home);
        match decoded.single() {
            Some(record) => record,
            None => Err(Error::invalid_response("the record could not be read").with_provider(PROVIDER)),
        }
    }

    /// Sends a write of `body` to `path` with idempotency key `key`, and maps the record answered.
    async fn write<T: Default>(
        &self,
        kind: &Kind<T>,
        method: Method,
        path: &str,
        key: &str,
        body: &Value,
    ) -> Result<Remote<T>> {
        let home = self.home().await?;
        let request = self.api.request(method, path)?.json(body).idempotency_key(key).path_template(path.to_owned());
        let answer: Value = request.send_json().await.map_err(classify)?;
        let raw = answer.pointer(&format!("/{}/0", kind.collection)).cloned().ok_or_else(|| {
            Error::invalid_response(format!("the answer holds no {}", kind.collection)).with_provider(PROVIDER)
        })?;
        self.map_all(kind, vec![raw], home)
            .single()
            .unwrap_or_else(|| Err(Error::invalid_response("no record").with_provider(PROVIDER)))
    }

    /// Refuses a change made on `version` of a record now at another one: Xero itself would
    /// let the last writer win.
    fn check_version(current: Option<&str>, version: &str, id: &str) -> Result<()> {
        match current {
            Some(now) if now == version => Ok(()),
            now => Err(Error::conflict(format!(
                "{id} changed since version {version} was read (now {}): read it again and redo the change",
                now.unwrap_or("unknown")
            ))
            .with_provider(PROVIDER)),
        }
    }

    async fn tracking(&self) -> Result<Listing<TrackingCategory>> {
        let answer: Value =
            self.api.request(Method::GET, "/TrackingCategories")?.read_only().send_json().await.map_err(classify)?;
        let rows = answer.get("TrackingCategories").and_then(Value::as_array).cloned().unwrap_or_default();
        let mut decoded = Decoded::default();
        for row in rows {
            decoded.merge(map_each(vec![row.clone()], "TrackingCategoryID", |r| {
                let id = r.id("TrackingCategoryID")?;
                let fields = TrackingCategory {
                    name: r.required_text("Name")?,
                    parent_id: None,
                    status: r.text("Status")?.map(|s| RecordStatus::parse(&s)),
                };
                Ok(Remote::new(id, fields).with_remote_data(r.raw().clone()))
            }));
            let parent = Fields::new(&row).optional_id("TrackingCategoryID")?;
            let options = row.get("Options").and_then(Value::as_array).cloned().unwrap_or_default();
            decoded.merge(map_each(options, "TrackingOptionID", |o| {
                let fields = TrackingCategory {
                    name: o.required_text("Name")?,
                    parent_id: parent.clone(),
                    status: o.text("Status")?.map(|s| RecordStatus::parse(&s)),
                };
                Ok(Remote::new(o.id("TrackingOptionID")?, fields).with_remote_data(o.raw().clone()))
            }));
        }
        Ok(Listing::decoded(decoded, None))
    }

    async fn webhook_changes(&self, payload: &Value) -> Result<WebhookOutcome> {
        let mut outcome = WebhookOutcome::default();
        for event in Fields::new(payload).items("events")? {
            if event.text("tenantId")?.as_deref() != Some(self.tenant_id.as_str()) {
                continue;
            }
            let id = event.id("resourceId")?;
            let part = match event.text("eventCategory")?.as_deref() {
                Some("INVOICE") => self.changed("invoices", &wire::INVOICES, &id, "invoice").await?,
                Some("CONTACT") => self.changed("contacts", &wire::CONTACTS, &id, "contact").await?,
                Some("CREDITNOTE") => self.changed("credit_notes", &wire::CREDIT_NOTES, &id, "credit_note").await?,
                _ => continue,
            };
            outcome.changes.extend(part.changes);
            outcome.events.extend(part.events);
        }
        Ok(outcome)
    }

    async fn changed<T: Default + serde::Serialize>(
        &self,
        stream: &'static str,
        kind: &Kind<T>,
        id: &str,
        noun: &'static str,
    ) -> Result<WebhookOutcome> {
        let record = match self.one(kind, id).await {
            Ok(record) => record,
            Err(e) if e.kind() == ErrorKind::NotFound => Remote::deleted(id),
            Err(e) => return Err(e),
        };
        let kinds: &'static [(&str, &str); 3] =
            &[("invoice", "invoice.updated"), ("contact", "contact.updated"), ("credit_note", "record.updated")];
        let updated = kinds.iter().find(|(n, _)| *n == noun).map_or("record.updated", |(_, e)| e);
        integration_core::domain::webhook_outcome(stream, vec![record], |r| {
            if r.remote_was_deleted { "record.deleted" } else { updated }
        })
    }
}

#[async_trait]
impl Integration for Xero {
    fn descriptor(&self) -> &Descriptor {
        &self.descriptor
    }

    async fn connect(&self) -> Result<ConnectionInfo> {
        let organisations = self.organisations().await?;
        let Some(ours) = organisations.iter().find(|o| o.tenant_id == self.tenant_id) else {
            let known: Vec<&str> = organisations.iter().map(|o| o.tenant_id.as_str()).collect();
            return Err(Error::config(format!(
                "the token reaches no organisation {:?}; it reaches {known:?}",
                self.tenant_id
            ))
            .with_field("settings.tenant_id")
            .with_provider(PROVIDER));
        };
        self.home().await?;
        Ok(ConnectionInfo::with_account(self.tenant_id.clone(), ours.name.clone()))
    }

    async fn disconnect(&self) -> Result<()> {
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
impl Accounting for Xero {
    async fn accounts(&self, request: ListRequest) -> Result<Listing<Account>> {
        self.listing(&wire::ACCOUNTS, request).await
    }

    async fn contacts(&self, request: ListRequest) -> Result<Listing<Contact>> {
        self.listing(&wire::CONTACTS, request).await
    }

    async fn invoices(&self, request: ListRequest) -> Result<Listing<Invoice>> {
        self.listing(&wire::INVOICES, request).await
    }

    async fn invoice(&self, remote_id: &str) -> Result<Remote<Invoice>> {
        self.one(&wire::INVOICES, remote_id).await
    }

    async fn contact(&self, remote_id: &str) -> Result<Remote<Contact>> {
        self.one(&wire::CONTACTS, remote_id).await
    }

    async fn items(&self, request: ListRequest) -> Result<Listing<Item>> {
        self.listing(&wire::ITEMS, request).await
    }

    async fn tax_rates(&self, request: ListRequest) -> Result<Listing<TaxRate>> {
        self.listing(&wire::TAX_RATES, request).await
    }

    async fn tracking_categories(&self, _request: ListRequest) -> Result<Listing<TrackingCategory>> {
        self.tracking().await
    }

    async fn credit_notes(&self, request: ListRequest) -> Result<Listing<CreditNote>> {
        self.listing(&wire::CREDIT_NOTES, request).await
    }

    async fn payments(&self, request: ListRequest) -> Result<Listing<Payment>> {
        self.listing(&wire::PAYMENTS, request).await
    }

    async fn journal_entries(&self, request: ListRequest) -> Result<Listing<JournalEntry>> {
        self.listing(&wire::JOURNALS, request).await
    }

    async fn bank_transactions(&self, request: ListRequest) -> Result<Listing<BankTransaction>> {
        self.listing(&wire::BANK_TRANSACTIONS, request).await
    }

    async fn create_invoice(&self, operation: &OperationKey, invoice: &InvoiceInput) -> Result<Remote<Invoice>> {
        invoice.validate().map_err(|e| e.with_provider(PROVIDER))?;
        let body = wire::invoice_body(invoice).map_err(|e| e.with_provider(PROVIDER))?;
        self.write(&wire::INVOICES, Method::PUT, "/Invoices", &operation.for_provider(KEY_LEN), &body).await
    }

    async fn update_invoice(&self, remote_id: &str, update: &InvoiceUpdate) -> Result<Remote<Invoice>> {
        update.validate().map_err(|e| e.with_provider(PROVIDER))?;
        let current = self.one(&wire::INVOICES, remote_id).await?;
        Self::check_version(current.fields.version.as_deref(), &update.version, remote_id)?;
        let body =
            wire::invoice_update(remote_id, update, current.fields.currency).map_err(|e| e.with_provider(PROVIDER))?;
        let path = format!("/Invoices/{remote_id}");
        self.write(&wire::INVOICES, Method::POST, &path, &key_of("update", remote_id, &body), &body).await
    }

    async fn void_invoice(&self, remote_id: &str, version: &str) -> Result<Remote<Invoice>> {
        let current = self.one(&wire::INVOICES, remote_id).await?;
        if current.fields.status == InvoiceStatus::Void {
            return Ok(current);
        }
        Self::check_version(current.fields.version.as_deref(), version, remote_id)?;
        let body = serde_json::json!({ "Invoices": [{ "InvoiceID": remote_id, "Status": "VOIDED" }] });
        let path = format!("/Invoices/{remote_id}");
        self.write(&wire::INVOICES, Method::POST, &path, &key_of("void", remote_id, &body), &body).await
    }

    async fn create_contact(&self, operation: &OperationKey, contact: &ContactInput) -> Result<Remote<Contact>> {
        contact.validate().map_err(|e| e.with_provider(PROVIDER))?;
        let body = wire::contact_body(contact);
        self.write(&wire::CONTACTS, Method::PUT, "/Contacts", &operation.for_provider(KEY_LEN), &body).await
    }

    async fn update_contact(&self, remote_id: &str, update: &ContactUpdate) -> Result<Remote<Contact>> {
        update.validate().map_err(|e| e.with_provider(PROVIDER))?;
        let current = self.one(&wire::CONTACTS, remote_id).await?;
        Self::check_version(current.fields.version.as_deref(), &update.version, remote_id)?;
        let body = wire::contact_update(remote_id, update);
        let path = format!("/Contacts/{remote_id}");
        self.write(&wire::CONTACTS, Method::POST, &path, &key_of("update", remote_id, &body), &body).await
    }

    async fn record_payment(&self, operation: &OperationKey, payment: &PaymentInput) -> Result<Remote<Payment>> {
        payment.validate().map_err(|e| e.with_provider(PROVIDER))?;
        let body = wire::payment_body(payment).map_err(|e| e.with_provider(PROVIDER))?;
        self.write(&wire::PAYMENTS, Method::PUT, "/Payments", &operation.for_provider(KEY_LEN), &body).await
    }

    async fn post_journal_entry(
        &self,
        operation: &OperationKey,
        entry: &JournalEntryInput,
    ) -> Result<Remote<JournalEntry>> {
        entry.validate().map_err(|e| e.with_provider(PROVIDER))?;
        let body = wire::journal_body(entry, self.home().await?).map_err(|e| e.with_provider(PROVIDER))?;
        self.write(&wire::JOURNALS, Method::PUT, "/ManualJournals", &operation.for_provider(KEY_LEN), &body).await
    }
}
