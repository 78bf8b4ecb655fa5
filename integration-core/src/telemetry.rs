//! What the SDK counts and times, through the [`metrics`](https://docs.rs/metrics) facade.
//!
//! The library only records; the host installs a recorder and an exporter (Prometheus,
//! StatsD, OpenTelemetry...) — without one, recording costs next to nothing. Labels never hold a
//! tenant, a user, a record or free text: only the provider, the stream, a status or a reason
//! code, so their number stays bounded.
//!
//! | name | kind | labels | what |
//! |---|---|---|---|
//! | `integrations_http_requests_total` | counter | `provider`, `status` | each attempt sent to a provider; `status` is the HTTP status, or `error` when no answer came (connection refused, timeout) |
//! | `integrations_http_request_duration_seconds` | histogram | `provider` | each attempt, from sending to the whole body read |
//! | `integrations_http_retries_total` | counter | `provider`, `reason` | attempts repeated; `reason` is the error kind (`rate_limited`, `server`, `timeout`, ...) |
//! | `integrations_http_rate_limit_waits_total` | counter | `provider` | attempts that waited for the provider's rate limit |
//! | `integrations_http_rate_limit_wait_seconds` | histogram | `provider` | how long they waited |
//! | `integrations_http_circuit_state` | gauge | `host` | a host's circuit breaker: `0` closed, `1` half open (one probe), `2` open |
//! | `integrations_sync_runs_total` | counter | `provider`, `stream`, `status` | sync runs ended (`succeeded`, `partially_succeeded`, `failed`, `cancelled`) |
//! | `integrations_sync_records_total` | counter | `provider`, `stream`, `change` | records a run wrote (`added`, `updated`, `deleted`) or rejected (`failed`) |
//! | `integrations_sync_duration_seconds` | histogram | `provider`, `stream` | each run, start to end |
//! | `integrations_webhook_deliveries_total` | counter | `provider`, `outcome` | deliveries received (`queued`, `duplicate`, `rejected`) and processed (`processed`, `retrying`, `dead_lettered`) |
//! | `integrations_webhook_rejections_total` | counter | `provider`, `reason` | rejected deliveries by [`Rejection`](crate::webhook::Rejection) reason code |
//! | `integrations_automation_runs_total` | counter | `status` | automation runs ended (`succeeded`, `failed`, `cancelled`, ...) |
//! | `integrations_notifications_total` | counter | `kind` | [`Notification`](crate::notify::Notification)s raised |
//!
//! Other crates add their own under the same prefix (the SSO flows' sign-ins, MFA checks and
//! lockouts: `integration_sso`'s audit module).
//!
//! ```
//! use integration_core::telemetry;
//!
//! // The host installs a recorder once (here none is installed: these are no-ops).
//! telemetry::describe();
//! assert!(telemetry::NAMES.iter().all(|(name, _)| name.starts_with("integrations_")));
//! ```

use std::time::Duration;

use crate::ids::ProviderId;

/// Every metric name the core records, with its description (what [`describe`] registers).
pub const NAMES: &[(&str, &str)] = &[
    (HTTP_REQUESTS, "Attempts sent to a provider, by HTTP status (or `error` when no answer came)."),
    (HTTP_DURATION, "Seconds each attempt to a provider took, to the whole body read."),
    (HTTP_RETRIES, "Attempts repeated, by the error kind that caused the retry."),
    (RATE_LIMIT_WAITS, "Attempts that waited for the provider's rate limit."),
    (RATE_LIMIT_WAIT_SECONDS, "Seconds attempts waited for the provider's rate limit."),
    (CIRCUIT_STATE, "A host's circuit breaker: 0 closed, 1 half open, 2 open."),
    (SYNC_RUNS, "Sync runs ended, by status."),
    (SYNC_RECORDS, "Records sync runs wrote or rejected, by change."),
    (SYNC_DURATION, "Seconds each sync run took."),
    (WEBHOOK_DELIVERIES, "Webhook deliveries received and processed, by outcome."),
    (WEBHOOK_REJECTIONS, "Webhook deliveries rejected, by reason."),
    (AUTOMATION_RUNS, "Automation runs ended, by status."),
    (NOTIFICATIONS, "Notifications raised, by kind."),
];

/// `integrations_http_requests_total`.
pub const HTTP_REQUESTS: &str = "integrations_http_requests_total";
/// `integrations_http_request_duration_seconds`.
pub const HTTP_DURATION: &str = "integrations_http_request_duration_seconds";
/// `integrations_http_retries_total`.
pub const HTTP_RETRIES: &str = "integrations_http_retries_total";
/// `integrations_http_rate_limit_waits_total`.
pub const RATE_LIMIT_WAITS: &str = "integrations_http_rate_limit_waits_total";
/// `integrations_http_rate_limit_wait_seconds`.
pub const RATE_LIMIT_WAIT_SECONDS: &str = "integrations_http_rate_limit_wait_seconds";
/// `integrations_http_circuit_state`.
pub const CIRCUIT_STATE: &str = "integrations_http_circuit_state";
/// `integrations_sync_runs_total`.
pub const SYNC_RUNS: &str = "integrations_sync_runs_total";
/// `integrations_sync_records_total`.
pub const SYNC_RECORDS: &str = "integrations_sync_records_total";
/// `integrations_sync_duration_seconds`.
pub const SYNC_DURATION: &str = "integrations_sync_duration_seconds";
/// `integrations_webhook_deliveries_total`.
pub const WEBHOOK_DELIVERIES: &str = "integrations_webhook_deliveries_total";
/// `integrations_webhook_rejections_total`.
pub const WEBHOOK_REJECTIONS: &str = "integrations_webhook_rejections_total";
/// `integrations_automation_runs_total`.
pub const AUTOMATION_RUNS: &str = "integrations_automation_runs_total";
/// `integrations_notifications_total`.
pub const NOTIFICATIONS: &str = "integrations_notifications_total";

/// Registers every name's description with the installed recorder (exporters show them as
/// `# HELP`). Call it once after installing the recorder.
pub fn describe() {
    for &(name, help) in NAMES {
        if name.ends_with("_seconds") {
            metrics::describe_histogram!(name, metrics::Unit::Seconds, help);
        } else if name == CIRCUIT_STATE {
            metrics::describe_gauge!(name, help);
        } else {
            metrics::describe_counter!(name, help);
        }
    }
}

/// One attempt to `provider` ended with `status` (`None`: no answer) after `took`.
pub(crate) fn http_attempt(provider: &ProviderId, status: Option<u16>, took: Duration) {
    let status = status.map_or_else(|| "error".to_owned(), |s| s.to_string());
    metrics::counter!(HTTP_REQUESTS, "provider" => provider.to_string(), "status" => status).increment(1);
    metrics::histogram!(HTTP_DURATION, "provider" => provider.to_string()).record(took.as_secs_f64());
}

/// An attempt to `provider` is repeated because of an error of `kind`.
pub(crate) fn http_retry(provider: &ProviderId, kind: &'static str) {
    metrics::counter!(HTTP_RETRIES, "provider" => provider.to_string(), "reason" => kind).increment(1);
}

/// An attempt to `provider` waited `waited` for the rate limit.
pub(crate) fn rate_limit_wait(provider: &ProviderId, waited: Duration) {
    metrics::counter!(RATE_LIMIT_WAITS, "provider" => provider.to_string()).increment(1);
    metrics::histogram!(RATE_LIMIT_WAIT_SECONDS, "provider" => provider.to_string()).record(waited.as_secs_f64());
}

/// `host`'s breaker is now in `state` (0 closed, 1 half open, 2 open).
pub(crate) fn circuit_state(host: &str, state: u8) {
    metrics::gauge!(CIRCUIT_STATE, "host" => host.to_owned()).set(f64::from(state));
}

/// A sync run ended.
pub(crate) fn sync_run(run: &crate::store::SyncRun) {
    let (provider, stream) = (run.provider.to_string(), run.stream.clone());
    let status = run.status.as_str();
    metrics::counter!(SYNC_RUNS, "provider" => provider.clone(), "stream" => stream.clone(), "status" => status)
        .increment(1);
    let counts = &run.counts;
    for (change, n) in
        [("added", counts.added), ("updated", counts.updated), ("deleted", counts.deleted), ("failed", counts.failed)]
    {
        if n > 0 {
            metrics::counter!(SYNC_RECORDS, "provider" => provider.clone(), "stream" => stream.clone(), "change" => change)
                .increment(n);
        }
    }
    if let Some(done) = run.completed_at {
        let took = (done - run.started_at).to_std().unwrap_or_default();
        metrics::histogram!(SYNC_DURATION, "provider" => provider, "stream" => stream).record(took.as_secs_f64());
    }
}

/// A webhook delivery from `provider` was received or processed with `outcome`.
pub(crate) fn webhook_delivery(provider: &str, outcome: &'static str) {
    metrics::counter!(WEBHOOK_DELIVERIES, "provider" => provider.to_owned(), "outcome" => outcome).increment(1);
}

/// A webhook delivery from `provider` was rejected for `reason`.
pub(crate) fn webhook_rejection(provider: &str, reason: &'static str) {
    webhook_delivery(provider, "rejected");
    metrics::counter!(WEBHOOK_REJECTIONS, "provider" => provider.to_owned(), "reason" => reason).increment(1);
}

/// An automation run ended with `status` (its store name: `succeeded`, `failed`...). Public for
/// the automation engine, which lives in its own crate.
pub fn automation_run(status: &str) {
    metrics::counter!(AUTOMATION_RUNS, "status" => status.to_owned()).increment(1);
}

/// A notification of `kind` was raised.
pub(crate) fn notification(kind: &'static str) {
    metrics::counter!(NOTIFICATIONS, "kind" => kind).increment(1);
}
