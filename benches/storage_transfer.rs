//! S3 transfers in bounded memory, against the real moto (installed on first use): 1 GiB up in
//! 8 MiB parts and down as a stream through `storage::s3::Bucket`, the process's peak resident
//! size (Linux `VmHWM`, reset before each transfer through `/proc/self/clear_refs`) measured
//! around each — the target is under 64 MiB of growth —, beside the same download by bare
//! reqwest (`Response::chunk`) in the same run; and, with criterion, a 64 MiB download through the
//! bucket beside bare reqwest, as a throughput ratio.
//!
//! `cargo bench --bench storage_transfer --features s3,testkit`.

use std::sync::Arc;
use std::time::Instant;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use integrations::ProviderId;
use integrations::http::{HttpClient, HttpPolicy};
use integrations::storage::s3::{Addressing, Bucket, SigV4};
use integrations::testkit::peers::Moto;

#[path = "common/resident.rs"]
mod resident;
use resident::{reset_peak, resident};

const MIB: usize = 1024 * 1024;
const PART: usize = 8 * MIB;

/// Runs `work`, returning its result and how far the peak resident size rose above the resident
/// size before it, in MiB.
fn peak_growth<T>(runtime: &tokio::runtime::Runtime, work: impl std::future::Future<Output = T>) -> (T, f64) {
    reset_peak();
    let (_, before) = resident();
    let value = runtime.block_on(work);
    let (peak, _) = resident();
    (value, peak.saturating_sub(before) as f64 / 1024.0)
}

fn bucket(moto: &Moto, name: &str) -> Bucket {
    let client = HttpClient::new()
        .expect("client")
        .provider_with(ProviderId::new("s3").expect("id"), HttpPolicy::standard())
        .with_auth(Arc::new(SigV4::new("AKIAEXAMPLE", "secret-example-key", "us-east-1")));
    Bucket::new(client, moto.url(), name, Addressing::Path).expect("a bucket")
}

async fn upload(bucket: &Bucket, key: &str, total: usize) {
    let mut upload = bucket.start_multipart(key, "application/octet-stream").await.expect("started");
    let mut offset = 0;
    while offset < total {
        let length = PART.min(total - offset);
        upload.part(bytes::Bytes::from(vec![(offset / PART) as u8; length])).await.expect("a part");
        offset += length;
    }
    upload.complete().await.expect("completed");
}

async fn download(bucket: &Bucket, key: &str) -> usize {
    let mut response = bucket.get(key, None).await.expect("read");
    let mut received = 0;
    while let Some(chunk) = response.chunk().await.expect("a chunk") {
        received += chunk.len();
    }
    received
}

async fn download_bare(url: &str) -> usize {
    let mut response = reqwest::get(url).await.expect("read");
    let mut received = 0;
    while let Some(chunk) = response.chunk().await.expect("a chunk") {
        received += chunk.len();
    }
    received
}

fn benches(c: &mut Criterion) {
    let Some(moto) = Moto::start() else {
        eprintln!("storage_transfer: moto is unavailable; nothing measured");
        return;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let bucket = bucket(&moto, "bench");
    runtime.block_on(bucket.create()).expect("a bucket");

    // 64 MiB down, ours beside bare reqwest.
    runtime.block_on(upload(&bucket, "small.bin", 64 * MIB));
    let url = bucket.object_url("small.bin").expect("a URL").to_string();
    let mut group = c.benchmark_group("storage_transfer");
    group.sample_size(10).throughput(Throughput::Bytes(64 * MIB as u64));
    group.bench_function("bucket_get_64mib", |b| b.iter(|| runtime.block_on(download(&bucket, "small.bin"))));
    group.bench_function("bare_reqwest_64mib", |b| b.iter(|| runtime.block_on(download_bare(&url))));
    group.finish();

    // 1 GiB up and down, peak memory around each.
    let total = 1024 * MIB;
    let started = Instant::now();
    let ((), up) = peak_growth(&runtime, upload(&bucket, "large.bin", total));
    let up_secs = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let (received, down) = peak_growth(&runtime, download(&bucket, "large.bin"));
    let down_secs = started.elapsed().as_secs_f64();
    assert_eq!(received, total);
    let large_url = bucket.object_url("large.bin").expect("a URL").to_string();
    let (bare_received, bare) = peak_growth(&runtime, download_bare(&large_url));
    assert_eq!(bare_received, total);
    println!(
        "storage_transfer: 1 GiB up in 8 MiB parts: peak resident growth {up:.1} MiB ({up_secs:.1} s); \
         down as a stream: {down:.1} MiB ({down_secs:.1} s), bare reqwest {bare:.1} MiB; target < 64 MiB"
    );
}

criterion_group!(storage_transfer, benches);
criterion_main!(storage_transfer);
