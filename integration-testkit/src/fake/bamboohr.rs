//! [`FakeBambooHr`]: BambooHR's API v1 over a [`People`] dataset, on loopback.
//!
//! Follows <https://documentation.bamboohr.com/>: paths under
//! `/api/gateway.php/{companyDomain}/v1/`, HTTP Basic with the API key as user name, JSON only
//! when asked with `Accept: application/json`, values as strings, unset dates as `"0000-00-00"`,
//! errors without a body but with an `X-BambooHR-Error-Message` header, 429 with `Retry-After`
//! when rate limited.
//!
//! | endpoint | what it serves |
//! |---|---|
//! | `POST /v1/reports/custom?format=JSON` | every employee (all statuses) with the requested fields; `filters.lastChanged` (inclusive) |
//! | `GET /v1/employees/changed?since=` | `{latest, employees: {id: {id, action, lastChanged}}}`, inclusive, deletions included |
//! | `GET /v1/employees/{id}?fields=` | one employee's requested fields; 404 once deleted |
//! | `POST /v1/employees/{id}` | sets the fields of a flat JSON object (`firstName`, `lastName`, `workEmail`, `jobTitle`, `department`, `location`, `terminationDate`; `""` clears); `200` with an empty body, counted by [`FakeBambooHr::employee_writes`] |
//! | `GET /v1/employees/directory` | active employees |
//! | `GET /v1/meta/lists` | department, jobTitle and location options |
//! | `GET /v1/time_off/requests?start=&end=` | requests overlapping the window |
//!
//! An update goes through [`People::update`] (bumping `lastChanged`, queueing a webhook event)
//! naming the fields whose values it changes; one that changes no value succeeds and changes
//! nothing. It is refused with `400` and `X-BambooHR-Error-Message` for a field name the fake
//! does not write, a value that is not a string, a job title, department or location not in the
//! meta lists, a cleared first or last name, or a date that is not `YYYY-MM-DD`; with `404` for an
//! unknown or deleted employee.
//!
//! Webhooks are *global* webhooks, added as an administrator would with [`FakeBambooHr::add_webhook`]:
//! [`FakeBambooHr::deliver_webhooks`] posts the queued changes to each one's URL, as BambooHR's
//! field-based webhooks do, signed with `X-BambooHR-Signature` = hex HMAC-SHA256 of the body
//! followed by `X-BambooHR-Timestamp` (Unix seconds), keyed with the webhook's private key.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, NaiveDate, Utc};
use integration_core::descriptor::{GenericHmac, SignatureEncoding};
use integration_core::{ConnectionId, Domain, IntegrationConfig, ProviderId, TenantId, WebhookScheme};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::app::FakeApi;
use super::auth::Auth;
use super::faults::Faults;
use super::people::{Action, DEPARTMENTS, JOBS, Kind, People, Per, Person, Status};
use super::server::FakeServer;
use super::webhooks::Subscriptions;

/// The API key the fake accepts.
pub const API_KEY: &str = "fake-bamboohr-api-key-0123456789abcdef";
/// The company domain the fake serves.
pub const COMPANY: &str = "acme";

/// The options of the `location` meta list: `(id, name)`.
const LOCATIONS: [(u64, &str); 3] = [(31, "Remote"), (32, "Berlin"), (33, "Toronto")];

#[derive(Debug, Clone)]
struct Shared {
    people: People,
    webhooks: Subscriptions,
    employee_writes: Arc<AtomicUsize>,
}

/// A running BambooHR fake.
#[derive(Debug)]
pub struct FakeBambooHr {
    server: FakeServer,
    shared: Shared,
    api: FakeApi,
}

impl FakeBambooHr {
    /// Starts the fake over `people`.
    pub async fn start(people: People) -> Self {
        let shared =
            Shared { people, webhooks: Subscriptions::new(Self::webhook_scheme()), employee_writes: Arc::default() };
        // Any password: the API key is the user name.
        let api = FakeApi::new(Auth::Basic { user: API_KEY.to_owned(), password: None })
            .unauthorized(|_| error(StatusCode::UNAUTHORIZED, "Invalid API key"));
        let v1 = axum::Router::new()
            .route("/reports/custom", post(custom_report))
            .route("/employees/changed", get(changed))
            .route("/employees/directory", get(directory))
            .route("/employees/{id}", get(employee))
            .route("/meta/lists", get(meta_lists))
            .route("/time_off/requests", get(time_off))
            // Reads answer XML unless asked for JSON; an update answers no body at all.
            .route_layer(axum::middleware::from_fn(json_only))
            .route("/employees/{id}", post(update_employee));
        let app = api.guard(axum::Router::new().nest("/api/gateway.php/{company}/v1", v1)).with_state(shared.clone());
        Self { server: FakeServer::start(app).await, shared, api }
    }

    /// `http://127.0.0.1:<port>`: the adapter's `base_url` setting.
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// The dataset (change it between syncs).
    pub fn people(&self) -> &People {
        &self.shared.people
    }

    /// The fault queue.
    pub fn faults(&self) -> &Faults {
        self.api.faults()
    }

    /// How many `POST /v1/employees/{id}` updates succeeded (answered `200`) so far.
    pub fn employee_writes(&self) -> usize {
        self.shared.employee_writes.load(Ordering::SeqCst)
    }

    /// A connection's configuration pointing at this fake, with its API key.
    pub fn config(&self, tenant: TenantId, connection: ConnectionId) -> IntegrationConfig {
        Self::config_at(&self.base_url(), tenant, connection)
    }

    /// A connection's configuration pointing at a fake serving `base_url` — one started by
    /// another process (the scale bench's workers) — with its API key.
    pub fn config_at(base_url: &str, tenant: TenantId, connection: ConnectionId) -> IntegrationConfig {
        #[allow(clippy::expect_used)]
        let provider = ProviderId::new("bamboohr").expect("a valid provider id");
        IntegrationConfig::new(tenant, connection, Domain::Hris, provider)
            .with_setting("company_domain", COMPANY)
            .with_setting("base_url", base_url)
            .with_secret("api_key", API_KEY)
    }

    /// Adds a global webhook posting to `url`, as an administrator does in Account Settings;
    /// returns its private key (the signing secret).
    pub fn add_webhook(&self, url: &str) -> String {
        self.shared.webhooks.add(url, "bhr-whk-")
    }

    /// The scheme BambooHR signs with.
    pub fn webhook_scheme() -> WebhookScheme {
        WebhookScheme::GenericHmac(
            GenericHmac::new("X-BambooHR-Signature", SignatureEncoding::Hex)
                .with_timestamp("X-BambooHR-Timestamp", "{body}{timestamp}"),
        )
    }

    /// The queued changes as one signed delivery for the webhook with `private_key`: headers and
    /// body, or `None` when nothing changed. Drains the queue.
    pub fn take_delivery(&self, private_key: &str) -> Option<(HeaderMap, Vec<u8>)> {
        let body = self.take_body()?;
        let headers = self.signed_headers(private_key, &body, Utc::now().timestamp())?;
        Some((headers, body))
    }

    /// Posts the queued changes to every webhook added; returns the HTTP statuses they answered.
    pub async fn deliver_webhooks(&self) -> Vec<u16> {
        if self.shared.webhooks.list().is_empty() {
            return Vec::new();
        }
        // One batch for all webhooks: the queue is drained once.
        let Some(body) = self.take_body() else { return Vec::new() };
        self.shared.webhooks.deliver(&body, "", &user_agent()).await
    }

    /// The body of a field-based webhook carrying the queued changes; `None` when nothing
    /// changed. Drains the queue.
    fn take_body(&self) -> Option<Vec<u8>> {
        let events = self.shared.people.drain_events();
        if events.is_empty() {
            return None;
        }
        let employees: Vec<Value> = events
            .iter()
            .map(|event| {
                let person = self.shared.people.person(event.id);
                let changed: Vec<(&str, &str)> = event.changed.iter().filter_map(|f| webhook_field(f)).collect();
                let fields: Map<String, Value> = match (&person, event.action) {
                    (Some(p), Action::Updated) => {
                        changed.iter().map(|(display, alias)| ((*display).to_owned(), field(p, alias))).collect()
                    }
                    _ => Map::new(),
                };
                let changed: Vec<&str> = changed.iter().map(|(display, _)| *display).collect();
                json!({
                    "id": event.id.to_string(),
                    "action": match event.action { Action::Created | Action::Restored => "Created", Action::Updated => "Updated", Action::Deleted => "Deleted" },
                    "changedFields": if event.action == Action::Updated { changed } else { Vec::new() },
                    "fields": fields,
                    "timestamp": event.at.format("%Y-%m-%dT%H:%M:%S+0000").to_string(),
                })
            })
            .collect();
        serde_json::to_vec(&json!({ "employees": employees })).ok()
    }

    /// The headers BambooHR sends with `body`, signed with `private_key` at `timestamp`.
    fn signed_headers(&self, private_key: &str, body: &[u8], timestamp: i64) -> Option<HeaderMap> {
        let mut headers = self.shared.webhooks.sign(private_key, body, timestamp, "")?;
        headers.extend(user_agent());
        Some(headers)
    }
}

fn user_agent() -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(header::USER_AGENT, HeaderValue::from_static("BambooHR-WebHooks/1.0 (+https://www.bamboohr.com)"));
    headers
}

/// BambooHR's answer to a failed call: no body, the reason in `X-BambooHR-Error-Message`.
fn error(status: StatusCode, message: &str) -> Response {
    let mut response = status.into_response();
    if let Ok(value) = HeaderValue::from_str(message) {
        response.headers_mut().insert("X-BambooHR-Error-Message", value);
    }
    response
}

/// BambooHR answers in XML unless the request asks for JSON.
async fn json_only(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let json = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"));
    let format_json = request.uri().query().is_some_and(|q| q.to_ascii_lowercase().contains("format=json"));
    if !json && !format_json {
        let mut response = (StatusCode::OK, "<?xml version=\"1.0\"?><employees/>").into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/xml"));
        return response;
    }
    next.run(request).await
}

/// One field of a person as BambooHR renders it (always a string or null).
fn field(person: &Person, name: &str) -> Value {
    if let Some(value) = person.overrides.get(name) {
        return value.clone();
    }
    let text = |s: &str| Value::String(s.to_owned());
    match name {
        "id" => text(&person.id.to_string()),
        "employeeNumber" => text(&person.employee_number),
        "firstName" => text(&person.first_name),
        "lastName" => text(&person.last_name),
        "displayName" => text(&person.display_name()),
        "workEmail" => text(&person.work_email),
        "homeEmail" => person.personal_email.as_deref().map_or(Value::Null, text),
        "department" => {
            DEPARTMENTS.iter().find(|(id, _)| *id == person.department).map_or(Value::Null, |(_, n)| text(n))
        }
        "division" => Value::Null,
        "jobTitle" => JOBS.iter().find(|(id, ..)| *id == person.job).map_or(Value::Null, |(_, t, _)| text(t)),
        "location" => text(&person.location),
        "supervisorEId" => person.manager.map_or(Value::Null, |m| text(&m.to_string())),
        "status" => text(if person.status == Status::Terminated { "Inactive" } else { "Active" }),
        "employmentHistoryStatus" => text(match (person.status, person.kind) {
            (Status::Terminated, _) => "Terminated",
            (Status::OnLeave, _) => "Leave of Absence",
            (_, Kind::FullTime) => "Full-Time",
            (_, Kind::PartTime) => "Part-Time",
            (_, Kind::Contractor) => "Contractor",
        }),
        "hireDate" => text(&person.hire_date.to_string()),
        "terminationDate" => text(&person.termination_date.map_or("0000-00-00".to_owned(), |d| d.to_string())),
        "payRate" => text(&format!("{} {}", person.pay_rate, person.currency)),
        "payType" => text(if person.per == Per::Hour { "Hourly" } else { "Salary" }),
        "payPer" | "paidPer" => text(if person.per == Per::Hour { "Hour" } else { "Year" }),
        "lastChanged" => text(&person.changed.format("%Y-%m-%dT%H:%M:%S+00:00").to_string()),
        _ => Value::Null,
    }
}

/// The dataset's neutral fields as BambooHR's field-based webhooks name them: (neutral field,
/// display name in the payload, API alias of the value).
const WEBHOOK_FIELDS: [(&str, &str, &str); 7] = [
    ("first_name", "First Name", "firstName"),
    ("last_name", "Last Name", "lastName"),
    ("status", "Status", "status"),
    ("termination_date", "Termination Date", "terminationDate"),
    ("job", "Job Title", "jobTitle"),
    ("department", "Department", "department"),
    ("work_email", "Work Email", "workEmail"),
];

/// The display name and API alias of a neutral field, if webhooks carry it.
fn webhook_field(neutral: &str) -> Option<(&'static str, &'static str)> {
    WEBHOOK_FIELDS.iter().find(|(n, ..)| *n == neutral).map(|(_, display, alias)| (*display, *alias))
}

fn render(person: &Person, fields: &[String]) -> Value {
    let mut object = Map::new();
    object.insert("id".into(), field(person, "id"));
    for name in fields {
        object.insert(name.clone(), field(person, name));
    }
    // Overrides of fields not asked for still show (a provider adding odd values).
    for (name, value) in &person.overrides {
        object.insert(name.clone(), value.clone());
    }
    Value::Object(object)
}

#[derive(Debug, Deserialize)]
struct ReportRequest {
    #[serde(default)]
    title: Option<String>,
    fields: Vec<String>,
    #[serde(default)]
    filters: Option<ReportFilters>,
}

#[derive(Debug, Deserialize)]
struct ReportFilters {
    #[serde(rename = "lastChanged")]
    last_changed: Option<LastChangedFilter>,
}

#[derive(Debug, Deserialize)]
struct LastChangedFilter {
    #[serde(rename = "includeNull", default)]
    _include_null: Option<String>,
    value: String,
}

async fn custom_report(State(shared): State<Shared>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if content_type != "application/json" {
        return error(StatusCode::BAD_REQUEST, "Malformed XML");
    }
    let Ok(request) = serde_json::from_slice::<ReportRequest>(&body) else {
        return error(StatusCode::BAD_REQUEST, "Malformed JSON request");
    };
    if request.fields.len() > 400 {
        return error(StatusCode::BAD_REQUEST, "Too many fields");
    }
    let since = match request.filters.and_then(|f| f.last_changed) {
        Some(filter) => match DateTime::parse_from_rfc3339(&filter.value) {
            Ok(at) => Some(at.with_timezone(&Utc)),
            Err(_) => return error(StatusCode::BAD_REQUEST, "Invalid lastChanged filter"),
        },
        None => None,
    };
    let employees: Vec<Value> = shared
        .people
        .people()
        .iter()
        .filter(|p| since.is_none_or(|s| p.changed >= s))
        .map(|p| render(p, &request.fields))
        .collect();
    let fields: Vec<Value> = request.fields.iter().map(|id| json!({"id": id, "type": "text", "name": id})).collect();
    Json(json!({ "title": request.title.unwrap_or_default(), "fields": fields, "employees": employees }))
        .into_response()
}

#[derive(Debug, Deserialize)]
struct ChangedQuery {
    since: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

async fn changed(State(shared): State<Shared>, Query(query): Query<ChangedQuery>) -> Response {
    let Some(since) = query.since.as_deref().and_then(|s| DateTime::parse_from_rfc3339(s).ok()) else {
        return error(StatusCode::BAD_REQUEST, "The since parameter is missing or not an ISO 8601 time");
    };
    let since = since.with_timezone(&Utc);
    let mut employees = BTreeMap::new();
    let mut latest: Option<DateTime<Utc>> = None;
    for person in shared.people.everyone().iter().filter(|p| p.changed >= since) {
        let action = if person.deleted {
            "Deleted"
        } else if person.created >= since {
            "Inserted"
        } else {
            "Updated"
        };
        if query.kind.as_deref().is_some_and(|k| k != "all" && !k.eq_ignore_ascii_case(action)) {
            continue;
        }
        let at = person.changed.format("%Y-%m-%dT%H:%M:%S+00:00").to_string();
        employees
            .insert(person.id.to_string(), json!({"id": person.id.to_string(), "action": action, "lastChanged": at}));
        latest = latest.max(Some(person.changed));
    }
    if employees.is_empty() {
        // PHP's empty array: BambooHR answers a list, not an object, when nothing changed.
        return Json(json!({"latest": null, "employees": []})).into_response();
    }
    let latest = latest.map(|at| at.format("%Y-%m-%dT%H:%M:%S+00:00").to_string());
    Json(json!({"latest": latest, "employees": employees})).into_response()
}

#[derive(Debug, Deserialize)]
struct FieldsQuery {
    fields: Option<String>,
}

async fn employee(
    State(shared): State<Shared>,
    Path((_, id)): Path<(String, String)>,
    Query(query): Query<FieldsQuery>,
) -> Response {
    let person = id.parse::<u64>().ok().and_then(|id| shared.people.person(id)).filter(|p| !p.deleted);
    let Some(person) = person else {
        return error(StatusCode::NOT_FOUND, "Employee not found");
    };
    let fields: Vec<String> = query
        .fields
        .unwrap_or_else(|| "firstName,lastName".into())
        .split(',')
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .map(str::to_owned)
        .collect();
    if fields.len() > 400 {
        return error(StatusCode::BAD_REQUEST, "Too many fields");
    }
    Json(render(&person, &fields)).into_response()
}

async fn directory(State(shared): State<Shared>) -> Response {
    let fields = ["displayName", "firstName", "lastName", "jobTitle", "workEmail", "department", "location"];
    let names: Vec<String> = fields.iter().map(|f| (*f).to_owned()).collect();
    let employees: Vec<Value> =
        shared.people.people().iter().filter(|p| p.status != Status::Terminated).map(|p| render(p, &names)).collect();
    let fields: Vec<Value> = fields.iter().map(|id| json!({"id": id, "type": "text", "name": id})).collect();
    Json(json!({"fields": fields, "employees": employees})).into_response()
}

async fn meta_lists() -> Response {
    let options = |items: Vec<(u64, &str)>| -> Vec<Value> {
        items
            .into_iter()
            .map(|(id, name)| json!({"id": id, "archived": "no", "createdDate": "2016-12-08T17:41:56+00:00", "archivedDate": null, "name": name}))
            .collect()
    };
    let departments = options(DEPARTMENTS.to_vec());
    let jobs = options(JOBS.iter().map(|(id, title, _)| (*id, *title)).collect());
    let locations = options(LOCATIONS.to_vec());
    Json(json!([
        {"fieldId": 4, "alias": "department", "manageable": "yes", "multiple": "no", "name": "Department", "options": departments},
        {"fieldId": 17, "alias": "jobTitle", "manageable": "yes", "multiple": "no", "name": "Job Title", "options": jobs},
        {"fieldId": 18, "alias": "location", "manageable": "yes", "multiple": "no", "name": "Location", "options": locations},
    ]))
    .into_response()
}

/// The id of list field `name`'s option `value` (`0` for `""`: cleared), or BambooHR's refusal.
fn option(name: &str, value: &str, options: impl IntoIterator<Item = (u64, &'static str)>) -> Result<u64, String> {
    if value.is_empty() {
        return Ok(0);
    }
    options
        .into_iter()
        .find(|(_, option)| *option == value)
        .map(|(id, _)| id)
        .ok_or_else(|| format!("Invalid value for list field {name}: {value:?} is not an option"))
}

/// One field an update sets, in the dataset's terms (`0` / `""` / `None`: cleared).
#[derive(Debug)]
enum Edit {
    FirstName(String),
    LastName(String),
    WorkEmail(String),
    Job(u64),
    Department(u64),
    Location(String),
    TerminationDate(Option<NaiveDate>),
}

impl Edit {
    /// The edit of BambooHR field `name` to `value`, or the error message BambooHR would send.
    fn parse(name: &str, value: &str) -> Result<Self, String> {
        Ok(match name {
            "firstName" | "lastName" if value.trim().is_empty() => return Err(format!("{name} is required")),
            "firstName" => Self::FirstName(value.to_owned()),
            "lastName" => Self::LastName(value.to_owned()),
            "workEmail" => Self::WorkEmail(value.to_owned()),
            "jobTitle" => Self::Job(option(name, value, JOBS.iter().map(|(id, title, _)| (*id, *title)))?),
            "department" => Self::Department(option(name, value, DEPARTMENTS)?),
            "location" => {
                option(name, value, LOCATIONS)?;
                Self::Location(value.to_owned())
            }
            "terminationDate" if value.is_empty() => Self::TerminationDate(None),
            "terminationDate" => match NaiveDate::parse_from_str(value, "%Y-%m-%d") {
                Ok(date) if value.len() == 10 => Self::TerminationDate(Some(date)),
                _ => return Err(format!("Invalid date for field terminationDate: {value:?} (expected YYYY-MM-DD)")),
            },
            other => return Err(format!("Invalid field: {other:?}")),
        })
    }

    /// The dataset's name of the field (as [`People::update`] records it).
    fn neutral(&self) -> &'static str {
        match self {
            Self::FirstName(_) => "first_name",
            Self::LastName(_) => "last_name",
            Self::WorkEmail(_) => "work_email",
            Self::Job(_) => "job",
            Self::Department(_) => "department",
            Self::Location(_) => "location",
            Self::TerminationDate(_) => "termination_date",
        }
    }

    /// Whether it changes `person`.
    fn changes(&self, person: &Person) -> bool {
        match self {
            Self::FirstName(v) => *v != person.first_name,
            Self::LastName(v) => *v != person.last_name,
            Self::WorkEmail(v) => *v != person.work_email,
            Self::Job(v) => *v != person.job,
            Self::Department(v) => *v != person.department,
            Self::Location(v) => *v != person.location,
            Self::TerminationDate(v) => *v != person.termination_date,
        }
    }

    fn apply(self, person: &mut Person) {
        match self {
            Self::FirstName(v) => person.first_name = v,
            Self::LastName(v) => person.last_name = v,
            Self::WorkEmail(v) => person.work_email = v,
            Self::Job(v) => person.job = v,
            Self::Department(v) => person.department = v,
            Self::Location(v) => person.location = v,
            Self::TerminationDate(v) => person.termination_date = v,
        }
    }
}

async fn update_employee(
    State(shared): State<Shared>,
    Path((_, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let person = id.parse::<u64>().ok().and_then(|id| shared.people.person(id)).filter(|p| !p.deleted);
    let Some(person) = person else {
        return error(StatusCode::NOT_FOUND, "Employee not found");
    };
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !content_type.starts_with("application/json") {
        return error(StatusCode::BAD_REQUEST, "Malformed XML");
    }
    let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, "Malformed JSON request");
    };
    if fields.is_empty() {
        return error(StatusCode::BAD_REQUEST, "No fields to update");
    }
    let mut edits = Vec::with_capacity(fields.len());
    for (name, value) in &fields {
        let Some(value) = value.as_str() else {
            return error(StatusCode::BAD_REQUEST, &format!("Invalid value for field {name:?}: expected a string"));
        };
        match Edit::parse(name, value) {
            Ok(edit) => edits.push(edit),
            Err(message) => return error(StatusCode::BAD_REQUEST, &message),
        }
    }
    let changed: Vec<&'static str> = edits.iter().filter(|e| e.changes(&person)).map(Edit::neutral).collect();
    if !changed.is_empty()
        && !shared.people.update(person.id, &changed, move |p| edits.into_iter().for_each(|e| e.apply(p)))
    {
        return error(StatusCode::NOT_FOUND, "Employee not found");
    }
    shared.employee_writes.fetch_add(1, Ordering::SeqCst);
    StatusCode::OK.into_response()
}

#[derive(Debug, Deserialize)]
struct TimeOffQuery {
    start: Option<String>,
    end: Option<String>,
}

async fn time_off(State(shared): State<Shared>, Query(query): Query<TimeOffQuery>) -> Response {
    let parse = |s: Option<&str>| s.and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok());
    let (Some(start), Some(end)) = (parse(query.start.as_deref()), parse(query.end.as_deref())) else {
        return error(StatusCode::BAD_REQUEST, "start and end are required (YYYY-MM-DD)");
    };
    let requests: Vec<Value> = shared
        .people
        .leaves()
        .iter()
        .filter(|l| l.end >= start && l.start <= end)
        .map(|l| {
            let name = shared.people.person(l.employee).map(|p| p.display_name()).unwrap_or_default();
            json!({
                "id": l.id.to_string(),
                "employeeId": l.employee.to_string(),
                "status": {"status": l.status, "lastChanged": l.changed.date_naive().to_string(), "lastChangedByUserId": "2369"},
                "name": name,
                "start": l.start.to_string(),
                "end": l.end.to_string(),
                "created": l.created.date_naive().to_string(),
                "type": {"id": "78", "name": l.category, "icon": "palm-trees"},
                "amount": {"unit": "days", "amount": l.days.to_string()},
                "actions": {"view": true, "edit": true, "cancel": false, "approve": false, "deny": false, "bypass": false},
                "dates": {},
                "notes": {},
            })
        })
        .collect();
    Json(Value::Array(requests)).into_response()
}
