//! Dropbox, through its API v2
//! (<https://www.dropbox.com/developers/documentation/http/documentation>):
//!
//! - the HTTP shape — RPC calls on `https://api.dropboxapi.com/2`, OAuth2 (authorization code,
//!   refresh tokens), the error summary at `/error_summary` — is the catalog's spec
//!   (`integration-core/catalog/dropbox.toml`); content calls go to `content_url`
//!   (`https://content.dropboxapi.com/2`), their arguments in `Dropbox-API-Arg` (JSON with every
//!   character past ASCII escaped, as Dropbox requires);
//! - errors: Dropbox answers `409` with an `error_summary` for what an endpoint refuses — read
//!   here into `NotFound` (`…/not_found`), `Conflict` (`…/conflict`), `ResyncRequired`
//!   (`reset`) or `Validation` (`malformed_path`, `disallowed_name`);
//! - ids: Dropbox reports deletions by path, so record ids are `path_lower`: a moved file is a
//!   deletion and an addition;
//! - entries: `list_folder` (recursive, 2,000 a page) and `list_folder/continue`; the cursor of
//!   the last page is the next pass's change cursor;
//! - changes: `list_folder/continue` from that cursor; `deleted` entries are tombstones, and
//!   what the cache holds under their path goes with them; a cursor Dropbox resets is
//!   `ResyncRequired`;
//! - uploads: up to 8 MiB one `files/upload`; above, an upload session (`start`, `append_v2`,
//!   `finish`) in 8 MiB parts — one in memory —, the `finish` held back until the content's MD5
//!   is known (a wrong one finishes nothing: no file). Dropbox's `content_hash` (the SHA-256 of
//!   each 4 MiB block's SHA-256) is computed on the way, sent with the commit for Dropbox to
//!   check, and compared with the stored file's;
//! - downloads: `files/download`, ranged; copies and moves: `copy_v2`, `move_v2`; versions:
//!   `list_revisions` and `restore`; links: `sharing/create_shared_link_with_settings`
//!   (`public` or `team_only`, `viewer` or `editor`, an expiry); quota:
//!   `users/get_space_usage`; search: `search_v2`.
//!
//! Configuration: secrets `client_id` (the app key), `client_secret` (the app secret) and
//! (when authorized elsewhere) `refresh_token`; optional `base_url`, `content_url` and
//! `auth_base_url`.
//!
//! Not supported: per-user permissions (Dropbox shares files and folders with members through
//! its sharing API's own model), metadata on files (file properties need templates).
//!
//! A folder deleted (or moved away) is reported by Dropbox once, not with what it held, and a
//! `deleted` entry does not say whether it was a folder: every deletion also names its path as
//! a prefix ([`Listing::deleted_under`]), and the sync engine deletes the cached records under
//! it.

use integration_core::domain::ListRequest;
use integration_core::http::Method;
use integration_core::spec::{SpecClient, shared_catalog_spec};
use sha2::Digest as _;

use crate::prelude::*;

/// The provider id.
pub const PROVIDER: &str = "dropbox";

/// Content up to this size goes in one `files/upload`; above, in session parts of this size (a
/// multiple of Dropbox's 4 MiB hash block).
pub const PART_BYTES: usize = 8 << 20;

/// Dropbox's content hash block.
const BLOCK: usize = 4 << 20;

/// Entries a page.
const PAGE: u32 = 2_000;

/// The Dropbox adapter for one connection (one Dropbox account).
#[derive(Debug)]
pub struct Dropbox {
    descriptor: Descriptor,
    api: SpecClient,
    /// The content host's API root.
    content: String,
}

impl Adapter for Dropbox {
    fn describe() -> Result<Descriptor> {
        let capabilities = [
            capability::CHANGES,
            capability::WRITE,
            capability::VERSIONS,
            capability::SHARE_LINKS,
            capability::QUOTA,
            capability::SEARCH,
            Capability::HEALTH_CHECK,
        ];
        let spec = shared_catalog_spec(PROVIDER).ok_or_else(|| Error::config("no Dropbox spec in the catalog"))?;
        spec.descriptor_builder()
            .streams(crate::streams::descriptors(&capabilities))
            .capabilities(capabilities)
            .optional_setting(
                "content_url",
                FieldFormat::HttpsUrl,
                "the content host (default https://content.dropboxapi.com/2)",
            )
            .build()
    }

    fn from_config(config: &IntegrationConfig, context: &BuildContext) -> Result<Self> {
        let descriptor = Self::describe()?;
        let spec = shared_catalog_spec(PROVIDER).ok_or_else(|| Error::config("no Dropbox spec in the catalog"))?;
        let api = SpecClient::for_adapter(spec, descriptor.clone(), config, context)?;
        let content = config.setting_url("content_url", Some("https://content.dropboxapi.com/2"))?.to_string();
        Ok(Self { descriptor, api, content: content.trim_end_matches('/').to_owned() })
    }
}

/// JSON for a `Dropbox-API-Arg` header: every character past ASCII escaped.
fn header_json(value: &Value) -> String {
    let mut out = String::new();
    for c in value.to_string().chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

/// A Dropbox path for `path` (`""` for the root).
fn dropbox_path(path: &StoragePath) -> String {
    if path.is_root() { String::new() } else { format!("/{}", path.to_remote()) }
}

/// What an endpoint's `409` (or `400`) means.
fn refusal(status: u16, body: &[u8], operation: &str) -> Error {
    let json: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let summary = json
        .get("error_summary")
        .and_then(Value::as_str)
        .map_or_else(|| String::from_utf8_lossy(body).chars().take(300).collect(), str::to_owned);
    let kind = if status == 409 {
        if summary.contains("not_found") {
            ErrorKind::NotFound
        } else if summary.starts_with("reset") {
            ErrorKind::ResyncRequired
        } else if summary.contains("malformed_path") || summary.contains("disallowed_name") {
            ErrorKind::Validation
        } else if summary.contains("conflict")
            || summary.contains("already_exists")
            || summary.contains("incorrect_offset")
        {
            ErrorKind::Conflict
        } else {
            ErrorKind::Provider
        }
    } else {
        ErrorKind::Validation
    };
    let mut error = Error::new(kind, format!("Dropbox refused {operation}: {summary}"))
        .with_provider(PROVIDER)
        .with_operation(operation.to_owned())
        .with_status(status)
        .with_body(body);
    if kind == ErrorKind::Validation {
        error = error.with_field("path");
    }
    error
}

fn decode_time(value: Option<&Value>) -> Option<DateTime<Utc>> {
    value.and_then(Value::as_str).and_then(|t| DateTime::parse_from_rfc3339(t).ok()).map(|t| t.to_utc())
}

/// A metadata entry as a record; `None` for the root.
fn entry_of(raw: &Value) -> Result<Option<Remote<Entry>>> {
    let lower = raw.get("path_lower").and_then(Value::as_str).unwrap_or_default();
    if lower.is_empty() {
        return Ok(None);
    }
    let tag = raw.get(".tag").and_then(Value::as_str).unwrap_or_default();
    if tag == "deleted" {
        return Ok(Some(Remote::deleted(lower)));
    }
    let display = raw.get("path_display").and_then(Value::as_str).unwrap_or(lower);
    let folder = tag == "folder";
    let mut other = std::collections::BTreeMap::new();
    if let Some(hash) = raw.get("content_hash").and_then(Value::as_str) {
        other.insert("dropbox_content_hash".to_owned(), hash.to_owned());
    }
    let fields = Entry {
        path: StoragePath::from_remote(display)?,
        kind: if folder { EntryKind::Folder } else { EntryKind::File },
        size: if folder { None } else { raw.get("size").and_then(Value::as_u64) },
        checksums: Checksums { other, ..Checksums::default() },
        etag: raw.get("rev").and_then(Value::as_str).map(str::to_owned),
        ..Entry::default()
    };
    Ok(Some(Remote::new(lower, fields).modified(decode_time(raw.get("server_modified"))).with_remote_data(raw.clone())))
}

/// Dropbox's content hash, block by block.
#[derive(Debug, Default)]
struct ContentHash {
    all: sha2::Sha256,
    block: sha2::Sha256,
    in_block: usize,
}

impl ContentHash {
    fn update(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            let take = (BLOCK - self.in_block).min(bytes.len());
            self.block.update(&bytes[..take]);
            self.in_block += take;
            bytes = &bytes[take..];
            if self.in_block == BLOCK {
                let block = std::mem::take(&mut self.block).finalize();
                self.all.update(block);
                self.in_block = 0;
            }
        }
    }

    fn hex(&self) -> String {
        let mut all = self.all.clone();
        if self.in_block > 0 {
            all.update(self.block.clone().finalize());
        }
        integration_core::hex::encode(&all.finalize())
    }
}

impl Dropbox {
    /// An RPC call: `POST /{name}` with `args`; its answer.
    async fn rpc(&self, name: &str, args: &Value) -> Result<Value> {
        let answer = self
            .api
            .request(Method::POST, &format!("/{name}"))?
            .path_template(format!("/{name}"))
            .json(args)
            .operation(format!("dropbox.{name}"))
            .accept_client_errors()
            .send()
            .await?;
        match answer.status().as_u16() {
            200..=299 => {
                if answer.bytes().is_empty() {
                    return Ok(Value::Null);
                }
                answer.json()
            }
            status => Err(refusal(status, answer.bytes(), name)),
        }
    }

    /// A content call's request: `POST {content}/{name}` with `args` in `Dropbox-API-Arg`.
    fn content_request(&self, name: &str, args: &Value) -> integration_core::http::Request<'_> {
        self.api
            .provider_client()
            .post(format!("{}/{name}", self.content))
            .header("Dropbox-API-Arg", &header_json(args))
            .operation(format!("dropbox.{name}"))
    }

    /// A content upload call with `body`; its JSON answer.
    async fn content_call(&self, name: &str, args: &Value, body: bytes::Bytes) -> Result<Value> {
        let answer = self
            .content_request(name, args)
            .body(body, "application/octet-stream")
            .accept_client_errors()
            .send()
            .await?;
        match answer.status().as_u16() {
            200..=299 if answer.bytes().is_empty() || answer.bytes()[..] == b"null"[..] => Ok(Value::Null),
            200..=299 => answer.json(),
            status => Err(refusal(status, answer.bytes(), name)),
        }
    }

    /// A listing page: the first of `list_folder`, or the one after `cursor`.
    async fn list_page(&self, cursor: Option<&str>, limit: u32) -> Result<Value> {
        match cursor {
            None => {
                let args =
                    json!({"path": "", "recursive": true, "include_deleted": false, "limit": limit.clamp(1, 2000)});
                self.rpc("files/list_folder", &args).await
            }
            Some(cursor) => self.rpc("files/list_folder/continue", &json!({"cursor": cursor})).await,
        }
    }

    /// A listing page: its entries (tombstones with `include_deleted`), and the cursor — to the
    /// next page while Dropbox has more, else the next pass's change cursor.
    fn page_of(answer: &Value, include_deleted: bool) -> Result<Listing<Entry>> {
        let mut items = Vec::new();
        let mut deleted = Vec::new();
        for raw in answer.get("entries").and_then(Value::as_array).into_iter().flatten() {
            match entry_of(raw)? {
                Some(entry) if entry.remote_was_deleted && include_deleted => {
                    // Dropbox reports a deleted folder alone (and does not say it was one):
                    // whatever the cache holds under its path goes with it.
                    deleted.push(format!("{}/", entry.remote_id));
                    items.push(entry);
                }
                Some(entry) if !entry.remote_was_deleted => items.push(entry),
                _ => {}
            }
        }
        let cursor = answer.get("cursor").and_then(Value::as_str).map(str::to_owned);
        let more = answer.get("has_more").and_then(Value::as_bool).unwrap_or(false);
        let (next, token) = if more { (cursor, None) } else { (None, cursor) };
        Ok(deleted.into_iter().fold(Listing::new(items, next).with_sync_token(token), Listing::with_deleted_under))
    }

    async fn metadata(&self, path: &StoragePath) -> Result<Option<Value>> {
        if path.is_root() {
            return Ok(Some(json!({".tag": "folder", "path_lower": "", "path_display": ""})));
        }
        match self.rpc("files/get_metadata", &json!({"path": dropbox_path(path)})).await {
            Ok(raw) => Ok(Some(raw)),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn record(raw: &Value, path: &StoragePath) -> Result<Remote<Entry>> {
        entry_of(raw)?.ok_or_else(|| Error::invalid_response(format!("Dropbox answered {path} without its path")))
    }
}

#[async_trait]
impl Integration for Dropbox {
    fn descriptor(&self) -> &Descriptor {
        &self.descriptor
    }

    async fn connect(&self) -> Result<ConnectionInfo> {
        let account = self.rpc("users/get_current_account", &Value::Null).await?;
        let id = account.get("account_id").and_then(Value::as_str).unwrap_or_default().to_owned();
        let email = account.get("email").and_then(Value::as_str).map(str::to_owned);
        Ok(ConnectionInfo::with_account(id, email))
    }

    async fn health_check(&self) -> Result<Health> {
        Ok(Health::probe(self.rpc("users/get_current_account", &Value::Null)).await)
    }

    async fn read(&self, request: ReadRequest) -> Result<Page> {
        crate::streams::read(self, request).await
    }
}

#[async_trait]
impl Storage for Dropbox {
    async fn drives(&self) -> Result<Vec<Drive>> {
        let account = self.rpc("users/get_current_account", &Value::Null).await?;
        Ok(vec![Drive {
            id: account.get("account_id").and_then(Value::as_str).unwrap_or_default().to_owned(),
            name: account.pointer("/name/display_name").and_then(Value::as_str).unwrap_or("Dropbox").to_owned(),
            kind: Some("dropbox".into()),
            owner: account.get("email").and_then(Value::as_str).map(str::to_owned),
            quota: Some(self.quota().await?),
        }])
    }

    /// `list_folder`, recursive; the last page's cursor is the next pass's change cursor.
    async fn entries(&self, request: ListRequest) -> Result<Listing<Entry>> {
        let answer = self.list_page(request.cursor.as_deref(), request.limit(PAGE)).await?;
        Self::page_of(&answer, false)
    }

    async fn changes(&self, request: ListRequest) -> Result<Listing<Entry>> {
        let Some(token) = request.sync_token.clone() else {
            return Err(Error::resync_required("no Dropbox cursor yet: a full pass takes one"));
        };
        let cursor = request.cursor.clone().unwrap_or(token);
        let answer = self.list_page(Some(&cursor), PAGE).await?;
        Self::page_of(&answer, true)
    }

    async fn entry(&self, path: &StoragePath) -> Result<Remote<Entry>> {
        if path.is_root() {
            return Ok(Remote::new("", Entry { kind: EntryKind::Folder, ..Entry::default() }));
        }
        let raw = self
            .metadata(path)
            .await?
            .ok_or_else(|| Error::not_found(format!("nothing at {path}")).with_provider(PROVIDER))?;
        Self::record(&raw, path)
    }

    async fn download(&self, path: &StoragePath, range: Option<ByteRange>) -> Result<StreamingResponse> {
        let request = self.content_request("files/download", &json!({"path": dropbox_path(path)})).read_only();
        crate::storage::send_ranged(request, range).await.map_err(|e| match e.status() {
            Some(409) => Error::not_found(format!("nothing to download at {path}")).with_provider(PROVIDER),
            _ => e,
        })
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
        if !options.metadata.is_empty() {
            return Err(Error::unsupported("metadata on Dropbox files").with_provider(PROVIDER));
        }
        let mode = if options.overwrite { "overwrite" } else { "add" };
        let mut parts = Parts::new(content, PART_BYTES);
        let mut hash = ContentHash::default();
        let first = parts.next_part().await?.unwrap_or_default();
        hash.update(&first);
        let raw = if parts.finished() {
            parts.check_md5(options.expected_md5.as_deref())?;
            let args = json!({"path": dropbox_path(path), "mode": mode, "autorename": false, "mute": true,
                              "content_hash": hash.hex()});
            self.content_call("files/upload", &args, first).await?
        } else {
            let started =
                self.content_call("files/upload_session/start", &json!({"close": false}), first.clone()).await?;
            let session = started
                .get("session_id")
                .and_then(Value::as_str)
                .ok_or_else(|| Error::invalid_response("an upload session without its id"))?
                .to_owned();
            let mut offset = first.len() as u64;
            let mut pending = parts.next_part().await?.unwrap_or_default();
            hash.update(&pending);
            loop {
                let next = if parts.finished() { None } else { parts.next_part().await? };
                if let Some(part) = &next {
                    hash.update(part);
                }
                let cursor = json!({"session_id": session, "offset": offset});
                let length = pending.len() as u64;
                if next.is_none() {
                    // Nothing is made of a content whose MD5 is wrong: the session is not
                    // finished (Dropbox forgets it).
                    parts.check_md5(options.expected_md5.as_deref())?;
                    let args = json!({"cursor": cursor, "commit": {"path": dropbox_path(path), "mode": mode,
                        "autorename": false, "mute": true}, "content_hash": hash.hex()});
                    break self.content_call("files/upload_session/finish", &args, pending).await?;
                }
                self.content_call(
                    "files/upload_session/append_v2",
                    &json!({"cursor": cursor, "close": false}),
                    pending,
                )
                .await?;
                offset += length;
                pending = next.unwrap_or_default();
            }
        };
        let mut entry = Self::record(&raw, path)?;
        let stored = entry.fields.checksums.other.get("dropbox_content_hash").cloned();
        if stored.as_deref().is_some_and(|h| h != hash.hex()) || entry.fields.size != Some(parts.total()) {
            return Err(Error::invalid_response(format!("Dropbox stored {path} other than it was sent"))
                .with_provider(PROVIDER));
        }
        entry.fields.checksums.md5 = Some(parts.md5_hex());
        Ok(entry)
    }

    async fn create_folder(&self, path: &StoragePath) -> Result<Remote<Entry>> {
        if path.is_root() {
            return self.entry(path).await;
        }
        match self.rpc("files/create_folder_v2", &json!({"path": dropbox_path(path), "autorename": false})).await {
            Ok(made) => Self::record(made.get("metadata").unwrap_or(&Value::Null), path),
            Err(e) if e.kind() == ErrorKind::Conflict => {
                let there = self.entry(path).await?;
                if there.fields.kind == EntryKind::Folder { Ok(there) } else { Err(e) }
            }
            Err(e) => Err(e),
        }
    }

    async fn copy(&self, from: &StoragePath, to: &StoragePath) -> Result<Remote<Entry>> {
        if self.metadata(to).await?.is_some() {
            self.delete(to).await?;
        }
        let args = json!({"from_path": dropbox_path(from), "to_path": dropbox_path(to), "autorename": false});
        let made = self.rpc("files/copy_v2", &args).await?;
        Self::record(made.get("metadata").unwrap_or(&Value::Null), to)
    }

    async fn move_to(&self, from: &StoragePath, to: &StoragePath) -> Result<Remote<Entry>> {
        let args = json!({"from_path": dropbox_path(from), "to_path": dropbox_path(to), "autorename": false});
        let moved = self.rpc("files/move_v2", &args).await.map_err(|e| match e.kind() {
            ErrorKind::Conflict => Error::conflict(format!("{to} exists; nothing was moved")).with_provider(PROVIDER),
            _ => e,
        })?;
        Self::record(moved.get("metadata").unwrap_or(&Value::Null), to)
    }

    async fn delete(&self, path: &StoragePath) -> Result<()> {
        if path.is_root() {
            return Err(Error::validation("path", "the account's root is not deleted"));
        }
        match self.rpc("files/delete_v2", &json!({"path": dropbox_path(path)})).await {
            Err(e) if e.kind() != ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    async fn versions(&self, path: &StoragePath) -> Result<Vec<Version>> {
        let answer = self.rpc("files/list_revisions", &json!({"path": dropbox_path(path), "limit": 100})).await?;
        Ok(answer
            .get("entries")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
            .map(|(i, r)| Version {
                version_id: r.get("rev").and_then(Value::as_str).unwrap_or_default().to_owned(),
                size: r.get("size").and_then(Value::as_u64),
                modified_at: decode_time(r.get("server_modified")),
                is_latest: i == 0,
                is_deletion: false,
            })
            .collect())
    }

    async fn restore_version(&self, path: &StoragePath, version_id: &str) -> Result<Remote<Entry>> {
        let raw = self.rpc("files/restore", &json!({"path": dropbox_path(path), "rev": version_id})).await?;
        Self::record(&raw, path)
    }

    async fn share_link(
        &self,
        path: &StoragePath,
        audience: &Grantee,
        role: &Role,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<ShareLink> {
        let visibility = match audience {
            Grantee::Anyone => "public",
            Grantee::Domain { .. } => "team_only",
            _ => return Err(Error::validation("audience", "a Dropbox link is for anyone or the team")),
        };
        let access = match role {
            Role::Reader | Role::Commenter => "viewer",
            Role::Writer => "editor",
            _ => return Err(Error::validation("role", "Dropbox links view or edit")),
        };
        let mut settings = json!({"requested_visibility": visibility, "access": access});
        if let Some(at) = expires_at {
            settings["expires"] = json!(at.format("%Y-%m-%dT%H:%M:%SZ").to_string());
        }
        let link = self
            .rpc("sharing/create_shared_link_with_settings", &json!({"path": dropbox_path(path), "settings": settings}))
            .await?;
        let url =
            link.get("url").and_then(Value::as_str).ok_or_else(|| Error::invalid_response("a link without its url"))?;
        Ok(ShareLink { url: url.to_owned(), audience: audience.clone(), role: role.clone(), expires_at })
    }

    async fn quota(&self) -> Result<Quota> {
        let usage = self.rpc("users/get_space_usage", &Value::Null).await?;
        Ok(Quota {
            used: usage.get("used").and_then(Value::as_u64).unwrap_or(0),
            total: usage.pointer("/allocation/allocated").and_then(Value::as_u64),
            trashed: None,
        })
    }

    async fn search(&self, search: &Search) -> Result<Vec<Remote<Entry>>> {
        if search.name_contains.as_deref().is_none_or(str::is_empty) {
            // Dropbox searches text: without a name to look for, the tree is walked.
            return crate::storage::walk_search(self, search, false).await;
        }
        let mut options = json!({"max_results": search.limit().clamp(1, 1000), "file_status": "active"});
        if let Some(under) = &search.under {
            options["path"] = json!(dropbox_path(under));
        }
        let args = json!({"query": search.name_contains.clone().unwrap_or_default(), "options": options});
        let answer = self.rpc("files/search_v2", &args).await?;
        let mut out = Vec::new();
        for found in answer.get("matches").and_then(Value::as_array).into_iter().flatten() {
            let Some(raw) = found.pointer("/metadata/metadata") else { continue };
            if let Some(entry) = entry_of(raw)?.filter(|e| search.matches(e)) {
                out.push(entry);
            }
        }
        out.truncate(search.limit());
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_json_escapes_what_is_not_ascii() {
        let value = json!({"path": "/Café ☕/😀.txt"});
        let text = header_json(&value);
        assert!(text.is_ascii(), "{text}");
        assert_eq!(serde_json::from_str::<Value>(&text).expect("JSON"), value);
        assert!(text.contains("\\ud83d\\ude00"), "a surrogate pair: {text}");
    }

    #[test]
    fn the_content_hash_is_dropboxs() {
        // An empty file has no block: the hash of nothing.
        assert_eq!(ContentHash::default().hex(), integration_core::hex::encode(&sha2::Sha256::digest([0u8; 0])));
        let content = vec![3u8; BLOCK + 10];
        let mut hash = ContentHash::default();
        hash.update(&content[..7]);
        hash.update(&content[7..]);
        let mut expected = sha2::Sha256::new();
        expected.update(sha2::Sha256::digest(&content[..BLOCK]));
        expected.update(sha2::Sha256::digest(&content[BLOCK..]));
        assert_eq!(hash.hex(), integration_core::hex::encode(&expected.finalize()));
    }
}
