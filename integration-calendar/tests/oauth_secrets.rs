//! No OAuth client secret, refresh token or access token in any error, Debug output or trace of
//! the Google Calendar adapter. Alone in its test binary: tracing decides once per call site
//! whether anyone listens, and tests running beside it in one process without a subscriber
//! could make that decision for it.

use std::sync::Arc;

use integration_calendar::{Calendar, ListRequest};
use integration_core::{BuildContext, ConnectionId, TenantId};
use integration_testkit::fake::google_calendar::{CLIENT_SECRET, FakeGoogleCalendar, REFRESH_TOKEN};

fn ids() -> (TenantId, ConnectionId) {
    (TenantId::new("acme").expect("tenant"), ConnectionId::new("google").expect("connection"))
}

fn connect(fake: &FakeGoogleCalendar) -> Arc<dyn Calendar> {
    let (tenant, connection) = ids();
    integration_calendar::build(&fake.config(tenant, connection), &BuildContext::default()).expect("built")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_client_secret_or_token_in_errors_or_traces() {
    use integration_testkit::capture::capture_tracing;

    let fake = FakeGoogleCalendar::start().await;
    let ((), logs) = capture_tracing(async {
        let calendar = connect(&fake);
        calendar.calendars(ListRequest::first()).await.expect("calendars");
        let (tenant, connection) = ids();
        let bad = fake.config(tenant, connection).with_secret("refresh_token", "1//0not-the-right-refresh-token");
        let bad = integration_calendar::build(&bad, &BuildContext::default()).expect("built");
        let error = bad.connect().await.expect_err("refused");
        let shown = format!("{error} {error:?} {calendar:?} {bad:?}");
        for secret in [CLIENT_SECRET, REFRESH_TOKEN, "1//0not-the-right-refresh-token", "ya29."] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
    })
    .await;
    for secret in [CLIENT_SECRET, REFRESH_TOKEN, "ya29."] {
        assert!(!logs.contains(secret), "{secret} in the traces");
    }
    assert!(logs.contains("calendarList"), "the traces were captured");
}
