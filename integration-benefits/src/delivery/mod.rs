//! Delivery to a carrier: files staged durably in the host's store, sent once to the carrier's
//! drop box, and the carrier's answers (acknowledgements, confirmation files) matched back.
//!
//! - [`DropBox`]: where files go and answers come from — [`SftpDropBox`] (feature `sftp`), or
//!   [`MemoryDropBox`] in one process.
//! - [`Outbox`]: stages a file under a key (the same key stages nothing twice), sends what is
//!   staged (a crash anywhere sends no file twice and skips none), reads the answers with an
//!   [`AnswerReader`] and records on each file whether the carrier accepted it.

mod answers;
mod memory;
mod outbox;
#[cfg(feature = "sftp")]
mod sftp;

use async_trait::async_trait;
use integration_core::Result;
use integration_core::residency::Placement;

pub use answers::{Answer, AnswerKey, AnswerReader, X12Answers};
pub use memory::MemoryDropBox;
pub use outbox::{DeliveryState, Outbox, OutboxStores, SendReport, Staged};
#[cfg(feature = "sftp")]
pub use sftp::{SftpAuth, SftpConfig, SftpDropBox};

/// A carrier's drop box: a folder files are put in, and a folder answers appear in.
#[async_trait]
pub trait DropBox: Send + Sync + std::fmt::Debug {
    /// Puts `contents` in the upload folder as `name`, all or nothing: written under a
    /// temporary name, then renamed. A [`Conflict`](integration_core::ErrorKind::Conflict) when
    /// `name` is already there.
    async fn put(&self, name: &str, contents: &[u8]) -> Result<()>;

    /// Whether `name` is in the upload folder.
    async fn exists(&self, name: &str) -> Result<bool>;

    /// The names of the files in the answers folder.
    async fn answers(&self) -> Result<Vec<String>>;

    /// One answer's contents (refused above the drop box's size limit).
    async fn answer(&self, name: &str) -> Result<Vec<u8>>;

    /// Where the drop box keeps what is put in it (checked against connections' regions).
    fn placement(&self) -> &Placement;
}

/// Whether `name` is a plain file name (no folder, no dot-file, printable ASCII).
pub(crate) fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 200
        && !name.starts_with('.')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(integration_core::Error::validation(
            "name",
            format!(
                "{name:?} is not a file name a drop box takes: letters, digits, '.', '_' and '-', not starting with '.'"
            ),
        ))
    }
}

/// Whether `name` can be an answer's name as a carrier wrote it: one file name (no folder, not
/// `.` or `..`, no control characters, not a dot-file such as a carrier's temporary upload),
/// spaces and punctuation allowed.
pub(crate) fn check_answer_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 255
        && !name.starts_with('.')
        && !name.chars().any(|c| c == '/' || c == '\\' || c.is_control());
    if ok {
        Ok(())
    } else {
        Err(integration_core::Error::validation(
            "name",
            format!("{name:?} is not the name of a file in the answers folder"),
        ))
    }
}
