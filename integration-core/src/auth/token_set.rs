//! [`TokenSet`]: an access token, its refresh token and expiry; sealed at rest.

use chrono::{DateTime, TimeDelta, Utc};
use oauth2::TokenResponse as _;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::crypto::{Binding, Purpose, SealedBox, Sealer};
use crate::error::{Error, Result};
use crate::ids::{ConnectionId, TenantId};

/// An OAuth2 token set. Secrets stay in [`SecretString`]; `Debug` shows neither token.
#[derive(Clone)]
#[non_exhaustive]
pub struct TokenSet {
    /// The access token.
    pub access_token: SecretString,
    /// The refresh token, if the grant has one.
    pub refresh_token: Option<SecretString>,
    /// When the access token expires, if the provider said.
    pub expires_at: Option<DateTime<Utc>>,
    /// The scopes granted, if the provider said.
    pub scopes: Vec<String>,
    /// The OpenID Connect ID token, if one came with it.
    pub id_token: Option<SecretString>,
    /// When it was issued (when the response came, or when it was stored): with
    /// `expires_at`, its lifetime, which caps how early it is renewed.
    pub issued_at: Option<DateTime<Utc>>,
}

impl TokenSet {
    /// A token set with an access token only.
    pub fn new(access_token: impl Into<String>) -> Self {
        Self {
            access_token: SecretString::from(access_token.into()),
            refresh_token: None,
            expires_at: None,
            scopes: Vec::new(),
            id_token: None,
            issued_at: None,
        }
    }

    /// Sets the refresh token.
    #[must_use]
    pub fn with_refresh_token(mut self, token: impl Into<String>) -> Self {
        self.refresh_token = Some(SecretString::from(token.into()));
        self
    }

    /// Sets the expiry.
    #[must_use]
    pub fn with_expires_at(mut self, at: DateTime<Utc>) -> Self {
        self.expires_at = Some(at);
        self
    }

    /// Sets the scopes.
    #[must_use]
    pub fn with_scopes(mut self, scopes: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Sets when it was issued.
    #[must_use]
    pub fn with_issued_at(mut self, at: DateTime<Utc>) -> Self {
        self.issued_at = Some(at);
        self
    }

    /// How long before expiry to renew it: `margin`, but at most half its lifetime (when both
    /// its issue and expiry times are known), so a short-lived token is not renewed on every use.
    pub fn refresh_margin(&self, margin: std::time::Duration) -> std::time::Duration {
        match (self.issued_at, self.expires_at) {
            (Some(issued), Some(expires)) => {
                let half = (expires - issued).to_std().unwrap_or_default() / 2;
                margin.min(half)
            }
            _ => margin,
        }
    }

    /// Whether the access token expires within `margin` of `now` (a token without an expiry
    /// never does).
    pub fn expires_within(&self, margin: std::time::Duration, now: DateTime<Utc>) -> bool {
        let margin = TimeDelta::from_std(margin).unwrap_or(TimeDelta::MAX);
        self.expires_at.is_some_and(|at| at <= now.checked_add_signed(margin).unwrap_or(DateTime::<Utc>::MAX_UTC))
    }

    /// Reads a standard token response received at `now`.
    pub(crate) fn from_response(response: &TokenResponse, now: DateTime<Utc>) -> Self {
        let expires_at =
            response.expires_in().and_then(|d| TimeDelta::from_std(d).ok()).and_then(|d| now.checked_add_signed(d));
        Self {
            access_token: SecretString::from(response.access_token().secret().clone()),
            refresh_token: response.refresh_token().map(|t| SecretString::from(t.secret().clone())),
            expires_at,
            scopes: response.scopes().map(|s| s.iter().map(|s| s.to_string()).collect()).unwrap_or_default(),
            id_token: response.extra_fields().id_token.clone().map(SecretString::from),
            issued_at: Some(now),
        }
    }

    /// Seals the set for `tenant`'s `connection`.
    pub(crate) async fn seal(
        &self,
        sealer: &Sealer,
        tenant: &TenantId,
        connection: &ConnectionId,
    ) -> Result<SealedBox> {
        let stored = Stored {
            access_token: self.access_token.expose_secret(),
            refresh_token: self.refresh_token.as_ref().map(ExposeSecret::expose_secret),
            expires_at: self.expires_at,
            scopes: &self.scopes,
            id_token: self.id_token.as_ref().map(ExposeSecret::expose_secret),
            issued_at: self.issued_at,
        };
        let json = Zeroizing::new(
            serde_json::to_vec(&stored).map_err(|e| Error::storage(format!("could not encode a token set: {e}")))?,
        );
        sealer.seal(&json, &Binding::new(Purpose::OAuthToken, tenant, connection)).await
    }

    /// Opens a set sealed for `tenant`'s `connection`.
    pub(crate) async fn open(
        sealer: &Sealer,
        sealed: &SealedBox,
        tenant: &TenantId,
        connection: &ConnectionId,
    ) -> Result<Self> {
        let json = sealer.open(sealed, &Binding::new(Purpose::OAuthToken, tenant, connection)).await?;
        let stored: Opened = serde_json::from_slice(&json)
            .map_err(|_| Error::storage("a stored token set is not in the expected format"))?;
        Ok(Self {
            access_token: stored.access_token,
            refresh_token: stored.refresh_token,
            expires_at: stored.expires_at,
            scopes: stored.scopes,
            id_token: stored.id_token,
            issued_at: stored.issued_at,
        })
    }
}

impl std::fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSet")
            .field("access_token", &"[redacted]")
            .field("refresh_token", &self.refresh_token.as_ref().map(|_| "[redacted]"))
            .field("expires_at", &self.expires_at)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

/// The extra field OpenID Connect adds to a token response.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct IdTokenField {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
}

impl oauth2::ExtraTokenFields for IdTokenField {}

/// A standard token response, with the ID token when there is one.
pub(crate) type TokenResponse = oauth2::StandardTokenResponse<IdTokenField, oauth2::basic::BasicTokenType>;

#[derive(Serialize)]
struct Stored<'a> {
    access_token: &'a str,
    refresh_token: Option<&'a str>,
    expires_at: Option<DateTime<Utc>>,
    scopes: &'a [String],
    id_token: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    issued_at: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
struct Opened {
    access_token: SecretString,
    refresh_token: Option<SecretString>,
    expires_at: Option<DateTime<Utc>>,
    #[serde(default)]
    scopes: Vec<String>,
    #[serde(default)]
    id_token: Option<SecretString>,
    #[serde(default)]
    issued_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{KeyRing, SealingKey};

    #[tokio::test]
    async fn sealed_sets_round_trip_only_for_their_connection() {
        let sealer = Sealer::new(KeyRing::new("k1", SealingKey::generate()));
        let (tenant, connection) = (TenantId::new("acme").expect("id"), ConnectionId::new("hr").expect("id"));
        let set = TokenSet::new("at-1").with_refresh_token("rt-1").with_scopes(["a", "b"]);
        let sealed = set.seal(&sealer, &tenant, &connection).await.expect("seal");
        assert!(!sealed.as_str().contains("at-1") && !sealed.as_str().contains("rt-1"));
        let opened = TokenSet::open(&sealer, &sealed, &tenant, &connection).await.expect("open");
        assert_eq!(opened.access_token.expose_secret(), "at-1");
        assert_eq!(opened.refresh_token.as_ref().map(ExposeSecret::expose_secret), Some("rt-1"));
        assert_eq!(opened.scopes, ["a", "b"]);
        let other = ConnectionId::new("other").expect("id");
        assert!(TokenSet::open(&sealer, &sealed, &tenant, &other).await.is_err());
        let debug = format!("{opened:?}");
        assert!(!debug.contains("at-1") && !debug.contains("rt-1"), "{debug}");
    }

    #[test]
    fn expiry_respects_the_margin() {
        let now = Utc::now();
        let set = TokenSet::new("t").with_expires_at(now + TimeDelta::seconds(60));
        assert!(set.expires_within(std::time::Duration::from_secs(60), now));
        assert!(!set.expires_within(std::time::Duration::from_secs(59), now));
        assert!(!TokenSet::new("t").expires_within(std::time::Duration::from_secs(3600), now));
    }

    #[test]
    fn the_margin_is_at_most_half_the_lifetime() {
        let now = Utc::now();
        let five_minutes = TokenSet::new("t").with_issued_at(now).with_expires_at(now + TimeDelta::seconds(300));
        let margin = std::time::Duration::from_secs(300);
        assert_eq!(five_minutes.refresh_margin(margin), std::time::Duration::from_secs(150));
        let hour = TokenSet::new("t").with_issued_at(now).with_expires_at(now + TimeDelta::seconds(3600));
        assert_eq!(hour.refresh_margin(margin), margin);
        assert_eq!(TokenSet::new("t").with_expires_at(now).refresh_margin(margin), margin, "lifetime unknown");
    }
}
