//! [`TokenStore`] on SQL: versioned compare-and-swap and the refresh lock.

use std::time::Duration;

use async_trait::async_trait;
use integration_core::crypto::SealedBox;
use integration_core::store::{Lease, StoredToken, TokenStore};
use integration_core::{ConnectionId, Result, TenantId};

use crate::SqlStore;
use crate::codec::{db, i64_of, int, micros, text, time, u64_of};
use crate::state::LeaseTable;
use integration_core::store::refusal;

#[async_trait]
impl TokenStore for SqlStore {
    async fn token(&self, tenant: &TenantId, connection: &ConnectionId) -> Result<Option<StoredToken>> {
        let row = sqlx::query("SELECT sealed, version, updated_at FROM tokens WHERE tenant = $1 AND connection = $2")
            .bind(tenant.as_str())
            .bind(connection.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| db("read a token", e))?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(StoredToken {
            sealed: SealedBox::parse(text(&row, "sealed")?)?,
            version: u64_of(int(&row, "version")?),
            updated_at: time(int(&row, "updated_at")?)?,
        }))
    }

    async fn compare_and_swap(
        &self,
        tenant: &TenantId,
        connection: &ConnectionId,
        expected: u64,
        sealed: &SealedBox,
    ) -> Result<u64> {
        let sql = if expected == 0 {
            "INSERT INTO tokens (tenant, connection, sealed, version, updated_at) VALUES ($1, $2, $3, 1, $4) \
             ON CONFLICT DO NOTHING RETURNING version"
        } else {
            "UPDATE tokens SET sealed = $3, version = version + 1, updated_at = $4 \
             WHERE tenant = $1 AND connection = $2 AND version = $5 RETURNING version"
        };
        let row = sqlx::query(sql)
            .bind(tenant.as_str())
            .bind(connection.as_str())
            .bind(sealed.as_str())
            .bind(micros(self.now()))
            .bind(i64_of(expected))
            .fetch_optional(self.writer())
            .await
            .map_err(|e| db("write a token", e))?;
        match row {
            Some(row) => int(&row, "version").map(u64_of),
            None => {
                let current = self.token(tenant, connection).await?.map_or(0, |t| t.version);
                Err(refusal::stale_token(connection, current, expected))
            }
        }
    }

    async fn delete_token(&self, tenant: &TenantId, connection: &ConnectionId) -> Result<bool> {
        let done = sqlx::query("DELETE FROM tokens WHERE tenant = $1 AND connection = $2")
            .bind(tenant.as_str())
            .bind(connection.as_str())
            .execute(self.writer())
            .await
            .map_err(|e| db("delete a token", e))?;
        Ok(done.rows_affected() > 0)
    }

    async fn acquire_refresh_lock(
        &self,
        tenant: &TenantId,
        connection: &ConnectionId,
        holder: &str,
        ttl: Duration,
    ) -> Result<Option<Lease>> {
        self.grant(LeaseTable::RefreshLocks, tenant, connection.as_str(), holder, ttl).await
    }

    async fn release_refresh_lock(&self, lease: &Lease) -> Result<bool> {
        let done = sqlx::query("DELETE FROM refresh_locks WHERE tenant = $1 AND token = $2")
            .bind(lease.tenant.as_str())
            .bind(i64_of(lease.token))
            .execute(self.writer())
            .await
            .map_err(|e| db("release a refresh lock", e))?;
        Ok(done.rows_affected() > 0)
    }
}
