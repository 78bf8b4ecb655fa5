//! The sync engine's streams, derived from the [`Hris`] methods: an adapter's
//! [`Integration::read`](integration_core::Integration::read) is one call to [`read`], so a typed
//! listing and a sync share one code path.
//!
//! | stream | full refresh (also resumable) | incremental |
//! |---|---|---|
//! | `employees` | [`Hris::employees`] | [`Hris::employee_changes`], after a first full pass |
//! | `departments` | [`Hris::departments`] | — |
//! | `jobs` | [`Hris::jobs`] | — |
//! | `time_off` | [`Hris::time_off`] | — |
//!
//! Every stream offers [`SyncMode::ResumableFullRefresh`](integration_core::SyncMode::ResumableFullRefresh): the page cursor of a full listing is
//! committed with each page, so a full sync killed halfway (a Workday tenant's thousands of
//! workers) resumes at the page it reached, its sweep still counting what it saw before.
//!
//! The streams are the HRIS [`StreamTable`] of the domain kit: descriptors, `read`, the
//! checkpoint (a page cursor within a pass; between passes, the next change listing's lower
//! bound, [`CLOCK_MARGIN`] before the pass began when the provider gives no change mark) and
//! webhook outcomes follow from it.

use integration_core::descriptor::{RunLimits, StreamDescriptor};
pub use integration_core::domain::CLOCK_MARGIN;
use integration_core::domain::{ListRequest, ListingFuture, Remote, StreamSpec, StreamTable};
use integration_core::{Capability, Page, ReadRequest, Result, WebhookOutcome};

use crate::hris::{Hris, capability};
use crate::model::Employee;
use crate::vocabulary::EmploymentStatus;

/// How much one run of an HRIS stream may read before it stops, failed: 10,000 pages and two
/// million records — more than the largest employer's workers (a job sets its own with
/// [`SyncJob::with_limits`](integration_core::SyncJob::with_limits)). A listing that never ends
/// stops there instead of running for hours.
pub const RUN_LIMITS: RunLimits = RunLimits::new(10_000, 2_000_000);

fn employees(h: &dyn Hris, r: ListRequest) -> ListingFuture<'_> {
    Box::pin(async move { h.employees(r).await?.into_parts() })
}
fn employee_changes(h: &dyn Hris, r: ListRequest) -> ListingFuture<'_> {
    Box::pin(async move { h.employee_changes(r).await?.into_parts() })
}
fn departments(h: &dyn Hris, r: ListRequest) -> ListingFuture<'_> {
    Box::pin(async move { h.departments(r).await?.into_parts() })
}
fn jobs(h: &dyn Hris, r: ListRequest) -> ListingFuture<'_> {
    Box::pin(async move { h.jobs(r).await?.into_parts() })
}
fn time_off(h: &dyn Hris, r: ListRequest) -> ListingFuture<'_> {
    Box::pin(async move { h.time_off(r).await?.into_parts() })
}

/// The HRIS streams, declared once.
pub static STREAMS: StreamTable<dyn Hris> = StreamTable::new("HRIS", &SPECS).with_limits(RUN_LIMITS);

static SPECS: [StreamSpec<dyn Hris>; 4] = [
    StreamSpec {
        name: "employees",
        description: "employees and their employment (status, type, dates, manager, pay)",
        capability: None,
        list: employees,
        changes: Some((capability::EMPLOYEE_CHANGES, employee_changes)),
    },
    StreamSpec {
        name: "departments",
        description: "departments and other organizational units",
        capability: Some(capability::DEPARTMENTS),
        list: departments,
        changes: None,
    },
    StreamSpec {
        name: "jobs",
        description: "jobs, positions or job profiles",
        capability: Some(capability::JOBS),
        list: jobs,
        changes: None,
    },
    StreamSpec {
        name: "time_off",
        description: "time off requests and leaves of absence",
        capability: Some(capability::TIME_OFF),
        list: time_off,
        changes: None,
    },
];

/// A stream of the HRIS domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HrisStream {
    /// Employees with their employment.
    Employees,
    /// Departments.
    Departments,
    /// Jobs.
    Jobs,
    /// Time off and leaves.
    TimeOff,
}

impl HrisStream {
    /// Every stream.
    pub const ALL: [HrisStream; 4] = [Self::Employees, Self::Departments, Self::Jobs, Self::TimeOff];

    /// The stream's name in the sync engine.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Employees => "employees",
            Self::Departments => "departments",
            Self::Jobs => "jobs",
            Self::TimeOff => "time_off",
        }
    }

    /// The stream named `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The streams an adapter with `capabilities` serves: employees always (incremental with
    /// [`capability::EMPLOYEE_CHANGES`]), departments, jobs and time off with
    /// [`capability::DEPARTMENTS`], [`capability::JOBS`] and [`capability::TIME_OFF`].
    pub fn for_capabilities(capabilities: &[Capability]) -> Vec<StreamDescriptor> {
        STREAMS.descriptors(capabilities)
    }

    /// Its descriptor: full refresh and resumable full refresh always, incremental when
    /// `incremental` (employees, for an adapter with [`capability::EMPLOYEE_CHANGES`]); read
    /// ahead (the `Hris` listings change nothing at the provider, unless an adapter says
    /// otherwise with
    /// [`DescriptorBuilder::without_read_ahead`](integration_core::descriptor::DescriptorBuilder::without_read_ahead)).
    pub fn descriptor(self, incremental: bool) -> StreamDescriptor {
        let spec = STREAMS.stream(self.name()).unwrap_or_else(|| unreachable!("every HrisStream is in the table"));
        STREAMS.descriptor(spec, incremental && spec.changes.is_some())
    }
}

/// Reads one page of an HRIS stream: what an adapter's `Integration::read` returns.
pub async fn read(hris: &(dyn Hris + 'static), request: ReadRequest) -> Result<Page> {
    STREAMS.read(hris, request).await
}

/// What a webhook about employees amounts to: each employee's record change on the `employees`
/// stream, and an event per employee — `employee.deleted`, `employee.terminated` (the record
/// shows a termination) or `employee.updated` — carrying the record.
pub fn employee_webhook_outcome(employees: Vec<Remote<Employee>>) -> Result<WebhookOutcome> {
    integration_core::domain::webhook_outcome(HrisStream::Employees.name(), employees, |employee| {
        if employee.remote_was_deleted {
            "employee.deleted"
        } else if employee.fields.employment.status == EmploymentStatus::Terminated {
            "employee.terminated"
        } else {
            "employee.updated"
        }
    })
}
