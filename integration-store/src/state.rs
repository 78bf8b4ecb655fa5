//! [`StateStore`] on SQL: checkpoints, the run log, leases.

use std::time::Duration;

use async_trait::async_trait;
use integration_core::store::{Lease, RunQuery, StateStore, StoredCheckpoint, StreamScope, SyncRun};
use integration_core::{Checkpoint, Result, RunId, TenantId};
use sqlx::Any;

use crate::SqlStore;
use crate::codec::{db, from_json, int, micros, opt_text, text, time, to_json, u64_of};
use integration_core::store::refusal;
use sqlx::AssertSqlSafe;

/// `now + ttl` in microseconds, saturating.
pub(crate) fn expiry_micros(now: i64, ttl: Duration) -> i64 {
    now.saturating_add(i64::try_from(ttl.as_micros()).unwrap_or(i64::MAX))
}

/// The two tables of leases.
#[derive(Debug, Clone, Copy)]
pub(crate) enum LeaseTable {
    /// `StateStore` leases, keyed by any text.
    Leases,
    /// `TokenStore` refresh locks, keyed by connection.
    RefreshLocks,
}

impl LeaseTable {
    fn table(self) -> &'static str {
        match self {
            Self::Leases => "leases",
            Self::RefreshLocks => "refresh_locks",
        }
    }

    fn key_column(self) -> &'static str {
        match self {
            Self::Leases => "lease_key",
            Self::RefreshLocks => "connection",
        }
    }

    /// The key a [`Lease`] of this table reports.
    fn lease_key(self, key: &str) -> String {
        match self {
            Self::Leases => key.to_owned(),
            Self::RefreshLocks => format!("token-refresh/{key}"),
        }
    }
}

impl SqlStore {
    /// Grants the lease on `key` in `kind`'s table unless another holder's is unexpired.
    pub(crate) async fn grant(
        &self,
        kind: LeaseTable,
        tenant: &TenantId,
        key: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<Option<Lease>> {
        let (table, key_column) = (kind.table(), kind.key_column());
        let now = self.now();
        let expires = expiry_micros(micros(now), ttl);
        let mut tx = self.begin().await?;
        let token = self.next_token(&mut tx).await?;
        let sql = format!(
            "INSERT INTO {table} (tenant, {key_column}, holder, token, expires_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (tenant, {key_column}) DO UPDATE SET holder = excluded.holder, token = excluded.token, \
             expires_at = excluded.expires_at WHERE {table}.expires_at <= $6 OR {table}.holder = excluded.holder \
             RETURNING token"
        );
        let row = sqlx::query::<Any>(AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .bind(key)
            .bind(holder)
            .bind(token)
            .bind(expires)
            .bind(micros(now))
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| db("take a lease", e))?;
        tx.commit().await.map_err(|e| db("commit a lease", e))?;
        Ok(row.map(|_| Lease {
            tenant: tenant.clone(),
            key: kind.lease_key(key),
            holder: holder.to_owned(),
            token: u64_of(token),
            expires_at: crate::codec::time(expires).unwrap_or(now),
        }))
    }
}

#[async_trait]
impl StateStore for SqlStore {
    async fn checkpoint(&self, scope: &StreamScope) -> Result<Option<StoredCheckpoint>> {
        let row = sqlx::query(
            "SELECT checkpoint, run_id, updated_at FROM checkpoints WHERE tenant = $1 AND connection = $2 AND stream = $3",
        )
        .bind(scope.tenant.as_str())
        .bind(scope.connection.as_str())
        .bind(scope.stream.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| db("read a checkpoint", e))?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(StoredCheckpoint {
            checkpoint: Checkpoint::new(from_json("checkpoint", &text(&row, "checkpoint")?)?),
            run: opt_text(&row, "run_id")?
                .map(|r| r.parse())
                .transpose()
                .map_err(|e| crate::codec::corrupt("run id", e))?,
            updated_at: time(int(&row, "updated_at")?)?,
        }))
    }

    async fn put_checkpoint(&self, scope: &StreamScope, checkpoint: &Checkpoint, run: Option<RunId>) -> Result<()> {
        let mut tx = self.begin().await?;
        crate::record::commit_checkpoint(&mut tx, scope, checkpoint, run, micros(self.now())).await?;
        tx.commit().await.map_err(|e| db("commit a checkpoint", e))
    }

    async fn clear_checkpoint(&self, scope: &StreamScope) -> Result<bool> {
        let done = sqlx::query("DELETE FROM checkpoints WHERE tenant = $1 AND connection = $2 AND stream = $3")
            .bind(scope.tenant.as_str())
            .bind(scope.connection.as_str())
            .bind(scope.stream.as_str())
            .execute(self.writer())
            .await
            .map_err(|e| db("clear a checkpoint", e))?;
        Ok(done.rows_affected() > 0)
    }

    async fn create_run(&self, run: &SyncRun) -> Result<()> {
        let done = sqlx::query(
            "INSERT INTO sync_runs (tenant, id, connection, stream, run) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(run.tenant.as_str())
        .bind(run.id.to_string())
        .bind(run.connection.as_str())
        .bind(run.stream.as_str())
        .bind(to_json(run)?)
        .execute(self.writer())
        .await
        .map_err(|e| db("log a run", e))?;
        if done.rows_affected() == 0 {
            return Err(refusal::run_exists(run.id));
        }
        Ok(())
    }

    async fn update_run(&self, run: &SyncRun) -> Result<()> {
        let done = sqlx::query("UPDATE sync_runs SET run = $3 WHERE tenant = $1 AND id = $2")
            .bind(run.tenant.as_str())
            .bind(run.id.to_string())
            .bind(to_json(run)?)
            .execute(self.writer())
            .await
            .map_err(|e| db("update a run", e))?;
        if done.rows_affected() == 0 {
            return Err(refusal::no_run(&run.tenant, run.id));
        }
        Ok(())
    }

    async fn run(&self, tenant: &TenantId, id_: RunId) -> Result<Option<SyncRun>> {
        let row = sqlx::query("SELECT run FROM sync_runs WHERE tenant = $1 AND id = $2")
            .bind(tenant.as_str())
            .bind(id_.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| db("read a run", e))?;
        row.map(|r| from_json("run", &text(&r, "run")?)).transpose()
    }

    async fn list_runs(&self, tenant: &TenantId, query: &RunQuery) -> Result<Vec<SyncRun>> {
        let rows = sqlx::query(
            "SELECT run FROM sync_runs WHERE tenant = $1 \
             AND (CAST($2 AS TEXT) IS NULL OR connection = $2) \
             AND (CAST($3 AS TEXT) IS NULL OR stream = $3) \
             AND (CAST($4 AS TEXT) IS NULL OR id < $4) \
             ORDER BY id DESC LIMIT $5",
        )
        .bind(tenant.as_str())
        .bind(query.connection.as_ref().map(|c| c.to_string()))
        .bind(query.stream.clone())
        .bind(query.before.map(|b| b.to_string()))
        .bind(i64::try_from(query.effective_limit()).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db("list runs", e))?;
        rows.iter().map(|r| from_json("run", &text(r, "run")?)).collect()
    }

    async fn acquire_lease(&self, tenant: &TenantId, key: &str, holder: &str, ttl: Duration) -> Result<Option<Lease>> {
        self.grant(LeaseTable::Leases, tenant, key, holder, ttl).await
    }

    async fn renew_lease(&self, lease: &Lease, ttl: Duration) -> Result<Lease> {
        let now = micros(self.now());
        let expires = expiry_micros(now, ttl);
        let row = sqlx::query(
            "UPDATE leases SET expires_at = $4 WHERE tenant = $1 AND lease_key = $2 AND token = $3 AND expires_at > $5 \
             RETURNING token",
        )
        .bind(lease.tenant.as_str())
        .bind(lease.key.as_str())
        .bind(crate::codec::i64_of(lease.token))
        .bind(expires)
        .bind(now)
        .fetch_optional(self.writer())
        .await
        .map_err(|e| db("renew a lease", e))?;
        match row {
            Some(_) => Ok(Lease { expires_at: time(expires)?, ..lease.clone() }),
            None => Err(refusal::lost_lease(lease)),
        }
    }

    async fn release_lease(&self, lease: &Lease) -> Result<bool> {
        let done = sqlx::query("DELETE FROM leases WHERE tenant = $1 AND lease_key = $2 AND token = $3")
            .bind(lease.tenant.as_str())
            .bind(lease.key.as_str())
            .bind(crate::codec::i64_of(lease.token))
            .execute(self.writer())
            .await
            .map_err(|e| db("release a lease", e))?;
        Ok(done.rows_affected() > 0)
    }
}
