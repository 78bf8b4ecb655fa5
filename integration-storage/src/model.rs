//! The common model: entries (files and folders) with their checksums and versions, who may see
//! them (permissions and share links), and how much room is left (quotas). Enums are open
//! (`Other`) for what a provider adds tomorrow; times are UTC.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::path::StoragePath;

/// A file or a folder.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// A file (an object, for S3).
    #[default]
    File,
    /// A folder (a common prefix, for S3).
    Folder,
}

/// Checksums of a file's content, as the provider gives them or as computed on upload.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checksums {
    /// MD5, lower-case hex (S3's ETag of a single-part upload, Drive's `md5Checksum`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub md5: Option<String>,
    /// SHA-1, lower-case hex (OneDrive's `sha1Hash` on business drives, Drive's `sha1Checksum`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha1: Option<String>,
    /// SHA-256, lower-case hex (S3's `x-amz-checksum-sha256`, Drive's `sha256Checksum`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Provider-specific ones by name (`dropbox_content_hash`, `quickXorHash`, `crc32c`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub other: BTreeMap<String, String>,
}

impl Checksums {
    /// Whether nothing is known.
    pub fn is_empty(&self) -> bool {
        self.md5.is_none() && self.sha1.is_none() && self.sha256.is_none() && self.other.is_empty()
    }
}

/// Who a permission or a link is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
#[non_exhaustive]
pub enum Grantee {
    /// One user, by email or the provider's id.
    User {
        /// The user's email or id.
        id: String,
    },
    /// A group, by email or the provider's id.
    Group {
        /// The group's email or id.
        id: String,
    },
    /// Everyone in a domain (`acme.example`).
    Domain {
        /// The domain.
        domain: String,
    },
    /// Anyone with the link.
    Anyone,
}

/// What a grantee may do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Role {
    /// Read.
    Reader,
    /// Read and comment.
    Commenter,
    /// Read and write.
    Writer,
    /// Everything, sharing included.
    Owner,
    /// A role of the provider's own.
    Other(String),
}

/// A permission on an entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Permission {
    /// The provider's id of the permission (what revoking names).
    pub id: String,
    /// Who.
    pub grantee: Grantee,
    /// What they may do.
    pub role: Role,
    /// When it ends, if it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    /// Whether it comes from a folder above (not revocable here).
    #[serde(default)]
    pub inherited: bool,
}

/// A link that opens an entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareLink {
    /// The URL.
    pub url: String,
    /// Who the link works for (`Anyone`, or a `Domain`).
    pub audience: Grantee,
    /// What it allows.
    pub role: Role,
    /// When it stops working, if it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
}

/// A file or a folder. When it was made and last changed are the record's
/// ([`Remote::created_at`](integration_core::domain::Remote::created_at),
/// [`Remote::modified_at`](integration_core::domain::Remote::modified_at)).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Where it is, inside the connection's root.
    pub path: StoragePath,
    /// File or folder.
    pub kind: EntryKind,
    /// Its size in bytes (files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Its MIME type, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// Its content's checksums.
    #[serde(default, skip_serializing_if = "Checksums::is_empty")]
    pub checksums: Checksums,
    /// The provider's tag of this content (an S3 or WebDAV ETag, a Dropbox `rev`): it changes
    /// when the content does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// The version this is, on a versioned store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    /// Its owner (an email or the provider's id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Metadata: S3 user metadata, Drive `properties`, SharePoint list fields.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, serde_json::Value>,
}

/// One version of a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Version {
    /// The provider's version id.
    pub version_id: String,
    /// Its size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// When it was written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified_at: Option<DateTime<Utc>>,
    /// Whether it is the current one.
    pub is_latest: bool,
    /// Whether this version is a deletion (S3's delete marker).
    #[serde(default)]
    pub is_deletion: bool,
}

/// How much room a drive has.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quota {
    /// Bytes used.
    pub used: u64,
    /// Bytes allowed, if there is a limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    /// Bytes in the trash (counted in `used`), if the provider says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trashed: Option<u64>,
}

impl Quota {
    /// Bytes left, if there is a limit.
    pub fn remaining(&self) -> Option<u64> {
        self.total.map(|t| t.saturating_sub(self.used))
    }
}

/// A drive: a bucket, a WebDAV root, a Drive or shared drive, a OneDrive or SharePoint document
/// library, a Dropbox account.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Drive {
    /// The provider's id (a bucket's name, a drive id).
    pub id: String,
    /// Its name.
    pub name: String,
    /// The provider's kind of drive (`bucket`, `personal`, `business`, `documentLibrary`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Its owner (an email or the provider's id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Its quota, when the listing gives it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quota: Option<Quota>,
}
