//! What is wrong with an X12 file, and where.

use std::fmt;

/// A file that cannot be read or written, with the segment (its 1-based position in the file
/// and its id) and element (1-based) at fault when there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct X12Error {
    /// The segment's 1-based position in the interchange (`ISA` is 1).
    pub position: Option<usize>,
    /// The segment's id (`INS`).
    pub segment: Option<String>,
    /// The element's 1-based position in the segment (`INS03` is 3).
    pub element: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl X12Error {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self { position: None, segment: None, element: None, message: message.into() }
    }

    pub(crate) fn at(position: usize, segment: &str, message: impl Into<String>) -> Self {
        Self { position: Some(position), segment: Some(segment.to_owned()), element: None, message: message.into() }
    }

    pub(crate) fn in_segment(segment: &str, message: impl Into<String>) -> Self {
        Self { position: None, segment: Some(segment.to_owned()), element: None, message: message.into() }
    }

    pub(crate) fn element(mut self, element: usize) -> Self {
        self.element = Some(element);
        self
    }
}

impl fmt::Display for X12Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.segment, self.position, self.element) {
            (Some(id), Some(at), Some(el)) => write!(f, "segment {at} ({id}), element {id}{el:02}: {}", self.message),
            (Some(id), Some(at), None) => write!(f, "segment {at} ({id}): {}", self.message),
            (Some(id), None, Some(el)) => write!(f, "{id}{el:02}: {}", self.message),
            (Some(id), None, None) => write!(f, "{id}: {}", self.message),
            _ => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for X12Error {}

impl From<X12Error> for integration_core::Error {
    fn from(e: X12Error) -> Self {
        let field = match (&e.segment, e.element) {
            (Some(id), Some(el)) => format!("{id}{el:02}"),
            (Some(id), None) => id.clone(),
            _ => "x12".to_owned(),
        };
        integration_core::Error::validation(field, e.to_string())
    }
}
