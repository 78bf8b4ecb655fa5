//! Claims as carriers report them to plan sponsors: claims report files in the drop box, read
//! by a layout described as data, and each claim's status over time.
//!
//! ```
//! use integration_benefits::insurance::claims::{ClaimsLayout, claims_over_time};
//! use integration_benefits::insurance::ClaimStatus;
//!
//! let layout = ClaimsLayout::default();
//! let monday = "Claim,Member,Status,Date,Amount\nC1,E0001,RECEIVED,2026-03-02,120.00\n";
//! let friday = "Claim,Member,Status,Date,Amount\nC1,E0001,PAID,2026-03-06,96.00\n";
//! let mut events = layout.read(monday.as_bytes())?;
//! events.extend(layout.read(friday.as_bytes())?);
//! let claims = claims_over_time(events);
//! let statuses: Vec<ClaimStatus> = claims[0].history.iter().map(|s| s.status).collect();
//! assert_eq!(statuses, [ClaimStatus::Received, ClaimStatus::Paid]);
//! # Ok::<(), integration_core::Error>(())
//! ```

use std::collections::BTreeMap;

use chrono::NaiveDate;
use integration_core::Result;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{Claim, ClaimStatus, ClaimStep};
use crate::table::{Titled, invalid};

/// Where a claims report keeps what: columns by title (the file has a header row).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClaimsLayout {
    /// Answers whose name starts with this are claims reports (`claims`).
    pub file_prefix: String,
    /// The field separator.
    pub delimiter: char,
    /// The claim's id.
    pub claim_id: String,
    /// The subscriber (member) it is under.
    pub subscriber_id: String,
    /// Its status, in the carrier's words.
    pub status: String,
    /// The day the status was reached.
    pub date: String,
    /// How the date is written.
    pub date_format: String,
    /// The amount claimed or paid, when reported.
    pub amount: Option<String>,
    /// The carrier's words for each status (compared without regard to case).
    pub statuses: BTreeMap<String, ClaimStatus>,
}

impl Default for ClaimsLayout {
    fn default() -> Self {
        let statuses = [
            ("RECEIVED", ClaimStatus::Received),
            ("SUBMITTED", ClaimStatus::Received),
            ("PENDING", ClaimStatus::Pending),
            ("IN REVIEW", ClaimStatus::Pending),
            ("PAID", ClaimStatus::Paid),
            ("PARTIALLY PAID", ClaimStatus::Paid),
            ("DENIED", ClaimStatus::Denied),
            ("DECLINED", ClaimStatus::Denied),
        ];
        Self {
            file_prefix: "claims".into(),
            delimiter: ',',
            claim_id: "Claim".into(),
            subscriber_id: "Member".into(),
            status: "Status".into(),
            date: "Date".into(),
            date_format: "%Y-%m-%d".into(),
            amount: Some("Amount".into()),
            statuses: statuses.into_iter().map(|(word, status)| (word.to_owned(), status)).collect(),
        }
    }
}

/// One row of a claims report: a claim reached a status on a day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimEvent {
    /// The claim.
    pub claim_id: String,
    /// The subscriber.
    pub subscriber_id: String,
    /// The status reached.
    pub status: ClaimStatus,
    /// When.
    pub on: NaiveDate,
    /// The amount reported with it.
    pub amount: Option<Decimal>,
}

impl ClaimsLayout {
    /// Whether the answer named `name` is a claims report.
    pub fn is_report(&self, name: &str) -> bool {
        name.to_ascii_lowercase().starts_with(&self.file_prefix.to_ascii_lowercase())
    }

    /// Reads a claims report.
    ///
    /// # Errors
    /// A [`Validation`](integration_core::ErrorKind::Validation) error naming the row and column
    /// that cannot be read — a missing column, a date or amount that does not parse, a status
    /// the layout does not know.
    pub fn read(&self, contents: &[u8]) -> Result<Vec<ClaimEvent>> {
        let mut table = Titled::open(contents, self.delimiter, "claims report")?;
        let (claim, member, status, date) = (
            table.column(&self.claim_id)?,
            table.column(&self.subscriber_id)?,
            table.column(&self.status)?,
            table.column(&self.date)?,
        );
        let amount = self.amount.as_deref().map(|title| table.column(title)).transpose()?;
        let mut out = Vec::new();
        for row in table.rows() {
            let (at, row) = row?;
            let cell = |i: usize| row.get(i).unwrap_or_default();
            let bad = |column: &str, what: String| invalid(at, column, what);
            let word = cell(status);
            let reached =
                self.statuses.iter().find(|(w, _)| w.eq_ignore_ascii_case(word)).map(|(_, s)| *s).ok_or_else(|| {
                    bad(&self.status, format!("the status {word:?} is not one the layout knows: add it to `statuses`"))
                })?;
            let on = NaiveDate::parse_from_str(cell(date), &self.date_format).map_err(|_| {
                bad(
                    &self.date,
                    format!("{:?} in column {:?} is not a date ({})", cell(date), self.date, self.date_format),
                )
            })?;
            let amount = match amount.map(cell).filter(|a| !a.is_empty()) {
                None => None,
                Some(text) => Some(text.replace([',', '$'], "").parse::<Decimal>().map_err(|_| {
                    bad(self.amount.as_deref().unwrap_or("amount"), format!("{text:?} is not an amount"))
                })?),
            };
            if cell(claim).is_empty() {
                return Err(bad(&self.claim_id, "no claim id".into()));
            }
            out.push(ClaimEvent {
                claim_id: cell(claim).to_owned(),
                subscriber_id: cell(member).to_owned(),
                status: reached,
                on,
                amount,
            });
        }
        Ok(out)
    }
}

/// Each claim's status over time, from `events` in any order: per claim, by day, a status
/// repeated on a later report (the same report read twice) kept once.
pub fn claims_over_time(events: impl IntoIterator<Item = ClaimEvent>) -> Vec<Claim> {
    let mut by_claim: BTreeMap<String, (String, Vec<ClaimStep>)> = BTreeMap::new();
    for e in events {
        let entry = by_claim.entry(e.claim_id).or_insert_with(|| (e.subscriber_id.clone(), Vec::new()));
        entry.1.push(ClaimStep { on: e.on, status: e.status, amount: e.amount });
    }
    by_claim
        .into_iter()
        .map(|(id, (subscriber_id, mut steps))| {
            steps.sort_by_key(|s| (s.on, s.status));
            steps.dedup_by(|later, earlier| later.status == earlier.status);
            Claim { id, subscriber_id, history: steps }
        })
        .collect()
}
