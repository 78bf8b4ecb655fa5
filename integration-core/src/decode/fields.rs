//! Reading a provider's record field by field, by path, without declaring its shape first.
//!
//! Providers nest deeply and write loosely; most of a record is optional. [`Fields`] reads the
//! raw JSON in place: a field that is missing or `null` is `None`, one that is present but not
//! readable is a [`Validation`](crate::ErrorKind::Validation) error naming its path from the
//! record's root (`workAssignments[0].hireDate`) and saying what was found.

use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use iso_currency::Currency;
use rust_decimal::Decimal;
use serde_json::Value;

use super::dates::{parse_date, parse_time};
use crate::error::{Error, Result};

static NULL: Value = Value::Null;

/// A provider record, or a part of one, read by dotted paths (`"primaryJob.businessTitle"`).
///
/// ```
/// use integration_core::decode::Fields;
/// use serde_json::json;
///
/// let raw = json!({"id": 7, "name": {"first": "Ada", "last": ""}, "jobs": [{"start": "2020-01-06"}]});
/// let record = Fields::new(&raw);
/// assert_eq!(record.id("id")?, "7");
/// assert_eq!(record.text("name.first")?.as_deref(), Some("Ada"));
/// assert_eq!(record.text("name.last")?, None);                // "" is no value
/// assert_eq!(record.text("name.middle")?, None);              // nor is a missing field
/// let job = &record.items("jobs")?[0];
/// assert_eq!(job.date("start")?.map(|d| d.to_string()).as_deref(), Some("2020-01-06"));
///
/// let bad = json!({"jobs": [{"start": "31/02/2020"}]});
/// let error = Fields::new(&bad).items("jobs")?[0].date("start").unwrap_err();
/// assert_eq!(error.field(), Some("jobs[0].start"));
/// # Ok::<(), integration_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Fields<'a> {
    value: &'a Value,
    path: String,
}

impl<'a> Fields<'a> {
    /// The record `raw`, read from its root.
    pub fn new(raw: &'a Value) -> Self {
        Self { value: raw, path: String::new() }
    }

    /// The JSON this reads (the whole record, or the part [`at`](Self::at) reached).
    pub fn raw(&self) -> &'a Value {
        self.value
    }

    /// Where this part is in the record (`""` at the root, `person.legalName`, `jobs[2]`).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The part of the record at `path`. Nothing there reads as an empty part (every field
    /// `None`); a value there that is not an object makes the reads below it errors naming it.
    pub fn at(&self, path: &str) -> Fields<'a> {
        let mut part = self.clone();
        for key in path.split('.').filter(|k| !k.is_empty()) {
            match part.value {
                Value::Object(map) => part.value = map.get(key).unwrap_or(&NULL),
                Value::Null => {}
                _ => return part,
            }
            part.path = join(&part.path, key);
        }
        part
    }

    /// The value at `path`: `None` if it, or an object on the way, is missing or `null`; an
    /// error if something on the way is not an object.
    pub fn get(&self, path: &str) -> Result<Option<&'a Value>> {
        let (parent, key) = path.rsplit_once('.').unwrap_or(("", path));
        let parent = self.at(parent);
        match parent.value {
            Value::Object(map) => Ok(map.get(key).filter(|v| !v.is_null())),
            Value::Null => Ok(None),
            other => Err(invalid(&parent.path, "an object", other)),
        }
    }

    /// The list at `path`, each item a part named `path[i]`; nothing there is an empty list.
    pub fn items(&self, path: &str) -> Result<Vec<Fields<'a>>> {
        match self.get(path)? {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => {
                let name = join(&self.path, path);
                Ok(items.iter().enumerate().map(|(i, value)| Fields { value, path: format!("{name}[{i}]") }).collect())
            }
            Some(other) => Err(invalid(&join(&self.path, path), "a list", other)),
        }
    }

    /// The first value `read` finds in the items of the list at `path` (items where it finds
    /// nothing are passed over; an error stops the search).
    pub fn first_of<T>(&self, path: &str, mut read: impl FnMut(&Fields<'a>) -> Result<Option<T>>) -> Result<Option<T>> {
        for item in self.items(path)? {
            if let Some(value) = read(&item)? {
                return Ok(Some(value));
            }
        }
        Ok(None)
    }

    /// Text at `path`; an empty or blank string is `None`.
    pub fn text(&self, path: &str) -> Result<Option<String>> {
        match self.get(path)? {
            None => Ok(None),
            Some(Value::String(s)) => Ok((!s.trim().is_empty()).then(|| s.clone())),
            Some(other) => Err(invalid(&join(&self.path, path), "text", other)),
        }
    }

    /// Text at `path` that must be there.
    pub fn required_text(&self, path: &str) -> Result<String> {
        self.text(path)?.ok_or_else(|| missing(&join(&self.path, path)))
    }

    /// An id at `path` that must be there: a non-empty string, or a number (read as text).
    pub fn id(&self, path: &str) -> Result<String> {
        self.optional_id(path)?.ok_or_else(|| missing(&join(&self.path, path)))
    }

    /// An id at `path`, a string or a number; `""` is `None`.
    pub fn optional_id(&self, path: &str) -> Result<Option<String>> {
        match self.get(path)? {
            None => Ok(None),
            Some(Value::String(s)) => Ok((!s.is_empty()).then(|| s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(other) => Err(invalid(&join(&self.path, path), "an id (a string or a number)", other)),
        }
    }

    /// A date at `path`, as [`parse_date`](super::parse_date) reads it.
    pub fn date(&self, path: &str) -> Result<Option<NaiveDate>> {
        self.parse_text(path, "a date (YYYY-MM-DD)", parse_date)
    }

    /// A date at `path` that must be there.
    pub fn required_date(&self, path: &str) -> Result<NaiveDate> {
        self.date(path)?.ok_or_else(|| missing(&join(&self.path, path)))
    }

    /// An amount at `path`: a JSON number or a numeric string (`"12.50"`, `1.2e3`), exactly as
    /// written — never through a float's arithmetic; `""` is `None`. A number too large for a
    /// `Decimal` (or one the JSON reader could not hold) is an error naming the field.
    pub fn decimal(&self, path: &str) -> Result<Option<Decimal>> {
        match self.get(path)? {
            None => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => parse_decimal(s.trim())
                .map(Some)
                .ok_or_else(|| invalid(&join(&self.path, path), "an amount", &Value::String(s.clone()))),
            Some(Value::Number(n)) => parse_decimal(&n.to_string())
                .map(Some)
                .ok_or_else(|| invalid(&join(&self.path, path), "an amount", &Value::Number(n.clone()))),
            Some(other) => Err(invalid(&join(&self.path, path), "an amount", other)),
        }
    }

    /// An amount at `path` that must be there.
    pub fn required_decimal(&self, path: &str) -> Result<Decimal> {
        self.decimal(path)?.ok_or_else(|| missing(&join(&self.path, path)))
    }

    /// An ISO 4217 currency code at `path` (`"USD"`, any case).
    pub fn currency(&self, path: &str) -> Result<Option<Currency>> {
        self.parse_text(path, "an ISO 4217 currency code", |code| {
            let code = code.trim();
            if code.is_empty() {
                return Ok(None);
            }
            Currency::from_code(&code.to_ascii_uppercase())
                .map(Some)
                .ok_or_else(|| format!("{code:?} is not an ISO 4217 currency code"))
        })
    }

    /// A time at `path`, as [`parse_time`](super::parse_time) reads it.
    pub fn time(&self, path: &str) -> Result<Option<DateTime<Utc>>> {
        self.parse_text(path, "a time (RFC 3339)", parse_time)
    }

    /// A boolean at `path`: `true` / `false`, or the strings `"true"`, `"false"`, `"yes"`, `"no"`.
    pub fn flag(&self, path: &str) -> Result<Option<bool>> {
        match self.get(path)? {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("yes") => Ok(Some(true)),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("false") || s.eq_ignore_ascii_case("no") => {
                Ok(Some(false))
            }
            Some(other) => Err(invalid(&join(&self.path, path), "true or false", other)),
        }
    }

    /// The text or number at `path` read by `parse`, whose error message is kept on an error
    /// naming the field. `parse` may answer `None` for spellings of "no value".
    pub fn parse<T>(&self, path: &str, parse: impl FnOnce(&str) -> Result<Option<T>, String>) -> Result<Option<T>> {
        let text = match self.get(path)? {
            None => return Ok(None),
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            Some(other) => return Err(invalid(&join(&self.path, path), "text or a number", other)),
        };
        parse(&text).map_err(|message| Error::validation(join(&self.path, path), message))
    }

    fn parse_text<T>(
        &self,
        path: &str,
        expected: &str,
        parse: impl FnOnce(&str) -> Result<Option<T>, String>,
    ) -> Result<Option<T>> {
        match self.get(path)? {
            None => Ok(None),
            Some(Value::String(s)) => parse(s).map_err(|message| Error::validation(join(&self.path, path), message)),
            Some(other) => Err(invalid(&join(&self.path, path), expected, other)),
        }
    }
}

fn join(path: &str, key: &str) -> String {
    match (path.is_empty(), key.is_empty()) {
        (true, _) => key.to_owned(),
        (false, true) => path.to_owned(),
        (false, false) => format!("{path}.{key}"),
    }
}

/// `text` as a decimal: plain (`-12.50`) or scientific (`1.2e3`) notation.
fn parse_decimal(text: &str) -> Option<Decimal> {
    Decimal::from_str(text).or_else(|_| Decimal::from_scientific(text)).ok()
}

fn missing(field: &str) -> Error {
    Error::validation(field_name(field), "required, but missing or empty")
}

fn invalid(field: &str, expected: &str, found: &Value) -> Error {
    let found = match found {
        Value::Array(_) => "a list".to_owned(),
        Value::Object(_) => "an object".to_owned(),
        Value::String(s) if s.chars().count() > 60 => format!("{:?}…", s.chars().take(60).collect::<String>()),
        scalar => scalar.to_string(),
    };
    Error::validation(field_name(field), format!("expected {expected}, found {found}"))
}

fn field_name(field: &str) -> String {
    if field.is_empty() { "record".to_owned() } else { field.to_owned() }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;
    use crate::ErrorKind;

    #[test]
    fn amounts_and_currencies_are_read_exactly_or_refused_by_name() {
        let raw =
            json!({"a": 12.34, "b": "0.10", "c": "lots", "d": 1e300, "e": true, "f": "", "cur": "usd", "bad": "ZZZ"});
        let r = Fields::new(&raw);
        assert_eq!(r.decimal("a").unwrap(), Some(Decimal::new(1234, 2)));
        assert_eq!(r.decimal("b").unwrap(), Some(Decimal::new(10, 2)));
        assert_eq!(r.decimal("f").unwrap(), None);
        assert_eq!(r.decimal("zz").unwrap(), None);
        for field in ["c", "d", "e"] {
            assert_eq!(r.decimal(field).unwrap_err().field(), Some(field), "{field}");
        }
        assert_eq!(r.required_decimal("zz").unwrap_err().field(), Some("zz"));
        assert_eq!(r.currency("cur").unwrap(), Some(Currency::USD));
        assert_eq!(r.currency("bad").unwrap_err().field(), Some("bad"));
    }

    #[test]
    fn missing_and_null_and_empty_are_none_wrong_kinds_are_errors_naming_the_path() {
        let raw = json!({"a": {"b": null, "c": "", "d": 4, "e": "x", "f": [1, {"g": "2020-13-01"}]}, "s": "str"});
        let r = Fields::new(&raw);
        assert_eq!(r.text("a.b").unwrap(), None);
        assert_eq!(r.text("a.c").unwrap(), None);
        assert_eq!(r.text("a.zz").unwrap(), None);
        assert_eq!(r.text("zz.yy.xx").unwrap(), None);
        assert_eq!(r.optional_id("a.d").unwrap().as_deref(), Some("4"));
        let e = r.text("a.d").unwrap_err();
        assert_eq!((e.kind(), e.field()), (ErrorKind::Validation, Some("a.d")));
        assert!(e.to_string().contains("expected text, found 4"), "{e}");
        let e = r.text("s.t").unwrap_err();
        assert_eq!(e.field(), Some("s"), "a non-object on the way is named");
        let items = r.items("a.f").unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].text("g").unwrap_err().field(), Some("a.f[0]"));
        assert_eq!(items[1].date("g").unwrap_err().field(), Some("a.f[1].g"));
        assert_eq!(r.at("a").at("f").path(), "a.f");
        assert_eq!(r.items("a.e").unwrap_err().field(), Some("a.e"));
        assert_eq!(r.id("a.c").unwrap_err().field(), Some("a.c"), "an empty id is missing");
        assert_eq!(r.at("nothing").items("here").unwrap().len(), 0);
        let first = |path: &str| r.first_of(path, |item| item.optional_id("g"));
        assert_eq!(first("a.f").unwrap_err().field(), Some("a.f[0]"), "1 is not an object");
        assert_eq!(r.first_of("nothing", |item| item.text("g")).unwrap(), None);
        assert_eq!(Fields::new(&json!(3)).text("x").unwrap_err().field(), Some("record"));
    }

    #[test]
    fn flags_and_parsed_values() {
        let raw = json!({"t": true, "y": "yes", "n": "No", "bad": "maybe", "amount": 12.5, "text": "7"});
        let r = Fields::new(&raw);
        assert_eq!(r.flag("t").unwrap(), Some(true));
        assert_eq!(r.flag("y").unwrap(), Some(true));
        assert_eq!(r.flag("n").unwrap(), Some(false));
        assert_eq!(r.flag("bad").unwrap_err().field(), Some("bad"));
        let number = |s: &str| s.parse::<f64>().map(Some).map_err(|e| e.to_string());
        assert_eq!(r.parse("amount", number).unwrap(), Some(12.5));
        assert_eq!(r.parse("text", number).unwrap(), Some(7.0));
        assert_eq!(r.parse("t", number).unwrap_err().field(), Some("t"));
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            ".{0,12}".prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map("[a-c]", inner, 0..4).prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn any_json_reads_or_errors_without_panicking(raw in json_value(), path in "[a-c.]{0,6}") {
            let r = Fields::new(&raw);
            let _ = (r.text(&path), r.id(&path), r.date(&path), r.time(&path), r.flag(&path));
            if let Ok(items) = r.items(&path) {
                for item in items {
                    let _ = item.text("a");
                }
            }
        }
    }
}
