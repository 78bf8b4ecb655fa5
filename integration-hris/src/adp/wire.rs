//! ADP's JSON — Workers v2, event notification messages, validation tables — and how it maps
//! onto the common model. Optional parts may be absent or null; a value present but unreadable
//! rejects the record, naming its path (`workAssignments[0].hireDate`).

use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use integration_core::{Error, Result};
use iso_currency::Currency;
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, de};
use serde_json::Value;

use crate::model::{Department, Employee, Employment, Job, Pay, Remote};
use crate::vocabulary::{EmploymentStatus, EmploymentType, PayPeriod};
use crate::wire::{optional_date, optional_id, optional_text};

/// A Workers v2 answer: `{"workers": [...], "meta": {"totalNumber": n}}` (`meta` may be null).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Workers {
    pub(super) workers: Vec<Value>,
    pub(super) meta: Option<Meta>,
}

/// The paging part of `meta`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct Meta {
    pub(super) total_number: Option<u64>,
}

/// ADP's code: `{codeValue, shortName, longName}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Code {
    #[serde(deserialize_with = "optional_text")]
    code_value: Option<String>,
    #[serde(deserialize_with = "optional_text")]
    short_name: Option<String>,
    #[serde(deserialize_with = "optional_text")]
    long_name: Option<String>,
}

impl Code {
    fn name(self) -> Option<String> {
        self.short_name.or(self.long_name).or(self.code_value)
    }
}

/// One worker of `GET /hr/v2/workers`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct Worker {
    #[serde(rename = "associateOID", deserialize_with = "optional_id")]
    aoid: Option<String>,
    #[serde(rename = "workerID")]
    worker_id: Option<Id>,
    person: Option<Person>,
    business_communication: Option<Communication>,
    worker_dates: Option<Dates>,
    worker_status: Option<Status>,
    work_assignments: Option<Vec<Assignment>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Id {
    #[serde(deserialize_with = "optional_id")]
    id_value: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Person {
    legal_name: Option<Name>,
    communication: Option<Communication>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Name {
    #[serde(deserialize_with = "optional_text")]
    given_name: Option<String>,
    #[serde(rename = "familyName1", deserialize_with = "optional_text")]
    family_name: Option<String>,
    #[serde(deserialize_with = "optional_text")]
    formatted_name: Option<String>,
}

/// `{"emails": [{"emailUri"}]}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Communication {
    emails: Option<Vec<Email>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Email {
    #[serde(deserialize_with = "optional_text")]
    email_uri: Option<String>,
}

fn first_email(communication: Option<Communication>) -> Option<String> {
    communication?.emails?.into_iter().find_map(|e| e.email_uri)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Dates {
    #[serde(deserialize_with = "optional_date")]
    original_hire_date: Option<NaiveDate>,
    #[serde(deserialize_with = "optional_date")]
    rehire_date: Option<NaiveDate>,
    #[serde(deserialize_with = "optional_date")]
    termination_date: Option<NaiveDate>,
}

/// `workerStatus` and `assignmentStatus`: `{"statusCode": {"codeValue"}}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Status {
    status_code: Option<Code>,
}

fn status_code(status: Option<Status>) -> Option<String> {
    status?.status_code?.code_value
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Assignment {
    primary_indicator: Option<bool>,
    #[serde(deserialize_with = "optional_date")]
    hire_date: Option<NaiveDate>,
    #[serde(deserialize_with = "optional_date")]
    termination_date: Option<NaiveDate>,
    assignment_status: Option<Status>,
    worker_type_code: Option<Code>,
    job_code: Option<Code>,
    #[serde(deserialize_with = "optional_text")]
    job_title: Option<String>,
    home_organizational_units: Option<Vec<Unit>>,
    home_work_location: Option<Unit>,
    reports_to: Option<Vec<WorkerRef>>,
    base_remuneration: Option<Remuneration>,
}

/// An organizational unit or a work location: `{nameCode, typeCode}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Unit {
    name_code: Option<Code>,
    type_code: Option<Code>,
}

/// A worker named by its associate OID (`reportsTo[]`, events).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct WorkerRef {
    #[serde(rename = "associateOID", deserialize_with = "optional_id")]
    aoid: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Remuneration {
    annual_rate_amount: Option<Rate>,
    hourly_rate_amount: Option<Rate>,
    daily_rate_amount: Option<Rate>,
}

/// `{amountValue, currencyCode}`; a masked amount (`"****"`) reads as none.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Rate {
    #[serde(deserialize_with = "amount")]
    amount_value: Option<Decimal>,
    #[serde(deserialize_with = "currency")]
    currency_code: Option<Currency>,
}

fn amount<'de, D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Option<Decimal>, D::Error> {
    let text = match Option::<Value>::deserialize(deserializer)? {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) if s.trim().chars().all(|c| c == '*') => return Ok(None),
        Some(Value::String(s)) => s,
        Some(other) => return Err(de::Error::custom(format!("expected an amount, found {other}"))),
    };
    let parsed = Decimal::from_str(text.trim()).or_else(|_| Decimal::from_scientific(text.trim()));
    parsed.map(Some).map_err(|_| de::Error::custom(format!("{text:?} is not an amount")))
}

fn currency<'de, D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Option<Currency>, D::Error> {
    let Some(code) = Option::<String>::deserialize(deserializer)? else { return Ok(None) };
    let currency = Currency::from_code(code.trim());
    currency.map(Some).ok_or_else(|| de::Error::custom(format!("{code:?} is not an ISO 4217 currency")))
}

impl Worker {
    pub(super) fn into_remote(self, raw: &Value) -> Result<Remote<Employee>> {
        let aoid = self.aoid.ok_or_else(|| Error::validation("associateOID", "the worker has no associateOID"))?;
        let mut assignments = self.work_assignments.unwrap_or_default();
        let primary = assignments.iter().position(|a| a.primary_indicator == Some(true)).unwrap_or(0);
        let a = if assignments.is_empty() { Assignment::default() } else { assignments.swap_remove(primary) };
        // The primary assignment's A/L/T/D code, else the worker's Active/Inactive/Terminated.
        let status = match status_code(a.assignment_status).as_deref() {
            Some("A") => EmploymentStatus::Active,
            Some("L") => EmploymentStatus::OnLeave,
            Some("T" | "D") => EmploymentStatus::Terminated,
            _ => match status_code(self.worker_status) {
                Some(code) if code.eq_ignore_ascii_case("leave") => EmploymentStatus::OnLeave,
                Some(code) => EmploymentStatus::parse(&code),
                None => EmploymentStatus::Active,
            },
        };
        let employment_type = a.worker_type_code.and_then(Code::name).map(|name| match name.as_str() {
            "F" => EmploymentType::FullTime,
            "P" => EmploymentType::PartTime,
            other => EmploymentType::parse(other),
        });
        let department = a.home_organizational_units.into_iter().flatten().find_map(|unit| {
            let department = unit.type_code?.code_value?.eq_ignore_ascii_case("department");
            if department { unit.name_code?.name() } else { None }
        });
        let pay = a.base_remuneration.and_then(|r| {
            let rates = [(r.annual_rate_amount, PayPeriod::Year), (r.hourly_rate_amount, PayPeriod::Hour)];
            let mut rates = rates.into_iter().chain([(r.daily_rate_amount, PayPeriod::Day)]);
            rates
                .find_map(|(rate, period)| rate.and_then(|r| Some(Pay::new(r.amount_value?, r.currency_code?, period))))
        });
        let person = self.person.unwrap_or_default();
        let name = person.legal_name.unwrap_or_default();
        let dates = self.worker_dates.unwrap_or_default();
        let employee = Employee {
            employee_number: self.worker_id.and_then(|w| w.id_value),
            first_name: name.given_name,
            last_name: name.family_name,
            display_name: name.formatted_name,
            work_email: first_email(self.business_communication),
            personal_email: first_email(person.communication),
            job_title: a.job_title.or_else(|| a.job_code.and_then(Code::name)),
            department,
            location: a.home_work_location.and_then(|l| l.name_code?.name()),
            manager_id: a.reports_to.into_iter().flatten().find_map(|m| m.aoid),
            employment: Employment {
                status,
                employment_type,
                start_date: dates.rehire_date.or(a.hire_date).or(dates.original_hire_date),
                termination_date: a.termination_date.or(dates.termination_date),
                pay,
            },
        };
        Ok(Remote::new(aoid, employee).with_remote_data(raw.clone()))
    }
}

/// An event notification message: `{"events": [{recordDateTime, data: {eventContext, output}}]}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Message {
    events: Vec<Event>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Event {
    record_date_time: Option<Value>,
    /// `eventContext`, `output`, `transform`: each may name the worker (`worker.associateOID`).
    data: Option<std::collections::BTreeMap<String, Value>>,
}

impl Message {
    /// The workers the events are about, once each, with when the event was recorded.
    pub(super) fn workers(self) -> Vec<(String, Option<DateTime<Utc>>)> {
        let mut workers: Vec<(String, Option<DateTime<Utc>>)> = Vec::new();
        for event in self.events {
            // ADP writes `2019-05-31T11:51:23.122+0000`.
            let at = event.record_date_time.as_ref().and_then(Value::as_str);
            let at = at.and_then(|t| DateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.f%z").ok()).map(|t| t.to_utc());
            let mut subjects =
                event.data.iter().flat_map(|d| d.values()).filter_map(|s| s.pointer("/worker/associateOID")?.as_str());
            if let Some(aoid) = subjects.next().map(str::to_owned)
                && !workers.iter().any(|(seen, _)| *seen == aoid)
            {
                workers.push((aoid, at));
            }
        }
        workers
    }
}

/// A validation table: `{"validationTableTitle", "listItems": [...]}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct Table {
    pub(super) list_items: Vec<Value>,
}

/// One item: departments carry `nameCode: {code, name}`, jobs `code` and `name`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct TableItem {
    #[serde(deserialize_with = "optional_id")]
    code: Option<String>,
    #[serde(deserialize_with = "optional_text")]
    name: Option<String>,
    name_code: Option<Box<TableItem>>,
    #[serde(deserialize_with = "optional_id")]
    payroll_group_code: Option<String>,
    inactive_indicator: Option<bool>,
}

impl TableItem {
    /// `(remote_id, code, name, archived)`: the id is the code, within its payroll group if any.
    fn parts(self) -> Result<(String, String, String, bool)> {
        let inner = self.name_code.map(|c| *c).unwrap_or_default();
        let code = inner.code.or(self.code).ok_or_else(|| Error::validation("code", "the item has no code"))?;
        let id = self.payroll_group_code.map_or_else(|| code.clone(), |group| format!("{group}.{code}"));
        let name = inner.name.or(self.name).unwrap_or_else(|| code.clone());
        Ok((id, code, name, self.inactive_indicator.unwrap_or(false)))
    }

    pub(super) fn department(self, raw: &Value) -> Result<Remote<Department>> {
        let (id, code, name, archived) = self.parts()?;
        let fields = Department { name, code: Some(code), parent_id: None, archived };
        Ok(Remote::new(id, fields).with_remote_data(raw.clone()))
    }

    pub(super) fn job(self, raw: &Value) -> Result<Remote<Job>> {
        let (id, code, title, archived) = self.parts()?;
        Ok(Remote::new(id, Job { title, code: Some(code), archived }).with_remote_data(raw.clone()))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use integration_core::decode::decode;

    /// ADP's sample worker (`wfn/hr/workers-v2/success/`, condensed).
    fn sample() -> Value {
        json!({
            "associateOID": "G30K404TED759H96", "workerID": {"idValue": "0000000014"},
            "person": {"legalName": {"givenName": "Anthony", "familyName1": "Albright", "nickName": "Stan",
                "formattedName": "Albright, Anthony"},
                "communication": {"emails": [{"nameCode": {"codeValue": "Personal E-mail"},
                    "emailUri": "test2@gmail.com"}]}},
            "businessCommunication": {"emails": [{"itemID": "Business", "emailUri": "test@adp.com"}]},
            "workerDates": {"originalHireDate": "2019-03-20", "terminationDate": "2019-04-01"},
            "workerStatus": {"statusCode": {"codeValue": "Terminated"}},
            "workAssignments": [{
                "itemID": "10991989N", "primaryIndicator": true,
                "hireDate": "2019-03-20", "terminationDate": "2019-04-01",
                "assignmentStatus": {"statusCode": {"codeValue": "T", "shortName": "Terminated"},
                    "effectiveDate": "2019-04-01"},
                "workerTypeCode": {"codeValue": "F", "shortName": "Full Time"},
                "jobCode": {"codeValue": "HRV", "shortName": "VP Human Resources"}, "jobTitle": "VP Human Resources",
                "homeOrganizationalUnits": [
                    {"nameCode": {"codeValue": "CORP", "shortName": "Corporate"},
                        "typeCode": {"codeValue": "Business Unit"}},
                    {"nameCode": {"codeValue": "111000", "shortName": "Corporate Staff"},
                        "typeCode": {"codeValue": "Department"}}],
                "reportsTo": [{"associateOID": "G39P8HJJ3AE0D0YQ", "positionID": "1W6000070"}],
                "baseRemuneration": {
                    "annualRateAmount": {"nameCode": {"codeValue": "ANNUAL"}, "amountValue": 641264.0,
                        "currencyCode": "USD"},
                    "hourlyRateAmount": {"amountValue": 451, "currencyCode": "USD"}, "effectiveDate": "2019-02-01"}}]
        })
    }

    #[test]
    fn adps_sample_worker_maps_onto_the_model() {
        let raw = sample();
        let employee = decode::<Worker>(&raw).unwrap().into_remote(&raw).unwrap();
        assert_eq!(employee.remote_id, "G30K404TED759H96");
        let e = &employee.fields;
        assert_eq!((e.first_name.as_deref(), e.last_name.as_deref()), (Some("Anthony"), Some("Albright")));
        assert_eq!(e.employee_number.as_deref(), Some("0000000014"));
        assert_eq!(
            (e.work_email.as_deref(), e.personal_email.as_deref()),
            (Some("test@adp.com"), Some("test2@gmail.com"))
        );
        assert_eq!(
            (e.job_title.as_deref(), e.department.as_deref()),
            (Some("VP Human Resources"), Some("Corporate Staff"))
        );
        assert_eq!(e.manager_id.as_deref(), Some("G39P8HJJ3AE0D0YQ"));
        assert_eq!(e.employment.status, EmploymentStatus::Terminated);
        assert_eq!(e.employment.employment_type, Some(EmploymentType::FullTime));
        assert_eq!(e.employment.termination_date, NaiveDate::from_ymd_opt(2019, 4, 1));
        let pay = e.employment.pay.as_ref().unwrap();
        assert_eq!((pay.rate, pay.currency, &pay.period), (Decimal::new(641264, 0), Currency::USD, &PayPeriod::Year));
    }

    #[test]
    fn a_leave_and_a_masked_rate_read_leniently() {
        let mut raw = sample();
        raw["workAssignments"][0]["assignmentStatus"] = json!({"statusCode": {"codeValue": "L"}});
        raw["workAssignments"][0]["baseRemuneration"] = json!({"annualRateAmount": {"amountValue": "****"}});
        raw["workerStatus"] = json!(null);
        let employee = decode::<Worker>(&raw).unwrap().into_remote(&raw).unwrap();
        assert_eq!(employee.fields.employment.status, EmploymentStatus::OnLeave);
        assert_eq!(employee.fields.employment.pay, None);
    }

    #[test]
    fn adps_sample_notification_names_its_worker() {
        // `wfn/hr/worker-terminate/event-notifications/`, condensed.
        let raw = json!({"events": [{"eventID": "f0be1d5b", "eventNameCode": {"codeValue": "worker.terminate"},
            "recordDateTime": "2019-05-31T11:51:23.122+0000",
            "data": {"eventContext": {"worker": {"associateOID": "G3KXNKXW8VT5Q5M0"}},
                "output": {"worker": {"associateOID": "G3KXNKXW8VT5Q5M0",
                    "workerStatus": {"statusCode": {"codeValue": "T"}}}}},
            "links": []}]});
        let workers = decode::<Message>(&raw).unwrap().workers();
        let at = DateTime::parse_from_rfc3339("2019-05-31T11:51:23.122Z").unwrap().to_utc();
        assert_eq!(workers, vec![("G3KXNKXW8VT5Q5M0".to_owned(), Some(at))]);
    }

    #[test]
    fn validation_table_items_map_to_departments_and_jobs() {
        let department = json!({"payrollGroupCode": "938", "nameCode": {"code": "500", "name": "Physical Therapist"},
            "inactiveIndicator": true});
        let d = decode::<TableItem>(&department).unwrap().department(&department).unwrap();
        assert_eq!(
            (d.remote_id.as_str(), d.fields.name.as_str(), d.fields.archived),
            ("938.500", "Physical Therapist", true)
        );
        let job = json!({"code": "ABC", "name": "TEST", "managementPositionIndicator": true});
        let j = decode::<TableItem>(&job).unwrap().job(&job).unwrap();
        assert_eq!((j.remote_id.as_str(), j.fields.title.as_str()), ("ABC", "TEST"));
    }
}
