//! The HRIS domain's write operations as actions.
//!
//! | action | input | operation |
//! |---|---|---|
//! | `hris.update_employee` | `connection`, `employee_id`, `update` (an [`EmployeeUpdate`]) | [`Hris::update_employee`] |
//!
//! The action finds the tenant's HRIS connection through an [`HrisConnections`]; the output is
//! the employee as read back after the write.

use std::sync::Arc;

use async_trait::async_trait;
use integration_core::{ConnectionId, Error, ErrorKind, Result, TenantId};
use integration_hris::{EmployeeUpdate, Hris};
use serde_json::Value;

use crate::action::{Action, ActionCall, ActionSchema, InputField, InputKind};
use crate::connections::StaticConnections;

/// Finds a tenant's HRIS connection for an action.
#[async_trait]
pub trait HrisConnections: Send + Sync + std::fmt::Debug {
    /// The adapter for `tenant`'s `connection`; `NotFound` when there is none.
    async fn hris(&self, tenant: &TenantId, connection: &ConnectionId) -> Result<Arc<dyn Hris>>;
}

/// HRIS connections built by the host and registered here.
pub type StaticHris = StaticConnections<dyn Hris>;

#[async_trait]
impl HrisConnections for StaticConnections<dyn Hris> {
    async fn hris(&self, tenant: &TenantId, connection: &ConnectionId) -> Result<Arc<dyn Hris>> {
        self.get(tenant, connection, "HRIS")
    }
}

/// Every HRIS write operation as an action.
pub fn actions(connections: Arc<dyn HrisConnections>) -> Vec<Arc<dyn Action>> {
    vec![Arc::new(UpdateEmployee { connections })]
}

/// `hris.update_employee`.
#[derive(Debug)]
struct UpdateEmployee {
    connections: Arc<dyn HrisConnections>,
}

#[async_trait]
impl Action for UpdateEmployee {
    fn schema(&self) -> ActionSchema {
        ActionSchema::new("hris.update_employee", "Updates an employee's fields in the HRIS and reads the employee back.")
            .field(InputField::required("connection", InputKind::String).describe("The tenant's HRIS connection id."))
            .field(InputField::required("employee_id", InputKind::String).describe("The employee's remote id."))
            .field(
                InputField::required("update", InputKind::Object)
                    .describe("The fields to set (an empty string clears one): first_name, last_name, work_email, job_title, department, location, termination_date."),
            )
    }

    async fn run(&self, call: ActionCall) -> Result<Value> {
        let connection = ConnectionId::new(call.input["connection"].as_str().unwrap_or_default())?;
        let employee_id = call.input["employee_id"].as_str().unwrap_or_default();
        let update: EmployeeUpdate = serde_json::from_value(call.input["update"].clone())
            .map_err(|e| Error::validation("update", format!("not an employee update: {e}")))?;
        let hris = self.connections.hris(&call.tenant, &connection).await?;
        let employee = hris.update_employee(employee_id, &update).await?;
        serde_json::to_value(&employee)
            .map_err(|e| Error::new(ErrorKind::InvalidResponse, format!("the employee does not serialize: {e}")))
    }
}
