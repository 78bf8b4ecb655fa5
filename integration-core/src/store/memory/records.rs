//! The memory store's records cache and change stream.
//!
//! A record's data is kept once, behind an `Arc`, and shared by the cache and every change that
//! shows it: writing a page moves each record in and copies nothing. Readers get owned
//! [`StoredRecord`]s and [`Change`]s, copied out when they ask.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hashbrown::HashMap;
use serde_json::Value;

use super::{CURSOR_PREFIX, MemoryStore};
use crate::error::{Error, Result};
use crate::ids::{RunId, TenantId};
use crate::integration::{Checkpoint, Record};
use crate::store::{
    Change, ChangeBatch, ChangeCursor, ChangeKind, ContentHash, PageWrite, RecordStore, StoredRecord, StreamScope,
    WriteSummary,
};

/// The cached version of one record.
#[derive(Debug)]
struct Cached {
    data: Arc<Value>,
    remote_data: Option<Arc<Value>>,
    hash: ContentHash,
    modified_at: Option<DateTime<Utc>>,
    deleted: bool,
    seen_by: Option<RunId>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// One entry of a tenant's change stream; its cursor is its position.
#[derive(Debug)]
struct Logged {
    scope: Arc<StreamScope>,
    remote_id: Arc<str>,
    kind: ChangeKind,
    data: Arc<Value>,
    previous: Option<Arc<Value>>,
    at: DateTime<Utc>,
}

/// Every stream's cached records, and every tenant's change stream.
#[derive(Debug, Default)]
pub(super) struct Records {
    streams: HashMap<StreamScope, Stream>,
    changes: HashMap<TenantId, Vec<Logged>>,
}

/// One stream's records by remote id, and its scope as the changes share it.
#[derive(Debug)]
struct Stream {
    scope: Arc<StreamScope>,
    records: BTreeMap<Arc<str>, Cached>,
}

/// What a write did to one record, for the change stream.
struct Changed {
    remote_id: Arc<str>,
    kind: ChangeKind,
    data: Arc<Value>,
    previous: Option<Arc<Value>>,
}

impl Changed {
    /// The deletion of a cached record: it shows the last live data, as before and after.
    fn deletion(remote_id: &Arc<str>, cached: &Cached) -> Self {
        let data = cached.data.clone();
        Self { remote_id: remote_id.clone(), kind: ChangeKind::Deleted, previous: Some(data.clone()), data }
    }
}

impl Records {
    fn stream(&mut self, scope: &StreamScope) -> &mut Stream {
        // Once a page: a scope's clone is two counted references and the stream's name.
        self.streams
            .entry(scope.clone())
            .or_insert_with(|| Stream { scope: Arc::new(scope.clone()), records: BTreeMap::new() })
    }

    /// Applies `records` to `scope`'s cache in order and logs what changed.
    fn write(
        &mut self,
        scope: &StreamScope,
        records: Vec<Record>,
        run: Option<RunId>,
        now: DateTime<Utc>,
    ) -> WriteSummary {
        let mut sum = WriteSummary::default();
        let stream = self.stream(scope);
        let mut changed = Vec::new();
        for record in records {
            changed.extend(stream.apply(record, run, now, &mut sum));
        }
        let shared = stream.scope.clone();
        self.log(&shared, changed, now);
        sum
    }

    /// Soft-deletes `scope`'s live records that `run` did not see.
    fn delete_unseen(&mut self, scope: &StreamScope, run: RunId, now: DateTime<Utc>) -> u64 {
        let Some(stream) = self.streams.get_mut(scope) else { return 0 };
        let mut changed = Vec::new();
        for (remote_id, cached) in stream.records.iter_mut().filter(|(_, c)| !c.deleted && c.seen_by != Some(run)) {
            cached.deleted = true;
            cached.updated_at = now;
            changed.push(Changed::deletion(remote_id, cached));
        }
        let (shared, gone) = (stream.scope.clone(), changed.len() as u64);
        self.log(&shared, changed, now);
        gone
    }

    fn log(&mut self, scope: &Arc<StreamScope>, changed: Vec<Changed>, at: DateTime<Utc>) {
        if changed.is_empty() {
            return;
        }
        let log = self.changes.entry(scope.tenant.clone()).or_default();
        log.extend(changed.into_iter().map(|c| Logged {
            scope: scope.clone(),
            remote_id: c.remote_id,
            kind: c.kind,
            data: c.data,
            previous: c.previous,
            at,
        }));
    }

    fn record(&self, scope: &StreamScope, remote_id: &str) -> Option<StoredRecord> {
        let (remote_id, cached) = self.streams.get(scope)?.records.get_key_value(remote_id)?;
        Some(cached.to_stored(remote_id))
    }

    fn records(
        &self,
        scope: &StreamScope,
        after: Option<&str>,
        limit: usize,
        include_deleted: bool,
    ) -> Vec<StoredRecord> {
        let Some(stream) = self.streams.get(scope) else { return Vec::new() };
        let range = match after {
            Some(a) => stream.records.range::<str, _>((std::ops::Bound::Excluded(a), std::ops::Bound::Unbounded)),
            None => stream.records.range::<str, _>(..),
        };
        range.filter(|(_, c)| include_deleted || !c.deleted).take(limit).map(|(id, c)| c.to_stored(id)).collect()
    }

    fn changes_since(&self, tenant: &TenantId, cursor: Option<&ChangeCursor>, limit: usize) -> Result<ChangeBatch> {
        let log = self.changes.get(tenant).map(Vec::as_slice).unwrap_or_default();
        let start = match cursor {
            None => 0,
            Some(c) => c
                .as_str()
                .strip_prefix(CURSOR_PREFIX)
                .and_then(|n| n.parse::<usize>().ok())
                .filter(|n| *n <= log.len())
                .ok_or_else(|| {
                    Error::validation(
                        "cursor",
                        format!("{:?} is not a change cursor issued by this store for tenant {tenant}", c.as_str()),
                    )
                })?,
        };
        let changes: Vec<Change> =
            log[start..].iter().take(limit).enumerate().map(|(i, logged)| logged.to_change(start + i + 1)).collect();
        let end = start + changes.len();
        Ok(ChangeBatch { changes, next: cursor_at(end) })
    }
}

fn cursor_at(position: usize) -> ChangeCursor {
    ChangeCursor::new(format!("{CURSOR_PREFIX}{position}"))
}

impl Stream {
    /// The cached record `remote_id`, with its key.
    fn entry(&mut self, remote_id: &str) -> Option<(&Arc<str>, &mut Cached)> {
        use std::ops::Bound::Included;
        self.records.range_mut::<str, _>((Included(remote_id), Included(remote_id))).next()
    }

    /// Applies one record; what changed, if anything.
    fn apply(
        &mut self,
        record: Record,
        run: Option<RunId>,
        now: DateTime<Utc>,
        sum: &mut WriteSummary,
    ) -> Option<Changed> {
        if record.deleted {
            return match self.entry(&record.remote_id) {
                Some((remote_id, cached)) if !cached.deleted => {
                    cached.deleted = true;
                    cached.updated_at = now;
                    cached.seen_by = run.or(cached.seen_by);
                    sum.deleted += 1;
                    Some(Changed::deletion(remote_id, cached))
                }
                _ => {
                    sum.unchanged += 1;
                    None
                }
            };
        }
        let hash = ContentHash::of(&record.data);
        let data = Arc::new(record.data);
        let remote_data = record.remote_data.map(Arc::new);
        match self.entry(&record.remote_id) {
            Some((_, cached)) if !cached.deleted && cached.hash == hash => {
                cached.seen_by = run.or(cached.seen_by);
                sum.unchanged += 1;
                None
            }
            Some((remote_id, cached)) => {
                let kind = if cached.deleted { ChangeKind::Added } else { ChangeKind::Updated };
                let previous = std::mem::replace(&mut cached.data, data.clone());
                cached.remote_data = remote_data;
                cached.hash = hash;
                cached.modified_at = record.modified_at;
                cached.deleted = false;
                cached.seen_by = run.or(cached.seen_by);
                cached.updated_at = now;
                if kind == ChangeKind::Added {
                    sum.added += 1;
                } else {
                    sum.updated += 1;
                }
                Some(Changed { remote_id: remote_id.clone(), kind, data, previous: Some(previous) })
            }
            None => {
                let remote_id: Arc<str> = record.remote_id.into();
                let cached = Cached {
                    data: data.clone(),
                    remote_data,
                    hash,
                    modified_at: record.modified_at,
                    deleted: false,
                    seen_by: run,
                    created_at: now,
                    updated_at: now,
                };
                self.records.insert(remote_id.clone(), cached);
                sum.added += 1;
                Some(Changed { remote_id, kind: ChangeKind::Added, data, previous: None })
            }
        }
    }
}

impl Cached {
    fn to_stored(&self, remote_id: &str) -> StoredRecord {
        StoredRecord {
            remote_id: remote_id.to_owned(),
            data: Value::clone(&self.data),
            remote_data: self.remote_data.as_deref().cloned(),
            hash: self.hash,
            modified_at: self.modified_at,
            deleted: self.deleted,
            seen_by: self.seen_by,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

impl Logged {
    fn to_change(&self, position: usize) -> Change {
        Change {
            cursor: cursor_at(position),
            scope: StreamScope::clone(&self.scope),
            remote_id: self.remote_id.to_string(),
            kind: self.kind,
            data: Value::clone(&self.data),
            previous: self.previous.as_deref().cloned(),
            at: self.at,
        }
    }
}

#[async_trait]
impl RecordStore for MemoryStore {
    async fn write_page(&self, scope: &StreamScope, page: PageWrite) -> Result<WriteSummary> {
        let now = self.now();
        let mut state = self.lock();
        let sum = state.records.write(scope, page.records, page.run, now);
        state.commit_checkpoint(scope, page.checkpoint.as_ref(), page.run, now);
        Ok(sum)
    }

    async fn delete_unseen(&self, scope: &StreamScope, run: RunId, checkpoint: Option<&Checkpoint>) -> Result<u64> {
        let now = self.now();
        let mut state = self.lock();
        let gone = state.records.delete_unseen(scope, run, now);
        state.commit_checkpoint(scope, checkpoint, Some(run), now);
        Ok(gone)
    }

    async fn record(&self, scope: &StreamScope, remote_id: &str) -> Result<Option<StoredRecord>> {
        Ok(self.lock().records.record(scope, remote_id))
    }

    async fn records(
        &self,
        scope: &StreamScope,
        after: Option<&str>,
        limit: usize,
        include_deleted: bool,
    ) -> Result<Vec<StoredRecord>> {
        Ok(self.lock().records.records(scope, after, limit, include_deleted))
    }

    async fn changes_since(
        &self,
        tenant: &TenantId,
        cursor: Option<&ChangeCursor>,
        limit: usize,
    ) -> Result<ChangeBatch> {
        self.lock().records.changes_since(tenant, cursor, limit)
    }
}
