//! The `scim2` tools from PyPI (pinned by `peers/scim2/requirements.txt`): `scim2-tester`, a
//! SCIM 2.0 conformance checker written by others, run through `scim2-cli`'s `scim2 test`
//! against a server — ours — on loopback (see `PEERS.md`). It reads the server's
//! `/ServiceProviderConfig`, `/ResourceTypes` and `/Schemas`, then creates, reads, lists,
//! searches, replaces, patches (every attribute: add, replace, remove) and deletes resources of
//! each type, and checks the discovery endpoints' methods and errors. [`ScimServerPeer`] is
//! `scim2-server` from the same packages: a SCIM service for the SCIM client to provision.

use std::path::PathBuf;
use std::process::Command;

use super::{PythonPeer, python_install, repository_root, unavailable};

/// The checker, installed.
#[derive(Debug, Clone)]
pub struct ScimTester {
    cli: PathBuf,
}

/// What one run of the checker said.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ScimReport {
    /// The checks that succeeded: `check_add_attribute: Successfully added attribute 'title'`.
    pub passed: Vec<String>,
    /// Every other check (errors, and skipped ones), with its reason.
    pub failed: Vec<String>,
}

impl ScimTester {
    /// The checker, installing its pinned virtualenv first if needed; `None` (with the reason
    /// printed) when Python cannot install it on a developer's machine — under `CI=true` that
    /// fails the test instead.
    pub fn install() -> Option<Self> {
        let dir = repository_root().join("peers/scim2");
        match python_install(&dir) {
            Ok(python) => Some(Self { cli: python.with_file_name("scim2") }),
            Err(why) => match unavailable("scim2-tester", &why)? {},
        }
    }

    /// Runs every check against the SCIM server at `url` (its base: `http://127.0.0.1:…/scim/v2`)
    /// with `token` as its bearer token (passed in the environment, never on the command line).
    /// Blocking: call it from a blocking thread.
    ///
    /// # Panics
    /// When the checker cannot run at all (a broken install).
    pub fn run(&self, url: &str, token: &str) -> ScimReport {
        let output = Command::new(&self.cli)
            .args(["--url", url, "test"])
            .env("SCIM_CLI_HEADERS", format!("Authorization: Bearer {token}"))
            .env("NO_COLOR", "1")
            .output()
            .unwrap_or_else(|e| panic!("scim2 could not run: {e}"));
        let text = String::from_utf8_lossy(&output.stdout);
        let mut report = ScimReport::default();
        let mut lines = text.lines().peekable();
        while let Some(line) = lines.next() {
            let Some((status, check)) = line.split_once(' ') else { continue };
            if !status.chars().all(|c| c.is_ascii_uppercase()) || status.is_empty() {
                continue;
            }
            let mut entry = check.to_owned();
            while let Some(detail) = lines.peek().filter(|l| l.starts_with("  ")) {
                entry.push_str(": ");
                entry.push_str(detail.trim());
                lines.next();
            }
            if status == "SUCCESS" {
                report.passed.push(entry);
            } else {
                report.failed.push(format!("{status} {entry}"));
            }
        }
        if report.passed.is_empty() && report.failed.is_empty() {
            panic!("scim2 test printed no checks: {text}\n{}", String::from_utf8_lossy(&output.stderr));
        }
        report
    }
}

/// scim2-server (PyPI, the same pinned virtualenv), a SCIM 2.0 service written by others, run by
/// `peers/scim2/server.py` on 127.0.0.1 on a port it binds itself, with one bearer token: the
/// target of the SCIM client's tests. Stopped when dropped.
#[derive(Debug)]
pub struct ScimServerPeer {
    peer: PythonPeer,
}

impl ScimServerPeer {
    /// The bearer token it accepts.
    pub const TOKEN: &'static str = "scim2-server-peer-token-5e0c";

    /// Starts it, installing the virtualenv first if needed; `None` (with the reason printed)
    /// when Python cannot install or run it on a developer's machine — under `CI=true` that fails
    /// the test instead.
    pub fn start() -> Option<Self> {
        PythonPeer::start("scim2-server", "scim2", "server.py", &[Self::TOKEN]).map(|peer| Self { peer })
    }

    /// Its SCIM base URL (`http://127.0.0.1:<port>/v2`).
    pub fn url(&self) -> &str {
        &self.peer.url
    }
}
