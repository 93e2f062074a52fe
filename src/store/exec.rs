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
    /// A column read as required that holds NULL or an unknown value.
    Column(usize),
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
            DbError::Column(n) => write!(f, "column {n} holds no value its reader accepts"),
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

    /// Each row decoded column by column with `decode`.
    fn records<T: Send>(
        &mut self,
        sql: &Sql,
        decode: Decoder<T>,
    ) -> impl Future<Output = Result<Vec<T>, DbError>> + Send;
}

/// Decodes one row, read through either driver.
pub type Decoder<T> = fn(&mut Cursor<'_, dyn Columns + '_>) -> Result<T, DbError>;

/// A result row of either driver, read by position.
pub trait Columns {
    fn text(&self, n: usize) -> Result<Option<&str>, DbError>;
    fn int(&self, n: usize) -> Result<Option<i64>, DbError>;
}

impl Columns for rusqlite::Row<'_> {
    fn text(&self, n: usize) -> Result<Option<&str>, DbError> {
        Ok(self.get_ref(n)?.as_str_or_null().map_err(rusqlite::Error::from)?)
    }

    fn int(&self, n: usize) -> Result<Option<i64>, DbError> {
        Ok(self.get_ref(n)?.as_i64_or_null().map_err(rusqlite::Error::from)?)
    }
}

impl Columns for sqlx::sqlite::SqliteRow {
    fn text(&self, n: usize) -> Result<Option<&str>, DbError> {
        Ok(self.try_get(n)?)
    }

    fn int(&self, n: usize) -> Result<Option<i64>, DbError> {
        Ok(self.try_get(n)?)
    }
}

/// Reads a row's columns in the order its statement lists them, so that a decoder is
/// written beside its column list and reads like it.
pub struct Cursor<'r, C: Columns + ?Sized> {
    row: &'r C,
    next: usize,
}

impl<'r, C: Columns + ?Sized> Cursor<'r, C> {
    pub fn new(row: &'r C) -> Self {
        Cursor { row, next: 0 }
    }

    fn advance(&mut self) -> usize {
        self.next += 1;
        self.next - 1
    }

    /// Passes over the next `n` columns.
    pub fn skip(&mut self, n: usize) {
        self.next += n;
    }

    /// The next column, which may be NULL.
    pub fn text_or_null(&mut self) -> Result<Option<&'r str>, DbError> {
        let n = self.advance();
        self.row.text(n)
    }

    /// The next column, which must hold text.
    pub fn text(&mut self) -> Result<&'r str, DbError> {
        let n = self.next;
        self.text_or_null()?.ok_or(DbError::Column(n))
    }

    pub fn string(&mut self) -> Result<String, DbError> {
        self.text().map(str::to_owned)
    }

    pub fn string_or_null(&mut self) -> Result<Option<String>, DbError> {
        Ok(self.text_or_null()?.map(str::to_owned))
    }

    pub fn int_or_null(&mut self) -> Result<Option<i64>, DbError> {
        let n = self.advance();
        self.row.int(n)
    }

    /// The next column, which must hold an integer.
    pub fn int(&mut self) -> Result<i64, DbError> {
        let n = self.next;
        self.int_or_null()?.ok_or(DbError::Column(n))
    }

    /// The next column, a 0/1 flag.
    pub fn bool(&mut self) -> Result<bool, DbError> {
        Ok(self.int()? != 0)
    }

    /// The next column, a 0/1 flag that may be NULL.
    pub fn bool_or_null(&mut self) -> Result<Option<bool>, DbError> {
        Ok(self.int_or_null()?.map(|v| v != 0))
    }

    /// The next column, a JSON document.
    pub fn json<T: DeserializeOwned>(&mut self) -> Result<T, DbError> {
        decode(self.text()?)
    }

    /// The next column, a JSON array; the common empty one is not handed to the parser.
    pub fn json_list<T: DeserializeOwned>(&mut self) -> Result<Vec<T>, DbError> {
        match self.text()? {
            "[]" => Ok(Vec::new()),
            list => decode(list),
        }
    }

    /// The next column, parsed by `parse`.
    pub fn parsed<T>(&mut self, parse: impl FnOnce(&str) -> Option<T>) -> Result<T, DbError> {
        let n = self.next;
        parse(self.text()?).ok_or(DbError::Column(n))
    }
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

    async fn records<T: Send>(&mut self, sql: &Sql, decode: Decoder<T>) -> Result<Vec<T>, DbError> {
        let rows = sql.query().fetch_all(&mut *self).await?;
        rows.iter().map(|row| decode(&mut Cursor::new(row as &dyn Columns))).collect()
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

            fn records<T: Send>(
                &mut self,
                sql: &Sql,
                decode: Decoder<T>,
            ) -> impl Future<Output = Result<Vec<T>, DbError>> + Send {
                <Conn as Exec>::records(&mut *self, sql, decode)
            }
        }
    )*};
}

exec_through_deref!(WriteTx, PoolConnection<Sqlite>);
