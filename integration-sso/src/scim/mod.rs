//! SCIM 2.0 (RFC 7643, RFC 7644): the filter grammar, the schemas, resources and PATCH, a host
//! store, and the service provider as an axum router ([`server::ScimServer`]).

mod error;
pub mod filter;
pub mod patch;
pub mod resource;
pub mod schema;
pub mod server;
pub mod store;

pub use error::{ERROR_SCHEMA, ScimError};
