//! The store contract suite on PostgreSQL (`INTEGRATIONS_TEST_POSTGRES_URL`, or the local server
//! at 127.0.0.1:5432; without one the tests fail, saying so).

mod common;

integration_testkit::store_contract_suite!(common::postgres());
