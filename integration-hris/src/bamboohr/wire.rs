//! BambooHR's JSON, and how it maps onto the common model.

use std::collections::BTreeMap;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use integration_core::{Error, Result};
use iso_currency::Currency;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::{Department, Employee, EmployeeUpdate, Employment, Job, Pay, Remote, TimeOff};
use crate::vocabulary::{EmploymentStatus, EmploymentType, PayPeriod, TimeOffCategory, TimeOffStatus, TimeUnit};
use crate::wire::{id, optional_date, optional_id, optional_text, optional_time};

/// The fields asked for in custom reports and single-employee reads.
pub(super) const FIELDS: [&str; 19] = [
    "id",
    "employeeNumber",
    "firstName",
    "lastName",
    "displayName",
    "workEmail",
    "homeEmail",
    "department",
    "jobTitle",
    "location",
    "supervisorEId",
    "status",
    "employmentHistoryStatus",
    "hireDate",
    "terminationDate",
    "payRate",
    "payType",
    "payPer",
    "lastChanged",
];

/// One employee as custom reports and `GET /employees/{id}` render it: strings or null.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct WireEmployee {
    #[serde(deserialize_with = "id")]
    id: String,
    #[serde(default, deserialize_with = "optional_text")]
    employee_number: Option<String>,
    #[serde(default, deserialize_with = "optional_text")]
    first_name: Option<String>,
    #[serde(default, deserialize_with = "optional_text")]
    last_name: Option<String>,
    #[serde(default, deserialize_with = "optional_text")]
    display_name: Option<String>,
    #[serde(default, deserialize_with = "optional_text")]
    work_email: Option<String>,
    #[serde(default, deserialize_with = "optional_text")]
    home_email: Option<String>,
    #[serde(default, deserialize_with = "optional_text")]
    department: Option<String>,
    #[serde(default, deserialize_with = "optional_text")]
    job_title: Option<String>,
    #[serde(default, deserialize_with = "optional_text")]
    location: Option<String>,
    #[serde(default, rename = "supervisorEId", deserialize_with = "optional_id")]
    supervisor: Option<String>,
    #[serde(default, deserialize_with = "optional_text")]
    status: Option<String>,
    #[serde(default, deserialize_with = "optional_text")]
    employment_history_status: Option<String>,
    #[serde(default, deserialize_with = "optional_date")]
    hire_date: Option<NaiveDate>,
    #[serde(default, deserialize_with = "optional_date")]
    termination_date: Option<NaiveDate>,
    #[serde(default, deserialize_with = "optional_text")]
    pay_rate: Option<String>,
    #[serde(default, alias = "paidPer", deserialize_with = "optional_text")]
    pay_per: Option<String>,
    #[serde(default, deserialize_with = "optional_time")]
    last_changed: Option<DateTime<Utc>>,
}

impl WireEmployee {
    pub(super) fn into_remote(self, raw: &Value) -> Result<Remote<Employee>> {
        let history = self.employment_history_status.as_deref();
        let history_says = |word: &str| history.is_some_and(|h| h.to_ascii_lowercase().contains(word));
        let status = match self.status.as_deref() {
            _ if history_says("terminat")
                || self.termination_date.is_some_and(|_| self.status.as_deref() == Some("Inactive")) =>
            {
                EmploymentStatus::Terminated
            }
            _ if history_says("leave") => EmploymentStatus::OnLeave,
            Some(status) => EmploymentStatus::parse(status),
            None => EmploymentStatus::Active,
        };
        let employment_type = match history {
            _ if history_says("terminat") || history_says("leave") => None,
            Some(h) => Some(EmploymentType::parse(h)),
            None => None,
        };
        let pay = match self.pay_rate.as_deref() {
            Some(rate) => Some(pay(rate, self.pay_per.as_deref())?),
            None => None,
        };
        let employee = Employee {
            employee_number: self.employee_number,
            first_name: self.first_name,
            last_name: self.last_name,
            display_name: self.display_name,
            work_email: self.work_email,
            personal_email: self.home_email,
            job_title: self.job_title,
            department: self.department,
            location: self.location,
            manager_id: self.supervisor,
            employment: Employment {
                status,
                employment_type,
                start_date: self.hire_date,
                termination_date: self.termination_date,
                pay,
            },
        };
        Ok(Remote::new(self.id, employee).modified(self.last_changed).with_remote_data(raw.clone()))
    }
}

/// The body of `POST /employees/{id}`: the fields to set, named as in [`FIELDS`] (the same
/// camelCase names [`WireEmployee`] reads), dates as `YYYY-MM-DD`, `""` to clear.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct WireUpdate<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    first_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    work_email: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    job_title: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    department: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    termination_date: Option<String>,
}

impl<'a> From<&'a EmployeeUpdate> for WireUpdate<'a> {
    fn from(update: &'a EmployeeUpdate) -> Self {
        // Exhaustive: a field added to `EmployeeUpdate` does not compile until it is mapped here.
        let EmployeeUpdate { first_name, last_name, work_email, job_title, department, location, termination_date } =
            update;
        Self {
            first_name: first_name.as_deref(),
            last_name: last_name.as_deref(),
            work_email: work_email.as_deref(),
            job_title: job_title.as_deref(),
            department: department.as_deref(),
            location: location.as_deref(),
            termination_date: termination_date.map(|d| d.format("%Y-%m-%d").to_string()),
        }
    }
}

/// `"85000.00 USD"` per `"Year"`.
fn pay(rate: &str, per: Option<&str>) -> Result<Pay> {
    let mut parts = rate.split_whitespace();
    let (Some(amount), code) = (parts.next(), parts.next()) else {
        return Err(Error::validation("payRate", "empty pay rate"));
    };
    let amount = Decimal::from_str(&amount.replace(',', ""))
        .map_err(|e| Error::validation("payRate", format!("{rate:?} is not an amount: {e}")))?;
    let currency = match code {
        Some(code) => Currency::from_code(code)
            .ok_or_else(|| Error::validation("payRate", format!("{code:?} is not an ISO 4217 currency")))?,
        None => return Err(Error::validation("payRate", format!("{rate:?} names no currency"))),
    };
    let period = per.map_or(PayPeriod::Other(String::new()), PayPeriod::parse);
    Ok(Pay::new(amount, currency, period))
}

/// `POST /reports/custom` answers.
#[derive(Debug, Deserialize)]
pub(super) struct Report {
    pub(super) employees: Vec<Value>,
}

/// `GET /employees/changed` answers: `employees` is an object keyed by id, or `[]` when empty.
#[derive(Debug, Deserialize)]
pub(super) struct Changed {
    #[serde(default, deserialize_with = "optional_time")]
    pub(super) latest: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "changed_map")]
    pub(super) employees: BTreeMap<String, ChangedEmployee>,
}

/// One entry of `GET /employees/changed`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ChangedEmployee {
    #[serde(deserialize_with = "id")]
    pub(super) id: String,
    pub(super) action: String,
    #[serde(default, deserialize_with = "optional_time")]
    pub(super) last_changed: Option<DateTime<Utc>>,
}

fn changed_map<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> std::result::Result<BTreeMap<String, ChangedEmployee>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        Map(BTreeMap<String, ChangedEmployee>),
        List(Vec<ChangedEmployee>),
    }
    Ok(match Either::deserialize(deserializer)? {
        Either::Map(map) => map,
        Either::List(list) => list.into_iter().map(|e| (e.id.clone(), e)).collect(),
    })
}

/// One list of `GET /meta/lists`.
#[derive(Debug, Deserialize)]
pub(super) struct MetaList {
    #[serde(default)]
    pub(super) alias: Option<String>,
    #[serde(default)]
    pub(super) options: Vec<Value>,
}

/// One option of a meta list.
#[derive(Debug, Deserialize)]
pub(super) struct MetaOption {
    #[serde(deserialize_with = "id")]
    id: String,
    name: String,
    #[serde(default)]
    archived: Option<String>,
}

impl MetaOption {
    pub(super) fn department(self, raw: &Value) -> Result<Remote<Department>> {
        let archived = self.archived.as_deref() == Some("yes");
        let fields = Department { name: self.name, code: None, parent_id: None, archived };
        Ok(Remote::new(self.id, fields).with_remote_data(raw.clone()))
    }

    pub(super) fn job(self, raw: &Value) -> Result<Remote<Job>> {
        let archived = self.archived.as_deref() == Some("yes");
        Ok(Remote::new(self.id, Job { title: self.name, code: None, archived }).with_remote_data(raw.clone()))
    }
}

/// One time-off request (ids and amounts arrive as strings or numbers).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct WireTimeOff {
    #[serde(deserialize_with = "id")]
    id: String,
    #[serde(deserialize_with = "id")]
    employee_id: String,
    status: WireTimeOffStatus,
    #[serde(deserialize_with = "required_date")]
    start: NaiveDate,
    #[serde(deserialize_with = "required_date")]
    end: NaiveDate,
    #[serde(rename = "type")]
    kind: WireTimeOffType,
    #[serde(default)]
    amount: Option<WireAmount>,
}

#[derive(Debug, Deserialize)]
struct WireTimeOffStatus {
    status: String,
    #[serde(default, rename = "lastChanged", deserialize_with = "optional_time")]
    last_changed: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize)]
struct WireTimeOffType {
    name: String,
}

#[derive(Debug, Deserialize)]
struct WireAmount {
    unit: String,
    #[serde(deserialize_with = "id")]
    amount: String,
}

fn required_date<'de, D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<NaiveDate, D::Error> {
    optional_date(deserializer)?.ok_or_else(|| serde::de::Error::custom("a date is required"))
}

impl WireTimeOff {
    pub(super) fn into_remote(self, raw: &Value) -> Result<Remote<TimeOff>> {
        let status = match self.status.status.as_str() {
            "canceled" | "superceded" => TimeOffStatus::Cancelled,
            other => TimeOffStatus::parse(other),
        };
        let category = match self.kind.name.to_ascii_lowercase() {
            name if name.contains("vacation") || name.contains("pto") => TimeOffCategory::Vacation,
            name if name.contains("sick") => TimeOffCategory::Sick,
            name if name.contains("parental") || name.contains("maternity") || name.contains("paternity") => {
                TimeOffCategory::Parental
            }
            name if name.contains("leave") => TimeOffCategory::LeaveOfAbsence,
            _ => TimeOffCategory::parse(&self.kind.name),
        };
        let (amount, unit) = match self.amount {
            Some(a) => {
                let amount = Decimal::from_str(&a.amount)
                    .map_err(|e| Error::validation("amount.amount", format!("{:?} is not a number: {e}", a.amount)))?;
                (Some(amount), Some(TimeUnit::parse(&a.unit)))
            }
            None => (None, None),
        };
        let fields = TimeOff {
            employee_id: self.employee_id,
            category,
            status,
            start_date: self.start,
            end_date: self.end,
            amount,
            unit,
        };
        Ok(Remote::new(self.id, fields).modified(self.status.last_changed).with_remote_data(raw.clone()))
    }
}

/// A field-based webhook's body: `{"employees": [{"id", "action", ...}]}`.
#[derive(Debug, Deserialize)]
pub(super) struct WebhookBody {
    pub(super) employees: Vec<WebhookEmployee>,
}

/// One employee of a webhook body.
#[derive(Debug, Deserialize)]
pub(super) struct WebhookEmployee {
    #[serde(deserialize_with = "id")]
    pub(super) id: String,
    pub(super) action: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_update_is_sent_with_bamboohr_field_names() {
        let update = EmployeeUpdate::default()
            .with_first_name("Ada")
            .with_last_name("Lovelace")
            .with_work_email("ada@example.com")
            .with_job_title("Engineering Manager")
            .with_department("Engineering")
            .with_location("")
            .with_termination_date(NaiveDate::from_ymd_opt(2026, 6, 30).unwrap());
        let body = serde_json::to_value(WireUpdate::from(&update)).unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "firstName": "Ada",
                "lastName": "Lovelace",
                "workEmail": "ada@example.com",
                "jobTitle": "Engineering Manager",
                "department": "Engineering",
                "location": "",
                "terminationDate": "2026-06-30",
            })
        );
        // What is written is read back: every name is one the reads ask for.
        for name in body.as_object().unwrap().keys() {
            assert!(FIELDS.contains(&name.as_str()), "{name} is read back");
        }
        let partial = serde_json::to_value(WireUpdate::from(&EmployeeUpdate::default().with_job_title("X"))).unwrap();
        assert_eq!(partial, serde_json::json!({"jobTitle": "X"}), "fields not set are not sent, not even as null");
    }
}
