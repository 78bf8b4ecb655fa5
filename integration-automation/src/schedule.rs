//! Cron schedules, parsed and evaluated by the [`croner`] crate, read in an IANA time zone.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use integration_automation::schedule::Cron;
//!
//! let weekdays_at_nine = Cron::parse("0 9 * * MON-FRI").unwrap();
//! let friday_evening = Utc.with_ymd_and_hms(2026, 11, 20, 18, 0, 0).unwrap();
//! let next = weekdays_at_nine.next_after(friday_evening, chrono_tz::Europe::Berlin).unwrap();
//! // Monday 09:00 in Berlin is 08:00 UTC in November.
//! assert_eq!(next, Utc.with_ymd_and_hms(2026, 11, 23, 8, 0, 0).unwrap());
//! assert!(Cron::parse("61 * * * *").is_err());
//! ```

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use integration_core::{Error, Result};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A parsed cron expression (five fields: minute, hour, day of month, month, day of week).
#[derive(Clone)]
pub struct Cron {
    source: String,
    parsed: croner::Cron,
}

impl Cron {
    /// Parses `source`; an invalid expression is a `Validation` error saying why.
    pub fn parse(source: &str) -> Result<Self> {
        let parsed = croner::Cron::from_str(source).map_err(|e| {
            Error::validation(
                "cron",
                format!("{source:?} is not a cron expression ({e}); write five fields: minute hour day-of-month month day-of-week"),
            )
        })?;
        Ok(Self { source: source.to_owned(), parsed })
    }

    /// The expression as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The first time strictly after `after` that matches, reading the expression in `zone`.
    pub fn next_after(&self, after: DateTime<Utc>, zone: Tz) -> Option<DateTime<Utc>> {
        self.parsed.find_next_occurrence(&after.with_timezone(&zone), false).ok().map(|t| t.with_timezone(&Utc))
    }

    /// Every matching time in `(from, to]`, at most `limit` of them.
    pub fn between(&self, from: DateTime<Utc>, to: DateTime<Utc>, zone: Tz, limit: usize) -> Vec<DateTime<Utc>> {
        let mut out = Vec::new();
        let mut at = from;
        while out.len() < limit {
            match self.next_after(at, zone) {
                Some(next) if next <= to => {
                    out.push(next);
                    at = next;
                }
                _ => break,
            }
        }
        out
    }
}

impl fmt::Debug for Cron {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Cron").field(&self.source).finish()
    }
}

impl PartialEq for Cron {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Serialize for Cron {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.source)
    }
}

impl<'de> Deserialize<'de> for Cron {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let source = String::deserialize(d)?;
        Self::parse(&source).map_err(|e| serde::de::Error::custom(e.message()))
    }
}
