//! The store contract suite on an in-memory SQLite database (`sqlite::memory:`): one
//! connection, kept open, serves reads and writes.

integration_testkit::store_contract_suite!(async {
    Some(integration_store::SqlStore::connect("sqlite::memory:", 4).await.expect("an in-memory store"))
});
