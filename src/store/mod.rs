//! The store: SQLite through sqlx. All SQL of ec2lite lives under this module.
//!
//! Writes are serialized by one writer lock, so transactions never race for SQLite's
//! single write lock. Behind it are two connections: sqlx's ([`Store::write`]) and a
//! synchronous one for the hot writes ([`Store::write_now`], see [`sync_tx`]); store
//! functions written against [`exec::Exec`] run on either; WAL checkpoints run beside
//! them ([`checkpointer`]). Reads that WAL lets run
//! beside it take either the hot path ([`Store::query`]: synchronous connections, see
//! [`reader`]) or a sqlx pool. An in-memory database is a file in a RAM-backed
//! temporary directory, deleted when the store is dropped, so that every kind of
//! connection can open it.

pub mod blobs;
pub mod blocks;
pub mod catalog;
pub mod checkpointer;
pub mod dashboard;
pub mod durability;
pub mod exec;
pub mod filters;
pub mod images;
pub mod import_tasks;
pub mod instances;
pub mod inventory;
pub mod key_pairs;
pub mod launch_templates;
pub mod lifecycle;
pub mod marketplace;
pub mod migrate;
pub mod network;
pub mod read_cache;
pub mod reader;
pub mod settings;
pub mod snapshots;
pub mod sql;
pub mod ssm;
pub mod states;
pub mod sync_tx;
pub mod tags;
pub mod volumes;

use std::collections::HashSet;
use std::path::Path;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::metrics::Metrics;
use sqlx::pool::PoolConnection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use sqlx::{Sqlite, TransactionManager};

pub type Conn = sqlx::SqliteConnection;
pub use exec::{DbError, Exec};
pub use sync_tx::SyncTx;

/// The writer connections, used one transaction at a time under the store's writer lock.
pub struct Writers {
    sqlx: Conn,
    /// The synchronous writer, opened on first use (and again after a failure).
    sync: Option<rusqlite::Connection>,
}

/// Where the database lives.
#[derive(Debug, Clone)]
pub enum Location {
    /// A SQLite URL or file path.
    Url(String),
    InMemory,
}

impl Location {
    /// The database file, if the location is a file.
    pub fn file(&self) -> Option<std::path::PathBuf> {
        match self {
            Location::Url(url) => file_options(url).ok().map(|o| o.get_filename().to_path_buf()),
            Location::InMemory => None,
        }
    }
}

#[derive(Clone)]
pub struct Store {
    /// The hot read path.
    reads: Arc<reader::Reader>,
    /// Its answers, until the next write transaction ends.
    cache: Arc<read_cache::ReadCache>,
    reader: SqlitePool,
    /// The writer connections (`None` once closed).
    writer: Arc<tokio::sync::Mutex<Option<Writers>>>,
    /// How to open it again (see [`Store::write`]).
    writer_options: SqliteConnectOptions,
    /// The earliest time a pending resource is due to change state (`i64::MAX`: none).
    next_transition: Arc<AtomicI64>,
    /// The scopes (account, region) whose default network is known to exist, so that
    /// only the first networking call of a scope writes.
    network_scopes: Arc<Mutex<HashSet<(String, String)>>>,
    /// Request and write-transaction figures for `/_ec2lite/metrics`.
    metrics: Arc<Metrics>,
    /// Whether the last write transaction ended without committing.
    writer_unsettled: Arc<AtomicBool>,
    /// Checkpoints the WAL in the background until the last clone is dropped.
    checkpointer: Arc<checkpointer::Checkpointer>,
    /// The file of an in-memory store, deleted with the last clone.
    _scratch: Option<Arc<ScratchFile>>,
    /// The database file opened, checked before each write transaction.
    file: Option<Arc<durability::OpenedFile>>,
}

/// The read cache's default budget (`--read-cache-mib`).
pub const DEFAULT_READ_CACHE_BYTES: u64 = 32 << 20;

/// A database file that lives only as long as the store.
struct ScratchFile(std::path::PathBuf);

impl ScratchFile {
    fn new() -> ScratchFile {
        let shm = Path::new("/dev/shm");
        let dir = if shm.is_dir() { shm.to_path_buf() } else { std::env::temp_dir() };
        ScratchFile(dir.join(format!("ec2lite-{}.db", uuid::Uuid::new_v4().simple())))
    }
}

impl Drop for ScratchFile {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut path = self.0.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
}

/// A write transaction on the single writer connection, held until it commits or is
/// dropped (which rolls it back). It reports how long it held the writer.
///
/// The connection is owned by the store, not a pool: a pool tests a connection with a
/// round trip to sqlx's worker thread every time it is returned, twice per write.
pub struct WriteTx {
    conn: tokio::sync::OwnedMutexGuard<Option<Writers>>,
    /// Whether the transaction is still open (neither committed nor rolled back).
    open: bool,
    opened: std::time::Instant,
    metrics: Arc<Metrics>,
    /// Set unless the transaction commits: see [`Store::write`].
    unsettled: Arc<AtomicBool>,
    /// Told when the transaction ends, before its answer is sent.
    cache: Arc<read_cache::ReadCache>,
}

/// Begins, commits and rolls back on the connection itself: sqlx's `Transaction` needs a
/// borrowed or pooled connection, and this one lives behind the store's lock.
type Manager = <Sqlite as sqlx::Database>::TransactionManager;

impl WriteTx {
    pub async fn commit(mut self) -> Result<(), sqlx::Error> {
        Manager::commit(&mut self).await?;
        self.open = false;
        self.unsettled.store(false, Ordering::SeqCst);
        Ok(())
    }
}

impl std::ops::Deref for WriteTx {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        &self.conn.as_ref().expect("open while the store is").sqlx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut Conn {
        &mut self.conn.as_mut().expect("open while the store is").sqlx
    }
}

impl Drop for WriteTx {
    fn drop(&mut self) {
        if self.open {
            // Queued on the connection's worker ahead of anything the next writer sends.
            if let Some(writers) = self.conn.as_mut() {
                Manager::start_rollback(&mut writers.sqlx);
            }
        }
        // Committed, failed or rolled back: cached answers may be stale either way.
        self.cache.invalidate();
        self.metrics.record_write_transaction(self.opened.elapsed());
    }
}

/// Whether the writer connection is inside a transaction, by sqlx's count or by SQLite's.
/// Locking the handle first lets the worker run what was queued before (the rollback of
/// a dropped transaction), so that neither answer is stale.
async fn in_a_transaction(conn: &mut Conn) -> Result<bool, sqlx::Error> {
    let by_sqlite = {
        let mut handle = conn.lock_handle().await?;
        // SAFETY: the handle is locked out of sqlx's worker thread while `handle` lives.
        unsafe { rusqlite::ffi::sqlite3_get_autocommit(handle.as_raw_handle().as_ptr()) == 0 }
    };
    Ok(by_sqlite || sqlx::Connection::is_in_transaction(&*conn))
}

impl Store {
    pub async fn open(location: &Location) -> Result<Store, sqlx::Error> {
        disable_memory_statistics();
        let scratch = matches!(location, Location::InMemory).then(|| Arc::new(ScratchFile::new()));
        let options = match (location, &scratch) {
            (Location::Url(url), _) => file_options(url)?,
            (Location::InMemory, Some(file)) => file_options(&file.0.to_string_lossy())?,
            (Location::InMemory, None) => unreachable!("an in-memory store has its scratch file"),
        };
        let migrated = migrate::migrate(options.get_filename())
            .map_err(|err| sqlx::Error::Configuration(format!("applying the migrations: {err}").into()))?;
        let writer = sqlx::ConnectOptions::connect(&options).await?;
        let file = match location {
            Location::Url(_) => Some(Arc::new(durability::OpenedFile::new(options.get_filename())?)),
            Location::InMemory => None,
        };
        let cache = Arc::new(read_cache::ReadCache::new(DEFAULT_READ_CACHE_BYTES));
        let reads = reader::Reader::new(options.get_filename(), cache.clone());
        let reader = SqlitePoolOptions::new()
            .test_before_acquire(false)
            .max_connections(4)
            .min_connections(0)
            .connect_with(options.clone().read_only(true))
            .await?;
        drop(migrated);
        Ok(Store {
            reads: Arc::new(reads),
            cache,
            reader,
            writer: Arc::new(tokio::sync::Mutex::new(Some(Writers { sqlx: writer, sync: None }))),
            writer_options: options.clone(),
            next_transition: Arc::new(AtomicI64::new(0)),
            network_scopes: Default::default(),
            metrics: Default::default(),
            writer_unsettled: Default::default(),
            checkpointer: Arc::new(checkpointer::Checkpointer::start(options.get_filename().to_path_buf())),
            _scratch: scratch,
            file,
        })
    }

    /// Runs `read` on a synchronous read connection, on this thread: the hot read path.
    pub fn query<T>(&self, read: impl FnOnce(&reader::Db<'_>) -> crate::error::Result<T>) -> crate::error::Result<T> {
        self.reads.run(read)
    }

    /// A connection for reading (never writes).
    pub async fn read(&self) -> Result<PoolConnection<Sqlite>, sqlx::Error> {
        self.reader.acquire().await
    }

    /// A write transaction through sqlx; it takes effect only when committed.
    pub async fn write(&self) -> Result<WriteTx, sqlx::Error> {
        let mut conn = self.lock_writers().await?;
        let writer = &mut conn.as_mut().expect("checked by lock_writers").sqlx;
        self.writer_unsettled.store(true, Ordering::SeqCst);
        let opened = std::time::Instant::now();
        // IMMEDIATE takes the write lock at BEGIN, waiting out another process's writer
        // (busy timeout). A deferred transaction that reads first would instead fail at
        // its first write (SQLITE_BUSY_SNAPSHOT) whenever another process committed since.
        Manager::begin(writer, Some(std::borrow::Cow::Borrowed("BEGIN IMMEDIATE"))).await?;
        Ok(WriteTx {
            conn,
            open: true,
            opened,
            metrics: self.metrics.clone(),
            unsettled: self.writer_unsettled.clone(),
            cache: self.cache.clone(),
        })
    }

    /// A write transaction whose statements run on this thread (see [`sync_tx`]): for
    /// the hot writes, whose store functions take any [`Exec`]. It takes effect only
    /// when committed.
    pub async fn write_now(&self) -> Result<SyncTx, DbError> {
        let mut writers = self.lock_writers().await?;
        let held = writers.as_mut().expect("checked by lock_writers");
        if held.sync.is_none() {
            held.sync = Some(sync_tx::connect(self.writer_options.get_filename())?);
        }
        SyncTx::begin(writers, self.metrics.clone(), self.cache.clone())
    }

    /// The writer lock, with sqlx's writer known to be outside any transaction.
    ///
    /// After a sqlx transaction that did not commit, that connection is checked first:
    /// SQLite rolls some failures back on its own (a full disk does), which leaves sqlx's
    /// count of open transactions out of step with the connection, and the next "commit"
    /// would then only release a savepoint: acknowledged, never written. A connection
    /// found inside a transaction is replaced. The check also waits for the rollback a
    /// dropped transaction queued, which would otherwise hold SQLite's write lock against
    /// the synchronous writer.
    async fn lock_writers(&self) -> Result<tokio::sync::OwnedMutexGuard<Option<Writers>>, sqlx::Error> {
        if let Some(file) = &self.file {
            file.check_still_in_place()?;
        }
        let mut writers = self.writer.clone().lock_owned().await;
        let Some(held) = writers.as_mut() else {
            return Err(sqlx::Error::PoolClosed);
        };
        // Holding the lock: the flag is the last sqlx transaction's.
        if self.writer_unsettled.load(Ordering::SeqCst) {
            if in_a_transaction(&mut held.sqlx).await? {
                tracing::warn!("the writer connection was left inside a failed transaction: replacing it");
                let fresh = sqlx::ConnectOptions::connect(&self.writer_options).await?;
                let _ = sqlx::Connection::close(std::mem::replace(&mut held.sqlx, fresh)).await;
            }
            self.writer_unsettled.store(false, Ordering::SeqCst);
        }
        Ok(writers)
    }

    /// How many bytes of documents the read cache may hold; 0 turns it off.
    pub fn set_read_cache_budget(&self, bytes: u64) {
        self.cache.set_budget(bytes);
    }

    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Creates the scope's default network on its first use (once per scope, ever).
    pub async fn ensure_default_network(
        &self,
        account: &str,
        region: &str,
        now: i64,
    ) -> Result<(), crate::error::Ec2Error> {
        let key = (account.to_string(), region.to_string());
        if self.network_scopes.lock().expect("not poisoned").contains(&key) {
            return Ok(());
        }
        let mut tx = self.write().await?;
        network::ensure_default(&mut tx, account, region, now).await?;
        tx.commit().await?;
        self.network_scopes.lock().expect("not poisoned").insert(key);
        Ok(())
    }

    /// Records that some resource will change state at `at` (ms), so that
    /// [`Store::settle`] looks at the database then.
    pub fn schedule_transition(&self, at: Option<i64>) {
        if let Some(at) = at {
            self.next_transition.fetch_min(at, Ordering::SeqCst);
        }
    }

    /// Moves every pending resource whose time has come to its final state. Cheap when
    /// nothing is due: one atomic load.
    pub async fn settle(&self, now: i64, terminated_retention_ms: i64) -> Result<(), crate::error::Ec2Error> {
        if self.next_transition.load(Ordering::SeqCst) > now {
            return Ok(());
        }
        // On the synchronous writer: the request that finds a transition due pays for
        // settling it, and a dozen statements through sqlx's worker would cost more than
        // that request's own work.
        let mut tx = self.write_now().await?;
        let next = lifecycle::settle(&mut tx, now, terminated_retention_ms).await?;
        // Set while the writer is still held: a write that schedules a transition after
        // this commit lowers it again (set after the commit, it could overwrite theirs).
        self.next_transition.store(next.unwrap_or(i64::MAX), Ordering::SeqCst);
        if let Err(err) = tx.commit() {
            self.next_transition.store(0, Ordering::SeqCst);
            return Err(err.into());
        }
        Ok(())
    }

    /// Deletes every row of every table; the schema stays.
    pub async fn reset(&self) -> Result<(), sqlx::Error> {
        let mut tx = self.write().await?;
        for table in [
            "marketplace_subscription",
            "ssm_parameter",
            "launch_template_version",
            "launch_template",
            "address",
            "network_interface",
            "route_table_association",
            "route",
            "internet_gateway",
            "network_acl",
            "security_group_rule",
            "security_group",
            "subnet",
            "route_table",
            "vpc",
            "network_scope",
            "block_map",
            "import_task",
            "key_pair",
            "catalog_region",
            "account_setting",
            "instance",
            "tag",
            "launch_permission",
            "image_snapshot",
            "image",
            "create_volume_permission",
            "snapshot",
            "volume",
        ] {
            sqlx::query(&format!("delete from {table}")).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        self.next_transition.store(i64::MAX, Ordering::SeqCst);
        self.network_scopes.lock().expect("not poisoned").clear();
        Ok(())
    }

    /// Replaces the organization memberships (configuration from the accounts file).
    pub async fn replace_memberships(&self, rows: &[(String, String)]) -> Result<(), crate::error::Ec2Error> {
        let mut tx = self.write().await?;
        settings::replace_memberships(&mut tx, rows).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.checkpointer.stop();
        self.reader.close().await;
        if let Some(writers) = self.writer.lock().await.take() {
            drop(writers.sync);
            let _ = sqlx::Connection::close(writers.sqlx).await;
        }
    }
}

/// SQLite's memory statistics take one process-wide mutex on every allocation, which the
/// read connections of the server's threads would contend for; nothing reads them.
fn disable_memory_statistics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: a configuration call with an int argument, made before this process opens
        // any connection; once SQLite is initialized it is refused (SQLITE_MISUSE) and harmless.
        unsafe { rusqlite::ffi::sqlite3_config(rusqlite::ffi::SQLITE_CONFIG_MEMSTATUS, 0 as std::ffi::c_int) };
    });
}

fn file_options(url: &str) -> Result<SqliteConnectOptions, sqlx::Error> {
    let options = if url.starts_with("sqlite:") {
        SqliteConnectOptions::from_str(url)?
    } else {
        SqliteConnectOptions::new().filename(Path::new(url))
    };
    // WAL with synchronous=NORMAL: a committed transaction survives a crash of the
    // process (kill -9); only a power loss may drop the last commits. FULL with
    // `--durability full` (see `durability`).
    Ok(options
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(durability::sqlite_synchronous())
        .foreign_keys(true)
        .pragma("wal_autocheckpoint", checkpointer::BACKSTOP_PAGES.to_string())
        .busy_timeout(Duration::from_secs(10)))
}

/// Whether `err` is a unique-constraint violation on `table.column`.
pub fn is_unique_violation(err: &sqlx::Error, table_column: &str) -> bool {
    match err {
        sqlx::Error::Database(db) => db.is_unique_violation() && db.message().contains(table_column),
        _ => false,
    }
}

/// Tags as returned by the `tags_json` subqueries: `[["k","v"],...]`.
pub(crate) fn parse_tags(json: Option<String>) -> Vec<(String, String)> {
    json.and_then(|j| serde_json::from_str(&j).ok()).unwrap_or_default()
}

/// Pushes the `tags_json` column: `account`'s tags on the resource `id_expr`, by key.
pub(crate) fn push_tags_column(qb: &mut sql::Sql, account: &str, id_expr: &str) {
    push_tags_doc(qb, account, id_expr);
    qb.push(" as tags_json");
}

/// `account`'s tags on the resource `id_expr`, by key, as a JSON array of `[key, value]`.
pub(crate) fn push_tags_doc(qb: &mut sql::Sql, account: &str, id_expr: &str) {
    qb.push(
        "(select json_group_array(json_array(t.key, t.value)) from \
         (select key, value from tag where tag.account_id = ",
    );
    qb.push_bind(account);
    qb.push(&format!(" and tag.resource_id = {id_expr} order by key) t)"));
}
