//! A drop box on an SFTP server (russh, pure Rust): password or key authentication, the
//! server's host key pinned, files written under a temporary name and renamed into place.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use integration_core::residency::Placement;
use integration_core::{Error, ErrorKind, IntegrationConfig, Result};
use russh::client;
use russh::keys::ssh_key::PublicKey;
use russh::keys::{PrivateKeyWithHashAlg, PublicKeyOrCertificate};
use russh_sftp::client::SftpSession;
use russh_sftp::protocol::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Mutex;

use super::{DropBox, check_answer_name, check_name};

/// How to sign in.
#[derive(Clone)]
pub enum SftpAuth {
    /// A password.
    Password(SecretString),
    /// A private key in OpenSSH format (Ed25519, ECDSA or RSA), with its passphrase if it has one.
    Key {
        /// The key's text (`-----BEGIN OPENSSH PRIVATE KEY-----…`).
        private_key: SecretString,
        /// Its passphrase.
        passphrase: Option<SecretString>,
    },
}

impl std::fmt::Debug for SftpAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Password(_) => "Password(..)",
            Self::Key { .. } => "Key(..)",
        })
    }
}

/// Where the drop box is, and how to reach it.
#[derive(Debug, Clone)]
pub struct SftpConfig {
    /// The server's host name or address.
    pub host: String,
    /// Its port (22).
    pub port: u16,
    /// The user.
    pub user: String,
    /// How to sign in.
    pub auth: SftpAuth,
    /// The server's host key (`ssh-ed25519 AAAA…`, as in `known_hosts`): any other is refused.
    pub host_key: String,
    /// The folder files are put in (`upload`).
    pub upload_dir: String,
    /// The folder answers appear in (`outbound`).
    pub answers_dir: String,
    /// Where the drop box keeps files (checked against connections' regions).
    pub placement: Placement,
    /// The largest answer read, in bytes (16 MiB by default).
    pub max_answer_bytes: u64,
    /// How long connecting, signing in and each operation may take (30 s by default).
    pub timeout: Duration,
}

impl SftpConfig {
    /// The drop box a connection's configuration describes: settings `host`, `port` (22),
    /// `user`, `host_key`, `upload_dir` (`upload`), `answers_dir` (`outbound`); secret
    /// `password`, or `private_key` (with `passphrase` if it has one). The placement is the
    /// host's to give.
    ///
    /// # Errors
    /// A [`Config`](ErrorKind::Config) error naming the missing or bad setting.
    pub fn from_config(config: &IntegrationConfig, placement: Placement) -> Result<Self> {
        let port = match config.settings.get("port") {
            None => 22,
            Some(v) => v
                .as_u64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                .and_then(|p| u16::try_from(p).ok())
                .ok_or_else(|| {
                    Error::config(format!("settings.port: {v} is not a port")).with_field("settings.port")
                })?,
        };
        let auth = match (config.secrets.get("private_key"), config.secrets.get("password")) {
            (Some(key), _) => {
                SftpAuth::Key { private_key: key.clone(), passphrase: config.secrets.get("passphrase").cloned() }
            }
            (None, Some(password)) => SftpAuth::Password(password.clone()),
            (None, None) => {
                return Err(Error::config("an SFTP drop box needs the secret `password` or `private_key`")
                    .with_field("secrets.password"));
            }
        };
        let host_key = config.setting_str("host_key")?.to_owned();
        PublicKey::from_openssh(&host_key).map_err(|e| {
            Error::config(format!("settings.host_key is not an OpenSSH public key (`ssh-ed25519 AAAA…`): {e}"))
                .with_field("settings.host_key")
        })?;
        Ok(Self {
            host: config.setting_str("host")?.to_owned(),
            port,
            user: config.setting_str("user")?.to_owned(),
            auth,
            host_key,
            upload_dir: config.setting_or("upload_dir", "upload").to_owned(),
            answers_dir: config.setting_or("answers_dir", "outbound").to_owned(),
            placement,
            max_answer_bytes: 16 << 20,
            timeout: Duration::from_secs(30),
        })
    }
}

/// A [`DropBox`] on an SFTP server. One connection is kept and reused; it is opened again
/// after a failure.
#[derive(Debug)]
pub struct SftpDropBox {
    config: SftpConfig,
    pinned: PublicKey,
    session: Mutex<Option<Session>>,
}

struct Session {
    sftp: SftpSession,
    _handle: client::Handle<PinnedHost>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Session(..)")
    }
}

/// Accepts exactly the pinned host key.
struct PinnedHost {
    pinned: PublicKey,
    mismatch: Arc<std::sync::atomic::AtomicBool>,
}

impl client::Handler for PinnedHost {
    type Error = russh::Error;

    async fn check_server_key(&mut self, server: &PublicKeyOrCertificate) -> std::result::Result<bool, Self::Error> {
        let matches = match server {
            PublicKeyOrCertificate::PublicKey { key, .. } => key.key_data() == self.pinned.key_data(),
            PublicKeyOrCertificate::Certificate(_) => false,
        };
        if !matches {
            self.mismatch.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        Ok(matches)
    }
}

impl SftpDropBox {
    /// A drop box as `config` says (nothing is opened until first used).
    ///
    /// # Errors
    /// A [`Config`](ErrorKind::Config) error when the host key cannot be read.
    pub fn new(config: SftpConfig) -> Result<Self> {
        let pinned = PublicKey::from_openssh(&config.host_key).map_err(|e| {
            Error::config(format!("the host key is not an OpenSSH public key: {e}")).with_field("settings.host_key")
        })?;
        Ok(Self { config, pinned, session: Mutex::new(None) })
    }

    fn path(dir: &str, name: &str) -> String {
        if dir.is_empty() { name.to_owned() } else { format!("{}/{name}", dir.trim_end_matches('/')) }
    }

    async fn open(&self) -> Result<Session> {
        let c = &self.config;
        let mismatch = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let handler = PinnedHost { pinned: self.pinned.clone(), mismatch: mismatch.clone() };
        let settings =
            Arc::new(client::Config { inactivity_timeout: Some(c.timeout * 4), ..client::Config::default() });
        let connect = client::connect(settings, (c.host.as_str(), c.port), handler);
        let mut handle = match tokio::time::timeout(c.timeout, connect).await {
            Err(_) => return Err(transient(format!("connecting to {}:{} timed out", c.host, c.port))),
            Ok(Err(_)) if mismatch.load(std::sync::atomic::Ordering::SeqCst) => {
                return Err(Error::new(
                    ErrorKind::AuthInvalid,
                    format!(
                        "{}:{} presented a host key other than the pinned one: refused (if the carrier changed its key, update settings.host_key)",
                        c.host, c.port
                    ),
                ));
            }
            Ok(Err(e)) => return Err(transient(format!("cannot connect to {}:{}: {e}", c.host, c.port))),
            Ok(Ok(handle)) => handle,
        };
        let signed_in = match &c.auth {
            SftpAuth::Password(password) => handle.authenticate_password(&c.user, password.expose_secret()).await,
            SftpAuth::Key { private_key, passphrase } => {
                let key = russh::keys::decode_secret_key(
                    private_key.expose_secret(),
                    passphrase.as_ref().map(|p| p.expose_secret()),
                )
                .map_err(|e| {
                    Error::config(format!("secrets.private_key cannot be read: {}", key_error(&e)))
                        .with_field("secrets.private_key")
                })?;
                let hash = handle.best_supported_rsa_hash().await.map_err(|e| transient(format!("{e}")))?.flatten();
                handle.authenticate_publickey(&c.user, PrivateKeyWithHashAlg::new(Arc::new(key), hash)).await
            }
        }
        .map_err(|e| transient(format!("signing in to {}:{} failed: {e}", c.host, c.port)))?;
        if !signed_in.success() {
            return Err(Error::new(
                ErrorKind::AuthInvalid,
                format!("{}:{} refused the credentials of user {:?}", c.host, c.port, c.user),
            ));
        }
        let channel = handle.channel_open_session().await.map_err(|e| transient(format!("{e}")))?;
        channel.request_subsystem(true, "sftp").await.map_err(|e| transient(format!("{e}")))?;
        let sftp =
            SftpSession::new(channel.into_stream()).await.map_err(|e| transient(format!("the SFTP subsystem: {e}")))?;
        Ok(Session { sftp, _handle: handle })
    }

    /// Runs `op` on the open session (opening it first), dropping the session after a failure
    /// so that the next call opens a new one.
    async fn with_session<T>(
        &self,
        what: &str,
        op: impl AsyncFnOnce(&SftpSession) -> std::result::Result<T, russh_sftp::client::error::Error>,
    ) -> Result<T> {
        let mut guard = self.session.lock().await;
        if guard.is_none() {
            *guard = Some(self.open().await?);
        }
        let Some(session) = guard.as_ref() else { return Err(transient("no SFTP session".to_owned())) };
        match tokio::time::timeout(self.config.timeout, op(&session.sftp)).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => {
                let error = sftp_error(what, &e);
                if error.kind() == ErrorKind::Transient {
                    *guard = None;
                }
                Err(error)
            }
            Err(_) => {
                *guard = None;
                Err(transient(format!("{what} timed out")))
            }
        }
    }
}

#[async_trait]
impl DropBox for SftpDropBox {
    async fn put(&self, name: &str, contents: &[u8]) -> Result<()> {
        check_name(name)?;
        let temporary = Self::path(&self.config.upload_dir, &format!(".{name}.part"));
        let target = Self::path(&self.config.upload_dir, name);
        let what = format!("putting {target}");
        self.with_session(&what, async |sftp| {
            let mut file = sftp.create(temporary.clone()).await?;
            file.write_all(contents).await?;
            file.flush().await?;
            file.shutdown().await?;
            sftp.rename(temporary.clone(), target.clone()).await
        })
        .await
        .map_err(|e| {
            if e.kind() == ErrorKind::Provider && e.code() == Some("failure") {
                // OpenSSH's rename refuses to replace: the file is there already.
                Error::conflict(format!("{target} is already in the drop box"))
            } else {
                e
            }
        })
    }

    async fn exists(&self, name: &str) -> Result<bool> {
        check_name(name)?;
        let path = Self::path(&self.config.upload_dir, name);
        self.with_session(&format!("looking for {path}"), async |sftp| sftp.try_exists(path.clone()).await).await
    }

    async fn answers(&self) -> Result<Vec<String>> {
        let dir = self.config.answers_dir.clone();
        let entries =
            self.with_session(&format!("listing {dir}"), async |sftp| sftp.read_dir(dir.clone()).await).await?;
        let mut names: Vec<String> = entries
            .filter(|e| e.metadata().is_regular() && check_answer_name(&e.file_name()).is_ok())
            .map(|e| e.file_name())
            .collect();
        names.sort();
        Ok(names)
    }

    async fn answer(&self, name: &str) -> Result<Vec<u8>> {
        check_answer_name(name)?;
        let path = Self::path(&self.config.answers_dir, name);
        let max = self.config.max_answer_bytes;
        let contents = self
            .with_session(&format!("reading {path}"), async |sftp| {
                let file = sftp.open(path.clone()).await?;
                let mut contents = Vec::new();
                file.take(max + 1).read_to_end(&mut contents).await?;
                Ok(contents)
            })
            .await?;
        if contents.len() as u64 > max {
            return Err(Error::validation("answer", format!("{path} is larger than {max} bytes: not read")));
        }
        Ok(contents)
    }

    fn placement(&self) -> &Placement {
        &self.config.placement
    }
}

fn transient(message: String) -> Error {
    Error::new(ErrorKind::Transient, message).with_provider("sftp")
}

fn sftp_error(what: &str, e: &russh_sftp::client::error::Error) -> Error {
    use russh_sftp::client::error::Error as E;
    match e {
        E::Status(status) => {
            let (kind, code) = match status.status_code {
                StatusCode::NoSuchFile => (ErrorKind::NotFound, "no_such_file"),
                StatusCode::PermissionDenied => (ErrorKind::Forbidden, "permission_denied"),
                StatusCode::Failure => (ErrorKind::Provider, "failure"),
                StatusCode::OpUnsupported => (ErrorKind::Unsupported, "unsupported"),
                StatusCode::ConnectionLost | StatusCode::NoConnection => (ErrorKind::Transient, "connection_lost"),
                _ => (ErrorKind::Provider, "status"),
            };
            Error::new(kind, format!("{what}: the server answered {:?}: {}", status.status_code, status.error_message))
                .with_provider("sftp")
                .with_code(code)
        }
        other => transient(format!("{what}: {other}")),
    }
}

/// A key error's text, never the key.
fn key_error(e: &russh::keys::Error) -> String {
    match e {
        russh::keys::Error::KeyIsEncrypted => "it is encrypted: give its passphrase as secrets.passphrase".to_owned(),
        _ => "not an OpenSSH, PKCS#8 or PEM private key, or the passphrase is wrong".to_owned(),
    }
}
