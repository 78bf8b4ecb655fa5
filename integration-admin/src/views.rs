//! What the console shows, as JSON: built from the stores, never holding a secret.
//!
//! A connection's settings are shown less any key its provider declares secret or whose name
//! says it is one; its secrets only by name. Webhook deliveries keep the headers the router
//! kept (credentials were dropped on arrival) and at most [`MAX_BODY_SHOWN`] bytes of body.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use integration_core::store::{AutomationRun, RunStatus, StepRecord, StoredConfig, SyncRun, WebhookDelivery};
use integration_core::{ConnectionStatus, Descriptor, Health, HealthStatus};
use serde::Serialize;
use serde_json::{Map, Value, json};

/// How much of a webhook body the console shows.
pub const MAX_BODY_SHOWN: usize = 64 * 1024;

/// A connection's health as the console sums it up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    /// Connected; the latest run of every stream succeeded (or none ran yet).
    Healthy,
    /// Connected, but a stream's latest run failed or the last health check did not pass.
    Degraded,
    /// The provider revoked the grant: someone must connect it again.
    ReauthorizationRequired,
    /// Paused by a person.
    Paused,
    /// Configured, not connected yet.
    Pending,
    /// Disconnected.
    Disconnected,
}

impl Standing {
    /// Its name, as serialized (`"reauthorization_required"`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Healthy => "healthy",
            Self::Degraded => "degraded",
            Self::ReauthorizationRequired => "reauthorization_required",
            Self::Paused => "paused",
            Self::Pending => "pending",
            Self::Disconnected => "disconnected",
        }
    }
}

/// One stream of a connection.
#[derive(Debug, Clone, Serialize)]
pub struct StreamView {
    /// The stream's name.
    pub name: String,
    /// Whether a person paused it.
    pub paused: bool,
    /// Its latest run's status.
    pub last_status: Option<RunStatus>,
    /// When its latest run started.
    pub last_run_at: Option<DateTime<Utc>>,
    /// Its latest run's error, when it failed.
    pub last_error: Option<String>,
}

/// One connection.
#[derive(Debug, Clone, Serialize)]
pub struct ConnectionView {
    /// The tenant.
    pub tenant: String,
    /// The connection's id.
    pub connection: String,
    /// The provider's id.
    pub provider: String,
    /// The provider's name.
    pub provider_name: String,
    /// The domain.
    pub domain: String,
    /// The stored status.
    pub status: ConnectionStatus,
    /// The console's summary.
    pub standing: Standing,
    /// Why it is not healthy.
    pub reason: Option<String>,
    /// The account at the provider.
    pub remote_account_id: Option<String>,
    /// When a sync of it last succeeded (its run log, or the host's stamp).
    pub last_sync_at: Option<DateTime<Utc>>,
    /// The settings, less anything secret.
    pub settings: Map<String, Value>,
    /// The streams.
    pub streams: Vec<StreamView>,
}

/// Whether a setting's key names something secret (a host may have put one in settings).
fn looks_secret(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    ["secret", "token", "password", "passwd", "api_key", "apikey", "private", "credential"]
        .iter()
        .any(|word| key.contains(word))
}

/// The view of `config`, its `descriptor` (when its provider is registered), its recent
/// `runs` (newest first), the paused streams and the last health check.
pub(crate) fn connection(
    config: &StoredConfig,
    descriptor: Option<&Descriptor>,
    runs: &[SyncRun],
    paused: &[String],
    health: Option<&Health>,
) -> ConnectionView {
    let mut latest: BTreeMap<&str, &SyncRun> = BTreeMap::new();
    for run in runs.iter().filter(|r| !r.dry_run) {
        latest.entry(run.stream.as_str()).or_insert(run);
    }
    let mut names: Vec<String> =
        descriptor.map(|d| d.streams.iter().map(|s| s.name.clone()).collect()).unwrap_or_default();
    for stream in latest.keys() {
        if !names.iter().any(|n| n == stream) {
            names.push((*stream).to_owned());
        }
    }
    let streams: Vec<StreamView> = names
        .into_iter()
        .map(|name| {
            let run = latest.get(name.as_str());
            StreamView {
                paused: paused.contains(&name),
                last_status: run.map(|r| r.status),
                last_run_at: run.map(|r| r.started_at),
                last_error: run.and_then(|r| r.error.as_ref()).map(|e| e.message.clone()),
                name,
            }
        })
        .collect();
    let failing: Vec<&str> =
        streams.iter().filter(|s| s.last_status == Some(RunStatus::Failed)).map(|s| s.name.as_str()).collect();
    let (standing, reason) = match config.status {
        ConnectionStatus::ReauthorizationRequired => (
            Standing::ReauthorizationRequired,
            Some(format!("{} revoked the authorization: connect it again", config.provider)),
        ),
        ConnectionStatus::Paused => (Standing::Paused, None),
        ConnectionStatus::Disconnected => (Standing::Disconnected, None),
        ConnectionStatus::Pending => (Standing::Pending, None),
        _ if !failing.is_empty() => {
            (Standing::Degraded, Some(format!("the latest sync of {} failed", failing.join(", "))))
        }
        _ => match health {
            Some(h) if h.status != HealthStatus::Healthy => {
                (Standing::Degraded, Some(h.message.clone().unwrap_or_else(|| "the health check did not pass".into())))
            }
            _ => (Standing::Healthy, None),
        },
    };
    let secret_keys: Vec<&str> = descriptor
        .map(|d| d.config.fields().iter().filter(|f| f.secret).map(|f| f.key.as_str()).collect())
        .unwrap_or_default();
    let settings = config
        .settings
        .iter()
        .filter(|(k, _)| !secret_keys.contains(&k.as_str()) && !looks_secret(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    // The engine logs runs, and a host may also stamp the configuration: the later of the two.
    let last_succeeded = runs
        .iter()
        .filter(|r| matches!(r.status, RunStatus::Succeeded | RunStatus::PartiallySucceeded))
        .filter_map(|r| r.completed_at)
        .max();
    let last_sync_at = config.last_sync_at.max(last_succeeded);
    ConnectionView {
        tenant: config.tenant.to_string(),
        connection: config.connection.to_string(),
        provider: config.provider.to_string(),
        provider_name: descriptor.map_or_else(|| config.provider.to_string(), |d| d.display_name.clone()),
        domain: config.domain.to_string(),
        status: config.status,
        standing,
        reason,
        remote_account_id: config.remote_account_id.clone(),
        last_sync_at,
        settings,
        streams,
    }
}

/// A sync run, without its rejected records (they are on the run's own page).
pub(crate) fn run_summary(run: &SyncRun) -> Value {
    json!({
        "id": run.id.to_string(),
        "connection": run.connection.as_str(),
        "provider": run.provider.as_str(),
        "stream": run.stream,
        "mode": run.mode.to_string(),
        "dry_run": run.dry_run,
        "status": run.status,
        "counts": run.counts,
        "error": run.error,
        "started_at": run.started_at,
        "completed_at": run.completed_at,
        "rejected": run.rejected.len(),
    })
}

/// A webhook delivery: the headers kept, the body as text (at most [`MAX_BODY_SHOWN`] bytes).
pub(crate) fn delivery(d: &WebhookDelivery) -> Value {
    let shown = &d.body[..d.body.len().min(MAX_BODY_SHOWN)];
    let body = String::from_utf8_lossy(shown);
    let headers: Map<String, Value> = d.headers.iter().map(|(k, v)| (k.to_owned(), Value::from(v))).collect();
    json!({
        "id": d.id.to_string(),
        "connection": d.connection.as_str(),
        "provider": d.provider.as_str(),
        "event_id": d.event_id,
        "status": d.status.as_str(),
        "attempts": d.attempts,
        "received_at": d.received_at,
        "completed_at": d.completed_at,
        "last_error": d.last_error,
        "rejection": d.rejection,
        "outcome": d.outcome,
        "headers": headers,
        "body": body,
        "body_truncated": d.body.len() > MAX_BODY_SHOWN,
    })
}

/// An automation run with its step log.
pub(crate) fn automation_run(run: &AutomationRun, steps: &[StepRecord]) -> Value {
    json!({
        "id": run.id.to_string(),
        "automation": run.automation,
        "status": run.status.as_str(),
        "trigger": run.trigger.get("trigger").cloned().unwrap_or(Value::Null),
        "created_at": run.created_at,
        "started_at": run.started_at,
        "completed_at": run.completed_at,
        "error": run.error,
        "steps": steps.iter().map(|s| json!({
            "step": s.step,
            "action": s.action,
            "status": s.status,
            "attempts": s.attempts,
            "error": s.error,
            "started_at": s.started_at,
            "completed_at": s.completed_at,
        })).collect::<Vec<_>>(),
    })
}

/// A provider of the catalog: how it connects and what it asks for.
pub(crate) fn provider(descriptor: &Descriptor, oauth: bool) -> Value {
    json!({
        "provider": descriptor.provider.as_str(),
        "name": descriptor.display_name,
        "domain": descriptor.domain.to_string(),
        "connects_with": if oauth { "oauth" } else { "form" },
        "streams": descriptor.streams.iter().map(|s| s.name.clone()).collect::<Vec<_>>(),
        "documentation": descriptor.documentation,
        "fields": descriptor.config.fields().iter().map(|f| json!({
            "key": f.key, "required": f.required, "secret": f.secret, "format": f.format, "description": f.description,
        })).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::looks_secret;

    #[test]
    fn secret_looking_keys_are_recognized() {
        for key in ["client_secret", "API_KEY", "refresh_token", "password", "private_key"] {
            assert!(looks_secret(key), "{key}");
        }
        for key in ["subdomain", "base_url", "company_id", "region"] {
            assert!(!looks_secret(key), "{key}");
        }
    }
}
