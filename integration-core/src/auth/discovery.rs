//! OpenID Connect discovery / OAuth 2.0 authorization server metadata (RFC 8414): where a
//! provider's endpoints are, read from `/.well-known/openid-configuration`.

use serde::Deserialize;
use url::Url;

use super::oauth2_client::OAuth2Endpoints;
use crate::error::{Error, Result};
use crate::http::ProviderClient;

/// A provider's published metadata (the fields this SDK uses).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct ProviderMetadata {
    /// The issuer; must equal the URL discovery started from.
    pub issuer: Url,
    /// The authorization endpoint.
    pub authorization_endpoint: Option<Url>,
    /// The token endpoint.
    pub token_endpoint: Url,
    /// The JSON Web Key Set.
    pub jwks_uri: Option<Url>,
    /// The userinfo endpoint.
    pub userinfo_endpoint: Option<Url>,
    /// The revocation endpoint (RFC 7009).
    pub revocation_endpoint: Option<Url>,
    /// The introspection endpoint (RFC 7662).
    pub introspection_endpoint: Option<Url>,
    /// The grant types supported.
    #[serde(default)]
    pub grant_types_supported: Vec<String>,
    /// The PKCE methods supported.
    #[serde(default)]
    pub code_challenge_methods_supported: Vec<String>,
    /// The scopes supported.
    #[serde(default)]
    pub scopes_supported: Vec<String>,
}

impl ProviderMetadata {
    /// Fetches `issuer`'s metadata and checks that it names the same issuer (a mismatch is an
    /// `InvalidResponse` error: the document may be someone else's).
    pub async fn discover(http: &ProviderClient, issuer: &Url) -> Result<Self> {
        let base = issuer.as_str().trim_end_matches('/');
        let metadata: Self = http
            .get(format!("{base}/.well-known/openid-configuration"))
            .operation("oidc.discovery")
            .send_json()
            .await?;
        if metadata.issuer.as_str().trim_end_matches('/') != base {
            return Err(Error::invalid_response(format!(
                "the discovery document names issuer {} but was fetched for {base}",
                metadata.issuer
            ))
            .with_provider(http.provider().as_str()));
        }
        Ok(metadata)
    }

    /// The OAuth2 endpoints.
    pub fn endpoints(&self) -> OAuth2Endpoints {
        let mut endpoints = OAuth2Endpoints::new(self.authorization_endpoint.clone(), self.token_endpoint.clone());
        endpoints.revocation.clone_from(&self.revocation_endpoint);
        endpoints.introspection.clone_from(&self.introspection_endpoint);
        endpoints
    }

    /// Whether the provider supports PKCE with S256.
    pub fn supports_pkce_s256(&self) -> bool {
        self.code_challenge_methods_supported.iter().any(|m| m == "S256")
    }
}
