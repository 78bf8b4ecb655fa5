//! [`StaticConnections`]: a domain's connections the host built, by tenant and connection, for
//! the actions that write through them (`hris.update_employee`, `accounting.create_invoice`).

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, RwLock};

use integration_core::{ConnectionId, Error, Result, TenantId};

/// Adapters by tenant and connection.
type ByConnection<D> = HashMap<(TenantId, ConnectionId), Arc<D>>;

/// Connections of one domain (`D` is `dyn Hris`, `dyn Accounting`...) built by the host and
/// registered here; clones share them.
pub struct StaticConnections<D: ?Sized> {
    adapters: Arc<RwLock<ByConnection<D>>>,
}

impl<D: ?Sized> Default for StaticConnections<D> {
    fn default() -> Self {
        Self { adapters: Arc::new(RwLock::new(HashMap::new())) }
    }
}

impl<D: ?Sized> Clone for StaticConnections<D> {
    fn clone(&self) -> Self {
        Self { adapters: self.adapters.clone() }
    }
}

impl<D: ?Sized> fmt::Debug for StaticConnections<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.adapters.read().map_or(0, |a| a.len());
        f.debug_struct("StaticConnections").field("connections", &count).finish()
    }
}

impl<D: ?Sized> StaticConnections<D> {
    /// None yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `tenant`'s `connection`.
    pub fn insert(&self, tenant: TenantId, connection: ConnectionId, adapter: Arc<D>) {
        self.adapters.write().unwrap_or_else(|p| p.into_inner()).insert((tenant, connection), adapter);
    }

    /// `tenant`'s `connection`; a `NotFound` error naming the `domain` when there is none.
    ///
    /// # Errors
    /// `NotFound` for a connection not registered.
    pub fn get(&self, tenant: &TenantId, connection: &ConnectionId, domain: &str) -> Result<Arc<D>> {
        self.adapters
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&(tenant.clone(), connection.clone()))
            .cloned()
            .ok_or_else(|| Error::not_found(format!("tenant {tenant} has no {domain} connection {connection}")))
    }
}
