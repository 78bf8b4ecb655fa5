//! SCIM provisioning as automation triggers (feature `sso`): each change an identity provider
//! makes through the SCIM server — `scim.user.created`, `scim.user.deactivated`,
//! `scim.group.updated`… — starts the automations waiting for that event, so a deactivated user
//! starts the offboarding automation.
//!
//! ```
//! # use std::sync::Arc;
//! use integration_automation::{Actions, Engine};
//! use integration_automation::provisioning::TriggerOnProvisioning;
//! use integration_core::ConnectionId;
//! use integration_core::store::MemoryStore;
//! use integration_sso::scim::server::NoEvents;
//! # fn main() -> integration_core::Result<()> {
//! let engine = Engine::new(Arc::new(MemoryStore::new()), Actions::new());
//! // Give it to `ScimServer::with_events`; wrap what else should hear of the changes
//! // (`RevokeOnDeprovisioning` ends a deactivated user's sessions) instead of `NoEvents`.
//! let events = TriggerOnProvisioning::new(Arc::new(NoEvents), engine, ConnectionId::new("scim")?);
//! # let _ = events; Ok(()) }
//! ```
//!
//! An automation listens with `{"event": {"type": "scim.user.deactivated"}}`; its data holds
//! `event`, `connection` and `payload` — `tenant`, `id`, and `resource` (the user or group as the
//! server answers it, `null` once deleted).

use std::sync::Arc;

use async_trait::async_trait;
use integration_core::ConnectionId;
use integration_sso::scim::server::{Provisioned, ScimEvents};

use crate::Engine;

/// A [`ScimEvents`] that tells `inner` first (sessions ended, say), then starts `engine`'s
/// automations for the change — once per change: the key is the event, the resource and its
/// version, so a change reported again starts nothing new.
#[derive(Debug, Clone)]
pub struct TriggerOnProvisioning {
    inner: Arc<dyn ScimEvents>,
    engine: Engine,
    connection: ConnectionId,
}

impl TriggerOnProvisioning {
    /// Wraps `inner`, starting `engine`'s automations as events of `connection` (the name
    /// automations may filter on; the SCIM server has no connection of its own).
    pub fn new(inner: Arc<dyn ScimEvents>, engine: Engine, connection: ConnectionId) -> Self {
        Self { inner, engine, connection }
    }
}

#[async_trait]
impl ScimEvents for TriggerOnProvisioning {
    async fn provisioned(&self, change: Provisioned) {
        let event = change.to_event();
        let version = change
            .resource
            .as_ref()
            .and_then(|r| r.pointer("/meta/version"))
            .and_then(serde_json::Value::as_str)
            .unwrap_or("gone")
            .to_owned();
        let (tenant, id) = (change.tenant.clone(), change.id.clone());
        self.inner.provisioned(change).await;
        let key = format!("scim:{}:{id}:{version}", event.kind);
        // The change is stored already; a failure to enqueue is the host's store failing.
        if let Err(e) = self.engine.on_event(&tenant, &self.connection, &event, &key).await {
            tracing::error!(event = %event.kind, id = %id, error = %e, "a SCIM change could not start its automations");
        }
    }
}
