//! CSRF tokens: an HMAC of the host's session id under the console's key.
//!
//! Every action (a `POST`) must carry the token of the session making it, in the
//! `x-csrf-token` header (the page's script) or a `csrf` form field (the connect form). A page
//! on another site can make the browser send the session cookie, but cannot read the token.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The header actions carry the token in.
pub const HEADER: &str = "x-csrf-token";

/// The key tokens are made with. Processes serving one console behind a load balancer share
/// it ([`CsrfKey::from_bytes`]); one process can use [`CsrfKey::generate`].
#[derive(Clone)]
pub struct CsrfKey([u8; 32]);

impl std::fmt::Debug for CsrfKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CsrfKey([REDACTED])")
    }
}

impl CsrfKey {
    /// A key from 32 secret bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// A random key for this process.
    ///
    /// # Errors
    /// A [`Crypto`](integration_core::ErrorKind::Crypto) error when the system's random source
    /// fails.
    pub fn generate() -> integration_core::Result<Self> {
        let bytes = integration_core::crypto::random_bytes(32)?;
        let mut key = [0u8; 32];
        key.copy_from_slice(&bytes);
        Ok(Self(key))
    }

    fn mac(&self, session: &str) -> Hmac<Sha256> {
        // HMAC takes a key of any length: this cannot fail.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).unwrap_or_else(|_| unreachable!());
        mac.update(b"integrations-admin/csrf/v1\0");
        mac.update(session.as_bytes());
        mac
    }

    /// The token of `session`.
    pub fn token(&self, session: &str) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(self.mac(session).finalize().into_bytes())
    }

    /// Whether `token` is `session`'s (in constant time).
    pub fn verify(&self, session: &str, token: &str) -> bool {
        match base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token.trim()) {
            Ok(bytes) => self.mac(session).verify_slice(&bytes).is_ok(),
            Err(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_its_sessions_only() {
        let key = CsrfKey::from_bytes([7; 32]);
        let token = key.token("session-a");
        assert!(key.verify("session-a", &token));
        assert!(!key.verify("session-b", &token));
        assert!(!key.verify("session-a", ""));
        assert!(!key.verify("session-a", "not base64 !"));
        assert!(!CsrfKey::from_bytes([8; 32]).verify("session-a", &token));
        assert!(!format!("{key:?}").contains('7'));
    }
}
