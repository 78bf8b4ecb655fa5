//! [`FakeTinyHr`]: "TinyHR", a deliberately small HR API — the provider of the adapter-authoring
//! example (`examples/custom_adapter.rs`) and of `docs/adapter-guide.md`. It has what most small
//! REST APIs have and nothing more:
//!
//! - `Authorization: Bearer <token>`; a wrong token is `401 {"error": "invalid_token"}`;
//! - `GET /api/v2/employees?page=N&per_page=M` (1-based pages, `per_page` at most 50) answering
//!   `{"data": [...], "next_page": N+1 | null}`;
//! - `GET /api/v2/employees/{id}`, `404 {"error": "not_found"}` when there is none;
//! - an employee: `{"id": 101, "name": {"first", "last"}, "email", "status":
//!   "active" | "on_leave" | "terminated", "hired_on": "YYYY-MM-DD", "terminated_on": null,
//!   "updated_at": RFC 3339}`.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use integration_core::{ConnectionId, Domain, IntegrationConfig, ProviderId, TenantId};
use serde::Deserialize;
use serde_json::{Value, json};

use super::faults::{Faults, OnExpired, apply};
use super::people::{People, Person, Status};
use super::server::FakeServer;

/// The token the fake accepts.
pub const TOKEN: &str = "tinyhr-test-token";

/// A running TinyHR fake.
#[derive(Debug)]
pub struct FakeTinyHr {
    server: FakeServer,
    people: People,
    faults: Faults,
}

impl FakeTinyHr {
    /// Starts the fake over `people`.
    pub async fn start(people: People) -> Self {
        let faults = Faults::new();
        let on_expired: OnExpired = Arc::new(unauthorized);
        let faulted = faults.clone();
        let app = axum::Router::new()
            .route("/api/v2/employees", get(list))
            .route("/api/v2/employees/{id}", get(one))
            .layer(axum::middleware::from_fn(authenticate))
            .layer(axum::middleware::from_fn(move |req, next| apply(faulted.clone(), on_expired.clone(), req, next)))
            .with_state(people.clone());
        Self { server: FakeServer::start(app).await, people, faults }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// The dataset.
    pub fn people(&self) -> &People {
        &self.people
    }

    /// The fault queue.
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// A connection's configuration pointing at this fake.
    pub fn config(&self, tenant: TenantId, connection: ConnectionId) -> IntegrationConfig {
        #[allow(clippy::expect_used)]
        let provider = ProviderId::new("tinyhr").expect("a valid provider id");
        IntegrationConfig::new(tenant, connection, Domain::Hris, provider)
            .with_setting("base_url", self.base_url())
            .with_secret("token", TOKEN)
    }
}

fn unauthorized() -> Response {
    (StatusCode::UNAUTHORIZED, Json(json!({"error": "invalid_token"}))).into_response()
}

async fn authenticate(request: Request, next: Next) -> Response {
    let expected = format!("Bearer {TOKEN}");
    match request.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        Some(value) if value == expected => next.run(request).await,
        _ => unauthorized(),
    }
}

fn render(person: &Person) -> Value {
    let mut value = json!({
        "id": person.id,
        "name": {"first": person.first_name, "last": person.last_name},
        "email": person.work_email,
        "status": match person.status { Status::Active => "active", Status::OnLeave => "on_leave", Status::Terminated => "terminated" },
        "hired_on": person.hire_date.to_string(),
        "terminated_on": person.termination_date.map(|d| d.to_string()),
        "updated_at": person.changed.to_rfc3339(),
    });
    if let Value::Object(object) = &mut value {
        for (key, bad) in &person.overrides {
            object.insert(key.clone(), bad.clone());
        }
    }
    value
}

#[derive(Debug, Deserialize)]
struct PageQuery {
    page: Option<usize>,
    per_page: Option<usize>,
}

async fn list(State(people): State<People>, Query(query): Query<PageQuery>) -> Response {
    let (page, per_page) = (query.page.unwrap_or(1), query.per_page.unwrap_or(20));
    if page == 0 || per_page == 0 || per_page > 50 {
        return (StatusCode::BAD_REQUEST, Json(json!({"error": "page must be ≥ 1 and per_page 1..=50"})))
            .into_response();
    }
    let everyone = people.people();
    let start = (page - 1) * per_page;
    let data: Vec<Value> = everyone.iter().skip(start).take(per_page).map(render).collect();
    let next = (start + per_page < everyone.len()).then_some(page + 1);
    Json(json!({"data": data, "next_page": next})).into_response()
}

async fn one(State(people): State<People>, Path(id): Path<String>) -> Response {
    match id.parse::<u64>().ok().and_then(|id| people.person(id)).filter(|p| !p.deleted) {
        Some(person) => Json(render(&person)).into_response(),
        None => (StatusCode::NOT_FOUND, Json(json!({"error": "not_found"}))).into_response(),
    }
}
