//! State transitions driven by time: `creating → available` volumes, `pending →
//! completed` snapshots, `pending → available` images; and forced failures for tests.

use sqlx::Row;

use super::Conn;
use crate::domain::lifecycle::{timed_transitions, ImageState, InstanceState, SnapshotState, Timed, VolumeState};

/// Applies every transition due at `now`; returns when the next one is due.
pub async fn settle(
    conn: &mut Conn,
    now: i64,
    terminated_retention_ms: i64,
) -> Result<Option<i64>, crate::error::Ec2Error> {
    settle_instances(conn, now, terminated_retention_ms).await?;
    for (from, to) in timed_transitions(VolumeState::ALL) {
        sqlx::query("update volume set state = ?, ready_at = null where state = ? and ready_at <= ?")
            .bind(to)
            .bind(from)
            .bind(now)
            .execute(&mut *conn)
            .await?;
    }
    // Uploads that saw no block and no completion within their timeout fail, and give
    // up their blocks (the sweep reclaims the files).
    sqlx::query(
        "delete from block_map where owner_id in (select snapshot_id from snapshot where upload_deadline <= ?)",
    )
    .bind(now)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "update snapshot set state = ?, upload_deadline = null, upload_progress = null, \
           state_message = 'The snapshot was not completed within its timeout.' where upload_deadline <= ?",
    )
    .bind(SnapshotState::Error)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    for (from, to) in timed_transitions(SnapshotState::ALL) {
        sqlx::query(
            "update snapshot set state = ?, completion_time = ready_at, ready_at = null \
             where state = ? and ready_at <= ?",
        )
        .bind(to)
        .bind(from)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    // An image is ready once its time has come and none of its snapshots is still pending.
    for (from, to) in timed_transitions(ImageState::ALL) {
        sqlx::query(
            "update image set state = ?, ready_at = null \
             where state = ? and ready_at <= ? and not exists ( \
               select 1 from image_snapshot s join snapshot p on p.snapshot_id = s.snapshot_id \
               where s.image_id = image.image_id and p.state = ?)",
        )
        .bind(to)
        .bind(from)
        .bind(now)
        .bind(SnapshotState::Pending)
        .execute(&mut *conn)
        .await?;
    }
    // An image whose snapshot failed fails too.
    sqlx::query(
        "update image set state = ?, ready_at = null, state_reason_code = 'Server.InternalError', \
           state_reason_message = 'Snapshot creation failed' \
         where state = ? and exists ( \
           select 1 from image_snapshot s join snapshot p on p.snapshot_id = s.snapshot_id \
           where s.image_id = image.image_id and p.state = ?)",
    )
    .bind(ImageState::Failed)
    .bind(ImageState::Pending)
    .bind(SnapshotState::Error)
    .execute(&mut *conn)
    .await?;
    Ok(next_due(conn, terminated_retention_ms).await?)
}

/// `pending → running`, `stopping → stopped`, `shutting-down → terminated` (releasing
/// volumes); terminated instances vanish once their retention is over.
async fn settle_instances(conn: &mut Conn, now: i64, terminated_retention_ms: i64) -> crate::error::Result<()> {
    let due: Vec<(String, InstanceState)> =
        sqlx::query_as("select instance_id, state from instance where ready_at is not null and ready_at <= ?")
            .bind(now)
            .fetch_all(&mut *conn)
            .await?;
    for (instance_id, current) in due {
        let Some(next) = current.settles_to() else { continue };
        let terminated = next == InstanceState::Terminated;
        sqlx::query(
            "update instance set state = ?, ready_at = null, \
             terminated_at = case when ? then ? else terminated_at end where instance_id = ?",
        )
        .bind(next)
        .bind(terminated)
        .bind(now)
        .bind(&instance_id)
        .execute(&mut *conn)
        .await?;
        if terminated {
            super::instances::release_resources(conn, &instance_id).await?;
        }
    }
    sqlx::query(
        "delete from tag where resource_id in (select instance_id from instance where state = ? and terminated_at <= ?)",
    )
    .bind(InstanceState::Terminated)
    .bind(now - terminated_retention_ms)
        .execute(&mut *conn)
        .await?;
    sqlx::query("delete from instance where state = ? and terminated_at <= ?")
        .bind(InstanceState::Terminated)
        .bind(now - terminated_retention_ms)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

async fn next_due(conn: &mut Conn, terminated_retention_ms: i64) -> Result<Option<i64>, sqlx::Error> {
    let row = sqlx::query(
        "select min(t) from ( \
           select min(ready_at) as t from volume where state = ? \
           union all select min(ready_at) from snapshot where state = ? \
           union all select min(upload_deadline) from snapshot where upload_deadline is not null \
           union all select min(ready_at) from image where state = ? \
           union all select min(ready_at) from instance where ready_at is not null \
           union all select min(terminated_at) + ? from instance where state = ?)",
    )
    .bind(VolumeState::Creating)
    .bind(SnapshotState::Pending)
    .bind(ImageState::Pending)
    .bind(terminated_retention_ms)
    .bind(InstanceState::Terminated)
    .fetch_one(&mut *conn)
    .await?;
    row.try_get::<Option<i64>, _>(0)
}

/// Forces a pending image, snapshot or volume into its failure state. Returns whether
/// something pending was found.
pub async fn fail(conn: &mut Conn, resource_id: &str, message: &str) -> Result<bool, sqlx::Error> {
    let (sql, failed, pending) = match resource_id.split('-').next() {
        Some("ami") => (
            "update image set state = ?3, ready_at = null, state_reason_code = 'Server.InternalError', \
             state_reason_message = ?2 where image_id = ?1 and state = ?4",
            ImageState::Failed.as_str(),
            ImageState::Pending.as_str(),
        ),
        Some("snap") => (
            "update snapshot set state = ?3, ready_at = null, state_message = ?2 where snapshot_id = ?1 and state = ?4",
            SnapshotState::Error.as_str(),
            SnapshotState::Pending.as_str(),
        ),
        Some("vol") => (
            "update volume set state = ?3, ready_at = null where volume_id = ?1 and ?2 is not null and state = ?4",
            VolumeState::Error.as_str(),
            VolumeState::Creating.as_str(),
        ),
        _ => return Ok(false),
    };
    let done = sqlx::query(sql).bind(resource_id).bind(message).bind(failed).bind(pending).execute(&mut *conn).await?;
    Ok(done.rows_affected() > 0)
}
