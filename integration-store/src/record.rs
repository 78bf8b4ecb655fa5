//! [`RecordStore`] on SQL: records and their checkpoint in one transaction, and a per-tenant
//! change log whose sequence numbers become visible in order.

use std::sync::Arc;

use async_trait::async_trait;
use integration_core::store::{
    Change, ChangeBatch, ChangeCursor, ChangeKind, ContentHash, PageWrite, RecordStore, StoredRecord, StreamScope,
    WriteSummary,
};
use integration_core::{Checkpoint, Error, Record, Result, RunId, TenantId};
use sqlx::any::AnyRow;
use sqlx::{Any, Transaction};

use crate::SqlStore;
use crate::codec::{
    corrupt, db, enum_from_text, from_json, get, id, int, micros, opt_text, opt_time, text, time, to_json,
};
use crate::page_sql::PageSql;
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

/// How many rows one statement carries (well under SQLite's and PostgreSQL's parameter limits).
const CHUNK: usize = 1000;

/// A cached row as a page sees it, its JSON kept as text: what was read is written back (or
/// logged as the previous version) without being parsed, and new data is serialized once for
/// both the row and its change.
struct Row {
    data: Arc<str>,
    remote_data: Option<String>,
    hash: String,
    modified_at: Option<i64>,
    deleted: bool,
}

/// One change-log entry of a page: remote id, kind, data and previous data as JSON text.
type PageChange<'a> = (&'a str, ChangeKind, Arc<str>, Option<Arc<str>>);

impl SqlStore {
    /// The text of a page statement for `rows` rows.
    fn page_sql(&self, kind: PageSql, rows: usize) -> AssertSqlSafe<Arc<str>> {
        AssertSqlSafe(self.page_sql.get(kind, rows))
    }

    /// The cached rows of `ids` in `scope`, locked for this transaction where the database locks rows.
    async fn load_rows(
        &self,
        tx: &mut Transaction<'static, Any>,
        scope: &StreamScope,
        ids: &[&str],
    ) -> Result<std::collections::HashMap<String, Row>> {
        let mut rows = std::collections::HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(CHUNK) {
            let mut q = sqlx::query(self.page_sql(PageSql::LoadRows, chunk.len()))
                .bind(scope.tenant.as_str())
                .bind(scope.connection.as_str())
                .bind(scope.stream.as_str());
            for id in chunk {
                q = q.bind(*id);
            }
            for row in q.fetch_all(&mut **tx).await.map_err(|e| db("read records", e))? {
                rows.insert(
                    text(&row, "remote_id")?,
                    Row {
                        data: text(&row, "data")?.into(),
                        remote_data: opt_text(&row, "remote_data")?,
                        hash: text(&row, "hash")?,
                        modified_at: get::<Option<i64>, _>(&row, "modified_at")?,
                        deleted: int(&row, "deleted")? != 0,
                    },
                );
            }
        }
        Ok(rows)
    }

    /// Writes the changed rows of a page, one statement per chunk.
    async fn upsert_rows(
        &self,
        tx: &mut Transaction<'static, Any>,
        scope: &StreamScope,
        rows: &[(&str, &Row)],
        run: Option<&str>,
        now: i64,
    ) -> Result<()> {
        for chunk in rows.chunks(CHUNK) {
            let mut q = sqlx::query(self.page_sql(PageSql::UpsertRows, chunk.len()))
                .bind(scope.tenant.as_str())
                .bind(scope.connection.as_str())
                .bind(scope.stream.as_str())
                .bind(run)
                .bind(now);
            for (id, row) in chunk {
                q = q
                    .bind(*id)
                    .bind(&*row.data)
                    .bind(row.remote_data.as_deref())
                    .bind(row.hash.as_str())
                    .bind(row.modified_at)
                    .bind(i64::from(row.deleted));
            }
            q.execute(&mut **tx).await.map_err(|e| db("write records", e))?;
        }
        Ok(())
    }

    /// Marks unchanged rows as seen by `run`.
    async fn mark_seen(
        &self,
        tx: &mut Transaction<'static, Any>,
        scope: &StreamScope,
        ids: &[&str],
        run: &str,
    ) -> Result<()> {
        for chunk in ids.chunks(CHUNK) {
            let mut q = sqlx::query(self.page_sql(PageSql::MarkSeen, chunk.len()))
                .bind(run)
                .bind(scope.tenant.as_str())
                .bind(scope.connection.as_str())
                .bind(scope.stream.as_str());
            for id in chunk {
                q = q.bind(*id);
            }
            q.execute(&mut **tx).await.map_err(|e| db("mark records seen", e))?;
        }
        Ok(())
    }

    /// Appends changes, numbered from one reservation of the per-tenant counter (whose row stays
    /// locked until commit, so numbers become visible in order).
    async fn append_changes(
        &self,
        tx: &mut Transaction<'static, Any>,
        scope: &StreamScope,
        changes: &[PageChange<'_>],
        now: i64,
    ) -> Result<()> {
        if changes.is_empty() {
            return Ok(());
        }
        let n = i64::try_from(changes.len()).unwrap_or(i64::MAX);
        let row = sqlx::query(
            "INSERT INTO change_counters (tenant, seq) VALUES ($1, $2) \
             ON CONFLICT (tenant) DO UPDATE SET seq = change_counters.seq + $2 RETURNING seq",
        )
        .bind(scope.tenant.as_str())
        .bind(n)
        .fetch_one(&mut **tx)
        .await
        .map_err(|e| db("number changes", e))?;
        let mut seq = int(&row, "seq")? - n;
        for chunk in changes.chunks(CHUNK) {
            let mut q = sqlx::query(self.page_sql(PageSql::AppendChanges, chunk.len()))
                .bind(scope.tenant.as_str())
                .bind(scope.connection.as_str())
                .bind(scope.stream.as_str())
                .bind(now);
            for (remote_id, kind, data, previous) in chunk {
                seq += 1;
                q = q.bind(seq).bind(*remote_id).bind(kind.as_str()).bind(&**data).bind(previous.as_deref());
            }
            q.execute(&mut **tx).await.map_err(|e| db("append changes", e))?;
        }
        Ok(())
    }
}

#[async_trait]
impl RecordStore for SqlStore {
    async fn write_page(&self, scope: &StreamScope, page: PageWrite) -> Result<WriteSummary> {
        let now = micros(self.now());
        let (run, checkpoint) = (page.run, page.checkpoint);
        // Ids apart from the rest, so the records can be moved in while the ids are borrowed.
        let (page_ids, records): (Vec<String>, Vec<Record>) =
            page.records.into_iter().map(|mut r| (std::mem::take(&mut r.remote_id), r)).unzip();
        let mut tx = self.begin().await?;
        let mut ids: Vec<&str> = page_ids.iter().map(String::as_str).collect();
        ids.sort_unstable();
        ids.dedup();
        let mut rows = self.load_rows(&mut tx, scope, &ids).await?;
        // Apply the page in order, in memory: what changed, and the changes to log.
        let mut sum = WriteSummary::default();
        let mut dirty = std::collections::BTreeSet::new();
        let mut changes: Vec<PageChange<'_>> = Vec::new();
        for (id, record) in page_ids.iter().map(String::as_str).zip(records) {
            if record.deleted {
                match rows.get_mut(id) {
                    Some(row) if !row.deleted => {
                        changes.push((id, ChangeKind::Deleted, row.data.clone(), Some(row.data.clone())));
                        row.deleted = true;
                        dirty.insert(id);
                        sum.deleted += 1;
                    }
                    _ => sum.unchanged += 1,
                }
                continue;
            }
            let hash = ContentHash::of(&record.data).to_hex();
            let (kind, previous) = match rows.get(id) {
                Some(row) if !row.deleted && row.hash == hash => {
                    sum.unchanged += 1;
                    continue;
                }
                Some(row) => {
                    (if row.deleted { ChangeKind::Added } else { ChangeKind::Updated }, Some(row.data.clone()))
                }
                None => (ChangeKind::Added, None),
            };
            let data: Arc<str> = to_json(&record.data)?.into();
            changes.push((id, kind, data.clone(), previous));
            rows.insert(
                id.to_owned(),
                Row {
                    data,
                    remote_data: record.remote_data.as_ref().map(to_json).transpose()?,
                    hash,
                    modified_at: record.modified_at.map(micros),
                    deleted: false,
                },
            );
            dirty.insert(id);
            if kind == ChangeKind::Added {
                sum.added += 1;
            } else {
                sum.updated += 1;
            }
        }
        let run_text = run.map(|r| r.to_string());
        let changed: Vec<(&str, &Row)> = dirty.iter().filter_map(|id| rows.get(*id).map(|row| (*id, row))).collect();
        self.upsert_rows(&mut tx, scope, &changed, run_text.as_deref(), now).await?;
        if let Some(run) = &run_text {
            let seen: Vec<&str> =
                ids.iter().copied().filter(|id| !dirty.contains(id) && rows.contains_key(*id)).collect();
            self.mark_seen(&mut tx, scope, &seen, run).await?;
        }
        self.append_changes(&mut tx, scope, &changes, now).await?;
        if let Some(cp) = &checkpoint {
            commit_checkpoint(&mut tx, scope, cp, run, now).await?;
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
        let mut unseen = Vec::with_capacity(gone.len());
        for row in &gone {
            let data: Arc<str> = text(row, "data")?.into();
            unseen.push((text(row, "remote_id")?, data));
        }
        let changes: Vec<PageChange<'_>> = unseen
            .iter()
            .map(|(id, data)| (id.as_str(), ChangeKind::Deleted, data.clone(), Some(data.clone())))
            .collect();
        // The same rows as selected above: this transaction holds them.
        sqlx::query(
            "UPDATE records SET deleted = 1, updated_at = $5 WHERE tenant = $1 AND connection = $2 AND stream = $3 \
             AND deleted = 0 AND (seen_by IS NULL OR seen_by <> $4)",
        )
        .bind(scope.tenant.as_str())
        .bind(scope.connection.as_str())
        .bind(scope.stream.as_str())
        .bind(run_text.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(|e| db("delete unseen records", e))?;
        self.append_changes(&mut tx, scope, &changes, now).await?;
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
