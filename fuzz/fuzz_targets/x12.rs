//! Any bytes as an X12 file: read into segments, envelopes opened, 834s read into enrollments,
//! acknowledgements read — errors allowed, panics and unbounded work not. What reads as an
//! enrollment is written again and must read back.

#![no_main]

use integration_benefits::enrollment::{self, CarrierProfile, Party, Sender};
use integration_benefits::x12::{self, FunctionalAck, InterchangeAck, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits { max_bytes: 1 << 16, max_segments: 4096, max_elements: 64 };
    let Ok(interchange) = x12::read(data, &limits) else { return };
    let _ = FunctionalAck::read_all(&interchange);
    let _ = InterchangeAck::read_all(&interchange);
    let _ = x12::open(&interchange);
    let Ok(enrollments) = enrollment::read(data, &limits) else { return };
    let sender = Sender {
        qualifier: "ZZ".into(),
        id: "FUZZ".into(),
        application_sender: "FUZZ".into(),
        sponsor: Party { name: "FUZZ".into(), id_qualifier: "FI".into(), id: "123456789".into() },
    };
    let profile = CarrierProfile { require_birth_date: false, uppercase: false, ..CarrierProfile::default() };
    for e in enrollments {
        let created = e.created;
        if let Ok(text) = enrollment::interchange(&e, &sender, &profile, 1, created) {
            let again = enrollment::read(text.as_bytes(), &Limits::default()).expect("what we write reads back");
            assert_eq!(again.len(), 1);
            assert_eq!(again[0].members.len(), e.members.len());
        }
    }
});
