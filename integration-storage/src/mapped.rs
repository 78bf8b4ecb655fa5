//! The storage operations through a connection's field mappings: what `build` returns when the
//! connection has some. Listings and single reads are mapped and checked; transfers and writes
//! are passed through, their answers mapped like reads.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use integration_core::Result;
use integration_core::domain::{ListRequest, Listing, Remote};
use integration_core::http::StreamingResponse;
use integration_core::mapping::Mapped;

use crate::content::Content;
use crate::model::{Drive, Entry, Grantee, Permission, Quota, Role, ShareLink, Version};
use crate::path::StoragePath;
use crate::storage::{ByteRange, Search, Storage, UploadOptions};

const FILES: &str = "files";

#[async_trait]
impl Storage for Mapped<dyn Storage> {
    async fn drives(&self) -> Result<Vec<Drive>> {
        self.inner().drives().await
    }

    async fn entries(&self, request: ListRequest) -> Result<Listing<Entry>> {
        self.listing(FILES, self.inner().entries(request).await)
    }

    async fn changes(&self, request: ListRequest) -> Result<Listing<Entry>> {
        self.listing(FILES, self.inner().changes(request).await)
    }

    async fn entry(&self, path: &StoragePath) -> Result<Remote<Entry>> {
        self.one(FILES, self.inner().entry(path).await)
    }

    async fn download(&self, path: &StoragePath, range: Option<ByteRange>) -> Result<StreamingResponse> {
        self.inner().download(path, range).await
    }

    async fn upload(
        &self,
        path: &StoragePath,
        content: &mut dyn Content,
        options: &UploadOptions,
    ) -> Result<Remote<Entry>> {
        self.one(FILES, self.inner().upload(path, content, options).await)
    }

    async fn create_folder(&self, path: &StoragePath) -> Result<Remote<Entry>> {
        self.one(FILES, self.inner().create_folder(path).await)
    }

    async fn copy(&self, from: &StoragePath, to: &StoragePath) -> Result<Remote<Entry>> {
        self.one(FILES, self.inner().copy(from, to).await)
    }

    async fn move_to(&self, from: &StoragePath, to: &StoragePath) -> Result<Remote<Entry>> {
        self.one(FILES, self.inner().move_to(from, to).await)
    }

    async fn delete(&self, path: &StoragePath) -> Result<()> {
        self.inner().delete(path).await
    }

    async fn versions(&self, path: &StoragePath) -> Result<Vec<Version>> {
        self.inner().versions(path).await
    }

    async fn restore_version(&self, path: &StoragePath, version_id: &str) -> Result<Remote<Entry>> {
        self.one(FILES, self.inner().restore_version(path, version_id).await)
    }

    async fn permissions(&self, path: &StoragePath) -> Result<Vec<Permission>> {
        self.inner().permissions(path).await
    }

    async fn grant(
        &self,
        path: &StoragePath,
        grantee: &Grantee,
        role: &Role,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<Permission> {
        self.inner().grant(path, grantee, role, expires_at).await
    }

    async fn revoke(&self, path: &StoragePath, permission_id: &str) -> Result<()> {
        self.inner().revoke(path, permission_id).await
    }

    async fn share_link(
        &self,
        path: &StoragePath,
        audience: &Grantee,
        role: &Role,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<ShareLink> {
        self.inner().share_link(path, audience, role, expires_at).await
    }

    async fn quota(&self) -> Result<Quota> {
        self.inner().quota().await
    }

    async fn search(&self, search: &Search) -> Result<Vec<Remote<Entry>>> {
        let found = self.inner().search(search).await?;
        found.into_iter().map(|entry| self.one(FILES, Ok(entry))).collect()
    }
}
