//! [`FakeAdp`]: ADP Workforce Now's APIs over a [`People`] dataset, on loopback, over mutual TLS.
//!
//! Follows ADP's developer articles (<https://developers.adp.com/articles/general/access-tokens>,
//! <https://developers.adp.com/articles/general/adp-event-apis-and-event-notification-guide>,
//! <https://developers.adp.com/articles/general/api-common-exceptions-and-tips-for-handling>) and
//! the sample payloads of <https://github.com/adpllc/marketplace-sample-payloads> (`wfn/`):
//!
//! - **mutual TLS** on every call: the fake generates a CA at start, serves HTTPS with a
//!   certificate it signed, and refuses in the handshake any client without a certificate it
//!   issued ([`FakeAdp::config`] carries one, with the CA as `ca_certificate`);
//! - `POST /auth/oauth/v2/token`: the client-credentials grant, the client id and secret by
//!   HTTP Basic, in the form body or in the query (ADP accepts all three); errors in OAuth's
//!   shape (`invalid_request`, `unsupported_grant_type`, `invalid_client`); bearer tokens that
//!   live an hour;
//! - API calls need `Authorization: Bearer`; otherwise `401` with ADP's gateway error body;
//! - `GET /hr/v2/workers?$top=&$skip=` (`$top` at most 100, 50 when absent; `count=true` adds
//!   `meta.totalNumber`), `204 No Content` once `$skip` passes the end; `GET
//!   /hr/v2/workers/{aoid}`, the same envelope with one worker, `404` once deleted;
//! - the event queue: `GET /core/v1/event-notification-messages` serves the oldest message,
//!   its id in the `adp-msg-msgid` header, again and again until `DELETE
//!   /core/v1/event-notification-messages/{id}` removes it; `204` when empty. Messages come from
//!   [`People::drain_events`] when the queue is polled: a hire is `worker.hire`, a termination
//!   `worker.terminate`, a leave `worker.on-leave`, a name change `worker.legal-name.change`,
//!   other changes `worker.work-assignment.modify`. ADP publishes no event for a worker record
//!   that disappears; the fake announces a deletion as `worker.work-assignment.modify` too;
//! - validation tables: `GET /hcm/v1/validation-tables/departments` and `.../jobs`.
//!
//! [`Fault`](super::faults::Fault)s apply to the API, not to the token endpoint.
//! `Fault::ExpiredToken` expires every token issued so far. `Fault::DuplicateAcrossPages` on a
//! workers page after the first acts as if a worker had been inserted ahead of it: that page and
//! the following ones start one worker earlier.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Json;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use integration_core::{ConnectionId, Domain, IntegrationConfig, ProviderId, TenantId};
use serde_json::{Value, json};

use super::app::FakeApi;
use super::auth::{Auth, TokenIssuer};
use super::faults::Faults;
use super::paging::Shifts;
use super::people::{Action, DEPARTMENTS, JOBS, Kind, People, Per, Person, PersonEvent, Status};
use super::tls::{Authority, TlsServer};

/// The client id the fake accepts.
pub const CLIENT_ID: &str = "fake-adp-client-7c1d2e9a";
/// The client secret the fake accepts.
pub const CLIENT_SECRET: &str = "fake-adp-secret-5b8f0c3e41d24a7f9e6b";

#[derive(Debug, Default)]
struct Queue {
    messages: VecDeque<(String, Value)>,
    next_id: u64,
}

#[derive(Debug, Clone)]
struct Shared {
    people: People,
    issuer: TokenIssuer,
    queue: Arc<Mutex<Queue>>,
    /// How many workers were "inserted ahead" of the listing in progress.
    shifts: Shifts,
    api: FakeApi,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A running ADP fake.
pub struct FakeAdp {
    server: TlsServer,
    shared: Shared,
    authority: Authority,
    client_certificate: (String, String),
}

impl std::fmt::Debug for FakeAdp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeAdp").field("base_url", &self.base_url()).finish_non_exhaustive()
    }
}

impl FakeAdp {
    /// Starts the fake over `people`.
    pub async fn start(people: People) -> Self {
        let issuer = TokenIssuer::new(CLIENT_ID, CLIENT_SECRET).client_credentials().minting(|| {
            format!(
                "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
                fastrand::u32(..),
                fastrand::u16(..),
                fastrand::u16(..0x1000),
                fastrand::u16(..0x1000),
                fastrand::u64(..1 << 48)
            )
        });
        let guard = FakeApi::new(Auth::OAuth2(issuer.clone())).unauthorized(|request| {
            gateway_error(StatusCode::UNAUTHORIZED, request.method().as_str(), request.uri().path(), "Unauthorized")
        });
        let shared = Shared { people, issuer, queue: Arc::default(), shifts: Shifts::default(), api: guard.clone() };
        let api = axum::Router::new()
            .route("/hr/v2/workers", get(workers))
            .route("/hr/v2/workers/{aoid}", get(worker))
            .route("/core/v1/event-notification-messages", get(next_message))
            .route("/core/v1/event-notification-messages/{id}", axum::routing::delete(delete_message))
            .route("/hcm/v1/validation-tables/{table}", get(validation_table))
            .fallback(|request: Request| async move {
                gateway_error(
                    StatusCode::NOT_FOUND,
                    request.method().as_str(),
                    request.uri().path(),
                    "Canonical URI Not Found",
                )
            });
        let app = axum::Router::new()
            .route("/auth/oauth/v2/token", post(token))
            .merge(guard.guard(api))
            .with_state(shared.clone());
        let authority = Authority::new("Fake ADP Certificate Authority");
        let client_certificate = authority.issue_client("fake-adp-data-connector");
        let server = TlsServer::start(app, authority.server_config()).await;
        Self { server, shared, authority, client_certificate }
    }

    /// `https://127.0.0.1:<port>`: the adapter's `base_url` and `auth_base_url`.
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// The dataset (change it between syncs).
    pub fn people(&self) -> &People {
        &self.shared.people
    }

    /// The fault queue.
    pub fn faults(&self) -> &Faults {
        self.shared.api.faults()
    }

    /// The fake's CA certificate (PEM): trust it to reach the fake.
    pub fn ca_certificate(&self) -> &str {
        self.authority.certificate_pem()
    }

    /// How many messages wait in the event queue (polling it first drains the dataset's changes).
    pub fn queued_messages(&self) -> usize {
        enqueue(&self.shared);
        lock(&self.shared.queue).messages.len()
    }

    /// Every access token issued, to check that none leaks.
    pub fn issued_tokens(&self) -> Vec<String> {
        self.shared.issuer.issued()
    }

    /// A connection's configuration pointing at this fake: its client id and secret, a client
    /// certificate and key it issued, and its CA as `ca_certificate`.
    pub fn config(&self, tenant: TenantId, connection: ConnectionId) -> IntegrationConfig {
        #[allow(clippy::expect_used)]
        let provider = ProviderId::new("adp").expect("a valid provider id");
        let (certificate, key) = &self.client_certificate;
        IntegrationConfig::new(tenant, connection, Domain::Hris, provider)
            .with_setting("client_id", CLIENT_ID)
            .with_setting("base_url", self.base_url())
            .with_setting("auth_base_url", self.base_url())
            .with_setting("ca_certificate", self.ca_certificate())
            .with_secret("client_secret", CLIENT_SECRET)
            .with_secret("client_certificate", certificate.as_str())
            .with_secret("client_key", key.as_str())
    }

    /// The associate OID the fake gives dataset person `person`.
    pub fn remote_id(person: u64) -> String {
        aoid(person)
    }
}

/// An AOID-like id (`G3Q8` and 12 characters), derived from the dataset id.
fn aoid(person: u64) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut bits = person.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x5851_F42D_4C95_7F2D;
    let mut id = String::from("G3Q8");
    for _ in 0..12 {
        id.push(char::from(ALPHABET[(bits & 31) as usize]));
        bits >>= 5;
    }
    id
}

/// ADP's gateway error (bad URI, token or scope).
fn gateway_error(status: StatusCode, method: &str, path: &str, message: &str) -> Response {
    let body = json!({"response": {
        "responseCode": status.as_u16(), "methodCode": method, "resourceUri": {"href": path},
        "serverRequestDateTime": Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        "applicationCode": {"code": status.as_u16(), "typeCode": "error", "message": message},
        "client_ip_adddress": "127.0.0.1", "adp-correlationID": format!("{:032x}", fastrand::u128(..)),
    }});
    let mut response = (status, Json(body)).into_response();
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"api\", error=\"invalid_token\""),
        );
    }
    response
}

/// ADP's application error (`confirmMessage`).
fn confirm_message(status: StatusCode, text: &str) -> Response {
    let body = json!({"confirmMessage": {
        "confirmMessageID": {"idValue": format!("{:032X}", fastrand::u128(..)),
            "schemeName": "confirmMessageID", "schemeAgencyName": "WFN"},
        "createDateTime": Utc::now().format("%Y-%m-%dT%H:%M:%S%.3f%z").to_string(),
        "protocolStatusCode": {"codeValue": status.as_u16().to_string(), "shortName": status.as_u16().to_string()},
        "requestStatusCode": {"codeValue": "failed"},
        "processMessages": [{"messageTypeCode": {"codeValue": "error"}, "userMessage": {"messageTxt": text}}],
    }});
    (status, Json(body)).into_response()
}

async fn token(State(shared): State<Shared>, headers: HeaderMap, request: Request) -> Response {
    // ADP reads the client and grant from the query as well as the form.
    let query = request.uri().query().unwrap_or_default().to_owned();
    let body = axum::body::to_bytes(request.into_body(), 64 * 1024).await.unwrap_or_default();
    let params: HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
        .chain(url::form_urlencoded::parse(&body))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    match shared.issuer.grant(&headers, &params) {
        Ok(mut answer) => {
            answer["scope"] = Value::from("api");
            Json(answer).into_response()
        }
        Err(refusal) => refusal.into_response(),
    }
}

fn code(code: &str, name: &str) -> Value {
    json!({"codeValue": code, "shortName": name})
}

fn adp_time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.3f%z").to_string()
}

/// One person as Workers v2 renders them, with the person's overrides laid over the top level.
fn render(person: &Person) -> Value {
    let (worker_status, assignment_status) = match person.status {
        Status::Active => ("Active", code("A", "Active")),
        Status::OnLeave => ("Inactive", code("L", "Leave")),
        Status::Terminated => ("Terminated", code("T", "Terminated")),
    };
    let worker_type = match person.kind {
        Kind::FullTime => code("F", "Full Time"),
        Kind::PartTime => code("P", "Part Time"),
        Kind::Contractor => code("C", "Contractor"),
    };
    let per = if person.per == Per::Hour { code("Hourly", "Hourly") } else { code("ANNUAL", "ANNUAL") };
    let rate = json!({"nameCode": per,
        "amountValue": person.pay_rate.parse::<f64>().unwrap_or_default(), "currencyCode": person.currency});
    let remuneration = if person.per == Per::Hour {
        json!({"hourlyRateAmount": rate, "effectiveDate": person.hire_date.to_string()})
    } else {
        json!({"annualRateAmount": rate, "effectiveDate": person.hire_date.to_string()})
    };
    let mut assignment = json!({
        "itemID": format!("{}N", 10_990_000 + person.id), "primaryIndicator": true,
        "hireDate": person.hire_date.to_string(),
        "assignmentStatus": {"statusCode": assignment_status},
        "workerTypeCode": worker_type,
        "jobCode": code(&person.job.to_string(), person.job_title()), "jobTitle": person.job_title(),
        "positionID": format!("4AN{:06}", person.id),
        "homeOrganizationalUnits": [
            {"nameCode": code("CORP", "Corporate"), "typeCode": code("Business Unit", "Business Unit")},
            {"nameCode": code(&person.department.to_string(), person.department_name()),
                "typeCode": code("Department", "Department")},
        ],
        "homeWorkLocation": {"nameCode": code(&person.location.to_uppercase(), &person.location)},
        "baseRemuneration": remuneration,
        "payCycleCode": code("B", "Biweekly"),
    });
    let mut dates = json!({"originalHireDate": person.hire_date.to_string()});
    if let Some(end) = person.termination_date.filter(|_| person.status == Status::Terminated) {
        assignment["terminationDate"] = json!(end.to_string());
        dates["terminationDate"] = json!(end.to_string());
    }
    if let Some(manager) = person.manager {
        assignment["reportsTo"] = json!([{"associateOID": aoid(manager), "positionID": format!("4AN{manager:06}"),
            "workerID": {"idValue": format!("{manager:010}"), "schemeCode": code("Associate ID", "Associate ID")}}]);
    }
    let mut person_json = json!({"legalName": {"givenName": person.first_name, "familyName1": person.last_name,
        "formattedName": format!("{}, {}", person.last_name, person.first_name)}});
    if let Some(email) = &person.personal_email {
        person_json["communication"] =
            json!({"emails": [{"nameCode": code("Personal E-mail", "Personal E-mail"), "emailUri": email}]});
    }
    let mut worker = json!({
        "associateOID": aoid(person.id),
        "workerID": {"idValue": person.employee_number, "schemeCode": code("Associate ID", "Associate ID")},
        "person": person_json,
        "businessCommunication": {"emails": [{"itemID": "Business", "nameCode": code("Work E-mail", "Work E-mail"),
            "emailUri": person.work_email}]},
        "workerDates": dates,
        "workerStatus": {"statusCode": {"codeValue": worker_status}},
        "workAssignments": [assignment],
    });
    if let Value::Object(object) = &mut worker {
        for (key, value) in &person.overrides {
            object.insert(key.clone(), value.clone());
        }
    }
    worker
}

async fn workers(State(shared): State<Shared>, Query(query): Query<HashMap<String, String>>) -> Response {
    let number = |name: &str, default: usize| query.get(name).map_or(Ok(default), |v| v.parse::<usize>());
    let (Ok(top), Ok(skip)) = (number("$top", 50), number("$skip", 0)) else {
        return confirm_message(StatusCode::BAD_REQUEST, "$top and $skip must be non-negative integers");
    };
    let top = top.clamp(1, 100);
    let (start, _) = shared.shifts.start(shared.api.faults(), "/hr/v2/workers", "/hr/v2/workers", skip);
    let people = shared.people.people();
    if start >= people.len() {
        return StatusCode::NO_CONTENT.into_response();
    }
    let page: Vec<Value> = people.iter().skip(start).take(top).map(render).collect();
    let meta = if query.get("count").is_some_and(|c| c == "true") {
        json!({"totalNumber": people.len()})
    } else {
        Value::Null
    };
    Json(json!({"workers": page, "meta": meta, "confirmMessage": null})).into_response()
}

async fn worker(State(shared): State<Shared>, Path(id): Path<String>) -> Response {
    match shared.people.people().iter().find(|p| aoid(p.id) == id) {
        Some(person) => {
            Json(json!({"workers": [render(person)], "meta": null, "confirmMessage": null})).into_response()
        }
        None => confirm_message(StatusCode::NOT_FOUND, "The requested worker was not found"),
    }
}

fn event_name(event: &PersonEvent, person: Option<&Person>) -> &'static str {
    match event.action {
        Action::Created => "worker.hire",
        Action::Restored => "worker.rehire",
        Action::Updated if event.changed.contains(&"termination_date") => "worker.terminate",
        Action::Updated if person.is_some_and(|p| p.status == Status::OnLeave) && event.changed.contains(&"status") => {
            "worker.on-leave"
        }
        Action::Updated if event.changed.iter().any(|f| *f == "first_name" || *f == "last_name") => {
            "worker.legal-name.change"
        }
        Action::Updated | Action::Deleted => "worker.work-assignment.modify",
    }
}

/// Moves the dataset's queued changes into the event queue, one message each.
fn enqueue(shared: &Shared) {
    let events = shared.people.drain_events();
    let mut queue = lock(&shared.queue);
    for event in events {
        let person = shared.people.person(event.id);
        let subject = aoid(event.id);
        let number = person.as_ref().map(|p| p.employee_number.clone());
        let mut output = json!({"associateOID": subject, "workerID": {"idValue": number}});
        if event.changed.contains(&"termination_date") {
            output["workerStatus"] = json!({"statusCode": code("T", "Terminated")});
        }
        let at = adp_time(event.at);
        let body = json!({"events": [{
            "eventID": format!("{:032x}", fastrand::u128(..)),
            "serviceCategoryCode": {"codeValue": "HR"},
            "eventNameCode": {"codeValue": event_name(&event, person.as_ref())},
            "eventStatusCode": code("COMPLETED", "Completed"),
            "recordDateTime": at, "creationDateTime": at, "effectiveDateTime": at,
            "originator": {"associateOID": aoid(100)}, "actor": {"associateOID": aoid(100)},
            "data": {"eventContext": {"worker": {"associateOID": subject}}, "output": {"worker": output}},
            "links": [],
        }]});
        queue.next_id += 1;
        let id = format!("0x_414d5120{:024x}", queue.next_id);
        queue.messages.push_back((id, body));
    }
}

async fn next_message(State(shared): State<Shared>) -> Response {
    enqueue(&shared);
    let Some((id, body)) = lock(&shared.queue).messages.front().cloned() else {
        return StatusCode::NO_CONTENT.into_response();
    };
    let mut response = Json(body).into_response();
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("adp-msg-msgid", value);
    }
    response
}

async fn delete_message(State(shared): State<Shared>, Path(id): Path<String>) -> Response {
    let mut queue = lock(&shared.queue);
    match queue.messages.iter().position(|(queued, _)| *queued == id) {
        Some(index) => {
            queue.messages.remove(index);
            StatusCode::OK.into_response()
        }
        None => confirm_message(StatusCode::NOT_FOUND, "The message was not found"),
    }
}

async fn validation_table(Path(table): Path<String>) -> Response {
    let (title, items): (&str, Vec<Value>) = match table.as_str() {
        "departments" => (
            "Departments",
            DEPARTMENTS
                .iter()
                .map(|(id, name)| json!({"payrollGroupCode": "938", "nameCode": {"code": id.to_string(), "name": name},
                    "customTags": [], "inactiveIndicator": false}))
                .collect(),
        ),
        "jobs" => (
            "Job Titles",
            JOBS.iter()
                .map(|(id, title, _)| {
                    json!({"code": id.to_string(), "name": title, "managementPositionIndicator": *id == 16})
                })
                .collect(),
        ),
        _ => {
            let path = format!("/hcm/v1/validation-tables/{table}");
            return gateway_error(StatusCode::NOT_FOUND, "GET", &path, "Canonical URI Not Found");
        }
    };
    Json(json!({"validationTableTitle": title, "listItems": items})).into_response()
}
