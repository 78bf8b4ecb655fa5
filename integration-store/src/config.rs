//! [`ConfigStore`] on SQL.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use integration_core::config::ConnectionStatus;
use integration_core::crypto::SealedBox;
use integration_core::store::{ConfigStore, StoredConfig};
use integration_core::{ConnectionId, Result, TenantId};
use sqlx::any::AnyRow;

use crate::SqlStore;
use crate::codec::{
    db, enum_from_text, enum_text, from_json, i64_of, id, int, micros, opt_text, opt_time, text, time, to_json, u64_of,
};
use integration_core::store::refusal;
use sqlx::AssertSqlSafe;

const COLUMNS: &str = "tenant, connection, domain, provider, settings, sealed_secrets, status, remote_account_id, \
                       last_sync_at, revision, updated_at, mappings";

fn decode(row: &AnyRow) -> Result<StoredConfig> {
    Ok(StoredConfig {
        tenant: id("tenant", text(row, "tenant")?)?,
        connection: id("connection", text(row, "connection")?)?,
        domain: enum_from_text("domain", text(row, "domain")?)?,
        provider: id("provider", text(row, "provider")?)?,
        settings: from_json("settings", &text(row, "settings")?)?,
        sealed_secrets: SealedBox::parse(text(row, "sealed_secrets")?)?,
        status: enum_from_text("status", text(row, "status")?)?,
        remote_account_id: opt_text(row, "remote_account_id")?,
        last_sync_at: opt_time(crate::codec::get::<Option<i64>, _>(row, "last_sync_at")?)?,
        revision: u64_of(int(row, "revision")?),
        updated_at: time(int(row, "updated_at")?)?,
        mappings: from_json("mappings", &text(row, "mappings")?)?,
    })
}

impl SqlStore {
    async fn current_revision(&self, tenant: &TenantId, connection: &ConnectionId) -> Result<u64> {
        let row = sqlx::query("SELECT revision FROM configs WHERE tenant = $1 AND connection = $2")
            .bind(tenant.as_str())
            .bind(connection.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| db("read a configuration", e))?;
        row.map_or(Ok(0), |r| int(&r, "revision").map(u64_of))
    }

    async fn bump(
        &self,
        tenant: &TenantId,
        connection: &ConnectionId,
        set: &str,
        value: Option<String>,
        at: Option<i64>,
    ) -> Result<u64> {
        let sql = format!(
            "UPDATE configs SET {set}, revision = revision + 1, updated_at = $4 WHERE tenant = $1 AND connection = $2 RETURNING revision"
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .bind(connection.as_str())
            .bind(value)
            .bind(micros(self.now()))
            .bind(at)
            .fetch_optional(self.writer())
            .await
            .map_err(|e| db("update a configuration", e))?
            .ok_or_else(|| refusal::no_connection(tenant, connection))?;
        int(&row, "revision").map(u64_of)
    }
}

#[async_trait]
impl ConfigStore for SqlStore {
    async fn put(&self, c: &StoredConfig) -> Result<u64> {
        let now = micros(self.now());
        let settings = to_json(&c.settings)?;
        let status = enum_text(&c.status)?;
        let domain = enum_text(&c.domain)?;
        let last_sync = c.last_sync_at.map(micros);
        let mappings = to_json(&c.mappings)?;
        let sql = if c.revision == 0 {
            format!(
                "INSERT INTO configs ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1, $10, $12) ON CONFLICT DO NOTHING RETURNING revision"
            )
        } else {
            "UPDATE configs SET domain = $3, provider = $4, settings = $5, sealed_secrets = $6, status = $7, \
             remote_account_id = $8, last_sync_at = $9, updated_at = $10, mappings = $12, revision = revision + 1 \
             WHERE tenant = $1 AND connection = $2 AND revision = $11 RETURNING revision"
                .to_owned()
        };
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(c.tenant.as_str())
            .bind(c.connection.as_str())
            .bind(domain)
            .bind(c.provider.as_str())
            .bind(settings)
            .bind(c.sealed_secrets.as_str())
            .bind(status)
            .bind(c.remote_account_id.clone())
            .bind(last_sync)
            .bind(now)
            .bind(i64_of(c.revision))
            .bind(mappings)
            .fetch_optional(self.writer())
            .await
            .map_err(|e| db("write a configuration", e))?;
        match row {
            Some(row) => int(&row, "revision").map(u64_of),
            None => {
                let current = self.current_revision(&c.tenant, &c.connection).await?;
                Err(refusal::stale_revision(&c.tenant, &c.connection, current, c.revision))
            }
        }
    }

    async fn get(&self, tenant: &TenantId, connection: &ConnectionId) -> Result<Option<StoredConfig>> {
        let row =
            sqlx::query(AssertSqlSafe(format!("SELECT {COLUMNS} FROM configs WHERE tenant = $1 AND connection = $2")))
                .bind(tenant.as_str())
                .bind(connection.as_str())
                .fetch_optional(&self.pool)
                .await
                .map_err(|e| db("read a configuration", e))?;
        row.as_ref().map(decode).transpose()
    }

    async fn list(&self, tenant: &TenantId) -> Result<Vec<StoredConfig>> {
        let rows =
            sqlx::query(AssertSqlSafe(format!("SELECT {COLUMNS} FROM configs WHERE tenant = $1 ORDER BY connection")))
                .bind(tenant.as_str())
                .fetch_all(&self.pool)
                .await
                .map_err(|e| db("list configurations", e))?;
        rows.iter().map(decode).collect()
    }

    async fn delete(&self, tenant: &TenantId, connection: &ConnectionId) -> Result<bool> {
        let done = sqlx::query("DELETE FROM configs WHERE tenant = $1 AND connection = $2")
            .bind(tenant.as_str())
            .bind(connection.as_str())
            .execute(self.writer())
            .await
            .map_err(|e| db("delete a configuration", e))?;
        Ok(done.rows_affected() > 0)
    }

    async fn set_status(&self, tenant: &TenantId, connection: &ConnectionId, status: ConnectionStatus) -> Result<u64> {
        self.bump(tenant, connection, "status = $3", Some(enum_text(&status)?), None).await
    }

    async fn set_last_sync_at(&self, tenant: &TenantId, connection: &ConnectionId, at: DateTime<Utc>) -> Result<u64> {
        self.bump(tenant, connection, "last_sync_at = $5", None, Some(micros(at))).await
    }
}
