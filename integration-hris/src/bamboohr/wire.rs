//! BambooHR's JSON, and how it maps onto the common model.

use std::str::FromStr;

use iso_currency::Currency;
use rust_decimal::Decimal;
use serde::Deserialize;

use crate::prelude::*;

/// The fields asked for in custom reports and single-employee reads.
pub(crate) const FIELDS: &str = concat!(
    "id,employeeNumber,firstName,lastName,displayName,workEmail,homeEmail,department,jobTitle,location,",
    "supervisorEId,status,employmentHistoryStatus,hireDate,terminationDate,payRate,payType,payPer,lastChanged",
);

/// The names `POST /employees/{id}` takes: the same camelCase names the reads ask for.
pub(super) const UPDATE_NAMES: UpdateFieldNames = UpdateFieldNames {
    first_name: "firstName",
    last_name: "lastName",
    work_email: "workEmail",
    job_title: "jobTitle",
    department: "department",
    location: "location",
    termination_date: "terminationDate",
};

/// One employee as custom reports and `GET /employees/{id}` render it: strings or null.
pub(super) fn employee(r: &Fields) -> Result<Remote<Employee>> {
    let (status, history) = (r.text("status")?, r.text("employmentHistoryStatus")?);
    let termination_date = r.date("terminationDate")?;
    let history_says = |word: &str| history.as_deref().is_some_and(|h| h.to_ascii_lowercase().contains(word));
    let status = match status.as_deref() {
        _ if history_says("terminat") || (termination_date.is_some() && status.as_deref() == Some("Inactive")) => {
            EmploymentStatus::Terminated
        }
        _ if history_says("leave") => EmploymentStatus::OnLeave,
        Some(status) => EmploymentStatus::parse(status),
        None => EmploymentStatus::Active,
    };
    let employment_type = match history.as_deref() {
        _ if history_says("terminat") || history_says("leave") => None,
        history => history.map(EmploymentType::parse),
    };
    let employee = Employee {
        employee_number: r.text("employeeNumber")?,
        first_name: r.text("firstName")?,
        last_name: r.text("lastName")?,
        display_name: r.text("displayName")?,
        work_email: r.text("workEmail")?,
        personal_email: r.text("homeEmail")?,
        job_title: r.text("jobTitle")?,
        department: r.text("department")?,
        location: r.text("location")?,
        manager_id: r.optional_id("supervisorEId")?,
        employment: Employment {
            status,
            employment_type,
            start_date: r.date("hireDate")?,
            termination_date,
            pay: pay(r)?,
        },
    };
    Ok(Remote::new(r.id("id")?, employee).modified(r.time("lastChanged")?).with_remote_data(r.raw().clone()))
}

/// `payRate` `"85000.00 USD"` per `payPer` (or `paidPer`) `"Year"`.
fn pay(r: &Fields) -> Result<Option<Pay>> {
    let Some(rate) = r.text("payRate")? else { return Ok(None) };
    let invalid = |message: String| Error::validation("payRate", message);
    let (amount, code) = rate.trim().split_once(' ').ok_or_else(|| invalid(format!("{rate:?} names no currency")))?;
    let amount =
        Decimal::from_str(&amount.replace(',', "")).map_err(|e| invalid(format!("{rate:?} is not an amount: {e}")))?;
    let currency =
        Currency::from_code(code.trim()).ok_or_else(|| invalid(format!("{code:?} is not an ISO 4217 currency")))?;
    let period =
        r.text("payPer")?.or(r.text("paidPer")?).map_or(PayPeriod::Other(String::new()), |p| PayPeriod::parse(&p));
    Ok(Some(Pay::new(amount, currency, period)))
}

/// One entry of `GET /employees/changed`.
pub(super) struct Change {
    pub(super) id: String,
    pub(super) deleted: bool,
    pub(super) at: Option<DateTime<Utc>>,
}

/// `GET /employees/changed`: its `latest` mark and its entries (`employees` is an object keyed
/// by id, or `[]` when empty).
pub(super) fn changed(raw: &Value) -> Result<(Option<DateTime<Utc>>, Vec<Change>)> {
    let r = Fields::new(raw);
    let entries: Vec<&Value> = match r.get("employees")? {
        Some(Value::Object(map)) => map.values().collect(),
        Some(Value::Array(list)) => list.iter().collect(),
        None => Vec::new(),
        Some(_) => return Err(Error::invalid_response("`employees` of /employees/changed is not an object")),
    };
    let change = |entry: &Value| {
        let e = Fields::new(entry);
        Ok(Change { id: e.id("id")?, deleted: deleted(&e)?, at: e.time("lastChanged")? })
    };
    Ok((r.time("latest")?, entries.into_iter().map(change).collect::<Result<_>>()?))
}

fn deleted(entry: &Fields) -> Result<bool> {
    Ok(entry.required_text("action")?.eq_ignore_ascii_case("deleted"))
}

/// `POST /reports/custom` answers.
#[derive(Debug, Deserialize)]
pub(super) struct Report {
    pub(super) employees: Vec<Value>,
}

/// One list of `GET /meta/lists`.
#[derive(Debug, Deserialize)]
pub(super) struct MetaList {
    #[serde(default)]
    pub(super) alias: Option<String>,
    #[serde(default)]
    pub(super) options: Vec<Value>,
}

/// A meta list option (`{id, name, archived: "yes" | "no"}`) as a department.
pub(super) fn department(r: &Fields) -> Result<Remote<Department>> {
    let archived = r.flag("archived")? == Some(true);
    let fields = Department { name: r.required_text("name")?, code: None, parent_id: None, archived };
    Ok(Remote::new(r.id("id")?, fields).with_remote_data(r.raw().clone()))
}

/// A meta list option as a job.
pub(super) fn job(r: &Fields) -> Result<Remote<Job>> {
    let fields = Job { title: r.required_text("name")?, code: None, archived: r.flag("archived")? == Some(true) };
    Ok(Remote::new(r.id("id")?, fields).with_remote_data(r.raw().clone()))
}

/// One time-off request (ids and amounts arrive as strings or numbers).
pub(super) fn time_off(r: &Fields) -> Result<Remote<TimeOff>> {
    let status = match r.required_text("status.status")?.as_str() {
        "canceled" | "superceded" => TimeOffStatus::Cancelled,
        other => TimeOffStatus::parse(other),
    };
    let kind = r.required_text("type.name")?;
    let category = match kind.to_ascii_lowercase() {
        name if name.contains("vacation") || name.contains("pto") => TimeOffCategory::Vacation,
        name if name.contains("sick") => TimeOffCategory::Sick,
        name if ["parental", "maternity", "paternity"].iter().any(|p| name.contains(p)) => TimeOffCategory::Parental,
        name if name.contains("leave") => TimeOffCategory::LeaveOfAbsence,
        _ => TimeOffCategory::parse(&kind),
    };
    let number = |a: &str| Decimal::from_str(a.trim()).map(Some).map_err(|e| format!("{a:?} is not a number: {e}"));
    let fields = TimeOff {
        employee_id: r.id("employeeId")?,
        category,
        status,
        start_date: r.required_date("start")?,
        end_date: r.required_date("end")?,
        amount: r.parse("amount.amount", number)?,
        unit: r.text("amount.unit")?.map(|unit| TimeUnit::parse(&unit)),
    };
    Ok(Remote::new(r.id("id")?, fields).modified(r.time("status.lastChanged")?).with_remote_data(r.raw().clone()))
}

/// A field-based webhook's body, `{"employees": [{"id", "action", ...}]}`: each employee's id
/// and whether it was deleted.
pub(super) fn webhook_employees(raw: &Value) -> Result<Vec<(String, bool)>> {
    Fields::new(raw).items("employees")?.iter().map(|e| Ok((e.id("id")?, deleted(e)?))).collect()
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
        let body = Value::Object(update.to_provider_json(&UPDATE_NAMES));
        assert_eq!(
            body,
            json!({
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
            assert!(FIELDS.split(',').any(|f| f == name), "{name} is read back");
        }
        let partial = EmployeeUpdate::default().with_job_title("X").to_provider_json(&UPDATE_NAMES);
        assert_eq!(Value::Object(partial), json!({"jobTitle": "X"}), "fields not set are not sent, not even as null");
    }
}
