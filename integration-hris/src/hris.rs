//! The [`Hris`] trait: typed HRIS operations on top of [`Integration`].

use std::num::NonZeroU32;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use integration_core::decode::Decoded;
use integration_core::{Capability, Error, Integration, RejectedRecord, Result};

use crate::model::{Department, Employee, EmployeeUpdate, Job, Remote, TimeOff};

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

/// Which slice of a collection to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListRequest {
    /// Where to continue: the [`Listing::next`] of the previous page; `None` for the first.
    pub cursor: Option<String>,
    /// For change listings: the inclusive lower bound of the change time.
    pub since: Option<DateTime<Utc>>,
    /// A page size hint; the adapter may use the provider's maximum instead.
    pub page_size: Option<NonZeroU32>,
    /// Part of a dry run: change nothing at the provider, not even by reading (see
    /// [`ReadRequest::dry_run`](integration_core::ReadRequest::dry_run)).
    pub dry_run: bool,
}

impl ListRequest {
    /// The first page.
    pub fn first() -> Self {
        Self::default()
    }

    /// The page at `cursor`.
    #[must_use]
    pub fn at(mut self, cursor: Option<String>) -> Self {
        self.cursor = cursor;
        self
    }

    /// Changes at or after `since`.
    #[must_use]
    pub fn since(mut self, since: DateTime<Utc>) -> Self {
        self.since = Some(since);
        self
    }

    /// Sets the page size hint.
    #[must_use]
    pub fn page_size(mut self, size: Option<NonZeroU32>) -> Self {
        self.page_size = size;
        self
    }

    /// Marks the listing as part of a dry run.
    #[must_use]
    pub fn dry_run(mut self, dry_run: bool) -> Self {
        self.dry_run = dry_run;
        self
    }

    /// For offset paging: the cursor read as an offset (`0` for the first page). A cursor that
    /// is not a number is a [`Validation`](integration_core::ErrorKind::Validation) error naming
    /// `cursor`.
    pub fn offset(&self) -> Result<u64> {
        match self.cursor.as_deref() {
            None => Ok(0),
            Some(cursor) => {
                cursor.parse().map_err(|_| Error::validation("cursor", format!("{cursor:?} is not an offset")))
            }
        }
    }

    /// The page size to ask for: the hint, at most `max` (the provider's largest page), or `max`.
    pub fn limit(&self, max: u32) -> u32 {
        self.page_size.map_or(max, |n| n.get().min(max))
    }
}

/// One page of records.
#[derive(Debug)]
#[non_exhaustive]
pub struct Listing<T> {
    /// The records that mapped onto the common model.
    pub items: Vec<Remote<T>>,
    /// Records that did not, each with its raw data and an error naming the record and field.
    pub rejected: Vec<RejectedRecord>,
    /// The cursor of the next page; `None` on the last.
    pub next: Option<String>,
    /// For change listings: the provider's own mark of how far its changes go, to start the next
    /// listing from. Without it the next listing starts a margin before this pass began.
    pub high_water: Option<DateTime<Utc>>,
}

impl<T> Listing<T> {
    /// A page of `items` followed by the page at `next`.
    pub fn new(items: Vec<Remote<T>>, next: Option<String>) -> Self {
        Self { items, rejected: Vec::new(), next, high_water: None }
    }

    /// A page from decoded records.
    pub fn decoded(decoded: Decoded<Remote<T>>, next: Option<String>) -> Self {
        Self { items: decoded.ok, rejected: decoded.rejected, next, high_water: None }
    }

    /// Sets the provider's change mark.
    #[must_use]
    pub fn with_high_water(mut self, at: Option<DateTime<Utc>>) -> Self {
        self.high_water = at;
        self
    }
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

    /// Whether the adapter declares `capability`.
    fn supports(&self, capability: &Capability) -> bool {
        self.descriptor().supports(capability)
    }

    /// The error for an operation this adapter does not support.
    fn unsupported(&self, operation: &str) -> Error {
        Error::unsupported(operation).with_provider(self.descriptor().provider.as_str())
    }
}
