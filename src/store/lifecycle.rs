//! State transitions driven by time: `creating → available` volumes, `pending →
//! completed` snapshots, `pending → available` images; and forced failures for tests.

use super::{Conn, Exec};
use crate::domain::lifecycle::{timed_transitions, ImageState, InstanceState, SnapshotState, Timed, VolumeState};
use crate::store::sql::Sql;

/// Applies every transition due at `now`; returns when the next one is due. Runs on
/// either writer: the synchronous one on the request path (see `Store::settle`).
pub async fn settle(
    conn: &mut impl Exec,
    now: i64,
    terminated_retention_ms: i64,
) -> Result<Option<i64>, crate::error::Ec2Error> {
    settle_instances(conn, now, terminated_retention_ms).await?;
    for (from, to) in timed_transitions(VolumeState::ALL) {
        let sql = Sql::bound(
            "update volume set state = ?, ready_at = null where state = ? and ready_at <= ?",
            [to.as_str().into(), from.as_str().into(), now.into()],
        );
        conn.execute(&sql).await?;
    }
    // Uploads that saw no block and no completion within their timeout fail, and give
    // up their blocks (the sweep reclaims the files).
    let sql = Sql::bound(
        "delete from block_map where owner_id in (select snapshot_id from snapshot where upload_deadline <= ?)",
        [now.into()],
    );
    conn.execute(&sql).await?;
    let sql = Sql::bound(
        "update snapshot set state = ?, upload_deadline = null, upload_progress = null, \
           state_message = 'The snapshot was not completed within its timeout.' where upload_deadline <= ?",
        [SnapshotState::Error.as_str().into(), now.into()],
    );
    conn.execute(&sql).await?;
    for (from, to) in timed_transitions(SnapshotState::ALL) {
        let sql = Sql::bound(
            "update snapshot set state = ?, completion_time = ready_at, ready_at = null \
             where state = ? and ready_at <= ?",
            [to.as_str().into(), from.as_str().into(), now.into()],
        );
        conn.execute(&sql).await?;
    }
    // An image is ready once its time has come and none of its snapshots is still pending.
    for (from, to) in timed_transitions(ImageState::ALL) {
        let sql = Sql::bound(
            "update image set state = ?, ready_at = null \
             where state = ? and ready_at <= ? and not exists ( \
               select 1 from image_snapshot s join snapshot p on p.snapshot_id = s.snapshot_id \
               where s.image_id = image.image_id and p.state = ?)",
            [to.as_str().into(), from.as_str().into(), now.into(), SnapshotState::Pending.as_str().into()],
        );
        conn.execute(&sql).await?;
    }
    // An image whose snapshot failed fails too.
    let sql = Sql::bound(
        "update image set state = ?, ready_at = null, state_reason_code = 'Server.InternalError', \
           state_reason_message = 'Snapshot creation failed' \
         where state = ? and exists ( \
           select 1 from image_snapshot s join snapshot p on p.snapshot_id = s.snapshot_id \
           where s.image_id = image.image_id and p.state = ?)",
        [ImageState::Failed.as_str().into(), ImageState::Pending.as_str().into(), SnapshotState::Error.as_str().into()],
    );
    conn.execute(&sql).await?;
    next_due(conn, terminated_retention_ms).await
}

/// `pending → running`, `stopping → stopped`, `shutting-down → terminated` (releasing
/// volumes); terminated instances vanish once their retention is over.
async fn settle_instances(conn: &mut impl Exec, now: i64, terminated_retention_ms: i64) -> crate::error::Result<()> {
    let sql = Sql::bound(
        "select json_array(instance_id, state) from instance where ready_at is not null and ready_at <= ?",
        [now.into()],
    );
    let due: Vec<(String, InstanceState)> = conn.docs(&sql).await?;
    for (instance_id, current) in due {
        let Some(next) = current.settles_to() else { continue };
        let terminated = next == InstanceState::Terminated;
        let sql = Sql::bound(
            "update instance set state = ?, ready_at = null, \
             terminated_at = case when ? then ? else terminated_at end where instance_id = ?",
            [next.as_str().into(), terminated.into(), now.into(), instance_id.as_str().into()],
        );
        conn.execute(&sql).await?;
        if terminated {
            super::instances::release_resources(conn, &instance_id).await?;
        }
    }
    let gone = now - terminated_retention_ms;
    let terminated = InstanceState::Terminated.as_str();
    let sql = Sql::bound(
        "delete from tag where resource_id in (select instance_id from instance where state = ? and terminated_at <= ?)",
        [terminated.into(), gone.into()],
    );
    conn.execute(&sql).await?;
    let sql =
        Sql::bound("delete from instance where state = ? and terminated_at <= ?", [terminated.into(), gone.into()]);
    conn.execute(&sql).await?;
    Ok(())
}

async fn next_due(conn: &mut impl Exec, terminated_retention_ms: i64) -> crate::error::Result<Option<i64>> {
    let sql = Sql::bound(
        "select cast(min(t) as text) from ( \
           select min(ready_at) as t from volume where state = ? \
           union all select min(ready_at) from snapshot where state = ? \
           union all select min(upload_deadline) from snapshot where upload_deadline is not null \
           union all select min(ready_at) from image where state = ? \
           union all select min(ready_at) from instance where ready_at is not null \
           union all select min(terminated_at) + ? from instance where state = ?)",
        [
            VolumeState::Creating.as_str().into(),
            SnapshotState::Pending.as_str().into(),
            ImageState::Pending.as_str().into(),
            terminated_retention_ms.into(),
            InstanceState::Terminated.as_str().into(),
        ],
    );
    let due = conn.texts(&sql).await?.pop().flatten();
    Ok(due.and_then(|t| t.parse().ok()))
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
