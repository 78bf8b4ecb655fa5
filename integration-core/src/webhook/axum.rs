//! Mounts a [`WebhookRouter`] in an axum application (feature `axum`).
//!
//! ```no_run
//! # async fn demo(router: integration_core::webhook::WebhookRouter) {
//! use std::sync::Arc;
//!
//! let app = axum::Router::new().nest("/webhooks", integration_core::webhook::axum::routes(Arc::new(router)));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
//! axum::serve(listener, app).await.unwrap();
//! # }
//! ```

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri, header};
use axum::response::{IntoResponse, Response};

use super::{WebhookResponse, WebhookRouter};

/// Routes that pass every request under them to `router`: `/{provider}` and `/{provider}/{key}`.
/// The body is read up to the router's limit, no further.
pub fn routes(router: Arc<WebhookRouter>) -> axum::Router {
    axum::Router::new().route("/{*path}", axum::routing::any(receive)).with_state(router)
}

async fn receive(
    State(router): State<Arc<WebhookRouter>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let response = match axum::body::to_bytes(body, router.body_limit()).await {
        Ok(bytes) => router.handle_bytes(&method, uri.path(), &headers, bytes).await,
        Err(_) => router.handle_oversized(uri.path()).await,
    };
    into_response(response)
}

fn into_response(r: WebhookResponse) -> Response {
    (r.status, [(header::CONTENT_TYPE, r.content_type)], r.body).into_response()
}
