//! Amazon S3 and S3-compatible stores (feature `s3`): the [`S3`] storage adapter, on one bucket
//! over the core HTTP client ([`Bucket`]: objects listed, looked up, streamed, written in one
//! request or in parts, copied, deleted, versioned), its requests signed with AWS Signature
//! Version 4 ([`SigV4`], also making presigned URLs).

mod adapter;
mod bucket;
mod sigv4;

pub use adapter::{PART_BYTES, PROVIDER, S3};
pub use bucket::{Addressing, Bucket, MIN_PART_BYTES, MultipartUpload, ObjectInfo, ObjectPage};
pub use sigv4::SigV4;
