//! The tolerant reader: whatever delimiters the `ISA` declares, line breaks or none between
//! segments, a byte-order mark, trailing blanks — and a clear error naming the segment for
//! anything it cannot make sense of.

use super::segment::Element;
use super::{Delimiters, Segment, X12Error};

/// Bounds on what [`read`] accepts, so an untrusted file costs bounded time and memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest file, in bytes (64 MiB by default: a full file of 100,000 members is about
    /// 40 MiB).
    pub max_bytes: usize,
    /// The most segments (2,000,000 by default).
    pub max_segments: usize,
    /// The most elements in one segment (512 by default; the 834's longest has 20).
    pub max_elements: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_bytes: 64 << 20, max_segments: 2_000_000, max_elements: 512 }
    }
}

/// A file read: its delimiters and its segments in order, `ISA` first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interchange {
    /// The delimiters its `ISA` declared.
    pub delimiters: Delimiters,
    /// Every segment, `ISA` to `IEA`.
    pub segments: Vec<Segment>,
}

/// Reads an interchange (or several, back to back) into segments, taking the delimiters from
/// the first `ISA`. Checks the shape of each segment, not the envelopes: see
/// [`open`](super::open) for those.
///
/// # Errors
/// An [`X12Error`] naming the segment (and element) that could not be read, or the limit
/// exceeded.
pub fn read(input: &[u8], limits: &Limits) -> Result<Interchange, X12Error> {
    if input.len() > limits.max_bytes {
        return Err(X12Error::new(format!(
            "the file is {} bytes, above the limit of {} (Limits::max_bytes)",
            input.len(),
            limits.max_bytes
        )));
    }
    let text = String::from_utf8_lossy(input);
    let text = text.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
    let delimiters = delimiters_of(text)?;
    let mut segments = Vec::new();
    for raw in text.split(delimiters.segment) {
        let raw = raw.trim_matches(['\r', '\n']).trim_start_matches([' ', '\t']);
        if raw.is_empty() {
            continue;
        }
        let position = segments.len() + 1;
        if position > limits.max_segments {
            return Err(X12Error::new(format!(
                "the file has more than {} segments (Limits::max_segments)",
                limits.max_segments
            )));
        }
        segments.push(segment(raw, position, &delimiters, limits)?);
    }
    Ok(Interchange { delimiters, segments })
}

/// The delimiters an `ISA` declares: the element separator is its fourth character; the
/// sub-element separator follows the sixteenth element separator, and the segment terminator
/// follows that (an `ISA` padded to its fixed 106 characters or not).
fn delimiters_of(text: &str) -> Result<Delimiters, X12Error> {
    let isa_error = |m: &str| X12Error::at(1, "ISA", m.to_owned());
    if !text.starts_with("ISA") {
        let start: String = text.chars().take(12).collect();
        return Err(X12Error::new(format!("the file does not start with an ISA segment (it starts {start:?})")));
    }
    let mut chars = text.chars().skip(3);
    let element = chars.next().ok_or_else(|| isa_error("the ISA segment ends after its id"))?;
    let mut fields = Vec::with_capacity(16);
    let mut current = String::new();
    let mut sub_element = None;
    for c in chars.by_ref() {
        if fields.len() == 15 {
            sub_element = Some(c);
            break;
        }
        if c == element {
            fields.push(std::mem::take(&mut current));
        } else {
            current.push(c);
            if current.len() > 64 {
                return Err(isa_error("an ISA element is longer than any ISA element can be"));
            }
        }
    }
    let sub_element = sub_element.ok_or_else(|| isa_error("the ISA segment has fewer than 16 elements"))?;
    let segment = chars.next().ok_or_else(|| isa_error("the file ends inside the ISA segment"))?;
    // ISA11 is the repetition separator from version 00501; `U` (or any letter) before.
    let isa11 = fields.get(10).map(|f| f.trim()).unwrap_or_default();
    let mut repetition = isa11.chars().next().filter(|c| isa11.len() == 1 && !c.is_ascii_alphanumeric() && *c != ' ');
    if repetition.is_some_and(|r| r == element || r == sub_element || r == segment) {
        repetition = None;
    }
    let delimiters = Delimiters { element, sub_element, segment, repetition };
    delimiters.check().map_err(|e| isa_error(&e.message))?;
    Ok(delimiters)
}

/// One segment written as text (`AMT*P3*45.34~`) with `delimiters`.
pub(crate) fn segment_from_text(text: &str, delimiters: &Delimiters) -> Result<Segment, X12Error> {
    let raw = text.trim().trim_end_matches(delimiters.segment);
    segment(raw, 1, delimiters, &Limits::default())
}

fn segment(raw: &str, position: usize, delimiters: &Delimiters, limits: &Limits) -> Result<Segment, X12Error> {
    let mut parts = raw.split(delimiters.element);
    let id = parts.next().unwrap_or_default().trim_end();
    let id_ok = (2..=3).contains(&id.len())
        && id.starts_with(|c: char| c.is_ascii_uppercase())
        && id.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    if !id_ok {
        let shown: String = raw.chars().take(20).collect();
        return Err(X12Error::new(format!(
            "segment {position} has no segment id (it reads {shown:?}); an id is 2 or 3 capital letters or digits"
        )));
    }
    // ISA16 is the sub-element separator itself: the ISA has no composites.
    let composite = id != "ISA";
    let mut elements = Vec::new();
    for (n, value) in parts.enumerate() {
        if n >= limits.max_elements {
            return Err(X12Error::at(
                position,
                id,
                format!("more than {} elements (Limits::max_elements)", limits.max_elements),
            ));
        }
        let components = if composite {
            value.split(delimiters.sub_element).map(str::to_owned).collect()
        } else {
            vec![value.to_owned()]
        };
        elements.push(Element(components));
    }
    Ok(Segment::from_parts(id.to_owned(), elements).trimmed())
}
