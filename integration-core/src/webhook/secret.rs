//! [`WebhookSecret`]: a webhook signing secret (or, for Standard Webhooks `v1a`, a key).

use std::fmt;
use std::sync::OnceLock;

use base64::Engine as _;
use base64::alphabet::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use ed25519_dalek::{SigningKey, VerifyingKey};
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use super::Rejection;
use super::hmac_layout::{HmacSha256, keyed};

/// Standard base64, padding optional (Standard Webhooks secrets are written both ways).
pub(crate) const LENIENT_BASE64: GeneralPurpose = GeneralPurpose::new(
    &STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A webhook secret as the provider gives it: Stripe's `whsec_...`, GitHub's secret, Slack's
/// signing secret, Xero's webhook key, Intuit's verifier token, a Standard Webhooks `whsec_...`
/// (HMAC), `whsk_...` (Ed25519 signing key) or `whpk_...` (Ed25519 public key).
///
/// `Debug` shows nothing of it. A Standard Webhooks key is decoded once, on first use, and an
/// HMAC key is set up once (HMAC's key schedule hashes two blocks: a tenth of the work of
/// verifying a 1 KB delivery).
#[derive(Clone)]
pub struct WebhookSecret {
    text: SecretString,
    standard: OnceLock<Result<StandardKey, Rejection>>,
    raw_hmac: OnceLock<HmacSha256>,
}

impl WebhookSecret {
    /// A secret from its text.
    pub fn new(text: impl Into<String>) -> Self {
        Self::from(SecretString::from(text.into()))
    }

    /// Whether the secret is empty (or only whitespace): an HMAC keyed with nothing proves
    /// nothing.
    pub(crate) fn is_blank(&self) -> bool {
        self.text.expose_secret().trim().is_empty()
    }

    /// The secret's text, for a scheme that decodes it itself (Adyen's hex key).
    pub(crate) fn expose_text(&self) -> &str {
        self.text.expose_secret()
    }

    /// An HMAC-SHA256 keyed with the secret's bytes, as every scheme but Standard Webhooks uses
    /// it; update it with the signed content.
    pub(crate) fn raw_hmac(&self) -> HmacSha256 {
        self.raw_hmac.get_or_init(|| keyed(self.text.expose_secret().as_bytes())).clone()
    }

    /// What a Standard Webhooks secret holds, by its prefix.
    pub(crate) fn standard(&self) -> Result<&StandardKey, Rejection> {
        self.standard.get_or_init(|| self.decode_standard()).as_ref().map_err(Clone::clone)
    }

    fn decode_standard(&self) -> Result<StandardKey, Rejection> {
        let text = self.text.expose_secret().trim();
        let decode = |b64: &str, what: &str| {
            LENIENT_BASE64
                .decode(b64)
                .map(Zeroizing::new)
                .map_err(|_| Rejection::Misconfigured(format!("the {what} is not base64")))
        };
        if let Some(b64) = text.strip_prefix("whpk_") {
            let bytes = decode(b64, "whpk_ public key")?;
            let array: [u8; 32] = bytes
                .as_slice()
                .try_into()
                .map_err(|_| Rejection::Misconfigured("a whpk_ public key is 32 bytes".into()))?;
            // Decompressed once here, not for every signature checked.
            let key = VerifyingKey::from_bytes(&array)
                .map_err(|_| Rejection::Misconfigured("the whpk_ public key is not an Ed25519 point".into()))?;
            Ok(StandardKey::Public(key))
        } else if let Some(b64) = text.strip_prefix("whsk_") {
            let bytes = decode(b64, "whsk_ signing key")?;
            // A 32-byte seed, or a 64-byte seed ‖ public key.
            let seed: [u8; 32] = bytes
                .get(..32)
                .filter(|_| bytes.len() == 32 || bytes.len() == 64)
                .and_then(|s| s.try_into().ok())
                .ok_or_else(|| Rejection::Misconfigured("a whsk_ signing key is 32 or 64 bytes".into()))?;
            Ok(StandardKey::Signing(Box::new(SigningKey::from_bytes(&seed))))
        } else {
            let b64 = text.strip_prefix("whsec_").unwrap_or(text);
            let bytes = decode(b64, "whsec_ secret")?;
            if bytes.is_empty() {
                return Err(Rejection::Misconfigured("the whsec_ secret is empty".into()));
            }
            Ok(StandardKey::Hmac(keyed(&bytes)))
        }
    }
}

/// A Standard Webhooks key, decoded.
#[derive(Clone)]
pub(crate) enum StandardKey {
    /// `whsec_`: HMAC-SHA256 keyed with the decoded bytes (`v1`).
    Hmac(HmacSha256),
    /// `whsk_`: an Ed25519 signing key (zeroized on drop), to sign (`v1a`) and, through its
    /// public half, to verify.
    Signing(Box<SigningKey>),
    /// `whpk_`: an Ed25519 public key, to verify (`v1a`).
    Public(VerifyingKey),
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret([REDACTED])")
    }
}

impl From<&str> for WebhookSecret {
    fn from(text: &str) -> Self {
        Self::new(text)
    }
}

impl From<SecretString> for WebhookSecret {
    fn from(secret: SecretString) -> Self {
        Self { text: secret, standard: OnceLock::new(), raw_hmac: OnceLock::new() }
    }
}
