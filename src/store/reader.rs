//! The hot read path: read-only SQLite connections used synchronously, on the thread
//! that serves the request.
//!
//! sqlx runs each connection on a worker thread and carries every statement and every
//! row over a channel to it: three thread switches for a one-row lookup, which cost far
//! more than SQLite's own work. A point read here is a few microseconds of SQLite on the
//! calling thread, with the statement prepared once per connection and cached.
//!
//! Nothing is cached above SQLite: each read sees every transaction committed before it
//! began (WAL), so read-your-writes holds for every client, and several ec2lite
//! processes may share one database file.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use serde::de::DeserializeOwned;

use super::sql::Sql;
use crate::error::{Ec2Error, Result};

/// How many idle connections are kept: the server's worker threads, with room to spare.
const IDLE_MAX: usize = 8;
/// Distinct statement shapes each connection keeps prepared.
const STATEMENT_CACHE: usize = 256;

pub struct Reader {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl Reader {
    /// Opens the first read connection (the database and its WAL must exist).
    pub fn open(path: &Path) -> rusqlite::Result<Reader> {
        let reader = Reader { path: path.to_path_buf(), idle: Mutex::new(Vec::new()) };
        let first = reader.connect()?;
        reader.idle.lock().expect("not poisoned").push(first);
        Ok(reader)
    }

    fn connect(&self) -> rusqlite::Result<Connection> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&self.path, flags)?;
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Ok(conn)
    }

    /// Runs `read` on an idle connection (opening one if none is idle).
    pub fn run<T>(&self, read: impl FnOnce(&Db<'_>) -> Result<T>) -> Result<T> {
        let idle = self.idle.lock().expect("not poisoned").pop();
        let conn = match idle {
            Some(conn) => conn,
            None => self.connect()?,
        };
        let result = read(&Db { conn: &conn });
        let mut idle = self.idle.lock().expect("not poisoned");
        if idle.len() < IDLE_MAX {
            idle.push(conn);
        }
        result
    }
}

/// One read connection, lent for the length of a [`Reader::run`].
pub struct Db<'c> {
    conn: &'c Connection,
}

impl Db<'_> {
    /// Runs `sql` and maps each row with `map`.
    pub fn rows<T>(&self, sql: &Sql, mut map: impl FnMut(&rusqlite::Row<'_>) -> Result<T>) -> Result<Vec<T>> {
        tracing::trace!(sql = sql.text(), values = ?sql.values(), "read");
        let mut statement = self.conn.prepare_cached(sql.text())?;
        let mut rows = statement.query(rusqlite::params_from_iter(sql.values()))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(map(row)?);
        }
        Ok(out)
    }

    /// Each row's first column, a JSON document, decoded (the shape of the describe queries).
    pub fn docs<T: DeserializeOwned>(&self, sql: &Sql) -> Result<Vec<T>> {
        self.rows(sql, |row| {
            let doc = row.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?;
            serde_json::from_str(doc).map_err(|err| {
                tracing::error!(error = %err, "undecodable row document");
                Ec2Error::internal()
            })
        })
    }

    /// Each row's first column, as text.
    pub fn texts(&self, sql: &Sql) -> Result<Vec<String>> {
        self.rows(sql, |row| Ok(row.get(0)?))
    }
}

impl From<rusqlite::Error> for Ec2Error {
    fn from(err: rusqlite::Error) -> Self {
        tracing::error!(error = %err, "database error (read)");
        Ec2Error::internal()
    }
}

/// Applies the migrations sqlx embeds (`migrations/`), on one synchronous connection and
/// in one transaction: sqlx's own runner carries every statement to its worker thread,
/// which made start-up on a fresh data directory cost tens of milliseconds of thread
/// switches. The bookkeeping is sqlx's `_sqlx_migrations` table, checksums included, so
/// `sqlx migrate` and this runner each see what the other applied.
///
/// Answers the connection: keep it open until the store's own are, or closing the last
/// connection checkpoints the WAL (an fsync) for nothing.
pub fn migrate(path: &Path) -> std::result::Result<Connection, MigrateError> {
    let migrator = sqlx::migrate!("./migrations");
    let mut conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "wal")?;
    conn.pragma_update(None, "synchronous", "normal")?;
    conn.pragma_update(None, "foreign_keys", true)?;
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    tx.execute_batch(
        "create table if not exists _sqlx_migrations (version bigint primary key, description text not null, \
         installed_on timestamp not null default current_timestamp, success boolean not null, \
         checksum blob not null, execution_time bigint not null)",
    )?;
    let applied: std::collections::HashMap<i64, (bool, Vec<u8>)> = tx
        .prepare("select version, success, checksum from _sqlx_migrations")?
        .query_map([], |row| Ok((row.get(0)?, (row.get(1)?, row.get(2)?))))?
        .collect::<rusqlite::Result<_>>()?;
    for migration in migrator.iter() {
        match applied.get(&migration.version) {
            Some((true, checksum)) if checksum[..] == migration.checksum[..] => continue,
            Some((true, _)) => return Err(MigrateError::Changed(migration.version)),
            Some((false, _)) => return Err(MigrateError::Dirty(migration.version)),
            None => {}
        }
        let started = std::time::Instant::now();
        tx.execute_batch(&migration.sql)?;
        tx.execute(
            "insert into _sqlx_migrations (version, description, success, checksum, execution_time) \
             values (?, ?, 1, ?, ?)",
            rusqlite::params![
                migration.version,
                &*migration.description,
                &*migration.checksum,
                started.elapsed().as_nanos() as i64
            ],
        )?;
    }
    tx.commit()?;
    Ok(conn)
}

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("database: {0}")]
    Database(#[from] rusqlite::Error),
    #[error("migration {0} was applied with other contents than this build's")]
    Changed(i64),
    #[error("migration {0} was left half-applied")]
    Dirty(i64),
}
