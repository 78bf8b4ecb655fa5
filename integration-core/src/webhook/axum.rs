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

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri, header};
use axum::response::{IntoResponse, Response};

use super::{WebhookResponse, WebhookRouter};
use crate::http::gathered::Gathered;

/// Routes that pass every request under them to `router`: `/{provider}` and `/{provider}/{key}`.
/// The body is read up to the router's limit, no further (a `Content-Length` above it is
/// answered `413` before anything is read); a body cut short is answered `400
/// incomplete_body`.
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
    let limit = router.body_limit();
    let announced = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if announced.is_some_and(|len| len > limit as u64) {
        return into_response(router.handle_oversized(uri.path()).await);
    }
    let response = match read_body(body, limit).await {
        // The query goes along: Graph's endpoint check carries its token there.
        Read::Complete(bytes) => {
            let path = uri.path_and_query().map_or_else(|| uri.path(), |p| p.as_str());
            router.handle_bytes(&method, path, &headers, bytes).await
        }
        Read::TooLarge => router.handle_oversized(uri.path()).await,
        Read::Incomplete => router.handle_incomplete(uri.path()).await,
    };
    into_response(response)
}

/// How reading a request body ended.
enum Read {
    Complete(Bytes),
    /// Past the limit: reading stopped there.
    TooLarge,
    /// Cut short: the connection broke, or fewer bytes came than announced.
    Incomplete,
}

async fn read_body(mut body: Body, limit: usize) -> Read {
    use axum::body::HttpBody as _;
    let mut gathered = Gathered::default();
    loop {
        match std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await {
            None => return Read::Complete(gathered.finish()),
            Some(Err(_)) => return Read::Incomplete,
            Some(Ok(frame)) => {
                let Ok(chunk) = frame.into_data() else { continue };
                if !gathered.push(chunk, limit) {
                    return Read::TooLarge;
                }
            }
        }
    }
}

fn into_response(r: WebhookResponse) -> Response {
    (r.status, [(header::CONTENT_TYPE, r.content_type)], r.body).into_response()
}
