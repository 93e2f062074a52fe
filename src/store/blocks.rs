//! `block_map`: which block sits at each index of a snapshot or a volume.

use crate::store::sql::Sql;
use std::collections::HashSet;

use sqlx::Row;

use super::{Conn, Exec};
use crate::domain::block::Digest;
use crate::error::Result;

fn digest_of(bytes: Vec<u8>) -> Result<Digest, sqlx::Error> {
    bytes.try_into().map_err(|_| sqlx::Error::Decode("block digest is not 32 bytes".into()))
}

/// Records a block put into `owner` (an upload in progress).
pub async fn put(conn: &mut Conn, owner: &str, block_index: i64, digest: &Digest) -> Result<()> {
    sqlx::query("insert or replace into block_map (owner_id, block_index, digest, written) values (?, ?, ?, 1)")
        .bind(owner)
        .bind(block_index)
        .bind(&digest[..])
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Gives `to` the blocks of `from` (a new snapshot of a volume, a copy, a volume made
/// from a snapshot, an incremental upload from its parent). Blocks are shared, not copied.
pub async fn copy(conn: &mut impl Exec, from: &str, to: &str) -> Result<()> {
    let mut qb = Sql::new("insert or replace into block_map (owner_id, block_index, digest, written) select ");
    qb.push_bind(to).push(", block_index, digest, 0 from block_map where owner_id = ").push_bind(from);
    conn.execute(&qb).await?;
    Ok(())
}

pub async fn delete_all(conn: &mut Conn, owner: &str) -> Result<()> {
    sqlx::query("delete from block_map where owner_id = ?").bind(owner).execute(&mut *conn).await?;
    Ok(())
}

/// Up to `limit` blocks of `owner` from `start` on, by index.
pub async fn list(conn: &mut Conn, owner: &str, start: i64, limit: i64) -> Result<Vec<(i64, Digest)>> {
    let rows = sqlx::query(
        "select block_index, digest from block_map where owner_id = ? and block_index >= ? \
         order by block_index limit ?",
    )
    .bind(owner)
    .bind(start)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    let mut blocks = Vec::with_capacity(rows.len());
    for row in rows {
        blocks.push((row.try_get(0)?, digest_of(row.try_get(1)?)?));
    }
    Ok(blocks)
}

pub async fn get(conn: &mut Conn, owner: &str, block_index: i64) -> Result<Option<Digest>> {
    let bytes: Option<Vec<u8>> =
        sqlx::query_scalar("select digest from block_map where owner_id = ? and block_index = ?")
            .bind(owner)
            .bind(block_index)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(bytes.map(digest_of).transpose()?)
}

/// The digests of the blocks put into `owner` itself, by index: what CompleteSnapshot
/// counts and aggregates.
pub async fn written(conn: &mut Conn, owner: &str) -> Result<Vec<Digest>> {
    let rows: Vec<Vec<u8>> =
        sqlx::query_scalar("select digest from block_map where owner_id = ? and written = 1 order by block_index")
            .bind(owner)
            .fetch_all(&mut *conn)
            .await?;
    Ok(rows.into_iter().map(digest_of).collect::<Result<_, _>>()?)
}

/// A block index where two snapshots differ, with each one's block there (if any).
pub type ChangedBlock = (i64, Option<Digest>, Option<Digest>);

/// Up to `limit` indexes from `start` on where `first` and `second` hold different blocks.
pub async fn changed(conn: &mut Conn, first: &str, second: &str, start: i64, limit: i64) -> Result<Vec<ChangedBlock>> {
    let rows = sqlx::query(
        "select block_index, max(case when owner_id = ?1 then digest end) as first_digest, \
           max(case when owner_id = ?2 then digest end) as second_digest \
         from block_map where owner_id in (?1, ?2) and block_index >= ?3 \
         group by block_index having first_digest is not second_digest order by block_index limit ?4",
    )
    .bind(first)
    .bind(second)
    .bind(start)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    let mut blocks = Vec::with_capacity(rows.len());
    for row in rows {
        let first: Option<Vec<u8>> = row.try_get(1)?;
        let second: Option<Vec<u8>> = row.try_get(2)?;
        blocks.push((row.try_get(0)?, first.map(digest_of).transpose()?, second.map(digest_of).transpose()?));
    }
    Ok(blocks)
}

/// Every block some snapshot or volume refers to (what the sweep keeps).
pub async fn referenced(conn: &mut Conn) -> Result<HashSet<Digest>> {
    let rows: Vec<Vec<u8>> = sqlx::query_scalar("select distinct digest from block_map").fetch_all(&mut *conn).await?;
    Ok(rows.into_iter().map(digest_of).collect::<Result<_, _>>()?)
}

/// Of `digests`, those some snapshot or volume refers to (through the digest index).
pub async fn referenced_among(conn: &mut Conn, digests: &[Digest]) -> Result<HashSet<Digest>> {
    let mut found = HashSet::new();
    for chunk in digests.chunks(500) {
        let mut qb = Sql::new("select distinct digest from block_map where digest in (");
        let mut list = qb.separated(", ");
        for digest in chunk {
            list.push_bind(&digest[..]);
        }
        qb.push(")");
        let rows: Vec<(Vec<u8>,)> = qb.query_as().fetch_all(&mut *conn).await?;
        for (row,) in rows {
            found.insert(digest_of(row)?);
        }
    }
    Ok(found)
}

/// Drops the blocks an import task staged (owners `<task id>/<disk>`).
pub async fn delete_staged(conn: &mut Conn, task_id: &str) -> Result<()> {
    sqlx::query("delete from block_map where owner_id >= ? and owner_id < ?")
        .bind(format!("{task_id}/"))
        .bind(format!("{task_id}0"))
        .execute(&mut *conn)
        .await?;
    Ok(())
}
