//! Multi-factor authentication for the host's own users: TOTP enrolment and verification
//! ([`totp`], RFC 6238), recovery codes stored as digests ([`recovery`]), lockout after repeated
//! failures, all through a host store ([`store::MfaStore`]) whose compare-and-swap makes a code
//! good once even when two sign-ins race with it.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! use std::sync::Arc;
//! use chrono::Utc;
//! use integration_core::TenantId;
//! use integration_core::crypto::{KeyRing, SealingKey, Sealer};
//! use integration_sso::mfa::{Mfa, Refusal, Verification};
//! use integration_sso::mfa::store::MemoryMfaStore;
//! use integration_sso::mfa::totp::{Totp, TotpPolicy};
//! use secrecy::ExposeSecret;
//!
//! let sealer = Sealer::new(KeyRing::new("k1", SealingKey::generate()));
//! let mfa = Mfa::new(Arc::new(MemoryMfaStore::new()), sealer);
//! let tenant = TenantId::new("acme")?;
//! let enrolment = mfa.enroll(&tenant, "user-42", "Acme", "ada@acme.example").await?;
//! // The user scans enrolment.uri, then types the code their app shows:
//! let totp = Totp::new(&enrolment.secret_bytes()?, TotpPolicy::default())?;
//! let now = Utc::now();
//! let code = totp.code_at(now);
//! assert!(matches!(mfa.confirm(&tenant, "user-42", &code, now).await?, Verification::Accepted));
//! // The same code again is a replay.
//! assert_eq!(mfa.verify(&tenant, "user-42", &code, now).await?, Verification::Refused(Refusal::Replayed));
//! # Ok::<(), integration_core::Error>(())
//! # }).unwrap();
//! ```

pub mod recovery;
pub mod store;
pub mod totp;

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use integration_core::crypto::{Binding, Purpose, SealedBox, Sealer};
use integration_core::{Error, Result, TenantId};
use secrecy::{ExposeSecret, SecretString};

use self::recovery::{RecoveryCode, RecoveryCodes};
use self::store::{MfaRecord, MfaStore};
use self::totp::{Totp, TotpPolicy, Verdict};

/// Bytes of a new TOTP secret: 160 bits, as RFC 4226 recommends.
const SECRET_BYTES: usize = 20;
/// Recovery codes made at enrolment.
const RECOVERY_CODES: usize = 10;
/// Compare-and-swap attempts before giving up under contention.
const ATTEMPTS: usize = 8;

/// What a new enrolment gives the user, once.
#[non_exhaustive]
pub struct Enrollment {
    /// The secret, base32 (RFC 4648, no padding), for manual entry.
    pub secret: SecretString,
    /// The `otpauth://` URI for a QR code.
    pub uri: SecretString,
    /// The recovery codes.
    pub recovery_codes: Vec<RecoveryCode>,
}

impl std::fmt::Debug for Enrollment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Enrollment").field("recovery_codes", &self.recovery_codes.len()).finish_non_exhaustive()
    }
}

impl Enrollment {
    /// The secret's bytes.
    ///
    /// # Errors
    /// A `Crypto` error if the secret is not base32 (it always is when made here).
    pub fn secret_bytes(&self) -> Result<Vec<u8>> {
        totp_rs::Secret::Encoded(self.secret.expose_secret().to_owned())
            .to_bytes()
            .map_err(|_| Error::new(integration_core::ErrorKind::Crypto, "the TOTP secret is not base32"))
    }
}

/// Why a code was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// The user has no (confirmed) enrolment.
    NotEnrolled,
    /// Too many failures: refused until the time given, whatever is typed.
    Locked {
        /// When attempts are taken again.
        until: DateTime<Utc>,
    },
    /// Not a code (wrong length, not digits).
    Malformed,
    /// Not the code of the current step or one either side.
    Wrong,
    /// A code already used (its step or a later one was accepted).
    Replayed,
    /// Not one of the user's remaining recovery codes.
    UnknownRecoveryCode,
}

impl Refusal {
    /// The reason's name (`wrong`, `replayed`, `locked`…), as audit events give it.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::NotEnrolled => "not_enrolled",
            Self::Locked { .. } => "locked",
            Self::Malformed => "malformed",
            Self::Wrong => "wrong",
            Self::Replayed => "replayed",
            Self::UnknownRecoveryCode => "unknown_recovery_code",
        }
    }
}

/// What checking a code decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verification {
    /// Accepted.
    Accepted,
    /// Refused, and why.
    Refused(Refusal),
}

/// Failures in a row before a user is locked out, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Lockout {
    /// Failures in a row that lock.
    pub after: u32,
    /// How long the lock lasts.
    pub lasts: Duration,
}

impl Lockout {
    /// `after` failures in a row lock for `lasts`.
    pub fn new(after: u32, lasts: Duration) -> Self {
        Self { after: after.max(1), lasts }
    }
}

impl Default for Lockout {
    /// Five failures lock for fifteen minutes.
    fn default() -> Self {
        Self { after: 5, lasts: Duration::minutes(15) }
    }
}

/// TOTP and recovery codes for a host's users.
#[derive(Debug, Clone)]
pub struct Mfa {
    store: Arc<dyn MfaStore>,
    sealer: Sealer,
    policy: TotpPolicy,
    lockout: Lockout,
    audit: crate::audit::Audit,
}

fn binding<'a>(tenant: &'a TenantId, user: &'a str) -> Binding<'a> {
    Binding::subject(Purpose::MfaSecret, tenant, user)
}

impl Mfa {
    /// MFA over `store`, secrets sealed by `sealer`, the default policy and lockout.
    pub fn new(store: Arc<dyn MfaStore>, sealer: Sealer) -> Self {
        Self { store, sealer, policy: TotpPolicy::default(), lockout: Lockout::default(), audit: Default::default() }
    }

    /// With another TOTP policy.
    pub fn with_policy(mut self, policy: TotpPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// With every check recorded in `sink` (`mfa_checked`, with the refusal's reason;
    /// `mfa_locked` when a user is locked out).
    pub fn with_audit(mut self, sink: Arc<dyn integration_core::store::AuditSink>) -> Self {
        self.audit = crate::audit::Audit::to(sink);
        self
    }

    /// With another lockout.
    pub fn with_lockout(mut self, lockout: Lockout) -> Self {
        self.lockout = lockout;
        self
    }

    /// Enrols `user` (again: a new secret and new recovery codes replace the old): unconfirmed
    /// until [`confirm`](Self::confirm) sees a first code. `issuer` and `account` label the entry
    /// in the authenticator app.
    ///
    /// # Errors
    /// The store's or the sealer's errors; `Conflict` under sustained contention.
    pub async fn enroll(&self, tenant: &TenantId, user: &str, issuer: &str, account: &str) -> Result<Enrollment> {
        let secret = integration_core::crypto::random_bytes(SECRET_BYTES)?;
        let encoded = totp_rs::Secret::Raw(secret.to_vec()).to_encoded().to_string();
        let totp = Totp::new(&secret, self.policy)?;
        let uri = totp.provisioning_uri(issuer, account, &encoded);
        let sealed = self.sealer.seal(&secret, &binding(tenant, user)).await?;
        let (shown, stored) = RecoveryCodes::generate(RECOVERY_CODES)?;
        let record = MfaRecord::new(&sealed, stored);
        for _ in 0..ATTEMPTS {
            let current = self.store.load(tenant, user).await?.map(|r| r.version);
            if self.store.save(tenant, user, &record, current).await? {
                return Ok(Enrollment { secret: encoded.into(), uri: uri.into(), recovery_codes: shown });
            }
        }
        Err(Error::conflict("the MFA enrolment changed under every attempt to replace it"))
    }

    /// Confirms an enrolment with its first code (then as [`verify`](Self::verify)).
    ///
    /// # Errors
    /// As [`verify`](Self::verify).
    pub async fn confirm(&self, tenant: &TenantId, user: &str, code: &str, now: DateTime<Utc>) -> Result<Verification> {
        self.attempt(tenant, user, now, false, |record, totp| match totp.check(code, now, record.last_step) {
            Verdict::Accepted { step } => {
                (record.last_step, record.confirmed) = (Some(step), true);
                Verification::Accepted
            }
            other => refused(other),
        })
        .await
    }

    /// Checks a TOTP code of a confirmed enrolment: accepted once (its step remembered), or
    /// refused with the reason; failures count toward the lockout.
    ///
    /// # Errors
    /// The store's or the sealer's errors (a refusal is not an error); `Conflict` under
    /// sustained contention.
    pub async fn verify(&self, tenant: &TenantId, user: &str, code: &str, now: DateTime<Utc>) -> Result<Verification> {
        self.attempt(tenant, user, now, true, |record, totp| match totp.check(code, now, record.last_step) {
            Verdict::Accepted { step } => {
                record.last_step = Some(step);
                Verification::Accepted
            }
            other => refused(other),
        })
        .await
    }

    /// Takes one of the user's recovery codes: accepted once, then gone.
    ///
    /// # Errors
    /// As [`verify`](Self::verify).
    pub async fn recover(
        &self,
        tenant: &TenantId,
        user: &str,
        typed: &str,
        now: DateTime<Utc>,
    ) -> Result<Verification> {
        self.attempt(tenant, user, now, true, |record, _| match record.recovery.position(typed) {
            Some(i) => {
                record.recovery.digests.remove(i);
                Verification::Accepted
            }
            None => Verification::Refused(Refusal::UnknownRecoveryCode),
        })
        .await
    }

    /// The recovery codes the user has left.
    ///
    /// # Errors
    /// The store's errors.
    pub async fn recovery_codes_left(&self, tenant: &TenantId, user: &str) -> Result<usize> {
        Ok(self.store.load(tenant, user).await?.map_or(0, |r| r.recovery.digests.len()))
    }

    /// Removes the user's enrolment (an administrator's reset).
    ///
    /// # Errors
    /// The store's errors.
    pub async fn reset(&self, tenant: &TenantId, user: &str) -> Result<()> {
        self.store.remove(tenant, user).await
    }

    /// Loads the record, refuses when locked or not enrolled, runs `check` on a copy, counts
    /// the failure or clears the count, and saves by compare-and-swap (read again on a lost race).
    async fn attempt(
        &self,
        tenant: &TenantId,
        user: &str,
        now: DateTime<Utc>,
        needs_confirmed: bool,
        check: impl Fn(&mut MfaRecord, &Totp) -> Verification,
    ) -> Result<Verification> {
        let (verdict, locked) = self.checked(tenant, user, now, needs_confirmed, check).await?;
        use integration_core::store::AuditAction;
        let refused = match &verdict {
            Verification::Accepted => None,
            Verification::Refused(refusal) => Some(refusal.as_str()),
        };
        crate::audit::count(crate::audit::Counted::MfaCheck { outcome: refused.unwrap_or("accepted") });
        self.audit.record(tenant, AuditAction::MfaChecked, format!("user={user}"), refused).await;
        if locked {
            crate::audit::count(crate::audit::Counted::Lockout);
            self.audit.record(tenant, AuditAction::MfaLocked, format!("user={user}"), None).await;
        }
        Ok(verdict)
    }

    /// [`attempt`](Self::attempt)'s work: the verdict, and whether it locked the user.
    async fn checked(
        &self,
        tenant: &TenantId,
        user: &str,
        now: DateTime<Utc>,
        needs_confirmed: bool,
        check: impl Fn(&mut MfaRecord, &Totp) -> Verification,
    ) -> Result<(Verification, bool)> {
        for _ in 0..ATTEMPTS {
            let Some(mut record) = self.store.load(tenant, user).await? else {
                return Ok((Verification::Refused(Refusal::NotEnrolled), false));
            };
            if needs_confirmed && !record.confirmed {
                return Ok((Verification::Refused(Refusal::NotEnrolled), false));
            }
            if let Some(until) = record.locked_until.filter(|until| *until > now) {
                return Ok((Verification::Refused(Refusal::Locked { until }), false));
            }
            let version = record.version;
            let secret = self.sealer.open(&SealedBox::parse(record.secret.clone())?, &binding(tenant, user)).await?;
            let totp = Totp::new(&secret, self.policy)?;
            let verdict = check(&mut record, &totp);
            let mut locked = false;
            match verdict {
                Verification::Accepted => (record.failures, record.locked_until) = (0, None),
                Verification::Refused(_) => {
                    record.failures += 1;
                    if record.failures >= self.lockout.after {
                        (record.failures, record.locked_until) = (0, Some(now + self.lockout.lasts));
                        locked = true;
                    }
                }
            }
            if self.store.save(tenant, user, &record, Some(version)).await? {
                return Ok((verdict, locked));
            }
        }
        Err(Error::conflict("the MFA record changed under every attempt to check a code"))
    }
}

fn refused(verdict: Verdict) -> Verification {
    Verification::Refused(match verdict {
        Verdict::Replayed => Refusal::Replayed,
        Verdict::Malformed => Refusal::Malformed,
        _ => Refusal::Wrong,
    })
}
