//! The store contract suite against the in-memory store.

use integration_core::store::MemoryStore;

integration_testkit::store_contract_suite!(async { Some(MemoryStore::new()) });
