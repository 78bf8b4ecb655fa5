//! What an upload reads from: [`Content`], given piece by piece so that a large file never sits
//! in memory whole — bytes already in memory, another provider's download (what a backup
//! copies), or any stream of chunks — and [`Parts`], which cuts it into the pieces a provider
//! takes (S3's parts, a resumable session's chunks), counting the bytes and their MD5 on the
//! way.

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use integration_core::http::StreamingResponse;
use integration_core::{Error, Result};
use md5::Digest as _;

/// Content to upload, read piece by piece.
#[async_trait]
pub trait Content: Send {
    /// Its length in bytes, when known before reading it.
    fn length(&self) -> Option<u64>;
    /// The next piece, of any size; `None` at the end.
    ///
    /// # Errors
    /// The source's failure (a download that broke off).
    async fn next_chunk(&mut self) -> Result<Option<Bytes>>;
}

/// Bytes in memory.
#[derive(Debug, Clone, Default)]
pub struct InMemory(Option<Bytes>);

impl InMemory {
    /// The content `bytes`.
    pub fn new(bytes: impl Into<Bytes>) -> Self {
        Self(Some(bytes.into()))
    }
}

#[async_trait]
impl Content for InMemory {
    fn length(&self) -> Option<u64> {
        Some(self.0.as_ref().map_or(0, |b| b.len() as u64))
    }

    async fn next_chunk(&mut self) -> Result<Option<Bytes>> {
        Ok(self.0.take().filter(|b| !b.is_empty()))
    }
}

#[async_trait]
impl Content for StreamingResponse {
    fn length(&self) -> Option<u64> {
        self.content_length()
    }

    async fn next_chunk(&mut self) -> Result<Option<Bytes>> {
        self.chunk().await
    }
}

/// Content made by a function, chunk by chunk (a generator, a file read in a loop).
pub struct FromChunks<F> {
    length: Option<u64>,
    next: F,
}

impl<F> std::fmt::Debug for FromChunks<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FromChunks").field("length", &self.length).finish_non_exhaustive()
    }
}

impl<F> FromChunks<F>
where
    F: FnMut() -> Result<Option<Bytes>> + Send,
{
    /// Content of `length` bytes (when known) given by `next` until it answers `None`.
    pub fn new(length: Option<u64>, next: F) -> Self {
        Self { length, next }
    }
}

#[async_trait]
impl<F> Content for FromChunks<F>
where
    F: FnMut() -> Result<Option<Bytes>> + Send,
{
    fn length(&self) -> Option<u64> {
        self.length
    }

    async fn next_chunk(&mut self) -> Result<Option<Bytes>> {
        (self.next)()
    }
}

/// Content cut into parts of one size (the last shorter), with the bytes counted and the MD5
/// of all of it computed as the parts go by.
pub struct Parts<'a> {
    content: &'a mut dyn Content,
    size: usize,
    buffer: BytesMut,
    done: bool,
    gave_any: bool,
    total: u64,
    md5: md5::Md5,
    sha256: Option<sha2::Sha256>,
}

impl std::fmt::Debug for Parts<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Parts").field("size", &self.size).field("total", &self.total).finish_non_exhaustive()
    }
}

impl<'a> Parts<'a> {
    /// `content` in parts of `size` bytes.
    pub fn new(content: &'a mut dyn Content, size: usize) -> Self {
        Self {
            content,
            size: size.max(1),
            buffer: BytesMut::new(),
            done: false,
            gave_any: false,
            total: 0,
            md5: md5::Md5::new(),
            sha256: None,
        }
    }

    /// Computing the SHA-256 too (what OneDrive for Business and SharePoint report).
    #[must_use]
    pub fn with_sha256(mut self) -> Self {
        self.sha256 = Some(<sha2::Sha256 as sha2::Digest>::new());
        self
    }

    /// The SHA-256 (lower-case hex) of the bytes given so far, when asked for.
    pub fn sha256_hex(&self) -> Option<String> {
        self.sha256.clone().map(|h| integration_core::hex::encode(&sha2::Digest::finalize(h)))
    }

    /// The next part: `size` bytes, fewer for the last, `None` after it. An empty content is one
    /// empty part.
    ///
    /// # Errors
    /// The content's failure.
    pub async fn next_part(&mut self) -> Result<Option<Bytes>> {
        while !self.done && self.buffer.len() < self.size {
            match self.content.next_chunk().await? {
                Some(chunk) => self.buffer.extend_from_slice(&chunk),
                None => self.done = true,
            }
        }
        if self.buffer.is_empty() {
            if self.done && !self.gave_any {
                self.gave_any = true;
                return Ok(Some(Bytes::new()));
            }
            return Ok(None);
        }
        self.gave_any = true;
        let take = self.buffer.len().min(self.size);
        let part = self.buffer.split_to(take).freeze();
        self.total += part.len() as u64;
        self.md5.update(&part);
        if let Some(sha256) = self.sha256.as_mut() {
            sha2::Digest::update(sha256, &part);
        }
        Ok(Some(part))
    }

    /// Whether every byte has been given.
    pub fn finished(&self) -> bool {
        self.done && self.buffer.is_empty()
    }

    /// The bytes given so far.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The MD5 (lower-case hex) of the bytes given so far.
    pub fn md5_hex(&self) -> String {
        integration_core::hex::encode(&self.md5.clone().finalize())
    }

    /// Checks the content's MD5 against `expected` (lower-case hex), if given.
    ///
    /// # Errors
    /// A `Validation` error naming both when they differ.
    pub fn check_md5(&self, expected: Option<&str>) -> Result<()> {
        match expected {
            Some(expected) if !expected.eq_ignore_ascii_case(&self.md5_hex()) => Err(Error::validation(
                "expected_md5",
                format!("the content's MD5 is {}, not the {expected} expected", self.md5_hex()),
            )),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn content_is_cut_into_parts_of_one_size_and_its_md5_counted() {
        let mut chunks =
            vec![Bytes::from_static(b"abc"), Bytes::from_static(b"defgh"), Bytes::from_static(b"ij")].into_iter();
        let mut content = FromChunks::new(None, move || Ok(chunks.next()));
        let mut parts = Parts::new(&mut content, 4);
        let mut got = Vec::new();
        while let Some(part) = parts.next_part().await.expect("a part") {
            got.push(part);
        }
        assert_eq!(got, [&b"abcd"[..], b"efgh", b"ij"]);
        assert_eq!(parts.total(), 10);
        assert_eq!(parts.md5_hex(), integration_core::hex::encode(&md5::Md5::digest(b"abcdefghij")));
        assert!(parts.check_md5(Some("00")).is_err());
        assert!(parts.finished());
    }

    #[tokio::test]
    async fn empty_content_is_one_empty_part() {
        let mut content = InMemory::new(Bytes::new());
        let mut parts = Parts::new(&mut content, 4);
        assert_eq!(parts.next_part().await.expect("a part"), Some(Bytes::new()));
        assert_eq!(parts.next_part().await.expect("the end"), None);
        assert_eq!(parts.total(), 0);
        assert_eq!(parts.md5_hex(), "d41d8cd98f00b204e9800998ecf8427e");
    }
}
