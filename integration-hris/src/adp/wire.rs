//! ADP's JSON — Workers v2, event notification messages, validation tables — and how it maps
//! onto the common model. Optional parts may be absent or null; a value present but unreadable
//! rejects the record, naming its path (`workAssignments[0].hireDate`).

use std::str::FromStr;

use iso_currency::Currency;
use rust_decimal::Decimal;
use serde::Deserialize;

use crate::prelude::*;

/// One worker's answer, `{"workers": [...]}` (listings page through the spec client, which
/// reads `meta.totalNumber` by the spec).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Workers {
    pub(super) workers: Vec<Value>,
}

/// A validation table: `{"validationTableTitle", "listItems": [...]}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct Table {
    pub(super) list_items: Vec<Value>,
}

static NOTHING: Value = Value::Null;

/// One worker of `GET /hr/v2/workers`, mapped through its primary work assignment.
pub(super) fn employee(r: &Fields) -> Result<Remote<Employee>> {
    let aoid = r.id("associateOID")?;
    let assignments = r.items("workAssignments")?;
    let flags = assignments.iter().map(|a| a.flag("primaryIndicator")).collect::<Result<Vec<_>>>()?;
    let a = assignments
        .get(flags.iter().position(|f| *f == Some(true)).unwrap_or(0))
        .cloned()
        .unwrap_or_else(|| Fields::new(&NOTHING));
    // The primary assignment's A/L/T/D code, else the worker's Active/Inactive/Terminated.
    let status = match a.text("assignmentStatus.statusCode.codeValue")?.as_deref() {
        Some("A") => EmploymentStatus::Active,
        Some("L") => EmploymentStatus::OnLeave,
        Some("T" | "D") => EmploymentStatus::Terminated,
        _ => match r.text("workerStatus.statusCode.codeValue")? {
            Some(code) if code.eq_ignore_ascii_case("leave") => EmploymentStatus::OnLeave,
            Some(code) => EmploymentStatus::parse(&code),
            None => EmploymentStatus::Active,
        },
    };
    let employment_type = code_name(&a.at("workerTypeCode"))?.map(|name| match name.as_str() {
        "F" => EmploymentType::FullTime,
        "P" => EmploymentType::PartTime,
        other => EmploymentType::parse(other),
    });
    let department = a.first_of("homeOrganizationalUnits", |unit| {
        let department = unit.text("typeCode.codeValue")?.is_some_and(|c| c.eq_ignore_ascii_case("department"));
        if department { code_name(&unit.at("nameCode")) } else { Ok(None) }
    })?;
    let mut pay = None;
    for (rate, period) in [("annual", PayPeriod::Year), ("hourly", PayPeriod::Hour), ("daily", PayPeriod::Day)] {
        let rate = a.at("baseRemuneration").at(&format!("{rate}RateAmount"));
        if let (Some(amount), Some(currency)) =
            (rate.parse("amountValue", amount)?, rate.parse("currencyCode", currency)?)
        {
            pay = pay.or(Some(Pay::new(amount, currency, period)));
        }
    }
    let dates = r.at("workerDates");
    let employee = Employee {
        employee_number: r.optional_id("workerID.idValue")?,
        first_name: r.text("person.legalName.givenName")?,
        last_name: r.text("person.legalName.familyName1")?,
        display_name: r.text("person.legalName.formattedName")?,
        work_email: first_email(&r.at("businessCommunication"))?,
        personal_email: first_email(&r.at("person.communication"))?,
        job_title: a.text("jobTitle")?.or(code_name(&a.at("jobCode"))?),
        department,
        location: code_name(&a.at("homeWorkLocation.nameCode"))?,
        manager_id: a.first_of("reportsTo", |manager| manager.optional_id("associateOID"))?,
        employment: Employment {
            status,
            employment_type,
            start_date: dates.date("rehireDate")?.or(a.date("hireDate")?).or(dates.date("originalHireDate")?),
            termination_date: a.date("terminationDate")?.or(dates.date("terminationDate")?),
            pay,
        },
    };
    Ok(Remote::new(aoid, employee).with_remote_data(r.raw().clone()))
}

/// An ADP code, `{codeValue, shortName, longName}`: its name, else its value.
fn code_name(code: &Fields) -> Result<Option<String>> {
    Ok(code.text("shortName")?.or(code.text("longName")?).or(code.text("codeValue")?))
}

/// The first address of a communication, `{"emails": [{"emailUri"}]}`.
fn first_email(communication: &Fields) -> Result<Option<String>> {
    communication.first_of("emails", |email| email.text("emailUri"))
}

/// An amount, a number or a string; a masked one (`"****"`) reads as none.
fn amount(text: &str) -> std::result::Result<Option<Decimal>, String> {
    let text = text.trim();
    if text.chars().all(|c| c == '*') {
        return Ok(None);
    }
    let parsed = Decimal::from_str(text).or_else(|_| Decimal::from_scientific(text));
    parsed.map(Some).map_err(|_| format!("{text:?} is not an amount"))
}

fn currency(code: &str) -> std::result::Result<Option<Currency>, String> {
    let currency = Currency::from_code(code.trim());
    currency.map(Some).ok_or_else(|| format!("{code:?} is not an ISO 4217 currency"))
}

/// The workers an event notification message is about, once each, with when the event was
/// recorded: `{"events": [{recordDateTime, data: {eventContext, output, ...}}]}`, where any part
/// of `data` may name the worker (`worker.associateOID`).
pub(super) fn message_workers(raw: &Value) -> Result<Vec<(String, Option<DateTime<Utc>>)>> {
    let mut workers: Vec<(String, Option<DateTime<Utc>>)> = Vec::new();
    for event in Fields::new(raw).items("events")? {
        let at = event.time("recordDateTime").ok().flatten();
        let parts = event.get("data")?.and_then(Value::as_object).into_iter().flat_map(|data| data.values());
        let mut subjects = parts.filter_map(|part| part.pointer("/worker/associateOID")?.as_str());
        if let Some(aoid) = subjects.next().map(str::to_owned)
            && !workers.iter().any(|(seen, _)| *seen == aoid)
        {
            workers.push((aoid, at));
        }
    }
    Ok(workers)
}

/// A validation table item — departments carry `nameCode: {code, name}`, jobs `code` and
/// `name` — as `(remote_id, code, name, archived)`: the id is the code, within its payroll group
/// if any.
fn table_item(r: &Fields) -> Result<(String, String, String, bool)> {
    let code = r.optional_id("nameCode.code")?.or(r.optional_id("code")?);
    let code = code.ok_or_else(|| Error::validation("code", "the item has no code"))?;
    let id = r.optional_id("payrollGroupCode")?.map_or_else(|| code.clone(), |group| format!("{group}.{code}"));
    let name = r.text("nameCode.name")?.or(r.text("name")?).unwrap_or_else(|| code.clone());
    Ok((id, code, name, r.flag("inactiveIndicator")? == Some(true)))
}

/// A department of the `departments` table.
pub(super) fn department(r: &Fields) -> Result<Remote<Department>> {
    let (id, code, name, archived) = table_item(r)?;
    let fields = Department { name, code: Some(code), parent_id: None, archived };
    Ok(Remote::new(id, fields).with_remote_data(r.raw().clone()))
}

/// A job of the `jobs` table.
pub(super) fn job(r: &Fields) -> Result<Remote<Job>> {
    let (id, code, title, archived) = table_item(r)?;
    Ok(Remote::new(id, Job { title, code: Some(code), archived }).with_remote_data(r.raw().clone()))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

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
        let employee = employee(&Fields::new(&raw)).unwrap();
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
        let employee = employee(&Fields::new(&raw)).unwrap();
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
        let workers = message_workers(&raw).unwrap();
        let at = DateTime::parse_from_rfc3339("2019-05-31T11:51:23.122Z").unwrap().to_utc();
        assert_eq!(workers, vec![("G3KXNKXW8VT5Q5M0".to_owned(), Some(at))]);
    }

    #[test]
    fn validation_table_items_map_to_departments_and_jobs() {
        let department = json!({"payrollGroupCode": "938", "nameCode": {"code": "500", "name": "Physical Therapist"},
            "inactiveIndicator": true});
        let d = self::department(&Fields::new(&department)).unwrap();
        assert_eq!(
            (d.remote_id.as_str(), d.fields.name.as_str(), d.fields.archived),
            ("938.500", "Physical Therapist", true)
        );
        let job = json!({"code": "ABC", "name": "TEST", "managementPositionIndicator": true});
        let j = self::job(&Fields::new(&job)).unwrap();
        assert_eq!((j.remote_id.as_str(), j.fields.title.as_str()), ("ABC", "TEST"));
    }
}
