//! [`RecordStore`]: the records cache (latest version of every record, by content hash) and the
//! change stream the host application reads.

use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::StreamScope;
use crate::error::{Error, Result};
use crate::ids::{RunId, TenantId};
use crate::integration::{Checkpoint, Record};

/// SHA-256 of a record's common-model data in a canonical form (object keys sorted), so the same
/// content always hashes the same whatever the key order the provider sent.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContentHash([u8; 32]);

impl ContentHash {
    /// The hash of `data`.
    pub fn of(data: &Value) -> Self {
        let mut hasher = Sha256::new();
        feed(&mut hasher, data);
        Self(hasher.finalize().into())
    }

    /// The hash's bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// A hash from its 32 bytes (as read back from a store).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Lowercase hex.
    pub fn to_hex(&self) -> String {
        crate::hex::encode(&self.0)
    }

    /// Parses lowercase or uppercase hex of 32 bytes.
    pub fn from_hex(hex: &str) -> Result<Self> {
        let bad = || Error::validation("hash", format!("a content hash is 64 hex digits: got {hex:?}"));
        if hex.len() != 64 || !hex.is_ascii() {
            return Err(bad());
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
        }
        Ok(Self(out))
    }
}

impl fmt::Debug for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ContentHash({})", &self.to_hex()[..12])
    }
}

impl Serialize for ContentHash {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for ContentHash {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::from_hex(&s).map_err(serde::de::Error::custom)
    }
}

/// Feeds `value` to the hasher unambiguously: a type tag, lengths, and sorted object keys.
fn feed(h: &mut Sha256, value: &Value) {
    match value {
        Value::Null => h.update([0]),
        Value::Bool(b) => h.update([1, u8::from(*b)]),
        Value::Number(n) => {
            // The number's JSON text: integers written without an allocation (the same digits
            // as its `Display`), anything else through `Display`.
            let mut digits = itoa::Buffer::new();
            let owned;
            let text = match (n.as_i64(), n.as_u64()) {
                (Some(i), _) => digits.format(i),
                (None, Some(u)) => digits.format(u),
                _ => {
                    owned = n.to_string();
                    owned.as_str()
                }
            };
            h.update([2]);
            h.update((text.len() as u64).to_be_bytes());
            h.update(text.as_bytes());
        }
        Value::String(s) => {
            h.update([3]);
            h.update((s.len() as u64).to_be_bytes());
            h.update(s.as_bytes());
        }
        Value::Array(items) => {
            h.update([4]);
            h.update((items.len() as u64).to_be_bytes());
            items.iter().for_each(|v| feed(h, v));
        }
        Value::Object(map) => {
            h.update([5]);
            h.update((map.len() as u64).to_be_bytes());
            let mut entry = |k: &String, v: &Value| {
                h.update((k.len() as u64).to_be_bytes());
                h.update(k.as_bytes());
                feed(h, v);
            };
            // serde_json's maps iterate in key order unless its `preserve_order` feature is on.
            if map.keys().is_sorted() {
                map.iter().for_each(|(k, v)| entry(k, v));
            } else {
                let mut entries: Vec<_> = map.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                entries.into_iter().for_each(|(k, v)| entry(k, v));
            }
        }
    }
}

/// The cached version of one record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredRecord {
    /// The provider's id for the record.
    pub remote_id: String,
    /// The record in the common model (the last live version, also after deletion).
    pub data: Value,
    /// The provider's raw JSON, when kept.
    pub remote_data: Option<Value>,
    /// The hash of `data`.
    pub hash: ContentHash,
    /// When the provider last changed it.
    pub modified_at: Option<DateTime<Utc>>,
    /// Whether it is (soft) deleted.
    pub deleted: bool,
    /// The last run that saw it.
    pub seen_by: Option<RunId>,
    /// When it was first cached.
    pub created_at: DateTime<Utc>,
    /// When its content or deletion state last changed in the cache.
    pub updated_at: DateTime<Utc>,
}

/// What [`RecordStore::write_page`] writes: records, then the checkpoint, atomically.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct PageWrite {
    /// Records (tombstones delete).
    pub records: Vec<Record>,
    /// The checkpoint committed with them.
    pub checkpoint: Option<Checkpoint>,
    /// The run writing them (recorded as `seen_by`, for [`RecordStore::delete_unseen`]).
    pub run: Option<RunId>,
}

impl PageWrite {
    /// A write of `records` committing `checkpoint`, on behalf of `run`.
    pub fn new(records: Vec<Record>, checkpoint: Option<Checkpoint>, run: Option<RunId>) -> Self {
        Self { records, checkpoint, run }
    }
}

/// What a write changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriteSummary {
    /// Records new to the cache (or live again after a deletion).
    pub added: u64,
    /// Records whose content changed.
    pub updated: u64,
    /// Records deleted.
    pub deleted: u64,
    /// Records written with the same content (no change emitted).
    pub unchanged: u64,
}

impl std::ops::AddAssign for WriteSummary {
    fn add_assign(&mut self, o: Self) {
        self.added += o.added;
        self.updated += o.updated;
        self.deleted += o.deleted;
        self.unchanged += o.unchanged;
    }
}

/// What happened to a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ChangeKind {
    /// New to the cache, or live again after a deletion.
    Added,
    /// Its content changed.
    Updated,
    /// Deleted at the provider, or not seen by a completed full refresh.
    Deleted,
}

impl ChangeKind {
    /// The kind's name (`"added"`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Added => "added",
            Self::Updated => "updated",
            Self::Deleted => "deleted",
        }
    }
}

/// A position in a tenant's change stream. Opaque: hand back what you were given.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ChangeCursor(String);

impl ChangeCursor {
    /// A cursor from its text (as a store implementation or a host persisted it).
    pub fn new(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    /// The cursor as text, to persist.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ChangeCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One entry of the change stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// The position after this change: resume from here to get the changes that follow it.
    pub cursor: ChangeCursor,
    /// Where the record lives.
    pub scope: StreamScope,
    /// The record's remote id.
    pub remote_id: String,
    /// What happened.
    pub kind: ChangeKind,
    /// The record's data after the change (for a deletion, the last live data).
    pub data: Value,
    /// The data before the change (`None` for an addition).
    pub previous: Option<Value>,
    /// When the change was written.
    pub at: DateTime<Utc>,
}

/// A batch of changes and where to continue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeBatch {
    /// The changes, oldest first.
    pub changes: Vec<Change>,
    /// Pass this to the next [`RecordStore::changes_since`] call.
    pub next: ChangeCursor,
}

/// The records cache and its change stream.
///
/// Contract (checked by the testkit's suite):
/// - [`RecordStore::write_page`] applies the records in order, then commits the checkpoint (if
///   any) so that [`StateStore::checkpoint`](crate::store::StateStore::checkpoint) returns it —
///   all or nothing;
/// - a record with the same content hash as the cached live version changes nothing and emits no
///   change; a tombstone for an unknown or already deleted record changes nothing;
/// - the change stream of a tenant is totally ordered; reading it in batches from the returned
///   cursors yields every change exactly once, and never another tenant's.
#[async_trait]
pub trait RecordStore: Send + Sync + std::fmt::Debug {
    /// Writes a page of records and commits its checkpoint, atomically. The page is the
    /// store's: it may keep the records' data without copying it.
    async fn write_page(&self, scope: &StreamScope, page: PageWrite) -> Result<WriteSummary>;

    /// Soft-deletes the live records of `scope` that `run` did not see, and commits
    /// `checkpoint` with it (the end of a full refresh). Returns how many were deleted.
    async fn delete_unseen(&self, scope: &StreamScope, run: RunId, checkpoint: Option<&Checkpoint>) -> Result<u64>;

    /// One cached record.
    async fn record(&self, scope: &StreamScope, remote_id: &str) -> Result<Option<StoredRecord>>;

    /// Cached records of `scope` ordered by remote id, after `after`, at most `limit`.
    async fn records(
        &self,
        scope: &StreamScope,
        after: Option<&str>,
        limit: usize,
        include_deleted: bool,
    ) -> Result<Vec<StoredRecord>>;

    /// Up to `limit` changes of `tenant` after `cursor` (from the start when `None`).
    ///
    /// A cursor this store did not issue is a [`Validation`](crate::ErrorKind::Validation)
    /// error on `cursor`.
    async fn changes_since(
        &self,
        tenant: &TenantId,
        cursor: Option<&ChangeCursor>,
        limit: usize,
    ) -> Result<ChangeBatch>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn hash_ignores_key_order_but_not_content() {
        let a: Value = serde_json::from_str(r#"{"a":1,"b":{"x":[1,2],"y":null}}"#).unwrap();
        let b: Value = serde_json::from_str(r#"{"b":{"y":null,"x":[1,2]},"a":1}"#).unwrap();
        assert_eq!(ContentHash::of(&a), ContentHash::of(&b));
        assert_ne!(ContentHash::of(&a), ContentHash::of(&json!({"a":1,"b":{"x":[2,1],"y":null}})));
        assert_ne!(ContentHash::of(&json!("1")), ContentHash::of(&json!(1)));
        assert_ne!(ContentHash::of(&json!(["ab"])), ContentHash::of(&json!(["a", "b"])));
    }

    /// The encoding as first written (every number through `Display`, every object's entries
    /// collected and sorted): stored hashes depend on it, so the fast path must agree.
    fn reference(value: &Value) -> ContentHash {
        fn feed(h: &mut Sha256, value: &Value) {
            let text = |h: &mut Sha256, tag: u8, text: &str| {
                h.update([tag]);
                h.update((text.len() as u64).to_be_bytes());
                h.update(text.as_bytes());
            };
            match value {
                Value::Null => h.update([0]),
                Value::Bool(b) => h.update([1, u8::from(*b)]),
                Value::Number(n) => text(h, 2, &n.to_string()),
                Value::String(s) => text(h, 3, s),
                Value::Array(items) => {
                    h.update([4]);
                    h.update((items.len() as u64).to_be_bytes());
                    items.iter().for_each(|v| feed(h, v));
                }
                Value::Object(map) => {
                    h.update([5]);
                    h.update((map.len() as u64).to_be_bytes());
                    let mut entries: Vec<_> = map.iter().collect();
                    entries.sort_by(|a, b| a.0.cmp(b.0));
                    for (k, v) in entries {
                        h.update((k.len() as u64).to_be_bytes());
                        h.update(k.as_bytes());
                        feed(h, v);
                    }
                }
            }
        }
        let mut h = Sha256::new();
        feed(&mut h, value);
        ContentHash(h.finalize().into())
    }

    fn any_json() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            any::<u64>().prop_map(|n| json!(n)),
            any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| json!(f)),
            "[a-z0-9 ]{0,8}".prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::btree_map("[a-z]{0,4}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        #[test]
        fn the_hash_is_the_reference_encoding(value in any_json()) {
            proptest::prop_assert_eq!(ContentHash::of(&value), reference(&value));
        }
    }

    #[test]
    fn a_known_value_hashes_as_it_always_has() {
        let value = json!({"b": [1, -2, 18446744073709551615u64, 1.5, "x"], "a": {"t": true, "n": null}});
        assert_eq!(
            ContentHash::of(&value).to_hex(),
            "2593258f63b908359c2de726abfc183bfddae79ff28d1491a956ec5c460b9380"
        );
    }

    #[test]
    fn hash_hex_round_trips() {
        let h = ContentHash::of(&json!({"k": "v"}));
        assert_eq!(ContentHash::from_hex(&h.to_hex()).unwrap(), h);
        assert!(ContentHash::from_hex("zz").is_err());
        assert!(ContentHash::from_hex(&"é".repeat(32)).is_err());
    }
}
