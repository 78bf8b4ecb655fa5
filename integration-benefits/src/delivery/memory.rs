//! A drop box in memory, for one process (and tests).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use integration_core::residency::Placement;
use integration_core::{Error, Result};

use super::{DropBox, check_answer_name, check_name};

/// A [`DropBox`] held in memory: clones share the same folders.
#[derive(Debug, Clone)]
pub struct MemoryDropBox {
    folders: Arc<Mutex<Folders>>,
    placement: Placement,
}

#[derive(Debug, Default)]
struct Folders {
    upload: BTreeMap<String, Vec<u8>>,
    answers: BTreeMap<String, Vec<u8>>,
}

impl MemoryDropBox {
    /// An empty drop box at `placement`.
    pub fn new(placement: Placement) -> Self {
        Self { folders: Arc::default(), placement }
    }

    /// The files put in it, by name.
    pub fn uploaded(&self) -> BTreeMap<String, Vec<u8>> {
        self.folders.lock().unwrap_or_else(PoisonError::into_inner).upload.clone()
    }

    /// Places an answer, as the carrier would.
    pub fn answer_with(&self, name: &str, contents: &[u8]) {
        self.folders.lock().unwrap_or_else(PoisonError::into_inner).answers.insert(name.to_owned(), contents.to_vec());
    }

    /// Removes a file from the upload folder, as a carrier picking it up would.
    pub fn pick_up(&self, name: &str) -> Option<Vec<u8>> {
        self.folders.lock().unwrap_or_else(PoisonError::into_inner).upload.remove(name)
    }
}

#[async_trait]
impl DropBox for MemoryDropBox {
    async fn put(&self, name: &str, contents: &[u8]) -> Result<()> {
        check_name(name)?;
        let mut folders = self.folders.lock().unwrap_or_else(PoisonError::into_inner);
        if folders.upload.contains_key(name) {
            return Err(Error::conflict(format!("{name} is already in the drop box")));
        }
        folders.upload.insert(name.to_owned(), contents.to_vec());
        Ok(())
    }

    async fn exists(&self, name: &str) -> Result<bool> {
        Ok(self.folders.lock().unwrap_or_else(PoisonError::into_inner).upload.contains_key(name))
    }

    async fn answers(&self) -> Result<Vec<String>> {
        Ok(self.folders.lock().unwrap_or_else(PoisonError::into_inner).answers.keys().cloned().collect())
    }

    async fn answer(&self, name: &str) -> Result<Vec<u8>> {
        check_answer_name(name)?;
        self.folders
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .answers
            .get(name)
            .cloned()
            .ok_or_else(|| Error::not_found(format!("no answer named {name}")))
    }

    fn placement(&self) -> &Placement {
        &self.placement
    }
}
