//! SCIM 2.0 (RFC 7643, RFC 7644): the filter grammar, the schemas, resources and PATCH, a host
//! store, the service provider as an axum router ([`server::ScimServer`]), and the client
//! provisioning the host's users and groups into another service ([`client::ScimTarget`]).

pub mod client;
mod error;
pub mod filter;
pub mod patch;
pub mod resource;
pub mod schema;
pub mod server;
pub mod store;

pub use error::{ERROR_SCHEMA, ScimError};
