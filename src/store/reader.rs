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
    /// Read connections are opened on first use (each parses the schema: start-up
    /// does not pay for one before it is needed).
    pub fn new(path: &Path) -> Reader {
        Reader { path: path.to_path_buf(), idle: Mutex::new(Vec::new()) }
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
        assert_eq!(by_reader, vec![volume]);

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
        assert_eq!(by_reader, vec![snapshot]);
    }
}
