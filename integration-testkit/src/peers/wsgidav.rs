//! WsgiDAV (PyPI `wsgidav` 4.4.0 served by cheroot, pinned by `peers/wsgidav/requirements.txt`),
//! a WebDAV server written by others, run by `peers/wsgidav/server.py`: a folder of its own
//! shared at `/`, Basic authentication for one user, locks in memory, on 127.0.0.1 and a free
//! port. Its ETag is inode-mtime-size: two same-size writes within one second keep the same ETag.

use super::PythonPeer;

/// A running WsgiDAV; stopped (and its folder removed) when dropped.
#[derive(Debug)]
pub struct WsgiDav {
    peer: PythonPeer,
    root: std::path::PathBuf,
}

impl WsgiDav {
    /// The user it lets in.
    pub const USER: &'static str = "ada";
    /// That user's password.
    pub const PASSWORD: &'static str = "dav-secret-for-tests";

    /// Starts WsgiDAV sharing a new empty folder, installing its pinned virtualenv first if
    /// needed; `None` (with the reason printed) when Python cannot install or run it on a
    /// developer's machine — under `CI=true` that fails the test instead. Blocks until it listens.
    pub fn start() -> Option<Self> {
        let root = std::env::temp_dir().join(format!("wsgidav-{}-{}", std::process::id(), fastrand::u64(..)));
        let folder = root.display().to_string();
        PythonPeer::start("WsgiDAV", "wsgidav", "server.py", &[folder.as_str(), Self::USER, Self::PASSWORD])
            .map(|peer| Self { peer, root })
    }

    /// `http://127.0.0.1:<port>` (the shared folder is at `/`).
    pub fn url(&self) -> &str {
        &self.peer.url
    }

    /// The folder it shares, on this machine.
    pub fn root(&self) -> &std::path::Path {
        &self.root
    }
}

impl Drop for WsgiDav {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}
