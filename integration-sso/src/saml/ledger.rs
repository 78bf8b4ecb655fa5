//! The assertions already used, so that none is accepted twice (SAML 2.0 profiles §4.1.4.5):
//! a host trait ([`AssertionLedger`]) — a shared database when several workers take logins —
//! and [`MemoryAssertionLedger`] for one process.

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use integration_core::{Result, TenantId};

/// The used assertion IDs, supplied by the host.
#[async_trait]
pub trait AssertionLedger: Send + Sync + std::fmt::Debug {
    /// Records that `tenant` accepted the assertion `id` from `issuer`, to be remembered until
    /// `until`: `true` the first time, `false` when it is already recorded and not forgotten
    /// yet at `now`. Atomic: of two callers at once, one gets `true`.
    async fn first_use(
        &self,
        tenant: &TenantId,
        issuer: &str,
        id: &str,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool>;
}

type Key = (TenantId, String, String);

/// [`AssertionLedger`] in memory; entries past their time are dropped as new ones come.
#[derive(Debug, Default)]
pub struct MemoryAssertionLedger {
    used: Mutex<BTreeMap<Key, DateTime<Utc>>>,
}

impl MemoryAssertionLedger {
    /// An empty ledger.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl AssertionLedger for MemoryAssertionLedger {
    async fn first_use(
        &self,
        tenant: &TenantId,
        issuer: &str,
        id: &str,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let mut used = self.used.lock().unwrap_or_else(|p| p.into_inner());
        if used.len() >= 1024 && used.len().is_power_of_two() {
            used.retain(|_, kept_until| *kept_until > now);
        }
        let key = (tenant.clone(), issuer.to_owned(), id.to_owned());
        match used.get(&key) {
            Some(kept_until) if *kept_until > now => Ok(false),
            _ => {
                used.insert(key, until);
                Ok(true)
            }
        }
    }
}
