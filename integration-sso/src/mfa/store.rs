//! Where MFA enrolments live: a host trait ([`MfaStore`]) with a version on each record, so
//! every change is a compare-and-swap — two sign-ins racing with the same code cannot both
//! win — and [`MemoryMfaStore`] for tests and single-process hosts.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use integration_core::crypto::SealedBox;
use integration_core::{Result, TenantId};
use serde::{Deserialize, Serialize};

use super::recovery::RecoveryCodes;

/// A user's MFA enrolment as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MfaRecord {
    /// The TOTP secret, sealed (bound to the tenant and the user).
    pub secret: String,
    /// Whether the user proved the enrolment with a first code.
    pub confirmed: bool,
    /// The last TOTP step a code was accepted at: no code of it or before is taken again.
    pub last_step: Option<u64>,
    /// The recovery codes left (digests).
    pub recovery: RecoveryCodes,
    /// Failed attempts since the last success.
    pub failures: u32,
    /// Until when attempts are refused after too many failures.
    pub locked_until: Option<DateTime<Utc>>,
    /// The record's version: each save names the version it read.
    pub version: u64,
}

impl MfaRecord {
    /// A new, unconfirmed enrolment around `secret`.
    pub fn new(secret: &SealedBox, recovery: RecoveryCodes) -> Self {
        Self {
            secret: secret.as_str().to_owned(),
            confirmed: false,
            last_step: None,
            recovery,
            failures: 0,
            locked_until: None,
            version: 0,
        }
    }
}

/// Storage for MFA enrolments, supplied by the host (keyed by tenant and user id).
#[async_trait]
pub trait MfaStore: Send + Sync + std::fmt::Debug {
    /// The user's record, if enrolled.
    async fn load(&self, tenant: &TenantId, user: &str) -> Result<Option<MfaRecord>>;

    /// Saves `record` if the stored one is still at `expected` (`None`: there is none), with
    /// the version bumped; `false` when another writer got there first (read again and retry).
    async fn save(&self, tenant: &TenantId, user: &str, record: &MfaRecord, expected: Option<u64>) -> Result<bool>;

    /// Removes the user's record (MFA reset by an administrator).
    async fn remove(&self, tenant: &TenantId, user: &str) -> Result<()>;
}

/// [`MfaStore`] in memory.
#[derive(Debug, Default)]
pub struct MemoryMfaStore {
    records: Mutex<HashMap<(TenantId, String), MfaRecord>>,
}

impl MemoryMfaStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl MfaStore for MemoryMfaStore {
    async fn load(&self, tenant: &TenantId, user: &str) -> Result<Option<MfaRecord>> {
        let records = self.records.lock().unwrap_or_else(|p| p.into_inner());
        Ok(records.get(&(tenant.clone(), user.to_owned())).cloned())
    }

    async fn save(&self, tenant: &TenantId, user: &str, record: &MfaRecord, expected: Option<u64>) -> Result<bool> {
        let mut records = self.records.lock().unwrap_or_else(|p| p.into_inner());
        let key = (tenant.clone(), user.to_owned());
        if records.get(&key).map(|r| r.version) != expected {
            return Ok(false);
        }
        let mut saved = record.clone();
        saved.version = expected.map_or(1, |v| v + 1);
        records.insert(key, saved);
        Ok(true)
    }

    async fn remove(&self, tenant: &TenantId, user: &str) -> Result<()> {
        self.records.lock().unwrap_or_else(|p| p.into_inner()).remove(&(tenant.clone(), user.to_owned()));
        Ok(())
    }
}
