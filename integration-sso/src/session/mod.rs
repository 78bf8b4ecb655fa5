//! Sessions of the host's users: made at sign-in, ended by an idle timeout, an absolute timeout,
//! a logout, the host, or the identity provider deprovisioning the user (SCIM deactivation or
//! deletion: [`RevokeOnDeprovisioning`]). The token a browser holds is 256 random bits; the store
//! keeps only its SHA-256 digest, so a leaked store opens no session.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! use std::sync::Arc;
//! use chrono::{Duration, Utc};
//! use integration_core::TenantId;
//! use integration_sso::session::{Check, Ended, SessionPolicy, Sessions, store::MemorySessionStore};
//!
//! let sessions = Sessions::new(Arc::new(MemorySessionStore::new()), SessionPolicy::new(Duration::minutes(30), Duration::hours(12)));
//! let tenant = TenantId::new("acme")?;
//! let now = Utc::now();
//! let (token, _) = sessions.start(&tenant, "user-42", ["admin".to_owned()].into(), now).await?;
//! assert!(matches!(sessions.check(&token, now + Duration::minutes(20)).await?, Check::Valid(_)));
//! // Forty idle minutes later: ended.
//! assert_eq!(sessions.check(&token, now + Duration::minutes(61)).await?, Check::Ended(Ended::Idle));
//! # Ok::<(), integration_core::Error>(())
//! # }).unwrap();
//! ```

pub mod store;

use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use integration_core::{Error, Result, TenantId};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use self::store::SessionStore;
use crate::scim::resource::ResourceType;
use crate::scim::server::{Provisioned, ProvisioningChange, ScimEvents};

/// How long sessions last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionPolicy {
    /// Ended after this long without a check.
    pub idle: Duration,
    /// Ended this long after it began, however active.
    pub absolute: Duration,
}

impl SessionPolicy {
    /// `idle` and `absolute` timeouts (the absolute one at least the idle one).
    pub fn new(idle: Duration, absolute: Duration) -> Self {
        Self { idle, absolute: absolute.max(idle) }
    }
}

impl Default for SessionPolicy {
    /// Thirty idle minutes, twelve hours in all.
    fn default() -> Self {
        Self::new(Duration::minutes(30), Duration::hours(12))
    }
}

/// A session as stored: everything but its token.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct Session {
    /// Its id: the token's SHA-256 digest, hex (what the store is keyed by).
    pub id: String,
    /// The tenant.
    pub tenant: TenantId,
    /// The user (the host's id for them: with SCIM, the SCIM resource id).
    pub user: String,
    /// The roles the sign-in granted.
    pub roles: BTreeSet<String>,
    /// When it began.
    pub started_at: DateTime<Utc>,
    /// When it was last checked.
    pub seen_at: DateTime<Utc>,
    /// When it ends whatever happens.
    pub expires_at: DateTime<Utc>,
    /// Why it was revoked, if it was.
    pub revoked: Option<String>,
}

impl Session {
    /// A session as a store read it back: its digest id, tenant, user, roles, (started, seen,
    /// expires) times, and revocation reason.
    pub fn stored(
        id: String,
        tenant: TenantId,
        user: String,
        roles: BTreeSet<String>,
        (started_at, seen_at, expires_at): (DateTime<Utc>, DateTime<Utc>, DateTime<Utc>),
        revoked: Option<String>,
    ) -> Self {
        Self { id, tenant, user, roles, started_at, seen_at, expires_at, revoked }
    }
}

/// Why a session is over.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Ended {
    /// Unused for longer than the idle timeout.
    Idle,
    /// Past its absolute timeout.
    Absolute,
    /// Revoked (logout, the host, deprovisioning), with the reason.
    Revoked(String),
    /// No such session (never made, or removed).
    Unknown,
}

/// What checking a session's token found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Check {
    /// Live: its last use is now.
    Valid(Session),
    /// Over, and why.
    Ended(Ended),
}

/// The digest a token is stored under.
fn digest(token: &str) -> String {
    integration_core::hex::encode(&Sha256::digest(token.as_bytes()))
}

/// Sessions over a host store.
#[derive(Debug, Clone)]
pub struct Sessions {
    store: Arc<dyn SessionStore>,
    policy: SessionPolicy,
    audit: crate::audit::Audit,
}

impl Sessions {
    /// Sessions kept in `store`, timed by `policy`.
    pub fn new(store: Arc<dyn SessionStore>, policy: SessionPolicy) -> Self {
        Self { store, policy, audit: Default::default() }
    }

    /// With sessions ended early recorded in `sink` (`session_ended`: the user and the reason).
    pub fn with_audit(mut self, sink: Arc<dyn integration_core::store::AuditSink>) -> Self {
        self.audit = crate::audit::Audit::to(sink);
        self
    }

    /// Begins a session for `user` of `tenant` with `roles`: the token to hand the browser
    /// (once; only its digest is stored) and the session.
    ///
    /// # Errors
    /// The store's errors; a `Crypto` error without randomness.
    pub async fn start(
        &self,
        tenant: &TenantId,
        user: &str,
        roles: BTreeSet<String>,
        now: DateTime<Utc>,
    ) -> Result<(SecretString, Session)> {
        let bytes = integration_core::crypto::random_bytes(32)?;
        let token = integration_core::hex::encode(&bytes);
        let session = Session {
            id: digest(&token),
            tenant: tenant.clone(),
            user: user.to_owned(),
            roles,
            started_at: now,
            seen_at: now,
            expires_at: now + self.policy.absolute,
            revoked: None,
        };
        self.store.create(&session).await?;
        Ok((SecretString::from(token), session))
    }

    /// Checks `token` at `now`: valid (and marked used now), or ended and why.
    ///
    /// # Errors
    /// The store's errors.
    pub async fn check(&self, token: &SecretString, now: DateTime<Utc>) -> Result<Check> {
        let Some(session) = self.store.get(&digest(token.expose_secret())).await? else {
            return Ok(Check::Ended(Ended::Unknown));
        };
        if let Some(reason) = session.revoked {
            return Ok(Check::Ended(Ended::Revoked(reason)));
        }
        if now >= session.expires_at {
            return Ok(Check::Ended(Ended::Absolute));
        }
        if now - session.seen_at > self.policy.idle {
            return Ok(Check::Ended(Ended::Idle));
        }
        self.store.touch(&session.id, now).await?;
        Ok(Check::Valid(Session { seen_at: now, ..session }))
    }

    /// Ends the session of `token` (a logout). Ending one already over is done.
    ///
    /// # Errors
    /// The store's errors.
    pub async fn logout(&self, token: &SecretString) -> Result<()> {
        let id = digest(token.expose_secret());
        if !self.store.revoke(&id, "logout").await? {
            return Ok(());
        }
        crate::audit::count(crate::audit::Counted::SessionsEnded { reason: "logout", count: 1 });
        // Read back only to name the user in the audit trail.
        if self.audit.enabled()
            && let Some(session) = self.store.get(&id).await?
        {
            let detail = format!("user={} reason=logout", session.user);
            self.audit.record(&session.tenant, integration_core::store::AuditAction::SessionEnded, detail, None).await;
        }
        Ok(())
    }

    /// Ends every session of `user` in `tenant` with `reason` (the host's call, or
    /// deprovisioning); how many were live.
    ///
    /// # Errors
    /// The store's errors.
    pub async fn revoke_user(&self, tenant: &TenantId, user: &str, reason: &str) -> Result<usize> {
        if reason.trim().is_empty() {
            return Err(Error::validation("reason", "say why the sessions end"));
        }
        let ended = self.store.revoke_user(tenant, user, reason).await?;
        if ended > 0 {
            let count = u64::try_from(ended).unwrap_or(u64::MAX);
            crate::audit::count(crate::audit::Counted::SessionsEnded { reason: "revoked", count });
            let detail = format!("user={user} reason={reason} sessions={ended}");
            self.audit.record(tenant, integration_core::store::AuditAction::SessionEnded, detail, None).await;
        }
        Ok(ended)
    }
}

/// [`ScimEvents`] that ends a user's sessions when the identity provider deactivates or deletes
/// them (sessions keyed by the SCIM resource id), then passes every change on to `next`.
#[derive(Debug, Clone)]
pub struct RevokeOnDeprovisioning {
    sessions: Sessions,
    next: Arc<dyn ScimEvents>,
}

impl RevokeOnDeprovisioning {
    /// Revoking through `sessions`, then telling `next`.
    pub fn new(sessions: Sessions, next: Arc<dyn ScimEvents>) -> Self {
        Self { sessions, next }
    }
}

#[async_trait]
impl ScimEvents for RevokeOnDeprovisioning {
    async fn provisioned(&self, change: Provisioned) {
        let reason = match change.change {
            ProvisioningChange::Deactivated => Some("deactivated by the identity provider"),
            ProvisioningChange::Deleted => Some("deleted by the identity provider"),
            _ => None,
        };
        if let Some(reason) = reason.filter(|_| change.kind == ResourceType::User)
            && let Err(e) = self.sessions.revoke_user(&change.tenant, &change.id, reason).await
        {
            tracing::error!(tenant = %change.tenant.as_str(), user = %change.id, error = %e, "sessions of a deprovisioned user could not be revoked");
        }
        self.next.provisioned(change).await;
    }
}
