//! The enrollment model: one 834 transaction set as Rust values.

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

/// What a file says about the members it lists (`BGN08`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// `2`: changes only — additions, changes, terminations, reinstatements.
    #[default]
    Changes,
    /// `RX`: a full file that replaces what the carrier holds for the group.
    Replace,
    /// `4`: a full file for the carrier to compare with what it holds, changing nothing.
    Verify,
}

impl Purpose {
    /// Its `BGN08` code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Changes => "2",
            Self::Replace => "RX",
            Self::Verify => "4",
        }
    }

    pub(crate) fn from_code(code: &str) -> Option<Self> {
        Some(match code {
            "2" => Self::Changes,
            "RX" => Self::Replace,
            "4" => Self::Verify,
            _ => return None,
        })
    }
}

/// A maintenance action on a member (`INS03`) or one of their coverages (`HD01`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Maintenance {
    /// `021`: a new member or coverage.
    #[default]
    Add,
    /// `001`: a change to a member or coverage.
    Change,
    /// `024`: a termination (cancellation) of a member or coverage.
    Terminate,
    /// `025`: a terminated member or coverage reinstated.
    Reinstate,
    /// `030`: as held, for comparison (full files).
    Audit,
}

impl Maintenance {
    /// Its `INS03` / `HD01` code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Change => "001",
            Self::Add => "021",
            Self::Terminate => "024",
            Self::Reinstate => "025",
            Self::Audit => "030",
        }
    }

    pub(crate) fn from_code(code: &str) -> Option<Self> {
        Some(match code {
            "001" => Self::Change,
            "021" => Self::Add,
            "024" => Self::Terminate,
            "025" => Self::Reinstate,
            "030" => Self::Audit,
            _ => return None,
        })
    }
}

/// How a member relates to the subscriber (`INS02`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Relationship {
    /// `18`: the employee (subscriber) themself.
    #[default]
    Subscriber,
    /// `01`: spouse.
    Spouse,
    /// `53`: life partner.
    LifePartner,
    /// `19`: child.
    Child,
    /// Any other `INS02` code (`15` ward, `17` stepchild, …).
    Other(String),
}

impl Relationship {
    /// Its `INS02` code.
    pub fn code(&self) -> &str {
        match self {
            Self::Subscriber => "18",
            Self::Spouse => "01",
            Self::LifePartner => "53",
            Self::Child => "19",
            Self::Other(code) => code,
        }
    }

    pub(crate) fn from_code(code: &str) -> Self {
        match code {
            "18" => Self::Subscriber,
            "01" => Self::Spouse,
            "53" => Self::LifePartner,
            "19" => Self::Child,
            other => Self::Other(other.to_owned()),
        }
    }
}

/// A member's sex as carriers record it (`DMG03`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Gender {
    /// `F`.
    Female,
    /// `M`.
    Male,
    /// `U`: not known or not reported.
    #[default]
    Unknown,
}

impl Gender {
    /// Its `DMG03` code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Female => "F",
            Self::Male => "M",
            Self::Unknown => "U",
        }
    }
}

/// The sponsor (`N1*P5`, the employer) or the insurer (`N1*IN`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Party {
    /// `N102`.
    pub name: String,
    /// `N103`: the id's qualifier (`FI` a tax id, `94` a code the carrier assigned, `24` an
    /// employer id, `XV` a plan id).
    pub id_qualifier: String,
    /// `N104`.
    pub id: String,
}

/// A person's name (`NM1*IL`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PersonName {
    /// `NM103`.
    pub last: String,
    /// `NM104`.
    pub first: String,
    /// `NM105`.
    pub middle: Option<String>,
}

/// A postal address (`N3` / `N4`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Address {
    /// `N301`.
    pub line1: String,
    /// `N302`.
    pub line2: Option<String>,
    /// `N401`.
    pub city: String,
    /// `N402`: state or province code (`ON`, `QC`, `IL`).
    pub region: Option<String>,
    /// `N403`.
    pub postal_code: Option<String>,
    /// `N404`: the country, when not the United States (`CA`).
    pub country: Option<String>,
}

/// The dates of a member (the 2000 loop's `DTP` segments).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MemberDates {
    /// `DTP*336`: employment began.
    pub hired: Option<NaiveDate>,
    /// `DTP*337`: employment ended.
    pub employment_ended: Option<NaiveDate>,
    /// `DTP*356`: eligibility begins.
    pub eligibility_begins: Option<NaiveDate>,
    /// `DTP*357`: eligibility ends.
    pub eligibility_ends: Option<NaiveDate>,
    /// `DTP*303`: the maintenance takes effect.
    pub maintenance_effective: Option<NaiveDate>,
}

/// One coverage of a member (loop 2300, `HD`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Coverage {
    /// `HD01`.
    pub maintenance: Maintenance,
    /// `HD03`: the insurance line (`HLT` health, `DEN` dental, `VIS` vision, `LTD` long-term
    /// disability, `STD` short-term disability, …).
    pub line: String,
    /// `HD04`: the plan, as the carrier names it.
    pub plan: Option<String>,
    /// `HD05`: the coverage tier (`EMP` employee only, `ESP` employee and spouse, `ECH`
    /// employee and children, `FAM` family, …).
    pub tier: Option<String>,
    /// `DTP*348`: the benefit begins.
    pub begins: Option<NaiveDate>,
    /// `DTP*349`: the benefit ends.
    pub ends: Option<NaiveDate>,
    /// `DTP*303`: the change takes effect.
    pub maintenance_effective: Option<NaiveDate>,
    /// Segments of the coverage the model does not hold (`AMT`, `REF`, the 2310 and 2320
    /// loops…), as written with the default delimiters: kept, and written back after the
    /// coverage's dates.
    pub unmodelled: Vec<String>,
}

/// One member: the subscriber (the employee) or a dependent (the 2000 loop).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Member {
    /// `REF*0F`: the subscriber's id, on the subscriber and each of their dependents.
    pub subscriber_id: String,
    /// `INS02`.
    pub relationship: Relationship,
    /// `INS03`.
    pub maintenance: Maintenance,
    /// `INS04`: the reason (`28` initial enrollment, `08` end of employment, `AI` none
    /// given, …); the carrier profile's default for the maintenance when `None`.
    pub reason: Option<String>,
    /// `INS05`: `A` active (the default), `C` COBRA, `S` surviving insured, `T` tax equity.
    pub benefit_status: Option<String>,
    /// `INS06`: Medicare plan (`A`, `B`, `C`, `D`, `E`).
    pub medicare: Option<String>,
    /// `INS07`: the COBRA qualifying event.
    pub cobra_event: Option<String>,
    /// `INS08`: employment status (`FT` full-time, `PT` part-time, `TE` terminated, `L1`
    /// leave of absence, `RT` retired, `AC` active).
    pub employment_status: Option<String>,
    /// `INS09`: student status (`F` full-time, `P` part-time, `N` not a student).
    pub student: Option<String>,
    /// `INS10`: handicapped (`Y` / `N`).
    pub handicapped: Option<String>,
    /// `INS17`: the birth sequence (twins, triplets).
    pub birth_sequence: Option<String>,
    /// `REF*1L`: the group or policy number.
    pub policy: Option<String>,
    /// Other member references (`REF*17`, `REF*ZZ`, …) as qualifier and value.
    pub references: Vec<(String, String)>,
    /// The member's dates.
    pub dates: MemberDates,
    /// Other member dates (`DTP` qualifier and date: `050` received, `286` retired, …).
    pub other_dates: Vec<(String, NaiveDate)>,
    /// `NM1*IL`.
    pub name: PersonName,
    /// `NM109` with `NM108` = `34`: a social security or insurance number.
    pub national_id: Option<String>,
    /// `PER*IP`: a telephone number.
    pub phone: Option<String>,
    /// `PER*IP`: an email address.
    pub email: Option<String>,
    /// `N3` / `N4`.
    pub address: Option<Address>,
    /// `DMG02`.
    pub birth_date: Option<NaiveDate>,
    /// `DMG03`.
    pub gender: Gender,
    /// `DMG04`: marital status (`M`, `I` single, `D`, `W`, `B`, `R`, `S`, `U`, `X`).
    pub marital_status: Option<String>,
    /// Loop 2300.
    pub coverages: Vec<Coverage>,
    /// Segments of the member the model does not hold (`EC`, `ICM`, `AMT`, `HLH`, `LUI`, the
    /// 2100B–2100H and 2200 loops…), as written with the default delimiters: kept, and written
    /// back before the coverages. Elements beyond those modelled in segments the model reads
    /// (`N405`–`N407`, `DMG05` and later, `NM106`–`NM107`) are not kept.
    pub unmodelled: Vec<String>,
}

/// One enrollment transaction: the header, and the members in order — each subscriber followed
/// by their dependents.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Enrollment {
    /// `BGN02`: the sender's reference for this file.
    pub reference: String,
    /// `BGN03` / `BGN04`.
    pub created: NaiveDateTime,
    /// `BGN08`.
    pub purpose: Purpose,
    /// `REF*38`: the master policy number.
    pub master_policy: Option<String>,
    /// `DTP*007`: the file's effective date (full files).
    pub effective: Option<NaiveDate>,
    /// `N1*P5`.
    pub sponsor: Party,
    /// `N1*IN`.
    pub insurer: Party,
    /// Loop 2000.
    pub members: Vec<Member>,
}
