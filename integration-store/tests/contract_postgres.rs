//! The store contract suite on PostgreSQL (skipped with a reason when no server answers, except
//! under `CI=true`).

mod common;

integration_testkit::store_contract_suite!(common::postgres());
