//! The storage contract, Google Drive adapter against the testkit's Drive fake; and what only
//! Drive has: an expired change token, permissions that expire, links, revisions.
#![cfg(feature = "gdrive")]

use std::sync::Arc;

use async_trait::async_trait;
use integration_core::{BuildContext, ConnectionId, TenantId};
use integration_storage::Storage;
use integration_testkit::contract::storage::StorageFixture;
use integration_testkit::fake::google_drive::FakeGoogleDrive;

struct OnFake {
    _fake: FakeGoogleDrive,
    storage: Arc<dyn Storage>,
}

#[async_trait]
impl StorageFixture for OnFake {
    async fn start() -> Option<Self> {
        let fake = FakeGoogleDrive::start().await;
        let config = fake.config(TenantId::new("acme").ok()?, ConnectionId::new("drive").ok()?);
        let storage = integration_storage::build(&config, &BuildContext::default()).expect("the typed build");
        Some(Self { _fake: fake, storage })
    }

    fn storage(&self) -> Arc<dyn Storage> {
        self.storage.clone()
    }
}

integration_testkit::storage_contract_suite!(OnFake);

mod drive {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use bytes::Bytes;
    use integration_core::store::{ChangeKind, MemoryStore, RecordStore};
    use integration_core::{
        BuildContext, CancellationToken, ConnectionId, ErrorKind, SyncEngine, SyncJob, SyncMode, TenantId,
    };
    use integration_storage::{Grantee, InMemory, Role, Storage, StoragePath, UploadOptions};
    use integration_testkit::fake::file_tree::ROOT;
    use integration_testkit::fake::google_drive::FakeGoogleDrive;

    async fn start() -> (FakeGoogleDrive, Arc<dyn Storage>) {
        let fake = FakeGoogleDrive::start().await;
        let config = fake.config(TenantId::new("acme").expect("tenant"), ConnectionId::new("drive").expect("id"));
        let storage = integration_storage::build(&config, &BuildContext::default()).expect("built");
        (fake, storage)
    }

    fn path(text: &str) -> StoragePath {
        StoragePath::parse(text).expect("a path")
    }

    async fn put(storage: &dyn Storage, at: &str, content: &'static [u8]) {
        let mut body = InMemory::new(Bytes::from_static(content));
        storage.upload(&path(at), &mut body, &UploadOptions::new()).await.expect("uploaded");
    }

    /// A folder moved by another client: its files are read again under their new paths; an
    /// expired change token makes the engine read everything again, deletions found.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_moved_folder_moves_its_files_and_an_expired_token_reads_again_in_full() {
        let (fake, storage) = start().await;
        put(storage.as_ref(), "A/inner/x.txt", b"x").await;
        put(storage.as_ref(), "keep.txt", b"k").await;
        let store = Arc::new(MemoryStore::new());
        let engine = SyncEngine::new(store.clone(), store.clone(), "test");
        let tenant = TenantId::new("acme").expect("tenant");
        let job = SyncJob::new(tenant.clone(), ConnectionId::new("drive").expect("id"), "files", SyncMode::Incremental);
        engine.run(storage.as_ref(), &job, &CancellationToken::new()).await.expect("a run");
        let cursor = store.changes_since(&tenant, None, 1000).await.expect("changes").next;
        fake.with_tree(|tree| {
            let a = tree.find(&["A"], false).expect("A").id.clone();
            let b = tree.add(ROOT, "B", true, Bytes::new(), "", false).expect("B");
            tree.relocate(&a, &b, "A2", false).expect("moved");
        });
        let run = engine.run(storage.as_ref(), &job, &CancellationToken::new()).await.expect("a run");
        assert_eq!(run.status, integration_core::store::RunStatus::Succeeded, "{:?}", run.error);
        let batch = store.changes_since(&tenant, Some(&cursor), 1000).await.expect("changes");
        let paths: BTreeMap<String, ChangeKind> =
            batch.changes.iter().map(|c| (c.data["path"].as_str().unwrap_or_default().to_owned(), c.kind)).collect();
        assert_eq!(paths.get("B/A2/inner/x.txt"), Some(&ChangeKind::Updated), "{paths:?}");
        assert_eq!(paths.get("B"), Some(&ChangeKind::Added), "{paths:?}");
        assert!(!paths.contains_key("keep.txt"), "{paths:?}");

        fake.expire_change_tokens();
        fake.with_tree(|tree| {
            let keep = tree.find(&["keep.txt"], false).expect("keep").id.clone();
            tree.delete(&keep).expect("deleted");
        });
        let run = engine.run(storage.as_ref(), &job, &CancellationToken::new()).await.expect("a run");
        assert_eq!(run.status, integration_core::store::RunStatus::Succeeded, "{:?}", run.error);
        assert_eq!(run.counts.deleted, 1, "the full pass after the refused token found the deletion: {:?}", run.counts);
    }

    /// Permissions granted with an expiry and revoked; a link; revisions listed and restored;
    /// the quota; a wrong MD5 leaves no file.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn permissions_links_revisions_quota_and_a_refused_md5() {
        let (fake, storage) = start().await;
        put(storage.as_ref(), "doc.txt", b"first").await;
        put(storage.as_ref(), "doc.txt", b"second").await;
        let at = path("doc.txt");
        let soon = chrono::Utc::now() + chrono::Duration::days(3);
        let kai = Grantee::User { id: "kai@example.com".into() };
        let granted = storage.grant(&at, &kai, &Role::Writer, Some(soon)).await.expect("granted");
        assert_eq!((granted.role.clone(), granted.expires_at.is_some()), (Role::Writer, true));
        let everyone = Grantee::Domain { domain: "example.com".into() };
        let refused = storage.grant(&at, &everyone, &Role::Reader, Some(soon)).await.expect_err("refused");
        assert_eq!(refused.field(), Some("expires_at"), "{refused}");
        let listed = storage.permissions(&at).await.expect("listed");
        assert!(listed.iter().any(|p| p.id == granted.id && p.grantee == kai), "{listed:?}");
        storage.revoke(&at, &granted.id).await.expect("revoked");
        storage.revoke(&at, &granted.id).await.expect("revoking what is gone is done");
        assert!(!storage.permissions(&at).await.expect("listed").iter().any(|p| p.id == granted.id));
        let link = storage.share_link(&at, &Grantee::Anyone, &Role::Reader, None).await.expect("a link");
        assert!(link.url.starts_with("https://drive.google.com/file/d/"), "{}", link.url);

        let versions = storage.versions(&at).await.expect("versions");
        assert_eq!(versions.len(), 2);
        assert!(versions[0].is_latest && !versions[1].is_latest);
        storage.restore_version(&at, &versions[1].version_id).await.expect("restored");
        let mut body = storage.download(&at, None).await.expect("downloaded");
        let mut content = Vec::new();
        while let Some(chunk) = body.chunk().await.expect("a chunk") {
            content.extend_from_slice(&chunk);
        }
        assert_eq!(content, b"first");
        assert_eq!(storage.versions(&at).await.expect("versions").len(), 3, "the restore is a new revision");

        let quota = storage.quota().await.expect("the quota");
        assert_eq!((quota.total, quota.used), (Some(15 << 30), 5), "the current content counts: {quota:?}");

        let mut wrong = InMemory::new(Bytes::from_static(b"content"));
        let options = UploadOptions { expected_md5: Some("0".repeat(32)), ..UploadOptions::new() };
        let error = storage.upload(&path("wrong.txt"), &mut wrong, &options).await.expect_err("refused");
        assert_eq!(error.kind(), ErrorKind::Validation, "{error}");
        assert_eq!(storage.entry(&path("wrong.txt")).await.expect_err("nothing").kind(), ErrorKind::NotFound);
        assert_eq!(fake.open_sessions(), 1, "the session was left unfinished; Drive forgets it");
    }
}
