//! moto (PyPI `moto[server]`, pinned by `peers/moto/requirements.txt`), an S3-compatible server
//! written by others, run by `peers/moto/server.py` on 127.0.0.1 and a free port, its state in
//! memory. Use path-style URLs (`{url}/bucket/key`) in region `us-east-1`, and always send a
//! real `Content-Type` on `PUT` (moto stores `application/x-www-form-urlencoded` bodies empty).
//!
//! By default any signature is accepted. [`Moto::start_checking_signatures`] starts it with
//! moto's `INITIAL_NO_AUTH_ACTION_COUNT` (PEERS.md calls it `MOTO_AUTH_AFTER`; moto 5.2.5 reads this name): the first requests are free (to create an IAM user and its access
//! key through moto's IAM API), every later one must carry a valid AWS Signature Version 4 (an
//! unsigned one gets a bare `500`, an unknown key `403 InvalidAccessKeyId`) — and presigned URLs
//! then fail with `500`, so test those with signatures unchecked.

use super::PythonPeer;

/// A running moto; stopped when dropped.
#[derive(Debug)]
pub struct Moto {
    peer: PythonPeer,
}

impl Moto {
    /// Starts moto accepting any signature, installing its pinned virtualenv first if needed;
    /// `None` (with the reason printed) when Python cannot install or run it on a developer's
    /// machine — under `CI=true` that fails the test instead. Blocks until it listens.
    pub fn start() -> Option<Self> {
        PythonPeer::start("moto", "moto", "server.py", &[]).map(|peer| Self { peer })
    }

    /// Starts moto checking AWS Signature Version 4 on every request after the first `free`
    /// ones. Otherwise as [`start`](Self::start).
    pub fn start_checking_signatures(free: u32) -> Option<Self> {
        let free = free.to_string();
        PythonPeer::start_with_env("moto", "moto", "server.py", &[], &[("INITIAL_NO_AUTH_ACTION_COUNT", free.as_str())])
            .map(|peer| Self { peer })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> &str {
        &self.peer.url
    }

    /// Forgets every bucket and object (`POST /moto-api/reset`).
    pub async fn reset(&self) {
        let response =
            reqwest::Client::new().post(format!("{}/moto-api/reset", self.url())).send().await.expect("moto answers");
        assert!(response.status().is_success(), "the reset was refused: {}", response.status());
    }
}
