//! Client-side rate limiting: one GCRA limiter (the `governor` crate) per provider × tenant, on
//! tokio's clock, with a first-come-first-served queue in front of it.
//!
//! Waiting is **fair**: a request that finds others waiting queues behind them (tokio's mutex
//! is FIFO) instead of racing them for the next free slot. It is **cancellation-safe**: a
//! request dropped while it waits has taken no slot, and the next in line moves up.

use std::sync::Arc;

use governor::clock::Clock;
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter as Gcra};
use tokio::time::{Duration, Instant};

use super::policy::RateLimit;
use crate::ids::{ProviderId, TenantId};
use crate::per_key::PerKey;

/// governor's clock, read from tokio's (so a paused test clock drives it).
#[derive(Debug, Clone, Copy)]
struct TokioClock {
    epoch: Instant,
}

impl Clock for TokioClock {
    type Instant = Nanos;

    fn now(&self) -> Nanos {
        Nanos::from(Instant::now().saturating_duration_since(self.epoch))
    }
}

type Limiter = Gcra<NotKeyed, InMemoryState, TokioClock, NoOpMiddleware<Nanos>>;

/// The limiter for one provider × tenant.
#[derive(Debug)]
pub(crate) struct KeyLimiter {
    limiter: Limiter,
    clock: TokioClock,
    queue: tokio::sync::Mutex<()>,
}

impl KeyLimiter {
    fn new(limit: RateLimit) -> Self {
        let clock = TokioClock { epoch: Instant::now() };
        let quota = Quota::with_period(limit.interval())
            .unwrap_or_else(|| Quota::per_second(limit.requests))
            .allow_burst(limit.burst);
        Self { limiter: Gcra::direct_with_clock(quota, clock), clock, queue: tokio::sync::Mutex::new(()) }
    }

    /// Waits for a slot; returns how long it waited.
    pub(crate) async fn until_ready(&self) -> Duration {
        if let Ok(_alone) = self.queue.try_lock()
            && self.limiter.check().is_ok()
        {
            return Duration::ZERO;
        }
        let started = Instant::now();
        let _turn = self.queue.lock().await;
        loop {
            match self.limiter.check() {
                Ok(()) => return started.elapsed(),
                Err(not_until) => {
                    let now = self.clock.now();
                    let wait = not_until.wait_time_from(now).max(Duration::from_nanos(1));
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }
}

/// Whose quota: a provider, and the tenant when the client has one.
type LimiterKey = (ProviderId, Option<TenantId>);

/// The process's limiters, one per provider × tenant. The first limit seen for a key is kept.
#[derive(Debug, Default)]
pub(crate) struct RateLimiters {
    limiters: PerKey<LimiterKey, KeyLimiter>,
}

impl RateLimiters {
    /// The limiter for `provider` × `tenant`.
    pub(crate) fn limiter(
        &self,
        provider: &ProviderId,
        tenant: Option<&TenantId>,
        limit: RateLimit,
    ) -> Arc<KeyLimiter> {
        self.limiters.get_or_make(&(provider.clone(), tenant.cloned()), || KeyLimiter::new(limit))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn provider() -> ProviderId {
        ProviderId::new("bamboohr").expect("valid")
    }

    #[tokio::test(start_paused = true)]
    async fn admits_the_burst_then_the_steady_rate() {
        let limiter = KeyLimiter::new(RateLimit::per_second(10).with_burst(3));
        let start = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.until_ready().await, Duration::ZERO);
        }
        for n in 1..=5u32 {
            limiter.until_ready().await;
            assert_eq!(start.elapsed(), Duration::from_millis(100) * n, "request {n} after the burst");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn waiters_are_served_in_arrival_order() {
        let limiter = Arc::new(KeyLimiter::new(RateLimit::per_second(1).with_burst(1)));
        limiter.until_ready().await;
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for i in 0..5 {
            let (limiter, order) = (Arc::clone(&limiter), Arc::clone(&order));
            tasks.push(tokio::spawn(async move {
                limiter.until_ready().await;
                order.lock().expect("lock").push(i);
            }));
            tokio::task::yield_now().await; // let it queue before the next arrives
        }
        for task in tasks {
            task.await.expect("task");
        }
        assert_eq!(*order.lock().expect("lock"), vec![0, 1, 2, 3, 4]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_cancelled_waiter_takes_no_slot() {
        let limiter = Arc::new(KeyLimiter::new(RateLimit::per_second(1).with_burst(1)));
        limiter.until_ready().await;
        let served = Arc::new(AtomicUsize::new(0));
        let cancelled = {
            let limiter = Arc::clone(&limiter);
            tokio::spawn(async move { limiter.until_ready().await })
        };
        tokio::task::yield_now().await;
        cancelled.abort();
        let start = Instant::now();
        limiter.until_ready().await;
        served.fetch_add(1, Ordering::SeqCst);
        assert_eq!(start.elapsed(), Duration::from_secs(1), "the next slot went to the live waiter");
        assert_eq!(served.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn tenants_have_separate_limits_and_providers_too() {
        let limiters = RateLimiters::default();
        let limit = RateLimit::per_minute(1);
        let a = TenantId::new("a").expect("valid");
        let b = TenantId::new("b").expect("valid");
        let other = ProviderId::new("workday").expect("valid");
        let start = Instant::now();
        limiters.limiter(&provider(), Some(&a), limit).until_ready().await;
        limiters.limiter(&provider(), Some(&b), limit).until_ready().await;
        limiters.limiter(&other, Some(&a), limit).until_ready().await;
        assert_eq!(start.elapsed(), Duration::ZERO);
        limiters.limiter(&provider(), Some(&a), limit).until_ready().await;
        assert_eq!(start.elapsed(), Duration::from_secs(60));
    }
}
