//! pyx12 (PyPI `pyx12` 4.0.0, pinned by `peers/pyx12/requirements.txt`), an X12 validator
//! written by others, holding the 005010X220A1 map of the 834: its `x12valid` command checks a
//! file and writes the 999 acknowledgement a receiver would send.
//!
//! What counts (PEERS.md): `x12valid` exits 1 whether the file passes or fails; a file is
//! accepted when it prints `OK` **and** its 999 says `IK5*A` — envelope errors print `Failure`
//! while the 999 may still say `IK5*A`. Non-ASCII input makes it crash (no verdict, no 999).
//! Its list of provinces is the old one (`PQ` for Quebec, `NF` for Newfoundland): `QC`, `NL`
//! and `NU` fail there although X12's current list has them.

use std::path::PathBuf;

/// The pinned validator, installed on first use.
#[derive(Debug)]
pub struct Pyx12 {
    command: PathBuf,
}

/// What pyx12 made of one file.
#[derive(Debug, Clone)]
pub struct Pyx12Verdict {
    /// Whether it printed `OK` (not `Failure`, not a crash).
    pub ok: bool,
    /// Everything it printed (its error lines name the segment by its position in the file).
    pub log: String,
    /// The 999 it wrote, when it wrote one.
    pub ack: Option<String>,
}

impl Pyx12Verdict {
    /// Accepted: `OK`, and a 999 whose every transaction set says `IK5*A` and whose group says
    /// `AK9*A`.
    pub fn accepted(&self) -> bool {
        let Some(ack) = &self.ack else { return false };
        let ik5: Vec<&str> = ack.lines().filter(|l| l.starts_with("IK5")).collect();
        self.ok
            && !ik5.is_empty()
            && ik5.iter().all(|l| l.starts_with("IK5*A"))
            && ack.lines().any(|l| l.starts_with("AK9*A"))
    }
}

impl Pyx12 {
    /// The validator, installing its pinned virtualenv first if needed; `None` (with the reason
    /// printed) when Python cannot install it on a developer's machine — under `CI=true` that
    /// fails the test instead.
    pub fn install() -> Option<Self> {
        let dir = super::repository_root().join("peers/pyx12");
        match super::python_install(&dir) {
            Ok(python) => Some(Self { command: python.with_file_name("x12valid") }),
            Err(why) => match super::unavailable("pyx12", &why)? {},
        }
    }

    /// Validates `text` (a copy in a folder of its own, since `x12valid` writes beside it).
    ///
    /// # Panics
    /// When the temporary folder cannot be written or `x12valid` cannot be run once installed.
    pub fn validate(&self, text: &str) -> Pyx12Verdict {
        let dir = std::env::temp_dir().join(format!("pyx12-{}-{}", std::process::id(), fastrand::u64(..)));
        std::fs::create_dir_all(&dir).expect("a temporary folder");
        let file = dir.join("in.x12");
        std::fs::write(&file, text).expect("the file is written");
        let output = std::process::Command::new(&self.command).arg(&file).output().expect("x12valid runs");
        let log = String::from_utf8_lossy(&output.stderr).into_owned() + &String::from_utf8_lossy(&output.stdout);
        let ok = log.lines().any(|l| l.ends_with(": OK"));
        let ack = std::fs::read_to_string(dir.join("in.x12.997")).ok();
        let _ = std::fs::remove_dir_all(&dir);
        Pyx12Verdict { ok, log, ack }
    }
}
