//! The common HRIS model every adapter maps its provider onto.
//!
//! Each record is a [`Remote<T>`](crate::Remote) (the domain kit's envelope): the fields every record has (`remote_id`, `created_at`,
//! `modified_at`, `remote_was_deleted`, `remote_data`) around the domain fields of `T`
//! ([`Employee`], [`Department`], [`Job`], [`TimeOff`]). Money is a [`Decimal`] with an ISO 4217
//! [`Currency`], serialized as strings; dates without a time are [`NaiveDate`]; times are UTC.

use chrono::NaiveDate;
use iso_currency::Currency;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::vocabulary::{EmploymentStatus, EmploymentType, PayPeriod, TimeOffCategory, TimeOffStatus, TimeUnit};

/// A person employed (or once employed) by the company.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Employee {
    /// The employer's number for the employee.
    pub employee_number: Option<String>,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// The name to show.
    pub display_name: Option<String>,
    /// Work email.
    pub work_email: Option<String>,
    /// Personal email.
    pub personal_email: Option<String>,
    /// Job title.
    pub job_title: Option<String>,
    /// Department name.
    pub department: Option<String>,
    /// Work location name.
    pub location: Option<String>,
    /// The manager's `remote_id`.
    pub manager_id: Option<String>,
    /// The employment: status, type, dates, pay.
    pub employment: Employment,
}

/// An employee's employment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Employment {
    /// Active, terminated, on leave...
    pub status: EmploymentStatus,
    /// Full time, part time, contractor...
    pub employment_type: Option<EmploymentType>,
    /// The (latest) hire date.
    pub start_date: Option<NaiveDate>,
    /// The termination date, when terminated.
    pub termination_date: Option<NaiveDate>,
    /// Pay, where the provider exposes it (and the connection may read it).
    pub pay: Option<Pay>,
}

impl Default for Employment {
    fn default() -> Self {
        Self {
            status: EmploymentStatus::Active,
            employment_type: None,
            start_date: None,
            termination_date: None,
            pay: None,
        }
    }
}

/// A pay rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Pay {
    /// The amount per `period`.
    pub rate: Decimal,
    /// The currency.
    pub currency: Currency,
    /// The period the rate is for.
    pub period: PayPeriod,
}

impl Pay {
    /// A rate of `rate` `currency` per `period`.
    pub fn new(rate: Decimal, currency: Currency, period: PayPeriod) -> Self {
        Self { rate, currency, period }
    }
}

/// A department or other organizational unit.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Department {
    /// Its name.
    pub name: String,
    /// The provider's code for it, if any.
    pub code: Option<String>,
    /// The parent unit's `remote_id`, if any.
    pub parent_id: Option<String>,
    /// Whether it is no longer in use.
    pub archived: bool,
}

/// A job, position or job profile.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Job {
    /// Its title.
    pub title: String,
    /// The provider's code for it, if any.
    pub code: Option<String>,
    /// Whether it is no longer in use.
    pub archived: bool,
}

/// Time off or a leave of absence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TimeOff {
    /// The employee's `remote_id`.
    pub employee_id: String,
    /// What it is for.
    pub category: TimeOffCategory,
    /// Where it is in its approval.
    pub status: TimeOffStatus,
    /// The first day.
    pub start_date: NaiveDate,
    /// The last day (inclusive).
    pub end_date: NaiveDate,
    /// How much time it takes, in `unit`.
    pub amount: Option<Decimal>,
    /// The unit of `amount`.
    pub unit: Option<TimeUnit>,
}

impl Default for TimeOff {
    fn default() -> Self {
        Self {
            employee_id: String::new(),
            category: TimeOffCategory::Vacation,
            status: TimeOffStatus::Requested,
            start_date: NaiveDate::MIN,
            end_date: NaiveDate::MIN,
            amount: None,
            unit: None,
        }
    }
}

/// Changes to make to an employee with [`Hris::update_employee`](crate::Hris::update_employee):
/// the fields to set, every other field left as it is.
///
/// `None` leaves a field alone; `Some("")` clears it (where the provider lets it be empty); any
/// other value sets it. Names of departments, job titles and locations must be ones the provider
/// knows. A termination date can be set but not cleared. Deserializing refuses unknown fields, so
/// a misspelled field in an automation's input fails instead of being dropped.
///
/// ```
/// use chrono::NaiveDate;
/// use integration_hris::EmployeeUpdate;
///
/// let update = EmployeeUpdate::default()
///     .with_job_title("Engineering Manager")
///     .with_location("") // clears the location
///     .with_termination_date(NaiveDate::from_ymd_opt(2026, 6, 30).unwrap());
/// assert!(!update.is_empty());
/// assert_eq!(
///     serde_json::to_value(&update).unwrap(),
///     serde_json::json!({"job_title": "Engineering Manager", "location": "", "termination_date": "2026-06-30"}),
/// );
/// assert!(EmployeeUpdate::default().is_empty());
/// assert!(serde_json::from_str::<EmployeeUpdate>(r#"{"jobtitle": "Typo"}"#).is_err());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct EmployeeUpdate {
    /// Given name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// Family name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// Work email.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub work_email: Option<String>,
    /// Job title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_title: Option<String>,
    /// Department name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// Work location name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// The termination date.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub termination_date: Option<NaiveDate>,
}

/// A provider's names for the fields of an [`EmployeeUpdate`], for providers whose update is a
/// flat JSON object ([`EmployeeUpdate::to_provider_json`]). Every field must be named, so a field
/// added to `EmployeeUpdate` does not compile until each adapter maps it.
#[derive(Debug, Clone, Copy)]
#[allow(missing_docs)]
pub struct UpdateFieldNames {
    pub first_name: &'static str,
    pub last_name: &'static str,
    pub work_email: &'static str,
    pub job_title: &'static str,
    pub department: &'static str,
    pub location: &'static str,
    pub termination_date: &'static str,
}

impl EmployeeUpdate {
    /// A [`Validation`](integration_core::ErrorKind::Validation) error naming `update` when
    /// the update sets no field: every write must change something.
    pub fn require_change(&self) -> integration_core::Result<()> {
        if self.is_empty() {
            return Err(integration_core::Error::validation("update", "the update sets no field; set at least one")
                .with_operation("update_employee"));
        }
        Ok(())
    }

    /// The fields this update sets, as a flat JSON object with the provider's `names`; dates as
    /// `YYYY-MM-DD`, `""` to clear. Fields not set are left out, not sent as `null`.
    ///
    /// ```
    /// use integration_hris::{EmployeeUpdate, UpdateFieldNames};
    /// let names = UpdateFieldNames { first_name: "firstName", last_name: "lastName", work_email: "workEmail",
    ///     job_title: "jobTitle", department: "department", location: "location", termination_date: "terminationDate" };
    /// let body = EmployeeUpdate::default().with_job_title("CTO").with_location("").to_provider_json(&names);
    /// assert_eq!(serde_json::Value::Object(body), serde_json::json!({"jobTitle": "CTO", "location": ""}));
    /// ```
    pub fn to_provider_json(&self, names: &UpdateFieldNames) -> serde_json::Map<String, serde_json::Value> {
        let Self { first_name, last_name, work_email, job_title, department, location, termination_date } = self;
        let date = termination_date.map(|d| d.format("%Y-%m-%d").to_string());
        [
            (names.first_name, first_name.clone()),
            (names.last_name, last_name.clone()),
            (names.work_email, work_email.clone()),
            (names.job_title, job_title.clone()),
            (names.department, department.clone()),
            (names.location, location.clone()),
            (names.termination_date, date),
        ]
        .into_iter()
        .filter_map(|(name, value)| Some((name.to_owned(), serde_json::Value::String(value?))))
        .collect()
    }

    /// Whether it changes nothing (every field `None`; `Some("")` is a change: it clears).
    pub fn is_empty(&self) -> bool {
        let Self { first_name, last_name, work_email, job_title, department, location, termination_date } = self;
        first_name.is_none()
            && last_name.is_none()
            && work_email.is_none()
            && job_title.is_none()
            && department.is_none()
            && location.is_none()
            && termination_date.is_none()
    }

    /// Sets the given name (`""` clears it).
    #[must_use]
    pub fn with_first_name(mut self, value: impl Into<String>) -> Self {
        self.first_name = Some(value.into());
        self
    }

    /// Sets the family name (`""` clears it).
    #[must_use]
    pub fn with_last_name(mut self, value: impl Into<String>) -> Self {
        self.last_name = Some(value.into());
        self
    }

    /// Sets the work email (`""` clears it).
    #[must_use]
    pub fn with_work_email(mut self, value: impl Into<String>) -> Self {
        self.work_email = Some(value.into());
        self
    }

    /// Sets the job title (`""` clears it).
    #[must_use]
    pub fn with_job_title(mut self, value: impl Into<String>) -> Self {
        self.job_title = Some(value.into());
        self
    }

    /// Sets the department (`""` clears it).
    #[must_use]
    pub fn with_department(mut self, value: impl Into<String>) -> Self {
        self.department = Some(value.into());
        self
    }

    /// Sets the work location (`""` clears it).
    #[must_use]
    pub fn with_location(mut self, value: impl Into<String>) -> Self {
        self.location = Some(value.into());
        self
    }

    /// Sets the termination date.
    #[must_use]
    pub fn with_termination_date(mut self, date: NaiveDate) -> Self {
        self.termination_date = Some(date);
        self
    }
}
