//! Receiving a 1 KB Standard Webhooks delivery — route, verify, deduplicate and record (in
//! memory) — beside the bare HMAC-SHA256 of the same signed content, in the same run.
//!
//! The router is given the body as `Bytes`, as the axum mount does (hyper reads a request into
//! one): the recorded delivery shares that buffer. `WebhookRouter::handle` (a `&[u8]` body)
//! copies it instead, a 1 KB allocation more.
//!
//! `cargo bench --bench webhook`; the ratio of the two medians is what the README reports.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ::http::{HeaderMap, Method};
use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hmac::{Hmac, Mac};
use integrations::store::MemoryStore;
use integrations::webhook::{Endpoint, StaticEndpoints, VerifyOptions, WebhookRouter, WebhookSecret};
use integrations::{ConnectionId, ProviderId, TenantId, WebhookScheme};
use sha2::Sha256;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
/// Deliveries per fresh store, so the store's size stays realistic and memory bounded.
const CHUNK: u64 = 20_000;

fn body() -> Vec<u8> {
    let mut body = br#"{"type":"employee.updated","data":{"id":"42","note":""#.to_vec();
    body.resize(1024 - 3, b'x');
    body.extend_from_slice(br#""}}"#);
    body
}

fn router() -> WebhookRouter {
    let store = Arc::new(MemoryStore::new());
    let endpoints = Arc::new(StaticEndpoints::new());
    let endpoint = Endpoint::new(
        TenantId::new("acme").expect("tenant"),
        ConnectionId::new("hr").expect("connection"),
        ProviderId::new("acmehr").expect("provider"),
        WebhookScheme::StandardWebhooks,
        vec![WebhookSecret::new(SECRET)],
    );
    endpoints.add_endpoint("k1", endpoint).expect("endpoint");
    WebhookRouter::new(endpoints, store.clone(), store)
}

fn signed(n: u64, body: &[u8], now: i64) -> HeaderMap {
    WebhookScheme::StandardWebhooks.sign(&WebhookSecret::new(SECRET), body, now, &format!("msg_{n}")).expect("sign")
}

/// For instruction counts (callgrind): `WEBHOOK_BENCH_ONLY=hmac|verify|router` runs 20,000 of
/// one side and nothing else (anything else runs only the setup, to subtract).
fn only(side: &str, body: &[u8], runtime: &tokio::runtime::Runtime) {
    const N: u64 = 20_000;
    let now = chrono::Utc::now().timestamp();
    let router = router();
    let requests: Vec<HeaderMap> = (0..N).map(|i| signed(i, body, now)).collect();
    let secrets = [WebhookSecret::new(SECRET)];
    let key = [0x31u8; 24];
    let mut content = format!("msg_1.{now}.").into_bytes();
    content.extend_from_slice(body);
    let shared = Bytes::copy_from_slice(body);
    runtime.block_on(async {
        for headers in &requests {
            match side {
                "hmac" => {
                    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("any key length");
                    mac.update(black_box(&content));
                    black_box(mac.finalize().into_bytes());
                }
                "verify" => {
                    let options = VerifyOptions::at(now);
                    let verified = WebhookScheme::StandardWebhooks.verify(headers, body, &secrets, &options);
                    black_box(verified.expect("verifies"));
                }
                "router" => {
                    let r = router.handle_bytes(&Method::POST, "/acmehr/k1", headers, shared.clone()).await;
                    assert_eq!(r.status, 200, "{}", r.body);
                    black_box(r);
                }
                _ => {}
            }
        }
    });
}

fn webhook(c: &mut Criterion) {
    let body = body();
    let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    if let Ok(side) = std::env::var("WEBHOOK_BENCH_ONLY") {
        only(&side, &body, &runtime);
        return;
    }
    let mut group = c.benchmark_group("webhook_1kb");
    group.throughput(Throughput::Elements(1));

    group.bench_function("baseline_bare_hmac_sha256", |b| {
        // A Standard Webhooks key is the secret's 24 decoded bytes.
        let key = [0x31u8; 24];
        let now = chrono::Utc::now().timestamp();
        let mut content = format!("msg_1.{now}.").into_bytes();
        content.extend_from_slice(&body);
        b.iter(|| {
            let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("any key length");
            mac.update(black_box(&content));
            black_box(mac.finalize().into_bytes())
        });
    });

    group.bench_function("verify_signature_only", |b| {
        let now = chrono::Utc::now().timestamp();
        let headers = signed(1, &body, now);
        let secrets = [WebhookSecret::new(SECRET)];
        let options = VerifyOptions::at(now);
        b.iter(|| {
            let verified =
                WebhookScheme::StandardWebhooks.verify(black_box(&headers), black_box(&body), &secrets, &options);
            black_box(verified.expect("verifies"))
        });
    });

    group.bench_function("router_verify_dedupe_route_record", |b| {
        let shared = Bytes::copy_from_slice(&body);
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            let now = chrono::Utc::now().timestamp();
            let mut done = 0;
            while done < iters {
                let n = CHUNK.min(iters - done);
                let router = router();
                let requests: Vec<HeaderMap> = (0..n).map(|i| signed(done + i, &body, now)).collect();
                let start = Instant::now();
                runtime.block_on(async {
                    for headers in &requests {
                        let r = router.handle_bytes(&Method::POST, "/acmehr/k1", headers, shared.clone()).await;
                        assert_eq!(r.status, 200, "{}", r.body);
                        black_box(r);
                    }
                });
                total += start.elapsed();
                done += n;
            }
            total
        });
    });
    group.finish();
}

criterion_group!(benches, webhook);
criterion_main!(benches);
