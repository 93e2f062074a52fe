//! Write transactions run on the calling thread, on a second writer connection that is
//! used synchronously (rusqlite on the same libsqlite3 as sqlx).
//!
//! Through sqlx, each statement of a write is carried to the connection's worker thread
//! and back: BEGIN, each read and write, and COMMIT are each two thread switches. With
//! writes serialized, those switches are what limits the rate of writes, not SQLite
//! (RegisterImage held the writer about 320 µs, nearly all of it waiting for switches).
//! Here the whole transaction is a few tens of microseconds of SQLite on this thread.
//!
//! Both writer connections sit behind the store's one writer lock, so their transactions
//! never overlap, and the durability is the same: same file, same `synchronous`, every
//! answer sent after its COMMIT returned.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};
use serde::de::DeserializeOwned;

use super::exec::{decode, Columns, Cursor, DbError, Decoder, Exec};
use super::sql::Sql;
use super::{read_cache, Writers};
use crate::metrics::Metrics;

/// Distinct statement shapes the connection keeps prepared.
const STATEMENT_CACHE: usize = 64;

/// Opens the synchronous writer on the (migrated) database file.
pub(super) fn connect(path: &std::path::Path) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(Duration::from_secs(10))?;
    let synchronous = super::durability::synchronous_pragma();
    // The settings sqlx gives the other writer (see `file_options`); checkpoints are the
    // background thread's ([`super::checkpointer`]).
    conn.execute_batch(&format!(
        "pragma foreign_keys = on; pragma synchronous = {synchronous}; pragma wal_autocheckpoint = {};",
        super::checkpointer::BACKSTOP_PAGES
    ))?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(conn)
}

/// A write transaction on the synchronous writer, held until it commits or is dropped
/// (which rolls it back). Like [`super::WriteTx`], it reports how long it held the
/// writer and ends the read cache's generation when it ends.
pub struct SyncTx {
    writers: tokio::sync::OwnedMutexGuard<Option<Writers>>,
    open: bool,
    opened: Instant,
    metrics: Arc<Metrics>,
    cache: Arc<read_cache::ReadCache>,
}

impl SyncTx {
    /// Begins on the writer held by `writers`, whose synchronous connection is open.
    pub(super) fn begin(
        writers: tokio::sync::OwnedMutexGuard<Option<Writers>>,
        metrics: Arc<Metrics>,
        cache: Arc<read_cache::ReadCache>,
    ) -> Result<SyncTx, DbError> {
        let mut tx = SyncTx { writers, open: false, opened: Instant::now(), metrics, cache };
        // IMMEDIATE: see `Store::write`.
        tx.conn().execute_batch("BEGIN IMMEDIATE")?;
        tx.open = true;
        Ok(tx)
    }

    fn conn(&self) -> &Connection {
        self.writers.as_ref().and_then(|w| w.sync.as_ref()).expect("opened before the transaction began")
    }

    pub fn commit(mut self) -> Result<(), DbError> {
        self.conn().execute_batch("COMMIT")?;
        self.open = false;
        Ok(())
    }

    fn run(&self, sql: &Sql) -> Result<u64, DbError> {
        tracing::trace!(sql = sql.text(), values = ?sql.values(), "write");
        let mut statement = self.conn().prepare_cached(sql.text())?;
        Ok(statement.execute(rusqlite::params_from_iter(sql.values()))? as u64)
    }

    fn rows<T>(&self, sql: &Sql, map: impl Fn(&rusqlite::Row<'_>) -> Result<T, DbError>) -> Result<Vec<T>, DbError> {
        tracing::trace!(sql = sql.text(), values = ?sql.values(), "read in a write");
        let mut statement = self.conn().prepare_cached(sql.text())?;
        let mut rows = statement.query(rusqlite::params_from_iter(sql.values()))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(map(row)?);
        }
        Ok(out)
    }
}

impl Exec for SyncTx {
    fn execute(&mut self, sql: &Sql) -> impl Future<Output = Result<u64, DbError>> + Send {
        std::future::ready(self.run(sql))
    }

    fn docs<T: DeserializeOwned + Send>(&mut self, sql: &Sql) -> impl Future<Output = Result<Vec<T>, DbError>> + Send {
        std::future::ready(self.rows(sql, |row| decode(row.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?)))
    }

    fn texts(&mut self, sql: &Sql) -> impl Future<Output = Result<Vec<Option<String>>, DbError>> + Send {
        std::future::ready(self.rows(sql, |row| Ok(row.get(0)?)))
    }

    fn records<T: Send>(
        &mut self,
        sql: &Sql,
        decode: Decoder<T>,
    ) -> impl Future<Output = Result<Vec<T>, DbError>> + Send {
        std::future::ready(self.rows(sql, |row| decode(&mut Cursor::new(row as &dyn Columns))))
    }
}

impl Drop for SyncTx {
    fn drop(&mut self) {
        if self.open {
            if let Some(writers) = self.writers.as_mut() {
                let conn = writers.sync.as_ref().expect("open while the transaction is");
                let _ = conn.execute_batch("ROLLBACK");
                // A connection that is still inside a transaction would turn the next
                // transaction's COMMIT into a no-op: close it, and open a new one next time.
                if !conn.is_autocommit() {
                    tracing::warn!("the synchronous writer could not roll back: replacing it");
                    writers.sync = None;
                }
            }
        }
        // Committed or not: cached answers may be stale either way.
        self.cache.invalidate();
        self.metrics.record_write_transaction(self.opened.elapsed());
    }
}

#[cfg(test)]
mod tests {
    use crate::domain::image::Image;
    use crate::domain::tags::Tag;
    use crate::error::Code;
    use crate::store::sql::Sql;
    use crate::store::{images, tags, Exec, Location, Store};

    fn image(id: &str, name: &str) -> Image {
        Image {
            image_id: id.into(),
            owner_id: "000000000000".into(),
            region: "us-east-1".into(),
            name: name.into(),
            image_location: "b/m.xml".into(),
            creation_date: "2026-12-05T00:00:00.000Z".into(),
            ..Default::default()
        }
    }

    async fn tag_values(store: &Store) -> Vec<Option<String>> {
        let mut tx = store.write().await.unwrap();
        tx.texts(&Sql::new("select value from tag order by key")).await.unwrap()
    }

    /// Each writer sees what the other committed, and a transaction that is dropped,
    /// on either, leaves nothing behind and does not stop the next one.
    #[tokio::test]
    async fn the_two_writers_take_turns_on_one_database() {
        let store = Store::open(&Location::InMemory).await.unwrap();
        let tag = |key: &str| [Tag { key: key.into(), value: key.into() }];
        let mut tx = store.write_now().await.unwrap();
        tags::upsert(&mut tx, "000000000000", "us-east-1", "ami-1", "image", &tag("a"), 0).await.unwrap();
        tx.commit().unwrap();

        let mut tx = store.write().await.unwrap();
        tags::upsert(&mut tx, "000000000000", "us-east-1", "ami-1", "image", &tag("b"), 0).await.unwrap();
        drop(tx); // its rollback is queued on sqlx's worker

        let mut tx = store.write_now().await.unwrap();
        tags::upsert(&mut tx, "000000000000", "us-east-1", "ami-1", "image", &tag("c"), 0).await.unwrap();
        tx.commit().unwrap();

        let mut tx = store.write_now().await.unwrap();
        tags::upsert(&mut tx, "000000000000", "us-east-1", "ami-1", "image", &tag("d"), 0).await.unwrap();
        drop(tx);

        let mut tx = store.write().await.unwrap();
        tags::upsert(&mut tx, "000000000000", "us-east-1", "ami-1", "image", &tag("e"), 0).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(tag_values(&store).await, [Some("a".into()), Some("c".into()), Some("e".into())]);
    }

    /// The unique index refuses a second image of the same name with EC2's error,
    /// whichever writer runs the insert.
    #[tokio::test]
    async fn a_duplicate_name_is_ec2s_error_on_either_writer() {
        let store = Store::open(&Location::InMemory).await.unwrap();
        let mut tx = store.write_now().await.unwrap();
        images::insert(&mut tx, &image("ami-00000000000000001", "web"), 0).await.unwrap();
        tx.commit().unwrap();

        let mut tx = store.write_now().await.unwrap();
        let err = images::insert(&mut tx, &image("ami-00000000000000002", "web"), 0).await.unwrap_err();
        assert_eq!(err.code, Code::InvalidAMIName_Duplicate);
        assert!(err.message.ends_with("ami-00000000000000001"), "{}", err.message);
        drop(tx);

        let mut tx = store.write().await.unwrap();
        let err = images::insert(&mut tx, &image("ami-00000000000000003", "web"), 0).await.unwrap_err();
        assert_eq!(err.code, Code::InvalidAMIName_Duplicate);
    }
}
