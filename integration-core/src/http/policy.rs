//! [`HttpPolicy`]: how one provider's requests are timed out, retried, broken and rate limited.
//!
//! A provider declares its policy in its [`Descriptor`](crate::Descriptor); the
//! [`HttpClient`](super::HttpClient) applies it. Every part has a preset and `with_*` setters.

use std::num::NonZeroU32;
use std::time::Duration;

use serde::Serialize;

/// The whole policy for one provider.
///
/// ```
/// use std::time::Duration;
/// use integration_core::http::{HttpPolicy, RateLimit, RetryPolicy, Timeouts};
///
/// let policy = HttpPolicy::standard()
///     .with_rate_limit(RateLimit::per_second(10).with_burst(20))
///     .with_retry(RetryPolicy::standard().with_max_attempts(5))
///     .with_timeouts(Timeouts::standard().with_attempt(Some(Duration::from_secs(10))));
/// assert_eq!(policy.retry.max_attempts, 5);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct HttpPolicy {
    /// Per-attempt and whole-operation timeouts.
    pub timeouts: Timeouts,
    /// When and how often to retry.
    pub retry: RetryPolicy,
    /// The provider's rate limit, per tenant; `None` for no client-side limit.
    pub rate_limit: Option<RateLimit>,
    /// When to stop calling a failing host.
    pub circuit: CircuitPolicy,
    /// The largest response body read into memory; a larger one is an error.
    pub max_body_bytes: usize,
    /// The header that carries an idempotency key (`Idempotency-Key` unless the provider differs).
    pub idempotency_header: String,
    /// The response header in which the provider explains a failure (BambooHR's
    /// `X-BambooHR-Error-Message`), used for the error's message when the body has none.
    pub error_message_header: Option<String>,
    /// A JSON pointer to where the provider explains failures in an error body
    /// (`/error/message`), kept as a note on the error.
    pub error_message_pointer: Option<String>,
}

impl HttpPolicy {
    /// Timeouts, retries and a circuit breaker on; no rate limit (providers declare theirs).
    pub fn standard() -> Self {
        Self {
            timeouts: Timeouts::standard(),
            retry: RetryPolicy::standard(),
            rate_limit: None,
            circuit: CircuitPolicy::standard(),
            max_body_bytes: 32 * 1024 * 1024,
            idempotency_header: "Idempotency-Key".to_owned(),
            error_message_header: None,
            error_message_pointer: None,
        }
    }

    /// Nothing but the body limit: no timeouts, no retries, no circuit breaker, no rate limit.
    pub fn disabled() -> Self {
        Self {
            timeouts: Timeouts::disabled(),
            retry: RetryPolicy::disabled(),
            rate_limit: None,
            circuit: CircuitPolicy::disabled(),
            ..Self::standard()
        }
    }

    /// Sets the timeouts.
    #[must_use]
    pub fn with_timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// Sets the retry policy.
    #[must_use]
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Sets the rate limit.
    #[must_use]
    pub fn with_rate_limit(mut self, rate_limit: RateLimit) -> Self {
        self.rate_limit = Some(rate_limit);
        self
    }

    /// Sets the circuit breaker.
    #[must_use]
    pub fn with_circuit(mut self, circuit: CircuitPolicy) -> Self {
        self.circuit = circuit;
        self
    }

    /// Sets the largest body read into memory.
    #[must_use]
    pub fn with_max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    /// Sets the idempotency-key header name.
    #[must_use]
    pub fn with_idempotency_header(mut self, header: impl Into<String>) -> Self {
        self.idempotency_header = header.into();
        self
    }

    /// Sets the header in which the provider explains failures.
    #[must_use]
    pub fn with_error_message_header(mut self, header: impl Into<String>) -> Self {
        self.error_message_header = Some(header.into());
        self
    }

    /// Sets the JSON pointer to the provider's explanation in an error body.
    #[must_use]
    pub fn with_error_message_pointer(mut self, pointer: impl Into<String>) -> Self {
        self.error_message_pointer = Some(pointer.into());
        self
    }
}

impl Default for HttpPolicy {
    fn default() -> Self {
        Self::standard()
    }
}

/// Timeouts for one attempt and for the whole operation (every attempt and every wait).
///
/// The connect timeout belongs to the connection pool and is set on
/// [`HttpClientBuilder::connect_timeout`](super::HttpClientBuilder::connect_timeout).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Timeouts {
    /// One attempt: sending the request and reading the whole response body. For a streamed
    /// response ([`Request::send_streaming`](super::Request::send_streaming)): until its head,
    /// then the longest wait for each chunk of its body.
    pub attempt: Option<Duration>,
    /// The whole operation, retries and waits included (for a streamed response: until its
    /// head; the body takes as long as it takes, chunk by chunk).
    pub operation: Option<Duration>,
}

impl Timeouts {
    /// 30 s per attempt, 2 min for the operation.
    pub const fn standard() -> Self {
        Self { attempt: Some(Duration::from_secs(30)), operation: Some(Duration::from_secs(120)) }
    }

    /// No timeouts.
    pub const fn disabled() -> Self {
        Self { attempt: None, operation: None }
    }

    /// Sets the per-attempt timeout.
    #[must_use]
    pub const fn with_attempt(mut self, timeout: Option<Duration>) -> Self {
        self.attempt = timeout;
        self
    }

    /// Sets the whole-operation timeout.
    #[must_use]
    pub const fn with_operation(mut self, timeout: Option<Duration>) -> Self {
        self.operation = timeout;
        self
    }
}

/// Retries: exponential backoff with full jitter, the provider's requested delay when it gives
/// one, and a budget shared by every request to the provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 = never retry).
    pub max_attempts: u32,
    /// The backoff cap for the first retry; it doubles with each further retry.
    pub base_delay: Duration,
    /// The largest computed backoff.
    pub max_delay: Duration,
    /// The longest provider-requested wait (`Retry-After`, reset headers) honoured; a longer one
    /// ends the operation with the `RateLimited` error, which carries the delay.
    pub max_retry_after: Duration,
    /// Retries allowed per first attempt, in percent, over the budget's window (20 = one retry
    /// per five requests), so an outage does not multiply traffic.
    pub budget_percent: u32,
    /// Retries always allowed per second, whatever the ratio.
    pub budget_min_per_second: u32,
}

impl RetryPolicy {
    /// 4 attempts, 200 ms doubling to 10 s, Retry-After honoured up to 60 s, a 20 % budget with
    /// 10 retries per second always allowed.
    pub fn standard() -> Self {
        Self {
            max_attempts: 4,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(60),
            budget_percent: 20,
            budget_min_per_second: 10,
        }
    }

    /// One attempt, never retried.
    pub fn disabled() -> Self {
        Self { max_attempts: 1, ..Self::standard() }
    }

    /// Sets the number of attempts (at least 1).
    #[must_use]
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// Sets the backoff range.
    #[must_use]
    pub fn with_backoff(mut self, base: Duration, max: Duration) -> Self {
        self.base_delay = base;
        self.max_delay = max.max(base);
        self
    }

    /// Sets the longest provider-requested wait honoured.
    #[must_use]
    pub fn with_max_retry_after(mut self, max: Duration) -> Self {
        self.max_retry_after = max;
        self
    }

    /// Sets the retry budget.
    #[must_use]
    pub fn with_budget(mut self, percent: u32, min_per_second: u32) -> Self {
        self.budget_percent = percent;
        self.budget_min_per_second = min_per_second;
        self
    }
}

/// A provider's request rate, enforced per tenant (GCRA): `requests` per `period`, with bursts
/// of up to `burst`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RateLimit {
    /// Requests allowed per period.
    pub requests: NonZeroU32,
    /// The period.
    pub period: Duration,
    /// The largest burst.
    pub burst: NonZeroU32,
}

impl RateLimit {
    /// `requests` per `period` (0 is taken as 1), burst of the same size.
    pub fn new(requests: u32, period: Duration) -> Self {
        let requests = NonZeroU32::new(requests).unwrap_or(NonZeroU32::MIN);
        Self { requests, period: period.max(Duration::from_nanos(1)), burst: requests }
    }

    /// `requests` per second.
    pub fn per_second(requests: u32) -> Self {
        Self::new(requests, Duration::from_secs(1))
    }

    /// `requests` per minute.
    pub fn per_minute(requests: u32) -> Self {
        Self::new(requests, Duration::from_secs(60))
    }

    /// Sets the burst (0 is taken as 1).
    #[must_use]
    pub fn with_burst(mut self, burst: u32) -> Self {
        self.burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
        self
    }

    /// The time between two requests at the steady rate.
    pub fn interval(&self) -> Duration {
        (self.period / self.requests.get()).max(Duration::from_nanos(1))
    }
}

/// When the circuit for a host opens, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct CircuitPolicy {
    /// Whether the breaker is on.
    pub enabled: bool,
    /// Consecutive failures that open the circuit.
    pub consecutive_failures: u32,
    /// The failure ratio, in percent, over `window` that opens the circuit...
    pub failure_percent: u32,
    /// ...once the window holds at least this many outcomes.
    pub min_requests: u32,
    /// The window over which the ratio is computed.
    pub window: Duration,
    /// How long an open circuit fails fast before it lets one probe through.
    pub open_for: Duration,
}

impl CircuitPolicy {
    /// Opens after 5 consecutive failures, or 50 % of at least 20 outcomes in 30 s; stays open
    /// 30 s.
    pub const fn standard() -> Self {
        Self {
            enabled: true,
            consecutive_failures: 5,
            failure_percent: 50,
            min_requests: 20,
            window: Duration::from_secs(30),
            open_for: Duration::from_secs(30),
        }
    }

    /// Never opens.
    pub const fn disabled() -> Self {
        Self { enabled: false, ..Self::standard() }
    }

    /// Sets the consecutive failures that open the circuit.
    #[must_use]
    pub const fn with_consecutive_failures(mut self, failures: u32) -> Self {
        self.consecutive_failures = failures;
        self
    }

    /// Sets the failure ratio, its minimum sample and window.
    #[must_use]
    pub const fn with_failure_ratio(mut self, percent: u32, min_requests: u32, window: Duration) -> Self {
        self.failure_percent = percent;
        self.min_requests = min_requests;
        self.window = window;
        self
    }

    /// Sets how long the circuit stays open.
    #[must_use]
    pub const fn with_open_for(mut self, open_for: Duration) -> Self {
        self.open_for = open_for;
        self
    }
}
