//! What a storage adapter uses, in one import: `use integration_storage::prelude::*;`.

pub use integration_core::domain::prelude::*;
pub use integration_core::http::StreamingResponse;

pub use crate::adapter::{Adapter, descriptor};
pub use crate::content::{Content, Parts};
pub use crate::model::{Checksums, Drive, Entry, EntryKind, Grantee, Permission, Quota, Role, ShareLink, Version};
pub use crate::path::StoragePath;
pub use crate::storage::{ByteRange, Search, Storage, UploadOptions, capability};
