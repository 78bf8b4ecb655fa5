//! The one exponential backoff with jitter, shared by everything that retries later (webhook
//! redelivery, scheduled syncs after a failure, automation steps).
//!
//! ```
//! use std::time::Duration;
//! use integration_core::backoff::delay;
//!
//! let wait = delay(Duration::from_secs(1), Duration::from_secs(60), 3);
//! assert!(wait >= Duration::from_secs(4) && wait <= Duration::from_secs(60));
//! ```

use std::time::Duration;

use backon::{BackoffBuilder as _, ExponentialBuilder};

/// The wait after `failures` consecutive failures (1 = the first): doubling from `min`, capped at
/// `max`, with jitter.
pub fn delay(min: Duration, max: Duration, failures: u32) -> Duration {
    nth_delay(ExponentialBuilder::default().with_jitter(), min, max, failures)
}

/// The `n`-th delay (1 = the first) of `builder`, doubling from `min`, capped at `max`.
fn nth_delay(builder: ExponentialBuilder, min: Duration, max: Duration, n: u32) -> Duration {
    let steps = n.max(1) as usize;
    builder
        .with_min_delay(min)
        .with_max_delay(max)
        .with_factor(2.0)
        .with_max_times(steps)
        .build()
        .nth(steps - 1)
        .unwrap_or(max)
        .min(max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_and_stay_within_bounds() {
        let (min, max) = (Duration::from_millis(100), Duration::from_secs(10));
        for failures in 1..20 {
            let d = delay(min, max, failures);
            assert!(d <= max, "{failures}: {d:?}");
            let floor = (min * 2u32.saturating_pow(failures - 1)).min(max);
            assert!(d >= floor.min(max), "{failures}: {d:?} below {floor:?}");
        }
    }
}

/// "Full jitter" for the `retry`-th retry (1 = the first): a uniformly random wait between zero
/// and the exponential cap `base · 2^(retry-1)`, itself capped at `max`. Spreads the retries of
/// many clients hit by one outage instead of synchronizing them.
pub(crate) fn full_jitter(base: Duration, max: Duration, retry: u32) -> Duration {
    nth_delay(ExponentialBuilder::default(), base, max, retry).mul_f64(fastrand::f64())
}

#[cfg(test)]
mod full_jitter_tests {
    use super::*;

    #[test]
    fn full_jitter_stays_under_the_doubling_cap_and_spreads() {
        let (base, max) = (Duration::from_millis(100), Duration::from_secs(2));
        for retry in 1..10u32 {
            let cap = (base * 2u32.pow(retry - 1)).min(max);
            let waits: Vec<_> = (0..200).map(|_| full_jitter(base, max, retry)).collect();
            assert!(waits.iter().all(|w| *w <= cap), "retry {retry}");
            assert!(waits.iter().any(|w| *w < cap / 2) && waits.iter().any(|w| *w > cap / 2), "retry {retry} spreads");
        }
    }
}
