//! Employment events (a hire, a termination, a leave) turned into the 834 change a carrier
//! needs, by rules the plan sponsor sets: which coverages a new hire gets, when coverage
//! begins (the waiting period), when it ends.

use chrono::{Datelike, Days, NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

use super::{
    Address, Coverage, Enrollment, Gender, Maintenance, Member, MemberDates, Party, PersonName, Purpose, Relationship,
};

/// What happened to the employee.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// Hired (or rehired): enrolled with the elected coverages.
    Hire,
    /// Employment ended: member and coverages terminated.
    Termination,
    /// A leave of absence began: the member's employment status becomes `L1`.
    Leave,
    /// Back from leave: the member's employment status becomes active again.
    Return,
}

impl EventKind {
    /// Its name (`hire`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hire => "hire",
            Self::Termination => "termination",
            Self::Leave => "leave",
            Self::Return => "return",
        }
    }
}

/// An employment event, with what the carrier needs to know of the employee.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmploymentEvent {
    /// What happened.
    pub kind: EventKind,
    /// When: the hire date, the last day of employment, the first day of leave, the day back.
    pub date: NaiveDate,
    /// The employee's id (the subscriber id the carrier will know them by).
    pub employee_id: String,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Whether they work full time (`INS08` `FT` / `PT`); full time when not known.
    pub full_time: Option<bool>,
    /// Date of birth, when the HRIS gives it.
    pub birth_date: Option<NaiveDate>,
    /// Sex as carriers record it.
    pub gender: Option<Gender>,
    /// Home address.
    pub address: Option<Address>,
    /// National id (SSN, SIN), when the carrier takes it.
    pub national_id: Option<String>,
    /// Email.
    pub email: Option<String>,
}

/// A coverage a new hire is enrolled in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Elected {
    /// The insurance line (`HLT`).
    pub line: String,
    /// The plan.
    pub plan: Option<String>,
    /// The tier (`EMP`).
    pub tier: Option<String>,
}

/// When coverage begins after a hire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "begins", content = "days")]
pub enum Waiting {
    /// On the hire date.
    HireDate,
    /// On the first day of the month after the hire (the first of the month when hired on it).
    #[default]
    FirstOfNextMonth,
    /// This many days after the hire date.
    Days(u32),
}

/// When coverage ends after a termination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CoverageEnds {
    /// On the last day of employment.
    LastDay,
    /// On the last day of the month employment ended in.
    #[default]
    EndOfMonth,
}

/// The plan sponsor's enrollment rules.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EnrollmentRules {
    /// The coverages a new hire is enrolled in.
    pub coverages: Vec<Elected>,
    /// When coverage begins.
    #[serde(default)]
    pub waiting: Waiting,
    /// When it ends.
    #[serde(default)]
    pub ends: CoverageEnds,
    /// The group policy number (`REF*1L`) on every member.
    pub policy: Option<String>,
}

impl EmploymentEvent {
    /// The key the change is staged under: the same event seen twice is one change.
    pub fn key(&self) -> String {
        format!("{}:{}:{}", self.kind.as_str(), self.employee_id, self.date)
    }

    /// The 834 change for this event under `rules`, from `sponsor` to `insurer`, written at `at`.
    pub fn change(&self, rules: &EnrollmentRules, sponsor: &Party, insurer: &Party, at: NaiveDateTime) -> Enrollment {
        let status = match (self.kind, self.full_time) {
            (EventKind::Termination, _) => "TE",
            (EventKind::Leave, _) => "L1",
            (_, Some(false)) => "PT",
            _ => "FT",
        };
        let (maintenance, reason) = match self.kind {
            EventKind::Hire => (Maintenance::Add, "28"),
            EventKind::Termination => (Maintenance::Terminate, "08"),
            EventKind::Leave | EventKind::Return => (Maintenance::Change, "AI"),
        };
        let begins = match rules.waiting {
            Waiting::HireDate => self.date,
            Waiting::Days(days) => self.date.checked_add_days(Days::new(days.into())).unwrap_or(self.date),
            Waiting::FirstOfNextMonth if self.date.day() == 1 => self.date,
            Waiting::FirstOfNextMonth => first_of_next_month(self.date),
        };
        let ends = match rules.ends {
            CoverageEnds::LastDay => self.date,
            CoverageEnds::EndOfMonth => first_of_next_month(self.date).pred_opt().unwrap_or(self.date),
        };
        let mut dates = MemberDates::default();
        let elected = |maintenance, begins, ends| -> Vec<Coverage> {
            rules
                .coverages
                .iter()
                .map(|c| Coverage {
                    maintenance,
                    line: c.line.clone(),
                    plan: c.plan.clone(),
                    tier: c.tier.clone(),
                    begins,
                    ends,
                    ..Coverage::default()
                })
                .collect()
        };
        let coverages = match self.kind {
            EventKind::Hire => {
                dates.hired = Some(self.date);
                dates.eligibility_begins = Some(begins);
                elected(Maintenance::Add, Some(begins), None)
            }
            EventKind::Termination => {
                dates.employment_ended = Some(self.date);
                dates.eligibility_ends = Some(ends);
                elected(Maintenance::Terminate, None, Some(ends))
            }
            EventKind::Leave | EventKind::Return => {
                dates.maintenance_effective = Some(self.date);
                Vec::new()
            }
        };
        let member = Member {
            subscriber_id: self.employee_id.clone(),
            relationship: Relationship::Subscriber,
            maintenance,
            reason: Some(reason.to_owned()),
            employment_status: Some(status.to_owned()),
            policy: rules.policy.clone(),
            dates,
            name: PersonName { last: self.last_name.clone(), first: self.first_name.clone(), middle: None },
            national_id: self.national_id.clone(),
            // X12 carries ASCII: an address it cannot carry is left out (the carrier does not
            // need it to enroll), rather than refusing the enrollment.
            email: self.email.clone().filter(|e| e.is_ascii() && !e.contains(['*', '~', ':', '^'])),
            address: self.address.clone(),
            birth_date: self.birth_date,
            gender: self.gender.unwrap_or_default(),
            coverages,
            ..Member::default()
        };
        Enrollment {
            reference: self.key().chars().filter(|c| c.is_ascii_alphanumeric()).take(50).collect(),
            created: at,
            purpose: Purpose::Changes,
            master_policy: rules.policy.clone(),
            sponsor: sponsor.clone(),
            insurer: insurer.clone(),
            members: vec![member],
            ..Enrollment::default()
        }
    }
}

fn first_of_next_month(date: NaiveDate) -> NaiveDate {
    let (y, m) = if date.month() == 12 { (date.year() + 1, 1) } else { (date.year(), date.month() + 1) };
    NaiveDate::from_ymd_opt(y, m, 1).unwrap_or(date)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: EventKind, date: NaiveDate) -> EmploymentEvent {
        EmploymentEvent {
            kind,
            date,
            employee_id: "E1".into(),
            first_name: "Ada".into(),
            last_name: "Lovelace".into(),
            full_time: None,
            birth_date: None,
            gender: None,
            address: None,
            national_id: None,
            email: None,
        }
    }

    fn rules(waiting: Waiting, ends: CoverageEnds) -> EnrollmentRules {
        EnrollmentRules {
            coverages: vec![Elected { line: "HLT".into(), plan: None, tier: Some("EMP".into()) }],
            waiting,
            ends,
            policy: None,
        }
    }

    #[test]
    fn waiting_periods_and_ends_fall_on_the_right_days() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        let at = d(2026, 1, 1).and_hms_opt(0, 0, 0).unwrap();
        let p = Party::default();
        let begins = |w, date| {
            event(EventKind::Hire, date).change(&rules(w, CoverageEnds::EndOfMonth), &p, &p, at).members[0].coverages[0]
                .begins
        };
        assert_eq!(begins(Waiting::FirstOfNextMonth, d(2026, 12, 15)), Some(d(2027, 1, 1)));
        assert_eq!(begins(Waiting::FirstOfNextMonth, d(2026, 3, 1)), Some(d(2026, 3, 1)));
        assert_eq!(begins(Waiting::HireDate, d(2026, 3, 9)), Some(d(2026, 3, 9)));
        assert_eq!(begins(Waiting::Days(90), d(2026, 1, 1)), Some(d(2026, 4, 1)));
        let ends = |e, date| {
            event(EventKind::Termination, date).change(&rules(Waiting::HireDate, e), &p, &p, at).members[0].coverages[0]
                .ends
        };
        assert_eq!(ends(CoverageEnds::EndOfMonth, d(2028, 2, 10)), Some(d(2028, 2, 29)));
        assert_eq!(ends(CoverageEnds::LastDay, d(2028, 2, 10)), Some(d(2028, 2, 10)));
        let leave =
            event(EventKind::Leave, d(2026, 5, 4)).change(&rules(Waiting::HireDate, CoverageEnds::LastDay), &p, &p, at);
        assert_eq!(leave.members[0].employment_status.as_deref(), Some("L1"));
        assert_eq!(leave.members[0].maintenance, Maintenance::Change);
        assert_eq!(event(EventKind::Hire, d(2026, 5, 4)).key(), "hire:E1:2026-05-04");
    }
}
