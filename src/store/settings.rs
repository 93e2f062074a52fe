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
