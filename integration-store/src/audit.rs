//! [`AuditSink`] on SQL: one row per event.

use async_trait::async_trait;
use integration_core::Result;
use integration_core::store::{AuditEvent, AuditSink};

use crate::SqlStore;
use crate::codec::{db, enum_text, micros};

#[async_trait]
impl AuditSink for SqlStore {
    async fn audit(&self, e: AuditEvent) -> Result<()> {
        sqlx::query(
            "INSERT INTO audit_events (tenant, at, connection, provider, action, outcome, detail) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(e.tenant.as_str())
        .bind(micros(e.at))
        .bind(e.connection.as_ref().map(|c| c.to_string()))
        .bind(e.provider.as_ref().map(|p| p.to_string()))
        .bind(e.action.as_str())
        .bind(enum_text(&e.outcome)?)
        .bind(e.detail.as_str())
        .execute(self.writer())
        .await
        .map_err(|e| db("record an audit event", e))?;
        Ok(())
    }
}
