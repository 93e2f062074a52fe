//! Snapshots and their create-volume permissions.

use crate::store::sql::Sql;

use super::exec::{Columns, Cursor, DbError};
use super::filters::{FilterSpec, Found, Page, Target};
use super::reader::Db;
use super::{push_tags_doc, Conn, Exec};
use crate::domain::filter::Filter;
use crate::domain::lifecycle::SnapshotState;
use crate::domain::snapshot::{CreateVolumePermission, Snapshot};
use crate::error::Result;

/// A snapshot's columns, then the caller's tags on it ([`push_select`]); read by
/// [`snapshot_from_columns`] in this order.
const SNAPSHOT_COLUMNS: &str = "s.snapshot_id, s.account_id, s.region, s.volume_id, s.volume_size, s.description, \
    s.encrypted, s.kms_key_id, s.state, s.state_message, s.start_time, s.ready_at, s.completion_time, \
    s.owner_alias, exists (select 1 from create_volume_permission p \
        where p.snapshot_id = s.snapshot_id and p.grantee = 'all'), \
    s.parent_snapshot_id, s.upload_deadline, s.upload_timeout_ms, s.upload_progress, s.client_token, ";

/// A snapshot from a row of [`SNAPSHOT_COLUMNS`].
fn snapshot_from_columns(c: &mut Cursor<'_, dyn Columns + '_>) -> Result<Snapshot, DbError> {
    Ok(Snapshot {
        snapshot_id: c.string()?,
        owner_id: c.string()?,
        region: c.string()?,
        volume_id: c.string()?,
        volume_size: c.int()?,
        description: c.string()?,
        encrypted: c.bool()?,
        kms_key_id: c.string_or_null()?,
        state: c.parsed(SnapshotState::parse)?,
        state_message: c.string_or_null()?,
        start_time: c.int()?,
        ready_at: c.int_or_null()?,
        completion_time: c.int_or_null()?,
        owner_alias: c.string_or_null()?,
        is_public: c.bool()?,
        parent_snapshot_id: c.string_or_null()?,
        upload_deadline: c.int_or_null()?,
        upload_timeout_ms: c.int_or_null()?,
        upload_progress: c.int_or_null()?,
        client_token: c.string_or_null()?,
        tags: c.json_list()?,
    })
}

pub static FILTERS: FilterSpec = FilterSpec {
    id_column: "s.snapshot_id",
    fields: &[
        ("description", Target::Text("s.description")),
        ("encrypted", Target::Bool("s.encrypted")),
        ("kms-key-id", Target::Text("s.kms_key_id")),
        ("owner-alias", Target::Text("s.owner_alias")),
        ("owner-id", Target::Text("s.account_id")),
        ("progress", Target::Text("(case s.state when 'completed' then '100%' else '0%' end)")),
        ("snapshot-id", Target::Text("s.snapshot_id")),
        ("start-time", Target::Text(START_TIME_ISO)),
        ("status", Target::Text("s.state")),
        ("storage-tier", Target::Text("'standard'")),
        ("transfer-type", Target::Text("'standard'")),
        ("volume-id", Target::Text("s.volume_id")),
        ("volume-size", Target::Text("cast(s.volume_size as text)")),
    ],
};

/// `start_time` in EC2's ISO form, for wildcard matches like `2026-11-26T*`.
const START_TIME_ISO: &str = "strftime('%Y-%m-%dT%H:%M:%fZ', s.start_time / 1000.0, 'unixepoch')";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    Account(String),
    Alias(String),
}

#[derive(Debug, Default)]
pub struct SnapshotQuery<'a> {
    pub account: &'a str,
    pub region: &'a str,
    pub snapshot_ids: Vec<String>,
    pub owners: Vec<Owner>,
    /// Account ids or `all` (`RestorableBy.N`, with `self` already resolved).
    pub restorable_by: Vec<String>,
    pub filters: &'a [Filter],
    pub page: Page,
}

fn push_select(qb: &mut Sql, account: &str) {
    qb.push(SNAPSHOT_COLUMNS);
    push_tags_doc(qb, account, "s.snapshot_id");
}

/// Snapshots `account` may see: its own, shared with it, or public.
///
/// A public grant counts only while the owner has not blocked all public sharing
/// (snapshot block public access `block-all-sharing`).
fn push_visible(qb: &mut Sql, account: &str) {
    qb.push(" and (s.account_id = ");
    qb.push_bind(account);
    qb.push(" or s.snapshot_id in (select p.snapshot_id from create_volume_permission p where p.grantee = ");
    qb.push_bind(account);
    qb.push(
        ") or (s.snapshot_id in (select p.snapshot_id from create_volume_permission p where p.grantee = 'all') and ",
    );
    qb.push(NOT_BLOCKED);
    qb.push("))");
}

/// The snapshot's owner does not block all public sharing in its region.
const NOT_BLOCKED: &str = "not exists (select 1 from account_setting b where b.account_id = s.account_id \
    and b.region = s.region and b.key = 'snapshot-block-public-access' and b.value = 'block-all-sharing')";

pub fn describe(db: &Db<'_>, q: &SnapshotQuery<'_>) -> Result<(Found<Snapshot>, Option<String>)> {
    let mut qb = Sql::new("select ");
    push_select(&mut qb, q.account);
    qb.push(" from snapshot s where s.region = ");
    qb.push_bind(q.region);
    push_visible(&mut qb, q.account);
    if !q.snapshot_ids.is_empty() {
        super::filters::push_in(&mut qb, "s.snapshot_id", &q.snapshot_ids);
    }
    if !q.owners.is_empty() {
        qb.push(" and (0");
        for owner in &q.owners {
            match owner {
                Owner::Account(id) => qb.push(" or s.account_id = ").push_bind(id.as_str()),
                Owner::Alias(alias) => qb.push(" or s.owner_alias = ").push_bind(alias.as_str()),
            };
        }
        qb.push(")");
    }
    if !q.restorable_by.is_empty() {
        // Owners can always restore their own snapshots; others need a grant.
        qb.push(" and (0");
        for grantee in &q.restorable_by {
            qb.push(" or s.account_id = ").push_bind(grantee.as_str());
        }
        qb.push(" or s.snapshot_id in (select r.snapshot_id from create_volume_permission r where (0");
        for grantee in &q.restorable_by {
            qb.push(" or r.grantee = ").push_bind(grantee.as_str());
        }
        // A blocked public grant still shows to the owner, who holds it.
        qb.push(") and (r.grantee <> 'all' or s.account_id = ");
        qb.push_bind(q.account);
        qb.push(" or ");
        qb.push(NOT_BLOCKED);
        qb.push(")))");
    }
    FILTERS.push(&mut qb, q.filters, q.account)?;
    q.page.push(&mut qb, "s.snapshot_id");
    let (found, next) =
        q.page.finish_shared(db.records(&qb, snapshot_from_columns)?, |s: &Snapshot| s.snapshot_id.clone());
    Ok((found, next))
}

/// One snapshot in `region` that `account` may see.
pub async fn find_visible(
    conn: &mut impl Exec,
    account: &str,
    region: &str,
    snapshot_id: &str,
) -> Result<Option<Snapshot>> {
    let mut qb = Sql::new("select ");
    push_select(&mut qb, account);
    qb.push(" from snapshot s where s.snapshot_id = ");
    qb.push_bind(snapshot_id);
    qb.push(" and s.region = ");
    qb.push_bind(region);
    push_visible(&mut qb, account);
    Ok(conn.records(&qb, snapshot_from_columns).await?.pop())
}

pub async fn insert(conn: &mut impl Exec, s: &Snapshot, now: i64) -> Result<()> {
    let mut qb = Sql::new(
        "insert into snapshot (snapshot_id, account_id, region, volume_id, volume_size, description, encrypted, \
         kms_key_id, state, state_message, owner_alias, start_time, ready_at, completion_time, created_at, \
         parent_snapshot_id, upload_deadline, upload_timeout_ms, upload_progress, client_token) values (",
    );
    qb.separated(", ")
        .push_bind(&s.snapshot_id)
        .push_bind(&s.owner_id)
        .push_bind(&s.region)
        .push_bind(&s.volume_id)
        .push_bind(s.volume_size)
        .push_bind(&s.description)
        .push_bind(s.encrypted)
        .push_bind(s.kms_key_id.as_ref())
        .push_bind(s.state.as_str())
        .push_bind(s.state_message.as_ref())
        .push_bind(s.owner_alias.as_ref())
        .push_bind(s.start_time)
        .push_bind(s.ready_at)
        .push_bind(s.completion_time)
        .push_bind(now)
        .push_bind(s.parent_snapshot_id.as_ref())
        .push_bind(s.upload_deadline)
        .push_bind(s.upload_timeout_ms)
        .push_bind(s.upload_progress)
        .push_bind(s.client_token.as_ref());
    qb.push(")");
    conn.execute(&qb).await?;
    Ok(())
}

pub async fn delete(conn: &mut Conn, snapshot_id: &str) -> Result<()> {
    sqlx::query("delete from snapshot where snapshot_id = ?").bind(snapshot_id).execute(&mut *conn).await?;
    sqlx::query("delete from tag where resource_id = ?").bind(snapshot_id).execute(&mut *conn).await?;
    Ok(())
}

pub async fn permissions(conn: &mut Conn, snapshot_id: &str) -> Result<Vec<CreateVolumePermission>> {
    let grantees: Vec<String> =
        sqlx::query_scalar("select grantee from create_volume_permission where snapshot_id = ? order by grantee")
            .bind(snapshot_id)
            .fetch_all(&mut *conn)
            .await?;
    Ok(grantees.into_iter().map(CreateVolumePermission::from_grantee).collect())
}

pub async fn add_permission(conn: &mut Conn, snapshot_id: &str, grantee: &str, now: i64) -> Result<()> {
    sqlx::query("insert or ignore into create_volume_permission (snapshot_id, grantee, created_at) values (?, ?, ?)")
        .bind(snapshot_id)
        .bind(grantee)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn remove_permission(conn: &mut Conn, snapshot_id: &str, grantee: &str) -> Result<()> {
    sqlx::query("delete from create_volume_permission where snapshot_id = ? and grantee = ?")
        .bind(snapshot_id)
        .bind(grantee)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn reset_permissions(conn: &mut Conn, snapshot_id: &str) -> Result<()> {
    sqlx::query("delete from create_volume_permission where snapshot_id = ?")
        .bind(snapshot_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The caller's snapshot started with `client_token` (StartSnapshot idempotency).
pub async fn find_by_client_token(
    conn: &mut Conn,
    account: &str,
    region: &str,
    client_token: &str,
) -> Result<Option<Snapshot>> {
    let mut qb = Sql::new("select ");
    push_select(&mut qb, account);
    qb.push(" from snapshot s where s.account_id = ");
    qb.push_bind(account);
    qb.push(" and s.region = ");
    qb.push_bind(region);
    qb.push(" and s.client_token = ");
    qb.push_bind(client_token);
    Ok(conn.records(&qb, snapshot_from_columns).await?.into_iter().next())
}

/// Records activity on an open upload: its deadline moves back and the client's
/// progress is kept. False when the upload is no longer open.
pub async fn touch_upload(conn: &mut Conn, snapshot_id: &str, now: i64, progress: Option<i64>) -> Result<bool> {
    let done = sqlx::query(
        "update snapshot set upload_deadline = ?1 + upload_timeout_ms, upload_progress = coalesce(?2, upload_progress) \
         where snapshot_id = ?3 and state = 'pending' and upload_deadline > ?1",
    )
    .bind(now)
    .bind(progress)
    .bind(snapshot_id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Closes an open upload in the state of `closed` (pending with its completion time,
/// completed, or error). False when the upload was no longer open.
pub async fn close_upload(conn: &mut Conn, closed: &Snapshot) -> Result<bool> {
    let done = sqlx::query(
        "update snapshot set state = ?, state_message = ?, ready_at = ?, completion_time = ?, \
           upload_deadline = null, upload_progress = null \
         where snapshot_id = ? and state = 'pending' and upload_deadline is not null",
    )
    .bind(closed.state)
    .bind(&closed.state_message)
    .bind(closed.ready_at)
    .bind(closed.completion_time)
    .bind(&closed.snapshot_id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// A snapshot by id whoever owns it (for lineage checks; tags are not loaded).
pub async fn find_any(conn: &mut Conn, snapshot_id: &str) -> Result<Option<Snapshot>> {
    let mut qb = Sql::new("select ");
    push_select(&mut qb, "");
    qb.push(" from snapshot s where s.snapshot_id = ");
    qb.push_bind(snapshot_id);
    Ok(conn.records(&qb, snapshot_from_columns).await?.pop())
}

/// Ends the capture of a running instance's root filesystem into a pending snapshot:
/// it completes at `ready_at`, or fails with `failure`.
pub async fn finish_capture(conn: &mut Conn, snapshot_id: &str, ready_at: i64, failure: Option<&str>) -> Result<()> {
    let state = if failure.is_some() { SnapshotState::Error } else { SnapshotState::Pending };
    sqlx::query("update snapshot set state = ?, state_message = ?, ready_at = ? where snapshot_id = ? and state = ?")
        .bind(state)
        .bind(failure)
        .bind(failure.is_none().then_some(ready_at))
        .bind(snapshot_id)
        .bind(SnapshotState::Pending)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
