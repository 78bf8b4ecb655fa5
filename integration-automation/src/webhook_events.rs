//! Webhook events as triggers: a [`DeliveryHandler`] that wraps the one applying deliveries
//! (usually [`ApplyToCache`](integration_core::webhook::ApplyToCache)) and starts the automations
//! each resulting event triggers.
//!
//! Each event's trigger key is the delivery's id and the event's index in it, so a delivery the
//! worker processes again (after a failure) starts nothing twice. When enqueueing fails, the
//! delivery fails and is retried by the delivery worker: no event is lost.

use std::sync::Arc;

use async_trait::async_trait;
use integration_core::store::WebhookDelivery;
use integration_core::webhook::DeliveryHandler;
use integration_core::{Result, VerifiedWebhook, WebhookOutcome};

use crate::engine::Engine;

/// Applies each delivery with the inner handler, then triggers on its events.
#[derive(Debug, Clone)]
pub struct TriggerOnEvents {
    inner: Arc<dyn DeliveryHandler>,
    engine: Engine,
}

impl TriggerOnEvents {
    /// Wraps `inner`, triggering `engine`'s automations.
    pub fn new(inner: Arc<dyn DeliveryHandler>, engine: Engine) -> Self {
        Self { inner, engine }
    }
}

#[async_trait]
impl DeliveryHandler for TriggerOnEvents {
    async fn handle(&self, delivery: &WebhookDelivery, webhook: VerifiedWebhook) -> Result<WebhookOutcome> {
        let outcome = self.inner.handle(delivery, webhook).await?;
        for (i, event) in outcome.events.iter().enumerate() {
            let key = format!("{}:{i}", delivery.id);
            self.engine.on_event(&delivery.tenant, &delivery.connection, event, &key).await?;
        }
        Ok(outcome)
    }
}
