//! The `s3` storage adapter: one bucket (or a prefix in it) as a [`Storage`], on [`Bucket`].
//!
//! - entries: ListObjectsV2 without a delimiter, 1,000 keys a page, the continuation token as
//!   the cursor; an object is a file (its ETag, size, time; the ETag of a single-part upload is
//!   its MD5), a zero-byte key ending in `/` a folder. Change detection is the sync engine's
//!   comparison of each full pass with its cache (S3 has no change feed to list).
//! - ids: the path (encoded, so a key with `..` in it stays inside), with a trailing `/` for
//!   folders (S3 can hold a file `a` beside a folder `a/`).
//! - upload: up to [`PART_BYTES`] in one `PUT` with `Content-MD5`; above, a multipart upload
//!   of [`PART_BYTES`] parts — one part in memory —, its ETag checked against the parts' MD5s,
//!   aborted (nothing kept) on any failure or a content MD5 other than the expected one.
//! - copy, move and delete: server-side copies (a folder: each object under it); a move is a
//!   copy then a delete. Copies are of objects up to 5 GiB (S3's CopyObject limit).
//! - versions: ListObjectVersions; a restore copies the old version onto the key.
//! - share links: presigned `GET` URLs, for anyone holding them, at most seven days.
//! - metadata: user metadata (`x-amz-meta-*`, names in lower case, values printable ASCII),
//!   read back by `entry`; a search on it looks each candidate up (listings leave it out).
//!
//! Configuration: `base_url` (the endpoint: `https://s3.eu-west-1.amazonaws.com`,
//! `http://127.0.0.1:9000`), `bucket`, `region` (default `us-east-1`), `addressing` (`path`, the
//! default, or `virtual_host`), `prefix` (a folder of the bucket as the root), `access_key_id`;
//! secret `secret_access_key`.
//!
//! Not supported: permissions (S3's ACLs and bucket policies are not per-user grants), quota
//! (buckets have none), `overwrite: false` is checked with a `HEAD` then `If-None-Match: *`,
//! which AWS honours and some S3-compatible stores ignore.

use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;
use integration_core::domain::ListRequest;

use super::{Addressing, Bucket, ObjectInfo, SigV4};
use crate::prelude::*;

/// The provider id.
pub const PROVIDER: &str = "s3";

/// Content up to this size goes in one `PUT`; above, in parts of this size.
pub const PART_BYTES: usize = 8 << 20;

/// The most keys a folder copy, move or delete touches.
const MAX_TREE_KEYS: usize = 1_000_000;

/// The S3 adapter for one connection (one bucket, or a prefix of it).
#[derive(Debug)]
pub struct S3 {
    descriptor: Descriptor,
    bucket: Bucket,
    signer: SigV4,
    /// The connection's root inside the bucket.
    root: StoragePath,
}

impl Adapter for S3 {
    fn describe() -> Result<Descriptor> {
        let capabilities = [
            capability::WRITE,
            capability::VERSIONS,
            capability::SHARE_LINKS,
            capability::METADATA,
            Capability::HEALTH_CHECK,
        ];
        let addressing = FieldFormat::OneOf { values: vec!["path".into(), "virtual_host".into()] };
        descriptor(PROVIDER, "Amazon S3", "https://docs.aws.amazon.com/AmazonS3/latest/API/", capabilities)
            .http_policy(HttpPolicy::standard())
            .base_url(None, "the S3 endpoint (https://s3.<region>.amazonaws.com, or an S3-compatible store's)")
            .setting("bucket", FieldFormat::Text, "the bucket")
            .optional_setting("region", FieldFormat::Text, "the bucket's region (default us-east-1)")
            .optional_setting("addressing", addressing, "path (the default) or virtual_host")
            .optional_setting("prefix", FieldFormat::Text, "a folder of the bucket to use as the root")
            .setting("access_key_id", FieldFormat::Text, "the access key's id")
            .secret("secret_access_key", FieldFormat::Text, "the access key's secret")
            .build()
    }

    fn from_config(config: &IntegrationConfig, context: &BuildContext) -> Result<Self> {
        let descriptor = Self::describe()?;
        let endpoint = config.base_url(None)?;
        let addressing = match config.setting_or("addressing", "path") {
            "virtual_host" => Addressing::VirtualHost,
            _ => Addressing::Path,
        };
        let root = StoragePath::parse(config.setting_or("prefix", ""))
            .map_err(|e| Error::config(e.message().to_owned()).with_field("settings.prefix"))?;
        let signer = SigV4::new(
            config.setting_str("access_key_id")?,
            config.secret("secret_access_key")?.expose_secret(),
            config.setting_or("region", "us-east-1"),
        );
        let http = context.provider_client(&descriptor, config).with_auth(Arc::new(signer.clone()));
        let bucket = Bucket::new(http, endpoint.as_str(), config.setting_str("bucket")?, addressing)
            .map_err(|e| e.with_field("settings.bucket"))?;
        Ok(Self { descriptor, bucket, signer, root })
    }
}

fn folder_id(path: &StoragePath) -> String {
    format!("{path}/")
}

impl S3 {
    /// The bucket underneath (for what the `Storage` trait does not cover).
    pub fn bucket(&self) -> &Bucket {
        &self.bucket
    }

    /// The object key of `path`.
    fn key(&self, path: &StoragePath) -> Result<String> {
        if path.is_root() && self.root.is_root() {
            return Err(Error::validation("path", "the bucket's root is not an object"));
        }
        Ok(self.root.join_path(path)?.to_remote())
    }

    /// The key prefix everything under `path` has (`""` for the bucket's root).
    fn prefix(&self, path: &StoragePath) -> Result<String> {
        let full = self.root.join_path(path)?;
        Ok(if full.is_root() { String::new() } else { format!("{}/", full.to_remote()) })
    }

    /// A listed or looked-up object as an entry; `None` for one outside the root.
    fn entry_of(&self, object: &ObjectInfo) -> Result<Option<Remote<Entry>>> {
        let (key, kind) = match object.key.strip_suffix('/') {
            Some(folder) => (folder, EntryKind::Folder),
            None => (object.key.as_str(), EntryKind::File),
        };
        let Some(path) = StoragePath::from_remote(key)?.strip_prefix(&self.root) else { return Ok(None) };
        if path.is_root() {
            return Ok(None);
        }
        let single_part = object.etag.len() == 32 && object.etag.bytes().all(|b| b.is_ascii_hexdigit());
        let fields = Entry {
            kind,
            size: (kind == EntryKind::File).then_some(object.size),
            mime_type: object.content_type.clone(),
            checksums: Checksums {
                md5: (kind == EntryKind::File && single_part).then(|| object.etag.to_ascii_lowercase()),
                ..Checksums::default()
            },
            etag: (!object.etag.is_empty()).then(|| object.etag.clone()),
            metadata: object.metadata.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect(),
            path: path.clone(),
            ..Entry::default()
        };
        let id = if kind == EntryKind::Folder { folder_id(&path) } else { path.to_string() };
        let raw = json!({
            "Key": object.key,
            "Size": object.size,
            "ETag": object.etag,
            "LastModified": object.last_modified,
        });
        Ok(Some(Remote::new(id, fields).modified(object.last_modified).with_remote_data(raw)))
    }

    /// Every key under `prefix`, page by page.
    async fn keys_under(&self, prefix: &str) -> Result<Vec<ObjectInfo>> {
        let mut out = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let page = self.bucket.list(prefix, None, next.as_deref(), 1000).await?;
            out.extend(page.objects);
            if out.len() > MAX_TREE_KEYS {
                return Err(Error::validation("path", format!("more than {MAX_TREE_KEYS} objects under {prefix:?}")));
            }
            match page.next {
                Some(token) => next = Some(token),
                None => return Ok(out),
            }
        }
    }

    /// The folder at `path`, if anything is under it.
    async fn folder(&self, path: &StoragePath) -> Result<Option<Remote<Entry>>> {
        let prefix = self.prefix(path)?;
        let page = self.bucket.list(&prefix, None, None, 1).await?;
        if page.objects.is_empty() {
            return Ok(None);
        }
        let marker = page.objects.iter().find(|o| o.key == prefix);
        let fields = Entry { path: path.clone(), kind: EntryKind::Folder, ..Entry::default() };
        Ok(Some(Remote::new(folder_id(path), fields).modified(marker.and_then(|m| m.last_modified))))
    }

    /// What is at `path`: the file, or else the folder.
    async fn existing(&self, path: &StoragePath) -> Result<Option<Remote<Entry>>> {
        if let Some(object) = self.bucket.head(&self.key(path)?).await? {
            return self.entry_of(&object);
        }
        self.folder(path).await
    }

    /// Copies `from` onto `to`: the object, or each object under the folder.
    async fn copy_tree(&self, from: &StoragePath, to: &StoragePath) -> Result<Remote<Entry>> {
        let source = self.existing(from).await?.ok_or_else(|| not_found(from))?;
        if source.fields.kind == EntryKind::File {
            self.bucket.copy(&self.key(from)?, &self.key(to)?).await?;
        } else {
            let (from_prefix, to_prefix) = (self.prefix(from)?, self.prefix(to)?);
            for object in self.keys_under(&from_prefix).await? {
                let rest = &object.key[from_prefix.len()..];
                self.bucket.copy(&object.key, &format!("{to_prefix}{rest}")).await?;
            }
        }
        self.existing(to).await?.ok_or_else(|| Error::invalid_response(format!("{to} is not there after the copy")))
    }
}

fn not_found(path: &StoragePath) -> Error {
    Error::not_found(format!("nothing at {path}")).with_provider(PROVIDER)
}

#[async_trait]
impl Integration for S3 {
    fn descriptor(&self) -> &Descriptor {
        &self.descriptor
    }

    async fn connect(&self) -> Result<ConnectionInfo> {
        self.bucket.list(&self.prefix(&StoragePath::root())?, None, None, 1).await?;
        Ok(ConnectionInfo::with_account(self.bucket.name().to_owned(), Some(self.bucket.name().to_owned())))
    }

    async fn health_check(&self) -> Result<Health> {
        let probe = async { self.bucket.list(&self.prefix(&StoragePath::root())?, None, None, 1).await };
        Ok(Health::probe(probe).await)
    }

    async fn read(&self, request: ReadRequest) -> Result<Page> {
        crate::streams::read(self, request).await
    }
}

#[async_trait]
impl Storage for S3 {
    async fn drives(&self) -> Result<Vec<Drive>> {
        let name = self.bucket.name().to_owned();
        Ok(vec![Drive { id: name.clone(), name, kind: Some("bucket".into()), ..Drive::default() }])
    }

    async fn entries(&self, request: ListRequest) -> Result<Listing<Entry>> {
        let prefix = self.prefix(&StoragePath::root())?;
        let page = self.bucket.list(&prefix, None, request.cursor.as_deref(), request.limit(1000)).await?;
        let mut items = Vec::with_capacity(page.objects.len());
        for object in &page.objects {
            items.extend(self.entry_of(object)?);
        }
        Ok(Listing::new(items, page.next))
    }

    async fn entry(&self, path: &StoragePath) -> Result<Remote<Entry>> {
        self.existing(path).await?.ok_or_else(|| not_found(path))
    }

    async fn download(&self, path: &StoragePath, range: Option<ByteRange>) -> Result<StreamingResponse> {
        self.bucket.get(&self.key(path)?, range.map(|r| (r.start, r.end))).await
    }

    async fn upload(
        &self,
        path: &StoragePath,
        content: &mut dyn Content,
        options: &UploadOptions,
    ) -> Result<Remote<Entry>> {
        let key = self.key(path)?;
        if !options.overwrite && self.existing(path).await?.is_some() {
            return Err(Error::conflict(format!("{path} exists")).with_provider(PROVIDER));
        }
        let mut parts = Parts::new(content, PART_BYTES);
        let first = parts.next_part().await?.unwrap_or_default();
        let etag = if parts.finished() {
            parts.check_md5(options.expected_md5.as_deref())?;
            self.bucket.put_with(&key, first, options.mime(), &options.metadata).await?
        } else {
            let mut upload = self.bucket.start_multipart_with(&key, options.mime(), &options.metadata).await?;
            let sent = async {
                upload.part(first).await?;
                while let Some(part) = parts.next_part().await? {
                    upload.part(part).await?;
                }
                parts.check_md5(options.expected_md5.as_deref())
            }
            .await;
            match sent {
                Ok(()) => upload.complete().await?,
                Err(e) => {
                    // Nothing is kept of a failed upload; the abort's own failure is secondary.
                    if let Err(abort) = upload.abort().await {
                        tracing::warn!(error = %abort, "an S3 multipart upload could not be aborted");
                    }
                    return Err(e);
                }
            }
        };
        let mut entry = self.entry(path).await?;
        if entry.fields.etag.as_deref() != Some(etag.as_str()) {
            return Err(Error::conflict(format!("{path} was written again while it was being uploaded"))
                .with_provider(PROVIDER));
        }
        entry.fields.checksums.md5 = Some(parts.md5_hex());
        Ok(entry)
    }

    async fn create_folder(&self, path: &StoragePath) -> Result<Remote<Entry>> {
        let key = format!("{}/", self.key(path)?);
        if self.bucket.head(&key).await?.is_none() {
            self.bucket.put(&key, Bytes::new(), "application/x-directory").await?;
        }
        self.entry(path).await
    }

    async fn copy(&self, from: &StoragePath, to: &StoragePath) -> Result<Remote<Entry>> {
        self.copy_tree(from, to).await
    }

    async fn move_to(&self, from: &StoragePath, to: &StoragePath) -> Result<Remote<Entry>> {
        if self.existing(to).await?.is_some() {
            return Err(Error::conflict(format!("{to} exists; nothing was moved")).with_provider(PROVIDER));
        }
        let moved = self.copy_tree(from, to).await?;
        self.delete(from).await?;
        Ok(moved)
    }

    async fn delete(&self, path: &StoragePath) -> Result<()> {
        let key = self.key(path)?;
        if self.bucket.head(&key).await?.is_some() {
            return self.bucket.delete(&key).await;
        }
        for object in self.keys_under(&self.prefix(path)?).await? {
            self.bucket.delete(&object.key).await?;
        }
        Ok(())
    }

    async fn versions(&self, path: &StoragePath) -> Result<Vec<Version>> {
        self.bucket.versions(&self.key(path)?).await
    }

    async fn restore_version(&self, path: &StoragePath, version_id: &str) -> Result<Remote<Entry>> {
        self.bucket.restore_version(&self.key(path)?, version_id).await?;
        self.entry(path).await
    }

    /// The listing walked; a candidate looked up (`HEAD`) when the search asks for metadata or a
    /// type, which ListObjectsV2 leaves out.
    async fn search(&self, search: &Search) -> Result<Vec<Remote<Entry>>> {
        crate::storage::walk_search(self, search, true).await
    }

    /// A presigned `GET` URL: for anyone holding it, to read, until `expires_at` (required; at
    /// most seven days ahead).
    async fn share_link(
        &self,
        path: &StoragePath,
        audience: &Grantee,
        role: &Role,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<ShareLink> {
        if *audience != Grantee::Anyone || *role != Role::Reader {
            return Err(
                Error::unsupported("S3 links other than reading by anyone holding them").with_provider(PROVIDER)
            );
        }
        let expires_at = expires_at
            .ok_or_else(|| Error::validation("expires_at", "an S3 link expires: give when (at most 7 days)"))?;
        let ttl = (expires_at - Utc::now())
            .to_std()
            .map_err(|_| Error::validation("expires_at", "the link would have expired already"))?;
        let url = self.signer.presign("GET", &self.bucket.object_url(&self.key(path)?)?, ttl, SystemTime::now())?;
        let expires_at = Utc::now() + ttl;
        Ok(ShareLink {
            url: url.to_string(),
            audience: Grantee::Anyone,
            role: Role::Reader,
            expires_at: Some(expires_at),
        })
    }
}
