//! Backup: a folder of one connection copied to a folder of another, incrementally — only what
//! changed since the last run —, resumable after a crash, with a report of what was copied,
//! skipped and failed.
//!
//! What was copied is remembered in a **ledger**: records of the host's
//! [`RecordStore`] (memory, SQLite or PostgreSQL — wherever its sync cache lives) in a scope of
//! their own, one per source file, keyed by its path: the source's version (ETag, size, time)
//! and the state of its copy. Each file goes through two writes to the ledger:
//!
//! 1. `pending` (with the source version) before its upload starts;
//! 2. `done` once the target has it.
//!
//! A run skips a file whose ledger entry is `done` at the same source version. A run that finds
//! a `pending` entry (the previous run stopped between the upload and step 2) looks at the
//! target first: a file there of the right size — and the right MD5 where the target gives
//! one — is the finished copy, recorded `done` without copying it again. So a backup killed at
//! any point and run again ends with the target equal to the source, and no file whose copy had
//! completed is copied again.
//!
//! With [`BackupJob::mirror_deletions`], a file gone from the source is deleted from the target
//! and from the ledger.
//!
//! ```no_run
//! # async fn example(source: &dyn integration_storage::Storage, target: &dyn integration_storage::Storage,
//! #                  store: &dyn integration_core::store::RecordStore) -> integration_core::Result<()> {
//! use integration_core::{CancellationToken, ConnectionId, TenantId};
//! use integration_storage::StoragePath;
//! use integration_storage::backup::{self, BackupJob};
//!
//! let job = BackupJob::new(
//!     TenantId::new("acme")?, ConnectionId::new("archive")?, "nightly",
//!     StoragePath::parse("Finance")?, StoragePath::parse("backups/finance")?,
//! )?;
//! let report = backup::run(source, target, store, &job, &CancellationToken::new()).await?;
//! println!("{} copied, {} unchanged, {} failed", report.copied.len(), report.unchanged, report.failed.len());
//! # Ok(()) }
//! ```

use integration_core::domain::{ListRequest, Remote};
use integration_core::store::{PageWrite, RecordStore, StreamScope};
use integration_core::{CancellationToken, ConnectionId, Error, ErrorKind, Record, Result, TenantId};
use serde::{Deserialize, Serialize};

use crate::model::{Entry, EntryKind};
use crate::path::StoragePath;
use crate::storage::{Storage, UploadOptions};

/// The most source pages one run walks.
const MAX_PAGES: usize = 1_000_000;

/// One backup: what is copied where, and the ledger's scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupJob {
    /// The ledger's scope: the tenant, the target connection, `backup:<name>`.
    pub scope: StreamScope,
    /// The folder of the source copied (the root: everything).
    pub from: StoragePath,
    /// The folder of the target it is copied into.
    pub to: StoragePath,
    /// Delete from the target what was deleted from the source since it was copied.
    pub mirror_deletions: bool,
}

impl BackupJob {
    /// A backup named `name` (its ledger's key, with the tenant and the target connection)
    /// copying `from` into `to`, deletions not mirrored.
    ///
    /// # Errors
    /// A `Validation` error for an empty name, or one with characters other than
    /// `A–Z a–z 0–9 - _ .`.
    pub fn new(tenant: TenantId, target: ConnectionId, name: &str, from: StoragePath, to: StoragePath) -> Result<Self> {
        let valid = !name.is_empty()
            && name.len() <= 64
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if !valid {
            return Err(Error::validation(
                "name",
                format!("{name:?} is not a backup name (1–64 of A–Z a–z 0–9 - _ .)"),
            ));
        }
        Ok(Self {
            scope: StreamScope::new(tenant, target, format!("backup:{name}")),
            from,
            to,
            mirror_deletions: false,
        })
    }

    /// Deleting from the target what is gone from the source.
    #[must_use]
    pub fn mirroring_deletions(mut self) -> Self {
        self.mirror_deletions = true;
        self
    }
}

/// What a run did.
#[derive(Debug, Default)]
pub struct BackupReport {
    /// Files copied (paths relative to the job's folders).
    pub copied: Vec<StoragePath>,
    /// Files found already copied at the target after an interrupted run, recorded without
    /// copying them again.
    pub confirmed: Vec<StoragePath>,
    /// Files unchanged since they were copied.
    pub unchanged: usize,
    /// Folders made at the target.
    pub folders: Vec<StoragePath>,
    /// Files deleted from the target because they are gone from the source.
    pub deleted: Vec<StoragePath>,
    /// Files that could not be copied, with why; the next run tries them again.
    pub failed: Vec<(StoragePath, Error)>,
    /// The bytes copied.
    pub bytes: u64,
}

/// What the source had when a file was copied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct SourceVersion {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    etag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    modified_at: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    md5: Option<String>,
}

impl SourceVersion {
    fn of(entry: &Remote<Entry>) -> Self {
        Self {
            etag: entry.fields.etag.clone(),
            size: entry.fields.size,
            modified_at: entry.modified_at,
            md5: entry.fields.checksums.md5.clone(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum CopyState {
    Pending,
    Done,
}

/// One ledger entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct LedgerEntry {
    state: CopyState,
    source: SourceVersion,
    kind: EntryKind,
}

async fn ledger_entry(store: &dyn RecordStore, scope: &StreamScope, id: &str) -> Result<Option<LedgerEntry>> {
    let Some(stored) = store.record(scope, id).await? else { return Ok(None) };
    if stored.deleted {
        return Ok(None);
    }
    // An entry of another shape (another version of this code) is as good as none: copied again.
    Ok(serde_json::from_value(stored.data).ok())
}

async fn write_entry(store: &dyn RecordStore, scope: &StreamScope, id: &str, entry: &LedgerEntry) -> Result<()> {
    let data = serde_json::to_value(entry).map_err(|e| Error::storage(format!("a ledger entry: {e}")))?;
    store.write_page(scope, PageWrite::new(vec![Record::new(id, data)], None, None)).await.map(drop)
}

/// Runs `job`: every file under `job.from` at `source` not yet copied at its version is copied
/// to the same place under `job.to` at `target` (folders made as needed), and — with
/// [`BackupJob::mirror_deletions`] — what is gone from the source is deleted from the target.
/// Stops between two files when `cancel` fires (the next run goes on from there).
///
/// # Errors
/// The source's listing failing, or the ledger's store failing: the run stops, and the next
/// goes on from what the ledger holds. A file that cannot be copied is not an error: it is in
/// the report's `failed`, and the next run tries it again.
pub async fn run(
    source: &dyn Storage,
    target: &dyn Storage,
    store: &dyn RecordStore,
    job: &BackupJob,
    cancel: &CancellationToken,
) -> Result<BackupReport> {
    let mut report = BackupReport::default();
    let mut seen = std::collections::BTreeSet::new();
    let mut request = ListRequest::first();
    for _ in 0..MAX_PAGES {
        let page = source.entries(request.clone()).await?;
        for entry in page.items.iter().filter(|e| !e.remote_was_deleted) {
            let Some(relative) = entry.fields.path.strip_prefix(&job.from).filter(|p| !p.is_root()) else { continue };
            if cancel.is_cancelled() {
                return Err(Error::cancelled("the backup was cancelled; the next run goes on from here"));
            }
            seen.insert(relative.to_string());
            copy_one(source, target, store, job, entry, &relative, &mut report).await?;
        }
        match page.next {
            Some(next) => request = request.at(Some(next)),
            None => break,
        }
    }
    if job.mirror_deletions {
        mirror_deletions(target, store, job, &seen, &mut report).await?;
    }
    Ok(report)
}

/// One source entry: skipped, confirmed, copied or failed.
async fn copy_one(
    source: &dyn Storage,
    target: &dyn Storage,
    store: &dyn RecordStore,
    job: &BackupJob,
    entry: &Remote<Entry>,
    relative: &StoragePath,
    report: &mut BackupReport,
) -> Result<()> {
    let id = relative.to_string();
    let version = SourceVersion::of(entry);
    let previous = ledger_entry(store, &job.scope, &id).await?;
    let at = job.to.join_path(relative)?;
    if entry.fields.kind == EntryKind::Folder {
        if previous.is_none_or(|p| p.state != CopyState::Done) {
            match target.create_folder(&at).await {
                Ok(_) => {
                    let done = LedgerEntry { state: CopyState::Done, source: version, kind: EntryKind::Folder };
                    write_entry(store, &job.scope, &id, &done).await?;
                    report.folders.push(relative.clone());
                }
                Err(e) => report.failed.push((relative.clone(), e)),
            }
        }
        return Ok(());
    }
    match previous {
        Some(p) if p.source == version && p.state == CopyState::Done => {
            report.unchanged += 1;
            return Ok(());
        }
        Some(p) if p.source == version && finished_at_target(target, &at, &version).await => {
            let done = LedgerEntry { state: CopyState::Done, ..p };
            write_entry(store, &job.scope, &id, &done).await?;
            report.confirmed.push(relative.clone());
            return Ok(());
        }
        _ => {}
    }
    let pending = LedgerEntry { state: CopyState::Pending, source: version, kind: EntryKind::File };
    write_entry(store, &job.scope, &id, &pending).await?;
    match copy_content(source, target, &entry.fields, &at).await {
        Ok(written) => {
            let done = LedgerEntry { state: CopyState::Done, ..pending };
            write_entry(store, &job.scope, &id, &done).await?;
            report.bytes += written.fields.size.unwrap_or(0);
            report.copied.push(relative.clone());
        }
        Err(e) => report.failed.push((relative.clone(), e)),
    }
    Ok(())
}

/// Whether the target holds the finished copy of a file at `version`: its size, and its MD5
/// where both sides give one.
async fn finished_at_target(target: &dyn Storage, at: &StoragePath, version: &SourceVersion) -> bool {
    let Ok(there) = target.entry(at).await else { return false };
    let size_matches = version.size.is_some() && there.fields.size == version.size;
    let md5_matches = match (&version.md5, &there.fields.checksums.md5) {
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        _ => true,
    };
    size_matches && md5_matches
}

/// The file `entry` streamed from `source` into `at` on `target`, its MD5 checked where the
/// source gives one.
async fn copy_content(
    source: &dyn Storage,
    target: &dyn Storage,
    entry: &Entry,
    at: &StoragePath,
) -> Result<Remote<Entry>> {
    let mut body = source.download(&entry.path, None).await?;
    let options = UploadOptions {
        content_type: entry.mime_type.clone(),
        expected_md5: entry.checksums.md5.clone(),
        ..UploadOptions::new()
    };
    let written = target.upload(at, &mut body, &options).await?;
    if let (Some(expected), Some(size)) = (entry.size, written.fields.size)
        && expected != size
    {
        return Err(Error::new(ErrorKind::Conflict, format!("{} changed while it was copied", entry.path)));
    }
    Ok(written)
}

/// Deletes from the target (and the ledger) what the ledger holds and the source no longer
/// has.
async fn mirror_deletions(
    target: &dyn Storage,
    store: &dyn RecordStore,
    job: &BackupJob,
    seen: &std::collections::BTreeSet<String>,
    report: &mut BackupReport,
) -> Result<()> {
    let mut after: Option<String> = None;
    let mut gone = Vec::new();
    loop {
        let batch = store.records(&job.scope, after.as_deref(), 1000, false).await?;
        let Some(last) = batch.last() else { break };
        after = Some(last.remote_id.clone());
        gone.extend(batch.into_iter().filter(|r| !seen.contains(&r.remote_id)).map(|r| r.remote_id));
    }
    // Deepest first, so a folder is empty of what the ledger knows before it goes.
    gone.sort_by_key(|id| std::cmp::Reverse(id.matches('/').count()));
    for id in gone {
        let relative = StoragePath::from_encoded(&id)?;
        match target.delete(&job.to.join_path(&relative)?).await {
            Ok(()) => {
                store.write_page(&job.scope, PageWrite::new(vec![Record::deleted(&id)], None, None)).await?;
                report.deleted.push(relative);
            }
            Err(e) => report.failed.push((relative, e)),
        }
    }
    Ok(())
}
