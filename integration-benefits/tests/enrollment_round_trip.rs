//! 834s read back: ours give back what was written; another sender's sample keeps what the
//! model does not hold; bad files are refused naming the segment and element.

#![allow(clippy::unwrap_used)]

mod common;

use integration_benefits::enrollment::{self, *};
use integration_benefits::x12::{self, AckStatus, FunctionalAck, Limits};
use proptest::prelude::*;

#[test]
fn our_files_read_back_and_write_again_the_same() {
    for e in [common::new_hire(), common::termination(), common::coverage_change(), common::full_file(60)] {
        let profile = common::profile();
        let text = enrollment::interchange(&e, &common::sender(), &profile, 7, common::at()).unwrap();
        let back = enrollment::read(text.as_bytes(), &Limits::default()).unwrap().remove(0);
        assert_eq!(back.members.len(), e.members.len());
        assert_eq!(
            back.members[0].coverages,
            e.members[0]
                .coverages
                .iter()
                .map(|c| Coverage { plan: c.plan.as_ref().map(|p| p.to_uppercase()), ..c.clone() })
                .collect::<Vec<_>>()
        );
        let again = enrollment::interchange(&back, &common::sender(), &profile, 7, common::at()).unwrap();
        assert_eq!(again, text, "writing what was read changes nothing");
    }
}

#[test]
fn names_are_made_ascii_and_the_new_hire_reads_as_meant() {
    let text =
        enrollment::interchange(&common::new_hire(), &common::sender(), &common::profile(), 7, common::at()).unwrap();
    assert!(text.is_ascii());
    let e = enrollment::read(text.as_bytes(), &Limits::default()).unwrap().remove(0);
    let names: Vec<_> = e.members.iter().map(|m| (m.relationship.clone(), m.name.first.as_str())).collect();
    assert_eq!(
        names,
        [(Relationship::Subscriber, "ZOE"), (Relationship::Spouse, "LUC"), (Relationship::Child, "ELODIE")]
    );
    let subscriber = &e.members[0];
    assert_eq!(subscriber.phone.as_deref(), Some("15145550199"));
    assert_eq!(subscriber.address.as_ref().and_then(|a| a.postal_code.as_deref()), Some("K6A1A1"));
    assert_eq!(subscriber.dates.hired, Some(common::day(2026, 1, 15)));
}

#[test]
fn a_sample_from_another_sender_keeps_what_the_model_does_not_hold() {
    let sample = include_bytes!("fixtures/pyx12_834_lui_id.txt");
    let e = enrollment::read(sample, &Limits::default()).unwrap().remove(0);
    assert_eq!(e.purpose, Purpose::Verify);
    let m = &e.members[0];
    assert_eq!(
        (m.subscriber_id.as_str(), m.name.last.as_str(), m.maintenance),
        ("00389999", "DOE", Maintenance::Audit)
    );
    assert_eq!(m.medicare.as_deref(), Some("C"));
    assert_eq!(m.references, [("3H".to_owned(), "K129999A".to_owned())]);
    assert_eq!(m.dates.eligibility_begins, Some(common::day(2007, 3, 1)));
    assert_eq!(m.unmodelled, ["LUI***ESSPANISH~"]);
    assert_eq!(m.coverages[0].unmodelled, ["AMT*P3*45.34~", "REF*17*E  1F~"]);
    // Written again (as a 5010 file) and read: the same enrollment.
    let profile = CarrierProfile { require_birth_date: true, ..CarrierProfile::default() };
    let text = enrollment::interchange(&e, &common::sender(), &profile, 9, common::at()).unwrap();
    let again = enrollment::read(text.as_bytes(), &Limits::default()).unwrap().remove(0);
    assert_eq!(again.members, e.members);
    // Its acknowledgement, a 997, reads too.
    let ack = x12::read(include_bytes!("fixtures/pyx12_834_lui_id.997"), &Limits::default()).unwrap();
    let ack = FunctionalAck::read_all(&ack).unwrap().remove(0);
    assert_eq!(
        (ack.group_control.as_str(), ack.status, ack.transactions[0].status),
        ("13360001", AckStatus::Accepted, AckStatus::Accepted)
    );
}

#[test]
fn a_rejection_names_every_segment_and_element_at_fault() {
    let ack = x12::read(include_bytes!("fixtures/pyx12_rejected.999"), &Limits::default()).unwrap();
    let ack = FunctionalAck::read_all(&ack).unwrap().remove(0);
    assert_eq!(ack.status, AckStatus::Rejected);
    let notes: Vec<String> = ack.transactions[0].segments.iter().map(ToString::to_string).collect();
    assert_eq!(
        notes,
        [
            "segment N1 at position 5: segment has data element errors (8); element N103: invalid code value (7), value \"ZZ\"",
            "segment DTP at position 10: unrecognized segment id (1)",
            "segment DMG at position 15: segment has data element errors (8); element DMG02: invalid date (8), value \"19800230\"; element DMG03: required data element missing (1)",
            "segment HD at position 16: segment has data element errors (8); element HD05: invalid code value (7), value \"XXX\"",
        ]
    );
}

#[test]
fn what_a_carrier_would_refuse_is_refused_here_naming_member_and_element() {
    let profile = common::profile();
    let write = |e: &Enrollment| enrollment::interchange(e, &common::sender(), &profile, 7, common::at()).unwrap_err();

    let mut e = common::new_hire();
    e.members[1].coverages[0].tier = Some("XXX".into());
    let err = write(&e);
    assert_eq!((err.segment.as_deref(), err.element), (Some("HD"), Some(5)));
    assert!(
        err.message.starts_with("member 2 (subscriber \"E0001\", relationship 01): coverage 1 (HLT): the tier \"XXX\""),
        "{err}"
    );

    let mut e = common::new_hire();
    e.members[0].coverages[0].begins = None;
    assert!(write(&e).message.contains("has no date"));

    let mut e = common::new_hire();
    e.members[2].name.last = "王".into();
    let err = write(&e);
    assert_eq!((err.segment.as_deref(), err.element), (Some("NM1"), Some(3)));
    assert!(err.message.contains("cannot carry"), "{err}");

    let mut e = common::new_hire();
    e.members[0].policy = None;
    assert!(write(&e).message.contains("asks for REF*1L on every member"));

    let mut e = common::new_hire();
    e.members[0].subscriber_id = " ".into();
    assert_eq!(write(&e).segment.as_deref(), Some("REF"));

    let core: integration_core::Error = write(&common::full_file(3).tap_tier("NOPE")).into();
    assert_eq!(core.kind(), integration_core::ErrorKind::Validation);
    assert_eq!(core.field(), Some("HD05"));
}

trait TapTier {
    fn tap_tier(self, tier: &str) -> Self;
}

impl TapTier for Enrollment {
    fn tap_tier(mut self, tier: &str) -> Self {
        self.members[0].coverages[0].tier = Some(tier.into());
        self
    }
}

#[test]
fn a_bad_file_is_refused_naming_the_segment_and_element() {
    let text = enrollment::interchange(&common::termination(), &common::sender(), &common::profile(), 7, common::at())
        .unwrap();
    let cases = [
        (text.replacen("*20260331~", "*20260231~", 1), "DTP", 3, "not a CCYYMMDD date"),
        (text.replacen("INS*Y*18*024", "INS*Y*18*999", 1), "INS", 3, "not a maintenance code"),
        (text.replacen("****2~", "****9~", 1), "BGN", 8, "is not 2, 4 or RX"),
    ];
    for (bad, segment, element, says) in cases {
        let e = enrollment::read(bad.as_bytes(), &Limits::default()).unwrap_err();
        assert_eq!((e.segment.as_deref(), e.element), (Some(segment), Some(element)), "{e}");
        assert!(e.message.contains(says), "{e}");
        assert!(e.position.is_some(), "the position in the file is named: {e}");
    }
}

fn code(list: &'static [&'static str]) -> impl Strategy<Value = String> {
    proptest::sample::select(list).prop_map(str::to_owned)
}

fn date() -> impl Strategy<Value = chrono::NaiveDate> {
    (1900i32..2100, 1u32..=12, 1u32..=28).prop_map(|(y, m, d)| common::day(y, m, d))
}

fn word() -> impl Strategy<Value = String> {
    "[A-Z][A-Z0-9]{0,8}( [A-Z]{1,6})?"
}

fn maintenance() -> impl Strategy<Value = Maintenance> {
    proptest::sample::select(vec![
        Maintenance::Add,
        Maintenance::Change,
        Maintenance::Terminate,
        Maintenance::Reinstate,
        Maintenance::Audit,
    ])
}

fn coverage() -> impl Strategy<Value = Coverage> {
    (
        maintenance(),
        code(&["HLT", "DEN", "VIS", "LTD", "STD"]),
        proptest::option::of(word()),
        proptest::option::of(code(&["EMP", "ESP", "ECH", "FAM"])),
        date(),
        proptest::option::of(date()),
    )
        .prop_map(|(maintenance, line, plan, tier, begins, ends)| Coverage {
            maintenance,
            line,
            plan,
            tier,
            begins: Some(begins),
            ends,
            ..Coverage::default()
        })
}

fn member() -> impl Strategy<Value = Member> {
    (
        (
            "[A-Z0-9]{1,12}",
            proptest::sample::select(vec![
                Relationship::Subscriber,
                Relationship::Spouse,
                Relationship::Child,
                Relationship::Other("17".into()),
            ]),
            maintenance(),
            proptest::option::of(code(&["FT", "PT", "TE", "L1"])),
        ),
        (word(), word(), proptest::option::of(word()), proptest::option::of("[0-9]{9}"), date()),
        (proptest::option::of(date()), proptest::option::of(date()), proptest::collection::vec(coverage(), 0..3)),
    )
        .prop_map(
            |(
                (id, relationship, maintenance, employment_status),
                (last, first, middle, national_id, born),
                (hired, ends, coverages),
            )| Member {
                subscriber_id: id,
                relationship,
                maintenance,
                reason: Some("AI".into()),
                benefit_status: Some("A".into()),
                employment_status,
                policy: Some("GRP1".into()),
                name: PersonName { last, first, middle },
                national_id,
                birth_date: Some(born),
                gender: Gender::Unknown,
                dates: MemberDates { hired, eligibility_ends: ends, ..MemberDates::default() },
                coverages,
                ..Member::default()
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn any_enrollment_we_write_reads_back_equal(members in proptest::collection::vec(member(), 1..6), control in 1u32..999_999_999) {
        let e = Enrollment {
            reference: "REF1".into(),
            created: common::at(),
            sponsor: common::sender().sponsor.clone(),
            insurer: CarrierProfile::default().insurer,
            members,
            ..Enrollment::default()
        };
        let e = Enrollment { sponsor: Party { name: e.sponsor.name.to_uppercase(), ..e.sponsor.clone() }, ..e };
        let text = enrollment::interchange(&e, &common::sender(), &CarrierProfile::default(), control, common::at()).unwrap();
        let back = enrollment::read(text.as_bytes(), &Limits::default()).unwrap();
        prop_assert_eq!(back, vec![e]);
    }
}
