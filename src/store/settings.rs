//! Per-account, per-region settings (block public access).

use super::Conn;
use crate::error::Result;

pub async fn get(conn: &mut Conn, account: &str, region: &str, key: &str) -> Result<Option<String>> {
    Ok(sqlx::query_scalar("select value from account_setting where account_id = ? and region = ? and key = ?")
        .bind(account)
        .bind(region)
        .bind(key)
        .fetch_optional(&mut *conn)
        .await?)
}

pub async fn set(conn: &mut Conn, account: &str, region: &str, key: &str, value: &str, now: i64) -> Result<()> {
    sqlx::query(
        "insert into account_setting (account_id, region, key, value, updated_at) values (?, ?, ?, ?, ?) \
         on conflict (account_id, region, key) do update set value = excluded.value, updated_at = excluded.updated_at",
    )
    .bind(account)
    .bind(region)
    .bind(key)
    .bind(value)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Replaces the organization memberships with those of the accounts file.
pub async fn replace_memberships(conn: &mut Conn, rows: &[(String, String)]) -> Result<()> {
    sqlx::query("delete from account_membership").execute(&mut *conn).await?;
    for (account, grantee) in rows {
        sqlx::query("insert or ignore into account_membership (account_id, grantee) values (?, ?)")
            .bind(account)
            .bind(grantee)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

pub const IMAGE_BLOCK_PUBLIC_ACCESS: &str = "image-block-public-access";
pub const SNAPSHOT_BLOCK_PUBLIC_ACCESS: &str = "snapshot-block-public-access";

/// Block public access for AMIs in the account and region (`unblocked` unless set).
pub async fn image_block_public_access(conn: &mut Conn, account: &str, region: &str) -> Result<String> {
    Ok(get(conn, account, region, IMAGE_BLOCK_PUBLIC_ACCESS).await?.unwrap_or_else(|| "unblocked".into()))
}

/// Block public access for snapshots in the account and region (`unblocked` unless set).
pub async fn snapshot_block_public_access(conn: &mut Conn, account: &str, region: &str) -> Result<String> {
    Ok(get(conn, account, region, SNAPSHOT_BLOCK_PUBLIC_ACCESS).await?.unwrap_or_else(|| "unblocked".into()))
}
