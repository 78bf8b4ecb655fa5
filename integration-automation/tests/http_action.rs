//! The `http.request` action against a loopback receiver: what it sends, and what it refuses
//! before connecting.
#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use integration_automation::{Action, ActionCall, HostPolicy, HttpRequest};
use integration_core::{AutomationRunId, ErrorKind, TenantId};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A loopback HTTP receiver answering every request with `response`; counts connections and
/// keeps each request's text.
struct Receiver {
    port: u16,
    connections: Arc<AtomicUsize>,
    requests: Arc<Mutex<Vec<String>>>,
}

async fn receiver(response: &'static str) -> Receiver {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let connections = Arc::new(AtomicUsize::new(0));
    let requests = Arc::new(Mutex::new(Vec::new()));
    let (c, r) = (connections.clone(), requests.clone());
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            c.fetch_add(1, Ordering::SeqCst);
            let r = r.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 16 * 1024];
                let mut read = 0;
                // Read the head, then the body by content-length.
                loop {
                    let n = stream.read(&mut buf[read..]).await.unwrap_or(0);
                    read += n;
                    let text = String::from_utf8_lossy(&buf[..read]).to_string();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let length = text
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        if read >= end + 4 + length || n == 0 {
                            r.lock().unwrap().push(text);
                            break;
                        }
                    }
                    if n == 0 {
                        break;
                    }
                }
                let _ = stream.write_all(response.replace("{port}", &port.to_string()).as_bytes()).await;
            });
        }
    });
    Receiver { port, connections, requests }
}

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
    let rx = receiver("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\nconnection: close\r\n\r\n{\"ok\":true}").await;
    let c = call(format!("http://127.0.0.1:{}/hook", rx.port), json!({"employee": "42"}));
    let key = c.idempotency_key.clone();
    let out = loopback_allowed().run(c).await.unwrap();
    assert_eq!(out, json!({"status": 200, "body": {"ok": true}}));
    let request = rx.requests.lock().unwrap()[0].clone();
    assert!(request.starts_with("POST /hook HTTP/1.1"), "{request}");
    assert!(request.to_ascii_lowercase().contains(&format!("idempotency-key: {key}")), "{request}");
    assert!(request.ends_with("{\"employee\":\"42\"}"), "{request}");
}

#[tokio::test]
async fn refused_addresses_fail_before_connecting() {
    let rx = receiver("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").await;
    let named_only =
        HttpRequest::new(HostPolicy::new().allow_host("127.0.0.1").allow_host("localhost").allow_plain_http());

    let err = named_only.run(call(format!("http://127.0.0.1:{}/", rx.port), json!(1))).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    assert!(err.message().contains("loopback"), "{err}");

    let err = named_only.run(call(format!("http://localhost:{}/", rx.port), json!(1))).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Forbidden, "{err}");
    assert!(err.message().contains("resolves to") && err.message().contains("loopback"), "{err}");

    let err = named_only.run(call(format!("http://127.0.0.2:{}/", rx.port), json!(1))).await.unwrap_err();
    assert!(err.message().contains("not among the hosts"), "{err}");

    let https_only = HttpRequest::new(HostPolicy::new().allow_host("127.0.0.1").allow_private_addresses());
    let err = https_only.run(call(format!("http://127.0.0.1:{}/", rx.port), json!(1))).await.unwrap_err();
    assert!(err.message().contains("\"http\" scheme"), "{err}");

    assert_eq!(rx.connections.load(Ordering::SeqCst), 0, "nothing reached the receiver");
}

#[tokio::test]
async fn a_redirect_to_another_host_is_not_followed() {
    let rx = receiver("HTTP/1.1 302 Found\r\nlocation: http://localhost:{port}/elsewhere\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").await;
    let err = loopback_allowed().run(call(format!("http://127.0.0.1:{}/start", rx.port), json!(1))).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    assert!(err.message().contains("does not follow redirects to another host"), "{err}");
    assert_eq!(rx.connections.load(Ordering::SeqCst), 1, "only the first request was sent");
}

#[tokio::test]
async fn server_errors_are_retryable_and_client_errors_are_not() {
    let busy = receiver(
        "HTTP/1.1 503 Service Unavailable\r\nretry-after: 7\r\ncontent-length: 4\r\nconnection: close\r\n\r\nbusy",
    )
    .await;
    let err = loopback_allowed().run(call(format!("http://127.0.0.1:{}/", busy.port), json!(1))).await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
    assert!(err.message().contains("busy"), "the answer is kept for diagnosis: {err}");

    let bad = receiver("HTTP/1.1 422 Unprocessable Entity\r\ncontent-length: 2\r\nconnection: close\r\n\r\nno").await;
    let err = loopback_allowed().run(call(format!("http://127.0.0.1:{}/", bad.port), json!(1))).await.unwrap_err();
    assert!(!err.is_retryable());
    assert_eq!(err.status(), Some(422));
}
