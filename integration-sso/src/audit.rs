//! Security analytics: the SSO flows' events — sign-ins and their refusals, second factors
//! accepted and refused, lockouts, sessions ended early, provisioning changes — recorded in the
//! host's [`AuditSink`] (never a secret: user ids, reasons and kinds only). An audit write that
//! fails is logged, and does not fail the sign-in.
//!
//! The same events are counted through the `metrics` facade whether or not an audit sink is
//! set (the host installs the recorder; without one the counts cost nothing): see [`Counted`]
//! for the names and labels — no user, tenant or free text in a label.

use std::sync::Arc;

use integration_core::TenantId;
use integration_core::store::{AuditAction, AuditEvent, AuditSink};

/// Where a flow's audit events go, if anywhere.
#[derive(Debug, Clone, Default)]
pub(crate) struct Audit(Option<Arc<dyn AuditSink>>);

impl Audit {
    pub(crate) fn to(sink: Arc<dyn AuditSink>) -> Self {
        Self(Some(sink))
    }

    /// Whether events go anywhere (so work done only to describe one can be skipped).
    pub(crate) fn enabled(&self) -> bool {
        self.0.is_some()
    }

    /// Records `action` for `tenant`: a success with `detail`, or (with `refused`) a failure
    /// for that reason.
    pub(crate) async fn record(&self, tenant: &TenantId, action: AuditAction, detail: String, refused: Option<&str>) {
        let Some(sink) = &self.0 else { return };
        let event = AuditEvent::new(tenant.clone(), action);
        let event = match refused {
            Some(reason) => event.failed(format!("{reason}; {detail}")),
            None => event.detail(detail),
        };
        if let Err(e) = sink.audit(event).await {
            tracing::error!(action = action.as_str(), error = %e, "an SSO audit event could not be recorded");
        }
    }
}

/// What the SSO flows count, through the `metrics` facade.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Counted<'a> {
    /// `integrations_sso_sign_ins_total{protocol, outcome}`: a finished login — `oidc` or
    /// `saml`; `success` or the refusal's reason.
    SignIn { protocol: &'static str, outcome: &'a str },
    /// `integrations_sso_mfa_checks_total{outcome}`: a second factor checked — `accepted` or the
    /// refusal's reason.
    MfaCheck { outcome: &'a str },
    /// `integrations_sso_lockouts_total`: a user locked after repeated failures.
    Lockout,
    /// `integrations_sso_sessions_ended_total{reason}`: sessions ended before their time —
    /// `logout` or `revoked` (by the host, or on deprovisioning).
    SessionsEnded { reason: &'static str, count: u64 },
    /// `integrations_sso_provisioning_changes_total{change}`: a SCIM change
    /// (`scim.user.deactivated`…).
    Provisioned { change: &'a str },
}

/// Counts `what`.
pub(crate) fn count(what: Counted<'_>) {
    match what {
        Counted::SignIn { protocol, outcome } => {
            metrics::counter!("integrations_sso_sign_ins_total", "protocol" => protocol, "outcome" => outcome.to_owned())
                .increment(1);
        }
        Counted::MfaCheck { outcome } => {
            metrics::counter!("integrations_sso_mfa_checks_total", "outcome" => outcome.to_owned()).increment(1);
        }
        Counted::Lockout => metrics::counter!("integrations_sso_lockouts_total").increment(1),
        Counted::SessionsEnded { reason, count } => {
            metrics::counter!("integrations_sso_sessions_ended_total", "reason" => reason).increment(count);
        }
        Counted::Provisioned { change } => {
            metrics::counter!("integrations_sso_provisioning_changes_total", "change" => change.to_owned())
                .increment(1);
        }
    }
}
