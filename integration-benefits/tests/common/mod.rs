//! Enrollments for the tests: a new hire with two dependents, a termination, a coverage change,
//! and a full file of many members.

#![allow(dead_code, unreachable_pub)]

pub mod pension;

use chrono::{NaiveDate, NaiveDateTime};
use integration_benefits::enrollment::*;

pub fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a date")
}

pub fn at() -> NaiveDateTime {
    day(2026, 1, 15).and_hms_opt(12, 30, 0).expect("a time")
}

pub fn sender() -> Sender {
    Sender {
        qualifier: "ZZ".into(),
        id: "ACMEHR".into(),
        application_sender: "ACMEHR".into(),
        sponsor: Party { name: "Acme Corp".into(), id_qualifier: "FI".into(), id: "123456789".into() },
    }
}

pub fn profile() -> CarrierProfile {
    CarrierProfile { usage: integration_benefits::x12::Usage::Test, ..CarrierProfile::sun_life() }
}

fn base(reference: &str, members: Vec<Member>) -> Enrollment {
    Enrollment {
        reference: reference.into(),
        created: at(),
        master_policy: Some("GRP12345".into()),
        sponsor: sender().sponsor,
        insurer: profile().insurer,
        members,
        ..Enrollment::default()
    }
}

fn health(maintenance: Maintenance, tier: &str) -> Coverage {
    Coverage {
        maintenance,
        line: "HLT".into(),
        plan: Some("Extended Health Gold".into()),
        tier: Some(tier.into()),
        begins: Some(day(2026, 2, 1)),
        ..Coverage::default()
    }
}

fn person(id: &str, relationship: Relationship, last: &str, first: &str, born: NaiveDate, gender: Gender) -> Member {
    Member {
        subscriber_id: id.into(),
        relationship,
        policy: Some("GRP12345".into()),
        name: PersonName { last: last.into(), first: first.into(), middle: None },
        birth_date: Some(born),
        gender,
        ..Member::default()
    }
}

fn address() -> Address {
    Address {
        line1: "123 Rue Saint-Denis".into(),
        line2: Some("App. 4".into()),
        city: "Hawkesbury".into(),
        // Ontario: pyx12's province list is the pre-2000 one (PQ, NF), so QC and NL fail there.
        region: Some("ON".into()),
        postal_code: Some("K6A 1A1".into()),
        country: Some("CA".into()),
    }
}

pub fn new_hire() -> Enrollment {
    let mut subscriber = person("E0001", Relationship::Subscriber, "Tremblay", "Zoé", day(1988, 1, 15), Gender::Female);
    subscriber.employment_status = Some("FT".into());
    subscriber.dates.hired = Some(day(2026, 1, 15));
    subscriber.address = Some(address());
    subscriber.phone = Some("+1 (514) 555-0199".into());
    subscriber.email = Some("zoe.tremblay@example.com".into());
    subscriber.national_id = Some("046454286".into());
    subscriber.coverages =
        vec![health(Maintenance::Add, "FAM"), Coverage { line: "DEN".into(), ..health(Maintenance::Add, "FAM") }];
    let mut spouse = person("E0001", Relationship::Spouse, "Gagnon", "Luc", day(1986, 3, 10), Gender::Male);
    spouse.coverages = subscriber.coverages.clone();
    let mut child = person("E0001", Relationship::Child, "Gagnon-Tremblay", "Élodie", day(2015, 7, 4), Gender::Female);
    child.coverages = subscriber.coverages.clone();
    base("HIRE-E0001", vec![subscriber, spouse, child])
}

pub fn termination() -> Enrollment {
    let mut subscriber = person("E0002", Relationship::Subscriber, "Smith", "John", day(1980, 5, 1), Gender::Male);
    subscriber.maintenance = Maintenance::Terminate;
    subscriber.reason = Some("08".into());
    subscriber.employment_status = Some("TE".into());
    subscriber.address = Some(address());
    subscriber.dates.employment_ended = Some(day(2026, 2, 28));
    subscriber.dates.eligibility_ends = Some(day(2026, 3, 31));
    subscriber.coverages = vec![Coverage {
        maintenance: Maintenance::Terminate,
        ends: Some(day(2026, 3, 31)),
        begins: None,
        ..health(Maintenance::Terminate, "EMP")
    }];
    base("TERM-E0002", vec![subscriber])
}

pub fn coverage_change() -> Enrollment {
    let mut subscriber = person("E0003", Relationship::Subscriber, "Singh", "Priya", day(1992, 9, 9), Gender::Female);
    subscriber.maintenance = Maintenance::Change;
    subscriber.reason = Some("32".into()); // marriage
    subscriber.employment_status = Some("FT".into());
    subscriber.address = Some(address());
    subscriber.dates.maintenance_effective = Some(day(2026, 3, 1));
    subscriber.coverages = vec![Coverage {
        maintenance: Maintenance::Change,
        maintenance_effective: Some(day(2026, 3, 1)),
        ..health(Maintenance::Change, "ESP")
    }];
    base("CHG-E0003", vec![subscriber])
}

/// A full file of `n` members: subscribers, each followed by zero to two dependents.
pub fn full_file(n: usize) -> Enrollment {
    let tiers = ["EMP", "ESP", "FAM"];
    let mut members = Vec::with_capacity(n);
    let mut employee = 0;
    while members.len() < n {
        employee += 1;
        let id = format!("E{employee:05}");
        let dependents = (employee % 3).min(n - members.len() - 1);
        let tier = tiers[dependents];
        let mut s = person(
            &id,
            Relationship::Subscriber,
            &format!("Employee{employee}"),
            "Pat",
            day(1970 + (employee % 30) as i32, 1 + (employee % 12) as u32, 1 + (employee % 28) as u32),
            Gender::Unknown,
        );
        s.maintenance = Maintenance::Audit;
        s.employment_status = Some("FT".into());
        s.address = Some(address());
        s.coverages = vec![health(Maintenance::Audit, tier)];
        members.push(s);
        for d in 0..dependents {
            let relationship = if d == 0 { Relationship::Spouse } else { Relationship::Child };
            let mut m = person(
                &id,
                relationship,
                &format!("Employee{employee}"),
                "Sam",
                day(2000, 1 + d as u32, 2),
                Gender::Unknown,
            );
            m.maintenance = Maintenance::Audit;
            m.coverages = vec![health(Maintenance::Audit, tier)];
            members.push(m);
        }
    }
    Enrollment { purpose: Purpose::Verify, effective: Some(day(2026, 4, 1)), ..base("FULL-20260401", members) }
}
