//! [`FakeWorkday`]: Workday's REST API (Staffing v6) and OAuth2 token endpoint over a
//! [`People`] dataset, on loopback.
//!
//! Follows Workday's REST directory
//! (<https://community.workday.com/sites/default/files/file-hosting/restapi/index.html>, Staffing
//! v6 as published in <https://github.com/konfig-sdks/workday-staffing-python-sdk>): ids are
//! 32-hex WIDs, collections page by `limit` (default 20, at most 100, `400` above) and `offset`
//! into `{"total", "data"}`, errors are `{"error", "errors": [{"error", "field", "path"}]}`, and
//! every API call needs a bearer token the token endpoint issued (`401` otherwise).
//!
//! | endpoint | what it serves |
//! |---|---|
//! | `POST /ccx/oauth2/{tenant}/token` | `grant_type=refresh_token` with the client as HTTP Basic: an access token (`expires_in` 3600, no new refresh token); `invalid_client` / `invalid_grant` otherwise |
//! | `GET /ccx/api/staffing/{v}/{tenant}/workers` | non-terminated workers, everyone with `includeTerminatedWorkers=true`; `search`: space-separated terms OR'ed, each a name prefix or a worker ID |
//! | `GET .../workers/{ID}` | one worker, terminated or not; 404 once deleted |
//! | `GET .../workers/{ID}/serviceDates` | `{hireDate, continuousServiceDate}` |
//! | `GET .../supervisoryOrganizations[/{ID}]` | the dataset's departments |
//! | `GET .../jobProfiles[/{ID}]` | the dataset's jobs |
//!
//! Workers render as `WorkerData` (`id`, `descriptor`, `workerId`, `workerType`, `person.email`,
//! `primaryJob` with `businessTitle`, `supervisoryOrganization`, `jobProfile`, `location`); no
//! field marks a worker terminated or on leave, as in Workday. [`Person::overrides`] replace
//! top-level fields of the worker, except `hireDate` and `continuousServiceDate`, which replace
//! those of its service dates. [`Fault::ExpiredToken`](super::faults::Fault::ExpiredToken)
//! expires every access token issued so far; [`Fault::DuplicateAcrossPages`](super::faults::Fault::DuplicateAcrossPages)
//! acts as if a record were inserted ahead of the page: the listing shifts by one for the rest of
//! the pass (and `total` grows by one).

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use integration_core::{ConnectionId, Domain, IntegrationConfig, ProviderId, TenantId};
use serde::Deserialize;
use serde_json::{Value, json};

use super::app::FakeApi;
use super::auth::{Auth, TokenIssuer};
use super::faults::Faults;
use super::paging::Shifts;
use super::people::{DEPARTMENTS, JOBS, Kind, People, Person, Status};
use super::server::FakeServer;

/// The tenant the fake serves.
pub const TENANT: &str = "acme";
/// The API client's id.
pub const CLIENT_ID: &str = "ZmFrZS13b3JrZGF5LWNsaWVudA";
/// The API client's secret.
pub const CLIENT_SECRET: &str = "fake-workday-client-secret-0123456789";
/// The refresh token the fake accepts.
pub const REFRESH_TOKEN: &str = "fake-workday-refresh-token-abcdef0123456789";

/// Service-date fields: their overrides apply to `serviceDates`, not to the worker.
const SERVICE_FIELDS: [&str; 2] = ["hireDate", "continuousServiceDate"];

/// WID namespaces.
const WORKER: u64 = 1;
const PERSON: u64 = 2;
const ORGANIZATION: u64 = 3;
const JOB_PROFILE: u64 = 4;
const JOB: u64 = 5;
const LOCATION: u64 = 6;
const WORKER_TYPE: u64 = 7;
const SERVICE_DATES: u64 = 8;

#[derive(Debug, Clone)]
struct Shared {
    people: People,
    api: FakeApi,
    issuer: TokenIssuer,
    /// Per listing (path and filters): how far it shifted in the current pass.
    shifts: Shifts,
    base: Arc<OnceLock<String>>,
}

/// A running Workday fake.
#[derive(Debug)]
pub struct FakeWorkday {
    server: FakeServer,
    shared: Shared,
}

impl FakeWorkday {
    /// Starts the fake over `people`.
    pub async fn start(people: People) -> Self {
        let issuer = TokenIssuer::new(CLIENT_ID, CLIENT_SECRET)
            .with_refresh_token(REFRESH_TOKEN)
            .basic_only()
            .minting(|| format!("wd-at-{:032x}", fastrand::u128(..)));
        let api = FakeApi::new(Auth::OAuth2(issuer.clone())).unauthorized(|_| unauthorized());
        let shared = Shared { people, api: api.clone(), issuer, shifts: Shifts::default(), base: Arc::default() };
        let routes = axum::Router::new()
            .route("/workers", get(workers))
            .route("/workers/{id}", get(worker))
            .route("/workers/{id}/serviceDates", get(service_dates))
            .route("/supervisoryOrganizations", get(organizations))
            .route("/supervisoryOrganizations/{id}", get(organization))
            .route("/jobProfiles", get(job_profiles))
            .route("/jobProfiles/{id}", get(job_profile))
            .layer(axum::middleware::from_fn(known_version_and_tenant));
        let app = axum::Router::new()
            .nest("/ccx/api/staffing/{version}/{tenant}", api.guard(routes))
            .route("/ccx/oauth2/{tenant}/token", post(token))
            .fallback(|| async { error(StatusCode::NOT_FOUND, "Resource not found", None) })
            .with_state(shared.clone());
        let server = FakeServer::start(app).await;
        let _ = shared.base.set(server.base_url());
        Self { server, shared }
    }

    /// `http://127.0.0.1:<port>`: the adapter's `host` setting.
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// The dataset (change it between syncs).
    pub fn people(&self) -> &People {
        &self.shared.people
    }

    /// The fault queue (applied to API calls, not to the token endpoint).
    pub fn faults(&self) -> &Faults {
        self.shared.api.faults()
    }

    /// How many requests the token endpoint has received.
    pub fn token_requests(&self) -> u64 {
        self.shared.issuer.requests()
    }

    /// A connection's configuration pointing at this fake, with its client and refresh token.
    pub fn config(&self, tenant: TenantId, connection: ConnectionId) -> IntegrationConfig {
        #[allow(clippy::expect_used)]
        let provider = ProviderId::new("workday").expect("a valid provider id");
        IntegrationConfig::new(tenant, connection, Domain::Hris, provider)
            .with_setting("base_url", self.base_url())
            .with_setting("tenant", TENANT)
            .with_secret("client_id", CLIENT_ID)
            .with_secret("client_secret", CLIENT_SECRET)
            .with_secret("refresh_token", REFRESH_TOKEN)
    }

    /// The WID of dataset person `person`'s worker.
    pub fn remote_id(person: u64) -> String {
        wid(WORKER, person)
    }
}

/// A 32-hex WID derived from a namespace and an id (splitmix64, twice).
fn wid(namespace: u64, id: u64) -> String {
    let mix = |mut z: u64| {
        z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let high = mix(namespace.rotate_left(48) ^ id);
    format!("{high:016x}{:016x}", mix(high ^ id))
}

/// Workday's error body.
fn error(status: StatusCode, message: &str, detail: Option<Value>) -> Response {
    let errors = detail.map_or_else(|| vec![json!({ "error": message })], |d| vec![d]);
    (status, Json(json!({ "error": message, "errors": errors }))).into_response()
}

fn unauthorized() -> Response {
    error(StatusCode::UNAUTHORIZED, "Invalid or expired access token", None)
}

fn not_found(path: &str) -> Response {
    let detail = json!({ "error": "Invalid ID value", "field": "ID", "path": path });
    error(StatusCode::NOT_FOUND, "Resource not found", Some(detail))
}

fn invalid(field: &str, message: &str, path: &str) -> Response {
    let detail = json!({ "error": message, "field": field, "path": path });
    error(StatusCode::BAD_REQUEST, "Validation error occurred", Some(detail))
}

/// A path with an unknown API version or tenant is Workday's `404`.
async fn known_version_and_tenant(
    Path(params): Path<HashMap<String, String>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let version_ok = params
        .get("version")
        .and_then(|v| v.strip_prefix('v'))
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    if !version_ok || params.get("tenant").map(String::as_str) != Some(TENANT) {
        return error(StatusCode::NOT_FOUND, "Resource not found", None);
    }
    next.run(request).await
}

async fn token(
    State(shared): State<Shared>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if tenant != TENANT {
        return error(StatusCode::SERVICE_UNAVAILABLE, "Tenant not available", None);
    }
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    shared.issuer.answer(&headers, &form)
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Paging {
    limit: Option<String>,
    offset: Option<String>,
    search: Option<String>,
    include_terminated_workers: Option<String>,
    include_inactive: Option<String>,
}

/// One page of `items`, in Workday's envelope.
fn page(shared: &Shared, path: &str, items: Vec<Value>, paging: &Paging) -> Response {
    let limit = match paging.limit.as_deref().map(str::parse::<usize>) {
        None => 20,
        Some(Ok(n)) if (1..=100).contains(&n) => n,
        Some(_) => return invalid("limit", "The limit must be between 1 and 100", path),
    };
    let offset = match paging.offset.as_deref().map(str::parse::<usize>) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => return invalid("offset", "The offset must be a non-negative integer", path),
    };
    let key = format!("{path}?{:?}", (&paging.search, &paging.include_terminated_workers, &paging.include_inactive));
    let (start, shift) = shared.shifts.start(shared.api.faults(), path, &key, offset);
    let total = items.len() + shift;
    let data: Vec<Value> = items.into_iter().skip(start).take(limit).collect();
    Json(json!({ "total": total, "data": data })).into_response()
}

fn reference(namespace: u64, id: u64, descriptor: &str) -> Value {
    json!({ "id": wid(namespace, id), "descriptor": descriptor })
}

fn render_worker(shared: &Shared, person: &Person) -> Value {
    let base = shared.base.get().map_or("", String::as_str);
    let id = wid(WORKER, person.id);
    let (type_id, type_name) = match person.kind {
        Kind::Contractor => (2, "Contingent Worker"),
        Kind::FullTime | Kind::PartTime => (1, "Employee"),
    };
    let location_id = ["Remote", "Berlin", "Toronto"].iter().position(|l| *l == person.location).unwrap_or(9) as u64;
    let mut worker = json!({
        "id": id,
        "descriptor": person.display_name(),
        "href": format!("{base}/ccx/api/staffing/v6/{TENANT}/workers/{id}"),
        "workerId": person.employee_number,
        "workerType": reference(WORKER_TYPE, type_id, type_name),
        "person": { "id": wid(PERSON, person.id), "email": person.work_email },
        "primaryJob": {
            "id": wid(JOB, person.id),
            "descriptor": format!("{} - {}", person.job_title(), person.display_name()),
            "businessTitle": person.job_title(),
            "supervisoryOrganization": reference(ORGANIZATION, person.department, person.department_name()),
            "jobProfile": reference(JOB_PROFILE, person.job, person.job_title()),
            "location": reference(LOCATION, location_id, &person.location),
        },
        "additionalJobs": [],
    });
    if let Some(object) = worker.as_object_mut() {
        for (field, value) in person.overrides.iter().filter(|(f, _)| !SERVICE_FIELDS.contains(&f.as_str())) {
            object.insert(field.clone(), value.clone());
        }
    }
    worker
}

/// Whether `worker` matches Workday's search: any term a prefix of a word of the name, or the
/// worker ID, ignoring case.
fn matches(worker: &Value, search: &str) -> bool {
    let text = |key: &str| worker.get(key).and_then(Value::as_str).unwrap_or_default().to_lowercase();
    let (name, worker_id) = (text("descriptor"), text("workerId"));
    search
        .split_whitespace()
        .map(str::to_lowercase)
        .any(|term| term == worker_id || name.split_whitespace().any(|word| word.starts_with(&term)))
}

async fn workers(State(shared): State<Shared>, uri: Uri, Query(paging): Query<Paging>) -> Response {
    let everyone = paging.include_terminated_workers.as_deref().is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let workers: Vec<Value> = shared
        .people
        .people()
        .iter()
        .filter(|p| everyone || p.status != Status::Terminated)
        .map(|p| render_worker(&shared, p))
        .filter(|w| paging.search.as_deref().is_none_or(|s| matches(w, s)))
        .collect();
    page(&shared, uri.path(), workers, &paging)
}

fn find(shared: &Shared, id: &str) -> Option<Person> {
    shared.people.people().into_iter().find(|p| wid(WORKER, p.id) == id)
}

async fn worker(State(shared): State<Shared>, uri: Uri, Path(params): Path<HashMap<String, String>>) -> Response {
    match params.get("id").and_then(|id| find(&shared, id)) {
        Some(person) => Json(render_worker(&shared, &person)).into_response(),
        None => not_found(uri.path()),
    }
}

async fn service_dates(
    State(shared): State<Shared>,
    uri: Uri,
    Path(params): Path<HashMap<String, String>>,
) -> Response {
    let Some(person) = params.get("id").and_then(|id| find(&shared, id)) else {
        return not_found(uri.path());
    };
    let hired = person.hire_date.to_string();
    let mut dates = json!({ "id": wid(SERVICE_DATES, person.id), "hireDate": hired, "continuousServiceDate": hired });
    if let Some(object) = dates.as_object_mut() {
        for (field, value) in person.overrides.iter().filter(|(f, _)| SERVICE_FIELDS.contains(&f.as_str())) {
            object.insert(field.clone(), value.clone());
        }
    }
    Json(json!({ "total": 1, "data": [dates] })).into_response()
}

fn all_organizations() -> Vec<Value> {
    DEPARTMENTS
        .iter()
        .map(|(id, name)| {
            json!({
                "id": wid(ORGANIZATION, *id),
                "descriptor": name,
                "name": name,
                "code": format!("SUP-{}", name.to_uppercase()),
                "inactive": false,
                "managers": [],
            })
        })
        .collect()
}

fn all_job_profiles() -> Vec<Value> {
    JOBS.iter().map(|(id, title, _)| json!({ "id": wid(JOB_PROFILE, *id), "name": title, "inactive": false })).collect()
}

async fn organizations(State(shared): State<Shared>, uri: Uri, Query(paging): Query<Paging>) -> Response {
    page(&shared, uri.path(), all_organizations(), &paging)
}

async fn job_profiles(State(shared): State<Shared>, uri: Uri, Query(paging): Query<Paging>) -> Response {
    page(&shared, uri.path(), all_job_profiles(), &paging)
}

fn one(items: Vec<Value>, params: &HashMap<String, String>, path: &str) -> Response {
    let id = params.get("id").map(String::as_str);
    match items.into_iter().find(|item| item.get("id").and_then(Value::as_str) == id) {
        Some(item) => Json(item).into_response(),
        None => not_found(path),
    }
}

async fn organization(uri: Uri, Path(params): Path<HashMap<String, String>>) -> Response {
    one(all_organizations(), &params, uri.path())
}

async fn job_profile(uri: Uri, Path(params): Path<HashMap<String, String>>) -> Response {
    one(all_job_profiles(), &params, uri.path())
}
