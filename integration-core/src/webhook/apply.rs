//! [`ApplyToCache`]: the usual [`DeliveryHandler`] — the connection's adapter maps the delivery
//! ([`Integration::handle_webhook`]), then its record changes take the sync engine's write path
//! ([`SyncEngine::apply_changes`]), so a webhook and a sync never disagree about a record.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, RwLock};

use async_trait::async_trait;

use super::DeliveryHandler;
use crate::error::{Error, Result};
use crate::ids::{ConnectionId, TenantId};
use crate::integration::{Integration, VerifiedWebhook, WebhookOutcome};
use crate::store::WebhookDelivery;
use crate::sync::SyncEngine;

/// Finds the adapter serving a connection.
#[async_trait]
pub trait AdapterLookup: Send + Sync + fmt::Debug {
    /// The adapter for `tenant`'s `connection`; a [`NotFound`](crate::ErrorKind::NotFound) error
    /// when there is none (the delivery is then dead-lettered).
    async fn adapter(&self, tenant: &TenantId, connection: &ConnectionId) -> Result<Arc<dyn Integration>>;
}

/// Adapters registered by hand, for hosts that build theirs at start-up.
#[derive(Debug, Default)]
pub struct Adapters {
    map: RwLock<HashMap<(TenantId, ConnectionId), Arc<dyn Integration>>>,
}

impl Adapters {
    /// No adapters.
    pub fn new() -> Self {
        Self::default()
    }

    /// Serves `tenant`'s `connection` with `adapter` (replacing any previous one).
    pub fn insert(&self, tenant: TenantId, connection: ConnectionId, adapter: Arc<dyn Integration>) {
        if let Ok(mut map) = self.map.write() {
            map.insert((tenant, connection), adapter);
        }
    }
}

#[async_trait]
impl AdapterLookup for Adapters {
    async fn adapter(&self, tenant: &TenantId, connection: &ConnectionId) -> Result<Arc<dyn Integration>> {
        let found = self.map.read().ok().and_then(|map| map.get(&(tenant.clone(), connection.clone())).cloned());
        found.ok_or_else(|| Error::not_found(format!("no adapter serves connection {connection} of tenant {tenant}")))
    }
}

/// Maps each delivery with its connection's adapter and applies the changes to the records
/// cache: a delivery and a sync never disagree about a record.
#[derive(Debug, Clone)]
pub struct ApplyToCache {
    adapters: Arc<dyn AdapterLookup>,
    engine: SyncEngine,
}

impl ApplyToCache {
    /// A handler finding adapters in `adapters` and writing through `engine`.
    pub fn new(adapters: Arc<dyn AdapterLookup>, engine: SyncEngine) -> Self {
        Self { adapters, engine }
    }
}

#[async_trait]
impl DeliveryHandler for ApplyToCache {
    async fn handle(&self, delivery: &WebhookDelivery, webhook: VerifiedWebhook) -> Result<WebhookOutcome> {
        let adapter = self.adapters.adapter(&delivery.tenant, &delivery.connection).await?;
        let outcome = adapter.handle_webhook(webhook).await?;
        self.engine.apply_changes(&delivery.tenant, &delivery.connection, &outcome.changes).await?;
        Ok(outcome)
    }
}
