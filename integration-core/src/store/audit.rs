//! [`AuditSink`]: a record of security-relevant actions (a configuration read, a credential
//! decrypted, a token refreshed, a webhook rejected).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::ids::{ConnectionId, ProviderId, TenantId};

/// What was done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AuditAction {
    /// A configuration was created or replaced.
    ConfigWritten,
    /// A configuration was read.
    ConfigRead,
    /// A configuration was deleted.
    ConfigDeleted,
    /// A connection's status changed.
    StatusChanged,
    /// Credentials were sealed.
    CredentialSealed,
    /// Credentials were decrypted for use.
    CredentialDecrypted,
    /// Credentials were re-sealed under the current key.
    CredentialResealed,
    /// An OAuth token was refreshed.
    TokenRefreshed,
    /// An OAuth grant was found revoked.
    TokenRevoked,
    /// A webhook delivery was rejected (bad signature, stale, oversized).
    WebhookRejected,
    /// A passthrough request was sent with a connection's credentials.
    PassthroughRequest,
    /// Records were matched by a reconciliation rule (a payment to an invoice).
    RecordsMatched,
    /// A user signed in through an identity provider, or was refused (the reason).
    SignIn,
    /// A second factor (a TOTP or recovery code) was accepted or refused (the reason).
    MfaChecked,
    /// A user was locked out after repeated second-factor failures.
    MfaLocked,
    /// A user's session was ended before its time (logout, revocation, deprovisioning).
    SessionEnded,
    /// An identity provider provisioned a change through SCIM (created, updated, deactivated…).
    Provisioned,
    /// A write refused because the connection's data is bound to another region
    /// ([`residency`](crate::residency)).
    ResidencyRefused,
    /// A person acted through the admin console (paused a stream, replayed a delivery,
    /// disconnected a connection, connected one); the detail names who and what.
    ConsoleAction,
}

impl AuditAction {
    /// The action's name (`"credential_decrypted"`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ConfigWritten => "config_written",
            Self::ConfigRead => "config_read",
            Self::ConfigDeleted => "config_deleted",
            Self::StatusChanged => "status_changed",
            Self::CredentialSealed => "credential_sealed",
            Self::CredentialDecrypted => "credential_decrypted",
            Self::CredentialResealed => "credential_resealed",
            Self::TokenRefreshed => "token_refreshed",
            Self::TokenRevoked => "token_revoked",
            Self::WebhookRejected => "webhook_rejected",
            Self::PassthroughRequest => "passthrough_request",
            Self::RecordsMatched => "records_matched",
            Self::SignIn => "sign_in",
            Self::MfaChecked => "mfa_checked",
            Self::MfaLocked => "mfa_locked",
            Self::SessionEnded => "session_ended",
            Self::Provisioned => "provisioned",
            Self::ResidencyRefused => "residency_refused",
            Self::ConsoleAction => "console_action",
        }
    }
}

/// Whether the action succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditOutcome {
    /// It succeeded.
    Success,
    /// It failed or was refused.
    Failure,
}

/// One audit event. Never holds a secret: `detail` is for kinds, ids and reasons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AuditEvent {
    /// When.
    pub at: DateTime<Utc>,
    /// Whose data.
    pub tenant: TenantId,
    /// Which connection, if one.
    pub connection: Option<ConnectionId>,
    /// Which provider, if one.
    pub provider: Option<ProviderId>,
    /// What.
    pub action: AuditAction,
    /// How it went.
    pub outcome: AuditOutcome,
    /// Why, or what else is worth knowing.
    pub detail: String,
}

impl AuditEvent {
    /// A successful `action` on `tenant`'s data, now.
    pub fn new(tenant: TenantId, action: AuditAction) -> Self {
        Self {
            at: Utc::now(),
            tenant,
            connection: None,
            provider: None,
            action,
            outcome: AuditOutcome::Success,
            detail: String::new(),
        }
    }

    /// Names the connection.
    #[must_use]
    pub fn connection(mut self, connection: ConnectionId) -> Self {
        self.connection = Some(connection);
        self
    }

    /// Names the provider.
    #[must_use]
    pub fn provider(mut self, provider: ProviderId) -> Self {
        self.provider = Some(provider);
        self
    }

    /// Marks the action failed, with the reason.
    #[must_use]
    pub fn failed(mut self, reason: impl Into<String>) -> Self {
        self.outcome = AuditOutcome::Failure;
        self.detail = reason.into();
        self
    }

    /// Adds detail.
    #[must_use]
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = detail.into();
        self
    }
}

/// Receives audit events. Implementations should not block for long: they are called inline.
#[async_trait]
pub trait AuditSink: Send + Sync + std::fmt::Debug {
    /// Records one event.
    async fn audit(&self, event: AuditEvent) -> Result<()>;
}

/// An [`AuditSink`] that writes each event as a `tracing` event at INFO on the target
/// `integrations::audit`, for hosts that collect audit trails from their logs.
#[derive(Debug, Clone, Copy, Default)]
pub struct TracingAuditSink;

#[async_trait]
impl AuditSink for TracingAuditSink {
    async fn audit(&self, e: AuditEvent) -> Result<()> {
        tracing::info!(
            target: "integrations::audit",
            action = e.action.as_str(),
            outcome = ?e.outcome,
            tenant = %e.tenant,
            connection = e.connection.as_ref().map(|c| c.as_str()),
            provider = e.provider.as_ref().map(|p| p.as_str()),
            detail = %e.detail,
            "audit"
        );
        Ok(())
    }
}
