//! [`SyncEngine`]: drives [`Integration::read`] page by page into the records cache.
//!
//! For one (tenant, connection, stream) at a time, under a lease with heartbeats:
//! 1. each page is written together with its checkpoint, in one store transaction — never the
//!    checkpoint first — so a run that dies anywhere resumes from the last page it committed;
//! 2. **full refresh** reads everything and, once complete, soft-deletes what it did not see;
//!    **resumable full refresh** does the same but commits its position, so a crashed run
//!    continues where it stopped (and its sweep still knows what the crashed part saw);
//!    **incremental** reads from the stored cursor (inclusive: records at the boundary are read
//!    again, and the cache's content hash absorbs them);
//! 3. records the adapter could not map are counted and kept, with their raw data and the error,
//!    in the run log; the page goes on;
//! 4. a dry run reads and compares, writes nothing, and reports what would change;
//! 5. cancellation stops at a page boundary with a consistent checkpoint;
//! 6. every run is logged: counts, status, error, checkpoint reached (while it runs, its counts
//!    are brought up to date at most once a second); a run whose worker died is marked
//!    [`Abandoned`](RunStatus::Abandoned), with the checkpoint it had committed, when the
//!    stream's lease is next taken;
//! 7. a listing that never ends cannot keep a run going: a page that repeats the previous page's
//!    records, or more pages or records than the stream's [`RunLimits`], ends the run failed
//!    with an error saying so;
//! 8. a complete answer whose body did not parse (a provider glitch) is asked for again: by the
//!    HTTP layer, per request safe to repeat (`Request::send_json`, up to
//!    [`UNPARSABLE_REREADS`](crate::http::UNPARSABLE_REREADS) times), and by the engine, per
//!    page (up to [`READ_RETRIES`] times with a short backoff) — each counted in the run log
//!    ([`RunCounts::retried_reads`]); a body cut short of its length is a transport failure,
//!    retried by the HTTP layer;
//! 9. an incremental read the provider can no longer serve from the checkpoint (an error of
//!    kind [`ResyncRequired`](ErrorKind::ResyncRequired): QuickBooks' 30-day change window, an
//!    expired Google sync token) turns the run into a resumable full pass of the stream, whose
//!    sweep finds the deletions; an incremental run finds such a pass unfinished (a crash) and
//!    finishes it first.
//!
//! Webhook changes take the same write path through [`SyncEngine::apply_changes`].
//!
//! A record the adapter rejects (it does not map, or breaks one of the connection's
//! [rules](crate::mapping)) goes to the run log with its raw data; in a full refresh its cached
//! version stays, as if seen — a rejected record is not a deleted one.
//!
//! The engine's own checkpoint wraps the adapter's: `{"v":1, "mode", "generation", "complete",
//! "position"}`. The generation is the run that started the current full pass; a resumed
//! resumable refresh keeps it, so records seen before the crash count as seen.

use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::descriptor::{RunLimits, SyncMode};
use crate::error::{Error, ErrorKind, Result};
use crate::ids::{ConnectionId, RunId, TenantId};
use crate::integration::{Checkpoint, Integration, ReadRequest, RecordChange};
use crate::store::{
    ContentHash, Lease, MAX_REJECTED_KEPT, PageWrite, RecordStore, RejectedEntry, RunCounts, RunError, RunQuery,
    RunStatus, StateStore, StreamScope, SyncRun, WriteSummary,
};

/// How often a running sync updates its entry in the run log.
const PROGRESS_EVERY: Duration = Duration::from_secs(1);

/// How many times one page's read is repeated after an answer whose body did not parse.
pub const READ_RETRIES: u32 = 3;

/// How many of a stream's recent runs are looked at for abandoned ones when its lease is taken.
const ABANDONED_LOOKBACK: usize = 50;

/// How many of those `run_due` looks at for one that completed within its interval.
const DUE_LOOKBACK: usize = 20;

/// One sync to run.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SyncJob {
    /// The tenant.
    pub tenant: TenantId,
    /// The connection.
    pub connection: ConnectionId,
    /// The stream.
    pub stream: String,
    /// The mode.
    pub mode: SyncMode,
    /// Read and compare only; write nothing.
    pub dry_run: bool,
    /// A page size hint for the adapter.
    pub page_size: Option<NonZeroU32>,
    /// How much this run may read; `None` takes the stream's
    /// [`limits`](crate::descriptor::StreamDescriptor::limits).
    pub limits: Option<RunLimits>,
}

impl SyncJob {
    /// A job for `stream` of `tenant`'s `connection` in `mode`.
    pub fn new(tenant: TenantId, connection: ConnectionId, stream: impl Into<String>, mode: SyncMode) -> Self {
        Self { tenant, connection, stream: stream.into(), mode, dry_run: false, page_size: None, limits: None }
    }

    /// Makes it a dry run.
    #[must_use]
    pub fn dry_run(mut self) -> Self {
        self.dry_run = true;
        self
    }

    /// Sets the page size hint.
    #[must_use]
    pub fn with_page_size(mut self, size: NonZeroU32) -> Self {
        self.page_size = Some(size);
        self
    }

    /// Sets how much this run may read, over the stream's own limits.
    #[must_use]
    pub fn with_limits(mut self, limits: RunLimits) -> Self {
        self.limits = Some(limits);
        self
    }

    fn scope(&self) -> StreamScope {
        StreamScope::new(self.tenant.clone(), self.connection.clone(), self.stream.clone())
    }
}

/// The engine's checkpoint around the adapter's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Envelope {
    v: u8,
    mode: SyncMode,
    generation: RunId,
    complete: bool,
    position: Option<Checkpoint>,
}

impl Envelope {
    fn checkpoint(&self) -> Result<Checkpoint> {
        Checkpoint::from_state(self)
    }

    fn read(stored: Option<Checkpoint>) -> Option<Self> {
        // A checkpoint not written by the engine (an older format) means: start over.
        stored.and_then(|c| c.state::<Self>().ok()).filter(|e| e.v == 1)
    }
}

/// Drives syncs; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct SyncEngine {
    state: Arc<dyn StateStore>,
    records: Arc<dyn RecordStore>,
    worker: String,
    lease_ttl: Duration,
    heartbeat: Duration,
}

impl SyncEngine {
    /// An engine over `state` (leases, run log) and `records` (cache and checkpoints — usually
    /// the same store), identifying itself as `worker` in leases.
    pub fn new(state: Arc<dyn StateStore>, records: Arc<dyn RecordStore>, worker: impl Into<String>) -> Self {
        Self {
            state,
            records,
            worker: worker.into(),
            lease_ttl: Duration::from_secs(60),
            heartbeat: Duration::from_secs(15),
        }
    }

    /// Sets the lease time-to-live and how often it is renewed while a run is active.
    #[must_use]
    pub fn with_lease(mut self, ttl: Duration, heartbeat: Duration) -> Self {
        self.lease_ttl = ttl;
        self.heartbeat = heartbeat.min(ttl);
        self
    }

    /// Runs `job` against `integration` until the stream is read, an error stops it, or `cancel`
    /// fires.
    ///
    /// Returns the run log entry; a run that started and then failed returns `Ok` with status
    /// [`Failed`](RunStatus::Failed) and its error. `Err` means no run started: an unknown stream
    /// or unsupported mode ([`Validation`](ErrorKind::Validation) /
    /// [`Unsupported`](ErrorKind::Unsupported)), another worker holding the stream
    /// ([`Conflict`](ErrorKind::Conflict)), or a store failure.
    pub async fn run(
        &self,
        integration: &dyn Integration,
        job: &SyncJob,
        cancel: &CancellationToken,
    ) -> Result<SyncRun> {
        let (lease, _) = self.lease(integration, job).await?;
        self.run_leased(integration, job, cancel, lease).await
    }

    /// Runs `job` unless a run of the same stream completed (succeeded or partially) less than
    /// `every` ago; `Ok(None)` when it was not due or another worker is running it.
    ///
    /// The check is made under the stream's lease, so workers in many processes sharing one
    /// store never run the same stream twice for one interval.
    pub async fn run_due(
        &self,
        integration: &dyn Integration,
        job: &SyncJob,
        every: Duration,
        cancel: &CancellationToken,
    ) -> Result<Option<SyncRun>> {
        let (lease, recent) = match self.lease(integration, job).await {
            Ok(taken) => taken,
            Err(e) if e.kind() == ErrorKind::Conflict => return Ok(None),
            Err(e) => return Err(e),
        };
        let recent = match recent {
            Ok(runs) => runs,
            Err(e) => {
                self.release(&lease).await;
                return Err(e);
            }
        };
        let window = chrono::Duration::from_std(every).unwrap_or(chrono::Duration::MAX);
        let fresh = recent.iter().take(DUE_LOOKBACK).any(|r| {
            !r.dry_run
                && matches!(r.status, RunStatus::Succeeded | RunStatus::PartiallySucceeded)
                && r.completed_at.is_some_and(|at| chrono::Utc::now() - at < window)
        });
        if fresh {
            self.release(&lease).await;
            return Ok(None);
        }
        self.run_leased(integration, job, cancel, lease).await.map(Some)
    }

    /// Checks the job against the adapter and takes the stream's lease. With it, the stream's
    /// recent runs as the log now has them (newest first, abandoned ones marked), or the error
    /// that kept them from being read.
    async fn lease(&self, integration: &dyn Integration, job: &SyncJob) -> Result<(Lease, Result<Vec<SyncRun>>)> {
        let descriptor = integration.descriptor();
        let stream = descriptor.stream(&job.stream).ok_or_else(|| {
            Error::validation("stream", format!("{} has no stream {:?}", descriptor.provider, job.stream))
                .with_provider(descriptor.provider.as_str())
        })?;
        if !stream.supports(job.mode) || job.mode == SyncMode::EventDriven {
            return Err(Error::unsupported(format!("{} sync of {}", job.mode, job.stream))
                .with_provider(descriptor.provider.as_str()));
        }
        let key = format!("sync/{}/{}", job.connection, job.stream);
        let lease =
            self.state.acquire_lease(&job.tenant, &key, &self.worker, self.lease_ttl).await?.ok_or_else(|| {
                Error::conflict(format!(
                    "{} of connection {} is being synced by another worker",
                    job.stream, job.connection
                ))
            })?;
        let query =
            RunQuery::new().connection(job.connection.clone()).stream(job.stream.clone()).limit(ABANDONED_LOOKBACK);
        let recent = match self.state.list_runs(&job.tenant, &query).await {
            Ok(mut runs) => {
                if let Err(e) = self.mark_abandoned(job, &mut runs).await {
                    tracing::warn!(error = %e, stream = %job.stream, "could not mark abandoned runs in the run log");
                }
                Ok(runs)
            }
            Err(e) => {
                tracing::warn!(error = %e, stream = %job.stream, "could not read the run log to mark abandoned runs");
                Err(e)
            }
        };
        Ok((lease, recent))
    }

    /// With the stream's lease in hand, no run of it can still be going: one of `runs` the log
    /// shows running died with its worker. It is marked abandoned, with the checkpoint it
    /// committed, in the log and in `runs`.
    async fn mark_abandoned(&self, job: &SyncJob, runs: &mut [SyncRun]) -> Result<()> {
        if !runs.iter().any(|r| r.status == RunStatus::Running) {
            return Ok(());
        }
        let committed = self.state.checkpoint(&job.scope()).await?;
        for run in runs.iter_mut().filter(|r| r.status == RunStatus::Running) {
            tracing::warn!(run = %run.id, stream = %job.stream, "a run of this stream was still marked running: its worker died; marked abandoned");
            run.status = RunStatus::Abandoned;
            run.completed_at = Some(chrono::Utc::now());
            if let Some(stored) = committed.as_ref().filter(|c| c.run == Some(run.id)) {
                run.checkpoint = Some(stored.checkpoint.clone());
            }
            run.error = Some(RunError {
                kind: ErrorKind::Cancelled.as_str().to_owned(),
                message: "the run's worker stopped before it finished (killed or lost); the next run resumes from the checkpoint it committed".to_owned(),
            });
            self.state.update_run(run).await?;
        }
        Ok(())
    }

    async fn run_leased(
        &self,
        integration: &dyn Integration,
        job: &SyncJob,
        cancel: &CancellationToken,
        lease: Lease,
    ) -> Result<SyncRun> {
        let descriptor = integration.descriptor();
        let mut run = SyncRun {
            id: RunId::new(),
            tenant: job.tenant.clone(),
            connection: job.connection.clone(),
            domain: descriptor.domain,
            provider: descriptor.provider.clone(),
            stream: job.stream.clone(),
            mode: job.mode,
            dry_run: job.dry_run,
            status: RunStatus::Running,
            counts: RunCounts::default(),
            error: None,
            checkpoint: None,
            started_at: chrono::Utc::now(),
            completed_at: None,
            rejected: Vec::new(),
        };
        if let Err(e) = self.state.create_run(&run).await {
            self.release(&lease).await;
            return Err(e);
        }
        let span = tracing::info_span!("sync.run", tenant = %job.tenant, connection = %job.connection, stream = %job.stream, mode = %job.mode, run = %run.id);
        let lost = Arc::new(AtomicBool::new(false));
        // Dropped with this future: a run abandoned by its caller stops renewing its lease, so
        // the lease lapses and another worker can take the stream over.
        let heartbeat = AbortOnDrop(self.spawn_heartbeat(lease.clone(), lost.clone()));
        let outcome =
            tracing::Instrument::instrument(self.drive(integration, job, &mut run, cancel, &lost), span).await;
        drop(heartbeat);
        match outcome {
            Ok(status) => run.status = status,
            Err(e) => {
                tracing::warn!(run = %run.id, error = %e, "sync run failed");
                run.status = RunStatus::Failed;
                run.error = Some(RunError::from(&e));
            }
        }
        run.completed_at = Some(chrono::Utc::now());
        crate::telemetry::sync_run(&run);
        let logged = self.state.update_run(&run).await;
        if !lost.load(Ordering::SeqCst) {
            self.release(&lease).await;
        }
        logged.map(|()| run)
    }

    /// Applies record changes that arrived by webhook through the same write path as reads
    /// (event-driven mode). Returns what changed, per stream.
    ///
    /// Webhooks arrive late and out of order: a change whose record says when the provider
    /// changed it (`modified_at`) is skipped when the cache already holds a later state of that
    /// record, so an old notification never undoes a newer one. Within one call the latest
    /// change of a record wins the same way.
    pub async fn apply_changes(
        &self,
        tenant: &TenantId,
        connection: &ConnectionId,
        changes: &[RecordChange],
    ) -> Result<BTreeMap<String, WriteSummary>> {
        let mut by_stream: BTreeMap<&str, Vec<crate::Record>> = BTreeMap::new();
        for change in changes {
            let records = by_stream.entry(change.stream.as_str()).or_default();
            let incoming = &change.record;
            let superseded = records
                .iter()
                .any(|r| r.remote_id == incoming.remote_id && is_older(incoming.modified_at, r.modified_at));
            if !superseded {
                records.push(incoming.clone());
            }
        }
        let mut out = BTreeMap::new();
        for (stream, mut records) in by_stream {
            let scope = StreamScope::new(tenant.clone(), connection.clone(), stream);
            let mut current = Vec::with_capacity(records.len());
            for record in records.drain(..) {
                if record.modified_at.is_some() {
                    let stored = self.records.record(&scope, &record.remote_id).await?;
                    if stored.is_some_and(|s| is_older(record.modified_at, s.modified_at)) {
                        tracing::debug!(stream, remote_id = %record.remote_id, "a webhook's change older than the cache's record is skipped");
                        continue;
                    }
                }
                current.push(record);
            }
            let records = current;
            let summary = self.records.write_page(&scope, PageWrite::new(records, None, None)).await?;
            out.insert(stream.to_owned(), summary);
        }
        Ok(out)
    }

    fn spawn_heartbeat(&self, lease: Lease, lost: Arc<AtomicBool>) -> tokio::task::JoinHandle<()> {
        let (state, ttl, every) = (self.state.clone(), self.lease_ttl, self.heartbeat);
        tokio::spawn(async move {
            let mut lease = lease;
            loop {
                tokio::time::sleep(every).await;
                match state.renew_lease(&lease, ttl).await {
                    Ok(renewed) => lease = renewed,
                    Err(e) if e.kind() == ErrorKind::Conflict => {
                        tracing::error!(lease = %lease.key, "sync lease lost; the run stops at the next page");
                        lost.store(true, Ordering::SeqCst);
                        return;
                    }
                    Err(e) => tracing::warn!(error = %e, "could not renew the sync lease; retrying"),
                }
            }
        })
    }

    async fn release(&self, lease: &Lease) {
        if let Err(e) = self.state.release_lease(lease).await {
            tracing::warn!(error = %e, lease = %lease.key, "could not release a sync lease; it lapses on its own");
        }
    }

    /// The page loop. Returns the final status, or the error that stopped the run.
    async fn drive(
        &self,
        integration: &dyn Integration,
        job: &SyncJob,
        run: &mut SyncRun,
        cancel: &CancellationToken,
        lost: &AtomicBool,
    ) -> Result<RunStatus> {
        let scope = job.scope();
        let stored = Envelope::read(self.state.checkpoint(&scope).await?.map(|c| c.checkpoint));
        let mut envelope = match (job.mode, stored) {
            // A full pass that stopped (a resync, or a resumable refresh) is finished first,
            // deletions included.
            (SyncMode::Incremental, Some(prev)) if prev.mode == SyncMode::ResumableFullRefresh && !prev.complete => {
                prev
            }
            (SyncMode::Incremental, Some(prev)) => Envelope { mode: job.mode, complete: false, ..prev },
            (SyncMode::ResumableFullRefresh, Some(prev)) if !prev.complete && prev.mode == job.mode => prev,
            _ => Envelope { v: 1, mode: job.mode, generation: run.id, complete: false, position: None },
        };
        // The mode pages are read in: the job's, until the provider asks for a resync.
        let mut mode = envelope.mode;
        let mut full = matches!(mode, SyncMode::FullRefresh | SyncMode::ResumableFullRefresh);
        let mut commit_positions = mode != SyncMode::FullRefresh;
        let stream = integration.descriptor().stream(&job.stream);
        let read_ahead = stream.is_some_and(|s| s.read_ahead);
        let limits = job.limits.or(stream.map(|s| s.limits)).unwrap_or_default();
        let (mut pages, mut previous_page) = (0u64, None::<u64>);
        let read = |mode: SyncMode, position: Option<Checkpoint>| {
            let mut request = ReadRequest::new(job.stream.clone(), mode).after(position);
            request.page_size = job.page_size;
            request.dry_run = job.dry_run;
            counting_rereads(integration.read(request))
        };
        // The next page, when it was read while the one before was being written.
        let mut ahead = None;
        let mut logged = tokio::time::Instant::now();
        loop {
            if cancel.is_cancelled() {
                return Ok(RunStatus::Cancelled);
            }
            if lost.load(Ordering::SeqCst) {
                return Err(Error::conflict("the sync lease was lost; another worker may have taken the stream over"));
            }
            let first = match ahead.take() {
                Some(page) => page,
                None => read(mode, envelope.position.clone()).await,
            };
            let page = match self.retry_unparsable(first, &|at| read(mode, at), envelope.position.clone(), run).await {
                Err(e) if e.kind() == ErrorKind::ResyncRequired && mode == SyncMode::Incremental => {
                    // The provider cannot list changes since the checkpoint: the stream is read
                    // again in full, as a resumable pass whose sweep finds the deletions.
                    tracing::warn!(error = %e, stream = %job.stream, "reading the stream again in full");
                    mode = SyncMode::ResumableFullRefresh;
                    (full, commit_positions) = (true, true);
                    envelope = Envelope { v: 1, mode, generation: run.id, complete: false, position: None };
                    previous_page = None;
                    continue;
                }
                page => page?,
            };
            pages += 1;
            run.counts.processed += page.records.len() as u64;
            run.counts.failed += page.rejected.len() as u64;
            if page.has_more {
                check_repeat(&page, &mut previous_page).map_err(|e| e.with_provider(run.provider.as_str()))?;
            }
            // A rejected record is not a deleted one: a full refresh keeps its cached version.
            let spared: Vec<String> = if full && !job.dry_run {
                page.rejected.iter().filter_map(|r| r.remote_id.clone()).collect()
            } else {
                Vec::new()
            };
            for rejected in page.rejected {
                tracing::warn!(remote_id = ?rejected.remote_id, error = %rejected.error, "record rejected; kept in the run log");
                if run.rejected.len() < MAX_REJECTED_KEPT {
                    run.rejected.push(RejectedEntry {
                        remote_id: rejected.remote_id,
                        field: rejected.error.field().map(str::to_owned),
                        kind: rejected.error.kind().as_str().to_owned(),
                        message: rejected.error.to_string(),
                        raw: rejected.raw,
                    });
                }
            }
            if page.has_more && page.checkpoint.is_some() && page.checkpoint == envelope.position {
                return Err(Error::invalid_response(format!(
                    "{} returned the same checkpoint twice for {}: reading on would never end",
                    run.provider, job.stream
                ))
                .with_provider(run.provider.as_str()));
            }
            envelope.position = page.checkpoint;
            envelope.complete = !page.has_more;
            let write = async {
                // What a deleted folder took with it, but what the page itself brings back.
                let mut records = self.tombstones_under(&scope, &page.deleted_under).await?;
                if !records.is_empty() {
                    let listed: std::collections::HashSet<&str> =
                        page.records.iter().map(|r| r.remote_id.as_str()).collect();
                    records.retain(|t| !listed.contains(t.remote_id.as_str()));
                }
                records.extend(page.records);
                if job.dry_run {
                    return self.compare(&scope, &records).await;
                }
                let commit = commit_positions || envelope.complete;
                let checkpoint =
                    if commit && !(full && envelope.complete) { Some(envelope.checkpoint()?) } else { None };
                let fresh: Vec<&String> =
                    spared.iter().filter(|id| !records.iter().any(|r| &r.remote_id == *id)).collect();
                for remote_id in fresh {
                    if let Some(cached) = self.records.record(&scope, remote_id).await?.filter(|c| !c.deleted) {
                        let mut kept = crate::integration::Record::new(cached.remote_id, cached.data);
                        (kept.remote_data, kept.modified_at) = (cached.remote_data, cached.modified_at);
                        records.push(kept);
                    }
                }
                self.records.write_page(&scope, PageWrite::new(records, checkpoint, Some(envelope.generation))).await
            };
            let summary = if read_ahead && !envelope.complete {
                // The next page's read goes out while this one is written; a failed read
                // surfaces after this page is committed, as it would have a moment later.
                let (summary, next) = tokio::join!(write, read(mode, envelope.position.clone()));
                ahead = Some(next);
                summary?
            } else {
                write.await?
            };
            add(&mut run.counts, summary);
            if !job.dry_run && (commit_positions || envelope.complete) {
                run.checkpoint = Some(envelope.checkpoint()?);
            }
            if envelope.complete {
                break;
            }
            // Checked once the page is written: a resumable run that stops here resumes after it.
            check_limits(pages, run.counts.processed + run.counts.failed, limits)
                .map_err(|e| e.with_provider(run.provider.as_str()))?;
            // Progress in the run log, at most a second old: a write per page would cost as
            // much as the page's own (a transaction, an fsync on SQLite).
            if logged.elapsed() >= PROGRESS_EVERY {
                self.state.update_run(run).await?;
                logged = tokio::time::Instant::now();
            }
        }
        if full && !job.dry_run {
            let done = envelope.checkpoint()?;
            run.counts.deleted += self.records.delete_unseen(&scope, envelope.generation, Some(&done)).await?;
            run.checkpoint = Some(done);
        }
        Ok(if run.counts.failed > 0 { RunStatus::PartiallySucceeded } else { RunStatus::Succeeded })
    }

    /// The page `first` brought, or — when it was an answer whose body did not parse — the same
    /// read repeated, up to [`READ_RETRIES`] times with a short backoff, each counted.
    async fn retry_unparsable<F, Fut>(
        &self,
        first: (Result<crate::integration::Page>, u64),
        read: &F,
        position: Option<Checkpoint>,
        run: &mut SyncRun,
    ) -> Result<crate::integration::Page>
    where
        F: Fn(Option<Checkpoint>) -> Fut,
        Fut: std::future::Future<Output = (Result<crate::integration::Page>, u64)>,
    {
        let (mut result, rereads) = first;
        run.counts.retried_reads += rereads;
        let mut retries = 0;
        while let Err(e) = &result {
            if !is_unparsable_answer(e) || retries >= READ_RETRIES {
                break;
            }
            retries += 1;
            run.counts.retried_reads += 1;
            let wait = crate::backoff::full_jitter(Duration::from_millis(50), Duration::from_secs(2), retries);
            tracing::warn!(error = %e, retry = retries, wait_ms = wait.as_millis() as u64, "the provider's answer did not parse; reading the page again");
            tokio::time::sleep(wait).await;
            let (again, rereads) = read(position.clone()).await;
            run.counts.retried_reads += rereads;
            result = again;
        }
        result.map_err(|e| {
            if retries > 0 && is_unparsable_answer(&e) {
                e.with_note(&format!("read {} times", retries + 1))
            } else {
                e
            }
        })
    }

    /// What writing `records` would change (dry runs).
    /// Tombstones for the live cached records of `scope` whose ids start with one of
    /// `prefixes` (read in id order from each prefix on, so only those are read).
    async fn tombstones_under(
        &self,
        scope: &StreamScope,
        prefixes: &[String],
    ) -> Result<Vec<crate::integration::Record>> {
        let mut out = Vec::new();
        for prefix in prefixes.iter().filter(|p| !p.is_empty()) {
            let mut after = prefix.clone();
            'pages: loop {
                let batch = self.records.records(scope, Some(&after), 1000, false).await?;
                let Some(last) = batch.last().map(|r| r.remote_id.clone()) else { break };
                for record in batch {
                    if !record.remote_id.starts_with(prefix.as_str()) {
                        break 'pages;
                    }
                    out.push(crate::integration::Record::deleted(record.remote_id));
                }
                after = last;
            }
        }
        Ok(out)
    }

    async fn compare(&self, scope: &StreamScope, records: &[crate::Record]) -> Result<WriteSummary> {
        let mut sum = WriteSummary::default();
        for record in records {
            let cached = self.records.record(scope, &record.remote_id).await?;
            match (cached, record.deleted) {
                (Some(c), true) if !c.deleted => sum.deleted += 1,
                (_, true) => sum.unchanged += 1,
                (None, false) => sum.added += 1,
                (Some(c), false) if c.deleted => sum.added += 1,
                (Some(c), false) if c.hash == ContentHash::of(&record.data) => sum.unchanged += 1,
                (Some(_), false) => sum.updated += 1,
            }
        }
        Ok(sum)
    }
}

tokio::task_local! {
    /// The reads repeated inside one `Integration::read` of a running sync (answers that did not
    /// parse, asked for again by the HTTP layer), for the run log.
    static RETRIED_READS: std::cell::Cell<u64>;
}

/// Notes that a read was repeated because its answer did not parse; counted in the run log
/// when it happens inside a sync's read, ignored elsewhere.
pub(crate) fn note_retried_read() {
    let _ = RETRIED_READS.try_with(|count| count.set(count.get() + 1));
}

/// `read` with the repeated reads noted inside it counted.
async fn counting_rereads<T>(read: impl std::future::Future<Output = T>) -> (T, u64) {
    RETRIED_READS
        .scope(std::cell::Cell::new(0), async {
            let out = read.await;
            (out, RETRIED_READS.with(std::cell::Cell::get))
        })
        .await
}

/// A complete answer the adapter could not use because its body did not parse: worth reading
/// again (a provider glitch), unlike a failure the provider meant.
pub(crate) fn is_unparsable_answer(error: &Error) -> bool {
    error.kind() == ErrorKind::InvalidResponse && error.status().is_some_and(|s| (200..300).contains(&s))
}

/// Whether the listing is still getting somewhere: a page that repeats the one before record
/// for record ends it.
fn check_repeat(page: &crate::integration::Page, previous: &mut Option<u64>) -> Result<()> {
    use std::hash::{BuildHasher as _, Hash as _, Hasher as _};
    // Compared only within one run, so any fixed seed will do: foldhash's, at a few
    // instructions an id.
    static SEED: std::sync::LazyLock<hashbrown::DefaultHashBuilder> = std::sync::LazyLock::new(Default::default);
    if !page.records.is_empty() {
        let mut hasher = SEED.build_hasher();
        for record in &page.records {
            record.remote_id.hash(&mut hasher);
        }
        let digest = hasher.finish();
        if *previous == Some(digest) {
            return Err(Error::invalid_response(format!(
                "the provider returned the same {} records as on the page before while saying more follow: reading on would never end",
                page.records.len()
            )));
        }
        *previous = Some(digest);
    }
    Ok(())
}

/// Whether a run that read `pages` pages and `records` records, with more to come, may go on.
fn check_limits(pages: u64, records: u64, limits: RunLimits) -> Result<()> {
    if pages >= limits.max_pages || records >= limits.max_records {
        return Err(Error::invalid_response(format!(
            "the run read {pages} pages and {records} records and the provider still says more follow; it stops at {} pages or {} records (StreamDescriptor::with_limits, SyncJob::with_limits)",
            limits.max_pages, limits.max_records
        )));
    }
    Ok(())
}

/// Aborts the task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn add(counts: &mut RunCounts, s: WriteSummary) {
    counts.added += s.added;
    counts.updated += s.updated;
    counts.deleted += s.deleted;
}

/// Whether a change made at `incoming` is older than a state made at `known` (both known).
fn is_older(incoming: Option<chrono::DateTime<chrono::Utc>>, known: Option<chrono::DateTime<chrono::Utc>>) -> bool {
    matches!((incoming, known), (Some(incoming), Some(known)) if incoming < known)
}
