//! The storage contract, Dropbox adapter against the testkit's Dropbox fake; and what only
//! Dropbox has: a reset cursor, links, revisions, content hashes.
#![cfg(feature = "dropbox")]

use std::sync::Arc;

use async_trait::async_trait;
use integration_core::{BuildContext, ConnectionId, TenantId};
use integration_storage::Storage;
use integration_testkit::contract::storage::StorageFixture;
use integration_testkit::fake::dropbox::FakeDropbox;

struct OnFake {
    _fake: FakeDropbox,
    storage: Arc<dyn Storage>,
}

#[async_trait]
impl StorageFixture for OnFake {
    async fn start() -> Option<Self> {
        let fake = FakeDropbox::start().await;
        let config = fake.config(TenantId::new("acme").ok()?, ConnectionId::new("dropbox").ok()?);
        let storage = integration_storage::build(&config, &BuildContext::default()).expect("the typed build");
        Some(Self { _fake: fake, storage })
    }

    fn storage(&self) -> Arc<dyn Storage> {
        self.storage.clone()
    }
}

integration_testkit::storage_contract_suite!(OnFake);

mod dropbox {
    use std::sync::Arc;

    use bytes::Bytes;
    use integration_core::store::{MemoryStore, RunStatus};
    use integration_core::{BuildContext, CancellationToken, ConnectionId, SyncEngine, SyncJob, SyncMode, TenantId};
    use integration_storage::{Grantee, InMemory, Role, StoragePath, UploadOptions};
    use integration_testkit::fake::dropbox::{FakeDropbox, content_hash};

    fn path(text: &str) -> StoragePath {
        StoragePath::parse(text).expect("a path")
    }

    /// A reset cursor reads everything again, deletions found; links, revisions and Dropbox's
    /// content hash; a 9 MiB file through an upload session.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_reset_cursor_reads_again_and_links_revisions_and_hashes_hold() {
        let fake = FakeDropbox::start().await;
        let config = fake.config(TenantId::new("acme").expect("tenant"), ConnectionId::new("dropbox").expect("id"));
        let storage = integration_storage::build(&config, &BuildContext::default()).expect("built");
        let big: Vec<u8> = (0..9 << 20).map(|i| (i % 251) as u8).collect();
        let mut body = InMemory::new(Bytes::from(big.clone()));
        let written = storage.upload(&path("Big/blob.bin"), &mut body, &UploadOptions::new()).await.expect("uploaded");
        assert_eq!(written.fields.checksums.other.get("dropbox_content_hash"), Some(&content_hash(&big)));
        assert_eq!(fake.open_sessions(), 0, "the session was finished");
        for content in [&b"one"[..], b"two!"] {
            let mut body = InMemory::new(Bytes::copy_from_slice(content));
            storage.upload(&path("doc.txt"), &mut body, &UploadOptions::new()).await.expect("uploaded");
        }
        let store = Arc::new(MemoryStore::new());
        let engine = SyncEngine::new(store.clone(), store.clone(), "test");
        let job = SyncJob::new(
            TenantId::new("acme").expect("tenant"),
            ConnectionId::new("dropbox").expect("id"),
            "files",
            SyncMode::Incremental,
        );
        let first = engine.run(storage.as_ref(), &job, &CancellationToken::new()).await.expect("a run");
        assert_eq!((first.status, first.counts.added), (RunStatus::Succeeded, 3), "{:?}", first.error);
        fake.expire_cursors();
        storage.delete(&path("doc.txt")).await.expect("deleted");
        let second = engine.run(storage.as_ref(), &job, &CancellationToken::new()).await.expect("a run");
        assert_eq!((second.status, second.counts.deleted), (RunStatus::Succeeded, 1), "{:?}", second.error);

        let mut body = InMemory::new(Bytes::from_static(b"v1"));
        storage.upload(&path("rev.txt"), &mut body, &UploadOptions::new()).await.expect("uploaded");
        let mut body = InMemory::new(Bytes::from_static(b"v2 longer"));
        storage.upload(&path("rev.txt"), &mut body, &UploadOptions::new()).await.expect("uploaded");
        let versions = storage.versions(&path("rev.txt")).await.expect("revisions");
        assert_eq!((versions.len(), versions[0].size), (2, Some(9)));
        let restored = storage.restore_version(&path("rev.txt"), &versions[1].version_id).await.expect("restored");
        assert_eq!(restored.fields.size, Some(2));
        let soon = chrono::Utc::now() + chrono::Duration::days(1);
        let link =
            storage.share_link(&path("rev.txt"), &Grantee::Anyone, &Role::Reader, Some(soon)).await.expect("a link");
        assert!(link.url.starts_with("https://www.dropbox.com/scl/fi/"), "{}", link.url);
        let quota = storage.quota().await.expect("quota");
        assert_eq!(quota.used, (9 << 20) + 2);
    }
}
