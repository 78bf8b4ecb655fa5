//! The `webdav` storage adapter (RFC 4918) over the core HTTP client — its retries, rate
//! limits and circuit breaker apply to every request —, with Basic authentication. The
//! multistatus answers are read by the WebDAV kit ([`integration_core::dav`]).
//!
//! - entries: the tree walked one folder a page (`PROPFIND`, `Depth: 1`: servers commonly
//!   refuse `infinity`), the folders still to read as the cursor; a file's ETag, size, type and
//!   times. Change detection is the sync engine's comparison of each full pass with its cache.
//! - ids: the path (encoded), with a trailing `/` for folders; hrefs are decoded one segment at
//!   a time, so an encoded `/` or `..` in a name stays inside its folder, and an href outside
//!   the connection's folder (or on another host) is never followed.
//! - upload: one `PUT` of the content (WebDAV has no standard for parts), held in memory up to
//!   [`MAX_UPLOAD_BYTES`]; its MD5 checked against the expected one before anything is sent,
//!   its size read back after; missing folders above it made with `MKCOL`; `overwrite: false`
//!   is `If-None-Match: *` (a file there is a `Conflict`).
//! - copy and move: `COPY` and `MOVE` with `Destination`; a move never overwrites
//!   (`Overwrite: F`: something there is a `Conflict`).
//! - download: `GET`, streamed, with `Range`.
//!
//! Configuration: `base_url` (the folder that is the connection's root), `username`; secret
//! `password`.
//!
//! Not supported: metadata (dead properties are served by few servers' defaults), versions,
//! permissions and share links (WebDAV's DeltaV and ACL extensions are
//! rarely served), quota (RFC 4331's properties are optional and often absent), uploads over
//! [`MAX_UPLOAD_BYTES`].

use std::collections::VecDeque;
use std::sync::Arc;

use bytes::BytesMut;
use integration_core::auth::Basic;
use integration_core::dav::{self, DAV};
use integration_core::domain::ListRequest;
use integration_core::http::Method;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use url::Url;

use crate::prelude::*;

/// The provider id.
pub const PROVIDER: &str = "webdav";

/// The largest file uploaded (held in memory for its one `PUT`).
pub const MAX_UPLOAD_BYTES: u64 = 256 << 20;

/// The largest multistatus read (one folder's listing).
const MAX_ANSWER_BYTES: usize = 64 << 20;

/// What a URL path segment leaves unencoded.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// The properties a listing asks for.
const PROPS: [(&str, &str); 6] = [
    (DAV, "resourcetype"),
    (DAV, "getetag"),
    (DAV, "getcontentlength"),
    (DAV, "getcontenttype"),
    (DAV, "getlastmodified"),
    (DAV, "creationdate"),
];

/// The WebDAV adapter for one connection (one folder on one server).
#[derive(Debug)]
pub struct WebDav {
    descriptor: Descriptor,
    http: ProviderClient,
    /// The root folder's URL, ending in `/`.
    base: Url,
    /// The root's path segments, decoded.
    base_names: Vec<String>,
}

impl Adapter for WebDav {
    fn describe() -> Result<Descriptor> {
        let capabilities = [capability::WRITE, Capability::HEALTH_CHECK];
        descriptor(PROVIDER, "WebDAV", "https://www.rfc-editor.org/rfc/rfc4918", capabilities)
            .http_policy(HttpPolicy::standard())
            .base_url(None, "the folder that is the connection's root (https://dav.example.com/files/ada/)")
            .setting("username", FieldFormat::Text, "the account's user name")
            .secret("password", FieldFormat::Text, "the account's password (an app password where the server has them)")
            .build()
    }

    fn from_config(config: &IntegrationConfig, context: &BuildContext) -> Result<Self> {
        let descriptor = Self::describe()?;
        let mut base = config.base_url(None)?;
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        base.set_query(None);
        base.set_fragment(None);
        let user = config.setting_str("username")?.to_owned();
        let password = config.secret("password")?;
        let http = context
            .provider_client(&descriptor, config)
            .with_auth(Arc::new(Basic::new(&user, password.expose_secret())));
        let base_names = segments(base.path());
        Ok(Self { descriptor, http, base, base_names })
    }
}

/// A URL path's segments, each percent-decoded (empty ones dropped).
fn segments(path: &str) -> Vec<String> {
    path.split('/').filter(|s| !s.is_empty()).map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned()).collect()
}

fn folder_id(path: &StoragePath) -> String {
    format!("{path}/")
}

fn not_found(path: &StoragePath) -> Error {
    Error::not_found(format!("nothing at {path}")).with_provider(PROVIDER)
}

fn method(name: &str) -> Method {
    Method::from_bytes(name.as_bytes()).unwrap_or(Method::GET)
}

impl WebDav {
    /// The URL of `path` (with a trailing `/` for a folder).
    fn url(&self, path: &StoragePath, folder: bool) -> Url {
        let mut text = self.base.path().to_owned();
        let names: Vec<String> = path.remote_names().map(|n| utf8_percent_encode(&n, SEGMENT).to_string()).collect();
        text.push_str(&names.join("/"));
        if folder && !path.is_root() {
            text.push('/');
        }
        let mut url = self.base.clone();
        url.set_path(&text);
        url
    }

    /// The path an href names, if it is inside the root (on this server).
    fn path_of(&self, href: &str) -> Option<StoragePath> {
        let url = self.base.join(href).ok()?;
        if url.origin() != self.base.origin() {
            return None;
        }
        let names = segments(url.path());
        let inside = names.get(..self.base_names.len())? == self.base_names.as_slice();
        if !inside {
            return None;
        }
        StoragePath::from_remote_names(names[self.base_names.len()..].iter().map(String::as_str)).ok()
    }

    /// A `PROPFIND` of `url` at `depth`.
    async fn propfind(&self, url: &Url, depth: &str) -> Result<dav::Multistatus> {
        let answer = self
            .http
            .request(method("PROPFIND"), url.as_str())
            .header("Depth", depth)
            .body(dav::propfind(&PROPS), "application/xml; charset=utf-8")
            .read_only()
            .operation("webdav.propfind")
            .max_body_bytes(MAX_ANSWER_BYTES)
            .send()
            .await?;
        dav::parse(&String::from_utf8_lossy(answer.bytes())).map_err(|e| e.with_provider(PROVIDER))
    }

    /// A response as an entry; `None` for one outside the root or the root itself.
    fn entry_of(&self, response: &dav::Response) -> Option<Remote<Entry>> {
        let path = self.path_of(&response.href)?;
        if path.is_root() || response.status.is_some_and(|s| !(200..300).contains(&s)) {
            return None;
        }
        let folder = response.is_collection();
        let etag = response.text(DAV, "getetag").map(|e| e.trim_start_matches("W/").trim_matches('"').to_owned());
        let fields = Entry {
            kind: if folder { EntryKind::Folder } else { EntryKind::File },
            size: if folder { None } else { response.text(DAV, "getcontentlength").and_then(|l| l.parse().ok()) },
            mime_type: if folder { None } else { response.text(DAV, "getcontenttype").map(str::to_owned) },
            etag: if folder { None } else { etag },
            path: path.clone(),
            ..Entry::default()
        };
        let modified = response
            .text(DAV, "getlastmodified")
            .and_then(|t| DateTime::parse_from_rfc2822(t).ok())
            .map(|t| t.to_utc());
        let created =
            response.text(DAV, "creationdate").and_then(|t| DateTime::parse_from_rfc3339(t).ok()).map(|t| t.to_utc());
        let raw: serde_json::Map<String, Value> = response
            .props
            .iter()
            .map(|p| (p.name.clone(), p.text.clone().map_or(Value::Null, Value::String)))
            .chain([("href".to_owned(), Value::String(response.href.clone()))])
            .collect();
        let id = if folder { folder_id(&path) } else { path.to_string() };
        // A folder's time moves whenever what is in it does: its entry is kept without one, so
        // that only its own changes (none but being made or removed) are changes.
        let modified = if folder { None } else { modified };
        Some(Remote::new(id, fields).modified(modified).created(created).with_remote_data(Value::Object(raw)))
    }

    /// What is at `path`, if anything.
    async fn existing(&self, path: &StoragePath) -> Result<Option<Remote<Entry>>> {
        if path.is_root() {
            return Ok(Some(Remote::new("/", Entry { kind: EntryKind::Folder, ..Entry::default() })));
        }
        match self.propfind(&self.url(path, false), "0").await {
            Ok(answer) => Ok(answer.responses.iter().find_map(|r| self.entry_of(r))),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `MKCOL` of one folder: made, or there already.
    async fn mkcol(&self, path: &StoragePath) -> Result<()> {
        let response = self
            .http
            .request(method("MKCOL"), self.url(path, true).as_str())
            .operation("webdav.mkcol")
            .idempotent()
            .accept_client_errors()
            .send()
            .await?;
        match response.status().as_u16() {
            200..=299 | 405 => Ok(()),
            _ => Err(Error::from_response(response.status(), response.headers(), response.bytes())
                .with_operation("webdav.mkcol")
                .with_provider(PROVIDER)),
        }
    }

    /// Makes the folders above `path` that are missing.
    async fn make_parents(&self, path: &StoragePath) -> Result<()> {
        match path.parent() {
            Some(parent) if !parent.is_root() => self.create_folder(&parent).await.map(drop),
            _ => Ok(()),
        }
    }

    /// `COPY` or `MOVE` of `from` to `to`.
    async fn transfer(
        &self,
        verb: &str,
        from: &StoragePath,
        to: &StoragePath,
        overwrite: bool,
    ) -> Result<Remote<Entry>> {
        let source = self.existing(from).await?.ok_or_else(|| not_found(from))?;
        let folder = source.fields.kind == EntryKind::Folder;
        self.make_parents(to).await?;
        self.http
            .request(method(verb), self.url(from, folder).as_str())
            .header("Destination", self.url(to, folder).as_str())
            .header("Overwrite", if overwrite { "T" } else { "F" })
            .header("Depth", "infinity")
            .operation(format!("webdav.{}", verb.to_ascii_lowercase()))
            .send()
            .await
            .map_err(|e| match e.kind() {
                ErrorKind::Conflict => {
                    Error::conflict(format!("{to} exists; nothing was {verb}d")).with_provider(PROVIDER)
                }
                _ => e,
            })?;
        self.existing(to).await?.ok_or_else(|| Error::invalid_response(format!("{to} is not there after the {verb}")))
    }
}

/// The folders still to read, as a listing's cursor.
fn queue_cursor(queue: &VecDeque<StoragePath>) -> Result<Option<String>> {
    if queue.is_empty() {
        return Ok(None);
    }
    let names: Vec<String> = queue.iter().map(ToString::to_string).collect();
    serde_json::to_string(&names).map(Some).map_err(|e| Error::invalid_response(e.to_string()))
}

fn queue_of(cursor: Option<&str>) -> Result<VecDeque<StoragePath>> {
    let Some(cursor) = cursor else { return Ok(VecDeque::from([StoragePath::root()])) };
    let names: Vec<String> =
        serde_json::from_str(cursor).map_err(|_| Error::validation("cursor", "not a cursor this adapter gave"))?;
    names.iter().map(|n| StoragePath::from_encoded(n)).collect()
}

#[async_trait]
impl Integration for WebDav {
    fn descriptor(&self) -> &Descriptor {
        &self.descriptor
    }

    async fn connect(&self) -> Result<ConnectionInfo> {
        self.propfind(&self.base, "0").await?;
        Ok(ConnectionInfo::with_account(self.base.to_string(), None))
    }

    async fn health_check(&self) -> Result<Health> {
        Ok(Health::probe(self.propfind(&self.base, "0")).await)
    }

    async fn read(&self, request: ReadRequest) -> Result<Page> {
        crate::streams::read(self, request).await
    }
}

#[async_trait]
impl Storage for WebDav {
    async fn drives(&self) -> Result<Vec<Drive>> {
        Ok(vec![Drive {
            id: self.base.to_string(),
            name: self.base_names.last().cloned().unwrap_or_else(|| "/".into()),
            kind: Some("folder".into()),
            ..Drive::default()
        }])
    }

    /// One folder a page.
    async fn entries(&self, request: ListRequest) -> Result<Listing<Entry>> {
        let mut queue = queue_of(request.cursor.as_deref())?;
        let Some(folder) = queue.pop_front() else { return Ok(Listing::new(Vec::new(), None)) };
        let answer = match self.propfind(&self.url(&folder, true), "1").await {
            Ok(answer) => answer,
            // A folder removed since it was listed: nothing under it.
            Err(e) if e.kind() == ErrorKind::NotFound && !folder.is_root() => dav::Multistatus::default(),
            Err(e) => return Err(e),
        };
        let mut items = Vec::new();
        for entry in answer.responses.iter().filter_map(|r| self.entry_of(r)) {
            if entry.fields.path == folder || entry.fields.path.parent().as_ref() != Some(&folder) {
                continue;
            }
            if entry.fields.kind == EntryKind::Folder {
                queue.push_back(entry.fields.path.clone());
            }
            items.push(entry);
        }
        Ok(Listing::new(items, queue_cursor(&queue)?))
    }

    async fn entry(&self, path: &StoragePath) -> Result<Remote<Entry>> {
        self.existing(path).await?.ok_or_else(|| not_found(path))
    }

    async fn download(&self, path: &StoragePath, range: Option<ByteRange>) -> Result<StreamingResponse> {
        let request = self.http.get(self.url(path, false).as_str()).operation("webdav.get").read_only();
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
        if !options.metadata.is_empty() {
            return Err(Error::unsupported("metadata on WebDAV files").with_provider(PROVIDER));
        }
        if content.length().is_some_and(|l| l > MAX_UPLOAD_BYTES) {
            return Err(
                Error::unsupported(format!("WebDAV uploads over {MAX_UPLOAD_BYTES} bytes")).with_provider(PROVIDER)
            );
        }
        let mut parts = Parts::new(content, 1 << 20);
        let mut body = BytesMut::new();
        while let Some(part) = parts.next_part().await? {
            body.extend_from_slice(&part);
            if body.len() as u64 > MAX_UPLOAD_BYTES {
                return Err(
                    Error::unsupported(format!("WebDAV uploads over {MAX_UPLOAD_BYTES} bytes")).with_provider(PROVIDER)
                );
            }
        }
        parts.check_md5(options.expected_md5.as_deref())?;
        self.make_parents(path).await?;
        let mut request = self.http.put(self.url(path, false).as_str());
        if !options.overwrite {
            request = request.header("If-None-Match", "*");
        }
        request.body(body.freeze(), options.mime()).operation("webdav.put").idempotent().send().await.map_err(|e| {
            match e.kind() {
                ErrorKind::Conflict if !options.overwrite => {
                    Error::conflict(format!("{path} exists")).with_provider(PROVIDER)
                }
                _ => e,
            }
        })?;
        let mut entry = self.entry(path).await?;
        if entry.fields.size.is_some_and(|size| size != parts.total()) {
            return Err(Error::invalid_response(format!(
                "{path} holds {} bytes after {} were sent",
                entry.fields.size.unwrap_or(0),
                parts.total()
            ))
            .with_provider(PROVIDER));
        }
        entry.fields.checksums.md5 = Some(parts.md5_hex());
        Ok(entry)
    }

    async fn create_folder(&self, path: &StoragePath) -> Result<Remote<Entry>> {
        let mut at = StoragePath::root();
        for name in path.remote_names() {
            at = at.join_path(&StoragePath::from_remote_names([name.as_str()])?)?;
            self.mkcol(&at).await?;
        }
        self.entry(path).await
    }

    async fn copy(&self, from: &StoragePath, to: &StoragePath) -> Result<Remote<Entry>> {
        self.transfer("COPY", from, to, true).await
    }

    async fn move_to(&self, from: &StoragePath, to: &StoragePath) -> Result<Remote<Entry>> {
        self.transfer("MOVE", from, to, false).await
    }

    async fn delete(&self, path: &StoragePath) -> Result<()> {
        if path.is_root() {
            return Err(Error::validation("path", "the connection's root is not deleted"));
        }
        let folder = self.existing(path).await?.is_some_and(|e| e.fields.kind == EntryKind::Folder);
        match self.http.delete(self.url(path, folder).as_str()).operation("webdav.delete").send().await {
            Err(e) if e.kind() != ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}
