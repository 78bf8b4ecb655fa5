//! The carrier's answers: what each says about which file.

use integration_core::Result;

use crate::x12::{self, AckStatus, FunctionalAck, InterchangeAck, Limits};

/// Which sent file an answer is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnswerKey {
    /// The file's control number (an 834's `ISA13` / `GS06`).
    Control(u32),
    /// The file's name.
    FileName(String),
}

/// What an answer says about one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The file it is about.
    pub key: AnswerKey,
    /// Accepted or not.
    pub status: AckStatus,
    /// Why not, or what was noted: each line names the segment and element (or the record and
    /// field) at fault.
    pub notes: Vec<String>,
    /// Whether this answer settles the file (a 999 does; a TA1 only says the envelope was
    /// read, unless it rejects).
    pub is_final: bool,
}

/// Reads one kind of answer file.
pub trait AnswerReader: Send + Sync + std::fmt::Debug {
    /// The answers in the file named `name`; an empty list for a file that is not this kind
    /// of answer.
    ///
    /// # Errors
    /// A [`Validation`](integration_core::ErrorKind::Validation) error for a file of this kind
    /// that cannot be read (kept with its raw text by the [`Outbox`](super::Outbox)).
    fn read(&self, name: &str, contents: &[u8]) -> Result<Vec<Answer>>;
}

/// Reads X12 acknowledgements: `TA1` and `999` (or `997`).
#[derive(Debug, Clone, Copy, Default)]
pub struct X12Answers;

impl AnswerReader for X12Answers {
    fn read(&self, _name: &str, contents: &[u8]) -> Result<Vec<Answer>> {
        if !contents.trim_ascii_start().starts_with(b"ISA") {
            return Ok(Vec::new());
        }
        let interchange = x12::read(contents, &Limits::default())?;
        let mut out = Vec::new();
        for ta1 in InterchangeAck::read_all(&interchange)? {
            let Ok(control) = ta1.control.parse() else { continue };
            let notes = if ta1.note_code == "000" {
                Vec::new()
            } else {
                vec![format!("TA1 {}: {}", ta1.note_code, ta1.note())]
            };
            out.push(Answer {
                key: AnswerKey::Control(control),
                status: ta1.status,
                notes,
                is_final: !ta1.status.is_accepted(),
            });
        }
        for group in FunctionalAck::read_all(&interchange)? {
            let Ok(control) = group.group_control.parse() else { continue };
            let mut notes = Vec::new();
            for tx in &group.transactions {
                for note in &tx.segments {
                    notes.push(format!("transaction set {}: {note}", tx.control));
                }
                if !tx.status.is_accepted() && tx.segments.is_empty() {
                    notes.push(format!("transaction set {} rejected (codes {:?})", tx.control, tx.codes));
                }
            }
            out.push(Answer { key: AnswerKey::Control(control), status: group.status, notes, is_final: true });
        }
        Ok(out)
    }
}
