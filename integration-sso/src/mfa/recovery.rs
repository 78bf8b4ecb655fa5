//! Recovery codes: ten one-time codes handed to the user once, stored only as SHA-256 digests
//! (each code carries 60 random bits, so a digest cannot be walked back), each taken at most
//! once.
//!
//! ```
//! use integration_sso::mfa::recovery::RecoveryCodes;
//!
//! let (shown, stored) = RecoveryCodes::generate(10)?;
//! assert_eq!(shown.len(), 10);
//! // What the user types, in any case, with or without the dash, matches one digest.
//! let typed = shown[3].expose().to_lowercase().replace('-', "");
//! assert_eq!(stored.position(&typed), Some(3));
//! assert_eq!(stored.position("AAAA-AAAA-AAAA"), None);
//! # Ok::<(), integration_core::Error>(())
//! ```

use std::fmt;

use integration_core::{Error, Result};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The alphabet codes are written in: Crockford's base32 (no I, L, O, U).
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Characters a code has (60 bits), shown as three groups of four.
const LENGTH: usize = 12;

/// A recovery code as shown to the user once.
#[derive(Clone, PartialEq, Eq)]
pub struct RecoveryCode(String);

impl RecoveryCode {
    /// The code (`ABCD-EFGH-JKMN`): show it, never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for RecoveryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecoveryCode([redacted])")
    }
}

/// A user's recovery codes as stored: their digests (hex), in the order they were shown.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RecoveryCodes {
    /// SHA-256 of each code's canonical form, lowercase hex.
    pub digests: Vec<String>,
}

/// The canonical form of what a user typed: upper case, no dashes or spaces, Crockford's
/// look-alikes read as digits.
fn canonical(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        })
        .collect()
}

fn digest(canonical: &str) -> String {
    integration_core::hex::encode(&Sha256::digest(canonical.as_bytes()))
}

impl RecoveryCodes {
    /// `count` fresh codes (1 to 20): what to show the user once, and what to store.
    ///
    /// # Errors
    /// A `Validation` error for a count outside 1 to 20; a `Crypto` error when the system has
    /// no randomness to give.
    pub fn generate(count: usize) -> Result<(Vec<RecoveryCode>, Self)> {
        if !(1..=20).contains(&count) {
            return Err(Error::validation("count", "1 to 20 recovery codes"));
        }
        let mut shown = Vec::with_capacity(count);
        let mut digests = Vec::with_capacity(count);
        for _ in 0..count {
            let bytes = integration_core::crypto::random_bytes(LENGTH)?;
            let plain: String = bytes.iter().map(|b| char::from(ALPHABET[usize::from(b & 31)])).collect();
            digests.push(digest(&plain));
            shown.push(RecoveryCode(format!("{}-{}-{}", &plain[..4], &plain[4..8], &plain[8..])));
        }
        Ok((shown, Self { digests }))
    }

    /// Which stored code `typed` is, if any (every digest compared, in constant time each).
    pub fn position(&self, typed: &str) -> Option<usize> {
        let wanted = digest(&canonical(typed));
        let mut found = None;
        for (i, stored) in self.digests.iter().enumerate() {
            if bool::from(stored.as_bytes().ct_eq(wanted.as_bytes())) && found.is_none() {
                found = Some(i);
            }
        }
        found
    }
}
