//! OpenSSH's `sshd` (Debian `openssh-server`, installed by apt on first use) as a private SFTP
//! server: the stand-in for an insurance or pension carrier's drop box. Run by
//! `peers/openssh/server.py` (plain Python, as root) on 127.0.0.1 and a free port, SFTP only,
//! chrooted, for one user with a password and two authorized keys (Ed25519 and RSA). Files
//! uploaded land in [`upload_dir`](OpenSsh::upload_dir); the carrier's answers are played by
//! writing into [`outbound_dir`](OpenSsh::outbound_dir).

/// A running sshd; stopped (with its sessions, and its folder removed) when dropped.
#[derive(Debug)]
pub struct OpenSsh {
    child: std::process::Child,
    stdin: Option<std::process::ChildStdin>,
    /// `127.0.0.1`.
    pub host: String,
    /// Its port.
    pub port: u16,
    /// The SFTP user.
    pub user: String,
    /// The user's password.
    pub password: String,
    /// An Ed25519 private key (OpenSSH format, no passphrase) it accepts.
    pub private_key: std::path::PathBuf,
    /// An RSA private key it accepts (signatures with SHA-2).
    pub private_key_rsa: std::path::PathBuf,
    /// Its host key (`ssh-ed25519 AAAA…`), to pin.
    pub host_key: String,
    root: std::path::PathBuf,
}

impl OpenSsh {
    /// Starts a private sshd, installing `openssh-server` first if needed (root and apt
    /// required); `None` (with the reason printed) when it cannot on a developer's machine —
    /// under `CI=true` that fails the test instead.
    ///
    /// # Panics
    /// When it starts but announces nothing usable.
    pub fn start() -> Option<Self> {
        Self::start_peer()
    }

    /// Whether sshd can be installed and started here (it is started, then stopped).
    ///
    /// # Errors
    /// Why it cannot.
    pub fn probe() -> Result<(), String> {
        super::probe(Self::start_peer)
    }

    fn start_peer() -> Option<Self> {
        let script = super::repository_root().join("peers/openssh/server.py");
        let mut command = std::process::Command::new("python3");
        command.arg(script);
        // The first start may install openssh-server with apt.
        let (mut child, stdin, announced) =
            super::spawn_announcing("OpenSSH", command, std::time::Duration::from_secs(300))?;
        if let Some(error) = announced["error"].as_str() {
            let _ = child.kill();
            let _ = child.wait();
            match super::unavailable("OpenSSH", error)? {}
        }
        let text = |key: &str| announced[key].as_str().map(str::to_owned).unwrap_or_default();
        Some(Self {
            host: text("host"),
            port: announced["port"].as_u64().and_then(|p| u16::try_from(p).ok()).expect("sshd announced its port"),
            user: text("user"),
            password: text("password"),
            private_key: text("private_key").into(),
            private_key_rsa: text("private_key_rsa").into(),
            host_key: text("host_key_public"),
            root: text("root").into(),
            child,
            stdin,
        })
    }

    /// Where uploaded files land, on this machine (`upload` over SFTP).
    pub fn upload_dir(&self) -> std::path::PathBuf {
        self.root.join("upload")
    }

    /// Where the carrier's answers are put, on this machine (`outbound` over SFTP).
    pub fn outbound_dir(&self) -> std::path::PathBuf {
        self.root.join("outbound")
    }

    /// Puts a file where the client reads the carrier's answers, as the carrier would: written
    /// under a temporary name, then renamed, readable by the SFTP user.
    ///
    /// # Panics
    /// When the file cannot be written.
    pub fn put_outbound(&self, name: &str, contents: &[u8]) {
        let temporary = self.outbound_dir().join(format!(".{name}.tmp"));
        std::fs::write(&temporary, contents).expect("the answer is written");
        std::fs::rename(&temporary, self.outbound_dir().join(name)).expect("the answer is put in place");
    }

    /// The names of the files in the drop box, sorted.
    pub fn uploaded(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.upload_dir())
            .map(|dir| dir.filter_map(|e| e.ok()?.file_name().into_string().ok()).collect())
            .unwrap_or_default();
        names.sort();
        names
    }
}

impl Drop for OpenSsh {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
