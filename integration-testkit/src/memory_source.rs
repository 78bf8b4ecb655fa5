//! [`MemorySource`]: an in-process provider with a changing dataset, for testing the sync engine
//! and anything built on it without a network.
//!
//! It behaves like a typical REST API with a change feed:
//! - every write stamps the record with a sequence number; a [`MemorySource::batch`] stamps all
//!   its writes with one number (records sharing a cursor value, as providers with second-level
//!   timestamps produce);
//! - full reads page by id; incremental reads return everything with `seq >= since` — the cursor
//!   is **inclusive**, so a record at the boundary is read again next run — including deletions as
//!   tombstones, paged by `(seq, id)` within a run;
//! - [`MemorySource::fail_on_read`] makes one read fail, to kill a sync mid-run.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use integration_core::descriptor::{Descriptor, Domain, StreamDescriptor, SyncMode};
use integration_core::{
    Checkpoint, ConnectionInfo, Error, ErrorKind, Health, Integration, Page, ReadRequest, Record, Result,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The one stream a [`MemorySource`] serves.
pub const STREAM: &str = "employees";

#[derive(Debug, Clone)]
struct Entry {
    data: Value,
    seq: u64,
    deleted: bool,
}

#[derive(Debug, Default)]
struct State {
    entries: BTreeMap<String, Entry>,
    seq: u64,
    reads: u64,
    fail_on: Option<u64>,
    hang_on: Option<u64>,
}

/// Where a read continues from.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Position {
    /// Full reads: the last id returned.
    after_id: Option<String>,
    /// Incremental reads: the inclusive lower bound of `seq`.
    since: Option<u64>,
    /// Incremental reads within a run: the last `(seq, id)` returned.
    after: Option<(u64, String)>,
}

fn page(records: Vec<Record>, next: &Position, has_more: bool) -> Result<Page> {
    let checkpoint = Checkpoint::from_state(next)?;
    Ok(if has_more { Page::more(records, checkpoint) } else { Page::last(records, Some(checkpoint)) })
}

/// An in-memory provider; clones share the dataset.
#[derive(Debug, Clone)]
pub struct MemorySource {
    state: Arc<Mutex<State>>,
    descriptor: Descriptor,
    unhang: Arc<tokio::sync::Notify>,
}

impl Default for MemorySource {
    fn default() -> Self {
        Self::new()
    }
}

impl MemorySource {
    /// An empty source.
    pub fn new() -> Self {
        Self {
            state: Arc::new(Mutex::new(State::default())),
            descriptor: Self::describe(false),
            unhang: Arc::new(tokio::sync::Notify::new()),
        }
    }

    /// The same source, declaring that its reads change nothing
    /// ([`StreamDescriptor::with_read_ahead`]): the sync engine reads the next page while it
    /// writes the one before.
    #[must_use]
    pub fn reading_ahead(mut self) -> Self {
        self.descriptor = Self::describe(true);
        self
    }

    fn describe(read_ahead: bool) -> Descriptor {
        let stream = StreamDescriptor::new(STREAM, ["id"]).with_cursor_field("seq").with_modes([
            SyncMode::FullRefresh,
            SyncMode::ResumableFullRefresh,
            SyncMode::Incremental,
        ]);
        Descriptor::builder("memory", Domain::Hris, "In-memory source")
            .stream(if read_ahead { stream.with_read_ahead() } else { stream })
            .build()
            .unwrap_or_else(|e| unreachable!("a fixed, valid descriptor: {e}"))
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Creates or replaces a record (its own sequence number).
    pub fn upsert(&self, id: &str, data: Value) {
        self.batch(|b| b.upsert(id, data));
    }

    /// Deletes a record (a tombstone for incremental readers).
    pub fn delete(&self, id: &str) {
        self.batch(|b| b.delete(id));
    }

    /// Applies several writes under one sequence number.
    pub fn batch(&self, writes: impl FnOnce(&mut Batch)) {
        let mut batch = Batch(Vec::new());
        writes(&mut batch);
        let mut state = self.lock();
        state.seq += 1;
        let seq = state.seq;
        for (id, data) in batch.0 {
            let entry = match data {
                Some(data) => Entry { data, seq, deleted: false },
                None => match state.entries.get(&id) {
                    Some(e) if !e.deleted => Entry { data: e.data.clone(), seq, deleted: true },
                    _ => continue,
                },
            };
            state.entries.insert(id, entry);
        }
    }

    /// The live records, by id: what a correct cache holds after syncing.
    pub fn snapshot(&self) -> BTreeMap<String, Value> {
        self.lock().entries.iter().filter(|(_, e)| !e.deleted).map(|(id, e)| (id.clone(), e.data.clone())).collect()
    }

    /// Makes the `n`-th read from now fail with a transient error (`1` = the next read).
    pub fn fail_on_read(&self, n: u64) {
        let mut state = self.lock();
        state.fail_on = Some(state.reads + n);
    }

    /// Makes the `n`-th read from now hang until [`MemorySource::unhang`] (a provider that stops
    /// answering; or a point at which a test kills the worker).
    pub fn hang_on_read(&self, n: u64) {
        let mut state = self.lock();
        state.hang_on = Some(state.reads + n);
    }

    /// Lets a hanging read go on.
    pub fn unhang(&self) {
        self.lock().hang_on = None;
        self.unhang.notify_waiters();
    }

    /// Disarms a pending [`MemorySource::fail_on_read`].
    pub fn clear_failure(&self) {
        self.lock().fail_on = None;
    }

    /// How many reads were served (or failed).
    pub fn reads(&self) -> u64 {
        self.lock().reads
    }
}

/// Writes collected by [`MemorySource::batch`].
#[derive(Debug)]
pub struct Batch(Vec<(String, Option<Value>)>);

impl Batch {
    /// Creates or replaces a record.
    pub fn upsert(&mut self, id: &str, data: Value) {
        self.0.push((id.to_owned(), Some(data)));
    }

    /// Deletes a record.
    pub fn delete(&mut self, id: &str) {
        self.0.push((id.to_owned(), None));
    }
}

#[async_trait]
impl Integration for MemorySource {
    fn descriptor(&self) -> &Descriptor {
        &self.descriptor
    }

    async fn connect(&self) -> Result<ConnectionInfo> {
        Ok(ConnectionInfo::with_account("memory", None))
    }

    async fn disconnect(&self) -> Result<()> {
        Ok(())
    }

    async fn health_check(&self) -> Result<Health> {
        Ok(Health::healthy(std::time::Duration::ZERO))
    }

    async fn read(&self, request: ReadRequest) -> Result<Page> {
        if request.stream != STREAM {
            return Err(Error::not_found(format!("no stream {:?}", request.stream)));
        }
        let pos: Position = request.checkpoint.as_ref().map(Checkpoint::state).transpose()?.unwrap_or_default();
        let size = request.page_size.map_or(10, |n| n.get() as usize);
        let hang = {
            let mut state = self.lock();
            state.reads += 1;
            state.hang_on == Some(state.reads)
        };
        if hang {
            let released = self.unhang.notified();
            if self.lock().hang_on.is_some() {
                released.await;
            }
        }
        let state = self.lock();
        if state.fail_on == Some(state.reads) {
            return Err(Error::new(ErrorKind::Transient, "injected failure: the provider went away").with_status(503));
        }
        let to_record = |id: &String, e: &Entry| {
            if e.deleted { Record::deleted(id.clone()) } else { Record::new(id.clone(), e.data.clone()) }
        };
        match request.mode {
            SyncMode::Incremental => {
                let since = pos.since.unwrap_or(0);
                let mut rows: Vec<(&String, &Entry)> = state
                    .entries
                    .iter()
                    .filter(|(id, e)| match &pos.after {
                        Some((seq, after)) => (e.seq, *id) > (*seq, after),
                        None => e.seq >= since,
                    })
                    .collect();
                rows.sort_by(|a, b| (a.1.seq, a.0).cmp(&(b.1.seq, b.0)));
                let has_more = rows.len() > size;
                rows.truncate(size);
                let records = rows.iter().map(|(id, e)| to_record(id, e)).collect();
                let last = rows.last().map(|(id, e)| (e.seq, (*id).clone()));
                let next = if has_more {
                    Position { since: Some(since), after: last, ..Position::default() }
                } else {
                    // Next run: everything at or after the highest cursor seen (inclusive).
                    let high = last.map_or(since, |(seq, _)| seq.max(since));
                    Position { since: Some(high), ..Position::default() }
                };
                Ok(page(records, &next, has_more)?)
            }
            _ => {
                // Incremental reads after this full read start from where it started, so writes
                // made while it ran are not missed.
                let start = pos.since.unwrap_or(state.seq);
                let from = match &pos.after_id {
                    Some(after) => std::ops::Bound::Excluded(after.clone()),
                    None => std::ops::Bound::Unbounded,
                };
                let mut rows: Vec<(&String, &Entry)> = state
                    .entries
                    .range((from, std::ops::Bound::Unbounded))
                    .filter(|(_, e)| !e.deleted)
                    .take(size + 1)
                    .collect();
                let has_more = rows.len() > size;
                rows.truncate(size);
                let records = rows.iter().map(|(id, e)| to_record(id, e)).collect();
                let next = if has_more {
                    Position { after_id: rows.last().map(|(id, _)| (*id).clone()), since: Some(start), after: None }
                } else {
                    Position { since: Some(start), ..Position::default() }
                };
                Ok(page(records, &next, has_more)?)
            }
        }
    }
}
