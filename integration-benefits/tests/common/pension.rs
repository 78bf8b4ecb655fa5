//! A pension contribution run for the tests.

use chrono::NaiveDate;
use integration_benefits::pension::*;
use rust_decimal::Decimal;

fn day(m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, m, d).expect("a date")
}

fn member(id: &str, first: &str, last: &str) -> PlanMember {
    PlanMember {
        employee_id: id.into(),
        national_id: Some("QQ123456C".into()),
        title: Some("Ms".into()),
        first_name: first.into(),
        last_name: last.into(),
        birth_date: Some(NaiveDate::from_ymd_opt(1990, 4, 5).expect("a date")),
        gender: Some("F".into()),
        hired: Some(day(1, 6)),
        address_lines: vec!["1 High Street".into(), "Flat 2, Rear".into()],
        postal_code: Some("SW1A 1AA".into()),
        country: Some("England".into()),
        email: Some(format!("{}@example.com", id.to_lowercase())),
    }
}

pub fn run() -> ContributionRun {
    ContributionRun {
        plan: PlanInfo {
            provider_id: "NEST1234".into(),
            employer_id: "EMP00042".into(),
            plan_number: "G12345".into(),
            group: Some("Monthly".into()),
            sub_group: None,
        },
        period_start: day(3, 1),
        period_end: day(3, 31),
        deduction_date: day(3, 31),
        frequency: "M1".into(),
        tax_period: Some(12),
        lines: vec![
            ContributionLine {
                member: member("E0001", "Ada", "Lovelace"),
                pensionable_earnings: Decimal::new(233_333, 2),
                gross_earnings: Some(Decimal::new(250_000, 2)),
                employee: Contribution::Percent(Decimal::new(5, 0)),
                employer: Contribution::Percent(Decimal::new(3, 0)),
                assessment: Some("0".into()),
                ..ContributionLine::default()
            },
            ContributionLine {
                member: member("E0002", "Grace", "O'Hara, Jr."),
                pensionable_earnings: Decimal::new(180_000, 2),
                employee: Contribution::Amount(Decimal::new(9000, 2)),
                employer: Contribution::Amount(Decimal::new(5400, 2)),
                events: vec![PensionEvent::Enrolled(day(3, 1))],
                assessment: Some("0".into()),
                ..ContributionLine::default()
            },
            ContributionLine {
                member: member("E0003", "Alan", "Turing"),
                pensionable_earnings: Decimal::new(150_000, 2),
                events: vec![PensionEvent::Enrolled(day(2, 1)), PensionEvent::OptedOut(day(3, 10))],
                assessment: Some("0".into()),
                ..ContributionLine::default()
            },
        ],
    }
}
