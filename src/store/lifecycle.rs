//! State transitions driven by time: `creating → available` volumes, `pending →
//! completed` snapshots, `pending → available` images; and forced failures for tests.

use sqlx::Row;

use super::Conn;

/// Applies every transition due at `now`; returns when the next one is due.
pub async fn settle(conn: &mut Conn, now: i64) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query("update volume set state = 'available', ready_at = null where state = 'creating' and ready_at <= ?")
        .bind(now)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "update snapshot set state = 'completed', completion_time = ready_at, ready_at = null \
         where state = 'pending' and ready_at <= ?",
    )
    .bind(now)
    .execute(&mut *conn)
    .await?;
    // An image is ready once its time has come and none of its snapshots is still pending.
    sqlx::query(
        "update image set state = 'available', ready_at = null \
         where state = 'pending' and ready_at <= ? and not exists ( \
           select 1 from image_snapshot s join snapshot p on p.snapshot_id = s.snapshot_id \
           where s.image_id = image.image_id and p.state = 'pending')",
    )
    .bind(now)
    .execute(&mut *conn)
    .await?;
    // An image whose snapshot failed fails too.
    sqlx::query(
        "update image set state = 'failed', ready_at = null, state_reason_code = 'Server.InternalError', \
           state_reason_message = 'Snapshot creation failed' \
         where state = 'pending' and exists ( \
           select 1 from image_snapshot s join snapshot p on p.snapshot_id = s.snapshot_id \
           where s.image_id = image.image_id and p.state = 'error')",
    )
    .execute(&mut *conn)
    .await?;
    next_due(conn).await
}

async fn next_due(conn: &mut Conn) -> Result<Option<i64>, sqlx::Error> {
    let row = sqlx::query(
        "select min(t) from ( \
           select min(ready_at) as t from volume where state = 'creating' \
           union all select min(ready_at) from snapshot where state = 'pending' \
           union all select min(ready_at) from image where state = 'pending')",
    )
    .fetch_one(&mut *conn)
    .await?;
    row.try_get::<Option<i64>, _>(0)
}

/// Forces a pending image, snapshot or volume into its failure state. Returns whether
/// something pending was found.
pub async fn fail(conn: &mut Conn, resource_id: &str, message: &str) -> Result<bool, sqlx::Error> {
    let sql = match resource_id.split('-').next() {
        Some("ami") => {
            "update image set state = 'failed', ready_at = null, state_reason_code = 'Server.InternalError', \
             state_reason_message = ?2 where image_id = ?1 and state = 'pending'"
        }
        Some("snap") => {
            "update snapshot set state = 'error', ready_at = null, state_message = ?2 \
             where snapshot_id = ?1 and state = 'pending'"
        }
        Some("vol") => "update volume set state = 'error', ready_at = null where volume_id = ?1 and state = 'creating' and ?2 is not null",
        _ => return Ok(false),
    };
    let done = sqlx::query(sql).bind(resource_id).bind(message).execute(&mut *conn).await?;
    Ok(done.rows_affected() > 0)
}
