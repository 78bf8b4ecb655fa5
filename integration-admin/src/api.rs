//! The router: the host's check on every request, the JSON API under `api/`, the actions.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use integration_core::schedule::PAUSED_STREAMS;
use integration_core::store::{
    AuditAction, AuditEvent, AutomationRunQuery, DeliveryQuery, DeliveryStatus, RunQuery, RunStatus, StoredConfig,
    SyncRun,
};
use integration_core::{
    CancellationToken, ConnectionId, ConnectionStatus, DeliveryId, ErrorKind, RunId, SyncJob, SyncMode, TenantId,
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::access::{Access, Refused};
use crate::{Console, connect, csrf, page, views};

/// The console's state in handlers.
pub(crate) type Shared = Arc<Console>;

pub(crate) fn router(console: Shared) -> axum::Router {
    let api = axum::Router::new()
        .route("/session", get(session))
        .route("/catalog", get(catalog))
        .route("/tenants/{tenant}/connections", get(connections))
        .route("/tenants/{tenant}/runs", get(runs))
        .route("/tenants/{tenant}/runs/{run}", get(run))
        .route("/tenants/{tenant}/deliveries", get(deliveries))
        .route("/tenants/{tenant}/automation-runs", get(automation_runs))
        .route("/tenants/{tenant}/notifications", get(notifications))
        .route("/tenants/{tenant}/connections/{connection}/streams/{stream}/{action}", post(stream_action))
        .route("/tenants/{tenant}/connections/{connection}/disconnect", post(disconnect))
        .route("/tenants/{tenant}/deliveries/{delivery}/replay", post(replay));
    // Routes sit under the console's own path (its public URL's), so a host merges the router
    // and the page's relative links resolve against `<path>/`.
    let prefix = console.public_url.path().to_owned();
    let mut router = axum::Router::new()
        .route(&prefix, get(page::console))
        .route(&format!("{prefix}connect/{{provider}}"), get(connect::start).post(connect::submit))
        .route(&format!("{prefix}connect/{{provider}}/callback"), get(connect::callback))
        .nest(&format!("{prefix}api"), api);
    if prefix.len() > 1 {
        let to = prefix.clone();
        router = router.route(prefix.trim_end_matches('/'), get(move || async move { Redirect::permanent(&to) }));
    }
    router.layer(axum::middleware::from_fn_with_state(console.clone(), authorize)).with_state(console)
}

/// Runs the host's check; the granted [`Access`] goes into the request's extensions.
async fn authorize(State(console): State<Shared>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    // The JSON API answers refusals in JSON; pages send the browser to the host's sign-in.
    let api = parts.uri.path().starts_with(&format!("{}api/", console.public_url.path()));
    match console.authorizer.authorize(&parts).await {
        Ok(access) => {
            parts.extensions.insert(access);
            let mut response = next.run(Request::from_parts(parts, body)).await;
            let headers = response.headers_mut();
            headers.insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
            headers.insert("x-frame-options", header::HeaderValue::from_static("DENY"));
            headers.insert("x-content-type-options", header::HeaderValue::from_static("nosniff"));
            headers.insert("referrer-policy", header::HeaderValue::from_static("same-origin"));
            response
        }
        Err(Refused::Unauthenticated { sign_in: Some(to) }) if !api => Redirect::to(&to).into_response(),
        Err(Refused::Unauthenticated { .. }) => {
            ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", "sign in to use the console").into_response()
        }
        Err(_) => {
            ApiError::new(StatusCode::FORBIDDEN, "forbidden", "this session may not use the console").into_response()
        }
    }
}

/// An answer of the JSON API that is not a success.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    kind: &'static str,
    message: String,
    field: Option<String>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        Self { status, kind, message: message.into(), field: None }
    }

    pub(crate) fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub(crate) fn field(&self) -> Option<&str> {
        self.field.as_deref()
    }

    pub(crate) fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub(crate) fn status(&self) -> StatusCode {
        self.status
    }

    pub(crate) fn message(&self) -> &str {
        &self.message
    }
}

impl From<integration_core::Error> for ApiError {
    fn from(e: integration_core::Error) -> Self {
        let (status, kind) = match e.kind() {
            ErrorKind::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            ErrorKind::Validation => (StatusCode::BAD_REQUEST, "validation"),
            ErrorKind::Config => (StatusCode::BAD_REQUEST, "config"),
            ErrorKind::Conflict => (StatusCode::CONFLICT, "conflict"),
            ErrorKind::Unsupported => (StatusCode::NOT_IMPLEMENTED, "unsupported"),
            k if k.is_auth() => (StatusCode::BAD_GATEWAY, "provider_refused_credentials"),
            _ => (StatusCode::INTERNAL_SERVER_ERROR, "error"),
        };
        // An Error's message never holds a secret (redacted where it is made).
        Self { status, kind, message: e.to_string(), field: e.field().map(str::to_owned) }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": {"kind": self.kind, "message": self.message, "field": self.field}});
        (self.status, Json(body)).into_response()
    }
}

pub(crate) type ApiResult<T> = Result<T, ApiError>;

/// The tenant named in the path, if the session sees it.
pub(crate) fn tenant_of(access: &Access, tenant: &str) -> ApiResult<TenantId> {
    let tenant = TenantId::new(tenant)?;
    if !access.sees(&tenant) {
        return Err(ApiError::forbidden(format!("this session may not see tenant {tenant}")));
    }
    Ok(tenant)
}

/// Checks that `access` may act and that `token` is its session's CSRF token.
pub(crate) fn may_act(console: &Console, access: &Access, token: Option<&str>) -> ApiResult<()> {
    if !access.may_act() {
        return Err(ApiError::forbidden("this session may look, not act"));
    }
    match token {
        Some(token) if console.csrf.verify(access.session(), token) => Ok(()),
        _ => Err(ApiError::forbidden(format!(
            "the action needs this session's CSRF token in the {} header (or the csrf form field)",
            csrf::HEADER
        ))),
    }
}

fn csrf_header(headers: &HeaderMap) -> Option<&str> {
    headers.get(csrf::HEADER).and_then(|v| v.to_str().ok())
}

/// Writes an action to the audit sink, if there is one.
pub(crate) async fn audit(
    console: &Console,
    access: &Access,
    tenant: &TenantId,
    connection: Option<&ConnectionId>,
    what: String,
) {
    if let Some(audit) = &console.audit {
        let mut event =
            AuditEvent::new(tenant.clone(), AuditAction::ConsoleAction).detail(format!("{}: {what}", access.subject()));
        if let Some(connection) = connection {
            event = event.connection(connection.clone());
        }
        if let Err(e) = audit.audit(event).await {
            tracing::error!(error = %e, "could not audit a console action");
        }
    }
    tracing::info!(subject = access.subject(), %tenant, "console: {what}");
}

async fn session(State(console): State<Shared>, axum::Extension(access): axum::Extension<Access>) -> Json<Value> {
    Json(json!({
        "subject": access.subject(),
        "tenants": access.visible_tenants().map(TenantId::as_str).collect::<Vec<_>>(),
        "may_act": access.may_act(),
        "csrf_token": console.csrf.token(access.session()),
    }))
}

async fn catalog(State(console): State<Shared>) -> Json<Value> {
    let mut providers: Vec<Value> = console
        .registry
        .providers()
        .map(|d| views::provider(d, console.oauth_apps.contains_key(d.provider.as_str())))
        .collect();
    providers.sort_by(|a, b| a["provider"].as_str().cmp(&b["provider"].as_str()));
    Json(json!({ "providers": providers }))
}

/// The paused streams a connection's settings keep.
pub(crate) fn paused_streams(settings: &integration_core::Settings) -> Vec<String> {
    settings
        .get(PAUSED_STREAMS)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

/// Every connection of `tenant` as the console shows it.
pub(crate) async fn connection_views(console: &Console, tenant: &TenantId) -> ApiResult<Vec<views::ConnectionView>> {
    let mut out = Vec::new();
    for config in console.connections.list(tenant).await? {
        let mut query = RunQuery::new().connection(config.connection.clone());
        query.limit = Some(50);
        let runs = console.state.list_runs(tenant, &query).await?;
        let health = console.registry.health(tenant, &config.connection);
        let descriptor = console.registry.descriptor(config.provider.as_str());
        out.push(views::connection(&config, descriptor, &runs, &paused_streams(&config.settings), health.as_ref()));
    }
    Ok(out)
}

async fn connections(
    State(console): State<Shared>,
    axum::Extension(access): axum::Extension<Access>,
    Path(tenant): Path<String>,
) -> ApiResult<Json<Value>> {
    let tenant = tenant_of(&access, &tenant)?;
    Ok(Json(json!({ "connections": connection_views(&console, &tenant).await? })))
}

#[derive(Debug, Deserialize)]
struct RunFilter {
    connection: Option<String>,
    limit: Option<usize>,
}

/// Runs newest first, failed ones before the others.
pub(crate) async fn recent_runs(
    console: &Console,
    tenant: &TenantId,
    connection: Option<ConnectionId>,
    limit: usize,
) -> ApiResult<Vec<SyncRun>> {
    let mut query = RunQuery::new();
    if let Some(connection) = connection {
        query = query.connection(connection);
    }
    query.limit = Some(limit.clamp(1, 500));
    let mut runs = console.state.list_runs(tenant, &query).await?;
    runs.sort_by_key(|r| r.status != RunStatus::Failed);
    Ok(runs)
}

async fn runs(
    State(console): State<Shared>,
    axum::Extension(access): axum::Extension<Access>,
    Path(tenant): Path<String>,
    Query(filter): Query<RunFilter>,
) -> ApiResult<Json<Value>> {
    let tenant = tenant_of(&access, &tenant)?;
    let connection = filter.connection.as_deref().map(ConnectionId::new).transpose()?;
    let runs = recent_runs(&console, &tenant, connection, filter.limit.unwrap_or(100)).await?;
    Ok(Json(json!({ "runs": runs.iter().map(views::run_summary).collect::<Vec<_>>() })))
}

async fn run(
    State(console): State<Shared>,
    axum::Extension(access): axum::Extension<Access>,
    Path((tenant, run)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let tenant = tenant_of(&access, &tenant)?;
    let id: RunId = run.parse()?;
    let run = console
        .state
        .run(&tenant, id)
        .await?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("no sync run {id}")))?;
    let mut shown = views::run_summary(&run);
    shown["rejected"] = json!(run.rejected);
    Ok(Json(shown))
}

#[derive(Debug, Deserialize)]
struct DeliveryFilter {
    status: Option<String>,
    limit: Option<usize>,
}

pub(crate) fn delivery_status(name: &str) -> ApiResult<DeliveryStatus> {
    [
        DeliveryStatus::Queued,
        DeliveryStatus::Processing,
        DeliveryStatus::Processed,
        DeliveryStatus::Retrying,
        DeliveryStatus::DeadLettered,
        DeliveryStatus::Rejected,
    ]
    .into_iter()
    .find(|s| s.as_str() == name)
    .ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "validation",
            format!("no delivery status {name:?}: queued, processing, processed, retrying, dead_lettered or rejected"),
        )
    })
}

async fn deliveries(
    State(console): State<Shared>,
    axum::Extension(access): axum::Extension<Access>,
    Path(tenant): Path<String>,
    Query(filter): Query<DeliveryFilter>,
) -> ApiResult<Json<Value>> {
    let tenant = tenant_of(&access, &tenant)?;
    let mut query = DeliveryQuery::new().limit(filter.limit.unwrap_or(100).clamp(1, 500));
    if let Some(status) = filter.status.as_deref() {
        query = query.status(delivery_status(status)?);
    }
    let list = console.deliveries.list_deliveries(&tenant, &query).await?;
    Ok(Json(json!({ "deliveries": list.iter().map(views::delivery).collect::<Vec<_>>() })))
}

/// Automation runs, newest first, with their step logs.
pub(crate) async fn automation_run_views(console: &Console, tenant: &TenantId, limit: usize) -> ApiResult<Vec<Value>> {
    let Some(store) = &console.automations else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for run in store.list_automation_runs(tenant, &AutomationRunQuery::new().limit(limit)).await? {
        let steps = store.automation_steps(tenant, run.id).await?;
        out.push(views::automation_run(&run, &steps));
    }
    Ok(out)
}

async fn automation_runs(
    State(console): State<Shared>,
    axum::Extension(access): axum::Extension<Access>,
    Path(tenant): Path<String>,
) -> ApiResult<Json<Value>> {
    let tenant = tenant_of(&access, &tenant)?;
    let runs = automation_run_views(&console, &tenant, 50).await?;
    Ok(Json(json!({ "automation_runs": runs, "available": console.automations.is_some() })))
}

/// The recent notifications of `tenant`, newest first.
pub(crate) fn recent_notifications(console: &Console, tenant: &TenantId) -> Vec<Value> {
    let recent = console.recent.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    recent
        .iter()
        .rev()
        .filter(|n| n.tenant() == tenant)
        .map(|n| {
            let mut shown = n.to_json();
            shown["message"] = Value::from(n.to_string());
            shown
        })
        .collect()
}

async fn notifications(
    State(console): State<Shared>,
    axum::Extension(access): axum::Extension<Access>,
    Path(tenant): Path<String>,
) -> ApiResult<Json<Value>> {
    let tenant = tenant_of(&access, &tenant)?;
    raise_due(&console, &tenant).await?;
    Ok(Json(json!({ "notifications": recent_notifications(&console, &tenant) })))
}

/// Raises what is due for `tenant` now (each notification once), so the list the console
/// shows next is current: the console's listener hears them before the next read.
pub(crate) async fn raise_due(console: &Console, tenant: &TenantId) -> ApiResult<()> {
    if let Some(notifier) = &console.notifier {
        notifier.check(tenant).await?;
        tokio::task::yield_now().await;
    }
    Ok(())
}

/// `tenant`'s connection as stored, or `404`.
async fn stored_connection(console: &Console, tenant: &TenantId, connection: &ConnectionId) -> ApiResult<StoredConfig> {
    console.connections.stored(tenant, connection).await?.ok_or_else(|| {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("tenant {tenant} has no connection {connection}"))
    })
}

async fn stream_action(
    State(console): State<Shared>,
    axum::Extension(access): axum::Extension<Access>,
    headers: HeaderMap,
    Path((tenant, connection, stream, action)): Path<(String, String, String, String)>,
) -> ApiResult<Response> {
    let tenant = tenant_of(&access, &tenant)?;
    may_act(&console, &access, csrf_header(&headers))?;
    let connection = ConnectionId::new(connection)?;
    let stored = stored_connection(&console, &tenant, &connection).await?;
    let known = console.registry.descriptor(stored.provider.as_str()).is_none_or(|d| d.stream(&stream).is_some());
    if !known {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{} has no stream {stream:?}", stored.provider),
        ));
    }
    match action.as_str() {
        "pause" | "resume" => {
            let pause = action == "pause";
            console
                .connections
                .update_settings(&tenant, &connection, |settings| {
                    let mut paused = paused_streams(settings);
                    paused.retain(|s| *s != stream);
                    if pause {
                        paused.push(stream.clone());
                    }
                    settings.insert(PAUSED_STREAMS.to_owned(), json!(paused));
                })
                .await?;
            if let Some(scheduler) = &console.scheduler {
                if pause {
                    scheduler.pause_stream(&tenant, &connection, &stream);
                } else {
                    scheduler.resume_stream(&tenant, &connection, &stream);
                }
            }
            audit(&console, &access, &tenant, Some(&connection), format!("{action}d stream {stream}")).await;
            Ok(Json(json!({"stream": stream, "paused": pause})).into_response())
        }
        "sync" => {
            if paused_streams(&stored.settings).contains(&stream) {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "paused",
                    format!("stream {stream} is paused: resume it first"),
                ));
            }
            if matches!(stored.status, ConnectionStatus::Paused | ConnectionStatus::Disconnected) {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "not_active",
                    format!("connection {connection} is {}", stored.status),
                ));
            }
            let scheduled = console.scheduler.as_ref().is_some_and(|s| s.run_now(&tenant, &connection, &stream));
            if !scheduled {
                let Some(engine) = console.engine.clone() else {
                    return Err(ApiError::new(
                        StatusCode::NOT_IMPLEMENTED,
                        "unsupported",
                        "no scheduler knows this stream and the console has no sync engine (Console::with_engine)",
                    ));
                };
                let config = console.connections.load(&tenant, &connection).await?;
                let adapter = console.registry.build(config)?;
                let mode = adapter.descriptor().stream(&stream).map_or(SyncMode::FullRefresh, |s| s.usual_mode());
                let job = SyncJob::new(tenant.clone(), connection.clone(), stream.clone(), mode);
                tokio::spawn(async move {
                    if let Err(e) = engine.run(adapter.as_ref(), &job, &CancellationToken::new()).await {
                        tracing::warn!(error = %e, stream = %job.stream, "a sync started from the console could not run");
                    }
                });
            }
            audit(&console, &access, &tenant, Some(&connection), format!("started a sync of {stream}")).await;
            Ok((StatusCode::ACCEPTED, Json(json!({"stream": stream, "started": true}))).into_response())
        }
        other => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no stream action {other:?}: pause, resume or sync"),
        )),
    }
}

async fn disconnect(
    State(console): State<Shared>,
    axum::Extension(access): axum::Extension<Access>,
    headers: HeaderMap,
    Path((tenant, connection)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let tenant = tenant_of(&access, &tenant)?;
    may_act(&console, &access, csrf_header(&headers))?;
    let connection = ConnectionId::new(connection)?;
    let stored = stored_connection(&console, &tenant, &connection).await?;
    // Tell the provider first (revoking tokens where it can); a provider that cannot be reached
    // does not keep the connection alive here.
    let mut note = None;
    if let Ok(config) = console.connections.load(&tenant, &connection).await
        && let Ok(adapter) = console.registry.build(config)
        && let Err(e) = adapter.disconnect().await
    {
        note = Some(format!("the provider was not told: {e}"));
    }
    console.connections.set_status(&tenant, &connection, ConnectionStatus::Disconnected).await?;
    if let Some(scheduler) = &console.scheduler {
        scheduler.pause(&tenant, &connection);
    }
    audit(
        &console,
        &access,
        &tenant,
        Some(&connection),
        format!("disconnected {} connection {connection}", stored.provider),
    )
    .await;
    Ok(Json(json!({"connection": connection.as_str(), "status": "disconnected", "note": note})))
}

async fn replay(
    State(console): State<Shared>,
    axum::Extension(access): axum::Extension<Access>,
    headers: HeaderMap,
    Path((tenant, delivery)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let tenant = tenant_of(&access, &tenant)?;
    may_act(&console, &access, csrf_header(&headers))?;
    let id: DeliveryId = delivery.parse()?;
    let Some(found) = console.deliveries.delivery(&tenant, id).await? else {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("no delivery {id}")));
    };
    console.deliveries.replay(&tenant, id).await?;
    audit(&console, &access, &tenant, Some(&found.connection), format!("replayed webhook delivery {id}")).await;
    Ok(Json(json!({"delivery": id.to_string(), "status": "queued"})))
}
