//! Acknowledgements: the `TA1` (the interchange arrived, and its envelope could be read) and the
//! `999` implementation acknowledgement (or the older `997`): each group and transaction set
//! accepted or rejected, with the segment and element at fault.

use std::fmt;

use super::{Interchange, Segment, X12Error};

/// What an acknowledgement says of what it acknowledges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AckStatus {
    /// `A`: accepted.
    Accepted,
    /// `E`: accepted, with errors noted.
    AcceptedWithErrors,
    /// `P`: some of a group's transaction sets accepted, some rejected.
    PartiallyAccepted,
    /// `R`, `M`, `W`, `X`: rejected.
    Rejected,
}

impl AckStatus {
    fn parse(code: &str) -> Option<Self> {
        Some(match code {
            "A" => Self::Accepted,
            "E" => Self::AcceptedWithErrors,
            "P" => Self::PartiallyAccepted,
            "R" | "M" | "W" | "X" => Self::Rejected,
            _ => return None,
        })
    }

    /// Whether the receiver kept what was sent (accepted, possibly with errors noted).
    pub fn is_accepted(self) -> bool {
        matches!(self, Self::Accepted | Self::AcceptedWithErrors)
    }
}

/// A `TA1` interchange acknowledgement.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct InterchangeAck {
    /// `TA101`: the acknowledged interchange's control number (`ISA13`).
    pub control: String,
    /// `TA104`: `A`, `E` or `R`.
    pub status: AckStatus,
    /// `TA105`: the note code (`000` for no error).
    pub note_code: String,
}

impl InterchangeAck {
    /// Every `TA1` segment in `interchange`.
    ///
    /// # Errors
    /// An [`X12Error`] naming a `TA1` whose status is not `A`, `E` or `R`.
    pub fn read_all(interchange: &Interchange) -> Result<Vec<Self>, X12Error> {
        let mut out = Vec::new();
        for (i, s) in interchange.segments.iter().enumerate().filter(|(_, s)| s.id() == "TA1") {
            let status = AckStatus::parse(s.element(4))
                .ok_or_else(|| X12Error::at(i + 1, "TA1", format!("unknown status {:?}", s.element(4))).element(4))?;
            out.push(Self { control: s.element(1).trim().to_owned(), status, note_code: s.element(5).to_owned() });
        }
        Ok(out)
    }

    /// The note code's meaning.
    pub fn note(&self) -> &'static str {
        interchange_note_text(&self.note_code)
    }
}

/// A `999` (or `997`) functional acknowledgement of one group.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FunctionalAck {
    /// `AK101`: the acknowledged group's functional identifier (`BE`).
    pub functional_id: String,
    /// `AK102`: the acknowledged group's control number (`GS06`).
    pub group_control: String,
    /// `AK901`.
    pub status: AckStatus,
    /// `AK902`, `AK903`, `AK904`: transaction sets included, received and accepted.
    pub counts: (u32, u32, u32),
    /// One per acknowledged transaction set.
    pub transactions: Vec<TransactionAck>,
}

/// The acknowledgement of one transaction set (`AK2` … `IK5`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TransactionAck {
    /// `AK201` (`834`).
    pub set_id: String,
    /// `AK202`: the acknowledged `ST02`.
    pub control: String,
    /// `IK501`.
    pub status: AckStatus,
    /// `IK502`…: the syntax error codes.
    pub codes: Vec<String>,
    /// The segments at fault (`IK3`, with their `IK4`).
    pub segments: Vec<SegmentNote>,
}

/// A segment at fault (`IK3`, or `AK3` in a `997`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SegmentNote {
    /// `IK301`: its id.
    pub segment_id: String,
    /// `IK302`: its position in the transaction set (`ST` is 1).
    pub position: usize,
    /// `IK303`: the loop it is in, when given.
    pub loop_id: Option<String>,
    /// `IK304`: the error code, when the segment itself is at fault.
    pub code: Option<String>,
    /// The elements at fault (`IK4`).
    pub elements: Vec<ElementNote>,
}

/// An element at fault (`IK4`, or `AK4` in a `997`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ElementNote {
    /// `IK401-1`: its position in the segment.
    pub position: usize,
    /// `IK401-2`: the component, in a composite.
    pub component: Option<usize>,
    /// `IK402`: the data element's reference number, when given.
    pub reference: Option<String>,
    /// `IK403`: the error code.
    pub code: String,
    /// `IK404`: the value at fault, when given.
    pub bad_value: Option<String>,
}

impl FunctionalAck {
    /// Every `999` / `997` group acknowledgement in `interchange`.
    ///
    /// # Errors
    /// An [`X12Error`] naming a segment whose required element is missing or unreadable.
    pub fn read_all(interchange: &Interchange) -> Result<Vec<Self>, X12Error> {
        let mut out = Vec::new();
        let mut current: Option<Self> = None;
        for (i, s) in interchange.segments.iter().enumerate() {
            let at = i + 1;
            match s.id() {
                "AK1" => {
                    current = Some(Self {
                        functional_id: s.element(1).to_owned(),
                        group_control: s.element(2).to_owned(),
                        status: AckStatus::Rejected,
                        counts: (0, 0, 0),
                        transactions: Vec::new(),
                    });
                }
                "AK2" => {
                    let group = open_group(&mut current, at, "AK2")?;
                    group.transactions.push(TransactionAck {
                        set_id: s.element(1).to_owned(),
                        control: s.element(2).to_owned(),
                        status: AckStatus::Rejected,
                        codes: Vec::new(),
                        segments: Vec::new(),
                    });
                }
                "IK3" | "AK3" => {
                    let tx = open_transaction(&mut current, at, s.id())?;
                    tx.segments.push(SegmentNote {
                        segment_id: s.element(1).to_owned(),
                        position: number(s, at, 2)?,
                        loop_id: s.get(3).map(str::to_owned),
                        code: s.get(4).map(str::to_owned),
                        elements: Vec::new(),
                    });
                }
                "IK4" | "AK4" => {
                    let id = s.id().to_owned();
                    let tx = open_transaction(&mut current, at, &id)?;
                    let note = tx
                        .segments
                        .last_mut()
                        .ok_or_else(|| X12Error::at(at, &id, "an element note before any segment note"))?;
                    let position = s.component(1, 1).parse().map_err(|_| {
                        X12Error::at(at, &id, format!("{:?} is not an element position", s.element(1))).element(1)
                    })?;
                    note.elements.push(ElementNote {
                        position,
                        component: s.component(1, 2).parse().ok(),
                        reference: s.get(2).map(str::to_owned),
                        code: s.element(3).to_owned(),
                        bad_value: s.get(4).map(str::to_owned),
                    });
                }
                "IK5" | "AK5" => {
                    let id = s.id().to_owned();
                    let tx = open_transaction(&mut current, at, &id)?;
                    tx.status = AckStatus::parse(s.element(1)).ok_or_else(|| {
                        X12Error::at(at, &id, format!("unknown status {:?}", s.element(1))).element(1)
                    })?;
                    tx.codes = (2..=6).filter_map(|n| s.get(n)).map(str::to_owned).collect();
                }
                "AK9" => {
                    let mut group = current.take().ok_or_else(|| X12Error::at(at, "AK9", "an AK9 without its AK1"))?;
                    group.status = AckStatus::parse(s.element(1)).ok_or_else(|| {
                        X12Error::at(at, "AK9", format!("unknown status {:?}", s.element(1))).element(1)
                    })?;
                    group.counts = (number(s, at, 2)? as u32, number(s, at, 3)? as u32, number(s, at, 4)? as u32);
                    out.push(group);
                }
                _ => {}
            }
        }
        if current.is_some() {
            return Err(X12Error::new("an AK1 group acknowledgement has no AK9"));
        }
        Ok(out)
    }
}

fn open_group<'a>(
    current: &'a mut Option<FunctionalAck>,
    at: usize,
    id: &str,
) -> Result<&'a mut FunctionalAck, X12Error> {
    current.as_mut().ok_or_else(|| X12Error::at(at, id, "outside an AK1 group acknowledgement"))
}

fn open_transaction<'a>(
    current: &'a mut Option<FunctionalAck>,
    at: usize,
    id: &str,
) -> Result<&'a mut TransactionAck, X12Error> {
    open_group(current, at, id)?
        .transactions
        .last_mut()
        .ok_or_else(|| X12Error::at(at, id, "outside an AK2 transaction set acknowledgement"))
}

fn number(s: &Segment, at: usize, n: usize) -> Result<usize, X12Error> {
    s.element(n)
        .trim()
        .parse()
        .map_err(|_| X12Error::at(at, s.id(), format!("{:?} is not a number", s.element(n))).element(n))
}

impl fmt::Display for SegmentNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "segment {} at position {}", self.segment_id, self.position)?;
        if let Some(l) = &self.loop_id {
            write!(f, " (loop {l})")?;
        }
        if let Some(code) = &self.code {
            write!(f, ": {} ({code})", segment_error_text(code))?;
        }
        for e in &self.elements {
            write!(f, "; element {}{:02}", self.segment_id, e.position)?;
            if let Some(c) = e.component {
                write!(f, "-{c}")?;
            }
            write!(f, ": {} ({})", element_error_text(&e.code), e.code)?;
            if let Some(v) = &e.bad_value {
                write!(f, ", value {v:?}")?;
            }
        }
        Ok(())
    }
}

/// The meaning of a segment error code (`IK304` / `AK304`).
pub fn segment_error_text(code: &str) -> &'static str {
    match code {
        "1" => "unrecognized segment id",
        "2" => "unexpected segment",
        "3" => "required segment missing",
        "4" => "loop occurs over maximum times",
        "5" => "segment exceeds maximum use",
        "6" => "segment not in defined transaction set",
        "7" => "segment not in proper sequence",
        "8" => "segment has data element errors",
        "I4" => "implementation \"not used\" segment present",
        "I6" => "implementation dependent segment missing",
        "I7" => "implementation loop occurs under minimum times",
        "I8" => "implementation segment below minimum use",
        "I9" => "implementation dependent \"not used\" segment present",
        _ => "unknown segment error",
    }
}

/// The meaning of an element error code (`IK403` / `AK403`).
pub fn element_error_text(code: &str) -> &'static str {
    match code {
        "1" => "required data element missing",
        "2" => "conditional required data element missing",
        "3" => "too many data elements",
        "4" => "data element too short",
        "5" => "data element too long",
        "6" => "invalid character in data element",
        "7" => "invalid code value",
        "8" => "invalid date",
        "9" => "invalid time",
        "10" => "exclusion condition violated",
        "12" => "too many repetitions",
        "13" => "too many components",
        "I6" => "code value not used in implementation",
        "I9" => "implementation dependent data element missing",
        "I10" => "implementation \"not used\" data element present",
        "I11" => "implementation too few repetitions",
        "I12" => "implementation pattern match failure",
        "I13" => "implementation dependent \"not used\" data element present",
        _ => "unknown element error",
    }
}

/// The meaning of a `TA1` note code (`TA105`).
fn interchange_note_text(code: &str) -> &'static str {
    match code {
        "000" => "no error",
        "001" => "the interchange control numbers in the header and trailer do not match",
        "002" => "this standard is not supported",
        "003" => "this version of the controls is not supported",
        "004" => "the segment terminator is invalid",
        "005" => "invalid interchange id qualifier for the sender",
        "006" => "invalid interchange sender id",
        "007" => "invalid interchange id qualifier for the receiver",
        "008" => "invalid interchange receiver id",
        "009" => "unknown interchange receiver id",
        "010" | "011" => "invalid authorization information",
        "012" | "013" => "invalid security information",
        "014" => "invalid interchange date",
        "015" => "invalid interchange time",
        "016" => "invalid interchange standards identifier",
        "017" => "invalid interchange version id",
        "018" => "invalid interchange control number",
        "019" => "invalid acknowledgment requested value",
        "020" => "invalid test indicator value",
        "021" => "invalid number of included groups",
        "022" => "invalid control structure",
        "023" => "improper (premature) end of file",
        "024" => "invalid interchange content",
        "025" => "duplicate interchange control number",
        "026" => "invalid data element separator",
        "027" => "invalid component element separator",
        _ => "unknown note code",
    }
}
