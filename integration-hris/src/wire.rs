//! Reading provider JSON values that providers write loosely — dates with "empty" spellings,
//! ids sent as numbers — in serde wire types, with `#[serde(deserialize_with = ...)]`. A value
//! that is present but unreadable is an error naming the field (through
//! [`integration_core::decode`]), never a silent `None`. Adapters that read records in place use
//! [`integration_core::decode::Fields`], which reads the same spellings the same way.

use chrono::{DateTime, NaiveDate, Utc};
pub use integration_core::decode::{parse_date, parse_time};
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

/// An optional time: `null` and `""` are `None`; RFC 3339 or `+0000`-style offsets (converted to
/// UTC), `"YYYY-MM-DD HH:MM:SS"` read as UTC, or a bare date (its midnight, UTC); anything else
/// is an error.
pub fn optional_time<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    let Some(text) = Option::<String>::deserialize(deserializer)? else {
        return Ok(None);
    };
    parse_time(&text).map_err(de::Error::custom)
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
