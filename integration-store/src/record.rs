//! [`RecordStore`] on SQL: records and their checkpoint in one transaction, and a per-tenant
//! change log whose sequence numbers become visible in order.

use async_trait::async_trait;
use integration_core::store::{
    Change, ChangeBatch, ChangeCursor, ChangeKind, ContentHash, PageWrite, RecordStore, StoredRecord, StreamScope,
    WriteSummary,
};
use integration_core::{Checkpoint, Error, Record, Result, RunId, TenantId};
use serde_json::Value;
use sqlx::any::AnyRow;
use sqlx::{Any, Transaction};

use crate::SqlStore;
use crate::codec::{
    corrupt, db, enum_from_text, enum_text, from_json, get, id, int, micros, opt_text, opt_time, text, time, to_json,
};
use sqlx::AssertSqlSafe;

const CURSOR_PREFIX: &str = "sql:";
const RECORD_COLUMNS: &str =
    "remote_id, data, remote_data, hash, modified_at, deleted, seen_by, created_at, updated_at";

fn decode_record(row: &AnyRow) -> Result<StoredRecord> {
    Ok(StoredRecord {
        remote_id: text(row, "remote_id")?,
        data: from_json("record data", &text(row, "data")?)?,
        remote_data: opt_text(row, "remote_data")?.map(|r| from_json("remote data", &r)).transpose()?,
        hash: ContentHash::from_hex(&text(row, "hash")?)?,
        modified_at: opt_time(get::<Option<i64>, _>(row, "modified_at")?)?,
        deleted: int(row, "deleted")? != 0,
        seen_by: opt_text(row, "seen_by")?.map(|r| r.parse()).transpose().map_err(|e| corrupt("run id", e))?,
        created_at: time(int(row, "created_at")?)?,
        updated_at: time(int(row, "updated_at")?)?,
    })
}

/// Commits `checkpoint` for `scope` inside `tx`.
pub(crate) async fn commit_checkpoint(
    tx: &mut Transaction<'static, Any>,
    scope: &StreamScope,
    checkpoint: &Checkpoint,
    run: Option<RunId>,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO checkpoints (tenant, connection, stream, checkpoint, run_id, updated_at) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (tenant, connection, stream) DO UPDATE SET checkpoint = excluded.checkpoint, \
         run_id = excluded.run_id, updated_at = excluded.updated_at",
    )
    .bind(scope.tenant.as_str())
    .bind(scope.connection.as_str())
    .bind(scope.stream.as_str())
    .bind(to_json(checkpoint)?)
    .bind(run.map(|r| r.to_string()))
    .bind(now)
    .execute(&mut **tx)
    .await
    .map_err(|e| db("commit a checkpoint", e))?;
    Ok(())
}

/// Appends a change. The per-tenant counter row stays locked until commit, so a later sequence
/// number never becomes visible before an earlier one.
async fn append_change(
    tx: &mut Transaction<'static, Any>,
    scope: &StreamScope,
    remote_id: &str,
    kind: ChangeKind,
    data: &Value,
    previous: Option<&Value>,
    now: i64,
) -> Result<()> {
    let row = sqlx::query(
        "INSERT INTO change_counters (tenant, seq) VALUES ($1, 1) \
         ON CONFLICT (tenant) DO UPDATE SET seq = change_counters.seq + 1 RETURNING seq",
    )
    .bind(scope.tenant.as_str())
    .fetch_one(&mut **tx)
    .await
    .map_err(|e| db("number a change", e))?;
    let seq = int(&row, "seq")?;
    sqlx::query(
        "INSERT INTO changes (tenant, seq, connection, stream, remote_id, kind, data, previous, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(scope.tenant.as_str())
    .bind(seq)
    .bind(scope.connection.as_str())
    .bind(scope.stream.as_str())
    .bind(remote_id)
    .bind(enum_text(&kind)?)
    .bind(to_json(data)?)
    .bind(previous.map(to_json).transpose()?)
    .bind(now)
    .execute(&mut **tx)
    .await
    .map_err(|e| db("append a change", e))?;
    Ok(())
}

impl SqlStore {
    async fn apply(
        &self,
        tx: &mut Transaction<'static, Any>,
        scope: &StreamScope,
        record: &Record,
        run: Option<RunId>,
        now: i64,
        sum: &mut WriteSummary,
    ) -> Result<()> {
        let sql = format!(
            "SELECT data, hash, deleted FROM records WHERE tenant = $1 AND connection = $2 AND stream = $3 AND remote_id = $4{}",
            self.for_update()
        );
        let existing = sqlx::query(AssertSqlSafe(sql))
            .bind(scope.tenant.as_str())
            .bind(scope.connection.as_str())
            .bind(scope.stream.as_str())
            .bind(record.remote_id.as_str())
            .fetch_optional(&mut **tx)
            .await
            .map_err(|e| db("read a record", e))?;
        let existing = match existing {
            Some(row) => Some((
                from_json::<Value>("record data", &text(&row, "data")?)?,
                text(&row, "hash")?,
                int(&row, "deleted")? != 0,
            )),
            None => None,
        };
        let run_text = run.map(|r| r.to_string());
        let key = |q: sqlx::query::Query<'static, Any, sqlx::any::AnyArguments>| {
            q.bind(scope.tenant.to_string())
                .bind(scope.connection.to_string())
                .bind(scope.stream.clone())
                .bind(record.remote_id.clone())
        };
        if record.deleted {
            match existing {
                Some((data, _, false)) => {
                    key(sqlx::query(
                        "UPDATE records SET deleted = 1, updated_at = $5, seen_by = COALESCE($6, seen_by) \
                         WHERE tenant = $1 AND connection = $2 AND stream = $3 AND remote_id = $4",
                    ))
                    .bind(now)
                    .bind(run_text)
                    .execute(&mut **tx)
                    .await
                    .map_err(|e| db("delete a record", e))?;
                    append_change(tx, scope, &record.remote_id, ChangeKind::Deleted, &data, Some(&data), now).await?;
                    sum.deleted += 1;
                }
                _ => sum.unchanged += 1,
            }
            return Ok(());
        }
        let hash = ContentHash::of(&record.data).to_hex();
        let (kind, previous) = match existing {
            Some((_, stored_hash, false)) if stored_hash == hash => {
                key(sqlx::query(
                    "UPDATE records SET seen_by = COALESCE($5, seen_by) \
                     WHERE tenant = $1 AND connection = $2 AND stream = $3 AND remote_id = $4",
                ))
                .bind(run_text)
                .execute(&mut **tx)
                .await
                .map_err(|e| db("mark a record seen", e))?;
                sum.unchanged += 1;
                return Ok(());
            }
            Some((data, _, deleted)) => (if deleted { ChangeKind::Added } else { ChangeKind::Updated }, Some(data)),
            None => (ChangeKind::Added, None),
        };
        key(sqlx::query(
            "INSERT INTO records (tenant, connection, stream, remote_id, data, remote_data, hash, modified_at, deleted, \
             seen_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, $10, $10) \
             ON CONFLICT (tenant, connection, stream, remote_id) DO UPDATE SET data = excluded.data, \
             remote_data = excluded.remote_data, hash = excluded.hash, modified_at = excluded.modified_at, deleted = 0, \
             seen_by = COALESCE(excluded.seen_by, records.seen_by), updated_at = excluded.updated_at",
        ))
        .bind(to_json(&record.data)?)
        .bind(record.remote_data.as_ref().map(to_json).transpose()?)
        .bind(hash)
        .bind(record.modified_at.map(micros))
        .bind(run_text)
        .bind(now)
        .execute(&mut **tx)
        .await
        .map_err(|e| db("write a record", e))?;
        append_change(tx, scope, &record.remote_id, kind, &record.data, previous.as_ref(), now).await?;
        if kind == ChangeKind::Added {
            sum.added += 1;
        } else {
            sum.updated += 1;
        }
        Ok(())
    }
}

#[async_trait]
impl RecordStore for SqlStore {
    async fn write_page(&self, scope: &StreamScope, page: &PageWrite) -> Result<WriteSummary> {
        let now = micros(self.now());
        let mut tx = self.begin().await?;
        let mut sum = WriteSummary::default();
        for record in &page.records {
            self.apply(&mut tx, scope, record, page.run, now, &mut sum).await?;
        }
        if let Some(cp) = &page.checkpoint {
            commit_checkpoint(&mut tx, scope, cp, page.run, now).await?;
        }
        tx.commit().await.map_err(|e| db("commit a page", e))?;
        Ok(sum)
    }

    async fn delete_unseen(&self, scope: &StreamScope, run: RunId, checkpoint: Option<&Checkpoint>) -> Result<u64> {
        let now = micros(self.now());
        let mut tx = self.begin().await?;
        let run_text = run.to_string();
        let sql = format!(
            "SELECT remote_id, data FROM records WHERE tenant = $1 AND connection = $2 AND stream = $3 AND deleted = 0 \
             AND (seen_by IS NULL OR seen_by <> $4) ORDER BY remote_id{}",
            self.for_update()
        );
        let gone = sqlx::query(AssertSqlSafe(sql))
            .bind(scope.tenant.as_str())
            .bind(scope.connection.as_str())
            .bind(scope.stream.as_str())
            .bind(run_text.as_str())
            .fetch_all(&mut *tx)
            .await
            .map_err(|e| db("find unseen records", e))?;
        for row in &gone {
            let remote_id = text(row, "remote_id")?;
            let data: Value = from_json("record data", &text(row, "data")?)?;
            sqlx::query(
                "UPDATE records SET deleted = 1, updated_at = $5 WHERE tenant = $1 AND connection = $2 AND stream = $3 AND remote_id = $4",
            )
            .bind(scope.tenant.as_str())
            .bind(scope.connection.as_str())
            .bind(scope.stream.as_str())
            .bind(remote_id.as_str())
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(|e| db("delete an unseen record", e))?;
            append_change(&mut tx, scope, &remote_id, ChangeKind::Deleted, &data, Some(&data), now).await?;
        }
        if let Some(cp) = checkpoint {
            commit_checkpoint(&mut tx, scope, cp, Some(run), now).await?;
        }
        tx.commit().await.map_err(|e| db("commit a sweep", e))?;
        Ok(gone.len() as u64)
    }

    async fn record(&self, scope: &StreamScope, remote_id: &str) -> Result<Option<StoredRecord>> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {RECORD_COLUMNS} FROM records WHERE tenant = $1 AND connection = $2 AND stream = $3 AND remote_id = $4"
        )))
        .bind(scope.tenant.as_str())
        .bind(scope.connection.as_str())
        .bind(scope.stream.as_str())
        .bind(remote_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| db("read a record", e))?;
        row.as_ref().map(decode_record).transpose()
    }

    async fn records(
        &self,
        scope: &StreamScope,
        after: Option<&str>,
        limit: usize,
        include_deleted: bool,
    ) -> Result<Vec<StoredRecord>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {RECORD_COLUMNS} FROM records WHERE tenant = $1 AND connection = $2 AND stream = $3 \
             AND (CAST($4 AS TEXT) IS NULL OR remote_id > $4) AND (deleted = 0 OR $5 = 1) ORDER BY remote_id LIMIT $6"
        )))
        .bind(scope.tenant.as_str())
        .bind(scope.connection.as_str())
        .bind(scope.stream.as_str())
        .bind(after.map(str::to_owned))
        .bind(i64::from(include_deleted))
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db("list records", e))?;
        rows.iter().map(decode_record).collect()
    }

    async fn changes_since(
        &self,
        tenant: &TenantId,
        cursor: Option<&ChangeCursor>,
        limit: usize,
    ) -> Result<ChangeBatch> {
        let issued = sqlx::query("SELECT seq FROM change_counters WHERE tenant = $1")
            .bind(tenant.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| db("read the change counter", e))?
            .map_or(Ok(0), |r| int(&r, "seq"))?;
        let start = match cursor {
            None => 0,
            Some(c) => c
                .as_str()
                .strip_prefix(CURSOR_PREFIX)
                .and_then(|n| n.parse::<i64>().ok())
                .filter(|n| (0..=issued).contains(n))
                .ok_or_else(|| {
                    Error::validation(
                        "cursor",
                        format!("{:?} is not a change cursor issued by this store for tenant {tenant}", c.as_str()),
                    )
                })?,
        };
        let rows = sqlx::query(
            "SELECT seq, connection, stream, remote_id, kind, data, previous, at FROM changes \
             WHERE tenant = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .bind(tenant.as_str())
        .bind(start)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db("read changes", e))?;
        let mut changes = Vec::with_capacity(rows.len());
        for row in &rows {
            let seq = int(row, "seq")?;
            changes.push(Change {
                cursor: ChangeCursor::new(format!("{CURSOR_PREFIX}{seq}")),
                scope: StreamScope::new(
                    tenant.clone(),
                    id("connection", text(row, "connection")?)?,
                    text(row, "stream")?,
                ),
                remote_id: text(row, "remote_id")?,
                kind: enum_from_text("change kind", text(row, "kind")?)?,
                data: from_json("change data", &text(row, "data")?)?,
                previous: opt_text(row, "previous")?.map(|p| from_json("previous data", &p)).transpose()?,
                at: time(int(row, "at")?)?,
            });
        }
        let next =
            changes.last().map_or_else(|| ChangeCursor::new(format!("{CURSOR_PREFIX}{start}")), |c| c.cursor.clone());
        Ok(ChangeBatch { changes, next })
    }
}
