//! The [`Insurance`] trait: one connection to an insurance carrier — its 834 rules, its plans,
//! its drop box — and what can be known from what the carrier accepted.
//!
//! Carriers such as Sun Life and Manulife publish no enrollment, eligibility or claims API to
//! plan sponsors: enrollment travels as 834 files ([`enroll`](Insurance::enroll) renders them;
//! the [`Outbox`](crate::delivery::Outbox) sends them), and eligibility is answered from the
//! files the carrier accepted ([`eligibility_as_accepted`]). Claims reach plan sponsors as
//! claims reports the carrier drops in the same box: [`claims`] reads them by a layout given as
//! data and gives each claim's status over time ([`Insurance::claims`]; `Unsupported` for a
//! connection with no layout).

pub mod claims;

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{NaiveDate, NaiveDateTime};
use integration_core::{Integration, Result};
use serde::{Deserialize, Serialize};

use crate::delivery::{DeliveryState, DropBox, Staged};
use crate::enrollment::{self, CarrierProfile, Coverage, Enrollment, Maintenance, Purpose, Relationship, Sender};
use crate::x12::Limits;

/// A plan the group holds with the carrier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// The insurance line (`HD03`: `HLT`, `DEN`, `VIS`, `LTD`, …).
    pub line: String,
    /// The plan's name as the carrier knows it (`HD04`).
    pub plan: String,
    /// The coverage tiers offered (`HD05`: `EMP`, `ESP`, `ECH`, `FAM`).
    pub tiers: Vec<String>,
}

/// Where a claim stands (in the order a claim moves through them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClaimStatus {
    /// Received by the carrier.
    Received,
    /// Being assessed.
    Pending,
    /// Paid, wholly or in part.
    Paid,
    /// Refused.
    Denied,
}

/// A status a claim reached, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimStep {
    /// The day.
    pub on: NaiveDate,
    /// The status.
    pub status: ClaimStatus,
    /// The amount reported with it (claimed, or paid).
    pub amount: Option<rust_decimal::Decimal>,
}

/// A claim and its status over time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    /// The carrier's id for it.
    pub id: String,
    /// The subscriber it is under.
    pub subscriber_id: String,
    /// Each status it went through, oldest first.
    pub history: Vec<ClaimStep>,
}

impl Claim {
    /// Where it stands now.
    pub fn status(&self) -> Option<ClaimStatus> {
        self.history.last().map(|s| s.status)
    }
}

/// What a member is covered for on a day, as the carrier accepted it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoveredMember {
    /// The member's relationship to the subscriber.
    pub relationship: Relationship,
    /// Their name as sent.
    pub name: String,
    /// The coverages in force that day.
    pub coverages: Vec<Coverage>,
}

/// The answer to an eligibility question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Eligibility {
    /// The subscriber asked about.
    pub subscriber_id: String,
    /// The day asked about.
    pub on: NaiveDate,
    /// Members with at least one coverage in force that day.
    pub members: Vec<CoveredMember>,
    /// The accepted files the answer rests on, in the order applied.
    pub files: Vec<String>,
}

/// One connection to an insurance carrier.
#[async_trait]
pub trait Insurance: Integration {
    /// The carrier's 834 rules.
    fn profile(&self) -> &CarrierProfile;

    /// Who sends (the plan sponsor).
    fn sender(&self) -> &Sender;

    /// The plans the group holds with the carrier (from the connection's configuration).
    fn plans(&self) -> &[Plan];

    /// The carrier's drop box.
    fn drop_box(&self) -> Arc<dyn DropBox>;

    /// The 834 for `enrollment` as interchange `control`, written at `at`: its file name (the
    /// profile's pattern) and text. Stage it with the [`Outbox`](crate::delivery::Outbox).
    ///
    /// # Errors
    /// What the carrier would refuse, as [`enrollment::interchange`] says.
    fn enroll(&self, enrollment: &Enrollment, control: u32, at: NaiveDateTime) -> Result<(String, String)> {
        let text = enrollment::interchange(enrollment, self.sender(), self.profile(), control, at)?;
        Ok((self.profile().file_name_for(&self.sender().id, control, at.date()), text))
    }

    /// Claims under the group, each with its status over time, from the carrier's claims
    /// reports; `Unsupported` when the connection has no claims report layout.
    async fn claims(&self) -> Result<Vec<Claim>> {
        Err(self.unsupported("claims"))
    }
}

/// What `subscriber_id` and their dependents were covered for `on`, as the carrier accepted it:
/// the accepted 834s among `files` applied in control-number order (a full file replacing what
/// came before, a termination ending the coverage).
///
/// # Errors
/// A staged file that no longer reads as an 834.
pub fn eligibility_as_accepted(files: &[Staged], subscriber_id: &str, on: NaiveDate) -> Result<Eligibility> {
    let mut accepted: Vec<&Staged> = files
        .iter()
        .filter(|f| matches!(f.state, DeliveryState::Accepted | DeliveryState::AcceptedWithErrors))
        .collect();
    accepted.sort_by_key(|f| f.control);
    // (relationship, name) → (member as last sent, its coverages by line)
    let mut held: BTreeMap<(String, String), (Relationship, BTreeMap<String, Coverage>)> = BTreeMap::new();
    let mut used = Vec::new();
    for file in accepted {
        let mut touched = false;
        for e in enrollment::read(file.contents.as_bytes(), &Limits::default())? {
            if e.purpose != Purpose::Changes {
                held.clear();
                touched = true;
            }
            for m in e.members.iter().filter(|m| m.subscriber_id == subscriber_id) {
                touched = true;
                let name = format!("{} {}", m.name.first, m.name.last).trim().to_owned();
                let entry = held
                    .entry((m.relationship.code().to_owned(), name))
                    .or_insert_with(|| (m.relationship.clone(), BTreeMap::new()));
                for c in &m.coverages {
                    let slot = entry.1.entry(c.line.clone()).or_insert_with(|| c.clone());
                    match c.maintenance {
                        Maintenance::Terminate => {
                            slot.ends = c.ends.or(m.dates.eligibility_ends).or(slot.ends);
                        }
                        _ => {
                            let begins = c.begins.or(slot.begins);
                            *slot = Coverage { begins, ..c.clone() };
                        }
                    }
                }
                if m.maintenance == Maintenance::Terminate && m.coverages.is_empty() {
                    for slot in entry.1.values_mut() {
                        slot.ends = m.dates.eligibility_ends.or(slot.ends);
                    }
                }
            }
        }
        if touched {
            used.push(file.name.clone());
        }
    }
    let members = held
        .into_iter()
        .filter_map(|((_, name), (relationship, coverages))| {
            let coverages: Vec<Coverage> = coverages
                .into_values()
                .filter(|c| c.begins.is_none_or(|b| b <= on) && c.ends.is_none_or(|e| on <= e))
                .collect();
            (!coverages.is_empty()).then_some(CoveredMember { relationship, name, coverages })
        })
        .collect();
    Ok(Eligibility { subscriber_id: subscriber_id.to_owned(), on, members, files: used })
}
