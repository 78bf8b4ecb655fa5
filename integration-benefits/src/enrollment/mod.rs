//! Benefit enrollment as EDI X12 834 (005010X220A1): the model, the carrier profiles, the
//! writer that checks what a carrier would refuse, and the reader.
//!
//! ```
//! use chrono::NaiveDate;
//! use integration_benefits::enrollment::{self, *};
//!
//! let day = |m, d| NaiveDate::from_ymd_opt(2026, m, d).unwrap();
//! let profile = CarrierProfile::sun_life();
//! let sender = Sender {
//!     qualifier: "ZZ".into(),
//!     id: "ACMEHR".into(),
//!     application_sender: "ACMEHR".into(),
//!     sponsor: Party { name: "Acme Corp".into(), id_qualifier: "FI".into(), id: "123456789".into() },
//! };
//! let hire = Enrollment {
//!     reference: "hire-e0001".into(),
//!     created: day(1, 15).and_hms_opt(12, 30, 0).unwrap(),
//!     sponsor: sender.sponsor.clone(),
//!     insurer: profile.insurer.clone(),
//!     members: vec![Member {
//!         subscriber_id: "E0001".into(),
//!         policy: Some("GRP12345".into()),
//!         employment_status: Some("FT".into()),
//!         name: PersonName { last: "Tremblay".into(), first: "Zoé".into(), middle: None },
//!         address: Some(Address {
//!             line1: "1 Rue Principale".into(), city: "Montréal".into(), region: Some("QC".into()),
//!             postal_code: Some("H2X 1Y4".into()), country: Some("CA".into()), line2: None,
//!         }),
//!         birth_date: Some(NaiveDate::from_ymd_opt(1990, 3, 4).unwrap()),
//!         gender: Gender::Female,
//!         coverages: vec![Coverage {
//!             line: "HLT".into(), plan: Some("Extended health".into()), tier: Some("EMP".into()),
//!             begins: Some(day(2, 1)), ..Coverage::default()
//!         }],
//!         ..Member::default()
//!     }],
//!     ..Enrollment::default()
//! };
//! let text = enrollment::interchange(&hire, &sender, &profile, 42, hire.created)?;
//! assert!(text.contains("NM1*IL*1*TREMBLAY*ZOE~"), "accents are taken off: {text}");
//!
//! let read = enrollment::read(text.as_bytes(), &Default::default())?;
//! assert_eq!(read[0].members[0].coverages[0].begins, Some(day(2, 1)));
//! # Ok::<(), integration_benefits::x12::X12Error>(())
//! ```

mod events;
mod model;
mod profile;
mod read;
mod write;

pub use events::{CoverageEnds, Elected, EmploymentEvent, EnrollmentRules, EventKind, Waiting};
pub use model::{
    Address, Coverage, Enrollment, Gender, Maintenance, Member, MemberDates, Party, PersonName, Purpose, Relationship,
};
pub use profile::{CarrierProfile, Guide, Reasons, Sender};
pub use read::{read, transaction};
pub use write::{body, interchange};
