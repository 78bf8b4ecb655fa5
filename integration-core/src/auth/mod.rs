//! Credentials on requests: API keys, Basic, Bearer, OAuth2 (with the [`TokenManager`]) and JWT
//! bearer assertions for service accounts.
//!
//! An [`Authenticator`] adds credentials to each attempt of a request made through a
//! [`ProviderClient`](crate::http::ProviderClient); on a `401` the client asks it once for new
//! credentials and, if it has them, retries once.
//!
//! ```
//! use std::sync::Arc;
//! use integration_core::auth::{ApiKey, Basic, Bearer};
//! use integration_core::http::{HttpClient, HttpPolicy};
//! use integration_core::ProviderId;
//!
//! let http = HttpClient::new()?;
//! let provider = ProviderId::new("bamboohr")?;
//! // BambooHR: the API key as the Basic user name, any password.
//! let bamboo = http.provider_with(provider, HttpPolicy::standard()).with_auth(Arc::new(Basic::new("api-key", "x")));
//! // Others: a header, a query parameter, or a static bearer token.
//! let _header = ApiKey::header("X-Api-Key", "secret")?;
//! let _query = ApiKey::query("api_key", "secret");
//! let _bearer = Bearer::new("token");
//! # drop(bamboo);
//! # Ok::<(), integration_core::Error>(())
//! ```

mod discovery;
mod jwt_bearer;
mod manager;
mod oauth2_client;
mod static_credentials;
mod token_set;

pub use discovery::ProviderMetadata;
pub use jwt_bearer::{JwtBearer, ServiceAccountKey};
pub use manager::{AuthEvent, TokenManager, TokenManagerBuilder, TokenSource};
pub use oauth2_client::{
    AuthorizationRequest, Introspection, OAuth2Client, OAuth2Endpoints, OAuth2Http, OAuth2Source, TokenKind,
};
pub use static_credentials::{ApiKey, Basic, Bearer};
pub use token_set::TokenSet;

use async_trait::async_trait;

use crate::error::Result;

/// Which credentials an attempt carried, so a `401` can say which ones were refused (a token
/// version, say). Opaque to the HTTP client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AuthStamp(pub u64);

/// Adds credentials to requests and renews them when the provider refuses them.
#[async_trait]
pub trait Authenticator: Send + Sync + std::fmt::Debug {
    /// Adds credentials to one attempt of a request; returns what it added.
    async fn authorize(&self, request: &mut reqwest::Request) -> Result<AuthStamp>;

    /// The provider answered `401` to an attempt authorized with `stamp`. Returns `true` when
    /// newer credentials are now available (the request is then retried once), `false` when
    /// there is nothing better to send.
    async fn unauthorized(&self, stamp: AuthStamp) -> Result<bool> {
        let _ = stamp;
        Ok(false)
    }
}
