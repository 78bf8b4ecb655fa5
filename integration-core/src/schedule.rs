//! Scheduling syncs: the [`Scheduler`] trait a host can implement over its own job system, and
//! [`EmbeddedScheduler`], which runs on tokio in the host's process.
//!
//! The embedded scheduler runs each scheduled stream every interval (plus jitter), one run per
//! stream at a time, backs off after failures, and can pause and resume a connection. Every run
//! goes through [`SyncEngine::run_due`], which checks under the stream's lease whether a run is
//! due — so several processes scheduling the same streams over one PostgreSQL store share the
//! work and never run a stream twice in one interval. At most
//! [`max_concurrent`](EmbeddedScheduler::with_max_concurrent) runs (16 by default) go at once; the
//! others wait their turn before reading anything, so a thousand streams falling due together
//! hold a thousand small waiting tasks, not a thousand pages in memory.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use std::sync::Arc;
//! use std::time::Duration;
//! use integration_core::schedule::{EmbeddedScheduler, Schedule, Scheduler};
//! use integration_core::store::MemoryStore;
//! use integration_core::{ConnectionId, SyncEngine, SyncJob, SyncMode, TenantId};
//! # use integration_core::descriptor::*;
//! # #[derive(Debug)] struct Source(Descriptor);
//! # #[async_trait::async_trait] impl integration_core::Integration for Source {
//! #   fn descriptor(&self) -> &Descriptor { &self.0 }
//! #   async fn connect(&self) -> integration_core::Result<integration_core::ConnectionInfo> { Ok(Default::default()) }
//! #   async fn disconnect(&self) -> integration_core::Result<()> { Ok(()) }
//! #   async fn health_check(&self) -> integration_core::Result<integration_core::Health> { Ok(integration_core::Health::healthy(Duration::ZERO)) }
//! #   async fn read(&self, _: integration_core::ReadRequest) -> integration_core::Result<integration_core::Page> { Ok(integration_core::Page::last(vec![], None)) }
//! # }
//! # let adapter = Arc::new(Source(Descriptor::builder("demo", Domain::Hris, "Demo").stream(StreamDescriptor::new("employees", ["id"])).build().unwrap()));
//!
//! let store = MemoryStore::new();
//! let engine = SyncEngine::new(Arc::new(store.clone()), Arc::new(store.clone()), "worker-1");
//! let scheduler = EmbeddedScheduler::new(engine);
//! let job = SyncJob::new(TenantId::new("acme").unwrap(), ConnectionId::new("hr").unwrap(), "employees", SyncMode::FullRefresh);
//! scheduler.add(Schedule::every(adapter, job, Duration::from_secs(900)));
//!
//! let started = scheduler.tick().await; // what a host's own loop (or `run`) calls
//! assert_eq!(started.len(), 1);
//! assert!(scheduler.tick().await.is_empty(), "not due again for 15 minutes");
//! # });
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::ids::{ConnectionId, TenantId};
use crate::integration::Integration;
use crate::store::{RunStatus, SyncRun};
use crate::sync::{SyncEngine, SyncJob};

/// A stream to sync at an interval.
#[derive(Clone)]
#[non_exhaustive]
pub struct Schedule {
    /// The adapter of the connection.
    pub integration: Arc<dyn Integration>,
    /// What to run.
    pub job: SyncJob,
    /// How often.
    pub every: Duration,
    /// Up to this much is added to each interval at random, so many connections scheduled at
    /// once do not all run at once.
    pub jitter: Duration,
}

impl Schedule {
    /// Runs `job` every `every`, with up to a tenth of it as jitter.
    pub fn every(integration: Arc<dyn Integration>, job: SyncJob, every: Duration) -> Self {
        Self { integration, job, every, jitter: every / 10 }
    }

    /// Sets the jitter.
    #[must_use]
    pub fn with_jitter(mut self, jitter: Duration) -> Self {
        self.jitter = jitter;
        self
    }
}

impl fmt::Debug for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Schedule").field("job", &self.job).field("every", &self.every).finish_non_exhaustive()
    }
}

/// Schedules syncs. Implement it over the host's own job system, or use [`EmbeddedScheduler`].
pub trait Scheduler: Send + Sync + fmt::Debug {
    /// Adds a schedule, or replaces the one for the same stream.
    fn add(&self, schedule: Schedule);

    /// Removes the schedule of a stream; `false` if there was none.
    fn remove(&self, tenant: &TenantId, connection: &ConnectionId, stream: &str) -> bool;

    /// Stops starting runs for a connection (runs in progress finish).
    fn pause(&self, tenant: &TenantId, connection: &ConnectionId);

    /// Starts running a paused connection's schedules again.
    fn resume(&self, tenant: &TenantId, connection: &ConnectionId);

    /// Stops starting runs of one stream of a connection (a run in progress finishes).
    fn pause_stream(&self, tenant: &TenantId, connection: &ConnectionId, stream: &str);

    /// Starts running a paused stream's schedule again.
    fn resume_stream(&self, tenant: &TenantId, connection: &ConnectionId, stream: &str);

    /// Runs a stream's schedule as soon as possible, whenever it last ran ("sync now"); `false`
    /// when the stream has no schedule here.
    fn run_now(&self, tenant: &TenantId, connection: &ConnectionId, stream: &str) -> bool;
}

/// The connection setting that keeps which of its streams are paused (a JSON array of stream
/// names), so a pause outlives the process: the admin console writes it, and a host re-applies
/// it with [`Scheduler::pause_stream`] when it schedules the connection.
pub const PAUSED_STREAMS: &str = "paused_streams";

type Key = (TenantId, ConnectionId, String);

/// How many runs an [`EmbeddedScheduler`] starts at once unless told otherwise.
pub const DEFAULT_MAX_CONCURRENT: usize = 16;

struct Entry {
    schedule: Schedule,
    next_due: Instant,
    failures: u32,
    running: bool,
    /// Run at the next tick whenever the stream last ran.
    forced: bool,
}

/// The embedded tokio scheduler; see the [module docs](self).
pub struct EmbeddedScheduler {
    engine: SyncEngine,
    entries: Mutex<BTreeMap<Key, Entry>>,
    paused: Mutex<BTreeSet<(TenantId, ConnectionId)>>,
    paused_streams: Mutex<BTreeSet<Key>>,
    wake: Notify,
    turns: Arc<Semaphore>,
    min_backoff: Duration,
    max_backoff: Duration,
}

impl fmt::Debug for EmbeddedScheduler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmbeddedScheduler").field("schedules", &self.lock().len()).finish_non_exhaustive()
    }
}

impl EmbeddedScheduler {
    /// A scheduler running syncs through `engine`; after a failure it waits from 30 s, doubling,
    /// up to one hour (or the interval, if longer) before trying again.
    pub fn new(engine: SyncEngine) -> Self {
        Self {
            engine,
            entries: Mutex::new(BTreeMap::new()),
            paused: Mutex::new(BTreeSet::new()),
            paused_streams: Mutex::new(BTreeSet::new()),
            wake: Notify::new(),
            turns: Arc::new(Semaphore::new(DEFAULT_MAX_CONCURRENT)),
            min_backoff: Duration::from_secs(30),
            max_backoff: Duration::from_secs(3600),
        }
    }

    /// Runs at most `runs` syncs at once (at least one; 16 by default): with SQLite, whose
    /// writes are one at a time, more only hold pages in memory while they wait to be written.
    #[must_use]
    pub fn with_max_concurrent(mut self, runs: usize) -> Self {
        self.turns = Arc::new(Semaphore::new(runs.clamp(1, Semaphore::MAX_PERMITS)));
        self
    }

    /// Sets the backoff bounds after failures.
    #[must_use]
    pub fn with_backoff(mut self, min: Duration, max: Duration) -> Self {
        self.min_backoff = min;
        self.max_backoff = max.max(min);
        self
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<Key, Entry>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn paused(&self) -> MutexGuard<'_, BTreeSet<(TenantId, ConnectionId)>> {
        self.paused.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn streams_paused(&self) -> MutexGuard<'_, BTreeSet<Key>> {
        self.paused_streams.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts every due, unpaused schedule not already running, waits for those runs, and
    /// returns the runs that happened (a stream another process synced within its interval, or
    /// is syncing now, is skipped).
    pub async fn tick(&self) -> Vec<SyncRun> {
        let now = Instant::now();
        let paused = self.paused().clone();
        let paused_streams = self.streams_paused().clone();
        let due: Vec<(Key, Schedule, bool)> = {
            let mut entries = self.lock();
            entries
                .iter_mut()
                .filter(|(key, e)| {
                    let (t, c, _) = key;
                    !e.running
                        && (e.next_due <= now || e.forced)
                        && !paused.contains(&(t.clone(), c.clone()))
                        && !paused_streams.contains(*key)
                })
                .map(|(key, e)| {
                    e.running = true;
                    let forced = std::mem::take(&mut e.forced);
                    (key.clone(), e.schedule.clone(), forced)
                })
                .collect()
        };
        let mut runs = JoinSet::new();
        for (key, schedule, forced) in due {
            let (engine, turns) = (self.engine.clone(), self.turns.clone());
            runs.spawn(async move {
                // The semaphore is never closed: a turn always comes.
                let _turn = turns.acquire_owned().await.ok();
                let cancel = CancellationToken::new();
                let result = if forced {
                    match engine.run(schedule.integration.as_ref(), &schedule.job, &cancel).await {
                        Ok(run) => Ok(Some(run)),
                        // Another worker is syncing it now: that run is the one asked for.
                        Err(e) if e.kind() == crate::ErrorKind::Conflict => Ok(None),
                        Err(e) => Err(e),
                    }
                } else {
                    // Due if the last completed run is older than the interval, less a margin
                    // for the time a run takes to start.
                    let window = schedule.every.mul_f64(0.9);
                    engine.run_due(schedule.integration.as_ref(), &schedule.job, window, &cancel).await
                };
                (key, schedule, result)
            });
        }
        let mut happened = Vec::new();
        while let Some(joined) = runs.join_next().await {
            let Ok((key, schedule, result)) = joined else {
                tracing::error!("a scheduled sync panicked");
                continue;
            };
            let failed = match &result {
                Ok(Some(run)) => run.status == RunStatus::Failed,
                Ok(None) => false,
                Err(e) => {
                    tracing::warn!(error = %e, stream = %schedule.job.stream, "a scheduled sync could not start");
                    true
                }
            };
            let mut entries = self.lock();
            if let Some(entry) = entries.get_mut(&key) {
                entry.running = false;
                if failed {
                    entry.failures += 1;
                    let cap = self.max_backoff.max(schedule.every);
                    entry.next_due = Instant::now() + crate::backoff::delay(self.min_backoff, cap, entry.failures);
                } else {
                    entry.failures = 0;
                    entry.next_due = Instant::now() + schedule.every + jitter(schedule.jitter);
                }
            }
            if let Ok(Some(run)) = result {
                happened.push(run);
            }
        }
        happened
    }

    /// Runs [`EmbeddedScheduler::tick`] whenever a schedule falls due, until `shutdown` is
    /// cancelled.
    pub async fn run(&self, shutdown: CancellationToken) {
        loop {
            self.tick().await;
            let next = self.lock().values().filter(|e| !e.running).map(|e| e.next_due).min();
            let sleep = tokio::time::sleep_until(next.unwrap_or_else(|| Instant::now() + Duration::from_secs(60)));
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = self.wake.notified() => {}
                () = sleep => {}
            }
        }
    }
}

fn jitter(max: Duration) -> Duration {
    if max.is_zero() { Duration::ZERO } else { max.mul_f64(fastrand::f64()) }
}

impl Scheduler for EmbeddedScheduler {
    fn add(&self, schedule: Schedule) {
        let key = (schedule.job.tenant.clone(), schedule.job.connection.clone(), schedule.job.stream.clone());
        let entry = Entry { schedule, next_due: Instant::now(), failures: 0, running: false, forced: false };
        self.lock().insert(key, entry);
        self.wake.notify_one();
    }

    fn remove(&self, tenant: &TenantId, connection: &ConnectionId, stream: &str) -> bool {
        self.lock().remove(&(tenant.clone(), connection.clone(), stream.to_owned())).is_some()
    }

    fn pause(&self, tenant: &TenantId, connection: &ConnectionId) {
        self.paused().insert((tenant.clone(), connection.clone()));
    }

    fn resume(&self, tenant: &TenantId, connection: &ConnectionId) {
        self.paused().remove(&(tenant.clone(), connection.clone()));
        self.wake.notify_one();
    }

    fn pause_stream(&self, tenant: &TenantId, connection: &ConnectionId, stream: &str) {
        self.streams_paused().insert((tenant.clone(), connection.clone(), stream.to_owned()));
    }

    fn resume_stream(&self, tenant: &TenantId, connection: &ConnectionId, stream: &str) {
        self.streams_paused().remove(&(tenant.clone(), connection.clone(), stream.to_owned()));
        self.wake.notify_one();
    }

    fn run_now(&self, tenant: &TenantId, connection: &ConnectionId, stream: &str) -> bool {
        let found = match self.lock().get_mut(&(tenant.clone(), connection.clone(), stream.to_owned())) {
            Some(entry) => {
                entry.forced = true;
                true
            }
            None => false,
        };
        if found {
            self.wake.notify_one();
        }
        found
    }
}
