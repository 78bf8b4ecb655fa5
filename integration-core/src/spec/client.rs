//! [`SpecClient`]: a connected provider built from its [`ProviderSpec`] and a connection's
//! configuration — an authenticated [`ProviderClient`] with the spec's policy, its default
//! headers and API version, [`passthrough`](SpecClient::passthrough) for any request, and
//! [`page`](SpecClient::page) through any resource by the spec's paging.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};
use secrecy::ExposeSecret;
use serde_json::Value;
use url::Url;

use super::template::split_origin;
use super::{Auth, ClientAuth, Grant, Location, Paging, ProviderSpec, render, render_url, text_of};
use crate::auth::{ApiKey, Authenticator, Basic, Bearer, OAuth2Client, OAuth2Endpoints, OAuth2Source, TokenManager};
use crate::config::IntegrationConfig;
use crate::descriptor::{Descriptor, DescriptorBuilder, Domain, GenericHmac, SignatureEncoding, WebhookScheme};
use crate::error::{Error, Result};
use crate::http::{ClientCertificate, HttpClient, HttpPolicy, ProviderClient, Request, join_path};
use crate::registry::BuildContext;
use crate::schema::{self, ConfigField, FieldFormat};
use crate::store::{AuditAction, AuditEvent, AuditSink};
use crate::{Capability, ConnectionId, ProviderId, TenantId};

/// More records than any account of any provider holds: an offset listing whose total is
/// above it is a broken answer, not a reason to page on.
const MAX_PLAUSIBLE_TOTAL: u64 = 1_000_000_000;

/// A request through a connected provider, for what the typed API does not cover.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Passthrough {
    /// The method.
    pub method: Method,
    /// A path joined to the provider's base URL (`/v1/customers`), or an absolute URL on the
    /// base URL's origin; any other origin is refused before anything is sent.
    pub path: String,
    /// Query parameters.
    pub query: Vec<(String, String)>,
    /// Headers (credentials are the client's: an `Authorization` header here is refused).
    pub headers: Vec<(String, String)>,
    /// The body, with its content type.
    pub body: Option<(Bytes, String)>,
}

impl Passthrough {
    /// `method` on `path`, nothing else.
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        Self { method, path: path.into(), query: Vec::new(), headers: Vec::new(), body: None }
    }

    /// A `GET` of `path`.
    pub fn get(path: impl Into<String>) -> Self {
        Self::new(Method::GET, path)
    }

    /// Adds a query parameter.
    #[must_use]
    pub fn query(mut self, name: &str, value: &str) -> Self {
        self.query.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Adds a header.
    #[must_use]
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Sets a JSON body.
    #[must_use]
    pub fn json(mut self, body: &Value) -> Self {
        self.body = Some((Bytes::from(body.to_string()), "application/json".to_owned()));
        self
    }
}

/// The provider's answer, as it came: status, headers, body.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PassthroughResponse {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
}

/// One page of a resource, read by the spec's paging.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct SpecPage {
    /// The records.
    pub records: Vec<Value>,
    /// Where the next page is (a cursor, an offset, a page number or a URL, as the style
    /// needs): hand it to the next [`SpecClient::page`]; `None` on the last page.
    pub next: Option<String>,
    /// For delta paging: the delta link or sync token ending the pass, to list changes from.
    pub delta: Option<String>,
}

/// A provider connected through its spec.
#[derive(Debug, Clone)]
pub struct SpecClient {
    spec: Arc<ProviderSpec>,
    descriptor: Arc<Descriptor>,
    base: Url,
    client: ProviderClient,
    headers: Vec<(String, String)>,
    query: Vec<(String, String)>,
    check: String,
    tokens: Option<Arc<TokenManager>>,
    connection: (TenantId, ConnectionId),
    audit: Option<Arc<dyn AuditSink>>,
}

fn scheme_of(spec: &ProviderSpec) -> Option<WebhookScheme> {
    let webhooks = spec.webhooks.as_ref()?;
    Some(match webhooks.scheme.as_str() {
        "standard_webhooks" => WebhookScheme::StandardWebhooks,
        "stripe" => WebhookScheme::Stripe,
        "github" => WebhookScheme::GitHub,
        "slack" => WebhookScheme::Slack,
        "xero" => WebhookScheme::Xero,
        "intuit" => WebhookScheme::Intuit,
        "adyen" => WebhookScheme::Adyen,
        "google_channel" => WebhookScheme::GoogleChannel,
        "graph_client_state" => WebhookScheme::GraphClientState,
        _ => {
            let encoding = if webhooks.encoding.as_deref() == Some("base64") {
                SignatureEncoding::Base64
            } else {
                SignatureEncoding::Hex
            };
            let mut hmac = GenericHmac::new(webhooks.header.clone().unwrap_or_default(), encoding);
            if let Some(prefix) = &webhooks.prefix {
                hmac = hmac.with_prefix(prefix.clone());
            }
            if let (Some(header), Some(signed)) = (&webhooks.timestamp_header, &webhooks.signed) {
                hmac = hmac.with_timestamp(header.clone(), signed.clone());
            }
            WebhookScheme::GenericHmac(hmac)
        }
    })
}

impl ProviderSpec {
    /// How the provider signs webhooks, as core verifies them; `None` when it does not.
    pub fn webhook_scheme(&self) -> Option<WebhookScheme> {
        scheme_of(self)
    }

    /// The descriptor of a provider connected through this spec: its configuration fields (the
    /// spec's settings and secrets; `client_id` and `client_secret` for OAuth2, and an optional
    /// `refresh_token`; an optional `base_url` and `auth_base_url` to point it elsewhere, a
    /// sandbox or a test fake), its HTTP policy (the published rate limit, the error header),
    /// its webhook scheme.
    ///
    /// # Errors
    /// A [`Config`](crate::ErrorKind::Config) error if the spec's fields collide.
    pub fn descriptor(&self) -> Result<Descriptor> {
        self.descriptor_builder().build()
    }

    /// The HTTP policy the spec declares: the standard one with the published rate limit and
    /// where an error's explanation is (a typed adapter built on the spec declares it too).
    pub fn http_policy(&self) -> HttpPolicy {
        let mut policy = HttpPolicy::standard();
        if let Some(limit) = &self.rate_limit
            && let (Some(requests), Some(seconds)) = (limit.requests, limit.per_seconds)
        {
            let mut rate = crate::http::RateLimit::new(requests, Duration::from_secs(seconds.into()));
            if let Some(burst) = limit.burst {
                rate = rate.with_burst(burst);
            }
            policy = policy.with_rate_limit(rate);
        }
        if let Some(header) = self.errors.as_ref().and_then(|e| e.message_header.clone()) {
            policy = policy.with_error_message_header(header);
        }
        if let Some(pointer) = self.errors.as_ref().and_then(|e| e.message.clone()) {
            policy = policy.with_error_message_pointer(pointer);
        }
        policy
    }

    /// [`descriptor`](Self::descriptor) before it is built, to add streams.
    pub fn descriptor_builder(&self) -> DescriptorBuilder {
        let domain = self.sdk_domains().first().copied().unwrap_or(Domain::Other);
        let policy = self.http_policy();
        let mut builder = Descriptor::builder(&self.id, domain, self.name.clone())
            .documentation(self.docs.clone())
            .http_policy(policy)
            .capability(Capability::HEALTH_CHECK)
            .optional_setting(schema::BASE_URL, FieldFormat::Url, "the API root, instead of the spec's")
            .optional_setting(
                schema::AUTH_BASE_URL,
                FieldFormat::Url,
                "the token endpoint's origin, instead of the spec's",
            );
        for field in &self.settings {
            builder = match field.default {
                Some(_) => builder.optional_setting(&field.key, FieldFormat::Text, &field.description),
                None => builder.setting(&field.key, FieldFormat::Text, &field.description),
            };
        }
        for field in &self.secrets {
            builder = builder.secret(&field.key, FieldFormat::Text, &field.description);
        }
        if self.mutual_tls {
            builder = builder
                .secret("client_certificate", FieldFormat::Pem, "the client certificate the provider signed (PEM)")
                .secret("client_key", FieldFormat::Pem, "the client certificate's private key (unencrypted PEM)")
                .optional_setting("ca_certificate", FieldFormat::Pem, "an extra root certificate to trust (PEM)");
        }
        if let Auth::Oauth2 { scopes, grants, .. } = &self.auth {
            builder = builder
                .secret("client_id", FieldFormat::Text, "the OAuth2 client id of your app at the provider")
                .secret("client_secret", FieldFormat::Text, "the OAuth2 client secret of your app at the provider");
            if grants.contains(&Grant::AuthorizationCode) {
                builder = builder.optional_setting(
                    AUTHORIZATION_URL,
                    FieldFormat::Url,
                    "the authorization endpoint, instead of the spec's",
                );
            }
            if grants.contains(&Grant::RefreshToken) {
                let refresh = ConfigField::secret("refresh_token").not_required().with_description(
                    "a refresh token issued to this connection, when it was authorized elsewhere (otherwise the one the authorization stored)",
                );
                builder = builder.field(refresh);
            }
            for scope in scopes {
                builder = builder.scope(scope.clone());
            }
        }
        if let Some(scheme) = scheme_of(self) {
            builder = builder.webhook(scheme).capability(Capability::WEBHOOKS);
        }
        builder
    }
}

/// A configuration value a template names: a setting (or its default), else a secret.
fn value_of(spec: &ProviderSpec, config: &IntegrationConfig, key: &str) -> Option<String> {
    if let Some(value) = config.settings.get(key) {
        return Some(text_of(value));
    }
    if let Some(default) = spec.settings.iter().find(|f| f.key == key).and_then(|f| f.default.clone()) {
        return Some(default);
    }
    config.secrets.get(key).map(|s| s.expose_secret().to_owned())
}

/// URL template `text` rendered with the configuration's values; with `origin` (a configured
/// `base_url` or `auth_base_url`), that origin replaces the template's — whose placeholders are
/// then not needed — and the template's path is kept.
fn url_of(text: &str, origin: Option<&Url>, value: impl Fn(&str) -> Option<String>, field: &str) -> Result<Url> {
    let not_a_url =
        |e: url::ParseError| Error::config(format!("{field} is not a URL: {e}")).with_field(field.to_owned());
    match origin {
        None => Url::parse(&render_url(text, value)?).map_err(not_a_url),
        Some(origin) => {
            let path = render_url(split_origin(text).1, value)?;
            let path = if path.is_empty() { "/".to_owned() } else { path };
            origin.join(&path).map_err(not_a_url)
        }
    }
}

/// The configured `base_url`, when there is one.
fn configured_base(config: &IntegrationConfig) -> Result<Option<Url>> {
    config.settings.contains_key(schema::BASE_URL).then(|| config.base_url(None)).transpose()
}

impl SpecClient {
    /// Connects `spec` with `config`: checks the configuration against the spec's descriptor,
    /// renders the base URL (each configuration value percent-encoded inside its host label or
    /// path segment; the `base_url` setting, when there is one, replaces its origin — scheme,
    /// host and port — and keeps its path: a sandbox, a regional host, a test fake), presents
    /// the client certificate for a [`mutual_tls`](ProviderSpec::mutual_tls) spec, and
    /// authenticates as the spec says — static credentials from the configuration, or OAuth2
    /// through the context's token manager (client credentials; a configured `refresh_token`;
    /// or the tokens an authorization stored for the connection).
    ///
    /// # Errors
    /// A [`Config`](crate::ErrorKind::Config) error naming the field that is missing or wrong.
    pub fn new(spec: ProviderSpec, config: &IntegrationConfig, context: &BuildContext) -> Result<Self> {
        let descriptor = spec.descriptor()?;
        descriptor.config.validate(&descriptor.provider, &config.settings, &config.secrets)?;
        Self::for_adapter(spec, descriptor, config, context)
    }

    /// [`new`](Self::new) for a typed adapter built on its spec: `descriptor` is the adapter's
    /// (its HTTP policy is used), and `config` has already passed the adapter's schema, which
    /// holds the spec's fields and the adapter's own.
    ///
    /// # Errors
    /// As [`new`](Self::new).
    pub fn for_adapter(
        spec: impl Into<Arc<ProviderSpec>>,
        descriptor: Descriptor,
        config: &IntegrationConfig,
        context: &BuildContext,
    ) -> Result<Self> {
        // A catalog spec is shared by every connection to its provider, not copied into each.
        let spec: Arc<ProviderSpec> = spec.into();
        let provider = spec.id.clone();
        let value = |key: &str| value_of(&spec, config, key);
        let base = url_of(&spec.base_url, configured_base(config)?.as_ref(), value, "base_url")
            .map_err(|e| e.with_provider(&provider))?;
        let http = if spec.mutual_tls {
            // Every call presents the certificate: a client (and connection pool) of the
            // connection's own.
            let http = HttpClient::builder().client_certificate(config, ClientCertificate::default())?.build()?;
            let policy = context.http_policy_for(&descriptor, config);
            http.provider_with(descriptor.provider.clone(), policy).for_tenant(config.tenant.clone())
        } else {
            context.provider_client(&descriptor, config)
        };
        let mut headers = Vec::new();
        for (name, text) in &spec.headers {
            headers.push((name.clone(), render(text, value)?));
        }
        let mut query = Vec::new();
        if let Some(version) = &spec.version {
            match version.location {
                Location::Header => headers.push((version.name.clone(), version.value.clone())),
                Location::Query => query.push((version.name.clone(), version.value.clone())),
            }
        }
        let (auth, tokens): (Option<Arc<dyn Authenticator>>, _) = match &spec.auth {
            Auth::None {} => (None, None),
            Auth::ApiKey { location: Location::Header, name, value: v } => {
                (Some(Arc::new(ApiKey::header(name, render(v, value)?)?)), None)
            }
            Auth::ApiKey { location: Location::Query, name, value: v } => {
                (Some(Arc::new(ApiKey::query(name.clone(), render(v, value)?))), None)
            }
            Auth::Basic { username, password } => {
                (Some(Arc::new(Basic::new(render(username, value)?, render(password, value)?))), None)
            }
            Auth::Bearer { token } => (Some(Arc::new(Bearer::new(render(token, value)?))), None),
            Auth::Oauth2 { .. } => {
                let tokens = context.token_manager(Arc::new(oauth_source(&spec, config, &http)?));
                (Some(tokens.authenticator(config.tenant.clone(), config.connection.clone())), Some(tokens))
            }
        };
        let client = match auth {
            Some(auth) => http.with_auth(auth),
            None => http,
        };
        let check = render_url(&spec.check.path, value)?;
        let connection = (config.tenant.clone(), config.connection.clone());
        Ok(Self {
            spec,
            descriptor: Arc::new(descriptor),
            base,
            client,
            headers,
            query,
            check,
            tokens,
            connection,
            audit: None,
        })
    }

    /// Records every passthrough request in `audit`: an `AuditAction::PassthroughRequest` event
    /// with the method, the path (never the query or a body) and the status, or the failure.
    #[must_use]
    pub fn with_audit(mut self, audit: Arc<dyn AuditSink>) -> Self {
        self.audit = Some(audit);
        self
    }

    /// The spec.
    pub fn spec(&self) -> &ProviderSpec {
        &self.spec
    }

    /// The descriptor built from the spec.
    pub fn descriptor(&self) -> &Descriptor {
        &self.descriptor
    }

    /// The API root requests are joined to.
    pub fn base_url(&self) -> &Url {
        &self.base
    }

    /// The provider id.
    pub fn provider(&self) -> &ProviderId {
        self.client.provider()
    }

    /// The authenticated client requests go through.
    pub fn provider_client(&self) -> &ProviderClient {
        &self.client
    }

    /// The token manager, for an OAuth2 spec (to revoke on disconnect).
    pub fn tokens(&self) -> Option<&Arc<TokenManager>> {
        self.tokens.as_ref()
    }

    /// Ends what this connection holds: for an OAuth2 spec, the tokens are revoked where the
    /// spec names a revocation endpoint and forgotten in any case; static credentials are the
    /// host's to delete, so nothing is done for them. A disconnect calls it.
    ///
    /// # Errors
    /// The revocation endpoint's refusal (the tokens are forgotten all the same).
    pub async fn revoke(&self) -> Result<()> {
        match &self.tokens {
            Some(tokens) => tokens.revoke(&self.connection.0, &self.connection.1).await.map(drop),
            None => Ok(()),
        }
    }

    /// The URL of `path`: joined to the base URL, or an absolute URL on the base URL's origin.
    ///
    /// # Errors
    /// A [`Validation`](crate::ErrorKind::Validation) error naming `path` for a URL on another
    /// origin (scheme, host, port) — credentials go nowhere else.
    pub fn url(&self, path: &str) -> Result<Url> {
        let url = if path.starts_with("http://") || path.starts_with("https://") || path.starts_with("//") {
            Url::parse(path).or_else(|_| self.base.join(path)).map_err(|e| {
                Error::validation("path", format!("not a URL: {e}")).with_provider(self.provider().as_str())
            })?
        } else {
            let base = self.base.as_str().trim_end_matches('/');
            let joined = format!("{base}/{}", path.trim_start_matches('/'));
            Url::parse(&joined).map_err(|e| {
                Error::validation("path", format!("not a path: {e}")).with_provider(self.provider().as_str())
            })?
        };
        if url.origin() != self.base.origin() {
            return Err(Error::validation(
                "path",
                format!(
                    "{} is not on {}'s API host; requests with its credentials go nowhere else",
                    url.origin().ascii_serialization(),
                    self.spec.name
                ),
            )
            .with_provider(self.provider().as_str()));
        }
        Ok(url)
    }

    /// A request of `method` on `path` with the spec's headers and version.
    ///
    /// # Errors
    /// As [`url`](Self::url).
    pub fn request(&self, method: Method, path: &str) -> Result<Request<'_>> {
        Ok(self.request_to(method, self.url(path)?))
    }

    /// A request of `method` on `path` followed by `ids`, each escaped as one path segment (an
    /// id from a provider or a caller never adds a path or a query): `request_at(GET,
    /// "/employees", &[id])`.
    ///
    /// # Errors
    /// As [`url`](Self::url).
    pub fn request_at(&self, method: Method, path: &str, ids: &[&str]) -> Result<Request<'_>> {
        let url = join_path(&self.url(path)?, "", ids);
        Ok(self.request_to(method, url))
    }

    /// A request of `method` to `url` (already checked by [`url`](Self::url)) with the spec's
    /// headers and version.
    fn request_to(&self, method: Method, url: Url) -> Request<'_> {
        let mut request = self.client.request(method, url).query(&self.query);
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        request
    }

    /// The spec's credential check.
    ///
    /// # Errors
    /// The provider's answer as an error (an auth error for bad credentials).
    pub async fn check(&self) -> Result<()> {
        let method = Method::from_bytes(self.spec.check.method.as_bytes()).unwrap_or(Method::GET);
        self.request(method, &self.check)?.read_only().operation("check").send().await.map(drop)
    }

    /// Sends `request` through the provider's policies — credentials injected (OAuth2: renewed
    /// once and the request retried once on a 401), retries, rate limit, circuit breaker, a span
    /// without secrets — and returns the answer as it came, whatever its status. Only `GET`,
    /// `HEAD` and `OPTIONS` are retried after they may have reached the provider.
    ///
    /// # Errors
    /// A [`Validation`](crate::ErrorKind::Validation) error before sending for a URL on another
    /// origin or a credential header; a transport failure after the retries.
    pub async fn passthrough(&self, request: Passthrough) -> Result<PassthroughResponse> {
        if request.headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("authorization")) {
            return Err(Error::validation("headers", "credentials are the connection's: no Authorization header")
                .with_provider(self.provider().as_str()));
        }
        let safe = matches!(request.method, Method::GET | Method::HEAD | Method::OPTIONS);
        let url = self.url(&request.path)?;
        let what = format!("{} {}", request.method, url.path());
        let mut sent = self.request_to(request.method, url).query(&request.query).accept_any_status();
        for (name, value) in &request.headers {
            sent = sent.header(name, value);
        }
        if let Some((body, content_type)) = request.body {
            sent = sent.body(body, &content_type);
        }
        if safe {
            sent = sent.read_only();
        }
        let answer = sent.operation("passthrough").send().await;
        if let Some(audit) = &self.audit {
            let (tenant, connection) = self.connection.clone();
            let event = AuditEvent::new(tenant, AuditAction::PassthroughRequest)
                .connection(connection)
                .provider(self.provider().clone());
            let event = match &answer {
                Ok(answer) => event.detail(format!("{what} → {}", answer.status().as_u16())),
                Err(error) => event.detail(what).failed(error.kind().as_str()),
            };
            if let Err(e) = audit.audit(event).await {
                tracing::warn!(error = %e, "a passthrough request could not be audited");
            }
        }
        let answer = answer?;
        Ok(PassthroughResponse {
            status: answer.status(),
            headers: answer.headers().clone(),
            body: answer.bytes().clone(),
        })
    }

    /// One page of the resource at `path`, from `at` (what the previous page's
    /// [`SpecPage::next`] said; `None` for the first), of up to `size` records (the spec's
    /// maximum otherwise).
    ///
    /// # Errors
    /// The provider's error; an [`InvalidResponse`](crate::ErrorKind::InvalidResponse) error
    /// when the answer has no records where the spec says.
    pub async fn page(&self, path: &str, at: Option<&str>, size: Option<u32>) -> Result<SpecPage> {
        self.page_with(path, at, size, &[], None).await
    }

    /// The first page of the changes since `delta` — what a [`SpecPage::delta`] said at the
    /// end of an earlier pass: a delta link (Graph's `@odata.deltaLink`) is followed on the
    /// provider's origin, a sync token is sent back as the spec's `sync_param` (Google's
    /// `syncToken`). Later pages go through [`page`](Self::page) with each page's `next`, and
    /// the last one's `delta` is where the next pass starts.
    ///
    /// # Errors
    /// A [`Config`](crate::ErrorKind::Config) error for a spec without delta paging; then as
    /// [`page`](Self::page).
    pub async fn changes(&self, path: &str, delta: &str, size: Option<u32>) -> Result<SpecPage> {
        let p = &self.spec.pagination;
        if p.style != Paging::Delta {
            return Err(Error::config(format!("{} does not page by delta tokens", self.spec.name))
                .with_field("pagination.style")
                .with_provider(self.provider().as_str()));
        }
        if delta.contains("://") {
            return self.page(path, Some(delta), size).await;
        }
        let param = p.sync_param.clone().unwrap_or_default();
        self.page_with(path, None, size, &[(param, delta.to_owned())], None).await
    }

    /// [`page`](Self::page) with extra query parameters (a change listing's `updated_since`),
    /// and the records at `records` instead of the spec's pointer.
    ///
    /// # Errors
    /// As [`page`](Self::page).
    pub async fn page_with(
        &self,
        path: &str,
        at: Option<&str>,
        size: Option<u32>,
        query: &[(String, String)],
        records: Option<&str>,
    ) -> Result<SpecPage> {
        let p = &self.spec.pagination;
        let limit = size.unwrap_or(u32::MAX).min(p.max_limit.unwrap_or(u32::MAX)).max(1).to_string();
        let follows_links = matches!(p.style, Paging::LinkHeader | Paging::Odata | Paging::Delta);
        let mut request = match at {
            Some(next) if follows_links && next.contains("://") => self.request(Method::GET, next)?,
            _ => self.request(Method::GET, path)?,
        };
        let is_link = at.is_some_and(|n| follows_links && n.contains("://"));
        if let Some(param) = &p.limit_param
            && !is_link
            && p.style != Paging::None
        {
            request = request.query(&[(param.as_str(), limit.as_str())]);
        }
        // A preference holds for every page of a round, links included.
        if let Some(preference) = &p.limit_prefer
            && p.style != Paging::None
        {
            request = request.header("Prefer", &format!("{preference}={limit}"));
        }
        let number = |at: Option<&str>| match at {
            Some(text) if !is_link => text.parse::<u64>().map(Some).map_err(|_| {
                Error::validation("cursor", format!("{text:?} is not where a page of {path} starts (a number)"))
                    .with_provider(self.provider().as_str())
            }),
            _ => Ok(None),
        };
        let (offset, page_number) = match p.style {
            Paging::Offset => (number(at)?, None),
            Paging::Page | Paging::LinkHeader => (None, number(at)?.map(|n| u32::try_from(n).unwrap_or(u32::MAX))),
            _ => (None, None),
        };
        match (p.style, at) {
            (Paging::Cursor | Paging::Delta, Some(cursor)) if !is_link => {
                if let Some(param) = &p.cursor_param {
                    request = request.query(&[(param.as_str(), cursor)]);
                }
            }
            (Paging::Offset, _) => {
                if let Some(param) = &p.offset_param {
                    request = request.query(&[(param.as_str(), offset.unwrap_or(0).to_string())]);
                }
            }
            (Paging::Page | Paging::LinkHeader, _) if !is_link => {
                if let Some(param) = &p.page_param {
                    let first = p.first_page.unwrap_or(1);
                    request = request.query(&[(param.as_str(), page_number.unwrap_or(first).to_string())]);
                }
            }
            _ => {}
        }
        if !is_link {
            request = request.query(query);
        }
        // An answer whose JSON does not parse is asked for again (a listing is safe to repeat).
        let read = |answer: crate::http::Response| {
            if answer.status() == StatusCode::NO_CONTENT {
                return Ok(None);
            }
            let link = crate::pagination::next_link(answer.headers())?.map(String::from);
            Ok(Some((link, answer.json::<Value>()?)))
        };
        let Some((link, body)) = request.read_only().path_template(path.to_owned()).send_with(read).await? else {
            // Nothing (more) to list: ADP ends its listings so.
            return Ok(SpecPage::default());
        };
        let at_records = records.or(p.records.as_deref());
        let records = match at_records {
            None | Some("") => body.as_array().cloned(),
            Some(pointer) => body.pointer(pointer).and_then(Value::as_array).cloned(),
        }
        .ok_or_else(|| {
            Error::invalid_response(format!("the answer has no list of records at {:?}", at_records.unwrap_or("")))
                .with_provider(self.provider().as_str())
        })?;
        let text = |pointer: &Option<String>| {
            pointer.as_deref().and_then(|ptr| body.pointer(ptr)).and_then(|v| match v {
                Value::String(s) if !s.is_empty() => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
        };
        let more = p.has_more.as_deref().and_then(|ptr| body.pointer(ptr)).and_then(Value::as_bool);
        let next = match p.style {
            Paging::None => None,
            Paging::Cursor => match &p.cursor_field {
                Some(field) if more != Some(false) && !records.is_empty() => {
                    records.last().and_then(|r| r.pointer(field).map(text_of))
                }
                Some(_) => None,
                None => text(&p.next_cursor),
            },
            Paging::Offset => {
                let next = offset.unwrap_or(0).saturating_add(records.len() as u64);
                let total = p.total.as_deref().and_then(|ptr| body.pointer(ptr)).and_then(Value::as_u64);
                if let Some(total) = total.filter(|t| *t > MAX_PLAUSIBLE_TOTAL) {
                    let message = format!(
                        "{} reported a total of {total} records for {path}: no tenant holds that many",
                        self.spec.name
                    );
                    return Err(Error::invalid_response(message).with_provider(self.provider().as_str()));
                }
                let full = records.len().to_string() == limit;
                // An empty page ends the listing whatever the total says: a server that
                // miscounts cannot keep it asking for the same offset.
                let more = !records.is_empty() && total.map_or(full, |t| next < t);
                more.then(|| next.to_string())
            }
            Paging::Page => {
                let current = page_number.unwrap_or(p.first_page.unwrap_or(1));
                let full = records.len().to_string() == limit;
                (more.unwrap_or(full) && !records.is_empty()).then(|| current.saturating_add(1).to_string())
            }
            Paging::LinkHeader => link,
            Paging::Odata => text(&p.next_link),
            Paging::Delta => text(&p.next_link).or_else(|| text(&p.next_cursor)),
        };
        let delta = if p.style == Paging::Delta && next.is_none() {
            text(&p.delta_link).or_else(|| text(&p.sync_token))
        } else {
            None
        };
        if let Some(next) = next.as_deref()
            && next.contains("://")
        {
            // A next link is followed only on the provider's origin.
            self.url(next)?;
        }
        Ok(SpecPage { records, next, delta })
    }
}

/// The token endpoint: `token_url` rendered, its origin the `auth_base_url` setting's; else,
/// when the spec puts the token endpoint on the API's own host, the configured `base_url`'s
/// (where the connection's credentials already go); else the spec's own — a configured
/// `base_url` alone never sends the client secret to another host than the spec names.
fn token_url_of(spec: &ProviderSpec, token_url: &str, config: &IntegrationConfig) -> Result<Url> {
    let origin = match config.settings.get(schema::AUTH_BASE_URL) {
        Some(_) => Some(config.setting_url(schema::AUTH_BASE_URL, None)?),
        None if split_origin(token_url).0 == split_origin(&spec.base_url).0 => configured_base(config)?,
        None => None,
    };
    url_of(token_url, origin.as_ref(), |key| value_of(spec, config, key), "auth.token_url")
}

/// The OAuth2 token source a spec's grants and the configuration give.
fn oauth_source(spec: &ProviderSpec, config: &IntegrationConfig, http: &ProviderClient) -> Result<OAuth2Source> {
    let Auth::Oauth2 { grants, scopes, .. } = &spec.auth else {
        return Err(Error::config("not an OAuth2 spec"));
    };
    let client = oauth_client(spec, config, http)?;
    let scopes: Vec<&str> = scopes.iter().map(String::as_str).collect();
    Ok(match config.secrets.get("refresh_token") {
        Some(refresh) if grants.contains(&Grant::RefreshToken) => {
            OAuth2Source::configured_refresh_token(client, refresh.clone())
        }
        _ if grants.contains(&Grant::ClientCredentials) => OAuth2Source::client_credentials(client, &scopes),
        _ => OAuth2Source::refresh_token(client),
    })
}

impl ProviderSpec {
    /// The OAuth2 client of a connection through this spec: its endpoints (the authorization
    /// endpoint from the `authorization_url` setting when set, the token endpoint's origin from
    /// `auth_base_url`), `client_id` (a setting or a secret) and `client_secret`, how the client
    /// authenticates and the spec's extra token parameters. What a connect flow sends a person
    /// to ([`OAuth2Client::authorization_url`]) and exchanges the code with.
    ///
    /// # Errors
    /// A [`Config`](crate::ErrorKind::Config) error when the spec is not OAuth2 or the
    /// configuration lacks the client's credentials.
    pub fn oauth_client(&self, config: &IntegrationConfig, http: &ProviderClient) -> Result<OAuth2Client> {
        oauth_client(self, config, http)
    }

    /// The extra parameters the provider's authorization request needs (Google's
    /// `access_type=offline`), rendered for `config`; none for a spec that is not OAuth2.
    ///
    /// # Errors
    /// A [`Config`](crate::ErrorKind::Config) error when a template names a missing setting.
    pub fn authorization_params(&self, config: &IntegrationConfig) -> Result<Vec<(String, String)>> {
        let Auth::Oauth2 { authorization_params, .. } = &self.auth else {
            return Ok(Vec::new());
        };
        let value = |key: &str| value_of(self, config, key);
        authorization_params.iter().map(|(name, text)| Ok((name.clone(), render(text, value)?))).collect()
    }
}

/// See [`ProviderSpec::oauth_client`].
fn oauth_client(spec: &ProviderSpec, config: &IntegrationConfig, http: &ProviderClient) -> Result<OAuth2Client> {
    let Auth::Oauth2 { token_url, authorization_url, revocation_url, client_auth, token_params, .. } = &spec.auth
    else {
        return Err(Error::config("not an OAuth2 spec"));
    };
    let value = |key: &str| value_of(spec, config, key);
    let token = token_url_of(spec, token_url, config)?;
    let authorization = match config.settings.get(AUTHORIZATION_URL).and_then(Value::as_str) {
        Some(url) => Some(Url::parse(url).map_err(|e| {
            Error::config(format!("setting {AUTHORIZATION_URL} is not a URL: {e}"))
                .with_field(format!("settings.{AUTHORIZATION_URL}"))
        })?),
        None => authorization_url.as_ref().map(|u| render_url(u, value)).transpose()?.and_then(|u| Url::parse(&u).ok()),
    };
    let mut endpoints = OAuth2Endpoints::new(authorization, token);
    if let Some(url) =
        revocation_url.as_ref().map(|u| render_url(u, value)).transpose()?.and_then(|u| Url::parse(&u).ok())
    {
        endpoints = endpoints.with_revocation(url);
    }
    // A client id is not secret: an adapter may take it as a setting.
    let id = match config.settings.get("client_id").and_then(Value::as_str) {
        Some(id) => id.to_owned(),
        None => config.secret("client_id")?.expose_secret().to_owned(),
    };
    let mut client = OAuth2Client::new(http.clone(), id, endpoints)
        .with_client_secret(config.secret("client_secret")?.expose_secret().to_owned());
    if *client_auth == ClientAuth::Body {
        client = client.with_credentials_in_body();
    }
    for (name, text) in token_params {
        client = client.with_token_param(name.clone(), render(text, value)?);
    }
    Ok(client)
}

/// The setting that points a connection's OAuth2 authorization endpoint elsewhere than its
/// spec's (a regional login host, a test fake).
pub const AUTHORIZATION_URL: &str = "authorization_url";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ConnectionId, TenantId};

    fn spec(base_url: &str, token_url: &str) -> ProviderSpec {
        let text = format!(
            "id = \"p\"\nname = \"P\"\ndomains = [\"other\"]\ndocs = \"https://p.example.com\"\nbase_url = \"{base_url}\"\n\
             [[settings]]\nkey = \"host\"\ndescription = \"h\"\n[[settings]]\nkey = \"tenant\"\ndescription = \"t\"\n\
             [auth]\nkind = \"oauth2\"\ngrants = [\"client_credentials\"]\ntoken_url = \"{token_url}\"\n[check]\npath = \"/\"\n"
        );
        ProviderSpec::parse(&text).expect("a spec")
    }

    fn config(settings: &[(&str, &str)]) -> IntegrationConfig {
        let mut config = IntegrationConfig::new(
            TenantId::new("acme").expect("tenant"),
            ConnectionId::new("c").expect("connection"),
            Domain::Other,
            ProviderId::new("p").expect("provider"),
        );
        for (key, value) in settings {
            config = config.with_setting(*key, *value);
        }
        config
    }

    #[test]
    fn the_token_endpoint_follows_a_configured_base_url_only_when_the_spec_puts_it_on_the_api_host() {
        let same = spec("https://{host}/api/{tenant}", "https://{host}/oauth/{tenant}/token");
        let fake = config(&[("base_url", "http://127.0.0.1:9"), ("tenant", "a/b")]);
        let url = token_url_of(&same, "https://{host}/oauth/{tenant}/token", &fake).expect("a URL");
        assert_eq!(url.as_str(), "http://127.0.0.1:9/oauth/a%2Fb/token", "the host is not needed, the tenant escaped");

        // Another host: the configured API host does not receive the client secret...
        let apart = spec("https://{host}/api", "https://auth.p.example.com/token");
        let moved = config(&[("base_url", "http://127.0.0.1:9"), ("host", "api.p.example.com")]);
        let url = token_url_of(&apart, "https://auth.p.example.com/token", &moved).expect("a URL");
        assert_eq!(url.as_str(), "https://auth.p.example.com/token");
        // ... unless `auth_base_url` says where the token endpoint is.
        let both = config(&[("base_url", "http://127.0.0.1:9"), ("auth_base_url", "http://127.0.0.1:8")]);
        let url = token_url_of(&apart, "https://auth.p.example.com/token", &both).expect("a URL");
        assert_eq!(url.as_str(), "http://127.0.0.1:8/token");

        // A host value cannot carry a path, a user or another host into the token URL.
        let hostile = config(&[("host", "evil.example.com/x?"), ("tenant", "t")]);
        assert!(token_url_of(&same, "https://{host}/oauth/{tenant}/token", &hostile).is_err());
        let hostile = config(&[("host", "p.example.com@evil.example.com"), ("tenant", "t")]);
        assert!(token_url_of(&same, "https://{host}/oauth/{tenant}/token", &hostile).is_err());
    }
}
