//! OpenID Connect login for the host's users (the relying party), on the `openidconnect` crate,
//! every request through the core HTTP client (retries, rate limit, breaker, spans):
//! discovery, the authorization-code flow with PKCE, `state` and `nonce`, the ID token checked —
//! its signature against the provider's JWKS (fetched again once when a token names a key it
//! does not hold: a rotation), issuer, audience, expiry, nonce —, userinfo, and RP-initiated
//! logout. Each identity provider of a tenant is one [`OidcLogin`].
//!
//! A refused login says why ([`OidcRefusal`]): the host shows the user a retry, not a panic.
//!
//! ```no_run
//! # async fn demo(http: integration_core::http::ProviderClient) -> integration_core::Result<()> {
//! use integration_sso::oidc::{OidcConfig, OidcLogin};
//!
//! let login = OidcLogin::discover(http, OidcConfig::new("https://acme.okta.com", "client-id", "https://app.example.com/callback")
//!     .with_client_secret("…")).await?;
//! let (url, pending) = login.begin()?;      // redirect the browser to `url`; keep `pending` for its session
//! # let callback = std::collections::BTreeMap::new();
//! // …the browser comes back to the callback with ?code=…&state=…
//! match login.finish(Some(pending), &callback, chrono::Utc::now()).await? {
//!     Ok(identity) => { /* identity.subject, identity.claims: start a session */ }
//!     Err(refusal) => { /* StateMismatch, Replayed, Signature, Audience, Expired, Nonce… */ }
//! }
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::str::FromStr as _;
use std::sync::RwLock;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use integration_core::auth::{OAuth2Client, OAuth2Endpoints};
use integration_core::http::ProviderClient;
use integration_core::{Error, ErrorKind, Result};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreIdToken, CoreIdTokenVerifier, CoreJsonWebKeySet, CoreProviderMetadata,
};
use openidconnect::{
    AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    OAuth2TokenResponse as _, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, SignatureVerificationError,
    TokenResponse as _,
};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use subtle::ConstantTimeEq;
use url::Url;

/// One identity provider as a tenant configured it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct OidcConfig {
    /// The issuer (`https://acme.okta.com`): discovery starts there.
    pub issuer: String,
    /// The client id the provider issued the host.
    pub client_id: String,
    /// The client secret (none for a public client).
    pub client_secret: Option<SecretString>,
    /// Where the provider sends the browser back.
    pub redirect_uri: String,
    /// Scopes asked for besides `openid` (`profile`, `email`, `groups`).
    pub scopes: Vec<String>,
}

impl OidcConfig {
    /// A provider at `issuer`, the host's `client_id`, the callback `redirect_uri`; scopes
    /// `profile` and `email`.
    pub fn new(issuer: impl Into<String>, client_id: impl Into<String>, redirect_uri: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            client_id: client_id.into(),
            client_secret: None,
            redirect_uri: redirect_uri.into(),
            scopes: vec!["profile".into(), "email".into()],
        }
    }

    /// With a client secret (a confidential client).
    pub fn with_client_secret(mut self, secret: impl Into<String>) -> Self {
        self.client_secret = Some(SecretString::from(secret.into()));
        self
    }

    /// With these scopes besides `openid`.
    pub fn with_scopes(mut self, scopes: &[&str]) -> Self {
        self.scopes = scopes.iter().map(|s| (*s).to_owned()).collect();
        self
    }
}

/// A login begun: what the host keeps for the browser's session until the callback (server-side,
/// or sealed in a cookie) and hands to [`OidcLogin::finish`] once — then forgets.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct PendingLogin {
    state: String,
    nonce: String,
    verifier: String,
    /// When the login began.
    pub started_at: DateTime<Utc>,
}

impl std::fmt::Debug for PendingLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingLogin").field("started_at", &self.started_at).finish_non_exhaustive()
    }
}

impl PendingLogin {
    /// The `state` sent with it: the key a host stores it under.
    pub fn state(&self) -> &str {
        &self.state
    }
}

/// Who signed in.
#[derive(Clone)]
#[non_exhaustive]
pub struct Identity {
    /// The provider's id for the user (`sub`).
    pub subject: String,
    /// The issuer.
    pub issuer: String,
    /// Every claim of the ID token (`email`, `groups`…): what role rules read.
    pub claims: Value,
    /// The ID token itself (the logout hint).
    pub id_token: SecretString,
    /// The access token, for userinfo.
    pub access_token: SecretString,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity").field("subject", &self.subject).field("issuer", &self.issuer).finish_non_exhaustive()
    }
}

/// Why a login was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OidcRefusal {
    /// The callback's `state` is not the pending login's (a forged or crossed callback).
    StateMismatch,
    /// No pending login for this callback: it was finished already (a replay) or never begun.
    Replayed,
    /// The provider answered with an error (`access_denied`…).
    Provider {
        /// The error code.
        error: String,
        /// Its description.
        description: Option<String>,
    },
    /// The ID token's signature does not verify against the provider's keys.
    Signature(String),
    /// The ID token is not for this client.
    Audience(String),
    /// The ID token is from another issuer.
    Issuer(String),
    /// The ID token has expired.
    Expired(String),
    /// The ID token's nonce is not the pending login's (a token replayed into another login).
    Nonce(String),
    /// Not an ID token at all, or one without what a login needs.
    Malformed(String),
}

impl OidcRefusal {
    /// The reason's name (`state_mismatch`, `signature`, `expired`…), as audit events give it.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::StateMismatch => "state_mismatch",
            Self::Replayed => "replayed",
            Self::Provider { .. } => "provider_error",
            Self::Signature(_) => "signature",
            Self::Audience(_) => "audience",
            Self::Issuer(_) => "issuer",
            Self::Expired(_) => "expired",
            Self::Nonce(_) => "nonce",
            Self::Malformed(_) => "malformed",
        }
    }
}

impl std::fmt::Display for OidcRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::StateMismatch => f.write_str("the callback's state is not the login's"),
            Self::Replayed => f.write_str("no login is pending for this callback (finished already, or never begun)"),
            Self::Provider { error, description } => {
                write!(f, "the provider refused: {error} {}", description.as_deref().unwrap_or(""))
            }
            Self::Signature(d) => write!(f, "the ID token's signature does not verify: {d}"),
            Self::Audience(d) => write!(f, "the ID token is not for this client: {d}"),
            Self::Issuer(d) => write!(f, "the ID token is from another issuer: {d}"),
            Self::Expired(d) => write!(f, "the ID token has expired: {d}"),
            Self::Nonce(d) => write!(f, "the ID token's nonce is not this login's: {d}"),
            Self::Malformed(d) => write!(f, "not a usable ID token: {d}"),
        }
    }
}

/// A tenant's identity provider, discovered.
#[derive(Debug)]
pub struct OidcLogin {
    config: OidcConfig,
    http: ProviderClient,
    oauth: OAuth2Client,
    metadata: CoreProviderMetadata,
    jwks: RwLock<CoreJsonWebKeySet>,
    end_session: Option<Url>,
    audit: Option<(crate::audit::Audit, integration_core::TenantId)>,
}

fn invalid(what: &str, e: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::Config, format!("{what}: {e}"))
}

impl OidcLogin {
    /// Reads the provider's discovery document (`/.well-known/openid-configuration`, whose
    /// `issuer` must be the one configured) and its keys.
    ///
    /// # Errors
    /// A `Config` error for a configuration that is not URLs or a document that is not the
    /// issuer's; the provider's errors.
    pub async fn discover(http: ProviderClient, config: OidcConfig) -> Result<Self> {
        Url::parse(&config.issuer).map_err(|e| invalid("the issuer is not a URL", e))?;
        Url::parse(&config.redirect_uri).map_err(|e| invalid("the redirect URI is not a URL", e))?;
        let document_url = format!("{}/.well-known/openid-configuration", config.issuer.trim_end_matches('/'));
        let document: Value = http.get(document_url.as_str()).operation("oidc.discovery").send_json().await?;
        let end_session = document.get("end_session_endpoint").and_then(Value::as_str).and_then(|u| Url::parse(u).ok());
        let metadata: CoreProviderMetadata = serde_json::from_value(document)
            .map_err(|e| Error::invalid_response(format!("the discovery document is not OpenID Connect's: {e}")))?;
        if metadata.issuer().as_str().trim_end_matches('/') != config.issuer.trim_end_matches('/') {
            return Err(invalid(
                "the discovery document names another issuer",
                format!("{} is not {}", metadata.issuer().as_str(), config.issuer),
            ));
        }
        let token = metadata
            .token_endpoint()
            .map(|t| t.url().clone())
            .ok_or_else(|| Error::invalid_response("the provider has no token endpoint"))?;
        let mut oauth = OAuth2Client::new(
            http.clone(),
            config.client_id.clone(),
            OAuth2Endpoints::new(Some(metadata.authorization_endpoint().url().clone()), token),
        );
        if let Some(secret) = &config.client_secret {
            oauth = oauth.with_client_secret(secret.expose_secret());
        }
        let jwks = keys(&metadata, &oauth).await?;
        Ok(Self { config, http, oauth, metadata, jwks: RwLock::new(jwks), end_session, audit: None })
    }

    /// With every finished login of `tenant` recorded in `sink` (`sign_in`: the subject, or the
    /// refusal's reason).
    pub fn with_audit(
        mut self,
        sink: std::sync::Arc<dyn integration_core::store::AuditSink>,
        tenant: integration_core::TenantId,
    ) -> Self {
        self.audit = Some((crate::audit::Audit::to(sink), tenant));
        self
    }

    fn client(
        &self,
    ) -> Result<
        CoreClient<
            openidconnect::EndpointSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointMaybeSet,
            openidconnect::EndpointMaybeSet,
        >,
    > {
        let redirect =
            RedirectUrl::new(self.config.redirect_uri.clone()).map_err(|e| invalid("the redirect URI", e))?;
        Ok(CoreClient::from_provider_metadata(
            self.metadata.clone(),
            ClientId::new(self.config.client_id.clone()),
            self.config.client_secret.as_ref().map(|s| ClientSecret::new(s.expose_secret().to_owned())),
        )
        .set_redirect_uri(redirect))
    }

    /// Begins a login: the URL to send the browser to, and what to keep for the callback
    /// (`state`, `nonce` and the PKCE verifier, fresh and random).
    ///
    /// # Errors
    /// A `Config` error for a redirect URI that is not a URL.
    pub fn begin(&self) -> Result<(String, PendingLogin)> {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let client = self.client()?;
        let mut request = client
            .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
            .set_pkce_challenge(challenge);
        for scope in &self.config.scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.url();
        let pending = PendingLogin {
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            verifier: verifier.secret().clone(),
            started_at: Utc::now(),
        };
        Ok((url.to_string(), pending))
    }

    /// Finishes a login from the callback's query (`code`, `state`, or `error`) and the pending
    /// login the host kept for it (`None` if it had none: refused as a replay): the code
    /// exchanged (with the PKCE verifier), the ID token checked at `now`.
    ///
    /// # Errors
    /// The token endpoint's errors (a refused code is `AuthInvalid`); a refusal of the login is
    /// not an error but `Ok(Err(refusal))`.
    pub async fn finish(
        &self,
        pending: Option<PendingLogin>,
        callback: &BTreeMap<String, String>,
        now: DateTime<Utc>,
    ) -> Result<std::result::Result<Identity, OidcRefusal>> {
        let outcome = self.finished(pending, callback, now).await?;
        let counted = outcome.as_ref().err().map_or("success", OidcRefusal::as_str);
        crate::audit::count(crate::audit::Counted::SignIn { protocol: "oidc", outcome: counted });
        if let Some((audit, tenant)) = &self.audit {
            let action = integration_core::store::AuditAction::SignIn;
            match &outcome {
                Ok(identity) => {
                    audit
                        .record(
                            tenant,
                            action,
                            format!("subject={} issuer={}", identity.subject, identity.issuer),
                            None,
                        )
                        .await
                }
                Err(refusal) => {
                    audit.record(tenant, action, format!("issuer={}", self.config.issuer), Some(refusal.as_str())).await
                }
            }
        }
        Ok(outcome)
    }

    async fn finished(
        &self,
        pending: Option<PendingLogin>,
        callback: &BTreeMap<String, String>,
        now: DateTime<Utc>,
    ) -> Result<std::result::Result<Identity, OidcRefusal>> {
        let Some(pending) = pending else { return Ok(Err(OidcRefusal::Replayed)) };
        let state = callback.get("state").map(String::as_str).unwrap_or_default();
        if !bool::from(state.as_bytes().ct_eq(pending.state.as_bytes())) {
            return Ok(Err(OidcRefusal::StateMismatch));
        }
        if let Some(error) = callback.get("error") {
            return Ok(Err(OidcRefusal::Provider {
                error: error.clone(),
                description: callback.get("error_description").cloned(),
            }));
        }
        let Some(code) = callback.get("code") else {
            return Ok(Err(OidcRefusal::Malformed("the callback has no code".into())));
        };
        let response = self
            .client()?
            .exchange_code(AuthorizationCode::new(code.clone()))
            .map_err(|e| invalid("the provider's token endpoint", e))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier.clone()))
            .request_async(&self.oauth.http("oidc.exchange_code"))
            .await
            .map_err(|e| match e {
                openidconnect::RequestTokenError::Request(e) => e,
                openidconnect::RequestTokenError::ServerResponse(r) => Error::new(
                    ErrorKind::AuthInvalid,
                    format!("the token endpoint refused the code: {}", r.error().as_ref()),
                )
                .with_code(r.error().as_ref().to_owned()),
                other => Error::invalid_response(format!("the token response is not OpenID Connect's: {other}")),
            })?;
        let Some(id_token) = response.id_token() else {
            return Ok(Err(OidcRefusal::Malformed("the token response has no ID token".into())));
        };
        let access = SecretString::from(response.access_token().secret().clone());
        Ok(self.verify(&id_token.to_string(), &pending.nonce, now).await?.map(|mut identity| {
            identity.access_token = access;
            identity
        }))
    }

    /// Checks an ID token for this client at `now` with the expected `nonce`: its signature
    /// (the keys read again once for a key id not held), issuer, audience, expiry and nonce.
    ///
    /// # Errors
    /// The provider's errors while reading its keys again; a refusal is `Ok(Err(refusal))`.
    pub async fn verify(
        &self,
        id_token: &str,
        nonce: &str,
        now: DateTime<Utc>,
    ) -> Result<std::result::Result<Identity, OidcRefusal>> {
        let Ok(token) = CoreIdToken::from_str(id_token) else {
            return Ok(Err(OidcRefusal::Malformed("not a JWT".into())));
        };
        let mut refreshed = false;
        loop {
            let verdict = {
                let keys = self.jwks.read().unwrap_or_else(|p| p.into_inner()).clone();
                let client_id = ClientId::new(self.config.client_id.clone());
                let issuer = IssuerUrl::new(self.config.issuer.clone()).map_err(|e| invalid("the issuer", e))?;
                let verifier = match &self.config.client_secret {
                    Some(secret) => CoreIdTokenVerifier::new_confidential_client(
                        client_id,
                        ClientSecret::new(secret.expose_secret().to_owned()),
                        issuer,
                        keys,
                    ),
                    None => CoreIdTokenVerifier::new_public_client(client_id, issuer, keys),
                }
                .set_time_fn(move || now);
                token
                    .claims(&verifier, &Nonce::new(nonce.to_owned()))
                    .map(|c| (c.subject().as_str().to_owned(), c.issuer().as_str().to_owned()))
            };
            match verdict {
                Ok((subject, issuer)) => {
                    let claims = payload(id_token).unwrap_or(Value::Null);
                    return Ok(Ok(Identity {
                        subject,
                        issuer,
                        claims,
                        id_token: SecretString::from(id_token.to_owned()),
                        access_token: SecretString::from(String::new()),
                    }));
                }
                Err(ClaimsVerificationError::SignatureVerification(SignatureVerificationError::NoMatchingKey))
                    if !refreshed =>
                {
                    // A key the provider rotated in since the keys were read: read them again, once.
                    refreshed = true;
                    let keys = keys(&self.metadata, &self.oauth).await?;
                    *self.jwks.write().unwrap_or_else(|p| p.into_inner()) = keys;
                }
                Err(e) => return Ok(Err(refusal(e))),
            }
        }
    }

    /// The provider's userinfo for `identity` (its access token); its `sub` must be the ID
    /// token's.
    ///
    /// # Errors
    /// `Unsupported` when the provider has no userinfo endpoint; `InvalidResponse` for another
    /// subject; the provider's errors.
    pub async fn userinfo(&self, identity: &Identity) -> Result<Value> {
        let endpoint = self
            .metadata
            .userinfo_endpoint()
            .ok_or_else(|| Error::new(ErrorKind::Unsupported, "the provider has no userinfo endpoint"))?;
        let info: Value = self
            .http
            .get(endpoint.url().as_str())
            .operation("oidc.userinfo")
            .header("Authorization", &format!("Bearer {}", identity.access_token.expose_secret()))
            .send_json()
            .await?;
        if info.get("sub").and_then(Value::as_str) != Some(identity.subject.as_str()) {
            return Err(Error::invalid_response("the userinfo answer is about another subject"));
        }
        Ok(info)
    }

    /// The provider's RP-initiated logout URL (`end_session_endpoint`) with the ID token as
    /// hint, and where to come back; `None` when the provider has none.
    pub fn logout_url(&self, identity: &Identity, post_logout_redirect: Option<&str>) -> Option<String> {
        let mut url = self.end_session.clone()?;
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("id_token_hint", identity.id_token.expose_secret());
            query.append_pair("client_id", &self.config.client_id);
            if let Some(redirect) = post_logout_redirect {
                query.append_pair("post_logout_redirect_uri", redirect);
            }
        }
        Some(url.to_string())
    }
}

/// The provider's signing keys, read from its `jwks_uri` through the core client.
async fn keys(metadata: &CoreProviderMetadata, oauth: &OAuth2Client) -> Result<CoreJsonWebKeySet> {
    CoreJsonWebKeySet::fetch_async(metadata.jwks_uri(), &oauth.http("oidc.jwks"))
        .await
        .map_err(|e| Error::invalid_response(format!("the provider's keys could not be read: {e}")))
}

/// The claims of a JWT's payload (already verified).
fn payload(jwt: &str) -> Option<Value> {
    let middle = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(middle.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn refusal(error: ClaimsVerificationError) -> OidcRefusal {
    match error {
        ClaimsVerificationError::Expired(d) => OidcRefusal::Expired(d),
        ClaimsVerificationError::InvalidAudience(d) => OidcRefusal::Audience(d),
        ClaimsVerificationError::InvalidIssuer(d) => OidcRefusal::Issuer(d),
        ClaimsVerificationError::InvalidNonce(d) => OidcRefusal::Nonce(d),
        ClaimsVerificationError::SignatureVerification(e) => OidcRefusal::Signature(e.to_string()),
        other => OidcRefusal::Malformed(other.to_string()),
    }
}
