//! The storage contract: what every storage adapter must hold, run against its provider's test
//! server — S3 against the real moto, WebDAV against the real WsgiDAV, Drive, Graph and Dropbox
//! against their fakes.
//!
//! | rule | what it checks |
//! |---|---|
//! | `a_file_is_written_and_read_whole_and_by_range` | what was uploaded reads back whole and by range; its size and MD5 are the content's |
//! | `a_large_file_is_sent_in_parts_and_checked` | 20 MiB streamed from a generator arrives whole (MD5 compared); a wrong expected MD5 fails and leaves nothing |
//! | `files_are_copied_moved_renamed_and_deleted` | copy, move to another folder, rename, a move onto an existing file refused (`Conflict`), `overwrite: false` refused, deletes (twice is fine), a deleted file `NotFound` |
//! | `an_incremental_sync_finds_exactly_the_changes` | random adds, modifies, deletes, moves and renames of files, and moves of a folder with what it holds, over rounds: each sync's changes turn the cache into the provider's files exactly, and touch nothing else (a property test; `STORAGE_CONTRACT_SEED` replays a seed) |
//! | `odd_names_round_trip_and_unsafe_ones_are_refused` | spaces, `%`, `+`, `;`, non-ASCII in NFC and NFD, a 200-byte name: listed and read back under the same path; `#`, `?`, `*` the same or refused (`Validation` on `path`, nothing written) where the provider refuses them; `..`, control characters and empty names refused before anything is sent |
//! | `search_finds_by_name_under_a_folder` | a name fragment under a folder finds exactly the files that match |
//! | `metadata_is_kept_and_found` | with `storage.metadata`, metadata written with a file is read back by `entry` and a search on it finds exactly that file; without, an upload with metadata is `Unsupported` and writes nothing |
//! | `what_the_descriptor_does_not_declare_is_unsupported` | every optional operation the descriptor does not declare is `Unsupported` |
//!
//! A fixture whose server cannot start here answers `None` from [`StorageFixture::start`]: the
//! rule is skipped with the reason printed, and fails under `CI=true` (the server's start
//! decides).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use integration_core::store::{ChangeKind, MemoryStore, RecordStore, RunStatus};
use integration_core::{CancellationToken, ConnectionId, ErrorKind, SyncEngine, SyncJob, SyncMode, TenantId};
use integration_storage::{
    ByteRange, Entry, EntryKind, FromChunks, Grantee, InMemory, ListRequest, Remote, Role, Search, Storage,
    StoragePath, UploadOptions, capability,
};
use serde_json::Value;

/// A storage adapter against its provider's test server.
#[async_trait]
pub trait StorageFixture: Sized + Send + Sync {
    /// Starts the server and the adapter, its root empty; `None` when the server cannot run
    /// here.
    async fn start() -> Option<Self>;
    /// The adapter.
    fn storage(&self) -> Arc<dyn Storage>;
}

/// Expands to one `#[tokio::test]` per rule of the storage contract for fixture `$fixture`; with
/// `trials "label", $fixture`, to the rules as [`harness`](crate::harness) trials named
/// `label::rule` (a test file whose fixture needs a peer).
#[macro_export]
macro_rules! storage_contract_suite {
    (trials $label:literal, $fixture:ty) => {
        $crate::storage_contract_suite!(@rules (@trials $label,) $fixture)
    };
    ($fixture:ty) => {
        $crate::storage_contract_suite!(@rules (@each) $fixture);
    };
    (@rules ($($mode:tt)*) $fixture:ty) => {
        $crate::storage_contract_suite! { $($mode)* $fixture;
            a_file_is_written_and_read_whole_and_by_range,
            a_large_file_is_sent_in_parts_and_checked,
            files_are_copied_moved_renamed_and_deleted,
            an_incremental_sync_finds_exactly_the_changes,
            odd_names_round_trip_and_unsafe_ones_are_refused,
            search_finds_by_name_under_a_folder,
            metadata_is_kept_and_found,
            what_the_descriptor_does_not_declare_is_unsupported
        }
    };
    (@trials $label:literal, $fixture:ty; $($name:ident),* $(,)?) => {
        vec![$(
            $crate::harness::Trial::test(
                concat!($label, "::", stringify!($name)),
                || $crate::harness::block_on($crate::contract::storage::$name::<$fixture>),
            )
        ),*]
    };
    (@each $fixture:ty; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                $crate::contract::storage::$name::<$fixture>().await;
            }
        )*
    };
}

fn path(text: &str) -> StoragePath {
    StoragePath::parse(text).expect("a path")
}

fn md5_hex(content: &[u8]) -> String {
    use md5::Digest as _;
    integration_core::hex::encode(&md5::Md5::digest(content))
}

async fn put(storage: &dyn Storage, at: &str, content: &[u8]) -> Remote<Entry> {
    let mut content = InMemory::new(Bytes::copy_from_slice(content));
    let options = UploadOptions::new().content_type("text/plain");
    storage.upload(&path(at), &mut content, &options).await.unwrap_or_else(|e| panic!("{at} uploaded: {e}"))
}

async fn read(storage: &dyn Storage, at: &str, range: Option<ByteRange>) -> Vec<u8> {
    let mut response = storage.download(&path(at), range).await.unwrap_or_else(|e| panic!("{at} downloaded: {e}"));
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.expect("a chunk") {
        body.extend_from_slice(&chunk);
    }
    body
}

/// Every file under the root, by path, with its size.
async fn files(storage: &dyn Storage) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    let mut request = ListRequest::first();
    loop {
        let page = storage.entries(request.clone()).await.expect("a page");
        for entry in page.items.iter().filter(|e| e.fields.kind == EntryKind::File && !e.remote_was_deleted) {
            let fresh = out.insert(entry.fields.path.to_string(), entry.fields.size.unwrap_or(0)).is_none();
            assert!(fresh, "{} listed twice", entry.fields.path);
        }
        match page.next {
            Some(next) => request = request.at(Some(next)),
            None => return out,
        }
    }
}

/// Uploaded, read back whole and by range; its size and MD5 are the content's.
pub async fn a_file_is_written_and_read_whole_and_by_range<F: StorageFixture>() {
    let Some(fixture) = F::start().await else { return };
    let storage = fixture.storage();
    let content = b"0123456789 the quick brown fox";
    let written = put(storage.as_ref(), "docs/fox.txt", content).await;
    assert_eq!(written.fields.path, path("docs/fox.txt"));
    assert_eq!(written.fields.size, Some(content.len() as u64));
    assert_eq!(written.fields.checksums.md5.as_deref(), Some(md5_hex(content).as_str()));
    let found = storage.entry(&path("docs/fox.txt")).await.expect("looked up");
    assert_eq!((found.fields.kind, found.fields.size), (EntryKind::File, Some(content.len() as u64)));
    assert_eq!(found.remote_id, written.remote_id);
    assert_eq!(read(storage.as_ref(), "docs/fox.txt", None).await, content);
    let range = ByteRange::new(2, Some(5)).expect("a range");
    assert_eq!(read(storage.as_ref(), "docs/fox.txt", Some(range)).await, b"2345");
    let tail = ByteRange::new(11, None).expect("a range");
    assert_eq!(read(storage.as_ref(), "docs/fox.txt", Some(tail)).await, b"the quick brown fox");
    let missing = storage.entry(&path("docs/nothing.txt")).await.expect_err("nothing there");
    assert_eq!(missing.kind(), ErrorKind::NotFound, "{missing}");
}

/// 20 MiB from a generator, in parts where the provider takes them; a wrong MD5 keeps nothing.
pub async fn a_large_file_is_sent_in_parts_and_checked<F: StorageFixture>() {
    const MIB: usize = 1 << 20;
    const SIZE: usize = 20 * MIB;
    let Some(fixture) = F::start().await else { return };
    let storage = fixture.storage();
    let chunk = |i: usize| Bytes::from((0..MIB).map(|j| ((i * 31 + j * 7) % 251) as u8).collect::<Vec<u8>>());
    let whole: Vec<u8> = (0..SIZE / MIB).flat_map(|i| chunk(i).to_vec()).collect();
    let expected = md5_hex(&whole);
    let mut i = 0;
    let mut content = FromChunks::new(Some(SIZE as u64), move || {
        i += 1;
        Ok((i <= SIZE / MIB).then(|| chunk(i - 1)))
    });
    let options = UploadOptions { expected_md5: Some(expected.clone()), ..UploadOptions::new() };
    let written = storage.upload(&path("big/blob.bin"), &mut content, &options).await.expect("uploaded");
    assert_eq!(written.fields.size, Some(SIZE as u64));
    assert_eq!(written.fields.checksums.md5.as_deref(), Some(expected.as_str()));
    let back = read(storage.as_ref(), "big/blob.bin", None).await;
    assert_eq!((back.len(), md5_hex(&back)), (SIZE, expected.clone()), "the content read back");

    let mut wrong = InMemory::new(Bytes::from(whole));
    let options = UploadOptions { expected_md5: Some("0".repeat(32)), ..UploadOptions::new() };
    let error = storage.upload(&path("big/wrong.bin"), &mut wrong, &options).await.expect_err("refused");
    assert_eq!((error.kind(), error.field()), (ErrorKind::Validation, Some("expected_md5")), "{error}");
    let gone = storage.entry(&path("big/wrong.bin")).await.expect_err("nothing kept");
    assert_eq!(gone.kind(), ErrorKind::NotFound, "{gone}");
}

/// Copy, move, rename, conflicts, deletes.
pub async fn files_are_copied_moved_renamed_and_deleted<F: StorageFixture>() {
    let Some(fixture) = F::start().await else { return };
    let storage = fixture.storage();
    let s = storage.as_ref();
    s.create_folder(&path("a")).await.expect("a folder");
    s.create_folder(&path("b/c")).await.expect("folders");
    s.create_folder(&path("b/c")).await.expect("a folder that is there is fine");
    assert_eq!(s.entry(&path("b/c")).await.expect("the folder").fields.kind, EntryKind::Folder);
    put(s, "a/one.txt", b"one").await;
    put(s, "a/two.txt", b"two!").await;
    let copied = s.copy(&path("a/one.txt"), &path("b/one-copy.txt")).await.expect("copied");
    assert_eq!((copied.fields.path.to_string().as_str(), copied.fields.size), ("b/one-copy.txt", Some(3)));
    assert_eq!(read(s, "b/one-copy.txt", None).await, b"one");
    let moved = s.move_to(&path("a/two.txt"), &path("b/c/two.txt")).await.expect("moved");
    assert_eq!(moved.fields.path, path("b/c/two.txt"));
    let renamed = s.move_to(&path("b/c/two.txt"), &path("b/c/deux.txt")).await.expect("renamed");
    assert_eq!(read(s, "b/c/deux.txt", None).await, b"two!");
    assert_eq!(renamed.fields.size, Some(4));
    let conflict = s.move_to(&path("a/one.txt"), &path("b/one-copy.txt")).await.expect_err("something is there");
    assert_eq!(conflict.kind(), ErrorKind::Conflict, "{conflict}");
    assert_eq!(read(s, "a/one.txt", None).await, b"one", "nothing moved");
    let mut again = InMemory::new(Bytes::from_static(b"other"));
    let options = UploadOptions { overwrite: false, ..UploadOptions::new() };
    let refused = s.upload(&path("a/one.txt"), &mut again, &options).await.expect_err("no overwrite");
    assert_eq!(refused.kind(), ErrorKind::Conflict, "{refused}");
    assert_eq!(read(s, "a/one.txt", None).await, b"one", "nothing overwritten");
    s.delete(&path("a/one.txt")).await.expect("deleted");
    s.delete(&path("a/one.txt")).await.expect("deleting what is gone is done");
    assert_eq!(s.entry(&path("a/one.txt")).await.expect_err("gone").kind(), ErrorKind::NotFound);
    s.delete(&path("b")).await.expect("a folder deleted with what it holds");
    assert_eq!(s.entry(&path("b/c/deux.txt")).await.expect_err("gone").kind(), ErrorKind::NotFound);
    assert_eq!(files(s).await, BTreeMap::new(), "every file is gone");
}

/// One random operation on the files the test made.
#[derive(Debug, Clone)]
enum Op {
    Add(String, usize),
    Modify(String),
    Delete(String),
    Move(String, String),
    /// A folder moved and renamed with what it holds.
    MoveFolder(String, String),
}

const FOLDERS: [&str; 3] = ["one", "two", "one/three"];

/// `path` with `from` at its start replaced by `to`, if it is under `from`.
fn moved_under(path: &str, from: &str, to: &str) -> Option<String> {
    path.strip_prefix(&format!("{from}/")).map(|rest| format!("{to}/{rest}"))
}

fn random_ops(
    rng: &mut fastrand::Rng,
    live: &BTreeMap<String, Vec<u8>>,
    serial: &mut usize,
    box_path: &mut String,
) -> Vec<Op> {
    let mut names: Vec<String> = live.keys().cloned().collect();
    let mut ops = Vec::new();
    for _ in 0..rng.usize(3..9) {
        *serial += 1;
        let folder = FOLDERS[rng.usize(..FOLDERS.len())];
        let fresh = format!("{folder}/f{serial}.txt");
        let op = match (rng.u8(..6), names.is_empty()) {
            (5, _) => Op::MoveFolder(box_path.clone(), format!("{folder}/box{serial}")),
            (_, true) | (0, _) => Op::Add(fresh, rng.usize(1..64)),
            (1, _) => Op::Modify(names[rng.usize(..names.len())].clone()),
            (2, _) => Op::Delete(names[rng.usize(..names.len())].clone()),
            (3, _) => Op::Move(names[rng.usize(..names.len())].clone(), fresh),
            _ => {
                // A rename: the same folder, another name.
                let from = names[rng.usize(..names.len())].clone();
                let to = format!("{}/r{serial}.txt", from.rsplit_once('/').map_or("", |(f, _)| f));
                Op::Move(from, to)
            }
        };
        // Later operations of the round pick among the files as they will be.
        match &op {
            Op::Add(p, _) => names.push(p.clone()),
            Op::Delete(p) => names.retain(|n| n != p),
            Op::Move(from, to) => {
                names.retain(|n| n != from);
                names.push(to.clone());
            }
            Op::MoveFolder(from, to) => {
                for name in &mut names {
                    if let Some(moved) = moved_under(name, from, to) {
                        *name = moved;
                    }
                }
                *box_path = to.clone();
            }
            Op::Modify(_) => {}
        }
        ops.push(op);
    }
    ops
}

async fn apply(storage: &dyn Storage, live: &mut BTreeMap<String, Vec<u8>>, op: &Op, rng: &mut fastrand::Rng) {
    match op {
        Op::Add(at, len) => {
            let content: Vec<u8> = (0..*len).map(|_| rng.alphanumeric() as u8).collect();
            put(storage, at, &content).await;
            live.insert(at.clone(), content);
        }
        Op::Modify(at) => {
            // Always another length: some WebDAV servers' ETags are the size and the second.
            let mut content = live[at].clone();
            content.extend((0..rng.usize(1..16)).map(|_| rng.alphanumeric() as u8));
            put(storage, at, &content).await;
            live.insert(at.clone(), content);
        }
        Op::Delete(at) => {
            storage.delete(&path(at)).await.unwrap_or_else(|e| panic!("{at} deleted: {e}"));
            live.remove(at);
        }
        Op::Move(from, to) => {
            storage.move_to(&path(from), &path(to)).await.unwrap_or_else(|e| panic!("{from} moved to {to}: {e}"));
            let content = live.remove(from).expect("a live file");
            live.insert(to.clone(), content);
        }
        Op::MoveFolder(from, to) => {
            storage.move_to(&path(from), &path(to)).await.unwrap_or_else(|e| panic!("{from}/ moved to {to}/: {e}"));
            let moved: Vec<String> = live.keys().filter(|k| moved_under(k, from, to).is_some()).cloned().collect();
            for old in moved {
                let content = live.remove(&old).expect("a live file");
                live.insert(moved_under(&old, from, to).expect("under the folder"), content);
            }
        }
    }
}

fn path_of(data: &Value) -> Option<String> {
    data.get("path").and_then(Value::as_str).map(str::to_owned)
}

/// The folders above each of `paths`.
fn ancestors(paths: &BTreeSet<String>) -> Vec<String> {
    paths
        .iter()
        .flat_map(|p| {
            let names: Vec<&str> = p.split('/').collect();
            (1..names.len()).map(move |n| names[..n].join("/")).collect::<Vec<_>>()
        })
        .collect()
}

/// Random adds, modifies, deletes, moves and renames, over rounds: each sync's changes make the
/// cache the provider's files exactly, and touch nothing else.
pub async fn an_incremental_sync_finds_exactly_the_changes<F: StorageFixture>() {
    let Some(fixture) = F::start().await else { return };
    let storage = fixture.storage();
    let seed =
        std::env::var("STORAGE_CONTRACT_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| fastrand::u64(..));
    let mut rng = fastrand::Rng::with_seed(seed);
    let (mut live, mut serial) = (BTreeMap::<String, Vec<u8>>::new(), 0);
    for folder in FOLDERS {
        storage.create_folder(&path(folder)).await.expect("a folder");
    }
    for i in 0..6 {
        let op = Op::Add(format!("{}/seed{i}.txt", FOLDERS[i % 3]), 8 + i);
        apply(storage.as_ref(), &mut live, &op, &mut rng).await;
    }
    // A folder that moves with what it holds.
    let mut box_path = "box".to_owned();
    storage.create_folder(&path(&box_path)).await.expect("a folder");
    for i in 0..2 {
        apply(storage.as_ref(), &mut live, &Op::Add(format!("box/inner{i}.txt"), 5 + i), &mut rng).await;
    }
    let mode = if storage.supports(&capability::CHANGES) { SyncMode::Incremental } else { SyncMode::FullRefresh };
    let store = Arc::new(MemoryStore::new());
    let engine = SyncEngine::new(store.clone(), store.clone(), "contract");
    let tenant = TenantId::new("acme").expect("tenant");
    let job = SyncJob::new(tenant.clone(), ConnectionId::new("files").expect("connection"), "files", mode);
    let first = engine.run(storage.as_ref(), &job, &CancellationToken::new()).await.expect("a run");
    assert_eq!(first.status, RunStatus::Succeeded, "seed {seed}: {:?}", first.error);
    // The cache, as the changes build it: remote id → the record.
    let initial = store.changes_since(&tenant, None, 100_000).await.expect("changes");
    let mut cursor = initial.next;
    let mut cache: BTreeMap<String, Value> =
        initial.changes.into_iter().map(|change| (change.remote_id, change.data)).collect();
    for round in 0..3 {
        let ops = random_ops(&mut rng, &live, &mut serial, &mut box_path);
        let mut touched = BTreeSet::new();
        for op in &ops {
            match op {
                Op::Add(p, _) | Op::Modify(p) | Op::Delete(p) => {
                    touched.insert(p.clone());
                }
                Op::Move(from, to) => {
                    touched.insert(from.clone());
                    touched.insert(to.clone());
                }
                Op::MoveFolder(from, to) => {
                    touched.insert(from.clone());
                    touched.insert(to.clone());
                    for file in live.keys() {
                        if let Some(moved) = moved_under(file, from, to) {
                            touched.insert(file.clone());
                            touched.insert(moved);
                        }
                    }
                }
            }
            apply(storage.as_ref(), &mut live, op, &mut rng).await;
        }
        // A folder holding a touched file may change too (its time, its ETag).
        let above = ancestors(&touched);
        touched.extend(above);
        let run = engine.run(storage.as_ref(), &job, &CancellationToken::new()).await.expect("a run");
        let context = format!("seed {seed}, round {round}, operations {ops:?}");
        assert_eq!(run.status, RunStatus::Succeeded, "{context}: {:?}", run.error);
        let batch = store.changes_since(&tenant, Some(&cursor), 100_000).await.expect("changes");
        cursor = batch.next;
        let mut seen = BTreeSet::new();
        for change in &batch.changes {
            assert!(seen.insert(change.remote_id.clone()), "{context}: {} changed twice in one sync", change.remote_id);
            let paths = [path_of(&change.data), change.previous.as_ref().and_then(path_of)];
            assert!(
                paths.iter().flatten().any(|p| touched.contains(p)),
                "{context}: {} changed ({:?}) though no operation touched it",
                change.remote_id,
                change.kind
            );
            if change.kind == ChangeKind::Deleted {
                cache.remove(&change.remote_id);
            } else {
                cache.insert(change.remote_id.clone(), change.data.clone());
            }
        }
        let cached: BTreeMap<String, u64> = cache
            .values()
            .filter(|d| d.get("kind").and_then(Value::as_str) == Some("file"))
            .filter_map(|d| Some((path_of(d)?, d.get("size").and_then(Value::as_u64).unwrap_or(0))))
            .collect();
        let expected: BTreeMap<String, u64> = live.iter().map(|(p, c)| (p.clone(), c.len() as u64)).collect();
        assert_eq!(cached, expected, "{context}: the cache after the changes is the provider's files");
    }
}

/// Odd names round-trip; unsafe ones are refused before anything is sent. Names every provider
/// keeps must round-trip; names some refuse (`?` on OneDrive) either round-trip or are refused
/// with a `Validation` error on `path`, nothing written.
pub async fn odd_names_round_trip_and_unsafe_ones_are_refused<F: StorageFixture>() {
    let Some(fixture) = F::start().await else { return };
    let storage = fixture.storage();
    let long = format!("{}.txt", "l".repeat(196));
    let portable = [
        "with space.txt",
        "100% sure.txt",
        "plus+minus.txt",
        "semi;colon,comma=equal.txt",
        "Caf\u{e9} \u{2615}.txt",
        "Cafe\u{301}-nfd.txt",
        long.as_str(),
    ];
    let some_refuse = ["hash#tag.txt", "question?.txt", "star*.txt"];
    let mut kept = Vec::new();
    for (i, name) in portable.iter().chain(&some_refuse).enumerate() {
        let at = format!("odd/{name}");
        let content = format!("content {i}");
        let mut body = InMemory::new(Bytes::from(content.clone()));
        match storage.upload(&path(&at), &mut body, &UploadOptions::new()).await {
            Ok(_) => {
                assert_eq!(read(storage.as_ref(), &at, None).await, content.as_bytes(), "{name}");
                kept.push(path(&at).to_string());
            }
            Err(e) if some_refuse.contains(name) && e.kind() == ErrorKind::Validation && e.field() == Some("path") => {}
            Err(e) => panic!("{name:?} was not written: {e}"),
        }
    }
    let listed = files(storage.as_ref()).await;
    for name in portable {
        let expected = path(&format!("odd/{name}")).to_string();
        assert!(listed.contains_key(&expected), "{name:?} listed as {expected:?}: {listed:?}");
    }
    let bad =
        ["../escape.txt", "odd/../../escape.txt", "odd/a\u{0}b", "odd/line\nfeed", "odd//empty", "odd/back\\slash"];
    for bad in bad {
        let error = StoragePath::parse(bad).expect_err(bad);
        assert_eq!((error.kind(), error.field()), (ErrorKind::Validation, Some("path")), "{bad:?}: {error}");
    }
    let mut listed: Vec<String> = listed.into_keys().collect();
    kept.sort();
    listed.sort();
    assert_eq!(listed, kept, "what was kept, and nothing else");
}

/// A name fragment under a folder finds exactly the files that match.
pub async fn search_finds_by_name_under_a_folder<F: StorageFixture>() {
    let Some(fixture) = F::start().await else { return };
    let storage = fixture.storage();
    for at in ["reports/q1-budget.txt", "reports/2026/q2-budget.txt", "reports/notes.txt", "other/q3-budget.txt"] {
        put(storage.as_ref(), at, b"x").await;
    }
    let search = Search { name_contains: Some("BUDGET".into()), under: Some(path("reports")), ..Search::default() };
    let found = storage.search(&search).await.expect("searched");
    let mut found: Vec<String> = found.into_iter().map(|e| e.fields.path.to_string()).collect();
    found.sort();
    assert_eq!(found, ["reports/2026/q2-budget.txt", "reports/q1-budget.txt"]);
}

/// Metadata written with a file is read back and found, where the provider keeps it.
pub async fn metadata_is_kept_and_found<F: StorageFixture>() {
    let Some(fixture) = F::start().await else { return };
    let storage = fixture.storage();
    let s = storage.as_ref();
    let options = UploadOptions {
        metadata: BTreeMap::from([("project".to_owned(), "apollo".to_owned())]),
        ..UploadOptions::new()
    };
    let mut body = InMemory::new(Bytes::from_static(b"tagged"));
    let written = s.upload(&path("meta/tagged.txt"), &mut body, &options).await;
    if !s.supports(&capability::METADATA) {
        let error = written.expect_err("metadata is not kept here");
        assert_eq!(error.kind(), ErrorKind::Unsupported, "{error}");
        let nothing = s.entry(&path("meta/tagged.txt")).await.expect_err("nothing written");
        assert_eq!(nothing.kind(), ErrorKind::NotFound, "{nothing}");
        return;
    }
    written.expect("uploaded with metadata");
    put(s, "meta/plain.txt", b"plain").await;
    let read = s.entry(&path("meta/tagged.txt")).await.expect("read back");
    assert_eq!(read.fields.metadata.get("project"), Some(&Value::from("apollo")), "{:?}", read.fields.metadata);
    let search =
        Search { metadata: BTreeMap::from([("project".to_owned(), Value::from("apollo"))]), ..Search::default() };
    let found: Vec<String> =
        s.search(&search).await.expect("searched").into_iter().map(|e| e.fields.path.to_string()).collect();
    assert_eq!(found, ["meta/tagged.txt"]);
}

/// A reading link for anyone: without an expiry, or — where the provider's links must expire
/// (S3's presigned URLs) — with one.
async fn link(
    s: &dyn Storage,
    at: &StoragePath,
    in_a_day: chrono::DateTime<chrono::Utc>,
) -> integration_core::Result<()> {
    match s.share_link(at, &Grantee::Anyone, &Role::Reader, None).await {
        Err(e) if e.field() == Some("expires_at") => {
            s.share_link(at, &Grantee::Anyone, &Role::Reader, Some(in_a_day)).await.map(drop)
        }
        other => other.map(drop),
    }
}

/// What the descriptor does not declare is `Unsupported`; what it declares works.
pub async fn what_the_descriptor_does_not_declare_is_unsupported<F: StorageFixture>() {
    let Some(fixture) = F::start().await else { return };
    let storage = fixture.storage();
    let s = storage.as_ref();
    put(s, "probe.txt", b"probe").await;
    let at = path("probe.txt");
    let kind = |r: integration_core::Result<()>| r.err().map(|e| e.kind());
    // A change listing continues from the token a full listing ends with.
    let mut token = None;
    let mut request = ListRequest::first();
    loop {
        let page = s.entries(request.clone()).await.expect("a page");
        token = page.sync_token.or(token);
        match page.next {
            Some(next) => request = request.at(Some(next)),
            None => break,
        }
    }
    let in_a_day = chrono::Utc::now() + chrono::Duration::days(1);
    let checks = [
        ("versions", capability::VERSIONS, kind(s.versions(&at).await.map(drop))),
        ("permissions", capability::PERMISSIONS, kind(s.permissions(&at).await.map(drop))),
        ("quota", capability::QUOTA, kind(s.quota().await.map(drop))),
        ("changes", capability::CHANGES, kind(s.changes(ListRequest::first().sync_token(token)).await.map(drop))),
        ("share_link", capability::SHARE_LINKS, kind(link(s, &at, in_a_day).await)),
    ];
    for (operation, capability, error) in checks {
        if s.supports(&capability) {
            assert_eq!(error, None, "{operation} is declared and works");
        } else {
            assert_eq!(error, Some(ErrorKind::Unsupported), "{operation} is not declared");
        }
    }
}
