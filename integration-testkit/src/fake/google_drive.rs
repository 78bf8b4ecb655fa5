//! [`FakeGoogleDrive`]: Google Drive API v3 on loopback, following its reference
//! (<https://developers.google.com/workspace/drive/api/reference/rest/v3>), its guides to
//! resumable uploads, search queries and retrieving changes, over a [`FileTree`].
//!
//! | endpoint | what it serves |
//! |---|---|
//! | `GET /drive/v3/about` | the user and `storageQuota` (`limit`, `usage`, `usageInDrive`, `usageInDriveTrash`, as strings) |
//! | `GET /drive/v3/files` | `q` (terms joined by `and`: `'<id>' in parents`, `trashed = true/false`, `name = '…'`, `name contains '…'`, `mimeType = '…'`, `properties has { key='…' and value='…' }`; anything else `400 invalid`), `pageSize` (1–1000, default 100), `pageToken`; `nextPageToken` |
//! | `GET /drive/v3/files/{id}` | the file (`fields` absent: only `kind`, `id`, `name`, `mimeType`, as Drive answers); `alt=media`: the content, `Range` honoured (`206`); a folder's content is `403 fileNotDownloadable` |
//! | `POST /drive/v3/files` | metadata only (folders) |
//! | `PATCH /drive/v3/files/{id}` | `name`, `properties`; `addParents`, `removeParents` |
//! | `POST /drive/v3/files/{id}/copy` | a file (folders cannot be copied: `403 fileNotCopyable`… as Drive: `badRequest`) |
//! | `DELETE /drive/v3/files/{id}` | permanently, with what a folder holds (`204`) |
//! | `POST /upload/drive/v3/files?uploadType=resumable`, `PATCH /upload/drive/v3/files/{id}?uploadType=resumable` | a resumable session for a new file (its metadata in the body) or new content; the session URI in `Location` |
//! | `PUT <session URI>` | `Content-Range: bytes a-b/total` (or `/*`), chunks multiples of 256 KiB but the last; `308` with `Range: bytes=0-n` until complete, then `200` and the file; `bytes */total` asks how far it got; a chunk not starting where the last ended is `400` |
//! | `GET /drive/v3/changes/startPageToken`, `GET /drive/v3/changes` | the change log: `pageToken`, `pageSize` (1–1000, default 100); `nextPageToken`, or `newStartPageToken` on the last page; each change `{kind, changeType: "file", time, removed, fileId, file}` (`removed: true` and no file for a deleted one); a token from the future or expired is `400 invalid` |
//! | `GET`, `POST /drive/v3/files/{id}/permissions`, `DELETE …/permissions/{permissionId}` | `type` `user`, `group`, `domain`, `anyone`; roles `owner`, `organizer`, `fileOrganizer`, `writer`, `commenter`, `reader`; `expirationTime` only for `user` and `group` |
//! | `GET /drive/v3/files/{id}/revisions[/{revisionId}]` | a file's revisions (`alt=media`: a revision's content) |
//! | `POST /token` | the OAuth2 refresh-token grant, access tokens lasting an hour |
//!
//! Errors are Google's JSON (`{"error": {"code", "message", "errors": [{"domain", "reason",
//! "message"}]}}`); every API call needs a live bearer token (`401 authError` otherwise).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use integration_core::{ConnectionId, Domain, IntegrationConfig, TenantId};
use serde_json::{Value, json};

use super::app::FakeApi;
use super::auth::{Auth, OAuthClient, TokenIssuer, oauth_config};
use super::faults::Faults;
use super::file_tree::{FileTree, Grant, Item, ROOT};
use super::server::FakeServer;

/// The OAuth2 client id the fake's token endpoint accepts.
pub const CLIENT_ID: &str = "1234567890-drive.apps.googleusercontent.com";
/// The OAuth2 client secret.
pub const CLIENT_SECRET: &str = "GOCSPX-fake-drive-client-secret";
/// The refresh token the fake accepts.
pub const REFRESH_TOKEN: &str = "1//0fake-drive-refresh-token";
/// The account.
pub const USER: &str = "ada@example.com";
/// The drive's quota, in bytes.
pub const QUOTA: u64 = 15 << 30;
/// Drive's folder MIME type.
pub const FOLDER: &str = "application/vnd.google-apps.folder";
/// The largest upload request the fake reads.
const MAX_REQUEST: usize = 64 << 20;
/// Resumable chunks are multiples of this (but the last).
const CHUNK: usize = 256 * 1024;

/// A resumable upload in progress.
#[derive(Debug, Clone)]
struct Session {
    /// The file written (an update), or the metadata of the one to make.
    target: Result<String, Value>,
    received: Vec<u8>,
}

#[derive(Debug)]
struct Books {
    tree: FileTree,
    sessions: HashMap<String, Session>,
    /// Change tokens below this are expired.
    oldest_token: u64,
}

#[derive(Debug, Clone)]
struct Shared {
    books: Arc<Mutex<Books>>,
    api: FakeApi,
    issuer: TokenIssuer,
    /// `http://127.0.0.1:<port>`, for the absolute locations in answers.
    base: Arc<str>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Books> {
        self.books.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn error(status: StatusCode, reason: &str, message: &str) -> Response {
    let body = json!({"error": {"code": status.as_u16(), "message": message,
        "errors": [{"domain": "global", "reason": reason, "message": message}]}});
    (status, Json(body)).into_response()
}

/// A request Drive refuses: its status, reason and message.
#[derive(Debug)]
struct Refused(StatusCode, &'static str, String);

impl Refused {
    fn invalid(message: &str) -> Self {
        Self(StatusCode::BAD_REQUEST, "invalid", message.to_owned())
    }

    fn answer(self) -> Response {
        error(self.0, self.1, &self.2)
    }
}

fn not_found(id: &str) -> Response {
    error(StatusCode::NOT_FOUND, "notFound", &format!("File not found: {id}."))
}

fn invalid(message: &str) -> Response {
    error(StatusCode::BAD_REQUEST, "invalid", message)
}

/// A file resource; `full`: every field (a `fields` parameter asked), else Drive's default few.
fn file_json(item: &Item, full: bool) -> Value {
    let mime = if item.folder { FOLDER } else { item.mime.as_str() };
    let mut file = json!({"kind": "drive#file", "id": item.id, "name": item.name, "mimeType": mime});
    if !full {
        return file;
    }
    file["parents"] = json!(item.parent.iter().collect::<Vec<_>>());
    file["createdTime"] = json!(item.created.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
    file["modifiedTime"] = json!(item.modified.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
    file["version"] = json!(item.version.to_string());
    file["trashed"] = json!(item.deleted);
    file["owners"] = json!([{"kind": "drive#user", "emailAddress": USER, "displayName": "Ada"}]);
    file["properties"] = json!(item.properties);
    file["webViewLink"] = json!(format!("https://drive.google.com/file/d/{}/view", item.id));
    if !item.folder {
        file["size"] = json!(item.content.len().to_string());
        file["md5Checksum"] = json!(item.md5());
        file["sha256Checksum"] = json!(item.sha256());
        file["headRevisionId"] = json!(item.revisions.last().map(|r| r.id.clone()));
    }
    file
}

/// One term of a `q` query.
#[derive(Debug)]
enum Term {
    InParents(String),
    Trashed(bool),
    NameIs(String),
    NameContains(String),
    MimeIs(String),
    Property(String, String),
}

/// A quoted string at the start of `text`: its value (`\'` and `\\` unescaped) and the rest.
fn quoted(text: &str) -> Option<(String, &str)> {
    let text = text.trim_start().strip_prefix('\'')?;
    let mut value = String::new();
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => value.push(chars.next()?.1),
            '\'' => return Some((value, &text[i + 1..])),
            c => value.push(c),
        }
    }
    None
}

fn parse_query(q: &str) -> Option<Vec<Term>> {
    let mut terms = Vec::new();
    let mut rest = q.trim();
    while !rest.is_empty() {
        let term;
        if let Some(after) = rest.strip_prefix("trashed") {
            let after = after.trim_start().strip_prefix('=')?.trim_start();
            let (value, tail) = if let Some(t) = after.strip_prefix("false") {
                (false, t)
            } else {
                (true, after.strip_prefix("true")?)
            };
            term = Term::Trashed(value);
            rest = tail;
        } else if let Some(after) = rest.strip_prefix("name") {
            let after = after.trim_start();
            if let Some(after) = after.strip_prefix("contains") {
                let (value, tail) = quoted(after)?;
                term = Term::NameContains(value);
                rest = tail;
            } else {
                let (value, tail) = quoted(after.strip_prefix('=')?)?;
                term = Term::NameIs(value);
                rest = tail;
            }
        } else if let Some(after) = rest.strip_prefix("mimeType") {
            let (value, tail) = quoted(after.trim_start().strip_prefix('=')?)?;
            term = Term::MimeIs(value);
            rest = tail;
        } else if let Some(after) = rest.strip_prefix("properties has") {
            let after = after.trim_start().strip_prefix('{')?.trim_start().strip_prefix("key")?.trim_start();
            let (key, tail) = quoted(after.strip_prefix('=')?)?;
            let tail = tail.trim_start().strip_prefix("and")?.trim_start().strip_prefix("value")?.trim_start();
            let (value, tail) = quoted(tail.strip_prefix('=')?)?;
            term = Term::Property(key, value);
            rest = tail.trim_start().strip_prefix('}')?;
        } else {
            let (id, tail) = quoted(rest)?;
            rest = tail.trim_start().strip_prefix("in parents")?;
            term = Term::InParents(id);
        }
        terms.push(term);
        rest = rest.trim_start();
        if let Some(tail) = rest.strip_prefix("and ") {
            rest = tail.trim_start();
        } else if !rest.is_empty() {
            return None;
        }
    }
    Some(terms)
}

fn matches(item: &Item, terms: &[Term]) -> bool {
    terms.iter().all(|term| match term {
        Term::InParents(id) => item.parent.as_deref() == Some(if id == "root" { ROOT } else { id }),
        Term::Trashed(t) => item.deleted == *t,
        Term::NameIs(n) => item.name == *n,
        Term::NameContains(n) => item.name.to_lowercase().contains(&n.to_lowercase()),
        Term::MimeIs(m) => (if item.folder { FOLDER } else { item.mime.as_str() }) == m,
        Term::Property(k, v) => item.properties.get(k) == Some(v),
    })
}

fn page_size(query: &HashMap<String, String>) -> Result<usize, Refused> {
    match query.get("pageSize") {
        None => Ok(100),
        Some(size) => match size.parse::<usize>() {
            Ok(n) if (1..=1000).contains(&n) => Ok(n),
            _ => Err(Refused::invalid("Invalid value for pageSize: must be between 1 and 1000")),
        },
    }
}

async fn about(State(shared): State<Shared>) -> Response {
    let usage = shared.lock().tree.usage();
    Json(json!({"kind": "drive#about", "user": {"kind": "drive#user", "emailAddress": USER, "displayName": "Ada"},
        "storageQuota": {"limit": QUOTA.to_string(), "usage": usage.to_string(),
                         "usageInDrive": usage.to_string(), "usageInDriveTrash": "0"}}))
    .into_response()
}

async fn files_list(State(shared): State<Shared>, Query(query): Query<HashMap<String, String>>) -> Response {
    let size = match page_size(&query) {
        Ok(size) => size,
        Err(refused) => return refused.answer(),
    };
    let Some(terms) = parse_query(query.get("q").map_or("", String::as_str)) else {
        return invalid("Invalid Value");
    };
    let offset: usize = match query.get("pageToken").map(|t| t.parse()) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => return invalid("Invalid Value"),
    };
    let books = shared.lock();
    let full = query.contains_key("fields");
    let found: Vec<Value> = books
        .tree
        .walk()
        .into_iter()
        .filter(|i| matches(i, &terms))
        .skip(offset)
        .take(size + 1)
        .map(|i| file_json(i, full))
        .collect();
    let next = (found.len() > size).then(|| (offset + size).to_string());
    let files: Vec<Value> = found.into_iter().take(size).collect();
    let mut body = json!({"kind": "drive#fileList", "incompleteSearch": false, "files": files});
    if let Some(next) = next {
        body["nextPageToken"] = json!(next);
    }
    Json(body).into_response()
}

/// `bytes=a-b` of a content of `len` bytes.
fn range_of(headers: &HeaderMap, len: usize) -> Option<Result<(usize, usize), ()>> {
    let value = headers.get(header::RANGE)?.to_str().ok()?;
    let spec = value.strip_prefix("bytes=")?;
    let (start, end) = spec.split_once('-')?;
    let start: usize = start.parse().ok()?;
    let end: usize = if end.is_empty() { len.saturating_sub(1) } else { end.parse().ok()? };
    if start >= len || end < start {
        return Some(Err(()));
    }
    Some(Ok((start, end.min(len - 1))))
}

fn media(content: &Bytes, mime: &str, headers: &HeaderMap) -> Response {
    match range_of(headers, content.len()) {
        None => ([(header::CONTENT_TYPE, mime.to_owned())], content.clone()).into_response(),
        Some(Ok((start, end))) => (
            StatusCode::PARTIAL_CONTENT,
            [
                (header::CONTENT_TYPE, mime.to_owned()),
                (header::CONTENT_RANGE, format!("bytes {start}-{end}/{}", content.len())),
            ],
            content.slice(start..=end),
        )
            .into_response(),
        Some(Err(())) => {
            error(StatusCode::RANGE_NOT_SATISFIABLE, "requestedRangeNotSatisfiable", "Request range not satisfiable")
        }
    }
}

async fn file_get(
    State(shared): State<Shared>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let books = shared.lock();
    let id = if id == "root" { ROOT.to_owned() } else { id };
    let Some(item) = books.tree.get(&id) else { return not_found(&id) };
    if query.get("alt").map(String::as_str) == Some("media") {
        if item.folder {
            return error(
                StatusCode::FORBIDDEN,
                "fileNotDownloadable",
                "Only files with binary content can be downloaded.",
            );
        }
        return media(&item.content, &item.mime, &headers);
    }
    Json(file_json(item, query.contains_key("fields"))).into_response()
}

fn properties_of(body: &Value) -> BTreeMap<String, String> {
    body.get("properties")
        .and_then(Value::as_object)
        .map(|p| p.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned()))).collect())
        .unwrap_or_default()
}

fn first_parent(body: &Value) -> String {
    let parent = body.get("parents").and_then(|p| p.get(0)).and_then(Value::as_str).unwrap_or(ROOT);
    if parent == "root" { ROOT.to_owned() } else { parent.to_owned() }
}

/// Makes a file or folder from `metadata` with `content`.
fn create(books: &mut Books, metadata: &Value, content: Bytes) -> Result<Value, Refused> {
    let Some(name) = metadata.get("name").and_then(Value::as_str).filter(|n| !n.is_empty()) else {
        return Err(Refused::invalid("A name is required"));
    };
    let mime = metadata.get("mimeType").and_then(Value::as_str).unwrap_or("application/octet-stream");
    let parent = first_parent(metadata);
    let id = books
        .tree
        .add(&parent, name, mime == FOLDER, content, mime, false)
        .map_err(|_| Refused(StatusCode::NOT_FOUND, "notFound", format!("File not found: {parent}.")))?;
    if let Some(item) = books.tree.get_mut(&id) {
        item.properties = properties_of(metadata);
    }
    Ok(books.tree.get(&id).map(|i| file_json(i, true)).unwrap_or_default())
}

async fn file_create(State(shared): State<Shared>, Json(body): Json<Value>) -> Response {
    let mut books = shared.lock();
    match create(&mut books, &body, Bytes::new()) {
        Ok(file) => Json(file).into_response(),
        Err(refused) => refused.answer(),
    }
}

async fn file_patch(
    State(shared): State<Shared>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    Json(body): Json<Value>,
) -> Response {
    let mut books = shared.lock();
    let Some(item) = books.tree.get(&id).cloned() else { return not_found(&id) };
    let mut parent = item.parent.clone().unwrap_or_else(|| ROOT.to_owned());
    if let Some(add) = query.get("addParents") {
        if query.get("removeParents").map(String::as_str) != Some(parent.as_str())
            && !(query.get("removeParents").is_some_and(|r| r == "root") && parent == ROOT)
        {
            return error(StatusCode::FORBIDDEN, "cannotAddParent", "Increasing the number of parents is not allowed");
        }
        parent = if add == "root" { ROOT.to_owned() } else { add.clone() };
    }
    let name = body.get("name").and_then(Value::as_str).unwrap_or(&item.name).to_owned();
    if let Err(e) = books.tree.relocate(&id, &parent, &name, false) {
        return match e {
            super::file_tree::TreeError::Cycle => invalid("A folder cannot be its own parent"),
            _ => not_found(&parent),
        };
    }
    if body.get("properties").is_some() {
        let properties = properties_of(&body);
        if let Some(item) = books.tree.get_mut(&id) {
            item.properties.extend(properties);
        }
        books.tree.touched(&id);
    }
    Json(books.tree.get(&id).map(|i| file_json(i, query.contains_key("fields"))).unwrap_or_default()).into_response()
}

async fn file_copy(State(shared): State<Shared>, Path(id): Path<String>, Json(body): Json<Value>) -> Response {
    let mut books = shared.lock();
    let Some(item) = books.tree.get(&id).cloned() else { return not_found(&id) };
    if item.folder {
        return error(StatusCode::FORBIDDEN, "fileNotCopyable", "This file cannot be copied by the user.");
    }
    let parent =
        if body.get("parents").is_some() { first_parent(&body) } else { item.parent.clone().unwrap_or_default() };
    let name = body.get("name").and_then(Value::as_str).map_or_else(|| format!("Copy of {}", item.name), str::to_owned);
    match books.tree.copy(&id, &parent, &name, false) {
        Ok(copy) => Json(books.tree.get(&copy).map(|i| file_json(i, true)).unwrap_or_default()).into_response(),
        Err(_) => not_found(&parent),
    }
}

async fn file_delete(State(shared): State<Shared>, Path(id): Path<String>) -> Response {
    match shared.lock().tree.delete(&id) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(_) => not_found(&id),
    }
}

/// Starts a resumable session: for a new file (`target` the metadata) or an update.
fn start_session(shared: &Shared, target: Result<String, Value>) -> Response {
    let upload_id = format!("ABPtcPo{:024x}", fastrand::u128(..));
    shared.lock().sessions.insert(upload_id.clone(), Session { target, received: Vec::new() });
    let base = &shared.base;
    let location = format!("{base}/upload/drive/v3/files?uploadType=resumable&upload_id={upload_id}");
    let mut response = StatusCode::OK.into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

async fn upload_start(
    State(shared): State<Shared>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(upload_id) = query.get("upload_id") {
        return upload_chunk(&shared, upload_id, &headers, body);
    }
    if query.get("uploadType").map(String::as_str) != Some("resumable") {
        return invalid("This fake serves uploadType=resumable only");
    }
    let metadata: Value = if body.is_empty() {
        json!({})
    } else {
        match serde_json::from_slice(&body) {
            Ok(value) => value,
            Err(_) => return invalid("Invalid JSON payload received."),
        }
    };
    let mut metadata = metadata;
    if metadata.get("mimeType").is_none()
        && let Some(kind) = headers.get("x-upload-content-type").and_then(|v| v.to_str().ok())
    {
        metadata["mimeType"] = json!(kind);
    }
    start_session(&shared, Err(metadata))
}

async fn upload_update(
    State(shared): State<Shared>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if query.get("uploadType").map(String::as_str) != Some("resumable") {
        return invalid("This fake serves uploadType=resumable only");
    }
    if shared.lock().tree.get(&id).is_none_or(|i| i.folder) {
        return not_found(&id);
    }
    start_session(&shared, Ok(id))
}

async fn upload_put(
    State(shared): State<Shared>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match query.get("upload_id") {
        Some(upload_id) => upload_chunk(&shared, upload_id, &headers, body),
        None => invalid("No upload_id"),
    }
}

/// A `Content-Range`: the bytes sent (none for a status query) and the total, when known.
type ContentRange = (Option<(usize, usize)>, Option<usize>);

/// `bytes a-b/total`, `bytes a-b/*` or `bytes */total`.
fn content_range(headers: &HeaderMap) -> Option<ContentRange> {
    let value = headers.get(header::CONTENT_RANGE)?.to_str().ok()?.strip_prefix("bytes ")?;
    let (span, total) = value.split_once('/')?;
    let total = if total == "*" { None } else { Some(total.parse().ok()?) };
    if span == "*" {
        return Some((None, total));
    }
    let (a, b) = span.split_once('-')?;
    Some((Some((a.parse().ok()?, b.parse().ok()?)), total))
}

fn upload_chunk(shared: &Shared, upload_id: &str, headers: &HeaderMap, body: Bytes) -> Response {
    let mut books = shared.lock();
    let Some(session) = books.sessions.get_mut(upload_id) else {
        return error(StatusCode::NOT_FOUND, "notFound", "No such upload session");
    };
    let (span, total) = match content_range(headers) {
        Some(range) => range,
        // No Content-Range: the whole content in one request.
        None => (Some((0, body.len().saturating_sub(1))), Some(body.len())),
    };
    if let Some((start, end)) = span.filter(|_| !body.is_empty()) {
        if start != session.received.len() || end + 1 - start != body.len() {
            return invalid("The chunk does not continue where the upload stopped");
        }
        let last = total.is_some_and(|t| end + 1 == t);
        if !last && !body.len().is_multiple_of(CHUNK) {
            return invalid("Chunks other than the last must be multiples of 256 KiB");
        }
        session.received.extend_from_slice(&body);
    }
    let complete = total.is_some_and(|t| t == session.received.len());
    if !complete {
        let mut response = StatusCode::PERMANENT_REDIRECT.into_response();
        if !session.received.is_empty()
            && let Ok(value) = HeaderValue::from_str(&format!("bytes=0-{}", session.received.len() - 1))
        {
            response.headers_mut().insert(header::RANGE, value);
        }
        return response;
    }
    let Some(session) = books.sessions.remove(upload_id) else { return invalid("No such upload session") };
    let content = Bytes::from(session.received);
    match session.target {
        Ok(id) => match books.tree.write(&id, content) {
            Ok(()) => Json(books.tree.get(&id).map(|i| file_json(i, true)).unwrap_or_default()).into_response(),
            Err(_) => not_found(&id),
        },
        Err(metadata) => match create(&mut books, &metadata, content) {
            Ok(file) => Json(file).into_response(),
            Err(refused) => refused.answer(),
        },
    }
}

async fn start_page_token(State(shared): State<Shared>) -> Response {
    let sequence = shared.lock().tree.sequence();
    Json(json!({"kind": "drive#startPageToken", "startPageToken": (sequence + 1).to_string()})).into_response()
}

async fn changes(State(shared): State<Shared>, Query(query): Query<HashMap<String, String>>) -> Response {
    let size = match page_size(&query) {
        Ok(size) => size,
        Err(refused) => return refused.answer(),
    };
    let books = shared.lock();
    let token: u64 = match query.get("pageToken").map(|t| t.parse()) {
        Some(Ok(n)) if n >= 1 && n >= books.oldest_token && n <= books.tree.sequence() + 1 => n,
        _ => return invalid("Invalid Value"),
    };
    let (items, last) = books.tree.changes_since(token - 1, size);
    let changes: Vec<Value> = items
        .iter()
        .map(|item| {
            let mut change = json!({"kind": "drive#change", "changeType": "file", "fileId": item.id,
                "time": item.modified.to_rfc3339(), "removed": item.deleted});
            if !item.deleted {
                change["file"] = file_json(item, true);
            }
            change
        })
        .collect();
    let more = books.tree.changes_since(last, 1).0.len() == 1;
    let mut body = json!({"kind": "drive#changeList", "changes": changes});
    if more {
        body["nextPageToken"] = json!((last + 1).to_string());
    } else {
        body["newStartPageToken"] = json!((books.tree.sequence() + 1).to_string());
    }
    Json(body).into_response()
}

fn permission_json(grant: &Grant) -> Value {
    let mut out = json!({"kind": "drive#permission", "id": grant.id, "type": grant.kind, "role": grant.role});
    match grant.kind.as_str() {
        "user" | "group" => out["emailAddress"] = json!(grant.who),
        "domain" => out["domain"] = json!(grant.who),
        _ => {}
    }
    if let Some(expires) = grant.expires {
        out["expirationTime"] = json!(expires.to_rfc3339());
    }
    out
}

async fn permissions_list(State(shared): State<Shared>, Path(id): Path<String>) -> Response {
    let books = shared.lock();
    let Some(item) = books.tree.get(&id) else { return not_found(&id) };
    let owner =
        json!({"kind": "drive#permission", "id": "owner-ada", "type": "user", "role": "owner", "emailAddress": USER});
    let mut permissions = vec![owner];
    permissions.extend(item.grants.iter().map(permission_json));
    Json(json!({"kind": "drive#permissionList", "permissions": permissions})).into_response()
}

async fn permission_create(State(shared): State<Shared>, Path(id): Path<String>, Json(body): Json<Value>) -> Response {
    let text = |k: &str| body.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
    let (kind, role) = (text("type"), text("role"));
    if !["user", "group", "domain", "anyone"].contains(&kind.as_str()) {
        return invalid("The permission type field is required and must be user, group, domain or anyone");
    }
    if !["owner", "organizer", "fileOrganizer", "writer", "commenter", "reader"].contains(&role.as_str()) {
        return invalid("The permission role field is invalid");
    }
    let who = match kind.as_str() {
        "user" | "group" => text("emailAddress"),
        "domain" => text("domain"),
        _ => String::new(),
    };
    if kind != "anyone" && who.is_empty() {
        return invalid("An email address or a domain is required for this permission type");
    }
    let expires = match body.get("expirationTime").and_then(Value::as_str) {
        None => None,
        Some(_) if !matches!(kind.as_str(), "user" | "group") => {
            return error(
                StatusCode::FORBIDDEN,
                "expirationDatesMustBeInTheFuture",
                "Expiration dates are only allowed for user and group permissions",
            );
        }
        Some(t) => match chrono::DateTime::parse_from_rfc3339(t) {
            Ok(t) if t > chrono::Utc::now() => Some(t.to_utc()),
            _ => return invalid("Expiration dates must be in the future"),
        },
    };
    let mut books = shared.lock();
    let Some(item) = books.tree.get_mut(&id) else { return not_found(&id) };
    let grant = Grant { id: format!("{:020}", fastrand::u64(..)), kind, who, role, expires };
    item.grants.push(grant.clone());
    Json(permission_json(&grant)).into_response()
}

async fn permission_delete(State(shared): State<Shared>, Path((id, permission)): Path<(String, String)>) -> Response {
    let mut books = shared.lock();
    let Some(item) = books.tree.get_mut(&id) else { return not_found(&id) };
    let before = item.grants.len();
    item.grants.retain(|g| g.id != permission);
    if item.grants.len() == before {
        return error(StatusCode::NOT_FOUND, "notFound", &format!("Permission not found: {permission}."));
    }
    StatusCode::NO_CONTENT.into_response()
}

async fn revisions_list(State(shared): State<Shared>, Path(id): Path<String>) -> Response {
    let books = shared.lock();
    let Some(item) = books.tree.get(&id) else { return not_found(&id) };
    let revisions: Vec<Value> = item
        .revisions
        .iter()
        .map(|r| {
            use md5::Digest as _;
            json!({"kind": "drive#revision", "id": r.id, "modifiedTime": r.modified.to_rfc3339(),
                   "size": r.content.len().to_string(), "keepForever": false,
                   "md5Checksum": integration_core::hex::encode(&md5::Md5::digest(&r.content))})
        })
        .collect();
    Json(json!({"kind": "drive#revisionList", "revisions": revisions})).into_response()
}

async fn revision_get(
    State(shared): State<Shared>,
    Path((id, revision)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let books = shared.lock();
    let Some(item) = books.tree.get(&id) else { return not_found(&id) };
    let Some(found) = item.revisions.iter().find(|r| r.id == revision) else {
        return error(StatusCode::NOT_FOUND, "notFound", &format!("Revision not found: {revision}."));
    };
    if query.get("alt").map(String::as_str) == Some("media") {
        return media(&found.content, &item.mime, &headers);
    }
    Json(json!({"kind": "drive#revision", "id": found.id, "modifiedTime": found.modified.to_rfc3339(),
                "size": found.content.len().to_string()}))
    .into_response()
}

async fn token(State(shared): State<Shared>, headers: HeaderMap, body: String) -> Response {
    shared.issuer.answer_form(&headers, &body)
}

async fn consent(State(shared): State<Shared>, Query(query): Query<HashMap<String, String>>) -> Response {
    shared.issuer.consent_page("/o/oauth2/v2/auth", &query)
}

async fn approve(State(shared): State<Shared>, body: String) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(body.as_bytes()).into_owned().collect();
    shared.issuer.approve(&form)
}

/// Google Drive API v3 on a loopback port (see the [module](self) docs).
#[derive(Debug)]
pub struct FakeGoogleDrive {
    server: FakeServer,
    shared: Shared,
}

impl FakeGoogleDrive {
    /// Starts the fake with an empty drive.
    pub async fn start() -> Self {
        let issuer = TokenIssuer::new(CLIENT_ID, CLIENT_SECRET)
            .with_refresh_token(REFRESH_TOKEN)
            .minting(|| format!("ya29.fake-drive-at.{:032x}", fastrand::u128(..)));
        let api = FakeApi::new(Auth::OAuth2(issuer.clone()))
            .unauthorized(|_| error(StatusCode::UNAUTHORIZED, "authError", "Invalid Credentials"));
        let books = Books { tree: FileTree::new("1Fk"), sessions: HashMap::new(), oldest_token: 1 };
        let books = Arc::new(Mutex::new(books));
        let drive = axum::Router::new()
            .route("/about", get(about))
            .route("/files", get(files_list).post(file_create))
            .route("/files/{id}", get(file_get).patch(file_patch).delete(file_delete))
            .route("/files/{id}/copy", post(file_copy))
            .route("/files/{id}/permissions", get(permissions_list).post(permission_create))
            .route("/files/{id}/permissions/{permission}", delete(permission_delete))
            .route("/files/{id}/revisions", get(revisions_list))
            .route("/files/{id}/revisions/{revision}", get(revision_get))
            .route("/changes/startPageToken", get(start_page_token))
            .route("/changes", get(changes));
        let upload = axum::Router::new()
            .route("/files", post(upload_start).put(upload_put))
            .route("/files/{id}", axum::routing::patch(upload_update))
            .layer(axum::extract::DefaultBodyLimit::max(MAX_REQUEST));
        let app = axum::Router::new()
            .nest("/drive/v3", api.guard(drive))
            .nest("/upload/drive/v3", api.guard(upload))
            .route("/token", post(token))
            .route("/o/oauth2/v2/auth", get(consent).post(approve))
            .fallback(|| async { error(StatusCode::NOT_FOUND, "notFound", "Not Found") });
        let (server, shared) =
            FakeServer::start_with_state(app, |base| Shared { books, api, issuer, base: base.into() }).await;
        Self { server, shared }
    }

    /// The authorization endpoint (Google's `accounts.google.com/o/oauth2/v2/auth`): a consent
    /// page whose "Allow access" button sends the browser back with a code, which the token
    /// endpoint exchanges (PKCE checked) for tokens with a refresh token.
    pub fn authorization_url(&self) -> String {
        format!("{}/o/oauth2/v2/auth", self.base_url())
    }

    /// The settings pointing an OAuth connection at this fake: `base_url`, `auth_base_url` and
    /// `authorization_url` (what a host's OAuth app for Google Drive sets to reach it).
    pub fn oauth_settings(&self) -> Vec<(&'static str, String)> {
        vec![
            ("base_url", format!("{}/drive/v3", self.base_url())),
            ("auth_base_url", self.base_url()),
            ("authorization_url", self.authorization_url()),
        ]
    }

    /// `http://127.0.0.1:<port>`: the API host and the token host.
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// The fault queue (API calls only).
    pub fn faults(&self) -> &Faults {
        self.shared.api.faults()
    }

    /// A connection's configuration pointing at this fake, with the app's client and the
    /// refresh token.
    pub fn config(&self, tenant: TenantId, connection: ConnectionId) -> IntegrationConfig {
        let client = OAuthClient { id: CLIENT_ID, secret: CLIENT_SECRET, refresh_token: REFRESH_TOKEN };
        let urls = (format!("{}/drive/v3", self.base_url()), self.base_url());
        oauth_config((tenant, connection), (Domain::Storage, "google_drive"), urls, client)
    }

    /// Changes the drive as another client would.
    pub fn with_tree<T>(&self, change: impl FnOnce(&mut FileTree) -> T) -> T {
        change(&mut self.shared.lock().tree)
    }

    /// Makes every change token given so far expire: the next change listing is `400`.
    pub fn expire_change_tokens(&self) {
        let mut books = self.shared.lock();
        books.oldest_token = books.tree.sequence() + 2;
    }

    /// Resumable sessions not finished.
    pub fn open_sessions(&self) -> usize {
        self.shared.lock().sessions.len()
    }
}
