//! The connect flow: `connect/{provider}`.
//!
//! - A provider the host registered an [`OAuthApp`] for connects with OAuth 2.0: the start
//!   sends the browser to the provider's authorization endpoint with a state and a PKCE
//!   challenge; both, with the tenant, the connection and a digest of the host's session, travel
//!   in a sealed, `HttpOnly`, `SameSite=Lax` cookie that lives ten minutes. The callback opens
//!   it, checks the state, the session and the tenant, exchanges the code, stores the tokens
//!   (sealed, in the registry's token vault — or, without one, the refresh token among the
//!   connection's sealed secrets), saves the connection and runs `connect`.
//! - Any other provider gets a form generated from its configuration schema: secret fields
//!   masked and never sent back, each value's format checked before anything is saved, each
//!   error next to its field.
//!
//! Either way the new connection is `active` once the provider answered `connect`, and the
//! host's [`OnConnect`] hook hears of it.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use integration_core::auth::{OAuth2Source, TokenManager};
use integration_core::crypto::{Binding, Purpose, SealedBox};
use integration_core::schema::{ConfigField, ConfigSchema, FieldFormat};
use integration_core::spec::catalog_spec;
use integration_core::{
    ConnectionId, ConnectionStatus, Descriptor, Integration, IntegrationConfig, Secrets, Settings, TenantId,
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq as _;

use crate::access::Access;
use crate::api::{ApiError, ApiResult, Shared, audit, may_act, tenant_of};
use crate::page;

/// The cookie a pending authorization travels in.
const COOKIE: &str = "integrations_connect";

/// How long a person has to consent at the provider.
const PENDING_FOR: chrono::Duration = chrono::Duration::minutes(10);

/// Called with each connection the connect flow made: the tenant, the connection and its
/// adapter (to schedule its streams, register its webhook endpoint...).
pub type OnConnect = Arc<dyn Fn(&TenantId, &ConnectionId, Arc<dyn Integration>) + Send + Sync>;

/// The host's OAuth 2.0 client at a provider (registered there with the redirect URI
/// `<public_url>connect/<provider>/callback`).
#[derive(Clone)]
pub struct OAuthApp {
    client_id: String,
    client_secret: SecretString,
    settings: Settings,
    scopes: Option<Vec<String>>,
}

impl std::fmt::Debug for OAuthApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthApp")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[REDACTED]")
            .field("settings", &self.settings)
            .field("scopes", &self.scopes)
            .finish()
    }
}

impl OAuthApp {
    /// The app with its client id and secret.
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret: SecretString::from(client_secret.into()),
            settings: Settings::new(),
            scopes: None,
        }
    }

    /// A setting every connection made through the app gets (`base_url`, `auth_base_url`,
    /// `authorization_url` for a regional host or a test fake).
    #[must_use]
    pub fn with_setting(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.settings.insert(key.into(), value.into());
        self
    }

    /// Asks for `scopes` instead of the adapter's.
    #[must_use]
    pub fn with_scopes(mut self, scopes: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.scopes = Some(scopes.into_iter().map(Into::into).collect());
        self
    }
}

/// What the cookie holds, sealed.
#[derive(Serialize, Deserialize)]
struct Pending {
    provider: String,
    connection: String,
    state: String,
    verifier: String,
    session: String,
    expires: DateTime<Utc>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct StartQuery {
    tenant: Option<String>,
    connection: Option<String>,
    csrf: Option<String>,
}

fn session_digest(access: &Access) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(access.session().as_bytes()))
}

/// Whether `a` and `b` are the same, compared in constant time.
fn same(a: &str, b: &str) -> bool {
    bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// The tenant a connect request is for: the one named, or the session's only one.
fn tenant_for(access: &Access, named: Option<&str>) -> ApiResult<TenantId> {
    match named {
        Some(t) => tenant_of(access, t),
        None => {
            let mut visible = access.visible_tenants();
            match (visible.next(), visible.next()) {
                (Some(only), None) => Ok(only.clone()),
                _ => Err(ApiError::new(StatusCode::BAD_REQUEST, "validation", "say which tenant: ?tenant=...")),
            }
        }
    }
}

fn descriptor_of<'a>(console: &'a crate::Console, provider: &str) -> ApiResult<&'a Descriptor> {
    console.registry.descriptor(provider).ok_or_else(|| {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("no provider {provider:?} is registered"))
    })
}

/// An error as a page (the connect flow is navigated, not fetched).
fn error_page(console: &crate::Console, error: &ApiError) -> Response {
    (error.status(), Html(page::message(console, "Could not connect", error.message()))).into_response()
}

/// `GET connect/{provider}`: the OAuth redirect, or the form.
pub(crate) async fn start(
    State(console): State<Shared>,
    Extension(access): Extension<Access>,
    Path(provider): Path<String>,
    Query(query): Query<StartQuery>,
) -> Response {
    match start_inner(&console, &access, &provider, query).await {
        Ok(response) => response,
        Err(e) => error_page(&console, &e),
    }
}

async fn start_inner(
    console: &crate::Console,
    access: &Access,
    provider: &str,
    query: StartQuery,
) -> ApiResult<Response> {
    let tenant = tenant_for(access, query.tenant.as_deref())?;
    may_act(console, access, query.csrf.as_deref())?;
    let descriptor = descriptor_of(console, provider)?;
    let connection = ConnectionId::new(query.connection.as_deref().unwrap_or(provider))?;
    let Some(app) = console.oauth_apps.get(provider) else {
        let form = page::connect_form(
            console,
            access,
            &tenant,
            descriptor,
            &form_fields(descriptor),
            connection.as_str(),
            &BTreeMap::new(),
            &BTreeMap::new(),
            None,
        );
        return Ok(Html(form).into_response());
    };
    let (config, client) = oauth_client(console, &tenant, &connection, descriptor, app)?;
    let scopes: Vec<&str> = match &app.scopes {
        Some(s) => s.iter().map(String::as_str).collect(),
        None => descriptor.oauth_scopes.iter().map(String::as_str).collect(),
    };
    let params = catalog_spec(provider).map(|spec| spec.authorization_params(&config)).transpose()?.unwrap_or_default();
    let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let request = client.authorization_url(&scopes, &params)?;
    let pending = Pending {
        provider: provider.to_owned(),
        connection: config.connection.to_string(),
        state: request.state.clone(),
        verifier: request.pkce_verifier.expose_secret().to_owned(),
        session: session_digest(access),
        expires: Utc::now() + PENDING_FOR,
    };
    let plain = serde_json::to_vec(&pending)
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "error", e.to_string()))?;
    let sealer = console.connections.sealer();
    let sealed = sealer.seal(&plain, &Binding::subject(Purpose::PendingAuthorization, &tenant, "connect")).await?;
    let value =
        format!("{}.{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(tenant.as_str()), sealed.as_str());
    let mut response = Redirect::to(request.url.as_str()).into_response();
    *response.status_mut() = StatusCode::SEE_OTHER;
    response.headers_mut().append(header::SET_COOKIE, cookie(console, &value, PENDING_FOR.num_seconds()));
    Ok(response)
}

fn cookie(console: &crate::Console, value: &str, max_age: i64) -> header::HeaderValue {
    let secure = if console.public_url.scheme() == "https" { "; Secure" } else { "" };
    let text = format!(
        "{COOKIE}={value}; Path={}; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}",
        console.public_url.path()
    );
    header::HeaderValue::from_str(&text).unwrap_or_else(|_| header::HeaderValue::from_static(""))
}

/// The connection's configuration through `app`, and its OAuth client with the callback as
/// redirect URI.
fn oauth_client(
    console: &crate::Console,
    tenant: &TenantId,
    connection: &ConnectionId,
    descriptor: &Descriptor,
    app: &OAuthApp,
) -> ApiResult<(IntegrationConfig, integration_core::auth::OAuth2Client)> {
    let provider = descriptor.provider.as_str();
    let spec = catalog_spec(provider).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_IMPLEMENTED,
            "unsupported",
            format!("{provider} has no catalog spec saying how it authorizes: connect it with a form"),
        )
    })?;
    let mut config =
        IntegrationConfig::new(tenant.clone(), connection.clone(), descriptor.domain, descriptor.provider.clone());
    config.settings = app.settings.clone();
    config.secrets = Secrets::new()
        .with("client_id", app.client_id.clone())
        .with("client_secret", app.client_secret.expose_secret().to_owned());
    let http = console.registry.context().provider_client(descriptor, &config);
    let callback = console
        .public_url
        .join(&format!("connect/{provider}/callback"))
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "error", e.to_string()))?;
    let client = spec.oauth_client(&config, &http)?.with_redirect_uri(callback);
    Ok((config, client))
}

#[derive(Debug, Deserialize)]
pub(crate) struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// `GET connect/{provider}/callback`: the provider sent the browser back.
pub(crate) async fn callback(
    State(console): State<Shared>,
    Extension(access): Extension<Access>,
    Path(provider): Path<String>,
    headers: HeaderMap,
    Query(query): Query<CallbackQuery>,
) -> Response {
    let outcome = callback_inner(&console, &access, &provider, &headers, query).await;
    let mut response = match outcome {
        Ok(response) => response,
        Err(e) => error_page(&console, &e),
    };
    // The pending authorization is used up, whatever happened.
    response.headers_mut().append(header::SET_COOKIE, cookie(&console, "", 0));
    response
}

async fn callback_inner(
    console: &crate::Console,
    access: &Access,
    provider: &str,
    headers: &HeaderMap,
    query: CallbackQuery,
) -> ApiResult<Response> {
    let refused = |why: &str| ApiError::new(StatusCode::BAD_REQUEST, "validation", why.to_owned());
    if let Some(error) = query.error {
        let said = query.error_description.map(|d| format!(": {d}")).unwrap_or_default();
        return Err(refused(&format!("{provider} did not authorize the connection ({error}{said})")));
    }
    let value = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix(COOKIE).and_then(|rest| rest.strip_prefix('=')))
        .filter(|v| !v.is_empty())
        .ok_or_else(|| refused("no authorization is in progress in this browser: start again from the console"))?;
    let (tenant, sealed) = value.split_once('.').ok_or_else(|| refused("the pending authorization is malformed"))?;
    let tenant = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(tenant)
        .ok()
        .and_then(|t| String::from_utf8(t).ok())
        .ok_or_else(|| refused("the pending authorization is malformed"))?;
    let tenant = tenant_of(access, &tenant)?;
    let sealed = SealedBox::parse(sealed)?;
    let plain = console
        .connections
        .sealer()
        .open(&sealed, &Binding::subject(Purpose::PendingAuthorization, &tenant, "connect"))
        .await
        .map_err(|_| refused("the pending authorization could not be opened: start again from the console"))?;
    let pending: Pending =
        serde_json::from_slice(&plain).map_err(|_| refused("the pending authorization is malformed"))?;
    if pending.provider != provider {
        return Err(refused("the pending authorization is for another provider"));
    }
    if pending.expires < Utc::now() {
        return Err(refused("the authorization took longer than ten minutes: start again from the console"));
    }
    if !same(&pending.session, &session_digest(access)) {
        return Err(ApiError::forbidden("the authorization was started in another session"));
    }
    if !query.state.as_deref().is_some_and(|s| same(s, &pending.state)) {
        return Err(refused("the provider's answer does not match the authorization (state)"));
    }
    let code = query.code.ok_or_else(|| refused("the provider sent no authorization code"))?;
    let descriptor = descriptor_of(console, provider)?;
    let app = console
        .oauth_apps
        .get(provider)
        .ok_or_else(|| refused("the console has no OAuth app for this provider any more"))?;
    let connection = ConnectionId::new(pending.connection.as_str())?;
    let (mut config, client) = oauth_client(console, &tenant, &connection, descriptor, app)?;
    let tokens = client.exchange_code(&code, &SecretString::from(pending.verifier)).await?;
    match &console.registry.context().tokens {
        Some(vault) => {
            let source = Arc::new(OAuth2Source::refresh_token(client));
            let manager = TokenManager::builder(vault.store.clone(), vault.sealer.clone(), source).build();
            manager.store(&tenant, &connection, tokens).await?;
        }
        None => match &tokens.refresh_token {
            Some(refresh) => config.secrets.insert("refresh_token", refresh.expose_secret().to_owned()),
            None => {
                return Err(ApiError::new(
                    StatusCode::BAD_GATEWAY,
                    "unsupported",
                    format!(
                        "{provider} issued no refresh token and the registry has no token vault to keep its access token"
                    ),
                ));
            }
        },
    }
    let adapter = save_and_connect(console, access, config).await?;
    finish(console, &tenant, &connection, adapter, "OAuth").await
}

/// Saves `config` (replacing the connection's earlier configuration, keeping its other
/// settings), builds its adapter and runs `connect`; the connection is `active` after.
async fn save_and_connect(
    console: &crate::Console,
    access: &Access,
    mut config: IntegrationConfig,
) -> ApiResult<Arc<dyn Integration>> {
    let (tenant, connection) = (config.tenant.clone(), config.connection.clone());
    if let Some(existing) = console.connections.stored(&tenant, &connection).await? {
        if existing.provider != config.provider {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                format!("connection {connection} is a {} connection: choose another name", existing.provider),
            )
            .with_field("connection"));
        }
        for (key, value) in existing.settings {
            config.settings.entry(key).or_insert(value);
        }
        config.revision = existing.revision;
    }
    config.status = ConnectionStatus::Pending;
    console.registry.validate(&config)?;
    console.connections.save(&config).await?;
    let adapter = console.registry.build(config)?;
    adapter.connect().await?;
    console.connections.set_status(&tenant, &connection, ConnectionStatus::Active).await?;
    audit(console, access, &tenant, Some(&connection), format!("connected {}", adapter.descriptor().provider)).await;
    Ok(adapter)
}

async fn finish(
    console: &crate::Console,
    tenant: &TenantId,
    connection: &ConnectionId,
    adapter: Arc<dyn Integration>,
    how: &str,
) -> ApiResult<Response> {
    if let Some(hook) = &console.on_connect {
        hook(tenant, connection, adapter);
    }
    tracing::info!(%tenant, %connection, how, "connected through the console");
    let mut back = console.public_url.clone();
    back.query_pairs_mut().append_pair("tenant", tenant.as_str()).append_pair("connected", connection.as_str());
    Ok((StatusCode::SEE_OTHER, [(header::LOCATION, back.to_string())]).into_response())
}

/// The fields the form asks for: the schema's, less `refresh_token` (only an authorization
/// gives one).
pub(crate) fn form_fields(descriptor: &Descriptor) -> Vec<ConfigField> {
    descriptor.config.fields().iter().filter(|f| f.key != "refresh_token").cloned().collect()
}

/// A form value as the setting's JSON type.
fn typed(format: &FieldFormat, text: &str) -> Value {
    match format {
        FieldFormat::Integer { .. } => text.parse::<i64>().map_or_else(|_| Value::from(text), Value::from),
        FieldFormat::Boolean => match text {
            "true" | "on" | "yes" => Value::Bool(true),
            "false" | "off" | "no" => Value::Bool(false),
            other => Value::from(other),
        },
        _ => Value::from(text),
    }
}

/// `POST connect/{provider}`: the form.
pub(crate) async fn submit(
    State(console): State<Shared>,
    Extension(access): Extension<Access>,
    Path(provider): Path<String>,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    match submit_inner(&console, &access, &provider, &form).await {
        Ok(response) => response,
        Err(e) => error_page(&console, &e),
    }
}

async fn submit_inner(
    console: &crate::Console,
    access: &Access,
    provider: &str,
    form: &BTreeMap<String, String>,
) -> ApiResult<Response> {
    let tenant = tenant_for(access, form.get("tenant").map(String::as_str))?;
    may_act(console, access, form.get("csrf").map(String::as_str))?;
    let descriptor = descriptor_of(console, provider)?;
    let fields = form_fields(descriptor);
    let value_of = |key: &str| form.get(&format!("field.{key}")).map(|v| v.trim()).filter(|v| !v.is_empty());
    let mut errors: BTreeMap<String, String> = BTreeMap::new();
    let connection_name = form.get("connection").map(|c| c.trim().to_owned()).unwrap_or_default();
    let connection = match ConnectionId::new(connection_name.as_str()) {
        Ok(c) => Some(c),
        Err(e) => {
            errors.insert("connection".into(), e.message().to_owned());
            None
        }
    };
    let mut settings = Settings::new();
    let mut secrets = Secrets::new();
    for field in &fields {
        let Some(text) = value_of(&field.key) else {
            if field.required {
                let message = if field.description.is_empty() {
                    "required".to_owned()
                } else {
                    format!("required: {}", field.description)
                };
                errors.insert(field.key.clone(), message);
            }
            continue;
        };
        let (mut one_setting, mut one_secret) = (Settings::new(), Secrets::new());
        if field.secret {
            one_secret.insert(field.key.clone(), text.to_owned());
        } else {
            one_setting.insert(field.key.clone(), typed(&field.format, text));
        }
        let mut optional = field.clone();
        optional.required = false;
        let alone = ConfigSchema::new([optional])?;
        match alone.validate(&descriptor.provider, &one_setting, &one_secret) {
            Ok(()) => {
                settings.extend(one_setting);
                if field.secret {
                    secrets.insert(field.key.clone(), text.to_owned());
                }
            }
            Err(e) => {
                errors.insert(field.key.clone(), e.message().to_owned());
            }
        }
    }
    // What was typed is shown again, secrets never.
    let shown: BTreeMap<String, String> = fields
        .iter()
        .filter(|f| !f.secret)
        .filter_map(|f| value_of(&f.key).map(|v| (f.key.clone(), v.to_owned())))
        .collect();
    let again = |errors: &BTreeMap<String, String>, problem: Option<&str>| {
        let html = page::connect_form(
            console,
            access,
            &tenant,
            descriptor,
            &fields,
            &connection_name,
            &shown,
            errors,
            problem,
        );
        (StatusCode::UNPROCESSABLE_ENTITY, Html(html)).into_response()
    };
    let Some(connection) = connection.filter(|_| errors.is_empty()) else {
        return Ok(again(&errors, None));
    };
    let mut config =
        IntegrationConfig::new(tenant.clone(), connection.clone(), descriptor.domain, descriptor.provider.clone());
    config.settings = settings;
    config.secrets = secrets;
    match save_and_connect(console, access, config).await {
        Ok(adapter) => finish(console, &tenant, &connection, adapter, "form").await,
        Err(e) => {
            // The provider refused (a wrong key), or the whole configuration failed a check:
            // say so next to the field it names, if it names one.
            let field = e.field().map(|f| f.trim_start_matches("settings.").trim_start_matches("secrets.").to_owned());
            let mut errors = BTreeMap::new();
            if let Some(field) = field.filter(|f| fields.iter().any(|x| x.key == *f) || f == "connection") {
                errors.insert(field, e.message().to_owned());
                Ok(again(&errors, None))
            } else {
                Ok(again(&errors, Some(e.message())))
            }
        }
    }
}
