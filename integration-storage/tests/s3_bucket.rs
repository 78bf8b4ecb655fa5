//! One bucket against the real moto: keys with spaces, `+`, `%` and non-ASCII written, listed
//! page by page with their ETags (the MD5 of the content), listed a level at a time, looked up,
//! read whole and by range as a stream, copied and deleted.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::Arc;

use integration_core::http::{HttpClient, HttpPolicy, StreamingResponse};
use integration_core::{ErrorKind, ProviderId};
use integration_storage::s3::{Addressing, Bucket, SigV4};
use integration_testkit::peers::Moto;

fn bucket(moto: &Moto, name: &str) -> Bucket {
    let client = HttpClient::new()
        .expect("client")
        .provider_with(ProviderId::new("s3").expect("id"), HttpPolicy::standard())
        .with_auth(Arc::new(SigV4::new("AKIAEXAMPLE", "secret-example-key", "us-east-1")));
    Bucket::new(client, moto.url(), name, Addressing::Path).expect("a bucket")
}

async fn read(mut response: StreamingResponse) -> Vec<u8> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.expect("a chunk") {
        body.extend_from_slice(&chunk);
    }
    body
}

fn md5_hex(content: &str) -> String {
    use md5::Digest as _;
    integration_core::hex::encode(&md5::Md5::digest(content.as_bytes()))
}

async fn objects_are_written_listed_read_copied_and_deleted() {
    let Some(moto) = Moto::start() else { return };
    let bucket = bucket(&moto, "archive");
    bucket.create().await.expect("created");
    let objects = BTreeMap::from([
        ("a.txt", "alpha"),
        ("docs/readme.md", "# readme"),
        ("docs/2026/plan v2.txt", "the plan"),
        ("docs/deep/x.bin", "0123456789"),
        ("plus+and%percent.txt", "odd"),
        ("unicode/Café ☕.txt", "coffee"),
    ]);
    for (key, content) in &objects {
        let etag = bucket.put(key, bytes::Bytes::from_static(content.as_bytes()), "text/plain").await.expect(key);
        assert_eq!(etag, md5_hex(content), "{key}");
    }

    // Page by page, two at a time: every key once, in key order, with its ETag and size.
    let (mut listed, mut next, mut pages) = (Vec::new(), None::<String>, 0);
    loop {
        let page = bucket.list("", None, next.as_deref(), 2).await.expect("a page");
        assert!(page.objects.len() <= 2);
        listed.extend(page.objects);
        pages += 1;
        match page.next {
            Some(token) => next = Some(token),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let keys: Vec<&str> = listed.iter().map(|o| o.key.as_str()).collect();
    assert_eq!(keys, objects.keys().copied().collect::<Vec<_>>());
    for object in &listed {
        let content = objects[object.key.as_str()];
        assert_eq!((object.size, object.etag.clone()), (content.len() as u64, md5_hex(content)), "{}", object.key);
        assert!(object.last_modified.is_some());
    }

    // One level at a time.
    let level = bucket.list("docs/", Some("/"), None, 1000).await.expect("a level");
    assert_eq!(level.objects.iter().map(|o| o.key.as_str()).collect::<Vec<_>>(), ["docs/readme.md"]);
    assert_eq!(level.prefixes, ["docs/2026/", "docs/deep/"]);

    // Looked up, read whole and by range.
    let found = bucket.head("unicode/Café ☕.txt").await.expect("a lookup").expect("there");
    assert_eq!((found.size, found.etag.as_str()), (6, md5_hex("coffee").as_str()));
    assert!(bucket.head("docs/missing.txt").await.expect("a lookup").is_none());
    assert_eq!(read(bucket.get("plus+and%percent.txt", None).await.expect("read")).await, b"odd");
    assert_eq!(read(bucket.get("docs/deep/x.bin", Some((2, Some(5)))).await.expect("a range")).await, b"2345");
    assert_eq!(read(bucket.get("docs/deep/x.bin", Some((7, None))).await.expect("to the end")).await, b"789");
    let missing = bucket.get("nope.txt", None).await.expect_err("no such key");
    assert_eq!(missing.kind(), ErrorKind::NotFound);

    // Copied server-side, then deleted (twice: S3 answers the same).
    bucket.copy("docs/2026/plan v2.txt", "copies/plan v2.txt").await.expect("copied");
    assert_eq!(read(bucket.get("copies/plan v2.txt", None).await.expect("the copy")).await, b"the plan");
    bucket.delete("a.txt").await.expect("deleted");
    bucket.delete("a.txt").await.expect("deleted again");
    assert!(bucket.head("a.txt").await.expect("a lookup").is_none());
}

fn keys_and_names_that_cannot_be_addressed_are_refused() {
    let client =
        HttpClient::new().expect("client").provider_with(ProviderId::new("s3").expect("id"), HttpPolicy::standard());
    let bucket = Bucket::new(client.clone(), "http://127.0.0.1:9000", "archive", Addressing::Path).expect("a bucket");
    for key in ["", "a/../b", "../up", "a/./b", "."] {
        assert_eq!(bucket.object_url(key).expect_err(key).field(), Some("key"), "{key}");
    }
    assert_eq!(bucket.object_url("a b/c+d%e☕").expect("encoded").path(), "/archive/a%20b/c%2Bd%25e%E2%98%95");
    let virtual_host =
        Bucket::new(client.clone(), "https://s3.eu-west-1.amazonaws.com", "archive", Addressing::VirtualHost)
            .expect("a bucket");
    assert_eq!(virtual_host.object_url("k").expect("a URL").as_str(), "https://archive.s3.eu-west-1.amazonaws.com/k");
    for name in ["A", "ab", "Upper", "-dash", "under_score", &"x".repeat(64)] {
        assert_eq!(
            Bucket::new(client.clone(), "http://127.0.0.1:9000", name, Addressing::Path).expect_err(name).kind(),
            ErrorKind::Config
        );
    }
}

async fn fifty_megabytes_go_up_in_parts_with_their_checksum_and_come_back_the_same() {
    use md5::Digest as _;
    let Some(moto) = Moto::start() else { return };
    let bucket = bucket(&moto, "big");
    bucket.create().await.expect("created");
    const TOTAL: usize = 50 * 1024 * 1024;
    const PART: usize = 8 * 1024 * 1024;
    let byte_at = |offset: usize| (offset.wrapping_mul(2_654_435_761) >> 13) as u8;
    let mut sent = md5::Md5::new();
    let mut upload = bucket.start_multipart("backups/archive.bin", "application/octet-stream").await.expect("started");
    let mut offset = 0;
    while offset < TOTAL {
        let part: Vec<u8> = (offset..TOTAL.min(offset + PART)).map(byte_at).collect();
        sent.update(&part);
        offset += part.len();
        upload.part(bytes::Bytes::from(part)).await.expect("a part");
    }
    let etag = upload.complete().await.expect("completed and checked");
    assert!(etag.ends_with("-7"), "seven parts: {etag}");
    let found = bucket.head("backups/archive.bin").await.expect("a lookup").expect("there");
    assert_eq!((found.size, found.etag), (TOTAL as u64, etag));

    // Read back as a stream, chunk by chunk, and compared by digest.
    let mut response = bucket.get("backups/archive.bin", None).await.expect("read");
    let (mut received, mut digest) = (0usize, md5::Md5::new());
    while let Some(chunk) = response.chunk().await.expect("a chunk") {
        received += chunk.len();
        digest.update(&chunk);
    }
    assert_eq!(received, TOTAL);
    assert_eq!(digest.finalize(), sent.finalize(), "the same bytes");

    // An upload given up leaves nothing behind.
    let mut abandoned =
        bucket.start_multipart("backups/abandoned.bin", "application/octet-stream").await.expect("started");
    abandoned.part(bytes::Bytes::from(vec![7u8; 1024])).await.expect("a part");
    abandoned.abort().await.expect("aborted");
    assert!(bucket.head("backups/abandoned.bin").await.expect("a lookup").is_none());
    let empty = bucket.start_multipart("backups/empty.bin", "application/octet-stream").await.expect("started");
    assert_eq!(empty.complete().await.expect_err("no parts").field(), Some("part"));
}

async fn versions_are_kept_listed_read_and_restored() {
    let Some(moto) = Moto::start() else { return };
    let bucket = bucket(&moto, "versioned");
    bucket.create().await.expect("created");
    bucket.set_versioning(true).await.expect("versioning on");
    let key = "contracts/acme v1.txt";
    for content in ["first draft", "second draft", "signed"] {
        bucket.put(key, bytes::Bytes::from_static(content.as_bytes()), "text/plain").await.expect(content);
    }
    bucket
        .put("contracts/acme v1.txt.bak", bytes::Bytes::from_static(b"other"), "text/plain")
        .await
        .expect("a neighbour");
    let versions = bucket.versions(key).await.expect("listed");
    assert_eq!(versions.len(), 3, "only this key's: {versions:?}");
    assert!(versions[0].is_latest && !versions[1].is_latest && !versions[2].is_latest, "newest first");
    assert_eq!(versions.iter().map(|v| v.size).collect::<Vec<_>>(), [Some(6), Some(12), Some(11)]);
    let first = &versions[2].version_id;
    assert_eq!(read(bucket.get_version(key, first).await.expect("the first version")).await, b"first draft");

    // Restoring the first draft makes it current again; the versions between are kept.
    bucket.restore_version(key, first).await.expect("restored");
    assert_eq!(read(bucket.get(key, None).await.expect("current")).await, b"first draft");
    assert_eq!(bucket.versions(key).await.expect("listed").len(), 4);

    // A delete leaves a marker; the content is still there by version.
    bucket.delete(key).await.expect("deleted");
    let after = bucket.versions(key).await.expect("listed");
    assert!(after[0].is_deletion && after[0].is_latest && after[0].size.is_none(), "{:?}", after[0]);
    assert!(bucket.head(key).await.expect("a lookup").is_none());
    assert_eq!(read(bucket.get_version(key, first).await.expect("by version")).await, b"first draft");
    let missing = bucket.get_version(key, "no-such-version").await.expect_err("no such version");
    assert!(matches!(missing.status(), Some(400 | 404)), "{missing}");
}

fn main() -> std::process::ExitCode {
    use integration_testkit::harness::{self, Need};
    harness::run(
        &[Need::python("moto")],
        integration_testkit::trials![async objects_are_written_listed_read_copied_and_deleted, sync keys_and_names_that_cannot_be_addressed_are_refused, async fifty_megabytes_go_up_in_parts_with_their_checksum_and_come_back_the_same, async versions_are_kept_listed_read_and_restored],
    )
}
