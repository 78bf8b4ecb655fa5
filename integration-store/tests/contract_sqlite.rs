//! The store contract suite on SQLite.

mod common;

integration_testkit::store_contract_suite!(common::sqlite());
