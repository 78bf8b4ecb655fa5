//! OneDrive and SharePoint document libraries, through Microsoft Graph v1.0
//! (<https://learn.microsoft.com/en-us/graph/api/resources/driveitem>):
//!
//! - the HTTP shape — `https://graph.microsoft.com/v1.0`, OAuth2 through the Microsoft
//!   identity platform (the `tenant` setting), the error message at `/error/message` — is the
//!   catalog's spec (`integration-core/catalog/microsoft_onedrive.toml`);
//! - the drive: the user's OneDrive (`/me/drive`), a document library by `drive_id`
//!   (`/drives/{id}`), or a SharePoint site's default library by `site_id`
//!   (`/sites/{id}/drive`);
//! - paths: items are addressed by path (`root:/a/b.txt:`, each name percent-encoded); names
//!   OneDrive refuses (`" * : < > ? / \ |`, a trailing dot or space) are refused before anything
//!   is sent. Record ids are driveItem ids: a moved file keeps its id, and is an update;
//! - entries: the tree walked one `children` page at a time, the folders still to read as the
//!   cursor, a `delta` link taken first (`token=latest`) and given with the last page;
//! - changes: the `delta` link; deleted items are tombstones; a changed folder is read again
//!   with everything under it (Graph reports the folder alone when it moves, and leaves
//!   `parentReference.path` out of delta answers: paths come from parent ids); `410` is
//!   `ResyncRequired`;
//! - uploads: up to 4 MiB one `PUT …:/content`; above, an upload session in 10 MiB fragments
//!   (multiples of 320 KiB) sent without credentials to its `uploadUrl`, the last held back
//!   until the content's MD5 is known (a wrong one cancels the session: nothing is made); the
//!   size, and the SHA-256 where the drive reports one, compared after. Sessions need the
//!   content's length;
//! - downloads: the item's pre-authenticated `@microsoft.graph.downloadUrl`, fetched without
//!   credentials, ranged;
//! - copies: `copy`, then its monitor polled until done; moves and renames: `PATCH` with
//!   `conflictBehavior: fail`;
//! - versions: `versions` and `restoreVersion`; permissions: `invite` (`read`, `write`, with an
//!   expiry) and `permissions`; links: `createLink` (`view`/`edit`, `anonymous`/`organization`);
//!   quota: the drive's; search: `search(q=…)`.
//!
//! Configuration: secrets `client_id`, `client_secret` and (when authorized elsewhere)
//! `refresh_token`; settings `tenant` (default `common`), `drive_id` or `site_id`; optional
//! `base_url` and `auth_base_url`.
//!
//! - metadata: the document library's fields (`listItem/fields`): custom text columns written
//!   after an upload, read with `$expand=listItem($expand=fields)` by `entry` (listings leave
//!   them out), a search on them looking each candidate up. A column the library does not have
//!   is Graph's `400`.

use std::time::Duration;

use integration_core::domain::ListRequest;
use integration_core::http::Method;
use integration_core::spec::{SpecClient, shared_catalog_spec};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize as De;

use crate::id_tree::{Child, IdTree, Lineage, Paths, Walk, latest_of_each};
use crate::prelude::*;

/// The provider id.
pub const PROVIDER: &str = "microsoft_onedrive";

/// Content up to this size goes in one `PUT`.
pub const SIMPLE_UPLOAD_BYTES: usize = 4 << 20;

/// Upload session fragments: a multiple of 320 KiB.
pub const FRAGMENT_BYTES: usize = 32 * 320 * 1024;

/// Items a page.
const PAGE: u32 = 200;

/// What a path segment leaves unencoded.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// How long a copy's monitor is waited for.
const COPY_DEADLINE: Duration = Duration::from_secs(300);

/// The OneDrive / SharePoint adapter for one connection (one drive).
#[derive(Debug)]
pub struct OneDrive {
    descriptor: Descriptor,
    api: SpecClient,
    /// For the URLs Graph hands out pre-authenticated (downloads, upload sessions, monitors):
    /// the same policy, no credentials.
    plain: ProviderClient,
    /// `/me/drive`, `/drives/{id}` or `/sites/{id}/drive`.
    drive: String,
}

impl Adapter for OneDrive {
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
        let spec = shared_catalog_spec(PROVIDER).ok_or_else(|| Error::config("no OneDrive spec in the catalog"))?;
        spec.descriptor_builder()
            .streams(crate::streams::descriptors(&capabilities))
            .capabilities(capabilities)
            .optional_setting(
                "drive_id",
                FieldFormat::Text,
                "a document library's drive id (default: the user's OneDrive)",
            )
            .optional_setting("site_id", FieldFormat::Text, "a SharePoint site id: its default document library")
            .build()
    }

    fn from_config(config: &IntegrationConfig, context: &BuildContext) -> Result<Self> {
        let descriptor = Self::describe()?;
        let spec = shared_catalog_spec(PROVIDER).ok_or_else(|| Error::config("no OneDrive spec in the catalog"))?;
        let api = SpecClient::for_adapter(spec, descriptor.clone(), config, context)?;
        let segment = |id: &str| utf8_percent_encode(id, SEGMENT).to_string();
        let drive = match (
            config.settings.get("drive_id").and_then(Value::as_str),
            config.settings.get("site_id").and_then(Value::as_str),
        ) {
            (Some(drive), _) if !drive.is_empty() => format!("/drives/{}", segment(drive)),
            (_, Some(site)) if !site.is_empty() => format!("/sites/{}/drive", segment(site)),
            _ => "/me/drive".to_owned(),
        };
        let plain = context.provider_client(&descriptor, config);
        Ok(Self { descriptor, api, plain, drive })
    }
}

/// A driveItem as read.
#[derive(Debug, Clone, Default, De)]
#[serde(rename_all = "camelCase")]
struct Item {
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    size: Option<u64>,
    #[serde(default)]
    e_tag: Option<String>,
    #[serde(default)]
    created_date_time: Option<DateTime<Utc>>,
    #[serde(default)]
    last_modified_date_time: Option<DateTime<Utc>>,
    #[serde(default)]
    parent_reference: Option<ParentReference>,
    #[serde(default)]
    file: Option<FileFacet>,
    #[serde(default)]
    folder: Option<Value>,
    #[serde(default)]
    root: Option<Value>,
    #[serde(default)]
    deleted: Option<Value>,
    #[serde(default)]
    created_by: Option<Value>,
    #[serde(default, rename = "@microsoft.graph.downloadUrl")]
    download_url: Option<String>,
    /// The document library's fields (when asked for with `$expand=listItem($expand=fields)`).
    #[serde(default)]
    list_item: Option<Value>,
}

#[derive(Debug, Clone, Default, De)]
#[serde(rename_all = "camelCase")]
struct ParentReference {
    #[serde(default)]
    id: Option<String>,
}

#[derive(Debug, Clone, Default, De)]
#[serde(rename_all = "camelCase")]
struct FileFacet {
    #[serde(default)]
    mime_type: Option<String>,
    #[serde(default)]
    hashes: Option<Hashes>,
}

#[derive(Debug, Clone, Default, De)]
#[serde(rename_all = "camelCase")]
struct Hashes {
    #[serde(default)]
    sha256_hash: Option<String>,
    #[serde(default)]
    sha1_hash: Option<String>,
    #[serde(default)]
    quick_xor_hash: Option<String>,
}

impl Item {
    fn is_folder(&self) -> bool {
        self.folder.is_some() || self.root.is_some()
    }

    fn parent(&self) -> Option<&str> {
        self.parent_reference.as_ref().and_then(|p| p.id.as_deref())
    }
}

fn child_of(item: &Item, raw: Value) -> Child {
    Child { id: item.id.clone(), name: item.name.clone(), folder: item.is_folder(), raw }
}

#[async_trait]
impl IdTree for OneDrive {
    async fn children(&self, id: &str, page: Option<&str>, size: u32) -> Result<(Vec<Child>, Option<String>)> {
        let answer = match page {
            Some(next) => self.get(next, "{drive}/items/{id}/children").await?,
            None => {
                self.api
                    .request(Method::GET, &self.by_id(id, "children"))?
                    .path_template("{drive}/items/{id}/children".to_owned())
                    .query(&[("$top", size.to_string())])
                    .read_only()
                    .send_json()
                    .await?
            }
        };
        let mut children = Vec::new();
        for raw in answer.get("value").and_then(Value::as_array).cloned().unwrap_or_default() {
            let item = decode(raw.clone())?;
            children.push(child_of(&item, raw));
        }
        Ok((children, answer.get("@odata.nextLink").and_then(Value::as_str).map(str::to_owned)))
    }

    async fn lineage(&self, id: &str) -> Result<Lineage> {
        let item = decode(self.get(&self.by_id(id, ""), "{drive}/items/{id}").await?)?;
        Ok(match (item.root.is_some(), item.parent()) {
            (true, _) => Lineage::Root,
            (false, Some(parent)) => Lineage::In { name: item.name.clone(), parent: parent.to_owned() },
            (false, None) => Lineage::Outside,
        })
    }

    fn record_of(&self, child: &Child, path: StoragePath) -> Result<Remote<Entry>> {
        Ok(Self::entry_of(&decode(child.raw.clone())?, path, child.raw.clone()))
    }
}

fn decode(raw: Value) -> Result<Item> {
    serde_json::from_value(raw)
        .map_err(|e| Error::invalid_response(format!("a driveItem: {e}")).with_provider(PROVIDER))
}

fn not_found(path: &StoragePath) -> Error {
    Error::not_found(format!("nothing at {path}")).with_provider(PROVIDER)
}

/// A name OneDrive and SharePoint refuse: why, if they do.
fn refused_name(name: &str) -> Option<&'static str> {
    if name.chars().any(|c| "\"*:<>?/\\|".contains(c)) {
        Some("OneDrive and SharePoint refuse names holding \" * : < > ? / \\ |")
    } else if name.ends_with('.') || name.ends_with(' ') || name.starts_with(' ') {
        Some("OneDrive and SharePoint refuse names beginning with a space or ending with a dot or a space")
    } else {
        None
    }
}

fn check_names(path: &StoragePath) -> Result<()> {
    for name in path.remote_names() {
        if let Some(why) = refused_name(&name) {
            return Err(Error::validation("path", format!("{why} ({name:?})")));
        }
    }
    Ok(())
}

/// The fields a document library keeps itself, left out of an entry's metadata.
const LIBRARY_FIELDS: [&str; 16] = [
    "id",
    "ContentType",
    "Created",
    "Modified",
    "FileLeafRef",
    "AuthorLookupId",
    "EditorLookupId",
    "DocIcon",
    "LinkFilename",
    "LinkFilenameNoMenu",
    "FileSizeDisplay",
    "ItemChildCount",
    "FolderChildCount",
    "Edit",
    "AppAuthorLookupId",
    "AppEditorLookupId",
];

/// The custom fields of a list item (`listItem.fields`), as metadata.
fn library_fields(list_item: Option<&Value>) -> std::collections::BTreeMap<String, Value> {
    list_item
        .and_then(|l| l.get("fields"))
        .and_then(Value::as_object)
        .map(|fields| {
            fields
                .iter()
                .filter(|(k, _)| !k.starts_with('@') && !k.starts_with('_') && !LIBRARY_FIELDS.contains(&k.as_str()))
                .filter(|(k, _)| !k.starts_with("OData_") && !k.ends_with("LookupId"))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default()
}

fn role_of(name: &str) -> Role {
    match name {
        "read" => Role::Reader,
        "write" => Role::Writer,
        "owner" => Role::Owner,
        other => Role::Other(other.to_owned()),
    }
}

fn permission_of(raw: &Value) -> Option<Permission> {
    let id = raw.get("id")?.as_str()?.to_owned();
    let role = role_of(raw.pointer("/roles/0").and_then(Value::as_str).unwrap_or("read"));
    let grantee = match raw.pointer("/link/scope").and_then(Value::as_str) {
        Some("anonymous") => Grantee::Anyone,
        Some(scope) => Grantee::Domain { domain: scope.to_owned() },
        None => {
            let email = raw
                .pointer("/grantedToV2/user/email")
                .or_else(|| raw.pointer("/grantedToV2/group/email"))
                .or_else(|| raw.pointer("/grantedTo/user/email"))
                .and_then(Value::as_str)?;
            if raw.pointer("/grantedToV2/group").is_some() {
                Grantee::Group { id: email.to_owned() }
            } else {
                Grantee::User { id: email.to_owned() }
            }
        }
    };
    let expires_at = raw
        .get("expirationDateTime")
        .and_then(Value::as_str)
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.to_utc());
    Some(Permission { id, grantee, role, expires_at, inherited: raw.get("inheritedFrom").is_some() })
}

impl OneDrive {
    /// The API path of `path`'s item, with `suffix` (`children`, `content`…).
    fn at(&self, path: &StoragePath, suffix: &str) -> String {
        let tail = if suffix.is_empty() { String::new() } else { format!("/{suffix}") };
        if path.is_root() {
            return format!("{}/root{tail}", self.drive);
        }
        let encoded: Vec<String> = path.remote_names().map(|n| utf8_percent_encode(&n, SEGMENT).to_string()).collect();
        format!("{}/root:/{}:{tail}", self.drive, encoded.join("/"))
    }

    fn by_id(&self, id: &str, suffix: &str) -> String {
        let tail = if suffix.is_empty() { String::new() } else { format!("/{suffix}") };
        format!("{}/items/{}{tail}", self.drive, utf8_percent_encode(id, SEGMENT))
    }

    async fn get(&self, path: &str, template: &str) -> Result<Value> {
        self.api.request(Method::GET, path)?.path_template(template.to_owned()).read_only().send_json().await
    }

    /// The item at `path`, if any.
    async fn item(&self, path: &StoragePath) -> Result<Option<(Item, Value)>> {
        let answer = self
            .api
            .request(Method::GET, &self.at(path, ""))?
            .path_template("{drive}/root:/{path}:".to_owned())
            .query(&[("$expand", "listItem($expand=fields)")])
            .read_only()
            .send_json::<Value>()
            .await;
        match answer {
            Ok(raw) => Ok(Some((decode(raw.clone())?, raw))),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn item_or_not_found(&self, path: &StoragePath) -> Result<(Item, Value)> {
        self.item(path).await?.ok_or_else(|| not_found(path))
    }

    fn entry_of(item: &Item, path: StoragePath, raw: Value) -> Remote<Entry> {
        let folder = item.is_folder();
        let hashes = item.file.as_ref().and_then(|f| f.hashes.clone()).unwrap_or_default();
        let mut other = std::collections::BTreeMap::new();
        if let Some(xor) = hashes.quick_xor_hash {
            other.insert("quickXorHash".to_owned(), xor);
        }
        let fields = Entry {
            path,
            kind: if folder { EntryKind::Folder } else { EntryKind::File },
            size: if folder { None } else { item.size },
            mime_type: item.file.as_ref().and_then(|f| f.mime_type.clone()),
            checksums: Checksums {
                sha1: hashes.sha1_hash.map(|h| h.to_ascii_lowercase()),
                sha256: hashes.sha256_hash.map(|h| h.to_ascii_lowercase()),
                other,
                ..Checksums::default()
            },
            etag: if folder { None } else { item.e_tag.clone() },
            owner: item
                .created_by
                .as_ref()
                .and_then(|c| c.pointer("/user/email"))
                .and_then(Value::as_str)
                .map(str::to_owned),
            metadata: library_fields(item.list_item.as_ref()),
            ..Entry::default()
        };
        let mut raw = raw;
        if let Some(object) = raw.as_object_mut() {
            // Short-lived, pre-authenticated: not kept in the cache.
            object.remove("@microsoft.graph.downloadUrl");
        }
        Remote::new(item.id.clone(), fields)
            .modified(if folder { None } else { item.last_modified_date_time })
            .created(item.created_date_time)
            .with_remote_data(raw)
    }

    async fn latest_delta(&self) -> Result<String> {
        let answer = self
            .api
            .request(Method::GET, &format!("{}/root/delta", self.drive))?
            .path_template("{drive}/root/delta".to_owned())
            .query(&[("token", "latest")])
            .read_only()
            .send_json::<Value>()
            .await?;
        answer
            .get("@odata.deltaLink")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| Error::invalid_response("a delta answer without @odata.deltaLink").with_provider(PROVIDER))
    }

    /// The folder at `path` and those above it, made where missing; its id.
    async fn ensure_folder(&self, path: &StoragePath) -> Result<String> {
        check_names(path)?;
        if let Some((item, _)) = self.item(path).await? {
            return if item.is_folder() { Ok(item.id) } else { Err(Error::conflict(format!("{path} is a file"))) };
        }
        let parent = path.parent().unwrap_or_default();
        let parent_id = Box::pin(self.ensure_folder(&parent)).await?;
        let name = path.name().unwrap_or_default();
        let body = json!({"name": name, "folder": {}, "@microsoft.graph.conflictBehavior": "fail"});
        let made = self
            .api
            .request(Method::POST, &self.by_id(&parent_id, "children"))?
            .path_template("{drive}/items/{id}/children".to_owned())
            .json(&body)
            .operation("onedrive.create_folder")
            .send_json::<Value>()
            .await;
        match made {
            Ok(raw) => Ok(decode(raw)?.id),
            // Made meanwhile by someone else: fine when it is a folder.
            Err(e) if e.kind() == ErrorKind::Conflict => match self.item(path).await? {
                Some((item, _)) if item.is_folder() => Ok(item.id),
                _ => Err(e),
            },
            Err(e) => Err(e),
        }
    }

    /// One `PUT` of `body` as the file at `path`.
    async fn simple_upload(&self, path: &StoragePath, body: bytes::Bytes, options: &UploadOptions) -> Result<Value> {
        let behavior = if options.overwrite { "replace" } else { "fail" };
        let send = |body: bytes::Bytes| async move {
            self.api
                .request(Method::PUT, &self.at(path, "content"))?
                .path_template("{drive}/root:/{path}:/content".to_owned())
                .query(&[("@microsoft.graph.conflictBehavior", behavior)])
                .body(body, options.mime())
                .operation("onedrive.upload")
                .idempotent()
                .send_json::<Value>()
                .await
        };
        match send(body.clone()).await {
            Err(e) if e.kind() == ErrorKind::NotFound => {
                self.ensure_folder(&path.parent().unwrap_or_default()).await?;
                send(body).await
            }
            other => other,
        }
    }

    /// An upload session for `path`: its URL.
    async fn session(&self, path: &StoragePath, options: &UploadOptions) -> Result<String> {
        let behavior = if options.overwrite { "replace" } else { "fail" };
        let body = json!({"item": {"@microsoft.graph.conflictBehavior": behavior}});
        let start = || async {
            self.api
                .request(Method::POST, &self.at(path, "createUploadSession"))?
                .path_template("{drive}/root:/{path}:/createUploadSession".to_owned())
                .json(&body)
                .operation("onedrive.create_upload_session")
                .send_json::<Value>()
                .await
        };
        let answer = match start().await {
            Err(e) if e.kind() == ErrorKind::NotFound => {
                self.ensure_folder(&path.parent().unwrap_or_default()).await?;
                start().await?
            }
            other => other?,
        };
        answer
            .get("uploadUrl")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| Error::invalid_response("an upload session without an uploadUrl").with_provider(PROVIDER))
    }

    async fn session_upload(
        &self,
        path: &StoragePath,
        parts: &mut Parts<'_>,
        total: u64,
        options: &UploadOptions,
    ) -> Result<Value> {
        let url = self.session(path, options).await?;
        let mut sent: u64 = 0;
        let mut pending = parts.next_part().await?.unwrap_or_default();
        loop {
            let next = if parts.finished() { None } else { parts.next_part().await? };
            let last = next.is_none();
            if last && let Err(e) = parts.check_md5(options.expected_md5.as_deref()) {
                if let Err(cancel) = self.plain.delete(&url).operation("onedrive.cancel_upload").send().await {
                    tracing::warn!(error = %cancel, "a OneDrive upload session could not be cancelled");
                }
                return Err(e);
            }
            let length = pending.len() as u64;
            if sent + length > total || (last && sent + length != total) {
                let _ = self.plain.delete(&url).operation("onedrive.cancel_upload").send().await;
                return Err(Error::validation(
                    "content",
                    format!("the content is not the {total} bytes it said it was"),
                ));
            }
            let range = format!("bytes {}-{}/{total}", sent, sent + length - 1);
            let answer = self
                .plain
                .put(&url)
                .header("Content-Range", &range)
                .body(pending, "application/octet-stream")
                .operation("onedrive.upload_fragment")
                .idempotent()
                .send()
                .await?;
            sent += length;
            if last {
                return answer.json();
            }
            pending = next.unwrap_or_default();
        }
    }

    /// Waits for the copy whose monitor is `monitor`; the copy's id.
    async fn await_copy(&self, monitor: &str) -> Result<String> {
        let deadline = tokio::time::Instant::now() + COPY_DEADLINE;
        let mut delay = Duration::from_millis(50);
        loop {
            let status: Value =
                self.plain.get(monitor).operation("onedrive.copy_status").read_only().send_json().await?;
            match status.get("status").and_then(Value::as_str) {
                Some("completed") => {
                    return status
                        .get("resourceId")
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                        .ok_or_else(|| Error::invalid_response("a completed copy without its resourceId"));
                }
                Some("failed") => {
                    return Err(
                        Error::new(ErrorKind::Provider, format!("the copy failed: {status}")).with_provider(PROVIDER)
                    );
                }
                _ if tokio::time::Instant::now() > deadline => {
                    return Err(Error::new(ErrorKind::Transient, "the copy did not finish in five minutes")
                        .with_provider(PROVIDER));
                }
                _ => {
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(5));
                }
            }
        }
    }
}

#[async_trait]
impl Integration for OneDrive {
    fn descriptor(&self) -> &Descriptor {
        &self.descriptor
    }

    async fn connect(&self) -> Result<ConnectionInfo> {
        let drive = self.get(&self.drive, "{drive}").await?;
        let id = drive.get("id").and_then(Value::as_str).unwrap_or_default().to_owned();
        let owner = drive.pointer("/owner/user/email").and_then(Value::as_str).map(str::to_owned);
        Ok(ConnectionInfo::with_account(id, owner))
    }

    async fn health_check(&self) -> Result<Health> {
        Ok(Health::probe(self.get(&self.drive, "{drive}")).await)
    }

    async fn read(&self, request: ReadRequest) -> Result<Page> {
        crate::streams::read(self, request).await
    }
}

fn quota_of(drive: &Value) -> Quota {
    let number = |p: &str| drive.pointer(p).and_then(Value::as_u64);
    Quota { used: number("/quota/used").unwrap_or(0), total: number("/quota/total"), trashed: number("/quota/deleted") }
}

#[async_trait]
impl Storage for OneDrive {
    async fn drives(&self) -> Result<Vec<Drive>> {
        let drive = self.get(&self.drive, "{drive}").await?;
        Ok(vec![Drive {
            id: drive.get("id").and_then(Value::as_str).unwrap_or_default().to_owned(),
            name: drive.get("name").and_then(Value::as_str).unwrap_or("OneDrive").to_owned(),
            kind: drive.get("driveType").and_then(Value::as_str).map(str::to_owned),
            owner: drive.pointer("/owner/user/email").and_then(Value::as_str).map(str::to_owned),
            quota: Some(quota_of(&drive)),
        }])
    }

    /// The walk takes a delta link before its first page and gives it with its last.
    async fn entries(&self, request: ListRequest) -> Result<Listing<Entry>> {
        let walk = match request.cursor.as_deref() {
            None => {
                let root = decode(self.get(&self.at(&StoragePath::root(), ""), "{drive}/root").await?)?;
                Walk::of_root(root.id, Some(self.latest_delta().await?))
            }
            Some(cursor) => Walk::resume(cursor)?,
        };
        walk.listing(self, request.limit(PAGE)).await
    }

    async fn changes(&self, request: ListRequest) -> Result<Listing<Entry>> {
        let Some(token) = request.sync_token.clone() else {
            return Err(Error::resync_required("no delta link yet: a full pass takes one"));
        };
        let link = request.cursor.clone().unwrap_or(token);
        let answer = match self.get(&link, "{drive}/root/delta").await {
            Ok(answer) => answer,
            Err(e) if e.status() == Some(410) => {
                return Err(Error::resync_required(format!("Graph no longer accepts the delta link: {e}")));
            }
            Err(e) => return Err(e),
        };
        let mut paths = Paths::default();
        let mut items = Vec::new();
        for raw in answer.get("value").and_then(Value::as_array).cloned().unwrap_or_default() {
            let item = decode(raw.clone())?;
            if item.deleted.is_some() {
                items.push(Remote::deleted(item.id.clone()));
                continue;
            }
            if item.root.is_some() {
                paths.insert(&item.id, Some(StoragePath::root()));
                continue;
            }
            let Some(parent) = item.parent().map(str::to_owned) else { continue };
            items.extend(paths.changed(self, &child_of(&item, raw), &parent).await?);
        }
        latest_of_each(&mut items);
        let next = answer.get("@odata.nextLink").and_then(Value::as_str).map(str::to_owned);
        let delta = answer.get("@odata.deltaLink").and_then(Value::as_str).map(str::to_owned);
        Ok(Listing::new(items, next).with_sync_token(delta))
    }

    async fn entry(&self, path: &StoragePath) -> Result<Remote<Entry>> {
        let (item, raw) = self.item_or_not_found(path).await?;
        Ok(Self::entry_of(&item, path.clone(), raw))
    }

    async fn download(&self, path: &StoragePath, range: Option<ByteRange>) -> Result<StreamingResponse> {
        let (item, _) = self.item_or_not_found(path).await?;
        let url = item
            .download_url
            .ok_or_else(|| Error::validation("path", format!("{path} is a folder, or Graph gave no download URL")))?;
        let request = self.plain.get(&url).operation("onedrive.download").read_only();
        crate::storage::send_ranged(request, range).await
    }

    async fn upload(
        &self,
        path: &StoragePath,
        content: &mut dyn Content,
        options: &UploadOptions,
    ) -> Result<Remote<Entry>> {
        if path.is_root() {
            return Err(Error::validation("path", "the root is a folder"));
        }
        check_names(path)?;
        let length = content.length();
        let mut parts = Parts::new(content, FRAGMENT_BYTES).with_sha256();
        let raw = match length {
            Some(total) if total as usize > SIMPLE_UPLOAD_BYTES => {
                self.session_upload(path, &mut parts, total, options).await?
            }
            _ => {
                let first = parts.next_part().await?.unwrap_or_default();
                if !parts.finished() || first.len() > SIMPLE_UPLOAD_BYTES {
                    let Some(total) = length else {
                        return Err(Error::validation(
                            "content",
                            "Graph's upload sessions need the content's length above 4 MiB",
                        ));
                    };
                    return Err(Error::validation(
                        "content",
                        format!("the content is longer than the {total} bytes it said"),
                    ));
                }
                parts.check_md5(options.expected_md5.as_deref())?;
                self.simple_upload(path, first, options).await?
            }
        };
        let item = decode(raw.clone())?;
        let reported = item.file.as_ref().and_then(|f| f.hashes.as_ref()).and_then(|h| h.sha256_hash.clone());
        let sent = parts.sha256_hex().unwrap_or_default();
        if item.size != Some(parts.total()) || reported.is_some_and(|h| !h.eq_ignore_ascii_case(&sent)) {
            return Err(Error::invalid_response(format!(
                "Graph stored {path} as {} bytes with another SHA-256 than the {} sent",
                item.size.unwrap_or(0),
                parts.total()
            ))
            .with_provider(PROVIDER));
        }
        let mut entry = if options.metadata.is_empty() {
            Self::entry_of(&item, path.clone(), raw)
        } else {
            self.api
                .request(Method::PATCH, &self.by_id(&item.id, "listItem/fields"))?
                .path_template("{drive}/items/{id}/listItem/fields".to_owned())
                .json(&options.metadata)
                .operation("onedrive.set_fields")
                .idempotent()
                .send()
                .await?;
            self.entry(path).await?
        };
        entry.fields.checksums.md5 = Some(parts.md5_hex());
        Ok(entry)
    }

    async fn create_folder(&self, path: &StoragePath) -> Result<Remote<Entry>> {
        self.ensure_folder(path).await?;
        self.entry(path).await
    }

    async fn copy(&self, from: &StoragePath, to: &StoragePath) -> Result<Remote<Entry>> {
        check_names(to)?;
        let (source, _) = self.item_or_not_found(from).await?;
        if self.item(to).await?.is_some() {
            self.delete(to).await?;
        }
        let name = to.name().ok_or_else(|| Error::validation("path", "the root cannot be written"))?;
        let parent = self.ensure_folder(&to.parent().unwrap_or_default()).await?;
        let body = json!({"parentReference": {"id": parent}, "name": name});
        let answer = self
            .api
            .request(Method::POST, &self.by_id(&source.id, "copy"))?
            .path_template("{drive}/items/{id}/copy".to_owned())
            .json(&body)
            .operation("onedrive.copy")
            .send()
            .await?;
        let monitor = answer
            .header("location")
            .map(str::to_owned)
            .ok_or_else(|| Error::invalid_response("a copy without a monitor URL").with_provider(PROVIDER))?;
        self.await_copy(&monitor).await?;
        self.entry(to).await
    }

    async fn move_to(&self, from: &StoragePath, to: &StoragePath) -> Result<Remote<Entry>> {
        check_names(to)?;
        let (source, _) = self.item_or_not_found(from).await?;
        if self.item(to).await?.is_some() {
            return Err(Error::conflict(format!("{to} exists; nothing was moved")).with_provider(PROVIDER));
        }
        let name = to.name().ok_or_else(|| Error::validation("path", "the root cannot be written"))?;
        let parent = self.ensure_folder(&to.parent().unwrap_or_default()).await?;
        let body =
            json!({"parentReference": {"id": parent}, "name": name, "@microsoft.graph.conflictBehavior": "fail"});
        let raw: Value = self
            .api
            .request(Method::PATCH, &self.by_id(&source.id, ""))?
            .path_template("{drive}/items/{id}".to_owned())
            .json(&body)
            .operation("onedrive.move")
            .send_json()
            .await?;
        Ok(Self::entry_of(&decode(raw.clone())?, to.clone(), raw))
    }

    async fn delete(&self, path: &StoragePath) -> Result<()> {
        if path.is_root() {
            return Err(Error::validation("path", "the drive's root is not deleted"));
        }
        match self
            .api
            .request(Method::DELETE, &self.at(path, ""))?
            .path_template("{drive}/root:/{path}:".to_owned())
            .send()
            .await
        {
            Err(e) if e.kind() != ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    async fn versions(&self, path: &StoragePath) -> Result<Vec<Version>> {
        let answer = self.get(&self.at(path, "versions"), "{drive}/root:/{path}:/versions").await?;
        let values = answer.get("value").and_then(Value::as_array).cloned().unwrap_or_default();
        Ok(values
            .iter()
            .enumerate()
            .map(|(i, v)| Version {
                version_id: v.get("id").and_then(Value::as_str).unwrap_or_default().to_owned(),
                size: v.get("size").and_then(Value::as_u64),
                modified_at: v
                    .get("lastModifiedDateTime")
                    .and_then(Value::as_str)
                    .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                    .map(|t| t.to_utc()),
                is_latest: i == 0,
                is_deletion: false,
            })
            .collect())
    }

    async fn restore_version(&self, path: &StoragePath, version_id: &str) -> Result<Remote<Entry>> {
        let (item, _) = self.item_or_not_found(path).await?;
        let version: String = utf8_percent_encode(version_id, SEGMENT).to_string();
        self.api
            .request(Method::POST, &self.by_id(&item.id, &format!("versions/{version}/restoreVersion")))?
            .path_template("{drive}/items/{id}/versions/{version}/restoreVersion".to_owned())
            .operation("onedrive.restore_version")
            .send()
            .await?;
        self.entry(path).await
    }

    async fn permissions(&self, path: &StoragePath) -> Result<Vec<Permission>> {
        let answer = self.get(&self.at(path, "permissions"), "{drive}/root:/{path}:/permissions").await?;
        Ok(answer.get("value").and_then(Value::as_array).into_iter().flatten().filter_map(permission_of).collect())
    }

    async fn grant(
        &self,
        path: &StoragePath,
        grantee: &Grantee,
        role: &Role,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<Permission> {
        let email = match grantee {
            Grantee::User { id } | Grantee::Group { id } => id.clone(),
            _ => {
                return Err(Error::validation(
                    "grantee",
                    "Graph grants people and groups; make a link for anyone or an organization",
                ));
            }
        };
        let role = match role {
            Role::Reader | Role::Commenter => "read",
            Role::Writer => "write",
            _ => return Err(Error::validation("role", "Graph invitations grant read or write")),
        };
        let mut body =
            json!({"recipients": [{"email": email}], "roles": [role], "requireSignIn": true, "sendInvitation": false});
        if let Some(at) = expires_at {
            body["expirationDateTime"] = json!(at.to_rfc3339());
        }
        let answer: Value = self
            .api
            .request(Method::POST, &self.at(path, "invite"))?
            .path_template("{drive}/root:/{path}:/invite".to_owned())
            .json(&body)
            .operation("onedrive.invite")
            .send_json()
            .await?;
        answer
            .pointer("/value/0")
            .and_then(permission_of)
            .ok_or_else(|| Error::invalid_response("an invitation without a permission"))
    }

    async fn revoke(&self, path: &StoragePath, permission_id: &str) -> Result<()> {
        let id: String = utf8_percent_encode(permission_id, SEGMENT).to_string();
        match self
            .api
            .request(Method::DELETE, &self.at(path, &format!("permissions/{id}")))?
            .path_template("{drive}/root:/{path}:/permissions/{id}".to_owned())
            .send()
            .await
        {
            Err(e) if e.kind() != ErrorKind::NotFound => Err(e),
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
        let scope = match audience {
            Grantee::Anyone => "anonymous",
            Grantee::Domain { .. } => "organization",
            _ => {
                return Err(Error::validation(
                    "audience",
                    "a link is for anyone or the organization; invite people instead",
                ));
            }
        };
        let kind = match role {
            Role::Reader | Role::Commenter => "view",
            Role::Writer => "edit",
            _ => return Err(Error::validation("role", "Graph links view or edit")),
        };
        let mut body = json!({"type": kind, "scope": scope});
        if let Some(at) = expires_at {
            body["expirationDateTime"] = json!(at.to_rfc3339());
        }
        let answer: Value = self
            .api
            .request(Method::POST, &self.at(path, "createLink"))?
            .path_template("{drive}/root:/{path}:/createLink".to_owned())
            .json(&body)
            .operation("onedrive.create_link")
            .send_json()
            .await?;
        let url = answer
            .pointer("/link/webUrl")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::invalid_response("a link without its webUrl"))?;
        Ok(ShareLink { url: url.to_owned(), audience: audience.clone(), role: role.clone(), expires_at })
    }

    async fn quota(&self) -> Result<Quota> {
        Ok(quota_of(&self.get(&self.drive, "{drive}").await?))
    }

    async fn search(&self, search: &Search) -> Result<Vec<Remote<Entry>>> {
        let Some(text) = search.name_contains.clone() else {
            // Graph searches text: without a name to look for, the tree is walked.
            return crate::storage::walk_search(self, search, true).await;
        };
        let text = text.replace('\'', "''");
        let encoded: String = utf8_percent_encode(&text, SEGMENT).to_string();
        let mut link = format!("{}/root/search(q='{encoded}')", self.drive);
        let mut paths = Paths::default();
        let mut out = Vec::new();
        for _ in 0..1_000 {
            let answer = self.get(&link, "{drive}/root/search").await?;
            for raw in answer.get("value").and_then(Value::as_array).cloned().unwrap_or_default() {
                let item = decode(raw.clone())?;
                let Some(parent) = item.parent().map(str::to_owned) else { continue };
                let Some(folder) = paths.of(self, &parent).await? else { continue };
                let path = folder.join_path(&StoragePath::from_remote_names([item.name.as_str()])?)?;
                let mut entry = Self::entry_of(&item, path, raw);
                if search.needs_lookup() && search.matches_place(&entry) {
                    // Search results leave the library's fields out.
                    entry = self.entry(&entry.fields.path).await?;
                }
                if search.matches(&entry) {
                    out.push(entry);
                    if out.len() >= search.limit() {
                        return Ok(out);
                    }
                }
            }
            match answer.get("@odata.nextLink").and_then(Value::as_str) {
                Some(next) => link = next.to_owned(),
                None => break,
            }
        }
        Ok(out)
    }
}
