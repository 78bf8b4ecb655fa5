//! [`FileTree`]: the state every cloud-storage fake serves — items (files and folders) by id
//! under one root, each with its content, MD5, revisions, properties and permissions, and a
//! change log numbered in order. Each fake renders it as its provider does (Drive `files` and
//! `changes`, Graph `driveItem` and `delta`, Dropbox metadata and `list_folder/continue`);
//! tests change it "as another client would" between syncs.

use std::collections::BTreeMap;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use md5::Digest as _;

/// The root folder's id.
pub const ROOT: &str = "root";

/// A permission on an item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// Its id.
    pub id: String,
    /// `user`, `group`, `domain` or `anyone`.
    pub kind: String,
    /// The email or domain (empty for anyone).
    pub who: String,
    /// The provider's role name.
    pub role: String,
    /// When it ends.
    pub expires: Option<DateTime<Utc>>,
}

/// One earlier content of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    /// Its id.
    pub id: String,
    /// The content then.
    pub content: Bytes,
    /// When it was written.
    pub modified: DateTime<Utc>,
}

/// A file or a folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// Its id.
    pub id: String,
    /// Its folder's id (`None` for the root).
    pub parent: Option<String>,
    /// Its name.
    pub name: String,
    /// Whether it is a folder.
    pub folder: bool,
    /// A file's content.
    pub content: Bytes,
    /// A file's MIME type.
    pub mime: String,
    /// When it was made.
    pub created: DateTime<Utc>,
    /// When it last changed (content, name or place).
    pub modified: DateTime<Utc>,
    /// A number that grows with every change to it (an ETag, a `rev`).
    pub version: u64,
    /// Its contents before the current one, oldest first, and the current one last.
    pub revisions: Vec<Revision>,
    /// Properties (Drive `properties`, SharePoint list fields).
    pub properties: BTreeMap<String, String>,
    /// Who may do what.
    pub grants: Vec<Grant>,
    /// Whether it is deleted (kept for the change log).
    pub deleted: bool,
}

impl Item {
    /// A file's MD5, lower-case hex.
    pub fn md5(&self) -> String {
        integration_core::hex::encode(&md5::Md5::digest(&self.content))
    }

    /// A file's SHA-256, lower-case hex.
    pub fn sha256(&self) -> String {
        use sha2::Digest as _;
        integration_core::hex::encode(&sha2::Sha256::digest(&self.content))
    }
}

/// Why a change to the tree was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TreeError {
    /// No such item (or it is deleted).
    NotFound,
    /// The parent is not a folder.
    NotAFolder,
    /// Something of that name is there already.
    Exists,
    /// A folder cannot go inside itself.
    Cycle,
}

/// The items of one drive and their change log.
#[derive(Debug, Clone)]
pub struct FileTree {
    items: BTreeMap<String, Item>,
    /// The change log: sequence number → the item changed then.
    log: BTreeMap<u64, String>,
    /// Moves: sequence number → the item moved then and the names it had before.
    moves: BTreeMap<u64, (String, Vec<String>)>,
    sequence: u64,
    next_id: u64,
    prefix: &'static str,
}

impl FileTree {
    /// An empty tree whose ids start with `prefix`.
    pub fn new(prefix: &'static str) -> Self {
        let now = Utc::now();
        let root = Item {
            id: ROOT.into(),
            parent: None,
            name: String::new(),
            folder: true,
            content: Bytes::new(),
            mime: String::new(),
            created: now,
            modified: now,
            version: 1,
            revisions: Vec::new(),
            properties: BTreeMap::new(),
            grants: Vec::new(),
            deleted: false,
        };
        Self {
            items: BTreeMap::from([(ROOT.to_owned(), root)]),
            log: BTreeMap::new(),
            moves: BTreeMap::new(),
            sequence: 0,
            next_id: 0,
            prefix,
        }
    }

    fn touch(&mut self, id: &str) {
        self.sequence += 1;
        self.log.retain(|_, logged| logged != id);
        self.log.insert(self.sequence, id.to_owned());
        if let Some(item) = self.items.get_mut(id) {
            item.version += 1;
            item.modified = Utc::now();
        }
    }

    /// The latest change's number.
    pub fn sequence(&self) -> u64 {
        self.sequence
    }

    /// A live item.
    pub fn get(&self, id: &str) -> Option<&Item> {
        self.items.get(id).filter(|i| !i.deleted)
    }

    /// An item, deleted or not.
    pub fn get_any(&self, id: &str) -> Option<&Item> {
        self.items.get(id)
    }

    /// A live item, to change in place (call [`touched`](Self::touched) after).
    pub fn get_mut(&mut self, id: &str) -> Option<&mut Item> {
        self.items.get_mut(id).filter(|i| !i.deleted)
    }

    /// Logs a change made through [`get_mut`](Self::get_mut).
    pub fn touched(&mut self, id: &str) {
        self.touch(id);
    }

    /// The live children of folder `id`, by name.
    pub fn children(&self, id: &str) -> Vec<&Item> {
        let mut out: Vec<&Item> =
            self.items.values().filter(|i| !i.deleted && i.parent.as_deref() == Some(id)).collect();
        out.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        out
    }

    /// The live child of `parent` named `name` (case-insensitively when `fold`).
    pub fn child(&self, parent: &str, name: &str, fold: bool) -> Option<&Item> {
        self.children(parent)
            .into_iter()
            .find(|i| if fold { i.name.to_lowercase() == name.to_lowercase() } else { i.name == name })
    }

    /// The names from the root to `id` (empty for the root); `None` for an item not under it.
    pub fn path_of(&self, id: &str) -> Option<Vec<String>> {
        let mut names = Vec::new();
        let mut at = self.items.get(id)?;
        for _ in 0..1000 {
            match &at.parent {
                None => {
                    names.reverse();
                    return Some(names);
                }
                Some(parent) => {
                    names.push(at.name.clone());
                    at = self.items.get(parent)?;
                }
            }
        }
        None
    }

    /// The live item at `names` from the root (case-insensitively when `fold`).
    pub fn find(&self, names: &[&str], fold: bool) -> Option<&Item> {
        let mut at = self.get(ROOT)?;
        for name in names {
            at = self.child(&at.id, name, fold)?;
        }
        Some(at)
    }

    /// Adds a file or folder under `parent`; its id. `unique`: a name there already is
    /// [`TreeError::Exists`] (Graph, Dropbox; Drive allows duplicates).
    ///
    /// # Errors
    /// As [`TreeError`].
    pub fn add(
        &mut self,
        parent: &str,
        name: &str,
        folder: bool,
        content: Bytes,
        mime: &str,
        unique: bool,
    ) -> Result<String, TreeError> {
        let owner = self.get(parent).ok_or(TreeError::NotFound)?;
        if !owner.folder {
            return Err(TreeError::NotAFolder);
        }
        if unique && self.child(parent, name, true).is_some() {
            return Err(TreeError::Exists);
        }
        self.next_id += 1;
        let id = format!("{}{:06}{:08x}", self.prefix, self.next_id, fastrand::u32(..));
        let now = Utc::now();
        let revision = Revision { id: format!("{id}.1"), content: content.clone(), modified: now };
        let item = Item {
            id: id.clone(),
            parent: Some(parent.to_owned()),
            name: name.to_owned(),
            folder,
            revisions: if folder { Vec::new() } else { vec![revision] },
            content,
            mime: if folder { String::new() } else { mime.to_owned() },
            created: now,
            modified: now,
            version: 0,
            properties: BTreeMap::new(),
            grants: Vec::new(),
            deleted: false,
        };
        self.items.insert(id.clone(), item);
        self.touch(&id);
        Ok(id)
    }

    /// Replaces file `id`'s content (a new revision).
    ///
    /// # Errors
    /// [`TreeError::NotFound`].
    pub fn write(&mut self, id: &str, content: Bytes) -> Result<(), TreeError> {
        let item = self.get_mut(id).ok_or(TreeError::NotFound)?;
        let number = item.revisions.len() + 1;
        item.revisions.push(Revision { id: format!("{id}.{number}"), content: content.clone(), modified: Utc::now() });
        item.content = content;
        self.touch(id);
        Ok(())
    }

    /// Moves and renames `id` into `parent` as `name`. `unique` as for [`add`](Self::add).
    ///
    /// # Errors
    /// As [`TreeError`].
    pub fn relocate(&mut self, id: &str, parent: &str, name: &str, unique: bool) -> Result<(), TreeError> {
        let target = self.get(parent).ok_or(TreeError::NotFound)?;
        if !target.folder {
            return Err(TreeError::NotAFolder);
        }
        self.get(id).ok_or(TreeError::NotFound)?;
        if self.path_ids(parent).iter().any(|a| a == id) {
            return Err(TreeError::Cycle);
        }
        if unique && self.child(parent, name, true).is_some_and(|other| other.id != id) {
            return Err(TreeError::Exists);
        }
        let before = self.path_of(id).unwrap_or_default();
        let item = self.get_mut(id).ok_or(TreeError::NotFound)?;
        item.parent = Some(parent.to_owned());
        item.name = name.to_owned();
        self.touch(id);
        if self.path_of(id).is_some_and(|after| after != before) {
            self.moves.insert(self.sequence, (id.to_owned(), before));
        }
        Ok(())
    }

    /// The ids from `id` up to the root.
    fn path_ids(&self, id: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut at = self.items.get(id);
        while let Some(item) = at {
            out.push(item.id.clone());
            at = item.parent.as_deref().and_then(|p| self.items.get(p));
            if out.len() > 1000 {
                break;
            }
        }
        out
    }

    /// Copies `id` (a folder with everything in it) into `parent` as `name`; the copy's id.
    ///
    /// # Errors
    /// As [`TreeError`].
    pub fn copy(&mut self, id: &str, parent: &str, name: &str, unique: bool) -> Result<String, TreeError> {
        let source = self.get(id).ok_or(TreeError::NotFound)?.clone();
        let copy = self.add(parent, name, source.folder, source.content.clone(), &source.mime, unique)?;
        if let Some(item) = self.items.get_mut(&copy) {
            item.properties = source.properties.clone();
        }
        if source.folder {
            let children: Vec<(String, String)> =
                self.children(id).into_iter().map(|c| (c.id.clone(), c.name.clone())).collect();
            for (child, child_name) in children {
                self.copy(&child, &copy, &child_name, unique)?;
            }
        }
        Ok(copy)
    }

    /// Deletes `id` and everything in it.
    ///
    /// # Errors
    /// [`TreeError::NotFound`].
    pub fn delete(&mut self, id: &str) -> Result<(), TreeError> {
        self.get(id).ok_or(TreeError::NotFound)?;
        let children: Vec<String> = self.children(id).into_iter().map(|c| c.id.clone()).collect();
        for child in children {
            self.delete(&child)?;
        }
        if let Some(item) = self.items.get_mut(id) {
            item.deleted = true;
        }
        self.touch(id);
        Ok(())
    }

    /// The items changed after change `since`, each once (its latest state), in change order,
    /// at most `limit`; and the number of the last one given.
    pub fn changes_since(&self, since: u64, limit: usize) -> (Vec<&Item>, u64) {
        let mut last = since;
        let mut out = Vec::new();
        for (sequence, id) in self.log.range(since + 1..) {
            if out.len() >= limit {
                break;
            }
            if let Some(item) = self.items.get(id) {
                out.push(item);
            }
            last = *sequence;
        }
        (out, last)
    }

    /// The items changed after change `since`, each once with the number of its latest change,
    /// in change order.
    pub fn change_log(&self, since: u64) -> Vec<(u64, &Item)> {
        self.log.range(since + 1..).filter_map(|(sequence, id)| Some((*sequence, self.items.get(id)?))).collect()
    }

    /// The moves after change `since`: the change's number, the item, the names it had before.
    pub fn moves_since(&self, since: u64) -> Vec<(u64, &str, &[String])> {
        self.moves
            .range(since + 1..)
            .map(|(sequence, (id, before))| (*sequence, id.as_str(), before.as_slice()))
            .collect()
    }

    /// The live items under folder `id`, at any depth.
    pub fn descendants(&self, id: &str) -> Vec<&Item> {
        let mut out = Vec::new();
        let mut queue = std::collections::VecDeque::from([id.to_owned()]);
        while let Some(folder) = queue.pop_front() {
            for child in self.children(&folder) {
                if child.folder {
                    queue.push_back(child.id.clone());
                }
                out.push(child);
            }
        }
        out
    }

    /// Every live item under the root but the root, folders before what they hold.
    pub fn walk(&self) -> Vec<&Item> {
        self.descendants(ROOT)
    }

    /// Bytes used by live files (the current contents) and by earlier revisions.
    pub fn usage(&self) -> u64 {
        self.items.values().filter(|i| !i.deleted && !i.folder).map(|i| i.content.len() as u64).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_are_added_moved_copied_deleted_and_logged_once_each() {
        let mut tree = FileTree::new("t");
        let docs = tree.add(ROOT, "docs", true, Bytes::new(), "", true).unwrap();
        let a = tree.add(&docs, "a.txt", false, Bytes::from_static(b"a"), "text/plain", true).unwrap();
        assert_eq!(tree.add(&docs, "A.TXT", false, Bytes::new(), "text/plain", true), Err(TreeError::Exists));
        let start = tree.sequence();
        tree.write(&a, Bytes::from_static(b"aa")).unwrap();
        tree.relocate(&a, ROOT, "b.txt", true).unwrap();
        assert_eq!(tree.relocate(&docs, &docs, "x", true), Err(TreeError::Cycle));
        let copy = tree.copy(&docs, ROOT, "docs2", true).unwrap();
        tree.delete(&docs).unwrap();
        let (changed, last) = tree.changes_since(start, 100);
        let ids: Vec<&str> = changed.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(ids, [a.as_str(), copy.as_str(), docs.as_str()]);
        assert_eq!(last, tree.sequence());
        assert_eq!(tree.path_of(&a).unwrap(), ["b.txt"]);
        assert_eq!(tree.find(&["b.txt"], false).unwrap().revisions.len(), 2);
        assert!(tree.get(&docs).is_none());
        assert_eq!(tree.walk().len(), 2, "b.txt and docs2");
    }
}
