//! The admin console: `cargo run --example admin --features admin,sqlite,storage,testkit`.
//!
//! The quickstart's world — a BambooHR fake whose signed webhooks arrive at a local axum server,
//! SQLite for everything — served with the console on 127.0.0.1, plus a Google Drive fake to
//! connect through OAuth (its consent page is one button), and the SDK's metrics in Prometheus's
//! format at `/metrics`. It prints a sign-in link (the host's own authentication: a session
//! cookie) and the console's URL, and runs until Ctrl-C.
//!
//! What to try: connect Google Drive; pause and resume the employees stream; "Sync now"; see
//! runs, deliveries and notifications; `curl <url>/metrics`.

use std::error::Error;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use integration_admin::{Access, Authorizer, Console, OAuthApp, OnConnect, Refused};
use integration_core::crypto::{KeyRing, Sealer, SealingKey};
use integration_core::notify::Notifier;
use integration_core::schedule::{EmbeddedScheduler, Schedule, Scheduler};
use integration_core::webhook::{
    Adapters, ApplyToCache, DeliveryWorker, Endpoint, StaticEndpoints, WebhookRouter, WebhookSecret,
};
use integration_core::{
    BuildContext, CancellationToken, ConnectionId, ConnectionStatus, Connections, ProviderId, Registry, SyncEngine,
    SyncJob, SyncMode, TenantId,
};
use integration_hris::bamboohr;
use integration_store::SqlStore;
use integration_testkit::fake::bamboohr::FakeBambooHr;
use integration_testkit::fake::google_drive::{self, FakeGoogleDrive};
use integration_testkit::fake::people::People;

/// The host's authentication, as simple as it gets: one administrator whose session cookie is
/// set by `/login?token=<the printed token>`. A real host checks its own sessions here.
#[derive(Debug)]
pub(crate) struct DemoSessions {
    token: String,
    tenant: TenantId,
}

#[async_trait]
impl Authorizer for DemoSessions {
    async fn authorize(&self, request: &http::request::Parts) -> Result<Access, Refused> {
        let cookies = request.headers.get_all(http::header::COOKIE);
        let presented = cookies
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .find_map(|c| c.trim().strip_prefix("demo_session="));
        match presented {
            Some(token) if constant_time_eq(token.as_bytes(), self.token.as_bytes()) => {
                // The session id binds CSRF tokens and pending authorizations; here the token.
                Ok(Access::new("admin", token).tenant(self.tenant.clone()))
            }
            _ => Err(Refused::Unauthenticated { sign_in: None }),
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    bool::from(subtle::ConstantTimeEq::ct_eq(a, b))
}

/// The running world.
#[allow(dead_code)]
pub(crate) struct Served {
    /// The console's URL.
    pub(crate) console: String,
    /// The sign-in link (sets the session cookie, then shows the console).
    pub(crate) login: String,
    /// The session token (a secret of the host's).
    pub(crate) session: String,
    /// The tenant.
    pub(crate) tenant: TenantId,
    /// The BambooHR fake.
    pub(crate) bamboohr: FakeBambooHr,
    /// The Google Drive fake.
    pub(crate) drive: FakeGoogleDrive,
    /// The store.
    pub(crate) store: Arc<SqlStore>,
    /// Stops everything.
    pub(crate) shutdown: CancellationToken,
}

/// Starts the world with its SQLite file in `dir`.
pub(crate) async fn serve(dir: &std::path::Path) -> Result<Served, Box<dyn Error>> {
    let bamboohr = FakeBambooHr::start(People::generate(2026, 8)).await;
    let drive = FakeGoogleDrive::start().await;
    std::fs::create_dir_all(dir)?;
    let store = Arc::new(SqlStore::sqlite(dir.join("admin.db")).await?);
    let sealer = Sealer::new(KeyRing::new("admin-example", SealingKey::generate()));
    let connections = Connections::new(store.clone(), sealer.clone(), store.clone());
    let tenant = TenantId::new("acme")?;

    // Adapters are built by the registry, OAuth tokens kept sealed in the same database.
    let mut registry = Registry::with_context(BuildContext::default().with_tokens(store.clone(), sealer.clone()));
    integration_hris::register_all(&mut registry)?;
    integration_storage::register_all(&mut registry)?;
    let registry = Arc::new(registry);

    // BambooHR, connected as in the quickstart, synced every ten minutes (or "Sync now").
    let hr = ConnectionId::new("bamboohr")?;
    connections.save(&bamboohr.config(tenant.clone(), hr.clone())).await?;
    let hris = registry.build(connections.load(&tenant, &hr).await?)?;
    hris.connect().await?;
    connections.set_status(&tenant, &hr, ConnectionStatus::Active).await?;
    let engine = SyncEngine::new(store.clone(), store.clone(), "admin-example");
    let scheduler = Arc::new(
        EmbeddedScheduler::new(engine.clone()).with_backoff(Duration::from_secs(30), Duration::from_secs(600)),
    );
    let job = SyncJob::new(tenant.clone(), hr.clone(), "employees", SyncMode::Incremental);
    scheduler.add(Schedule::every(hris.clone(), job, Duration::from_secs(600)).with_jitter(Duration::ZERO));

    // Webhooks: BambooHR's signed posts, verified, recorded, applied by a worker; a delivery
    // that keeps failing is dead-lettered after three attempts, for the console to replay.
    let endpoints = Arc::new(StaticEndpoints::new());
    let router = Arc::new(WebhookRouter::new(endpoints.clone(), store.clone(), store.clone()));
    let adapters = Arc::new(Adapters::new());
    adapters.insert(tenant.clone(), hr.clone(), hris.clone());
    let worker = DeliveryWorker::new(store.clone(), Arc::new(ApplyToCache::new(adapters.clone(), engine.clone())))
        .with_max_attempts(3)
        .with_backoff(Duration::from_millis(200), Duration::from_secs(2));

    // New connections made in the console are scheduled, and their webhooks applied.
    let (hook_scheduler, hook_adapters) = (scheduler.clone(), adapters.clone());
    let on_connect: OnConnect = Arc::new(move |tenant, connection, adapter| {
        hook_adapters.insert(tenant.clone(), connection.clone(), adapter.clone());
        for stream in &adapter.descriptor().streams {
            let job = SyncJob::new(tenant.clone(), connection.clone(), stream.name.clone(), stream.usual_mode());
            hook_scheduler.add(Schedule::every(adapter.clone(), job, Duration::from_secs(600)));
        }
    });

    let notifier = Notifier::new(store.clone(), store.clone(), store.clone(), store.clone())
        .with_automations(store.clone())
        .with_tokens(store.clone(), sealer.clone());

    // The SDK records through the metrics facade; the host picks the exporter.
    let metrics = metrics_exporter_prometheus::PrometheusBuilder::new().install_recorder().ok();
    integration_core::telemetry::describe();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let console_url = format!("http://{address}/admin/");
    let session = {
        let bytes = integration_core::crypto::random_bytes(24)?;
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    };
    let mut drive_app = OAuthApp::new(google_drive::CLIENT_ID, google_drive::CLIENT_SECRET);
    for (key, value) in drive.oauth_settings() {
        drive_app = drive_app.with_setting(key, value);
    }
    let console = Console::new(
        connections.clone(),
        store.clone(),
        store.clone(),
        registry.clone(),
        Arc::new(DemoSessions { token: session.clone(), tenant: tenant.clone() }),
        console_url.parse()?,
    )?
    .with_automations(store.clone())
    .with_audit(store.clone())
    .with_scheduler(scheduler.clone())
    .with_engine(engine.clone())
    .with_oauth_app("google_drive", drive_app)
    .with_notifier(notifier.clone())
    .on_connect(on_connect);

    let login_session = session.clone();
    let app = axum::Router::new()
        .merge(console.router())
        .nest("/webhooks", integration_core::webhook::axum::routes(router))
        .route(
            "/login",
            axum::routing::get(move |query: axum::extract::Query<std::collections::HashMap<String, String>>| {
                let expected = login_session.clone();
                async move {
                    let given = query.get("token").cloned().unwrap_or_default();
                    if !constant_time_eq(given.as_bytes(), expected.as_bytes()) {
                        return (http::StatusCode::FORBIDDEN, "wrong token").into_response();
                    }
                    let cookie = format!("demo_session={given}; Path=/; HttpOnly; SameSite=Lax");
                    (
                        http::StatusCode::SEE_OTHER,
                        [(http::header::SET_COOKIE, cookie), (http::header::LOCATION, "/admin/".to_owned())],
                    )
                        .into_response()
                }
            }),
        )
        .route(
            "/metrics",
            axum::routing::get(move || {
                let rendered = metrics.as_ref().map(|m| m.render()).unwrap_or_default();
                async move { rendered }
            }),
        );
    let shutdown = CancellationToken::new();
    let stop = shutdown.clone();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).with_graceful_shutdown(stop.cancelled_owned()).await;
    });

    // BambooHR posts its webhooks to the server.
    let private_key = bamboohr.add_webhook(&format!("http://{address}/webhooks/bamboohr/acme-hr"));
    let endpoint = Endpoint::new(
        tenant.clone(),
        hr.clone(),
        ProviderId::new(bamboohr::PROVIDER)?,
        bamboohr::webhook_scheme(),
        vec![WebhookSecret::new(private_key)],
    );
    endpoints.add_endpoint("acme-hr", endpoint)?;

    // The background work: the scheduler, the webhook worker, a notification check a minute.
    let (run_scheduler, stop) = (scheduler.clone(), shutdown.clone());
    tokio::spawn(async move { run_scheduler.run(stop).await });
    let (wake, stop) = (Arc::new(tokio::sync::Notify::new()), shutdown.clone());
    tokio::spawn(async move { worker.run(wake, Duration::from_millis(200), stop.cancelled_owned()).await });
    let (check, check_tenant, stop) = (notifier.clone(), tenant.clone(), shutdown.clone());
    tokio::spawn(async move {
        loop {
            if let Err(e) = check.check(&check_tenant).await {
                eprintln!("notification check failed: {e}");
            }
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(Duration::from_secs(60)) => {}
            }
        }
    });
    let mut heard = notifier.subscribe();
    tokio::spawn(async move {
        while let Ok(notification) = heard.recv().await {
            println!("notification: {notification}");
        }
    });

    Ok(Served {
        login: format!("http://{address}/login?token={session}"),
        console: console_url,
        session,
        tenant,
        bamboohr,
        drive,
        store,
        shutdown,
    })
}

use axum::response::IntoResponse as _;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
#[allow(dead_code)]
async fn main() -> Result<(), Box<dyn Error>> {
    let dir = std::env::temp_dir().join(format!("integrations-admin-{}", std::process::id()));
    let served = serve(&dir).await?;
    println!("the admin console: {}", served.console);
    println!("sign in (sets the session cookie): {}", served.login);
    println!("metrics: {}", served.console.replace("/admin/", "/metrics"));
    println!("Ctrl-C stops it.");
    tokio::signal::ctrl_c().await?;
    served.shutdown.cancel();
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
