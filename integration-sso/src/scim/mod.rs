//! SCIM 2.0 (RFC 7643, RFC 7644): the filter grammar and SCIM's errors.

mod error;
pub mod filter;

pub use error::{ERROR_SCHEMA, ScimError};
