//! SQL implementations of the integrations SDK's store traits: [`SqlStore`] on SQLite (the
//! embedded default: one file, WAL, nothing to install) or PostgreSQL (many workers sharing one
//! database).
//!
//! One implementation serves both backends: every column is portable (times as Unix
//! microseconds, ids and JSON as text, bodies as bytes), and the few differences — migrations,
//! `FOR UPDATE SKIP LOCKED`, the fencing-token sequence, PostgreSQL's advisory locks where SQLite
//! has its write lock — are a [`Backend`] switch. Migrations run on connect. Every store trait of `integration_core::store` is implemented, and the testkit's
//! store contract suite runs against both backends.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use integration_core::store::{StateStore, StreamScope};
//! use integration_core::{Checkpoint, ConnectionId, TenantId};
//! use integration_store::SqlStore;
//!
//! let dir = std::env::temp_dir().join(format!("integrations-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let store = SqlStore::sqlite(dir.join("integrations.db")).await.unwrap();
//!
//! let scope = StreamScope::new(TenantId::new("acme").unwrap(), ConnectionId::new("hr").unwrap(), "employees");
//! store.put_checkpoint(&scope, &Checkpoint::new(serde_json::json!({"page": 2})), None).await.unwrap();
//! assert_eq!(store.checkpoint(&scope).await.unwrap().unwrap().checkpoint.as_value()["page"], 2);
//! # std::fs::remove_dir_all(&dir).ok();
//! # });
//! ```

mod audit;
mod automation;
mod codec;
mod config;
mod delivery;
mod idempotency;
mod page_sql;
mod record;
#[cfg(feature = "sso")]
mod sso;
mod state;
mod token;

use std::fmt;
use std::path::Path;
use std::sync::{Arc, Once};

use integration_core::clock::{Clock, SystemClock};
use integration_core::{Error, Result};
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{Any, AnyPool, Transaction};

use crate::codec::db;

/// Which database a [`SqlStore`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Backend {
    /// SQLite: one process, one file.
    Sqlite,
    /// PostgreSQL: many processes, one database.
    Postgres,
}

impl Backend {
    /// ` FOR UPDATE` where the database locks rows a transaction reads (PostgreSQL); nothing on
    /// SQLite, whose write transactions hold the whole database.
    pub(crate) fn for_update(self) -> &'static str {
        match self {
            Self::Sqlite => "",
            Self::Postgres => " FOR UPDATE",
        }
    }
}

/// Every store trait over one SQL database.
#[derive(Clone)]
pub struct SqlStore {
    pool: AnyPool,
    backend: Backend,
    clock: Arc<dyn Clock>,
    page_sql: Arc<page_sql::PageSqlCache>,
}

impl fmt::Debug for SqlStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqlStore").field("backend", &self.backend).finish_non_exhaustive()
    }
}

static DRIVERS: Once = Once::new();

impl SqlStore {
    /// Opens (creating it if needed) the SQLite database at `path`, in WAL mode, and migrates it.
    #[cfg(feature = "sqlite")]
    pub async fn sqlite(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = path.to_str().ok_or_else(|| {
            Error::config(format!("the SQLite path {} is not valid UTF-8", path.display())).with_field("path")
        })?;
        Self::connect(&format!("sqlite://{text}?mode=rwc"), 4).await
    }

    /// Connects to the PostgreSQL database at `url` (`postgres://user@host:5432/db`) and
    /// migrates it.
    #[cfg(feature = "postgres")]
    pub async fn postgres(url: &str) -> Result<Self> {
        Self::connect(url, 8).await
    }

    /// Connects by URL (`sqlite://...` or `postgres://...`) with at most `max_connections`, and
    /// migrates.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self> {
        DRIVERS.call_once(install_default_drivers);
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(Error::config("a store URL starts with sqlite: or postgres:").with_field("url"));
        };
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections.max(1))
            .connect(url)
            .await
            .map_err(|e| db("connect", e))?;
        let page_sql = Arc::new(page_sql::PageSqlCache::new(backend));
        let store = Self { pool, backend, clock: Arc::new(SystemClock), page_sql };
        store.migrate().await?;
        Ok(store)
    }

    /// Uses `clock` for lease and claim expiry (tests).
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The backend.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The connection pool, for the host's own queries.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Applies the migrations not yet applied. Run by the constructors; idempotent.
    pub async fn migrate(&self) -> Result<()> {
        let migrator = match self.backend {
            Backend::Sqlite => sqlx::migrate!("./migrations/sqlite"),
            Backend::Postgres => sqlx::migrate!("./migrations/postgres"),
        };
        migrator
            .run(&self.pool)
            .await
            .map_err(|e| Error::storage(format!("migrating the {:?} store failed: {e}", self.backend)).with_source(e))
    }

    /// Closes the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// A write transaction. SQLite takes the write lock up front (`BEGIN IMMEDIATE`), so two
    /// writers queue on the busy timeout instead of failing to upgrade a read lock.
    pub(crate) async fn begin(&self) -> Result<Transaction<'static, Any>> {
        let statement = match self.backend {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN",
        };
        self.pool.begin_with(statement).await.map_err(|e| db("begin", e))
    }

    /// The next fencing token.
    pub(crate) async fn next_token(&self, tx: &mut Transaction<'static, Any>) -> Result<i64> {
        let sql = match self.backend {
            Backend::Sqlite => "UPDATE sequences SET value = value + 1 WHERE name = 'fencing' RETURNING value",
            Backend::Postgres => "SELECT nextval('fencing_tokens')",
        };
        let row = sqlx::query(sql).fetch_one(&mut **tx).await.map_err(|e| db("next token", e))?;
        codec::int(&row, 0)
    }

    /// `FOR UPDATE` where the database locks rows (SQLite's write transaction already excludes).
    pub(crate) fn for_update(&self) -> &'static str {
        self.backend.for_update()
    }

    pub(crate) fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }
}
