//! The webhook router mounted in axum, over a real socket on 127.0.0.1.

use std::sync::Arc;

use integration_core::store::{DeliveryQuery, DeliveryStatus, DeliveryStore, MemoryStore};
use integration_core::webhook::{Endpoint, StaticEndpoints, WebhookRouter, WebhookSecret};
use integration_core::*;

fn tenant() -> TenantId {
    TenantId::new("acme").expect("tenant")
}

/// The router on a real socket: one GitHub endpoint (`/webhooks/github/repo-1`, secret
/// `gh-secret`) recording into `store`, with a 64 KiB body limit.
async fn serve(store: &Arc<MemoryStore>) -> (std::net::SocketAddr, tokio::task::JoinHandle<std::io::Result<()>>) {
    let endpoints = Arc::new(StaticEndpoints::new());
    endpoints
        .add_endpoint(
            "repo-1",
            Endpoint::new(
                tenant(),
                ConnectionId::new("code").expect("connection"),
                ProviderId::new("github").expect("provider"),
                WebhookScheme::GitHub,
                vec![WebhookSecret::new("gh-secret")],
            ),
        )
        .expect("endpoint");
    endpoints
        .add_endpoint(
            "ada",
            Endpoint::new(
                tenant(),
                ConnectionId::new("outlook").expect("connection"),
                ProviderId::new("microsoft_outlook").expect("provider"),
                WebhookScheme::GraphClientState,
                vec![WebhookSecret::new("client-state-0123456789")],
            ),
        )
        .expect("endpoint");
    let router = WebhookRouter::new(endpoints, store.clone(), store.clone()).with_body_limit(64 * 1024);
    let app = axum::Router::new().nest("/webhooks", integration_core::webhook::axum::routes(Arc::new(router)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    (addr, tokio::spawn(async move { axum::serve(listener, app).await }))
}

#[tokio::test]
async fn deliveries_through_axum_are_verified_limited_and_recorded() {
    let (store, secret, tenant) = (Arc::new(MemoryStore::new()), WebhookSecret::new("gh-secret"), tenant());
    let (addr, server) = serve(&store).await;
    let client = reqwest::Client::new();
    let url = format!("http://{addr}/webhooks/github/repo-1");

    let body = br#"{"action":"opened","number":1}"#.to_vec();
    let headers = WebhookScheme::GitHub.sign(&secret, &body, 0, "d-1").expect("sign");
    let r = client.post(&url).headers(headers.clone()).body(body.clone()).send().await.expect("send");
    assert_eq!(r.status(), 200);
    assert!(r.text().await.expect("body").contains("accepted"));

    let r = client.post(&url).headers(headers.clone()).body(b"{}".to_vec()).send().await.expect("send");
    assert_eq!(r.status(), 401);

    let huge = vec![b'x'; 64 * 1024 + 1];
    let h = WebhookScheme::GitHub.sign(&secret, &huge, 0, "d-2").expect("sign");
    let r = client.post(&url).headers(h).body(huge).send().await.expect("send");
    assert_eq!(r.status(), 413);

    let r = client.post(format!("http://{addr}/webhooks/github/other")).headers(headers).body(body).send().await;
    assert_eq!(r.expect("send").status(), 404);
    let r = client.get(&url).send().await.expect("send");
    assert_eq!(r.status(), 405);

    let all = store.list_deliveries(&tenant, &DeliveryQuery::new()).await.expect("list");
    let queued = all.iter().filter(|d| d.status == DeliveryStatus::Queued).count();
    let rejected: Vec<_> = all.iter().filter_map(|d| d.rejection.clone()).collect();
    assert_eq!(queued, 1);
    assert_eq!(rejected.len(), 2, "{rejected:?}");
    server.abort();
}

/// Graph's check of an endpoint, through axum: the query reaches the router, the token comes
/// back as text.
#[tokio::test]
async fn graph_s_validation_token_is_echoed_through_axum() {
    let store = Arc::new(MemoryStore::new());
    let (addr, server) = serve(&store).await;
    let url = format!("http://{addr}/webhooks/microsoft_outlook/ada?validationToken=Validation%3A%20Testing");
    let r = reqwest::Client::new().post(&url).header("content-type", "text/plain").send().await.expect("send");
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers().get("content-type").and_then(|v| v.to_str().ok()), Some("text/plain"));
    assert_eq!(r.text().await.expect("body"), "Validation: Testing");
    server.abort();
}

/// A client that announces 100 bytes, sends 7 and closes: recorded as `incomplete_body`, not
/// as `too_large`.
#[tokio::test]
async fn a_body_cut_short_is_recorded_as_incomplete() {
    use tokio::io::AsyncWriteExt;

    let (store, tenant) = (Arc::new(MemoryStore::new()), tenant());
    let (addr, server) = serve(&store).await;

    let mut socket = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let head = "POST /webhooks/github/repo-1 HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n";
    socket.write_all(head.as_bytes()).await.expect("head");
    socket.write_all(b"{\"a\":1,").await.expect("some of the body");
    socket.shutdown().await.expect("close");
    drop(socket);

    let recorded = integration_testkit::poll::eventually(std::time::Duration::from_secs(10), || {
        let store = store.clone();
        let tenant = tenant.clone();
        async move {
            let all = store.list_deliveries(&tenant, &DeliveryQuery::new()).await.ok()?;
            all.into_iter().find_map(|d| d.rejection)
        }
    })
    .await;
    assert_eq!(recorded.as_deref(), Some("incomplete_body"));
    server.abort();
}
