//! Amazon S3 and S3-compatible stores (feature `s3`). So far: requests signed with AWS Signature
//! Version 4 ([`SigV4`]), as an `Authenticator` for the core HTTP client, and presigned URLs;
//! one bucket's objects listed, looked up, streamed, written, copied and deleted ([`Bucket`]).
//! The `Storage` adapter on top is to come (see the README).

mod bucket;
mod sigv4;

pub use bucket::{Addressing, Bucket, MIN_PART_BYTES, MultipartUpload, ObjectInfo, ObjectPage};
pub use sigv4::SigV4;
