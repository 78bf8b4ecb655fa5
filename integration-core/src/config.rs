//! A tenant's configuration of one connection: [`IntegrationConfig`].
//!
//! Settings are plain JSON values; secrets are [`secrecy::SecretString`]s in [`Secrets`], which
//! has no `Display`, no `Serialize`, and a `Debug` that shows only the keys. At rest, secrets are
//! sealed (see [`crate::crypto`]) by [`Connections`](crate::Connections) before a
//! [`ConfigStore`](crate::store::ConfigStore) ever sees them.
//!
//! ```
//! use integration_core::{ConnectionId, Domain, IntegrationConfig, ProviderId, TenantId};
//!
//! let config = IntegrationConfig::new(
//!     TenantId::new("acme").unwrap(),
//!     ConnectionId::new("hr-main").unwrap(),
//!     Domain::Hris,
//!     ProviderId::new("bamboohr").unwrap(),
//! )
//! .with_setting("subdomain", "acme")
//! .with_secret("api_key", "bhr-secret-123");
//!
//! let shown = format!("{config:?}");
//! assert!(shown.contains("api_key"));
//! assert!(!shown.contains("bhr-secret-123"));
//! ```

use crate::mapping::Mappings;
use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;
use zeroize::Zeroizing;

use crate::descriptor::Domain;
use crate::error::{Error, Result};
use crate::ids::{ConnectionId, ProviderId, TenantId};

/// Non-secret settings: JSON values by key.
pub type Settings = serde_json::Map<String, Value>;

/// Secret values by key. `Debug` shows the keys only; there is no `Display` and no `Serialize`.
#[derive(Clone, Default)]
pub struct Secrets(BTreeMap<String, SecretString>);

impl Secrets {
    /// No secrets.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a secret, builder style.
    #[must_use]
    pub fn with(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.insert(key, value);
        self
    }

    /// Sets a secret.
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.0.insert(key.into(), SecretString::from(value.into()));
    }

    /// The secret for `key`.
    pub fn get(&self, key: &str) -> Option<&SecretString> {
        self.0.get(key)
    }

    /// The secret for `key`, or a [`Config`](crate::ErrorKind::Config) error naming
    /// `secrets.<key>`.
    pub fn require(&self, key: &str) -> Result<&SecretString> {
        self.get(key)
            .ok_or_else(|| Error::config(format!("the secret {key:?} is missing")).with_field(format!("secrets.{key}")))
    }

    /// Removes a secret.
    pub fn remove(&mut self, key: &str) -> Option<SecretString> {
        self.0.remove(key)
    }

    /// The keys, in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// The number of secrets.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The plaintext JSON object, for sealing. Zeroized on drop.
    pub(crate) fn to_plaintext(&self) -> Zeroizing<Vec<u8>> {
        let map: BTreeMap<&str, &str> = self.0.iter().map(|(k, v)| (k.as_str(), v.expose_secret())).collect();
        // Serializing a map of strings cannot fail.
        Zeroizing::new(serde_json::to_vec(&map).unwrap_or_default())
    }

    /// Parses the plaintext JSON object produced by [`Secrets::to_plaintext`].
    pub(crate) fn from_plaintext(bytes: &[u8]) -> Result<Self> {
        let map: BTreeMap<String, String> = serde_json::from_slice(bytes)
            .map_err(|_| Error::new(crate::ErrorKind::Crypto, "opened secrets are not the expected JSON object"))?;
        Ok(Self(map.into_iter().map(|(k, v)| (k, SecretString::from(v))).collect()))
    }
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.0.keys().map(|k| (k, format_args!("[REDACTED]")))).finish()
    }
}

/// Where a connection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ConnectionStatus {
    /// Configured, not yet connected.
    #[default]
    Pending,
    /// Connected and in use.
    Active,
    /// Paused by the host: no syncs run.
    Paused,
    /// The provider revoked the grant: a person must authorize the connection again.
    ReauthorizationRequired,
    /// The last attempt failed with a non-auth error (see the sync-run log).
    Failing,
    /// Disconnected by the host.
    Disconnected,
}

impl ConnectionStatus {
    /// The status's name (`"reauthorization_required"`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Active => "active",
            Self::Paused => "paused",
            Self::ReauthorizationRequired => "reauthorization_required",
            Self::Failing => "failing",
            Self::Disconnected => "disconnected",
        }
    }
}

impl fmt::Display for ConnectionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One tenant's configuration of one connection to a provider.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct IntegrationConfig {
    /// The tenant that owns the connection.
    pub tenant: TenantId,
    /// The connection's id within the tenant.
    pub connection: ConnectionId,
    /// The domain.
    pub domain: Domain,
    /// The provider.
    pub provider: ProviderId,
    /// Non-secret settings.
    pub settings: Settings,
    /// Secrets, sealed at rest.
    pub secrets: Secrets,
    /// Where the connection stands.
    pub status: ConnectionStatus,
    /// The provider's id for the connected account (used to route webhooks), once known.
    pub remote_account_id: Option<String>,
    /// When a sync last completed.
    pub last_sync_at: Option<DateTime<Utc>>,
    /// The stored revision this was loaded from; `0` for a configuration never saved. Saving
    /// fails with a [`Conflict`](crate::ErrorKind::Conflict) if the store has moved on.
    pub revision: u64,
    /// Field mappings and validation rules applied to everything read through this connection
    /// (see [`mapping`](crate::mapping)); checked when saved.
    pub mappings: Mappings,
}

impl IntegrationConfig {
    /// A new, unsaved configuration with no settings or secrets.
    pub fn new(tenant: TenantId, connection: ConnectionId, domain: Domain, provider: ProviderId) -> Self {
        Self {
            tenant,
            connection,
            domain,
            provider,
            settings: Settings::new(),
            secrets: Secrets::new(),
            status: ConnectionStatus::Pending,
            remote_account_id: None,
            last_sync_at: None,
            revision: 0,
            mappings: Mappings::default(),
        }
    }

    /// Sets the field mappings and validation rules, builder style.
    #[must_use]
    pub fn with_mappings(mut self, mappings: Mappings) -> Self {
        self.mappings = mappings;
        self
    }

    /// Sets a setting, builder style.
    #[must_use]
    pub fn with_setting(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.settings.insert(key.into(), value.into());
        self
    }

    /// Sets a secret, builder style.
    #[must_use]
    pub fn with_secret(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.secrets.insert(key, value);
        self
    }

    /// Sets the status, builder style.
    #[must_use]
    pub fn with_status(mut self, status: ConnectionStatus) -> Self {
        self.status = status;
        self
    }

    /// The setting `key` as text, or a [`Config`](crate::ErrorKind::Config) error naming
    /// `settings.<key>` and the provider.
    pub fn setting_str(&self, key: &str) -> Result<&str> {
        self.settings.get(key).and_then(Value::as_str).ok_or_else(|| {
            Error::config(format!("the setting {key:?} is missing or not text"))
                .with_field(format!("settings.{key}"))
                .with_provider(self.provider.as_str())
        })
    }

    /// The optional setting `key` as text, `default` when it is not set.
    pub fn setting_or<'a>(&'a self, key: &str, default: &'a str) -> &'a str {
        self.settings.get(key).and_then(Value::as_str).unwrap_or(default)
    }

    /// The setting `key` as a URL, with a trailing `/` removed: `default` when it is not set, or,
    /// without a default, a [`Config`](crate::ErrorKind::Config) error as for
    /// [`setting_str`](Self::setting_str). One that does not parse is a `Config` error naming
    /// `settings.<key>` and the provider.
    pub fn setting_url(&self, key: &str, default: Option<&str>) -> Result<Url> {
        let text = match default {
            Some(default) => self.setting_or(key, default),
            None => self.setting_str(key)?,
        };
        Url::parse(text.trim_end_matches('/')).map_err(|e| {
            Error::config(format!("the setting {key:?} is not a URL: {e}"))
                .with_field(format!("settings.{key}"))
                .with_provider(self.provider.as_str())
        })
    }

    /// The provider's API root: the [`BASE_URL`](crate::schema::BASE_URL) setting, or `default`
    /// when it is not set (`None`: required). Errors as for [`setting_url`](Self::setting_url).
    pub fn base_url(&self, default: Option<&str>) -> Result<Url> {
        self.setting_url(crate::schema::BASE_URL, default)
    }

    /// The secret `key`, or a [`Config`](crate::ErrorKind::Config) error naming `secrets.<key>`
    /// and the provider.
    pub fn secret(&self, key: &str) -> Result<&SecretString> {
        self.secrets.require(key).map_err(|e| e.with_provider(self.provider.as_str()))
    }
}
