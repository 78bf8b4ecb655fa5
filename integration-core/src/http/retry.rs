//! When a failed attempt is retried, and after how long.
//!
//! An error is retried when all of these hold:
//! - its kind is retryable ([`Transient`](ErrorKind::Transient), [`RateLimited`](ErrorKind::RateLimited));
//!   an open circuit fails fast instead;
//! - the request is safe to repeat: its method is idempotent (GET, HEAD, OPTIONS, PUT, DELETE,
//!   TRACE), or it carries an idempotency key, or it certainly did not take effect — it never
//!   left (a refused connection) or the provider refused it with a 429;
//! - attempts remain, the provider's budget allows one more retry, and the wait ends before the
//!   operation's deadline.
//!
//! The wait is the provider's (`Retry-After` in seconds or as a date, or a rate-limit reset
//! header) when it gave one — up to [`RetryPolicy::max_retry_after`] — and otherwise full-jitter
//! exponential backoff.
//!
//! The final error says what the retries said: one not retried because the request may have
//! taken effect and is not safe to repeat answers `false` to
//! [`Error::is_retryable`](crate::Error::is_retryable), whatever its kind; one that ran out of
//! attempts, budget or time keeps `true` (a later try may succeed).

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use tower::retry::budget::{Budget as _, TpsBudget};

use super::policy::RetryPolicy;
use crate::backoff::full_jitter;
use crate::error::{Delivery, Error, ErrorKind};
use crate::ids::ProviderId;
use crate::per_key::PerKey;

/// Why a retryable-looking error is not retried; becomes part of the final error's message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Retry after this long.
    RetryAfter(Duration),
    /// Not retryable at all.
    Final,
    /// Retryable, but the request may have taken effect and is not safe to repeat.
    Unsafe,
    /// No attempts left.
    Exhausted,
    /// The provider's retry budget is spent.
    OverBudget,
    /// The provider asked for a wait longer than allowed.
    WaitTooLong(Duration),
    /// The next wait (the provider's or the backoff's) would end after the operation's deadline.
    PastDeadline(Duration),
}

impl Verdict {
    /// What to add to the final error's message.
    pub(crate) fn explanation(self, attempts: u32) -> Option<String> {
        match self {
            Self::RetryAfter(_) | Self::Final => None,
            Self::Unsafe => Some(
                "not retried: the request may have reached the provider and is neither idempotent nor sent with an idempotency key"
                    .to_owned(),
            ),
            Self::Exhausted => Some(format!("gave up after {attempts} attempts")),
            Self::OverBudget => Some("not retried: the provider's retry budget is spent".to_owned()),
            Self::WaitTooLong(wait) => Some(format!("not retried: the provider asked to wait {wait:?}")),
            Self::PastDeadline(wait) => {
                Some(format!("not retried: waiting {wait:?} for the next attempt would pass the operation's deadline"))
            }
        }
    }
}

/// Whether repeating `method` cannot duplicate an effect.
pub(crate) fn is_idempotent(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS | Method::PUT | Method::DELETE | Method::TRACE)
}

/// The decision after attempt number `attempt` (1-based) failed with `error`. `remaining` is the
/// time left before the operation's deadline, if it has one.
pub(crate) fn decide(
    policy: &RetryPolicy,
    budget: &TpsBudget,
    error: &Error,
    attempt: u32,
    safe_to_repeat: bool,
    remaining: Option<Duration>,
) -> Verdict {
    if !error.is_retryable() || error.kind() == ErrorKind::CircuitOpen {
        return Verdict::Final;
    }
    let certainly_not_applied = match error.delivery() {
        Delivery::NotSent => true,
        Delivery::Responded => error.kind() == ErrorKind::RateLimited,
        _ => false,
    };
    if !safe_to_repeat && !certainly_not_applied {
        return Verdict::Unsafe;
    }
    if attempt >= policy.max_attempts {
        return Verdict::Exhausted;
    }
    let wait = match error.retry_after() {
        Some(asked) if asked > policy.max_retry_after => return Verdict::WaitTooLong(asked),
        Some(asked) => asked,
        None => full_jitter(policy.base_delay, policy.max_delay, attempt),
    };
    if remaining.is_some_and(|left| wait >= left) {
        return Verdict::PastDeadline(wait);
    }
    if !budget.withdraw() {
        return Verdict::OverBudget;
    }
    Verdict::RetryAfter(wait)
}

/// The process's retry budgets, one per provider (every tenant's requests to a provider share it:
/// an outage is the provider's).
#[derive(Debug, Default)]
pub(crate) struct RetryBudgets {
    budgets: PerKey<ProviderId, TpsBudget>,
}

impl RetryBudgets {
    /// The budget for `provider`.
    pub(crate) fn budget(&self, provider: &ProviderId, policy: &RetryPolicy) -> Arc<TpsBudget> {
        self.budgets.get_or_make(provider, || {
            let percent = policy.budget_percent as f32 / 100.0;
            TpsBudget::new(Duration::from_secs(10), policy.budget_min_per_second, percent.clamp(0.0, 1000.0))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget() -> TpsBudget {
        TpsBudget::new(Duration::from_secs(10), 100, 1.0)
    }

    fn transient(delivery: Delivery) -> Error {
        Error::new(ErrorKind::Transient, "boom").with_delivery(delivery)
    }

    #[test]
    fn only_requests_safe_to_repeat_are_retried_once_they_may_have_arrived() {
        let policy = RetryPolicy::standard();
        let sent = transient(Delivery::MaybeSent);
        assert!(matches!(decide(&policy, &budget(), &sent, 1, true, None), Verdict::RetryAfter(_)));
        assert_eq!(decide(&policy, &budget(), &sent, 1, false, None), Verdict::Unsafe);
        let refused = transient(Delivery::NotSent);
        assert!(matches!(decide(&policy, &budget(), &refused, 1, false, None), Verdict::RetryAfter(_)));
        let throttled = Error::new(ErrorKind::RateLimited, "429")
            .with_delivery(Delivery::Responded)
            .with_retry_after(Duration::from_secs(3));
        assert_eq!(decide(&policy, &budget(), &throttled, 1, false, None), Verdict::RetryAfter(Duration::from_secs(3)));
        let unavailable = transient(Delivery::Responded);
        assert_eq!(decide(&policy, &budget(), &unavailable, 1, false, None), Verdict::Unsafe);
    }

    #[test]
    fn attempts_waits_and_budget_bound_retries() {
        let policy = RetryPolicy::standard().with_max_attempts(3).with_max_retry_after(Duration::from_secs(60));
        let err = transient(Delivery::MaybeSent);
        assert_eq!(decide(&policy, &budget(), &err, 3, true, None), Verdict::Exhausted);
        let long = transient(Delivery::MaybeSent).with_retry_after(Duration::from_secs(61));
        assert_eq!(decide(&policy, &budget(), &long, 1, true, None), Verdict::WaitTooLong(Duration::from_secs(61)));
        let past_deadline = transient(Delivery::MaybeSent).with_retry_after(Duration::from_secs(5));
        assert_eq!(
            decide(&policy, &budget(), &past_deadline, 1, true, Some(Duration::from_secs(4))),
            Verdict::PastDeadline(Duration::from_secs(5))
        );
        let empty = TpsBudget::new(Duration::from_secs(10), 0, 0.0);
        assert_eq!(decide(&policy, &empty, &err, 1, true, None), Verdict::OverBudget);
        let not_found = Error::not_found("gone");
        assert_eq!(decide(&policy, &budget(), &not_found, 1, true, None), Verdict::Final);
        let open = Error::new(ErrorKind::CircuitOpen, "open");
        assert_eq!(decide(&policy, &budget(), &open, 1, true, None), Verdict::Final);
    }

    #[test]
    fn the_budget_allows_a_share_of_deposits() {
        let budget = TpsBudget::new(Duration::from_secs(10), 0, 0.5);
        for _ in 0..10 {
            budget.deposit();
        }
        let allowed = (0..100).filter(|_| budget.withdraw()).count();
        assert_eq!(allowed, 5, "50 % of 10 requests");
    }
}
