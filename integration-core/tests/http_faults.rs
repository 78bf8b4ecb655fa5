//! The HTTP client under faults, against wiremock (and a raw socket where wiremock cannot
//! misbehave enough). Waits are asserted on tokio's paused clock, so a 60-second Retry-After
//! takes no real time; timeout tests use real time with short limits.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use integration_core::auth::ApiKey;
use integration_core::http::{CircuitPolicy, HttpClient, HttpPolicy, ProviderClient, RateLimit, RetryPolicy, Timeouts};
use integration_core::*;
use integration_testkit::capture::capture_tracing;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::time::Instant;
use wiremock::matchers::{header, header_exists, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A client for paused-clock tests: no timer may be pending while a request is on the wire
/// (tokio would jump the paused clock to it), so no pool or attempt timeouts.
fn paused_client(policy: HttpPolicy) -> ProviderClient {
    let http = HttpClient::builder().connect_timeout(None).pool_idle_timeout(None).build().expect("client");
    http.provider_with(ProviderId::new("acme").expect("id"), policy)
}

/// A client with the default pool, for the real-time tests.
fn real_time_client(policy: HttpPolicy) -> ProviderClient {
    HttpClient::new().expect("client").provider_with(ProviderId::new("acme").expect("id"), policy)
}

fn retrying(attempts: u32) -> HttpPolicy {
    HttpPolicy::standard().with_timeouts(Timeouts::disabled()).with_circuit(CircuitPolicy::disabled()).with_retry(
        RetryPolicy::standard()
            .with_max_attempts(attempts)
            .with_backoff(Duration::from_millis(100), Duration::from_secs(10)),
    )
}

async fn requests(server: &MockServer) -> usize {
    server.received_requests().await.map_or(0, |r| r.len())
}

#[tokio::test(start_paused = true)]
async fn retry_after_in_seconds_is_waited_exactly() {
    let server = MockServer::start().await;
    Mock::given(path("/items"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "7"))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(path("/items")).respond_with(ResponseTemplate::new(200).set_body_string("[]")).mount(&server).await;
    let client = paused_client(retrying(4));
    let started = Instant::now();
    let response = client.get(format!("{}/items", server.uri())).send().await.expect("succeeds on the third attempt");
    assert_eq!(started.elapsed(), Duration::from_secs(14), "two waits of exactly 7 s");
    assert_eq!(response.attempts(), 3);
    assert_eq!(requests(&server).await, 3);
}

#[tokio::test(start_paused = true)]
async fn retry_after_as_an_http_date_is_honoured() {
    let server = MockServer::start().await;
    let at = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(10));
    Mock::given(path("/items"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", at.as_str()))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path("/items")).respond_with(ResponseTemplate::new(200)).mount(&server).await;
    let client = paused_client(retrying(4));
    let started = Instant::now();
    client.get(format!("{}/items", server.uri())).send().await.expect("succeeds");
    let waited = started.elapsed();
    assert!(waited >= Duration::from_secs(9) && waited <= Duration::from_secs(10), "waited {waited:?}");
    assert_eq!(requests(&server).await, 2);
}

#[tokio::test(start_paused = true)]
async fn a_burst_of_503s_backs_off_with_full_jitter_and_traces_each_retry() {
    let server = MockServer::start().await;
    Mock::given(path("/items")).respond_with(ResponseTemplate::new(503)).up_to_n_times(3).mount(&server).await;
    Mock::given(path("/items")).respond_with(ResponseTemplate::new(200)).mount(&server).await;
    let client = paused_client(retrying(4));
    let started = Instant::now();
    let (result, logs) = capture_tracing(client.get(format!("{}/items", server.uri())).send()).await;
    assert_eq!(result.expect("succeeds").attempts(), 4);
    let waited = started.elapsed();
    assert!(waited <= Duration::from_millis(100 + 200 + 400), "full jitter under the doubling caps: {waited:?}");
    assert_eq!(logs.matches("retrying").count(), 3, "{logs}");
    assert!(logs.contains("transient failure"), "each retry names its reason: {logs}");
    assert_eq!(requests(&server).await, 4);
}

#[tokio::test(start_paused = true)]
async fn a_lasting_outage_ends_with_the_last_error_and_the_attempt_count() {
    let server = MockServer::start().await;
    Mock::given(path("/items"))
        .respond_with(ResponseTemplate::new(503).set_body_string(r#"{"message":"maintenance"}"#))
        .mount(&server)
        .await;
    let client = paused_client(retrying(3));
    let err = client.get(format!("{}/items", server.uri())).send().await.expect_err("fails");
    assert_eq!(err.kind(), ErrorKind::Transient);
    assert_eq!(err.status(), Some(503));
    assert_eq!(err.delivery(), Delivery::Responded);
    assert!(err.message().contains("gave up after 3 attempts"), "{err}");
    assert_eq!(err.provider(), Some("acme"));
    assert_eq!(err.operation(), Some("GET /items"));
    assert_eq!(err.body(), Some(r#"{"message":"maintenance"}"#));
    assert_eq!(requests(&server).await, 3);
}

#[tokio::test(start_paused = true)]
async fn a_wait_longer_than_allowed_is_returned_to_the_caller_not_slept() {
    let server = MockServer::start().await;
    Mock::given(path("/items"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "3600"))
        .mount(&server)
        .await;
    let client = paused_client(retrying(4));
    let started = Instant::now();
    let err = client.get(format!("{}/items", server.uri())).send().await.expect_err("not waited");
    assert_eq!(started.elapsed(), Duration::ZERO);
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert_eq!(err.retry_after(), Some(Duration::from_secs(3600)), "the caller learns when to come back");
    assert_eq!(requests(&server).await, 1);
}

#[tokio::test(start_paused = true)]
async fn a_post_is_retried_only_with_an_idempotency_key_or_when_it_surely_did_not_apply() {
    let server = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(503)).up_to_n_times(1).mount(&server).await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(201)).mount(&server).await;
    let client = paused_client(retrying(4));
    let url = format!("{}/payments", server.uri());

    let err = client.post(&url).json(&serde_json::json!({"amount": "10.00"})).send().await.expect_err("not retried");
    assert_eq!(err.kind(), ErrorKind::Transient);
    assert!(err.message().contains("not retried"), "{err}");
    assert_eq!(requests(&server).await, 1);

    server.reset().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(503)).up_to_n_times(1).mount(&server).await;
    Mock::given(method("POST"))
        .and(header("idempotency-key", "run-1/step-2"))
        .respond_with(ResponseTemplate::new(201))
        .mount(&server)
        .await;
    let response = client.post(&url).idempotency_key("run-1/step-2").json(&1).send().await.expect("retried");
    assert_eq!(response.status(), 201);
    let received = server.received_requests().await.expect("recorded");
    assert_eq!(received.len(), 2);
    assert!(received.iter().all(|r| r.headers["idempotency-key"] == "run-1/step-2"), "the same key on every attempt");

    // A 429 means the provider refused before doing anything: safe to repeat even a bare POST.
    server.reset().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "2"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(201)).mount(&server).await;
    let started = Instant::now();
    client.post(&url).json(&1).send().await.expect("retried after the 429");
    assert_eq!(started.elapsed(), Duration::from_secs(2));
}

#[tokio::test(start_paused = true)]
async fn a_refused_connection_never_reached_the_provider_so_even_a_post_is_retried() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    }; // closed: nothing listens there now
    let client = paused_client(retrying(3));
    let err = client.post(format!("http://127.0.0.1:{port}/payments")).json(&1).send().await.expect_err("refused");
    assert_eq!(err.kind(), ErrorKind::Transient);
    assert_eq!(err.delivery(), Delivery::NotSent);
    assert!(err.message().contains("could not connect") && err.message().contains("gave up after 3 attempts"), "{err}");
}

#[tokio::test(start_paused = true)]
async fn the_retry_budget_keeps_an_outage_from_multiplying_traffic() {
    let server = MockServer::start().await;
    Mock::given(path("/items")).respond_with(ResponseTemplate::new(503)).mount(&server).await;
    let policy = retrying(4);
    let policy = policy.clone().with_retry(policy.retry.with_budget(10, 0));
    let client = paused_client(policy);
    for _ in 0..30 {
        let err = client.get(format!("{}/items", server.uri())).send().await.expect_err("outage");
        assert_eq!(err.kind(), ErrorKind::Transient);
    }
    let sent = requests(&server).await;
    assert!(sent <= 30 + 3, "30 requests may add ~3 retries at 10 %, not 90: sent {sent}");
    assert!(sent > 30, "some retries are allowed: sent {sent}");
}

#[tokio::test(start_paused = true)]
async fn the_circuit_opens_fails_fast_then_lets_one_probe_close_it() {
    let server = MockServer::start().await;
    Mock::given(path("/items")).respond_with(ResponseTemplate::new(502)).mount(&server).await;
    let policy = retrying(1)
        .with_circuit(CircuitPolicy::standard().with_consecutive_failures(3).with_open_for(Duration::from_secs(30)));
    let client = paused_client(policy);
    let url = format!("{}/items", server.uri());
    for _ in 0..3 {
        assert_eq!(client.get(&url).send().await.expect_err("502").kind(), ErrorKind::Transient);
    }
    let err = client.get(&url).send().await.expect_err("open");
    assert_eq!(err.kind(), ErrorKind::CircuitOpen);
    assert_eq!(err.retry_after(), Some(Duration::from_secs(30)));
    assert_eq!(requests(&server).await, 3, "an open circuit sends nothing");

    server.reset().await;
    Mock::given(path("/items")).respond_with(ResponseTemplate::new(200)).mount(&server).await;
    tokio::time::advance(Duration::from_secs(30)).await;
    client.get(&url).send().await.expect("the probe succeeds");
    client.get(&url).send().await.expect("closed again");
    assert_eq!(requests(&server).await, 2);
}

#[tokio::test(start_paused = true)]
async fn the_rate_limit_spaces_requests_per_tenant() {
    let server = MockServer::start().await;
    Mock::given(path("/items")).respond_with(ResponseTemplate::new(200)).mount(&server).await;
    let client = paused_client(retrying(1).with_rate_limit(RateLimit::per_second(2).with_burst(1)));
    let acme = client.clone().for_tenant(TenantId::new("acme").expect("id"));
    let globex = client.for_tenant(TenantId::new("globex").expect("id"));
    let url = format!("{}/items", server.uri());
    let started = Instant::now();
    for _ in 0..5 {
        acme.get(&url).send().await.expect("ok");
    }
    assert_eq!(started.elapsed(), Duration::from_secs(2), "4 waits of 500 ms after the first");
    let started = Instant::now();
    globex.get(&url).send().await.expect("ok");
    assert_eq!(started.elapsed(), Duration::ZERO, "another tenant has its own quota");
}

#[tokio::test]
async fn an_attempt_that_times_out_is_retried_for_a_get_but_not_for_a_bare_post() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(10)))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(200)).mount(&server).await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_delay(Duration::from_secs(10)))
        .mount(&server)
        .await;
    let policy = retrying(3).with_timeouts(Timeouts::disabled().with_attempt(Some(Duration::from_millis(200))));
    let client = real_time_client(policy);

    let response = client.get(format!("{}/slow", server.uri())).send().await.expect("second attempt");
    assert_eq!(response.attempts(), 2);

    let err = client.post(format!("{}/payments", server.uri())).json(&1).send().await.expect_err("timed out");
    assert_eq!(err.kind(), ErrorKind::Transient);
    assert_eq!(err.delivery(), Delivery::MaybeSent, "it may have been applied");
    assert!(err.message().contains("timed out") && err.message().contains("not retried"), "{err}");
    let posts =
        server.received_requests().await.expect("recorded").iter().filter(|r| r.method.as_str() == "POST").count();
    assert_eq!(posts, 1, "a POST without an idempotency key is sent once");
}

#[tokio::test]
async fn the_operation_timeout_bounds_all_attempts_and_waits() {
    let server = MockServer::start().await;
    Mock::given(path("/items"))
        .respond_with(ResponseTemplate::new(503).set_delay(Duration::from_millis(300)))
        .mount(&server)
        .await;
    let policy = retrying(100).with_timeouts(Timeouts::disabled().with_operation(Some(Duration::from_millis(800))));
    let client = real_time_client(policy);
    let started = std::time::Instant::now();
    let err = client.get(format!("{}/items", server.uri())).send().await.expect_err("deadline");
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
    assert_eq!(err.kind(), ErrorKind::Transient);
    // Either the deadline cut an attempt short, or the next backoff (random) would have passed it
    // and the client stopped early; both end the operation by its deadline.
    assert!(
        err.message().contains("operation timed out") || err.message().contains("pass the operation's deadline"),
        "{err}"
    );
    assert!(requests(&server).await <= 3);
}

#[tokio::test]
async fn an_operation_deadline_nearer_than_the_attempt_timeout_ends_the_operation_not_the_attempt() {
    let server = MockServer::start().await;
    Mock::given(path("/items"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(10)))
        .mount(&server)
        .await;
    let timeouts = Timeouts::disabled()
        .with_attempt(Some(Duration::from_secs(5)))
        .with_operation(Some(Duration::from_millis(300)));
    let client = real_time_client(retrying(5).with_timeouts(timeouts));
    let started = std::time::Instant::now();
    let err = client.get(format!("{}/items", server.uri())).send().await.expect_err("deadline");
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
    assert!(err.message().contains("the operation timed out after 300ms (1 attempts)"), "{err}");
    assert!(!err.message().contains("not retried"), "out of time is not a retry decision: {err}");
    assert_eq!(err.delivery(), Delivery::MaybeSent);
    assert_eq!(requests(&server).await, 1, "no retry after the deadline");
}

// Real time: a paused clock would jump to the deadline's timer while the first request is on
// the wire.
#[tokio::test]
async fn a_deadline_that_passes_while_waiting_for_the_rate_limit_says_nothing_was_sent() {
    let server = MockServer::start().await;
    Mock::given(path("/items")).respond_with(ResponseTemplate::new(200)).mount(&server).await;
    let policy = retrying(1)
        .with_rate_limit(RateLimit::per_second(1).with_burst(1))
        .with_timeouts(Timeouts::disabled().with_operation(Some(Duration::from_millis(200))));
    let client = real_time_client(policy).for_tenant(TenantId::new("acme").expect("id"));
    let url = format!("{}/items", server.uri());
    client.get(&url).send().await.expect("the burst");
    let started = std::time::Instant::now();
    let err = client.get(&url).send().await.expect_err("the limiter's next slot is past the deadline");
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(150) && waited < Duration::from_millis(900), "{waited:?}");
    assert!(err.message().contains("operation timed out") && err.message().contains("(0 attempts)"), "{err}");
    assert_eq!(err.delivery(), Delivery::NotSent);
    assert_eq!(requests(&server).await, 1);
}

/// A server that answers its first connection with `first` and every later one with a normal
/// 200 response; returns its base URL.
async fn raw_server(first: fn(tokio::net::TcpStream) -> tokio::task::JoinHandle<()>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let mut connections = 0;
        while let Ok((mut stream, _)) = listener.accept().await {
            connections += 1;
            if connections == 1 {
                first(stream);
                continue;
            }
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf).await;
                let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok").await;
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn a_body_that_trickles_in_times_the_attempt_out_and_is_retried() {
    let base = raw_server(|mut stream| {
        tokio::spawn(async move {
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf).await;
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n").await;
            for _ in 0..100 {
                if stream.write_all(b"x").await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(50)).await; // the fault: a slow body
            }
        })
    })
    .await;
    let policy = retrying(3).with_timeouts(Timeouts::disabled().with_attempt(Some(Duration::from_millis(300))));
    let client = real_time_client(policy);
    let response = client.get(format!("{base}/export")).send().await.expect("the second attempt is quick");
    assert_eq!(response.bytes().as_ref(), b"ok");
    assert_eq!(response.attempts(), 2);
}

#[tokio::test]
async fn a_connection_reset_before_the_response_is_retried_for_a_get_only() {
    let reset = |mut stream: tokio::net::TcpStream| {
        tokio::spawn(async move {
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf).await;
            drop(stream); // the fault: the connection closes with no response
        })
    };
    let policy = retrying(3);
    let client = real_time_client(policy);
    let base = raw_server(reset).await;
    let response = client.get(format!("{base}/items")).send().await.expect("retried");
    assert_eq!(response.attempts(), 2);

    let base = raw_server(reset).await;
    let err = client.post(format!("{base}/payments")).json(&1).send().await.expect_err("not retried");
    assert_eq!(err.kind(), ErrorKind::Transient);
    assert_eq!(err.delivery(), Delivery::MaybeSent);
}

#[tokio::test]
async fn bodies_over_the_limit_are_refused() {
    let server = MockServer::start().await;
    Mock::given(path("/big"))
        .respond_with(ResponseTemplate::new(200).set_body_string("x".repeat(5000)))
        .mount(&server)
        .await;
    let client = real_time_client(HttpPolicy::standard().with_max_body_bytes(1000));
    let err = client.get(format!("{}/big", server.uri())).send().await.expect_err("too big");
    assert_eq!(err.kind(), ErrorKind::InvalidResponse);
    assert!(err.message().contains("1000 bytes"), "{err}");
}

#[tokio::test]
async fn traces_name_the_endpoint_but_never_ids_query_strings_or_credentials() {
    const KEY: &str = "sk-live-1b2c3d4e5f";
    let server = MockServer::start().await;
    Mock::given(path("/v1/employees/40417"))
        .and(header_exists("authorization").not())
        .respond_with(ResponseTemplate::new(401).set_body_string(r#"{"error":"bad key"}"#))
        .mount(&server)
        .await;
    let client = real_time_client(retrying(2))
        .for_tenant(TenantId::new("globex").expect("id"))
        .with_auth(Arc::new(ApiKey::query("api_key", KEY)));
    let (result, logs) =
        capture_tracing(client.get(format!("{}/v1/employees/40417?ssn=123-45-6789", server.uri())).send()).await;
    let err = result.expect_err("401");
    assert_eq!(err.kind(), ErrorKind::AuthInvalid);
    assert!(logs.contains("/v1/employees/{id}"), "{logs}");
    assert!(logs.contains("globex") && logs.contains("status=401"), "{logs}");
    for secret in [KEY, "40417", "123-45-6789"] {
        assert!(!logs.contains(secret), "{secret} leaked into traces: {logs}");
        assert!(!format!("{err} {err:?}").contains(secret), "{secret} leaked into the error: {err:?}");
    }
}

/// A redirect to another origin is not followed: the API key (a custom header and a query
/// parameter, which reqwest's own redirect handling would carry along) never reaches the other
/// host, and the caller gets the redirect itself; a redirect within the origin is followed.
#[tokio::test]
async fn credentials_never_follow_a_redirect_to_another_origin() {
    const KEY: &str = "sk-live-9f8e7d6c5b";
    let (provider, elsewhere) = (MockServer::start().await, MockServer::start().await);
    Mock::given(path("/v1/moved"))
        .respond_with(ResponseTemplate::new(302).insert_header("location", format!("{}/steal", elsewhere.uri())))
        .mount(&provider)
        .await;
    Mock::given(path("/v1/old"))
        .respond_with(ResponseTemplate::new(301).insert_header("location", "/v1/new"))
        .mount(&provider)
        .await;
    Mock::given(path("/v1/new")).respond_with(ResponseTemplate::new(200).set_body_string("{}")).mount(&provider).await;
    Mock::given(path("/steal")).respond_with(ResponseTemplate::new(200)).mount(&elsewhere).await;
    for auth in [ApiKey::header("x-api-key", KEY).expect("a header"), ApiKey::query("api_key", KEY)] {
        let client = real_time_client(retrying(1)).with_auth(Arc::new(auth));
        let answer =
            client.get(format!("{}/v1/moved", provider.uri())).accept_any_status().send().await.expect("an answer");
        assert_eq!(answer.status(), 302, "the redirect itself comes back");
        let followed = client.get(format!("{}/v1/old", provider.uri())).send().await.expect("followed");
        assert_eq!(followed.status(), 200, "within the origin, a redirect is followed");
    }
    assert!(elsewhere.received_requests().await.unwrap_or_default().is_empty(), "nothing reached the other host");
}

/// wiremock's `header_exists(..).not()`.
trait Not: Sized {
    fn not(self) -> NotMatcher<Self>;
}

impl<M: wiremock::Match> Not for M {
    fn not(self) -> NotMatcher<Self> {
        NotMatcher(self)
    }
}

struct NotMatcher<M>(M);

impl<M: wiremock::Match> wiremock::Match for NotMatcher<M> {
    fn matches(&self, request: &wiremock::Request) -> bool {
        !self.0.matches(request)
    }
}
