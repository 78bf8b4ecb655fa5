//! [`TokenManager`]: fresh access tokens for every connection, with exactly one refresh at a
//! time per connection — across tasks in a process and across processes sharing a store.
//!
//! How one refresh stays one:
//! 1. In a process, callers of one connection queue on one mutex; the first refreshes, the
//!    rest find the new token when their turn comes.
//! 2. Across processes, the refresher first takes the connection's refresh lock in the
//!    [`TokenStore`]; a process that finds the lock held waits for the stored token's version
//!    to move instead of refreshing. Under the lock the stored token is read again, since another
//!    process may have refreshed it a moment ago.
//! 3. The new token set — with a rotated refresh token — is written by compare-and-swap on the
//!    version read, *before* anyone uses it: a crash after the provider answered can lose the
//!    new token, never keep the old refresh token that the provider has already retired.
//!
//! A refresh refused with `invalid_grant` marks the connection
//! [`ReauthorizationRequired`](crate::ConnectionStatus::ReauthorizationRequired) (when a
//! [`Connections`] is attached), records a `token_revoked` audit event and broadcasts
//! [`AuthEvent::ReauthorizationRequired`].

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use tokio::sync::broadcast;

use super::static_credentials::set_bearer;
use super::token_set::TokenSet;
use super::{AuthStamp, Authenticator};
use crate::clock::{Clock, SystemClock};
use crate::config::ConnectionStatus;
use crate::connections::Connections;
use crate::crypto::Sealer;
use crate::error::{Error, ErrorKind, Result};
use crate::ids::{ConnectionId, TenantId};
use crate::per_key::PerKey;
use crate::store::{AuditAction, AuditEvent, AuditSink, TokenStore, TracingAuditSink};

/// Obtains a new token set: by the refresh-token grant, or by asking again (client
/// credentials, a JWT bearer assertion) for grants without refresh tokens.
#[async_trait]
pub trait TokenSource: Send + Sync + std::fmt::Debug {
    /// A new token set replacing `current` (`None` when nothing is stored yet), its expiry
    /// computed from `now`. A response without a refresh token keeps `current`'s.
    async fn fetch(&self, current: Option<&TokenSet>, now: DateTime<Utc>) -> Result<TokenSet>;

    /// Revokes `token` at the provider (RFC 7009): `Ok(true)` once revoked, `Ok(false)` when
    /// the provider offers no revocation (the default), so the grant ends only where the
    /// provider's own console ends it.
    async fn revoke(&self, token: &TokenSet) -> Result<bool> {
        let _ = token;
        Ok(false)
    }
}

/// Something the token manager did that the host may want to act on.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthEvent {
    /// A connection's token was refreshed; `version` is the stored version now.
    Refreshed {
        /// The tenant.
        tenant: TenantId,
        /// The connection.
        connection: ConnectionId,
        /// The new stored version.
        version: u64,
    },
    /// The provider refused the refresh token: a person must authorize the connection again.
    ReauthorizationRequired {
        /// The tenant.
        tenant: TenantId,
        /// The connection.
        connection: ConnectionId,
        /// The provider's reason.
        reason: String,
    },
}

/// A token as this process last saw it.
#[derive(Debug, Clone)]
struct Seen {
    version: u64,
    token: TokenSet,
}

/// One connection's in-process state: the refresh queue and the last token seen.
#[derive(Debug, Default)]
struct Slot {
    flight: tokio::sync::Mutex<()>,
    seen: Mutex<Option<Seen>>,
    /// The digest of the refresh token the provider refused: callers queued behind that refresh
    /// fail fast instead of presenting the dead token again. Keyed by the token itself, not the
    /// stored version, which restarts after `forget` and a new authorization.
    revoked: Mutex<Option<[u8; 32]>>,
}

/// Fresh tokens for connections of one OAuth client, refreshed once per connection at a time:
/// callers in a process queue per connection; across processes the refresher holds the
/// [`TokenStore`]'s refresh lock and re-reads the store under it while the others wait for the
/// stored version to move; the new token set is stored by compare-and-swap before it is
/// returned. A refused refresh (`invalid_grant`) marks the connection, raises
/// [`AuthEvent::ReauthorizationRequired`] and is audited.
///
/// ```
/// use std::sync::Arc;
/// use async_trait::async_trait;
/// use chrono::{DateTime, Utc};
/// use integration_core::auth::{TokenManager, TokenSet, TokenSource};
/// use integration_core::crypto::{KeyRing, Sealer, SealingKey};
/// use integration_core::store::MemoryStore;
/// use integration_core::{ConnectionId, Result, TenantId};
/// use secrecy::ExposeSecret;
///
/// #[derive(Debug)]
/// struct Counter; // a stand-in for OAuth2Source or JwtBearer
/// #[async_trait]
/// impl TokenSource for Counter {
///     async fn fetch(&self, _: Option<&TokenSet>, now: DateTime<Utc>) -> Result<TokenSet> {
///         Ok(TokenSet::new("fresh").with_expires_at(now + chrono::TimeDelta::hours(1)))
///     }
/// }
///
/// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
/// let store = MemoryStore::new();
/// let sealer = Sealer::new(KeyRing::new("k1", SealingKey::generate()));
/// let tokens = TokenManager::builder(Arc::new(store), sealer, Arc::new(Counter)).build();
/// let (tenant, connection) = (TenantId::new("acme")?, ConnectionId::new("hr")?);
/// tokens.store(&tenant, &connection, TokenSet::new("stale").with_expires_at(Utc::now())).await?;
/// let (token, _version) = tokens.access_token(&tenant, &connection).await?;
/// assert_eq!(token.expose_secret(), "fresh"); // expired, so refreshed first
/// # Ok::<(), integration_core::Error>(())
/// # }).unwrap();
/// ```
#[derive(Debug)]
pub struct TokenManager {
    store: Arc<dyn TokenStore>,
    sealer: Sealer,
    source: Arc<dyn TokenSource>,
    clock: Arc<dyn Clock>,
    connections: Option<Connections>,
    audit: Arc<dyn AuditSink>,
    events: broadcast::Sender<AuthEvent>,
    margin: Duration,
    lock_ttl: Duration,
    peer_wait: Duration,
    poll: Duration,
    holder: String,
    slots: PerKey<(TenantId, ConnectionId), Slot>,
}

/// Builds a [`TokenManager`]; see [`TokenManager::builder`].
#[derive(Debug)]
#[must_use]
pub struct TokenManagerBuilder {
    inner: TokenManager,
}

impl TokenManagerBuilder {
    /// Refresh this long before expiry (default 5 minutes), but never earlier than halfway
    /// through the token's lifetime.
    pub fn refresh_margin(mut self, margin: Duration) -> Self {
        self.inner.margin = margin;
        self
    }

    /// How long a refresh lock lasts if its holder dies (default 60 s; keep it above the token
    /// endpoint's operation timeout).
    pub fn lock_ttl(mut self, ttl: Duration) -> Self {
        self.inner.lock_ttl = ttl;
        self
    }

    /// How long to wait for another process's refresh before giving up (default 90 s), and how
    /// often to look (default 50 ms).
    pub fn peer_wait(mut self, wait: Duration, poll: Duration) -> Self {
        self.inner.peer_wait = wait;
        self.inner.poll = poll.max(Duration::from_millis(1));
        self
    }

    /// The clock expiry is judged by.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.inner.clock = clock;
        self
    }

    /// Where connections are marked "reauthorization required" (and status changes audited).
    pub fn connections(mut self, connections: Connections) -> Self {
        self.inner.connections = Some(connections);
        self
    }

    /// Where `token_refreshed` and `token_revoked` events go (default: tracing).
    pub fn audit(mut self, audit: Arc<dyn AuditSink>) -> Self {
        self.inner.audit = audit;
        self
    }

    /// Builds the manager.
    pub fn build(self) -> TokenManager {
        self.inner
    }
}

impl TokenManager {
    /// A manager over `store`, sealing tokens with `sealer`, renewing them from `source`.
    pub fn builder(store: Arc<dyn TokenStore>, sealer: Sealer, source: Arc<dyn TokenSource>) -> TokenManagerBuilder {
        TokenManagerBuilder {
            inner: TokenManager {
                store,
                sealer,
                source,
                clock: Arc::new(SystemClock),
                connections: None,
                audit: Arc::new(TracingAuditSink),
                events: broadcast::channel(256).0,
                margin: Duration::from_secs(300),
                lock_ttl: Duration::from_secs(60),
                peer_wait: Duration::from_secs(90),
                poll: Duration::from_millis(50),
                holder: format!("token-manager-{}", uuid::Uuid::now_v7()),
                slots: PerKey::default(),
            },
        }
    }

    /// Auth events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<AuthEvent> {
        self.events.subscribe()
    }

    /// An [`Authenticator`] for one connection's requests: a fresh bearer token on every
    /// attempt, one refresh and one retry on a `401`.
    pub fn authenticator(self: &Arc<Self>, tenant: TenantId, connection: ConnectionId) -> Arc<dyn Authenticator> {
        Arc::new(ConnectionAuth { manager: Arc::clone(self), tenant, connection })
    }

    /// Stores a token set obtained outside the manager (after an authorization-code exchange),
    /// replacing whatever is stored. Returns the new version. A connection marked
    /// "reauthorization required" is marked active again: this is its new authorization.
    pub async fn store(&self, tenant: &TenantId, connection: &ConnectionId, mut token: TokenSet) -> Result<u64> {
        token.issued_at.get_or_insert_with(|| self.clock.now());
        let sealed = token.seal(&self.sealer, tenant, connection).await?;
        let slot = self.slot(tenant, connection);
        let _turn = slot.flight.lock().await;
        loop {
            let expected = self.store.token(tenant, connection).await?.map_or(0, |t| t.version);
            match self.store.compare_and_swap(tenant, connection, expected, &sealed).await {
                Ok(version) => {
                    *slot.revoked.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = None;
                    remember(&slot, version, token);
                    self.reauthorized(tenant, connection).await;
                    return Ok(version);
                }
                Err(e) if e.kind() == ErrorKind::Conflict => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Forgets a connection's tokens (after the host revoked the grant). `false` if none.
    pub async fn forget(&self, tenant: &TenantId, connection: &ConnectionId) -> Result<bool> {
        let slot = self.slot(tenant, connection);
        let _turn = slot.flight.lock().await;
        *slot.seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = None;
        *slot.revoked.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = None;
        self.store.delete_token(tenant, connection).await
    }

    /// Ends a connection's grant: revokes its tokens at the provider where the
    /// [`TokenSource`] can (the refresh token, which takes the grant's access tokens with it, or
    /// else the access token), then forgets them here. Returns whether the provider revoked
    /// anything. The tokens are forgotten even when revocation fails, and the error returned:
    /// a grant the provider keeps must be ended in its console.
    pub async fn revoke(&self, tenant: &TenantId, connection: &ConnectionId) -> Result<bool> {
        let slot = self.slot(tenant, connection);
        let current = {
            let _turn = slot.flight.lock().await;
            self.load(tenant, connection, &slot).await?
        };
        let revoked = match &current {
            Some(seen) => self.source.revoke(&seen.token).await,
            None => Ok(false),
        };
        self.forget(tenant, connection).await?;
        let revoked = revoked?;
        if revoked {
            self.audit
                .audit(
                    AuditEvent::new(tenant.clone(), AuditAction::TokenRevoked)
                        .connection(connection.clone())
                        .detail("revoked at the provider on disconnect"),
                )
                .await
                .unwrap_or_else(|e| tracing::warn!(error = %e, "audit sink failed"));
        }
        Ok(revoked)
    }

    /// Marks a connection that needed a new authorization active again, now that it has one.
    async fn reauthorized(&self, tenant: &TenantId, connection: &ConnectionId) {
        let Some(connections) = &self.connections else { return };
        match connections.status(tenant, connection).await {
            Ok(Some(ConnectionStatus::ReauthorizationRequired)) => {
                if let Err(e) = connections.set_status(tenant, connection, ConnectionStatus::Active).await {
                    tracing::warn!(tenant = %tenant, connection = %connection, error = %e, "could not mark the connection active after its new authorization");
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "could not read the connection's status"),
        }
    }

    /// A valid access token and its stored version, refreshed first if it expires within the
    /// margin (or is missing and the source can mint one).
    pub async fn access_token(&self, tenant: &TenantId, connection: &ConnectionId) -> Result<(SecretString, u64)> {
        let slot = self.slot(tenant, connection);
        if let Some(seen) = self.usable(&slot, None) {
            return Ok((seen.token.access_token, seen.version));
        }
        let seen = self.renew(tenant, connection, &slot, None).await?;
        Ok((seen.token.access_token, seen.version))
    }

    /// The provider refused the token of version `rejected`: renew it unless a newer one is
    /// already stored. Returns the new version.
    pub async fn renew_rejected(&self, tenant: &TenantId, connection: &ConnectionId, rejected: u64) -> Result<u64> {
        let slot = self.slot(tenant, connection);
        Ok(self.renew(tenant, connection, &slot, Some(rejected)).await?.version)
    }

    fn slot(&self, tenant: &TenantId, connection: &ConnectionId) -> Arc<Slot> {
        self.slots.get_or_make(&(tenant.clone(), connection.clone()), Slot::default)
    }

    /// The last token seen, if it will do: unexpired (beyond the margin) and not the rejected one.
    fn usable(&self, slot: &Slot, rejected: Option<u64>) -> Option<Seen> {
        let seen = slot.seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        seen.as_ref().filter(|s| self.will_do(s, rejected)).cloned()
    }

    fn will_do(&self, seen: &Seen, rejected: Option<u64>) -> bool {
        let margin = seen.token.refresh_margin(self.margin);
        rejected.is_none_or(|r| seen.version > r) && !seen.token.expires_within(margin, self.clock.now())
    }

    async fn load(&self, tenant: &TenantId, connection: &ConnectionId, slot: &Slot) -> Result<Option<Seen>> {
        let Some(stored) = self.store.token(tenant, connection).await? else {
            return Ok(None);
        };
        let token = TokenSet::open(&self.sealer, &stored.sealed, tenant, connection).await?;
        remember(slot, stored.version, token.clone());
        Ok(Some(Seen { version: stored.version, token }))
    }

    /// The single-flight renewal.
    async fn renew(
        &self,
        tenant: &TenantId,
        connection: &ConnectionId,
        slot: &Slot,
        rejected: Option<u64>,
    ) -> Result<Seen> {
        let _turn = slot.flight.lock().await;
        // Whoever held the turn before us may have renewed it, here or in another process.
        let mut current = self.load(tenant, connection, slot).await?;
        let revoked = *slot.revoked.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if revoked.is_some() && revoked == current.as_ref().and_then(|s| refresh_digest(&s.token)) {
            return Err(refused_before());
        }
        let deadline = tokio::time::Instant::now() + self.peer_wait;
        loop {
            if let Some(seen) = current.as_ref().filter(|s| self.will_do(s, rejected)) {
                return Ok(seen.clone());
            }
            if let Some(lease) =
                self.store.acquire_refresh_lock(tenant, connection, &self.holder, self.lock_ttl).await?
            {
                let result = self.refresh_under_lock(tenant, connection, slot, rejected).await;
                if let Err(e) = self.store.release_refresh_lock(&lease).await {
                    tracing::warn!(tenant = %tenant, connection = %connection, error = %e, "could not release the refresh lock; it expires on its own");
                }
                return result;
            }
            // Another process is refreshing: wait for its token.
            if tokio::time::Instant::now() >= deadline {
                return Err(Error::new(
                    ErrorKind::Transient,
                    format!(
                        "another process has held the token refresh lock for {tenant}/{connection} for over {:?}",
                        self.peer_wait
                    ),
                ));
            }
            tokio::time::sleep(self.poll).await;
            current = self.load(tenant, connection, slot).await?;
        }
    }

    async fn refresh_under_lock(
        &self,
        tenant: &TenantId,
        connection: &ConnectionId,
        slot: &Slot,
        rejected: Option<u64>,
    ) -> Result<Seen> {
        let current = self.load(tenant, connection, slot).await?;
        if let Some(seen) = current.as_ref().filter(|s| self.will_do(s, rejected)) {
            return Ok(seen.clone()); // refreshed by another process just before we took the lock
        }
        // Another process may have been refused and marked the connection: its refresh token is
        // dead, and presenting it again could count against the grant.
        if let Some(connections) = &self.connections
            && connections.status(tenant, connection).await? == Some(ConnectionStatus::ReauthorizationRequired)
        {
            return Err(refused_before());
        }
        let expected = current.as_ref().map_or(0, |s| s.version);
        let old = current.map(|s| s.token);
        let span = tracing::info_span!("token.refresh", tenant = %tenant, connection = %connection);
        let fetched = tracing::Instrument::instrument(self.source.fetch(old.as_ref(), self.clock.now()), span).await;
        let mut token = match fetched {
            Ok(token) => token,
            Err(e) => {
                if e.kind() == ErrorKind::AuthRevoked {
                    *slot.revoked.lock().unwrap_or_else(std::sync::PoisonError::into_inner) =
                        old.as_ref().and_then(refresh_digest);
                }
                return Err(self.refresh_failed(tenant, connection, e).await);
            }
        };
        if token.refresh_token.is_none() {
            token.refresh_token = old.and_then(|o| o.refresh_token);
        }
        token.issued_at.get_or_insert_with(|| self.clock.now());
        let sealed = token.seal(&self.sealer, tenant, connection).await?;
        // Persist before use: the provider may have retired the old refresh token already.
        let version = match self.store.compare_and_swap(tenant, connection, expected, &sealed).await {
            Ok(version) => version,
            Err(e) if e.kind() == ErrorKind::Conflict => {
                // Our lock lapsed and someone else stored a token meanwhile: theirs wins.
                tracing::warn!(tenant = %tenant, connection = %connection, "the refresh lock lapsed during a refresh; using the token stored meanwhile");
                return self
                    .load(tenant, connection, slot)
                    .await?
                    .ok_or_else(|| Error::conflict("the token was deleted during a refresh"));
            }
            Err(e) => return Err(e),
        };
        remember(slot, version, token.clone());
        self.audit
            .audit(
                AuditEvent::new(tenant.clone(), AuditAction::TokenRefreshed)
                    .connection(connection.clone())
                    .detail(format!("version {version}")),
            )
            .await
            .unwrap_or_else(|e| tracing::warn!(error = %e, "audit sink failed"));
        let _ =
            self.events.send(AuthEvent::Refreshed { tenant: tenant.clone(), connection: connection.clone(), version });
        Ok(Seen { version, token })
    }

    async fn refresh_failed(&self, tenant: &TenantId, connection: &ConnectionId, error: Error) -> Error {
        if error.kind() != ErrorKind::AuthRevoked {
            return error;
        }
        let reason = error.code().unwrap_or("invalid_grant").to_owned();
        tracing::warn!(tenant = %tenant, connection = %connection, %reason, "the provider refused the refresh token; the connection needs to be authorized again");
        if let Some(connections) = &self.connections
            && let Err(e) = connections.set_status(tenant, connection, ConnectionStatus::ReauthorizationRequired).await
        {
            tracing::warn!(error = %e, "could not mark the connection reauthorization_required");
        }
        self.audit
            .audit(
                AuditEvent::new(tenant.clone(), AuditAction::TokenRevoked)
                    .connection(connection.clone())
                    .failed(reason.clone()),
            )
            .await
            .unwrap_or_else(|e| tracing::warn!(error = %e, "audit sink failed"));
        let _ = self.events.send(AuthEvent::ReauthorizationRequired {
            tenant: tenant.clone(),
            connection: connection.clone(),
            reason,
        });
        error
    }
}

/// The error of a refresh not attempted because the provider already refused the token.
fn refused_before() -> Error {
    Error::new(
        ErrorKind::AuthRevoked,
        "the provider refused this connection's refresh token: the connection must be authorized again",
    )
    .with_code("invalid_grant")
}

/// A SHA-256 digest of the token set's refresh token: enough to recognize it, nothing to use.
fn refresh_digest(token: &TokenSet) -> Option<[u8; 32]> {
    use secrecy::ExposeSecret as _;
    use sha2::Digest as _;
    token.refresh_token.as_ref().map(|t| sha2::Sha256::digest(t.expose_secret().as_bytes()).into())
}

fn remember(slot: &Slot, version: u64, token: TokenSet) {
    let mut seen = slot.seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if seen.as_ref().is_none_or(|s| s.version <= version) {
        *seen = Some(Seen { version, token });
    }
}

/// Bearer tokens for one connection from a [`TokenManager`].
#[derive(Debug)]
struct ConnectionAuth {
    manager: Arc<TokenManager>,
    tenant: TenantId,
    connection: ConnectionId,
}

#[async_trait]
impl Authenticator for ConnectionAuth {
    async fn authorize(&self, request: &mut reqwest::Request) -> Result<AuthStamp> {
        let (token, version) = self.manager.access_token(&self.tenant, &self.connection).await?;
        set_bearer(request, &token)?;
        Ok(AuthStamp(version))
    }

    async fn unauthorized(&self, stamp: AuthStamp) -> Result<bool> {
        let version = self.manager.renew_rejected(&self.tenant, &self.connection, stamp.0).await?;
        Ok(version > stamp.0)
    }
}
