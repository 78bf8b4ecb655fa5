//! OAuth2 flows through the `oauth2` crate, its requests sent through our [`ProviderClient`]
//! (so token calls get the provider's timeouts, circuit breaker and tracing — and a refresh,
//! a POST without an idempotency key, is never repeated after it may have reached the provider,
//! since repeating a rotated refresh token would revoke the grant).

use std::future::Future;
use std::pin::Pin;

use async_trait::async_trait;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use oauth2::basic::{
    BasicErrorResponse, BasicErrorResponseType, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
};
use oauth2::{
    AccessToken, AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet,
    IntrospectionUrl, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError, Scope,
    StandardRevocableToken, TokenUrl,
};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use super::manager::TokenSource;
use super::token_set::{TokenResponse, TokenSet};
use crate::error::{Delivery, Error, ErrorKind, Result};
use crate::http::ProviderClient;
use crate::redact::Redactor;

type Client<HasAuthUrl> = oauth2::Client<
    BasicErrorResponse,
    TokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    HasAuthUrl,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// Where a provider's OAuth2 endpoints are.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OAuth2Endpoints {
    /// The authorization endpoint (for the authorization-code flow).
    pub authorization: Option<Url>,
    /// The token endpoint.
    pub token: Url,
    /// The token revocation endpoint (RFC 7009), if the provider has one.
    pub revocation: Option<Url>,
    /// The token introspection endpoint (RFC 7662), if the provider has one.
    pub introspection: Option<Url>,
}

impl OAuth2Endpoints {
    /// Endpoints from their URLs.
    pub fn new(authorization: Option<Url>, token: Url) -> Self {
        Self { authorization, token, revocation: None, introspection: None }
    }

    /// Sets the revocation endpoint (RFC 7009).
    #[must_use]
    pub fn with_revocation(mut self, url: Url) -> Self {
        self.revocation = Some(url);
        self
    }

    /// Sets the introspection endpoint (RFC 7662).
    #[must_use]
    pub fn with_introspection(mut self, url: Url) -> Self {
        self.introspection = Some(url);
        self
    }
}

/// Which kind of token is revoked or introspected: the `token_type_hint` sent with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenKind {
    /// An access token.
    Access,
    /// A refresh token (revoking one revokes its grant's access tokens too, RFC 7009 §2.1).
    Refresh,
}

impl TokenKind {
    fn hint(self) -> &'static str {
        match self {
            Self::Access => "access_token",
            Self::Refresh => "refresh_token",
        }
    }
}

/// What an introspection endpoint says of a token (RFC 7662 §2.2).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Introspection {
    /// Whether the token is active: issued by this provider, not expired, not revoked.
    pub active: bool,
    /// The scopes granted.
    pub scopes: Vec<String>,
    /// The client it was issued to.
    pub client_id: Option<String>,
    /// The user (resource owner) it was issued for, by name.
    pub username: Option<String>,
    /// The subject (`sub`).
    pub subject: Option<String>,
    /// When it expires.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was issued.
    pub issued_at: Option<DateTime<Utc>>,
}

/// The start of an authorization-code flow: send the user to `url`; keep `state` and
/// `pkce_verifier` (server-side, per user) for the callback.
#[derive(Debug)]
#[non_exhaustive]
pub struct AuthorizationRequest {
    /// Where to send the user.
    pub url: Url,
    /// The CSRF state the callback must return.
    pub state: String,
    /// The PKCE verifier the code exchange must send.
    pub pkce_verifier: SecretString,
}

impl AuthorizationRequest {
    /// Checks the `state` the callback returned, in constant time. A mismatch is a
    /// `Validation` error on field `state` (a forged or crossed callback).
    pub fn verify_state(&self, returned: &str) -> Result<()> {
        let (a, b) = (self.state.as_bytes(), returned.as_bytes());
        let same = a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0;
        if same {
            Ok(())
        } else {
            Err(Error::validation("state", "the callback's state does not match the authorization request's"))
        }
    }
}

/// An OAuth2 client of one provider: authorization URL with PKCE and state, code exchange,
/// client credentials, refresh.
///
/// ```no_run
/// use integration_core::auth::{OAuth2Client, OAuth2Endpoints};
/// use integration_core::http::{HttpClient, HttpPolicy};
/// use integration_core::ProviderId;
///
/// # async fn run() -> integration_core::Result<()> {
/// let http = HttpClient::new()?.provider_with(ProviderId::new("xero")?, HttpPolicy::standard());
/// let endpoints = OAuth2Endpoints::new(
///     Some("https://login.xero.com/identity/connect/authorize".parse().unwrap()),
///     "https://identity.xero.com/connect/token".parse().unwrap(),
/// );
/// let client = OAuth2Client::new(http, "client-id", endpoints)
///     .with_client_secret("client-secret")
///     .with_redirect_uri("https://app.example.com/oauth/callback".parse().unwrap());
/// let start = client.authorization_url(&["offline_access", "accounting.transactions"], &[])?;
/// // ... redirect the user to start.url; on the callback:
/// start.verify_state("state-from-callback")?;
/// let tokens = client.exchange_code("code-from-callback", &start.pkce_verifier).await?;
/// # drop(tokens); Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct OAuth2Client {
    http: ProviderClient,
    client_id: String,
    client_secret: Option<SecretString>,
    endpoints: OAuth2Endpoints,
    redirect_uri: Option<Url>,
    credentials_in_body: bool,
    token_params: Vec<(String, String)>,
}

impl OAuth2Client {
    /// A client `client_id` of the provider at `endpoints`, its calls sent through `http`.
    pub fn new(http: ProviderClient, client_id: impl Into<String>, endpoints: OAuth2Endpoints) -> Self {
        Self {
            http,
            client_id: client_id.into(),
            client_secret: None,
            endpoints,
            redirect_uri: None,
            credentials_in_body: false,
            token_params: Vec::new(),
        }
    }

    /// The client secret (confidential clients), sent with HTTP Basic unless
    /// [`OAuth2Client::with_credentials_in_body`].
    #[must_use]
    pub fn with_client_secret(mut self, secret: impl Into<String>) -> Self {
        self.client_secret = Some(SecretString::from(secret.into()));
        self
    }

    /// The redirect URI registered with the provider.
    #[must_use]
    pub fn with_redirect_uri(mut self, uri: Url) -> Self {
        self.redirect_uri = Some(uri);
        self
    }

    /// Sends the client id and secret in the token request's body (`client_secret_post`).
    #[must_use]
    pub fn with_credentials_in_body(mut self) -> Self {
        self.credentials_in_body = true;
        self
    }

    /// A parameter added to every token request (`resource`, `audience`).
    #[must_use]
    pub fn with_token_param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.token_params.push((name.into(), value.into()));
        self
    }

    /// Every form of the credentials a token request of this client carries: the client secret
    /// (also as `base64(client_id:client_secret)`, raw and form-encoded per RFC 6749 §2.3.1) and
    /// `also` (the refresh token, code, verifier or token sent).
    fn redactor(&self, also: &[&SecretString]) -> Redactor {
        let mut redactor = Redactor::new();
        if let Some(secret) = &self.client_secret {
            redactor.add_basic(&self.client_id, secret.expose_secret());
        }
        for secret in also {
            redactor.add_secret(secret.expose_secret());
        }
        redactor
    }

    fn client(&self) -> Client<EndpointNotSet> {
        let mut client = oauth2::Client::new(ClientId::new(self.client_id.clone()))
            .set_token_uri(TokenUrl::from_url(self.endpoints.token.clone()))
            .set_auth_type(if self.credentials_in_body { AuthType::RequestBody } else { AuthType::BasicAuth });
        if let Some(secret) = &self.client_secret {
            client = client.set_client_secret(ClientSecret::new(secret.expose_secret().to_owned()));
        }
        if let Some(uri) = &self.redirect_uri {
            client = client.set_redirect_uri(RedirectUrl::from_url(uri.clone()));
        }
        client
    }

    /// The URL to send a user to, with a fresh state and a PKCE (S256) challenge. `extra`
    /// parameters are added as they are (`prompt=consent`, `access_type=offline`).
    pub fn authorization_url(&self, scopes: &[&str], extra: &[(&str, &str)]) -> Result<AuthorizationRequest> {
        let Some(authorization) = &self.endpoints.authorization else {
            return Err(Error::config("this provider has no authorization endpoint configured")
                .with_provider(self.http.provider().as_str()));
        };
        if self.redirect_uri.is_none() {
            return Err(Error::validation("redirect_uri", "the authorization-code flow needs a redirect URI")
                .with_provider(self.http.provider().as_str()));
        }
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let client = self.client().set_auth_uri(AuthUrl::from_url(authorization.clone()));
        let mut request = client
            .authorize_url(CsrfToken::new_random)
            .add_scopes(scopes.iter().map(|s| Scope::new((*s).to_owned())))
            .set_pkce_challenge(challenge);
        for (name, value) in extra {
            request = request.add_extra_param(*name, *value);
        }
        let (url, state) = request.url();
        Ok(AuthorizationRequest {
            url,
            state: state.secret().clone(),
            pkce_verifier: SecretString::from(verifier.secret().clone()),
        })
    }

    /// Exchanges the callback's `code` (with the request's PKCE verifier) for tokens.
    pub async fn exchange_code(&self, code: &str, pkce_verifier: &SecretString) -> Result<TokenSet> {
        let client = self.client();
        let mut request = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.expose_secret().to_owned()));
        for (name, value) in &self.token_params {
            request = request.add_extra_param(name.clone(), value.clone());
        }
        let now = Utc::now();
        let response = request.request_async(&OAuth2Http { client: self, operation: "oauth2.exchange_code" }).await;
        let code = SecretString::from(code.to_owned());
        self.finish(response, Grant::AuthorizationCode, now)
            .map_err(|e| e.redact_with(&self.redactor(&[&code, pkce_verifier])))
    }

    /// A token for the client itself (the client-credentials grant).
    pub async fn client_credentials(&self, scopes: &[&str]) -> Result<TokenSet> {
        self.client_credentials_at(scopes, Utc::now()).await
    }

    async fn client_credentials_at(&self, scopes: &[impl AsRef<str>], now: DateTime<Utc>) -> Result<TokenSet> {
        let client = self.client();
        let mut request =
            client.exchange_client_credentials().add_scopes(scopes.iter().map(|s| Scope::new(s.as_ref().to_owned())));
        for (name, value) in &self.token_params {
            request = request.add_extra_param(name.clone(), value.clone());
        }
        let response =
            request.request_async(&OAuth2Http { client: self, operation: "oauth2.client_credentials" }).await;
        self.finish(response, Grant::ClientCredentials, now).map_err(|e| e.redact_with(&self.redactor(&[])))
    }

    /// New tokens from a refresh token. The provider may rotate the refresh token: store the
    /// result before using it (the [`TokenManager`](super::TokenManager) does).
    pub async fn refresh(&self, refresh_token: &SecretString) -> Result<TokenSet> {
        self.refresh_at(refresh_token, Utc::now()).await
    }

    async fn refresh_at(&self, refresh_token: &SecretString, now: DateTime<Utc>) -> Result<TokenSet> {
        let client = self.client();
        let token = RefreshToken::new(refresh_token.expose_secret().to_owned());
        let mut request = client.exchange_refresh_token(&token);
        for (name, value) in &self.token_params {
            request = request.add_extra_param(name.clone(), value.clone());
        }
        let response = request.request_async(&OAuth2Http { client: self, operation: "oauth2.refresh" }).await;
        self.finish(response, Grant::RefreshToken, now).map_err(|e| e.redact_with(&self.redactor(&[refresh_token])))
    }

    /// Revokes `token` at the provider's revocation endpoint (RFC 7009): a form `POST` of the
    /// token and its `token_type_hint`, with the client's authentication. Revoking a refresh
    /// token revokes the access tokens of its grant too. A token the provider no longer knows
    /// counts as revoked (the RFC answers `200` for it); a provider without a revocation
    /// endpoint is an `Unsupported` error. The endpoint must be `https` (or on loopback, for
    /// tests): the token travels in the body.
    pub async fn revoke(&self, token: &SecretString, kind: TokenKind) -> Result<()> {
        let provider = self.http.provider().as_str();
        let Some(url) = &self.endpoints.revocation else {
            return Err(
                Error::unsupported("token revocation (no revocation endpoint is configured)").with_provider(provider)
            );
        };
        let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
        if url.scheme() != "https" && !loopback {
            return Err(Error::config(format!(
                "the revocation endpoint {url} is not https; it would send the token in clear"
            ))
            .with_provider(provider)
            .with_field("revocation"));
        }
        let mut form = vec![("token", token.expose_secret().to_owned()), ("token_type_hint", kind.hint().to_owned())];
        let mut request = self.http.post(url.as_str()).operation("oauth2.revoke");
        match &self.client_secret {
            Some(secret) if !self.credentials_in_body => {
                // RFC 6749 §2.3.1: both parts form-encoded, then Basic.
                let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
                let pair = format!("{}:{}", encode(&self.client_id), encode(secret.expose_secret()));
                let value = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair));
                request = request.header("Authorization", &value);
            }
            Some(secret) => {
                form.push(("client_id", self.client_id.clone()));
                form.push(("client_secret", secret.expose_secret().to_owned()));
            }
            None => form.push(("client_id", self.client_id.clone())),
        }
        // Revoking twice leaves the token revoked: safe to repeat.
        let result = request.form(&form).idempotent().accept_client_errors().send().await;
        let response = result.map_err(|e| e.redact_with(&self.redactor(&[token])))?;
        if response.status().is_success() {
            return Ok(());
        }
        let body = response.redactor().scrub_bytes(response.bytes()).into_owned();
        let code = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned));
        let kind = match code.as_deref() {
            Some("unsupported_token_type") => ErrorKind::Unsupported,
            Some("invalid_client" | "unauthorized_client") => ErrorKind::AuthInvalid,
            _ => ErrorKind::Provider,
        };
        let mut error =
            Error::new(kind, format!("the revocation endpoint refused the request ({})", response.status()))
                .with_status(response.status().as_u16())
                .with_body(&body)
                .with_provider(provider)
                .with_operation("oauth2.revoke");
        if let Some(code) = code {
            error = error.with_code(code);
        }
        Err(error.redact_with(&self.redactor(&[token])))
    }

    /// Asks the provider's introspection endpoint (RFC 7662) whether `token` is active, and
    /// what it grants. A provider without an introspection endpoint is an `Unsupported` error.
    pub async fn introspect(&self, token: &SecretString, kind: TokenKind) -> Result<Introspection> {
        use oauth2::TokenIntrospectionResponse as _;
        let Some(url) = &self.endpoints.introspection else {
            return Err(Error::unsupported("token introspection (no introspection endpoint is configured)")
                .with_provider(self.http.provider().as_str()));
        };
        let client = self.client().set_introspection_url(IntrospectionUrl::from_url(url.clone()));
        let access = AccessToken::new(token.expose_secret().to_owned());
        let request = client.introspect(&access).set_token_type_hint(kind.hint());
        let response = request.request_async(&OAuth2Http { client: self, operation: "oauth2.introspect" }).await;
        let response = response.map_err(|e| {
            oauth_error(e, "the introspection endpoint refused the request")
                .with_provider(self.http.provider().as_str())
                .with_operation("oauth2.introspect")
                .redact_with(&self.redactor(&[token]))
        })?;
        Ok(Introspection {
            active: response.active(),
            scopes: response.scopes().map(|s| s.iter().map(|s| s.to_string()).collect()).unwrap_or_default(),
            client_id: response.client_id().map(|c| c.to_string()),
            username: response.username().map(str::to_owned),
            subject: response.sub().map(str::to_owned),
            expires_at: response.exp(),
            issued_at: response.iat(),
        })
    }

    /// Sends one of the `oauth2` crate's requests through the provider's client.
    async fn send(&self, request: oauth2::HttpRequest, operation: &'static str) -> Result<oauth2::HttpResponse> {
        let (parts, body) = request.into_parts();
        // A 4xx answer is the protocol's own error (invalid_grant...), read by the oauth2 crate;
        // a 5xx, a 429 or a transport failure stays our error, with its status and retryability.
        let mut outgoing =
            self.http.request(parts.method, parts.uri.to_string()).operation(operation).accept_client_errors();
        // Asking again for a client-credentials token only issues another token, so that POST is
        // retried like a GET. A refresh is not: the provider may have rotated the refresh token.
        if operation == Grant::ClientCredentials.operation() {
            outgoing = outgoing.idempotent();
        }
        for (name, value) in &parts.headers {
            if name != http::header::CONTENT_TYPE {
                outgoing = outgoing.header(name.as_str(), value.to_str().unwrap_or_default());
            }
        }
        let content_type = parts
            .headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/x-www-form-urlencoded")
            .to_owned();
        // A success whose body is not JSON is a glitch, not an answer: asked for again where
        // that is safe (client credentials), reported as an unparsable answer otherwise.
        let response = outgoing
            .body(body, &content_type)
            .send_with(|response| {
                let unparsable = response.status().is_success()
                    && serde_json::from_slice::<serde::de::IgnoredAny>(response.bytes()).is_err();
                if unparsable {
                    return Err(Error::invalid_response("the token endpoint's answer is not JSON")
                        .with_status(response.status().as_u16()));
                }
                Ok(response)
            })
            .await?;
        let mut builder = http::Response::builder().status(response.status());
        for (name, value) in response.headers() {
            builder = builder.header(name, value);
        }
        // An error body may echo the request (the refresh token, the client's Basic
        // credentials): scrubbed before the oauth2 crate keeps any of it. Never a success body,
        // which may rightly return the refresh token it was sent.
        let body = if response.status().is_success() {
            response.bytes().to_vec()
        } else {
            response.redactor().scrub_bytes(response.bytes()).into_owned()
        };
        builder.body(body).map_err(|e| Error::invalid_response(format!("unreadable token response: {e}")))
    }

    fn finish(
        &self,
        response: std::result::Result<TokenResponse, RequestTokenError<Error, BasicErrorResponse>>,
        grant: Grant,
        now: DateTime<Utc>,
    ) -> Result<TokenSet> {
        let provider = self.http.provider().as_str();
        match response {
            Ok(response) => Ok(TokenSet::from_response(&response, now)),
            Err(e) => Err(token_error(e, grant).with_provider(provider).with_operation(grant.operation())),
        }
    }
}

/// The `oauth2` crate's HTTP calls (and those of crates built on it, such as `openidconnect`),
/// sent through an [`OAuth2Client`]'s provider client: its retries, rate limit, breaker and
/// spans; 4xx answers handed back for the protocol to read; error bodies scrubbed of the
/// credentials sent. Made by [`OAuth2Client::http`].
#[derive(Debug, Clone, Copy)]
pub struct OAuth2Http<'a> {
    client: &'a OAuth2Client,
    operation: &'static str,
}

impl OAuth2Client {
    /// An `oauth2::AsyncHttpClient` over this client's provider client, its requests named
    /// `operation` in spans and errors (`oidc.discovery`, `oidc.exchange_code`).
    pub fn http(&self, operation: &'static str) -> OAuth2Http<'_> {
        OAuth2Http { client: self, operation }
    }
}

impl<'c> oauth2::AsyncHttpClient<'c> for OAuth2Http<'_> {
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<oauth2::HttpResponse>> + Send + 'c>>;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(self.client.send(request, self.operation))
    }
}

/// Which grant a token request was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Grant {
    AuthorizationCode,
    ClientCredentials,
    RefreshToken,
    JwtBearer,
}

impl Grant {
    pub(crate) const fn operation(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "oauth2.exchange_code",
            Self::ClientCredentials => "oauth2.client_credentials",
            Self::RefreshToken => "oauth2.refresh",
            Self::JwtBearer => "oauth2.jwt_bearer",
        }
    }
}

/// A token endpoint's refusal as an [`Error`]: `invalid_grant` on a refresh means the grant is
/// revoked (the connection needs a new authorization); on other grants, that the code or
/// assertion was refused.
pub(crate) fn token_error(error: RequestTokenError<Error, BasicErrorResponse>, grant: Grant) -> Error {
    match error {
        RequestTokenError::Request(e) => e,
        RequestTokenError::ServerResponse(response) => {
            let code = response.error().as_ref().to_owned();
            let kind = match response.error() {
                BasicErrorResponseType::InvalidGrant if grant == Grant::RefreshToken => ErrorKind::AuthRevoked,
                BasicErrorResponseType::InvalidGrant
                | BasicErrorResponseType::InvalidClient
                | BasicErrorResponseType::UnauthorizedClient => ErrorKind::AuthInvalid,
                BasicErrorResponseType::InvalidScope => ErrorKind::Forbidden,
                BasicErrorResponseType::InvalidRequest | BasicErrorResponseType::UnsupportedGrantType => {
                    ErrorKind::Config
                }
                BasicErrorResponseType::Extension(_) => ErrorKind::Provider,
            };
            let description = response.error_description().map(|d| format!(" ({d})")).unwrap_or_default();
            let message = match kind {
                ErrorKind::AuthRevoked => format!(
                    "the provider refused the refresh token{description}: the connection must be authorized again"
                ),
                _ => format!("the token endpoint refused the request: {code}{description}"),
            };
            Error::new(kind, message).with_code(code).with_delivery(Delivery::Responded)
        }
        RequestTokenError::Parse(e, body) => {
            Error::invalid_response(format!("the token response is not a standard OAuth2 response: {e}"))
                .with_body(&body)
                .with_delivery(Delivery::Responded)
        }
        RequestTokenError::Other(message) => {
            Error::new(ErrorKind::Provider, message).with_delivery(Delivery::Responded)
        }
    }
}

/// A revocation or introspection endpoint's refusal as an [`Error`].
fn oauth_error<T: oauth2::ErrorResponse + 'static>(error: RequestTokenError<Error, T>, what: &str) -> Error {
    match error {
        RequestTokenError::Request(e) => e,
        RequestTokenError::ServerResponse(response) => {
            let text = response.to_string();
            let kind =
                if text.starts_with("unsupported_token_type") { ErrorKind::Unsupported } else { ErrorKind::Provider };
            Error::new(kind, format!("{what}: {text}")).with_delivery(Delivery::Responded)
        }
        RequestTokenError::Parse(e, body) => {
            Error::invalid_response(format!("{what}: the answer is not a standard OAuth2 response: {e}"))
                .with_body(&body)
                .with_delivery(Delivery::Responded)
        }
        RequestTokenError::Other(message) => {
            Error::new(ErrorKind::Provider, message).with_delivery(Delivery::Responded)
        }
    }
}

/// A [`TokenSource`] from an [`OAuth2Client`]: the refresh-token grant (starting from a stored
/// token set, or from a refresh token in the connection's configuration), or the
/// client-credentials grant for machine-to-machine connections.
#[derive(Debug, Clone)]
pub struct OAuth2Source {
    client: OAuth2Client,
    grant: SourceGrant,
}

#[derive(Debug, Clone)]
enum SourceGrant {
    RefreshToken,
    ConfiguredRefreshToken(SecretString),
    ClientCredentials(Vec<String>),
}

impl OAuth2Source {
    /// Renews tokens with the refresh token of the stored token set.
    pub fn refresh_token(client: OAuth2Client) -> Self {
        Self { client, grant: SourceGrant::RefreshToken }
    }

    /// Renews tokens with a refresh token from the connection's configuration (an API client's
    /// long-lived token pasted by an administrator, as Workday issues them), used until the
    /// provider rotates it. A token set the provider returns without a refresh token keeps the
    /// configured one; a stored, rotated one the provider refuses (`invalid_grant`) gives way to
    /// the configured one, which a re-authorization replaces.
    pub fn configured_refresh_token(client: OAuth2Client, refresh_token: SecretString) -> Self {
        Self { client, grant: SourceGrant::ConfiguredRefreshToken(refresh_token) }
    }

    /// Obtains tokens with the client-credentials grant, for `scopes`.
    pub fn client_credentials(client: OAuth2Client, scopes: &[&str]) -> Self {
        Self { client, grant: SourceGrant::ClientCredentials(scopes.iter().map(|s| (*s).to_owned()).collect()) }
    }

    async fn refresh_keeping(&self, refresh_token: &SecretString, now: DateTime<Utc>) -> Result<TokenSet> {
        let mut token = self.client.refresh_at(refresh_token, now).await?;
        token.refresh_token = token.refresh_token.or_else(|| Some(refresh_token.clone()));
        Ok(token)
    }
}

#[async_trait]
impl TokenSource for OAuth2Source {
    /// Revokes the refresh token (and with it the grant's access tokens) or, for a grant
    /// without one, the access token — when the provider has a revocation endpoint. A
    /// configured refresh token (an administrator's) is not revoked: disconnecting one
    /// connection must not end the API client's own grant.
    async fn revoke(&self, token: &TokenSet) -> Result<bool> {
        if self.client.endpoints.revocation.is_none() {
            return Ok(false);
        }
        let configured = match &self.grant {
            SourceGrant::ConfiguredRefreshToken(configured) => Some(configured.expose_secret()),
            _ => None,
        };
        match token.refresh_token.as_ref().filter(|t| Some(t.expose_secret()) != configured) {
            Some(refresh) => self.client.revoke(refresh, TokenKind::Refresh).await?,
            None => self.client.revoke(&token.access_token, TokenKind::Access).await?,
        }
        Ok(true)
    }

    async fn fetch(&self, current: Option<&TokenSet>, now: DateTime<Utc>) -> Result<TokenSet> {
        let stored = current.and_then(|c| c.refresh_token.as_ref());
        match &self.grant {
            SourceGrant::ClientCredentials(scopes) => self.client.client_credentials_at(scopes, now).await,
            SourceGrant::RefreshToken => match stored {
                Some(refresh_token) => self.client.refresh_at(refresh_token, now).await,
                None => Err(Error::new(
                    ErrorKind::AuthExpired,
                    "the access token expired and there is no refresh token: the connection must be authorized again",
                )
                .with_provider(self.client.http.provider().as_str())),
            },
            SourceGrant::ConfiguredRefreshToken(configured) => {
                if let Some(stored) = stored.filter(|s| s.expose_secret() != configured.expose_secret()) {
                    match self.refresh_keeping(stored, now).await {
                        Err(e) if e.kind() == ErrorKind::AuthRevoked => {}
                        other => return other,
                    }
                }
                self.refresh_keeping(configured, now).await
            }
        }
    }
}
