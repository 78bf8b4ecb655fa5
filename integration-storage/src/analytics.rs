//! Storage analytics from the records cache: usage by folder, owner and type, the largest files
//! and the stale ones — read from what the sync engine cached for a connection's `files`
//! stream, so no request reaches the provider. Memory is bounded by the number of folders,
//! owners and types (the lists of files keep only the `top` asked for).
//!
//! ```
//! # async fn example() -> integration_core::Result<()> {
//! use integration_core::store::{MemoryStore, StreamScope};
//! use integration_core::{ConnectionId, TenantId};
//! use integration_storage::analytics::{self, Options};
//!
//! let store = MemoryStore::new();
//! let scope = StreamScope::new(TenantId::new("acme")?, ConnectionId::new("drive")?, "files");
//! // … after the sync engine has synced the connection's `files` stream into `store` …
//! let report = analytics::analyze(&store, &scope, &Options::default()).await?;
//! assert_eq!(report.total.files, 0);
//! # Ok(()) }
//! ```

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use chrono::{DateTime, Duration, Utc};
use integration_core::Result;
use integration_core::store::{RecordStore, StreamScope};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How the report is cut.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Usage by folder counts each file in its folder this many names deep (default 2:
    /// `Finance/2026`).
    pub folder_depth: usize,
    /// How many of the largest and of the stalest files to list (default 20).
    pub top: usize,
    /// Files not modified since this time are stale (default: a year before now).
    pub stale_before: DateTime<Utc>,
}

impl Default for Options {
    fn default() -> Self {
        Self { folder_depth: 2, top: 20, stale_before: Utc::now() - Duration::days(365) }
    }
}

/// A number of files and their bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Files.
    pub files: u64,
    /// Bytes.
    pub bytes: u64,
}

impl Usage {
    fn add(&mut self, bytes: u64) {
        self.files += 1;
        self.bytes += bytes;
    }
}

/// One file in a list of the report.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FileSummary {
    /// Its path (encoded, as cached).
    pub path: String,
    /// Its size.
    pub size: u64,
    /// When it last changed, if known.
    pub modified_at: Option<DateTime<Utc>>,
    /// Its owner, if known.
    pub owner: Option<String>,
}

/// What the cache says about a connection's files.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageReport {
    /// Every live file.
    pub total: Usage,
    /// Folders (live folder entries).
    pub folders: u64,
    /// By folder, `folder_depth` names deep (`""`: the root).
    pub by_folder: BTreeMap<String, Usage>,
    /// By owner (`""`: unknown).
    pub by_owner: BTreeMap<String, Usage>,
    /// By MIME type, or by extension (`.pdf`) when the provider gives no type (`""`: neither).
    pub by_type: BTreeMap<String, Usage>,
    /// The largest files, largest first.
    pub largest: Vec<FileSummary>,
    /// Stale files: how many, and their bytes.
    pub stale: Usage,
    /// The stalest files, oldest first.
    pub stalest: Vec<FileSummary>,
}

/// The cached fields analytics reads.
#[derive(Debug, Deserialize)]
struct Cached {
    path: String,
    #[serde(default)]
    kind: crate::model::EntryKind,
    #[serde(default)]
    size: Option<u64>,
    #[serde(default)]
    mime_type: Option<String>,
    #[serde(default)]
    owner: Option<String>,
    #[serde(default)]
    modified_at: Option<DateTime<Utc>>,
}

fn folder_of(path: &str, depth: usize) -> String {
    let names: Vec<&str> = path.split('/').collect();
    let folder = &names[..names.len().saturating_sub(1)];
    folder[..folder.len().min(depth)].join("/")
}

fn type_of(file: &Cached) -> String {
    if let Some(mime) = file.mime_type.as_deref().filter(|m| !m.is_empty()) {
        return mime.split(';').next().unwrap_or(mime).trim().to_ascii_lowercase();
    }
    let name = file.path.rsplit('/').next().unwrap_or_default();
    match name.rsplit_once('.') {
        Some((stem, extension)) if !stem.is_empty() && extension.len() <= 10 => {
            format!(".{}", extension.to_lowercase())
        }
        _ => String::new(),
    }
}

/// Keeps the `top` greatest items.
fn keep<T: Ord>(heap: &mut BinaryHeap<Reverse<T>>, item: T, top: usize) {
    if top == 0 {
        return;
    }
    heap.push(Reverse(item));
    if heap.len() > top {
        heap.pop();
    }
}

/// The report for the files cached in `scope` (a storage connection's `files` stream). Cached
/// records that are not storage entries are passed over.
///
/// # Errors
/// The store's failure.
pub async fn analyze(store: &dyn RecordStore, scope: &StreamScope, options: &Options) -> Result<StorageReport> {
    let mut report = StorageReport::default();
    let mut largest: BinaryHeap<Reverse<(u64, FileSummary)>> = BinaryHeap::new();
    let mut stalest: BinaryHeap<Reverse<(Reverse<DateTime<Utc>>, FileSummary)>> = BinaryHeap::new();
    let mut after: Option<String> = None;
    loop {
        let batch = store.records(scope, after.as_deref(), 1000, false).await?;
        let Some(last) = batch.last() else { break };
        after = Some(last.remote_id.clone());
        for record in batch {
            let Ok(file) = serde_json::from_value::<Cached>(Value::clone(&record.data)) else { continue };
            if file.kind == crate::model::EntryKind::Folder {
                report.folders += 1;
                continue;
            }
            let size = file.size.unwrap_or(0);
            report.total.add(size);
            report.by_folder.entry(folder_of(&file.path, options.folder_depth)).or_default().add(size);
            report.by_owner.entry(file.owner.clone().unwrap_or_default()).or_default().add(size);
            report.by_type.entry(type_of(&file)).or_default().add(size);
            let summary = FileSummary { path: file.path, size, modified_at: file.modified_at, owner: file.owner };
            if let Some(at) = summary.modified_at.filter(|at| *at < options.stale_before) {
                report.stale.add(size);
                keep(&mut stalest, (Reverse(at), summary.clone()), options.top);
            }
            keep(&mut largest, (size, summary), options.top);
        }
    }
    report.largest = largest.into_sorted_vec().into_iter().map(|Reverse((_, f))| f).collect();
    report.stalest = stalest.into_sorted_vec().into_iter().map(|Reverse((_, f))| f).collect();
    Ok(report)
}

#[cfg(test)]
mod tests {
    use integration_core::Record;
    use integration_core::store::{MemoryStore, PageWrite};
    use integration_core::{ConnectionId, TenantId};
    use serde_json::json;

    use super::*;

    #[tokio::test]
    async fn usage_is_summed_by_folder_owner_and_type_with_the_largest_and_stalest_files() {
        let store = MemoryStore::new();
        let scope = StreamScope::new(TenantId::new("acme").unwrap(), ConnectionId::new("drive").unwrap(), "files");
        let file = |path: &str, size: u64, mime: Option<&str>, owner: &str, year: i32| {
            let mut data = json!({"path": path, "kind": "file", "size": size, "owner": owner,
                                  "modified_at": format!("{year}-06-01T00:00:00Z")});
            if let Some(mime) = mime {
                data["mime_type"] = json!(mime);
            }
            Record::new(path, data)
        };
        let records = vec![
            file("Finance/2026/q1.pdf", 300, Some("application/pdf"), "ada", 2026),
            file("Finance/2026/q2.pdf", 500, Some("application/pdf; charset=binary"), "ada", 2026),
            file("Finance/2019/old.xlsx", 1000, None, "kai", 2019),
            file("readme", 10, None, "", 2020),
            Record::new("Finance/", json!({"path": "Finance", "kind": "folder"})),
        ];
        store.write_page(&scope, PageWrite::new(records, None, None)).await.unwrap();
        let options = Options { folder_depth: 2, top: 2, stale_before: "2025-01-01T00:00:00Z".parse().unwrap() };
        let report = analyze(&store, &scope, &options).await.unwrap();
        assert_eq!(report.total, Usage { files: 4, bytes: 1810 });
        assert_eq!(report.folders, 1);
        assert_eq!(report.by_folder["Finance/2026"], Usage { files: 2, bytes: 800 });
        assert_eq!(report.by_folder[""], Usage { files: 1, bytes: 10 });
        assert_eq!(report.by_owner["ada"], Usage { files: 2, bytes: 800 });
        assert_eq!(report.by_type["application/pdf"], Usage { files: 2, bytes: 800 });
        assert_eq!(report.by_type[".xlsx"], Usage { files: 1, bytes: 1000 });
        assert_eq!(report.by_type[""], Usage { files: 1, bytes: 10 });
        let largest: Vec<&str> = report.largest.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(largest, ["Finance/2019/old.xlsx", "Finance/2026/q2.pdf"]);
        assert_eq!(report.stale, Usage { files: 2, bytes: 1010 });
        let stalest: Vec<&str> = report.stalest.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(stalest, ["Finance/2019/old.xlsx", "readme"]);
    }
}
