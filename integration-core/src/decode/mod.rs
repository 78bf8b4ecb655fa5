//! Decoding provider JSON one record at a time, so that a malformed record becomes a
//! [`RejectedRecord`] naming the record and the field — kept with its raw data — while the rest
//! of the page goes on.
//!
//! ```
//! use integration_core::decode::{Decoded, decode_each};
//! use serde::Deserialize;
//! use serde_json::json;
//!
//! #[derive(Deserialize)]
//! struct Wire { id: String, age: u32 }
//!
//! let raw = vec![json!({"id": "1", "age": 30}), json!({"id": "2", "age": "old"})];
//! let Decoded { ok, rejected } = decode_each(raw, "id", |w: Wire, _raw| Ok((w.id, w.age)));
//! assert_eq!(ok, vec![("1".to_string(), 30)]);
//! assert_eq!(rejected[0].remote_id.as_deref(), Some("2"));
//! assert_eq!(rejected[0].error.field(), Some("age"));
//! ```
//!
//! Or read each record in place by path with [`Fields`] and [`map_each`], without declaring the
//! provider's shape — the shorter way for deep, mostly optional records:
//!
//! ```
//! use integration_core::decode::{Decoded, map_each};
//! use serde_json::json;
//!
//! let raw = vec![json!({"id": 1, "dates": {"hired": "2020-01-06"}}), json!({"id": 2, "dates": {"hired": "soon"}})];
//! let Decoded { ok, rejected } = map_each(raw, "id", |r| Ok((r.id("id")?, r.date("dates.hired")?)));
//! assert_eq!(ok.len(), 1);
//! assert_eq!(rejected[0].error.field(), Some("dates.hired"));
//! ```

mod dates;
mod fields;
mod numbers;

pub use self::dates::{parse_date, parse_time};
pub use self::fields::Fields;
pub use self::numbers::{UNREPRESENTABLE_NUMBER, mark_unrepresentable_numbers};

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::integration::RejectedRecord;

/// Deserializes `raw` into `T`; on failure a [`Validation`](crate::ErrorKind::Validation) error
/// whose field is the path of the offending value (`"employment.hireDate"`, `"items[2].id"`).
pub fn decode<T: DeserializeOwned>(raw: &Value) -> Result<T> {
    serde_path_to_error::deserialize(raw).map_err(|e| {
        let path = e.path().to_string();
        let message = e.into_inner().to_string();
        // A missing field is reported at the object that lacks it: name the field itself.
        let missing = message.strip_prefix("missing field `").and_then(|rest| rest.split('`').next());
        let field = match (path.as_str(), missing) {
            (".", Some(name)) => name.to_owned(),
            (".", None) => "record".to_owned(),
            (_, Some(name)) => format!("{path}.{name}"),
            (_, None) => path,
        };
        Error::validation(field, message)
    })
}

/// The outcome of decoding a list of raw records.
#[derive(Debug)]
pub struct Decoded<T> {
    /// The records that decoded and mapped.
    pub ok: Vec<T>,
    /// The records that did not, each with its raw JSON and an error naming record and field.
    pub rejected: Vec<RejectedRecord>,
}

impl<T> Decoded<T> {
    /// The one record of a single-record read: `Some(Ok)` if it decoded, `Some(Err)` with its
    /// rejection's error if not, `None` if there was none.
    pub fn single(mut self) -> Option<Result<T>> {
        match self.ok.pop() {
            Some(record) => Some(Ok(record)),
            None => self.rejected.pop().map(|rejected| Err(rejected.error)),
        }
    }

    /// Moves `other`'s records and rejections into this one.
    pub fn merge(&mut self, other: Decoded<T>) {
        self.ok.extend(other.ok);
        self.rejected.extend(other.rejected);
    }
}

impl<T> Default for Decoded<T> {
    fn default() -> Self {
        Self { ok: Vec::new(), rejected: Vec::new() }
    }
}

/// The record's id as found at `id_field` in its raw JSON (a string or a number), if any.
pub fn raw_id(raw: &Value, id_field: &str) -> Option<String> {
    match raw.get(id_field)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Decodes one raw record into `W`, then maps it with `map` (which also sees the raw JSON, to
/// keep it). An error names the field, and the record by the id found at `id_field`.
pub fn decode_one<W, T, F>(raw: &Value, id_field: &str, map: F) -> Result<T>
where
    W: DeserializeOwned,
    F: FnOnce(W, &Value) -> Result<T>,
{
    decode::<W>(raw).and_then(|wire| map(wire, raw)).map_err(|error| named(error, raw, id_field))
}

fn named(error: Error, raw: &Value, id_field: &str) -> Error {
    match raw_id(raw, id_field) {
        Some(id) => error.with_record(id),
        None => error,
    }
}

/// Maps one raw record read as [`Fields`]; an error names the field, and the record by the id
/// found at `id_field`.
pub fn map_one<T>(raw: &Value, id_field: &str, map: impl FnOnce(&Fields<'_>) -> Result<T>) -> Result<T> {
    map(&Fields::new(raw)).map_err(|error| named(error, raw, id_field))
}

/// Maps each raw record read as [`Fields`]. A record `map` fails on is rejected with its id
/// (read from `id_field`), its raw JSON, and the error — which names the field.
pub fn map_each<T>(raws: Vec<Value>, id_field: &str, mut map: impl FnMut(&Fields<'_>) -> Result<T>) -> Decoded<T> {
    collect(raws, id_field, |raw| map_one(raw, id_field, &mut map))
}

fn collect<T>(raws: Vec<Value>, id_field: &str, mut map: impl FnMut(&Value) -> Result<T>) -> Decoded<T> {
    let mut out = Decoded { ok: Vec::with_capacity(raws.len()), rejected: Vec::new() };
    for raw in raws {
        match map(&raw) {
            Ok(value) => out.ok.push(value),
            Err(error) => out.rejected.push(RejectedRecord::new(raw_id(&raw, id_field), raw, error)),
        }
    }
    out
}

/// Decodes each raw record into `W`, then maps it with `map` (which also sees the raw JSON, to
/// keep it). A record failing either step is rejected with its id (read from `id_field`), its
/// raw JSON, and the error — which names the field.
pub fn decode_each<W, T, F>(raws: Vec<Value>, id_field: &str, mut map: F) -> Decoded<T>
where
    W: DeserializeOwned,
    F: FnMut(W, &Value) -> Result<T>,
{
    collect(raws, id_field, |raw| decode_one(raw, id_field, &mut map))
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    use super::*;
    use crate::ErrorKind;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Wire {
        id: u64,
        nested: Nested,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Nested {
        when: String,
    }

    #[test]
    fn names_the_nested_field_and_the_record() {
        let raws = vec![json!({"id": 7, "nested": {"when": 3}}), json!({"nested": {"when": "x"}})];
        let out = decode_each(raws, "id", |w: Wire, _| Ok(w.id));
        assert!(out.ok.is_empty());
        assert_eq!(out.rejected.len(), 2);
        let first = &out.rejected[0];
        assert_eq!(first.remote_id.as_deref(), Some("7"));
        assert_eq!(first.error.kind(), ErrorKind::Validation);
        assert_eq!(first.error.field(), Some("nested.when"));
        assert_eq!(first.error.record(), Some("7"));
        assert_eq!(first.raw["nested"]["when"], 3);
        assert_eq!(out.rejected[1].remote_id, None);
        assert_eq!(out.rejected[1].error.field(), Some("id"));
        let nested = decode::<Wire>(&json!({"id": 1, "nested": {}})).unwrap_err();
        assert_eq!(nested.field(), Some("nested.when"));
    }

    #[test]
    fn mapping_errors_are_rejections_too() {
        let raws = vec![json!({"id": 1, "nested": {"when": "a"}}), json!({"id": 2, "nested": {"when": "b"}})];
        let out = decode_each(raws, "id", |w: Wire, _| {
            if w.id == 2 { Err(Error::validation("nested.when", "not a date")) } else { Ok(w.id) }
        });
        assert_eq!(out.ok, vec![1]);
        assert_eq!(out.rejected[0].error.field(), Some("nested.when"));
    }

    #[test]
    fn a_non_object_is_named_as_the_record() {
        let err = decode::<Wire>(&json!(5)).unwrap_err();
        assert_eq!(err.field(), Some("record"));
    }
}
