//! [`ConfigStore`]: connection configurations at rest, secrets sealed.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::config::{ConnectionStatus, Settings};
use crate::crypto::SealedBox;
use crate::descriptor::Domain;
use crate::error::Result;
use crate::ids::{ConnectionId, ProviderId, TenantId};
use crate::mapping::Mappings;

/// A connection's configuration as stored: secrets sealed, with a revision for optimistic
/// concurrency. [`Connections`](crate::Connections) converts it to and from
/// [`IntegrationConfig`](crate::IntegrationConfig).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredConfig {
    /// The tenant.
    pub tenant: TenantId,
    /// The connection.
    pub connection: ConnectionId,
    /// The domain.
    pub domain: Domain,
    /// The provider.
    pub provider: ProviderId,
    /// Non-secret settings.
    pub settings: Settings,
    /// The secrets, sealed for this tenant and connection.
    pub sealed_secrets: SealedBox,
    /// Where the connection stands.
    pub status: ConnectionStatus,
    /// The provider's account id, once known.
    pub remote_account_id: Option<String>,
    /// When a sync last completed.
    pub last_sync_at: Option<DateTime<Utc>>,
    /// The revision: `0` before the first write; every write adds one.
    pub revision: u64,
    /// Field mappings and validation rules (checked before they are stored).
    #[serde(default)]
    pub mappings: Mappings,
    /// When it was last written.
    pub updated_at: DateTime<Utc>,
}

/// Stores connection configurations.
///
/// Contract (checked by the testkit's suite):
/// - [`ConfigStore::put`] is a compare-and-swap on `revision`: `0` creates (a
///   [`Conflict`](crate::ErrorKind::Conflict) if the connection exists), `n` replaces revision
///   `n` (a `Conflict` if the stored revision differs). It returns the new revision.
/// - [`ConfigStore::set_status`] and [`ConfigStore::set_last_sync_at`] change one field and bump
///   the revision; on a missing connection they fail with
///   [`NotFound`](crate::ErrorKind::NotFound).
/// - Nothing of one tenant is visible to, or changeable by, another.
#[async_trait]
pub trait ConfigStore: Send + Sync + std::fmt::Debug {
    /// Creates or replaces a configuration (compare-and-swap on `config.revision`).
    async fn put(&self, config: &StoredConfig) -> Result<u64>;

    /// The configuration of `tenant`'s `connection`.
    async fn get(&self, tenant: &TenantId, connection: &ConnectionId) -> Result<Option<StoredConfig>>;

    /// Every configuration of `tenant`, ordered by connection id.
    async fn list(&self, tenant: &TenantId) -> Result<Vec<StoredConfig>>;

    /// Deletes a configuration; `false` if there was none.
    async fn delete(&self, tenant: &TenantId, connection: &ConnectionId) -> Result<bool>;

    /// Sets the status; returns the new revision.
    async fn set_status(&self, tenant: &TenantId, connection: &ConnectionId, status: ConnectionStatus) -> Result<u64>;

    /// Records when a sync last completed; returns the new revision.
    async fn set_last_sync_at(&self, tenant: &TenantId, connection: &ConnectionId, at: DateTime<Utc>) -> Result<u64>;
}
