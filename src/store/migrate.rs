//! The schema: the migrations under `migrations/`, applied at start-up.

use std::path::Path;
use std::time::Duration;

use rusqlite::Connection;

/// What `migrations/` builds, as one script: `sqlite_schema` dumped after they are all
/// applied. A new database is made from it in one pass and the migrations are recorded
/// as applied. Replaying them costs three times as much (SQLite parses its whole schema
/// again after every `alter table`): 13 ms of a 23 ms cold start on a fresh data directory.
/// `tests::the_schema_is_the_migrations_applied` proves both give the same database;
/// after adding a migration, `EC2LITE_WRITE_SCHEMA=1 cargo test --lib schema` rewrites it.
const SCHEMA: &str = include_str!("schema.sql");

/// Applies the migrations sqlx embeds (`migrations/`), on one synchronous connection and
/// in one transaction: sqlx's own runner carries every statement to its worker thread,
/// which made start-up on a fresh data directory cost tens of milliseconds of thread
/// switches. The bookkeeping is sqlx's `_sqlx_migrations` table, checksums included, so
/// `sqlx migrate` and this runner each see what the other applied.
///
/// Answers the connection: keep it open until the store's own are, or closing the last
/// connection checkpoints the WAL (an fsync) for nothing.
pub fn migrate(path: &Path) -> std::result::Result<Connection, MigrateError> {
    migrate_with(path, true)
}

/// `from_schema`: whether a database with nothing in it is made from [`SCHEMA`]; if not,
/// every migration is replayed, as on an existing database (the tests' reference).
fn migrate_with(path: &Path, from_schema: bool) -> std::result::Result<Connection, MigrateError> {
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
    let schema_objects: i64 = tx.query_row(
        "select count(*) from sqlite_schema where name <> '_sqlx_migrations' and name not like 'sqlite_%'",
        [],
        |row| row.get(0),
    )?;
    if from_schema && applied.is_empty() && schema_objects == 0 {
        let started = std::time::Instant::now();
        tx.execute_batch(SCHEMA)?;
        for migration in migrator.iter() {
            record(&tx, migration, started)?;
        }
        tx.commit()?;
        return Ok(conn);
    }
    for migration in migrator.iter() {
        match applied.get(&migration.version) {
            Some((true, checksum)) if checksum[..] == migration.checksum[..] => continue,
            Some((true, _)) => return Err(MigrateError::Changed(migration.version)),
            Some((false, _)) => return Err(MigrateError::Dirty(migration.version)),
            None => {}
        }
        let started = std::time::Instant::now();
        tx.execute_batch(&migration.sql)?;
        record(&tx, migration, started)?;
    }
    tx.commit()?;
    Ok(conn)
}

/// Records `migration` as applied, as sqlx does.
fn record(
    tx: &rusqlite::Transaction<'_>,
    migration: &sqlx::migrate::Migration,
    started: std::time::Instant,
) -> rusqlite::Result<()> {
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
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every schema object but SQLite's own and the migrations' bookkeeping, in the order
    /// they were made, as `create` statements.
    fn schema(conn: &Connection) -> Vec<String> {
        conn.prepare(
            "select sql from sqlite_schema where sql is not null and name <> '_sqlx_migrations' \
             and name not like 'sqlite_%' order by rowid",
        )
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
    }

    /// What a database holds: its schema, the migrations recorded as applied, and how
    /// many rows each table has (a migration may insert rows as well as make tables).
    #[derive(PartialEq)]
    struct Contents {
        schema: Vec<String>,
        migrations: Vec<(i64, String, bool, Vec<u8>)>,
        rows: Vec<(String, i64)>,
    }

    fn contents(conn: &Connection) -> Contents {
        let migrations = conn
            .prepare("select version, description, success, checksum from _sqlx_migrations order by version")
            .unwrap()
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        let tables: Vec<String> = conn
            .prepare("select name from sqlite_schema where type = 'table' and name <> '_sqlx_migrations' order by name")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        let rows = tables
            .into_iter()
            .map(|table| {
                let count = conn.query_row(&format!("select count(*) from \"{table}\""), [], |row| row.get(0)).unwrap();
                (table, count)
            })
            .collect();
        Contents { schema: schema(conn), migrations, rows }
    }

    fn dump(conn: &Connection) -> String {
        let mut script = String::from(
            "-- Generated: the schema that every migration in migrations/ builds, applied in one\n\
             -- pass to a new database (store/migrate.rs). Do not edit; after adding a migration,\n\
             -- EC2LITE_WRITE_SCHEMA=1 cargo test --lib schema\n",
        );
        for statement in schema(conn) {
            script.push_str(&statement);
            script.push_str(";\n");
        }
        script
    }

    #[test]
    fn the_schema_is_the_migrations_applied() {
        let replayed = migrate_with(Path::new(":memory:"), false).unwrap();
        if std::env::var_os("EC2LITE_WRITE_SCHEMA").is_some() {
            let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/store/schema.sql");
            std::fs::write(path, dump(&replayed)).unwrap();
            return;
        }
        let made = migrate_with(Path::new(":memory:"), true).unwrap();
        assert!(
            contents(&made) == contents(&replayed),
            "src/store/schema.sql is not what migrations/ builds: EC2LITE_WRITE_SCHEMA=1 cargo test --lib schema"
        );
        assert_eq!(SCHEMA, dump(&replayed));
    }

    #[test]
    fn a_database_made_from_the_schema_takes_later_migrations_as_applied() {
        let dir = std::env::temp_dir().join(format!("ec2lite-migrate-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("ec2lite.db");
        drop(migrate(&path).unwrap());
        // A second start finds every migration applied, with this build's checksums.
        let again = migrate(&path).unwrap();
        let replayed = migrate_with(Path::new(":memory:"), false).unwrap();
        assert!(contents(&again) == contents(&replayed));
        drop(again);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
