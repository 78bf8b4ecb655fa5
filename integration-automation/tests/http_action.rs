//! The `http.request` action against a loopback receiver: what it sends, and what it refuses
//! before connecting.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use integration_automation::{Action, ActionCall, HostPolicy, HttpRequest};
use integration_core::{AutomationRunId, ErrorKind, TenantId};
use integration_testkit::fake::receiver::Receiver;
use serde_json::{Value, json};

fn call(url: String, body: Value) -> ActionCall {
    ActionCall::new(TenantId::new("acme").unwrap(), AutomationRunId::new(), "1", json!({"url": url, "body": body}))
}

fn loopback_allowed() -> HttpRequest {
    HttpRequest::new(
        HostPolicy::new().allow_host("127.0.0.1").allow_host("localhost").allow_plain_http().allow_private_addresses(),
    )
}

#[tokio::test]
async fn it_posts_json_with_the_steps_idempotency_key() {
    let rx = Receiver::start("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\nconnection: close\r\n\r\n{\"ok\":true}").await;
    let c = call(format!("http://127.0.0.1:{}/hook", rx.port()), json!({"employee": "42"}));
    let key = c.idempotency_key.clone();
    let out = loopback_allowed().run(c).await.unwrap();
    assert_eq!(out, json!({"status": 200, "body": {"ok": true}}));
    let request = rx.requests()[0].clone();
    assert!(request.head.starts_with("POST /hook HTTP/1.1"), "{request:?}");
    assert_eq!(request.header("idempotency-key"), Some(key.as_str()), "{request:?}");
    assert_eq!(request.body, "{\"employee\":\"42\"}", "{request:?}");
}

#[tokio::test]
async fn refused_addresses_fail_before_connecting() {
    let rx = Receiver::start("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").await;
    let named_only =
        HttpRequest::new(HostPolicy::new().allow_host("127.0.0.1").allow_host("localhost").allow_plain_http());

    let err = named_only.run(call(format!("http://127.0.0.1:{}/", rx.port()), json!(1))).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    assert!(err.message().contains("loopback"), "{err}");

    let err = named_only.run(call(format!("http://localhost:{}/", rx.port()), json!(1))).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Forbidden, "{err}");
    assert!(err.message().contains("resolves to") && err.message().contains("loopback"), "{err}");

    let err = named_only.run(call(format!("http://127.0.0.2:{}/", rx.port()), json!(1))).await.unwrap_err();
    assert!(err.message().contains("not among the hosts"), "{err}");

    let https_only = HttpRequest::new(HostPolicy::new().allow_host("127.0.0.1").allow_private_addresses());
    let err = https_only.run(call(format!("http://127.0.0.1:{}/", rx.port()), json!(1))).await.unwrap_err();
    assert!(err.message().contains("\"http\" scheme"), "{err}");

    assert_eq!(rx.connections(), 0, "nothing reached the receiver");
}

#[tokio::test]
async fn a_redirect_to_another_host_is_not_followed() {
    let rx = Receiver::start("HTTP/1.1 302 Found\r\nlocation: http://localhost:{port}/elsewhere\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").await;
    let err =
        loopback_allowed().run(call(format!("http://127.0.0.1:{}/start", rx.port()), json!(1))).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    assert!(err.message().contains("does not follow redirects to another host"), "{err}");
    assert_eq!(rx.connections(), 1, "only the first request was sent");
}

#[tokio::test]
async fn server_errors_are_retryable_and_client_errors_are_not() {
    let busy = Receiver::start(
        "HTTP/1.1 503 Service Unavailable\r\nretry-after: 7\r\ncontent-length: 4\r\nconnection: close\r\n\r\nbusy",
    )
    .await;
    let err = loopback_allowed().run(call(format!("http://127.0.0.1:{}/", busy.port()), json!(1))).await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
    assert!(err.message().contains("busy"), "the answer is kept for diagnosis: {err}");

    let bad =
        Receiver::start("HTTP/1.1 422 Unprocessable Entity\r\ncontent-length: 2\r\nconnection: close\r\n\r\nno").await;
    let err = loopback_allowed().run(call(format!("http://127.0.0.1:{}/", bad.port()), json!(1))).await.unwrap_err();
    assert!(!err.is_retryable());
    assert_eq!(err.status(), Some(422));
}

/// A receiver answering 200 MiB: `http.request` keeps 64 KiB and stops reading there, so the
/// receiver manages to send no more than what the socket buffers take.
#[tokio::test]
async fn a_huge_answer_is_read_only_up_to_the_limit() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    const TOTAL: u64 = 200 * 1024 * 1024;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let sent = Arc::new(AtomicU64::new(0));
    let counter = sent.clone();
    let server = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = vec![0u8; 4096];
        let _ = socket.read(&mut request).await;
        let head = format!("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {TOTAL}\r\n\r\n");
        socket.write_all(head.as_bytes()).await.unwrap();
        let chunk = vec![b'x'; 64 * 1024];
        while counter.load(Ordering::SeqCst) < TOTAL {
            if socket.write_all(&chunk).await.is_err() {
                break;
            }
            counter.fetch_add(chunk.len() as u64, Ordering::SeqCst);
        }
    });
    let out = loopback_allowed().run(call(format!("http://127.0.0.1:{port}/big"), json!(1))).await.unwrap();
    let body = out["body"].as_str().unwrap();
    assert!(body.len() < 70 * 1024, "{} bytes kept", body.len());
    assert!(body.ends_with(&format!("… ({TOTAL} bytes in all)")), "{}", &body[body.len() - 40..]);
    tokio::time::timeout(Duration::from_secs(30), server).await.unwrap().unwrap();
    let sent = sent.load(Ordering::SeqCst);
    assert!(sent < 32 * 1024 * 1024, "the receiver sent {sent} bytes: the answer was read past the limit");
}
