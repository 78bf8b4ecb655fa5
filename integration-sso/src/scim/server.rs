//! The SCIM 2.0 service provider (RFC 7644) as an axum router the host mounts: the identity
//! provider provisions users and groups into the host application through it.
//!
//! | endpoint | methods |
//! |---|---|
//! | `/Users`, `/Groups` | `GET` (list: `filter`, `startIndex`, `count`, `sortBy`, `sortOrder`, `attributes`, `excludedAttributes`), `POST` (create) |
//! | `/Users/{id}`, `/Groups/{id}` | `GET`, `PUT` (replace), `PATCH`, `DELETE`; `If-Match` on the writes (`412` when stale), `If-None-Match` on `GET` (`304`) |
//! | `/.search`, `/Users/.search`, `/Groups/.search` | `POST` (a `SearchRequest`) |
//! | `/ServiceProviderConfig`, `/ResourceTypes[/{name}]`, `/Schemas[/{urn}]` | `GET` (others `405`) |
//!
//! Every request carries a bearer token the host's [`ScimAuth`] maps to a tenant; everything
//! it does stays in that tenant. Changes are reported to the host's [`ScimEvents`] — a user
//! deactivated is `ProvisioningChange::Deactivated`, what starts an offboarding automation.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use async_trait::async_trait;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::Utc;
use integration_core::TenantId;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use subtle::ConstantTimeEq;

use super::error::ScimError;
use super::filter::Filter;
use super::resource::{self, ResourceType, Stored};
use super::schema::SCHEMAS;
use super::store::{ScimStore, Written};
use super::{patch, schema};

/// The media type of SCIM bodies.
pub const SCIM_JSON: &str = "application/scim+json";
const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
const SEARCH_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
/// The most resources one page holds.
pub const MAX_RESULTS: usize = 1_000;
/// The largest request body read.
pub const MAX_BODY: usize = 1 << 20;

/// Which tenant a bearer token is for: the host's check of the identity provider's token.
#[async_trait]
pub trait ScimAuth: Send + Sync + std::fmt::Debug {
    /// The tenant `token` provisions, or `None` to refuse it.
    async fn tenant(&self, token: &str) -> Option<TenantId>;
}

/// [`ScimAuth`] over a fixed set of tokens, compared in constant time.
#[derive(Default)]
pub struct StaticScimTokens {
    tokens: Vec<(SecretString, TenantId)>,
}

impl std::fmt::Debug for StaticScimTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaticScimTokens")
            .field("tenants", &self.tokens.iter().map(|(_, t)| t).collect::<Vec<_>>())
            .finish()
    }
}

impl StaticScimTokens {
    /// No tokens yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// With `token` provisioning `tenant`.
    pub fn with(mut self, token: impl Into<String>, tenant: TenantId) -> Self {
        self.tokens.push((SecretString::from(token.into()), tenant));
        self
    }
}

#[async_trait]
impl ScimAuth for StaticScimTokens {
    async fn tenant(&self, token: &str) -> Option<TenantId> {
        let mut found = None;
        for (secret, tenant) in &self.tokens {
            if bool::from(secret.expose_secret().as_bytes().ct_eq(token.as_bytes())) && found.is_none() {
                found = Some(tenant.clone());
            }
        }
        found
    }
}

/// What happened to a provisioned resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProvisioningChange {
    /// Made.
    Created,
    /// Changed.
    Updated,
    /// A user's `active` went from true to false.
    Deactivated,
    /// A user's `active` went from false to true.
    Reactivated,
    /// Deleted.
    Deleted,
}

impl ProvisioningChange {
    /// The automation event kind: `scim.user.created`, `scim.group.deleted`…
    pub fn event_kind(self, kind: ResourceType) -> String {
        let what = match self {
            Self::Created => "created",
            Self::Updated => "updated",
            Self::Deactivated => "deactivated",
            Self::Reactivated => "reactivated",
            Self::Deleted => "deleted",
        };
        format!("scim.{}.{what}", kind.name().to_lowercase())
    }
}

/// A provisioning change, as reported to the host.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Provisioned {
    /// The tenant.
    pub tenant: TenantId,
    /// What happened.
    pub change: ProvisioningChange,
    /// The resource's type.
    pub kind: ResourceType,
    /// Its id.
    pub id: String,
    /// The resource as the server answers it (no password); `None` once deleted.
    pub resource: Option<Value>,
}

impl Provisioned {
    /// The change as an automation event (kind `scim.user.deactivated`…, payload: tenant, id,
    /// resource).
    pub fn to_event(&self) -> integration_core::IntegrationEvent {
        integration_core::IntegrationEvent::new(
            self.change.event_kind(self.kind),
            json!({"tenant": self.tenant.as_str(), "id": self.id, "resource": self.resource}),
        )
    }
}

/// Where the server reports provisioning changes (to start automations, end sessions…).
#[async_trait]
pub trait ScimEvents: Send + Sync + std::fmt::Debug {
    /// Called after each change is stored.
    async fn provisioned(&self, change: Provisioned);
}

/// [`ScimEvents`] that drops every change.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoEvents;

#[async_trait]
impl ScimEvents for NoEvents {
    async fn provisioned(&self, _change: Provisioned) {}
}

/// The SCIM service provider.
#[derive(Debug, Clone)]
pub struct ScimServer {
    store: Arc<dyn ScimStore>,
    auth: Arc<dyn ScimAuth>,
    events: Arc<dyn ScimEvents>,
    base: String,
    audit: crate::audit::Audit,
}

fn respond(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON));
    response
}

fn failure(error: &ScimError) -> Response {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST);
    respond(status, &error.to_json())
}

fn internal(error: &integration_core::Error) -> ScimError {
    tracing::error!(error = %error, "the SCIM store failed");
    ScimError::new(500, None, "the server could not complete the request")
}

fn query_map(query: Option<&str>) -> HashMap<String, String> {
    url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .into_owned()
        .map(|(k, v)| (k.to_ascii_lowercase(), v))
        .collect()
}

/// The ETag an `If-Match` / `If-None-Match` names (weak or not).
fn etag_matches(header: Option<&HeaderValue>, stored: &Stored) -> Option<bool> {
    let wanted = header?.to_str().ok()?;
    Some(
        wanted
            .split(',')
            .map(str::trim)
            .any(|t| t == "*" || t.trim_start_matches("W/") == stored.etag().trim_start_matches("W/")),
    )
}

impl ScimServer {
    /// A server over `store`, admitting the tokens `auth` knows, at `base_url` (where the host
    /// mounts [`router`](Self::router): `https://app.example.com/scim/v2`).
    pub fn new(store: Arc<dyn ScimStore>, auth: Arc<dyn ScimAuth>, base_url: impl Into<String>) -> Self {
        Self {
            store,
            auth,
            events: Arc::new(NoEvents),
            base: base_url.into().trim_end_matches('/').to_owned(),
            audit: Default::default(),
        }
    }

    /// With every provisioning change recorded in `sink` (`provisioned`: the change and the id).
    pub fn with_audit(mut self, sink: Arc<dyn integration_core::store::AuditSink>) -> Self {
        self.audit = crate::audit::Audit::to(sink);
        self
    }

    /// With `events` told of every change.
    pub fn with_events(mut self, events: Arc<dyn ScimEvents>) -> Self {
        self.events = events;
        self
    }

    /// The routes, to nest under the base URL's path.
    pub fn router(self) -> axum::Router {
        let state = Arc::new(self);
        axum::Router::new()
            .route("/ServiceProviderConfig", get(service_provider_config))
            .route("/ResourceTypes", get(resource_types))
            .route("/ResourceTypes/{name}", get(resource_type))
            .route("/Schemas", get(schemas))
            .route("/Schemas/{id}", get(schema_by_id))
            .route("/.search", post(search_all))
            .route("/Users", get(list_users).post(create_user))
            .route("/Users/.search", post(search_users))
            .route("/Users/{id}", get(get_user).put(put_user).patch(patch_user).delete(delete_user))
            .route("/Groups", get(list_groups).post(create_group))
            .route("/Groups/.search", post(search_groups))
            .route("/Groups/{id}", get(get_group).put(put_group).patch(patch_group).delete(delete_group))
            .fallback(|| async { failure(&ScimError::not_found("no such SCIM endpoint")) })
            .with_state(state)
    }

    async fn tenant(&self, headers: &HeaderMap) -> Result<TenantId, Response> {
        let token = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim);
        let tenant = match token {
            Some(token) if !token.is_empty() => self.auth.tenant(token).await,
            _ => None,
        };
        tenant.ok_or_else(|| {
            let mut response = failure(&ScimError::new(401, None, "a valid bearer token is required"));
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"SCIM\""));
            response
        })
    }

    fn answer(&self, status: StatusCode, stored: &Stored, resource: Value) -> Response {
        let kind = ResourceType::from(stored.kind);
        let mut response = respond(status, &resource);
        if let Ok(etag) = HeaderValue::from_str(&stored.etag()) {
            response.headers_mut().insert(header::ETAG, etag);
        }
        if status == StatusCode::CREATED
            && let Ok(location) = HeaderValue::from_str(&format!("{}{}/{}", self.base, kind.endpoint(), stored.id))
        {
            response.headers_mut().insert(header::LOCATION, location);
        }
        response
    }

    /// A stored resource as answered, before projection: a user's groups filled in.
    async fn full(
        &self,
        tenant: &TenantId,
        stored: &Stored,
        groups: Option<&BTreeMap<String, Vec<Value>>>,
    ) -> Result<Value, ScimError> {
        let mut out = stored.to_json(&self.base);
        if ResourceType::from(stored.kind) == ResourceType::User {
            let memberships = match groups {
                Some(groups) => groups.get(&stored.id).cloned().unwrap_or_default(),
                None => self.memberships(tenant).await?.remove(&stored.id).unwrap_or_default(),
            };
            if !memberships.is_empty() {
                out["groups"] = Value::Array(memberships);
            }
        }
        Ok(out)
    }

    /// User id → the groups listing it as a member (a user's read-only `groups`).
    async fn memberships(&self, tenant: &TenantId) -> Result<BTreeMap<String, Vec<Value>>, ScimError> {
        let groups = self.store.list(tenant, ResourceType::Group).await.map_err(|e| internal(&e))?;
        let mut out: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for group in groups {
            for member in group.attributes.get("members").and_then(Value::as_array).into_iter().flatten() {
                let Some(id) = member.get("value").and_then(Value::as_str) else { continue };
                out.entry(id.to_owned()).or_default().push(json!({
                    "value": group.id, "$ref": format!("{}/Groups/{}", self.base, group.id),
                    "display": group.attributes.get("displayName"), "type": "direct",
                }));
            }
        }
        Ok(out)
    }

    /// Checks a group's members: each names a user or group of this tenant (never another's).
    async fn check_members(&self, tenant: &TenantId, kind: ResourceType, resource: &Value) -> Result<(), ScimError> {
        if kind != ResourceType::Group {
            return Ok(());
        }
        for member in resource.get("members").and_then(Value::as_array).into_iter().flatten() {
            let id = member
                .get("value")
                .and_then(Value::as_str)
                .ok_or_else(|| ScimError::invalid_value("each member needs its value (the id)"))?;
            let declared = member.get("type").and_then(Value::as_str).and_then(ResourceType::named);
            let mut found = false;
            for candidate in [ResourceType::User, ResourceType::Group] {
                if declared.is_some_and(|d| d != candidate) {
                    continue;
                }
                if self.store.get(tenant, candidate, id).await.map_err(|e| internal(&e))?.is_some() {
                    found = true;
                    break;
                }
            }
            if !found {
                return Err(ScimError::invalid_value(format!("member {id} is no user or group of this tenant")));
            }
        }
        Ok(())
    }

    async fn report(&self, tenant: &TenantId, change: ProvisioningChange, stored: &Stored, resource: Option<Value>) {
        let kind = ResourceType::from(stored.kind);
        let resource = resource.map(|r| resource::project(kind, &r, None, None));
        let event = change.event_kind(kind);
        crate::audit::count(crate::audit::Counted::Provisioned { change: &event });
        let detail = format!("{event} id={}", stored.id);
        self.audit.record(tenant, integration_core::store::AuditAction::Provisioned, detail, None).await;
        self.events
            .provisioned(Provisioned { tenant: tenant.clone(), change, kind, id: stored.id.clone(), resource })
            .await;
    }

    async fn create(&self, kind: ResourceType, headers: &HeaderMap, body: &Bytes) -> Response {
        let tenant = match self.tenant(headers).await {
            Ok(t) => t,
            Err(r) => return r,
        };
        let result: Result<Response, ScimError> = async {
            let input = parse_body(body)?;
            let attributes = resource::check(kind, &input)?;
            self.check_members(&tenant, kind, &attributes).await?;
            let now = Utc::now();
            let stored = Stored::new(kind, uuid::Uuid::now_v7().to_string(), attributes, now);
            match self.store.create(&tenant, stored).await.map_err(|e| internal(&e))? {
                Written::Done(stored) => {
                    let full = self.full(&tenant, &stored, None).await?;
                    self.report(&tenant, ProvisioningChange::Created, &stored, Some(full.clone())).await;
                    Ok(self.answer(StatusCode::CREATED, &stored, resource::project(kind, &full, None, None)))
                }
                Written::NotUnique(value) => Err(ScimError::uniqueness(format!("userName {value:?} is taken"))),
                Written::Stale => Err(ScimError::new(409, None, "the resource changed while it was made")),
            }
        }
        .await;
        result.unwrap_or_else(|e| failure(&e))
    }

    async fn read(&self, kind: ResourceType, id: &str, headers: &HeaderMap, query: Option<&str>) -> Response {
        let tenant = match self.tenant(headers).await {
            Ok(t) => t,
            Err(r) => return r,
        };
        let result: Result<Response, ScimError> = async {
            let stored = self.existing(&tenant, kind, id).await?;
            if etag_matches(headers.get(header::IF_NONE_MATCH), &stored) == Some(true) {
                let mut response = StatusCode::NOT_MODIFIED.into_response();
                if let Ok(etag) = HeaderValue::from_str(&stored.etag()) {
                    response.headers_mut().insert(header::ETAG, etag);
                }
                return Ok(response);
            }
            let params = query_map(query);
            let full = self.full(&tenant, &stored, None).await?;
            let shown = resource::project(
                kind,
                &full,
                params.get("attributes").map(String::as_str),
                params.get("excludedattributes").map(String::as_str),
            );
            Ok(self.answer(StatusCode::OK, &stored, shown))
        }
        .await;
        result.unwrap_or_else(|e| failure(&e))
    }

    async fn existing(&self, tenant: &TenantId, kind: ResourceType, id: &str) -> Result<Stored, ScimError> {
        self.store
            .get(tenant, kind, id)
            .await
            .map_err(|e| internal(&e))?
            .ok_or_else(|| ScimError::not_found(format!("{} {id} not found", kind.name())))
    }

    /// A replace or a patch: the new attributes from the current ones, stored if the resource
    /// is still at the version read (and at `If-Match`'s, when sent).
    async fn change(
        &self,
        kind: ResourceType,
        id: &str,
        headers: &HeaderMap,
        body: &Bytes,
        make: impl Fn(&Value, &Value) -> Result<Value, ScimError>,
    ) -> Response {
        let tenant = match self.tenant(headers).await {
            Ok(t) => t,
            Err(r) => return r,
        };
        let result: Result<Response, ScimError> = async {
            let input = parse_body(body)?;
            for _ in 0..8 {
                let current = self.existing(&tenant, kind, id).await?;
                if etag_matches(headers.get(header::IF_MATCH), &current) == Some(false) {
                    return Err(ScimError::precondition_failed(format!(
                        "{} {id} is no longer at the version named",
                        kind.name()
                    )));
                }
                let attributes = make(&current.attributes, &input)?;
                immutable_kept(kind, &current.attributes, &attributes)?;
                self.check_members(&tenant, kind, &attributes).await?;
                let was_active = current.attributes.get("active").and_then(Value::as_bool);
                let mut next = current.clone();
                (next.attributes, next.version, next.modified) = (attributes, current.version + 1, Utc::now());
                match self.store.replace(&tenant, next, current.version).await.map_err(|e| internal(&e))? {
                    Written::Done(stored) => {
                        let full = self.full(&tenant, &stored, None).await?;
                        let is_active = stored.attributes.get("active").and_then(Value::as_bool);
                        let change = match (was_active, is_active) {
                            (Some(true) | None, Some(false)) if kind == ResourceType::User => {
                                ProvisioningChange::Deactivated
                            }
                            (Some(false), Some(true) | None) if kind == ResourceType::User => {
                                ProvisioningChange::Reactivated
                            }
                            _ => ProvisioningChange::Updated,
                        };
                        self.report(&tenant, change, &stored, Some(full.clone())).await;
                        return Ok(self.answer(StatusCode::OK, &stored, resource::project(kind, &full, None, None)));
                    }
                    Written::NotUnique(value) => {
                        return Err(ScimError::uniqueness(format!("userName {value:?} is taken")));
                    }
                    Written::Stale => continue,
                }
            }
            Err(ScimError::new(409, None, "the resource kept changing; try again"))
        }
        .await;
        result.unwrap_or_else(|e| failure(&e))
    }

    async fn delete(&self, kind: ResourceType, id: &str, headers: &HeaderMap) -> Response {
        let tenant = match self.tenant(headers).await {
            Ok(t) => t,
            Err(r) => return r,
        };
        let result: Result<Response, ScimError> = async {
            let current = self.existing(&tenant, kind, id).await?;
            if etag_matches(headers.get(header::IF_MATCH), &current) == Some(false) {
                return Err(ScimError::precondition_failed(format!(
                    "{} {id} is no longer at the version named",
                    kind.name()
                )));
            }
            if !self.store.delete(&tenant, kind, id).await.map_err(|e| internal(&e))? {
                return Err(ScimError::not_found(format!("{} {id} not found", kind.name())));
            }
            self.report(&tenant, ProvisioningChange::Deleted, &current, None).await;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        .await;
        result.unwrap_or_else(|e| failure(&e))
    }

    async fn list(&self, kinds: &[ResourceType], headers: &HeaderMap, params: &HashMap<String, Value>) -> Response {
        let tenant = match self.tenant(headers).await {
            Ok(t) => t,
            Err(r) => return r,
        };
        let result: Result<Response, ScimError> = async {
            let text = |key: &str| params.get(key).and_then(|v| v.as_str().map(str::to_owned).or_else(|| (!v.is_null()).then(|| v.to_string())));
            let number = |key: &str| -> Result<Option<i64>, ScimError> {
                match params.get(key) {
                    None | Some(Value::Null) => Ok(None),
                    Some(Value::Number(n)) => Ok(n.as_i64()),
                    Some(Value::String(s)) => s.trim().parse::<i64>().map(Some).map_err(|_| ScimError::invalid_value(format!("{key} is a number"))),
                    Some(_) => Err(ScimError::invalid_value(format!("{key} is a number"))),
                }
            };
            let filter = text("filter").map(|f| Filter::parse(&f)).transpose()?;
            let start = usize::try_from(number("startindex")?.unwrap_or(1).max(1)).unwrap_or(1);
            let count = usize::try_from(number("count")?.unwrap_or(100).max(0)).unwrap_or(0).min(MAX_RESULTS);
            let groups = if kinds.contains(&ResourceType::User) { Some(self.memberships(&tenant).await?) } else { None };
            let mut matched = Vec::new();
            for kind in kinds {
                for stored in self.store.list(&tenant, *kind).await.map_err(|e| internal(&e))? {
                    let full = self.full(&tenant, &stored, groups.as_ref()).await?;
                    if filter.as_ref().map(|f| f.matches(&full)).transpose()?.unwrap_or(true) {
                        matched.push((*kind, full));
                    }
                }
            }
            if let Some(sort_by) = text("sortby") {
                let key = |r: &Value| sort_key(r, &sort_by);
                matched.sort_by_key(|a| key(&a.1));
                if text("sortorder").is_some_and(|o| o.eq_ignore_ascii_case("descending")) {
                    matched.reverse();
                }
            }
            let total = matched.len();
            let (attributes, excluded) = (text("attributes"), text("excludedattributes"));
            let page: Vec<Value> = matched
                .into_iter()
                .skip(start - 1)
                .take(count)
                .map(|(kind, full)| resource::project(kind, &full, attributes.as_deref(), excluded.as_deref()))
                .collect();
            Ok(respond(
                StatusCode::OK,
                &json!({"schemas": [LIST_RESPONSE], "totalResults": total, "itemsPerPage": page.len(), "startIndex": start, "Resources": page}),
            ))
        }
        .await;
        result.unwrap_or_else(|e| failure(&e))
    }
}

/// The value `path` (`name.familyName`, `meta.lastModified`) sorts by: strings without regard
/// to case; absent values last.
fn sort_key(resource: &Value, path: &str) -> (bool, String) {
    let mut at = Some(resource);
    for part in path.split('.') {
        at = at
            .and_then(|v| v.as_object())
            .and_then(|o| o.iter().find(|(k, _)| k.eq_ignore_ascii_case(part)))
            .map(|(_, v)| v);
        if let Some(Value::Array(items)) = at {
            at = items.iter().find(|i| i.get("primary") == Some(&Value::Bool(true))).or_else(|| items.first());
            if let Some(item) = at.filter(|i| i.is_object() && !path.contains('.')) {
                at = item.get("value");
            }
        }
    }
    match at {
        None | Some(Value::Null) => (true, String::new()),
        Some(Value::String(s)) => (false, s.to_lowercase()),
        Some(other) => (false, other.to_string()),
    }
}

/// Refuses a change to an immutable attribute that already had a value.
fn immutable_kept(kind: ResourceType, before: &Value, after: &Value) -> Result<(), ScimError> {
    for attribute in kind.attributes().iter().filter(|a| a.mutability == schema::Mutability::Immutable) {
        if let (Some(old), Some(new)) = (before.get(attribute.name), after.get(attribute.name))
            && old != new
        {
            return Err(ScimError::new(400, Some("mutability"), format!("{} is immutable once set", attribute.name)));
        }
    }
    Ok(())
}

fn parse_body(body: &Bytes) -> Result<Value, ScimError> {
    if body.len() > MAX_BODY {
        return Err(ScimError::new(413, Some("tooMany"), format!("the body is larger than {MAX_BODY} bytes")));
    }
    serde_json::from_slice(body).map_err(|e| ScimError::invalid_syntax(format!("the body is not JSON: {e}")))
}

fn search_params(body: &Bytes) -> Result<HashMap<String, Value>, ScimError> {
    let value = parse_body(body)?;
    let Value::Object(object) = value else { return Err(ScimError::invalid_syntax("a search request is an object")) };
    if let Some(schemas) = object.get("schemas").and_then(Value::as_array)
        && !schemas.iter().any(|s| s.as_str().is_some_and(|s| s.eq_ignore_ascii_case(SEARCH_REQUEST)))
    {
        return Err(ScimError::invalid_syntax(format!("a search request's schemas name {SEARCH_REQUEST}")));
    }
    Ok(object
        .into_iter()
        .map(|(k, v)| {
            let v = match v {
                Value::Array(items) => {
                    Value::String(items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(","))
                }
                other => other,
            };
            (k.to_ascii_lowercase(), v)
        })
        .collect())
}

fn query_params(query: Option<&str>) -> HashMap<String, Value> {
    query_map(query).into_iter().map(|(k, v)| (k, Value::String(v))).collect()
}

type Shared = State<Arc<ScimServer>>;

async fn service_provider_config(State(server): Shared, headers: HeaderMap) -> Response {
    if let Err(r) = server.tenant(&headers).await {
        return r;
    }
    respond(
        StatusCode::OK,
        &json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
            "documentationUri": "https://github.com/integrations-rs/integrations",
            "patch": {"supported": true}, "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
            "filter": {"supported": true, "maxResults": MAX_RESULTS}, "changePassword": {"supported": false},
            "sort": {"supported": true}, "etag": {"supported": true},
            "authenticationSchemes": [{"type": "oauthbearertoken", "name": "OAuth Bearer Token",
                                       "description": "A bearer token issued to the identity provider for one tenant", "primary": true}],
            "meta": {"resourceType": "ServiceProviderConfig", "location": format!("{}/ServiceProviderConfig", server.base)},
        }),
    )
}

fn list_of(items: Vec<Value>) -> Value {
    json!({"schemas": [LIST_RESPONSE], "totalResults": items.len(), "itemsPerPage": items.len(), "startIndex": 1, "Resources": items})
}

async fn resource_types(State(server): Shared, headers: HeaderMap) -> Response {
    if let Err(r) = server.tenant(&headers).await {
        return r;
    }
    respond(StatusCode::OK, &list_of(ResourceType::ALL.iter().map(|t| t.to_json(&server.base)).collect()))
}

async fn resource_type(State(server): Shared, headers: HeaderMap, Path(name): Path<String>) -> Response {
    if let Err(r) = server.tenant(&headers).await {
        return r;
    }
    match ResourceType::named(&name) {
        Some(kind) => respond(StatusCode::OK, &kind.to_json(&server.base)),
        None => failure(&ScimError::not_found(format!("no resource type {name:?}"))),
    }
}

async fn schemas(State(server): Shared, headers: HeaderMap) -> Response {
    if let Err(r) = server.tenant(&headers).await {
        return r;
    }
    respond(StatusCode::OK, &list_of(SCHEMAS.iter().map(|s| s.to_json(&server.base)).collect()))
}

async fn schema_by_id(State(server): Shared, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(r) = server.tenant(&headers).await {
        return r;
    }
    match schema::schema(&id) {
        Some(schema) => respond(StatusCode::OK, &schema.to_json(&server.base)),
        None => failure(&ScimError::not_found(format!("no schema {id:?}"))),
    }
}

async fn search_all(State(server): Shared, headers: HeaderMap, body: Bytes) -> Response {
    match search_params(&body) {
        Ok(params) => server.list(&ResourceType::ALL, &headers, &params).await,
        Err(e) => failure(&e),
    }
}

macro_rules! resource_routes {
    ($kind:expr, $list:ident, $search:ident, $create:ident, $get:ident, $put:ident, $patch:ident, $delete:ident) => {
        async fn $list(State(server): Shared, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
            server.list(&[$kind], &headers, &query_params(query.as_deref())).await
        }

        async fn $search(State(server): Shared, headers: HeaderMap, body: Bytes) -> Response {
            match search_params(&body) {
                Ok(params) => server.list(&[$kind], &headers, &params).await,
                Err(e) => failure(&e),
            }
        }

        async fn $create(State(server): Shared, headers: HeaderMap, body: Bytes) -> Response {
            server.create($kind, &headers, &body).await
        }

        async fn $get(
            State(server): Shared,
            headers: HeaderMap,
            Path(id): Path<String>,
            RawQuery(query): RawQuery,
        ) -> Response {
            server.read($kind, &id, &headers, query.as_deref()).await
        }

        async fn $put(State(server): Shared, headers: HeaderMap, Path(id): Path<String>, body: Bytes) -> Response {
            server.change($kind, &id, &headers, &body, |current, input| replaced($kind, current, input)).await
        }

        async fn $patch(State(server): Shared, headers: HeaderMap, Path(id): Path<String>, body: Bytes) -> Response {
            server.change($kind, &id, &headers, &body, |current, input| patch::apply($kind, current, input)).await
        }

        async fn $delete(State(server): Shared, headers: HeaderMap, Path(id): Path<String>) -> Response {
            server.delete($kind, &id, &headers).await
        }
    };
}

resource_routes!(
    ResourceType::User,
    list_users,
    search_users,
    create_user,
    get_user,
    put_user,
    patch_user,
    delete_user
);
resource_routes!(
    ResourceType::Group,
    list_groups,
    search_groups,
    create_group,
    get_group,
    put_group,
    patch_group,
    delete_group
);

/// A replacement (`PUT`): the new resource, with the write-only values (a password) the client
/// did not send kept.
fn replaced(kind: ResourceType, current: &Value, input: &Value) -> Result<Value, ScimError> {
    let mut next = resource::check(kind, input)?;
    for attribute in kind.attributes().iter().filter(|a| a.mutability == schema::Mutability::WriteOnly) {
        if next.get(attribute.name).is_none()
            && let Some(kept) = current.get(attribute.name)
        {
            next[attribute.name] = kept.clone();
        }
    }
    Ok(next)
}
