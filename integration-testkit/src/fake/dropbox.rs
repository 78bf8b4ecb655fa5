//! [`FakeDropbox`]: Dropbox API v2 on loopback, following its HTTP documentation
//! (<https://www.dropbox.com/developers/documentation/http/documentation>), over a
//! [`FileTree`]: RPC endpoints (`POST` with a JSON body) under `/2/…` and content endpoints
//! (arguments in the `Dropbox-API-Arg` header, which must be ASCII: other characters escaped
//! `\uXXXX`) under `/content/2/…` (Dropbox's `content.dropboxapi.com`).
//!
//! | endpoint | what it serves |
//! |---|---|
//! | `users/get_current_account`, `users/get_space_usage` | the account; `used` and `allocation.allocated` |
//! | `files/list_folder`, `files/list_folder/continue`, `files/list_folder/get_latest_cursor` | `path` (`""` the root), `recursive`, `limit` (1–2000); `cursor`, `has_more`; a cursor lists what changed since it was given: `file`, `folder` and `deleted` entries — a deleted folder reported once, not what it held, as Dropbox does; an expired cursor is `409 reset` |
//! | `files/get_metadata` | an entry; `409 path/not_found` |
//! | `files/create_folder_v2`, `files/delete_v2`, `files/copy_v2`, `files/move_v2` | `409 path/conflict`, `to/conflict`, `path_lookup/not_found`, `from_lookup/not_found` |
//! | `files/list_revisions`, `files/restore` | a file's revisions (`rev`), newest first; a restore makes a new one |
//! | `files/search_v2` | `query` in names, `options.path`, `max_results` |
//! | `sharing/create_shared_link_with_settings` | `requested_visibility` `public` or `team_only`, `access` `viewer` or `editor`, `expires`; a link already there is `409 shared_link_already_exists` |
//! | `content/2/files/download` | the content, `Range` honoured, metadata in `Dropbox-API-Result` |
//! | `content/2/files/upload` | up to 150 MiB; `mode` `add` (a file there: `409 path/conflict`) or `overwrite`; `content_hash` checked (`400 content_hash_mismatch`) |
//! | `content/2/files/upload_session/start`, `…/append_v2`, `…/finish` | sessions: an `offset` other than what arrived is `409 incorrect_offset` (with the right one) |
//! | `POST /oauth2/token` | the refresh-token grant |
//!
//! Paths are case-insensitive (`path_lower`) and case-preserving (`path_display`); ids are
//! `id:…`; `content_hash` is Dropbox's: the SHA-256 of the SHA-256s of each 4 MiB block.
//! Errors are Dropbox's (`{"error_summary", "error": {".tag", …}}`); every call needs a live
//! bearer token (`401 invalid_access_token` otherwise).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use integration_core::{ConnectionId, Domain, IntegrationConfig, TenantId};
use serde_json::{Value, json};
use sha2::Digest as _;

use super::app::FakeApi;
use super::auth::{Auth, OAuthClient, TokenIssuer, oauth_config};
use super::faults::Faults;
use super::file_tree::{FileTree, Item, ROOT};
use super::server::FakeServer;

/// The app key (OAuth2 client id).
pub const CLIENT_ID: &str = "fakedropboxappkey";
/// The app secret.
pub const CLIENT_SECRET: &str = "fakedropboxappsecret";
/// The refresh token the fake accepts.
pub const REFRESH_TOKEN: &str = "fake-dropbox-refresh-token-AAAAAAAAAAA";
/// The account's email.
pub const USER: &str = "ada@example.com";
/// The account's allocation, in bytes.
pub const ALLOCATION: u64 = 2 << 40;
/// Dropbox's content hash block.
pub const BLOCK: usize = 4 << 20;
const MAX_UPLOAD: usize = 150 << 20;

/// Dropbox's content hash of `content`: the SHA-256 of each 4 MiB block's SHA-256, hex.
pub fn content_hash(content: &[u8]) -> String {
    let mut all = sha2::Sha256::new();
    for block in content.chunks(BLOCK) {
        all.update(sha2::Sha256::digest(block));
    }
    integration_core::hex::encode(&all.finalize())
}

#[derive(Debug)]
struct Books {
    tree: FileTree,
    sessions: HashMap<String, Vec<u8>>,
    /// Cursors below this change are expired.
    oldest: u64,
    links: HashMap<String, Value>,
}

#[derive(Debug, Clone)]
struct Shared {
    books: Arc<Mutex<Books>>,
    api: FakeApi,
    issuer: TokenIssuer,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Books> {
        self.books.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn conflict(summary: &str, error: Value) -> Response {
    (StatusCode::CONFLICT, Json(json!({"error_summary": format!("{summary}/.."), "error": error}))).into_response()
}

fn lookup(tag: &str, what: &str) -> Response {
    conflict(&format!("{tag}/{what}"), json!({".tag": tag, tag: {".tag": what}}))
}

fn bad_input(message: &str) -> Response {
    (StatusCode::BAD_REQUEST, format!("Error in call to API function: {message}")).into_response()
}

/// `path` as names (`""` and `"/"` the root); `None` for a path Dropbox refuses.
fn names(path: &str) -> Option<Vec<String>> {
    if path.is_empty() || path == "/" {
        return Some(Vec::new());
    }
    if path.starts_with("id:") {
        return None;
    }
    let trimmed = path.strip_prefix('/')?;
    let names: Vec<String> = trimmed.split('/').map(str::to_owned).collect();
    if names.iter().any(|n| n.is_empty() || n == "." || n == "..") || path.ends_with('/') {
        return None;
    }
    Some(names)
}

fn metadata(tree: &FileTree, item: &Item) -> Value {
    let names = tree.path_of(&item.id).unwrap_or_default();
    let display = format!("/{}", names.join("/"));
    let lower = display.to_lowercase();
    if item.deleted {
        return json!({".tag": "deleted", "name": item.name, "path_lower": lower, "path_display": display});
    }
    if item.folder {
        return json!({".tag": "folder", "name": item.name, "path_lower": lower, "path_display": display, "id": format!("id:{}", item.id)});
    }
    let stamp = item.modified.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    json!({".tag": "file", "name": item.name, "path_lower": lower, "path_display": display,
           "id": format!("id:{}", item.id), "client_modified": stamp, "server_modified": stamp,
           "rev": format!("{:09x}{:06x}", item.revisions.len(), item.version), "size": item.content.len(),
           "is_downloadable": true, "content_hash": content_hash(&item.content)})
}

/// The live item at `path`, by names or by `id:`.
fn find<'a>(tree: &'a FileTree, path: &str) -> Option<&'a Item> {
    if let Some(id) = path.strip_prefix("id:") {
        return tree.get(id);
    }
    let names = names(path)?;
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    tree.find(&refs, true)
}

/// The parent folder of `path` (made with the folders above it) and the last name.
fn parent_of(tree: &mut FileTree, path: &str) -> Result<(String, String), Box<Response>> {
    let Some(mut names) = names(path) else { return Err(Box::new(lookup("path", "malformed_path"))) };
    let Some(name) = names.pop() else { return Err(Box::new(lookup("path", "disallowed_name"))) };
    let mut at = ROOT.to_owned();
    for folder in names {
        at = match tree.child(&at, &folder, true) {
            Some(item) if item.folder => item.id.clone(),
            Some(_) => return Err(Box::new(lookup("path", "conflict"))),
            None => tree
                .add(&at, &folder, true, Bytes::new(), "", true)
                .map_err(|_| Box::new(lookup("path", "conflict")))?,
        };
    }
    Ok((at, name))
}

/// A cursor: `{path_lower}|{recursive}|{change}`, base64 as Dropbox's are opaque.
fn cursor(path: &str, recursive: bool, change: u64) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{path}|{recursive}|{change}"))
}

fn read_cursor(text: &str) -> Option<(String, bool, u64)> {
    use base64::Engine as _;
    let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text).ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let mut parts = decoded.rsplitn(3, '|');
    let change = parts.next()?.parse().ok()?;
    let recursive = parts.next()? == "true";
    Some((parts.next()?.to_owned(), recursive, change))
}

fn under(tree: &FileTree, item: &Item, folder: &str, recursive: bool) -> bool {
    let Some(names) = tree.path_of(&item.id) else { return false };
    inside(&format!("/{}", names.join("/")).to_lowercase(), &folder.to_lowercase(), recursive)
}

/// What changed after `change`, in order, as Dropbox lists it by path: a moved item is its old
/// path deleted and its new one (with all it holds) added; a deleted folder is reported once.
fn path_changes(books: &Books, change: u64) -> Vec<(u64, Value, Option<String>)> {
    let tree = &books.tree;
    let mut out: Vec<(u64, Value, Option<String>)> = Vec::new();
    for (sequence, id, before) in tree.moves_since(change) {
        let display = format!("/{}", before.join("/"));
        let name = before.last().cloned().unwrap_or_default();
        let _ = id;
        out.push((
            sequence,
            json!({".tag": "deleted", "name": name, "path_lower": display.to_lowercase(),
                                    "path_display": display}),
            Some(display.to_lowercase()),
        ));
    }
    let moved: std::collections::HashSet<&str> = tree.moves_since(change).into_iter().map(|(_, id, _)| id).collect();
    for (sequence, item) in tree.change_log(change) {
        let parent_deleted = item.parent.as_deref().and_then(|p| tree.get_any(p)).is_some_and(|p| p.deleted);
        if item.deleted && parent_deleted {
            continue;
        }
        let lower = tree.path_of(&item.id).map(|n| format!("/{}", n.join("/")).to_lowercase());
        out.push((sequence, metadata(tree, item), lower));
        if item.folder && !item.deleted && moved.contains(item.id.as_str()) {
            for inner in tree.descendants(&item.id) {
                let lower = tree.path_of(&inner.id).map(|n| format!("/{}", n.join("/")).to_lowercase());
                out.push((sequence, metadata(tree, inner), lower));
            }
        }
    }
    out.sort_by_key(|(sequence, ..)| *sequence);
    out
}

/// Whether `lower` (a path in lower case) is under folder `folder` (`""`: the root).
fn inside(lower: &str, folder: &str, recursive: bool) -> bool {
    match lower.strip_prefix(&format!("{folder}/")) {
        Some(rest) => !rest.is_empty() && (recursive || !rest.contains('/')),
        None => false,
    }
}

/// A page of what changed after `change` under `path`, and the cursor after it.
fn changes_page(books: &Books, path: &str, recursive: bool, change: u64, limit: usize) -> Value {
    let mut entries = Vec::new();
    let mut until = books.tree.sequence();
    let mut has_more = false;
    let mut last = change;
    for (sequence, entry, lower) in path_changes(books, change) {
        if !lower.is_some_and(|l| inside(&l, path, recursive)) {
            continue;
        }
        if entries.len() >= limit && sequence != last {
            has_more = true;
            until = last;
            break;
        }
        entries.push(entry);
        last = sequence;
    }
    json!({"entries": entries, "cursor": cursor(path, recursive, until), "has_more": has_more})
}

#[allow(clippy::too_many_lines)]
async fn rpc(State(shared): State<Shared>, Path(call): Path<String>, body: Bytes) -> Response {
    let args: Value = if body.is_empty() {
        Value::Null
    } else {
        match serde_json::from_slice(&body) {
            Ok(args) => args,
            Err(e) => return bad_input(&format!("could not decode input as JSON: {e}")),
        }
    };
    let text = |k: &str| args.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
    let mut books = shared.lock();
    match call.as_str() {
        "users/get_current_account" => Json(json!({"account_id": "dbid:AAfakeAda", "email": USER,
            "name": {"display_name": "Ada Lovelace"}, "account_type": {".tag": "pro"}}))
        .into_response(),
        "users/get_space_usage" => Json(json!({"used": books.tree.usage(),
            "allocation": {".tag": "individual", "allocated": ALLOCATION}}))
        .into_response(),
        "files/list_folder" | "files/list_folder/get_latest_cursor" => {
            let path = text("path");
            if names(&path).is_none() {
                return lookup("path", "malformed_path");
            }
            if !path.is_empty() && find(&books.tree, &path).is_none_or(|i| !i.folder) {
                return lookup("path", "not_found");
            }
            let recursive = args.get("recursive").and_then(Value::as_bool).unwrap_or(false);
            let limit = args.get("limit").and_then(Value::as_u64).unwrap_or(2000);
            if !(1..=2000).contains(&limit) {
                return bad_input("limit: must be between 1 and 2000");
            }
            if call.ends_with("get_latest_cursor") {
                return Json(json!({"cursor": cursor(&path.to_lowercase(), recursive, books.tree.sequence())}))
                    .into_response();
            }
            // A first listing is every live entry, as changes since the beginning.
            let mut out = changes_page(&books, &path.to_lowercase(), recursive, 0, limit as usize);
            if let Some(entries) = out.get_mut("entries").and_then(Value::as_array_mut) {
                entries.retain(|e| e[".tag"] != "deleted");
            }
            Json(out).into_response()
        }
        "files/list_folder/continue" => {
            let Some((path, recursive, change)) = read_cursor(&text("cursor")) else {
                return bad_input("cursor: not a cursor");
            };
            if change < books.oldest {
                return conflict("reset", json!({".tag": "reset"}));
            }
            Json(changes_page(&books, &path, recursive, change, 2000)).into_response()
        }
        "files/get_metadata" => match find(&books.tree, &text("path")) {
            Some(item) if item.id != ROOT => Json(metadata(&books.tree, item)).into_response(),
            _ => lookup("path", "not_found"),
        },
        "files/create_folder_v2" => {
            let path = text("path");
            if find(&books.tree, &path).is_some() {
                return conflict(
                    "path/conflict/folder",
                    json!({".tag": "path", "path": {".tag": "conflict", "conflict": {".tag": "folder"}}}),
                );
            }
            let (parent, name) = match parent_of(&mut books.tree, &path) {
                Ok(found) => found,
                Err(answer) => return *answer,
            };
            match books.tree.add(&parent, &name, true, Bytes::new(), "", true) {
                Ok(id) => {
                    let item = books.tree.get(&id).cloned();
                    Json(json!({"metadata": item.map(|i| metadata(&books.tree, &i))})).into_response()
                }
                Err(_) => lookup("path", "conflict"),
            }
        }
        "files/delete_v2" => {
            let Some(item) = find(&books.tree, &text("path")).filter(|i| i.id != ROOT).cloned() else {
                return lookup("path_lookup", "not_found");
            };
            let before = metadata(&books.tree, &item);
            let _ = books.tree.delete(&item.id);
            Json(json!({"metadata": before})).into_response()
        }
        "files/copy_v2" | "files/move_v2" => {
            let Some(item) = find(&books.tree, &text("from_path")).filter(|i| i.id != ROOT).cloned() else {
                return lookup("from_lookup", "not_found");
            };
            let to = text("to_path");
            if find(&books.tree, &to).is_some() {
                return conflict(
                    "to/conflict/file",
                    json!({".tag": "to", "to": {".tag": "conflict", "conflict": {".tag": "file"}}}),
                );
            }
            let (parent, name) = match parent_of(&mut books.tree, &to) {
                Ok(found) => found,
                Err(answer) => return *answer,
            };
            let id = if call == "files/copy_v2" {
                match books.tree.copy(&item.id, &parent, &name, true) {
                    Ok(id) => id,
                    Err(_) => return lookup("to", "conflict"),
                }
            } else {
                if books.tree.relocate(&item.id, &parent, &name, true).is_err() {
                    return lookup("to", "cant_move_folder_into_itself");
                }
                item.id.clone()
            };
            let moved = books.tree.get(&id).cloned();
            Json(json!({"metadata": moved.map(|i| metadata(&books.tree, &i))})).into_response()
        }
        "files/list_revisions" => {
            let Some(item) = find(&books.tree, &text("path")).filter(|i| !i.folder).cloned() else {
                return lookup("path", "not_found");
            };
            let display = format!("/{}", books.tree.path_of(&item.id).unwrap_or_default().join("/"));
            let entries: Vec<Value> = item
                .revisions
                .iter()
                .enumerate()
                .rev()
                .map(|(i, r)| {
                    let stamp = r.modified.format("%Y-%m-%dT%H:%M:%SZ").to_string();
                    json!({".tag": "file", "name": item.name, "path_display": display, "path_lower": display.to_lowercase(),
                           "id": format!("id:{}", item.id), "rev": format!("r{:08x}{}", i + 1, item.id.len()),
                           "size": r.content.len(), "server_modified": stamp, "client_modified": stamp,
                           "content_hash": content_hash(&r.content)})
                })
                .collect();
            Json(json!({"is_deleted": false, "entries": entries})).into_response()
        }
        "files/restore" => {
            let Some(item) = find(&books.tree, &text("path")).filter(|i| !i.folder).cloned() else {
                return lookup("path", "not_found");
            };
            let rev = text("rev");
            let index =
                item.revisions.iter().enumerate().find(|(i, _)| format!("r{:08x}{}", i + 1, item.id.len()) == rev);
            let Some((_, revision)) = index else { return lookup("invalid_revision", "invalid_revision") };
            let content = revision.content.clone();
            let _ = books.tree.write(&item.id, content);
            let now = books.tree.get(&item.id).cloned();
            Json(now.map(|i| metadata(&books.tree, &i)).unwrap_or_default()).into_response()
        }
        "files/search_v2" => {
            let query = text("query").to_lowercase();
            let folder = args.pointer("/options/path").and_then(Value::as_str).unwrap_or("").to_lowercase();
            let max = args.pointer("/options/max_results").and_then(Value::as_u64).unwrap_or(100) as usize;
            let matches: Vec<Value> = books
                .tree
                .walk()
                .into_iter()
                .filter(|i| i.name.to_lowercase().contains(&query) && under(&books.tree, i, &folder, true))
                .take(max)
                .map(|i| json!({"metadata": {".tag": "metadata", "metadata": metadata(&books.tree, i)}}))
                .collect();
            Json(json!({"matches": matches, "has_more": false})).into_response()
        }
        "sharing/create_shared_link_with_settings" => {
            let path = text("path");
            let Some(item) = find(&books.tree, &path).cloned() else { return lookup("path", "not_found") };
            if books.links.contains_key(&item.id) {
                return conflict("shared_link_already_exists", json!({".tag": "shared_link_already_exists"}));
            }
            let visibility = args.pointer("/settings/requested_visibility").and_then(Value::as_str).unwrap_or("public");
            let access = args.pointer("/settings/access").and_then(Value::as_str).unwrap_or("viewer");
            if !["public", "team_only"].contains(&visibility) || !["viewer", "editor"].contains(&access) {
                return bad_input("settings: unknown visibility or access");
            }
            let mut link = json!({".tag": if item.folder { "folder" } else { "file" },
                "url": format!("https://www.dropbox.com/scl/fi/{}/{}?dl=0", item.id, item.name),
                "name": item.name, "path_lower": path.to_lowercase(),
                "link_permissions": {"resolved_visibility": {".tag": visibility}, "requested_visibility": {".tag": visibility},
                                     "link_access_level": {".tag": access}}});
            if let Some(expires) = args.pointer("/settings/expires").and_then(Value::as_str) {
                link["expires"] = json!(expires);
            }
            books.links.insert(item.id.clone(), link.clone());
            Json(link).into_response()
        }
        _ => (StatusCode::NOT_FOUND, "Unknown API function").into_response(),
    }
}

/// The `Dropbox-API-Arg` header's JSON: ASCII only, as Dropbox requires.
fn api_arg(headers: &HeaderMap) -> Result<Value, Box<Response>> {
    let Some(raw) = headers.get("dropbox-api-arg") else { return Err(Box::new(bad_input("missing Dropbox-API-Arg"))) };
    let Ok(text) = raw.to_str() else {
        return Err(Box::new(bad_input("Dropbox-API-Arg must be HTTP header safe JSON (ASCII)")));
    };
    if !text.is_ascii() {
        return Err(Box::new(bad_input("Dropbox-API-Arg must be HTTP header safe JSON (ASCII)")));
    }
    serde_json::from_str(text).map_err(|e| Box::new(bad_input(&format!("could not decode Dropbox-API-Arg: {e}"))))
}

fn commit(books: &mut Books, args: &Value, content: Bytes) -> Response {
    let path = args.get("path").and_then(Value::as_str).unwrap_or_default();
    let mode = args.pointer("/mode/.tag").or_else(|| args.get("mode")).and_then(Value::as_str).unwrap_or("add");
    if let Some(expected) = args.get("content_hash").and_then(Value::as_str)
        && expected != content_hash(&content)
    {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error_summary": "content_hash_mismatch/..",
            "error": {".tag": "content_hash_mismatch"}})),
        )
            .into_response();
    }
    let existing = find(&books.tree, path).map(|i| (i.id.clone(), i.folder));
    let id = match existing {
        Some((_, true)) => return lookup("path", "conflict"),
        Some(_) if mode == "add" => {
            return conflict(
                "path/conflict/file",
                json!({".tag": "path", "reason": {".tag": "conflict", "conflict": {".tag": "file"}}}),
            );
        }
        Some((id, false)) => {
            let _ = books.tree.write(&id, content);
            id
        }
        None => {
            let (parent, name) = match parent_of(&mut books.tree, path) {
                Ok(found) => found,
                Err(answer) => return *answer,
            };
            match books.tree.add(&parent, &name, false, content, "application/octet-stream", true) {
                Ok(id) => id,
                Err(_) => return lookup("path", "conflict"),
            }
        }
    };
    let item = books.tree.get(&id).cloned();
    Json(item.map(|i| metadata(&books.tree, &i)).unwrap_or_default()).into_response()
}

async fn content(State(shared): State<Shared>, Path(call): Path<String>, headers: HeaderMap, body: Bytes) -> Response {
    let args = match api_arg(&headers) {
        Ok(args) => args,
        Err(answer) => return *answer,
    };
    let mut books = shared.lock();
    match call.as_str() {
        "files/download" => {
            let path = args.get("path").and_then(Value::as_str).unwrap_or_default();
            let Some(item) = find(&books.tree, path).filter(|i| !i.folder).cloned() else {
                return lookup("path", "not_found");
            };
            let meta = metadata(&books.tree, &item).to_string();
            let ascii: String = meta
                .chars()
                .map(|c| if c.is_ascii() { c.to_string() } else { format!("\\u{:04x}", c as u32) })
                .collect();
            let mut response =
                match headers.get(header::RANGE).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("bytes=")) {
                    Some(range) => {
                        let (a, b) = range.split_once('-').unwrap_or((range, ""));
                        let len = item.content.len();
                        let start: usize = a.parse().unwrap_or(0);
                        let end: usize = if b.is_empty() { len.saturating_sub(1) } else { b.parse().unwrap_or(0) };
                        if start >= len || end < start {
                            return StatusCode::RANGE_NOT_SATISFIABLE.into_response();
                        }
                        let end = end.min(len - 1);
                        (
                            StatusCode::PARTIAL_CONTENT,
                            [(header::CONTENT_RANGE, format!("bytes {start}-{end}/{len}"))],
                            item.content.slice(start..=end),
                        )
                            .into_response()
                    }
                    None => item.content.clone().into_response(),
                };
            if let Ok(value) = HeaderValue::from_str(&ascii) {
                response.headers_mut().insert("dropbox-api-result", value);
            }
            response
        }
        "files/upload" => {
            if body.len() > MAX_UPLOAD {
                return bad_input("uploads over 150 MiB go through an upload session");
            }
            commit(&mut books, &args, body)
        }
        "files/upload_session/start" => {
            let session = format!("AAAA{:028x}", fastrand::u128(..));
            books.sessions.insert(session.clone(), body.to_vec());
            Json(json!({"session_id": session})).into_response()
        }
        "files/upload_session/append_v2" | "files/upload_session/finish" => {
            let session = args.pointer("/cursor/session_id").and_then(Value::as_str).unwrap_or_default().to_owned();
            let offset = args.pointer("/cursor/offset").and_then(Value::as_u64).unwrap_or(0) as usize;
            let Some(received) = books.sessions.get_mut(&session) else {
                return conflict(
                    "lookup_failed/not_found",
                    json!({".tag": "lookup_failed", "lookup_failed": {".tag": "not_found"}}),
                );
            };
            if offset != received.len() {
                let correct = received.len();
                return conflict(
                    "lookup_failed/incorrect_offset",
                    json!({".tag": "lookup_failed",
                    "lookup_failed": {".tag": "incorrect_offset", "correct_offset": correct}}),
                );
            }
            received.extend_from_slice(&body);
            if call.ends_with("append_v2") {
                return Json(Value::Null).into_response();
            }
            let content = Bytes::from(books.sessions.remove(&session).unwrap_or_default());
            let commit_args = args.get("commit").cloned().unwrap_or_default();
            commit(&mut books, &commit_args, content)
        }
        _ => (StatusCode::NOT_FOUND, "Unknown API function").into_response(),
    }
}

async fn token(State(shared): State<Shared>, headers: HeaderMap, body: String) -> Response {
    shared.issuer.answer_form(&headers, &body)
}

/// Dropbox API v2 on a loopback port (see the [module](self) docs).
#[derive(Debug)]
pub struct FakeDropbox {
    server: FakeServer,
    shared: Shared,
}

impl FakeDropbox {
    /// Starts the fake with an empty account.
    pub async fn start() -> Self {
        let issuer = TokenIssuer::new(CLIENT_ID, CLIENT_SECRET)
            .with_refresh_token(REFRESH_TOKEN)
            .minting(|| format!("sl.fake-dropbox-{:032x}", fastrand::u128(..)));
        let api = FakeApi::new(Auth::OAuth2(issuer.clone())).unauthorized(|_| {
            (
                StatusCode::UNAUTHORIZED,
                Json(json!({"error_summary": "invalid_access_token/..",
                "error": {".tag": "invalid_access_token"}})),
            )
                .into_response()
        });
        let books = Books { tree: FileTree::new("dbx"), sessions: HashMap::new(), oldest: 0, links: HashMap::new() };
        let shared = Shared { books: Arc::new(Mutex::new(books)), api: api.clone(), issuer };
        let rpc_routes = axum::Router::new().route("/{*call}", post(rpc));
        let content_routes = axum::Router::new()
            .route("/{*call}", post(content))
            .layer(axum::extract::DefaultBodyLimit::max(MAX_UPLOAD + 1));
        let app = axum::Router::new()
            .nest("/2", api.guard(rpc_routes))
            .nest("/content/2", api.guard(content_routes))
            .route("/oauth2/token", post(token))
            .with_state(shared.clone());
        Self { server: FakeServer::start(app).await, shared }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// The fault queue (API calls only).
    pub fn faults(&self) -> &Faults {
        self.shared.api.faults()
    }

    /// A connection's configuration pointing at this fake: the RPC host as `base_url`, the
    /// content host as `content_url`, the token endpoint's host as `auth_base_url`.
    pub fn config(&self, tenant: TenantId, connection: ConnectionId) -> IntegrationConfig {
        let client = OAuthClient { id: CLIENT_ID, secret: CLIENT_SECRET, refresh_token: REFRESH_TOKEN };
        let urls = (format!("{}/2", self.base_url()), self.base_url());
        oauth_config((tenant, connection), (Domain::Storage, "dropbox"), urls, client)
            .with_setting("content_url", format!("{}/content/2", self.base_url()))
    }

    /// Changes the account's files as another client would.
    pub fn with_tree<T>(&self, change: impl FnOnce(&mut FileTree) -> T) -> T {
        change(&mut self.shared.lock().tree)
    }

    /// Makes every cursor given so far expire: the next `list_folder/continue` is `409 reset`.
    pub fn expire_cursors(&self) {
        let mut books = self.shared.lock();
        books.oldest = books.tree.sequence() + 1;
    }

    /// Upload sessions not finished.
    pub fn open_sessions(&self) -> usize {
        self.shared.lock().sessions.len()
    }
}
