//! The storage contract, OneDrive / SharePoint adapter against the testkit's Graph drive fake;
//! and what only Graph has: a SharePoint library by site, an expired delta link, names OneDrive
//! refuses, invitations that expire, links, versions.
#![cfg(feature = "onedrive")]

use std::sync::Arc;

use async_trait::async_trait;
use integration_core::{BuildContext, ConnectionId, TenantId};
use integration_storage::Storage;
use integration_testkit::contract::storage::StorageFixture;
use integration_testkit::fake::graph_drive::FakeGraphDrive;

struct OnFake {
    _fake: FakeGraphDrive,
    storage: Arc<dyn Storage>,
}

#[async_trait]
impl StorageFixture for OnFake {
    async fn start() -> Option<Self> {
        let fake = FakeGraphDrive::start().await;
        let config = fake.config(TenantId::new("acme").ok()?, ConnectionId::new("onedrive").ok()?);
        let storage = integration_storage::build(&config, &BuildContext::default()).expect("the typed build");
        Some(Self { _fake: fake, storage })
    }

    fn storage(&self) -> Arc<dyn Storage> {
        self.storage.clone()
    }
}

integration_testkit::storage_contract_suite!(OnFake);

mod graph {
    use std::sync::Arc;

    use bytes::Bytes;
    use integration_core::store::{MemoryStore, RunStatus};
    use integration_core::{
        BuildContext, CancellationToken, ConnectionId, ErrorKind, SyncEngine, SyncJob, SyncMode, TenantId,
    };
    use integration_storage::{Grantee, InMemory, Role, Storage, StoragePath, UploadOptions};
    use integration_testkit::fake::graph_drive::{FakeGraphDrive, SITE_ID};

    fn path(text: &str) -> StoragePath {
        StoragePath::parse(text).expect("a path")
    }

    async fn put(storage: &dyn Storage, at: &str, content: Vec<u8>) {
        let mut body = InMemory::new(Bytes::from(content));
        storage.upload(&path(at), &mut body, &UploadOptions::new()).await.expect("uploaded");
    }

    /// A SharePoint site's library; an expired delta link reads everything again, deletions
    /// found; an upload session whose content has the wrong MD5 is cancelled.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_site_library_syncs_again_in_full_after_an_expired_delta_link() {
        let fake = FakeGraphDrive::start().await;
        let config = fake
            .config(TenantId::new("acme").expect("tenant"), ConnectionId::new("sharepoint").expect("id"))
            .with_setting("site_id", SITE_ID);
        let storage = integration_storage::build(&config, &BuildContext::default()).expect("built");
        put(storage.as_ref(), "Shared/plan.txt", b"plan".to_vec()).await;
        put(storage.as_ref(), "Shared/old.txt", b"old".to_vec()).await;
        let drives = storage.drives().await.expect("the drive");
        assert_eq!(drives[0].kind.as_deref(), Some("business"));
        let store = Arc::new(MemoryStore::new());
        let engine = SyncEngine::new(store.clone(), store.clone(), "test");
        let job = SyncJob::new(
            TenantId::new("acme").expect("tenant"),
            ConnectionId::new("sharepoint").expect("id"),
            "files",
            SyncMode::Incremental,
        );
        let first = engine.run(storage.as_ref(), &job, &CancellationToken::new()).await.expect("a run");
        assert_eq!((first.status, first.counts.added), (RunStatus::Succeeded, 3), "{:?}", first.error);
        fake.expire_delta_links();
        storage.delete(&path("Shared/old.txt")).await.expect("deleted");
        let second = engine.run(storage.as_ref(), &job, &CancellationToken::new()).await.expect("a run");
        assert_eq!(second.status, RunStatus::Succeeded, "{:?}", second.error);
        assert_eq!(second.counts.deleted, 1, "{:?}", second.counts);

        let big = vec![7u8; 5 << 20];
        let mut body = InMemory::new(Bytes::from(big));
        let options = UploadOptions { expected_md5: Some("0".repeat(32)), ..UploadOptions::new() };
        let error = storage.upload(&path("Shared/big.bin"), &mut body, &options).await.expect_err("refused");
        assert_eq!(error.kind(), ErrorKind::Validation, "{error}");
        assert_eq!(fake.open_sessions(), 0, "the session was cancelled");
        assert_eq!(storage.entry(&path("Shared/big.bin")).await.expect_err("nothing").kind(), ErrorKind::NotFound);
    }

    /// Invitations with an expiry, revoked; links; versions restored; the quota.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn invitations_links_versions_and_quota() {
        let fake = FakeGraphDrive::start().await;
        let config = fake.config(TenantId::new("acme").expect("tenant"), ConnectionId::new("onedrive").expect("id"));
        let storage = integration_storage::build(&config, &BuildContext::default()).expect("built");
        put(storage.as_ref(), "doc.txt", b"first".to_vec()).await;
        put(storage.as_ref(), "doc.txt", b"second!".to_vec()).await;
        let at = path("doc.txt");
        let soon = chrono::Utc::now() + chrono::Duration::days(2);
        let kai = Grantee::User { id: "kai@contoso.example".into() };
        let granted = storage.grant(&at, &kai, &Role::Writer, Some(soon)).await.expect("invited");
        assert_eq!((granted.grantee.clone(), granted.role.clone()), (kai.clone(), Role::Writer));
        assert!(storage.permissions(&at).await.expect("listed").iter().any(|p| p.id == granted.id));
        storage.revoke(&at, &granted.id).await.expect("revoked");
        storage.revoke(&at, &granted.id).await.expect("revoking what is gone is done");
        let link = storage.share_link(&at, &Grantee::Anyone, &Role::Reader, Some(soon)).await.expect("a link");
        assert!(link.url.starts_with("https://1drv.ms/"), "{}", link.url);
        let versions = storage.versions(&at).await.expect("versions");
        assert_eq!((versions.len(), versions[0].is_latest, versions[0].size), (2, true, Some(7)));
        let restored = storage.restore_version(&at, &versions[1].version_id).await.expect("restored");
        assert_eq!(restored.fields.size, Some(5));
        let quota = storage.quota().await.expect("the quota");
        assert_eq!((quota.total, quota.used), (Some(1 << 40), 5));
        let refused = storage.grant(&at, &Grantee::Anyone, &Role::Reader, None).await.expect_err("a link, not a grant");
        assert_eq!(refused.field(), Some("grantee"));
    }
}
