//! Notifications as triggers: a [`NotificationSink`] that starts the automations whose trigger
//! is the event `notification.<kind>` (`notification.sync_failing`,
//! `notification.reauthorization_required`, `notification.credentials_expiring`,
//! `notification.webhook_dead_lettered`, `notification.automation_failed`) — so "email the
//! admin when a sync keeps failing" is an automation.
//!
//! The run's data holds `trigger: "notification"`, `event`, `connection` (when the notification
//! has one) and `payload` (the notification as JSON, with its `message`). Each notification
//! episode starts each automation once, however many workers raise it. A failed automation that
//! was itself started by a notification raises no `notification.automation_failed` trigger
//! again: a failing notifier cannot start itself forever.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use std::sync::Arc;
//! use integration_automation::notifications::NotifyAutomations;
//! use integration_automation::{Actions, Engine, load};
//! use integration_core::notify::{Notification, NotificationSink};
//! use integration_core::store::{AutomationRunQuery, AutomationStore, MemoryStore};
//! use integration_core::{ConnectionId, ProviderId, TenantId};
//!
//! let actions = Actions::new();
//! let tell_admin = load::from_json(
//!     r#"{"id": "tell-admin", "trigger": {"event": {"type": "notification.reauthorization_required"}}, "steps": [{"delay": "1m"}]}"#,
//!     &actions,
//! )
//! .unwrap();
//! let store = Arc::new(MemoryStore::new());
//! let engine = Engine::new(store.clone(), actions).with_automation(tell_admin).unwrap();
//! let sink = NotifyAutomations::new(engine);
//!
//! let tenant = TenantId::new("acme").unwrap();
//! let revoked = Notification::ReauthorizationRequired {
//!     tenant: tenant.clone(),
//!     connection: ConnectionId::new("hr").unwrap(),
//!     provider: ProviderId::new("bamboohr").unwrap(),
//! };
//! sink.notify(&revoked, "reauthorization_required/hr/7").await.unwrap();
//! sink.notify(&revoked, "reauthorization_required/hr/7").await.unwrap(); // the same episode
//! let runs = store.list_automation_runs(&tenant, &AutomationRunQuery::new()).await.unwrap();
//! assert_eq!(runs.len(), 1);
//! assert_eq!(runs[0].trigger["connection"], "hr");
//! assert_eq!(runs[0].trigger["event"], "notification.reauthorization_required");
//! # });
//! ```

use async_trait::async_trait;
use integration_core::notify::{Notification, NotificationSink};
use integration_core::{IntegrationEvent, Result};
use serde_json::Value;

use crate::engine::Engine;

/// Starts the automations a notification triggers; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct NotifyAutomations {
    engine: Engine,
}

impl NotifyAutomations {
    /// A sink starting `engine`'s automations.
    pub fn new(engine: Engine) -> Self {
        Self { engine }
    }
}

#[async_trait]
impl NotificationSink for NotifyAutomations {
    async fn notify(&self, notification: &Notification, episode: &str) -> Result<()> {
        if let Notification::AutomationFailed { trigger, .. } = notification
            && trigger == "notification"
        {
            return Ok(());
        }
        let mut payload = notification.to_json();
        payload["message"] = Value::from(notification.to_string());
        let event = IntegrationEvent::new(format!("notification.{}", notification.kind()), payload);
        self.engine.on_notification(notification.tenant(), notification.connection(), &event, episode).await?;
        Ok(())
    }
}
