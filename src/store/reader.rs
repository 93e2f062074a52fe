//! The hot read path: read-only SQLite connections used synchronously, on the thread
//! that serves the request.
//!
//! sqlx runs each connection on a worker thread and carries every statement and every
//! row over a channel to it: three thread switches for a one-row lookup, which cost far
//! more than SQLite's own work. A point read here is a few microseconds of SQLite on the
//! calling thread, with the statement prepared once per connection and cached.
//!
//! Answers are kept by statement until the next write transaction ends ([`super::read_cache`]);
//! a statement the cache does not answer sees every transaction committed before it
//! began (WAL). Either way read-your-writes holds for every client.

use std::cell::{Cell, OnceCell};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use serde::de::DeserializeOwned;

use super::exec::{Columns, Cursor, DbError, Decoder};
use super::read_cache::ReadCache;
use super::sql::Sql;
use crate::error::{Ec2Error, Result};

/// How many idle connections are kept: the server's worker threads, with room to spare.
const IDLE_MAX: usize = 8;
/// Distinct statement shapes each connection keeps prepared.
const STATEMENT_CACHE: usize = 256;
/// How much of the database file a read connection maps into memory. A page is then
/// read in place, shared by every connection through the OS page cache, instead of
/// copied by a `pread` into each connection's own small cache: at 1M images a search
/// touches pages all over the file, and those copies were most of its cost.
const MMAP_BYTES: i64 = 1 << 31;

pub struct Reader {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    cache: Arc<ReadCache>,
}

impl Reader {
    /// Read connections are opened on first use (each parses the schema: start-up
    /// does not pay for one before it is needed).
    pub fn new(path: &Path, cache: Arc<ReadCache>) -> Reader {
        Reader { path: path.to_path_buf(), idle: Mutex::new(Vec::new()), cache }
    }

    fn connect(&self) -> rusqlite::Result<Connection> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&self.path, flags)?;
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.pragma_update(None, "mmap_size", MMAP_BYTES)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Ok(conn)
    }

    /// Runs `read`; a connection is taken (an idle one, or a new one) only if a
    /// statement is not answered by the cache.
    pub fn run<T>(&self, read: impl FnOnce(&Db<'_>) -> Result<T>) -> Result<T> {
        let db = Db { reader: self, conn: OnceCell::new() };
        let result = read(&db);
        if let Some(conn) = db.conn.into_inner() {
            let mut idle = self.idle.lock().expect("not poisoned");
            if idle.len() < IDLE_MAX {
                idle.push(conn);
            }
        }
        result
    }
}

/// The reads of one [`Reader::run`]: through the cache, then a connection.
pub struct Db<'r> {
    reader: &'r Reader,
    conn: OnceCell<Connection>,
}

impl Db<'_> {
    fn conn(&self) -> Result<&Connection> {
        if let Some(conn) = self.conn.get() {
            return Ok(conn);
        }
        let idle = self.reader.idle.lock().expect("not poisoned").pop();
        let conn = match idle {
            Some(conn) => conn,
            None => self.reader.connect()?,
        };
        Ok(self.conn.get_or_init(|| conn))
    }

    /// Runs `sql` and maps each row with `map` (never cached).
    pub fn rows<T>(&self, sql: &Sql, mut map: impl FnMut(&rusqlite::Row<'_>) -> Result<T>) -> Result<Vec<T>> {
        tracing::trace!(sql = sql.text(), values = ?sql.values(), "read");
        let mut statement = self.conn()?.prepare_cached(sql.text())?;
        let mut rows = statement.query(rusqlite::params_from_iter(sql.values()))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(map(row)?);
        }
        Ok(out)
    }

    /// [`Self::rows`] with the file unmapped for the statement: one that reads every page
    /// (`quick_check`) would otherwise leave the whole file mapped into this process's
    /// resident memory.
    pub fn rows_unmapped<T>(&self, sql: &Sql, map: impl FnMut(&rusqlite::Row<'_>) -> Result<T>) -> Result<Vec<T>> {
        let conn = self.conn()?;
        conn.pragma_update(None, "mmap_size", 0)?;
        let rows = self.rows(sql, map);
        conn.pragma_update(None, "mmap_size", MMAP_BYTES)?;
        rows
    }

    /// Runs `sql` through the cache; `map` answers each row and its size in bytes, and
    /// `arrange` puts the rows in their final order before they are kept. The rows are
    /// shared with the cache: a hit copies nothing.
    fn cached<T: Send + Sync + 'static>(
        &self,
        sql: &Sql,
        mut map: impl FnMut(&rusqlite::Row<'_>) -> Result<(T, usize)>,
        arrange: impl FnOnce(&mut Vec<T>),
    ) -> Result<Arc<Vec<T>>> {
        let ticket = match self.reader.cache.get::<T>(sql) {
            Ok(rows) => return Ok(rows),
            Err(ticket) => ticket,
        };
        let mut bytes = 0;
        let mut rows = self.rows(sql, |row| {
            let (value, size) = map(row)?;
            bytes += size;
            Ok(value)
        })?;
        arrange(&mut rows);
        let rows = Arc::new(rows);
        if let Some(ticket) = ticket {
            self.reader.cache.put(ticket, sql, &rows, bytes);
        }
        Ok(rows)
    }

    /// Each row's first column, a JSON document, decoded (the shape of the describe queries).
    pub fn docs<T: DeserializeOwned + Send + Sync + 'static>(&self, sql: &Sql) -> Result<Arc<Vec<T>>> {
        self.cached(sql, decode_doc, |_| ())
    }

    /// [`Self::docs`] of a statement with no final `order by`, sorted here by `key`
    /// (unique per row). SQLite sorts whole result rows: ten thousand image documents
    /// (10 MB) overflow its sorter's memory and are written to a temporary file and
    /// merged back, where sorting the decoded rows by id takes a millisecond.
    pub fn docs_sorted<T: DeserializeOwned + Send + Sync + 'static>(
        &self,
        sql: &Sql,
        key: impl Fn(&T) -> &str,
    ) -> Result<Arc<Vec<T>>> {
        self.cached(sql, decode_doc, |rows| sort_by_key_moving_once(rows, key))
    }

    /// Each row decoded column by column, in the statement's order.
    pub fn records<T: Send + Sync + 'static>(&self, sql: &Sql, decode: Decoder<T>) -> Result<Arc<Vec<T>>> {
        self.records_arranged(sql, decode, |_| ())
    }

    /// Each row decoded column by column, sorted by `key` (unique per row) as
    /// [`Self::docs_sorted`] does.
    pub fn records_sorted<T: Send + Sync + 'static>(
        &self,
        sql: &Sql,
        decode: Decoder<T>,
        key: impl Fn(&T) -> &str,
    ) -> Result<Arc<Vec<T>>> {
        self.records_arranged(sql, decode, |rows| sort_by_key_moving_once(rows, key))
    }

    fn records_arranged<T: Send + Sync + 'static>(
        &self,
        sql: &Sql,
        decode: Decoder<T>,
        arrange: impl FnOnce(&mut Vec<T>),
    ) -> Result<Arc<Vec<T>>> {
        let read = |row: &rusqlite::Row<'_>| {
            let counted = Counted { row, bytes: Cell::new(0) };
            let value = decode(&mut Cursor::new(&counted as &dyn Columns))?;
            Ok((value, counted.bytes.get()))
        };
        self.cached(sql, read, arrange)
    }

    /// Each row's first column, as text.
    pub fn texts(&self, sql: &Sql) -> Result<Arc<Vec<String>>> {
        let text = |row: &rusqlite::Row<'_>| {
            let text: String = row.get(0)?;
            let size = text.len();
            Ok((text, size))
        };
        self.cached(sql, text, |_| ())
    }
}

/// A row that adds up the bytes of the text read from it: the size its decoded value
/// is charged to the cache.
struct Counted<'r, 's> {
    row: &'r rusqlite::Row<'s>,
    bytes: Cell<usize>,
}

impl Columns for Counted<'_, '_> {
    fn text(&self, n: usize) -> std::result::Result<Option<&str>, DbError> {
        let text = self.row.text(n)?;
        self.bytes.set(self.bytes.get() + text.map_or(8, str::len));
        Ok(text)
    }

    fn int(&self, n: usize) -> std::result::Result<Option<i64>, DbError> {
        self.bytes.set(self.bytes.get() + 8);
        self.row.int(n)
    }
}

/// Sorts `rows` by `key`, moving each row once: a sort that swaps rows as large as an
/// `Image` spends its time copying them.
fn sort_by_key_moving_once<T>(rows: &mut Vec<T>, key: impl Fn(&T) -> &str) {
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_unstable_by(|&a, &b| key(&rows[a]).cmp(key(&rows[b])));
    let mut slots: Vec<Option<T>> = rows.drain(..).map(Some).collect();
    rows.extend(order.iter().filter_map(|&n| slots[n].take()));
}

/// A row's first column, a JSON document, decoded; and its size.
fn decode_doc<T: DeserializeOwned>(row: &rusqlite::Row<'_>) -> Result<(T, usize)> {
    let doc = row.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?;
    let value = serde_json::from_str(doc).map_err(|err| {
        tracing::error!(error = %err, "undecodable row document");
        Ec2Error::internal()
    })?;
    Ok((value, doc.len()))
}

impl From<rusqlite::Error> for Ec2Error {
    fn from(err: rusqlite::Error) -> Self {
        tracing::error!(error = %err, "database error (read)");
        Ec2Error::internal()
    }
}

#[cfg(test)]
mod tests {
    use crate::domain::lifecycle::{SnapshotState, VolumeState};
    use crate::domain::snapshot::Snapshot;
    use crate::domain::volume::{Attachment, Volume};
    use crate::store::filters::Page;
    use crate::store::{snapshots, volumes, Location, Store};

    /// The same statement, run by sqlx (inside writes) and by a read connection (the hot
    /// path), decodes to the same resource, and to what was stored.
    #[tokio::test]
    async fn both_drivers_read_the_same_documents() {
        let store = Store::open(&Location::InMemory).await.unwrap();
        let volume = Volume {
            volume_id: "vol-0123456789abcdef0".into(),
            owner_id: "000000000000".into(),
            region: "us-east-1".into(),
            availability_zone: "us-east-1a".into(),
            availability_zone_id: "use1-az1".into(),
            size: 8,
            volume_type: "gp3".into(),
            iops: Some(3000),
            throughput: Some(125),
            encrypted: true,
            state: VolumeState::InUse,
            create_time: 1_700_000_000_000,
            attachment: Some(Attachment {
                instance_id: "i-0123456789abcdef0".into(),
                device: "/dev/xvdf".into(),
                state: "attached".into(),
                attach_time: 1_700_000_000_500,
                delete_on_termination: true,
            }),
            ..Default::default()
        };
        let snapshot = Snapshot {
            snapshot_id: "snap-0123456789abcdef0".into(),
            owner_id: "000000000000".into(),
            region: "us-east-1".into(),
            volume_id: volume.volume_id.clone(),
            volume_size: 8,
            description: "nightly \"backup\" <1>".into(),
            state: SnapshotState::Completed,
            start_time: 1_700_000_001_000,
            completion_time: Some(1_700_000_002_000),
            upload_progress: Some(40),
            ..Default::default()
        };
        let mut tx = store.write().await.unwrap();
        volumes::insert(&mut tx, &volume, None).await.unwrap();
        // Attachments are written by AttachVolume and RunInstances, not by insert.
        sqlx::query(
            "update volume set attached_instance_id = ?, attached_device = ?, attachment_state = 'attached', \
             attach_time = ?, delete_on_termination = 1 where volume_id = ?",
        )
        .bind("i-0123456789abcdef0")
        .bind("/dev/xvdf")
        .bind(1_700_000_000_500i64)
        .bind(&volume.volume_id)
        .execute(&mut *tx)
        .await
        .unwrap();
        snapshots::insert(&mut tx, &snapshot, 0).await.unwrap();
        tx.commit().await.unwrap();

        let mut conn = store.read().await.unwrap();
        let by_sqlx = volumes::find_owned(&mut conn, "000000000000", "us-east-1", &volume.volume_id).await.unwrap();
        let query = volumes::VolumeQuery {
            account: "000000000000",
            region: "us-east-1",
            volume_ids: vec![volume.volume_id.clone()],
            filters: &[],
            page: Page::default(),
        };
        let (by_reader, _) = store.query(|db| volumes::describe(db, &query)).unwrap();
        assert_eq!(by_sqlx.as_ref(), Some(&volume));
        assert_eq!(*by_reader, [volume]);

        let by_sqlx =
            snapshots::find_visible(&mut conn, "000000000000", "us-east-1", &snapshot.snapshot_id).await.unwrap();
        let query = snapshots::SnapshotQuery {
            account: "000000000000",
            region: "us-east-1",
            snapshot_ids: vec![snapshot.snapshot_id.clone()],
            ..Default::default()
        };
        let (by_reader, _) = store.query(|db| snapshots::describe(db, &query)).unwrap();
        assert_eq!(by_sqlx.as_ref(), Some(&snapshot));
        assert_eq!(*by_reader, [snapshot]);
    }

    #[test]
    fn rows_are_sorted_by_key_and_none_is_lost() {
        let mut rows: Vec<(String, usize)> =
            ["ami-c", "ami-a", "ami-d", "ami-b"].iter().enumerate().map(|(n, id)| (id.to_string(), n)).collect();
        super::sort_by_key_moving_once(&mut rows, |row| &row.0);
        let sorted: Vec<(&str, usize)> = rows.iter().map(|(id, n)| (id.as_str(), *n)).collect();
        assert_eq!(sorted, [("ami-a", 1), ("ami-b", 3), ("ami-c", 0), ("ami-d", 2)]);
        let mut empty: Vec<(String, usize)> = Vec::new();
        super::sort_by_key_moving_once(&mut empty, |row| &row.0);
        assert!(empty.is_empty());
    }
}
