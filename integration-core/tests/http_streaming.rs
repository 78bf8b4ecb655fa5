//! Streamed responses: a body far larger than the policy lets `send` read arrives chunk by
//! chunk, never whole; the head is retried like any request; a body that stalls or breaks
//! half-way is an error, never a short read taken for the whole.

use std::time::Duration;

use integration_core::http::{CircuitPolicy, HttpClient, HttpPolicy, ProviderClient, RetryPolicy, Timeouts};
use integration_core::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

const MIB: usize = 1024 * 1024;

fn client(policy: HttpPolicy) -> ProviderClient {
    HttpClient::new().expect("client").provider_with(ProviderId::new("acme").expect("id"), policy)
}

fn policy() -> HttpPolicy {
    HttpPolicy::standard()
        .with_circuit(CircuitPolicy::disabled())
        .with_retry(
            RetryPolicy::standard()
                .with_max_attempts(3)
                .with_backoff(Duration::from_millis(5), Duration::from_millis(20)),
        )
        .with_max_body_bytes(MIB)
}

/// The byte at `offset` of the served body.
fn byte_at(offset: usize) -> u8 {
    (offset % 251) as u8
}

/// A raw server answering every connection with a `length`-byte body, written in 64 KiB
/// pieces; it stops after `stop_after` bytes — then holds the connection open (`hold`) or
/// closes it.
async fn serve(length: usize, stop_after: Option<usize>, hold: bool) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bound");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = [0u8; 4096];
                let _ = socket.read(&mut request).await;
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ncontent-length: {length}\r\n\r\n"
                );
                if socket.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let end = stop_after.unwrap_or(length);
                let mut offset = 0;
                while offset < end {
                    let piece: Vec<u8> = (offset..end.min(offset + 64 * 1024)).map(byte_at).collect();
                    if socket.write_all(&piece).await.is_err() {
                        return;
                    }
                    offset += piece.len();
                }
                if hold {
                    // Keep the connection open and silent until the client gives up.
                    let _ = socket.read(&mut request).await;
                }
            });
        }
    });
    format!("http://{address}/file")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_larger_than_the_policy_allows_arrives_chunk_by_chunk() {
    let url = serve(24 * MIB, None, false).await;
    let client = client(policy());
    let whole = client.get(&url).send().await.expect_err("more than the 1 MiB send may read");
    assert!(whole.to_string().contains("larger than"), "{whole}");

    let mut response = client.get(&url).send_streaming().await.expect("the head");
    assert_eq!((response.status().as_u16(), response.content_length()), (200, Some(24 * MIB as u64)));
    let (mut received, mut largest, mut intact) = (0usize, 0usize, true);
    while let Some(chunk) = response.chunk().await.expect("a chunk") {
        intact &= chunk.iter().enumerate().all(|(i, b)| *b == byte_at(received + i));
        largest = largest.max(chunk.len());
        received += chunk.len();
    }
    assert_eq!(received, 24 * MIB);
    assert!(intact, "every byte where it belongs");
    assert!(largest <= MIB, "chunks, never the whole body: the largest was {largest} bytes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_head_is_retried_and_a_refusal_is_an_error() {
    let server = MockServer::start().await;
    Mock::given(path("/file")).respond_with(ResponseTemplate::new(503)).up_to_n_times(1).mount(&server).await;
    Mock::given(path("/file")).respond_with(ResponseTemplate::new(200).set_body_string("hello")).mount(&server).await;
    Mock::given(path("/gone"))
        .respond_with(ResponseTemplate::new(404).set_body_string("no such file"))
        .mount(&server)
        .await;
    let client = client(policy());
    let mut response = client.get(format!("{}/file", server.uri())).send_streaming().await.expect("after a retry");
    assert_eq!(response.attempts(), 2);
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.expect("a chunk") {
        body.extend_from_slice(&chunk);
    }
    assert_eq!(body, b"hello");
    let error = client.get(format!("{}/gone", server.uri())).send_streaming().await.expect_err("a 404");
    assert_eq!((error.kind(), error.status()), (ErrorKind::NotFound, Some(404)));
    assert!(error.body().is_some_and(|b| b.contains("no such file")), "{error:?}");
    // A protocol that reads refusals itself (an S3 client parsing its XML errors) lets them through.
    let mut refused =
        client.get(format!("{}/gone", server.uri())).accept_any_status().send_streaming().await.expect("let through");
    assert_eq!((refused.status().as_u16(), refused.content_length()), (404, Some(12)));
    assert_eq!(refused.chunk().await.expect("its body").as_deref(), Some(&b"no such file"[..]));
    assert_eq!(refused.chunk().await.expect("the end"), None);
}

/// Reads `response` to its end or its first error: the bytes received, and the error.
async fn drain(mut response: integration_core::http::StreamingResponse) -> (usize, Option<Error>) {
    let mut received = 0;
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => received += chunk.len(),
            Ok(None) => return (received, None),
            Err(e) => return (received, Some(e)),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_stalls_half_way_is_an_error_after_the_idle_limit() {
    let url = serve(2 * MIB, Some(MIB), true).await;
    let policy = policy().with_timeouts(Timeouts::standard().with_attempt(Some(Duration::from_millis(300))));
    let response = client(policy).get(&url).send_streaming().await.expect("the head");
    let (received, error) = drain(response).await;
    let error = error.expect("a stall is not the end");
    assert!(received <= MIB, "{received}");
    assert_eq!(error.kind(), ErrorKind::Transient);
    assert!(error.to_string().contains("no part of the response body came within"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_cut_short_is_an_error_not_a_short_read() {
    let url = serve(2 * MIB, Some(MIB / 2), false).await;
    let response = client(policy()).get(&url).send_streaming().await.expect("the head");
    let (received, error) = drain(response).await;
    assert!(received <= MIB / 2, "{received}");
    let error = error.expect("a broken body is not the end");
    assert_eq!(error.kind(), ErrorKind::Transient, "{error}");
}
