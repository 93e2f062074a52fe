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
pub async fn quick_check(conn: &mut Conn) -> Result<Vec<String>, sqlx::Error> {
    let rows: Vec<String> = sqlx::query_scalar("pragma quick_check(20)").fetch_all(&mut *conn).await?;
    Ok(if rows == ["ok"] { Vec::new() } else { rows })
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
        assert!(quick_check(&mut store.read().await.unwrap()).await.unwrap().is_empty());
        store.close().await;
        std::fs::remove_dir_all(dir).unwrap();
    }
}
