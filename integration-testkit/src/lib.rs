//! The test kit of the integrations SDK.
//!
//! - [`store_contract`]: the contract every store implementation must pass, as a macro that
//!   generates one test per rule ([`store_contract_suite!`]).
//! - [`capture`]: captures all tracing output of a future, to prove secrets never reach logs.
//! - [`poll`]: wait for a condition with a deadline instead of sleeping.
//! - [`memory_source`]: an in-process provider with a changing dataset and fault injection.
//! - [`sync_contract`]: the sync engine's guarantees, checked against any store.
//! - [`peers`]: real third-party servers (an OpenID provider) started for a test.
//!
//! Run the store contract against your own store implementation:
//!
//! ```no_run
//! // tests/my_store.rs — needs `tokio` (macros, rt-multi-thread) as a dev-dependency.
//! use integration_core::store::MemoryStore;
//!
//! integration_testkit::store_contract_suite!(async { Some(MemoryStore::new()) });
//! # fn main() {}
//! ```
//!
//! - [`fake`]: the fake-provider kit (datasets, auth checks and OAuth2 token issuing, paging
//!   styles, REST collections, faults, webhook signing) and the fake providers built on it —
//!   HTTP servers on 127.0.0.1 speaking each provider's API over a changing dataset.
//! - [`contract`]: the generic contract every adapter of any domain passes against its fake
//!   ([`contract_suite!`]), and `contract::hris` (feature `hris`): it plus the HRIS rules.

pub mod cache;
pub mod capture;
pub mod contract;
pub mod fake;
pub mod harness;
pub mod memory_source;
pub mod peers;
pub mod poll;
pub mod store_contract;
pub mod sync_contract;
