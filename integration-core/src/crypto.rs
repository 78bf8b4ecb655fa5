//! Credentials sealed at rest with XChaCha20-Poly1305 under a host-supplied key.
//!
//! - The host supplies keys through a [`KeyProvider`] (a KMS, a vault, or a [`KeyRing`] read
//!   from the environment). Each key has a [`KeyId`]; the current key seals, any known key opens.
//! - A [`SealedBox`] is text, `v1.<key id>.<base64url(nonce ‖ ciphertext ‖ tag)>`, so it fits a
//!   text column and says which key opens it.
//! - The associated data binds a [`Binding`]: the purpose (config secrets, OAuth token), the
//!   tenant and the connection. A ciphertext copied to another tenant's or connection's row does
//!   not open.
//! - Rotation: add the new key as current and keep the old one; old boxes keep opening, and
//!   [`Sealer::reseal`] (or [`Connections::reseal_all`](crate::Connections::reseal_all)) moves
//!   them to the new key.
//!
//! ```
//! # tokio_test_block(async {
//! use integration_core::crypto::{Binding, KeyRing, Purpose, Sealer, SealingKey};
//! use integration_core::{ConnectionId, ErrorKind, TenantId};
//!
//! let old = KeyRing::new("2025-01", SealingKey::from_bytes([7; 32]));
//! let sealer = Sealer::new(old);
//! let acme = TenantId::new("acme").unwrap();
//! let conn = ConnectionId::new("hr").unwrap();
//! let binding = Binding::new(Purpose::ConfigSecrets, &acme, &conn);
//! let sealed = sealer.seal(b"api-key-123", &binding).await.unwrap();
//!
//! // Another tenant cannot open it.
//! let other = TenantId::new("globex").unwrap();
//! let err = sealer.open(&sealed, &Binding::new(Purpose::ConfigSecrets, &other, &conn)).await.unwrap_err();
//! assert_eq!(err.kind(), ErrorKind::Crypto);
//!
//! // Rotate: the new key seals, the old one still opens until everything is re-sealed.
//! let rotated = Sealer::new(
//!     KeyRing::new("2026-01", SealingKey::from_bytes([9; 32])).with_retired("2025-01", SealingKey::from_bytes([7; 32])),
//! );
//! assert!(rotated.needs_reseal(&sealed).await.unwrap());
//! let resealed = rotated.reseal(&sealed, &binding).await.unwrap();
//! assert_eq!(resealed.key_id().unwrap().as_str(), "2026-01");
//! assert_eq!(&*rotated.open(&resealed, &binding).await.unwrap(), b"api-key-123");
//! # });
//! # fn tokio_test_block<F: std::future::Future>(f: F) -> F::Output {
//! #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
//! # }
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use secrecy::{ExposeSecret, SecretBox};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::{Error, ErrorKind, Result};
use crate::ids::{ConnectionId, TenantId};

const VERSION: &str = "v1";
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;

/// The id of a sealing key: 1 to 64 of `A-Z a-z 0-9 _ -`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct KeyId(String);

impl KeyId {
    /// A key id, validated.
    pub fn new(id: impl Into<String>) -> Result<Self> {
        let id = id.into();
        let ok = (1..=64).contains(&id.len()) && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if ok {
            Ok(Self(id))
        } else {
            Err(Error::validation("key_id", format!("a key id is 1 to 64 of A-Z, a-z, 0-9, '_' or '-': got {id:?}")))
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for KeyId {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        Self::new(s)
    }
}

impl From<KeyId> for String {
    fn from(id: KeyId) -> String {
        id.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A 256-bit sealing key. Zeroized on drop; `Debug` shows nothing of it.
pub struct SealingKey(SecretBox<[u8; 32]>);

impl SealingKey {
    /// A key from its 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(SecretBox::new(Box::new(bytes)))
    }

    /// A key from standard base64 (with or without padding) of 32 bytes, as kept in an
    /// environment variable or a secret manager.
    pub fn from_base64(text: &str) -> Result<Self> {
        let text = text.trim().trim_end_matches('=');
        let bytes = Zeroizing::new(
            base64::engine::general_purpose::STANDARD_NO_PAD
                .decode(text)
                .map_err(|_| Error::config("a sealing key must be base64 of 32 bytes; it is not valid base64"))?,
        );
        let array: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| Error::config(format!("a sealing key must be 32 bytes; got {} bytes", bytes.len())))?;
        Ok(Self::from_bytes(array))
    }

    /// A fresh random key, for tests and for `generate-key` tooling.
    pub fn generate() -> Self {
        let key = XChaCha20Poly1305::generate_key(&mut OsRng);
        Self::from_bytes(key.into())
    }

    /// The key as standard base64, to store it in a secret manager.
    pub fn to_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(STANDARD.encode(self.0.expose_secret()))
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(self.0.expose_secret().into())
    }
}

impl fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SealingKey([REDACTED])")
    }
}

/// Supplies sealing keys: the current one (to seal) and any by id (to open).
///
/// Implement it over the host's KMS or secret manager; [`KeyRing`] is the in-process one.
#[async_trait]
pub trait KeyProvider: Send + Sync + fmt::Debug {
    /// The key new boxes are sealed with.
    async fn current(&self) -> Result<(KeyId, Arc<SealingKey>)>;

    /// The key with `id`, if this provider knows it.
    async fn key(&self, id: &KeyId) -> Result<Option<Arc<SealingKey>>>;

    /// The ids this provider knows, for error messages. Defaults to none listed.
    fn known_ids(&self) -> Vec<KeyId> {
        Vec::new()
    }
}

/// An in-process [`KeyProvider`]: one current key and any number of retired ones kept to open
/// old boxes.
#[derive(Debug, Clone)]
pub struct KeyRing {
    current: KeyId,
    keys: BTreeMap<KeyId, Arc<SealingKey>>,
}

impl KeyRing {
    /// A ring whose current key is `key` under `id`.
    ///
    /// # Panics
    ///
    /// Never for a valid id; an invalid id panics, so use [`KeyRing::try_new`] for ids read at
    /// run time.
    pub fn new(id: &str, key: SealingKey) -> Self {
        match Self::try_new(id, key) {
            Ok(ring) => ring,
            Err(e) => panic!("{e}"),
        }
    }

    /// A ring whose current key is `key` under `id`, validating the id.
    pub fn try_new(id: &str, key: SealingKey) -> Result<Self> {
        let id = KeyId::new(id)?;
        Ok(Self { keys: BTreeMap::from([(id.clone(), Arc::new(key))]), current: id })
    }

    /// Adds a retired key: it opens old boxes but seals nothing.
    ///
    /// # Panics
    ///
    /// If `id` is not a valid [`KeyId`].
    #[must_use]
    pub fn with_retired(mut self, id: &str, key: SealingKey) -> Self {
        match KeyId::new(id) {
            Ok(id) => {
                self.keys.entry(id).or_insert_with(|| Arc::new(key));
            }
            Err(e) => panic!("{e}"),
        }
        self
    }

    /// Parses `"<id>:<base64 key>,<id>:<base64 key>,..."`; the first is current, the rest retired.
    /// This is the format of an `INTEGRATIONS_SEALING_KEYS` environment variable.
    pub fn parse(spec: &str) -> Result<Self> {
        let mut ring: Option<Self> = None;
        for (i, part) in spec.split(',').map(str::trim).filter(|p| !p.is_empty()).enumerate() {
            let (id, key) = part.split_once(':').ok_or_else(|| {
                Error::config(format!("sealing key #{} must be written <id>:<base64 key>", i + 1))
                    .with_field("sealing_keys")
            })?;
            let id =
                KeyId::new(id.trim()).map_err(|e| Error::config(e.message().to_owned()).with_field("sealing_keys"))?;
            let key = SealingKey::from_base64(key)
                .map_err(|e| Error::config(format!("sealing key {id}: {}", e.message())).with_field("sealing_keys"))?;
            match &mut ring {
                None => ring = Some(Self { keys: BTreeMap::from([(id.clone(), Arc::new(key))]), current: id }),
                Some(ring) => {
                    if ring.keys.insert(id.clone(), Arc::new(key)).is_some() {
                        return Err(
                            Error::config(format!("sealing key id {id} appears twice")).with_field("sealing_keys")
                        );
                    }
                }
            }
        }
        ring.ok_or_else(|| Error::config("no sealing key given").with_field("sealing_keys"))
    }
}

#[async_trait]
impl KeyProvider for KeyRing {
    async fn current(&self) -> Result<(KeyId, Arc<SealingKey>)> {
        let key = self.keys.get(&self.current).cloned().ok_or_else(|| Error::config("the current key is missing"))?;
        Ok((self.current.clone(), key))
    }

    async fn key(&self, id: &KeyId) -> Result<Option<Arc<SealingKey>>> {
        Ok(self.keys.get(id).cloned())
    }

    fn known_ids(&self) -> Vec<KeyId> {
        self.keys.keys().cloned().collect()
    }
}

/// What a sealed box is for; part of the associated data, so a box sealed for one purpose does
/// not open as another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Purpose {
    /// A connection's configuration secrets.
    ConfigSecrets,
    /// A connection's OAuth token set.
    OAuthToken,
    /// A user's MFA (TOTP) secret.
    MfaSecret,
    /// An OAuth authorization in progress (its state and PKCE verifier, kept by the browser
    /// until the provider sends it back).
    PendingAuthorization,
}

impl Purpose {
    const fn as_str(self) -> &'static str {
        match self {
            Self::ConfigSecrets => "config-secrets",
            Self::OAuthToken => "oauth-token",
            Self::MfaSecret => "mfa-secret",
            Self::PendingAuthorization => "pending-authorization",
        }
    }
}

/// `len` bytes from the operating system's cryptographic random source: secrets, codes, keys.
///
/// ```
/// let a = integration_core::crypto::random_bytes(20)?;
/// let b = integration_core::crypto::random_bytes(20)?;
/// assert_eq!(a.len(), 20);
/// assert_ne!(*a, *b);
/// # Ok::<(), integration_core::Error>(())
/// ```
///
/// # Errors
/// A [`Crypto`](ErrorKind::Crypto) error when the system has no randomness to give.
pub fn random_bytes(len: usize) -> Result<Zeroizing<Vec<u8>>> {
    use chacha20poly1305::aead::rand_core::RngCore as _;
    let mut out = Zeroizing::new(vec![0u8; len]);
    OsRng
        .try_fill_bytes(&mut out)
        .map_err(|e| Error::new(ErrorKind::Crypto, format!("the system's random source failed: {e}")))?;
    Ok(out)
}

/// What a box is bound to: purpose, tenant and connection — or another subject of the tenant's,
/// such as a user — (the associated data).
#[derive(Debug, Clone, Copy)]
pub struct Binding<'a> {
    purpose: Purpose,
    tenant: &'a TenantId,
    connection: &'a str,
}

impl<'a> Binding<'a> {
    /// Binds to `purpose` for `tenant`'s `connection`.
    pub fn new(purpose: Purpose, tenant: &'a TenantId, connection: &'a ConnectionId) -> Self {
        Self { purpose, tenant, connection: connection.as_str() }
    }

    /// Binds to `purpose` for `subject` of `tenant` — a user's MFA secret, say. A subject and a
    /// connection never share a binding: their purposes differ.
    pub fn subject(purpose: Purpose, tenant: &'a TenantId, subject: &'a str) -> Self {
        Self { purpose, tenant, connection: subject }
    }

    /// Length-prefixed, so no two different bindings give the same bytes.
    fn associated_data(&self, key: &KeyId) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        for part in
            ["integrations/sealed/v1", self.purpose.as_str(), self.tenant.as_str(), self.connection, key.as_str()]
        {
            out.extend_from_slice(&(part.len() as u32).to_be_bytes());
            out.extend_from_slice(part.as_bytes());
        }
        out
    }
}

/// A sealed secret as text: `v1.<key id>.<base64url(nonce ‖ ciphertext ‖ tag)>`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SealedBox(String);

impl SealedBox {
    /// Parses a stored box, checking its shape (not its integrity: [`Sealer::open`] does that).
    pub fn parse(text: impl Into<String>) -> Result<Self> {
        let text = text.into();
        Self::split(&text)?;
        Ok(Self(text))
    }

    /// The id of the key that sealed this box.
    pub fn key_id(&self) -> Result<KeyId> {
        Self::split(&self.0).map(|(id, _)| id)
    }

    /// The box as stored text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn split(text: &str) -> Result<(KeyId, &str)> {
        let malformed =
            || Error::new(ErrorKind::Crypto, "a sealed box must look like v1.<key id>.<base64url>; this one does not");
        let mut parts = text.splitn(3, '.');
        let (Some(VERSION), Some(id), Some(payload)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(malformed());
        };
        let id = KeyId::new(id).map_err(|_| malformed())?;
        Ok((id, payload))
    }
}

impl TryFrom<String> for SealedBox {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        Self::parse(s)
    }
}

impl From<SealedBox> for String {
    fn from(b: SealedBox) -> String {
        b.0
    }
}

impl fmt::Debug for SealedBox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match Self::split(&self.0) {
            Ok((id, payload)) => write!(f, "SealedBox(key {id}, {} chars)", payload.len()),
            Err(_) => f.write_str("SealedBox(malformed)"),
        }
    }
}

/// Seals and opens [`SealedBox`]es with the keys of a [`KeyProvider`].
#[derive(Debug, Clone)]
pub struct Sealer {
    keys: Arc<dyn KeyProvider>,
}

impl Sealer {
    /// A sealer over `keys`.
    pub fn new(keys: impl KeyProvider + 'static) -> Self {
        Self { keys: Arc::new(keys) }
    }

    /// A sealer over shared `keys`.
    pub fn from_arc(keys: Arc<dyn KeyProvider>) -> Self {
        Self { keys }
    }

    /// Seals `plaintext` under the current key, bound to `binding`.
    pub async fn seal(&self, plaintext: &[u8], binding: &Binding<'_>) -> Result<SealedBox> {
        let (id, key) = self.keys.current().await?;
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let aad = binding.associated_data(&id);
        let ciphertext = key
            .cipher()
            .encrypt(&nonce, Payload { msg: plaintext, aad: &aad })
            .map_err(|_| Error::new(ErrorKind::Crypto, "sealing failed"))?;
        let mut payload = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        payload.extend_from_slice(&nonce);
        payload.extend_from_slice(&ciphertext);
        Ok(SealedBox(format!("{VERSION}.{id}.{}", URL_SAFE_NO_PAD.encode(payload))))
    }

    /// Opens `sealed`, which must have been sealed for the same `binding`.
    ///
    /// Fails with [`Config`](ErrorKind::Config) when the key id is unknown to the key provider
    /// and [`Crypto`](ErrorKind::Crypto) when the box is malformed, tampered with, or bound to
    /// another purpose, tenant or connection.
    pub async fn open(&self, sealed: &SealedBox, binding: &Binding<'_>) -> Result<Zeroizing<Vec<u8>>> {
        let (id, payload) = SealedBox::split(&sealed.0)?;
        let key = self.keys.key(&id).await?.ok_or_else(|| {
            let known: Vec<String> = self.keys.known_ids().into_iter().map(String::from).collect();
            let known = if known.is_empty() { String::new() } else { format!(" (it knows: {})", known.join(", ")) };
            Error::config(format!(
                "the credentials were sealed with key {id:?}, which the key provider does not know{known}; \
                 keep that key as a retired key until everything is re-sealed"
            ))
            .with_field("key_id")
        })?;
        let bytes = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| Error::new(ErrorKind::Crypto, "a sealed box's payload is not base64url"))?;
        if bytes.len() < NONCE_LEN + TAG_LEN {
            return Err(Error::new(ErrorKind::Crypto, "a sealed box is too short to be genuine"));
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let aad = binding.associated_data(&id);
        key.cipher()
            .decrypt(XNonce::from_slice(nonce), Payload { msg: ciphertext, aad: &aad })
            .map(Zeroizing::new)
            .map_err(|_| {
                Error::new(
                    ErrorKind::Crypto,
                    format!(
                        "sealed credentials for tenant {:?}, connection {:?} did not open: they were sealed for \
                         another tenant, connection or purpose, under another key with the same id, or were altered",
                        binding.tenant.as_str(),
                        binding.connection
                    ),
                )
            })
    }

    /// Whether `sealed` was sealed under a key other than the current one.
    pub async fn needs_reseal(&self, sealed: &SealedBox) -> Result<bool> {
        let (current, _) = self.keys.current().await?;
        Ok(sealed.key_id()? != current)
    }

    /// Opens `sealed` and seals it again under the current key.
    pub async fn reseal(&self, sealed: &SealedBox, binding: &Binding<'_>) -> Result<SealedBox> {
        let plaintext = self.open(sealed, binding).await?;
        self.seal(&plaintext, binding).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(t: &str, c: &str) -> (TenantId, ConnectionId) {
        (TenantId::new(t).unwrap(), ConnectionId::new(c).unwrap())
    }

    #[tokio::test]
    async fn seal_then_open_round_trips_and_nonces_differ() {
        let sealer = Sealer::new(KeyRing::new("k1", SealingKey::generate()));
        let (t, c) = ids("acme", "hr");
        let b = Binding::new(Purpose::ConfigSecrets, &t, &c);
        let one = sealer.seal(b"secret", &b).await.unwrap();
        let two = sealer.seal(b"secret", &b).await.unwrap();
        assert_ne!(one, two, "a fresh nonce every time");
        assert_eq!(&*sealer.open(&one, &b).await.unwrap(), b"secret");
        assert!(!one.as_str().contains("secret"));
    }

    #[tokio::test]
    async fn every_flipped_bit_fails() {
        let sealer = Sealer::new(KeyRing::new("k1", SealingKey::generate()));
        let (t, c) = ids("acme", "hr");
        let b = Binding::new(Purpose::ConfigSecrets, &t, &c);
        let sealed = sealer.seal(b"secret", &b).await.unwrap();
        let (_, payload) = SealedBox::split(sealed.as_str()).unwrap();
        let raw = URL_SAFE_NO_PAD.decode(payload).unwrap();
        for i in 0..raw.len() * 8 {
            let mut bad = raw.clone();
            bad[i / 8] ^= 1 << (i % 8);
            let tampered = SealedBox(format!("v1.k1.{}", URL_SAFE_NO_PAD.encode(&bad)));
            let err = sealer.open(&tampered, &b).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Crypto, "bit {i}");
        }
    }

    #[tokio::test]
    async fn bindings_are_enforced() {
        let sealer = Sealer::new(KeyRing::new("k1", SealingKey::generate()));
        let (t, c) = ids("acme", "hr");
        let (t2, c2) = ids("globex", "hr2");
        let sealed = sealer.seal(b"secret", &Binding::new(Purpose::ConfigSecrets, &t, &c)).await.unwrap();
        for wrong in [
            Binding::new(Purpose::ConfigSecrets, &t2, &c),
            Binding::new(Purpose::ConfigSecrets, &t, &c2),
            Binding::new(Purpose::OAuthToken, &t, &c),
        ] {
            assert_eq!(sealer.open(&sealed, &wrong).await.unwrap_err().kind(), ErrorKind::Crypto);
        }
    }

    #[tokio::test]
    async fn an_unknown_key_id_is_a_clear_config_error() {
        let (t, c) = ids("acme", "hr");
        let b = Binding::new(Purpose::ConfigSecrets, &t, &c);
        let sealed = Sealer::new(KeyRing::new("old", SealingKey::generate())).seal(b"x", &b).await.unwrap();
        let err = Sealer::new(KeyRing::new("new", SealingKey::generate())).open(&sealed, &b).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config);
        assert!(err.message().contains("\"old\""), "{err}");
        assert!(err.message().contains("it knows: new"), "{err}");
    }

    #[tokio::test]
    async fn malformed_boxes_are_refused() {
        for bad in ["", "v1", "v2.k1.AAAA", "v1..AAAA", "v1.k1.!!!"] {
            let parsed = SealedBox::parse(bad);
            if let Ok(b) = parsed {
                let sealer = Sealer::new(KeyRing::new("k1", SealingKey::generate()));
                let (t, c) = ids("a", "b");
                let err = sealer.open(&b, &Binding::new(Purpose::ConfigSecrets, &t, &c)).await.unwrap_err();
                assert_eq!(err.kind(), ErrorKind::Crypto, "{bad}");
            }
        }
        assert!(SealedBox::parse("v2.k1.AAAA").is_err());
    }

    #[test]
    fn key_rings_parse_from_an_environment_value() {
        let k1 = SealingKey::generate().to_base64();
        let k0 = SealingKey::generate().to_base64();
        let ring = KeyRing::parse(&format!("k1:{},k0:{}", *k1, *k0)).unwrap();
        assert_eq!(ring.current.as_str(), "k1");
        assert_eq!(ring.known_ids().len(), 2);
        let err = KeyRing::parse("k1:c2hvcnQ=").unwrap_err();
        assert!(err.message().contains("32 bytes"), "{err}");
        assert!(!err.message().contains("c2hvcnQ"));
        assert!(KeyRing::parse("").is_err());
        assert!(KeyRing::parse(&format!("k1:{},k1:{}", *k1, *k0)).is_err());
    }

    #[test]
    fn keys_never_show_in_debug() {
        let key = SealingKey::from_bytes([0xAB; 32]);
        let b64 = key.to_base64();
        let ring = KeyRing::new("k1", key);
        let shown = format!("{ring:?}");
        assert!(!shown.contains(b64.as_str()));
        assert!(!shown.to_lowercase().contains("abab"));
        assert!(!shown.contains("171"));
    }
}
