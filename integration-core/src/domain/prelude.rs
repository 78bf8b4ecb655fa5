//! What a domain crate and its adapters use, in one import: `use integration_core::domain::prelude::*;`.
//!
//! The kit ([`Adapter`], [`descriptor`], [`StreamTable`], [`Remote`], [`ListRequest`],
//! [`Listing`]…), the core contracts an adapter implements, reading provider records
//! ([`Fields`], [`map_each`], [`map_one`]), the HTTP client it calls through and the static
//! credentials it signs with. A domain's own prelude re-exports this one and adds its trait and
//! model (`integration_hris::prelude`).

pub use async_trait::async_trait;
pub use chrono::{DateTime, NaiveDate, Utc};
pub use secrecy::ExposeSecret;
pub use serde::{Deserialize, Serialize};
pub use serde_json::{Value, json};

pub use super::{
    Adapter, ListFn, ListRequest, Listing, ListingFuture, Remote, StreamSpec, StreamTable, descriptor, webhook_outcome,
};
pub use crate::auth::{ApiKey, Basic, Bearer};
pub use crate::decode::{Decoded, Fields, map_each, map_one};
pub use crate::http::{HttpPolicy, ProviderClient, Response};
pub use crate::schema::FieldFormat;
pub use crate::{
    BuildContext, Capability, ConnectionId, ConnectionInfo, Descriptor, Domain, Error, ErrorKind, Health, Integration,
    IntegrationConfig, Page, ProviderId, ReadRequest, Result, TenantId,
};
