//! [`Collection`]: a provider's REST collection over a [`Dataset`] in one call — `GET {path}`
//! paged in any [`Paging`] style, `GET {path}/{id}` — the way most small APIs serve a record
//! type. A fake for such an API is its render function, a [`FakeApi`](super::app::FakeApi) and
//! this.
//!
//! Listing (live records, by id; at most `max_page` a page, `400 {"error"}` for a bad
//! parameter):
//!
//! - `updated_since=<RFC 3339>`: records changed at or after it, **tombstones included**
//!   (`{"id": "<id>", "deleted": true, "updated_at"}`), in any style;
//! - with [`Paging::Cursor`], the last page carries `delta_token`, and `delta_token=<token>`
//!   lists what changed since the listing that issued it began (tombstones included), again
//!   ending with a fresh token; a token the fake did not issue is `410 Gone`.
//!
//! One record: the rendered record, `404 {"error": "not_found"}` when there is none or it was
//! deleted.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use integration_testkit::fake::{FakeServer, collection::Collection, dataset::Dataset, paging::Paging};
//! use serde_json::{Value, json};
//!
//! let notes = Dataset::starting_at(1);
//! for text in ["a", "b", "c"] {
//!     notes.add(text.to_owned());
//! }
//! let collection = Collection::new(notes, Paging::PageNumber, |n| json!({"id": n.id.to_string(), "text": *n.value}));
//! let server = FakeServer::start(collection.router("/notes")).await;
//! let page: Value = reqwest::get(format!("{}/notes?per_page=2", server.base_url())).await.unwrap().json().await.unwrap();
//! assert_eq!(page["data"].as_array().unwrap().len(), 2);
//! assert_eq!(page["next_page"], 2);
//! # });
//! ```

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::dataset::{Dataset, Record};
use super::faults::Faults;
use super::paging::{Cursor, DeltaToken, Paging, Shifts, link_next, page_number};

/// Renders one live record in the provider's format.
pub type Render<T> = Arc<dyn Fn(&Record<T>) -> Value + Send + Sync>;

/// A REST collection over a dataset.
pub struct Collection<T> {
    dataset: Dataset<T>,
    paging: Paging,
    render: Render<T>,
    max_page: usize,
    default_page: usize,
    faults: Faults,
    shifts: Shifts,
}

impl<T> std::fmt::Debug for Collection<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Collection")
            .field("paging", &self.paging)
            .field("max_page", &self.max_page)
            .finish_non_exhaustive()
    }
}

impl<T> Clone for Collection<T> {
    fn clone(&self) -> Self {
        Self {
            dataset: self.dataset.clone(),
            paging: self.paging,
            render: self.render.clone(),
            max_page: self.max_page,
            default_page: self.default_page,
            faults: self.faults.clone(),
            shifts: self.shifts.clone(),
        }
    }
}

/// A listing request refused: `400` for a bad parameter, `410` for a delta token not honoured.
#[derive(Debug)]
enum Refused {
    Bad(String),
    Gone,
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        match self {
            Self::Bad(message) => (StatusCode::BAD_REQUEST, Json(json!({"error": message}))).into_response(),
            Self::Gone => (StatusCode::GONE, Json(json!({"error": "delta_token is not valid"}))).into_response(),
        }
    }
}

fn bad(message: &str) -> Refused {
    Refused::Bad(message.to_owned())
}

impl<T: Clone + Send + Sync + 'static> Collection<T> {
    /// `dataset` served in `paging` style, each record as `render` makes it; pages of 20, at
    /// most 100.
    pub fn new(
        dataset: Dataset<T>,
        paging: Paging,
        render: impl Fn(&Record<T>) -> Value + Send + Sync + 'static,
    ) -> Self {
        Self {
            dataset,
            paging,
            render: Arc::new(render),
            max_page: 100,
            default_page: 20,
            faults: Faults::new(),
            shifts: Shifts::default(),
        }
    }

    /// Pages of `default` records unless asked otherwise, at most `max` (`400` above).
    pub fn page_sizes(mut self, default: usize, max: usize) -> Self {
        (self.default_page, self.max_page) = (default.max(1), max.max(1));
        self
    }

    /// Takes [`DuplicateAcrossPages`](super::faults::Fault::DuplicateAcrossPages) faults from
    /// `faults` (offset paging only).
    pub fn faults(mut self, faults: &Faults) -> Self {
        self.faults = faults.clone();
        self
    }

    /// The routes `GET {path}` and `GET {path}/{id}`.
    pub fn router(self, path: &str) -> axum::Router {
        axum::Router::new().route(path, get(list::<T>)).route(&format!("{path}/{{id}}"), get(one::<T>)).with_state(self)
    }

    fn render(&self, record: &Record<T>) -> Value {
        if record.deleted {
            json!({"id": record.id.to_string(), "deleted": true, "updated_at": record.changed.to_rfc3339()})
        } else {
            let mut value = (self.render)(record);
            record.apply_overrides(&mut value);
            value
        }
    }

    fn size(&self, query: &HashMap<String, String>, name: &str) -> Result<usize, Refused> {
        match query.get(name).map(|v| v.parse::<usize>()) {
            None => Ok(self.default_page),
            Some(Ok(n)) if (1..=self.max_page).contains(&n) => Ok(n),
            Some(_) => Err(bad(&format!("{name} must be between 1 and {}", self.max_page))),
        }
    }
}

fn number(query: &HashMap<String, String>, name: &str, default: usize) -> Result<usize, Refused> {
    query.get(name).map_or(Ok(default), |v| v.parse().map_err(|_| bad(&format!("{name} must be a whole number"))))
}

/// The request's URL with `changes` made to its query: the next page's link.
fn next_url(headers: &HeaderMap, uri: &Uri, changes: &[(&str, String)]) -> String {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1");
    let mut url = url::Url::parse(&format!("http://{host}{uri}")).unwrap_or_else(|_| {
        #[allow(clippy::expect_used)]
        url::Url::parse("http://127.0.0.1/").expect("a constant URL")
    });
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| !changes.iter().any(|(name, _)| name == k))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    url.query_pairs_mut().clear().extend_pairs(kept).extend_pairs(changes.iter().map(|(k, v)| (*k, v.as_str())));
    url.to_string()
}

async fn list<T: Clone + Send + Sync + 'static>(
    State(c): State<Collection<T>>,
    uri: Uri,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    listing(&c, &uri, &headers, &query).unwrap_or_else(IntoResponse::into_response)
}

fn listing<T: Clone + Send + Sync + 'static>(
    c: &Collection<T>,
    uri: &Uri,
    headers: &HeaderMap,
    query: &HashMap<String, String>,
) -> Result<Response, Refused> {
    let since = match query.get("updated_since").map(|v| DateTime::parse_from_rfc3339(v)) {
        None => None,
        Some(Ok(at)) => Some(at.with_timezone(&Utc)),
        Some(Err(_)) => return Err(bad("updated_since must be an RFC 3339 time")),
    };
    let delta = match query.get("delta_token") {
        None => None,
        Some(token) if c.paging == Paging::Cursor => match DeltaToken::parse(token) {
            Some(token) => Some(token),
            None => return Err(Refused::Gone),
        },
        Some(_) => return Err(bad("delta_token is only offered with cursor paging")),
    };
    let records = match delta.map(DeltaToken::since).or(since) {
        Some(since) => c.dataset.changed_since(Some(since)),
        None => c.dataset.live(),
    };
    let render = |slice: &[Record<T>]| -> Vec<Value> { slice.iter().map(|r| c.render(r)).collect() };
    let response = match c.paging {
        Paging::Cursor => {
            let limit = c.size(query, "limit")?;
            let cursor = match query.get("cursor").map(|text| Cursor::parse(text)) {
                None => None,
                Some(Some(cursor)) => Some(cursor),
                Some(None) => return Err(bad("cursor is not one this API issued")),
            };
            let pass = cursor.map_or_else(DeltaToken::now, Cursor::pass);
            let rest: Vec<Record<T>> = records.into_iter().filter(|r| cursor.is_none_or(|c| r.id > c.last())).collect();
            let page = &rest[..limit.min(rest.len())];
            let next =
                (rest.len() > page.len()).then(|| page.last().map(|r| Cursor::after(r.id, pass).encode())).flatten();
            let mut body = json!({"data": render(page), "next_cursor": next});
            if next.is_none() {
                body["delta_token"] = Value::from(pass.encode());
            }
            Json(body).into_response()
        }
        Paging::OffsetLimit => {
            let (offset, limit) = (number(query, "offset", 0)?, c.size(query, "limit")?);
            let key = format!("{}?{:?}", uri.path(), since);
            let (start, shift) = c.shifts.start(&c.faults, uri.path(), &key, offset);
            let page: Vec<Record<T>> = records.iter().skip(start).take(limit).cloned().collect();
            Json(json!({"data": render(&page), "total": records.len() + shift})).into_response()
        }
        Paging::PageNumber | Paging::LinkHeader => {
            let (page, per_page) = (number(query, "page", 1)?, c.size(query, "per_page")?);
            let (range, next) = page_number(records.len(), page, per_page).ok_or_else(|| bad("page starts at 1"))?;
            let data = render(&records[range]);
            if c.paging == Paging::PageNumber {
                Json(json!({"data": data, "next_page": next})).into_response()
            } else {
                let mut response = Json(data).into_response();
                if let Some(link) = next.map(|n| link_next(&next_url(headers, uri, &[("page", n.to_string())])))
                    && let Ok(value) = HeaderValue::from_str(&link)
                {
                    response.headers_mut().insert(header::LINK, value);
                }
                response
            }
        }
        Paging::ODataNextLink => {
            let (skip, top) = (number(query, "$skip", 0)?, c.size(query, "$top")?);
            let page: Vec<Record<T>> = records.iter().skip(skip).take(top).cloned().collect();
            let mut body = json!({"value": render(&page)});
            if skip.saturating_add(top) < records.len() {
                let link = next_url(headers, uri, &[("$skip", (skip + top).to_string()), ("$top", top.to_string())]);
                body["@odata.nextLink"] = Value::from(link);
            }
            Json(body).into_response()
        }
    };
    Ok(response)
}

async fn one<T: Clone + Send + Sync + 'static>(State(c): State<Collection<T>>, Path(id): Path<String>) -> Response {
    match id.parse::<u64>().ok().and_then(|id| c.dataset.get(id)).filter(|r| !r.deleted) {
        Some(record) => Json(c.render(&record)).into_response(),
        None => (StatusCode::NOT_FOUND, Json(json!({"error": "not_found"}))).into_response(),
    }
}
