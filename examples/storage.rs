//! Back up a folder from a WebDAV server to an S3 bucket: `cargo run --example storage`. No
//! credentials: it starts the real WsgiDAV and moto on 127.0.0.1 (each installed, pinned, into
//! a cache folder on first use: this needs Python 3).
//!
//! 1. Ada's WebDAV folder holds reports, one of 9 MiB (sent to S3 in parts);
//! 2. the `Reports` folder is backed up to `backups/reports` in a bucket, its ledger in a
//!    records store (here in memory; SQLite or PostgreSQL in a host);
//! 3. one report changes: the next run copies only it;
//! 4. the bucket's files are synced into the cache and analysed: usage by folder and type, the
//!    largest files.

use std::error::Error;

use bytes::Bytes;
use integration_core::store::{MemoryStore, StreamScope};
use integration_core::{
    BuildContext, CancellationToken, ConnectionId, Domain, IntegrationConfig, ProviderId, SyncEngine, SyncJob,
    SyncMode, TenantId,
};
use integration_storage::analytics::{self, Options};
use integration_storage::backup::{self, BackupJob};
use integration_storage::s3::S3;
use integration_storage::{InMemory, Storage, StoragePath, UploadOptions};
use integration_testkit::peers::{Moto, WsgiDav};

fn config(connection: &str, provider: &str) -> Result<IntegrationConfig, Box<dyn Error>> {
    Ok(IntegrationConfig::new(
        TenantId::new("acme")?,
        ConnectionId::new(connection)?,
        Domain::Storage,
        ProviderId::new(provider)?,
    ))
}

async fn write(storage: &dyn Storage, path: &str, content: Vec<u8>, mime: &str) -> Result<(), Box<dyn Error>> {
    let mut body = InMemory::new(Bytes::from(content));
    storage.upload(&StoragePath::parse(path)?, &mut body, &UploadOptions::new().content_type(mime)).await?;
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn Error>> {
    let dav = WsgiDav::start().ok_or("WsgiDAV could not start (it needs Python 3 and pip)")?;
    let moto = Moto::start().ok_or("moto could not start (it needs Python 3 and pip)")?;
    let context = BuildContext::default();

    let webdav = integration_storage::build(
        &config("ada-files", "webdav")?
            .with_setting("base_url", dav.url())
            .with_setting("username", WsgiDav::USER)
            .with_secret("password", WsgiDav::PASSWORD),
        &context,
    )?;
    let s3_config = config("archive", "s3")?
        .with_setting("base_url", moto.url())
        .with_setting("bucket", "backups")
        .with_setting("access_key_id", "AKIAEXAMPLE")
        .with_secret("secret_access_key", "secret-example-key");
    // The bucket is made through the S3 client underneath; the rest goes through `Storage`.
    integration_core::domain::build_adapter::<S3>(&s3_config, &context)?.bucket().create().await?;
    let s3 = integration_storage::build(&s3_config, &context)?;

    write(webdav.as_ref(), "Reports/2026/q3.pdf", b"%PDF-1.7 third quarter".to_vec(), "application/pdf").await?;
    write(webdav.as_ref(), "Reports/2026/q4.pdf", b"%PDF-1.7 fourth quarter".to_vec(), "application/pdf").await?;
    write(webdav.as_ref(), "Reports/data/ledger.csv", vec![b'x'; 9 << 20], "text/csv").await?;
    write(webdav.as_ref(), "Private/diary.txt", b"not backed up".to_vec(), "text/plain").await?;

    let ledger = MemoryStore::new();
    let job = BackupJob::new(
        TenantId::new("acme")?,
        ConnectionId::new("archive")?,
        "reports",
        StoragePath::parse("Reports")?,
        StoragePath::parse("backups/reports")?,
    )?;
    let first = backup::run(webdav.as_ref(), s3.as_ref(), &ledger, &job, &CancellationToken::new()).await?;
    println!("first run: {} copied ({} bytes), {} unchanged", first.copied.len(), first.bytes, first.unchanged);

    write(webdav.as_ref(), "Reports/2026/q4.pdf", b"%PDF-1.7 fourth quarter, revised".to_vec(), "application/pdf")
        .await?;
    let second = backup::run(webdav.as_ref(), s3.as_ref(), &ledger, &job, &CancellationToken::new()).await?;
    let copied: Vec<String> = second.copied.iter().map(ToString::to_string).collect();
    println!("second run: copied {copied:?}, {} unchanged", second.unchanged);
    assert_eq!(copied, ["2026/q4.pdf"], "only the revised report");

    // The bucket synced into the cache (S3 has no change feed: each pass is compared with the
    // cache), then analysed there.
    let cache = std::sync::Arc::new(MemoryStore::new());
    let engine = SyncEngine::new(cache.clone(), cache.clone(), "example");
    let sync = SyncJob::new(TenantId::new("acme")?, ConnectionId::new("archive")?, "files", SyncMode::FullRefresh);
    engine.run(s3.as_ref(), &sync, &CancellationToken::new()).await?;
    let scope = StreamScope::new(TenantId::new("acme")?, ConnectionId::new("archive")?, "files");
    let report = analytics::analyze(cache.as_ref(), &scope, &Options { folder_depth: 3, ..Options::default() }).await?;
    println!("the bucket holds {} files, {} bytes", report.total.files, report.total.bytes);
    for (folder, usage) in &report.by_folder {
        println!("  {folder}: {} files, {} bytes", usage.files, usage.bytes);
    }
    println!("largest: {}", report.largest.first().map(|f| f.path.as_str()).unwrap_or("none"));
    Ok(())
}
