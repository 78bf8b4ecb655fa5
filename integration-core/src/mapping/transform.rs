//! Applying a [`Transform`] to a value.

use std::fmt::{Display, Write as _};

use chrono::{NaiveDate, NaiveDateTime};
use serde_json::Value;

use super::Transform;

/// The text a lookup table is keyed by: text as it is, numbers and booleans as written.
pub(super) fn key(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn text(value: Value, change: impl FnOnce(&str) -> String) -> Value {
    match value {
        Value::String(s) => Value::String(change(&s)),
        other => other,
    }
}

/// `formatted` as text; chrono's formatting fails (it does not panic here) when the format asks
/// for what the value lacks (`%H` of a date).
pub(super) fn written(formatted: impl Display, to: &str) -> Result<String, String> {
    let mut text = String::new();
    write!(text, "{formatted}").map_err(|_| format!("the format {to:?} asks for what the value does not have"))?;
    Ok(text)
}

/// `transform` applied to `value`; the reason when the value cannot be transformed.
pub(super) fn apply(transform: &Transform, value: Value) -> Result<Value, String> {
    Ok(match transform {
        Transform::Trim => text(value, |s| s.trim().to_owned()),
        Transform::Lowercase => text(value, str::to_lowercase),
        Transform::Uppercase => text(value, str::to_uppercase),
        Transform::Date { from, to } => match value {
            Value::String(s) => {
                let text = match NaiveDate::parse_from_str(s.trim(), from) {
                    Ok(date) => written(date.format(to), to)?,
                    Err(_) => {
                        let at = NaiveDateTime::parse_from_str(s.trim(), from)
                            .map_err(|_| format!("the value is not a date in the format {from:?}"))?;
                        written(at.format(to), to)?
                    }
                };
                Value::String(text)
            }
            Value::Null => Value::Null,
            _ => return Err(format!("the value is not text, so not a date in the format {from:?}")),
        },
        Transform::Lookup { table, otherwise } => match value {
            Value::Null => otherwise.clone().unwrap_or(Value::Null),
            other => match key(&other).and_then(|k| table.get(&k)) {
                Some(found) => found.clone(),
                None => otherwise.clone().ok_or_else(|| "the value has no entry in the lookup table".to_owned())?,
            },
        },
        Transform::Default { value: fallback } => match value {
            Value::Null => fallback.clone(),
            other => other,
        },
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn each_transform_does_what_it_says() {
        assert_eq!(apply(&Transform::Trim, json!("  a b ")), Ok(json!("a b")));
        assert_eq!(apply(&Transform::Uppercase, json!("ß")), Ok(json!("SS")));
        assert_eq!(apply(&Transform::Lowercase, json!(12)), Ok(json!(12)), "not text: left alone");
        let date = Transform::Date { from: "%d/%m/%Y".into(), to: "%Y-%m-%d".into() };
        assert_eq!(apply(&date, json!("31/12/2026")), Ok(json!("2026-12-31")));
        assert!(apply(&date, json!("2026-12-31")).is_err());
        assert_eq!(apply(&date, Value::Null), Ok(Value::Null));
        let stamp = Transform::Date { from: "%Y-%m-%dT%H:%M:%S".into(), to: "%Y".into() };
        assert_eq!(apply(&stamp, json!("2026-12-31T23:59:00")), Ok(json!("2026")));
        let hours = Transform::Date { from: "%Y-%m-%d".into(), to: "%H:%M".into() };
        assert!(apply(&hours, json!("2026-12-31")).is_err(), "a date has no hour: an error, not a panic");
        let table = [("1".to_owned(), json!("Berlin"))].into();
        let strict = Transform::Lookup { table, otherwise: None };
        assert_eq!(apply(&strict, json!(1)), Ok(json!("Berlin")), "numbers are looked up as text");
        assert!(apply(&strict, json!("2")).is_err());
        let lenient = Transform::Lookup { table: Default::default(), otherwise: Some(json!("elsewhere")) };
        assert_eq!(apply(&lenient, json!("2")), Ok(json!("elsewhere")));
        assert_eq!(apply(&Transform::Default { value: json!(0) }, Value::Null), Ok(json!(0)));
        assert_eq!(apply(&Transform::Default { value: json!(0) }, json!(5)), Ok(json!(5)));
    }
}
