//! The texts of the statements that write a page of records, each built once per backend and
//! row count, then reused.
//!
//! A page's statements carry hundreds of rows (`VALUES (?, ?, ...), (...)`): building that text
//! costs more than binding the values, and an unchanged text is what lets sqlx reuse the
//! prepared statement.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::Backend;

/// How many texts are kept before the cache starts over (pages of a few sizes recur; a stream
/// of odd sizes should not grow it without bound).
const KEPT: usize = 64;

/// The statements a page writes with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum PageSql {
    /// The cached rows of some remote ids.
    LoadRows,
    /// Insert or update rows.
    UpsertRows,
    /// Mark unchanged rows as seen by a run.
    MarkSeen,
    /// Append change-log entries.
    AppendChanges,
}

/// The cache of one store's page statement texts, shared by its clones.
#[derive(Debug)]
pub(crate) struct PageSqlCache {
    backend: Backend,
    texts: Mutex<HashMap<(PageSql, usize), Arc<str>>>,
}

impl PageSqlCache {
    /// An empty cache for `backend`'s dialect.
    pub(crate) fn new(backend: Backend) -> Self {
        Self { backend, texts: Mutex::default() }
    }

    /// The text of `kind` for `rows` rows.
    pub(crate) fn get(&self, kind: PageSql, rows: usize) -> Arc<str> {
        let mut texts = self.texts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(text) = texts.get(&(kind, rows)) {
            return text.clone();
        }
        if texts.len() >= KEPT {
            texts.clear();
        }
        let text: Arc<str> = kind.build(self.backend, rows).into();
        texts.insert((kind, rows), text.clone());
        text
    }
}

impl PageSql {
    fn build(self, backend: Backend, rows: usize) -> String {
        let p = |i| placeholders(backend, i, 1);
        let for_update = backend.for_update();
        match self {
            Self::LoadRows => format!(
                "SELECT remote_id, data, remote_data, hash, modified_at, deleted FROM records \
                 WHERE tenant = {} AND connection = {} AND stream = {} AND remote_id IN ({}){for_update}",
                p(1),
                p(2),
                p(3),
                placeholders(backend, 4, rows),
            ),
            // What every row shares is bound once (`k`), the rest per row (`v`): 6 values a row,
            // not 12. (`WHERE true` tells SQLite's parser the ON CONFLICT is the upsert's.)
            Self::UpsertRows => format!(
                "INSERT INTO records (tenant, connection, stream, remote_id, data, remote_data, hash, modified_at, deleted, \
                 seen_by, created_at, updated_at) \
                 SELECT k.tenant, k.connection, k.stream, v.column1, v.column2, v.column3, v.column4, v.column5, \
                 v.column6, k.seen_by, k.now, k.now \
                 FROM (SELECT {} AS tenant, {} AS connection, {} AS stream, {} AS seen_by, {} AS now) AS k, \
                 (VALUES {}) AS v WHERE true \
                 ON CONFLICT (tenant, connection, stream, remote_id) DO UPDATE \
                 SET data = excluded.data, remote_data = excluded.remote_data, hash = excluded.hash, \
                 modified_at = excluded.modified_at, deleted = excluded.deleted, \
                 seen_by = COALESCE(excluded.seen_by, records.seen_by), updated_at = excluded.updated_at",
                p(1),
                p(2),
                p(3),
                p(4),
                p(5),
                row_placeholders(backend, 6, 6, rows)
            ),
            Self::MarkSeen => format!(
                "UPDATE records SET seen_by = {} WHERE tenant = {} AND connection = {} AND stream = {} AND remote_id IN ({})",
                p(1),
                p(2),
                p(3),
                p(4),
                placeholders(backend, 5, rows)
            ),
            Self::AppendChanges => format!(
                "INSERT INTO changes (tenant, seq, connection, stream, remote_id, kind, data, previous, at) \
                 SELECT k.tenant, v.column1, k.connection, k.stream, v.column2, v.column3, v.column4, v.column5, k.at \
                 FROM (SELECT {} AS tenant, {} AS connection, {} AS stream, {} AS at) AS k, (VALUES {}) AS v",
                p(1),
                p(2),
                p(3),
                p(4),
                row_placeholders(backend, 5, 5, rows)
            ),
        }
    }
}

/// `n` placeholders numbered from `first`, for parameters bound in textual order: `$first, ...`
/// on PostgreSQL; anonymous `?` on SQLite, where numbered ones make binding quadratic in the
/// number of parameters (SQLite scans a list to name each).
fn placeholders(backend: Backend, first: usize, n: usize) -> String {
    let mut out = String::with_capacity(n * 6);
    for i in first..first + n {
        if i > first {
            out.push_str(", ");
        }
        match backend {
            Backend::Sqlite => out.push('?'),
            Backend::Postgres => {
                out.push('$');
                out.push_str(itoa::Buffer::new().format(i));
            }
        }
    }
    out
}

/// `rows` parenthesized groups of `per_row` placeholders, numbered from `first`.
fn row_placeholders(backend: Backend, first: usize, per_row: usize, rows: usize) -> String {
    let mut out = String::with_capacity(rows * (per_row * 6 + 4));
    for r in 0..rows {
        if r > 0 {
            out.push_str(", ");
        }
        out.push('(');
        out.push_str(&placeholders(backend, first + r * per_row, per_row));
        out.push(')');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_on_postgres_and_anonymous_on_sqlite() {
        assert_eq!(row_placeholders(Backend::Postgres, 1, 2, 2), "($1, $2), ($3, $4)");
        assert_eq!(row_placeholders(Backend::Sqlite, 1, 2, 2), "(?, ?), (?, ?)");
        assert_eq!(placeholders(Backend::Postgres, 4, 3), "$4, $5, $6");
    }

    #[test]
    fn texts_are_built_once_and_shared() {
        let cache = PageSqlCache::new(Backend::Postgres);
        let a = cache.get(PageSql::MarkSeen, 2);
        assert!(a.ends_with("remote_id IN ($5, $6)"), "{a}");
        assert!(Arc::ptr_eq(&a, &cache.get(PageSql::MarkSeen, 2)));
        assert!(!Arc::ptr_eq(&a, &cache.get(PageSql::MarkSeen, 3)));
        for rows in 0..2 * KEPT {
            cache.get(PageSql::LoadRows, rows);
        }
        assert!(cache.texts.lock().unwrap().len() <= KEPT, "the cache stays bounded");
    }
}
