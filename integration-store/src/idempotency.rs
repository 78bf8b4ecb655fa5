//! [`IdempotencyStore`] on SQL: claims with fencing tokens.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use integration_core::store::{Claim, ClaimToken, IdempotencyStore};
use integration_core::{Result, TenantId};
use serde_json::Value;

use crate::SqlStore;
use crate::codec::{db, from_json, get, i64_of, int, micros, opt_text, time, to_json, u64_of};
use crate::state::expiry_micros;
use integration_core::store::refusal;

#[async_trait]
impl IdempotencyStore for SqlStore {
    async fn claim(&self, tenant: &TenantId, namespace: &str, key: &str, ttl: Duration) -> Result<Claim> {
        let now = micros(self.now());
        let mut tx = self.begin().await?;
        let token = self.next_token(&mut tx).await?;
        let acquired = sqlx::query(
            "INSERT INTO claims (tenant, namespace, claim_key, token, completed, until) VALUES ($1, $2, $3, $4, 0, $5) \
             ON CONFLICT (tenant, namespace, claim_key) DO UPDATE SET token = excluded.token, until = excluded.until \
             WHERE claims.completed = 0 AND claims.until <= $6 RETURNING token",
        )
        .bind(tenant.as_str())
        .bind(namespace)
        .bind(key)
        .bind(token)
        .bind(expiry_micros(now, ttl))
        .bind(now)
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| db("claim a key", e))?;
        let claim = if acquired.is_some() {
            Claim::Acquired(ClaimToken {
                tenant: tenant.clone(),
                namespace: namespace.to_owned(),
                key: key.to_owned(),
                token: u64_of(token),
            })
        } else {
            let row = sqlx::query(
                "SELECT completed, until, outcome, completed_at FROM claims WHERE tenant = $1 AND namespace = $2 AND claim_key = $3",
            )
            .bind(tenant.as_str())
            .bind(namespace)
            .bind(key)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| db("read a claim", e))?;
            if int(&row, "completed")? == 1 {
                let outcome = opt_text(&row, "outcome")?.map(|o| from_json::<Value>("outcome", &o)).transpose()?;
                let at = get::<Option<i64>, _>(&row, "completed_at")?.unwrap_or(now);
                Claim::Completed { outcome, at: time(at)? }
            } else {
                Claim::InProgress { until: time(int(&row, "until")?)? }
            }
        };
        tx.commit().await.map_err(|e| db("commit a claim", e))?;
        Ok(claim)
    }

    async fn complete(&self, claim: &ClaimToken, outcome: Option<Value>) -> Result<()> {
        let outcome = outcome.as_ref().map(to_json).transpose()?;
        let row = sqlx::query(
            "UPDATE claims SET completed = 1, outcome = $5, completed_at = $6 \
             WHERE tenant = $1 AND namespace = $2 AND claim_key = $3 AND token = $4 RETURNING completed",
        )
        .bind(claim.tenant.as_str())
        .bind(claim.namespace.as_str())
        .bind(claim.key.as_str())
        .bind(i64_of(claim.token))
        .bind(outcome)
        .bind(micros(self.now()))
        .fetch_optional(self.writer())
        .await
        .map_err(|e| db("complete a claim", e))?;
        match row {
            Some(_) => Ok(()),
            None => Err(refusal::lapsed_claim(claim)),
        }
    }

    async fn release(&self, claim: &ClaimToken) -> Result<bool> {
        let done = sqlx::query(
            "DELETE FROM claims WHERE tenant = $1 AND namespace = $2 AND claim_key = $3 AND token = $4 AND completed = 0",
        )
        .bind(claim.tenant.as_str())
        .bind(claim.namespace.as_str())
        .bind(claim.key.as_str())
        .bind(i64_of(claim.token))
        .execute(self.writer())
        .await
        .map_err(|e| db("release a claim", e))?;
        Ok(done.rows_affected() > 0)
    }

    async fn purge_completed(&self, tenant: &TenantId, before: DateTime<Utc>) -> Result<u64> {
        let done = sqlx::query("DELETE FROM claims WHERE tenant = $1 AND completed = 1 AND completed_at < $2")
            .bind(tenant.as_str())
            .bind(micros(before))
            .execute(self.writer())
            .await
            .map_err(|e| db("purge claims", e))?;
        Ok(done.rows_affected())
    }
}
