//! The [`Storage`] trait: what a storage adapter can do, each optional operation behind a
//! [`capability`] its descriptor declares.
//!
//! Paths are [`StoragePath`]s inside the connection's root (a bucket, a WebDAV folder, a
//! drive): what a caller writes is checked before anything is sent, and what a provider lists
//! is encoded so that it cannot name a place outside the root. An entry's `remote_id` is the
//! provider's stable id where it has one (Drive, Graph) and its path otherwise (S3, WebDAV,
//! Dropbox): a moved file keeps its id on the first kind and is a deletion and an addition on
//! the second.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use integration_core::domain::{ListRequest, Listing, Remote};
use integration_core::http::StreamingResponse;
use integration_core::{Integration, Result};

use crate::content::Content;
use crate::model::{Drive, Entry, Grantee, Permission, Quota, Role, ShareLink, Version};
use crate::path::StoragePath;

/// The capabilities a storage adapter may declare.
pub mod capability {
    use integration_core::Capability;

    /// Entries are listed by the provider's change feed ([`Storage::changes`](super::Storage::changes)): Drive
    /// `changes`, Graph `delta`, Dropbox `list_folder/continue`. Without it, the sync engine
    /// finds changes by comparing each full listing (ETags, sizes, times) with its cache.
    pub const CHANGES: Capability = Capability::from_static("storage.changes");
    /// Files are written, copied, moved and deleted; folders made.
    pub const WRITE: Capability = Capability::from_static("storage.write");
    /// Earlier versions are listed and restored.
    pub const VERSIONS: Capability = Capability::from_static("storage.versions");
    /// Permissions are listed, granted and revoked.
    pub const PERMISSIONS: Capability = Capability::from_static("storage.permissions");
    /// Share links are made.
    pub const SHARE_LINKS: Capability = Capability::from_static("storage.share_links");
    /// The drive's quota is known.
    pub const QUOTA: Capability = Capability::from_static("storage.quota");
    /// Files carry metadata ([`UploadOptions::metadata`](super::UploadOptions::metadata), read
    /// back by [`Storage::entry`](super::Storage::entry) and found by search): S3 user metadata,
    /// Drive properties, SharePoint list fields. Without it, an upload with metadata is
    /// `Unsupported` and nothing is written.
    pub const METADATA: Capability = Capability::from_static("storage.metadata");
    /// The provider searches by name and metadata itself (otherwise [`Storage::search`](super::Storage::search) walks
    /// the listing).
    pub const SEARCH: Capability = Capability::from_static("storage.search");
}

/// A byte range of a file: from `start`, through `end` inclusive (`None`: to the end).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    /// The first byte.
    pub start: u64,
    /// The last byte, inclusive; `None` reads to the end.
    pub end: Option<u64>,
}

impl ByteRange {
    /// Bytes `start..=end`.
    ///
    /// # Errors
    /// A `Validation` error when `end` is before `start`.
    pub fn new(start: u64, end: Option<u64>) -> Result<Self> {
        if end.is_some_and(|e| e < start) {
            return Err(integration_core::Error::validation(
                "range",
                format!("the range {start}–{end:?} ends before it starts"),
            ));
        }
        Ok(Self { start, end })
    }

    /// The value of an HTTP `Range` header for it.
    pub fn header(&self) -> String {
        format!("bytes={}-{}", self.start, self.end.map(|e| e.to_string()).unwrap_or_default())
    }
}

/// A download: `request` sent for a streamed answer, with a `Range` header when `range` is
/// given (what every adapter's [`Storage::download`] does once it has its request; S3 signs its
/// own ranged `GET`).
#[cfg(any(feature = "webdav", feature = "gdrive", feature = "onedrive", feature = "dropbox"))]
pub(crate) async fn send_ranged(
    request: integration_core::http::Request<'_>,
    range: Option<ByteRange>,
) -> Result<StreamingResponse> {
    match range {
        Some(range) => request.header("Range", &range.header()).send_streaming().await,
        None => request.send_streaming().await,
    }
}

/// How a file is written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UploadOptions {
    /// Its MIME type (`application/octet-stream` when not given).
    pub content_type: Option<String>,
    /// Metadata written with it, where the provider keeps some (S3 user metadata, Drive
    /// `properties`).
    pub metadata: BTreeMap<String, String>,
    /// The MD5 (lower-case hex) the content must have: the upload fails, and nothing is kept,
    /// when what was sent differs.
    pub expected_md5: Option<String>,
    /// Replace an existing file (`true`, the default of most providers) or fail with
    /// `Conflict` when one is there.
    pub overwrite: bool,
}

impl UploadOptions {
    /// Overwriting, no type given.
    pub fn new() -> Self {
        Self { overwrite: true, ..Self::default() }
    }

    /// With a MIME type.
    #[must_use]
    pub fn content_type(mut self, content_type: impl Into<String>) -> Self {
        self.content_type = Some(content_type.into());
        self
    }

    /// The MIME type, `application/octet-stream` when not given.
    pub fn mime(&self) -> &str {
        self.content_type.as_deref().unwrap_or("application/octet-stream")
    }
}

/// What [`Storage::search`] looks for: every condition given must hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Search {
    /// Text the name contains (case-insensitive).
    pub name_contains: Option<String>,
    /// Only under this folder.
    pub under: Option<StoragePath>,
    /// Metadata entries the entry has, by name and value.
    pub metadata: BTreeMap<String, serde_json::Value>,
    /// Only files with this MIME type.
    pub mime_type: Option<String>,
    /// Only entries modified at or after this time.
    pub modified_since: Option<DateTime<Utc>>,
    /// At most this many results (default 100).
    pub limit: Option<usize>,
}

impl Search {
    /// Whether `entry` matches (used by the default search and by adapters to refine what a
    /// provider's search found).
    pub fn matches(&self, record: &Remote<Entry>) -> bool {
        let entry = &record.fields;
        self.matches_place(record)
            && self.metadata.iter().all(|(k, v)| entry.metadata.get(k) == Some(v))
            && self.mime_type.as_ref().is_none_or(|m| entry.mime_type.as_ref() == Some(m))
    }

    /// Whether `record` matches on what every listing gives — name, folder, time — leaving out
    /// metadata and type, which some listings lack (S3's, Graph's): a candidate to look up.
    pub fn matches_place(&self, record: &Remote<Entry>) -> bool {
        let entry = &record.fields;
        let name = entry.path.name().unwrap_or_default().to_lowercase();
        self.name_contains.as_ref().is_none_or(|n| name.contains(&n.to_lowercase()))
            && self.under.as_ref().is_none_or(|u| u.contains(&entry.path) && *u != entry.path)
            && self.modified_since.is_none_or(|t| record.modified_at.is_some_and(|m| m >= t))
    }

    /// Whether the search asks for what only a lookup of each entry gives on providers whose
    /// listings leave it out (metadata, type).
    pub fn needs_lookup(&self) -> bool {
        !self.metadata.is_empty() || self.mime_type.is_some()
    }

    /// The limit, 100 by default.
    pub fn limit(&self) -> usize {
        self.limit.unwrap_or(100)
    }
}

/// The most pages the default search walks.
const SEARCH_PAGES: usize = 10_000;

/// A storage account: one root (a bucket, a WebDAV folder, a drive) and what is in it.
#[async_trait]
pub trait Storage: Integration {
    /// The drives (buckets, libraries) this connection reaches; the first is its root.
    async fn drives(&self) -> Result<Vec<Drive>>;

    /// Every file and folder under the root, page by page (the `files` stream's full listing).
    async fn entries(&self, request: ListRequest) -> Result<Listing<Entry>>;

    /// What changed since the previous pass's `request.sync_token` ([`capability::CHANGES`]):
    /// changed entries, and deletions as tombstones. A first pass (no token) lists everything
    /// and ends with the token to continue from; a token the provider no longer accepts is
    /// `ResyncRequired`.
    async fn changes(&self, request: ListRequest) -> Result<Listing<Entry>> {
        let _ = request;
        Err(self.unsupported("changes"))
    }

    /// The entry at `path`; `NotFound` when there is none.
    async fn entry(&self, path: &StoragePath) -> Result<Remote<Entry>>;

    /// The content of the file at `path` as a stream: whole, or `range`.
    async fn download(&self, path: &StoragePath, range: Option<ByteRange>) -> Result<StreamingResponse>;

    /// Writes `content` as the file at `path` ([`capability::WRITE`]), read piece by piece
    /// (above the provider's threshold in parts or a resumable session, so memory holds one
    /// part), its checksum checked against what the provider stored. Folders above it are made
    /// where the provider needs them.
    async fn upload(
        &self,
        path: &StoragePath,
        content: &mut dyn Content,
        options: &UploadOptions,
    ) -> Result<Remote<Entry>> {
        let _ = (path, content, options);
        Err(self.unsupported("upload"))
    }

    /// Makes the folder `path` and those above it ([`capability::WRITE`]); one that is there
    /// already is fine.
    async fn create_folder(&self, path: &StoragePath) -> Result<Remote<Entry>> {
        let _ = path;
        Err(self.unsupported("create_folder"))
    }

    /// Copies `from` to `to` ([`capability::WRITE`]), server-side where the provider can.
    async fn copy(&self, from: &StoragePath, to: &StoragePath) -> Result<Remote<Entry>> {
        let _ = (from, to);
        Err(self.unsupported("copy"))
    }

    /// Moves (or renames) `from` to `to` ([`capability::WRITE`]). Something already at `to`
    /// is a `Conflict`, and nothing moves.
    async fn move_to(&self, from: &StoragePath, to: &StoragePath) -> Result<Remote<Entry>> {
        let _ = (from, to);
        Err(self.unsupported("move_to"))
    }

    /// Deletes the file or folder at `path` ([`capability::WRITE`]); deleting what is gone
    /// succeeds.
    async fn delete(&self, path: &StoragePath) -> Result<()> {
        let _ = path;
        Err(self.unsupported("delete"))
    }

    /// The versions of the file at `path`, newest first ([`capability::VERSIONS`]).
    async fn versions(&self, path: &StoragePath) -> Result<Vec<Version>> {
        let _ = path;
        Err(self.unsupported("versions"))
    }

    /// Makes version `version_id` of `path` the current one again ([`capability::VERSIONS`]);
    /// the versions in between are kept.
    async fn restore_version(&self, path: &StoragePath, version_id: &str) -> Result<Remote<Entry>> {
        let _ = (path, version_id);
        Err(self.unsupported("restore_version"))
    }

    /// Who may do what with `path` ([`capability::PERMISSIONS`]).
    async fn permissions(&self, path: &StoragePath) -> Result<Vec<Permission>> {
        let _ = path;
        Err(self.unsupported("permissions"))
    }

    /// Gives `grantee` `role` on `path` until `expires_at` ([`capability::PERMISSIONS`]).
    async fn grant(
        &self,
        path: &StoragePath,
        grantee: &Grantee,
        role: &Role,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<Permission> {
        let _ = (path, grantee, role, expires_at);
        Err(self.unsupported("grant"))
    }

    /// Takes permission `permission_id` on `path` away ([`capability::PERMISSIONS`]); one
    /// that is gone already is fine.
    async fn revoke(&self, path: &StoragePath, permission_id: &str) -> Result<()> {
        let _ = (path, permission_id);
        Err(self.unsupported("revoke"))
    }

    /// A link to `path` for `audience` with `role`, until `expires_at`
    /// ([`capability::SHARE_LINKS`]).
    async fn share_link(
        &self,
        path: &StoragePath,
        audience: &Grantee,
        role: &Role,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<ShareLink> {
        let _ = (path, audience, role, expires_at);
        Err(self.unsupported("share_link"))
    }

    /// How much room the root's drive has ([`capability::QUOTA`]).
    async fn quota(&self) -> Result<Quota> {
        Err(self.unsupported("quota"))
    }

    /// Entries matching `search`, at most its limit. By default the listing is walked and
    /// filtered ([`walk_search`]); providers that search ([`capability::SEARCH`]) ask the
    /// provider.
    async fn search(&self, search: &Search) -> Result<Vec<Remote<Entry>>> {
        walk_search(self, search, false).await
    }
}

/// A search by walking the listing: entries matching `search`, at most its limit. With
/// `look_up`, a listed entry that matches on name, folder and time is looked up
/// ([`Storage::entry`]) before its metadata and type are compared — for listings that leave them
/// out (S3's).
///
/// # Errors
/// The listing's or a lookup's failure.
pub async fn walk_search<S: Storage + ?Sized>(
    storage: &S,
    search: &Search,
    look_up: bool,
) -> Result<Vec<Remote<Entry>>> {
    let mut found = Vec::new();
    let mut request = ListRequest::first();
    let look_up = look_up && search.needs_lookup();
    for _ in 0..SEARCH_PAGES {
        let page = storage.entries(request.clone()).await?;
        for record in page.items.into_iter().filter(|e| !e.remote_was_deleted) {
            let record = if look_up && search.matches_place(&record) {
                match storage.entry(&record.fields.path).await {
                    Ok(full) => full,
                    Err(e) if e.kind() == integration_core::ErrorKind::NotFound => continue,
                    Err(e) => return Err(e),
                }
            } else {
                record
            };
            if search.matches(&record) {
                found.push(record);
            }
        }
        if found.len() >= search.limit() {
            found.truncate(search.limit());
            return Ok(found);
        }
        match page.next {
            Some(next) => request = request.at(Some(next)),
            None => return Ok(found),
        }
    }
    Ok(found)
}
