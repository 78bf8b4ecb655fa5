//! The one exponential backoff with jitter, shared by everything that retries later (webhook
//! redelivery, scheduled syncs after a failure).

use std::time::Duration;

use backon::{BackoffBuilder as _, ExponentialBuilder};

/// The wait after `failures` consecutive failures (1 = the first): doubling from `min`, capped at
/// `max`, with jitter.
pub(crate) fn delay(min: Duration, max: Duration, failures: u32) -> Duration {
    let steps = failures.max(1) as usize;
    ExponentialBuilder::default()
        .with_min_delay(min)
        .with_max_delay(max)
        .with_factor(2.0)
        .with_jitter()
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
