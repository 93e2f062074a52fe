//! What a store function needs of a connection inside a write transaction, from either
//! driver: sqlx's connection (most writes) or the synchronous writer ([`super::SyncTx`],
//! the hot writes). A function written against [`Exec`] is written once for both, with
//! one SQL text per statement ([`Sql`]).
//!
//! On the synchronous writer every future is ready when it is made: the statement has
//! run on the calling thread, with no trip to sqlx's worker thread.

use std::future::Future;

use serde::de::DeserializeOwned;
use sqlx::pool::PoolConnection;
use sqlx::{Row, Sqlite};

use super::sql::Sql;
use super::{Conn, WriteTx};
use crate::error::Ec2Error;

/// A failed statement, from either driver.
#[derive(Debug)]
pub enum DbError {
    Sqlx(sqlx::Error),
    Sqlite(rusqlite::Error),
    /// A stored document that does not decode.
    Decode(serde_json::Error),
}

impl DbError {
    /// Whether this is a unique-constraint violation on `table.column`.
    pub fn is_unique_violation(&self, table_column: &str) -> bool {
        match self {
            DbError::Sqlx(err) => super::is_unique_violation(err, table_column),
            DbError::Sqlite(rusqlite::Error::SqliteFailure(code, Some(message))) => {
                code.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE && message.contains(table_column)
            }
            _ => false,
        }
    }
}

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DbError::Sqlx(err) => err.fmt(f),
            DbError::Sqlite(err) => err.fmt(f),
            DbError::Decode(err) => write!(f, "undecodable row document: {err}"),
        }
    }
}

impl From<sqlx::Error> for DbError {
    fn from(err: sqlx::Error) -> DbError {
        DbError::Sqlx(err)
    }
}

impl From<rusqlite::Error> for DbError {
    fn from(err: rusqlite::Error) -> DbError {
        DbError::Sqlite(err)
    }
}

impl From<DbError> for Ec2Error {
    fn from(err: DbError) -> Ec2Error {
        tracing::error!(error = %err, "database error");
        Ec2Error::internal()
    }
}

/// Statements inside a write transaction.
pub trait Exec: Send {
    /// Runs a statement that answers no rows; how many rows it changed.
    fn execute(&mut self, sql: &Sql) -> impl Future<Output = Result<u64, DbError>> + Send;

    /// Each row's first column, a JSON document, decoded (the describe queries' shape).
    fn docs<T: DeserializeOwned + Send>(&mut self, sql: &Sql) -> impl Future<Output = Result<Vec<T>, DbError>> + Send;

    /// Each row's first column, as text (NULL as none).
    fn texts(&mut self, sql: &Sql) -> impl Future<Output = Result<Vec<Option<String>>, DbError>> + Send;
}

pub(crate) fn decode<T: DeserializeOwned>(doc: &str) -> Result<T, DbError> {
    serde_json::from_str(doc).map_err(DbError::Decode)
}

impl Exec for Conn {
    async fn execute(&mut self, sql: &Sql) -> Result<u64, DbError> {
        Ok(sql.query().execute(&mut *self).await?.rows_affected())
    }

    async fn docs<T: DeserializeOwned + Send>(&mut self, sql: &Sql) -> Result<Vec<T>, DbError> {
        let rows = sql.query().fetch_all(&mut *self).await?;
        rows.iter().map(|row| decode(row.try_get::<&str, _>(0)?)).collect()
    }

    async fn texts(&mut self, sql: &Sql) -> Result<Vec<Option<String>>, DbError> {
        let rows = sql.query().fetch_all(&mut *self).await?;
        Ok(rows.iter().map(|row| row.try_get(0)).collect::<Result<_, _>>()?)
    }
}

/// Connections that are sqlx's connection underneath.
macro_rules! exec_through_deref {
    ($($ty:ty),*) => {$(
        impl Exec for $ty {
            fn execute(&mut self, sql: &Sql) -> impl Future<Output = Result<u64, DbError>> + Send {
                <Conn as Exec>::execute(&mut *self, sql)
            }

            fn docs<T: DeserializeOwned + Send>(
                &mut self,
                sql: &Sql,
            ) -> impl Future<Output = Result<Vec<T>, DbError>> + Send {
                <Conn as Exec>::docs(&mut *self, sql)
            }

            fn texts(&mut self, sql: &Sql) -> impl Future<Output = Result<Vec<Option<String>>, DbError>> + Send {
                <Conn as Exec>::texts(&mut *self, sql)
            }
        }
    )*};
}

exec_through_deref!(WriteTx, PoolConnection<Sqlite>);
