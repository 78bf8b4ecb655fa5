//! CSV files whose columns are found by their titles: the answers carriers and providers send
//! (pension confirmations, claims reports), each read by a layout naming its columns.

use integration_core::{Error, Result};

/// A CSV file with a header row, read row by row.
pub(crate) struct Titled<'a> {
    reader: csv::Reader<&'a [u8]>,
    headers: csv::StringRecord,
    what: &'static str,
}

impl<'a> Titled<'a> {
    /// `contents` split on `delimiter`, cells trimmed, rows of any length; `what` names the file
    /// in errors (`"confirmation"`).
    pub(crate) fn open(contents: &'a [u8], delimiter: char, what: &'static str) -> Result<Self> {
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter as u8)
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(contents);
        let headers = reader
            .headers()
            .map_err(|e| Error::validation("header", format!("the {what}'s header row cannot be read: {e}")))?
            .clone();
        Ok(Self { reader, headers, what })
    }

    /// The position of the column titled `title` (without regard to case).
    pub(crate) fn column(&self, title: &str) -> Result<usize> {
        self.headers.iter().position(|h| h.eq_ignore_ascii_case(title)).ok_or_else(|| {
            Error::validation(
                title.to_owned(),
                format!(
                    "the {} has no column {title:?} (its columns: {:?})",
                    self.what,
                    self.headers.iter().collect::<Vec<_>>()
                ),
            )
        })
    }

    /// The rows after the header, each with its number (1-based).
    pub(crate) fn rows(&mut self) -> impl Iterator<Item = Result<(usize, csv::StringRecord)>> + '_ {
        self.reader.records().enumerate().map(|(n, row)| {
            let at = n + 1;
            row.map(|row| (at, row))
                .map_err(|e| Error::validation(format!("row {at}"), format!("row {at} cannot be read: {e}")))
        })
    }
}

/// The error for a cell of row `at` in `column`.
pub(crate) fn invalid(at: usize, column: &str, what: String) -> Error {
    Error::validation(format!("row {at}.{column}"), format!("row {at}: {what}"))
}
