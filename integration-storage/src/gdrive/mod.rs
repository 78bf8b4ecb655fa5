//! Google Drive, through its API v3
//! (<https://developers.google.com/workspace/drive/api/reference/rest/v3>):
//!
//! - the HTTP shape — `https://www.googleapis.com/drive/v3`, OAuth2 (authorization code,
//!   refresh tokens), the error message at `/error/message` — is the catalog's spec
//!   (`integration-core/catalog/google_drive.toml`);
//! - paths: Drive addresses files by id and lets two files share a name; a path is resolved
//!   one name at a time (`'<parent>' in parents and name = '…'`), the first match winning.
//!   Record ids are file ids: a moved file keeps its id, and is an update;
//! - entries: the tree walked one folder listing page at a time (1,000 a page), the folders
//!   still to read as the cursor;
//! - changes: the `changes` feed from a start page token taken before each full walk (and
//!   given with its last page);
//!   `newStartPageToken` is the next pass's token; a removed or trashed file is a tombstone; a
//!   changed folder is read again with everything under it (Drive reports the folder alone
//!   when it moves); a token Drive refuses is `ResyncRequired`;
//! - uploads: resumable sessions, 8 MiB chunks (multiples of 256 KiB) — one chunk in memory —,
//!   the last held back until the content's MD5 is known: a wrong one sends nothing more and
//!   nothing is made; Drive's `md5Checksum` is compared with the content's after;
//! - copies: `files.copy` for files; folders (which Drive does not copy) made anew and filled;
//! - versions: revisions; a restore uploads the revision's content as a new one;
//! - permissions and links: `permissions` (`user`, `group`, `domain`, `anyone`); a link is an
//!   `anyone` (or `domain`) permission and the file's `webViewLink` (Drive lets only user and
//!   group permissions expire);
//! - quota: `about.storageQuota`; search: `name contains` and `properties has` queries;
//!   metadata: `properties`.
//!
//! Configuration: secrets `client_id`, `client_secret` and (when authorized elsewhere)
//! `refresh_token`; optional `base_url` and `auth_base_url`.

use std::collections::HashMap;
use std::sync::Mutex;

use integration_core::domain::ListRequest;
use integration_core::http::Method;
use integration_core::spec::{SpecClient, shared_catalog_spec};
use serde::Deserialize as De;

use crate::id_tree::{Child, IdTree, Lineage, Paths, Walk, latest_of_each, subtree};
use crate::prelude::*;

/// The provider id.
pub const PROVIDER: &str = "google_drive";

/// Drive's folder MIME type.
const FOLDER: &str = "application/vnd.google-apps.folder";

/// Resumable chunks: a multiple of 256 KiB.
pub const CHUNK_BYTES: usize = 8 << 20;

/// The file fields every read asks for.
const FILE_FIELDS: &str = "id,name,mimeType,parents,size,md5Checksum,sha256Checksum,createdTime,modifiedTime,version,trashed,owners(emailAddress),properties,headRevisionId";

/// Entries a page.
const PAGE: u32 = 1_000;

/// The Google Drive adapter for one connection (one Google account's My Drive).
#[derive(Debug)]
pub struct GoogleDrive {
    descriptor: Descriptor,
    api: SpecClient,
    /// `…/upload/drive/v3`, on the API's host.
    upload: String,
    /// My Drive's root folder's own id (`root` is its alias), once known.
    root_id: Mutex<Option<String>>,
}

impl Adapter for GoogleDrive {
    fn describe() -> Result<Descriptor> {
        let capabilities = [
            capability::CHANGES,
            capability::WRITE,
            capability::VERSIONS,
            capability::PERMISSIONS,
            capability::SHARE_LINKS,
            capability::QUOTA,
            capability::SEARCH,
            capability::METADATA,
            Capability::HEALTH_CHECK,
        ];
        let spec = shared_catalog_spec(PROVIDER).ok_or_else(|| Error::config("no Google Drive spec in the catalog"))?;
        spec.descriptor_builder().streams(crate::streams::descriptors(&capabilities)).capabilities(capabilities).build()
    }

    fn from_config(config: &IntegrationConfig, context: &BuildContext) -> Result<Self> {
        let descriptor = Self::describe()?;
        let spec = shared_catalog_spec(PROVIDER).ok_or_else(|| Error::config("no Google Drive spec in the catalog"))?;
        let api = SpecClient::for_adapter(spec, descriptor.clone(), config, context)?;
        let base = api.base_url().as_str().trim_end_matches('/');
        let upload = match base.strip_suffix("/drive/v3") {
            Some(host) => format!("{host}/upload/drive/v3"),
            None => format!("{base}/upload"),
        };
        Ok(Self { descriptor, api, upload, root_id: Mutex::new(None) })
    }
}

/// A Drive file as read.
#[derive(Debug, Clone, Default, De)]
#[serde(rename_all = "camelCase")]
struct File {
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    mime_type: String,
    #[serde(default)]
    parents: Vec<String>,
    #[serde(default)]
    size: Option<String>,
    #[serde(default)]
    md5_checksum: Option<String>,
    #[serde(default)]
    sha256_checksum: Option<String>,
    #[serde(default)]
    created_time: Option<DateTime<Utc>>,
    #[serde(default)]
    modified_time: Option<DateTime<Utc>>,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    trashed: bool,
    #[serde(default)]
    owners: Vec<Owner>,
    #[serde(default)]
    properties: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, De)]
#[serde(rename_all = "camelCase")]
struct Owner {
    #[serde(default)]
    email_address: Option<String>,
}

impl File {
    fn is_folder(&self) -> bool {
        self.mime_type == FOLDER
    }
}

#[derive(Debug, Default, De)]
#[serde(rename_all = "camelCase")]
struct FileList {
    #[serde(default)]
    files: Vec<Value>,
    #[serde(default)]
    next_page_token: Option<String>,
}

fn child_of(file: &File, raw: Value) -> Child {
    Child { id: file.id.clone(), name: file.name.clone(), folder: file.is_folder(), raw }
}

#[async_trait]
impl IdTree for GoogleDrive {
    async fn children(&self, id: &str, page: Option<&str>, size: u32) -> Result<(Vec<Child>, Option<String>)> {
        let q = format!("{} in parents and trashed = false", quote(id));
        let list = self.list(&q, page, size).await?;
        let mut children = Vec::with_capacity(list.files.len());
        for raw in list.files {
            let file = decode(raw.clone())?;
            children.push(child_of(&file, raw));
        }
        Ok((children, list.next_page_token))
    }

    async fn lineage(&self, id: &str) -> Result<Lineage> {
        let root = self.root_id().await?;
        if id == "root" || id == root {
            return Ok(Lineage::Root);
        }
        let file: File =
            decode(self.get("/files", &[id], "/files/{id}", &[("fields", "id,name,parents".into())]).await?)?;
        Ok(match file.parents.first() {
            Some(parent) => Lineage::In { name: file.name, parent: parent.clone() },
            // Shared with the user, or in a shared drive: not under My Drive.
            None => Lineage::Outside,
        })
    }

    fn record_of(&self, child: &Child, path: StoragePath) -> Result<Remote<Entry>> {
        Ok(Self::entry_of(&decode(child.raw.clone())?, path, child.raw.clone()))
    }
}

fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'"))
}

impl GoogleDrive {
    /// A `GET` of `path` on the API, its JSON.
    async fn get(&self, path: &str, ids: &[&str], template: &str, query: &[(&str, String)]) -> Result<Value> {
        self.api
            .request_at(Method::GET, path, ids)?
            .path_template(template.to_owned())
            .query(query)
            .read_only()
            .send_json()
            .await
    }

    /// One page of `files.list` for `q`.
    async fn list(&self, q: &str, page: Option<&str>, size: u32) -> Result<FileList> {
        let mut query = vec![
            ("q", q.to_owned()),
            ("pageSize", size.to_string()),
            ("fields", format!("nextPageToken,files({FILE_FIELDS})")),
        ];
        if let Some(page) = page {
            query.push(("pageToken", page.to_owned()));
        }
        let answer = self.get("/files", &[], "/files", &query).await?;
        serde_json::from_value(answer).map_err(|e| Error::invalid_response(format!("a file list: {e}")))
    }

    /// The live child of folder `parent` named `name`.
    async fn child(&self, parent: &str, name: &str) -> Result<Option<File>> {
        let q = format!("{} in parents and name = {} and trashed = false", quote(parent), quote(name));
        let found = self.list(&q, None, 10).await?;
        found.files.into_iter().next().map(decode).transpose()
    }

    /// The file at `path`, if any (the root is `root`).
    async fn resolve(&self, path: &StoragePath) -> Result<Option<File>> {
        let mut at = File { id: "root".into(), mime_type: FOLDER.into(), ..File::default() };
        for name in path.remote_names() {
            if !at.is_folder() {
                return Ok(None);
            }
            match self.child(&at.id, &name).await? {
                Some(file) => at = file,
                None => return Ok(None),
            }
        }
        Ok(Some(at))
    }

    async fn resolve_or_not_found(&self, path: &StoragePath) -> Result<File> {
        self.resolve(path).await?.ok_or_else(|| not_found(path))
    }

    /// The folder at `path`, made (with those above it) where missing; its id.
    async fn folder_id(&self, path: &StoragePath) -> Result<String> {
        let mut id = "root".to_owned();
        for name in path.remote_names() {
            id = match self.child(&id, &name).await? {
                Some(file) if file.is_folder() => file.id,
                Some(_) => return Err(Error::conflict(format!("{name:?} in {path} is a file, not a folder"))),
                None => {
                    let body = json!({"name": name, "mimeType": FOLDER, "parents": [id]});
                    let made: Value = self
                        .api
                        .request(Method::POST, "/files")?
                        .query(&[("fields", FILE_FIELDS)])
                        .json(&body)
                        .operation("drive.create_folder")
                        .send_json()
                        .await?;
                    decode(made)?.id
                }
            };
        }
        Ok(id)
    }

    /// A file with its path as an entry.
    fn entry_of(file: &File, path: StoragePath, raw: Value) -> Remote<Entry> {
        let folder = file.is_folder();
        let fields = Entry {
            path,
            kind: if folder { EntryKind::Folder } else { EntryKind::File },
            size: if folder { None } else { file.size.as_deref().and_then(|s| s.parse().ok()) },
            mime_type: (!folder).then(|| file.mime_type.clone()),
            checksums: Checksums {
                md5: file.md5_checksum.clone(),
                sha256: file.sha256_checksum.clone(),
                ..Checksums::default()
            },
            etag: file.version.clone(),
            owner: file.owners.first().and_then(|o| o.email_address.clone()),
            metadata: file.properties.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect(),
            ..Entry::default()
        };
        Remote::new(file.id.clone(), fields)
            .modified(file.modified_time)
            .created(file.created_time)
            .with_remote_data(raw)
    }

    /// My Drive's root folder's id (asked once).
    async fn root_id(&self) -> Result<String> {
        if let Some(id) = self.root_id.lock().unwrap_or_else(|p| p.into_inner()).clone() {
            return Ok(id);
        }
        let root = self.get("/files", &["root"], "/files/{id}", &[("fields", "id".into())]).await?;
        let id = root.get("id").and_then(Value::as_str).unwrap_or("root").to_owned();
        *self.root_id.lock().unwrap_or_else(|p| p.into_inner()) = Some(id.clone());
        Ok(id)
    }

    async fn start_token(&self) -> Result<String> {
        let answer = self.get("/changes/startPageToken", &[], "/changes/startPageToken", &[]).await?;
        answer
            .get("startPageToken")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| Error::invalid_response("no startPageToken"))
    }

    /// A resumable session for a new file (`metadata`) or new content of `existing`; its URI.
    async fn session(&self, existing: Option<&str>, metadata: &Value, mime: &str) -> Result<String> {
        let request = match existing {
            Some(id) => self.api.request(Method::PATCH, &format!("{}/files/{}", self.upload, encode_id(id)))?,
            None => self.api.request(Method::POST, &format!("{}/files", self.upload))?,
        };
        let answer = request
            .query(&[("uploadType", "resumable"), ("fields", FILE_FIELDS)])
            .header("X-Upload-Content-Type", mime)
            .json(metadata)
            .operation("drive.start_upload")
            .send()
            .await?;
        answer
            .header("location")
            .map(str::to_owned)
            .ok_or_else(|| Error::invalid_response("Drive started an upload without a session URI"))
    }

    /// Sends `content` into session `uri` chunk by chunk; the file made.
    async fn send_chunks(
        &self,
        uri: &str,
        content: &mut dyn Content,
        expected_md5: Option<&str>,
    ) -> Result<(File, Value, String)> {
        let mut parts = Parts::new(content, CHUNK_BYTES);
        let mut sent: u64 = 0;
        let mut pending = parts.next_part().await?.unwrap_or_default();
        loop {
            let next = if parts.finished() { None } else { parts.next_part().await? };
            let last = next.is_none();
            if last {
                // Nothing of a content whose MD5 is wrong is finished: the session is left
                // unfinished (Drive forgets it) and no file is made.
                parts.check_md5(expected_md5)?;
            }
            let length = pending.len() as u64;
            let range = match (length, last) {
                (0, _) => format!("bytes */{}", sent),
                (_, true) => format!("bytes {}-{}/{}", sent, sent + length - 1, sent + length),
                (_, false) => format!("bytes {}-{}/*", sent, sent + length - 1),
            };
            let answer = self
                .api
                .request(Method::PUT, uri)?
                .header("Content-Range", &range)
                .body(pending, "application/octet-stream")
                .operation("drive.upload_chunk")
                .idempotent()
                .accept_any_status()
                .send()
                .await?;
            sent += length;
            match answer.status().as_u16() {
                308 if !last => {}
                200 | 201 if last => {
                    let raw: Value = answer.json()?;
                    return Ok((decode(raw.clone())?, raw, parts.md5_hex()));
                }
                status => {
                    let _ = status;
                    return Err(Error::from_response(answer.status(), answer.headers(), answer.bytes())
                        .with_operation("drive.upload_chunk")
                        .with_provider(PROVIDER));
                }
            }
            pending = next.unwrap_or_default();
        }
    }

    async fn upload_into(
        &self,
        path: &StoragePath,
        existing: Option<&File>,
        content: &mut dyn Content,
        options: &UploadOptions,
    ) -> Result<Remote<Entry>> {
        let name = path.name().ok_or_else(|| Error::validation("path", "the root is a folder"))?;
        let metadata = match existing {
            Some(_) => json!({"mimeType": options.mime(), "properties": options.metadata}),
            None => {
                let parent = self.folder_id(&path.parent().unwrap_or_default()).await?;
                json!({"name": name, "parents": [parent], "mimeType": options.mime(), "properties": options.metadata})
            }
        };
        let uri = self.session(existing.map(|f| f.id.as_str()), &metadata, options.mime()).await?;
        let (file, raw, md5) = self.send_chunks(&uri, content, options.expected_md5.as_deref()).await?;
        if file.md5_checksum.as_deref().is_some_and(|m| !m.eq_ignore_ascii_case(&md5)) {
            return Err(Error::invalid_response(format!(
                "Drive stored {path} with the MD5 {}, not the {md5} sent",
                file.md5_checksum.unwrap_or_default()
            ))
            .with_provider(PROVIDER));
        }
        let mut entry = Self::entry_of(&file, path.clone(), raw);
        entry.fields.checksums.md5 = Some(md5);
        Ok(entry)
    }

    /// Copies `file` into folder `parent` as `name`.
    async fn copy_file(&self, file: &File, parent: &str, name: &str) -> Result<Value> {
        let body = json!({"name": name, "parents": [parent]});
        self.api
            .request_at(Method::POST, "/files", &[&file.id, "copy"])?
            .path_template("/files/{id}/copy".to_owned())
            .query(&[("fields", FILE_FIELDS)])
            .json(&body)
            .operation("drive.copy")
            .send_json()
            .await
    }

    fn with_path(raw: Value, path: StoragePath) -> Result<Remote<Entry>> {
        let file = decode(raw.clone())?;
        Ok(Self::entry_of(&file, path, raw))
    }
}

/// An id as one URL path segment.
fn encode_id(id: &str) -> String {
    url::form_urlencoded::byte_serialize(id.as_bytes()).collect()
}

fn decode(raw: Value) -> Result<File> {
    serde_json::from_value(raw)
        .map_err(|e| Error::invalid_response(format!("a Drive file: {e}")).with_provider(PROVIDER))
}

fn not_found(path: &StoragePath) -> Error {
    Error::not_found(format!("nothing at {path}")).with_provider(PROVIDER)
}

fn role_name(role: &Role) -> &str {
    match role {
        Role::Reader => "reader",
        Role::Commenter => "commenter",
        Role::Writer => "writer",
        Role::Owner => "owner",
        Role::Other(other) => other.as_str(),
    }
}

fn role_of(name: &str) -> Role {
    match name {
        "reader" => Role::Reader,
        "commenter" => Role::Commenter,
        "writer" | "fileOrganizer" | "organizer" => Role::Writer,
        "owner" => Role::Owner,
        other => Role::Other(other.to_owned()),
    }
}

fn grantee_body(grantee: &Grantee) -> Value {
    match grantee {
        Grantee::User { id } => json!({"type": "user", "emailAddress": id}),
        Grantee::Group { id } => json!({"type": "group", "emailAddress": id}),
        Grantee::Domain { domain } => json!({"type": "domain", "domain": domain}),
        _ => json!({"type": "anyone"}),
    }
}

fn permission_of(raw: &Value) -> Option<Permission> {
    let text = |k: &str| raw.get(k).and_then(Value::as_str);
    let grantee = match text("type")? {
        "user" => Grantee::User { id: text("emailAddress")?.to_owned() },
        "group" => Grantee::Group { id: text("emailAddress")?.to_owned() },
        "domain" => Grantee::Domain { domain: text("domain")?.to_owned() },
        _ => Grantee::Anyone,
    };
    Some(Permission {
        id: text("id")?.to_owned(),
        grantee,
        role: role_of(text("role")?),
        expires_at: text("expirationTime").and_then(|t| DateTime::parse_from_rfc3339(t).ok()).map(|t| t.to_utc()),
        inherited: false,
    })
}

fn is_gone(e: &Error) -> bool {
    e.kind() == ErrorKind::NotFound
}

#[async_trait]
impl Integration for GoogleDrive {
    fn descriptor(&self) -> &Descriptor {
        &self.descriptor
    }

    async fn connect(&self) -> Result<ConnectionInfo> {
        let about = self.get("/about", &[], "/about", &[("fields", "user".into())]).await?;
        let email = about.pointer("/user/emailAddress").and_then(Value::as_str).unwrap_or_default().to_owned();
        let name = about.pointer("/user/displayName").and_then(Value::as_str).map(str::to_owned);
        Ok(ConnectionInfo::with_account(email, name))
    }

    async fn health_check(&self) -> Result<Health> {
        Ok(Health::probe(self.api.check()).await)
    }

    async fn read(&self, request: ReadRequest) -> Result<Page> {
        crate::streams::read(self, request).await
    }
}

#[async_trait]
impl Storage for GoogleDrive {
    async fn drives(&self) -> Result<Vec<Drive>> {
        let about = self.get("/about", &[], "/about", &[("fields", "user,storageQuota".into())]).await?;
        Ok(vec![Drive {
            id: "root".into(),
            name: "My Drive".into(),
            kind: Some("personal".into()),
            owner: about.pointer("/user/emailAddress").and_then(Value::as_str).map(str::to_owned),
            quota: Some(quota_of(&about)),
        }])
    }

    /// The walk takes a change token before its first page and gives it with its last: the
    /// next incremental pass starts from there.
    async fn entries(&self, request: ListRequest) -> Result<Listing<Entry>> {
        let walk = match request.cursor.as_deref() {
            None => Walk::of_root("root".into(), Some(self.start_token().await?)),
            Some(cursor) => Walk::resume(cursor)?,
        };
        walk.listing(self, request.limit(PAGE)).await
    }

    async fn changes(&self, request: ListRequest) -> Result<Listing<Entry>> {
        let Some(token) = request.sync_token.clone() else {
            return Err(Error::resync_required("no Drive change token yet: a full pass takes one"));
        };
        let page_token = request.cursor.clone().unwrap_or(token);
        let query = [
            ("pageToken", page_token),
            ("pageSize", request.limit(PAGE).to_string()),
            ("includeRemoved", "true".into()),
            ("spaces", "drive".into()),
            ("fields", format!("nextPageToken,newStartPageToken,changes(fileId,removed,time,file({FILE_FIELDS}))")),
        ];
        let answer = match self.get("/changes", &[], "/changes", &query).await {
            Ok(answer) => answer,
            Err(e) if matches!(e.status(), Some(400 | 404 | 410)) => {
                return Err(Error::resync_required(format!("Drive no longer accepts the change token: {e}")));
            }
            Err(e) => return Err(e),
        };
        let mut paths = Paths::default();
        let mut items = Vec::new();
        for change in answer.get("changes").and_then(Value::as_array).into_iter().flatten() {
            let id = change.get("fileId").and_then(Value::as_str).unwrap_or_default();
            let raw = change.get("file").cloned().unwrap_or(Value::Null);
            let removed = change.get("removed").and_then(Value::as_bool).unwrap_or(false);
            let file = if removed || raw.is_null() { None } else { Some(decode(raw.clone())?) };
            let Some(file) = file.filter(|f| !f.trashed) else {
                items.push(Remote::deleted(id));
                continue;
            };
            let Some(parent) = file.parents.first() else { continue };
            items.extend(paths.changed(self, &child_of(&file, raw), parent).await?);
        }
        let next = answer.get("nextPageToken").and_then(Value::as_str).map(str::to_owned);
        let new_token = answer.get("newStartPageToken").and_then(Value::as_str).map(str::to_owned);
        latest_of_each(&mut items);
        Ok(Listing::new(items, next).with_sync_token(new_token))
    }

    async fn entry(&self, path: &StoragePath) -> Result<Remote<Entry>> {
        let file = self.resolve_or_not_found(path).await?;
        let raw = self.get("/files", &[&file.id], "/files/{id}", &[("fields", FILE_FIELDS.into())]).await?;
        Self::with_path(raw, path.clone())
    }

    async fn download(&self, path: &StoragePath, range: Option<ByteRange>) -> Result<StreamingResponse> {
        let file = self.resolve_or_not_found(path).await?;
        let request = self
            .api
            .request_at(Method::GET, "/files", &[&file.id])?
            .path_template("/files/{id}?alt=media".to_owned())
            .query(&[("alt", "media")])
            .read_only();
        crate::storage::send_ranged(request, range).await
    }

    async fn upload(
        &self,
        path: &StoragePath,
        content: &mut dyn Content,
        options: &UploadOptions,
    ) -> Result<Remote<Entry>> {
        let existing = self.resolve(path).await?;
        match &existing {
            Some(file) if file.is_folder() => return Err(Error::conflict(format!("{path} is a folder"))),
            Some(_) if !options.overwrite => {
                return Err(Error::conflict(format!("{path} exists")).with_provider(PROVIDER));
            }
            _ => {}
        }
        self.upload_into(path, existing.as_ref(), content, options).await
    }

    async fn create_folder(&self, path: &StoragePath) -> Result<Remote<Entry>> {
        self.folder_id(path).await?;
        self.entry(path).await
    }

    async fn copy(&self, from: &StoragePath, to: &StoragePath) -> Result<Remote<Entry>> {
        let source = self.resolve_or_not_found(from).await?;
        if let Some(there) = self.resolve(to).await? {
            self.api
                .request_at(Method::DELETE, "/files", &[&there.id])?
                .path_template("/files/{id}".to_owned())
                .send()
                .await?;
        }
        let name = to.name().ok_or_else(|| Error::validation("path", "the root cannot be written"))?;
        let parent = self.folder_id(&to.parent().unwrap_or_default()).await?;
        if !source.is_folder() {
            let raw = self.copy_file(&source, &parent, &name).await?;
            return Self::with_path(raw, to.clone());
        }
        // Drive copies files only: the folder is made anew, then each entry copied into it.
        let made = self.folder_id(to).await?;
        let mut folders = HashMap::from([(source.id.clone(), made)]);
        for entry in subtree(self, &source.id, from).await? {
            let relative = entry.fields.path.strip_prefix(from).unwrap_or_default();
            let parent_source = entry
                .remote_data
                .as_ref()
                .and_then(|r| r.pointer("/parents/0"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let Some(into) = folders.get(&parent_source).cloned() else { continue };
            let name = relative.name().unwrap_or_default();
            if entry.fields.kind == EntryKind::Folder {
                let body = json!({"name": name, "mimeType": FOLDER, "parents": [into]});
                let made: Value = self
                    .api
                    .request(Method::POST, "/files")?
                    .json(&body)
                    .operation("drive.create_folder")
                    .send_json()
                    .await?;
                folders.insert(entry.remote_id.clone(), decode(made)?.id);
            } else {
                let file = File { id: entry.remote_id.clone(), ..File::default() };
                self.copy_file(&file, &into, &name).await?;
            }
        }
        self.entry(to).await
    }

    async fn move_to(&self, from: &StoragePath, to: &StoragePath) -> Result<Remote<Entry>> {
        let source = self.resolve_or_not_found(from).await?;
        if self.resolve(to).await?.is_some() {
            return Err(Error::conflict(format!("{to} exists; nothing was moved")).with_provider(PROVIDER));
        }
        let name = to.name().ok_or_else(|| Error::validation("path", "the root cannot be written"))?;
        let parent = self.folder_id(&to.parent().unwrap_or_default()).await?;
        let old_parent = source.parents.first().cloned().unwrap_or_else(|| "root".into());
        let raw: Value = self
            .api
            .request_at(Method::PATCH, "/files", &[&source.id])?
            .path_template("/files/{id}".to_owned())
            .query(&[("addParents", parent.as_str()), ("removeParents", old_parent.as_str()), ("fields", FILE_FIELDS)])
            .json(&json!({"name": name}))
            .operation("drive.move")
            .send_json()
            .await?;
        Self::with_path(raw, to.clone())
    }

    async fn delete(&self, path: &StoragePath) -> Result<()> {
        if path.is_root() {
            return Err(Error::validation("path", "My Drive itself is not deleted"));
        }
        let Some(file) = self.resolve(path).await? else { return Ok(()) };
        match self
            .api
            .request_at(Method::DELETE, "/files", &[&file.id])?
            .path_template("/files/{id}".to_owned())
            .send()
            .await
        {
            Err(e) if !is_gone(&e) => Err(e),
            _ => Ok(()),
        }
    }

    async fn versions(&self, path: &StoragePath) -> Result<Vec<Version>> {
        let file = self.resolve_or_not_found(path).await?;
        let answer = self
            .get(
                "/files",
                &[&file.id, "revisions"],
                "/files/{id}/revisions",
                &[("fields", "revisions(id,modifiedTime,size)".into())],
            )
            .await?;
        let revisions = answer.get("revisions").and_then(Value::as_array).cloned().unwrap_or_default();
        let count = revisions.len();
        let mut out: Vec<Version> = revisions
            .iter()
            .enumerate()
            .map(|(i, r)| Version {
                version_id: r.get("id").and_then(Value::as_str).unwrap_or_default().to_owned(),
                size: r.get("size").and_then(Value::as_str).and_then(|s| s.parse().ok()),
                modified_at: r
                    .get("modifiedTime")
                    .and_then(Value::as_str)
                    .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                    .map(|t| t.to_utc()),
                is_latest: i + 1 == count,
                is_deletion: false,
            })
            .collect();
        out.reverse();
        Ok(out)
    }

    async fn restore_version(&self, path: &StoragePath, version_id: &str) -> Result<Remote<Entry>> {
        let file = self.resolve_or_not_found(path).await?;
        let mut old = self
            .api
            .request_at(Method::GET, "/files", &[&file.id, "revisions", version_id])?
            .path_template("/files/{id}/revisions/{revision}?alt=media".to_owned())
            .query(&[("alt", "media")])
            .read_only()
            .send_streaming()
            .await?;
        let options = UploadOptions { content_type: Some(file.mime_type.clone()), ..UploadOptions::new() };
        self.upload_into(path, Some(&file), &mut old, &options).await
    }

    async fn permissions(&self, path: &StoragePath) -> Result<Vec<Permission>> {
        let file = self.resolve_or_not_found(path).await?;
        let answer = self
            .get(
                "/files",
                &[&file.id, "permissions"],
                "/files/{id}/permissions",
                &[("fields", "permissions(id,type,role,emailAddress,domain,expirationTime)".into())],
            )
            .await?;
        Ok(answer
            .get("permissions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(permission_of)
            .collect())
    }

    async fn grant(
        &self,
        path: &StoragePath,
        grantee: &Grantee,
        role: &Role,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<Permission> {
        let file = self.resolve_or_not_found(path).await?;
        let mut body = grantee_body(grantee);
        body["role"] = json!(role_name(role));
        if let Some(at) = expires_at {
            if !matches!(grantee, Grantee::User { .. } | Grantee::Group { .. }) {
                return Err(Error::validation("expires_at", "Drive lets only user and group permissions expire"));
            }
            body["expirationTime"] = json!(at.to_rfc3339());
        }
        let raw: Value = self
            .api
            .request_at(Method::POST, "/files", &[&file.id, "permissions"])?
            .path_template("/files/{id}/permissions".to_owned())
            .query(&[("sendNotificationEmail", "false"), ("fields", "id,type,role,emailAddress,domain,expirationTime")])
            .json(&body)
            .operation("drive.grant")
            .send_json()
            .await?;
        permission_of(&raw).ok_or_else(|| Error::invalid_response("Drive answered a permission without its id"))
    }

    async fn revoke(&self, path: &StoragePath, permission_id: &str) -> Result<()> {
        let file = self.resolve_or_not_found(path).await?;
        match self
            .api
            .request_at(Method::DELETE, "/files", &[&file.id, "permissions", permission_id])?
            .path_template("/files/{id}/permissions/{permission}".to_owned())
            .send()
            .await
        {
            Err(e) if !is_gone(&e) => Err(e),
            _ => Ok(()),
        }
    }

    async fn share_link(
        &self,
        path: &StoragePath,
        audience: &Grantee,
        role: &Role,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<ShareLink> {
        if expires_at.is_some() {
            return Err(Error::validation(
                "expires_at",
                "Drive links do not expire (only user and group permissions do)",
            ));
        }
        if !matches!(audience, Grantee::Anyone | Grantee::Domain { .. }) {
            return Err(Error::validation(
                "audience",
                "a Drive link is for anyone or a domain; grant users a permission",
            ));
        }
        self.grant(path, audience, role, None).await?;
        let file = self.resolve_or_not_found(path).await?;
        let answer = self.get("/files", &[&file.id], "/files/{id}", &[("fields", "webViewLink".into())]).await?;
        let url = answer
            .get("webViewLink")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::invalid_response("no webViewLink"))?;
        Ok(ShareLink { url: url.to_owned(), audience: audience.clone(), role: role.clone(), expires_at: None })
    }

    async fn quota(&self) -> Result<Quota> {
        Ok(quota_of(&self.get("/about", &[], "/about", &[("fields", "storageQuota".into())]).await?))
    }

    async fn search(&self, search: &Search) -> Result<Vec<Remote<Entry>>> {
        let mut terms = vec!["trashed = false".to_owned()];
        if let Some(name) = &search.name_contains {
            terms.push(format!("name contains {}", quote(name)));
        }
        if let Some(mime) = &search.mime_type {
            terms.push(format!("mimeType = {}", quote(mime)));
        }
        for (key, value) in &search.metadata {
            let value = value.as_str().map_or_else(|| value.to_string(), str::to_owned);
            terms.push(format!("properties has {{ key={} and value={} }}", quote(key), quote(&value)));
        }
        let q = terms.join(" and ");
        let mut paths = Paths::default();
        let mut out = Vec::new();
        let mut page: Option<String> = None;
        for _ in 0..1_000 {
            let list = self.list(&q, page.as_deref(), PAGE).await?;
            for raw in list.files {
                let file = decode(raw.clone())?;
                let Some(parent) = file.parents.first() else { continue };
                let Some(folder) = paths.of(self, parent).await? else { continue };
                let path = folder.join_path(&StoragePath::from_remote_names([file.name.as_str()])?)?;
                let entry = Self::entry_of(&file, path, raw);
                if search.matches(&entry) {
                    out.push(entry);
                    if out.len() >= search.limit() {
                        return Ok(out);
                    }
                }
            }
            match list.next_page_token {
                Some(next) => page = Some(next),
                None => break,
            }
        }
        Ok(out)
    }
}

fn quota_of(about: &Value) -> Quota {
    let number = |p: &str| about.pointer(p).and_then(Value::as_str).and_then(|s| s.parse().ok());
    Quota {
        used: number("/storageQuota/usage").unwrap_or(0),
        total: number("/storageQuota/limit"),
        trashed: number("/storageQuota/usageInDriveTrash"),
    }
}
