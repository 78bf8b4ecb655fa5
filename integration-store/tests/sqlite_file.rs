//! The SQLite file's journal: write-ahead logging, so a reader in the middle of a transaction
//! never holds up a writer, and many writers in one process queue for the one writer
//! connection instead of failing on a busy database. An in-memory database is one database.

mod common;

use std::sync::Arc;

use integration_core::store::{StateStore, StreamScope};
use integration_core::{Checkpoint, ConnectionId, TenantId};
use serde_json::json;
use sqlx::{Connection as _, Row as _};

fn scope(stream: &str) -> StreamScope {
    StreamScope::new(TenantId::new("acme").expect("tenant"), ConnectionId::new("hr").expect("connection"), stream)
}

/// How many checkpoints `reader` sees.
async fn checkpoints(reader: &mut sqlx::AnyConnection) -> i64 {
    let row = sqlx::query("SELECT COUNT(*) FROM checkpoints").fetch_one(reader).await.expect("read");
    row.try_get(0).expect("count")
}

#[tokio::test]
async fn the_file_is_in_write_ahead_log_mode() {
    let store = common::sqlite().await.expect("store");
    let row = sqlx::query("PRAGMA journal_mode").fetch_one(store.pool()).await.expect("pragma");
    assert_eq!(row.try_get::<String, _>(0).expect("mode"), "wal");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_inside_a_transaction_does_not_hold_up_a_writer() {
    let store = common::sqlite().await.expect("store");
    store.put_checkpoint(&scope("employees"), &Checkpoint::new(json!({"page": 1})), None).await.expect("first");

    // A reader holds its snapshot open (with a rollback journal, its shared lock would keep
    // any writer from committing until the busy timeout failed it).
    let mut reader = store.pool().acquire().await.expect("reader");
    let mut snapshot = reader.begin().await.expect("begin");
    let before = checkpoints(&mut snapshot).await;
    assert_eq!(before, 1);

    store
        .put_checkpoint(&scope("employees"), &Checkpoint::new(json!({"page": 2})), None)
        .await
        .expect("a write while a reader reads");
    store.put_checkpoint(&scope("jobs"), &Checkpoint::new(json!({"page": 1})), None).await.expect("another");
    let during = checkpoints(&mut snapshot).await;
    assert_eq!(during, 1, "the reader keeps its snapshot");
    snapshot.rollback().await.expect("end");
    assert_eq!(
        store.checkpoint(&scope("employees")).await.expect("read").expect("there").checkpoint.as_value()["page"],
        2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_writers_at_once_all_succeed() {
    let store = Arc::new(common::sqlite().await.expect("store"));
    let mut writers = tokio::task::JoinSet::new();
    for n in 0..200 {
        let store = store.clone();
        writers.spawn(async move {
            let scope = scope(&format!("stream{n}"));
            for page in 0..5 {
                store.put_checkpoint(&scope, &Checkpoint::new(json!({ "page": page })), None).await?;
            }
            store.checkpoint(&scope).await
        });
    }
    let mut done = 0;
    while let Some(joined) = writers.join_next().await {
        let last = joined.expect("task").expect("every write succeeds").expect("a checkpoint");
        assert_eq!(last.checkpoint.as_value()["page"], 4);
        done += 1;
    }
    assert_eq!(done, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_in_memory_database_is_one_database() {
    let store = integration_store::SqlStore::connect("sqlite::memory:", 4).await.expect("store");
    store.put_checkpoint(&scope("employees"), &Checkpoint::new(json!({"page": 3})), None).await.expect("write");
    let read = store.checkpoint(&scope("employees")).await.expect("read").expect("written");
    assert_eq!(read.checkpoint.as_value()["page"], 3);
}
