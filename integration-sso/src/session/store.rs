//! Where sessions live: a host trait ([`SessionStore`]) keyed by the token's digest, and
//! [`MemorySessionStore`].

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use integration_core::{Result, TenantId};

use super::Session;

/// Storage for sessions, supplied by the host.
#[async_trait]
pub trait SessionStore: Send + Sync + std::fmt::Debug {
    /// Stores a new session.
    async fn create(&self, session: &Session) -> Result<()>;

    /// The session with digest `id`, if any (revoked ones included).
    async fn get(&self, id: &str) -> Result<Option<Session>>;

    /// Marks the session used at `at` (never earlier than it was).
    async fn touch(&self, id: &str, at: DateTime<Utc>) -> Result<()>;

    /// Revokes the session with `reason`; whether it was live.
    async fn revoke(&self, id: &str, reason: &str) -> Result<bool>;

    /// Revokes every live session of `user` in `tenant`; how many.
    async fn revoke_user(&self, tenant: &TenantId, user: &str, reason: &str) -> Result<usize>;
}

/// [`SessionStore`] in memory.
#[derive(Debug, Default)]
pub struct MemorySessionStore {
    sessions: Mutex<BTreeMap<String, Session>>,
}

impl MemorySessionStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl SessionStore for MemorySessionStore {
    async fn create(&self, session: &Session) -> Result<()> {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner()).insert(session.id.clone(), session.clone());
        Ok(())
    }

    async fn get(&self, id: &str) -> Result<Option<Session>> {
        Ok(self.sessions.lock().unwrap_or_else(|p| p.into_inner()).get(id).cloned())
    }

    async fn touch(&self, id: &str, at: DateTime<Utc>) -> Result<()> {
        if let Some(session) = self.sessions.lock().unwrap_or_else(|p| p.into_inner()).get_mut(id) {
            session.seen_at = session.seen_at.max(at);
        }
        Ok(())
    }

    async fn revoke(&self, id: &str, reason: &str) -> Result<bool> {
        let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        match sessions.get_mut(id) {
            Some(session) if session.revoked.is_none() => {
                session.revoked = Some(reason.to_owned());
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn revoke_user(&self, tenant: &TenantId, user: &str, reason: &str) -> Result<usize> {
        let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        let mut count = 0;
        for session in sessions.values_mut().filter(|s| s.tenant == *tenant && s.user == user && s.revoked.is_none()) {
            session.revoked = Some(reason.to_owned());
            count += 1;
        }
        Ok(count)
    }
}
