//! Scheduled payments: future charges of a saved payment method, each occurrence run by the
//! host's scheduler or an automation — as often as it likes, by as many workers as it has —
//! and charged once.
//!
//! An occurrence's attempts are claims in the host's [`IdempotencyStore`] (`payments:schedule`,
//! key `<schedule>#<n>/<attempt>`): of two workers running it at once one charges and the other
//! is told [`Busy`](OccurrenceOutcome::Busy); a rerun after it was charged is told
//! [`AlreadyCharged`](OccurrenceOutcome::AlreadyCharged); a worker that dies mid-charge leaves
//! a claim that lapses, and the next run charges with the **same** idempotency key, so a
//! gateway that saw the first request answers it instead of charging again. A declined attempt
//! is recorded and the next one is due after the policy's backoff; when the last is declined
//! the outcome carries a `payment.schedule_failed` event for the host's automations.
//!
//! ```no_run
//! # async fn run(gateway: std::sync::Arc<dyn integration_payments::Payments>, store: std::sync::Arc<integration_core::store::MemoryStore>) -> integration_core::Result<()> {
//! use integration_payments::schedule::{Occurrence, RetryPolicy, ScheduledCharges};
//! use integration_payments::{Currency, Money};
//!
//! let tenant = integration_core::TenantId::new("acme")?;
//! let charges = ScheduledCharges::new(gateway, store, tenant, RetryPolicy::default());
//! let rent = Occurrence::new("lease-42", 3, chrono::Utc::now(), Money::new(120_000, Currency::EUR)?, "cus_123", "pm_456");
//! let outcome = charges.run(&rent, chrono::Utc::now()).await?;
//! println!("{outcome:?}");
//! # Ok(()) }
//! ```

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use integration_core::domain::OperationKey;
use integration_core::store::{Claim, IdempotencyStore};
use integration_core::{IntegrationEvent, Result, TenantId};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::money::Money;
use crate::payments::Payments;
use crate::vocabulary::DeclineReason;
use crate::write::{Confirmation, IntentInput};

/// The claims' namespace.
const NAMESPACE: &str = "payments:schedule";

/// One charge of a schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Occurrence {
    /// The schedule's id (the host's: a lease, a subscription, an instalment plan).
    pub schedule: String,
    /// Which occurrence (1, 2, 3…): with the schedule, what makes it one charge.
    pub number: u64,
    /// When it is due.
    pub due: DateTime<Utc>,
    /// How much.
    pub amount: Money,
    /// The customer charged.
    pub customer_id: String,
    /// The saved payment method charged (off session).
    pub payment_method_id: String,
    /// Description on the charge.
    pub description: Option<String>,
}

impl Occurrence {
    /// Occurrence `number` of `schedule`, due at `due`.
    pub fn new(
        schedule: impl Into<String>,
        number: u64,
        due: DateTime<Utc>,
        amount: Money,
        customer_id: impl Into<String>,
        payment_method_id: impl Into<String>,
    ) -> Self {
        Self {
            schedule: schedule.into(),
            number,
            due,
            amount,
            customer_id: customer_id.into(),
            payment_method_id: payment_method_id.into(),
            description: None,
        }
    }

    fn key(&self, attempt: u32) -> String {
        format!("{}#{}/{attempt}", self.schedule, self.number)
    }
}

/// How a declined occurrence is tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts in all (1: never again).
    pub attempts: u32,
    /// The wait before the second attempt; each later one waits twice the one before.
    pub backoff: Duration,
    /// How long a worker may hold an attempt before another may take it over (a worker that
    /// died).
    pub claim_for: Duration,
}

impl Default for RetryPolicy {
    /// Four attempts, a day apart then doubling (dunning's usual rhythm); claims held five
    /// minutes.
    fn default() -> Self {
        Self { attempts: 4, backoff: Duration::from_secs(24 * 3600), claim_for: Duration::from_secs(300) }
    }
}

impl RetryPolicy {
    /// `attempts` in all, `backoff` before the second.
    pub fn new(attempts: u32, backoff: Duration) -> Self {
        Self { attempts: attempts.max(1), backoff, ..Self::default() }
    }

    /// When attempt `attempt` (1-based) of an occurrence due at `due` is due.
    pub fn due(&self, due: DateTime<Utc>, attempt: u32) -> DateTime<Utc> {
        if attempt <= 1 {
            return due;
        }
        let factor = 2_u32.saturating_pow(attempt - 2);
        let wait = self.backoff.saturating_mul(factor);
        due + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX)
    }
}

/// What running an occurrence came to.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum OccurrenceOutcome {
    /// Charged now: the payment intent's id.
    Charged {
        /// The payment intent.
        intent_id: String,
    },
    /// Charged before (a rerun, or another worker finished it).
    AlreadyCharged {
        /// The payment intent.
        intent_id: String,
    },
    /// Another worker is running it now.
    Busy,
    /// Not due yet (or the next attempt is not).
    NotDue {
        /// When it is.
        at: DateTime<Utc>,
    },
    /// This attempt was declined; the next is due at `retry_at`.
    Declined {
        /// Which attempt.
        attempt: u32,
        /// Why.
        reason: DeclineReason,
        /// When the next attempt is due.
        retry_at: DateTime<Utc>,
    },
    /// Failed before: its event was raised then, once.
    AlreadyFailed {
        /// The last reason.
        reason: String,
    },
    /// Every attempt was declined (or the customer must act, which off session they cannot):
    /// `event` (`payment.schedule_failed`) is for the host's automations — raised once, by the
    /// run that saw the failure.
    Failed {
        /// The last reason.
        reason: String,
        /// The event to raise.
        event: IntegrationEvent,
    },
}

/// Runs occurrences of scheduled charges through a gateway, each charged once.
#[derive(Debug, Clone)]
pub struct ScheduledCharges {
    gateway: Arc<dyn Payments>,
    claims: Arc<dyn IdempotencyStore>,
    tenant: TenantId,
    policy: RetryPolicy,
}

impl ScheduledCharges {
    /// Charges through `gateway`, claiming occurrences in `claims` for `tenant`.
    pub fn new(
        gateway: Arc<dyn Payments>,
        claims: Arc<dyn IdempotencyStore>,
        tenant: TenantId,
        policy: RetryPolicy,
    ) -> Self {
        Self { gateway, claims, tenant, policy }
    }

    /// Runs `occurrence` as of `now`: the first attempt not yet done, if it is due.
    ///
    /// # Errors
    /// The store's or the gateway's error (a transient one leaves the attempt to the next run,
    /// with the same idempotency key).
    pub async fn run(&self, occurrence: &Occurrence, now: DateTime<Utc>) -> Result<OccurrenceOutcome> {
        let mut last_reason = None;
        for attempt in 1..=self.policy.attempts {
            let key = occurrence.key(attempt);
            let due = self.policy.due(occurrence.due, attempt);
            let claim = self.claims.claim(&self.tenant, NAMESPACE, &key, self.policy.claim_for).await?;
            let token = match claim {
                Claim::Completed { outcome, .. } => {
                    let outcome = outcome.unwrap_or_default();
                    if let Some(intent_id) = outcome.get("charged").and_then(Value::as_str) {
                        return Ok(OccurrenceOutcome::AlreadyCharged { intent_id: intent_id.to_owned() });
                    }
                    last_reason = outcome.get("declined").and_then(Value::as_str).map(str::to_owned);
                    continue;
                }
                Claim::InProgress { .. } => return Ok(OccurrenceOutcome::Busy),
                Claim::Acquired(token) => token,
                _ => return Ok(OccurrenceOutcome::Busy),
            };
            if now < due {
                self.claims.release(&token).await?;
                return Ok(OccurrenceOutcome::NotDue { at: due });
            }
            let mut intent = IntentInput::new(occurrence.amount);
            intent.customer_id = Some(occurrence.customer_id.clone());
            intent.payment_method_id = Some(occurrence.payment_method_id.clone());
            intent.confirm = true;
            intent.description.clone_from(&occurrence.description);
            intent.metadata.insert("schedule".into(), occurrence.schedule.clone());
            intent.metadata.insert("occurrence".into(), occurrence.number.to_string());
            // The same key on every run of this attempt: a gateway that saw it answers it again.
            let charged = self.gateway.create_intent(&OperationKey::new(key)?, &intent).await;
            let confirmation = match charged {
                Ok(confirmation) => confirmation,
                Err(error) => {
                    self.claims.release(&token).await?;
                    return Err(error);
                }
            };
            match confirmation {
                Confirmation::Succeeded { intent } | Confirmation::Processing { intent } => {
                    let intent_id = intent.remote_id.clone();
                    self.claims.complete(&token, Some(json!({ "charged": intent_id }))).await?;
                    return Ok(OccurrenceOutcome::Charged { intent_id });
                }
                Confirmation::Declined { reason, .. } => {
                    self.claims.complete(&token, Some(json!({ "declined": reason.as_str() }))).await?;
                    last_reason = Some(reason.as_str().to_owned());
                    if attempt < self.policy.attempts {
                        let retry_at = self.policy.due(occurrence.due, attempt + 1);
                        return Ok(OccurrenceOutcome::Declined { attempt, reason, retry_at });
                    }
                }
                Confirmation::RequiresAction { .. } => {
                    // Off session the customer cannot authenticate: no further attempt helps.
                    self.claims.complete(&token, Some(json!({ "declined": "authentication_required" }))).await?;
                    return self.failed(occurrence, "authentication_required".to_owned()).await;
                }
            }
        }
        self.failed(occurrence, last_reason.unwrap_or_else(|| "declined".into())).await
    }

    /// The occurrence's failure, its event raised by the first run that sees it.
    async fn failed(&self, occurrence: &Occurrence, reason: String) -> Result<OccurrenceOutcome> {
        let key = format!("{}#{}/failed", occurrence.schedule, occurrence.number);
        let token = match self.claims.claim(&self.tenant, NAMESPACE, &key, self.policy.claim_for).await? {
            Claim::Acquired(token) => token,
            Claim::Completed { .. } => return Ok(OccurrenceOutcome::AlreadyFailed { reason }),
            _ => return Ok(OccurrenceOutcome::Busy),
        };
        self.claims.complete(&token, Some(json!({ "failed": reason }))).await?;
        let payload = json!({
            "schedule": occurrence.schedule,
            "occurrence": occurrence.number,
            "amount": occurrence.amount.to_decimal().to_string(),
            "currency": occurrence.amount.currency().code(),
            "customer_id": occurrence.customer_id,
            "reason": reason,
        });
        Ok(OccurrenceOutcome::Failed { reason, event: IntegrationEvent::new("payment.schedule_failed", payload) })
    }
}
