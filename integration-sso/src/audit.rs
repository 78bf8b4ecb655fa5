//! Security analytics: the SSO flows' events — sign-ins and their refusals, second factors
//! accepted and refused, lockouts, sessions ended early, provisioning changes — recorded in the
//! host's [`AuditSink`] (never a secret: user ids, reasons and kinds only). An audit write that
//! fails is logged, and does not fail the sign-in.

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
