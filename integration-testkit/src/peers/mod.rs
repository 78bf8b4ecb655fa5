//! Real third-party servers, started on 127.0.0.1 for a test and stopped when dropped.
//!
//! A peer installs itself on first use, pinned by its committed lock file, under a file lock so
//! that tests starting it at once install it once (`scripts/install-peers.sh`, which `.ci/run`
//! calls, does the same ahead of time). When it cannot be installed or started (no Node.js),
//! [`start`](OidcProvider::start) returns `None` after printing why — unless `CI=true`, where
//! that fails the test: CI never skips silently.

mod oidc_provider;

pub use oidc_provider::OidcProvider;

use std::path::PathBuf;

/// The repository's root (where `peers/` and `scripts/` are).
fn repository_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().map(PathBuf::from).unwrap_or_default()
}

/// Runs `npm ci` in `dir` unless its `node_modules` is current with its `package-lock.json`,
/// holding an exclusive lock on `dir/.install.lock` while it checks and installs. The reason it
/// could not, if it could not.
fn npm_install(dir: &std::path::Path) -> Result<(), String> {
    let current = |dir: &std::path::Path| {
        let modified = |p: PathBuf| std::fs::metadata(p).and_then(|m| m.modified()).ok();
        match (modified(dir.join("package-lock.json")), modified(dir.join("node_modules/.package-lock.json"))) {
            (Some(lock), Some(installed)) => installed >= lock,
            _ => false,
        }
    };
    if current(dir) {
        return Ok(());
    }
    let lock =
        std::fs::File::create(dir.join(".install.lock")).map_err(|e| format!("cannot create the install lock: {e}"))?;
    lock.lock().map_err(|e| format!("cannot take the install lock: {e}"))?;
    if current(dir) {
        return Ok(()); // installed by whoever held the lock before us
    }
    eprintln!("installing the peer in {} (npm ci, pinned by package-lock.json)", dir.display());
    let status = std::process::Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(dir)
        .stdout(std::process::Stdio::null())
        .status()
        .map_err(|e| format!("npm could not start: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("npm ci failed ({status})")) }
}

/// Under CI a missing peer is a failure; elsewhere the test is skipped with the reason printed.
fn unavailable(peer: &str, why: &str) -> Option<std::convert::Infallible> {
    let message = format!("{peer} is unavailable: {why}; run scripts/install-peers.sh");
    assert!(!std::env::var("CI").is_ok_and(|v| v == "true"), "CI=true and {message}");
    eprintln!("skipped: {message}");
    None
}
