//! Time-based one-time passwords (RFC 6238) through the `totp-rs` crate: a code is accepted in
//! its own 30-second step or one step either side (clock drift), and never twice — a step at or
//! before the last one accepted for the user is refused as a replay (RFC 6238 §5.2).
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use integration_sso::mfa::totp::{Totp, TotpPolicy, Verdict};
//!
//! let totp = Totp::new(b"12345678901234567890", TotpPolicy::default())?;
//! let now = Utc.timestamp_opt(59, 0).unwrap();
//! let code = totp.code_at(now);
//! assert_eq!(code, "287082"); // RFC 6238's SHA-1 vector, six digits
//! let step = match totp.check(&code, now, None) { Verdict::Accepted { step } => step, other => panic!("{other:?}") };
//! assert_eq!(totp.check(&code, now, Some(step)), Verdict::Replayed);
//! assert_eq!(totp.check("000000", now, None), Verdict::Wrong);
//! # Ok::<(), integration_core::Error>(())
//! ```

use std::fmt;

use chrono::{DateTime, Utc};
use integration_core::{Error, Result};
use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, TOTP};

/// The hash a TOTP is computed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Hash {
    /// HMAC-SHA-1: what authenticator apps expect.
    #[default]
    Sha1,
    /// HMAC-SHA-256.
    Sha256,
    /// HMAC-SHA-512.
    Sha512,
}

/// How codes are made and checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct TotpPolicy {
    /// The hash.
    pub hash: Hash,
    /// Digits a code has: 6 to 8.
    pub digits: usize,
    /// Seconds a step lasts.
    pub step: u64,
    /// Steps accepted either side of the current one.
    pub skew: u8,
}

impl Default for TotpPolicy {
    /// SHA-1, six digits, 30 seconds, one step either side.
    fn default() -> Self {
        Self { hash: Hash::Sha1, digits: 6, step: 30, skew: 1 }
    }
}

impl TotpPolicy {
    /// This policy with `digits` digits and `hash`.
    pub fn with(mut self, hash: Hash, digits: usize) -> Self {
        (self.hash, self.digits) = (hash, digits);
        self
    }
}

/// What checking a code found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verdict {
    /// The code is the one of `step`: remember it, so the code is never taken again.
    Accepted {
        /// The step the code belongs to.
        step: u64,
    },
    /// The code is right, but its step was already used.
    Replayed,
    /// The code is not one of the accepted steps'.
    Wrong,
    /// The input is not a code: not exactly the policy's number of digits.
    Malformed,
}

/// A user's TOTP generator and checker.
pub struct Totp {
    inner: TOTP,
    policy: TotpPolicy,
}

impl fmt::Debug for Totp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Totp").field("policy", &self.policy).field("secret", &"[redacted]").finish()
    }
}

impl Totp {
    /// A TOTP over `secret` (raw bytes, at least 16: 128 bits, as RFC 4226 requires).
    ///
    /// # Errors
    /// A `Validation` error naming `secret` (too short) or `digits` (not 6 to 8) or `step` (0).
    pub fn new(secret: &[u8], policy: TotpPolicy) -> Result<Self> {
        if secret.len() < 16 {
            return Err(Error::validation("secret", "a TOTP secret has at least 128 bits (16 bytes)"));
        }
        if !(6..=8).contains(&policy.digits) {
            return Err(Error::validation("digits", "a TOTP code has 6 to 8 digits"));
        }
        if policy.step == 0 {
            return Err(Error::validation("step", "a TOTP step lasts at least a second"));
        }
        let algorithm = match policy.hash {
            Hash::Sha1 => Algorithm::SHA1,
            Hash::Sha256 => Algorithm::SHA256,
            Hash::Sha512 => Algorithm::SHA512,
        };
        let inner = TOTP::new_unchecked(algorithm, policy.digits, policy.skew, policy.step, secret.to_vec());
        Ok(Self { inner, policy })
    }

    /// The step `at` falls in.
    pub fn step_at(&self, at: DateTime<Utc>) -> u64 {
        u64::try_from(at.timestamp()).unwrap_or(0) / self.policy.step
    }

    /// The code of the step `at` falls in.
    pub fn code_at(&self, at: DateTime<Utc>) -> String {
        self.code_of(self.step_at(at))
    }

    fn code_of(&self, step: u64) -> String {
        self.inner.generate(step.saturating_mul(self.policy.step))
    }

    /// Checks `code` at `now`, given the last step accepted for this user (`None`: never).
    /// Each candidate step's code is compared in constant time.
    pub fn check(&self, code: &str, now: DateTime<Utc>, last_accepted: Option<u64>) -> Verdict {
        let code = code.trim();
        if code.len() != self.policy.digits || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Verdict::Malformed;
        }
        let current = self.step_at(now);
        let skew = u64::from(self.policy.skew);
        let mut found = None;
        for step in current.saturating_sub(skew)..=current.saturating_add(skew) {
            let expected = self.code_of(step);
            if bool::from(expected.as_bytes().ct_eq(code.as_bytes())) && found.is_none() {
                found = Some(step);
            }
        }
        match found {
            Some(step) if last_accepted.is_some_and(|last| step <= last) => Verdict::Replayed,
            Some(step) => Verdict::Accepted { step },
            None => Verdict::Wrong,
        }
    }

    /// The `otpauth://totp/…` URI an authenticator app scans (it holds the secret: show it once,
    /// never log it).
    pub fn provisioning_uri(&self, issuer: &str, account: &str, secret_base32: &str) -> String {
        let encode = |s: &str| percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string();
        let algorithm = match self.policy.hash {
            Hash::Sha1 => "SHA1",
            Hash::Sha256 => "SHA256",
            Hash::Sha512 => "SHA512",
        };
        format!(
            "otpauth://totp/{}:{}?secret={secret_base32}&issuer={}&algorithm={algorithm}&digits={}&period={}",
            encode(issuer),
            encode(account),
            encode(issuer),
            self.policy.digits,
            self.policy.step
        )
    }
}
