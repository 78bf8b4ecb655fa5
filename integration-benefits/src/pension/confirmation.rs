//! The provider's confirmation file: what it received for each member, read by a layout
//! described as data, and reconciled with what was sent.

use std::collections::BTreeMap;

use integration_core::Result;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{ContributionRun, FileLayout, Rows};
use crate::delivery::{Answer, AnswerKey, AnswerReader};
use crate::table::{Titled, invalid};
use crate::x12::AckStatus;

/// Where a confirmation file keeps what: columns by title (the file has a header row).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfirmationLayout {
    /// The field separator.
    pub delimiter: char,
    /// The column naming the file confirmed (the name it was delivered under).
    pub file: String,
    /// The member's id.
    pub employee_id: String,
    /// The contribution type (`RRSP-EE`), for files with a row per type; `None` when each row
    /// holds the member's total.
    pub contribution_type: Option<String>,
    /// The amount received.
    pub amount: String,
    /// The row's status.
    pub status: String,
    /// Statuses that mean accepted (`ACCEPTED`, `OK`).
    pub accepted: Vec<String>,
    /// Why a row was not accepted.
    pub reason: Option<String>,
}

impl Default for ConfirmationLayout {
    fn default() -> Self {
        Self {
            delimiter: ',',
            file: "File".into(),
            employee_id: "Member ID".into(),
            contribution_type: Some("Contribution Type".into()),
            amount: "Amount".into(),
            status: "Status".into(),
            accepted: vec!["ACCEPTED".into(), "OK".into()],
            reason: Some("Reason".into()),
        }
    }
}

/// One row of a confirmation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confirmed {
    /// The file confirmed.
    pub file: String,
    /// The member.
    pub employee_id: String,
    /// The contribution type, when rows are per type.
    pub contribution_type: Option<String>,
    /// The amount received.
    pub amount: Decimal,
    /// Whether the provider accepted it.
    pub accepted: bool,
    /// Why not.
    pub reason: Option<String>,
}

impl ConfirmationLayout {
    /// Reads a confirmation file.
    ///
    /// # Errors
    /// A [`Validation`](integration_core::ErrorKind::Validation) error naming the row (1-based,
    /// after the header) and column that cannot be read, or the column missing from the header.
    pub fn read(&self, contents: &[u8]) -> Result<Vec<Confirmed>> {
        let mut table = Titled::open(contents, self.delimiter, "confirmation")?;
        let file = table.column(&self.file)?;
        let employee = table.column(&self.employee_id)?;
        let kind = self.contribution_type.as_deref().map(|title| table.column(title)).transpose()?;
        let amount = table.column(&self.amount)?;
        let status = table.column(&self.status)?;
        let reason = self.reason.as_deref().map(|title| table.column(title)).transpose()?;
        let mut out = Vec::new();
        for row in table.rows() {
            let (at, row) = row?;
            let cell = |i: usize| row.get(i).unwrap_or_default().to_owned();
            let text = cell(amount);
            let value: Decimal = text.replace([',', '$', '£'], "").parse().map_err(|_| {
                invalid(at, &self.amount, format!("{text:?} in column {:?} is not an amount", self.amount))
            })?;
            out.push(Confirmed {
                file: cell(file),
                employee_id: cell(employee),
                contribution_type: kind.map(cell),
                amount: value,
                accepted: self.accepted.iter().any(|a| a.eq_ignore_ascii_case(&cell(status))),
                reason: reason.map(cell).filter(|r| !r.is_empty()),
            });
        }
        Ok(out)
    }
}

/// One amount that does not match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Difference {
    /// The member.
    pub employee_id: String,
    /// The contribution type (`employee` / `employer`, or the layout's type code).
    pub contribution_type: String,
    /// What was sent (`None`: nothing was).
    pub sent: Option<Decimal>,
    /// What the provider confirmed (`None`: nothing).
    pub confirmed: Option<Decimal>,
    /// The provider's reason, when it refused the row.
    pub reason: Option<String>,
}

/// What a confirmation says against what was sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reconciliation {
    /// Amounts confirmed as sent.
    pub matched: usize,
    /// Amounts confirmed, but different.
    pub different: Vec<Difference>,
    /// Amounts sent and not confirmed.
    pub missing: Vec<Difference>,
    /// Amounts confirmed that were not sent.
    pub unexpected: Vec<Difference>,
    /// Rows the provider refused.
    pub refused: Vec<Difference>,
}

impl Reconciliation {
    /// Whether everything sent was confirmed as sent, and nothing else.
    pub fn is_clean(&self) -> bool {
        self.different.is_empty() && self.missing.is_empty() && self.unexpected.is_empty() && self.refused.is_empty()
    }
}

/// Reconciles `run`, sent in `layout` as the file `file`, with the `confirmed` rows about that
/// file.
///
/// # Errors
/// A line of the run that does not resolve.
pub fn reconcile(
    run: &ContributionRun,
    layout: &FileLayout,
    file: &str,
    confirmed: &[Confirmed],
) -> Result<Reconciliation> {
    let mut sent: BTreeMap<(String, String), Decimal> = BTreeMap::new();
    let per_type = match &layout.rows {
        Rows::PerMember => None,
        Rows::PerContribution { employee, employer } => Some((employee.clone(), employer.clone())),
    };
    for line in &run.lines {
        let r = line.resolve()?;
        let id = line.member.employee_id.clone();
        match &per_type {
            Some((ee, er)) => {
                for (kind, amount) in [(ee, r.employee_amount), (er, r.employer_amount)] {
                    if !amount.is_zero() {
                        *sent.entry((id.clone(), kind.clone())).or_default() += amount;
                    }
                }
            }
            None => *sent.entry((id, "total".into())).or_default() += r.employee_amount + r.employer_amount,
        }
    }
    let mut out = Reconciliation::default();
    let mut seen: BTreeMap<(String, String), Decimal> = BTreeMap::new();
    for row in confirmed.iter().filter(|c| c.file == file) {
        let key = (row.employee_id.clone(), row.contribution_type.clone().unwrap_or_else(|| "total".into()));
        if !row.accepted {
            out.refused.push(Difference {
                employee_id: key.0.clone(),
                contribution_type: key.1.clone(),
                sent: sent.get(&key).copied(),
                confirmed: Some(row.amount),
                reason: row.reason.clone(),
            });
            seen.entry(key).or_default();
            continue;
        }
        *seen.entry(key).or_default() += row.amount;
    }
    for (key, amount) in &seen {
        if out.refused.iter().any(|r| r.employee_id == key.0 && r.contribution_type == key.1) {
            continue;
        }
        let diff = |sent| Difference {
            employee_id: key.0.clone(),
            contribution_type: key.1.clone(),
            sent,
            confirmed: Some(*amount),
            reason: None,
        };
        match sent.get(key) {
            Some(s) if s == amount => out.matched += 1,
            Some(s) => out.different.push(diff(Some(*s))),
            None => out.unexpected.push(diff(None)),
        }
    }
    for (key, amount) in &sent {
        if !seen.contains_key(key) {
            out.missing.push(Difference {
                employee_id: key.0.clone(),
                contribution_type: key.1.clone(),
                sent: Some(*amount),
                confirmed: None,
                reason: None,
            });
        }
    }
    Ok(out)
}

/// Confirmation files as answers for the [`Outbox`](crate::delivery::Outbox): a file is
/// accepted when every row about it is, rejected when none is, accepted with errors otherwise.
/// (Amounts are compared by [`reconcile`], which needs the run.)
#[derive(Debug, Clone)]
pub struct PensionConfirmations {
    /// How to read them.
    pub layout: ConfirmationLayout,
}

impl AnswerReader for PensionConfirmations {
    fn read(&self, _name: &str, contents: &[u8]) -> Result<Vec<Answer>> {
        let rows = self.layout.read(contents)?;
        let mut by_file: BTreeMap<&str, Vec<&Confirmed>> = BTreeMap::new();
        for row in &rows {
            by_file.entry(row.file.as_str()).or_default().push(row);
        }
        Ok(by_file
            .into_iter()
            .map(|(file, rows)| {
                let refused: Vec<String> = rows
                    .iter()
                    .filter(|r| !r.accepted)
                    .map(|r| {
                        format!(
                            "member {} ({}): refused: {}",
                            r.employee_id,
                            r.contribution_type.as_deref().unwrap_or("total"),
                            r.reason.as_deref().unwrap_or("no reason given")
                        )
                    })
                    .collect();
                let status = if refused.is_empty() {
                    AckStatus::Accepted
                } else if refused.len() == rows.len() {
                    AckStatus::Rejected
                } else {
                    AckStatus::AcceptedWithErrors
                };
                Answer { key: AnswerKey::FileName(file.to_owned()), status, notes: refused, is_final: true }
            })
            .collect())
    }
}
