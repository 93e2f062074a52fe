//! The schema: the migrations under `migrations/`, applied at start-up.

use std::path::Path;
use std::time::Duration;

use rusqlite::Connection;

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
    let full = matches!(super::durability::sqlite_synchronous(), sqlx::sqlite::SqliteSynchronous::Full);
    conn.pragma_update(None, "synchronous", if full { "full" } else { "normal" })?;
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
