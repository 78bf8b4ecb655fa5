//! The writer: segments to text, refusing any value that holds a delimiter (X12 has no escape).

use std::fmt::Write as _;

use super::{Delimiters, Segment, X12Error};

/// Writes `segments` with `delimiters` (`ISA11` and `ISA16` declaring them; a newline after each segment terminator unless the
/// terminator is itself a newline), trailing empty elements left out.
///
/// # Errors
/// An [`X12Error`] naming the segment and element whose value holds one of the delimiters, or
/// delimiters that fail [`Delimiters::check`].
pub fn write(segments: &[Segment], delimiters: &Delimiters) -> Result<String, X12Error> {
    delimiters.check()?;
    let mut out = String::with_capacity(segments.len() * 48);
    for (i, segment) in segments.iter().enumerate() {
        write_segment(&mut out, segment, i + 1, delimiters)?;
    }
    Ok(out)
}

pub(crate) fn write_segment(
    out: &mut String,
    segment: &Segment,
    position: usize,
    delimiters: &Delimiters,
) -> Result<(), X12Error> {
    let id = segment.id();
    let is_isa = id == "ISA";
    out.push_str(id);
    // Trailing empty elements (and a composite's trailing empty components) are not written.
    let elements = segment.elements();
    let written = if is_isa {
        elements.len()
    } else {
        elements.iter().rposition(|e| e.0.iter().any(|c| !c.is_empty())).map_or(0, |last| last + 1)
    };
    for (n, element) in elements[..written].iter().enumerate() {
        out.push(delimiters.element);
        // ISA11 and ISA16 declare the delimiters: written as the ones in use.
        if is_isa && n == 10 {
            out.push_str(&delimiters.repetition.map_or_else(|| "U".to_owned(), String::from));
            continue;
        }
        if is_isa && n == 15 {
            out.push(delimiters.sub_element);
            continue;
        }
        let components = if is_isa {
            element.0.len()
        } else {
            element.0.iter().rposition(|c| !c.is_empty()).map_or(1, |last| last + 1)
        };
        for (m, component) in element.0[..components.min(element.0.len())].iter().enumerate() {
            if m > 0 {
                out.push(delimiters.sub_element);
            }
            if let Some(c) = component.chars().find(|c| delimiters.contains(*c) || c.is_control()) {
                return Err(X12Error::at(position, id, format!(
                    "the value {component:?} holds {c:?}, which is a delimiter or a control character; X12 has no escape, so change the value or the delimiters"
                ))
                .element(n + 1));
            }
            out.push_str(component);
        }
    }
    out.push(delimiters.segment);
    if delimiters.segment != '\n' {
        let _ = out.write_char('\n');
    }
    Ok(())
}
