//! JWT bearer assertions (RFC 7523) for service accounts: the client signs a short-lived JWT
//! with its private key and trades it for an access token. Google service accounts work this
//! way.

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use oauth2::basic::BasicErrorResponse;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use url::Url;

use super::manager::TokenSource;
use super::oauth2_client::{Grant, token_error};
use super::token_set::{TokenResponse, TokenSet};
use crate::error::{Delivery, Error, Result};
use crate::http::ProviderClient;

const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// A service account's signing key (RS256).
#[derive(Clone)]
pub struct ServiceAccountKey {
    issuer: String,
    key_id: Option<String>,
    private_key_pem: SecretString,
    token_uri: Option<Url>,
}

impl ServiceAccountKey {
    /// A key: `issuer` (the account's id or e-mail) and its RSA private key in PEM.
    pub fn new(issuer: impl Into<String>, private_key_pem: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            key_id: None,
            private_key_pem: SecretString::from(private_key_pem.into()),
            token_uri: None,
        }
    }

    /// The key id put in the JWT header (`kid`).
    #[must_use]
    pub fn with_key_id(mut self, key_id: impl Into<String>) -> Self {
        self.key_id = Some(key_id.into());
        self
    }

    /// Reads a Google service-account key file (`client_email`, `private_key`,
    /// `private_key_id`, `token_uri`). Errors name the missing field, never a key's content.
    pub fn from_google_json(json: &str) -> Result<Self> {
        #[derive(Deserialize)]
        struct File {
            client_email: Option<String>,
            private_key: Option<SecretString>,
            private_key_id: Option<String>,
            token_uri: Option<String>,
        }
        let file: File = serde_json::from_str(json).map_err(|e| {
            Error::validation("service_account", format!("not a service-account key file: {}", json_error_kind(&e)))
        })?;
        let issuer = file.client_email.ok_or_else(|| Error::validation("service_account.client_email", "missing"))?;
        let key = file.private_key.ok_or_else(|| Error::validation("service_account.private_key", "missing"))?;
        let token_uri = file
            .token_uri
            .map(|u| Url::parse(&u).map_err(|_| Error::validation("service_account.token_uri", "not a URL")))
            .transpose()?;
        Ok(Self { issuer, key_id: file.private_key_id, private_key_pem: key, token_uri })
    }

    /// The token endpoint named in the key file, if any.
    pub fn token_uri(&self) -> Option<&Url> {
        self.token_uri.as_ref()
    }
}

impl std::fmt::Debug for ServiceAccountKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceAccountKey")
            .field("issuer", &self.issuer)
            .field("key_id", &self.key_id)
            .field("private_key_pem", &"[redacted]")
            .finish()
    }
}

/// What kind of JSON error `error` is: serde_json's messages can quote the input (a key), its
/// category never does.
fn json_error_kind(error: &serde_json::Error) -> &'static str {
    match error.classify() {
        serde_json::error::Category::Io => "I/O error",
        serde_json::error::Category::Syntax => "invalid JSON",
        serde_json::error::Category::Data => "unexpected field types",
        serde_json::error::Category::Eof => "truncated JSON",
    }
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    sub: Option<&'a str>,
    aud: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
    iat: i64,
    exp: i64,
}

/// A [`TokenSource`] that signs a JWT assertion and trades it at the token endpoint.
///
/// ```no_run
/// use integration_core::auth::{JwtBearer, ServiceAccountKey};
/// use integration_core::http::{HttpClient, HttpPolicy};
/// use integration_core::ProviderId;
///
/// # async fn run(key_file: &str) -> integration_core::Result<()> {
/// let http = HttpClient::new()?.provider_with(ProviderId::new("google")?, HttpPolicy::standard());
/// let key = ServiceAccountKey::from_google_json(key_file)?;
/// let source = JwtBearer::new(http, key, "https://oauth2.googleapis.com/token".parse().unwrap())
///     .with_scopes(&["https://www.googleapis.com/auth/calendar.readonly"])
///     .with_subject("admin@example.com"); // domain-wide delegation
/// let token = source.token().await?;
/// # drop(token); Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct JwtBearer {
    http: ProviderClient,
    key: ServiceAccountKey,
    token_url: Url,
    audience: Option<String>,
    scopes: Vec<String>,
    subject: Option<String>,
    lifetime: TimeDelta,
}

impl JwtBearer {
    /// Assertions signed with `key`, traded at `token_url` (also the audience by default).
    pub fn new(http: ProviderClient, key: ServiceAccountKey, token_url: Url) -> Self {
        Self { http, key, token_url, audience: None, scopes: Vec::new(), subject: None, lifetime: TimeDelta::hours(1) }
    }

    /// The scopes asked for (space-joined in the `scope` claim).
    #[must_use]
    pub fn with_scopes(mut self, scopes: &[&str]) -> Self {
        self.scopes = scopes.iter().map(|s| (*s).to_owned()).collect();
        self
    }

    /// The user to act as (`sub`), for domain-wide delegation.
    #[must_use]
    pub fn with_subject(mut self, subject: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self
    }

    /// The `aud` claim, when the provider wants something other than the token URL.
    #[must_use]
    pub fn with_audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = Some(audience.into());
        self
    }

    /// A signed assertion valid from `now` for an hour.
    pub fn assertion(&self, now: DateTime<Utc>) -> Result<SecretString> {
        let claims = Claims {
            iss: &self.key.issuer,
            sub: self.subject.as_deref(),
            aud: self.audience.as_deref().unwrap_or(self.token_url.as_str()),
            scope: (!self.scopes.is_empty()).then(|| self.scopes.join(" ")),
            iat: now.timestamp(),
            exp: (now + self.lifetime).timestamp(),
        };
        let key = EncodingKey::from_rsa_pem(self.key.private_key_pem.expose_secret().as_bytes()).map_err(|_| {
            Error::config("the service account's private key is not an RSA key in PEM").with_field("private_key")
        })?;
        let mut header = Header::new(Algorithm::RS256);
        header.kid.clone_from(&self.key.key_id);
        let jwt = jsonwebtoken::encode(&header, &claims, &key)
            .map_err(|e| Error::config(format!("could not sign the assertion: {e}")).with_field("private_key"))?;
        Ok(SecretString::from(jwt))
    }

    /// A new access token.
    pub async fn token(&self) -> Result<TokenSet> {
        self.token_at(Utc::now()).await
    }

    async fn token_at(&self, now: DateTime<Utc>) -> Result<TokenSet> {
        let assertion = self.assertion(now)?;
        let response = self
            .http
            .post(self.token_url.as_str())
            .operation(Grant::JwtBearer.operation())
            .form(&[("grant_type", GRANT_TYPE), ("assertion", assertion.expose_secret())])
            .accept_any_status()
            .send()
            .await?;
        let provider = self.http.provider().as_str();
        if response.status().is_success() {
            let parsed: TokenResponse = response.json().map_err(|e| e.with_provider(provider))?;
            return Ok(TokenSet::from_response(&parsed, now));
        }
        // The assertion (a bearer credential for an hour) may be echoed: scrubbed first.
        let redactor = response.redactor();
        let body = redactor.scrub_bytes(response.bytes());
        let error = match serde_json::from_slice::<BasicErrorResponse>(&body) {
            Ok(body) => token_error(oauth2::RequestTokenError::ServerResponse(body), Grant::JwtBearer),
            Err(_) => Error::from_response(response.status(), response.headers(), &body),
        };
        let error = error.with_status(response.status().as_u16()).with_delivery(Delivery::Responded);
        Err(error.with_provider(provider).redact_with(&redactor))
    }
}

#[async_trait]
impl TokenSource for JwtBearer {
    async fn fetch(&self, _current: Option<&TokenSet>, now: DateTime<Utc>) -> Result<TokenSet> {
        self.token_at(now).await
    }
}
