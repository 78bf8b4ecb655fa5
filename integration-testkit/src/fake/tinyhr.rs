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
//!   "updated_at": RFC 3339}`;
//! - `updated_since=<RFC 3339>` on the listing: the employees changed since, deletions as
//!   `{"id", "deleted": true, "updated_at"}` (the kit's [`Collection`] serves it all).

use axum::Json;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use integration_core::{ConnectionId, Domain, IntegrationConfig, ProviderId, TenantId};
use serde_json::{Value, json};

use super::app::FakeApi;
use super::auth::Auth;
use super::collection::Collection;
use super::faults::Faults;
use super::paging::Paging;
use super::people::{People, Person, Status};
use super::server::FakeServer;

/// The token the fake accepts.
pub const TOKEN: &str = "tinyhr-test-token";

/// A running TinyHR fake.
#[derive(Debug)]
pub struct FakeTinyHr {
    server: FakeServer,
    people: People,
    api: FakeApi,
}

impl FakeTinyHr {
    /// Starts the fake over `people`: the kit's [`Collection`] paged by number, behind a bearer
    /// token.
    pub async fn start(people: People) -> Self {
        let api = FakeApi::new(Auth::Bearer(TOKEN.to_owned()))
            .unauthorized(|_| (StatusCode::UNAUTHORIZED, Json(json!({"error": "invalid_token"}))).into_response());
        let employees = Collection::new(people.dataset().clone(), Paging::PageNumber, render).page_sizes(20, 50);
        let app = api.guard(employees.router("/api/v2/employees"));
        Self { server: FakeServer::start(app).await, people, api }
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
        self.api.faults()
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

fn render(person: &Person) -> Value {
    json!({
        "id": person.id,
        "name": {"first": person.first_name, "last": person.last_name},
        "email": person.work_email,
        "status": match person.status { Status::Active => "active", Status::OnLeave => "on_leave", Status::Terminated => "terminated" },
        "hired_on": person.hire_date.to_string(),
        "terminated_on": person.termination_date.map(|d| d.to_string()),
        "updated_at": person.changed.to_rfc3339(),
    })
}
