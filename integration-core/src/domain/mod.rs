//! The domain kit: what every domain (HRIS, accounting, payments...) shares, so that a domain
//! crate holds only its trait, its model, its stream table and its adapters.
//!
//! - [`Remote<T>`]: the envelope of every record (remote id, created and modified times, the
//!   deletion flag, the provider's raw data) around a domain's fields;
//! - [`ListRequest`] and [`Listing`]: one page of a collection, asked for and answered;
//! - [`Adapter`], its [`AdapterFactory`], [`build_adapter`] and [`descriptor`], and
//!   [`domain_adapters!`](crate::domain_adapters), which gives a domain its typed `build` and its
//!   `register_all` from one list of its adapters;
//! - [`StreamTable`]: a domain's streams declared once (name, capability, full and change
//!   listings), from which descriptors, `Integration::read`, checkpoints and
//!   [`webhook_outcome`]s follow;
//! - [`open_enum!`](crate::open_enum) ([`vocabulary`]): a domain's enumerations, open to values a
//!   provider adds;
//! - [`OperationKey`]: the caller's id of a write, made a provider's idempotency key;
//! - [`prelude`]: all of it, and what an adapter calls, in one import.

mod adapter;
mod listing;
mod operation;
pub mod prelude;
mod record;
mod streams;
pub mod vocabulary;

pub use adapter::{Adapter, AdapterFactory, build_adapter, descriptor};
pub use listing::{ListRequest, Listing};
pub use operation::{OperationKey, gone_is_done};
pub use record::Remote;
pub use streams::{CLOCK_MARGIN, ListFn, ListingFuture, Parts, StreamSpec, StreamTable, webhook_outcome};
