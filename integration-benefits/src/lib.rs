//! Insurance and pension carriers. Carriers such as Sun Life and Manulife publish no enrollment
//! API: enrollment travels as EDI X12 834 files to the carrier's SFTP drop box, and the
//! carrier answers with files. This crate writes those files, sends each exactly once, and reads
//! the answers back.
//!
//! - [`x12`]: the tolerant reader, the writer, envelopes, control numbers, `TA1` / `999`.
//! - [`enrollment`]: the 834 model, carrier profiles as data, the writer that refuses what a
//!   carrier would, the reader, employment events (hire, termination, leave) as 834 changes.
//! - [`delivery`]: the [`Outbox`](delivery::Outbox) — staged durably, sent once, answers
//!   matched — over a [`DropBox`](delivery::DropBox) (SFTP with feature `sftp`).
//! - [`insurance`] and [`pension`]: the domain traits; pension contribution runs, file layouts
//!   (PAPDIS, a Canadian group RRSP/DPSP remittance) and confirmations reconciled.
//! - `adapters` (feature `sftp`): Sun Life, Manulife, any 834 carrier; PAPDIS and group RRSP
//!   providers, each configured from a connection.
//!
//! A hire becomes an 834 change, staged and sent once (here to a drop box in memory):
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use std::sync::Arc;
//! use chrono::NaiveDate;
//! use integration_benefits::delivery::{MemoryDropBox, Outbox, OutboxStores};
//! use integration_benefits::enrollment::{self, *};
//! use integration_core::residency::{Placement, Region};
//! use integration_core::store::MemoryStore;
//! use integration_core::{ConnectionId, TenantId};
//!
//! let hire = EmploymentEvent {
//!     kind: EventKind::Hire,
//!     date: NaiveDate::from_ymd_opt(2026, 3, 9).unwrap(),
//!     employee_id: "E0042".into(),
//!     first_name: "Zoé".into(),
//!     last_name: "Tremblay".into(),
//!     full_time: Some(true),
//!     birth_date: NaiveDate::from_ymd_opt(1990, 3, 4),
//!     gender: Some(Gender::Female),
//!     address: None, national_id: None, email: None,
//! };
//! let rules = EnrollmentRules {
//!     coverages: vec![Elected { line: "HLT".into(), plan: Some("Extended Health".into()), tier: Some("EMP".into()) }],
//!     waiting: Waiting::FirstOfNextMonth,
//!     ends: CoverageEnds::EndOfMonth,
//!     policy: Some("G12345".into()),
//! };
//! let profile = CarrierProfile { require_subscriber_address: false, ..CarrierProfile::sun_life() };
//! let sender = Sender {
//!     qualifier: "ZZ".into(), id: "ACMEHR".into(), application_sender: "ACMEHR".into(),
//!     sponsor: Party { name: "Acme Corp".into(), id_qualifier: "FI".into(), id: "123456789".into() },
//! };
//! let at = NaiveDate::from_ymd_opt(2026, 3, 9).unwrap().and_hms_opt(9, 0, 0).unwrap();
//! let change = hire.change(&rules, &sender.sponsor, &profile.insurer, at);
//!
//! let store = Arc::new(MemoryStore::new());
//! let stores = OutboxStores { records: store.clone(), claims: store.clone(), state: store.clone() };
//! let carrier = MemoryDropBox::new(Placement::new("Sun Life drop box", [Region::new("CA").unwrap()]));
//! let outbox = Outbox::new(stores, Arc::new(carrier.clone()), TenantId::new("acme").unwrap(), ConnectionId::new("sunlife").unwrap(), "ACMEHR");
//! let render = |control| -> integration_core::Result<(String, String)> {
//!     Ok((profile.file_name_for("ACMEHR", control, at.date()), enrollment::interchange(&change, &sender, &profile, control, at)?))
//! };
//! let staged = outbox.stage(&hire.key(), render).await.unwrap();
//! outbox.stage(&hire.key(), render).await.unwrap(); // the same event again: nothing new
//! outbox.send().await.unwrap();
//!
//! let sent = String::from_utf8(carrier.uploaded()[&staged.name].clone()).unwrap();
//! assert!(sent.contains("INS*Y*18*021*28*A***FT~"));
//! assert!(sent.contains("HD*021**HLT*EXTENDED HEALTH*EMP~\nDTP*348*D8*20260401~"), "coverage from the first of next month");
//! assert_eq!(carrier.uploaded().len(), 1);
//! # });
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "sftp")]
#[cfg_attr(docsrs, doc(cfg(feature = "sftp")))]
pub mod adapters;
pub mod delivery;
pub mod enrollment;
pub mod insurance;
pub mod pension;
mod table;
pub mod x12;
