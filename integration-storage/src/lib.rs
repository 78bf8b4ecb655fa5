//! Cloud storage and document systems: one model for files and folders across S3, WebDAV,
//! Google Drive, OneDrive / SharePoint and Dropbox, and paths that cannot leave the folder they
//! are meant for.
//!
//! In progress (issue "Cloud storage and document systems"): this crate holds the model
//! ([`model`]) and safe paths ([`path`]); the `Storage` trait, its adapters, change feeds,
//! streamed transfers, backup and analytics are to come (see the README).
//!
//! ```
//! use integration_storage::{Entry, EntryKind, StoragePath};
//!
//! // A key from a provider is kept, encoded so that it cannot escape when written elsewhere.
//! let entry = Entry {
//!     path: StoragePath::from_remote("reports/../../etc/passwd")?,
//!     kind: EntryKind::File,
//!     size: Some(1_024),
//!     ..Entry::default()
//! };
//! assert_eq!(entry.path.to_string(), "reports/%2E%2E/%2E%2E/etc/passwd");
//! assert_eq!(entry.path.to_remote(), "reports/../../etc/passwd");
//! # Ok::<(), integration_core::Error>(())
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod model;
pub mod path;
#[cfg(feature = "s3")]
#[cfg_attr(docsrs, doc(cfg(feature = "s3")))]
pub mod s3;

pub use model::{Checksums, Entry, EntryKind, Grantee, Permission, Quota, Role, ShareLink, Version};
pub use path::StoragePath;
