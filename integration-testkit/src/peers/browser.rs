//! A real browser for the admin console's test: Debian's Chromium (installed with apt on first
//! use, under a lock) driven by npm `playwright-core` (pinned by `peers/browser/package-lock.json`)
//! through `peers/browser/console.mjs`.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde_json::Value;

/// Where Debian installs Chromium.
const CHROMIUM: &str = "/usr/bin/chromium";

/// Chromium and the script driving it.
#[derive(Debug, Clone)]
pub struct Browser {
    dir: PathBuf,
    chromium: PathBuf,
}

impl Browser {
    /// Installs what is missing — Chromium with apt (root, or passwordless sudo), playwright-core
    /// with npm — and answers the browser; `None` (with the reason printed) when it cannot on a
    /// developer's machine — under `CI=true` that fails the test instead.
    pub fn install() -> Option<Self> {
        let dir = super::repository_root().join("peers/browser");
        if let Err(why) = install_chromium(&dir) {
            match super::unavailable("Chromium", &why)? {}
        }
        if let Err(why) = super::npm_install(&dir) {
            match super::unavailable("playwright-core", &why)? {}
        }
        Some(Self { dir, chromium: PathBuf::from(CHROMIUM) })
    }

    /// Whether the browser can be installed here.
    ///
    /// # Errors
    /// Why it cannot.
    pub fn probe() -> Result<(), String> {
        super::probe(Self::install)
    }

    /// Runs one phase of `console.mjs` with `env`; its JSON report, or the reason it failed
    /// (its report's error, or what it printed).
    ///
    /// # Errors
    /// The phase's failure, as the script reported it.
    pub fn run(&self, phase: &str, env: &[(&str, String)]) -> Result<Value, String> {
        let output = Command::new("node")
            .arg("console.mjs")
            .arg(phase)
            .current_dir(&self.dir)
            .env("CHROMIUM", &self.chromium)
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("node could not start: {e}"))?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let report = stdout.lines().rev().find_map(|l| serde_json::from_str::<Value>(l).ok());
        match report {
            Some(report) if report["ok"] == true && output.status.success() => Ok(report),
            Some(report) => Err(report["error"].as_str().unwrap_or("the phase failed").to_owned()),
            None => Err(format!(
                "console.mjs {phase} reported nothing ({}): {}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            )),
        }
    }
}

/// Installs Debian's `chromium` unless it is there, under `dir/.chromium.lock`.
fn install_chromium(dir: &std::path::Path) -> Result<(), String> {
    if std::path::Path::new(CHROMIUM).exists() {
        return Ok(());
    }
    let lock = std::fs::File::create(dir.join(".chromium.lock")).map_err(|e| format!("cannot create the lock: {e}"))?;
    lock.lock().map_err(|e| format!("cannot take the lock: {e}"))?;
    if std::path::Path::new(CHROMIUM).exists() {
        return Ok(());
    }
    let root = Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let apt = |args: &[&str]| {
        let mut command = if root {
            Command::new("apt-get")
        } else {
            let mut sudo = Command::new("sudo");
            sudo.args(["-n", "apt-get"]);
            sudo
        };
        command
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .status()
            .map_err(|e| format!("apt-get could not start: {e}"))
    };
    eprintln!("installing Debian's chromium with apt-get (the admin console's browser test)");
    let install = ["install", "-y", "-qq", "--no-install-recommends", "chromium"];
    if apt(&install)?.success() {
        return Ok(());
    }
    // The package lists may be missing or stale.
    apt(&["update", "-qq"])?;
    let status = apt(&install)?;
    if status.success() { Ok(()) } else { Err(format!("apt-get install chromium failed ({status})")) }
}
