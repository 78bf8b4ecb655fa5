//! Column values to and from the core types, and database errors to [`Error`].

use chrono::{DateTime, TimeZone, Utc};
use integration_core::{Error, ErrorKind, Result};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::any::AnyRow;
use sqlx::{ColumnIndex, Decode, Row, Type};

/// A database error as a [`Storage`](ErrorKind::Storage) error; lost connections and pool
/// exhaustion are retryable.
pub(crate) fn db(operation: &str, e: sqlx::Error) -> Error {
    let retryable = matches!(
        e,
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed
    );
    Error::new(ErrorKind::Storage, format!("the store failed to {operation}: {e}"))
        .with_operation(operation.to_owned())
        .with_retryable(retryable)
        .with_source(e)
}

/// Data read back that does not decode: the database holds something we did not write.
pub(crate) fn corrupt(what: &str, detail: impl std::fmt::Display) -> Error {
    Error::storage(format!("the stored {what} does not decode: {detail}"))
}

pub(crate) fn micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

pub(crate) fn time(micros: i64) -> Result<DateTime<Utc>> {
    Utc.timestamp_micros(micros).single().ok_or_else(|| corrupt("time", micros))
}

pub(crate) fn opt_time(micros: Option<i64>) -> Result<Option<DateTime<Utc>>> {
    micros.map(time).transpose()
}

pub(crate) fn get<'r, T, I>(row: &'r AnyRow, index: I) -> Result<T>
where
    T: Decode<'r, sqlx::Any> + Type<sqlx::Any>,
    I: ColumnIndex<AnyRow> + std::fmt::Display + Copy,
{
    row.try_get(index).map_err(|e| corrupt(&format!("column {index}"), e))
}

pub(crate) fn int<I>(row: &AnyRow, index: I) -> Result<i64>
where
    I: ColumnIndex<AnyRow> + std::fmt::Display + Copy,
{
    get::<i64, I>(row, index)
}

pub(crate) fn text(row: &AnyRow, column: &str) -> Result<String> {
    get::<String, _>(row, column)
}

pub(crate) fn opt_text(row: &AnyRow, column: &str) -> Result<Option<String>> {
    get::<Option<String>, _>(row, column)
}

pub(crate) fn to_json<T: Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| Error::storage(format!("a value does not serialize: {e}")))
}

pub(crate) fn from_json<T: DeserializeOwned>(what: &str, text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| corrupt(what, e))
}

/// A unit enum with serde names (`"reauthorization_required"`) as text.
pub(crate) fn enum_text<T: Serialize>(value: &T) -> Result<String> {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => Ok(s),
        _ => Err(Error::storage("an enum does not serialize to text")),
    }
}

pub(crate) fn enum_from_text<T: DeserializeOwned>(what: &str, text: String) -> Result<T> {
    serde_json::from_value(serde_json::Value::String(text)).map_err(|e| corrupt(what, e))
}

/// An id read back (validated when written, so a failure means corruption).
pub(crate) fn id<T>(what: &str, text: String) -> Result<T>
where
    T: TryFrom<String, Error = Error>,
{
    T::try_from(text).map_err(|e| corrupt(what, e))
}

pub(crate) fn u64_of(value: i64) -> u64 {
    u64::try_from(value).unwrap_or_default()
}

pub(crate) fn i64_of(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}
