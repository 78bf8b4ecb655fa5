//! Real third-party servers, started on 127.0.0.1 for a test and stopped when dropped.
//!
//! A peer installs itself on first use, pinned by its committed lock file (npm) or requirements
//! (a Python virtualenv), under a file lock so
//! that tests starting it at once install it once (`scripts/install-peers.sh`, which `.ci/run`
//! calls, does the same ahead of time). When it cannot be installed or started (no Node.js),
//! the test fails with the reason: a test that could not run is never reported as passed. Test
//! files that need peers run under the [`harness`](crate::harness), which installs them first
//! and reports every test ignored, with the reason, when one cannot be (failed under `CI=true`).

mod browser;
mod localstripe;
mod moto;
mod oidc_provider;
mod openssh;
mod pyx12;
mod radicale;
mod saml_idp;
mod scim2;
mod wsgidav;

pub use browser::Browser;
pub use localstripe::LocalStripe;
pub use moto::Moto;
pub use oidc_provider::OidcProvider;
pub use openssh::OpenSsh;
pub use pyx12::{Pyx12, Pyx12Verdict};
pub use radicale::Radicale;
pub use saml_idp::{PostedResponse, SamlIdp};
pub use scim2::{ScimReport, ScimServerPeer, ScimTester};
pub use wsgidav::WsgiDav;

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

/// Makes `dir/.venv` a virtualenv holding exactly `dir/requirements.txt` (pinned), unless it
/// already does (its marker is newer than the requirements), holding an exclusive lock on
/// `dir/.install.lock` while it checks and installs. The virtualenv's Python, or why not.
fn python_install(dir: &std::path::Path) -> Result<PathBuf, String> {
    let venv = dir.join(".venv");
    let python = venv.join("bin/python");
    let marker = venv.join(".installed");
    let current = || {
        let modified = |p: &std::path::Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
        match (modified(&dir.join("requirements.txt")), modified(&marker)) {
            (Some(pinned), Some(installed)) => installed >= pinned && python.exists(),
            _ => false,
        }
    };
    if current() {
        return Ok(python);
    }
    let lock =
        std::fs::File::create(dir.join(".install.lock")).map_err(|e| format!("cannot create the install lock: {e}"))?;
    lock.lock().map_err(|e| format!("cannot take the install lock: {e}"))?;
    if current() {
        return Ok(python); // installed by whoever held the lock before us
    }
    eprintln!("installing the peer in {} (a virtualenv pinned by requirements.txt)", dir.display());
    let run = |program: &std::path::Path, args: &[&str]| {
        let status = std::process::Command::new(program)
            .args(args)
            .current_dir(dir)
            .stdout(std::process::Stdio::null())
            .status()
            .map_err(|e| format!("{} could not start: {e}", program.display()))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("{} {} failed ({status})", program.display(), args.join(" ")))
        }
    };
    run(std::path::Path::new("python3"), &["-m", "venv", ".venv"])?;
    run(&python, &["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", "requirements.txt"])?;
    std::fs::write(&marker, b"").map_err(|e| format!("cannot mark the install: {e}"))?;
    Ok(python)
}

/// A peer's process, started by `command` in `dir` with its stdin piped (it exits when stdin
/// closes) and announcing itself as JSON on its first line of output, read within `wait`. The
/// child, its stdin, and the announcement; `None` after printing why (or, under CI, a failure)
/// when it cannot start; a panic when it starts but announces nothing.
fn spawn_announcing(
    peer: &str,
    mut command: std::process::Command,
    wait: std::time::Duration,
) -> Option<(std::process::Child, Option<std::process::ChildStdin>, serde_json::Value)> {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;

    let spawned = command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::null()).spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) => match unavailable(peer, &format!("it could not start: {e}"))? {},
    };
    let stdin = child.stdin.take();
    let stdout = child.stdout.take().expect("stdout is piped");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx.recv_timeout(wait).unwrap_or_default();
    match serde_json::from_str::<serde_json::Value>(&line) {
        Ok(announced) => Some((child, stdin, announced)),
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{peer} did not announce itself (first line: {line:?})");
        }
    }
}

/// A running Python peer: its announced URL, the process, and its stdin (the peer exits when it
/// closes). Dropping it stops the process.
#[derive(Debug)]
pub(crate) struct PythonPeer {
    pub(crate) url: String,
    child: std::process::Child,
    stdin: Option<std::process::ChildStdin>,
}

impl PythonPeer {
    /// Runs `peers/<folder>/<script>` with `args` in the folder's pinned virtualenv (installed
    /// first if needed) and reads the `url` it announces; `None` (with the reason printed; under
    /// CI a failure) when Python cannot install or run it.
    pub(crate) fn start(peer: &str, folder: &str, script: &str, args: &[&str]) -> Option<Self> {
        Self::start_with_env(peer, folder, script, args, &[])
    }

    /// As [`start`](Self::start), with `env` set for the process.
    pub(crate) fn start_with_env(
        peer: &str,
        folder: &str,
        script: &str,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Option<Self> {
        let dir = repository_root().join("peers").join(folder);
        let python = match python_install(&dir) {
            Ok(python) => python,
            Err(why) => match unavailable(peer, &why)? {},
        };
        let mut command = std::process::Command::new(python);
        command.arg(script).args(args).current_dir(&dir).envs(env.iter().copied());
        let (mut child, stdin, announced) = spawn_announcing(peer, command, std::time::Duration::from_secs(60))?;
        let Some(url) = announced["url"].as_str().map(str::to_owned) else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{peer} announced no URL: {announced}");
        };
        Some(Self { url, child, stdin })
    }
}

impl Drop for PythonPeer {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

thread_local! {
    /// Set while [`probe`] starts a peer only to learn whether it can run here.
    static PROBING: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// A peer that cannot be installed or started fails the test that needs it: a test that could
/// not run is never reported as passed. (The [`harness`](crate::harness) finds out before the
/// tests start, and reports them ignored with the reason — failed under `CI=true`.) While
/// [`probe`] runs, the reason is kept instead and `None` answered.
fn unavailable(peer: &str, why: &str) -> Option<std::convert::Infallible> {
    let message = format!("{peer} is unavailable: {why}");
    let probing = PROBING.with(|p| {
        let mut p = p.borrow_mut();
        p.as_mut().map(|kept| *kept = message.clone()).is_some()
    });
    if probing {
        return None;
    }
    panic!("{message}; run scripts/install-peers.sh (or see the README's peers)")
}

/// Whether `start` can start its peer here: it is started, then stopped. The reason if not.
fn probe<T>(start: impl FnOnce() -> Option<T>) -> Result<(), String> {
    PROBING.with(|p| *p.borrow_mut() = Some(String::new()));
    let started = start();
    let why = PROBING.with(|p| p.borrow_mut().take()).unwrap_or_default();
    match started {
        Some(peer) => {
            drop(peer);
            Ok(())
        }
        None => Err(why),
    }
}

/// Installs the npm peer in `peers/<folder>` (pinned by its lock file), or why it could not.
pub(crate) fn install_npm_peer(folder: &str) -> Result<(), String> {
    npm_install(&repository_root().join("peers").join(folder))
}

/// Installs the Python peer in `peers/<folder>` (its pinned virtualenv), or why it could not.
pub(crate) fn install_python_peer(folder: &str) -> Result<(), String> {
    python_install(&repository_root().join("peers").join(folder)).map(|_| ())
}
