//! Workday's JSON (Staffing v6), and how it maps onto the common model.

use serde::Deserialize;

use crate::prelude::*;

/// The key under which a worker's `serviceDates` record is added to its raw JSON.
pub(super) const SERVICE_DATES: &str = "serviceDates";

/// A collection's envelope, `{"total": n, "data": [...]}`, where one record is read from it
/// (a worker's `serviceDates`); listings page through the spec client.
#[derive(Debug, Deserialize)]
pub(super) struct Collection {
    #[serde(default)]
    pub(super) data: Vec<Value>,
}

/// One worker of `GET /workers` and `GET /workers/{ID}` (`WorkerData`), with its `serviceDates`
/// record added by the adapter when hire dates are read; `active` says whether the worker is
/// among the non-terminated workers. References to other instances are `{id, descriptor, href}`.
pub(super) fn employee(r: &Fields, active: bool) -> Result<Remote<Employee>> {
    let display_name = r.text("descriptor")?;
    // Staffing gives only the display name: the first word is taken as the given name.
    let (first_name, last_name) = match display_name.as_deref().map(str::trim) {
        Some(name) => match name.split_once(char::is_whitespace) {
            Some((first, last)) => (Some(first.to_owned()), Some(last.trim().to_owned())),
            None => (Some(name.to_owned()), None),
        },
        None => (None, None),
    };
    let worker_type = r.text("workerType.descriptor")?.unwrap_or_default().to_ascii_lowercase();
    let job = r.at("primaryJob");
    let employee = Employee {
        employee_number: r.optional_id("workerId")?,
        first_name,
        last_name,
        display_name,
        work_email: r.text("person.email")?,
        personal_email: None,
        job_title: job.text("businessTitle")?.or(job.text("jobProfile.descriptor")?),
        department: job.text("supervisoryOrganization.descriptor")?,
        location: job.text("location.descriptor")?,
        manager_id: None,
        employment: Employment {
            status: if active { EmploymentStatus::Active } else { EmploymentStatus::Terminated },
            employment_type: worker_type.contains("contingent").then_some(EmploymentType::Contractor),
            start_date: r.date("serviceDates.hireDate")?,
            termination_date: None,
            pay: None,
        },
    };
    Ok(Remote::new(r.id("id")?, employee).with_remote_data(r.raw().clone()))
}

/// A supervisory organization or a job profile, `{id, descriptor, name, code, inactive}`: its
/// id, name, code and whether it is inactive.
fn instance(r: &Fields) -> Result<(String, String, Option<String>, bool)> {
    let name = r.text("name")?.or(r.text("descriptor")?).ok_or_else(|| Error::validation("name", "no name"))?;
    Ok((r.id("id")?, name, r.text("code")?, r.flag("inactive")? == Some(true)))
}

/// A supervisory organization as a department (its parent is only in `orgChart`: not read).
pub(super) fn department(r: &Fields) -> Result<Remote<Department>> {
    let (id, name, code, archived) = instance(r)?;
    Ok(Remote::new(id, Department { name, code, parent_id: None, archived }).with_remote_data(r.raw().clone()))
}

/// A job profile as a job.
pub(super) fn job(r: &Fields) -> Result<Remote<Job>> {
    let (id, title, code, archived) = instance(r)?;
    Ok(Remote::new(id, Job { title, code, archived }).with_remote_data(r.raw().clone()))
}
