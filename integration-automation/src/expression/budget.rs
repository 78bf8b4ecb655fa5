//! What one evaluation may build: a budget of bytes that every value-building step of the
//! expression language draws on.
//!
//! MiniJinja's fuel counts instructions, not bytes: within its fuel an expression can still
//! double a string with `replace` over and over, repeat a string to 100 MB with `*`, or join a
//! range into 90 MB. So the language's filters, functions and growing operators (see
//! `language`) say what they are about to build before building it, and the
//! evaluation fails with "too large" once its budget is spent. The budget lives in a thread
//! local for the duration of one synchronous evaluation (MiniJinja evaluates on the calling
//! thread), so no state is shared between evaluations.

use std::cell::Cell;
use std::fmt::{self, Write as _};

use minijinja::value::Value;
use minijinja::{Error, ErrorKind};

/// The bytes of values one evaluation may build: strings by their length, lists by 24 bytes an
/// item, and a small charge per filter or function call.
pub const EVALUATION_BUDGET: usize = 8 * 1024 * 1024;

/// The largest result of one evaluation: the JSON an expression gives, or the text a template
/// renders.
pub const MAX_OUTPUT: usize = 1024 * 1024;

/// What one list item costs (the size of a MiniJinja value).
pub(crate) const ITEM: usize = 24;

/// What a filter or function call costs, whatever it builds: bounds the time a `map` over a
/// long list may take.
pub(crate) const CALL: usize = 16;

thread_local! {
    /// The bytes left to the evaluation running on this thread; `None` outside one.
    static LEFT: Cell<Option<usize>> = const { Cell::new(None) };
}

/// Runs `evaluate` with a budget of `bytes`, restoring the enclosing evaluation's afterwards.
pub(crate) fn within<T>(bytes: usize, evaluate: impl FnOnce() -> T) -> T {
    struct Restore(Option<usize>);
    impl Drop for Restore {
        fn drop(&mut self) {
            LEFT.with(|left| left.set(self.0));
        }
    }
    let _restore = Restore(LEFT.with(|left| left.replace(Some(bytes))));
    evaluate()
}

/// What is left of the current evaluation's budget (the whole budget outside an evaluation).
pub(crate) fn left() -> usize {
    LEFT.with(Cell::get).unwrap_or(EVALUATION_BUDGET)
}

/// Draws `bytes` from the budget, or fails saying what was too large.
pub(crate) fn charge(bytes: usize, what: &str) -> Result<(), Error> {
    LEFT.with(|left| {
        let available = left.get().unwrap_or(EVALUATION_BUDGET);
        match available.checked_sub(bytes) {
            Some(rest) => {
                if left.get().is_some() {
                    left.set(Some(rest));
                }
                Ok(())
            }
            None => Err(too_large(what)),
        }
    })
}

/// The error of a value that would not fit.
pub(crate) fn too_large(what: &str) -> Error {
    Error::new(
        ErrorKind::InvalidOperation,
        format!(
            "{what} is too large: one evaluation may build at most {EVALUATION_BUDGET} bytes of values and give at most {MAX_OUTPUT} bytes"
        ),
    )
}

/// What holding `value` costs, as far as it is new: a string's bytes, a list's items.
pub(crate) fn cost(value: &Value) -> usize {
    if let Some(text) = value.as_str() {
        return text.len();
    }
    value.len().map_or(0, |items| items.saturating_mul(ITEM))
}

/// The length of `value`'s text (its `Display`), or `None` past `limit` — found by writing it
/// into a counter that stops at the limit, so nothing is built.
pub(crate) fn display_len(value: &Value, limit: usize) -> Option<usize> {
    if let Some(text) = value.as_str() {
        return (text.len() <= limit).then_some(text.len());
    }
    let mut counter = Bounded::counting(limit);
    write!(counter, "{value}").ok().map(|()| counter.len)
}

/// A `fmt::Write` that fails once more than `limit` bytes were written; it keeps what it is
/// given, or only counts it.
#[derive(Debug)]
pub(crate) struct Bounded {
    /// The text written, when kept.
    pub(crate) text: Option<String>,
    /// The bytes written.
    pub(crate) len: usize,
    limit: usize,
}

impl Bounded {
    /// Keeps up to `limit` bytes.
    pub(crate) fn keeping(limit: usize) -> Self {
        Self { text: Some(String::new()), len: 0, limit }
    }

    /// Counts up to `limit` bytes.
    pub(crate) fn counting(limit: usize) -> Self {
        Self { text: None, len: 0, limit }
    }
}

impl fmt::Write for Bounded {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.len = self.len.checked_add(s.len()).filter(|len| *len <= self.limit).ok_or(fmt::Error)?;
        if let Some(text) = &mut self.text {
            text.push_str(s);
        }
        Ok(())
    }
}

/// A `std::io::Write` counting bytes up to a limit (for serializers).
#[derive(Debug)]
pub(crate) struct CountingSink {
    /// The bytes written.
    pub(crate) len: usize,
    limit: usize,
}

impl CountingSink {
    /// Counts up to `limit` bytes.
    pub(crate) fn new(limit: usize) -> Self {
        Self { len: 0, limit }
    }
}

impl std::io::Write for CountingSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.len = self
            .len
            .checked_add(buf.len())
            .filter(|len| *len <= self.limit)
            .ok_or_else(|| std::io::Error::other("over the limit"))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charges_draw_on_the_evaluation_and_nested_budgets_restore() {
        within(100, || {
            assert!(charge(60, "x").is_ok());
            assert_eq!(left(), 40);
            within(10, || {
                assert!(charge(11, "y").unwrap_err().to_string().contains("y is too large"));
            });
            assert_eq!(left(), 40);
            assert!(charge(41, "z").is_err());
        });
        assert_eq!(left(), EVALUATION_BUDGET);
    }

    #[test]
    fn display_length_stops_at_the_limit() {
        let list = Value::from(vec!["abc"; 1000]);
        assert_eq!(display_len(&Value::from("abcd"), 4), Some(4));
        assert_eq!(display_len(&Value::from("abcd"), 3), None);
        assert_eq!(display_len(&list, 100), None);
        assert_eq!(display_len(&Value::from(vec![1, 2]), 100), Some(6));
    }
}
