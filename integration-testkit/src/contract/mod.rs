//! Contract suites: what every adapter must do, checked against its fake.
//!
//! - [`harness`]: the generic contract, for the adapters of any domain ([`contract_suite!`](crate::contract_suite)).
//! - `accounting` (feature `accounting`): the generic contract on invoices plus the accounting
//!   rules ([`accounting_contract_suite!`](crate::accounting_contract_suite)).
//! - `calendar` (feature `calendar`): the calendar rules, against each provider's test server
//!   ([`calendar_contract_suite!`](crate::calendar_contract_suite)).
//! - `payments` (feature `payments`): the payments rules, against each gateway's test server
//!   ([`payments_contract_suite!`](crate::payments_contract_suite), and for gateways honouring
//!   idempotency keys [`payments_idempotency_suite!`](crate::payments_idempotency_suite)).
//! - `hris` (feature `hris`): the generic contract plus the HRIS rules ([`hris_contract_suite!`](crate::hris_contract_suite)).
//! - `storage` (feature `storage`): the storage rules, against each provider's test server
//!   ([`storage_contract_suite!`](crate::storage_contract_suite)).
//! - `sso_stores` (feature `sso`): what every SCIM and MFA store must hold
//!   ([`sso_store_contract_suite!`](crate::sso_store_contract_suite)).

#[cfg(feature = "accounting")]
pub mod accounting;
#[cfg(feature = "calendar")]
pub mod calendar;
pub mod harness;
#[cfg(feature = "hris")]
pub mod hris;
#[cfg(feature = "payments")]
pub mod payments;
#[cfg(feature = "sso")]
pub mod sso_stores;
#[cfg(feature = "storage")]
pub mod storage;
