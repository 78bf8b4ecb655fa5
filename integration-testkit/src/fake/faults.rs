//! Fault injection for the fake providers: a queue of [`Fault`]s that the next matching requests
//! suffer, applied by a middleware every fake mounts.
//!
//! ```
//! use integration_testkit::fake::faults::{Fault, Faults};
//!
//! let faults = Faults::new();
//! faults.inject(Fault::TooManyRequests { retry_after_secs: 1 }, 2);
//! faults.inject_on("/time_off", Fault::ServerError(503), 1);
//! assert_eq!(faults.pending(), 3);
//! ```

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// One thing that goes wrong with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// `429 Too Many Requests` with `Retry-After` in seconds.
    TooManyRequests {
        /// The `Retry-After` value.
        retry_after_secs: u64,
    },
    /// A server error with this status (500, 502, 503...).
    ServerError(u16),
    /// The answer comes this late.
    Latency(Duration),
    /// A `200` whose body is not JSON.
    MalformedJson,
    /// The connection closes halfway through the body.
    TruncatedBody,
    /// The credentials in the request have expired: the provider's `401` (OAuth fakes also
    /// expire every access token they issued, so only a refreshed one works again).
    ExpiredToken,
    /// A record is inserted ahead of the client's position while it pages by offset: from the
    /// next page on (for the rest of the pass) every page starts one record earlier, so the
    /// last record of the page before comes again and nothing is skipped.
    DuplicateAcrossPages,
    /// A listing that never ends: the request's `offset` is ignored (every page is the first)
    /// and the answer's `total` says there are this many records (`u64::MAX`, say) — the same
    /// records on every page, with a false total.
    EndlessTotal {
        /// The total the answers claim.
        total: u64,
    },
}

#[derive(Debug)]
struct Armed {
    path: Option<String>,
    fault: Fault,
    remaining: u32,
}

#[derive(Debug, Default)]
struct State {
    armed: VecDeque<Armed>,
    served: Vec<Fault>,
}

/// The fault queue of one fake; clones share it.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    state: Arc<Mutex<State>>,
}

impl Faults {
    /// An empty queue.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The next `times` requests suffer `fault`.
    pub fn inject(&self, fault: Fault, times: u32) {
        self.lock().armed.push_back(Armed { path: None, fault, remaining: times });
    }

    /// The next `times` requests whose path contains `path` suffer `fault`.
    pub fn inject_on(&self, path: &str, fault: Fault, times: u32) {
        self.lock().armed.push_back(Armed { path: Some(path.to_owned()), fault, remaining: times });
    }

    /// How many injections remain.
    pub fn pending(&self) -> u32 {
        self.lock().armed.iter().map(|a| a.remaining).sum()
    }

    /// The faults served so far, in order.
    pub fn served(&self) -> Vec<Fault> {
        self.lock().served.clone()
    }

    /// Drops every pending injection.
    pub fn clear(&self) {
        self.lock().armed.clear();
    }

    /// Takes the first armed fault matching `path` that `accept` takes.
    fn take(&self, path: &str, accept: impl Fn(&Fault) -> bool) -> Option<Fault> {
        let mut state = self.lock();
        let index = state
            .armed
            .iter()
            .position(|a| a.remaining > 0 && a.path.as_deref().is_none_or(|p| path.contains(p)) && accept(&a.fault))?;
        let armed = &mut state.armed[index];
        armed.remaining -= 1;
        let fault = armed.fault.clone();
        if armed.remaining == 0 {
            state.armed.remove(index);
        }
        state.served.push(fault.clone());
        Some(fault)
    }

    /// Takes a pending [`Fault::DuplicateAcrossPages`] for `path`, if any: the fake then starts
    /// the page one record early. Called by paging fakes only when the page is not the first.
    pub fn take_duplicate(&self, path: &str) -> bool {
        self.take(path, |f| *f == Fault::DuplicateAcrossPages).is_some()
    }
}

/// What a fake does on [`Fault::ExpiredToken`]: the provider's `401` answer, and whatever else
/// expiring its credentials means (OAuth fakes forget the access tokens they issued).
pub type OnExpired = Arc<dyn Fn(&Request) -> Response + Send + Sync>;

/// The middleware that applies [`Faults`]; fakes mount it with
/// `axum::middleware::from_fn(move |req, next| apply(faults.clone(), on_expired.clone(), req, next))`.
pub async fn apply(faults: Faults, on_expired: OnExpired, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let Some(fault) = faults.take(&path, |f| *f != Fault::DuplicateAcrossPages) else {
        return next.run(request).await;
    };
    match fault {
        Fault::TooManyRequests { retry_after_secs } => {
            let mut response = (StatusCode::TOO_MANY_REQUESTS, "Too Many Requests").into_response();
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            response
        }
        Fault::ServerError(status) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (status, "the fake provider failed on purpose").into_response()
        }
        Fault::Latency(delay) => {
            tokio::time::sleep(delay).await;
            next.run(request).await
        }
        Fault::MalformedJson => {
            let response = next.run(request).await;
            let (mut parts, _) = response.into_parts();
            parts.headers.remove(header::CONTENT_LENGTH);
            Response::from_parts(parts, Body::from(r#"{"employees": [{"id": "1", "firstName": "#))
        }
        Fault::TruncatedBody => {
            let response = next.run(request).await;
            let (mut parts, body) = response.into_parts();
            let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
            let half = bytes.slice(..bytes.len() / 2);
            parts.headers.insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len().max(1)));
            let chunks: Vec<Result<Bytes, std::io::Error>> =
                vec![Ok(half), Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "truncated on purpose"))];
            Response::from_parts(parts, Body::from_stream(futures_util::stream::iter(chunks)))
        }
        Fault::ExpiredToken => on_expired(&request),
        Fault::DuplicateAcrossPages => next.run(request).await,
        Fault::EndlessTotal { total: claimed } => {
            let mut request = request;
            let uri = request.uri().clone();
            if let Some(query) = uri.query() {
                let first_page: Vec<String> = query
                    .split('&')
                    .map(|pair| if pair.starts_with("offset=") { "offset=0".to_owned() } else { pair.to_owned() })
                    .collect();
                if let Ok(rewritten) = format!("{}?{}", uri.path(), first_page.join("&")).parse() {
                    *request.uri_mut() = rewritten;
                }
            }
            let response = next.run(request).await;
            let (mut parts, body) = response.into_parts();
            let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
            let mut json: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
            if let Some(total) = json.get_mut("total") {
                *total = serde_json::Value::from(claimed);
            }
            let body = serde_json::to_vec(&json).unwrap_or_default();
            parts.headers.remove(header::CONTENT_LENGTH);
            Response::from_parts(parts, Body::from(body))
        }
    }
}
