//! The circuit breaker, one per provider host: after enough failures calls fail fast with
//! [`ErrorKind::CircuitOpen`] until one probe succeeds.
//!
//! States: **closed** (calls pass; failures are counted) → **open** after
//! [`CircuitPolicy::consecutive_failures`] in a row, or a failure ratio over a window →
//! **half-open** once [`CircuitPolicy::open_for`] has passed (exactly one probe passes) →
//! closed when the probe succeeds, open again when it fails. Only failures that say something
//! about the host count: transport errors, timeouts, 5xx and 408. A 4xx or a 429 is an answer
//! from a healthy host.

use std::sync::{Arc, Mutex, MutexGuard};

use tokio::time::{Duration, Instant};

use super::policy::CircuitPolicy;
use crate::error::{Error, ErrorKind};
use crate::per_key::PerKey;

/// Slices the ratio window is counted in.
const SLICES: usize = 10;

/// What an attempt said about the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The host answered sensibly (any 2xx–4xx).
    Healthy,
    /// A transport failure, a timeout or a 5xx.
    Failure,
}

#[derive(Debug)]
enum Mode {
    Closed,
    Open { until: Instant },
    HalfOpen { probing: bool },
}

#[derive(Debug, Clone, Copy, Default)]
struct Slice {
    index: u64,
    ok: u32,
    failed: u32,
}

#[derive(Debug)]
struct State {
    mode: Mode,
    consecutive: u32,
    slices: [Slice; SLICES],
}

/// One host's breaker.
#[derive(Debug)]
pub(crate) struct CircuitBreaker {
    /// `host:port`, for messages and traces.
    host: String,
    /// The host name's length in `host`.
    name_len: usize,
    port: u16,
    policy: CircuitPolicy,
    epoch: Instant,
    state: Mutex<State>,
}

/// Permission for one attempt; report its outcome with [`Permit::record`]. Dropping it unreported
/// (a cancelled attempt) frees a half-open probe slot without judging the host.
#[derive(Debug)]
pub(crate) struct Permit {
    breaker: Option<Arc<CircuitBreaker>>,
    probe: bool,
}

impl CircuitBreaker {
    fn new(host: &str, port: u16, policy: CircuitPolicy) -> Self {
        let state = State { mode: Mode::Closed, consecutive: 0, slices: [Slice::default(); SLICES] };
        let name_len = host.len();
        let host = format!("{host}:{port}");
        Self { host, name_len, port, policy, epoch: Instant::now(), state: Mutex::new(state) }
    }

    /// Whether this is the breaker of `host` and `port`.
    pub(crate) fn is_for(&self, host: &str, port: u16) -> bool {
        self.port == port && self.host.get(..self.name_len) == Some(host)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Lets an attempt through, or fails fast while the circuit is open.
    pub(crate) fn acquire(self: &Arc<Self>) -> Result<Permit, Error> {
        if !self.policy.enabled {
            return Ok(Permit { breaker: None, probe: false });
        }
        let now = Instant::now();
        let mut state = self.lock();
        let probe = match state.mode {
            Mode::Closed => false,
            Mode::Open { until } if now >= until => {
                state.mode = Mode::HalfOpen { probing: true };
                true
            }
            Mode::HalfOpen { probing: false } => {
                state.mode = Mode::HalfOpen { probing: true };
                true
            }
            Mode::Open { until } => return Err(self.open_error(until.saturating_duration_since(now))),
            Mode::HalfOpen { probing: true } => return Err(self.open_error(Duration::ZERO)),
        };
        drop(state);
        if probe {
            crate::telemetry::circuit_state(&self.host, 1);
            tracing::info!(host = %self.host, "circuit half-open: letting one probe through");
        }
        Ok(Permit { breaker: Some(Arc::clone(self)), probe })
    }

    fn open_error(&self, remaining: Duration) -> Error {
        let message = if remaining.is_zero() {
            format!("the circuit for {} is half-open and its one probe is in flight; failing fast", self.host)
        } else {
            format!(
                "the circuit for {} is open after repeated failures; failing fast for another {remaining:?}",
                self.host
            )
        };
        Error::new(ErrorKind::CircuitOpen, message).with_retry_after(remaining)
    }

    fn record(&self, probe: bool, outcome: Outcome) {
        let now = Instant::now();
        let mut state = self.lock();
        if probe {
            match outcome {
                Outcome::Healthy => {
                    tracing::info!(host = %self.host, "circuit closed: the probe succeeded");
                    crate::telemetry::circuit_state(&self.host, 0);
                    state.mode = Mode::Closed;
                    state.consecutive = 0;
                    state.slices = [Slice::default(); SLICES];
                }
                Outcome::Failure => {
                    tracing::warn!(host = %self.host, "circuit open again: the probe failed");
                    crate::telemetry::circuit_state(&self.host, 2);
                    state.mode = Mode::Open { until: now + self.policy.open_for };
                }
            }
            return;
        }
        if !matches!(state.mode, Mode::Closed) {
            return; // a straggler from before the circuit opened
        }
        let slice = self.slice(&mut state, now);
        match outcome {
            Outcome::Healthy => {
                slice.ok += 1;
                state.consecutive = 0;
            }
            Outcome::Failure => {
                slice.failed += 1;
                state.consecutive += 1;
            }
        }
        if outcome == Outcome::Failure && self.should_open(&state, now) {
            tracing::warn!(host = %self.host, consecutive = state.consecutive, open_for = ?self.policy.open_for, "circuit opened");
            crate::telemetry::circuit_state(&self.host, 2);
            state.mode = Mode::Open { until: now + self.policy.open_for };
        }
    }

    fn slice_len(&self) -> Duration {
        (self.policy.window / SLICES as u32).max(Duration::from_millis(1))
    }

    fn slice_index(&self, now: Instant) -> u64 {
        let elapsed = now.saturating_duration_since(self.epoch).as_nanos();
        u64::try_from(elapsed / self.slice_len().as_nanos()).unwrap_or(u64::MAX)
    }

    fn slice<'a>(&self, state: &'a mut State, now: Instant) -> &'a mut Slice {
        let index = self.slice_index(now);
        let slot = &mut state.slices[(index % SLICES as u64) as usize];
        if slot.index != index {
            *slot = Slice { index, ok: 0, failed: 0 };
        }
        slot
    }

    fn should_open(&self, state: &State, now: Instant) -> bool {
        if self.policy.consecutive_failures > 0 && state.consecutive >= self.policy.consecutive_failures {
            return true;
        }
        let current = self.slice_index(now);
        let (mut ok, mut failed) = (0u64, 0u64);
        for slice in state.slices.iter().filter(|s| current.saturating_sub(s.index) < SLICES as u64) {
            ok += u64::from(slice.ok);
            failed += u64::from(slice.failed);
        }
        let total = ok + failed;
        self.policy.failure_percent > 0
            && total >= u64::from(self.policy.min_requests.max(1))
            && failed * 100 >= u64::from(self.policy.failure_percent) * total
    }

    fn release_probe(&self) {
        let mut state = self.lock();
        if matches!(state.mode, Mode::HalfOpen { probing: true }) {
            state.mode = Mode::HalfOpen { probing: false };
        }
    }
}

impl Permit {
    /// Reports the attempt's outcome.
    pub(crate) fn record(mut self, outcome: Outcome) {
        if let Some(breaker) = self.breaker.take() {
            breaker.record(self.probe, outcome);
        }
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if let Some(breaker) = self.breaker.take()
            && self.probe
        {
            breaker.release_probe();
        }
    }
}

/// The process's breakers, one per host (`host:port`). The first policy seen for a host is
/// the one its breaker keeps.
#[derive(Debug, Default)]
pub(crate) struct Circuits {
    breakers: PerKey<String, CircuitBreaker>,
}

impl Circuits {
    /// The breaker for `host` and `port`.
    pub(crate) fn breaker(&self, host: &str, port: u16, policy: &CircuitPolicy) -> Arc<CircuitBreaker> {
        self.breakers.get_or_make(format!("{host}:{port}").as_str(), || CircuitBreaker::new(host, port, *policy))
    }
}

/// The breaker a client used last, kept at hand: most clients call one host, and finding its
/// breaker in the process's registry (a lock and a hash of `host:port`) on every request would
/// cost more than the breaker itself. Clones of a client share it.
#[derive(Debug, Default, Clone)]
pub(crate) struct LastBreaker {
    last: Arc<Mutex<Option<Arc<CircuitBreaker>>>>,
}

impl LastBreaker {
    /// The breaker for `host` and `port`: the last one if it is theirs, else the registry's.
    pub(crate) fn get(
        &self,
        circuits: &Circuits,
        host: &str,
        port: u16,
        policy: &CircuitPolicy,
    ) -> Arc<CircuitBreaker> {
        let mut last = self.last.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match &*last {
            Some(breaker) if breaker.is_for(host, port) => Arc::clone(breaker),
            _ => {
                let breaker = circuits.breaker(host, port, policy);
                *last = Some(Arc::clone(&breaker));
                breaker
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breaker(policy: CircuitPolicy) -> Arc<CircuitBreaker> {
        Circuits::default().breaker("api.example.com", 443, &policy)
    }

    #[test]
    fn a_client_keeps_the_breaker_of_the_host_it_calls() {
        let (circuits, last) = (Circuits::default(), LastBreaker::default());
        let policy = CircuitPolicy::standard();
        let a = last.get(&circuits, "a.example.com", 443, &policy);
        assert!(a.is_for("a.example.com", 443));
        assert!(!a.is_for("a.example.com", 8443) && !a.is_for("a.example.co", 443));
        assert!(Arc::ptr_eq(&a, &last.get(&circuits, "a.example.com", 443, &policy)));
        let other_port = last.get(&circuits, "a.example.com", 8443, &policy);
        assert!(!Arc::ptr_eq(&a, &other_port), "a port is a host of its own");
        // Back to the first host: the registry's breaker, not a new one.
        assert!(Arc::ptr_eq(&a, &last.get(&circuits, "a.example.com", 443, &policy)));
        assert!(Arc::ptr_eq(&a, &circuits.breaker("a.example.com", 443, &policy)));
    }

    fn fail(b: &Arc<CircuitBreaker>) {
        b.acquire().expect("closed").record(Outcome::Failure);
    }

    #[tokio::test(start_paused = true)]
    async fn opens_after_consecutive_failures_then_probes_and_closes() {
        let policy = CircuitPolicy::standard().with_consecutive_failures(3).with_open_for(Duration::from_secs(30));
        let b = breaker(policy);
        fail(&b);
        b.acquire().expect("closed").record(Outcome::Healthy); // resets the run
        fail(&b);
        fail(&b);
        fail(&b);
        let err = b.acquire().expect_err("open");
        assert_eq!(err.kind(), ErrorKind::CircuitOpen);
        assert_eq!(err.retry_after(), Some(Duration::from_secs(30)));

        tokio::time::advance(Duration::from_secs(30)).await;
        let probe = b.acquire().expect("half-open probe");
        assert_eq!(b.acquire().expect_err("one probe at a time").kind(), ErrorKind::CircuitOpen);
        probe.record(Outcome::Healthy);
        for _ in 0..10 {
            b.acquire().expect("closed again").record(Outcome::Healthy);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_probe_reopens_and_a_dropped_probe_frees_the_slot() {
        let b = breaker(CircuitPolicy::standard().with_consecutive_failures(1).with_open_for(Duration::from_secs(5)));
        fail(&b);
        tokio::time::advance(Duration::from_secs(5)).await;
        drop(b.acquire().expect("probe")); // cancelled: no verdict
        b.acquire().expect("the slot is free again").record(Outcome::Failure);
        let err = b.acquire().expect_err("reopened");
        assert_eq!(err.retry_after(), Some(Duration::from_secs(5)));
    }

    #[tokio::test(start_paused = true)]
    async fn opens_on_the_failure_ratio_within_the_window_only() {
        let policy =
            CircuitPolicy::standard().with_consecutive_failures(0).with_failure_ratio(50, 10, Duration::from_secs(10));
        let b = breaker(policy);
        for _ in 0..5 {
            b.acquire().expect("closed").record(Outcome::Healthy);
            fail(&b);
        }
        assert!(b.acquire().is_err(), "5 of 10 failed: at the ratio");

        // Outcomes older than the window no longer count: 4 failures and 5 successes, then 11 s
        // later one more failure is 1 of 1 — under the minimum sample, so the circuit stays closed.
        let b = breaker(policy);
        for _ in 0..4 {
            fail(&b);
        }
        for _ in 0..5 {
            b.acquire().expect("closed").record(Outcome::Healthy);
        }
        tokio::time::advance(Duration::from_secs(11)).await;
        fail(&b);
        assert!(b.acquire().is_ok(), "the old outcomes left the window");
    }

    #[tokio::test(start_paused = true)]
    async fn a_disabled_breaker_never_opens() {
        let b = breaker(CircuitPolicy::disabled());
        for _ in 0..100 {
            fail(&b);
        }
        assert!(b.acquire().is_ok());
    }
}
