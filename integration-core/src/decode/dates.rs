//! Dates and times as providers write them: empty spellings (`""`, `"0000-00-00"`) mean none,
//! offsets come as `+01:00` or `+0100`, and some send a bare date where a time belongs.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};

/// A date: `""` and `"0000-00-00"` are `None`; `"YYYY-MM-DD"` or an RFC 3339 time (its date)
/// are a date; anything else is an error saying what was expected.
///
/// ```
/// use integration_core::decode::parse_date;
/// assert_eq!(parse_date("2024-02-29").unwrap().unwrap().to_string(), "2024-02-29");
/// assert_eq!(parse_date("0000-00-00"), Ok(None));
/// assert!(parse_date("31/02/2020").is_err());
/// ```
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

/// A time: `""` is `None`; RFC 3339 or `+0000`-style offsets (converted to UTC),
/// `"YYYY-MM-DD HH:MM:SS"` read as UTC, or a bare date (its midnight, UTC); anything else is an
/// error saying what was expected.
///
/// ```
/// use integration_core::decode::parse_time;
/// let adp = parse_time("2019-05-31T11:51:23.122+0000").unwrap().unwrap();
/// assert_eq!(adp.to_rfc3339(), "2019-05-31T11:51:23.122+00:00");
/// assert!(parse_time("yesterday").is_err());
/// ```
pub fn parse_time(text: &str) -> Result<Option<DateTime<Utc>>, String> {
    let text = text.trim();
    if text.is_empty() || text.starts_with("0000-00-00") {
        return Ok(None);
    }
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Ok(Some(time.with_timezone(&Utc)));
    }
    if let Ok(time) = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S") {
        return Ok(Some(time.and_utc()));
    }
    if let Ok(time) = DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z") {
        return Ok(Some(time.with_timezone(&Utc)));
    }
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(Some(date.and_time(NaiveTime::MIN).and_utc()));
    }
    Err(format!("{text:?} is not a time (expected RFC 3339)"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
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
        assert_eq!(parse_time("2026-01-31 18:42:00").unwrap().unwrap().to_rfc3339(), "2026-01-31T18:42:00+00:00");
    }

    proptest! {
        #[test]
        fn any_text_parses_or_errors_without_panicking(text in ".{0,40}") {
            let _ = parse_date(&text);
            let _ = parse_time(&text);
        }
    }
}
