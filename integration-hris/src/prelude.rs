//! What an HRIS adapter uses, in one import: `use integration_hris::prelude::*;`.
//!
//! The domain (the [`Hris`] trait, its model and vocabulary, [`Adapter`], [`descriptor`]), the
//! core contracts an adapter implements, reading provider records ([`Fields`], [`map_each`],
//! [`map_one`]) and the HTTP client it calls through.

pub use async_trait::async_trait;
pub use chrono::{DateTime, NaiveDate, Utc};
pub use integration_core::decode::{Decoded, Fields, map_each, map_one};
pub use integration_core::http::{HttpPolicy, ProviderClient, Response};
pub use integration_core::schema::FieldFormat;
pub use integration_core::{
    BuildContext, Capability, ConnectionId, ConnectionInfo, Descriptor, Error, ErrorKind, Health, Integration,
    IntegrationConfig, Page, ReadRequest, Result, TenantId,
};
pub use secrecy::ExposeSecret;
pub use serde_json::{Value, json};

pub use crate::adapter::{Adapter, descriptor};
pub use crate::hris::{Hris, capability};
pub use crate::model::{Department, Employee, EmployeeUpdate, Employment, Job, Pay, TimeOff, UpdateFieldNames};
pub use crate::streams::{HrisStream, employee_webhook_outcome};
pub use crate::vocabulary::{EmploymentStatus, EmploymentType, PayPeriod, TimeOffCategory, TimeOffStatus, TimeUnit};
pub use integration_core::domain::{ListRequest, Listing, Remote};
