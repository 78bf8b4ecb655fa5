//! Amazon S3 and S3-compatible stores (feature `s3`). So far: requests signed with AWS Signature
//! Version 4 ([`SigV4`]), as an `Authenticator` for the core HTTP client, and presigned URLs.
//! The adapter itself is to come (see the README).

mod sigv4;

pub use sigv4::SigV4;
