//! Data residency: a connection carries a [`Region`] (a country, or a province or state of
//! one), and what it produces — cached records, delivered files — is written only where the
//! host has marked that region allowed. Anything else is refused **before** the write, and the
//! refusal is audited.
//!
//! - A connection's region is its `region` setting ([`IntegrationConfig::with_region`],
//!   [`IntegrationConfig::region`]); a connection without one is not bound anywhere.
//! - A store or destination says where it keeps data with a [`Placement`]: a name and the
//!   regions it serves. A country admits its subdivisions (`CA` admits `CA-QC`); a subdivision
//!   admits only itself.
//! - [`Residency::check`] decides and audits; [`ResidentRecordStore`] wraps a host's
//!   [`RecordStore`] so that every write of a connection bound elsewhere is refused.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! use std::sync::Arc;
//! use integration_core::crypto::{KeyRing, Sealer, SealingKey};
//! use integration_core::residency::{Placement, Region, Residency, ResidentRecordStore};
//! use integration_core::store::{MemoryStore, PageWrite, RecordStore, StreamScope};
//! use integration_core::{Connections, ConnectionId, Domain, ErrorKind, IntegrationConfig, ProviderId, Record, TenantId};
//!
//! let memory = Arc::new(MemoryStore::new());
//! let connections = Connections::new(memory.clone(), Sealer::new(KeyRing::new("k1", SealingKey::generate())), memory.clone());
//! let tenant = TenantId::new("acme").unwrap();
//! let connection = ConnectionId::new("sunlife").unwrap();
//! let config = IntegrationConfig::new(tenant.clone(), connection.clone(), Domain::Benefits, ProviderId::new("sun_life").unwrap())
//!     .with_region(Region::new("CA-QC").unwrap());
//! connections.save(&config).await.unwrap();
//!
//! let residency = Residency::new(memory.clone(), memory.clone());
//! let us_store = ResidentRecordStore::new(memory.clone(), Placement::new("us-east replica", [Region::new("US").unwrap()]), residency);
//! let scope = StreamScope::new(tenant, connection, "members");
//! let page = PageWrite::new(vec![Record::new("E0001", serde_json::json!({"name": "Zoé"}))], None, None);
//! let refused = us_store.write_page(&scope, page).await.unwrap_err();
//! assert_eq!(refused.kind(), ErrorKind::Forbidden);
//! assert!(memory.record(&scope, "E0001").await.unwrap().is_none(), "nothing was written");
//! assert!(memory.audit_events(&scope.tenant).iter().any(|e| e.action.as_str() == "residency_refused"));
//! # });
//! ```

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::config::IntegrationConfig;
use crate::error::{Error, ErrorKind, Result};
use crate::ids::{ConnectionId, RunId, TenantId};
use crate::integration::Checkpoint;
use crate::store::{
    AuditAction, AuditEvent, AuditSink, ChangeBatch, ChangeCursor, ConfigStore, PageWrite, RecordStore, StoredRecord,
    StreamScope, WriteSummary,
};

/// The setting that holds a connection's region.
pub const REGION_SETTING: &str = "region";

/// A region: an ISO 3166-1 country code (`CA`), or a country and one of its subdivisions as in
/// ISO 3166-2 (`CA-QC`, `CA-ON`, `US-CA`). Held in capitals.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Region(String);

impl Region {
    /// A region from its code, in any case.
    ///
    /// # Errors
    /// A [`Validation`](ErrorKind::Validation) error when it is not two letters, optionally
    /// followed by `-` and one to three letters or digits.
    pub fn new(code: impl Into<String>) -> Result<Self> {
        let code = code.into().trim().to_ascii_uppercase();
        let (country, subdivision) = match code.split_once('-') {
            Some((c, s)) => (c, Some(s)),
            None => (code.as_str(), None),
        };
        let country_ok = country.len() == 2 && country.chars().all(|c| c.is_ascii_uppercase());
        let subdivision_ok =
            subdivision.is_none_or(|s| (1..=3).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric()));
        if !country_ok || !subdivision_ok {
            return Err(Error::validation(
                REGION_SETTING,
                format!("{code:?} is not a region: use an ISO 3166 code such as \"CA\" or \"CA-QC\""),
            ));
        }
        Ok(Self(code))
    }

    /// The country (`CA` of `CA-QC`).
    pub fn country(&self) -> &str {
        &self.0[..2]
    }

    /// Whether data bound to `other` may be kept in this region: the same region, or this
    /// region is `other`'s whole country.
    pub fn contains(&self, other: &Region) -> bool {
        self == other || (self.0.len() == 2 && other.country() == self.0)
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Region {
    type Error = Error;
    fn try_from(code: String) -> Result<Self> {
        Self::new(code)
    }
}

impl From<Region> for String {
    fn from(region: Region) -> Self {
        region.0
    }
}

impl IntegrationConfig {
    /// Binds the connection's data to `region`.
    #[must_use]
    pub fn with_region(self, region: Region) -> Self {
        self.with_setting(REGION_SETTING, region.0)
    }

    /// The region the connection's data is bound to, if any.
    ///
    /// # Errors
    /// A [`Validation`](ErrorKind::Validation) error when the `region` setting is not a region.
    pub fn region(&self) -> Result<Option<Region>> {
        region_of_settings(&self.settings)
    }
}

fn region_of_settings(settings: &crate::config::Settings) -> Result<Option<Region>> {
    match settings.get(REGION_SETTING) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(code)) => Region::new(code.clone()).map(Some),
        Some(other) => Err(Error::validation(REGION_SETTING, format!("{other} is not a region code"))),
    }
}

/// Where a store or destination keeps what is written to it: a name (for messages and the
/// audit log) and the regions it serves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placement {
    /// What it is (`"records: ca-central-1"`, `"Sun Life drop box"`).
    pub name: String,
    /// The regions it may keep data of.
    pub regions: Vec<Region>,
}

impl Placement {
    /// A placement named `name` serving `regions`.
    pub fn new(name: impl Into<String>, regions: impl IntoIterator<Item = Region>) -> Self {
        Self { name: name.into(), regions: regions.into_iter().collect() }
    }

    /// Whether data bound to `region` may be kept here.
    pub fn admits(&self, region: &Region) -> bool {
        self.regions.iter().any(|r| r.contains(region))
    }
}

/// Decides whether a connection's data may be written to a [`Placement`], and audits every
/// refusal.
#[derive(Debug, Clone)]
pub struct Residency {
    configs: Arc<dyn ConfigStore>,
    audit: Arc<dyn AuditSink>,
}

impl Residency {
    /// Regions read from the connections' configurations in `configs`; refusals written to
    /// `audit`.
    pub fn new(configs: Arc<dyn ConfigStore>, audit: Arc<dyn AuditSink>) -> Self {
        Self { configs, audit }
    }

    /// The region `connection` of `tenant` is bound to (`None`: not bound, or not configured).
    ///
    /// # Errors
    /// The configuration store failing, or a `region` setting that is not a region.
    pub async fn region_of(&self, tenant: &TenantId, connection: &ConnectionId) -> Result<Option<Region>> {
        match self.configs.get(tenant, connection).await? {
            Some(stored) => region_of_settings(&stored.settings),
            None => Ok(None),
        }
    }

    /// `Ok` when `connection`'s data may be written to `placement` (`what` names the write);
    /// otherwise a [`Forbidden`](ErrorKind::Forbidden) error, after an audit event
    /// (`residency_refused`) naming the connection, its region and the placement.
    ///
    /// # Errors
    /// The refusal above; the configuration store failing; an unreadable region (refused too:
    /// a write is never let through on a region that cannot be read).
    pub async fn check(
        &self,
        tenant: &TenantId,
        connection: &ConnectionId,
        placement: &Placement,
        what: &str,
    ) -> Result<()> {
        let region = match self.region_of(tenant, connection).await {
            Ok(None) => return Ok(()),
            Ok(Some(region)) if placement.admits(&region) => return Ok(()),
            Ok(Some(region)) => region.to_string(),
            Err(e) if e.kind() == ErrorKind::Validation => format!("unreadable ({})", e.message()),
            Err(e) => return Err(e),
        };
        let served: Vec<&str> = placement.regions.iter().map(Region::as_str).collect();
        let reason = format!(
            "{what} of connection {connection} (bound to {region}) refused: {} serves {served:?}",
            placement.name
        );
        self.audit
            .audit(
                AuditEvent::new(tenant.clone(), AuditAction::ResidencyRefused)
                    .connection(connection.clone())
                    .failed(reason.clone()),
            )
            .await?;
        Err(Error::new(
            ErrorKind::Forbidden,
            format!("{reason}; write it to a store marked for {region}, or change the connection's region"),
        ))
    }
}

/// A [`RecordStore`] marked with a [`Placement`]: every write (`write_page`, `delete_unseen`)
/// of a connection bound to a region the placement does not serve is refused before it reaches
/// the store, and audited. Reads pass through.
#[derive(Debug, Clone)]
pub struct ResidentRecordStore {
    inner: Arc<dyn RecordStore>,
    placement: Placement,
    residency: Residency,
}

impl ResidentRecordStore {
    /// `inner`, keeping data of `placement`'s regions only.
    pub fn new(inner: Arc<dyn RecordStore>, placement: Placement, residency: Residency) -> Self {
        Self { inner, placement, residency }
    }

    /// Where it keeps data.
    pub fn placement(&self) -> &Placement {
        &self.placement
    }
}

#[async_trait]
impl RecordStore for ResidentRecordStore {
    async fn write_page(&self, scope: &StreamScope, page: PageWrite) -> Result<WriteSummary> {
        let what = format!("writing {} records of stream {}", page.records.len(), scope.stream);
        self.residency.check(&scope.tenant, &scope.connection, &self.placement, &what).await?;
        self.inner.write_page(scope, page).await
    }

    async fn delete_unseen(&self, scope: &StreamScope, run: RunId, checkpoint: Option<&Checkpoint>) -> Result<u64> {
        let what = format!("deleting records of stream {}", scope.stream);
        self.residency.check(&scope.tenant, &scope.connection, &self.placement, &what).await?;
        self.inner.delete_unseen(scope, run, checkpoint).await
    }

    async fn record(&self, scope: &StreamScope, remote_id: &str) -> Result<Option<StoredRecord>> {
        self.inner.record(scope, remote_id).await
    }

    async fn records(
        &self,
        scope: &StreamScope,
        after: Option<&str>,
        limit: usize,
        include_deleted: bool,
    ) -> Result<Vec<StoredRecord>> {
        self.inner.records(scope, after, limit, include_deleted).await
    }

    async fn changes_since(
        &self,
        tenant: &TenantId,
        cursor: Option<&ChangeCursor>,
        limit: usize,
    ) -> Result<ChangeBatch> {
        self.inner.changes_since(tenant, cursor, limit).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_are_iso_codes_and_countries_hold_their_subdivisions() {
        let qc = Region::new("ca-qc").unwrap();
        assert_eq!(qc.as_str(), "CA-QC");
        let ca = Region::new("CA").unwrap();
        assert!(ca.contains(&qc) && qc.contains(&qc));
        assert!(!qc.contains(&ca), "a province does not hold the whole country");
        assert!(!Region::new("CA-ON").unwrap().contains(&qc));
        assert!(!Region::new("US").unwrap().contains(&qc));
        for bad in ["", "C", "CAN", "CA-", "CA-QUEB", "C1", "CA QC", "ÉU"] {
            assert_eq!(Region::new(bad).unwrap_err().kind(), ErrorKind::Validation, "{bad:?}");
        }
        let placement = Placement::new("canada", [ca]);
        assert!(placement.admits(&qc));
        assert!(!Placement::new("nowhere", []).admits(&qc));
    }

    #[test]
    fn a_region_setting_that_is_not_a_region_is_an_error_not_unbound() {
        let config = IntegrationConfig::new(
            TenantId::new("t").unwrap(),
            ConnectionId::new("c").unwrap(),
            crate::Domain::Benefits,
            crate::ProviderId::new("p").unwrap(),
        );
        assert_eq!(config.region().unwrap(), None);
        assert_eq!(config.clone().with_setting(REGION_SETTING, 7).region().unwrap_err().kind(), ErrorKind::Validation);
        assert_eq!(config.with_setting(REGION_SETTING, "Quebec").region().unwrap_err().kind(), ErrorKind::Validation);
    }
}
