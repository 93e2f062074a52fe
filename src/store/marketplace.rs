//! Marketplace subscriptions made through the admin endpoint.

use super::Conn;
use crate::error::Result;

pub async fn is_subscribed(conn: &mut Conn, account: &str, product_code: &str) -> Result<bool> {
    let found: Option<i64> =
        sqlx::query_scalar("select 1 from marketplace_subscription where account_id = ? and product_code = ?")
            .bind(account)
            .bind(product_code)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(found.is_some())
}

pub async fn subscribe(conn: &mut Conn, account: &str, product_code: &str, now: i64) -> Result<()> {
    sqlx::query(
        "insert into marketplace_subscription (account_id, product_code, created_at) values (?, ?, ?) \
         on conflict do nothing",
    )
    .bind(account)
    .bind(product_code)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Returns whether there was a subscription to end.
pub async fn unsubscribe(conn: &mut Conn, account: &str, product_code: &str) -> Result<bool> {
    let done = sqlx::query("delete from marketplace_subscription where account_id = ? and product_code = ?")
        .bind(account)
        .bind(product_code)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn subscriptions(conn: &mut Conn, account: &str) -> Result<Vec<String>> {
    let codes = sqlx::query_scalar(
        "select product_code from marketplace_subscription where account_id = ? order by product_code",
    )
    .bind(account)
    .fetch_all(&mut *conn)
    .await?;
    Ok(codes)
}
