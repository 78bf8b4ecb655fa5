//! [`DeliveryStore`] on SQL: the delivery log, deduplicated by a unique index, and the queue,
//! claimed with `FOR UPDATE SKIP LOCKED` on PostgreSQL.

use std::time::Duration;

use async_trait::async_trait;
use integration_core::store::{
    DeliveryOutcome, DeliveryQuery, DeliveryStatus, DeliveryStore, FinishedDelivery, Recorded, WebhookDelivery,
};
use integration_core::{DeliveryId, Error, Result, TenantId};
use sqlx::Any;
use sqlx::any::{AnyArguments, AnyRow};

use crate::codec::{
    corrupt, db, enum_from_text, enum_text, from_json, get, id, int, micros, opt_text, opt_time, text, time, to_json,
};
use crate::state::expiry_micros;
use crate::{Backend, SqlStore};
use integration_core::store::refusal;
use sqlx::AssertSqlSafe;

const COLUMNS: &str = "id, tenant, connection, provider, event_id, headers, body, received_at, status, attempts, \
                       next_attempt_at, last_error, rejection, outcome, completed_at";

fn decode(row: &AnyRow) -> Result<WebhookDelivery> {
    Ok(WebhookDelivery {
        id: text(row, "id")?.parse().map_err(|e| corrupt("delivery id", e))?,
        tenant: id("tenant", text(row, "tenant")?)?,
        connection: id("connection", text(row, "connection")?)?,
        provider: id("provider", text(row, "provider")?)?,
        event_id: text(row, "event_id")?,
        headers: from_json("headers", &text(row, "headers")?)?,
        body: get::<Vec<u8>, _>(row, "body")?.into(),
        received_at: time(int(row, "received_at")?)?,
        status: enum_from_text("delivery status", text(row, "status")?)?,
        attempts: u32::try_from(int(row, "attempts")?).unwrap_or(u32::MAX),
        next_attempt_at: time(int(row, "next_attempt_at")?)?,
        last_error: opt_text(row, "last_error")?,
        rejection: opt_text(row, "rejection")?,
        outcome: opt_text(row, "outcome")?.map(|o| from_json("outcome", &o)).transpose()?,
        completed_at: opt_time(get::<Option<i64>, _>(row, "completed_at")?)?,
    })
}

impl SqlStore {
    async fn delivery_exists(&self, tenant: &TenantId, id: DeliveryId) -> Result<bool> {
        Ok(self.delivery(tenant, id).await?.is_some())
    }
}

#[async_trait]
impl DeliveryStore for SqlStore {
    async fn record_delivery(&self, d: WebhookDelivery) -> Result<Recorded> {
        let inserted = sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO deliveries ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
             ON CONFLICT DO NOTHING RETURNING id"
        )))
        .bind(d.id.to_string())
        .bind(d.tenant.as_str())
        .bind(d.connection.as_str())
        .bind(d.provider.as_str())
        .bind(d.event_id.as_str())
        .bind(to_json(&d.headers)?)
        .bind(&d.body[..])
        .bind(micros(d.received_at))
        .bind(enum_text(&d.status)?)
        .bind(i64::from(d.attempts))
        .bind(micros(d.next_attempt_at))
        .bind(d.last_error.clone())
        .bind(d.rejection.clone())
        .bind(d.outcome.as_ref().map(to_json).transpose()?)
        .bind(d.completed_at.map(micros))
        .fetch_optional(self.writer())
        .await
        .map_err(|e| db("record a delivery", e))?;
        if inserted.is_some() {
            return Ok(Recorded::New);
        }
        let first = sqlx::query(
            "SELECT id FROM deliveries WHERE tenant = $1 AND connection = $2 AND provider = $3 AND event_id = $4 \
             AND status <> 'rejected'",
        )
        .bind(d.tenant.as_str())
        .bind(d.connection.as_str())
        .bind(d.provider.as_str())
        .bind(d.event_id.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| db("find a recorded delivery", e))?;
        let existing: Option<DeliveryId> = match first {
            Some(row) => Some(text(&row, "id")?.parse().map_err(|e| corrupt("delivery id", e))?),
            None => None,
        };
        match existing {
            Some(first) if first != d.id && d.status != DeliveryStatus::Rejected => {
                Ok(Recorded::Duplicate { existing: first })
            }
            _ => Err(refusal::delivery_exists(d.id)),
        }
    }

    async fn claim_due(&self, limit: usize, lease: Duration) -> Result<Vec<WebhookDelivery>> {
        let now = micros(self.now());
        let skip_locked = match self.backend {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let rows = sqlx::query(AssertSqlSafe(format!(
            "UPDATE deliveries SET status = 'processing', attempts = attempts + 1, next_attempt_at = $1 \
             WHERE id IN (SELECT id FROM deliveries WHERE status IN ('queued', 'retrying', 'processing') \
             AND next_attempt_at <= $2 ORDER BY next_attempt_at, id LIMIT $3{skip_locked}) RETURNING {COLUMNS}"
        )))
        .bind(expiry_micros(now, lease))
        .bind(now)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(self.writer())
        .await
        .map_err(|e| db("claim due deliveries", e))?;
        let mut claimed: Vec<WebhookDelivery> = rows.iter().map(decode).collect::<Result<_>>()?;
        claimed.sort_by_key(|d| d.id);
        Ok(claimed)
    }

    async fn finish_delivery(
        &self,
        tenant: &TenantId,
        id: DeliveryId,
        attempt: u32,
        outcome: DeliveryOutcome,
    ) -> Result<()> {
        let finish = finishing(tenant, id, attempt, outcome, micros(self.now()))?;
        let done = finish.execute(self.writer()).await.map_err(|e| db("finish a delivery", e))?;
        self.finished(tenant, id, attempt, done.rows_affected()).await
    }

    async fn finish_deliveries(&self, finished: Vec<FinishedDelivery>) -> Vec<Result<()>> {
        let count = finished.len();
        if count == 0 {
            return Vec::new();
        }
        let now = micros(self.now());
        // One transaction, one commit; each claim answered on its own.
        let mut updated = Vec::with_capacity(count);
        let mut claims = Vec::with_capacity(count);
        let written: Result<()> = async {
            let mut tx = self.begin().await?;
            for f in finished {
                let rows = match finishing(&f.tenant, f.id, f.attempt, f.outcome, now) {
                    Ok(finish) => {
                        Ok(finish.execute(&mut *tx).await.map_err(|e| db("finish a delivery", e))?.rows_affected())
                    }
                    Err(e) => Err(e),
                };
                updated.push(rows);
                claims.push((f.tenant, f.id, f.attempt));
            }
            tx.commit().await.map_err(|e| db("finish deliveries", e))
        }
        .await;
        if let Err(e) = written {
            // Nothing was finished: the claims lapse and the deliveries are retried.
            let message = e.to_string();
            let mut results = vec![Err(e)];
            results.extend((1..count).map(|_| Err(Error::storage(message.clone()))));
            return results;
        }
        let mut results = Vec::with_capacity(count);
        for ((tenant, id, attempt), rows) in claims.iter().zip(updated) {
            results.push(match rows {
                Ok(rows) => self.finished(tenant, *id, *attempt, rows).await,
                Err(e) => Err(e),
            });
        }
        results
    }

    async fn delivery(&self, tenant: &TenantId, id: DeliveryId) -> Result<Option<WebhookDelivery>> {
        let row = sqlx::query(AssertSqlSafe(format!("SELECT {COLUMNS} FROM deliveries WHERE tenant = $1 AND id = $2")))
            .bind(tenant.as_str())
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| db("read a delivery", e))?;
        row.as_ref().map(decode).transpose()
    }

    async fn list_deliveries(&self, tenant: &TenantId, query: &DeliveryQuery) -> Result<Vec<WebhookDelivery>> {
        let status = query.status.as_ref().map(enum_text).transpose()?;
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM deliveries WHERE tenant = $1 AND (CAST($2 AS TEXT) IS NULL OR status = $2) \
             AND (CAST($3 AS TEXT) IS NULL OR id < $3) ORDER BY id DESC LIMIT $4"
        )))
        .bind(tenant.as_str())
        .bind(status)
        .bind(query.before.map(|b| b.to_string()))
        .bind(i64::try_from(query.effective_limit()).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db("list deliveries", e))?;
        rows.iter().map(decode).collect()
    }

    async fn replay(&self, tenant: &TenantId, id: DeliveryId) -> Result<()> {
        let done = sqlx::query(
            "UPDATE deliveries SET status = 'queued', attempts = 0, next_attempt_at = $3, completed_at = NULL \
             WHERE tenant = $1 AND id = $2 AND status IN ('processed', 'retrying', 'dead_lettered')",
        )
        .bind(tenant.as_str())
        .bind(id.to_string())
        .bind(micros(self.now()))
        .execute(self.writer())
        .await
        .map_err(|e| db("replay a delivery", e))?;
        if done.rows_affected() > 0 {
            return Ok(());
        }
        match self.delivery(tenant, id).await? {
            Some(d) => Err(refusal::not_replayable(id, d.status)),
            None => Err(refusal::no_delivery(tenant, id)),
        }
    }
}

/// The statement ending attempt `attempt` of `tenant`'s delivery `id` with `outcome`.
fn finishing(
    tenant: &TenantId,
    id: DeliveryId,
    attempt: u32,
    outcome: DeliveryOutcome,
    now: i64,
) -> Result<sqlx::query::Query<'static, Any, AnyArguments>> {
    let (status, error, summary, next, completed) = match outcome {
        DeliveryOutcome::Processed(summary) => {
            (DeliveryStatus::Processed, None, Some(to_json(&summary)?), None, Some(now))
        }
        DeliveryOutcome::Retry { error, at } => (DeliveryStatus::Retrying, Some(error), None, Some(micros(at)), None),
        DeliveryOutcome::DeadLetter { error } => (DeliveryStatus::DeadLettered, Some(error), None, None, Some(now)),
        _ => return Err(Error::unsupported("this delivery outcome")),
    };
    Ok(sqlx::query(
        "UPDATE deliveries SET status = $4, last_error = COALESCE($5, last_error), outcome = COALESCE($6, outcome), \
         next_attempt_at = COALESCE($7, next_attempt_at), completed_at = $8 \
         WHERE tenant = $1 AND id = $2 AND attempts = $3 AND status = 'processing'",
    )
    .bind(tenant.as_str().to_owned())
    .bind(id.to_string())
    .bind(i64::from(attempt))
    .bind(enum_text(&status)?)
    .bind(error)
    .bind(summary)
    .bind(next)
    .bind(completed))
}

impl SqlStore {
    /// A finish that updated `rows`: done, or why not (the claim lapsed, or no such delivery).
    async fn finished(&self, tenant: &TenantId, id: DeliveryId, attempt: u32, rows: u64) -> Result<()> {
        if rows > 0 {
            return Ok(());
        }
        if self.delivery_exists(tenant, id).await? {
            Err(refusal::lapsed_delivery(id, attempt))
        } else {
            Err(refusal::no_delivery(tenant, id))
        }
    }
}
