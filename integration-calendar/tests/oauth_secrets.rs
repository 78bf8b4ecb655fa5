//! No OAuth client secret, refresh token or access token in any error, Debug output or trace of
//! the OAuth calendar adapters (Google Calendar, Microsoft Graph). One test, alone in its test
//! binary: tracing decides once per call site whether anyone listens, and tests running beside
//! it in one process without a subscriber could make that decision for it.

use integration_calendar::ListRequest;
use integration_core::{BuildContext, ConnectionId, IntegrationConfig, TenantId};
use integration_testkit::fake::google_calendar::{self, FakeGoogleCalendar};
use integration_testkit::fake::graph_calendar::{self, FakeGraphCalendar};

fn ids() -> (TenantId, ConnectionId) {
    (TenantId::new("acme").expect("tenant"), ConnectionId::new("oauth").expect("connection"))
}

/// Lists calendars with `config`, then connects with a wrong refresh token: neither the error
/// nor any Debug output shows a secret.
async fn exercise(config: IntegrationConfig, wrong_refresh: &str, secrets: &[&str]) {
    let calendar = integration_calendar::build(&config, &BuildContext::default()).expect("built");
    calendar.calendars(ListRequest::first()).await.expect("calendars");
    let bad = config.with_secret("refresh_token", wrong_refresh);
    let bad = integration_calendar::build(&bad, &BuildContext::default()).expect("built");
    let error = bad.connect().await.expect_err("refused");
    let shown = format!("{error} {error:?} {calendar:?} {bad:?}");
    for secret in secrets.iter().chain(&[wrong_refresh]) {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_client_secret_or_token_in_errors_or_traces() {
    use integration_testkit::capture::capture_tracing;

    let google = FakeGoogleCalendar::start().await;
    let graph = FakeGraphCalendar::start().await;
    let google_secrets = [google_calendar::CLIENT_SECRET, google_calendar::REFRESH_TOKEN, "ya29."];
    let graph_secrets = [graph_calendar::CLIENT_SECRET, graph_calendar::REFRESH_TOKEN, "eyJ0eXAiOiJKV1Qi"];
    let ((), logs) = capture_tracing(async {
        let (tenant, connection) = ids();
        exercise(google.config(tenant.clone(), connection.clone()), "1//0not-the-right-refresh-token", &google_secrets)
            .await;
        exercise(graph.config(tenant, connection), "M.C507_BAY.not-the-right-refresh-token", &graph_secrets).await;
    })
    .await;
    for secret in google_secrets.iter().chain(&graph_secrets) {
        assert!(!logs.contains(secret), "{secret} in the traces");
    }
    assert!(logs.contains("calendarList") && logs.contains("/me/calendars"), "the traces of both were captured");
}
