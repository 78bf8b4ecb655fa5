//! [`FakeQuickBooks`]: the QuickBooks Online Accounting API (v3) and Intuit's OAuth2 token
//! endpoint, on loopback, over one company (realm [`REALM`]).
//!
//! Follows Intuit's documentation
//! (<https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/invoice>,
//! the data-queries, change-data-capture, limits-and-throttles and webhooks pages, and the
//! entity XSDs of `intuit/QuickBooks-V3-Java-SDK`):
//!
//! | endpoint | what it serves |
//! |---|---|
//! | `POST /oauth2/v1/tokens/bearer` | `grant_type=refresh_token`, client as HTTP Basic; **every refresh rotates the refresh token** and the old one is `invalid_grant` |
//! | `GET /v3/company/{realm}/query?query=` | the query language's subset below, `{"QueryResponse": {"<Entity>": [...], "startPosition", "maxResults"}, "time"}` (`{}` for none) |
//! | `GET /v3/company/{realm}/{entity}/{id}` | one entity, `{"<Entity>": {...}, "time"}`; `400` fault `610 Object Not Found` when deleted |
//! | `POST /v3/company/{realm}/{entity}` | create (no `Id`), full or `"sparse": true` update (`Id` + current `SyncToken`, else `400` fault `5010 Stale Object Error`), `?operation=void` / `?operation=delete`; `?requestid=` replays the first answer instead of writing again |
//! | `GET /v3/company/{realm}/cdc?entities=&changedSince=` | changed entities with deletions as `{"domain":"QBO","status":"Deleted","Id"}`; at most 1,000 objects (silently cut, as Intuit does), `changedSince` at most 30 days back |
//! | `GET /v3/company/{realm}/companyinfo/{realm}` | the company |
//!
//! The query language: `SELECT * | COUNT(*) FROM <Entity> [WHERE <cond> [AND <cond>]...]
//! [ORDERBY <field> [ASC|DESC]] [STARTPOSITION n] [MAXRESULTS n]`, conditions on `Id` (`=`,
//! `IN`), `Active` (`=`, `IN`) and `MetaData.LastUpdatedTime` (`= < > <= >=`); `STARTPOSITION`
//! is 1-based, `MAXRESULTS` 100 by default and at most 1,000. Name-list entities (accounts,
//! customers, vendors, items, classes, departments) are listed active only unless the query
//! names `Active`, as QuickBooks does. Anything else is a `400` `QueryParserError`.
//!
//! Entities hold QuickBooks' own JSON; `Id`, `SyncToken` and `MetaData` are the fake's (times
//! with a `-08:00` offset, as a Pacific company's). Amounts are JSON numbers, computed in cents.
//! A `401` has the gateway's lower-case `fault` body; faults from the [`Faults`] queue apply to
//! API calls, not to the token endpoint. Webhooks are the legacy `eventNotifications` payload
//! signed `intuit-signature` = base64 HMAC-SHA256 of the body with the verifier token.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Duration, FixedOffset, NaiveDate, Utc};
use integration_core::{ConnectionId, Domain, IntegrationConfig, ProviderId, TenantId, WebhookScheme};
use serde_json::{Map, Value, json};

use super::app::FakeApi;
use super::auth::{Auth, TokenIssuer};
use super::dataset::{Action, Dataset, Record};
use super::faults::Faults;
use super::paging::Shifts;
use super::server::FakeServer;
use super::webhooks::Subscriptions;
use crate::contract::harness::{Fake, Records};

/// The company (realm) the fake serves.
pub const REALM: &str = "9341453050000001";
/// The app's client id.
pub const CLIENT_ID: &str = "ABfakeQuickBooksClientId0123456789";
/// The app's client secret.
pub const CLIENT_SECRET: &str = "fake-quickbooks-client-secret-0123456789";
/// The first refresh token the fake accepts (it rotates on every refresh).
pub const REFRESH_TOKEN: &str = "AB11fakeQuickBooksRefreshToken0123456789";
/// The webhook verifier token.
pub const VERIFIER_TOKEN: &str = "fake-intuit-verifier-token-0123456789";
/// Most objects one change-data-capture answer holds.
pub const CDC_CAP: usize = 1000;
/// How far back change data capture looks.
pub const CDC_DAYS: i64 = 30;

/// Entities by name, with the lower-case resource name of their URLs, and whether they are a
/// name list (listed active only unless a query names `Active`).
const ENTITIES: [(&str, &str, bool); 14] = [
    ("Account", "account", true),
    ("Customer", "customer", true),
    ("Vendor", "vendor", true),
    ("Item", "item", true),
    ("Class", "class", true),
    ("Department", "department", true),
    ("TaxRate", "taxrate", false),
    ("Invoice", "invoice", false),
    ("Bill", "bill", false),
    ("CreditMemo", "creditmemo", false),
    ("Payment", "payment", false),
    ("JournalEntry", "journalentry", false),
    ("Deposit", "deposit", false),
    ("Purchase", "purchase", false),
];

#[derive(Debug, Clone)]
struct Shared {
    entities: Arc<BTreeMap<&'static str, Dataset<Value>>>,
    api: FakeApi,
    issuer: TokenIssuer,
    shifts: Shifts,
    /// `requestid` → the status and body first answered.
    answered: Arc<Mutex<HashMap<String, (StatusCode, Value)>>>,
    /// Writes actually applied (a replayed `requestid` is not one).
    writes: Arc<Mutex<u64>>,
}

impl Shared {
    fn entity(&self, name: &str) -> &Dataset<Value> {
        #[allow(clippy::expect_used)]
        self.entities.get(name).expect("every entity of ENTITIES has a dataset")
    }
}

/// A running QuickBooks Online fake.
#[derive(Debug)]
pub struct FakeQuickBooks {
    server: FakeServer,
    shared: Shared,
    webhooks: Subscriptions,
}

/// JSON for `cents` as a number with two decimals (`275.00` → `275.0`), without a float.
pub fn money(cents: i64) -> Value {
    let sign = if cents < 0 { "-" } else { "" };
    serde_json::from_str(&format!("{sign}{}.{:02}", cents.abs() / 100, cents.abs() % 100)).unwrap_or(Value::Null)
}

/// `value` (a JSON number or numeric string) in millionths, exactly; `None` when it is not one.
fn micros(value: &Value) -> Option<i128> {
    let text = match value {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_owned(),
        _ => return None,
    };
    let (negative, digits) = text.strip_prefix('-').map_or((false, text.as_str()), |t| (true, t));
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let fraction = format!("{fraction:0<6}");
    let value = whole.parse::<i128>().ok()? * 1_000_000 + fraction.get(..6)?.parse::<i128>().ok()?;
    Some(if negative { -value } else { value })
}

/// Millionths rounded to cents (half away from zero).
fn to_cents(micros: i128) -> i64 {
    let rounded = if micros >= 0 { (micros + 5_000) / 10_000 } else { (micros - 5_000) / 10_000 };
    i64::try_from(rounded).unwrap_or(i64::MAX)
}

fn cents_of(value: &Value) -> Option<i64> {
    micros(value).map(to_cents)
}

/// A QuickBooks time: RFC 3339 with a Pacific offset.
fn qbo_time(at: DateTime<Utc>) -> String {
    let pacific = FixedOffset::west_opt(8 * 3600).unwrap_or_else(|| unreachable!("a valid offset"));
    at.with_timezone(&pacific).to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

fn now_time() -> String {
    qbo_time(Utc::now())
}

/// A service fault: `{"Fault": {"Error": [{Message, Detail, code, element}], "type"}, "time"}`.
fn fault(status: StatusCode, kind: &str, code: &str, message: &str, detail: &str) -> Response {
    let body = json!({
        "Fault": {"Error": [{"Message": message, "Detail": detail, "code": code, "element": ""}], "type": kind},
        "time": now_time(),
    });
    (status, Json(body)).into_response()
}

fn parser_error(detail: &str) -> Response {
    fault(
        StatusCode::BAD_REQUEST,
        "ValidationFault",
        "4000",
        "Error parsing query",
        &format!("QueryParserError: {detail}"),
    )
}

/// The gateway's `401`, lower-case keys and a numeric time, as Intuit answers an expired token.
fn unauthorized() -> Response {
    let body = json!({
        "warnings": null, "intuitObject": null,
        "fault": {"error": [{
            "message": "message=AuthenticationFailed; errorCode=003200; statusCode=401",
            "detail": "Token expired: the access token is not valid",
            "code": "3200", "element": null,
        }], "type": "AUTHENTICATION"},
        "report": null, "queryResponse": null, "batchItemResponse": [], "attachableResponse": [],
        "syncErrorResponse": null, "requestId": null, "time": Utc::now().timestamp_millis(), "status": null,
        "cdcresponse": [],
    });
    let mut response = (StatusCode::UNAUTHORIZED, Json(body)).into_response();
    response.headers_mut().insert(
        "www-authenticate",
        axum::http::HeaderValue::from_static("Bearer realm=\"Intuit\", error=\"invalid_token\""),
    );
    response
}

/// The rendered entity: its JSON with `Id`, `SyncToken`, `MetaData`, `domain` and `sparse`,
/// and any overrides of a corrupted record.
fn render(record: &Record<Value>) -> Value {
    let mut out = record.value.clone();
    if let Some(object) = out.as_object_mut() {
        object.insert("Id".into(), Value::from(record.id.to_string()));
        object.entry("SyncToken").or_insert_with(|| Value::from("0"));
        object.insert("domain".into(), Value::from("QBO"));
        object.insert("sparse".into(), Value::from(false));
        object.insert(
            "MetaData".into(),
            json!({"CreateTime": qbo_time(record.created), "LastUpdatedTime": qbo_time(record.changed)}),
        );
    }
    record.apply_overrides(&mut out);
    out
}

/// A deleted entity as change data capture shows it.
fn tombstone(record: &Record<Value>) -> Value {
    json!({"domain": "QBO", "status": "Deleted", "Id": record.id.to_string(),
           "MetaData": {"LastUpdatedTime": qbo_time(record.changed)}})
}

fn sync_token(value: &Value) -> u64 {
    value.get("SyncToken").and_then(Value::as_str).and_then(|t| t.parse().ok()).unwrap_or(0)
}

/// Bumps an entity's `SyncToken`, as every write does.
pub fn touch(value: &mut Value) {
    let next = sync_token(value) + 1;
    if let Some(object) = value.as_object_mut() {
        object.insert("SyncToken".into(), Value::from(next.to_string()));
    }
}

fn reference(id: u64, name: &str) -> Value {
    json!({"value": id.to_string(), "name": name})
}

fn currency(code: &str) -> Value {
    let name = match code {
        "USD" => "United States Dollar",
        "CAD" => "Canadian Dollar",
        "EUR" => "Euro",
        _ => code,
    };
    json!({"value": code, "name": name})
}

/// An invoice's JSON: its sales lines (description, quantity, unit price in cents) with the
/// subtotal line QuickBooks appends, totals and balance.
pub fn invoice_json(number: &str, customer: u64, code: &str, day: NaiveDate, lines: &[(&str, i64, i64)]) -> Value {
    let mut rendered: Vec<Value> = Vec::new();
    let mut total = 0;
    for (n, (description, quantity, unit_cents)) in lines.iter().enumerate() {
        let amount = quantity * unit_cents;
        total += amount;
        rendered.push(json!({
            "Id": (n + 1).to_string(), "LineNum": n + 1, "Description": description, "Amount": money(amount),
            "DetailType": "SalesItemLineDetail",
            "SalesItemLineDetail": {"ItemRef": reference(1, "Services"), "Qty": quantity, "UnitPrice": money(*unit_cents),
                                    "TaxCodeRef": {"value": "NON"}},
        }));
    }
    rendered.push(json!({"Amount": money(total), "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}}));
    json!({
        "DocNumber": number, "TxnDate": day.to_string(), "DueDate": (day + Duration::days(30)).to_string(),
        "CustomerRef": reference(customer, &format!("Customer {customer}")), "CurrencyRef": currency(code),
        "Line": rendered, "TxnTaxDetail": {"TotalTax": money(0)}, "TotalAmt": money(total), "Balance": money(total),
        "LinkedTxn": [], "EmailStatus": "NotSet", "PrintStatus": "NeedToPrint",
    })
}

impl FakeQuickBooks {
    /// Starts the fake: a chart of accounts, customers, vendors, items, classes, a department,
    /// tax rates, and `size` invoices generated from `seed` (a few paid in part); no bills,
    /// credit notes, journal entries or bank lines until a test adds them.
    pub async fn start(seed: u64, size: usize) -> Self {
        let mut rng = fastrand::Rng::with_seed(seed);
        let entities: BTreeMap<&'static str, Dataset<Value>> =
            ENTITIES.iter().map(|(name, _, _)| (*name, Dataset::starting_at(1))).collect();
        let accounts = &entities["Account"];
        for (name, number, kind, classification, active) in [
            ("Checking", "1000", "Bank", "Asset", true),
            ("Accounts Receivable (A/R)", "1200", "Accounts Receivable", "Asset", true),
            ("Undeposited Funds", "1300", "Other Current Asset", "Asset", true),
            ("Accounts Payable (A/P)", "2000", "Accounts Payable", "Liability", true),
            ("Opening Balance Equity", "3000", "Equity", "Equity", true),
            ("Sales", "4000", "Income", "Revenue", true),
            ("Services", "4100", "Income", "Revenue", true),
            ("Rent or Lease", "6100", "Expense", "Expense", true),
            ("Office Supplies", "6200", "Expense", "Expense", true),
            ("Old Sales (deleted)", "4900", "Income", "Revenue", false),
        ] {
            accounts
                .add(json!({"Name": name, "AcctNum": number, "AccountType": kind, "Classification": classification,
                "Active": active, "SubAccount": false, "CurrentBalance": money(0), "CurrencyRef": currency("USD")}));
        }
        for n in 1..=6 {
            entities["Customer"].add(
                json!({"DisplayName": format!("Customer {n}"), "CompanyName": format!("Customer {n} Ltd"),
                "PrimaryEmailAddr": {"Address": format!("billing{n}@customer{n}.example.com")}, "Active": true,
                "Balance": money(0), "CurrencyRef": currency("USD")}),
            );
        }
        for n in 1..=3 {
            entities["Vendor"].add(json!({"DisplayName": format!("Vendor {n}"), "Active": true, "Balance": money(0),
                "CurrencyRef": currency("USD")}));
        }
        for (name, price) in [("Services", 15000), ("Hours", 9500), ("Widget", 1250)] {
            entities["Item"].add(json!({"Name": name, "Type": "Service", "Active": true, "UnitPrice": money(price),
                "IncomeAccountRef": reference(7, "Services")}));
        }
        for name in ["Consulting", "Retail"] {
            entities["Class"].add(json!({"Name": name, "FullyQualifiedName": name, "SubClass": false, "Active": true}));
        }
        entities["Department"]
            .add(json!({"Name": "West", "FullyQualifiedName": "West", "SubDepartment": false, "Active": true}));
        for (name, rate) in [("CA Sales Tax", "8.25"), ("No tax", "0")] {
            entities["TaxRate"].add(json!({"Name": name, "RateValue": serde_json::from_str::<Value>(rate).unwrap_or_default(), "Active": true}));
        }
        let start = NaiveDate::from_ymd_opt(2026, 9, 1).unwrap_or_default();
        for n in 0..size {
            let lines: Vec<(&str, i64, i64)> =
                (0..rng.usize(1..=3)).map(|_| ("Consulting", rng.i64(1..=8), rng.i64(5_000..=250_000))).collect();
            let customer = rng.u64(1..=6);
            let code = if rng.u8(..10) == 0 { "CAD" } else { "USD" };
            let day = start + Duration::days(rng.i64(0..60));
            entities["Invoice"].add(invoice_json(&format!("{}", 1001 + n), customer, code, day, &lines));
        }
        let issuer = TokenIssuer::new(CLIENT_ID, CLIENT_SECRET)
            .with_refresh_token(REFRESH_TOKEN)
            .rotating()
            .basic_only()
            .minting(|| format!("eyJ.fake-qbo-at.{:032x}", fastrand::u128(..)));
        let api = FakeApi::new(Auth::OAuth2(issuer.clone())).unauthorized(|_| unauthorized());
        let shared = Shared {
            entities: Arc::new(entities),
            api: api.clone(),
            issuer,
            shifts: Shifts::default(),
            answered: Arc::default(),
            writes: Arc::default(),
        };
        let routes = axum::Router::new()
            .route("/query", get(query))
            .route("/cdc", get(cdc))
            .route("/companyinfo/{id}", get(company_info))
            .route("/{entity}/{id}", get(read_one))
            .route("/{entity}", post(write));
        let app = axum::Router::new()
            .nest("/v3/company/{realm}", api.guard(routes))
            .route("/oauth2/v1/tokens/bearer", post(token))
            .fallback(|| async {
                fault(StatusCode::NOT_FOUND, "ValidationFault", "500", "Unsupported Operation", "no such resource")
            })
            .with_state(shared.clone());
        let server = FakeServer::start(app).await;
        Self { server, shared, webhooks: Subscriptions::new(WebhookScheme::Intuit) }
    }

    /// `http://127.0.0.1:<port>`: the API host and the token host.
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// The entity `name` (`"Invoice"`, `"Customer"`...): change it between syncs.
    ///
    /// # Panics
    /// For a name that is not one of the fake's entities.
    pub fn entity(&self, name: &str) -> &Dataset<Value> {
        self.shared.entity(name)
    }

    /// The invoices.
    pub fn invoices(&self) -> &Dataset<Value> {
        self.shared.entity("Invoice")
    }

    /// The fault queue (API calls only).
    pub fn faults(&self) -> &Faults {
        self.shared.api.faults()
    }

    /// How many requests the token endpoint has received.
    pub fn token_requests(&self) -> u64 {
        self.shared.issuer.requests()
    }

    /// The refresh token the fake accepts now (it rotates with every refresh).
    pub fn current_refresh_token(&self) -> Option<String> {
        self.shared.issuer.refresh_token()
    }

    /// How many writes the fake applied (a replayed `requestid` is not one).
    pub fn writes(&self) -> u64 {
        *lock(&self.shared.writes)
    }

    /// A connection's configuration pointing at this fake (API and token endpoint), with the
    /// app's client and the first refresh token.
    pub fn config(&self, tenant: TenantId, connection: ConnectionId) -> IntegrationConfig {
        #[allow(clippy::expect_used)]
        let provider = ProviderId::new("quickbooks").expect("a valid provider id");
        IntegrationConfig::new(tenant, connection, Domain::Accounting, provider)
            .with_setting("base_url", self.base_url())
            .with_setting("auth_base_url", self.base_url())
            .with_setting("realm_id", REALM)
            .with_secret("client_id", CLIENT_ID)
            .with_secret("client_secret", CLIENT_SECRET)
            .with_secret("refresh_token", REFRESH_TOKEN)
    }

    /// The changes made to the invoices since the last call, as Intuit's webhook: the legacy
    /// `eventNotifications` body and its `intuit-signature` headers (signed with
    /// [`VERIFIER_TOKEN`]); `None` when nothing changed.
    pub fn take_webhook(&self) -> Option<(HeaderMap, Vec<u8>)> {
        let events = self.invoices().drain_events();
        if events.is_empty() {
            return None;
        }
        let entities: Vec<Value> = events
            .iter()
            .map(|e| {
                let operation = match e.action {
                    Action::Created => "Create",
                    Action::Deleted => "Delete",
                    _ => "Update",
                };
                json!({"name": "Invoice", "id": e.id.to_string(), "operation": operation, "lastUpdated": qbo_time(e.at)})
            })
            .collect();
        let body = json!({"eventNotifications": [{"realmId": REALM, "dataChangeEvent": {"entities": entities}}]});
        let body = serde_json::to_vec(&body).ok()?;
        let headers = self.webhooks.sign(VERIFIER_TOKEN, &body, Utc::now().timestamp(), "")?;
        Some((headers, body))
    }
}

impl Fake for FakeQuickBooks {
    fn records(&self) -> &dyn Records {
        self.invoices()
    }

    fn faults(&self) -> &Faults {
        self.shared.api.faults()
    }

    /// A new invoice to customer 1: two hours of consulting.
    fn add(&self) -> u64 {
        let next = self.invoices().all().len() + 1001;
        let day = Utc::now().date_naive();
        self.invoices().add(invoice_json(&next.to_string(), 1, "USD", day, &[("Consulting", 2, 12_500)]))
    }

    /// Moves invoice `id`'s due date a week and notes it, as a user's edit does.
    fn edit(&self, id: u64) -> bool {
        self.invoices().update(id, &["DueDate", "PrivateNote"], |r| {
            let due = r.value.get("DueDate").and_then(Value::as_str).and_then(|d| d.parse::<NaiveDate>().ok());
            if let (Some(due), Some(object)) = (due, r.value.as_object_mut()) {
                object.insert("DueDate".into(), Value::from((due + Duration::days(7)).to_string()));
                object.insert("PrivateNote".into(), Value::from("due date moved"));
            }
            touch(&mut r.value);
        })
    }

    /// Checks a cached invoice (the common model as JSON) against invoice `id`: its number,
    /// total, balance and due date.
    fn check(&self, id: u64, cached: &Value) {
        let Some(record) = self.invoices().get(id) else { panic!("invoice {id} is in the dataset") };
        let invoice = render(&record);
        assert_eq!(cached["number"], invoice["DocNumber"], "invoice {id}: number");
        assert_eq!(cached["due_date"], invoice["DueDate"], "invoice {id}: due date");
        for (model, qbo) in [("total", "TotalAmt"), ("balance", "Balance")] {
            assert_eq!(
                cached.get(model).and_then(cents_of),
                invoice.get(qbo).and_then(cents_of),
                "invoice {id}: {model}"
            );
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

async fn token(State(shared): State<Shared>, headers: HeaderMap, body: String) -> Response {
    shared.issuer.answer_form(&headers, &body)
}

/// The `403` a request for another company gets; `None` for this fake's.
fn other_realm(params: &HashMap<String, String>) -> Option<Response> {
    match params.get("realm") {
        Some(realm) if realm == REALM => None,
        _ => Some(fault(
            StatusCode::FORBIDDEN,
            "AuthorizationFault",
            "3100",
            "message=AuthorizationFailed; errorCode=003100; statusCode=403",
            "the token is not authorized for this company",
        )),
    }
}

fn entity_of(resource: &str) -> Option<(&'static str, bool)> {
    ENTITIES
        .iter()
        .find(|(name, url, _)| url.eq_ignore_ascii_case(resource) || name.eq_ignore_ascii_case(resource))
        .map(|(name, _, list)| (*name, *list))
}

async fn company_info(State(_): State<Shared>, Path(params): Path<HashMap<String, String>>) -> Response {
    if let Some(refused) = other_realm(&params) {
        return refused;
    }
    let company = json!({"Id": "1", "SyncToken": "4", "domain": "QBO", "sparse": false, "CompanyName": "Larry's Bakery",
        "LegalName": "Larry's Bakery", "Country": "US", "FiscalYearStartMonth": "January",
        "MetaData": {"CreateTime": "2025-06-05T13:55:54-07:00", "LastUpdatedTime": now_time()}});
    Json(json!({"CompanyInfo": company, "time": now_time()})).into_response()
}

async fn read_one(State(shared): State<Shared>, Path(params): Path<HashMap<String, String>>) -> Response {
    if let Some(refused) = other_realm(&params) {
        return refused;
    }
    let resource = params.get("entity").map(String::as_str).unwrap_or_default();
    let Some((name, _)) = entity_of(resource) else {
        return fault(StatusCode::BAD_REQUEST, "ValidationFault", "500", "Unsupported Operation", resource);
    };
    let record = params.get("id").and_then(|id| id.parse::<u64>().ok()).and_then(|id| shared.entity(name).get(id));
    match record.filter(|r| !r.deleted) {
        Some(record) => Json(json!({name: render(&record), "time": now_time()})).into_response(),
        None => not_found(),
    }
}

fn not_found() -> Response {
    fault(
        StatusCode::BAD_REQUEST,
        "ValidationFault",
        "610",
        "Object Not Found",
        "Object Not Found : Something you're trying to use has been made inactive. Check the fields with accounts, customers, items, vendors or employees.",
    )
}

/// One token of the query language.
#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Text(String),
    Symbol(&'static str),
}

fn tokens(text: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        match c {
            c if c.is_whitespace() => i += 1,
            '\'' => {
                let mut value = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err("a quoted value does not end".into()),
                        Some('\\') => {
                            value.extend(chars.get(i + 1));
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(&other) => {
                            value.push(other);
                            i += 1;
                        }
                    }
                }
                out.push(Token::Text(value));
            }
            '(' | ')' | ',' | '*' => {
                out.push(Token::Symbol(match c {
                    '(' => "(",
                    ')' => ")",
                    ',' => ",",
                    _ => "*",
                }));
                i += 1;
            }
            '<' | '>' | '=' => {
                let two = chars.get(i + 1) == Some(&'=') && c != '=';
                out.push(Token::Symbol(match (c, two) {
                    ('<', true) => "<=",
                    ('>', true) => ">=",
                    ('<', false) => "<",
                    ('>', false) => ">",
                    _ => "=",
                }));
                i += if two { 2 } else { 1 };
            }
            _ => {
                let start = i;
                while chars.get(i).is_some_and(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | ':')) {
                    i += 1;
                }
                if i == start {
                    return Err(format!("unexpected {c:?}"));
                }
                out.push(Token::Word(chars[start..i].iter().collect()));
            }
        }
    }
    Ok(out)
}

/// A condition of a query's `WHERE`.
#[derive(Debug, Clone)]
enum Condition {
    Id(Vec<String>),
    Active(Vec<bool>),
    Updated(&'static str, DateTime<Utc>),
}

/// A parsed `SELECT`.
#[derive(Debug, Clone)]
struct Select {
    count: bool,
    entity: &'static str,
    name_list: bool,
    conditions: Vec<Condition>,
    by_update: Option<bool>,
    start: usize,
    max: usize,
}

fn word(token: Option<&Token>, expected: &str) -> bool {
    matches!(token, Some(Token::Word(w)) if w.eq_ignore_ascii_case(expected))
}

fn parse_select(text: &str) -> Result<Select, String> {
    let tokens = tokens(text)?;
    let mut at = 0;
    let next = |at: &mut usize| {
        *at += 1;
        tokens.get(*at - 1).cloned()
    };
    if !word(tokens.first(), "select") {
        return Err("a query starts with SELECT".into());
    }
    at += 1;
    let count = if word(tokens.get(at), "count") {
        if tokens.get(at + 1..at + 4) != Some(&[Token::Symbol("("), Token::Symbol("*"), Token::Symbol(")")]) {
            return Err("COUNT takes (*)".into());
        }
        at += 4;
        true
    } else if tokens.get(at) == Some(&Token::Symbol("*")) {
        at += 1;
        false
    } else {
        return Err("only SELECT * and SELECT COUNT(*) are supported".into());
    };
    if !word(tokens.get(at), "from") {
        return Err("FROM expected".into());
    }
    at += 1;
    let Some(Token::Word(entity)) = next(&mut at) else { return Err("an entity expected after FROM".into()) };
    let Some(&(entity, _, name_list)) = ENTITIES.iter().find(|(name, _, _)| *name == entity) else {
        return Err(format!("{entity} is not an entity (names are case-sensitive)"));
    };
    let mut select = Select { count, entity, name_list, conditions: Vec::new(), by_update: None, start: 1, max: 100 };
    if word(tokens.get(at), "where") {
        at += 1;
        loop {
            let Some(Token::Word(field)) = next(&mut at) else { return Err("a field expected".into()) };
            let operator = match next(&mut at) {
                Some(Token::Symbol(op)) => op,
                Some(Token::Word(w)) if w.eq_ignore_ascii_case("in") => "in",
                other => return Err(format!("an operator expected after {field}, not {other:?}")),
            };
            let values: Vec<Token> = if operator == "in" {
                if next(&mut at) != Some(Token::Symbol("(")) {
                    return Err("IN takes a list in parentheses".into());
                }
                let mut values = Vec::new();
                loop {
                    match next(&mut at) {
                        Some(Token::Symbol(")")) => break,
                        Some(Token::Symbol(",")) => {}
                        Some(value) => values.push(value),
                        None => return Err("an IN list does not end".into()),
                    }
                }
                values
            } else {
                next(&mut at).into_iter().collect()
            };
            let condition = match field.as_str() {
                "Id" if matches!(operator, "=" | "in") => Condition::Id(
                    values
                        .into_iter()
                        .map(|v| match v {
                            Token::Text(t) | Token::Word(t) => Ok(t),
                            Token::Symbol(s) => Err(format!("{s} is not an id")),
                        })
                        .collect::<Result<_, _>>()?,
                ),
                "Active" if matches!(operator, "=" | "in") => Condition::Active(
                    values
                        .into_iter()
                        .map(|v| match v {
                            Token::Word(w) if w.eq_ignore_ascii_case("true") => Ok(true),
                            Token::Word(w) if w.eq_ignore_ascii_case("false") => Ok(false),
                            other => Err(format!("{other:?} is not a boolean")),
                        })
                        .collect::<Result<_, _>>()?,
                ),
                "MetaData.LastUpdatedTime" if operator != "in" => {
                    let Some(Token::Text(time)) = values.first() else { return Err("a quoted time expected".into()) };
                    let at = DateTime::parse_from_rfc3339(time).map_err(|e| format!("{time:?} is not a time: {e}"))?;
                    Condition::Updated(operator, at.with_timezone(&Utc))
                }
                _ => return Err(format!("{field} {operator} is not supported by this fake")),
            };
            select.conditions.push(condition);
            if word(tokens.get(at), "and") {
                at += 1;
                continue;
            }
            break;
        }
    }
    while let Some(token) = tokens.get(at) {
        at += 1;
        match token {
            Token::Word(w) if w.eq_ignore_ascii_case("orderby") => {
                let Some(Token::Word(field)) = next(&mut at) else { return Err("ORDERBY takes a field".into()) };
                let descending = if word(tokens.get(at), "desc") || word(tokens.get(at), "asc") {
                    at += 1;
                    word(tokens.get(at - 1), "desc")
                } else {
                    false
                };
                match field.as_str() {
                    "MetaData.LastUpdatedTime" => select.by_update = Some(descending),
                    "Id" => {}
                    _ => return Err(format!("ORDERBY {field} is not supported by this fake")),
                }
            }
            Token::Word(w) if w.eq_ignore_ascii_case("startposition") || w.eq_ignore_ascii_case("maxresults") => {
                let Some(Token::Word(n)) = next(&mut at) else { return Err(format!("{w} takes a number")) };
                let n: usize = n.parse().map_err(|_| format!("{n:?} is not a number"))?;
                if w.eq_ignore_ascii_case("startposition") {
                    select.start = n.max(1);
                } else {
                    select.max = n;
                }
            }
            other => return Err(format!("unexpected {other:?}")),
        }
    }
    Ok(select)
}

fn matches(select: &Select, record: &Record<Value>) -> bool {
    let active = record.value.get("Active").and_then(Value::as_bool).unwrap_or(true);
    let names_active = select.conditions.iter().any(|c| matches!(c, Condition::Active(_)));
    if select.name_list && !names_active && !active {
        return false;
    }
    select.conditions.iter().all(|c| match c {
        Condition::Id(ids) => ids.iter().any(|id| *id == record.id.to_string()),
        Condition::Active(values) => values.contains(&active),
        Condition::Updated(op, at) => {
            // Compared at the second, as QuickBooks' times are written.
            let changed = record.changed.timestamp();
            let at = at.timestamp();
            match *op {
                "<" => changed < at,
                "<=" => changed <= at,
                ">" => changed > at,
                ">=" => changed >= at,
                _ => changed == at,
            }
        }
    })
}

async fn query(
    State(shared): State<Shared>,
    Path(params): Path<HashMap<String, String>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Some(refused) = other_realm(&params) {
        return refused;
    }
    let Some(text) = query.get("query") else { return parser_error("no query") };
    let select = match parse_select(text) {
        Ok(select) => select,
        Err(detail) => return parser_error(&detail),
    };
    if select.max > 1000 {
        let detail = format!("QueryValidationError: value {} is too large. Max allowed value is 1000", select.max);
        return fault(StatusCode::BAD_REQUEST, "ValidationFault", "4001", "Invalid query", &detail);
    }
    let mut rows: Vec<Record<Value>> =
        shared.entity(select.entity).live().into_iter().filter(|r| matches(&select, r)).collect();
    if select.count {
        return Json(json!({"QueryResponse": {"totalCount": rows.len()}, "time": now_time()})).into_response();
    }
    if let Some(descending) = select.by_update {
        rows.sort_by_key(|r| (r.changed, r.id));
        if descending {
            rows.reverse();
        }
    }
    let key = text.to_ascii_lowercase().split("startposition").next().unwrap_or_default().to_owned();
    let faults = shared.api.faults().clone();
    let (start, _) = shared.shifts.start(&faults, "/query", &key, select.start.saturating_sub(1));
    let page: Vec<Value> = rows.iter().skip(start).take(select.max).map(render).collect();
    let mut response = Map::new();
    if !page.is_empty() {
        response.insert("startPosition".into(), Value::from(select.start));
        response.insert("maxResults".into(), Value::from(page.len()));
        response.insert(select.entity.into(), Value::Array(page));
    }
    Json(json!({"QueryResponse": response, "time": now_time()})).into_response()
}

async fn cdc(
    State(shared): State<Shared>,
    Path(params): Path<HashMap<String, String>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Some(refused) = other_realm(&params) {
        return refused;
    }
    let invalid = |detail: &str| {
        fault(StatusCode::BAD_REQUEST, "ValidationFault", "2010", "Request has invalid or unsupported property", detail)
    };
    let Some(since) = query.get("changedSince") else { return invalid("changedSince is required") };
    let Ok(since) = DateTime::parse_from_rfc3339(since) else { return invalid("changedSince is not an ISO 8601 time") };
    let since = since.with_timezone(&Utc);
    // Intuit documents the limit, not the answer past it; this fake refuses.
    if Utc::now() - since > Duration::days(CDC_DAYS) {
        return invalid("changedSince cannot be more than 30 days in the past");
    }
    let mut left = CDC_CAP;
    let mut responses = Vec::new();
    for name in query.get("entities").map(String::as_str).unwrap_or_default().split(',').map(str::trim) {
        let Some((entity, _)) = entity_of(name).filter(|(e, _)| *e == name) else {
            return invalid(&format!("{name} is not an entity change data capture serves"));
        };
        let changed = shared.entity(entity).changed_since(Some(since));
        // Past the cap the answer is cut short, with no sign of it.
        let taken: Vec<Value> =
            changed.iter().take(left).map(|r| if r.deleted { tombstone(r) } else { render(r) }).collect();
        left -= taken.len();
        if taken.is_empty() {
            responses.push(json!({}));
        } else {
            responses.push(json!({entity: taken.clone(), "startPosition": 1, "maxResults": taken.len()}));
        }
    }
    Json(json!({"CDCResponse": [{"QueryResponse": responses}], "time": now_time()})).into_response()
}

/// What a write asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operation {
    Save,
    Void,
    Delete,
}

async fn write(
    State(shared): State<Shared>,
    Path(params): Path<HashMap<String, String>>,
    Query(query): Query<HashMap<String, String>>,
    body: String,
) -> Response {
    if let Some(refused) = other_realm(&params) {
        return refused;
    }
    let resource = params.get("entity").map(String::as_str).unwrap_or_default();
    let Some((entity, _)) = entity_of(resource) else {
        return fault(StatusCode::BAD_REQUEST, "ValidationFault", "500", "Unsupported Operation", resource);
    };
    let request_id = query.get("requestid").cloned();
    if let Some(id) = &request_id {
        if id.len() > 50 {
            return fault(
                StatusCode::BAD_REQUEST,
                "ValidationFault",
                "2050",
                "String length is either shorter or longer than supported by specification",
                "requestid is at most 50 characters",
            );
        }
        if let Some((status, body)) = lock(&shared.answered).get(id).cloned() {
            return (status, Json(body)).into_response();
        }
    }
    let operation = match query.get("operation").map(String::as_str) {
        None | Some("update") => Operation::Save,
        Some("void") => Operation::Void,
        Some("delete") => Operation::Delete,
        Some(other) => return fault(StatusCode::BAD_REQUEST, "ValidationFault", "500", "Unsupported Operation", other),
    };
    let Ok(Value::Object(input)) = serde_json::from_str::<Value>(&body) else {
        return fault(
            StatusCode::BAD_REQUEST,
            "ValidationFault",
            "2020",
            "Required param missing, need to supply the required value for the API",
            "the body is not a JSON object",
        );
    };
    let (status, answer) = match apply(&shared, entity, operation, input) {
        Ok(body) => (StatusCode::OK, body),
        Err((status, body)) => (status, body),
    };
    if let Some(id) = request_id {
        lock(&shared.answered).insert(id, (status, answer.clone()));
    }
    (status, Json(answer)).into_response()
}

type Refused = (StatusCode, Value);

fn refused(code: &str, message: &str, detail: &str) -> Refused {
    let body = json!({
        "Fault": {"Error": [{"Message": message, "Detail": detail, "code": code, "element": ""}], "type": "ValidationFault"},
        "time": now_time(),
    });
    (StatusCode::BAD_REQUEST, body)
}

fn stale() -> Refused {
    refused(
        "5010",
        "Stale Object Error",
        "Stale Object Error : You and root were working on this at the same time. root finished before you did, so your work was not saved.",
    )
}

fn object_not_found() -> Refused {
    refused(
        "610",
        "Object Not Found",
        "Object Not Found : Something you're trying to use has been made inactive. Check the fields with accounts, customers, items, vendors or employees.",
    )
}

/// The named entity's id a reference points at, if it is live.
fn live_ref(shared: &Shared, entity: &str, reference: Option<&Value>) -> Result<u64, Refused> {
    let id = reference.and_then(|r| r.get("value")).and_then(Value::as_str).and_then(|v| v.parse::<u64>().ok());
    match id.and_then(|id| shared.entity(entity).get(id)).filter(|r| !r.deleted) {
        Some(record) => Ok(record.id),
        None => Err(refused(
            "2500",
            "Invalid Reference Id",
            &format!("Invalid Reference Id : {entity} assigned to this transaction has been deleted or does not exist"),
        )),
    }
}

/// Recomputes a sales document's line amounts, subtotal line, `TotalAmt` and (for a new one)
/// `Balance`, in cents.
fn price(document: &mut Map<String, Value>, new: bool) -> Result<i64, Refused> {
    let Some(Value::Array(lines)) = document.get_mut("Line") else {
        return Err(refused(
            "2020",
            "Required param missing, need to supply the required value for the API",
            "Required parameter Line is missing in the request",
        ));
    };
    lines.retain(|l| l.get("DetailType").and_then(Value::as_str) != Some("SubTotalLineDetail"));
    let mut total = 0i64;
    for (n, line) in lines.iter_mut().enumerate() {
        let detail_type = line.get("DetailType").and_then(Value::as_str).unwrap_or_default().to_owned();
        let amount = match line.get(&detail_type) {
            Some(detail) if detail_type == "SalesItemLineDetail" => {
                let quantity = detail.get("Qty").and_then(micros).unwrap_or(1_000_000);
                match detail.get("UnitPrice").and_then(micros) {
                    Some(price) => to_cents(quantity * price / 1_000_000),
                    None => line.get("Amount").and_then(cents_of).unwrap_or(0),
                }
            }
            _ => line.get("Amount").and_then(cents_of).ok_or_else(|| {
                refused(
                    "2020",
                    "Required param missing, need to supply the required value for the API",
                    &format!("Line {n} has no Amount"),
                )
            })?,
        };
        if let Some(object) = line.as_object_mut() {
            object.insert("Amount".into(), money(amount));
            object.entry("Id").or_insert_with(|| Value::from((n + 1).to_string()));
            object.insert("LineNum".into(), Value::from(n + 1));
        }
        total += amount;
    }
    lines.push(json!({"Amount": money(total), "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}}));
    document.insert("TotalAmt".into(), money(total));
    document.entry("TxnTaxDetail").or_insert_with(|| json!({"TotalTax": money(0)}));
    if new {
        document.insert("Balance".into(), money(total));
    }
    Ok(total)
}

fn answer(entity: &str, record: &Record<Value>) -> Value {
    json!({entity: render(record), "time": now_time()})
}

fn apply(
    shared: &Shared,
    entity: &'static str,
    operation: Operation,
    input: Map<String, Value>,
) -> Result<Value, Refused> {
    let dataset = shared.entity(entity);
    let id = input
        .get("Id")
        .and_then(Value::as_str)
        .map(|id| id.parse::<u64>().map_err(|_| object_not_found()))
        .transpose()?;
    let token = input.get("SyncToken").and_then(Value::as_str).map(str::to_owned);
    let current = match id {
        Some(id) => Some(dataset.get(id).filter(|r| !r.deleted).ok_or_else(object_not_found)?),
        None => None,
    };
    if let Some(current) = &current
        && token.as_deref() != Some(sync_token(&current.value).to_string().as_str())
    {
        return Err(stale());
    }
    match (operation, current) {
        (Operation::Delete, Some(current)) => {
            dataset.delete(current.id);
            *lock(&shared.writes) += 1;
            Ok(
                json!({entity: {"domain": "QBO", "status": "Deleted", "Id": current.id.to_string()}, "time": now_time()}),
            )
        }
        (Operation::Void, Some(current)) => {
            dataset.update(current.id, &["TotalAmt", "Balance"], |r| {
                if let Some(object) = r.value.as_object_mut() {
                    for amount in ["TotalAmt", "Balance"] {
                        object.insert(amount.into(), money(0));
                    }
                    if let Some(Value::Array(lines)) = object.get_mut("Line") {
                        for line in lines.iter_mut().filter_map(Value::as_object_mut) {
                            line.insert("Amount".into(), money(0));
                        }
                    }
                    let note = object.get("PrivateNote").and_then(Value::as_str).unwrap_or_default().to_owned();
                    object.insert(
                        "PrivateNote".into(),
                        Value::from(format!(
                            "Voided{}",
                            if note.is_empty() { String::new() } else { format!(" - {note}") }
                        )),
                    );
                }
                touch(&mut r.value);
            });
            *lock(&shared.writes) += 1;
            Ok(answer(entity, &dataset.get(current.id).ok_or_else(object_not_found)?))
        }
        (Operation::Void | Operation::Delete, None) => Err(refused(
            "2020",
            "Required param missing, need to supply the required value for the API",
            "Id and SyncToken are required",
        )),
        (Operation::Save, current) => save(shared, entity, current, input),
    }
}

fn save(
    shared: &Shared,
    entity: &'static str,
    current: Option<Record<Value>>,
    mut input: Map<String, Value>,
) -> Result<Value, Refused> {
    let dataset = shared.entity(entity);
    let sparse = input.remove("sparse").and_then(|s| s.as_bool()).unwrap_or(false);
    for generated in ["Id", "SyncToken", "MetaData", "domain", "status"] {
        input.remove(generated);
    }
    if matches!(entity, "Invoice" | "Bill" | "CreditMemo") {
        // The server computes a document's totals from its lines.
        input.remove("TotalAmt");
        input.remove("Balance");
    }
    // What the entity holds after the write.
    let mut document = match (&current, sparse) {
        (Some(current), true) => {
            let mut merged = current.value.as_object().cloned().unwrap_or_default();
            merged.extend(input);
            merged
        }
        _ => input,
    };
    if let Some(current) = &current {
        // A full update keeps what only the server writes.
        for kept in ["Balance", "LinkedTxn"] {
            if let Some(value) = current.value.get(kept) {
                document.entry(kept).or_insert_with(|| value.clone());
            }
        }
    }
    match entity {
        "Invoice" | "CreditMemo" | "Bill" => {
            let party = if entity == "Bill" { ("Vendor", "VendorRef") } else { ("Customer", "CustomerRef") };
            live_ref(shared, party.0, document.get(party.1))?;
            let total = price(&mut document, current.is_none())?;
            if let Some(current) = &current {
                // Paid amounts stay paid: the balance moves with the total.
                let paid = current.value.get("TotalAmt").and_then(cents_of).unwrap_or(0)
                    - current.value.get("Balance").and_then(cents_of).unwrap_or(0);
                document.insert("Balance".into(), money(total - paid));
            }
            document.entry("CurrencyRef").or_insert_with(|| currency("USD"));
            document.entry("TxnDate").or_insert_with(|| Value::from(Utc::now().date_naive().to_string()));
            document.entry("LinkedTxn").or_insert_with(|| json!([]));
        }
        "Customer" | "Vendor" => {
            let name = document.get("DisplayName").and_then(Value::as_str).unwrap_or_default().trim().to_owned();
            if name.is_empty() {
                return Err(refused(
                    "2020",
                    "Required param missing, need to supply the required value for the API",
                    "Required parameter DisplayName is missing in the request",
                ));
            }
            let taken = ["Customer", "Vendor"].iter().any(|e| {
                shared.entity(e).live().iter().any(|r| {
                    r.value.get("DisplayName").and_then(Value::as_str) == Some(name.as_str())
                        && !(Some(r.id) == current.as_ref().map(|c| c.id) && *e == entity)
                })
            });
            if taken {
                return Err(refused(
                    "6240",
                    "Duplicate Name Exists Error",
                    &format!("The name supplied already exists. : {name}"),
                ));
            }
            document.entry("Active").or_insert(Value::Bool(true));
            document.entry("Balance").or_insert_with(|| money(0));
            document.entry("CurrencyRef").or_insert_with(|| currency("USD"));
        }
        "Payment" if current.is_none() => record_payment(shared, &mut document)?,
        "JournalEntry" => check_journal(&document)?,
        _ => {}
    }
    let value = Value::Object(document);
    let id = match current {
        Some(current) => {
            dataset.update(current.id, &["*"], |r| {
                let token = sync_token(&r.value);
                r.value = value;
                if let Some(object) = r.value.as_object_mut() {
                    object.insert("SyncToken".into(), Value::from((token + 1).to_string()));
                }
            });
            current.id
        }
        None => dataset.add(value),
    };
    *lock(&shared.writes) += 1;
    Ok(answer(entity, &dataset.get(id).ok_or_else(object_not_found)?))
}

/// Applies a new payment's lines to the invoices they link: each invoice's balance goes down
/// (never below zero: more is refused), and the payment's unapplied amount is what is left.
fn record_payment(shared: &Shared, payment: &mut Map<String, Value>) -> Result<(), Refused> {
    live_ref(shared, "Customer", payment.get("CustomerRef"))?;
    let total = payment.get("TotalAmt").and_then(cents_of).ok_or_else(|| {
        refused(
            "2020",
            "Required param missing, need to supply the required value for the API",
            "Required parameter TotalAmt is missing in the request",
        )
    })?;
    let mut applications = Vec::new();
    for line in payment.get("Line").and_then(Value::as_array).into_iter().flatten() {
        let amount = line.get("Amount").and_then(cents_of).unwrap_or(0);
        for linked in line.get("LinkedTxn").and_then(Value::as_array).into_iter().flatten() {
            if linked.get("TxnType").and_then(Value::as_str) != Some("Invoice") {
                continue;
            }
            let id = linked.get("TxnId").and_then(Value::as_str).and_then(|v| v.parse::<u64>().ok());
            let invoice = id
                .and_then(|id| shared.entity("Invoice").get(id))
                .filter(|r| !r.deleted)
                .ok_or_else(object_not_found)?;
            let balance = invoice.value.get("Balance").and_then(cents_of).unwrap_or(0);
            if amount > balance {
                return Err(refused(
                    "6000",
                    "A business validation error has occurred while processing your request",
                    &format!(
                        "Business Validation Error: The payment amount {} is more than the balance {} of invoice {}",
                        money(amount),
                        money(balance),
                        invoice.id
                    ),
                ));
            }
            applications.push((invoice.id, amount));
        }
    }
    let applied: i64 = applications.iter().map(|(_, a)| a).sum();
    if applied > total {
        return Err(refused(
            "6000",
            "A business validation error has occurred while processing your request",
            "Business Validation Error: the amounts applied exceed the payment's total",
        ));
    }
    payment.insert("UnappliedAmt".into(), money(total - applied));
    payment.entry("TxnDate").or_insert_with(|| Value::from(Utc::now().date_naive().to_string()));
    payment.entry("CurrencyRef").or_insert_with(|| currency("USD"));
    for (invoice, amount) in applications {
        shared.entity("Invoice").update(invoice, &["Balance"], |r| {
            let balance = r.value.get("Balance").and_then(cents_of).unwrap_or(0);
            if let Some(object) = r.value.as_object_mut() {
                object.insert("Balance".into(), money(balance - amount));
            }
            touch(&mut r.value);
        });
    }
    Ok(())
}

/// A journal entry's debits must equal its credits.
fn check_journal(entry: &Map<String, Value>) -> Result<(), Refused> {
    let mut sum = 0i64;
    for line in entry.get("Line").and_then(Value::as_array).into_iter().flatten() {
        let amount = line.get("Amount").and_then(cents_of).unwrap_or(0);
        match line.pointer("/JournalEntryLineDetail/PostingType").and_then(Value::as_str) {
            Some("Debit") => sum += amount,
            Some("Credit") => sum -= amount,
            _ => {
                return Err(refused(
                    "2020",
                    "Required param missing, need to supply the required value for the API",
                    "Required parameter PostingType is missing in the request",
                ));
            }
        }
    }
    if sum != 0 {
        return Err(refused(
            "6000",
            "A business validation error has occurred while processing your request",
            "Business Validation Error: Transaction must be balanced: debits and credits are not equal",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_exact_without_floats() {
        assert_eq!(money(27500).to_string(), "275.0");
        assert_eq!(money(-5).to_string(), "-0.05");
        assert_eq!(cents_of(&json!(12.34)), Some(1234));
        assert_eq!(cents_of(&json!("0.005")), Some(1));
        assert_eq!(micros(&json!("1.5")), Some(1_500_000));
        assert_eq!(micros(&json!("x")), None);
    }

    #[test]
    fn the_query_language_subset_parses_and_refuses_the_rest() {
        let select = parse_select("SELECT * FROM Invoice WHERE MetaData.LastUpdatedTime >= '2026-12-01T00:00:00-08:00' AND Id IN ('1', '2') ORDERBY MetaData.LastUpdatedTime STARTPOSITION 101 MAXRESULTS 100").expect("parses");
        assert_eq!((select.entity, select.start, select.max, select.conditions.len()), ("Invoice", 101, 100, 2));
        assert!(parse_select("select count(*) from Account where Active in (true, false)").expect("parses").count);
        assert!(parse_select("SELECT Name FROM Account").is_err());
        assert!(parse_select("SELECT * FROM invoice").is_err(), "entity names are case-sensitive");
        assert!(parse_select("SELECT * FROM Invoice WHERE DocNumber LIKE '%1'").is_err());
        assert!(parse_select("SELECT * FROM Invoice WHERE Id = 'unterminated").is_err());
    }
}
