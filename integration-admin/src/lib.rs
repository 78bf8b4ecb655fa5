//! The admin console: an axum router the host mounts behind its own authentication.
//!
//! It shows a tenant's connections with their health (healthy, degraded, reauthorization
//! required, paused), sync runs (failed ones first, with the error), records the adapters
//! rejected with their raw data, webhook deliveries (rejected ones with the reason, dead letters
//! with a replay button), automation runs with their step log, recent notifications and the
//! provider catalog — as a web page (server-rendered HTML and a little JavaScript, no build step)
//! and as a JSON API under `api/`. Its actions: pause and resume a stream, sync now, replay a
//! dead letter, disconnect, and connect (`connect/{provider}`: OAuth 2.0 with PKCE, or a form
//! generated from the provider's configuration schema).
//!
//! Every request passes the host's [`Authorizer`] and sees only the tenants its [`Access`]
//! allows; every action needs the session's CSRF token; no secret is ever rendered.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use std::sync::Arc;
//! use async_trait::async_trait;
//! use integration_admin::{Access, Authorizer, Console, Refused};
//! use integration_core::crypto::{KeyRing, Sealer, SealingKey};
//! use integration_core::store::MemoryStore;
//! use integration_core::{Connections, Registry, TenantId};
//!
//! /// The host's check: here, everyone with a `session=alice` cookie sees tenant `acme`.
//! #[derive(Debug)]
//! struct HostSessions;
//!
//! #[async_trait]
//! impl Authorizer for HostSessions {
//!     async fn authorize(&self, request: &http::request::Parts) -> Result<Access, Refused> {
//!         let cookie = request.headers.get("cookie").and_then(|v| v.to_str().ok()).unwrap_or_default();
//!         if cookie.contains("session=alice") {
//!             Ok(Access::new("alice", "alice-session").tenant(TenantId::new("acme").unwrap()))
//!         } else {
//!             Err(Refused::Unauthenticated { sign_in: Some("/login".into()) })
//!         }
//!     }
//! }
//!
//! let store = Arc::new(MemoryStore::new());
//! let sealer = Sealer::new(KeyRing::new("k1", SealingKey::generate()));
//! let connections = Connections::new(store.clone(), sealer, store.clone());
//! let console = Console::new(
//!     connections,
//!     store.clone(),
//!     store.clone(),
//!     Arc::new(Registry::new()),
//!     Arc::new(HostSessions),
//!     "http://127.0.0.1:8080/admin/".parse().unwrap(),
//! )
//! .unwrap();
//! // The console serves its own path (`/admin/`), under the host's authentication.
//! let app: axum::Router = axum::Router::new().merge(console.router());
//! # drop(app);
//! # });
//! ```

mod access;
mod api;
mod connect;
pub mod csrf;
mod page;
pub mod views;

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

pub use access::{Access, Authorizer, Refused};
pub use connect::{OAuthApp, OnConnect};
pub use csrf::CsrfKey;

use integration_core::notify::{Notification, Notifier};
use integration_core::schedule::Scheduler;
use integration_core::store::{AuditSink, AutomationStore, DeliveryStore, StateStore};
use integration_core::{Connections, Registry, Result, SyncEngine};
use url::Url;

/// How many recent notifications the console keeps to show (per process).
pub const RECENT_NOTIFICATIONS: usize = 500;

/// The console's parts; [`Console::router`] serves them. See the [crate docs](crate).
#[derive(Clone)]
pub struct Console {
    pub(crate) connections: Connections,
    pub(crate) state: Arc<dyn StateStore>,
    pub(crate) deliveries: Arc<dyn DeliveryStore>,
    pub(crate) automations: Option<Arc<dyn AutomationStore>>,
    pub(crate) audit: Option<Arc<dyn AuditSink>>,
    pub(crate) registry: Arc<Registry>,
    pub(crate) scheduler: Option<Arc<dyn Scheduler>>,
    pub(crate) engine: Option<SyncEngine>,
    pub(crate) authorizer: Arc<dyn Authorizer>,
    pub(crate) csrf: CsrfKey,
    pub(crate) public_url: Url,
    pub(crate) oauth_apps: BTreeMap<String, OAuthApp>,
    pub(crate) on_connect: Option<OnConnect>,
    pub(crate) notifier: Option<Notifier>,
    pub(crate) recent: Arc<Mutex<VecDeque<Notification>>>,
}

impl std::fmt::Debug for Console {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Console")
            .field("public_url", &self.public_url.as_str())
            .field("oauth_apps", &self.oauth_apps)
            .field("scheduler", &self.scheduler.is_some())
            .field("engine", &self.engine.is_some())
            .field("automations", &self.automations.is_some())
            .finish_non_exhaustive()
    }
}

impl Console {
    /// A console over the host's `connections`, sync-run log (`state`) and webhook
    /// `deliveries`, showing the providers of `registry` (and building adapters with it),
    /// asking `authorizer` about every request; `public_url` is where the browser reaches the
    /// console (`https://app.example.com/admin/`: OAuth callbacks and links are made from it).
    ///
    /// # Errors
    /// A [`Crypto`](integration_core::ErrorKind::Crypto) error when no CSRF key can be made.
    pub fn new(
        connections: Connections,
        state: Arc<dyn StateStore>,
        deliveries: Arc<dyn DeliveryStore>,
        registry: Arc<Registry>,
        authorizer: Arc<dyn Authorizer>,
        mut public_url: Url,
    ) -> Result<Self> {
        if !public_url.path().ends_with('/') {
            let path = format!("{}/", public_url.path());
            public_url.set_path(&path);
        }
        Ok(Self {
            connections,
            state,
            deliveries,
            automations: None,
            audit: None,
            registry,
            scheduler: None,
            engine: None,
            authorizer,
            csrf: CsrfKey::generate()?,
            public_url,
            oauth_apps: BTreeMap::new(),
            on_connect: None,
            notifier: None,
            recent: Arc::default(),
        })
    }

    /// Shows automation runs from `store`.
    #[must_use]
    pub fn with_automations(mut self, store: Arc<dyn AutomationStore>) -> Self {
        self.automations = Some(store);
        self
    }

    /// Writes every action to `audit` (who, what, on which connection).
    #[must_use]
    pub fn with_audit(mut self, audit: Arc<dyn AuditSink>) -> Self {
        self.audit = Some(audit);
        self
    }

    /// Pauses, resumes and syncs streams through the host's `scheduler`.
    #[must_use]
    pub fn with_scheduler(mut self, scheduler: Arc<dyn Scheduler>) -> Self {
        self.scheduler = Some(scheduler);
        self
    }

    /// Runs "sync now" of a stream the scheduler does not know with `engine` (the adapter built
    /// by the registry from the stored connection), in the background.
    #[must_use]
    pub fn with_engine(mut self, engine: SyncEngine) -> Self {
        self.engine = Some(engine);
        self
    }

    /// Uses `key` for CSRF tokens (processes serving one console share it).
    #[must_use]
    pub fn with_csrf_key(mut self, key: CsrfKey) -> Self {
        self.csrf = key;
        self
    }

    /// Connects `provider` with OAuth 2.0 as the host's `app` (its client registered at the
    /// provider, whose redirect URI is `<public_url>connect/<provider>/callback`).
    #[must_use]
    pub fn with_oauth_app(mut self, provider: &str, app: OAuthApp) -> Self {
        self.oauth_apps.insert(provider.to_owned(), app);
        self
    }

    /// Calls `hook` with each connection the connect flow made (to schedule its streams,
    /// register its webhook endpoint...).
    #[must_use]
    pub fn on_connect(mut self, hook: OnConnect) -> Self {
        self.on_connect = Some(hook);
        self
    }

    /// Shows the notifications `notifier` raises from now on (the latest
    /// [`RECENT_NOTIFICATIONS`], per tenant on the page). Call inside a tokio runtime.
    #[must_use]
    pub fn with_notifier(mut self, notifier: Notifier) -> Self {
        let mut heard = notifier.subscribe();
        let recent = self.recent.clone();
        tokio::spawn(async move {
            loop {
                match heard.recv().await {
                    Ok(n) => {
                        let mut recent = recent.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                        if recent.len() == RECENT_NOTIFICATIONS {
                            recent.pop_front();
                        }
                        recent.push_back(n);
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                }
            }
        });
        self.notifier = Some(notifier);
        self
    }

    /// The CSRF token of the host's `session` (for a host that renders its own forms).
    pub fn csrf_token(&self, session: &str) -> String {
        self.csrf.token(session)
    }

    /// The router, serving the path of `public_url` (`/admin/` and below; `/admin` redirects
    /// there): merge it into the host's (`Router::new().merge(console.router())`).
    pub fn router(self) -> axum::Router {
        api::router(Arc::new(self))
    }
}
