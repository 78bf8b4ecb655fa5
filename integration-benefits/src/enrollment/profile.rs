//! Carrier profiles: what one carrier's companion guide asks of an 834, as data.
//!
//! The 005010X220A1 implementation guide leaves choices to each carrier — which reason codes,
//! which references on every member, whether a national id or an address is required, which
//! delimiters, how files are named. A [`CarrierProfile`] holds those choices; it deserializes
//! from JSON or TOML so a host can keep one per carrier without code.
//!
//! Sun Life and Manulife give their companion guides to plan sponsors under agreement, not to
//! the public: [`CarrierProfile::sun_life`] and [`CarrierProfile::manulife`] hold what is
//! common to Canadian group carriers (national id not sent, addresses with a province and
//! country, `*`/`:`/`~` delimiters, a TA1 asked for) and say so in [`Guide`]; change any field
//! to what the carrier's guide for your group says.

use serde::{Deserialize, Serialize};

use super::{Maintenance, Party, Purpose};
use crate::x12::{Delimiters, Usage};

/// Where a profile's rules come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Guide {
    /// Whether the carrier publishes its companion guide.
    pub public: bool,
    /// What the profile follows: the guide's title and version, or why there is none.
    pub reference: String,
}

/// The default `INS04` reason code for each maintenance, used when a member gives none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reasons {
    /// Additions (`28` initial enrollment).
    pub add: String,
    /// Changes (`AI` no reason given).
    pub change: String,
    /// Terminations (`07` termination of benefits).
    pub terminate: String,
    /// Reinstatements (`41` re-enrollment).
    pub reinstate: String,
    /// Members listed as held, in full files (`XN` notification only).
    pub audit: String,
}

impl Default for Reasons {
    fn default() -> Self {
        Self {
            add: "28".into(),
            change: "AI".into(),
            terminate: "07".into(),
            reinstate: "41".into(),
            audit: "XN".into(),
        }
    }
}

impl Reasons {
    /// The default reason for `maintenance`.
    pub fn for_maintenance(&self, maintenance: Maintenance) -> &str {
        match maintenance {
            Maintenance::Add => &self.add,
            Maintenance::Change => &self.change,
            Maintenance::Terminate => &self.terminate,
            Maintenance::Reinstate => &self.reinstate,
            Maintenance::Audit => &self.audit,
        }
    }
}

/// One carrier's 834 rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CarrierProfile {
    /// The carrier's name, for messages and file names.
    pub carrier: String,
    /// Where the rules come from.
    pub guide: Guide,
    /// `ISA07`.
    pub receiver_qualifier: String,
    /// `ISA08`: the carrier's interchange id.
    pub receiver_id: String,
    /// `GS03`: the carrier's application code.
    pub application_receiver: String,
    /// `N1*IN`: the insurer as the carrier wants it named.
    pub insurer: Party,
    /// The delimiters the carrier reads.
    pub delimiters: Delimiters,
    /// `ISA15`.
    pub usage: Usage,
    /// `ISA14`: whether a `TA1` is asked for.
    pub ack_requested: bool,
    /// Default `INS04` reasons.
    pub reasons: Reasons,
    /// `BGN08` of full files: [`Purpose::Replace`] or [`Purpose::Verify`].
    pub full_file_purpose: Purpose,
    /// Whether full files carry `QTY` totals of employees, dependents and members.
    pub counts_in_full_files: bool,
    /// Whether every member must carry a national id (`NM108` = `34`).
    pub require_national_id: bool,
    /// Whether every member must carry a birth date (`DMG`).
    pub require_birth_date: bool,
    /// Whether subscribers must carry an address (`N3` / `N4`).
    pub require_subscriber_address: bool,
    /// `REF` qualifiers every member must carry besides `0F` (`1L`, `17`, …).
    pub member_references: Vec<String>,
    /// Whether names and addresses are written in capitals.
    pub uppercase: bool,
    /// The most members in one file; larger batches are refused (`None`: no limit).
    pub max_members: Option<usize>,
    /// The file name: `{sender}`, `{receiver}`, `{control}` (nine digits) and `{date}`
    /// (`CCYYMMDD`) are replaced.
    pub file_name: String,
}

impl Default for CarrierProfile {
    /// The implementation guide's own rules and no more.
    fn default() -> Self {
        Self {
            carrier: "carrier".into(),
            guide: Guide { public: true, reference: "ASC X12 005010X220A1 implementation guide".into() },
            receiver_qualifier: "ZZ".into(),
            receiver_id: "CARRIER".into(),
            application_receiver: "CARRIER".into(),
            insurer: Party { name: "CARRIER".into(), id_qualifier: "FI".into(), id: "000000000".into() },
            delimiters: Delimiters::default(),
            usage: Usage::Production,
            ack_requested: true,
            reasons: Reasons::default(),
            full_file_purpose: Purpose::Replace,
            counts_in_full_files: true,
            require_national_id: false,
            require_birth_date: true,
            require_subscriber_address: false,
            member_references: Vec::new(),
            uppercase: true,
            max_members: None,
            file_name: "{sender}_{receiver}_{date}_{control}.834".into(),
        }
    }
}

impl CarrierProfile {
    fn canadian_group_carrier(carrier: &str, receiver_id: &str) -> Self {
        Self {
            carrier: carrier.into(),
            guide: Guide {
                public: false,
                reference: format!(
                    "{carrier}'s 834 companion guide is given to plan sponsors under agreement and is not public: \
                     this profile holds what Canadian group carriers commonly ask (no national id, a policy number \
                     on every member, subscriber addresses with province and country); check each field against \
                     the guide for your group"
                ),
            },
            receiver_qualifier: "ZZ".into(),
            receiver_id: receiver_id.into(),
            application_receiver: receiver_id.into(),
            insurer: Party { name: carrier.to_uppercase(), id_qualifier: "94".into(), id: receiver_id.into() },
            require_national_id: false,
            require_subscriber_address: true,
            member_references: vec!["1L".into()],
            full_file_purpose: Purpose::Verify,
            ..Self::default()
        }
    }

    /// Sun Life (Canada) group benefits. Its guide is not public: see the module docs.
    pub fn sun_life() -> Self {
        Self::canadian_group_carrier("Sun Life", "SUNLIFE")
    }

    /// Manulife group benefits. Its guide is not public: see the module docs.
    pub fn manulife() -> Self {
        Self::canadian_group_carrier("Manulife", "MANULIFE")
    }

    /// The name of the file carrying interchange `control` from `sender` on `date`.
    pub fn file_name_for(&self, sender: &str, control: u32, date: chrono::NaiveDate) -> String {
        let safe =
            |s: &str| s.trim().chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect::<String>();
        self.file_name
            .replace("{sender}", &safe(sender))
            .replace("{receiver}", &safe(&self.receiver_id))
            .replace("{control}", &format!("{control:09}"))
            .replace("{date}", &date.format("%Y%m%d").to_string())
    }
}

/// Who sends the files: the plan sponsor (the employer) and its interchange ids.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sender {
    /// `ISA05`.
    pub qualifier: String,
    /// `ISA06`.
    pub id: String,
    /// `GS02`.
    pub application_sender: String,
    /// `N1*P5`: the sponsor.
    pub sponsor: Party,
}
