//! A store whose connection is gone fails with a categorized error, and nothing half-written.

mod common;

use integration_core::store::{ConfigStore, PageWrite, RecordStore, StateStore, StreamScope};
use integration_core::{Checkpoint, ConnectionId, ErrorKind, Record, TenantId};

#[tokio::test]
async fn a_closed_store_fails_with_a_retryable_storage_error() {
    let store = common::sqlite().await.expect("SQLite is always available");
    let tenant = TenantId::new("acme").expect("tenant");
    store.close().await;
    let err = store.get(&tenant, &ConnectionId::new("hr").expect("c")).await.expect_err("closed");
    assert_eq!(err.kind(), ErrorKind::Storage);
    assert!(err.is_retryable(), "a lost connection is worth retrying: {err}");
    assert!(err.to_string().contains("read a configuration"), "{err}");
}

#[tokio::test]
async fn a_failed_page_commits_neither_records_nor_checkpoint() {
    let store = common::sqlite().await.expect("SQLite is always available");
    let scope = StreamScope::new(TenantId::new("acme").expect("t"), ConnectionId::new("hr").expect("c"), "employees");
    let first = PageWrite::new(
        vec![Record::new("1", serde_json::json!({"n": 1}))],
        Some(Checkpoint::new(serde_json::json!(1))),
        None,
    );
    store.write_page(&scope, first).await.expect("write");
    // Break the change log so the next page fails after writing its first record.
    sqlx::query("DROP TABLE changes").execute(store.pool()).await.expect("drop");
    let second = PageWrite::new(
        vec![Record::new("2", serde_json::json!({"n": 2})), Record::new("3", serde_json::json!({"n": 3}))],
        Some(Checkpoint::new(serde_json::json!(2))),
        None,
    );
    let err = store.write_page(&scope, second).await.expect_err("the page fails");
    assert_eq!(err.kind(), ErrorKind::Storage);
    assert!(store.record(&scope, "2").await.expect("read").is_none(), "the failed page left no record");
    let cp = store.checkpoint(&scope).await.expect("read").expect("the first page's checkpoint");
    assert_eq!(cp.checkpoint.as_value(), &serde_json::json!(1), "the checkpoint did not move");
}
