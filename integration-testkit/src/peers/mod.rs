//! Real third-party servers, started on 127.0.0.1 for a test and stopped when dropped.
//!
//! Each peer is installed by `scripts/install-peers.sh` (which `.ci/run` calls). When a peer is
//! missing, [`start`](OidcProvider::start) returns `None` after printing why — unless `CI=true`,
//! where a missing peer fails the test: CI never skips silently.

mod oidc_provider;

pub use oidc_provider::OidcProvider;

use std::path::PathBuf;

/// The repository's root (where `peers/` and `scripts/` are).
fn repository_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().map(PathBuf::from).unwrap_or_default()
}

/// Under CI a missing peer is a failure; elsewhere the test is skipped with the reason printed.
fn unavailable(peer: &str, why: &str) -> Option<std::convert::Infallible> {
    let message = format!("{peer} is unavailable: {why}; run scripts/install-peers.sh");
    assert!(!std::env::var("CI").is_ok_and(|v| v == "true"), "CI=true and {message}");
    eprintln!("skipped: {message}");
    None
}
