//! Benefits enrollment as an action: an employment change in the HRIS (a hire, a termination,
//! a leave) becomes the 834 change for it, staged in the carrier's outbox and sent.
//!
//! | action | input | what it does |
//! |---|---|---|
//! | `benefits.enroll` | `connection` (the carrier), `event` (`hire`, `termination`, `leave`, `return`), `employee_id`, `employee` (the HRIS employee record), `rules` (an [`EnrollmentRules`]), optional `member` (what the HRIS model lacks: `birth_date`, `gender`, `address`, `national_id`) | renders the change with the carrier's profile, stages it under the event's key, sends what the outbox holds |
//!
//! The same event seen twice (a retried step, a change read again) is staged once: the outbox
//! key is the event's ([`EmploymentEvent::key`]). The output names the file, its control number
//! and whether it is in the drop box.
//!
//! ```json
//! {
//!   "id": "enroll-new-hires",
//!   "trigger": { "record_change": { "stream": "employees", "changes": ["added"] } },
//!   "steps": [{ "action": "benefits.enroll", "input": {
//!     "connection": "sunlife", "event": "hire", "employee_id": "{{ remote_id }}", "employee": "{{ record }}",
//!     "rules": { "coverages": [{ "line": "HLT", "plan": "Extended Health", "tier": "EMP" }], "policy": "G12345" } } }]
//! }
//! ```

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{NaiveDate, Utc};
use integration_benefits::delivery::{Outbox, OutboxStores};
use integration_benefits::enrollment::{Address, EmploymentEvent, EnrollmentRules, EventKind, Gender};
use integration_benefits::insurance::Insurance;
use integration_core::residency::Residency;
use integration_core::{ConnectionId, Error, Result, TenantId};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::action::{Action, ActionCall, ActionSchema, InputField, InputKind};
use crate::connections::StaticConnections;

/// Finds a tenant's insurance carrier connection for an action.
#[async_trait]
pub trait InsuranceConnections: Send + Sync + std::fmt::Debug {
    /// The adapter for `tenant`'s `connection`; `NotFound` when there is none.
    async fn insurance(&self, tenant: &TenantId, connection: &ConnectionId) -> Result<Arc<dyn Insurance>>;
}

/// Carrier connections built by the host and registered here.
pub type StaticInsurance = StaticConnections<dyn Insurance>;

#[async_trait]
impl InsuranceConnections for StaticConnections<dyn Insurance> {
    async fn insurance(&self, tenant: &TenantId, connection: &ConnectionId) -> Result<Arc<dyn Insurance>> {
        self.get(tenant, connection, "insurance")
    }
}

/// The benefits actions, staging in the host's `stores` (and checking each connection's
/// region with `residency` when given).
pub fn actions(
    connections: Arc<dyn InsuranceConnections>,
    stores: OutboxStores,
    residency: Option<Residency>,
) -> Vec<Arc<dyn Action>> {
    vec![Arc::new(Enroll { connections, stores, residency })]
}

/// `benefits.enroll`.
#[derive(Debug)]
struct Enroll {
    connections: Arc<dyn InsuranceConnections>,
    stores: OutboxStores,
    residency: Option<Residency>,
}

/// What the action reads of the HRIS employee record (the common model's fields).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct EmployeeRecord {
    first_name: Option<String>,
    last_name: Option<String>,
    display_name: Option<String>,
    work_email: Option<String>,
    employment: EmploymentRecord,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct EmploymentRecord {
    employment_type: Option<String>,
    start_date: Option<NaiveDate>,
    termination_date: Option<NaiveDate>,
}

/// What the HRIS model does not hold, given by the automation.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct MemberExtras {
    birth_date: Option<NaiveDate>,
    gender: Option<Gender>,
    address: Option<Address>,
    national_id: Option<String>,
    /// The event's date, when not the record's (a leave's first day).
    date: Option<NaiveDate>,
}

fn input<T: serde::de::DeserializeOwned + Default>(call: &ActionCall, field: &str) -> Result<T> {
    match &call.input[field] {
        Value::Null => Ok(T::default()),
        value => serde_json::from_value(value.clone())
            .map_err(|e| Error::validation(field.to_owned(), format!("{field}: {e}"))),
    }
}

#[async_trait]
impl Action for Enroll {
    fn schema(&self) -> ActionSchema {
        ActionSchema::new("benefits.enroll", "Turns an HRIS employment change into the carrier's 834 change, staged once and sent to its drop box.")
            .field(InputField::required("connection", InputKind::String).describe("The tenant's insurance carrier connection id."))
            .field(InputField::required("event", InputKind::String).describe("hire, termination, leave or return."))
            .field(InputField::required("employee_id", InputKind::String).describe("The employee's id (the subscriber id at the carrier)."))
            .field(InputField::required("employee", InputKind::Object).describe("The HRIS employee record (first_name, last_name, employment.start_date, employment.termination_date, employment.employment_type)."))
            .field(InputField::required("rules", InputKind::Object).describe("The enrollment rules: coverages [{line, plan, tier}], waiting, ends, policy."))
            .field(InputField::optional("member", InputKind::Object).describe("What the HRIS model lacks: birth_date, gender, address, national_id; date (the event's, when not the record's)."))
    }

    async fn run(&self, call: ActionCall) -> Result<Value> {
        let connection = ConnectionId::new(call.input["connection"].as_str().unwrap_or_default())?;
        let kind: EventKind = serde_json::from_value(call.input["event"].clone()).map_err(|_| {
            Error::validation("event", format!("{} is not hire, termination, leave or return", call.input["event"]))
        })?;
        let employee_id = call.input["employee_id"].as_str().unwrap_or_default().trim().to_owned();
        if employee_id.is_empty() {
            return Err(Error::validation("employee_id", "the employee id is empty"));
        }
        let employee: EmployeeRecord = input(&call, "employee")?;
        let rules: EnrollmentRules = serde_json::from_value(call.input["rules"].clone())
            .map_err(|e| Error::validation("rules", format!("rules: {e}")))?;
        let extras: MemberExtras = input(&call, "member")?;
        let date = extras
            .date
            .or(match kind {
                EventKind::Hire => employee.employment.start_date,
                EventKind::Termination => employee.employment.termination_date,
                EventKind::Leave | EventKind::Return => None,
            })
            .ok_or_else(|| {
                Error::validation(
                    "member.date",
                    format!("no date for the {} of {employee_id}: give member.date", kind.as_str()),
                )
            })?;
        let (first, last) = match (employee.first_name, employee.last_name) {
            (Some(f), Some(l)) => (f, l),
            (f, l) => {
                let display = employee.display_name.unwrap_or_default();
                let mut parts = display.rsplitn(2, ' ');
                let last = l.or_else(|| parts.next().map(str::to_owned)).unwrap_or_default();
                (f.or_else(|| parts.next().map(str::to_owned)).unwrap_or_default(), last)
            }
        };
        let event = EmploymentEvent {
            kind,
            date,
            employee_id,
            first_name: first,
            last_name: last,
            full_time: employee.employment.employment_type.as_deref().map(|t| t != "part_time"),
            birth_date: extras.birth_date,
            gender: extras.gender,
            address: extras.address,
            national_id: extras.national_id,
            email: employee.work_email,
        };
        let carrier = self.connections.insurance(&call.tenant, &connection).await?;
        let mut outbox = Outbox::new(
            self.stores.clone(),
            carrier.drop_box(),
            call.tenant.clone(),
            connection,
            carrier.sender().id.clone(),
        );
        if let Some(residency) = &self.residency {
            outbox = outbox.with_residency(residency.clone());
        }
        let at = Utc::now().naive_utc();
        let change = event.change(&rules, &carrier.sender().sponsor, &carrier.profile().insurer, at);
        let staged = outbox.stage(&event.key(), |control| carrier.enroll(&change, control, at)).await?;
        let report = outbox.send().await?;
        let state = outbox.get(&staged.key).await?.map_or(staged.state, |f| f.state);
        Ok(json!({
            "key": staged.key,
            "file": staged.name,
            "control": staged.control,
            "state": state,
            "sent_now": report.sent.contains(&staged.name),
        }))
    }
}
