//! Providers' contribution file formats, described as data: columns, each a field of the run.
//!
//! Two layouts come built in:
//!
//! - [`FileLayout::papdis`]: the UK's Pensions and Payroll Data Interface Standard (PAPDIS) 1.1
//!   CSV, one row per member: its principal fields, in the standard's groups and order (file
//!   header, payroll period, employee, contact, pay, assessment, contributions). The standard's
//!   other optional fields (secondary contacts, salary exchange, AVCs, worker instructions) are
//!   not written; add a [`Column`] for any a provider asks for.
//! - [`FileLayout::canadian_group_rrsp_dpsp`]: a remittance layout of the kind Canadian group
//!   retirement carriers (Sun Life, Manulife, Canada Life) take for a group RRSP with a DPSP,
//!   one row per member and contribution type — employee contributions to the RRSP, employer
//!   contributions to the DPSP (a DPSP takes employer money only). These carriers' layouts are
//!   given to plan sponsors, not published: this one is a starting point, every column of it
//!   data to change.

use chrono::NaiveDate;
use integration_core::{Error, Result};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{ContributionLine, ContributionRun, PensionEvent, Resolved};

/// What a column holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "field", content = "value")]
pub enum Field {
    /// The same text on every row.
    Const(String),
    /// [`PlanInfo::provider_id`](super::PlanInfo::provider_id).
    ProviderId,
    /// [`PlanInfo::employer_id`](super::PlanInfo::employer_id).
    EmployerId,
    /// [`PlanInfo::plan_number`](super::PlanInfo::plan_number).
    PlanNumber,
    /// [`PlanInfo::group`](super::PlanInfo::group).
    Group,
    /// [`PlanInfo::sub_group`](super::PlanInfo::sub_group).
    SubGroup,
    /// The pay period's first day.
    PeriodStart,
    /// Its last day.
    PeriodEnd,
    /// The deduction (pay) date.
    DeductionDate,
    /// The pay frequency code.
    Frequency,
    /// The tax period.
    TaxPeriod,
    /// The employee id.
    EmployeeId,
    /// Title.
    Title,
    /// Given name.
    FirstName,
    /// Family name.
    LastName,
    /// Date of birth.
    BirthDate,
    /// Gender code.
    Gender,
    /// National insurance / social insurance number.
    NationalId,
    /// Employment start date.
    Hired,
    /// Address line `n` (1-based).
    AddressLine(usize),
    /// Postal code.
    PostalCode,
    /// Country.
    Country,
    /// Email.
    Email,
    /// Pensionable earnings.
    PensionableEarnings,
    /// Gross qualifying earnings.
    GrossEarnings,
    /// The employee contribution, in money.
    EmployeeAmount,
    /// The employee contribution's percent (empty when given as an amount).
    EmployeePercent,
    /// The employer contribution, in money.
    EmployerAmount,
    /// The employer contribution's percent.
    EmployerPercent,
    /// The assessment code.
    Assessment,
    /// The event code of the line's last event, as [`EventCodes`] says.
    EventCode,
    /// The date of the line's last event.
    EventDate,
    /// The opt-out date, if the member opted out.
    OptOutDate,
    /// On rows per contribution type: the type's code.
    ContributionType,
    /// On rows per contribution type: the amount.
    Amount,
}

/// A column: its title (for the header row) and what it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    /// Its title.
    pub title: String,
    /// What it holds.
    pub field: Field,
}

/// How rows are made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "rows")]
pub enum Rows {
    /// One row per member.
    PerMember,
    /// One row per member and contribution type with money in it: employee contributions under
    /// `employee`, employer contributions under `employer`.
    PerContribution {
        /// The employee contribution's type code (`RRSP-EE`).
        employee: String,
        /// The employer contribution's type code (`DPSP-ER`).
        employer: String,
    },
}

/// How events are coded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventCodes {
    /// Enrolled.
    pub enrolled: String,
    /// Opted in.
    pub opted_in: String,
    /// Opted out.
    pub opted_out: String,
    /// Ceased.
    pub ceased: String,
}

/// A provider's contribution file format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileLayout {
    /// What it is, and where its rules come from.
    pub name: String,
    /// The field separator.
    pub delimiter: char,
    /// Whether the first row holds the columns' titles.
    pub header: bool,
    /// How dates are written (`%d/%m/%Y`).
    pub date_format: String,
    /// How rows are made.
    pub rows: Rows,
    /// How events are coded.
    pub events: EventCodes,
    /// The columns, in order.
    pub columns: Vec<Column>,
}

fn col(title: &str, field: Field) -> Column {
    Column { title: title.to_owned(), field }
}

impl FileLayout {
    /// PAPDIS 1.1 CSV (see the module docs).
    pub fn papdis() -> Self {
        use Field::*;
        Self {
            name: "PAPDIS 1.1 CSV (Pensions and Payroll Data Interface Standard): its principal fields".into(),
            delimiter: ',',
            header: true,
            date_format: "%d/%m/%Y".into(),
            rows: Rows::PerMember,
            // PAPDIS event codes: 0 none, 1 opt in, 2 opt out, 3 auto-enrolled, 4 ceased membership.
            events: EventCodes {
                enrolled: "3".into(),
                opted_in: "1".into(),
                opted_out: "2".into(),
                ceased: "4".into(),
            },
            columns: vec![
                col("PAPDIS Version", Const("PAP11".into())),
                col("Pension Provider ID", ProviderId),
                col("Employer ID", EmployerId),
                col("Group", Group),
                col("Sub Group", SubGroup),
                col("Payroll Period Start Date", PeriodStart),
                col("Payroll Period End Date", PeriodEnd),
                col("Contribution Deduction Date", DeductionDate),
                col("Frequency Code", Frequency),
                col("Tax Period", TaxPeriod),
                col("Employee ID", EmployeeId),
                col("Title", Title),
                col("Forename1", FirstName),
                col("Surname", LastName),
                col("Birth Date", BirthDate),
                col("Gender", Gender),
                col("National Insurance Number", NationalId),
                col("Employment Start Date", Hired),
                col("Address1", AddressLine(1)),
                col("Address2", AddressLine(2)),
                col("Address3", AddressLine(3)),
                col("Address4", AddressLine(4)),
                col("Postcode", PostalCode),
                col("Country", Country),
                col("Email Address", Email),
                col("Pensionable Earnings Amount", PensionableEarnings),
                col("Total Gross Qualifying Earnings Amount", GrossEarnings),
                col("Assessment Code", Assessment),
                col("Event Code", EventCode),
                col("Event Date", EventDate),
                col("Opt Out Date", OptOutDate),
                col("Employer Contributions Amount", EmployerAmount),
                col("Employer Contributions Percent", EmployerPercent),
                col("Employee Contributions Amount", EmployeeAmount),
                col("Employee Contributions Percent", EmployeePercent),
            ],
        }
    }

    /// A Canadian group RRSP / DPSP remittance (see the module docs).
    pub fn canadian_group_rrsp_dpsp() -> Self {
        use Field::*;
        Self {
            name: "Canadian group RRSP/DPSP remittance: a starting point; the carrier's layout for your plan is not public".into(),
            delimiter: ',',
            header: true,
            date_format: "%Y-%m-%d".into(),
            rows: Rows::PerContribution { employee: "RRSP-EE".into(), employer: "DPSP-ER".into() },
            events: EventCodes { enrolled: "ENROL".into(), opted_in: "ENROL".into(), opted_out: "OPTOUT".into(), ceased: "TERM".into() },
            columns: vec![
                col("Plan Number", PlanNumber),
                col("Division", Group),
                col("Member ID", EmployeeId),
                col("SIN", NationalId),
                col("Last Name", LastName),
                col("First Name", FirstName),
                col("Birth Date", BirthDate),
                col("Pay Period End", PeriodEnd),
                col("Pay Date", DeductionDate),
                col("Contribution Type", ContributionType),
                col("Amount", Amount),
                col("Event", EventCode),
                col("Event Date", EventDate),
            ],
        }
    }

    /// The file for `run`.
    ///
    /// # Errors
    /// A [`Validation`](integration_core::ErrorKind::Validation) error naming the member and
    /// field of a line that does not resolve (see [`ContributionLine::resolve`]), or a
    /// delimiter that is not one ASCII character.
    pub fn render(&self, run: &ContributionRun) -> Result<String> {
        if !self.delimiter.is_ascii() || self.delimiter.is_ascii_alphanumeric() || self.delimiter == '"' {
            return Err(Error::validation("delimiter", format!("{:?} cannot separate fields", self.delimiter)));
        }
        let mut out = csv::WriterBuilder::new()
            .delimiter(self.delimiter as u8)
            .terminator(csv::Terminator::CRLF)
            .from_writer(Vec::new());
        let io = |e: csv::Error| Error::storage(format!("writing the contribution file: {e}"));
        if self.header {
            out.write_record(self.columns.iter().map(|c| c.title.as_str())).map_err(io)?;
        }
        for line in &run.lines {
            let resolved = line.resolve()?;
            let rows: Vec<Option<(&str, Decimal)>> = match &self.rows {
                Rows::PerMember => vec![None],
                Rows::PerContribution { employee, employer } => {
                    [(employee.as_str(), resolved.employee_amount), (employer.as_str(), resolved.employer_amount)]
                        .into_iter()
                        .filter(|(_, amount)| {
                            !amount.is_zero()
                                || line
                                    .events
                                    .iter()
                                    .any(|e| matches!(e, PensionEvent::OptedOut(_) | PensionEvent::Ceased(_)))
                        })
                        .map(Some)
                        .collect()
                }
            };
            for typed in rows {
                let cells: Vec<String> =
                    self.columns.iter().map(|c| self.cell(&c.field, run, line, &resolved, typed)).collect();
                out.write_record(&cells).map_err(io)?;
            }
        }
        let bytes = out.into_inner().map_err(|e| Error::storage(format!("writing the contribution file: {e}")))?;
        String::from_utf8(bytes).map_err(|e| Error::storage(format!("the contribution file is not UTF-8: {e}")))
    }

    fn cell(
        &self,
        field: &Field,
        run: &ContributionRun,
        line: &ContributionLine,
        r: &Resolved,
        typed: Option<(&str, Decimal)>,
    ) -> String {
        let date = |d: Option<NaiveDate>| d.map(|d| d.format(&self.date_format).to_string()).unwrap_or_default();
        let text = |s: &Option<String>| s.clone().unwrap_or_default();
        let money = |d: Decimal| format!("{d:.2}");
        let m = &line.member;
        let last_event = line.events.iter().max_by_key(|e| e.date());
        match field {
            Field::Const(v) => v.clone(),
            Field::ProviderId => run.plan.provider_id.clone(),
            Field::EmployerId => run.plan.employer_id.clone(),
            Field::PlanNumber => run.plan.plan_number.clone(),
            Field::Group => text(&run.plan.group),
            Field::SubGroup => text(&run.plan.sub_group),
            Field::PeriodStart => date(Some(run.period_start)),
            Field::PeriodEnd => date(Some(run.period_end)),
            Field::DeductionDate => date(Some(run.deduction_date)),
            Field::Frequency => run.frequency.clone(),
            Field::TaxPeriod => run.tax_period.map(|p| p.to_string()).unwrap_or_default(),
            Field::EmployeeId => m.employee_id.clone(),
            Field::Title => text(&m.title),
            Field::FirstName => m.first_name.clone(),
            Field::LastName => m.last_name.clone(),
            Field::BirthDate => date(m.birth_date),
            Field::Gender => text(&m.gender),
            Field::NationalId => text(&m.national_id),
            Field::Hired => date(m.hired),
            Field::AddressLine(n) => n.checked_sub(1).and_then(|i| m.address_lines.get(i)).cloned().unwrap_or_default(),
            Field::PostalCode => text(&m.postal_code),
            Field::Country => text(&m.country),
            Field::Email => text(&m.email),
            Field::PensionableEarnings => money(line.pensionable_earnings),
            Field::GrossEarnings => line.gross_earnings.map(money).unwrap_or_default(),
            Field::EmployeeAmount => money(r.employee_amount),
            Field::EmployeePercent => r.employee_percent.map(|p| p.normalize().to_string()).unwrap_or_default(),
            Field::EmployerAmount => money(r.employer_amount),
            Field::EmployerPercent => r.employer_percent.map(|p| p.normalize().to_string()).unwrap_or_default(),
            Field::Assessment => text(&line.assessment),
            Field::EventCode => last_event
                .map(|e| match e {
                    PensionEvent::Enrolled(_) => self.events.enrolled.clone(),
                    PensionEvent::OptedIn(_) => self.events.opted_in.clone(),
                    PensionEvent::OptedOut(_) => self.events.opted_out.clone(),
                    PensionEvent::Ceased(_) => self.events.ceased.clone(),
                })
                .unwrap_or_default(),
            Field::EventDate => date(last_event.map(|e| e.date())),
            Field::OptOutDate => date(line.events.iter().find_map(|e| match e {
                PensionEvent::OptedOut(d) => Some(*d),
                _ => None,
            })),
            Field::ContributionType => typed.map(|(t, _)| t.to_owned()).unwrap_or_default(),
            Field::Amount => typed.map(|(_, a)| money(a)).unwrap_or_default(),
        }
    }
}
