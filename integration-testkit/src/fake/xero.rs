//! [`FakeXero`]: the Xero Accounting API (2.0), its `/connections` endpoint and Xero Identity's
//! token endpoint, on loopback, over one organisation ([`TENANT_ID`]).
//!
//! Follows Xero's OpenAPI description (`XeroAPI/Xero-OpenAPI`, `xero_accounting.yaml`) and its
//! guides (requests and responses, limits, idempotent requests, webhooks):
//!
//! | endpoint | what it serves |
//! |---|---|
//! | `POST /connect/token` | `grant_type=refresh_token`, client as HTTP Basic; **refresh tokens rotate** (the old one is `invalid_grant`), access tokens last 30 minutes |
//! | `GET /connections` | the organisations the token may reach: `[{id, tenantId, tenantType, tenantName, createdDateUtc, updatedDateUtc}]` |
//! | `GET /api.xro/2.0/{Collection}` | `{Id, Status, ProviderName, DateTimeUTC, pagination?, <Collection>: [...]}`; paged collections (`Invoices`, `Contacts`, `CreditNotes`, `Payments`, `ManualJournals`, `BankTransactions`) take `page` (1-based) and `pageSize` (default 100, clamped to 1..1000); ordered by `UpdatedDateUTC`, then id; `If-Modified-Since` keeps what changed at or after it (to the second); archived contacts only with `includeArchived=true`; deleted documents are listed with `Status: DELETED` |
//! | `GET /api.xro/2.0/{Collection}/{id}` | the envelope with one record; `404` when there is none |
//! | `PUT /api.xro/2.0/{Collection}` | creates (`Invoices`, `Contacts`, `Payments`, `ManualJournals`): `{"<Collection>": [{...}]}` |
//! | `POST /api.xro/2.0/{Collection}/{id}` | updates the fields given (last writer wins: Xero has no concurrency check); `Status: VOIDED` voids an authorised invoice without payments |
//! | `GET /api.xro/2.0/Organisation` | the organisation |
//!
//! Every API call needs `xero-tenant-id` naming the organisation (`403` otherwise) and `Accept:
//! application/json` (Xero answers XML without it). Writes honour `Idempotency-Key` (at most
//! 128 characters): the same key and request replay the first answer; the same key with another
//! request is a `400`. Validation errors are `400 {"ErrorNumber": 10, "Type":
//! "ValidationException", "Message", "Elements": [{..., "ValidationErrors": [{"Message"}]}]}`.
//! Every answer carries `X-DayLimit-Remaining`, `X-MinLimit-Remaining` and
//! `X-AppMinLimit-Remaining`; past the per-window limit ([`FakeXero::with_limit`], 60 a minute
//! by default) a `429` with `X-Rate-Limit-Problem: minute` and `Retry-After`. Dates are
//! `/Date(<ms>+0000)/`. Amounts are JSON numbers, computed in cents; tax is not computed (lines
//! are `NoTax` unless a test says otherwise). Webhooks: `{"events": [...], "firstEventSequence",
//! "lastEventSequence", "entropy"}` signed `x-xero-signature` (base64 HMAC-SHA256 of the body).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, NaiveDate, Utc};
use integration_core::{ConnectionId, Domain, IntegrationConfig, ProviderId, TenantId, WebhookScheme};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::app::FakeApi;
use super::auth::{Auth, TokenIssuer};
use super::dataset::{Action, Dataset, Record};
use super::faults::Faults;
use super::quickbooks::money;
use super::server::FakeServer;
use super::webhooks::Subscriptions;
use crate::contract::harness::{Fake, Records};

/// The organisation the fake serves.
pub const TENANT_ID: &str = "fe79f7dd-b6d4-4a92-ba7b-538af6289c58";
/// The app's client id.
pub const CLIENT_ID: &str = "FAKEXEROCLIENTID0123456789ABCDEF";
/// The app's client secret.
pub const CLIENT_SECRET: &str = "fake-xero-client-secret-0123456789abcdef";
/// The first refresh token the fake accepts (it rotates on every refresh).
pub const REFRESH_TOKEN: &str = "fake-xero-refresh-token-0123456789abcdef";
/// The webhook signing key.
pub const WEBHOOK_KEY: &str = "fake-xero-webhook-key-0123456789abcdef0123456789abcdef";

/// Collections: name, the id field, whether paged, and a namespace for their ids.
const COLLECTIONS: [(&str, &str, bool, u64); 10] = [
    ("Accounts", "AccountID", false, 1),
    ("Contacts", "ContactID", true, 2),
    ("Items", "ItemID", false, 3),
    ("TaxRates", "TaxType", false, 4),
    ("TrackingCategories", "TrackingCategoryID", false, 5),
    ("Invoices", "InvoiceID", true, 6),
    ("CreditNotes", "CreditNoteID", true, 7),
    ("Payments", "PaymentID", true, 8),
    ("ManualJournals", "ManualJournalID", true, 9),
    ("BankTransactions", "BankTransactionID", true, 10),
];

/// The Xero id (a UUID) of record `id` of `collection`.
pub fn xero_id(collection: &str, id: u64) -> String {
    let namespace = COLLECTIONS.iter().find(|c| c.0 == collection).map_or(0, |c| c.3);
    format!("{namespace:08x}-0000-4000-8000-{id:012x}")
}

/// The dataset id of Xero id `text`, when it is one of `collection`'s.
fn dataset_id(collection: &str, text: &str) -> Option<u64> {
    let namespace = COLLECTIONS.iter().find(|c| c.0 == collection)?.3;
    let (prefix, id) = text.rsplit_once('-')?;
    (prefix == format!("{namespace:08x}-0000-4000-8000") && id.len() == 12).then(|| u64::from_str_radix(id, 16).ok())?
}

/// A Xero JSON date: `/Date(<ms>+0000)/`.
pub fn ms_date(at: DateTime<Utc>) -> String {
    format!("/Date({}+0000)/", at.timestamp_millis())
}

fn day_date(day: NaiveDate) -> String {
    ms_date(day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
}

/// A date Xero accepts in a request: `YYYY-MM-DD`, an ISO date-time, or `/Date(ms)/`.
fn read_day(value: &Value) -> Option<NaiveDate> {
    let text = value.as_str()?;
    if let Some(ms) = text.strip_prefix("/Date(").and_then(|t| t.split(['+', '-', ')']).next()) {
        return DateTime::from_timestamp_millis(ms.parse().ok()?).map(|t| t.date_naive());
    }
    NaiveDate::parse_from_str(text.get(..10)?, "%Y-%m-%d").ok()
}

fn cents(value: &Value) -> Option<i64> {
    let text = match value {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        _ => return None,
    };
    let (negative, digits) = text.strip_prefix('-').map_or((false, text.as_str()), |t| (true, t));
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let fraction = format!("{fraction:0<4}");
    let hundredths: i64 = whole.parse::<i64>().ok()? * 10_000 + fraction.get(..4)?.parse::<i64>().ok()?;
    let rounded = (hundredths + 50) / 100;
    Some(if negative { -rounded } else { rounded })
}

/// The key under which a record keeps its `UpdatedDateUTC` (milliseconds): Xero's times have
/// milliseconds, the dataset's change times whole seconds.
const STAMP: &str = "$updated_ms";

/// The milliseconds of the next write: now, or one past the last stamp (so every write moves
/// the version).
fn next_stamp(last: &Mutex<i64>) -> i64 {
    let mut last = lock(last);
    *last = (*last + 1).max(Utc::now().timestamp_millis());
    *last
}

/// Stamps `value` as written now.
fn stamp(last: &Mutex<i64>, value: &mut Value) {
    let at = next_stamp(last);
    if let Some(object) = value.as_object_mut() {
        object.insert(STAMP.into(), Value::from(at));
    }
}

/// A record's `UpdatedDateUTC`, in milliseconds: its stamp, or its change time if later (a
/// deletion).
fn updated_ms(record: &Record<Value>) -> i64 {
    let stamped = record.value.get(STAMP).and_then(Value::as_i64).unwrap_or(0);
    stamped.max(record.changed.timestamp_millis())
}

#[derive(Debug, Default)]
struct Window {
    started: Option<Instant>,
    used: u32,
    day: u32,
}

/// What an idempotency key was first used for: the request's digest, the status and answer.
type Answered = (String, StatusCode, Value);

#[derive(Debug, Clone)]
struct Shared {
    collections: Arc<BTreeMap<&'static str, Dataset<Value>>>,
    api: FakeApi,
    issuer: TokenIssuer,
    /// Idempotency key → (digest of method, path and body; status; answer).
    keys: Arc<Mutex<HashMap<String, Answered>>>,
    writes: Arc<Mutex<u64>>,
    stamps: Arc<Mutex<i64>>,
    limit: Arc<Mutex<(u32, Duration)>>,
    window: Arc<Mutex<Window>>,
}

impl Shared {
    fn collection(&self, name: &str) -> &Dataset<Value> {
        #[allow(clippy::expect_used)]
        self.collections.get(name).expect("every collection has a dataset")
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// A running Xero fake.
#[derive(Debug)]
pub struct FakeXero {
    server: FakeServer,
    shared: Shared,
    webhooks: Subscriptions,
    sequence: Arc<Mutex<u64>>,
}

/// An invoice's JSON (without id, totals or dates of change): lines of (description, quantity,
/// unit price in cents) on account 200.
pub fn invoice_json(number: &str, contact: u64, currency: &str, day: NaiveDate, lines: &[(&str, i64, i64)]) -> Value {
    let items: Vec<Value> = lines
        .iter()
        .enumerate()
        .map(|(n, (description, quantity, unit))| {
            json!({"LineItemID": format!("00000000-0000-4000-9000-{n:012x}"), "Description": description,
                   "Quantity": quantity, "UnitAmount": money(*unit), "AccountCode": "200", "TaxType": "NONE"})
        })
        .collect();
    let mut invoice = json!({
        "Type": "ACCREC", "InvoiceNumber": number, "Reference": format!("PO-{number}"),
        "Contact": {"ContactID": xero_id("Contacts", contact), "Name": format!("Contact {contact}")},
        "Date": day_date(day), "DueDate": day_date(day + chrono::Duration::days(30)),
        "Status": "AUTHORISED", "LineAmountTypes": "NoTax", "LineItems": items, "CurrencyCode": currency,
        "CurrencyRate": 1.0, "Payments": [],
    });
    price(&mut invoice);
    invoice
}

/// Recomputes an invoice's line amounts and totals from its lines and payments, in cents.
fn price(invoice: &mut Value) {
    let mut subtotal = 0;
    if let Some(Value::Array(lines)) = invoice.get_mut("LineItems") {
        for line in lines.iter_mut() {
            let quantity = line.get("Quantity").and_then(cents).unwrap_or(100);
            let unit = line.get("UnitAmount").and_then(cents).unwrap_or(0);
            let discount = line.get("DiscountRate").and_then(cents).unwrap_or(0);
            let gross = quantity * unit / 100;
            let amount = gross - (gross * discount + 5_000) / 10_000;
            subtotal += amount;
            if let Some(object) = line.as_object_mut() {
                object.insert("LineAmount".into(), money(amount));
                object.insert("TaxAmount".into(), money(0));
            }
        }
    }
    let paid: i64 = invoice
        .get("Payments")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| p.get("Amount").and_then(cents))
        .sum();
    if let Some(object) = invoice.as_object_mut() {
        object.insert("SubTotal".into(), money(subtotal));
        object.insert("TotalTax".into(), money(0));
        object.insert("Total".into(), money(subtotal));
        object.insert("AmountPaid".into(), money(paid));
        let voided = object.get("Status").and_then(Value::as_str) == Some("VOIDED");
        object.insert("AmountDue".into(), money(if voided { 0 } else { subtotal - paid }));
        object.insert("AmountCredited".into(), money(0));
    }
}

impl FakeXero {
    /// Starts the fake: a chart of accounts, contacts, items, tax rates, a tracking category,
    /// and `size` authorised invoices generated from `seed`.
    pub async fn start(seed: u64, size: usize) -> Self {
        let mut rng = fastrand::Rng::with_seed(seed);
        let collections: BTreeMap<&'static str, Dataset<Value>> =
            COLLECTIONS.iter().map(|(name, ..)| (*name, Dataset::starting_at(1))).collect();
        for (code, name, kind, class, status) in [
            ("090", "Business Bank Account", "BANK", "ASSET", "ACTIVE"),
            ("200", "Sales", "REVENUE", "REVENUE", "ACTIVE"),
            ("260", "Other Revenue", "OTHERINCOME", "REVENUE", "ACTIVE"),
            ("310", "Cost of Goods Sold", "DIRECTCOSTS", "EXPENSE", "ACTIVE"),
            ("429", "General Expenses", "EXPENSE", "EXPENSE", "ACTIVE"),
            ("610", "Accounts Receivable", "CURRENT", "ASSET", "ACTIVE"),
            ("800", "Accounts Payable", "CURRLIAB", "LIABILITY", "ACTIVE"),
            ("970", "Owner A Funds Introduced", "EQUITY", "EQUITY", "ACTIVE"),
            ("499", "Old Revenue", "REVENUE", "REVENUE", "ARCHIVED"),
        ] {
            let bank = if kind == "BANK" { "BANK" } else { "" };
            collections["Accounts"].add(json!({"Code": code, "Name": name, "Type": kind, "Class": class, "Status": status,
                "TaxType": "NONE", "CurrencyCode": "NZD", "BankAccountType": bank, "EnablePaymentsToAccount": kind == "BANK"}));
        }
        for n in 1..=6 {
            collections["Contacts"].add(json!({"Name": format!("Contact {n}"), "EmailAddress": format!("ap{n}@contact{n}.example.com"),
                "ContactStatus": "ACTIVE", "IsCustomer": true, "IsSupplier": n > 4, "DefaultCurrency": "NZD", "Phones": [], "Addresses": []}));
        }
        collections["Contacts"].add(
            json!({"Name": "Former Supplier", "ContactStatus": "ARCHIVED", "IsCustomer": false, "IsSupplier": true}),
        );
        for (code, name, price) in [("SVC", "Services", 15000), ("HRS", "Hours", 9500)] {
            collections["Items"].add(json!({"Code": code, "Name": name, "IsSold": true, "IsPurchased": false,
                "SalesDetails": {"UnitPrice": money(price), "AccountCode": "200", "TaxType": "NONE"}}));
        }
        for (tax_type, name, rate) in [("OUTPUT2", "15% GST on Income", "15.0"), ("NONE", "No GST", "0.0")] {
            collections["TaxRates"].add(json!({"TaxType": tax_type, "Name": name, "Status": "ACTIVE",
                "EffectiveRate": serde_json::from_str::<Value>(rate).unwrap_or_default()}));
        }
        collections["TrackingCategories"].add(json!({"Name": "Region", "Status": "ACTIVE", "Options": [
            {"TrackingOptionID": "00000000-0000-4000-a000-000000000001", "Name": "North", "Status": "ACTIVE"},
            {"TrackingOptionID": "00000000-0000-4000-a000-000000000002", "Name": "South", "Status": "ACTIVE"}]}));
        let start = NaiveDate::from_ymd_opt(2026, 9, 1).unwrap_or_default();
        for n in 0..size {
            let lines: Vec<(&str, i64, i64)> =
                (0..rng.usize(1..=3)).map(|_| ("Consulting", rng.i64(1..=8), rng.i64(5_000..=250_000))).collect();
            let day = start + chrono::Duration::days(rng.i64(0..60));
            collections["Invoices"].add(invoice_json(&format!("INV-{:04}", n + 1), rng.u64(1..=6), "NZD", day, &lines));
        }
        let issuer = TokenIssuer::new(CLIENT_ID, CLIENT_SECRET)
            .with_refresh_token(REFRESH_TOKEN)
            .rotating()
            .lifetime(std::time::Duration::from_secs(1800))
            .minting(|| format!("eyJ.fake-xero-at.{:032x}", fastrand::u128(..)));
        let api = FakeApi::new(Auth::OAuth2(issuer.clone())).unauthorized(|_| unauthorized());
        let shared = Shared {
            collections: Arc::new(collections),
            api: api.clone(),
            issuer,
            keys: Arc::default(),
            writes: Arc::default(),
            stamps: Arc::default(),
            limit: Arc::new(Mutex::new((60, Duration::from_secs(60)))),
            window: Arc::default(),
        };
        let limits = shared.clone();
        let routes = axum::Router::new()
            .route("/Organisation", get(organisation))
            .route("/{collection}", get(list).put(create).post(create))
            .route("/{collection}/{id}", get(read_one).post(update))
            .layer(axum::middleware::from_fn(tenant_and_accept))
            .layer(axum::middleware::from_fn(move |req, next| rate_limited(limits.clone(), req, next)));
        let connections = api.guard(axum::Router::new().route("/connections", get(connections_list)));
        let app = axum::Router::new()
            .nest("/api.xro/2.0", api.guard(routes))
            .merge(connections)
            .route("/connect/token", post(token))
            .route("/identity/connect/authorize", get(consent).post(approve))
            .with_state(shared.clone());
        let server = FakeServer::start(app).await;
        Self { server, shared, webhooks: Subscriptions::new(WebhookScheme::Xero), sequence: Arc::default() }
    }

    /// Sets the rate limit: `requests` per `window` (Xero: 60 a minute per organisation).
    #[must_use]
    pub fn with_limit(self, requests: u32, window: Duration) -> Self {
        *lock(&self.shared.limit) = (requests, window);
        *lock(&self.shared.window) = Window::default();
        self
    }

    /// The authorization endpoint (Xero's `login.xero.com/identity/connect/authorize`): a
    /// consent page whose "Allow access" button sends the browser back with a code, which the
    /// token endpoint exchanges (PKCE checked) for tokens with a new refresh token.
    pub fn authorization_url(&self) -> String {
        format!("{}/identity/connect/authorize", self.base_url())
    }

    /// `http://127.0.0.1:<port>`: the API, identity and connections host.
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// The collection `name` (`"Invoices"`, `"Contacts"`...): change it between syncs.
    ///
    /// # Panics
    /// For a name that is not one of the fake's collections.
    pub fn collection(&self, name: &str) -> &Dataset<Value> {
        self.shared.collection(name)
    }

    /// The invoices.
    pub fn invoices(&self) -> &Dataset<Value> {
        self.shared.collection("Invoices")
    }

    /// How many requests the token endpoint has received.
    pub fn token_requests(&self) -> u64 {
        self.shared.issuer.requests()
    }

    /// The refresh token the fake accepts now (it rotates with every refresh).
    pub fn current_refresh_token(&self) -> Option<String> {
        self.shared.issuer.refresh_token()
    }

    /// How many writes the fake applied (a replayed idempotency key is not one).
    pub fn writes(&self) -> u64 {
        *lock(&self.shared.writes)
    }

    /// A connection's configuration pointing at this fake.
    pub fn config(&self, tenant: TenantId, connection: ConnectionId) -> IntegrationConfig {
        #[allow(clippy::expect_used)]
        let provider = ProviderId::new("xero").expect("a valid provider id");
        IntegrationConfig::new(tenant, connection, Domain::Accounting, provider)
            .with_setting("base_url", self.base_url())
            .with_setting("auth_base_url", self.base_url())
            .with_setting("tenant_id", TENANT_ID)
            .with_secret("client_id", CLIENT_ID)
            .with_secret("client_secret", CLIENT_SECRET)
            .with_secret("refresh_token", REFRESH_TOKEN)
    }

    /// The invoice changes since the last call as Xero's webhook (signed with
    /// [`WEBHOOK_KEY`]); `None` when nothing changed.
    pub fn take_webhook(&self) -> Option<(HeaderMap, Vec<u8>)> {
        let events = self.invoices().drain_events();
        if events.is_empty() {
            return None;
        }
        let mut sequence = lock(&self.sequence);
        let first = *sequence + 1;
        let events: Vec<Value> = events
            .iter()
            .map(|e| {
                let id = xero_id("Invoices", e.id);
                let kind = if e.action == Action::Created { "CREATE" } else { "UPDATE" };
                json!({"resourceUrl": format!("https://api.xero.com/api.xro/2.0/Invoices/{id}"), "resourceId": id,
                       "eventDateUtc": e.at.format("%Y-%m-%dT%H:%M:%S%.3f").to_string(), "eventType": kind,
                       "eventCategory": "INVOICE", "tenantId": TENANT_ID, "tenantType": "ORGANISATION"})
            })
            .collect();
        *sequence += events.len() as u64;
        let body = json!({"events": events, "firstEventSequence": first, "lastEventSequence": *sequence,
                          "entropy": format!("{:020x}", fastrand::u128(..))});
        let body = serde_json::to_vec(&body).ok()?;
        let headers = self.webhooks.sign(WEBHOOK_KEY, &body, Utc::now().timestamp(), "")?;
        Some((headers, body))
    }
}

impl Fake for FakeXero {
    fn records(&self) -> &dyn Records {
        self.invoices()
    }

    fn faults(&self) -> &Faults {
        self.shared.api.faults()
    }

    /// A new authorised invoice to contact 1.
    fn add(&self) -> u64 {
        let next = self.invoices().all().len() + 1;
        let day = Utc::now().date_naive();
        let mut invoice = invoice_json(&format!("INV-{next:04}"), 1, "NZD", day, &[("Consulting", 2, 12_500)]);
        stamp(&self.shared.stamps, &mut invoice);
        self.invoices().add(invoice)
    }

    /// Moves invoice `id`'s due date a week and changes its reference, as a user's edit does.
    fn edit(&self, id: u64) -> bool {
        let at = next_stamp(&self.shared.stamps);
        self.invoices().update(id, &["DueDate", "Reference"], |r| {
            r.value[STAMP] = Value::from(at);
            let due = r.value.get("DueDate").and_then(read_day);
            if let (Some(due), Some(object)) = (due, r.value.as_object_mut()) {
                object.insert("DueDate".into(), Value::from(day_date(due + chrono::Duration::days(7))));
                object.insert("Reference".into(), Value::from("due date moved"));
            }
        })
    }

    /// Checks a cached invoice against invoice `id`: number, total, amount due, reference.
    fn check(&self, id: u64, cached: &Value) {
        let Some(record) = self.invoices().get(id) else { panic!("invoice {id} is in the dataset") };
        let invoice = render("Invoices", &record);
        assert_eq!(cached["number"], invoice["InvoiceNumber"], "invoice {id}: number");
        assert_eq!(cached["reference"], invoice["Reference"], "invoice {id}: reference");
        for (model, xero) in [("total", "Total"), ("balance", "AmountDue")] {
            assert_eq!(cached.get(model).and_then(cents), invoice.get(xero).and_then(cents), "invoice {id}: {model}");
        }
    }
}

/// The record as Xero serves it: its id, `UpdatedDateUTC`, and (deleted) `Status: DELETED`.
fn render(collection: &str, record: &Record<Value>) -> Value {
    let mut out = record.value.clone();
    if let Some(object) = out.as_object_mut() {
        if let Some((_, id_field, ..)) = COLLECTIONS.iter().find(|c| c.0 == collection)
            && *id_field != "TaxType"
        {
            object.insert((*id_field).into(), Value::from(xero_id(collection, record.id)));
        }
        let updated = DateTime::from_timestamp_millis(updated_ms(record)).unwrap_or(record.changed);
        object.remove(STAMP);
        object.insert("UpdatedDateUTC".into(), Value::from(ms_date(updated)));
        if record.deleted {
            let status = if collection == "Contacts" { "ContactStatus" } else { "Status" };
            object.insert(status.into(), Value::from(if collection == "Contacts" { "ARCHIVED" } else { "DELETED" }));
        }
    }
    record.apply_overrides(&mut out);
    out
}

fn envelope(collection: &str, records: Vec<Value>, pagination: Option<Value>) -> Value {
    let mut body = json!({"Id": format!("{:032x}", fastrand::u128(..)), "Status": "OK", "ProviderName": "integrations fake",
                          "DateTimeUTC": format!("/Date({})/", Utc::now().timestamp_millis())});
    if let Some(pagination) = pagination {
        body["pagination"] = pagination;
    }
    body[collection] = Value::Array(records);
    body
}

fn problem(status: StatusCode, title: &str, detail: &str) -> Response {
    let body = json!({"Type": null, "Title": title, "Status": status.as_u16(), "Detail": detail,
                      "Instance": format!("{:032x}", fastrand::u128(..)), "Extensions": {}});
    (status, Json(body)).into_response()
}

fn unauthorized() -> Response {
    problem(StatusCode::UNAUTHORIZED, "Unauthorized", "TokenExpired: token expired")
}

fn validation(collection: &str, element: &Value, message: &str) -> (StatusCode, Value) {
    let mut element = element.clone();
    if let Some(object) = element.as_object_mut() {
        object.insert("ValidationErrors".into(), json!([{"Message": message}]));
    }
    let _ = collection;
    let body = json!({"ErrorNumber": 10, "Type": "ValidationException", "Message": "A validation exception occurred",
                      "Elements": [element]});
    (StatusCode::BAD_REQUEST, body)
}

async fn tenant_and_accept(request: Request, next: Next) -> Response {
    if request.headers().get("xero-tenant-id").and_then(|v| v.to_str().ok()) != Some(TENANT_ID) {
        return problem(StatusCode::FORBIDDEN, "Forbidden", "AuthenticationUnsuccessful");
    }
    let json = request.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains("json"));
    if !json {
        let xml =
            "<Response><Status>OK</Status><!-- XML, as Xero answers without Accept: application/json --></Response>";
        return ([(header::CONTENT_TYPE, "text/xml")], xml).into_response();
    }
    next.run(request).await
}

async fn rate_limited(shared: Shared, request: Request, next: Next) -> Response {
    let (limit, length) = *lock(&shared.limit);
    let (remaining, retry) = {
        let mut window = lock(&shared.window);
        let now = Instant::now();
        if window.started.is_none_or(|s| now.duration_since(s) >= length) {
            (window.started, window.used) = (Some(now), 0);
        }
        window.used += 1;
        window.day += 1;
        let left = length.saturating_sub(window.started.map_or(Duration::ZERO, |s| now.duration_since(s)));
        (limit.saturating_sub(window.used), (window.used > limit).then_some(left.as_secs().max(1)))
    };
    let mut response = match retry {
        Some(seconds) => {
            let mut refused = (StatusCode::TOO_MANY_REQUESTS, "Rate limit exceeded").into_response();
            refused.headers_mut().insert("X-Rate-Limit-Problem", HeaderValue::from_static("minute"));
            refused.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            refused
        }
        None => next.run(request).await,
    };
    let day = 5_000u32.saturating_sub(lock(&shared.window).day);
    let headers = response.headers_mut();
    headers.insert("X-MinLimit-Remaining", HeaderValue::from(remaining));
    headers.insert("X-DayLimit-Remaining", HeaderValue::from(day));
    headers.insert("X-AppMinLimit-Remaining", HeaderValue::from(9_999u32));
    response
}

async fn token(State(shared): State<Shared>, headers: HeaderMap, body: String) -> Response {
    shared.issuer.answer_form(&headers, &body)
}

async fn consent(State(shared): State<Shared>, Query(query): Query<HashMap<String, String>>) -> Response {
    shared.issuer.consent_page("/identity/connect/authorize", &query)
}

async fn approve(State(shared): State<Shared>, body: String) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(body.as_bytes()).into_owned().collect();
    shared.issuer.approve(&form)
}

async fn connections_list() -> Response {
    Json(json!([{"id": "7cb59f93-2964-421d-bb5e-a0f7a4572a44", "authEventId": "d99ecdfe-7e3c-4c6b-9d8b-6b0d2a5c3b0f",
        "tenantId": TENANT_ID, "tenantType": "ORGANISATION", "tenantName": "Demo Company (NZ)",
        "createdDateUtc": "2026-01-07T18:46:19.5165400", "updatedDateUtc": "2026-01-07T18:46:19.5187840"}]))
    .into_response()
}

async fn organisation() -> Response {
    let organisation = json!({"OrganisationID": TENANT_ID, "Name": "Demo Company (NZ)", "BaseCurrency": "NZD",
                              "CountryCode": "NZ", "OrganisationType": "COMPANY"});
    Json(envelope("Organisations", vec![organisation], None)).into_response()
}

fn known(collection: &str) -> Option<(&'static str, bool)> {
    COLLECTIONS.iter().find(|c| c.0 == collection).map(|c| (c.0, c.2))
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "The resource you're looking for cannot be found").into_response()
}

/// `If-Modified-Since`, to the second: ISO 8601 with or without a zone (UTC when none).
fn modified_since(headers: &HeaderMap) -> Result<Option<i64>, Box<Response>> {
    let Some(value) = headers.get(header::IF_MODIFIED_SINCE) else { return Ok(None) };
    let text = value.to_str().unwrap_or_default().trim();
    let parsed = DateTime::parse_from_rfc3339(text)
        .map(|t| t.timestamp())
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").map(|t| t.and_utc().timestamp()))
        .map_err(|_| {
            let body = json!({"ErrorNumber": 14, "Type": "PostDataInvalidException", "Message": "If-Modified-Since is not a date"});
            Box::new((StatusCode::BAD_REQUEST, Json(body)).into_response())
        })?;
    Ok(Some(parsed))
}

async fn list(
    State(shared): State<Shared>,
    Path(collection): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let Some((collection, paged)) = known(&collection) else { return not_found() };
    let since = match modified_since(&headers) {
        Ok(since) => since,
        Err(refused) => return *refused,
    };
    let archived = query.get("includeArchived").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let mut rows: Vec<Record<Value>> = shared
        .collection(collection)
        .all()
        .into_iter()
        .filter(|r| since.is_none_or(|s| updated_ms(r).div_euclid(1000) >= s))
        .filter(|r| {
            collection != "Contacts"
                || archived
                || (!r.deleted && r.value.get("ContactStatus").and_then(Value::as_str) != Some("ARCHIVED"))
        })
        .collect();
    rows.sort_by_key(|r| (updated_ms(r), r.id));
    if !paged || !query.contains_key("page") {
        let records = rows.iter().map(|r| render(collection, r)).collect();
        return Json(envelope(collection, records, None)).into_response();
    }
    let page = query.get("page").and_then(|p| p.parse::<usize>().ok()).unwrap_or(1).max(1);
    let size = query.get("pageSize").and_then(|p| p.parse::<usize>().ok()).unwrap_or(100).clamp(1, 1000);
    let count = rows.len();
    let records: Vec<Value> = rows.iter().skip((page - 1) * size).take(size).map(|r| render(collection, r)).collect();
    let pagination = json!({"page": page, "pageSize": size, "pageCount": count.div_ceil(size), "itemCount": count});
    Json(envelope(collection, records, Some(pagination))).into_response()
}

async fn read_one(State(shared): State<Shared>, Path((collection, id)): Path<(String, String)>) -> Response {
    let Some((collection, _)) = known(&collection) else { return not_found() };
    match dataset_id(collection, &id).and_then(|id| shared.collection(collection).get(id)) {
        Some(record) => Json(envelope(collection, vec![render(collection, &record)], None)).into_response(),
        None => not_found(),
    }
}

/// Replays the answer `key` first got for the same request; a `400` for another request.
fn replayed(shared: &Shared, key: Option<&str>, digest: &str) -> Option<Response> {
    let key = key?;
    if key.len() > 128 {
        let body = json!({"ErrorNumber": 10, "Type": "ValidationException", "Message": "Idempotency-Key is longer than 128 characters"});
        return Some((StatusCode::BAD_REQUEST, Json(body)).into_response());
    }
    let (seen, status, answer) = lock(&shared.keys).get(key).cloned()?;
    if seen != digest {
        let body = json!({"ErrorNumber": 10, "Type": "ValidationException", "Message": format!("Idempotency Key: {key} is used with a different request.")});
        return Some((StatusCode::BAD_REQUEST, Json(body)).into_response());
    }
    Some((status, Json(answer)).into_response())
}

fn remember(shared: &Shared, key: Option<&str>, digest: String, status: StatusCode, answer: &Value) {
    if let Some(key) = key {
        lock(&shared.keys).insert(key.to_owned(), (digest, status, answer.clone()));
    }
}

fn digest(method: &Method, path: &str, body: &str) -> String {
    Sha256::digest(format!("{method} {path}\n{body}").as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

async fn create(
    State(shared): State<Shared>,
    method: Method,
    Path(collection): Path<String>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let Some((collection, _)) = known(&collection) else { return not_found() };
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let digest = digest(&method, collection, &body);
    if let Some(replay) = replayed(&shared, key.as_deref(), &digest) {
        return replay;
    }
    let elements =
        serde_json::from_str::<Value>(&body).ok().and_then(|b| b.get(collection).and_then(Value::as_array).cloned());
    let Some(elements) = elements.filter(|e| e.len() == 1) else {
        let body = json!({"ErrorNumber": 14, "Type": "PostDataInvalidException", "Message": format!("the body is not {{\"{collection}\": [one element]}}")});
        return (StatusCode::BAD_REQUEST, Json(body)).into_response();
    };
    let (status, answer) = match apply_create(&shared, collection, &elements[0]) {
        Ok(record) => (StatusCode::OK, envelope(collection, vec![record], None)),
        Err(refused) => refused,
    };
    remember(&shared, key.as_deref(), digest, status, &answer);
    (status, Json(answer)).into_response()
}

fn contact_ref(shared: &Shared, element: &Value, collection: &str) -> Result<Value, (StatusCode, Value)> {
    let id = element.pointer("/Contact/ContactID").and_then(Value::as_str).unwrap_or_default();
    match dataset_id("Contacts", id).and_then(|id| shared.collection("Contacts").get(id)).filter(|r| !r.deleted) {
        Some(contact) => Ok(json!({"ContactID": id, "Name": contact.value["Name"]})),
        None => Err(validation(collection, element, "The contact could not be found. Check the ContactID.")),
    }
}

fn account_exists(shared: &Shared, reference: &Value) -> Option<Record<Value>> {
    let accounts = shared.collection("Accounts").live();
    if let Some(id) = reference.get("AccountID").and_then(Value::as_str) {
        return dataset_id("Accounts", id).and_then(|id| accounts.into_iter().find(|a| a.id == id));
    }
    let code = reference.get("Code").or_else(|| reference.get("AccountCode")).and_then(Value::as_str)?;
    accounts.into_iter().find(|a| a.value.get("Code").and_then(Value::as_str) == Some(code))
}

fn apply_create(shared: &Shared, collection: &'static str, element: &Value) -> Result<Value, (StatusCode, Value)> {
    let mut value = element.clone();
    stamp(&shared.stamps, &mut value);
    let id = match collection {
        "Invoices" => {
            let contact = contact_ref(shared, element, collection)?;
            let lines = element.get("LineItems").and_then(Value::as_array).cloned().unwrap_or_default();
            if lines.is_empty() {
                return Err(validation(collection, element, "Invoices must have at least one line item"));
            }
            for line in &lines {
                if line.get("AccountCode").is_some() && account_exists(shared, line).is_none() {
                    return Err(validation(
                        collection,
                        element,
                        "Account code has been removed as it does not match a recognised account.",
                    ));
                }
            }
            value["Contact"] = contact;
            value["Payments"] = json!([]);
            for (field, default) in
                [("Type", "ACCREC"), ("Status", "DRAFT"), ("CurrencyCode", "NZD"), ("LineAmountTypes", "NoTax")]
            {
                if value.get(field).is_none() {
                    value[field] = Value::from(default);
                }
            }
            for date in ["Date", "DueDate"] {
                if let Some(day) = value.get(date).and_then(read_day) {
                    value[date] = Value::from(day_date(day));
                }
            }
            if value.get("InvoiceNumber").is_none() {
                value["InvoiceNumber"] =
                    Value::from(format!("INV-{:04}", shared.collection("Invoices").all().len() + 1));
            }
            price(&mut value);
            shared.collection("Invoices").add(value)
        }
        "Contacts" => {
            let name = element.get("Name").and_then(Value::as_str).unwrap_or_default().trim().to_owned();
            if name.is_empty() {
                return Err(validation(collection, element, "The contact name must be specified."));
            }
            let taken = shared
                .collection("Contacts")
                .live()
                .iter()
                .any(|c| c.value.get("Name").and_then(Value::as_str) == Some(name.as_str()));
            if taken {
                return Err(validation(
                    collection,
                    element,
                    "The contact name is already assigned to another contact. The contact name must be unique across all active contacts.",
                ));
            }
            value["ContactStatus"] = Value::from("ACTIVE");
            shared.collection("Contacts").add(value)
        }
        "Payments" => {
            let invoice_id =
                element.pointer("/Invoice/InvoiceID").and_then(Value::as_str).unwrap_or_default().to_owned();
            let Some(invoice) = dataset_id("Invoices", &invoice_id)
                .and_then(|id| shared.collection("Invoices").get(id))
                .filter(|r| !r.deleted)
            else {
                return Err(validation(collection, element, "Invoice could not be found"));
            };
            if invoice.value.get("Status").and_then(Value::as_str) != Some("AUTHORISED") {
                return Err(validation(collection, element, "Payment can only be made against Authorised documents"));
            }
            let account = element.get("Account").cloned().unwrap_or_default();
            let bank = account_exists(shared, &account)
                .filter(|a| a.value.get("EnablePaymentsToAccount").and_then(Value::as_bool) == Some(true));
            let Some(bank) = bank else {
                return Err(validation(
                    collection,
                    element,
                    "Payments must be made to a bank account or an account with payments enabled",
                ));
            };
            let amount = element.get("Amount").and_then(cents).unwrap_or(0);
            let due = invoice.value.get("AmountDue").and_then(cents).unwrap_or(0);
            if amount <= 0 || amount > due {
                return Err(validation(
                    collection,
                    element,
                    "Payment amount exceeds the amount outstanding on this document",
                ));
            }
            let date = element.get("Date").and_then(read_day).unwrap_or_else(|| Utc::now().date_naive());
            value["Date"] = Value::from(day_date(date));
            value["Amount"] = money(amount);
            value["Status"] = Value::from("AUTHORISED");
            value["PaymentType"] =
                Value::from(if invoice.value["Type"] == "ACCPAY" { "ACCPAYPAYMENT" } else { "ACCRECPAYMENT" });
            value["Account"] = json!({"AccountID": xero_id("Accounts", bank.id), "Code": bank.value["Code"]});
            value["Invoice"] = json!({"InvoiceID": invoice_id, "InvoiceNumber": invoice.value["InvoiceNumber"]});
            value["CurrencyRate"] = json!(1.0);
            let id = shared.collection("Payments").add(value);
            let payment_id = xero_id("Payments", id);
            let at = next_stamp(&shared.stamps);
            shared.collection("Invoices").update(invoice.id, &["Payments", "AmountDue", "Status"], |r| {
                r.value[STAMP] = Value::from(at);
                if let Some(Value::Array(payments)) = r.value.get_mut("Payments") {
                    payments.push(json!({"PaymentID": payment_id, "Date": day_date(date), "Amount": money(amount)}));
                }
                price(&mut r.value);
                if r.value.get("AmountDue").and_then(cents) == Some(0) {
                    r.value["Status"] = Value::from("PAID");
                    r.value["FullyPaidOnDate"] = Value::from(day_date(date));
                }
            });
            id
        }
        "ManualJournals" => {
            if element.get("Narration").and_then(Value::as_str).is_none_or(|n| n.trim().is_empty()) {
                return Err(validation(collection, element, "Narration must be specified"));
            }
            let lines = element.get("JournalLines").and_then(Value::as_array).cloned().unwrap_or_default();
            let (mut debits, mut credits) = (0i64, 0i64);
            for line in &lines {
                let amount = line.get("LineAmount").and_then(cents).unwrap_or(0);
                if amount >= 0 { debits += amount } else { credits += amount }
            }
            if debits + credits != 0 {
                let message =
                    format!("The total debits ({}) must equal total credits ({})", money(debits), money(credits));
                return Err(validation(collection, element, &message));
            }
            if value.get("Status").is_none() {
                value["Status"] = Value::from("DRAFT");
            }
            if let Some(day) = value.get("Date").and_then(read_day) {
                value["Date"] = Value::from(day_date(day));
            }
            shared.collection("ManualJournals").add(value)
        }
        _ => return Err(validation(collection, element, "This fake does not create these")),
    };
    *lock(&shared.writes) += 1;
    shared
        .collection(collection)
        .get(id)
        .map(|r| render(collection, &r))
        .ok_or_else(|| validation(collection, element, "lost"))
}

async fn update(
    State(shared): State<Shared>,
    method: Method,
    Path((collection, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let Some((collection, _)) = known(&collection) else { return not_found() };
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let digest = digest(&method, &format!("{collection}/{id}"), &body);
    if let Some(replay) = replayed(&shared, key.as_deref(), &digest) {
        return replay;
    }
    let Some(record) =
        dataset_id(collection, &id).and_then(|n| shared.collection(collection).get(n)).filter(|r| !r.deleted)
    else {
        return not_found();
    };
    let element =
        serde_json::from_str::<Value>(&body).ok().and_then(|b| b.get(collection)?.as_array()?.first().cloned());
    let Some(Value::Object(changes)) = element else {
        let body = json!({"ErrorNumber": 14, "Type": "PostDataInvalidException", "Message": format!("the body is not {{\"{collection}\": [one element]}}")});
        return (StatusCode::BAD_REQUEST, Json(body)).into_response();
    };
    let (status, answer) = match apply_update(&shared, collection, &record, changes) {
        Ok(updated) => (StatusCode::OK, envelope(collection, vec![updated], None)),
        Err(refused) => refused,
    };
    remember(&shared, key.as_deref(), digest, status, &answer);
    (status, Json(answer)).into_response()
}

fn apply_update(
    shared: &Shared,
    collection: &'static str,
    record: &Record<Value>,
    mut changes: Map<String, Value>,
) -> Result<Value, (StatusCode, Value)> {
    let current = render(collection, record);
    for read_only in [
        "UpdatedDateUTC",
        "SubTotal",
        "Total",
        "TotalTax",
        "AmountDue",
        "AmountPaid",
        "Payments",
        "InvoiceID",
        "ContactID",
    ] {
        changes.remove(read_only);
    }
    if collection == "Invoices" {
        let status = current.get("Status").and_then(Value::as_str).unwrap_or_default();
        let paid = current.get("AmountPaid").and_then(cents).unwrap_or(0);
        match changes.get("Status").and_then(Value::as_str) {
            Some("VOIDED") if status != "AUTHORISED" => {
                return Err(validation(collection, &current, "Invoice not of valid status for modification"));
            }
            Some("VOIDED") if paid > 0 => {
                return Err(validation(
                    collection,
                    &current,
                    "This document cannot be edited as it has a payment or credit note allocated to it.",
                ));
            }
            _ if status == "PAID" || status == "VOIDED" => {
                return Err(validation(collection, &current, "Invoice not of valid status for modification"));
            }
            _ => {}
        }
        for date in ["Date", "DueDate"] {
            if let Some(day) = changes.get(date).and_then(read_day) {
                changes.insert(date.into(), Value::from(day_date(day)));
            }
        }
    }
    if collection == "Contacts"
        && let Some(name) = changes.get("Name").and_then(Value::as_str)
    {
        let taken = shared
            .collection("Contacts")
            .live()
            .iter()
            .any(|c| c.id != record.id && c.value.get("Name").and_then(Value::as_str) == Some(name));
        if taken {
            return Err(validation(
                collection,
                &current,
                "The contact name is already assigned to another contact. The contact name must be unique across all active contacts.",
            ));
        }
    }
    let fields: Vec<&'static str> = vec!["*"];
    let at = next_stamp(&shared.stamps);
    shared.collection(collection).update(record.id, &fields, |r| {
        if let Some(object) = r.value.as_object_mut() {
            object.extend(changes);
            object.insert(STAMP.into(), Value::from(at));
        }
        if collection == "Invoices" {
            price(&mut r.value);
        }
    });
    *lock(&shared.writes) += 1;
    shared
        .collection(collection)
        .get(record.id)
        .map(|r| render(collection, &r))
        .ok_or_else(|| validation(collection, &current, "lost"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_dates_are_microsoft_json() {
        let id = xero_id("Invoices", 42);
        assert_eq!(dataset_id("Invoices", &id), Some(42));
        assert_eq!(dataset_id("Contacts", &id), None, "another collection's id");
        let day = NaiveDate::from_ymd_opt(2018, 10, 20).unwrap_or_default();
        assert_eq!(day_date(day), "/Date(1539993600000+0000)/");
        assert_eq!(read_day(&json!("/Date(1539993600000+0000)/")), Some(day));
        assert_eq!(read_day(&json!("2018-10-20")), Some(day));
        assert_eq!(cents(&json!(46.5)), Some(4650));
    }

    #[test]
    fn invoices_price_their_lines_and_payments() {
        let day = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default();
        let mut invoice = invoice_json("INV-1", 1, "NZD", day, &[("a", 2, 2_000), ("b", 1, 550)]);
        assert_eq!(invoice["Total"].to_string(), "45.5");
        invoice["Payments"] = json!([{"Amount": 10.5}]);
        price(&mut invoice);
        assert_eq!(invoice["AmountDue"].to_string(), "35.0");
    }
}
