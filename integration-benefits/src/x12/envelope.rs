//! The envelopes: `ISA`/`IEA` around an interchange, `GS`/`GE` around a functional group,
//! `ST`/`SE` around a transaction set — written with their counts and control numbers, and
//! checked when read.

use chrono::NaiveDateTime;

use super::{Delimiters, Interchange, Segment, X12Error};

/// Whether an interchange is real (`ISA15` = `P`) or a test (`T`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Usage {
    /// Production data (`P`).
    #[default]
    Production,
    /// Test data (`T`): the carrier validates it and keeps nothing.
    Test,
}

/// Who sends an interchange to whom (the `ISA` segment).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct InterchangeHeader {
    /// `ISA05`: the sender id's qualifier (`ZZ` mutually defined, `30` a US federal tax id).
    pub sender_qualifier: String,
    /// `ISA06`: the sender's id (up to 15 characters).
    pub sender_id: String,
    /// `ISA07`: the receiver id's qualifier.
    pub receiver_qualifier: String,
    /// `ISA08`: the receiver's id (up to 15 characters).
    pub receiver_id: String,
    /// `ISA14`: whether a `TA1` is asked for.
    pub ack_requested: bool,
    /// `ISA15`.
    pub usage: Usage,
}

/// A functional group's header (the `GS` segment).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GroupHeader {
    /// `GS01`: the functional identifier (`BE` for benefit enrollment).
    pub functional_id: String,
    /// `GS02`: the application sender's code.
    pub sender_code: String,
    /// `GS03`: the application receiver's code.
    pub receiver_code: String,
    /// `GS08` and `ST03`: the implementation guide's version (`005010X220A1`).
    pub version: String,
    /// `ST01`: the transaction set (`834`).
    pub set_id: String,
}

impl GroupHeader {
    /// A benefit enrollment group (`BE`, `834`, `005010X220A1`) from `sender` to `receiver`.
    pub fn enrollment(sender: impl Into<String>, receiver: impl Into<String>) -> Self {
        Self {
            functional_id: "BE".to_owned(),
            sender_code: sender.into(),
            receiver_code: receiver.into(),
            version: "005010X220A1".to_owned(),
            set_id: "834".to_owned(),
        }
    }
}

/// One transaction set read from a file: its `ST`, its body, its `SE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    /// `ST01` (`834`).
    pub set_id: String,
    /// `ST02`, the transaction set's control number.
    pub control: String,
    /// `ST03`, the implementation guide named.
    pub version: String,
    /// The segments between `ST` and `SE`.
    pub body: Vec<Segment>,
    /// The position in the file of the `ST` segment (1-based).
    pub position: usize,
}

/// One functional group read from a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// The `GS` segment.
    pub header: Segment,
    /// `GS06`, the group's control number.
    pub control: String,
    /// Its transaction sets.
    pub transactions: Vec<Transaction>,
}

/// An interchange's envelopes, read and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// The `ISA` segment.
    pub header: Segment,
    /// `ISA13`, the interchange's control number.
    pub control: String,
    /// Its functional groups.
    pub groups: Vec<Group>,
}

/// Wraps transaction bodies in `ST`/`SE`, a `GS`/`GE` and an `ISA`/`IEA`: `ISA13` is
/// `interchange_control` (nine digits), `GS06` is `group_control`, and each `ST02` counts from
/// `0001` within the group. `delimiters` gives `ISA11` and `ISA16`. `at` is the interchange's date and time.
///
/// # Errors
/// An [`X12Error`] when an id does not fit its `ISA` element or a control number is out of
/// range (1 to 999,999,999).
pub fn envelope(
    header: &InterchangeHeader,
    group: &GroupHeader,
    interchange_control: u32,
    group_control: u32,
    at: NaiveDateTime,
    delimiters: &Delimiters,
    bodies: &[Vec<Segment>],
) -> Result<Vec<Segment>, X12Error> {
    if !(1..=999_999_999).contains(&interchange_control) || !(1..=999_999_999).contains(&group_control) {
        return Err(X12Error::new("a control number is 1 to 999,999,999"));
    }
    let fixed = |n: usize, value: &str, width: usize| -> Result<String, X12Error> {
        if value.chars().count() > width || value.is_empty() {
            return Err(X12Error::at(1, "ISA", format!("{value:?} does not fit in {width} characters")).element(n));
        }
        Ok(format!("{value:<width$}"))
    };
    let isa = Segment::new("ISA")
        .el("00")
        .el(" ".repeat(10))
        .el("00")
        .el(" ".repeat(10))
        .el(fixed(5, &header.sender_qualifier, 2)?)
        .el(fixed(6, &header.sender_id, 15)?)
        .el(fixed(7, &header.receiver_qualifier, 2)?)
        .el(fixed(8, &header.receiver_id, 15)?)
        .el(at.format("%y%m%d").to_string())
        .el(at.format("%H%M").to_string())
        .el(delimiters.repetition.map_or_else(|| "U".to_owned(), String::from))
        .el("00501")
        .el(format!("{interchange_control:09}"))
        .el(if header.ack_requested { "1" } else { "0" })
        .el(match header.usage {
            Usage::Production => "P",
            Usage::Test => "T",
        })
        .el(delimiters.sub_element.to_string());
    let mut out = vec![
        isa,
        Segment::new("GS")
            .el(&group.functional_id)
            .el(&group.sender_code)
            .el(&group.receiver_code)
            .el(at.format("%Y%m%d").to_string())
            .el(at.format("%H%M").to_string())
            .el(group_control.to_string())
            .el("X")
            .el(&group.version),
    ];
    for (i, body) in bodies.iter().enumerate() {
        let control = format!("{:04}", i + 1);
        out.push(Segment::new("ST").el(&group.set_id).el(&control).el(&group.version));
        out.extend(body.iter().cloned());
        out.push(Segment::new("SE").el((body.len() + 2).to_string()).el(control));
    }
    out.push(Segment::new("GE").el(bodies.len().to_string()).el(group_control.to_string()));
    out.push(Segment::new("IEA").el("1").el(format!("{interchange_control:09}")));
    Ok(out)
}

/// Reads the envelopes of `interchange`, checking that every `ISA`/`GS`/`ST` is closed by its
/// `IEA`/`GE`/`SE` with the same control number and the right count.
///
/// # Errors
/// An [`X12Error`] naming the segment and element where the envelopes do not hold.
pub fn open(interchange: &Interchange) -> Result<Envelope, X12Error> {
    let segments = &interchange.segments;
    let Some(isa) = segments.first().filter(|s| s.id() == "ISA") else {
        return Err(X12Error::new("the file does not start with an ISA segment"));
    };
    let control = isa.element(13).trim().to_owned();
    let mut groups = Vec::new();
    let mut i = 1;
    let mut closed = false;
    while i < segments.len() {
        let s = &segments[i];
        let at = i + 1;
        match s.id() {
            "GS" => {
                let (group, next) = read_group(segments, i)?;
                groups.push(group);
                i = next;
                continue;
            }
            "IEA" => {
                if s.element(2).trim() != control {
                    return Err(X12Error::at(
                        at,
                        "IEA",
                        format!("closes interchange {:?} but ISA13 is {control:?}", s.element(2)),
                    )
                    .element(2));
                }
                if s.element(1).parse::<usize>().ok() != Some(groups.len()) {
                    return Err(X12Error::at(
                        at,
                        "IEA",
                        format!("counts {:?} groups but the interchange has {}", s.element(1), groups.len()),
                    )
                    .element(1));
                }
                closed = true;
                if i + 1 < segments.len() {
                    return Err(X12Error::at(
                        at + 1,
                        segments[i + 1].id(),
                        "a segment after the IEA (one interchange per file)",
                    ));
                }
                break;
            }
            other => return Err(X12Error::at(at, other, "expected a GS or the IEA here")),
        }
    }
    if !closed {
        return Err(X12Error::new("the file ends before its IEA segment"));
    }
    Ok(Envelope { header: isa.clone(), control, groups })
}

fn read_group(segments: &[Segment], start: usize) -> Result<(Group, usize), X12Error> {
    let gs = &segments[start];
    let control = gs.element(6).to_owned();
    let mut transactions = Vec::new();
    let mut i = start + 1;
    while let Some(s) = segments.get(i) {
        let at = i + 1;
        match s.id() {
            "ST" => {
                let end = segments[i + 1..]
                    .iter()
                    .position(|s| matches!(s.id(), "SE" | "ST" | "GE" | "IEA"))
                    .map(|p| p + i + 1)
                    .filter(|&e| segments[e].id() == "SE")
                    .ok_or_else(|| X12Error::at(at, "ST", "this transaction set has no SE"))?;
                let se = &segments[end];
                if se.element(2) != s.element(2) {
                    return Err(X12Error::at(
                        end + 1,
                        "SE",
                        format!("closes transaction set {:?} but its ST02 is {:?}", se.element(2), s.element(2)),
                    )
                    .element(2));
                }
                let count = end - i + 1;
                if se.element(1).parse::<usize>().ok() != Some(count) {
                    return Err(X12Error::at(
                        end + 1,
                        "SE",
                        format!("counts {:?} segments but the transaction set has {count}", se.element(1)),
                    )
                    .element(1));
                }
                transactions.push(Transaction {
                    set_id: s.element(1).to_owned(),
                    control: s.element(2).to_owned(),
                    version: s.element(3).to_owned(),
                    body: segments[i + 1..end].to_vec(),
                    position: at,
                });
                i = end + 1;
            }
            "GE" => {
                if s.element(2) != control {
                    return Err(X12Error::at(
                        at,
                        "GE",
                        format!("closes group {:?} but its GS06 is {control:?}", s.element(2)),
                    )
                    .element(2));
                }
                if s.element(1).parse::<usize>().ok() != Some(transactions.len()) {
                    return Err(X12Error::at(
                        at,
                        "GE",
                        format!("counts {:?} transaction sets but the group has {}", s.element(1), transactions.len()),
                    )
                    .element(1));
                }
                return Ok((Group { header: gs.clone(), control, transactions }, i + 1));
            }
            other => return Err(X12Error::at(at, other, "expected an ST or the GE here")),
        }
    }
    Err(X12Error::at(start + 1, "GS", "this group has no GE"))
}
