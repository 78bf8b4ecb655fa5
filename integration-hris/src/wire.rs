//! Reading provider JSON values that providers write loosely: dates with "empty" spellings,
//! numbers sent as strings, ids sent as numbers. Used by the adapters' wire types with
//! `#[serde(deserialize_with = ...)]`; a value that is present but unreadable is an error naming
//! the field (through [`integration_core::decode`]), never a silent `None`.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Deserializer, de};
use serde_json::Value;

/// An optional date: `null`, `""` and `"0000-00-00"` are `None`; `"YYYY-MM-DD"` or an RFC 3339
/// time (its date) are a date; anything else is an error.
pub fn optional_date<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<NaiveDate>, D::Error> {
    let Some(text) = Option::<String>::deserialize(deserializer)? else {
        return Ok(None);
    };
    parse_date(&text).map_err(de::Error::custom)
}

/// Parses a date the way [`optional_date`] does.
pub fn parse_date(text: &str) -> Result<Option<NaiveDate>, String> {
    let text = text.trim();
    if text.is_empty() || text.starts_with("0000-00-00") {
        return Ok(None);
    }
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(Some(date));
    }
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Ok(Some(time.date_naive()));
    }
    Err(format!("{text:?} is not a date (expected YYYY-MM-DD)"))
}

/// An optional time: `null` and `""` are `None`; RFC 3339 or `+0000`-style offsets (converted to
/// UTC), `"YYYY-MM-DD HH:MM:SS"` read as UTC, or a bare date (its midnight, UTC); anything else
/// is an error.
pub fn optional_time<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    let Some(text) = Option::<String>::deserialize(deserializer)? else {
        return Ok(None);
    };
    parse_time(&text).map_err(de::Error::custom)
}

/// Parses a time the way [`optional_time`] does.
pub fn parse_time(text: &str) -> Result<Option<DateTime<Utc>>, String> {
    let text = text.trim();
    if text.is_empty() || text.starts_with("0000-00-00") {
        return Ok(None);
    }
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Ok(Some(time.with_timezone(&Utc)));
    }
    if let Ok(time) = chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S") {
        return Ok(Some(time.and_utc()));
    }
    if let Ok(time) = DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z") {
        return Ok(Some(time.with_timezone(&Utc)));
    }
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(Some(date.and_time(chrono::NaiveTime::MIN).and_utc()));
    }
    Err(format!("{text:?} is not a time (expected RFC 3339)"))
}

/// An id a provider sends as a string or a number, read as a string.
pub fn id<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    match Value::deserialize(deserializer)? {
        Value::String(s) if !s.is_empty() => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(de::Error::custom(format!("expected an id (a string or a number), found {other}"))),
    }
}

/// An optional id sent as a string or a number; `null` and `""` are `None`.
pub fn optional_id<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    match Option::<Value>::deserialize(deserializer)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(other) => Err(de::Error::custom(format!("expected an id (a string or a number), found {other}"))),
    }
}

/// An optional non-empty string: `null` and `""` are `None`.
pub fn optional_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<String>::deserialize(deserializer)?.filter(|s| !s.trim().is_empty()))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn empty_spellings_are_none() {
        assert_eq!(parse_date(""), Ok(None));
        assert_eq!(parse_date("0000-00-00"), Ok(None));
        assert_eq!(parse_date("2024-02-29"), Ok(NaiveDate::from_ymd_opt(2024, 2, 29)));
        assert_eq!(parse_date("2024-02-29T10:00:00-05:00"), Ok(NaiveDate::from_ymd_opt(2024, 2, 29)));
        assert!(parse_date("31/02/2020").is_err());
        assert!(parse_date("2023-02-29").is_err());
        assert_eq!(parse_time("2026-01-02T03:04:05+01:00").unwrap().unwrap().to_rfc3339(), "2026-01-02T02:04:05+00:00");
        let adp = parse_time("2019-05-31T11:51:23.122+0000").unwrap().unwrap();
        assert_eq!(adp.to_rfc3339(), "2019-05-31T11:51:23.122+00:00");
        assert_eq!(parse_time("2026-01-31T18:42:00+0000").unwrap().unwrap().to_rfc3339(), "2026-01-31T18:42:00+00:00");
    }

    proptest! {
        #[test]
        fn any_text_parses_or_errors_without_panicking(text in ".{0,40}") {
            let _ = parse_date(&text);
            let _ = parse_time(&text);
        }
    }
}
