//! [`DeliveryWorker`]: processes queued deliveries through a [`DeliveryHandler`], retrying
//! failures with exponential backoff and jitter, then dead-lettering them.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::json;
use tokio::sync::Notify;
use tokio::task::JoinSet;

use crate::clock::{Clock, SystemClock};
use crate::error::{ErrorKind, Result};
use crate::integration::{VerifiedWebhook, WebhookOutcome};
use crate::store::{DeliveryOutcome, DeliveryStore, FinishedDelivery, WebhookDelivery};

/// Does the work a delivery stands for: usually the connection's adapter's
/// [`handle_webhook`](crate::Integration::handle_webhook), then applying its changes.
#[async_trait]
pub trait DeliveryHandler: Send + Sync + fmt::Debug {
    /// Processes one delivery. An error is retried later (or, for kinds that cannot succeed on
    /// a retry — validation, invalid response, unsupported — dead-lettered at once).
    async fn handle(&self, delivery: &WebhookDelivery, webhook: VerifiedWebhook) -> Result<WebhookOutcome>;
}

/// A claimed delivery and what its handler returned.
type Handled = (WebhookDelivery, Result<WebhookOutcome>);

/// Processes the delivery queue.
#[derive(Debug, Clone)]
pub struct DeliveryWorker {
    store: Arc<dyn DeliveryStore>,
    handler: Arc<dyn DeliveryHandler>,
    max_attempts: u32,
    min_delay: Duration,
    max_delay: Duration,
    lease: Duration,
    batch: usize,
    clock: Arc<dyn Clock>,
}

impl DeliveryWorker {
    /// A worker over `store` calling `handler`: 8 attempts, backoff from 5 s to 1 h, a 60 s
    /// lease per claimed delivery, 32 deliveries per claim.
    pub fn new(store: Arc<dyn DeliveryStore>, handler: Arc<dyn DeliveryHandler>) -> Self {
        Self {
            store,
            handler,
            max_attempts: 8,
            min_delay: Duration::from_secs(5),
            max_delay: Duration::from_secs(3600),
            lease: Duration::from_secs(60),
            batch: 32,
            clock: Arc::new(SystemClock),
        }
    }

    /// Sets how many attempts a delivery gets before it is dead-lettered (at least 1).
    #[must_use]
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// Sets the backoff bounds.
    #[must_use]
    pub fn with_backoff(mut self, min: Duration, max: Duration) -> Self {
        self.min_delay = min;
        self.max_delay = max.max(min);
        self
    }

    /// Sets how long a claimed delivery is held before another worker may take it.
    #[must_use]
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// Sets the clock (for tests).
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Claims one batch of due deliveries and processes it; returns how many were processed
    /// (whatever their outcome).
    pub async fn run_once(&self) -> Result<usize> {
        let mut tasks = JoinSet::new();
        let count = self.claim(&mut tasks, self.batch).await?;
        while !tasks.is_empty() {
            self.finish_ready(&mut tasks).await?;
        }
        Ok(count)
    }

    /// Processes deliveries until none is due; returns how many were processed.
    ///
    /// Up to a batch (32) is in hand at once; when half of them are done, more are claimed, so
    /// one slow delivery does not hold up the rest. The deliveries whose handlers have returned
    /// are finished together ([`DeliveryStore::finish_deliveries`]: one commit for them all).
    pub async fn run_until_idle(&self) -> Result<usize> {
        let (mut total, mut tasks, mut drained) = (0, JoinSet::new(), false);
        loop {
            // Fewer than asked means the queue is empty for now: claim again once everything
            // in hand is done (new deliveries may have come), not after each one.
            if tasks.is_empty() || (!drained && tasks.len() <= self.batch / 2) {
                let wanted = self.batch - tasks.len();
                drained = self.claim(&mut tasks, wanted).await? < wanted;
                if tasks.is_empty() {
                    return Ok(total);
                }
            }
            total += self.finish_ready(&mut tasks).await?;
        }
    }

    /// Claims up to `wanted` due deliveries and starts their handlers in `tasks`; how many.
    async fn claim(&self, tasks: &mut JoinSet<Handled>, wanted: usize) -> Result<usize> {
        let claimed = self.store.claim_due(wanted, self.lease).await?;
        let count = claimed.len();
        for delivery in claimed {
            tasks.spawn(self.clone().handle(delivery));
        }
        Ok(count)
    }

    /// Runs one claimed delivery's handler.
    async fn handle(self, delivery: WebhookDelivery) -> Handled {
        let webhook = VerifiedWebhook::trusted(
            delivery.headers.to_header_map(),
            delivery.body.clone(),
            Some(delivery.event_id.clone()),
            delivery.received_at,
        );
        let result = self.handler.handle(&delivery, webhook).await;
        (delivery, result)
    }

    /// Waits for at least one handler, then finishes every delivery whose handler has returned,
    /// together; returns how many. A panicking handler leaves its delivery claimed: when the
    /// lease lapses it is retried.
    async fn finish_ready(&self, tasks: &mut JoinSet<Handled>) -> Result<usize> {
        let mut done = Vec::new();
        let mut take = |joined: std::result::Result<_, tokio::task::JoinError>| match joined {
            Ok(handled) => done.push(handled),
            Err(e) => tracing::error!(error = %e, "a webhook handler panicked"),
        };
        let Some(first) = tasks.join_next().await else { return Ok(0) };
        take(first);
        while let Some(ready) = tasks.try_join_next() {
            take(ready);
        }
        let count = done.len();
        let finished: Vec<FinishedDelivery> = done
            .into_iter()
            .map(|(delivery, result)| {
                let outcome = self.outcome(&delivery, result);
                FinishedDelivery::new(delivery.tenant, delivery.id, delivery.attempts, outcome)
            })
            .collect();
        let ids: Vec<_> = finished.iter().map(|f| f.id).collect();
        for (id, result) in ids.into_iter().zip(self.store.finish_deliveries(finished).await) {
            match result {
                Err(e) if e.kind() == ErrorKind::Conflict => {
                    tracing::warn!(delivery = %id, "finished after its claim lapsed; another worker has it");
                }
                other => other?,
            }
        }
        Ok(count)
    }

    /// Runs until `shutdown` completes: processes what is due, then waits for `wake` (the
    /// router's [`wake_handle`](super::WebhookRouter::wake_handle)) or `poll` (to pick up
    /// retries and lapsed claims). Store errors are logged and retried after `poll`.
    pub async fn run(&self, wake: Arc<Notify>, poll: Duration, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            if let Err(e) = self.run_until_idle().await {
                tracing::error!(error = %e, "webhook worker could not read its queue");
            }
            tokio::select! {
                () = &mut shutdown => return,
                () = wake.notified() => {}
                () = tokio::time::sleep(poll) => {}
            }
        }
    }

    /// How a handled delivery ends: processed, retried later or dead-lettered (counted).
    fn outcome(&self, delivery: &WebhookDelivery, result: Result<WebhookOutcome>) -> DeliveryOutcome {
        let outcome = match result {
            Ok(out) => DeliveryOutcome::Processed(json!({ "changes": out.changes.len(), "events": out.events.len() })),
            Err(e) => {
                let permanent =
                    matches!(e.kind(), ErrorKind::Validation | ErrorKind::InvalidResponse | ErrorKind::Unsupported);
                let error = e.to_string();
                if permanent || delivery.attempts >= self.max_attempts {
                    tracing::warn!(delivery = %delivery.id, attempts = delivery.attempts, error = %error, "webhook delivery dead-lettered");
                    DeliveryOutcome::DeadLetter { error }
                } else {
                    let wait = crate::backoff::delay(self.min_delay, self.max_delay, delivery.attempts)
                        .max(e.retry_after().unwrap_or_default());
                    let at = crate::clock::expiry(self.clock.now(), wait);
                    tracing::info!(delivery = %delivery.id, attempts = delivery.attempts, retry_in = ?wait, error = %error, "webhook delivery will be retried");
                    DeliveryOutcome::Retry { error, at }
                }
            }
        };
        let counted = match &outcome {
            DeliveryOutcome::Processed(_) => "processed",
            DeliveryOutcome::Retry { .. } => "retrying",
            _ => "dead_lettered",
        };
        crate::telemetry::webhook_delivery(delivery.provider.as_str(), counted);
        outcome
    }
}
