//! Where SCIM resources live: a host trait ([`ScimStore`]) — every method scoped to a tenant,
//! every change a compare-and-swap on the resource's version, `userName` unique per tenant
//! without regard to case — and [`MemoryScimStore`].

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;
use integration_core::{Result, TenantId};

use super::resource::{ResourceType, Stored, StoredKind};

/// What a write found.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Written {
    /// Written: the resource as stored.
    Done(Stored),
    /// Another resource of the tenant holds this unique value (`userName`).
    NotUnique(String),
    /// The resource is not at the version the write expected (or is gone).
    Stale,
}

/// Storage for SCIM resources, supplied by the host.
#[async_trait]
pub trait ScimStore: Send + Sync + std::fmt::Debug {
    /// Stores a new resource.
    async fn create(&self, tenant: &TenantId, resource: Stored) -> Result<Written>;

    /// The resource `id` of `kind`, if any.
    async fn get(&self, tenant: &TenantId, kind: ResourceType, id: &str) -> Result<Option<Stored>>;

    /// Replaces the resource if it is still at `expected`.
    async fn replace(&self, tenant: &TenantId, resource: Stored, expected: u64) -> Result<Written>;

    /// Deletes the resource `id` of `kind`; whether it was there.
    async fn delete(&self, tenant: &TenantId, kind: ResourceType, id: &str) -> Result<bool>;

    /// Every resource of `kind` in the tenant, in a stable order (by id). The server filters,
    /// sorts and pages them.
    async fn list(&self, tenant: &TenantId, kind: ResourceType) -> Result<Vec<Stored>>;
}

/// The unique value of a resource: a user's `userName`, lowercased.
pub fn unique_key(resource: &Stored) -> Option<String> {
    match resource.kind {
        StoredKind::User => resource.attributes.get("userName").and_then(|v| v.as_str()).map(str::to_lowercase),
        StoredKind::Group => None,
    }
}

/// [`ScimStore`] in memory.
#[derive(Debug, Default)]
pub struct MemoryScimStore {
    resources: Mutex<BTreeMap<(TenantId, ResourceType, String), Stored>>,
}

impl MemoryScimStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn clash(
        resources: &BTreeMap<(TenantId, ResourceType, String), Stored>,
        tenant: &TenantId,
        resource: &Stored,
    ) -> Option<String> {
        let key = unique_key(resource)?;
        resources
            .iter()
            .any(|((t, _, id), other)| {
                t == tenant && *id != resource.id && unique_key(other).as_deref() == Some(key.as_str())
            })
            .then_some(key)
    }
}

#[async_trait]
impl ScimStore for MemoryScimStore {
    async fn create(&self, tenant: &TenantId, resource: Stored) -> Result<Written> {
        let mut resources = self.resources.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(value) = Self::clash(&resources, tenant, &resource) {
            return Ok(Written::NotUnique(value));
        }
        resources.insert((tenant.clone(), resource.kind.into(), resource.id.clone()), resource.clone());
        Ok(Written::Done(resource))
    }

    async fn get(&self, tenant: &TenantId, kind: ResourceType, id: &str) -> Result<Option<Stored>> {
        let resources = self.resources.lock().unwrap_or_else(|p| p.into_inner());
        Ok(resources.get(&(tenant.clone(), kind, id.to_owned())).cloned())
    }

    async fn replace(&self, tenant: &TenantId, resource: Stored, expected: u64) -> Result<Written> {
        let mut resources = self.resources.lock().unwrap_or_else(|p| p.into_inner());
        let key = (tenant.clone(), resource.kind.into(), resource.id.clone());
        if resources.get(&key).map(|r| r.version) != Some(expected) {
            return Ok(Written::Stale);
        }
        if let Some(value) = Self::clash(&resources, tenant, &resource) {
            return Ok(Written::NotUnique(value));
        }
        resources.insert(key, resource.clone());
        Ok(Written::Done(resource))
    }

    async fn delete(&self, tenant: &TenantId, kind: ResourceType, id: &str) -> Result<bool> {
        let mut resources = self.resources.lock().unwrap_or_else(|p| p.into_inner());
        Ok(resources.remove(&(tenant.clone(), kind, id.to_owned())).is_some())
    }

    async fn list(&self, tenant: &TenantId, kind: ResourceType) -> Result<Vec<Stored>> {
        let resources = self.resources.lock().unwrap_or_else(|p| p.into_inner());
        Ok(resources.iter().filter(|((t, k, _), _)| t == tenant && *k == kind).map(|(_, r)| r.clone()).collect())
    }
}
