//! Who is asking: the host's authorization check, run on every request.
//!
//! The console has no users of its own. The host mounts it behind its own authentication and
//! implements [`Authorizer`]: given the request's head (its session cookie, its bearer token),
//! the [`Access`] it grants — who, which session, which tenants, whether they may act — or a
//! refusal. Every page, every JSON answer and every action is scoped to those tenants.

use std::collections::BTreeSet;
use std::fmt;

use async_trait::async_trait;
use http::request::Parts;
use integration_core::TenantId;

/// What one request may see and do.
#[derive(Clone, PartialEq, Eq)]
pub struct Access {
    subject: String,
    session: String,
    tenants: BTreeSet<TenantId>,
    may_act: bool,
}

impl fmt::Debug for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The session id is a credential of the host's: never printed.
        f.debug_struct("Access")
            .field("subject", &self.subject)
            .field("session", &"[REDACTED]")
            .field("tenants", &self.tenants)
            .field("may_act", &self.may_act)
            .finish()
    }
}

impl Access {
    /// `subject` (a user id, for the audit log) in the host's `session` (what CSRF tokens and
    /// pending OAuth authorizations are bound to), seeing no tenant until [`tenant`](Self::tenant),
    /// allowed to act.
    pub fn new(subject: impl Into<String>, session: impl Into<String>) -> Self {
        Self { subject: subject.into(), session: session.into(), tenants: BTreeSet::new(), may_act: true }
    }

    /// Also sees and acts on `tenant`.
    #[must_use]
    pub fn tenant(mut self, tenant: TenantId) -> Self {
        self.tenants.insert(tenant);
        self
    }

    /// Also sees and acts on each of `tenants`.
    #[must_use]
    pub fn tenants(mut self, tenants: impl IntoIterator<Item = TenantId>) -> Self {
        self.tenants.extend(tenants);
        self
    }

    /// Sees, but may not act (no pause, sync, replay, disconnect or connect).
    #[must_use]
    pub fn read_only(mut self) -> Self {
        self.may_act = false;
        self
    }

    /// Who.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The host's session id.
    pub(crate) fn session(&self) -> &str {
        &self.session
    }

    /// The tenants it sees, in order.
    pub fn visible_tenants(&self) -> impl Iterator<Item = &TenantId> {
        self.tenants.iter()
    }

    /// Whether it sees `tenant`.
    pub fn sees(&self, tenant: &TenantId) -> bool {
        self.tenants.contains(tenant)
    }

    /// Whether it may act.
    pub fn may_act(&self) -> bool {
        self.may_act
    }
}

/// Why the host refused a request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refused {
    /// No one is signed in (`401`; the page sends the browser to `sign_in` when given).
    Unauthenticated {
        /// Where the host signs people in, if the console should send them there.
        sign_in: Option<String>,
    },
    /// Signed in, but not allowed the console (`403`).
    Forbidden,
}

/// The host's authorization check: given the request's head (its session cookie, its bearer
/// token), the [`Access`] it grants — who, which session, which tenants, whether they may act —
/// or a refusal. Every page, answer and action of the console is scoped to that access.
#[async_trait]
pub trait Authorizer: Send + Sync + fmt::Debug {
    /// The access `request` is granted, or why not.
    async fn authorize(&self, request: &Parts) -> Result<Access, Refused>;
}
