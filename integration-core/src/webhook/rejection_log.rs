//! How many rejected deliveries are written down. Anyone who knows an endpoint's URL can send
//! it unsigned requests; if each one wrote a delivery row and an audit event, they could grow
//! the database without bound. So each endpoint records the first rejections of a window
//! individually (delivery log and audit, as before), then only counts them: one audit event says
//! when that starts, and the first rejection of a later window audits how many were counted, by
//! reason. Counters are per router (per process): bounded by the number of endpoints.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use hashbrown::HashMap;

use crate::ids::{ConnectionId, ProviderId, TenantId};

/// How many rejected deliveries of one endpoint are recorded individually per window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RejectionLimit {
    /// Rejections recorded individually in one window.
    pub per_window: u32,
    /// The window.
    pub window: Duration,
}

impl Default for RejectionLimit {
    /// 100 every 10 minutes.
    fn default() -> Self {
        Self { per_window: 100, window: Duration::from_secs(600) }
    }
}

/// One endpoint.
pub(crate) type Key = (TenantId, ConnectionId, ProviderId);

/// What to do with one rejection.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Record it; `counted` is what the previous window counted without recording, to audit.
    Record { counted: Option<Counted> },
    /// Count it only; `announce` the first time in a window.
    Count { announce: bool },
}

/// Rejections counted without being recorded, by reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Counted {
    /// When the window began.
    pub(crate) since: DateTime<Utc>,
    /// How many, by reason code.
    pub(crate) by_reason: BTreeMap<&'static str, u64>,
}

impl Counted {
    /// `"212 rejected deliveries since ... were counted, not recorded: signature_mismatch 200, ..."`.
    pub(crate) fn describe(&self) -> String {
        let total: u64 = self.by_reason.values().sum();
        let reasons: Vec<String> = self.by_reason.iter().map(|(r, n)| format!("{r} {n}")).collect();
        format!(
            "{total} rejected deliveries from {} on were counted, not recorded individually: {}",
            self.since.to_rfc3339(),
            reasons.join(", ")
        )
    }
}

#[derive(Debug)]
struct Window {
    started: DateTime<Utc>,
    recorded: u32,
    counted: BTreeMap<&'static str, u64>,
}

/// The per-endpoint windows.
#[derive(Debug, Default)]
pub(crate) struct RejectionLog {
    limit: RejectionLimit,
    windows: Mutex<HashMap<Key, Window>>,
}

/// Windows kept before the ended ones are dropped.
const PRUNE_ABOVE: usize = 4096;

impl RejectionLog {
    pub(crate) fn new(limit: RejectionLimit) -> Self {
        Self { limit, windows: Mutex::default() }
    }

    /// What to do with a rejection of `reason` for `key` at `now`.
    pub(crate) fn admit(&self, key: &Key, reason: &'static str, now: DateTime<Utc>) -> Verdict {
        let span = chrono::Duration::from_std(self.limit.window).unwrap_or(chrono::Duration::MAX);
        let mut windows = self.windows.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if windows.len() > PRUNE_ABOVE {
            windows.retain(|_, w| now - w.started < span);
        }
        let fresh = || Window { started: now, recorded: 0, counted: BTreeMap::new() };
        let window = match windows.get_mut(key) {
            Some(window) => window,
            None => windows.entry(key.clone()).or_insert_with(fresh),
        };
        let mut ended = None;
        if now - window.started >= span {
            let old = std::mem::replace(window, fresh());
            if !old.counted.is_empty() {
                ended = Some(Counted { since: old.started, by_reason: old.counted });
            }
        }
        if window.recorded < self.limit.per_window {
            window.recorded += 1;
            return Verdict::Record { counted: ended };
        }
        let announce = window.counted.is_empty();
        *window.counted.entry(reason).or_default() += 1;
        Verdict::Count { announce }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Key {
        (
            TenantId::new("acme").unwrap_or_else(|_| unreachable!()),
            ConnectionId::new("gh").unwrap_or_else(|_| unreachable!()),
            ProviderId::new("github").unwrap_or_else(|_| unreachable!()),
        )
    }

    #[test]
    fn the_first_of_a_window_are_recorded_then_counted_then_summed_up() {
        let log = RejectionLog::new(RejectionLimit { per_window: 2, window: Duration::from_secs(60) });
        let t0 = DateTime::<Utc>::UNIX_EPOCH;
        assert_eq!(log.admit(&key(), "signature_mismatch", t0), Verdict::Record { counted: None });
        assert_eq!(log.admit(&key(), "signature_mismatch", t0), Verdict::Record { counted: None });
        assert_eq!(log.admit(&key(), "signature_mismatch", t0), Verdict::Count { announce: true });
        assert_eq!(log.admit(&key(), "stale_timestamp", t0), Verdict::Count { announce: false });
        let later = t0 + chrono::Duration::seconds(61);
        let Verdict::Record { counted: Some(counted) } = log.admit(&key(), "signature_mismatch", later) else {
            panic!("a new window records again, with the last one's count");
        };
        assert_eq!(counted.by_reason.values().sum::<u64>(), 2);
        assert!(counted.describe().contains("signature_mismatch 1, stale_timestamp 1"), "{}", counted.describe());
    }
}
