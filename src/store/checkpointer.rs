//! WAL checkpoints off the request path.
//!
//! Left to itself, SQLite checkpoints inside the commit that takes the WAL past 1,000
//! pages: that writer copies the pages back and fsyncs the WAL and the database while
//! holding the write lock, so every write queued behind it waits. On a new database,
//! where each checkpoint also grows the file, this takes 5–10 ms once every ~130
//! RegisterImage calls. Here a thread of the store runs passive checkpoints instead. They
//! never block a writer or a reader. The writers keep SQLite's own checkpoint only as a
//! backstop, at [`BACKSTOP_PAGES`].
//!
//! Durability does not change: a commit is in the WAL when its answer is sent, exactly as
//! before. A checkpoint only moves committed pages into the database file.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

/// How often the thread looks for committed pages to move.
const INTERVAL: Duration = Duration::from_millis(100);

/// WAL pages at which a committing writer checkpoints by itself (40 MB), in case this
/// thread falls behind.
pub const BACKSTOP_PAGES: u32 = 10_000;

/// The thread; stopped by [`Checkpointer::stop`] or when the last handle of the store
/// is dropped.
pub struct Checkpointer {
    stop: Arc<AtomicBool>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Checkpointer {
    /// Starts checkpointing the database at `path` every [`INTERVAL`].
    pub fn start(path: PathBuf) -> Checkpointer {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let spawned = std::thread::Builder::new().name("wal-checkpoint".into()).spawn(move || {
            let mut conn = None;
            loop {
                std::thread::park_timeout(INTERVAL);
                if stopped.load(Ordering::Relaxed) {
                    break;
                }
                if let Err(err) = checkpoint(&path, &mut conn) {
                    // A full disk or a moved file: the writers report it to their callers;
                    // try again with a new connection next time.
                    tracing::debug!(error = %err, "background WAL checkpoint failed");
                    conn = None;
                }
            }
        });
        let thread = match spawned {
            Ok(thread) => Some(thread),
            Err(err) => {
                tracing::warn!(error = %err, "no background WAL checkpoints: writers checkpoint by themselves");
                None
            }
        };
        Checkpointer { stop, thread: Mutex::new(thread) }
    }

    /// Stops the thread and waits until its connection is closed, so that the writers'
    /// close is the last one and checkpoints and removes the WAL.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.lock().expect("not poisoned").take() {
            thread.thread().unpark();
            let _ = thread.join();
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.get_mut().expect("not poisoned").as_ref() {
            thread.thread().unpark();
        }
    }
}

/// One passive checkpoint, if the WAL holds anything.
fn checkpoint(path: &std::path::Path, conn: &mut Option<Connection>) -> rusqlite::Result<()> {
    // No frame yet, nothing to do (an idle new server opens no connection).
    if !super::durability::wal_holds_frames(path) {
        return Ok(());
    }
    if conn.is_none() {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let opened = Connection::open_with_flags(path, flags)?;
        // The writers' own settings: fsyncs as `--durability` says.
        opened.execute_batch(&format!("pragma synchronous = {};", super::durability::synchronous_pragma()))?;
        *conn = Some(opened);
    }
    let conn = conn.as_ref().expect("opened above");
    // Answers (busy, frames in the WAL, frames checkpointed); a frame still needed by a
    // reader is simply left for the next round.
    conn.query_row("pragma wal_checkpoint(passive)", [], |_| Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A write committed on one connection reaches the database file through the
    /// checkpointer, with the writer's own checkpoints off.
    #[test]
    fn committed_pages_reach_the_database_file() {
        let dir = std::env::temp_dir().join(format!("ec2lite-ckpt-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("db");
        let writer = Connection::open(&path).unwrap();
        writer.execute_batch("pragma journal_mode = wal; pragma wal_autocheckpoint = 0; create table t (x)").unwrap();
        writer.execute("insert into t values (zeroblob(100000))", []).unwrap();
        let before = std::fs::metadata(&path).unwrap().len();
        let mut conn = None;
        checkpoint(&path, &mut conn).unwrap();
        let after = std::fs::metadata(&path).unwrap().len();
        assert!(after >= before + 100_000, "{before} -> {after}");
        let checkpointed: (i64, i64, i64) =
            writer.query_row("pragma wal_checkpoint(passive)", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap();
        assert_eq!(checkpointed.1, checkpointed.2, "every frame is in the database file");
        drop(writer);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
