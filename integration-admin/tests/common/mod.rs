//! A console on loopback over the in-memory store, with BambooHR (a form) and Google Drive
//! (OAuth) against their fakes. Who asks is the `x-test-user` header: `alice` sees `acme`,
//! `bob` sees `globex`, `viewer` sees `acme` read-only; anyone else is refused.

#![allow(clippy::unwrap_used, dead_code, unreachable_pub)]

use std::sync::Arc;

use async_trait::async_trait;
use integration_admin::{Access, Authorizer, Console, OAuthApp, Refused};
use integration_core::crypto::{KeyRing, Sealer, SealingKey};
use integration_core::notify::Notifier;
use integration_core::schedule::EmbeddedScheduler;
use integration_core::store::MemoryStore;
use integration_core::{BuildContext, ConnectionId, Connections, Registry, SyncEngine, TenantId};
use integration_testkit::fake::bamboohr::FakeBambooHr;
use integration_testkit::fake::google_drive::{self, FakeGoogleDrive};
use integration_testkit::fake::people::People;

#[derive(Debug)]
pub struct HeaderUsers;

#[async_trait]
impl Authorizer for HeaderUsers {
    async fn authorize(&self, request: &http::request::Parts) -> Result<Access, Refused> {
        let user = request.headers.get("x-test-user").and_then(|v| v.to_str().ok()).unwrap_or_default();
        match user {
            "alice" => Ok(Access::new("alice", "session-alice").tenant(acme())),
            "alice-other-session" => Ok(Access::new("alice", "session-alice-2").tenant(acme())),
            "bob" => Ok(Access::new("bob", "session-bob").tenant(globex())),
            "viewer" => Ok(Access::new("viewer", "session-viewer").tenant(acme()).read_only()),
            "mallory" => Err(Refused::Forbidden),
            _ => Err(Refused::Unauthenticated { sign_in: Some("/login".into()) }),
        }
    }
}

pub fn acme() -> TenantId {
    TenantId::new("acme").unwrap()
}

pub fn globex() -> TenantId {
    TenantId::new("globex").unwrap()
}

pub struct World {
    pub store: Arc<MemoryStore>,
    pub connections: Connections,
    pub scheduler: Arc<EmbeddedScheduler>,
    pub engine: SyncEngine,
    pub registry: Arc<Registry>,
    pub notifier: Notifier,
    pub bamboohr: FakeBambooHr,
    pub drive: FakeGoogleDrive,
    pub base: String,
    pub console: Console,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for World {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl World {
    pub async fn start() -> Self {
        let store = Arc::new(MemoryStore::new());
        let sealer = Sealer::new(KeyRing::new("k1", SealingKey::generate()));
        let connections = Connections::new(store.clone(), sealer.clone(), store.clone());
        let context = BuildContext::default().with_tokens(store.clone(), sealer.clone());
        let mut registry = Registry::with_context(context);
        integration_hris::register_all(&mut registry).unwrap();
        integration_storage::register_all(&mut registry).unwrap();
        let registry = Arc::new(registry);
        let engine = SyncEngine::new(store.clone(), store.clone(), "console-test");
        let scheduler = Arc::new(EmbeddedScheduler::new(engine.clone()));
        let notifier = Notifier::new(store.clone(), store.clone(), store.clone(), store.clone())
            .with_automations(store.clone())
            .with_tokens(store.clone(), sealer.clone());
        let bamboohr = FakeBambooHr::start(People::generate(7, 5)).await;
        let drive = FakeGoogleDrive::start().await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}/admin/", listener.local_addr().unwrap());
        let mut app = OAuthApp::new(google_drive::CLIENT_ID, google_drive::CLIENT_SECRET);
        for (key, value) in drive.oauth_settings() {
            app = app.with_setting(key, value);
        }
        let console = Console::new(
            connections.clone(),
            store.clone(),
            store.clone(),
            registry.clone(),
            Arc::new(HeaderUsers),
            base.parse().unwrap(),
        )
        .unwrap()
        .with_automations(store.clone())
        .with_audit(store.clone())
        .with_scheduler(scheduler.clone())
        .with_engine(engine.clone())
        .with_oauth_app("google_drive", app)
        .with_notifier(notifier.clone());
        let router = axum::Router::new().merge(console.clone().router());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Self { store, connections, scheduler, engine, registry, notifier, bamboohr, drive, base, console, server }
    }

    /// Saves the BambooHR fake's connection for `tenant` as `connection`, active.
    pub async fn connect_bamboohr(&self, tenant: TenantId, connection: &str) -> ConnectionId {
        let connection = ConnectionId::new(connection).unwrap();
        let config = self.bamboohr.config(tenant.clone(), connection.clone());
        self.connections.save(&config).await.unwrap();
        self.connections.set_status(&tenant, &connection, integration_core::ConnectionStatus::Active).await.unwrap();
        connection
    }

    pub fn client() -> reqwest::Client {
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, user: &str, path: &str) -> reqwest::Response {
        Self::client().get(self.url(path)).header("x-test-user", user).send().await.unwrap()
    }

    pub async fn post(&self, user: &str, path: &str, csrf: Option<&str>) -> reqwest::Response {
        let mut request = Self::client().post(self.url(path)).header("x-test-user", user);
        if let Some(token) = csrf {
            request = request.header("x-csrf-token", token);
        }
        request.send().await.unwrap()
    }

    pub fn csrf(&self, session: &str) -> String {
        self.console.csrf_token(session)
    }
}
