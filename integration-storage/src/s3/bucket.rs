//! One S3 bucket over the core HTTP client (signed by [`SigV4`](super::SigV4)): objects listed
//! (ListObjectsV2, page by page, with ETags and sizes — what change detection compares),
//! looked up, read as a stream (whole or a byte range), written, copied and deleted. S3's XML
//! answers are read with `roxmltree`; its refusals keep their XML body in the error.
//!
//! Keys are written into the URL path one segment per `/`, each percent-encoded as SigV4's
//! canonical request wants it (everything but `A–Z a–z 0–9 - _ . ~`). A key with a `.` or `..`
//! segment cannot be addressed that way — URLs resolve dot segments, encoded or not — and is
//! refused rather than sent to another object.

use std::collections::BTreeMap;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use integration_core::http::{ProviderClient, StreamingResponse};
use integration_core::{Error, ErrorKind, Result};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use url::Url;

/// What SigV4 leaves unencoded in a path segment.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// How a bucket is addressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Addressing {
    /// `https://endpoint/bucket/key` (MinIO, moto, most S3-compatible stores).
    Path,
    /// `https://bucket.endpoint/key` (AWS's default).
    VirtualHost,
}

/// An object as a listing or a lookup gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    /// Its key.
    pub key: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its ETag, quotes removed (the MD5 of a single-part upload's content).
    pub etag: String,
    /// When it was last written.
    pub last_modified: Option<DateTime<Utc>>,
    /// Its `Content-Type` (a lookup gives it; a listing does not).
    pub content_type: Option<String>,
    /// Its user metadata (`x-amz-meta-*`, names in lower case; a lookup gives it, a listing
    /// does not).
    pub metadata: BTreeMap<String, String>,
}

/// One page of a listing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectPage {
    /// The objects, in key order.
    pub objects: Vec<ObjectInfo>,
    /// The common prefixes (folders) when listed with a delimiter.
    pub prefixes: Vec<String>,
    /// Where the next page starts, if there is one.
    pub next: Option<String>,
}

/// One bucket.
#[derive(Debug, Clone)]
pub struct Bucket {
    client: ProviderClient,
    base: Url,
    name: String,
}

/// `key` as a URL path: each segment percent-encoded as SigV4's canonical request wants it.
fn encoded_key(key: &str) -> Result<String> {
    if key.is_empty() || key.split('/').any(|s| s == "." || s == "..") {
        return Err(Error::validation("key", format!("the S3 key {key:?} cannot be addressed in a URL path")));
    }
    Ok(key.split('/').map(|s| utf8_percent_encode(s, SEGMENT).to_string()).collect::<Vec<_>>().join("/"))
}

fn invalid(message: String) -> Error {
    Error::invalid_response(message)
}

fn text<'a>(node: roxmltree::Node<'a, '_>, tag: &str) -> Option<&'a str> {
    node.children().find(|c| c.has_tag_name(tag)).and_then(|c| c.text())
}

fn parse_xml(body: &[u8]) -> Result<String> {
    String::from_utf8(body.to_vec()).map_err(|_| invalid("S3 answered with XML that is not UTF-8".into()))
}

fn object(node: roxmltree::Node<'_, '_>) -> Result<ObjectInfo> {
    let key = text(node, "Key").ok_or_else(|| invalid("a listed object has no Key".into()))?;
    let size = text(node, "Size").and_then(|s| s.parse().ok()).unwrap_or(0);
    let etag = text(node, "ETag").unwrap_or_default().trim_matches('"').to_owned();
    let last_modified =
        text(node, "LastModified").and_then(|t| DateTime::parse_from_rfc3339(t).ok()).map(|t| t.to_utc());
    Ok(ObjectInfo { key: key.to_owned(), size, etag, last_modified, content_type: None, metadata: BTreeMap::new() })
}

/// The headers that write `metadata` as S3 user metadata: names of `a–z 0–9 - _` (S3 keeps them
/// in lower case), values of printable ASCII (what S3 keeps as it was sent).
fn metadata_headers(metadata: &BTreeMap<String, String>) -> Result<Vec<(String, String)>> {
    metadata
        .iter()
        .map(|(name, value)| {
            let name = name.to_ascii_lowercase();
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
                return Err(Error::validation(
                    "metadata",
                    format!("{name:?} cannot be an S3 metadata name (a–z 0–9 - _)"),
                ));
            }
            if !value.bytes().all(|b| (b' '..=b'~').contains(&b)) {
                return Err(Error::validation("metadata", format!("the S3 metadata {name:?} must be printable ASCII")));
            }
            Ok((format!("x-amz-meta-{name}"), value.clone()))
        })
        .collect()
}

impl Bucket {
    /// The bucket `name` at `endpoint` (`https://s3.eu-west-1.amazonaws.com`,
    /// `http://127.0.0.1:9000`), through `client` (give it a [`SigV4`](super::SigV4)
    /// authenticator).
    ///
    /// # Errors
    /// A `Config` error for an endpoint that is not a URL or a bucket name S3 would refuse.
    pub fn new(client: ProviderClient, endpoint: &str, name: &str, addressing: Addressing) -> Result<Self> {
        let valid = (3..=63).contains(&name.len())
            && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
            && name.starts_with(|c: char| c.is_ascii_alphanumeric())
            && name.ends_with(|c: char| c.is_ascii_alphanumeric());
        if !valid {
            return Err(Error::new(
                ErrorKind::Config,
                format!("{name:?} is not an S3 bucket name (3–63 of a–z 0–9 . -)"),
            ));
        }
        let mut base = Url::parse(endpoint)
            .map_err(|e| Error::new(ErrorKind::Config, format!("the S3 endpoint is not a URL: {e}")))?;
        match addressing {
            Addressing::Path => {
                let path = format!("{}/{name}", base.path().trim_end_matches('/'));
                base.set_path(&path);
            }
            Addressing::VirtualHost => {
                let host = base.host_str().unwrap_or_default().to_owned();
                base.set_host(Some(&format!("{name}.{host}")))
                    .map_err(|e| Error::new(ErrorKind::Config, format!("the S3 endpoint has no host: {e}")))?;
            }
        }
        Ok(Self { client, base, name: name.to_owned() })
    }

    /// The bucket's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The URL of the object `key`.
    ///
    /// # Errors
    /// A `Validation` error for an empty key or one with a `.` or `..` segment.
    pub fn object_url(&self, key: &str) -> Result<Url> {
        let mut url = self.base.clone();
        let path = format!("{}/{}", url.path().trim_end_matches('/'), encoded_key(key)?);
        url.set_path(&path);
        Ok(url)
    }

    /// `x-amz-copy-source` for the object `key` (of `version_id`, if given) in this bucket.
    fn copy_source(&self, key: &str, version_id: Option<&str>) -> Result<String> {
        let mut source = format!("/{}/{}", self.name, encoded_key(key)?);
        if let Some(version) = version_id {
            source.push_str(&format!("?versionId={}", utf8_percent_encode(version, SEGMENT)));
        }
        Ok(source)
    }

    fn root(&self) -> Url {
        let mut url = self.base.clone();
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        url
    }

    /// Creates the bucket.
    ///
    /// # Errors
    /// S3's refusal (`409 BucketAlreadyOwnedByYou`…).
    pub async fn create(&self) -> Result<()> {
        self.client.put(self.root().as_str()).operation("s3.create_bucket").send().await.map(drop)
    }

    /// One page of the objects under `prefix` (with `delimiter` `/`: one level, sub-folders as
    /// prefixes), continuing from `next` (a previous page's), at most `max_keys` (1–1,000).
    ///
    /// # Errors
    /// S3's refusal; an `InvalidResponse` error for an answer that is not a listing.
    pub async fn list(
        &self,
        prefix: &str,
        delimiter: Option<&str>,
        next: Option<&str>,
        max_keys: u32,
    ) -> Result<ObjectPage> {
        let max_keys = max_keys.clamp(1, 1000).to_string();
        let mut query = vec![("list-type", "2"), ("prefix", prefix), ("max-keys", max_keys.as_str())];
        if let Some(delimiter) = delimiter {
            query.push(("delimiter", delimiter));
        }
        if let Some(token) = next {
            query.push(("continuation-token", token));
        }
        let response = self
            .client
            .get(self.root().as_str())
            .query(&query)
            .operation("s3.list_objects_v2")
            .read_only()
            .send()
            .await?;
        let xml = parse_xml(response.bytes())?;
        let document = roxmltree::Document::parse(&xml).map_err(|e| invalid(format!("the listing is not XML: {e}")))?;
        let root = document.root_element();
        if !root.has_tag_name("ListBucketResult") {
            return Err(invalid(format!("the listing's root is <{}>", root.tag_name().name())));
        }
        let mut page = ObjectPage::default();
        for child in root.children().filter(roxmltree::Node::is_element) {
            match child.tag_name().name() {
                "Contents" => page.objects.push(object(child)?),
                "CommonPrefixes" => page.prefixes.extend(text(child, "Prefix").map(str::to_owned)),
                _ => {}
            }
        }
        let truncated = text(root, "IsTruncated") == Some("true");
        page.next = text(root, "NextContinuationToken").filter(|_| truncated).map(str::to_owned);
        if truncated && page.next.is_none() {
            return Err(invalid("the listing is truncated but gives no continuation token".into()));
        }
        Ok(page)
    }

    /// The object `key`, if it exists (`HEAD`).
    ///
    /// # Errors
    /// S3's refusal other than `404`.
    pub async fn head(&self, key: &str) -> Result<Option<ObjectInfo>> {
        let url = self.object_url(key)?;
        let response = self
            .client
            .request(integration_core::http::Method::HEAD, url.as_str())
            .operation("s3.head_object")
            .read_only()
            .send()
            .await;
        let response = match response {
            Ok(response) => response,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let etag = response.header("etag").unwrap_or_default().trim_matches('"').to_owned();
        let size = response.header("content-length").and_then(|l| l.parse().ok()).unwrap_or(0);
        let last_modified =
            response.header("last-modified").and_then(|t| DateTime::parse_from_rfc2822(t).ok()).map(|t| t.to_utc());
        let content_type = response.header("content-type").map(str::to_owned);
        let metadata = response
            .headers()
            .iter()
            .filter_map(|(name, value)| {
                let name = name.as_str().strip_prefix("x-amz-meta-")?;
                Some((name.to_owned(), value.to_str().ok()?.to_owned()))
            })
            .collect();
        Ok(Some(ObjectInfo { key: key.to_owned(), size, etag, last_modified, content_type, metadata }))
    }

    /// The object `key`'s content as a stream: whole, or the bytes `range` (inclusive, an open
    /// end reading to the end).
    ///
    /// # Errors
    /// S3's refusal (`404 NoSuchKey`, `416` for a range past the end).
    pub async fn get(&self, key: &str, range: Option<(u64, Option<u64>)>) -> Result<StreamingResponse> {
        let url = self.object_url(key)?;
        let mut request = self.client.get(url.as_str()).operation("s3.get_object").read_only();
        if let Some((start, end)) = range {
            let end = end.map(|e| e.to_string()).unwrap_or_default();
            request = request.header("range", &format!("bytes={start}-{end}"));
        }
        request.send_streaming().await
    }

    /// Writes `body` as the object `key` (one request: up to 5 GiB; larger content goes in
    /// parts), with its `Content-Type` and a `Content-MD5` S3 checks the content against.
    /// Returns the new ETag.
    ///
    /// # Errors
    /// S3's refusal (`400 BadDigest` when the content arrived changed).
    pub async fn put(&self, key: &str, body: Bytes, content_type: &str) -> Result<String> {
        self.put_with(key, body, content_type, &BTreeMap::new()).await
    }

    /// [`put`](Self::put), with user `metadata` (`x-amz-meta-*`).
    ///
    /// # Errors
    /// As `put`; a `Validation` error for a metadata name or value S3 would not keep as given.
    pub async fn put_with(
        &self,
        key: &str,
        body: Bytes,
        content_type: &str,
        metadata: &BTreeMap<String, String>,
    ) -> Result<String> {
        use base64::Engine as _;
        let url = self.object_url(key)?;
        let md5 = base64::engine::general_purpose::STANDARD.encode(<md5::Md5 as md5::Digest>::digest(&body));
        let mut request = self.client.put(url.as_str());
        for (name, value) in metadata_headers(metadata)? {
            request = request.header(&name, &value);
        }
        let response = request
            .header("content-md5", &md5)
            .body(body, content_type)
            .operation("s3.put_object")
            .idempotent()
            .send()
            .await?;
        Ok(response.header("etag").unwrap_or_default().trim_matches('"').to_owned())
    }

    /// Begins writing the object `key` in parts (content above a few MiB, up to 5 TiB): each
    /// [`MultipartUpload::part`] is sent as it is given, so memory holds one part at a time.
    ///
    /// # Errors
    /// S3's refusal; an `InvalidResponse` error for an answer without an upload id.
    pub async fn start_multipart(&self, key: &str, content_type: &str) -> Result<MultipartUpload> {
        self.start_multipart_with(key, content_type, &BTreeMap::new()).await
    }

    /// [`start_multipart`](Self::start_multipart), with user `metadata` (`x-amz-meta-*`).
    ///
    /// # Errors
    /// As `start_multipart`; a `Validation` error for metadata S3 would not keep as given.
    pub async fn start_multipart_with(
        &self,
        key: &str,
        content_type: &str,
        metadata: &BTreeMap<String, String>,
    ) -> Result<MultipartUpload> {
        let url = self.object_url(key)?;
        let mut request = self.client.post(url.as_str());
        for (name, value) in metadata_headers(metadata)? {
            request = request.header(&name, &value);
        }
        let response = request
            .query(&[("uploads", "")])
            .header("content-type", content_type)
            .operation("s3.create_multipart_upload")
            .send()
            .await?;
        let xml = parse_xml(response.bytes())?;
        let document =
            roxmltree::Document::parse(&xml).map_err(|e| invalid(format!("the upload's answer is not XML: {e}")))?;
        let upload_id = text(document.root_element(), "UploadId")
            .ok_or_else(|| invalid("the answer to a multipart upload has no UploadId".into()))?
            .to_owned();
        Ok(MultipartUpload { bucket: self.clone(), url, upload_id, parts: Vec::new(), digests: Vec::new() })
    }

    /// Turns versioning on (or suspends it): every write then keeps the one before it.
    ///
    /// # Errors
    /// S3's refusal.
    pub async fn set_versioning(&self, enabled: bool) -> Result<()> {
        let status = if enabled { "Enabled" } else { "Suspended" };
        let body = format!(
            "<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Status>{status}</Status></VersioningConfiguration>"
        );
        self.client
            .put(self.root().as_str())
            .query(&[("versioning", "")])
            .body(body, "application/xml")
            .operation("s3.put_bucket_versioning")
            .idempotent()
            .send()
            .await
            .map(drop)
    }

    /// The versions of the object `key`, newest first — delete markers included — as S3
    /// lists them (ListObjectVersions; at most 1,000 a page, every page read).
    ///
    /// # Errors
    /// S3's refusal; an `InvalidResponse` error for an answer that is not a version listing.
    pub async fn versions(&self, key: &str) -> Result<Vec<crate::model::Version>> {
        let mut versions = Vec::new();
        let mut markers: Option<(String, String)> = None;
        for _ in 0..10_000 {
            let mut query = vec![("versions", String::new()), ("prefix", key.to_owned())];
            if let Some((key_marker, version_marker)) = &markers {
                query.push(("key-marker", key_marker.clone()));
                query.push(("version-id-marker", version_marker.clone()));
            }
            let response = self
                .client
                .get(self.root().as_str())
                .query(&query)
                .operation("s3.list_object_versions")
                .read_only()
                .send()
                .await?;
            let xml = parse_xml(response.bytes())?;
            let document = roxmltree::Document::parse(&xml)
                .map_err(|e| invalid(format!("the version listing is not XML: {e}")))?;
            let root = document.root_element();
            if !root.has_tag_name("ListVersionsResult") {
                return Err(invalid(format!("the version listing's root is <{}>", root.tag_name().name())));
            }
            for child in root.children().filter(roxmltree::Node::is_element) {
                let deletion = match child.tag_name().name() {
                    "Version" => false,
                    "DeleteMarker" => true,
                    _ => continue,
                };
                // A prefix listing: only this very key.
                if text(child, "Key") != Some(key) {
                    continue;
                }
                versions.push(crate::model::Version {
                    version_id: text(child, "VersionId").unwrap_or_default().to_owned(),
                    size: if deletion { None } else { text(child, "Size").and_then(|s| s.parse().ok()) },
                    modified_at: text(child, "LastModified")
                        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                        .map(|t| t.to_utc()),
                    is_latest: text(child, "IsLatest") == Some("true"),
                    is_deletion: deletion,
                });
            }
            if text(root, "IsTruncated") != Some("true") {
                // Newest first: the current one, then by time (a stable sort keeps S3's order
                // within one second; some S3-compatible stores list delete markers after all
                // versions).
                versions.sort_by(|a, b| b.is_latest.cmp(&a.is_latest).then(b.modified_at.cmp(&a.modified_at)));
                return Ok(versions);
            }
            let next = (text(root, "NextKeyMarker"), text(root, "NextVersionIdMarker"));
            let (Some(key_marker), Some(version_marker)) = next else {
                return Err(invalid("the version listing is truncated but gives no markers".into()));
            };
            markers = Some((key_marker.to_owned(), version_marker.to_owned()));
        }
        Err(invalid("the version listing did not end after 10,000 pages".into()))
    }

    /// One version of the object `key` as a stream.
    ///
    /// # Errors
    /// S3's refusal (`404 NoSuchVersion`).
    pub async fn get_version(&self, key: &str, version_id: &str) -> Result<StreamingResponse> {
        let url = self.object_url(key)?;
        self.client
            .get(url.as_str())
            .query(&[("versionId", version_id)])
            .operation("s3.get_object_version")
            .read_only()
            .send_streaming()
            .await
    }

    /// Makes an earlier version of `key` the current one again (a server-side copy of it onto
    /// the key: the versions in between are kept). Returns the new version's id, if S3 gives it.
    ///
    /// # Errors
    /// S3's refusal (`404 NoSuchVersion`).
    pub async fn restore_version(&self, key: &str, version_id: &str) -> Result<Option<String>> {
        let url = self.object_url(key)?;
        let source = self.copy_source(key, Some(version_id))?;
        let response = self
            .client
            .put(url.as_str())
            .header("x-amz-copy-source", &source)
            .operation("s3.restore_object_version")
            .idempotent()
            .send()
            .await?;
        Ok(response.header("x-amz-version-id").map(str::to_owned))
    }

    /// Copies the object `from` to `to` in this bucket (server-side).
    ///
    /// # Errors
    /// S3's refusal (`404 NoSuchKey` for `from`).
    pub async fn copy(&self, from: &str, to: &str) -> Result<()> {
        let source = self.copy_source(from, None)?;
        let url = self.object_url(to)?;
        self.client
            .put(url.as_str())
            .header("x-amz-copy-source", &source)
            .operation("s3.copy_object")
            .idempotent()
            .send()
            .await
            .map(drop)
    }

    /// Deletes the object `key` (done whether or not it existed, as S3 answers).
    ///
    /// # Errors
    /// S3's refusal.
    pub async fn delete(&self, key: &str) -> Result<()> {
        let url = self.object_url(key)?;
        self.client.delete(url.as_str()).operation("s3.delete_object").send().await.map(drop)
    }
}

/// The smallest part S3 takes (but the last).
pub const MIN_PART_BYTES: usize = 5 * 1024 * 1024;

/// An object being written in parts ([`Bucket::start_multipart`]). Abort it when giving up, or
/// S3 keeps (and bills) the parts sent.
#[derive(Debug)]
pub struct MultipartUpload {
    bucket: Bucket,
    url: Url,
    upload_id: String,
    /// The ETag S3 gave each part, in order.
    parts: Vec<String>,
    /// Each part's MD5, for the whole object's ETag.
    digests: Vec<[u8; 16]>,
}

impl MultipartUpload {
    /// Sends the next part (at least [`MIN_PART_BYTES`] but for the last) with its `Content-MD5`,
    /// which S3 checks.
    ///
    /// # Errors
    /// A `Validation` error past 10,000 parts; S3's refusal (`400 BadDigest`).
    pub async fn part(&mut self, content: Bytes) -> Result<()> {
        use base64::Engine as _;
        use md5::Digest as _;
        let number = self.parts.len() + 1;
        if number > 10_000 {
            return Err(Error::validation("part", "S3 takes at most 10,000 parts"));
        }
        let digest: [u8; 16] = md5::Md5::digest(&content).into();
        let number = number.to_string();
        let response = self
            .bucket
            .client
            .put(self.url.as_str())
            .query(&[("partNumber", number.as_str()), ("uploadId", self.upload_id.as_str())])
            .header("content-md5", &base64::engine::general_purpose::STANDARD.encode(digest))
            .body(content, "application/octet-stream")
            .operation("s3.upload_part")
            .idempotent()
            .send()
            .await?;
        self.parts.push(response.header("etag").unwrap_or_default().trim_matches('"').to_owned());
        self.digests.push(digest);
        Ok(())
    }

    /// Completes the object from the parts sent, and checks S3's ETag for it against the one
    /// the parts' own MD5s give (`md5(md5₁ … mdₙ)-n`). Returns the ETag.
    ///
    /// # Errors
    /// A `Validation` error with no part sent; S3's refusal; an `InvalidResponse` error when the
    /// object S3 assembled is not the one sent.
    pub async fn complete(self) -> Result<String> {
        use md5::Digest as _;
        if self.parts.is_empty() {
            return Err(Error::validation("part", "a multipart upload needs at least one part"));
        }
        let mut body = String::from("<CompleteMultipartUpload>");
        for (i, etag) in self.parts.iter().enumerate() {
            let etag: String = etag.chars().filter(char::is_ascii_alphanumeric).collect();
            body.push_str(&format!("<Part><PartNumber>{}</PartNumber><ETag>\"{etag}\"</ETag></Part>", i + 1));
        }
        body.push_str("</CompleteMultipartUpload>");
        let response = self
            .bucket
            .client
            .post(self.url.as_str())
            .query(&[("uploadId", self.upload_id.as_str())])
            .body(body, "application/xml")
            .operation("s3.complete_multipart_upload")
            .idempotent()
            .send()
            .await?;
        let xml = parse_xml(response.bytes())?;
        let document = roxmltree::Document::parse(&xml)
            .map_err(|e| invalid(format!("the completion's answer is not XML: {e}")))?;
        let root = document.root_element();
        if root.has_tag_name("Error") {
            // S3 may answer 200 and then an error in the body.
            return Err(invalid(format!(
                "S3 could not complete the upload: {}",
                text(root, "Code").unwrap_or("an error")
            )));
        }
        let etag = text(root, "ETag").unwrap_or_default().trim_matches('"').to_owned();
        let mut all = md5::Md5::new();
        for digest in &self.digests {
            all.update(digest);
        }
        let expected = format!("{}-{}", integration_core::hex::encode(&all.finalize()), self.digests.len());
        if etag != expected {
            return Err(invalid(format!("the object S3 assembled has the ETag {etag}, not {expected}")));
        }
        Ok(etag)
    }

    /// Gives up: S3 forgets the parts sent.
    ///
    /// # Errors
    /// S3's refusal.
    pub async fn abort(self) -> Result<()> {
        self.bucket
            .client
            .delete(self.url.as_str())
            .query(&[("uploadId", self.upload_id.as_str())])
            .operation("s3.abort_multipart_upload")
            .send()
            .await
            .map(drop)
    }
}
