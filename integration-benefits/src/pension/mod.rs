//! Pension contributions: a run per pay period (employee and employer contributions as an
//! amount or a percent of pensionable earnings, enrolment and opt-out events), written in the
//! provider's file format (described as data), delivered through the
//! [`Outbox`](crate::delivery::Outbox), and reconciled with the provider's confirmation.
//!
//! ```
//! use chrono::NaiveDate;
//! use integration_benefits::pension::*;
//! use rust_decimal::Decimal;
//!
//! let day = |m, d| NaiveDate::from_ymd_opt(2026, m, d).unwrap();
//! let run = ContributionRun {
//!     plan: PlanInfo { plan_number: "G12345".into(), group: Some("HQ".into()), ..PlanInfo::default() },
//!     period_start: day(1, 1), period_end: day(1, 15), deduction_date: day(1, 16),
//!     frequency: "W2".into(),
//!     lines: vec![ContributionLine {
//!         member: PlanMember { employee_id: "E0001".into(), first_name: "Zoé".into(), last_name: "Tremblay".into(), ..PlanMember::default() },
//!         pensionable_earnings: Decimal::new(250_000, 2),
//!         employee: Contribution::Percent(Decimal::new(5, 0)),
//!         employer: Contribution::Amount(Decimal::new(10000, 2)),
//!         ..ContributionLine::default()
//!     }],
//!     ..ContributionRun::default()
//! };
//! let file = FileLayout::canadian_group_rrsp_dpsp().render(&run)?;
//! assert!(file.contains("G12345,HQ,E0001,,Tremblay,Zoé,,2026-01-15,2026-01-16,RRSP-EE,125.00,,"));
//! assert!(file.contains(",DPSP-ER,100.00,,"));
//!
//! // The carrier confirms the employee contribution only.
//! let confirmation = "File,Member ID,Contribution Type,Amount,Status,Reason\n\
//!                     g.csv,E0001,RRSP-EE,125.00,ACCEPTED,\n";
//! let rows = ConfirmationLayout::default().read(confirmation.as_bytes())?;
//! let check = reconcile(&run, &FileLayout::canadian_group_rrsp_dpsp(), "g.csv", &rows)?;
//! assert_eq!((check.matched, check.missing.len()), (1, 1));
//! assert_eq!(check.missing[0].contribution_type, "DPSP-ER");
//! # Ok::<(), integration_core::Error>(())
//! ```

mod confirmation;
mod layout;
mod model;
mod provider;

pub use confirmation::{ConfirmationLayout, Confirmed, Difference, PensionConfirmations, Reconciliation, reconcile};
pub use layout::{Column, EventCodes, Field, FileLayout, Rows};
pub use model::{Contribution, ContributionLine, ContributionRun, PensionEvent, PlanInfo, PlanMember, Resolved};
pub use provider::Pension;
