//! [`FakeApi`]: what every fake puts around its routes — the [`Auth`] check, then the
//! [`Faults`] middleware outside it (an expired-credentials fault expires what the provider can
//! expire and answers the provider's `401`).
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use axum::routing::get;
//! use integration_testkit::fake::{FakeServer, app::FakeApi, auth::Auth};
//!
//! let api = FakeApi::new(Auth::Bearer("t0k3n".into()));
//! let server = FakeServer::start(api.guard(axum::Router::new().route("/ping", get(|| async { "pong" })))).await;
//! let client = reqwest::Client::new();
//! let url = format!("{}/ping", server.base_url());
//! assert_eq!(client.get(&url).send().await.unwrap().status(), 401);
//! assert_eq!(client.get(&url).bearer_auth("t0k3n").send().await.unwrap().text().await.unwrap(), "pong");
//! # });
//! ```

use std::sync::Arc;

use axum::Json;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::auth::Auth;
use super::faults::{Faults, OnExpired, apply};

/// The provider's answer to a request without valid credentials.
pub type Unauthorized = Arc<dyn Fn(&Request) -> Response + Send + Sync>;

/// The auth check and fault queue of one fake's API; clones share the queue.
#[derive(Clone)]
pub struct FakeApi {
    auth: Auth,
    faults: Faults,
    unauthorized: Unauthorized,
}

impl std::fmt::Debug for FakeApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeApi").field("auth", &self.auth).field("faults", &self.faults).finish_non_exhaustive()
    }
}

impl FakeApi {
    /// An API guarded by `auth`, answering `401 {"error": "unauthorized"}` without it.
    pub fn new(auth: Auth) -> Self {
        let unauthorized: Unauthorized =
            Arc::new(|_: &Request| (StatusCode::UNAUTHORIZED, Json(json!({"error": "unauthorized"}))).into_response());
        Self { auth, faults: Faults::new(), unauthorized }
    }

    /// The provider's own `401` answer.
    pub fn unauthorized(mut self, answer: impl Fn(&Request) -> Response + Send + Sync + 'static) -> Self {
        self.unauthorized = Arc::new(answer);
        self
    }

    /// The fault queue.
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// The auth check.
    pub fn auth(&self) -> &Auth {
        &self.auth
    }

    /// Serves [`guard`](Self::guard)ed `router` on a free loopback port.
    pub async fn serve(&self, router: axum::Router) -> super::FakeServer {
        super::FakeServer::start(self.guard(router)).await
    }

    /// `router` with the auth check on every route and the faults around it.
    pub fn guard<S: Clone + Send + Sync + 'static>(&self, router: axum::Router<S>) -> axum::Router<S> {
        let (auth, unauthorized) = (self.auth.clone(), self.unauthorized.clone());
        let check = move |request: Request, next: Next| {
            let (auth, unauthorized) = (auth.clone(), unauthorized.clone());
            async move { if auth.allows(request.headers()) { next.run(request).await } else { unauthorized(&request) } }
        };
        let (auth, unauthorized, faults) = (self.auth.clone(), self.unauthorized.clone(), self.faults.clone());
        let on_expired: OnExpired = Arc::new(move |request: &Request| {
            auth.expire();
            unauthorized(request)
        });
        router
            .layer(axum::middleware::from_fn(check))
            .layer(axum::middleware::from_fn(move |req, next| apply(faults.clone(), on_expired.clone(), req, next)))
    }
}
