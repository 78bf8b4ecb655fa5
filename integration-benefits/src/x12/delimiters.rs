//! The four characters that structure an X12 file.

use super::X12Error;

/// The separators of an interchange: declared by its `ISA` segment (the element separator is
/// its fourth character, the repetition separator `ISA11`, the sub-element separator `ISA16`,
/// and the segment terminator follows it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Delimiters {
    /// Between elements (`*`).
    pub element: char,
    /// Between the components of a composite element (`:`).
    pub sub_element: char,
    /// After each segment (`~`). A newline written after it is not part of the data.
    pub segment: char,
    /// Between repeats of an element (`^`, version 00501 and later); `None` writes `U` in
    /// `ISA11`, as versions before 00501 did.
    pub repetition: Option<char>,
}

impl Default for Delimiters {
    /// `*`, `:`, `~` and `^`: what most companion guides ask for.
    fn default() -> Self {
        Self { element: '*', sub_element: ':', segment: '~', repetition: Some('^') }
    }
}

impl Delimiters {
    /// Refuses delimiters that could be read as data or as each other: each must be one ASCII
    /// character that is not a letter, a digit or a space, and the four must differ.
    ///
    /// # Errors
    /// An [`X12Error`] naming the delimiter at fault.
    pub fn check(&self) -> Result<(), X12Error> {
        let all = [Some(self.element), Some(self.sub_element), Some(self.segment), self.repetition];
        let names = ["element separator", "sub-element separator", "segment terminator", "repetition separator"];
        for (i, (c, name)) in all.iter().zip(names).enumerate() {
            let Some(c) = c else { continue };
            // A newline may end segments (some carriers' files do); nothing else may be blank.
            let usable = c.is_ascii_punctuation() || (i == 2 && *c == '\n');
            if !usable {
                return Err(X12Error::new(format!(
                    "the {name} {c:?} is not usable: a delimiter is one ASCII punctuation character (or a newline, to end segments)"
                )));
            }
        }
        for (i, a) in all.iter().enumerate() {
            for (j, b) in all.iter().enumerate().skip(i + 1) {
                if a.is_some() && a == b {
                    return Err(X12Error::new(format!(
                        "the {} and the {} are both {:?}",
                        names[i],
                        names[j],
                        a.unwrap_or(' ')
                    )));
                }
            }
        }
        Ok(())
    }

    /// Whether `c` is one of the four.
    pub fn contains(&self, c: char) -> bool {
        c == self.element || c == self.sub_element || c == self.segment || Some(c) == self.repetition
    }
}
