//! Backup from the real WsgiDAV to the real moto: a backup killed at random points (before an
//! upload, or after one but before the ledger knew) and run again ends with the target equal to
//! the source, no finished copy made twice; the next run copies only what changed and mirrors
//! deletions.
#![cfg(all(feature = "s3", feature = "webdav"))]
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::Bytes;
use integration_core::domain::{ListRequest, Listing, Remote};
use integration_core::http::StreamingResponse;
use integration_core::store::MemoryStore;
use integration_core::{
    BuildContext, CancellationToken, ConnectionId, ConnectionInfo, Descriptor, Domain, Integration, IntegrationConfig,
    Page, ProviderId, ReadRequest, Result, TenantId,
};
use integration_storage::backup::{self, BackupJob, BackupReport};
use integration_storage::s3::S3;
use integration_storage::{ByteRange, Content, Drive, Entry, EntryKind, InMemory, Storage, StoragePath, UploadOptions};
use integration_testkit::peers::{Moto, WsgiDav};
use tokio::sync::Notify;

fn config(provider: &str) -> IntegrationConfig {
    IntegrationConfig::new(
        TenantId::new("acme").expect("tenant"),
        ConnectionId::new(provider).expect("connection"),
        Domain::Storage,
        ProviderId::new(provider).expect("provider"),
    )
}

/// A target that counts the uploads that finished, and can stop dead (as a killed process
/// does) at its n-th upload: before sending it, or after it finished but before answering.
#[derive(Debug)]
struct Killable {
    inner: Arc<dyn Storage>,
    finished: Arc<Mutex<BTreeMap<String, usize>>>,
    uploads: AtomicUsize,
    kill_at: Option<(usize, bool)>,
    killed: Arc<Notify>,
}

impl Killable {
    async fn maybe_die(&self, n: usize, after: bool) {
        if self.kill_at == Some((n, after)) {
            self.killed.notify_one();
            std::future::pending::<()>().await;
        }
    }
}

#[async_trait]
impl Integration for Killable {
    fn descriptor(&self) -> &Descriptor {
        self.inner.descriptor()
    }
    async fn connect(&self) -> Result<ConnectionInfo> {
        self.inner.connect().await
    }
    async fn read(&self, request: ReadRequest) -> Result<Page> {
        self.inner.read(request).await
    }
}

#[async_trait]
impl Storage for Killable {
    async fn drives(&self) -> Result<Vec<Drive>> {
        self.inner.drives().await
    }
    async fn entries(&self, request: ListRequest) -> Result<Listing<Entry>> {
        self.inner.entries(request).await
    }
    async fn entry(&self, path: &StoragePath) -> Result<Remote<Entry>> {
        self.inner.entry(path).await
    }
    async fn download(&self, path: &StoragePath, range: Option<ByteRange>) -> Result<StreamingResponse> {
        self.inner.download(path, range).await
    }
    async fn upload(
        &self,
        path: &StoragePath,
        content: &mut dyn Content,
        options: &UploadOptions,
    ) -> Result<Remote<Entry>> {
        let n = self.uploads.fetch_add(1, Ordering::SeqCst) + 1;
        self.maybe_die(n, false).await;
        let written = self.inner.upload(path, content, options).await?;
        *self.finished.lock().expect("counts").entry(path.to_string()).or_default() += 1;
        self.maybe_die(n, true).await;
        Ok(written)
    }
    async fn create_folder(&self, path: &StoragePath) -> Result<Remote<Entry>> {
        self.inner.create_folder(path).await
    }
    async fn delete(&self, path: &StoragePath) -> Result<()> {
        self.inner.delete(path).await
    }
}

async fn content(storage: &dyn Storage, path: &StoragePath) -> Vec<u8> {
    let mut body = storage.download(path, None).await.expect("downloaded");
    let mut out = Vec::new();
    while let Some(chunk) = body.chunk().await.expect("a chunk") {
        out.extend_from_slice(&chunk);
    }
    out
}

/// Every file under `root`, relative to it, with its content.
async fn tree(storage: &dyn Storage, root: &StoragePath) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut request = ListRequest::first();
    loop {
        let page = storage.entries(request.clone()).await.expect("a page");
        for entry in page.items.iter().filter(|e| e.fields.kind == EntryKind::File) {
            if let Some(relative) = entry.fields.path.strip_prefix(root) {
                out.insert(relative.to_string(), content(storage, &entry.fields.path).await);
            }
        }
        match page.next {
            Some(next) => request = request.at(Some(next)),
            None => return out,
        }
    }
}

async fn write(storage: &dyn Storage, at: &str, bytes: Vec<u8>) {
    let mut body = InMemory::new(Bytes::from(bytes));
    storage.upload(&StoragePath::parse(at).expect("a path"), &mut body, &UploadOptions::new()).await.expect("written");
}

async fn a_killed_backup_resumes_to_an_equal_target_and_then_copies_only_what_changed() {
    let Some(dav) = WsgiDav::start() else { return };
    let Some(moto) = Moto::start() else { return };
    let source = integration_storage::build(
        &config("webdav")
            .with_setting("base_url", dav.url())
            .with_setting("username", WsgiDav::USER)
            .with_secret("password", WsgiDav::PASSWORD),
        &BuildContext::default(),
    )
    .expect("WebDAV");
    let s3_config = config("s3")
        .with_setting("base_url", moto.url())
        .with_setting("bucket", "backups")
        .with_setting("access_key_id", "AKIAEXAMPLE")
        .with_secret("secret_access_key", "secret-example-key");
    let bucket = integration_core::domain::build_adapter::<S3>(&s3_config, &BuildContext::default()).expect("S3");
    bucket.bucket().create().await.expect("the bucket");
    let target: Arc<dyn Storage> = bucket;

    let seed = fastrand::u64(..);
    let mut rng = fastrand::Rng::with_seed(seed);
    for i in 0..10 {
        let size = if i == 3 { 9 << 20 } else { rng.usize(1..4096) };
        let bytes: Vec<u8> = (0..size).map(|_| rng.u8(..)).collect();
        write(source.as_ref(), &format!("Finance/{}/report {i}.bin", ["2025", "2026"][i % 2]), bytes).await;
    }
    source.create_folder(&StoragePath::parse("Finance/empty").expect("a path")).await.expect("a folder");
    write(source.as_ref(), "Elsewhere/not-copied.txt", b"outside the job".to_vec()).await;

    let store = MemoryStore::new();
    let job = BackupJob::new(
        TenantId::new("acme").expect("tenant"),
        ConnectionId::new("s3").expect("connection"),
        "nightly",
        StoragePath::parse("Finance").expect("a path"),
        StoragePath::parse("backups/finance").expect("a path"),
    )
    .expect("a job")
    .mirroring_deletions();
    let finished = Arc::new(Mutex::new(BTreeMap::<String, usize>::new()));
    let killable = |kill_at| Killable {
        inner: target.clone(),
        finished: finished.clone(),
        uploads: AtomicUsize::new(0),
        kill_at,
        killed: Arc::new(Notify::new()),
    };
    let run = |target: Killable| {
        let (source, store, job) = (source.clone(), &store, &job);
        async move {
            let (killed, cancel) = (target.killed.clone(), CancellationToken::new());
            tokio::select! {
                report = backup::run(source.as_ref(), &target, store, job, &cancel) => Some(report.expect("a report")),
                () = killed.notified() => None,
            }
        }
    };

    // Killed four times at random points, then left to finish.
    let mut kills = Vec::new();
    let report: BackupReport = loop {
        let kill_at = (kills.len() < 4).then(|| (rng.usize(1..4), rng.bool()));
        match run(killable(kill_at)).await {
            Some(report) => break report,
            None => kills.push(kill_at),
        }
    };
    let context = format!("seed {seed}, killed at {kills:?}");
    assert!(report.failed.is_empty(), "{context}: {:?}", report.failed);
    let root = StoragePath::parse("Finance").expect("a path");
    let copy = StoragePath::parse("backups/finance").expect("a path");
    let expected = tree(source.as_ref(), &root).await;
    assert_eq!(expected.len(), 10);
    assert_eq!(tree(target.as_ref(), &copy).await, expected, "{context}: the target is the source");
    let counts = finished.lock().expect("counts").clone();
    assert_eq!(counts.len(), 10, "{context}: {counts:?}");
    assert!(counts.values().all(|&n| n == 1), "{context}: a finished copy was made again: {counts:?}");
    assert!(target.entry(&StoragePath::parse("backups/finance/empty").expect("a path")).await.is_ok(), "{context}");

    // Nothing changed: nothing copied.
    let again = run(killable(None)).await.expect("a report");
    assert_eq!((again.copied.len(), again.unchanged, again.failed.len()), (0, 10, 0), "{context}: {again:?}");

    // One changed, one added, one deleted: exactly those.
    write(source.as_ref(), "Finance/2025/report 0.bin", b"changed".to_vec()).await;
    write(source.as_ref(), "Finance/2026/new.txt", b"new".to_vec()).await;
    source.delete(&StoragePath::parse("Finance/2026/report 1.bin").expect("a path")).await.expect("deleted");
    let next = run(killable(None)).await.expect("a report");
    let mut copied: Vec<String> = next.copied.iter().map(ToString::to_string).collect();
    copied.sort();
    assert_eq!(copied, ["2025/report 0.bin", "2026/new.txt"], "{context}: {next:?}");
    let deleted: Vec<String> = next.deleted.iter().map(ToString::to_string).collect();
    assert_eq!(deleted, ["2026/report 1.bin"], "{context}");
    assert_eq!(next.unchanged, 8, "{context}");
    assert_eq!(tree(target.as_ref(), &copy).await, tree(source.as_ref(), &root).await, "{context}");
}

fn main() -> std::process::ExitCode {
    use integration_testkit::harness::{self, Need};
    harness::run(
        &[Need::python("moto"), Need::python("wsgidav")],
        integration_testkit::trials![async a_killed_backup_resumes_to_an_equal_target_and_then_copies_only_what_changed],
    )
}
