//! [`Connections`]: saves and loads [`IntegrationConfig`]s through a [`ConfigStore`], sealing
//! secrets on the way in and opening them on the way out, with an audit event and a tracing span
//! for every read and every decryption.
//!
//! The store only ever sees sealed secrets; plaintext exists only in the returned
//! [`IntegrationConfig`], whose secrets are [`secrecy`] types.

use std::fmt;
use std::sync::Arc;

use tracing::Instrument as _;

use crate::config::{ConnectionStatus, IntegrationConfig, Secrets};
use crate::crypto::{Binding, Purpose, Sealer};
use crate::error::{Error, ErrorKind, Result};
use crate::ids::{ConnectionId, TenantId};
use crate::store::{AuditAction, AuditEvent, AuditSink, ConfigStore, StoredConfig};

/// Sealed configuration storage with an audit trail.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use std::sync::Arc;
/// use integration_core::crypto::{KeyRing, Sealer, SealingKey};
/// use integration_core::store::{ConfigStore, MemoryStore};
/// use integration_core::{Connections, ConnectionId, Domain, IntegrationConfig, ProviderId, TenantId};
///
/// let store = MemoryStore::new();
/// let connections = Connections::new(
///     Arc::new(store.clone()),
///     Sealer::new(KeyRing::new("k1", SealingKey::generate())),
///     Arc::new(store.clone()),
/// );
/// let tenant = TenantId::new("acme").unwrap();
/// let conn = ConnectionId::new("hr").unwrap();
/// let config = IntegrationConfig::new(tenant.clone(), conn.clone(), Domain::Hris, ProviderId::new("bamboohr").unwrap())
///     .with_setting("subdomain", "acme")
///     .with_secret("api_key", "bhr-123");
/// connections.save(&config).await.unwrap();
///
/// // At rest: sealed.
/// let raw = store.get(&tenant, &conn).await.unwrap().unwrap();
/// assert!(!serde_json::to_string(&raw).unwrap().contains("bhr-123"));
///
/// // Loaded: usable, and audited.
/// let loaded = connections.load(&tenant, &conn).await.unwrap();
/// use secrecy::ExposeSecret;
/// assert_eq!(loaded.secret("api_key").unwrap().expose_secret(), "bhr-123");
/// assert_eq!(loaded.revision, 1);
/// assert!(!store.audit_events(&tenant).is_empty());
/// # });
/// ```
#[derive(Clone)]
pub struct Connections {
    store: Arc<dyn ConfigStore>,
    sealer: Sealer,
    audit: Arc<dyn AuditSink>,
}

impl fmt::Debug for Connections {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connections").field("store", &self.store).field("sealer", &self.sealer).finish_non_exhaustive()
    }
}

impl Connections {
    /// Connections over `store`, sealing with `sealer`, auditing to `audit`.
    pub fn new(store: Arc<dyn ConfigStore>, sealer: Sealer, audit: Arc<dyn AuditSink>) -> Self {
        Self { store, sealer, audit }
    }

    /// The sealer (shared with the token manager).
    pub fn sealer(&self) -> &Sealer {
        &self.sealer
    }

    /// Saves `config`, sealing its secrets. `config.revision` must be the stored revision (`0`
    /// for a new connection), or this fails with a [`Conflict`](ErrorKind::Conflict). Returns the
    /// new revision.
    ///
    /// The field mappings are checked first: a bad one is refused with a
    /// [`Config`](ErrorKind::Config) error naming its field (`mappings.rules[0].check.regex`). This
    /// does not check the configuration against the provider's schema, or the streams the
    /// mappings name against the adapter's: call [`Registry::validate`](crate::Registry::validate)
    /// first.
    pub async fn save(&self, config: &IntegrationConfig) -> Result<u64> {
        let span = tracing::debug_span!("integration.config.save", tenant = %config.tenant, connection = %config.connection, provider = %config.provider);
        async {
            crate::mapping::Mapper::compile(&config.mappings, None)?;
            let binding = Binding::new(Purpose::ConfigSecrets, &config.tenant, &config.connection);
            let sealed = self.sealer.seal(&config.secrets.to_plaintext(), &binding).await?;
            let key_id = sealed.key_id()?;
            let stored = StoredConfig {
                tenant: config.tenant.clone(),
                connection: config.connection.clone(),
                domain: config.domain,
                provider: config.provider.clone(),
                settings: config.settings.clone(),
                sealed_secrets: sealed,
                status: config.status,
                remote_account_id: config.remote_account_id.clone(),
                last_sync_at: config.last_sync_at,
                revision: config.revision,
                mappings: config.mappings.clone(),
                updated_at: chrono::Utc::now(),
            };
            let revision = self.store.put(&stored).await?;
            tracing::debug!(revision, key_id = %key_id, secrets = config.secrets.len(), "configuration saved, secrets sealed");
            self.emit(
                AuditEvent::new(config.tenant.clone(), AuditAction::ConfigWritten)
                    .connection(config.connection.clone())
                    .provider(config.provider.clone())
                    .detail(format!("revision {revision}; {} secret(s) sealed with key {key_id}", config.secrets.len())),
            )
            .await;
            Ok(revision)
        }
        .instrument(span)
        .await
    }

    /// Loads and opens a configuration. A missing one is a [`NotFound`](ErrorKind::NotFound)
    /// error. Records a `config_read` and a `credential_decrypted` audit event (a failed one when
    /// the secrets do not open).
    pub async fn load(&self, tenant: &TenantId, connection: &ConnectionId) -> Result<IntegrationConfig> {
        let span = tracing::debug_span!("integration.config.load", tenant = %tenant, connection = %connection, provider = tracing::field::Empty);
        async {
            let stored = self
                .store
                .get(tenant, connection)
                .await?
                .ok_or_else(|| Error::not_found(format!("tenant {tenant} has no connection {connection}")))?;
            tracing::Span::current().record("provider", stored.provider.as_str());
            self.emit(
                AuditEvent::new(tenant.clone(), AuditAction::ConfigRead)
                    .connection(connection.clone())
                    .provider(stored.provider.clone()),
            )
            .await;
            let secrets = self.open(&stored).await?;
            Ok(IntegrationConfig {
                tenant: stored.tenant,
                connection: stored.connection,
                domain: stored.domain,
                provider: stored.provider,
                settings: stored.settings,
                secrets,
                status: stored.status,
                remote_account_id: stored.remote_account_id,
                last_sync_at: stored.last_sync_at,
                revision: stored.revision,
                mappings: stored.mappings,
            })
        }
        .instrument(span)
        .await
    }

    async fn open(&self, stored: &StoredConfig) -> Result<Secrets> {
        let binding = Binding::new(Purpose::ConfigSecrets, &stored.tenant, &stored.connection);
        let event = AuditEvent::new(stored.tenant.clone(), AuditAction::CredentialDecrypted)
            .connection(stored.connection.clone())
            .provider(stored.provider.clone());
        let opened = match self.sealer.open(&stored.sealed_secrets, &binding).await {
            Ok(plaintext) => Secrets::from_plaintext(&plaintext),
            Err(e) => Err(e),
        };
        match opened {
            Ok(secrets) => {
                tracing::debug!(key_id = %stored.sealed_secrets.key_id()?, secrets = secrets.len(), "credentials decrypted");
                self.emit(event.detail(format!("key {}", stored.sealed_secrets.key_id()?))).await;
                Ok(secrets)
            }
            Err(e) => {
                tracing::warn!(error = %e, "credentials did not open");
                self.emit(event.failed(e.to_string())).await;
                Err(e.with_provider(stored.provider.as_str()))
            }
        }
    }

    /// Every configuration of `tenant` as stored (secrets still sealed), by connection id.
    pub async fn list(&self, tenant: &TenantId) -> Result<Vec<StoredConfig>> {
        self.store.list(tenant).await
    }

    /// Deletes a configuration; `false` if there was none.
    pub async fn delete(&self, tenant: &TenantId, connection: &ConnectionId) -> Result<bool> {
        let deleted = self.store.delete(tenant, connection).await?;
        if deleted {
            self.emit(AuditEvent::new(tenant.clone(), AuditAction::ConfigDeleted).connection(connection.clone())).await;
        }
        Ok(deleted)
    }

    /// A configuration as stored (secrets still sealed); `None` if there is no such connection.
    pub async fn stored(&self, tenant: &TenantId, connection: &ConnectionId) -> Result<Option<StoredConfig>> {
        self.store.get(tenant, connection).await
    }

    /// Changes a connection's settings with `change`, without opening its secrets; returns the
    /// new revision. A concurrent writer's change is read again and `change` applied to it (up
    /// to five times, then a [`Conflict`](crate::ErrorKind::Conflict) error).
    ///
    /// # Errors
    /// [`NotFound`](crate::ErrorKind::NotFound) when there is no such connection; a store error.
    pub async fn update_settings(
        &self,
        tenant: &TenantId,
        connection: &ConnectionId,
        change: impl Fn(&mut crate::config::Settings) + Send + Sync,
    ) -> Result<u64> {
        let mut tries = 0;
        loop {
            let Some(mut stored) = self.store.get(tenant, connection).await? else {
                return Err(Error::not_found(format!("tenant {tenant} has no connection {connection}")));
            };
            change(&mut stored.settings);
            match self.store.put(&stored).await {
                Ok(revision) => {
                    self.emit(
                        AuditEvent::new(tenant.clone(), AuditAction::ConfigWritten)
                            .connection(connection.clone())
                            .detail("settings changed"),
                    )
                    .await;
                    return Ok(revision);
                }
                Err(e) if e.kind() == crate::ErrorKind::Conflict && tries < 4 => tries += 1,
                Err(e) => return Err(e),
            }
        }
    }

    /// A connection's status, read without opening its secrets; `None` if there is no such
    /// connection.
    pub async fn status(&self, tenant: &TenantId, connection: &ConnectionId) -> Result<Option<ConnectionStatus>> {
        Ok(self.store.get(tenant, connection).await?.map(|stored| stored.status))
    }

    /// Sets a connection's status; returns the new revision.
    pub async fn set_status(
        &self,
        tenant: &TenantId,
        connection: &ConnectionId,
        status: ConnectionStatus,
    ) -> Result<u64> {
        let revision = self.store.set_status(tenant, connection, status).await?;
        self.emit(
            AuditEvent::new(tenant.clone(), AuditAction::StatusChanged)
                .connection(connection.clone())
                .detail(format!("status {status}")),
        )
        .await;
        Ok(revision)
    }

    /// Re-seals every configuration of `tenant` that is not sealed under the current key (after a
    /// key rotation). Returns how many were re-sealed. A configuration changed concurrently is
    /// left for the next call (its writer sealed it under the current key anyway).
    pub async fn reseal_all(&self, tenant: &TenantId) -> Result<usize> {
        let mut count = 0;
        for stored in self.store.list(tenant).await? {
            if !self.sealer.needs_reseal(&stored.sealed_secrets).await? {
                continue;
            }
            let binding = Binding::new(Purpose::ConfigSecrets, &stored.tenant, &stored.connection);
            let sealed = self.sealer.reseal(&stored.sealed_secrets, &binding).await?;
            let key_id = sealed.key_id()?;
            let updated = StoredConfig { sealed_secrets: sealed, updated_at: chrono::Utc::now(), ..stored.clone() };
            match self.store.put(&updated).await {
                Ok(_) => {
                    count += 1;
                    self.emit(
                        AuditEvent::new(tenant.clone(), AuditAction::CredentialResealed)
                            .connection(stored.connection.clone())
                            .provider(stored.provider.clone())
                            .detail(format!("now sealed with key {key_id}")),
                    )
                    .await;
                }
                Err(e) if e.kind() == ErrorKind::Conflict => {}
                Err(e) => return Err(e),
            }
        }
        Ok(count)
    }

    /// Audit failures must not fail the operation they describe, but they must be seen.
    async fn emit(&self, event: AuditEvent) {
        let action = event.action;
        if let Err(e) = self.audit.audit(event).await {
            tracing::error!(action = action.as_str(), error = %e, "the audit sink failed to record an event");
        }
    }
}
