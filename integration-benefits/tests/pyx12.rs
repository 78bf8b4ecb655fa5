//! Our 834s against pyx12, a validator written by others holding the 005010X220A1 map: each
//! file must come back `OK` with a 999 saying `IK5*A`.

#![allow(clippy::unwrap_used)]

mod common;

use integration_benefits::enrollment::{self, Enrollment};
use integration_benefits::x12::{Delimiters, FunctionalAck, Limits, read};
use integration_testkit::peers::Pyx12;

fn check(pyx12: &Pyx12, name: &str, enrollment: &Enrollment, delimiters: Delimiters) {
    let profile = enrollment::CarrierProfile { delimiters, ..common::profile() };
    let text = enrollment::interchange(enrollment, &common::sender(), &profile, 101, common::at()).expect("it writes");
    let verdict = pyx12.validate(&text);
    assert!(verdict.accepted(), "pyx12 refused the {name}:\n{}\n999:\n{:?}\nfile:\n{text}", verdict.log, verdict.ack);
    // Its 999, read by our reader, says the same.
    let ack = read(verdict.ack.as_deref().unwrap_or_default().as_bytes(), &Limits::default()).expect("its 999 reads");
    let acks = FunctionalAck::read_all(&ack).expect("its 999 is an acknowledgement");
    assert_eq!(acks.len(), 1);
    assert_eq!(acks[0].group_control, "101");
    assert!(acks[0].status.is_accepted(), "{acks:?}");
    // And what we wrote reads back as what we meant.
    let back = enrollment::read(text.as_bytes(), &Limits::default()).expect("it reads back");
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].members.len(), enrollment.members.len(), "{name}");
}

fn pyx12_accepts_our_834s() {
    let Some(pyx12) = Pyx12::install() else { return };
    check(&pyx12, "new hire with two dependents", &common::new_hire(), Delimiters::default());
    check(&pyx12, "termination", &common::termination(), Delimiters::default());
    check(&pyx12, "coverage change", &common::coverage_change(), Delimiters::default());
    check(&pyx12, "full file of 500 members", &common::full_file(500), Delimiters::default());
    let pipes = Delimiters { element: '|', sub_element: '>', segment: '~', repetition: Some('^') };
    check(&pyx12, "new hire, other delimiters", &common::new_hire(), pipes);
}

fn pyx12_rejects_a_broken_file_and_our_reader_names_the_segment_and_element() {
    let Some(pyx12) = Pyx12::install() else { return };
    let profile = common::profile();
    let text = enrollment::interchange(&common::new_hire(), &common::sender(), &profile, 102, common::at()).unwrap();
    // A coverage tier the guide does not know, slipped past our writer.
    let broken = text.replacen("*FAM~", "*XXX~", 1);
    let verdict = pyx12.validate(&broken);
    assert!(!verdict.accepted(), "pyx12 accepted a bad tier:\n{}", verdict.log);
    let ack = read(verdict.ack.as_deref().expect("a 999").as_bytes(), &Limits::default()).unwrap();
    let acks = FunctionalAck::read_all(&ack).unwrap();
    let tx = &acks[0].transactions[0];
    assert!(!tx.status.is_accepted());
    let note = &tx.segments[0];
    assert_eq!((note.segment_id.as_str(), note.elements[0].position, note.elements[0].code.as_str()), ("HD", 5, "7"));
    assert!(note.to_string().contains("element HD05: invalid code value (7), value \"XXX\""), "{note}");
}

fn main() -> std::process::ExitCode {
    use integration_testkit::harness::{self, Need};
    harness::run(
        &[Need::python("pyx12")],
        integration_testkit::trials![sync pyx12_accepts_our_834s, sync pyx12_rejects_a_broken_file_and_our_reader_names_the_segment_and_element],
    )
}
