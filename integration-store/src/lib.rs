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

/// How SQLite makes a commit durable (PostgreSQL's is its server's setting).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Durability {
    /// Every commit is synced to disk before it returns (`synchronous = FULL`): an
    /// acknowledged webhook, a committed checkpoint and its records survive a power cut. The
    /// default.
    #[default]
    Full,
    /// Commits are synced when the write-ahead log is checkpointed (`synchronous = NORMAL`):
    /// everything survives the process dying; a power cut or an operating-system crash may roll
    /// back the last commits — whole, never corrupting, a checkpoint with its records — so a
    /// webhook acknowledged just before is lost (the next sync still reads its change). On the
    /// scale bench's disk, 750 webhooks a second sustained instead of 500 (see the README's
    /// Performance).
    Normal,
}

/// Every store trait over one SQL database.
#[derive(Clone)]
pub struct SqlStore {
    /// Reads (and, on PostgreSQL, writes too).
    pool: AnyPool,
    /// Writes: on SQLite a pool of one connection, so the process's writers queue for it in
    /// order instead of sleeping in SQLite's busy handler; on PostgreSQL the same pool.
    writer: AnyPool,
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

/// Puts the SQLite file at `url` in write-ahead-log mode (kept in the file), before any
/// pool opens it: readers then never wait for the writer, nor it for them, and a commit is one
/// append to the log, synced (`synchronous` stays `FULL`: an acknowledged webhook or a
/// committed checkpoint survives a power cut). The switch needs the file to itself, so it is
/// made on a connection of its own.
#[cfg(feature = "sqlite")]
async fn write_ahead_log(url: &str) -> Result<()> {
    use sqlx::{Connection as _, Row as _};
    let mut connection = sqlx::AnyConnection::connect(url).await.map_err(|e| db("connect", e))?;
    let row = sqlx::query("PRAGMA journal_mode = WAL")
        .fetch_one(&mut connection)
        .await
        .map_err(|e| db("switch to write-ahead logging", e))?;
    let mode: String = row.try_get(0).map_err(|e| db("switch to write-ahead logging", e))?;
    connection.close().await.map_err(|e| db("switch to write-ahead logging", e))?;
    if mode != "wal" {
        return Err(Error::storage(format!(
            "SQLite kept the {mode} journal instead of write-ahead logging: is the file on a network file system?"
        )));
    }
    Ok(())
}

#[cfg(not(feature = "sqlite"))]
async fn write_ahead_log(_url: &str) -> Result<()> {
    Ok(())
}

impl SqlStore {
    /// Opens (creating it if needed) the SQLite database at `path`, in write-ahead-log mode, and
    /// migrates it. Every commit is synced to disk before it returns ([`Durability::Full`]).
    /// Four connections read; one writes, and the process's writers queue for it in order.
    #[cfg(feature = "sqlite")]
    pub async fn sqlite(path: impl AsRef<Path>) -> Result<Self> {
        Self::sqlite_with(path, Durability::Full).await
    }

    /// Opens the SQLite database at `path` as [`SqlStore::sqlite`] does, its commits made
    /// durable as `durability` says.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use integration_store::{Durability, SqlStore};
    ///
    /// let dir = std::env::temp_dir().join(format!("integrations-durability-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// // Survives the process dying; a power cut may roll back the last commits.
    /// let store = SqlStore::sqlite_with(dir.join("integrations.db"), Durability::Normal).await.unwrap();
    /// # drop(store);
    /// # std::fs::remove_dir_all(&dir).ok();
    /// # });
    /// ```
    #[cfg(feature = "sqlite")]
    pub async fn sqlite_with(path: impl AsRef<Path>, durability: Durability) -> Result<Self> {
        let path = path.as_ref();
        let text = path.to_str().ok_or_else(|| {
            Error::config(format!("the SQLite path {} is not valid UTF-8", path.display())).with_field("path")
        })?;
        Self::open(&format!("sqlite://{text}?mode=rwc"), 4, durability).await
    }

    /// Connects to the PostgreSQL database at `url` (`postgres://user@host:5432/db`) and
    /// migrates it.
    #[cfg(feature = "postgres")]
    pub async fn postgres(url: &str) -> Result<Self> {
        Self::connect(url, 8).await
    }

    /// Connects by URL (`sqlite://...` or `postgres://...`) with at most `max_connections` for
    /// reading (on SQLite, one more writes), and migrates. An in-memory SQLite database
    /// (`sqlite::memory:`) is served by one connection, kept open: each connection would
    /// otherwise have a database of its own.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self> {
        Self::open(url, max_connections, Durability::Full).await
    }

    async fn open(url: &str, max_connections: u32, durability: Durability) -> Result<Self> {
        DRIVERS.call_once(install_default_drivers);
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(Error::config("a store URL starts with sqlite: or postgres:").with_field("url"));
        };
        // An in-memory SQLite database lives in its connection (each connection opened on
        // `sqlite::memory:` has its own): one connection, kept open, serves it all. It has no
        // file to log ahead of nor to sync.
        let in_memory = backend == Backend::Sqlite && (url.contains(":memory:") || url.contains("mode=memory"));
        if backend == Backend::Sqlite && !in_memory {
            write_ahead_log(url).await?;
        }
        let options = if in_memory {
            AnyPoolOptions::new().max_connections(1).min_connections(1).idle_timeout(None).max_lifetime(None)
        } else {
            AnyPoolOptions::new().max_connections(max_connections.max(1))
        };
        let pool = options.connect(url).await.map_err(|e| db("connect", e))?;
        let writer = match backend {
            _ if in_memory => pool.clone(),
            Backend::Sqlite => AnyPoolOptions::new()
                .max_connections(1)
                .after_connect(move |conn, _| {
                    Box::pin(async move {
                        let pragma = match durability {
                            Durability::Full => "PRAGMA synchronous = FULL",
                            Durability::Normal => "PRAGMA synchronous = NORMAL",
                        };
                        sqlx::query(pragma).execute(conn).await?;
                        Ok(())
                    })
                })
                .connect(url)
                .await
                .map_err(|e| db("connect", e))?,
            Backend::Postgres => pool.clone(),
        };
        let page_sql = Arc::new(page_sql::PageSqlCache::new(backend));
        let store = Self { pool, writer, backend, clock: Arc::new(SystemClock), page_sql };
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

    /// Closes the pools.
    pub async fn close(&self) {
        self.writer.close().await;
        self.pool.close().await;
    }

    /// A write transaction, on the writer connection. SQLite takes the write lock up front
    /// (`BEGIN IMMEDIATE`), so a writer in another process waits on the busy timeout instead of
    /// failing to upgrade a read lock.
    pub(crate) async fn begin(&self) -> Result<Transaction<'static, Any>> {
        let statement = match self.backend {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN",
        };
        self.writer.begin_with(statement).await.map_err(|e| db("begin", e))
    }

    /// Where a statement that writes outside a transaction runs (see [`SqlStore::begin`]).
    pub(crate) fn writer(&self) -> &AnyPool {
        &self.writer
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
