//! A GET of a 1 KB JSON body from a loopback server, through `HttpClient` with every policy on
//! (operation and attempt timeouts, retry with budget, circuit breaker, rate limit, bearer auth,
//! body limit, tracing spans) beside bare reqwest sending the same request (bearer token and
//! `User-Agent`), in the same run.
//!
//! `cargo bench --bench http`; the ratio of the two medians is what the README reports.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::routing::get;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use integrations::auth::Bearer;
use integrations::http::ProviderClient;
use integrations::http::{HttpClient, HttpPolicy, RateLimit};
use integrations::{ProviderId, TenantId};

fn body() -> String {
    let mut body = r#"{"id":"42","name":"Ada Lovelace","note":""#.to_owned();
    body.push_str(&"x".repeat(1024 - body.len() - 2));
    body.push_str(r#""}"#);
    body
}

/// Serves the body on 127.0.0.1 from its own runtime thread; returns the URL.
fn serve() -> String {
    let body = body();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        runtime.block_on(async move {
            let app = Router::new().route(
                "/v1/employees/42",
                get(move || {
                    let body = body.clone();
                    async move { ([("content-type", "application/json")], body) }
                }),
            );
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            axum::serve(listener, app).await.expect("serve");
        });
    });
    format!("http://{addr}/v1/employees/42")
}

fn http(c: &mut Criterion) {
    let url = serve();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    if let Ok(only) = std::env::var("HTTP_BENCH_ONLY") {
        // For instruction counts under `valgrind --tool=callgrind`: one variant, 2000 requests.
        one_variant(&runtime, &url, &only, 2000);
        return;
    }
    let mut group = c.benchmark_group("http_get_1kb");
    group.throughput(Throughput::Elements(1));

    group.bench_function("baseline_bare_reqwest", |b| {
        let client = bare_client();
        b.iter(|| {
            runtime.block_on(async {
                let response = client.get(&url).bearer_auth("token-123").send().await.expect("send");
                assert!(response.status().is_success());
                black_box(response.bytes().await.expect("body"))
            })
        });
    });

    let client = ours();
    group.bench_function("http_client_every_policy_on", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let response = client.get(&url).send().await.expect("send");
                black_box(response.bytes().len())
            })
        });
    });
    group.finish();
    paired_ratio(&runtime, &url);
}

fn one_variant(runtime: &tokio::runtime::Runtime, url: &str, variant: &str, n: usize) {
    let bare = bare_client();
    let ours = ours();
    runtime.block_on(async {
        for _ in 0..n {
            if variant == "bare" {
                let response = bare.get(url).bearer_auth("token-123").send().await.expect("send");
                black_box(response.bytes().await.expect("body"));
            } else {
                black_box(ours.get(url).send().await.expect("send").bytes().len());
            }
        }
    });
}

/// The baseline: bare reqwest sending the same request — the bearer token and the `User-Agent`
/// our client sends (reqwest sends none by default; many APIs refuse requests without one), so
/// the ratio measures our layers, not a header.
fn bare_client() -> reqwest::Client {
    reqwest::Client::builder()
        .user_agent(concat!("integrations-rs/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("client")
}

/// The client under test: every policy on, the rate limit high enough never to wait.
fn ours() -> ProviderClient {
    let policy = HttpPolicy::standard().with_rate_limit(RateLimit::per_second(10_000_000).with_burst(10_000_000));
    HttpClient::new()
        .expect("client")
        .provider_with(ProviderId::new("acme").expect("id"), policy)
        .for_tenant(TenantId::new("bench").expect("tenant"))
        .with_auth(Arc::new(Bearer::new("token-123")))
}

/// Loopback latency on a 2-core machine drifts by ±20 % between criterion's two runs, more
/// than the difference measured. So the ratio is also taken in pairs: alternating batches of
/// each, the order swapped every round, the median of the per-round ratios reported.
fn paired_ratio(runtime: &tokio::runtime::Runtime, url: &str) {
    const ROUNDS: usize = 201;
    const BATCH: usize = 100;
    let bare = bare_client();
    let ours = ours();
    let time_bare = || {
        let start = Instant::now();
        runtime.block_on(async {
            for _ in 0..BATCH {
                let response = bare.get(url).bearer_auth("token-123").send().await.expect("send");
                black_box(response.bytes().await.expect("body"));
            }
        });
        start.elapsed()
    };
    let time_ours = || {
        let start = Instant::now();
        runtime.block_on(async {
            for _ in 0..BATCH {
                black_box(ours.get(url).send().await.expect("send").bytes().len());
            }
        });
        start.elapsed()
    };
    let mut ratios = Vec::with_capacity(ROUNDS);
    for round in 0..ROUNDS {
        let (b, o) = if round % 2 == 0 {
            let b = time_bare();
            (b, time_ours())
        } else {
            let o = time_ours();
            (time_bare(), o)
        };
        ratios.push(o.as_secs_f64() / b.as_secs_f64());
    }
    ratios.sort_by(f64::total_cmp);
    let at = |q: f64| ratios[((ROUNDS - 1) as f64 * q).round() as usize];
    println!(
        "http_get_1kb paired ratio (every policy on / bare reqwest): median {:.3} (p25 {:.3}, p75 {:.3}) over {ROUNDS} rounds of {BATCH} requests each",
        at(0.5),
        at(0.25),
        at(0.75)
    );
}

criterion_group!(benches, http);
criterion_main!(benches);
