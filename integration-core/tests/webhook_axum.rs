//! The webhook router mounted in axum, over a real socket on 127.0.0.1.

use std::sync::Arc;

use integration_core::store::{DeliveryQuery, DeliveryStatus, DeliveryStore, MemoryStore};
use integration_core::webhook::{Endpoint, StaticEndpoints, WebhookRouter, WebhookSecret};
use integration_core::*;

#[tokio::test]
async fn deliveries_through_axum_are_verified_limited_and_recorded() {
    let store = Arc::new(MemoryStore::new());
    let endpoints = Arc::new(StaticEndpoints::new());
    let secret = WebhookSecret::new("gh-secret");
    let tenant = TenantId::new("acme").expect("tenant");
    endpoints
        .add_endpoint(
            "repo-1",
            Endpoint::new(
                tenant.clone(),
                ConnectionId::new("code").expect("connection"),
                ProviderId::new("github").expect("provider"),
                WebhookScheme::GitHub,
                vec![secret.clone()],
            ),
        )
        .expect("endpoint");
    let router = WebhookRouter::new(endpoints, store.clone(), store.clone()).with_body_limit(64 * 1024);
    let app = axum::Router::new().nest("/webhooks", integration_core::webhook::axum::routes(Arc::new(router)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
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
