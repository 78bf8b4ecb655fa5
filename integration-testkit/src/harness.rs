//! Test binaries whose tests need a peer: what cannot run here is reported **ignored**, with the
//! reason, never passed.
//!
//! libtest cannot skip a test once it runs, so a test file that needs a peer uses this harness
//! instead (`harness = false` in its `[[test]]` section): its `main` names what the tests need,
//! each need is installed (pinned, under a lock) before any test starts, and
//!
//! - when every need is there, the tests run as usual;
//! - when one cannot be installed, every test is listed as `ignored` in the summary and the
//!   reason is printed — except under `CI=true`, where each fails with the reason: CI never
//!   skips.
//!
//! A peer that was installed but fails inside a test fails that test.
//!
//! ```no_run
//! use integration_testkit::harness::{self, Need};
//!
//! async fn discovery_works() { /* ... */ }
//! fn a_plain_test() { /* ... */ }
//!
//! fn main() -> std::process::ExitCode {
//!     harness::run(
//!         &[Need::npm("oidc-provider")],
//!         integration_testkit::trials![async discovery_works, sync a_plain_test],
//!     )
//! }
//! ```

use std::process::ExitCode;

pub use libtest_mimic::{Failed, Trial};

/// Something a test binary's tests need, and how to get it.
#[derive(Debug, Clone)]
pub struct Need {
    name: String,
    get: fn(&str) -> Result<(), String>,
}

impl Need {
    /// The npm peer in `peers/<folder>`, installed by `npm ci` from its lock file.
    pub fn npm(folder: &str) -> Self {
        Self { name: folder.to_owned(), get: |folder| crate::peers::install_npm_peer(folder) }
    }

    /// The Python peer in `peers/<folder>`, installed into its pinned virtualenv.
    pub fn python(folder: &str) -> Self {
        Self { name: folder.to_owned(), get: |folder| crate::peers::install_python_peer(folder) }
    }

    /// Debian's OpenSSH server (installed with apt).
    pub fn openssh() -> Self {
        Self { name: "OpenSSH".to_owned(), get: |_| crate::peers::OpenSsh::probe() }
    }

    /// Debian's Chromium (installed with apt) and npm playwright-core.
    pub fn browser() -> Self {
        Self { name: "Chromium".to_owned(), get: |_| crate::peers::Browser::probe() }
    }

    /// Something else, got by `get` (its argument is `name`).
    pub fn custom(name: &str, get: fn(&str) -> Result<(), String>) -> Self {
        Self { name: name.to_owned(), get }
    }
}

/// Whether this run is CI's (`CI=true`), where nothing may be skipped.
pub fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Runs `trials` (see [`trials!`](crate::trials)) once `needs` are installed, or lists them
/// ignored with the reason (failed under CI); the process's exit code.
pub fn run(needs: &[Need], trials: Vec<Trial>) -> ExitCode {
    run_groups(vec![(needs.to_vec(), trials)])
}

/// [`run`] for a file whose tests need different things (a contract suite run against a peer
/// and against a fake): each group's trials run, or are ignored, by their own needs.
pub fn run_groups(groups: Vec<(Vec<Need>, Vec<Trial>)>) -> ExitCode {
    let args = libtest_mimic::Arguments::from_args();
    // Listing tests installs nothing.
    let trials = arrange(groups, !args.list, under_ci());
    libtest_mimic::run(&args, trials).exit_code()
}

/// Every group's trials as they will run: as given when their needs are there (or not
/// `install`ed, when only listing), else failing with the reason under CI, else ignored.
fn arrange(groups: Vec<(Vec<Need>, Vec<Trial>)>, install: bool, ci: bool) -> Vec<Trial> {
    let mut all = Vec::new();
    for (needs, trials) in groups {
        let missing =
            if install { needs.iter().find_map(|n| (n.get)(&n.name).err().map(|why| (n, why))) } else { None };
        match missing {
            None => all.extend(trials),
            Some((need, why)) => {
                let reason = format!("{} is unavailable: {why}", need.name);
                let names: Vec<String> = trials.iter().map(|t| t.name().to_owned()).collect();
                if ci {
                    eprintln!("CI=true and {reason}: {} fail", names.join(", "));
                    all.extend(names.into_iter().map(|name| failing(name, reason.clone())));
                } else {
                    eprintln!("ignored, because {reason}: {}", names.join(", "));
                    all.extend(trials.into_iter().map(|t| t.with_ignored_flag(true)));
                }
            }
        }
    }
    all
}

fn failing(name: String, reason: String) -> Trial {
    Trial::test(name, move || Err(Failed::from(reason)))
}

/// Runs `test` on a fresh two-worker tokio runtime; a panic is the test's failure.
pub fn block_on<F: std::future::Future<Output = ()>>(test: impl FnOnce() -> F) -> Result<(), Failed> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Failed::from(format!("no tokio runtime: {e}")))?;
    runtime.block_on(test());
    Ok(())
}

/// The trials of a test file's functions: `async name` for an `async fn name()`, `sync name`
/// for an `fn name()`.
#[macro_export]
macro_rules! trials {
    ($($kind:ident $name:ident),* $(,)?) => {
        vec![$($crate::trials!(@one $kind $name)),*]
    };
    (@one async $name:ident) => {
        $crate::harness::Trial::test(stringify!($name), || $crate::harness::block_on($name))
    };
    (@one sync $name:ident) => {
        $crate::harness::Trial::test(stringify!($name), || {
            $name();
            Ok(())
        })
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trial(name: &str) -> Trial {
        Trial::test(name, || Ok(()))
    }

    fn groups() -> Vec<(Vec<Need>, Vec<Trial>)> {
        let missing = Need::custom("a peer", |_| Err("it cannot be installed here".into()));
        vec![(vec![missing], vec![trial("needs_peer")]), (vec![], vec![trial("needs_nothing")])]
    }

    /// Runs `trials`, writing their report to a file of its own (not this test's output, where
    /// a "test result: FAILED" line would read as this binary's).
    fn outcome(trials: Vec<Trial>) -> libtest_mimic::Conclusion {
        let log = std::env::temp_dir().join(format!("harness-{}-{:x}.log", std::process::id(), fastrand::u64(..)));
        let args = libtest_mimic::Arguments {
            test_threads: Some(1),
            quiet: true,
            logfile: Some(log.display().to_string()),
            ..Default::default()
        };
        let done = libtest_mimic::run(&args, trials);
        let _ = std::fs::remove_file(&log);
        done
    }

    #[test]
    fn what_cannot_run_is_ignored_never_passed() {
        let arranged = arrange(groups(), true, false);
        let ignored: Vec<(&str, bool)> = arranged.iter().map(|t| (t.name(), t.has_ignored_flag())).collect();
        assert_eq!(ignored, [("needs_peer", true), ("needs_nothing", false)]);
        let done = outcome(arranged);
        assert_eq!((done.num_passed, done.num_ignored, done.num_failed), (1, 1, 0));
    }

    #[test]
    fn under_ci_what_cannot_run_fails() {
        let done = outcome(arrange(groups(), true, true));
        assert_eq!((done.num_passed, done.num_ignored, done.num_failed), (1, 0, 1));
    }

    #[test]
    fn listing_installs_nothing() {
        let arranged = arrange(groups(), false, true);
        assert!(arranged.iter().all(|t| !t.has_ignored_flag()));
    }
}
