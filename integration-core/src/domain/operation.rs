//! [`OperationKey`]: the caller's id for one logical write, which a domain's creates turn into
//! the provider's idempotency key.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// The caller's id for one logical write (an automation step's idempotency key, an order's
/// id): the same for every retry of it, so a create retried after a timeout that reached the
/// provider makes one record. Providers limit their keys (QuickBooks `requestid`: 50
/// characters, Stripe: 255); [`for_provider`](Self::for_provider) derives one that fits, always
/// the same.
///
/// ```
/// use integration_core::domain::OperationKey;
///
/// let short = OperationKey::new("run-7:step-2")?;
/// assert_eq!(short.for_provider(50), "run-7:step-2");
/// let long = OperationKey::new("x".repeat(80))?;
/// assert_eq!(long.for_provider(50).len(), 50);
/// assert_eq!(long.for_provider(50), OperationKey::new("x".repeat(80))?.for_provider(50));
/// assert_eq!(OperationKey::occurrence("rent-2026", 3)?.as_str(), "rent-2026#3");
/// assert!(OperationKey::new(" ").is_err());
/// # Ok::<(), integration_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OperationKey(String);

impl OperationKey {
    /// The key of operation `id`.
    ///
    /// # Errors
    /// A [`Validation`](crate::ErrorKind::Validation) error for a blank id or one longer than
    /// 1,000 bytes.
    pub fn new(id: impl Into<String>) -> Result<Self> {
        let id = id.into();
        if id.trim().is_empty() || id.len() > 1000 {
            return Err(Error::validation("operation", "an operation key is 1 to 1,000 bytes, not blank"));
        }
        Ok(Self(id))
    }

    /// The key of occurrence `n` of schedule `schedule` (`rent-2026#3`): one key per
    /// occurrence, so a rerun or a second worker never repeats an occurrence's write.
    ///
    /// # Errors
    /// As [`new`](Self::new).
    pub fn occurrence(schedule: &str, n: u64) -> Result<Self> {
        Self::new(format!("{schedule}#{n}"))
    }

    /// The key of a write known by its content: `what` (`update`, `void`) and a digest of
    /// `parts` (the record's id, the version written on, the body). The same change again is the
    /// same key; any other change another — a provider replaying a key's first answer never
    /// answers one change with another's.
    ///
    /// ```
    /// use integration_core::domain::OperationKey;
    ///
    /// let first = OperationKey::for_content("update", &["inv-7", "v3", r#"{"DueDate":"2026-12-31"}"#]);
    /// assert_eq!(first, OperationKey::for_content("update", &["inv-7", "v3", r#"{"DueDate":"2026-12-31"}"#]));
    /// assert_ne!(first, OperationKey::for_content("update", &["inv-7", "v3", r#"{"DueDate":"2027-01-31"}"#]));
    /// assert!(first.as_str().starts_with("update:"));
    /// ```
    pub fn for_content(what: &str, parts: &[&str]) -> Self {
        let mut digest = Sha256::new();
        for part in parts {
            digest.update((part.len() as u64).to_be_bytes());
            digest.update(part.as_bytes());
        }
        let hex = crate::hex::encode(&digest.finalize());
        let what: String = what.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').take(32).collect();
        Self(format!("{what}:{hex}"))
    }

    /// The key as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key a provider accepting at most `max_len` characters of `[A-Za-z0-9._:#-]` is sent:
    /// the key itself when it fits, otherwise a digest of it (hex SHA-256, cut to `max_len`).
    pub fn for_provider(&self, max_len: usize) -> String {
        let plain = self.0.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-' | b'#'));
        if plain && self.0.len() <= max_len {
            return self.0.clone();
        }
        let hex = crate::hex::encode(&Sha256::digest(self.0.as_bytes()));
        hex.chars().take(max_len).collect()
    }
}

/// A removal's answer with "already gone" counted as done: `Ok(())` for success and for a
/// [`NotFound`](crate::ErrorKind::NotFound) error, any other error as it is — so deleting,
/// unsharing or unsubscribing again (a retry whose first answer was lost) succeeds.
///
/// ```
/// use integration_core::domain::gone_is_done;
/// use integration_core::{Error, ErrorKind};
///
/// assert!(gone_is_done(Err::<(), _>(Error::not_found("event e1"))).is_ok());
/// let refused = gone_is_done(Err::<(), _>(Error::conflict("changed since it was read")));
/// assert_eq!(refused.unwrap_err().kind(), ErrorKind::Conflict);
/// ```
///
/// # Errors
/// `result`'s error unless it is `NotFound`.
pub fn gone_is_done<T>(result: Result<T>) -> Result<()> {
    match result {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == crate::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}
