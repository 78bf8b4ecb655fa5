//! What the adapters of providers that address items by id (Google Drive, Graph) share: a
//! tree walked one folder listing page at a time, its queue of folders the listing's cursor;
//! the path of an item found from its parent ids (what change feeds give); the change feed's
//! entries with a changed folder read again with what it holds.

use std::collections::{HashMap, HashSet, VecDeque};

use async_trait::async_trait;
use integration_core::domain::{Listing, Remote};
use integration_core::{Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::Entry;
use crate::path::StoragePath;

/// One item of a folder listing.
#[derive(Debug, Clone)]
pub(crate) struct Child {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) folder: bool,
    /// The provider's JSON, for [`IdTree::record_of`].
    pub(crate) raw: Value,
}

/// Where an item hangs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Lineage {
    /// It is the root.
    Root,
    /// It is not under the root (shared with the user, another drive).
    Outside,
    /// It is `name` in folder `parent`.
    In { name: String, parent: String },
}

/// A provider whose items have ids and parents.
#[async_trait]
pub(crate) trait IdTree: Send + Sync {
    /// A page of folder `id`'s children, continuing at `page`; and the next page's token.
    async fn children(&self, id: &str, page: Option<&str>, size: u32) -> Result<(Vec<Child>, Option<String>)>;
    /// Item `id`'s place.
    async fn lineage(&self, id: &str) -> Result<Lineage>;
    /// `child` at `path` as a record.
    fn record_of(&self, child: &Child, path: StoragePath) -> Result<Remote<Entry>>;
}

/// Where a walk is: the folders still to read (id and encoded path), the page of the first, and
/// the change token taken before it began.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Walk {
    queue: VecDeque<(String, String)>,
    #[serde(default)]
    page: Option<String>,
    #[serde(default)]
    start: Option<String>,
}

fn cursor_error() -> Error {
    Error::validation("cursor", "not a cursor this adapter gave")
}

impl Walk {
    /// A walk of everything under `root` (whose id it is), the change feed's token `start`.
    pub(crate) fn of_root(root: String, start: Option<String>) -> Self {
        Self { queue: VecDeque::from([(root, String::new())]), page: None, start }
    }

    /// The walk a cursor continues.
    pub(crate) fn resume(cursor: &str) -> Result<Self> {
        serde_json::from_str(cursor).map_err(|_| cursor_error())
    }

    /// One page: the entries, and the walk that goes on (`None` when done).
    pub(crate) async fn page(mut self, tree: &dyn IdTree, size: u32) -> Result<(Vec<Remote<Entry>>, Option<Self>)> {
        let Some((folder, path)) = self.queue.front().cloned() else { return Ok((Vec::new(), None)) };
        let folder_path = StoragePath::from_encoded(&path).map_err(|_| cursor_error())?;
        let (children, next) = tree.children(&folder, self.page.as_deref(), size).await?;
        let mut items = Vec::with_capacity(children.len());
        for child in &children {
            let at = folder_path.join_path(&StoragePath::from_remote_names([child.name.as_str()])?)?;
            if child.folder {
                self.queue.push_back((child.id.clone(), at.to_string()));
            }
            items.push(tree.record_of(child, at)?);
        }
        match next {
            Some(next) => self.page = Some(next),
            None => {
                self.queue.pop_front();
                self.page = None;
            }
        }
        let more = !self.queue.is_empty();
        Ok((items, more.then_some(self)))
    }

    /// One page as a listing: the walk as the cursor, the change token with the last page.
    pub(crate) async fn listing(self, tree: &dyn IdTree, size: u32) -> Result<Listing<Entry>> {
        let start = self.start.clone();
        let (items, next) = self.page(tree, size).await?;
        let done = next.is_none();
        let next =
            next.map(|w| serde_json::to_string(&w)).transpose().map_err(|e| Error::invalid_response(e.to_string()))?;
        let listing = Listing::new(items, next);
        Ok(if done { listing.with_sync_token(start) } else { listing })
    }
}

/// Everything under folder `id` at `path`.
pub(crate) async fn subtree(tree: &dyn IdTree, id: &str, path: &StoragePath) -> Result<Vec<Remote<Entry>>> {
    let mut walk = Some(Walk { queue: VecDeque::from([(id.to_owned(), path.to_string())]), ..Walk::default() });
    let mut out = Vec::new();
    while let Some(at) = walk {
        let (items, next) = at.page(tree, 1000).await?;
        out.extend(items);
        walk = next;
    }
    Ok(out)
}

/// Paths of items found from their parents, remembered for one listing.
#[derive(Debug, Default)]
pub(crate) struct Paths {
    known: HashMap<String, Option<StoragePath>>,
}

impl Paths {
    /// Remembers that `id` is at `path`.
    pub(crate) fn insert(&mut self, id: &str, path: Option<StoragePath>) {
        self.known.insert(id.to_owned(), path);
    }

    /// The path of item `id` (`None` when it is not under the root).
    pub(crate) async fn of(&mut self, tree: &dyn IdTree, id: &str) -> Result<Option<StoragePath>> {
        let mut chain = Vec::new();
        let mut at = id.to_owned();
        let mut found = None;
        for _ in 0..crate::path::MAX_DEPTH {
            if let Some(path) = self.known.get(&at) {
                found = path.clone();
                break;
            }
            match tree.lineage(&at).await? {
                Lineage::Root => {
                    self.known.insert(at.clone(), Some(StoragePath::root()));
                    found = Some(StoragePath::root());
                    break;
                }
                Lineage::Outside => {
                    self.known.insert(at.clone(), None);
                    break;
                }
                Lineage::In { name, parent } => {
                    chain.push((at.clone(), name));
                    at = parent;
                }
            }
        }
        for (id, name) in chain.into_iter().rev() {
            found = match found {
                Some(path) => Some(path.join_path(&StoragePath::from_remote_names([name.as_str()])?)?),
                None => None,
            };
            self.known.insert(id, found.clone());
        }
        Ok(found)
    }

    /// A changed item in folder `parent` as records: itself, and — for a folder, which may have
    /// moved with everything in it — what it holds; nothing when it is not under the root.
    pub(crate) async fn changed(
        &mut self,
        tree: &dyn IdTree,
        child: &Child,
        parent: &str,
    ) -> Result<Vec<Remote<Entry>>> {
        let Some(folder) = self.of(tree, parent).await? else { return Ok(Vec::new()) };
        let path = folder.join_path(&StoragePath::from_remote_names([child.name.as_str()])?)?;
        let mut out = Vec::new();
        if child.folder {
            self.insert(&child.id, Some(path.clone()));
            out.extend(subtree(tree, &child.id, &path).await?);
        }
        out.push(tree.record_of(child, path)?);
        Ok(out)
    }
}

/// Keeps the last record of each id (a file listed in a moved folder and on its own is one
/// change), in order.
pub(crate) fn latest_of_each(items: &mut Vec<Remote<Entry>>) {
    let mut seen = HashSet::new();
    items.reverse();
    items.retain(|e| seen.insert(e.remote_id.clone()));
    items.reverse();
}
