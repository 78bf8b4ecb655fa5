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
//! Every stream offers [`SyncMode::ResumableFullRefresh`]: the page cursor of a full listing is
//! committed with each page, so a full sync killed halfway (a Workday tenant's thousands of
//! workers) resumes at the page it reached, its sweep still counting what it saw before.
//!
//! The checkpoint holds the page cursor within a pass and, between passes, the inclusive lower
//! bound for the next change listing: the provider's change mark when it gives one
//! ([`Listing::high_water`]), otherwise the time the pass began less [`CLOCK_MARGIN`], so that
//! a provider clock behind ours loses nothing. Records read twice at that boundary are
//! recognized by the cache's content hash and not reported as changes again.

use std::time::Duration;

use chrono::{DateTime, Utc};
use integration_core::descriptor::{RunLimits, StreamDescriptor, SyncMode};
use integration_core::{
    Capability, Checkpoint, Error, IntegrationEvent, Page, ReadRequest, Record, RecordChange, Result, WebhookOutcome,
};
use serde::{Deserialize, Serialize};

use integration_core::domain::{ListRequest, Listing, Remote};

use crate::hris::{Hris, capability};
use crate::model::Employee;
use crate::vocabulary::EmploymentStatus;

/// How far before a pass began the next change listing starts, when the provider gives no
/// change mark of its own.
pub const CLOCK_MARGIN: Duration = Duration::from_secs(300);

/// How much one run of an HRIS stream may read before it stops, failed: 10,000 pages and two
/// million records — more than the largest employer's workers (a job sets its own with
/// [`SyncJob::with_limits`](integration_core::SyncJob::with_limits)). A listing that never ends
/// stops there instead of running for hours.
pub const RUN_LIMITS: RunLimits = RunLimits::new(10_000, 2_000_000);

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
    pub fn name(self) -> &'static str {
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
        let has = |c: &Capability| capabilities.contains(c);
        let incremental = has(&capability::EMPLOYEE_CHANGES);
        let served = |s: &Self| match s {
            Self::Employees => true,
            Self::Departments => has(&capability::DEPARTMENTS),
            Self::Jobs => has(&capability::JOBS),
            Self::TimeOff => has(&capability::TIME_OFF),
        };
        Self::ALL.into_iter().filter(served).map(|s| s.descriptor(incremental)).collect()
    }

    /// Its descriptor: full refresh and resumable full refresh always, incremental for
    /// employees when the adapter has
    /// [`capability::EMPLOYEE_CHANGES`]; read ahead (the `Hris` listings change nothing at the
    /// provider, unless an adapter says otherwise with
    /// [`DescriptorBuilder::without_read_ahead`](integration_core::descriptor::DescriptorBuilder::without_read_ahead)).
    pub fn descriptor(self, incremental: bool) -> StreamDescriptor {
        let mut modes = vec![SyncMode::FullRefresh, SyncMode::ResumableFullRefresh];
        let base = StreamDescriptor::new(self.name(), ["remote_id"]).with_read_ahead().with_limits(RUN_LIMITS);
        let base = if incremental && self == Self::Employees {
            modes.push(SyncMode::Incremental);
            base.with_cursor_field("modified_at")
        } else {
            base
        };
        base.with_modes(modes).with_description(match self {
            Self::Employees => "employees and their employment (status, type, dates, manager, pay)",
            Self::Departments => "departments and other organizational units",
            Self::Jobs => "jobs, positions or job profiles",
            Self::TimeOff => "time off requests and leaves of absence",
        })
    }
}

/// The engine-facing position within a stream.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Position {
    /// The page cursor within the current pass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cursor: Option<String>,
    /// The inclusive lower bound of the current (or next) change listing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    since: Option<DateTime<Utc>>,
    /// When the current pass began.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pass_started: Option<DateTime<Utc>>,
    /// The highest change mark the provider reported in the current pass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    high_water: Option<DateTime<Utc>>,
}

/// Reads one page of an HRIS stream: what an adapter's `Integration::read` returns.
pub async fn read<H: Hris + ?Sized>(hris: &H, request: ReadRequest) -> Result<Page> {
    let provider = hris.descriptor().provider.as_str().to_owned();
    let stream = HrisStream::from_name(&request.stream).ok_or_else(|| {
        Error::validation("stream", format!("the HRIS has no stream {:?}", request.stream)).with_provider(&provider)
    })?;
    let position: Position = match &request.checkpoint {
        Some(checkpoint) => checkpoint.state()?,
        None => Position::default(),
    };
    let changes = request.mode == SyncMode::Incremental
        && stream == HrisStream::Employees
        && hris.supports(&capability::EMPLOYEE_CHANGES)
        && position.since.is_some();
    let pass_started = position.pass_started.unwrap_or_else(Utc::now);
    let mut list =
        ListRequest::first().at(position.cursor.clone()).page_size(request.page_size).dry_run(request.dry_run);
    if let (true, Some(since)) = (changes, position.since) {
        list = list.since(since);
    }
    let (records, rejected, next, high_water) = match stream {
        HrisStream::Employees if changes => into_parts(hris.employee_changes(list).await?)?,
        HrisStream::Employees => into_parts(hris.employees(list).await?)?,
        HrisStream::Departments => into_parts(hris.departments(list).await?)?,
        HrisStream::Jobs => into_parts(hris.jobs(list).await?)?,
        HrisStream::TimeOff => into_parts(hris.time_off(list).await?)?,
    };
    let high_water = high_water.max(position.high_water);
    let page = match next {
        Some(cursor) => {
            let next =
                Position { cursor: Some(cursor), since: position.since, pass_started: Some(pass_started), high_water };
            Page::more(records, Checkpoint::from_state(&next)?)
        }
        None => {
            let margin = chrono::Duration::from_std(CLOCK_MARGIN).unwrap_or_default();
            let since = high_water.unwrap_or(pass_started - margin);
            let next = Position { since: Some(since), ..Position::default() };
            Page::last(records, Some(Checkpoint::from_state(&next)?))
        }
    };
    Ok(page.with_rejected(rejected))
}

type Parts = (Vec<Record>, Vec<integration_core::RejectedRecord>, Option<String>, Option<DateTime<Utc>>);

fn into_parts<T: Serialize>(listing: Listing<T>) -> Result<Parts> {
    let records = listing.items.into_iter().map(Remote::into_record).collect::<Result<Vec<_>>>()?;
    Ok((records, listing.rejected, listing.next, listing.high_water))
}

/// What a webhook about employees amounts to: each employee's record change on the `employees`
/// stream, and an event per employee — `employee.deleted`, `employee.terminated` (the record
/// shows a termination) or `employee.updated` — carrying the record.
pub fn employee_webhook_outcome(employees: Vec<Remote<Employee>>) -> Result<WebhookOutcome> {
    let mut changes = Vec::with_capacity(employees.len());
    let mut events = Vec::with_capacity(employees.len());
    for employee in employees {
        let kind = if employee.remote_was_deleted {
            "employee.deleted"
        } else if employee.fields.employment.status == EmploymentStatus::Terminated {
            "employee.terminated"
        } else {
            "employee.updated"
        };
        let occurred_at = employee.modified_at;
        let record = employee.into_record()?;
        let payload =
            if record.deleted { serde_json::json!({ "remote_id": record.remote_id }) } else { record.data.clone() };
        let mut event = IntegrationEvent::new(kind, payload);
        event.occurred_at = occurred_at;
        events.push(event);
        changes.push(RecordChange::new(HrisStream::Employees.name(), record));
    }
    Ok(WebhookOutcome::new(changes, events))
}
