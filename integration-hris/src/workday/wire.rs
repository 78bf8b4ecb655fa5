//! Workday's JSON (Staffing v6), and how it maps onto the common model.

use chrono::NaiveDate;
use integration_core::{Error, Result};
use serde::Deserialize;
use serde_json::Value;

use crate::model::{Department, Employee, Employment, Job, Remote};
use crate::vocabulary::{EmploymentStatus, EmploymentType};
use crate::wire::{id, optional_date, optional_id, optional_text};

/// The key under which a worker's `serviceDates` record is added to its raw JSON.
pub(super) const SERVICE_DATES: &str = "serviceDates";

/// Every collection's envelope: `{"total": n, "data": [...]}`.
#[derive(Debug, Deserialize)]
pub(super) struct Collection {
    #[serde(default)]
    pub(super) total: u64,
    #[serde(default)]
    pub(super) data: Vec<Value>,
}

impl Collection {
    /// The offset after this page, read at `offset`; `None` on the last page (or an empty one,
    /// whatever `total` says, so a miscounting server cannot loop us).
    pub(super) fn next_offset(&self, offset: u64) -> Option<u64> {
        let end = offset.saturating_add(self.data.len() as u64);
        (!self.data.is_empty() && end < self.total).then_some(end)
    }
}

/// A reference to another instance: `{id, descriptor, href}`.
#[derive(Debug, Default, Deserialize)]
struct Reference {
    #[serde(default, deserialize_with = "optional_text")]
    descriptor: Option<String>,
}

/// One worker of `GET /workers` and `GET /workers/{ID}` (`WorkerData`), with its `serviceDates`
/// record added by the adapter when hire dates are read.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct WireWorker {
    #[serde(deserialize_with = "id")]
    id: String,
    #[serde(default, deserialize_with = "optional_text")]
    descriptor: Option<String>,
    #[serde(default, deserialize_with = "optional_id")]
    worker_id: Option<String>,
    #[serde(default)]
    worker_type: Option<Reference>,
    #[serde(default)]
    person: Option<WirePerson>,
    #[serde(default)]
    primary_job: Option<WireJob>,
    #[serde(default)]
    service_dates: Option<ServiceDates>,
}

#[derive(Debug, Deserialize)]
struct WirePerson {
    #[serde(default, deserialize_with = "optional_text")]
    email: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireJob {
    #[serde(default, deserialize_with = "optional_text")]
    business_title: Option<String>,
    #[serde(default)]
    supervisory_organization: Option<Reference>,
    #[serde(default)]
    job_profile: Option<Reference>,
    #[serde(default)]
    location: Option<Reference>,
}

/// One record of `GET /workers/{ID}/serviceDates`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ServiceDates {
    #[serde(default, deserialize_with = "optional_date")]
    hire_date: Option<NaiveDate>,
}

impl WireWorker {
    /// The employee; `active` says whether the worker is among the non-terminated workers.
    pub(super) fn into_remote(self, raw: &Value, active: bool) -> Result<Remote<Employee>> {
        // Staffing gives only the display name: the first word is taken as the given name.
        let (first_name, last_name) = match self.descriptor.as_deref().map(str::trim) {
            Some(name) => match name.split_once(char::is_whitespace) {
                Some((first, last)) => (Some(first.to_owned()), Some(last.trim().to_owned())),
                None => (Some(name.to_owned()), None),
            },
            None => (None, None),
        };
        let contingent =
            self.worker_type.and_then(|t| t.descriptor).is_some_and(|d| d.to_ascii_lowercase().contains("contingent"));
        let job = self.primary_job.unwrap_or_default();
        let employee = Employee {
            employee_number: self.worker_id,
            first_name,
            last_name,
            display_name: self.descriptor,
            work_email: self.person.and_then(|p| p.email),
            personal_email: None,
            job_title: job.business_title.or_else(|| job.job_profile.and_then(|p| p.descriptor)),
            department: job.supervisory_organization.and_then(|o| o.descriptor),
            location: job.location.and_then(|l| l.descriptor),
            manager_id: None,
            employment: Employment {
                status: if active { EmploymentStatus::Active } else { EmploymentStatus::Terminated },
                employment_type: contingent.then_some(EmploymentType::Contractor),
                start_date: self.service_dates.and_then(|s| s.hire_date),
                termination_date: None,
                pay: None,
            },
        };
        Ok(Remote::new(self.id, employee).with_remote_data(raw.clone()))
    }
}

/// A supervisory organization or a job profile: `{id, descriptor, name, code, inactive}`.
#[derive(Debug, Deserialize)]
pub(super) struct WireInstance {
    #[serde(deserialize_with = "id")]
    id: String,
    #[serde(default, deserialize_with = "optional_text")]
    name: Option<String>,
    #[serde(default, deserialize_with = "optional_text")]
    descriptor: Option<String>,
    #[serde(default, deserialize_with = "optional_text")]
    code: Option<String>,
    #[serde(default)]
    inactive: Option<bool>,
}

impl WireInstance {
    fn name(&mut self) -> Result<String> {
        self.name.take().or_else(|| self.descriptor.take()).ok_or_else(|| Error::validation("name", "no name"))
    }

    /// A supervisory organization as a department (its parent is only in `orgChart`: not read).
    pub(super) fn department(mut self, raw: &Value) -> Result<Remote<Department>> {
        let fields =
            Department { name: self.name()?, code: self.code, parent_id: None, archived: self.inactive == Some(true) };
        Ok(Remote::new(self.id, fields).with_remote_data(raw.clone()))
    }

    /// A job profile as a job.
    pub(super) fn job(mut self, raw: &Value) -> Result<Remote<Job>> {
        let fields = Job { title: self.name()?, code: self.code, archived: self.inactive == Some(true) };
        Ok(Remote::new(self.id, fields).with_remote_data(raw.clone()))
    }
}
