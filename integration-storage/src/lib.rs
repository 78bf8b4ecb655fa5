//! Cloud storage and document systems: one [`Storage`] trait and model for files and folders
//! across S3, WebDAV, Google Drive, OneDrive / SharePoint and Dropbox; paths that cannot leave
//! the folder they are meant for; transfers streamed in bounded memory.
//!
//! - [`Storage`]: list (a full listing, and the provider's change feed where it has one),
//!   download (streamed, ranged), upload (streamed; in parts above a threshold; checksum
//!   checked), folders, copy, move, delete, versions, permissions, share links, quota, search.
//! - The sync engine's `files` stream ([`streams`]): with a change feed, incremental; without
//!   (S3, WebDAV), each full pass compared with the cache, so only what changed is a change.
//! - [`StoragePath`]: what callers write is refused when unsafe; what providers list is encoded.
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
//!
//! An adapter is built from a connection's configuration ([`build`]); an S3 bucket:
//!
//! ```
//! # #[cfg(feature = "s3")] {
//! use integration_core::{BuildContext, ConnectionId, Domain, IntegrationConfig, ProviderId, TenantId};
//! use integration_storage::{Storage, capability};
//!
//! let config = IntegrationConfig::new(
//!     TenantId::new("acme")?, ConnectionId::new("archive")?, Domain::Storage, ProviderId::new("s3")?,
//! )
//! .with_setting("base_url", "http://127.0.0.1:9000")
//! .with_setting("bucket", "backups")
//! .with_setting("access_key_id", "AKIAEXAMPLE")
//! .with_secret("secret_access_key", "wJalrXUtnFEMI/EXAMPLEKEY");
//! let storage = integration_storage::build(&config, &BuildContext::default())?;
//! assert!(storage.supports(&capability::VERSIONS));
//! assert!(!storage.supports(&capability::CHANGES), "S3 changes are found by comparing listings");
//! # }
//! # Ok::<(), integration_core::Error>(())
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod adapter;
pub mod analytics;
pub mod backup;
pub mod content;
#[cfg(feature = "dropbox")]
#[cfg_attr(docsrs, doc(cfg(feature = "dropbox")))]
pub mod dropbox;
#[cfg(feature = "gdrive")]
#[cfg_attr(docsrs, doc(cfg(feature = "gdrive")))]
pub mod gdrive;
#[cfg(any(feature = "gdrive", feature = "onedrive"))]
mod id_tree;
mod mapped;
pub mod model;
#[cfg(feature = "onedrive")]
#[cfg_attr(docsrs, doc(cfg(feature = "onedrive")))]
pub mod onedrive;
pub mod path;
pub mod prelude;
#[cfg(feature = "s3")]
#[cfg_attr(docsrs, doc(cfg(feature = "s3")))]
pub mod s3;
pub mod storage;
pub mod streams;
#[cfg(feature = "webdav")]
#[cfg_attr(docsrs, doc(cfg(feature = "webdav")))]
pub mod webdav;

pub use adapter::{build, register_all};
pub use content::{Content, FromChunks, InMemory, Parts};
pub use integration_core::domain::{ListRequest, Listing, Remote};
pub use model::{Checksums, Drive, Entry, EntryKind, Grantee, Permission, Quota, Role, ShareLink, Version};
pub use path::StoragePath;
pub use storage::{ByteRange, Search, Storage, UploadOptions, capability, walk_search};
pub use streams::read;
