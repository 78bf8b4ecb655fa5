//! Contribution runs: who is paid into the plan for a pay period, and how much.

use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

/// A contribution given as an amount or as a percent of pensionable earnings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Contribution {
    /// This amount, in the plan's currency.
    Amount(Decimal),
    /// This percent of the line's pensionable earnings (`5` is 5 %).
    Percent(Decimal),
}

impl Default for Contribution {
    fn default() -> Self {
        Self::Amount(Decimal::ZERO)
    }
}

/// An enrolment event reported with a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", content = "on", rename_all = "snake_case")]
pub enum PensionEvent {
    /// Enrolled (automatically, or on joining) on this date.
    Enrolled(NaiveDate),
    /// Chose to join on this date.
    OptedIn(NaiveDate),
    /// Chose to leave within the opt-out window, on this date (contributions refunded).
    OptedOut(NaiveDate),
    /// Stopped contributing (left the plan or the employer) on this date.
    Ceased(NaiveDate),
}

impl PensionEvent {
    /// When it happened.
    pub fn date(self) -> NaiveDate {
        match self {
            Self::Enrolled(d) | Self::OptedIn(d) | Self::OptedOut(d) | Self::Ceased(d) => d,
        }
    }
}

/// The plan member a line is for.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PlanMember {
    /// The employer's id for the employee.
    pub employee_id: String,
    /// National insurance number (UK) or social insurance number (Canada).
    pub national_id: Option<String>,
    /// Title (`Ms`, `Mr`, `Dr`).
    pub title: Option<String>,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Date of birth.
    pub birth_date: Option<NaiveDate>,
    /// `M`, `F` or as the provider codes it.
    pub gender: Option<String>,
    /// When employment began.
    pub hired: Option<NaiveDate>,
    /// Address lines.
    pub address_lines: Vec<String>,
    /// Postal code or postcode.
    pub postal_code: Option<String>,
    /// Country.
    pub country: Option<String>,
    /// Email.
    pub email: Option<String>,
}

/// One member's contributions for the period.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ContributionLine {
    /// Who.
    pub member: PlanMember,
    /// Earnings the plan counts for the period.
    pub pensionable_earnings: Decimal,
    /// Gross qualifying earnings, when the provider asks for them.
    pub gross_earnings: Option<Decimal>,
    /// The employee's contribution.
    pub employee: Contribution,
    /// The employer's contribution.
    pub employer: Contribution,
    /// Enrolment events in the period.
    pub events: Vec<PensionEvent>,
    /// The auto-enrolment assessment, as the provider codes it (PAPDIS: `0` eligible
    /// jobholder, `1` non-eligible jobholder, `2` entitled worker, …).
    pub assessment: Option<String>,
}

/// The plan and employer a run is for.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PlanInfo {
    /// The provider's id for the scheme (PAPDIS `Pension Provider ID`).
    pub provider_id: String,
    /// The employer's id at the provider.
    pub employer_id: String,
    /// The plan or contract number (a Canadian group plan's number).
    pub plan_number: String,
    /// A group or division within the plan.
    pub group: Option<String>,
    /// A sub-group (PAPDIS) or location.
    pub sub_group: Option<String>,
}

/// Contributions for one pay period.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ContributionRun {
    /// The plan.
    pub plan: PlanInfo,
    /// The pay period's first day.
    pub period_start: NaiveDate,
    /// Its last day.
    pub period_end: NaiveDate,
    /// The day contributions were deducted (the pay date).
    pub deduction_date: NaiveDate,
    /// How often pay runs (PAPDIS frequency: `W1` weekly, `W2` fortnightly, `W4` four-weekly,
    /// `M1` monthly).
    pub frequency: String,
    /// The tax period's number in the tax year, when known.
    pub tax_period: Option<u32>,
    /// The lines.
    pub lines: Vec<ContributionLine>,
}

/// A line with its contributions worked out in money.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resolved {
    /// The employee contribution, rounded half away from zero to cents.
    pub employee_amount: Decimal,
    /// The employer contribution, likewise.
    pub employer_amount: Decimal,
    /// The employee percent, when given as one.
    pub employee_percent: Option<Decimal>,
    /// The employer percent, when given as one.
    pub employer_percent: Option<Decimal>,
}

impl ContributionLine {
    /// The contributions in money.
    ///
    /// # Errors
    /// A [`Validation`](integration_core::ErrorKind::Validation) error naming the member and the
    /// field: negative earnings or amounts, a percent above 100, contributions for a member who
    /// opted out.
    pub fn resolve(&self) -> integration_core::Result<Resolved> {
        let who = &self.member.employee_id;
        let fail = |field: &str, what: String| {
            integration_core::Error::validation(field.to_owned(), format!("employee {who:?}: {what}"))
                .with_record(who.clone())
        };
        if self.pensionable_earnings.is_sign_negative() {
            return Err(fail(
                "pensionable_earnings",
                format!("pensionable earnings {} are negative", self.pensionable_earnings),
            ));
        }
        let money = |c: Contribution, field: &str| -> integration_core::Result<(Decimal, Option<Decimal>)> {
            match c {
                Contribution::Amount(a) if a.is_sign_negative() => {
                    Err(fail(field, format!("the amount {a} is negative")))
                }
                Contribution::Amount(a) => {
                    Ok((a.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero), None))
                }
                Contribution::Percent(p) if p.is_sign_negative() || p > Decimal::ONE_HUNDRED => {
                    Err(fail(field, format!("{p} % is not a percent of earnings between 0 and 100")))
                }
                Contribution::Percent(p) => Ok((
                    (self.pensionable_earnings * p / Decimal::ONE_HUNDRED)
                        .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero),
                    Some(p),
                )),
            }
        };
        let (employee_amount, employee_percent) = money(self.employee, "employee")?;
        let (employer_amount, employer_percent) = money(self.employer, "employer")?;
        let opted_out = self.events.iter().any(|e| matches!(e, PensionEvent::OptedOut(_)));
        if opted_out && !(employee_amount.is_zero() && employer_amount.is_zero()) {
            return Err(fail(
                "events",
                "opted out, yet contributions are reported: report them as zero (the provider refunds what was paid)"
                    .into(),
            ));
        }
        Ok(Resolved { employee_amount, employer_amount, employee_percent, employer_percent })
    }
}
