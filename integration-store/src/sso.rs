//! The SSO stores on SQL (feature `sso`): [`ScimStore`] — resources as JSON, `userName` unique
//! per tenant by a partial unique index on its lowercased value, replaces as compare-and-swap on
//! the version —, [`MfaStore`] — records as JSON, saved by compare-and-swap — and
//! [`SessionStore`] — sessions by their token's digest — and [`AssertionLedger`] — the SAML
//! assertions accepted, each once (a primary key decides between workers).

use async_trait::async_trait;
use integration_core::{Result, TenantId};
use integration_sso::mfa::store::{MfaRecord, MfaStore};
use integration_sso::saml::AssertionLedger;
use integration_sso::scim::resource::{ResourceType, Stored};
use integration_sso::scim::store::{ScimStore, Written, unique_key};
use integration_sso::session::Session;
use integration_sso::session::store::SessionStore;
use sqlx::any::AnyRow;

use crate::SqlStore;
use crate::codec::{db, from_json, i64_of, int, micros, opt_text, text, time, to_json, u64_of};

const COLUMNS: &str = "id, attributes, version, created_at, modified_at";

fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error().is_some_and(|d| d.is_unique_violation())
}

fn resource(kind: ResourceType, row: &AnyRow) -> Result<Stored> {
    let attributes = from_json("a SCIM resource", &text(row, "attributes")?)?;
    let mut stored = Stored::new(kind, text(row, "id")?, attributes, time(int(row, "created_at")?)?);
    (stored.version, stored.modified) = (u64_of(int(row, "version")?), time(int(row, "modified_at")?)?);
    Ok(stored)
}

impl SqlStore {
    /// Who else holds `resource`'s unique value in the tenant, if anyone.
    async fn holder_of(&self, tenant: &TenantId, resource: &Stored) -> Result<Option<String>> {
        let Some(key) = unique_key(resource) else { return Ok(None) };
        let kind = ResourceType::from(resource.kind).name();
        let row = sqlx::query(
            "SELECT id FROM scim_resources WHERE tenant = $1 AND kind = $2 AND unique_key = $3 AND id <> $4",
        )
        .bind(tenant.as_str())
        .bind(kind)
        .bind(&key)
        .bind(&resource.id)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| db("look up a SCIM userName", e))?;
        Ok(row.map(|_| key))
    }
}

#[async_trait]
impl ScimStore for SqlStore {
    async fn create(&self, tenant: &TenantId, resource: Stored) -> Result<Written> {
        if let Some(key) = self.holder_of(tenant, &resource).await? {
            return Ok(Written::NotUnique(key));
        }
        let kind = ResourceType::from(resource.kind);
        let inserted = sqlx::query(
            "INSERT INTO scim_resources (tenant, kind, id, unique_key, attributes, version, created_at, modified_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING RETURNING id",
        )
        .bind(tenant.as_str())
        .bind(kind.name())
        .bind(&resource.id)
        .bind(unique_key(&resource))
        .bind(to_json(&resource.attributes)?)
        .bind(i64_of(resource.version))
        .bind(micros(resource.created))
        .bind(micros(resource.modified))
        .fetch_optional(self.writer())
        .await
        .map_err(|e| db("create a SCIM resource", e))?;
        match inserted {
            Some(_) => Ok(Written::Done(resource)),
            // The id is fresh: what conflicted is the unique value, taken in the meantime.
            None => Ok(Written::NotUnique(unique_key(&resource).unwrap_or_default())),
        }
    }

    async fn get(&self, tenant: &TenantId, kind: ResourceType, id: &str) -> Result<Option<Stored>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM scim_resources WHERE tenant = $1 AND kind = $2 AND id = $3"
        )))
        .bind(tenant.as_str())
        .bind(kind.name())
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| db("read a SCIM resource", e))?;
        row.map(|row| resource(kind, &row)).transpose()
    }

    async fn replace(&self, tenant: &TenantId, resource: Stored, expected: u64) -> Result<Written> {
        if let Some(key) = self.holder_of(tenant, &resource).await? {
            return Ok(Written::NotUnique(key));
        }
        let kind = ResourceType::from(resource.kind);
        let updated = sqlx::query(
            "UPDATE scim_resources SET unique_key = $4, attributes = $5, version = $6, modified_at = $7 \
             WHERE tenant = $1 AND kind = $2 AND id = $3 AND version = $8 RETURNING id",
        )
        .bind(tenant.as_str())
        .bind(kind.name())
        .bind(&resource.id)
        .bind(unique_key(&resource))
        .bind(to_json(&resource.attributes)?)
        .bind(i64_of(resource.version))
        .bind(micros(resource.modified))
        .bind(i64_of(expected))
        .fetch_optional(self.writer())
        .await;
        match updated {
            Ok(Some(_)) => Ok(Written::Done(resource)),
            Ok(None) => Ok(Written::Stale),
            Err(e) if is_unique_violation(&e) => Ok(Written::NotUnique(unique_key(&resource).unwrap_or_default())),
            Err(e) => Err(db("replace a SCIM resource", e)),
        }
    }

    async fn delete(&self, tenant: &TenantId, kind: ResourceType, id: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM scim_resources WHERE tenant = $1 AND kind = $2 AND id = $3")
            .bind(tenant.as_str())
            .bind(kind.name())
            .bind(id)
            .execute(self.writer())
            .await
            .map_err(|e| db("delete a SCIM resource", e))?;
        Ok(done.rows_affected() > 0)
    }

    async fn list(&self, tenant: &TenantId, kind: ResourceType) -> Result<Vec<Stored>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM scim_resources WHERE tenant = $1 AND kind = $2 ORDER BY id"
        )))
        .bind(tenant.as_str())
        .bind(kind.name())
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db("list SCIM resources", e))?;
        rows.iter().map(|row| resource(kind, row)).collect()
    }
}

#[async_trait]
impl MfaStore for SqlStore {
    async fn load(&self, tenant: &TenantId, user: &str) -> Result<Option<MfaRecord>> {
        let row = sqlx::query("SELECT record, version FROM mfa_records WHERE tenant = $1 AND subject = $2")
            .bind(tenant.as_str())
            .bind(user)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| db("read an MFA record", e))?;
        let Some(row) = row else { return Ok(None) };
        let mut record: MfaRecord = from_json("an MFA record", &text(&row, "record")?)?;
        record.version = u64_of(int(&row, "version")?);
        Ok(Some(record))
    }

    async fn save(&self, tenant: &TenantId, user: &str, record: &MfaRecord, expected: Option<u64>) -> Result<bool> {
        let sql = match expected {
            None => {
                "INSERT INTO mfa_records (tenant, subject, record, version) VALUES ($1, $2, $3, 1) \
                     ON CONFLICT DO NOTHING RETURNING version"
            }
            Some(_) => {
                "UPDATE mfa_records SET record = $3, version = version + 1 \
                        WHERE tenant = $1 AND subject = $2 AND version = $4 RETURNING version"
            }
        };
        let row = sqlx::query(sql)
            .bind(tenant.as_str())
            .bind(user)
            .bind(to_json(record)?)
            .bind(i64_of(expected.unwrap_or(0)))
            .fetch_optional(self.writer())
            .await
            .map_err(|e| db("save an MFA record", e))?;
        Ok(row.is_some())
    }

    async fn remove(&self, tenant: &TenantId, user: &str) -> Result<()> {
        sqlx::query("DELETE FROM mfa_records WHERE tenant = $1 AND subject = $2")
            .bind(tenant.as_str())
            .bind(user)
            .execute(self.writer())
            .await
            .map_err(|e| db("remove an MFA record", e))?;
        Ok(())
    }
}

#[async_trait]
impl SessionStore for SqlStore {
    async fn create(&self, session: &Session) -> Result<()> {
        sqlx::query(
            "INSERT INTO sessions (id, tenant, subject, roles, started_at, seen_at, expires_at, revoked) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&session.id)
        .bind(session.tenant.as_str())
        .bind(&session.user)
        .bind(to_json(&session.roles)?)
        .bind(micros(session.started_at))
        .bind(micros(session.seen_at))
        .bind(micros(session.expires_at))
        .bind(session.revoked.as_deref())
        .execute(self.writer())
        .await
        .map_err(|e| db("create a session", e))?;
        Ok(())
    }

    async fn get(&self, id: &str) -> Result<Option<Session>> {
        let row = sqlx::query(
            "SELECT id, tenant, subject, roles, started_at, seen_at, expires_at, revoked FROM sessions WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| db("read a session", e))?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(Session::stored(
            text(&row, "id")?,
            crate::codec::id("a session's tenant", text(&row, "tenant")?)?,
            text(&row, "subject")?,
            from_json("a session's roles", &text(&row, "roles")?)?,
            (time(int(&row, "started_at")?)?, time(int(&row, "seen_at")?)?, time(int(&row, "expires_at")?)?),
            opt_text(&row, "revoked")?,
        )))
    }

    async fn touch(&self, id: &str, at: chrono::DateTime<chrono::Utc>) -> Result<()> {
        sqlx::query("UPDATE sessions SET seen_at = $2 WHERE id = $1 AND seen_at < $2")
            .bind(id)
            .bind(micros(at))
            .execute(self.writer())
            .await
            .map_err(|e| db("touch a session", e))?;
        Ok(())
    }

    async fn revoke(&self, id: &str, reason: &str) -> Result<bool> {
        let done = sqlx::query("UPDATE sessions SET revoked = $2 WHERE id = $1 AND revoked IS NULL")
            .bind(id)
            .bind(reason)
            .execute(self.writer())
            .await
            .map_err(|e| db("revoke a session", e))?;
        Ok(done.rows_affected() > 0)
    }

    async fn revoke_user(&self, tenant: &TenantId, user: &str, reason: &str) -> Result<usize> {
        let done =
            sqlx::query("UPDATE sessions SET revoked = $3 WHERE tenant = $1 AND subject = $2 AND revoked IS NULL")
                .bind(tenant.as_str())
                .bind(user)
                .bind(reason)
                .execute(self.writer())
                .await
                .map_err(|e| db("revoke a user's sessions", e))?;
        Ok(usize::try_from(done.rows_affected()).unwrap_or(usize::MAX))
    }
}

#[async_trait]
impl AssertionLedger for SqlStore {
    async fn first_use(
        &self,
        tenant: &TenantId,
        issuer: &str,
        id: &str,
        until: chrono::DateTime<chrono::Utc>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool> {
        sqlx::query("DELETE FROM saml_assertions WHERE until_at <= $1")
            .bind(micros(now))
            .execute(self.writer())
            .await
            .map_err(|e| db("forget SAML assertions past their time", e))?;
        let done = sqlx::query(
            "INSERT INTO saml_assertions (tenant, issuer, id, until_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (tenant, issuer, id) DO NOTHING",
        )
        .bind(tenant.as_str())
        .bind(issuer)
        .bind(id)
        .bind(micros(until))
        .execute(self.writer())
        .await
        .map_err(|e| db("record a SAML assertion", e))?;
        Ok(done.rows_affected() == 1)
    }
}
