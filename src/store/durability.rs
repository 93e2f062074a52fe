//! What the store promises to keep, and the check of the database at start-up.
//!
//! By default (`normal`) a committed write survives a crash or `kill -9` of the process:
//! SQLite runs in WAL mode with `synchronous=NORMAL`, and block files are written to a
//! temporary name and renamed. A power loss or an OS crash may drop the last commits.
//! `full` also survives those: `synchronous=FULL` (the WAL is synced at every commit)
//! and each block file, and its directory, synced before the row naming it commits.
//!
//! A damaged database file stops start-up with a message naming it, rather than
//! ec2lite serving what is left of it.

use std::sync::atomic::{AtomicBool, Ordering};

use sqlx::sqlite::SqliteSynchronous;

use super::Conn;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Durability {
    #[default]
    Normal,
    Full,
}

impl Durability {
    pub fn parse(name: &str) -> Option<Durability> {
        match name {
            "normal" => Some(Durability::Normal),
            "full" => Some(Durability::Full),
            _ => None,
        }
    }
}

/// Process-wide, as stores are opened from several places (start-up, tests, benches)
/// that should not each carry the setting.
static FULL: AtomicBool = AtomicBool::new(false);

/// Sets the durability of the databases opened from now on: call before `Store::open`.
pub fn set(durability: Durability) {
    FULL.store(durability == Durability::Full, Ordering::SeqCst);
}

pub(crate) fn sqlite_synchronous() -> SqliteSynchronous {
    if FULL.load(Ordering::SeqCst) {
        SqliteSynchronous::Full
    } else {
        SqliteSynchronous::Normal
    }
}

/// The `synchronous` setting of `conn` as SQLite reports it (1: NORMAL, 2: FULL).
pub async fn synchronous(conn: &mut Conn) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("pragma synchronous").fetch_one(&mut *conn).await
}

/// SQLite's `quick_check`: every page and index structurally sound (not the slower
/// cross-check of index contents that `integrity_check` adds). The problems found,
/// none when the file is sound.
pub fn quick_check(store: &super::Store) -> crate::error::Result<Vec<String>> {
    // Not through the cache: the point is to read the pages again.
    let check = super::sql::Sql::new("pragma quick_check(20)");
    let rows = store.query(|db| db.rows_unmapped(&check, |row| Ok(row.get::<_, String>(0)?)))?;
    Ok(if rows == ["ok"] { Vec::new() } else { rows })
}

/// The `synchronous` setting for the connections opened outside sqlx, as `--durability` says.
pub fn synchronous_pragma() -> &'static str {
    match sqlite_synchronous() {
        sqlx::sqlite::SqliteSynchronous::Full => "full",
        _ => "normal",
    }
}

/// Whether the WAL beside the database at `path` holds any frame: more than its 32-byte
/// header. A missing WAL holds none.
pub fn wal_holds_frames(path: &std::path::Path) -> bool {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    std::fs::metadata(&wal).is_ok_and(|m| m.len() > 32)
}

/// Databases up to this size are fully checked before serving (`quick_check` reads
/// every page: about 0.7 ms per MiB); larger ones are checked while serving, so that
/// start-up stays within milliseconds.
pub const CHECK_BEFORE_SERVING_BYTES: u64 = 16 << 20;

/// What can be told from the file's 100-byte header without reading its pages: that it
/// is a SQLite database, and not shorter than the header says (a truncated copy). A
/// missing or empty file is a new database.
pub fn check_header(path: &std::path::Path) -> Result<(), String> {
    use std::io::Read;
    let mut file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(err) => return Err(err.to_string()),
    };
    let len = file.metadata().map_err(|e| e.to_string())?.len();
    if len == 0 {
        return Ok(());
    }
    let mut header = [0u8; 100];
    file.read_exact(&mut header).map_err(|_| format!("{len} bytes: shorter than a SQLite header"))?;
    if &header[..16] != b"SQLite format 3\0" {
        return Err("not a SQLite database".into());
    }
    let page_size = match u16::from_be_bytes([header[16], header[17]]) {
        1 => 65_536,
        n => u64::from(n),
    };
    let pages = u64::from(u32::from_be_bytes([header[28], header[29], header[30], header[31]]));
    // The page count is valid when written by the same change as the counter (SQLite ≥ 3.7).
    let count_valid = header[92..96] == header[24..28];
    // A checkpoint writes page 1 (and its count) before the pages past the file's end: one
    // cut short by a kill leaves the file shorter than its header until SQLite replays
    // the WAL, which still holds every page. Only a file with no WAL is truly short.
    if count_valid && !wal_holds_frames(path) && len < page_size * pages {
        return Err(format!("truncated: {len} bytes where its header counts {}", page_size * pages));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Location, Store};

    #[tokio::test]
    async fn full_durability_opens_the_database_with_synchronous_full() {
        let dir = std::env::temp_dir().join(format!("ec2lite-durability-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = dir.join("ec2lite.db").to_string_lossy().into_owned();
        set(Durability::Full);
        let store = Store::open(&Location::Url(url)).await;
        set(Durability::Normal);
        let store = store.unwrap();
        assert_eq!(synchronous(&mut store.write().await.unwrap()).await.unwrap(), 2, "FULL");
        assert!(quick_check(&store).unwrap().is_empty());
        store.close().await;
        std::fs::remove_dir_all(dir).unwrap();
    }
}

/// The database file as it was when the store opened it. SQLite keeps writing to the
/// open file even after it was deleted or replaced on disk, so those writes would be
/// acknowledged and then lost at the next start: the store refuses them instead.
#[derive(Debug)]
pub struct OpenedFile {
    path: std::path::PathBuf,
    identity: (u64, u64),
}

impl OpenedFile {
    pub fn new(path: &std::path::Path) -> std::io::Result<OpenedFile> {
        Ok(OpenedFile { path: path.to_path_buf(), identity: identity(path)? })
    }

    /// An error when the file at the path is no longer the one opened (one `stat`).
    pub fn check_still_in_place(&self) -> Result<(), sqlx::Error> {
        if identity(&self.path).ok() == Some(self.identity) {
            return Ok(());
        }
        let message = format!(
            "the database file {} was removed or replaced while in use: writes are refused, \
             as they would be lost; restart ec2lite",
            self.path.display()
        );
        tracing::error!("{message}");
        Err(sqlx::Error::Io(std::io::Error::new(std::io::ErrorKind::NotFound, message)))
    }
}

fn identity(path: &std::path::Path) -> std::io::Result<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path)?;
    Ok((meta.dev(), meta.ino()))
}
