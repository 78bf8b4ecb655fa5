//! Fresh stores for tests: a new SQLite file, or a new PostgreSQL schema, per test.

#![allow(dead_code, unreachable_pub)]

use integration_store::SqlStore;
use sqlx::Connection as _;

/// A new SQLite database in Cargo's per-target temp folder.
pub async fn sqlite() -> Option<SqlStore> {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("integration-store");
    std::fs::create_dir_all(&dir).expect("temp folder");
    let path = dir.join(format!("{}.db", uuid::Uuid::now_v7()));
    Some(SqlStore::sqlite(&path).await.expect("open SQLite"))
}

/// The PostgreSQL server tests use: `INTEGRATIONS_TEST_POSTGRES_URL`, or the local one.
pub fn postgres_url() -> String {
    std::env::var("INTEGRATIONS_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A store in a new schema of the test server; a server that does not answer fails the test
/// (with what to do).
pub async fn postgres() -> Option<SqlStore> {
    let url = postgres_schema().await?;
    Some(SqlStore::connect(&url, 4).await.expect("connect to PostgreSQL"))
}

/// The URL of a new, empty schema of the test server (see [`postgres`]).
pub async fn postgres_schema() -> Option<String> {
    let url = postgres_url();
    let mut admin = match sqlx::PgConnection::connect(&url).await {
        Ok(c) => c,
        // A test that could not run is never reported as passed.
        Err(e) => panic!(
            "PostgreSQL at {url} is unavailable ({e}): start one there (user postgres, trust auth) or set INTEGRATIONS_TEST_POSTGRES_URL"
        ),
    };
    let now = chrono::Utc::now().timestamp();
    // Drop what earlier runs left behind (schemas are named itest_<unix seconds>_<random>).
    let old: Vec<(String,)> = sqlx::query_as("SELECT nspname::text FROM pg_namespace WHERE nspname LIKE 'itest\\_%'")
        .fetch_all(&mut admin)
        .await
        .expect("list schemas");
    for (name,) in old {
        let born = name.split('_').nth(1).and_then(|t| t.parse::<i64>().ok()).unwrap_or(0);
        if now - born > 3600 {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE")))
                .execute(&mut admin)
                .await;
        }
    }
    let schema = format!("itest_{now}_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA \"{schema}\"")))
        .execute(&mut admin)
        .await
        .expect("create schema");
    let separator = if url.contains('?') { '&' } else { '?' };
    Some(format!("{url}{separator}options=-c%20search_path%3D{schema}"))
}
