//! The [`Hris`] trait: typed HRIS operations on top of [`Integration`].

use async_trait::async_trait;
use integration_core::domain::{ListRequest, Listing, Remote};
use integration_core::{Integration, Result};

use crate::model::{Department, Employee, EmployeeUpdate, Job, TimeOff};

/// Capabilities an HRIS adapter declares in its descriptor; the contract suite skips what an
/// adapter does not declare and fails what it declares but does wrong.
pub mod capability {
    use integration_core::Capability;

    /// [`Hris::employee_changes`](super::Hris::employee_changes): employees changed since a time,
    /// deletions included.
    pub const EMPLOYEE_CHANGES: Capability = Capability::from_static("hris.employee_changes");
    /// [`Hris::departments`](super::Hris::departments).
    pub const DEPARTMENTS: Capability = Capability::from_static("hris.departments");
    /// [`Hris::jobs`](super::Hris::jobs).
    pub const JOBS: Capability = Capability::from_static("hris.jobs");
    /// [`Hris::time_off`](super::Hris::time_off).
    pub const TIME_OFF: Capability = Capability::from_static("hris.time_off");
    /// Pay rates in [`Employment::pay`](crate::Employment::pay).
    pub const PAY: Capability = Capability::from_static("hris.pay");
    /// [`Hris::update_employee`](super::Hris::update_employee): changing an employee's fields.
    pub const EMPLOYEE_WRITE: Capability = Capability::from_static("hris.employee_write");
}

/// An HRIS: employees with their employment, departments, jobs, time off.
///
/// An adapter implements [`Integration`] — with `read` delegating to [`crate::read`], so the sync
/// engine's streams come from these methods — and the methods here its provider supports,
/// declaring them in its descriptor with the [`capability`] constants. The others return an
/// [`Unsupported`](integration_core::ErrorKind::Unsupported) error.
#[async_trait]
pub trait Hris: Integration {
    /// All employees, terminated ones included, page by page.
    async fn employees(&self, request: ListRequest) -> Result<Listing<Employee>>;

    /// One employee; a [`NotFound`](integration_core::ErrorKind::NotFound) error when there is none.
    async fn employee(&self, remote_id: &str) -> Result<Remote<Employee>>;

    /// Employees changed at or after `request.since` (required), deletions as tombstones.
    async fn employee_changes(&self, request: ListRequest) -> Result<Listing<Employee>> {
        let _ = request;
        Err(self.unsupported("employee_changes"))
    }

    /// Departments and other organizational units.
    async fn departments(&self, request: ListRequest) -> Result<Listing<Department>> {
        let _ = request;
        Err(self.unsupported("departments"))
    }

    /// Jobs, positions or job profiles.
    async fn jobs(&self, request: ListRequest) -> Result<Listing<Job>> {
        let _ = request;
        Err(self.unsupported("jobs"))
    }

    /// Time off and leaves of absence.
    async fn time_off(&self, request: ListRequest) -> Result<Listing<TimeOff>> {
        let _ = request;
        Err(self.unsupported("time_off"))
    }

    /// Changes the fields `update` sets on employee `remote_id` and returns the employee as the
    /// provider has it afterwards (read back, so values the provider normalizes show as it
    /// stores them). Declared with [`capability::EMPLOYEE_WRITE`].
    ///
    /// Errors: an empty `update` (see [`EmployeeUpdate::is_empty`]) is a
    /// [`Validation`](integration_core::ErrorKind::Validation) error naming the field `update`,
    /// refused before any request; an unknown employee is
    /// [`NotFound`](integration_core::ErrorKind::NotFound); a value the provider refuses (a
    /// department it does not know, a required field cleared) is the provider's error, usually
    /// `Validation`.
    ///
    /// The update sets values, so repeating it is harmless: the adapter retries it after a
    /// transient failure even when the provider may already have applied it, and a caller may
    /// repeat it too. An error from the read back does not mean the update was not applied.
    async fn update_employee(&self, remote_id: &str, update: &EmployeeUpdate) -> Result<Remote<Employee>> {
        let _ = (remote_id, update);
        Err(self.unsupported("update_employee"))
    }
}
