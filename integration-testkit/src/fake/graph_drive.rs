//! [`FakeGraphDrive`]: OneDrive and SharePoint document libraries through Microsoft Graph v1.0,
//! on loopback, following the driveItem reference
//! (<https://learn.microsoft.com/en-us/graph/api/resources/driveitem>), its guides to
//! addressing items by path, uploading large files with an upload session and tracking changes
//! with `delta`, over a [`FileTree`]. One drive, reachable as `/me/drive`, as
//! `/drives/{DRIVE_ID}` and as a SharePoint site's default library `/sites/{SITE_ID}/drive`.
//!
//! | request (under a drive) | what it serves |
//! |---|---|
//! | `GET` the drive | `id`, `driveType` (`business`), `owner`, `quota` (`total`, `used`, `remaining`, `deleted`, `state`) |
//! | `GET root`, `items/{id}`, `root:/{path}:` | the item: `id`, `name`, `eTag`, `cTag`, `size`, times, `parentReference` (`driveId`, `id`, `path`), `file` (`mimeType`, `hashes.sha256Hash`) or `folder` (`childCount`), `@microsoft.graph.downloadUrl` (pre-authenticated, short-lived) |
//! | `GET …/children` | 200 a page (`$top`), `@odata.nextLink` |
//! | `POST …/children` | a folder (`folder: {}`), `@microsoft.graph.conflictBehavior` `fail` (`409 nameAlreadyExists`), `replace` or `rename` |
//! | `PUT …:/{name}:/content`, `PUT items/{id}/content` | a simple upload (up to 250 MB), `201` made or `200` replaced |
//! | `POST …:/createUploadSession` | an upload session: `uploadUrl` (no `Authorization` taken there), `PUT` fragments with `Content-Range: bytes a-b/total` (multiples of 320 KiB but the last, at most 60 MiB): `202` with `nextExpectedRanges`, then the item; a fragment out of place is `416`; `DELETE` ends it |
//! | `PATCH items/{id}` | `name`, `parentReference.id` (a move): an item of that name there is `409 nameAlreadyExists` |
//! | `POST items/{id}/copy` | `202` and a monitor URL in `Location` (reporting `completed` and the copy's `resourceId`) |
//! | `DELETE items/{id}` | `204`, with what a folder holds |
//! | `GET …?$expand=listItem($expand=fields)`, `GET`, `PATCH items/{id}/listItem/fields` | the document library's fields of an item: its own (`ContentType`, `Created`, `FileLeafRef`…, read-only) and custom text columns |
//! | `GET items/{id}/versions`, `POST …/versions/{versionId}/restoreVersion` | a file's versions, newest first; a restore makes a new current version |
//! | `GET items/{id}/permissions`, `POST …/invite`, `POST …/createLink`, `DELETE …/permissions/{id}` | grants (`read`, `write`) with an expiry; links (`view`, `edit`; `anonymous`, `organization`) |
//! | `GET root/search(q='…')` | items whose name holds the text |
//! | `GET root/delta` | every item, then `@odata.deltaLink`; `?token=latest`: no items, a link from now; `?token=…`: what changed since — deleted items as `{id, deleted: {state: "deleted"}}`; items in delta answers carry no `parentReference.path`, as Graph documents; an expired token is `410 resyncRequired` |
//! | `POST /{tenant}/oauth2/v2.0/token` | the identity platform's refresh-token grant |
//!
//! Names holding `" * : < > ? / \ |`, or ending in a dot or a space, are `400 invalidRequest`,
//! as OneDrive and SharePoint refuse them; names are unique in a folder regardless of case.
//! Errors are Graph's JSON (`{"error": {"code", "message"}}`); every API call needs a live
//! bearer token (`401 InvalidAuthenticationToken` otherwise).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use chrono::{DateTime, Utc};
use integration_core::{ConnectionId, Domain, IntegrationConfig, TenantId};
use serde_json::{Value, json};

use super::app::FakeApi;
use super::auth::{Auth, OAuthClient, TokenIssuer, oauth_config};
use super::faults::Faults;
use super::file_tree::{FileTree, Grant, Item, ROOT, TreeError};
use super::server::FakeServer;

/// The OAuth2 client id (an Entra application id) the token endpoint accepts.
pub const CLIENT_ID: &str = "0b5d3a8e-2f1c-4e7d-9a64-2c0e9d7f1a35";
/// The OAuth2 client secret.
pub const CLIENT_SECRET: &str = "fake~graph~drive~secret~7Q~";
/// The refresh token the fake accepts.
pub const REFRESH_TOKEN: &str = "M.C507_BAY.0.U.-fake-graph-drive-refresh-token";
/// The drive's id.
pub const DRIVE_ID: &str = "b!fakeDrive-4sYrM1aZbOq0Tz8dN5kXwQ";
/// The SharePoint site whose default document library the drive is.
pub const SITE_ID: &str =
    "contoso.sharepoint.com,2c0a9e1b-5d7f-4f53-8b2e-1a6d3c9e0f47,7e1d9c3b-2a4f-4e6b-9d8a-5c0f1b3e7a92";
/// The user.
pub const USER: &str = "ada@contoso.example";
/// The drive's quota, in bytes.
pub const QUOTA: u64 = 1 << 40;
/// Upload fragments are multiples of this (but the last).
const FRAGMENT: usize = 320 * 1024;
/// The largest fragment.
const MAX_FRAGMENT: usize = 60 << 20;
/// The largest simple upload.
const MAX_SIMPLE: usize = 250_000_000;
/// Items a page.
const PAGE: usize = 200;

#[derive(Debug, Clone)]
struct Session {
    parent: String,
    name: String,
    replace: bool,
    received: Vec<u8>,
    total: Option<usize>,
}

#[derive(Debug)]
struct Books {
    tree: FileTree,
    sessions: HashMap<String, Session>,
    downloads: HashMap<String, String>,
    monitors: HashMap<String, String>,
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

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({"error": {"code": code, "message": message}}))).into_response()
}

fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "itemNotFound", "The resource could not be found.")
}

fn bad(message: &str) -> Response {
    error(StatusCode::BAD_REQUEST, "invalidRequest", message)
}

fn exists(name: &str) -> Response {
    error(StatusCode::CONFLICT, "nameAlreadyExists", &format!("The specified item name already exists. Name: {name}"))
}

/// Why OneDrive refuses `name`, if it does.
fn invalid_name(name: &str) -> bool {
    name.is_empty()
        || name.chars().any(|c| "\"*:<>?/\\|".contains(c) || c.is_control())
        || name.ends_with('.')
        || name.ends_with(' ')
        || name.starts_with(' ')
}

fn tree_error(e: TreeError, name: &str) -> Response {
    match e {
        TreeError::Exists => exists(name),
        TreeError::Cycle => bad("An item cannot be moved into itself"),
        TreeError::NotAFolder => bad("The parent is not a folder"),
        TreeError::NotFound => not_found(),
    }
}

/// `item` as a driveItem; `delta`: without `parentReference.path`, as delta answers are.
fn item_json(shared_base: &str, books: &mut Books, item: &Item, delta: bool) -> Value {
    let stamp = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    if item.deleted {
        return json!({"id": item.id, "name": item.name, "deleted": {"state": "deleted"},
                      "parentReference": {"driveId": DRIVE_ID, "driveType": "business", "id": item.parent}});
    }
    let mut out = json!({
        "id": item.id,
        "name": if item.id == ROOT { "root".to_owned() } else { item.name.clone() },
        "eTag": format!("\"{{{}}},{}\"", item.id, item.version),
        "cTag": format!("\"c:{{{}}},{}\"", item.id, item.revisions.len()),
        "createdDateTime": stamp(item.created),
        "lastModifiedDateTime": stamp(item.modified),
        "webUrl": format!("https://contoso.sharepoint.com/Documents/{}", item.id),
        "createdBy": {"user": {"email": USER, "displayName": "Ada"}},
        "lastModifiedBy": {"user": {"email": USER, "displayName": "Ada"}},
    });
    if item.id == ROOT {
        out["root"] = json!({});
    }
    if let Some(parent) = &item.parent {
        let mut reference = json!({"driveId": DRIVE_ID, "driveType": "business", "id": parent});
        if !delta && let Some(names) = books.tree.path_of(parent) {
            reference["path"] =
                json!(format!("/drive/root:{}", names.iter().map(|n| format!("/{n}")).collect::<String>()));
        }
        out["parentReference"] = reference;
    }
    if item.folder {
        out["folder"] = json!({"childCount": books.tree.children(&item.id).len()});
        out["size"] = json!(0);
    } else {
        let hashes = json!({"sha256Hash": item.sha256().to_uppercase()});
        out["file"] = json!({"mimeType": item.mime, "hashes": hashes});
        out["size"] = json!(item.content.len());
        let token = format!("{:032x}", fastrand::u128(..));
        books.downloads.insert(token.clone(), item.id.clone());
        out["@microsoft.graph.downloadUrl"] = json!(format!("{shared_base}/download/{token}"));
    }
    out
}

fn answer_item(shared: &Shared, books: &mut Books, id: &str, status: StatusCode) -> Response {
    let base = shared.base.clone();
    let Some(item) = books.tree.get(id).cloned() else { return not_found() };
    (status, Json(item_json(&base, books, &item, false))).into_response()
}

/// What a request under a drive addresses: an item (by id or path), and what of it.
#[derive(Debug)]
struct Target {
    /// The item the path starts from.
    base: String,
    /// Names below it.
    names: Vec<String>,
    /// What follows (`children`, `content`, `copy`, `versions/…`).
    action: Vec<String>,
}

fn parse_target(rest: &str) -> Option<Target> {
    let (head, tail) = match rest.split_once(':') {
        Some((head, tail)) => (head, Some(tail)),
        None => (rest, None),
    };
    let mut segments = head.trim_matches('/').split('/');
    let base = match segments.next()? {
        "root" => ROOT.to_owned(),
        "items" => segments.next()?.to_owned(),
        _ => return None,
    };
    let mut target = Target { base, names: Vec::new(), action: segments.map(str::to_owned).collect() };
    if let Some(tail) = tail {
        if !target.action.is_empty() {
            return None;
        }
        let (path, after) = tail.split_once(':').unwrap_or((tail, ""));
        target.names = path.split('/').filter(|n| !n.is_empty()).map(str::to_owned).collect();
        target.action = after.split('/').filter(|a| !a.is_empty()).map(str::to_owned).collect();
    }
    Some(target)
}

/// The item `names` below `base`, if it is there.
fn resolve(tree: &FileTree, base: &str, names: &[String]) -> Option<String> {
    let mut at = tree.get(base)?.id.clone();
    for name in names {
        at = tree.child(&at, name, true)?.id.clone();
    }
    Some(at)
}

fn conflict_behavior(query: &HashMap<String, String>, body: Option<&Value>, default: &str) -> String {
    query
        .get("@microsoft.graph.conflictBehavior")
        .cloned()
        .or_else(|| {
            body.and_then(|b| b.pointer("/@microsoft.graph.conflictBehavior"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .or_else(|| {
            body.and_then(|b| b.pointer("/item/@microsoft.graph.conflictBehavior"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .unwrap_or_else(|| default.to_owned())
}

/// Writes `content` as `name` in `parent` (`replace`: over what is there); the item's id and
/// whether it was made.
fn write_file(
    books: &mut Books,
    parent: &str,
    name: &str,
    content: Bytes,
    replace: bool,
) -> Result<(String, bool), Box<Response>> {
    if invalid_name(name) {
        return Err(Box::new(bad("The provided name contains invalid characters")));
    }
    let mime = mime_guess(name);
    match books.tree.child(parent, name, true).map(|i| (i.id.clone(), i.folder)) {
        Some((_, true)) => Err(Box::new(exists(name))),
        Some(_) if !replace => Err(Box::new(exists(name))),
        Some((id, false)) => {
            books.tree.write(&id, content).map_err(|e| Box::new(tree_error(e, name)))?;
            Ok((id, false))
        }
        None => books
            .tree
            .add(parent, name, false, content, &mime, true)
            .map(|id| (id, true))
            .map_err(|e| Box::new(tree_error(e, name))),
    }
}

fn mime_guess(name: &str) -> String {
    match name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).as_deref() {
        Some("txt") => "text/plain",
        Some("pdf") => "application/pdf",
        Some("csv") => "text/csv",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
    .to_owned()
}

/// The fields a document library sets itself: read-only.
const SYSTEM_FIELDS: [&str; 8] =
    ["id", "ContentType", "Created", "Modified", "FileLeafRef", "AuthorLookupId", "EditorLookupId", "DocIcon"];

/// An item's list item fields: the library's own, then the item's properties.
fn fields_json(item: &Item) -> Value {
    let mut fields = json!({
        "@odata.etag": format!("\"{{{}}},{}\"", item.id, item.version),
        "id": item.version.to_string(),
        "ContentType": if item.folder { "Folder" } else { "Document" },
        "Created": item.created.to_rfc3339(),
        "Modified": item.modified.to_rfc3339(),
        "FileLeafRef": item.name,
        "AuthorLookupId": "6",
        "EditorLookupId": "6",
        "DocIcon": item.name.rsplit_once('.').map(|(_, e)| e).unwrap_or_default(),
    });
    for (name, value) in &item.properties {
        fields[name] = json!(value);
    }
    fields
}

fn permission_json(grant: &Grant) -> Value {
    let roles = json!([grant.role]);
    let mut out = json!({"id": grant.id, "roles": roles});
    match grant.kind.as_str() {
        "anyone" | "organization" => {
            let scope = if grant.kind == "anyone" { "anonymous" } else { "organization" };
            let kind = if grant.role == "write" { "edit" } else { "view" };
            out["link"] = json!({"type": kind, "scope": scope, "webUrl": format!("https://1drv.ms/u/s!{}", grant.id)});
        }
        _ => out["grantedToV2"] = json!({"user": {"email": grant.who, "displayName": grant.who}}),
    }
    if let Some(expires) = grant.expires {
        out["expirationDateTime"] = json!(expires.to_rfc3339());
    }
    out
}

fn expiry(body: &Value) -> Result<Option<DateTime<Utc>>, Box<Response>> {
    match body.get("expirationDateTime").and_then(Value::as_str) {
        None => Ok(None),
        Some(t) => match DateTime::parse_from_rfc3339(t) {
            Ok(t) if t > Utc::now() => Ok(Some(t.to_utc())),
            _ => Err(Box::new(bad("expirationDateTime must be a time in the future"))),
        },
    }
}

async fn drive_info(State(shared): State<Shared>) -> Response {
    let used = shared.lock().tree.usage();
    Json(json!({"id": DRIVE_ID, "driveType": "business", "name": "Documents",
        "owner": {"user": {"email": USER, "displayName": "Ada"}},
        "quota": {"total": QUOTA, "used": used, "remaining": QUOTA - used, "deleted": 0, "state": "normal"}}))
    .into_response()
}

/// A request under a drive: `/me/drive/…`, `/drives/{drive}/…` or `/sites/{site}/drive/…`.
async fn drive_call(
    State(shared): State<Shared>,
    method: Method,
    Path(params): Path<HashMap<String, String>>,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let known = params.get("drive").is_none_or(|d| d == DRIVE_ID) && params.get("site").is_none_or(|s| s == SITE_ID);
    match params.get("rest") {
        Some(rest) if known => call(&shared, &method, rest, &query, body),
        _ => not_found(),
    }
}

async fn drive_by_id(State(shared): State<Shared>, Path(drive): Path<String>) -> Response {
    if drive != DRIVE_ID {
        return not_found();
    }
    drive_info(State(shared)).await
}

async fn site_drive(State(shared): State<Shared>, Path(site): Path<String>) -> Response {
    if site != SITE_ID {
        return not_found();
    }
    drive_info(State(shared)).await
}

#[allow(clippy::too_many_lines)]
fn call(shared: &Shared, method: &Method, rest: &str, query: &HashMap<String, String>, body: Bytes) -> Response {
    let json_body = || serde_json::from_slice::<Value>(&body).unwrap_or(Value::Null);
    if let Some(text) = rest.strip_prefix("root/search(q='").and_then(|r| r.strip_suffix("')")) {
        return search(shared, &text.replace("''", "'"), query);
    }
    if rest == "root/delta" {
        return delta(shared, query);
    }
    let Some(target) = parse_target(rest) else { return bad("Invalid request") };
    let action: Vec<&str> = target.action.iter().map(String::as_str).collect();
    let base = shared.base.clone();
    let mut books = shared.lock();
    let found = resolve(&books.tree, &target.base, &target.names);
    match (method.as_str(), action.as_slice()) {
        ("GET", []) => {
            let Some(item) = found.and_then(|id| books.tree.get(&id).cloned()) else { return not_found() };
            let mut out = item_json(&base, &mut books, &item, false);
            if query.get("$expand").is_some_and(|e| e.contains("listItem")) {
                out["listItem"] = json!({"id": item.version.to_string(), "fields": fields_json(&item)});
            }
            Json(out).into_response()
        }
        ("GET", ["listItem", "fields"]) => {
            let Some(item) = found.and_then(|id| books.tree.get(&id).cloned()) else { return not_found() };
            Json(fields_json(&item)).into_response()
        }
        ("PATCH", ["listItem", "fields"]) => {
            let Some(id) = found else { return not_found() };
            let Some(fields) = json_body().as_object().cloned() else {
                return bad("A JSON object of fields is expected");
            };
            let mut values = Vec::new();
            for (name, value) in fields {
                let Some(text) = value.as_str() else {
                    return bad(&format!("Field '{name}' takes text in this library"));
                };
                if SYSTEM_FIELDS.contains(&name.as_str()) || name.starts_with('@') || name.starts_with('_') {
                    return bad(&format!("Field '{name}' is read-only"));
                }
                values.push((name, text.to_owned()));
            }
            let Some(item) = books.tree.get_mut(&id) else { return not_found() };
            item.properties.extend(values);
            books.tree.touched(&id);
            let Some(item) = books.tree.get(&id).cloned() else { return not_found() };
            Json(fields_json(&item)).into_response()
        }
        ("GET", ["children"]) => {
            let Some(id) = found else { return not_found() };
            let top = query.get("$top").and_then(|t| t.parse().ok()).unwrap_or(PAGE).clamp(1, 1000);
            let skip: usize = query.get("$skiptoken").and_then(|t| t.parse().ok()).unwrap_or(0);
            let children: Vec<Item> = books.tree.children(&id).into_iter().cloned().collect();
            let page: Vec<Value> =
                children.iter().skip(skip).take(top).map(|c| item_json(&base, &mut books, c, false)).collect();
            let mut out = json!({"value": page});
            if skip + top < children.len() {
                out["@odata.nextLink"] = json!(format!(
                    "{base}/v1.0/drives/{DRIVE_ID}/items/{id}/children?$top={top}&$skiptoken={}",
                    skip + top
                ));
            }
            Json(out).into_response()
        }
        ("POST", ["children"]) => {
            let Some(parent) = found else { return not_found() };
            let request = json_body();
            let Some(name) = request.get("name").and_then(Value::as_str) else { return bad("A name is required") };
            if invalid_name(name) {
                return bad("The provided name contains invalid characters");
            }
            if request.get("folder").is_none() {
                return bad("Only folders are made this way");
            }
            let behavior = conflict_behavior(query, Some(&request), "fail");
            if let Some(there) = books.tree.child(&parent, name, true).map(|i| i.id.clone()) {
                if behavior == "fail" {
                    return exists(name);
                }
                if behavior == "replace" {
                    let _ = books.tree.delete(&there);
                }
            }
            match books.tree.add(&parent, name, true, Bytes::new(), "", behavior != "rename") {
                Ok(id) => answer_item(shared, &mut books, &id, StatusCode::CREATED),
                Err(e) => tree_error(e, name),
            }
        }
        ("PUT", ["content"]) => {
            if body.len() > MAX_SIMPLE {
                return error(StatusCode::PAYLOAD_TOO_LARGE, "requestTooLarge", "Use an upload session");
            }
            let replace = conflict_behavior(query, None, "replace") != "fail";
            let written = match found {
                Some(id) if books.tree.get(&id).is_some_and(|i| !i.folder) => {
                    if !replace {
                        return exists(&target.names.join("/"));
                    }
                    books.tree.write(&id, body).map(|()| (id, false)).map_err(|e| Box::new(tree_error(e, "")))
                }
                Some(_) => return bad("A folder has no content"),
                None => {
                    let Some((name, above)) = target.names.split_last() else { return not_found() };
                    let Some(parent) = resolve(&books.tree, &target.base, above) else { return not_found() };
                    write_file(&mut books, &parent, name, body, replace)
                }
            };
            match written {
                Ok((id, made)) => {
                    answer_item(shared, &mut books, &id, if made { StatusCode::CREATED } else { StatusCode::OK })
                }
                Err(answer) => *answer,
            }
        }
        ("GET", ["content"]) => {
            let Some(id) = found else { return not_found() };
            let Some(item) = books.tree.get(&id).cloned() else { return not_found() };
            let url = item_json(&base, &mut books, &item, false)["@microsoft.graph.downloadUrl"].clone();
            let Some(url) = url.as_str() else { return bad("A folder has no content") };
            let mut response = StatusCode::FOUND.into_response();
            if let Ok(value) = HeaderValue::from_str(url) {
                response.headers_mut().insert(header::LOCATION, value);
            }
            response
        }
        ("POST", ["createUploadSession"]) => {
            let request = json_body();
            let replace = conflict_behavior(query, Some(&request), "replace");
            let Some((name, above)) = target.names.split_last() else { return bad("An upload names its file") };
            if invalid_name(name) {
                return bad("The provided name contains invalid characters");
            }
            let Some(parent) = resolve(&books.tree, &target.base, above) else { return not_found() };
            if replace == "fail" && books.tree.child(&parent, name, true).is_some() {
                return exists(name);
            }
            let session = format!("{:032x}", fastrand::u128(..));
            books.sessions.insert(
                session.clone(),
                Session { parent, name: name.clone(), replace: replace != "fail", received: Vec::new(), total: None },
            );
            let expires = (Utc::now() + chrono::Duration::days(1)).to_rfc3339();
            Json(json!({"uploadUrl": format!("{base}/upload/{session}"), "expirationDateTime": expires,
                        "nextExpectedRanges": ["0-"]}))
            .into_response()
        }
        ("PATCH", []) => {
            let Some(id) = found else { return not_found() };
            let request = json_body();
            let Some(item) = books.tree.get(&id).cloned() else { return not_found() };
            let name = request.get("name").and_then(Value::as_str).unwrap_or(&item.name).to_owned();
            if invalid_name(&name) {
                return bad("The provided name contains invalid characters");
            }
            let parent = request
                .pointer("/parentReference/id")
                .and_then(Value::as_str)
                .map(|p| if p == "root" { ROOT.to_owned() } else { p.to_owned() })
                .or(item.parent.clone())
                .unwrap_or_else(|| ROOT.to_owned());
            if books.tree.get(&parent).is_none() {
                return not_found();
            }
            if conflict_behavior(query, Some(&request), "fail") == "replace"
                && let Some(there) = books.tree.child(&parent, &name, true).map(|i| i.id.clone()).filter(|t| *t != id)
            {
                let _ = books.tree.delete(&there);
            }
            match books.tree.relocate(&id, &parent, &name, true) {
                Ok(()) => answer_item(shared, &mut books, &id, StatusCode::OK),
                Err(e) => tree_error(e, &name),
            }
        }
        ("DELETE", []) => match found {
            Some(id) if id != ROOT => match books.tree.delete(&id) {
                Ok(()) => StatusCode::NO_CONTENT.into_response(),
                Err(_) => not_found(),
            },
            Some(_) => error(StatusCode::FORBIDDEN, "accessDenied", "The root cannot be deleted"),
            None => not_found(),
        },
        ("POST", ["copy"]) => {
            let Some(id) = found else { return not_found() };
            let request = json_body();
            let Some(item) = books.tree.get(&id).cloned() else { return not_found() };
            let parent = request
                .pointer("/parentReference/id")
                .and_then(Value::as_str)
                .map(|p| if p == "root" { ROOT.to_owned() } else { p.to_owned() })
                .or(item.parent.clone())
                .unwrap_or_else(|| ROOT.to_owned());
            let name = request.get("name").and_then(Value::as_str).unwrap_or(&item.name).to_owned();
            if invalid_name(&name) {
                return bad("The provided name contains invalid characters");
            }
            match books.tree.copy(&id, &parent, &name, true) {
                Ok(copy) => {
                    let monitor = format!("{:032x}", fastrand::u128(..));
                    books.monitors.insert(monitor.clone(), copy);
                    let mut response = StatusCode::ACCEPTED.into_response();
                    if let Ok(value) = HeaderValue::from_str(&format!("{base}/monitor/{monitor}")) {
                        response.headers_mut().insert(header::LOCATION, value);
                    }
                    response
                }
                Err(e) => tree_error(e, &name),
            }
        }
        ("GET", ["versions"]) => {
            let Some(item) = found.and_then(|id| books.tree.get(&id).cloned()) else { return not_found() };
            let versions: Vec<Value> = item
                .revisions
                .iter()
                .enumerate()
                .rev()
                .map(|(i, r)| {
                    json!({"id": format!("{}.0", i + 1), "lastModifiedDateTime": r.modified.to_rfc3339(),
                                     "size": r.content.len()})
                })
                .collect();
            Json(json!({"value": versions})).into_response()
        }
        ("POST", ["versions", version, "restoreVersion"]) => {
            let Some(item) = found.and_then(|id| books.tree.get(&id).cloned()) else { return not_found() };
            let index: Option<usize> = version.strip_suffix(".0").and_then(|v| v.parse().ok());
            let Some(old) = index.and_then(|i| item.revisions.get(i.wrapping_sub(1))) else { return not_found() };
            let content = old.content.clone();
            match books.tree.write(&item.id, content) {
                Ok(()) => StatusCode::NO_CONTENT.into_response(),
                Err(_) => not_found(),
            }
        }
        ("GET", ["permissions"]) => {
            let Some(item) = found.and_then(|id| books.tree.get(&id).cloned()) else { return not_found() };
            let mut value = vec![json!({"id": "owner", "roles": ["owner"],
                "grantedToV2": {"user": {"email": USER, "displayName": "Ada"}}})];
            value.extend(item.grants.iter().map(permission_json));
            Json(json!({"value": value})).into_response()
        }
        ("POST", ["invite"]) => {
            let Some(id) = found else { return not_found() };
            let request = json_body();
            let roles: Vec<String> = request
                .get("roles")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|r| r.as_str().map(str::to_owned))
                .collect();
            let Some(role) = roles.first().filter(|r| *r == "read" || *r == "write").cloned() else {
                return bad("roles must be read or write");
            };
            let expires = match expiry(&request) {
                Ok(expires) => expires,
                Err(answer) => return *answer,
            };
            let recipients: Vec<String> = request
                .get("recipients")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|r| r.get("email").and_then(Value::as_str).map(str::to_owned))
                .collect();
            if recipients.is_empty() {
                return bad("recipients are required");
            }
            let Some(item) = books.tree.get_mut(&id) else { return not_found() };
            let mut made = Vec::new();
            for who in recipients {
                let grant = Grant {
                    id: format!("perm{:016x}", fastrand::u64(..)),
                    kind: "user".into(),
                    who,
                    role: role.clone(),
                    expires,
                };
                made.push(permission_json(&grant));
                item.grants.push(grant);
            }
            Json(json!({"value": made})).into_response()
        }
        ("POST", ["createLink"]) => {
            let Some(id) = found else { return not_found() };
            let request = json_body();
            let role = match request.get("type").and_then(Value::as_str) {
                Some("view") => "read",
                Some("edit") => "write",
                _ => return bad("type must be view or edit"),
            };
            let kind = match request.get("scope").and_then(Value::as_str).unwrap_or("anonymous") {
                "anonymous" => "anyone",
                "organization" => "organization",
                _ => return bad("scope must be anonymous or organization"),
            };
            let expires = match expiry(&request) {
                Ok(expires) => expires,
                Err(answer) => return *answer,
            };
            let Some(item) = books.tree.get_mut(&id) else { return not_found() };
            let grant = Grant {
                id: format!("link{:016x}", fastrand::u64(..)),
                kind: kind.into(),
                who: String::new(),
                role: role.into(),
                expires,
            };
            item.grants.push(grant.clone());
            (StatusCode::CREATED, Json(permission_json(&grant))).into_response()
        }
        ("DELETE", ["permissions", permission]) => {
            let Some(id) = found else { return not_found() };
            let Some(item) = books.tree.get_mut(&id) else { return not_found() };
            let before = item.grants.len();
            item.grants.retain(|g| g.id != *permission);
            if item.grants.len() == before {
                return not_found();
            }
            StatusCode::NO_CONTENT.into_response()
        }
        _ => bad("Invalid request"),
    }
}

fn search(shared: &Shared, text: &str, query: &HashMap<String, String>) -> Response {
    let base = shared.base.clone();
    let mut books = shared.lock();
    let top = query.get("$top").and_then(|t| t.parse().ok()).unwrap_or(PAGE).clamp(1, 1000);
    let skip: usize = query.get("$skiptoken").and_then(|t| t.parse().ok()).unwrap_or(0);
    let needle = text.to_lowercase();
    let found: Vec<Item> =
        books.tree.walk().into_iter().filter(|i| i.name.to_lowercase().contains(&needle)).cloned().collect();
    let page: Vec<Value> = found.iter().skip(skip).take(top).map(|i| item_json(&base, &mut books, i, false)).collect();
    let mut out = json!({"value": page});
    if skip + top < found.len() {
        let encoded: String = url::form_urlencoded::byte_serialize(text.as_bytes()).collect();
        out["@odata.nextLink"] = json!(format!(
            "{base}/v1.0/drives/{DRIVE_ID}/root/search(q='{encoded}')?$top={top}&$skiptoken={}",
            skip + top
        ));
    }
    Json(out).into_response()
}

fn delta_link(base: &str, token: u64) -> String {
    format!("{base}/v1.0/drives/{DRIVE_ID}/root/delta?token={token}")
}

fn delta(shared: &Shared, query: &HashMap<String, String>) -> Response {
    let base = shared.base.clone();
    let mut books = shared.lock();
    let top = query.get("$top").and_then(|t| t.parse().ok()).unwrap_or(PAGE).clamp(1, 1000);
    let skip: usize = query.get("$skiptoken").and_then(|t| t.parse().ok()).unwrap_or(0);
    let sequence = books.tree.sequence();
    let (items, token): (Vec<Item>, u64) = match query.get("token").map(String::as_str) {
        Some("latest") => (Vec::new(), sequence),
        None => {
            let mut all: Vec<Item> = books.tree.get(ROOT).cloned().into_iter().collect();
            all.extend(books.tree.walk().into_iter().cloned());
            (all, query.get("at").and_then(|t| t.parse().ok()).unwrap_or(sequence))
        }
        Some(token) => match token.parse::<u64>() {
            Ok(since) if since >= books.oldest_token && since <= sequence => {
                (books.tree.changes_since(since, usize::MAX).0.into_iter().cloned().collect(), sequence)
            }
            _ => return error(StatusCode::GONE, "resyncRequired", "The delta token is no longer valid; resync."),
        },
    };
    let page: Vec<Value> = items.iter().skip(skip).take(top).map(|i| item_json(&base, &mut books, i, true)).collect();
    let mut out = json!({"value": page});
    if skip + top < items.len() {
        let from = query.get("token").map(|t| format!("token={t}&")).unwrap_or_else(|| format!("at={token}&"));
        out["@odata.nextLink"] =
            json!(format!("{base}/v1.0/drives/{DRIVE_ID}/root/delta?{from}$top={top}&$skiptoken={}", skip + top));
    } else {
        out["@odata.deltaLink"] = json!(delta_link(&base, token));
    }
    Json(out).into_response()
}

/// `bytes a-b/total`.
fn fragment_range(headers: &HeaderMap) -> Option<(usize, usize, usize)> {
    let value = headers.get(header::CONTENT_RANGE)?.to_str().ok()?.strip_prefix("bytes ")?;
    let (span, total) = value.split_once('/')?;
    let (a, b) = span.split_once('-')?;
    Some((a.parse().ok()?, b.parse().ok()?, total.parse().ok()?))
}

async fn upload_fragment(
    State(shared): State<Shared>,
    method: Method,
    Path(session): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if headers.contains_key(header::AUTHORIZATION) {
        return error(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "Do not send an Authorization header to the upload URL",
        );
    }
    let mut books = shared.lock();
    if method == Method::DELETE {
        return match books.sessions.remove(&session) {
            Some(_) => StatusCode::NO_CONTENT.into_response(),
            None => not_found(),
        };
    }
    let Some(open) = books.sessions.get_mut(&session) else { return not_found() };
    let Some((start, end, total)) = fragment_range(&headers) else {
        return bad("Content-Range is required: bytes a-b/total");
    };
    if start != open.received.len() || end + 1 - start != body.len() || open.total.is_some_and(|t| t != total) {
        return error(StatusCode::RANGE_NOT_SATISFIABLE, "invalidRange", "The fragment does not continue the upload");
    }
    if body.len() > MAX_FRAGMENT || (end + 1 != total && !body.len().is_multiple_of(FRAGMENT)) {
        return bad("Fragments are multiples of 320 KiB, at most 60 MiB");
    }
    open.received.extend_from_slice(&body);
    open.total = Some(total);
    if open.received.len() < total {
        let expires = (Utc::now() + chrono::Duration::days(1)).to_rfc3339();
        let next = format!("{}-", open.received.len());
        return (StatusCode::ACCEPTED, Json(json!({"expirationDateTime": expires, "nextExpectedRanges": [next]})))
            .into_response();
    }
    let Some(done) = books.sessions.remove(&session) else { return not_found() };
    match write_file(&mut books, &done.parent, &done.name, Bytes::from(done.received), done.replace) {
        Ok((id, made)) => {
            answer_item(&shared, &mut books, &id, if made { StatusCode::CREATED } else { StatusCode::OK })
        }
        Err(answer) => *answer,
    }
}

async fn download(State(shared): State<Shared>, Path(token): Path<String>, headers: HeaderMap) -> Response {
    let books = shared.lock();
    let Some(item) = books.downloads.get(&token).and_then(|id| books.tree.get(id)) else { return not_found() };
    let content = item.content.clone();
    let range = headers.get(header::RANGE).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("bytes="));
    let Some((a, b)) = range.and_then(|r| r.split_once('-')) else {
        return ([(header::CONTENT_TYPE, item.mime.clone())], content).into_response();
    };
    let start: usize = a.parse().unwrap_or(0);
    let end: usize = if b.is_empty() { content.len().saturating_sub(1) } else { b.parse().unwrap_or(0) };
    if start >= content.len() || end < start {
        return StatusCode::RANGE_NOT_SATISFIABLE.into_response();
    }
    let end = end.min(content.len() - 1);
    (
        StatusCode::PARTIAL_CONTENT,
        [(header::CONTENT_RANGE, format!("bytes {start}-{end}/{}", content.len()))],
        content.slice(start..=end),
    )
        .into_response()
}

async fn monitor(State(shared): State<Shared>, Path(id): Path<String>) -> Response {
    match shared.lock().monitors.get(&id) {
        Some(copy) => {
            Json(json!({"status": "completed", "percentageComplete": 100.0, "resourceId": copy})).into_response()
        }
        None => not_found(),
    }
}

async fn token(State(shared): State<Shared>, headers: HeaderMap, body: String) -> Response {
    shared.issuer.answer_form(&headers, &body)
}

/// OneDrive / SharePoint through Graph on a loopback port (see the [module](self) docs).
#[derive(Debug)]
pub struct FakeGraphDrive {
    server: FakeServer,
    shared: Shared,
}

impl FakeGraphDrive {
    /// Starts the fake with an empty drive.
    pub async fn start() -> Self {
        let issuer = TokenIssuer::new(CLIENT_ID, CLIENT_SECRET)
            .with_refresh_token(REFRESH_TOKEN)
            .minting(|| format!("eyJ0eXAiOi.fake-graph-drive.{:032x}", fastrand::u128(..)));
        let api = FakeApi::new(Auth::OAuth2(issuer.clone())).unauthorized(|_| {
            error(StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken", "Access token is empty or invalid.")
        });
        let books = Books {
            tree: FileTree::new("01FAKE"),
            sessions: HashMap::new(),
            downloads: HashMap::new(),
            monitors: HashMap::new(),
            oldest_token: 0,
        };
        let books = Arc::new(Mutex::new(books));
        let routes = axum::Router::new()
            .route("/me/drive", get(drive_info))
            .route("/me/drive/{*rest}", any(drive_call))
            .route("/drives/{drive}", get(drive_by_id))
            .route("/drives/{drive}/{*rest}", any(drive_call))
            .route("/sites/{site}/drive", get(site_drive))
            .route("/sites/{site}/drive/{*rest}", any(drive_call))
            .layer(axum::extract::DefaultBodyLimit::max(MAX_SIMPLE + 1));
        let app = axum::Router::new()
            .nest("/v1.0", api.guard(routes))
            .route("/upload/{session}", any(upload_fragment))
            .route("/download/{token}", get(download))
            .route("/monitor/{id}", get(monitor))
            .route("/{tenant}/oauth2/v2.0/token", post(token))
            .layer(axum::extract::DefaultBodyLimit::max(MAX_FRAGMENT + 1))
            .fallback(|| async { error(StatusCode::BAD_REQUEST, "BadRequest", "Resource not found for the segment.") });
        let (server, shared) =
            FakeServer::start_with_state(app, |base| Shared { books, api, issuer, base: base.into() }).await;
        Self { server, shared }
    }

    /// `http://127.0.0.1:<port>`: the Graph host and the identity platform's.
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// The fault queue (API calls only).
    pub fn faults(&self) -> &Faults {
        self.shared.api.faults()
    }

    /// A OneDrive connection's configuration (`/me/drive`) pointing at this fake.
    pub fn config(&self, tenant: TenantId, connection: ConnectionId) -> IntegrationConfig {
        let client = OAuthClient { id: CLIENT_ID, secret: CLIENT_SECRET, refresh_token: REFRESH_TOKEN };
        let urls = (format!("{}/v1.0", self.base_url()), self.base_url());
        oauth_config((tenant, connection), (Domain::Storage, "microsoft_onedrive"), urls, client)
    }

    /// Changes the drive as another client would.
    pub fn with_tree<T>(&self, change: impl FnOnce(&mut FileTree) -> T) -> T {
        change(&mut self.shared.lock().tree)
    }

    /// Makes every delta link given so far expire: the next one is `410 resyncRequired`.
    pub fn expire_delta_links(&self) {
        let mut books = self.shared.lock();
        books.oldest_token = books.tree.sequence() + 1;
    }

    /// Upload sessions not finished.
    pub fn open_sessions(&self) -> usize {
        self.shared.lock().sessions.len()
    }
}
