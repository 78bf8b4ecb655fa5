//! What an HRIS adapter uses, in one import: `use integration_hris::prelude::*;`.
//!
//! The domain (the [`Hris`] trait, its model and vocabulary, [`Adapter`], [`descriptor`]), the
//! core contracts an adapter implements, reading provider records ([`Fields`], [`map_each`],
//! [`map_one`]) and the HTTP client it calls through.

pub use integration_core::domain::prelude::*;

pub use crate::adapter::{Adapter, descriptor};
pub use crate::hris::{Hris, capability};
pub use crate::model::{Department, Employee, EmployeeUpdate, Employment, Job, Pay, TimeOff, UpdateFieldNames};
pub use crate::streams::{HrisStream, employee_webhook_outcome};
pub use crate::vocabulary::{EmploymentStatus, EmploymentType, PayPeriod, TimeOffCategory, TimeOffStatus, TimeUnit};
