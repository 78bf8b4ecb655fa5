//! [`Remote<T>`]: the envelope every domain's records share.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::integration::Record;

/// A provider's record in the common model, with the fields every record has.
///
/// ```
/// use integration_core::domain::Remote;
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
/// struct Department { name: String }
///
/// let dept = Remote::new("18", Department { name: "Engineering".into() });
/// let record = dept.clone().into_record().unwrap();
/// assert_eq!(record.remote_id, "18");
/// assert_eq!(record.data["name"], "Engineering");
/// let back: Remote<Department> = Remote::from_record(&record).unwrap();
/// assert_eq!(back, dept);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Remote<T> {
    /// The provider's id.
    pub remote_id: String,
    /// When the provider created it, if it says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<DateTime<Utc>>,
    /// When the provider last changed it, if it says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified_at: Option<DateTime<Utc>>,
    /// Whether the provider deleted it.
    #[serde(default)]
    pub remote_was_deleted: bool,
    /// The provider's raw JSON, kept for what the common model does not carry. Not part of the
    /// serialized record: the records cache keeps it beside the data.
    #[serde(skip)]
    pub remote_data: Option<Value>,
    /// Provider fields the common model lacks, as the connection's
    /// [field mappings](crate::mapping) put them (empty without mappings). The name is
    /// reserved: no domain model has a field `custom_fields`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub custom_fields: BTreeMap<String, Value>,
    /// The domain fields.
    #[serde(flatten)]
    pub fields: T,
}

impl<T> Remote<T> {
    /// A live record.
    pub fn new(remote_id: impl Into<String>, fields: T) -> Self {
        Self {
            remote_id: remote_id.into(),
            created_at: None,
            modified_at: None,
            remote_was_deleted: false,
            remote_data: None,
            custom_fields: BTreeMap::new(),
            fields,
        }
    }

    /// Keeps the provider's raw JSON.
    #[must_use]
    pub fn with_remote_data(mut self, raw: Value) -> Self {
        self.remote_data = Some(raw);
        self
    }

    /// Sets when the provider last changed it.
    #[must_use]
    pub fn modified(mut self, at: Option<DateTime<Utc>>) -> Self {
        self.modified_at = at;
        self
    }

    /// Sets when the provider created it.
    #[must_use]
    pub fn created(mut self, at: Option<DateTime<Utc>>) -> Self {
        self.created_at = at;
        self
    }
}

impl<T: Default> Remote<T> {
    /// A tombstone: the provider deleted `remote_id`.
    pub fn deleted(remote_id: impl Into<String>) -> Self {
        Self { remote_was_deleted: true, ..Self::new(remote_id, T::default()) }
    }
}

impl<T: Serialize> Remote<T> {
    /// The sync engine's record: the common model as JSON, the raw data beside it; a deletion
    /// becomes a tombstone.
    pub fn into_record(self) -> crate::error::Result<Record> {
        if self.remote_was_deleted {
            let mut record = Record::deleted(self.remote_id);
            record.modified_at = self.modified_at;
            return Ok(record);
        }
        let data = serde_json::to_value(&self).map_err(|e| {
            crate::error::Error::validation("record", format!("the record does not serialize to JSON: {e}"))
        })?;
        let mut record = Record::new(self.remote_id, data);
        record.remote_data = self.remote_data;
        record.modified_at = self.modified_at;
        Ok(record)
    }
}

impl<T: for<'de> Deserialize<'de>> Remote<T> {
    /// Reads a record back from the cache (its `data`, with `remote_data` beside it).
    pub fn from_record(record: &Record) -> crate::error::Result<Self> {
        let mut remote: Self = crate::decode::decode(&record.data)?;
        remote.remote_data = record.remote_data.clone();
        Ok(remote)
    }
}
