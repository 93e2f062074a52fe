//! Volumes.

use crate::store::sql::Sql;

use super::exec::{Columns, Cursor, DbError};
use super::filters::{FilterSpec, Found, Page, Target};
use super::reader::Db;
use super::{push_tags_doc, Conn, Exec};
use crate::domain::filter::Filter;
use crate::domain::lifecycle::VolumeState;
use crate::domain::volume::{Attachment, Volume};
use crate::error::Result;

/// A volume's columns, then the caller's tags on it ([`push_select`]); read by
/// [`volume_from_columns`] in this order.
const VOLUME_COLUMNS: &str = "v.volume_id, v.account_id, v.region, v.availability_zone, v.availability_zone_id, \
    v.size, v.volume_type, v.iops, v.throughput, v.encrypted, v.kms_key_id, v.snapshot_id, v.multi_attach_enabled, \
    v.state, v.created_at, v.ready_at, v.attached_instance_id, v.attached_device, v.attachment_state, \
    v.attach_time, v.delete_on_termination, ";

/// A volume from a row of [`VOLUME_COLUMNS`].
fn volume_from_columns(c: &mut Cursor<'_, dyn Columns + '_>) -> Result<Volume, DbError> {
    Ok(Volume {
        volume_id: c.string()?,
        owner_id: c.string()?,
        region: c.string()?,
        availability_zone: c.string()?,
        availability_zone_id: c.string()?,
        size: c.int()?,
        volume_type: c.string()?,
        iops: c.int_or_null()?,
        throughput: c.int_or_null()?,
        encrypted: c.bool()?,
        kms_key_id: c.string_or_null()?,
        snapshot_id: c.string_or_null()?,
        multi_attach_enabled: c.bool()?,
        state: c.parsed(VolumeState::parse)?,
        create_time: c.int()?,
        ready_at: c.int_or_null()?,
        attachment: match c.string_or_null()? {
            None => {
                c.skip(4);
                None
            }
            Some(instance_id) => Some(Attachment {
                instance_id,
                device: c.string_or_null()?.unwrap_or_default(),
                state: c.string_or_null()?.unwrap_or_default(),
                attach_time: c.int_or_null()?.unwrap_or(0),
                delete_on_termination: c.bool_or_null()?.unwrap_or(false),
            }),
        },
        tags: c.json_list()?,
    })
}

pub static FILTERS: FilterSpec = FilterSpec {
    id_column: "v.volume_id",
    fields: &[
        ("attachment.attach-time", Target::Text("strftime('%Y-%m-%dT%H:%M:%fZ', v.attach_time / 1000.0, 'unixepoch')")),
        ("attachment.delete-on-termination", Target::Bool("v.delete_on_termination")),
        ("attachment.device", Target::Text("v.attached_device")),
        ("attachment.instance-id", Target::Text("v.attached_instance_id")),
        ("attachment.status", Target::Text("v.attachment_state")),
        ("availability-zone", Target::Text("v.availability_zone")),
        ("availability-zone-id", Target::Text("v.availability_zone_id")),
        ("create-time", Target::Text("strftime('%Y-%m-%dT%H:%M:%fZ', v.created_at / 1000.0, 'unixepoch')")),
        ("encrypted", Target::Bool("v.encrypted")),
        ("fast-restored", Target::Text("'false'")),
        ("iops", Target::Text("cast(v.iops as text)")),
        ("kms-key-id", Target::Text("v.kms_key_id")),
        ("multi-attach-enabled", Target::Bool("v.multi_attach_enabled")),
        ("size", Target::Text("cast(v.size as text)")),
        ("snapshot-id", Target::Text("coalesce(v.snapshot_id, '')")),
        ("status", Target::Text("v.state")),
        ("throughput", Target::Text("cast(v.throughput as text)")),
        ("volume-id", Target::Text("v.volume_id")),
        ("volume-type", Target::Text("v.volume_type")),
    ],
};

#[derive(Debug, Default)]
pub struct VolumeQuery<'a> {
    pub account: &'a str,
    pub region: &'a str,
    pub volume_ids: Vec<String>,
    pub filters: &'a [Filter],
    pub page: Page,
}

fn push_select(qb: &mut Sql, account: &str) {
    qb.push(VOLUME_COLUMNS);
    push_tags_doc(qb, account, "v.volume_id");
}

pub fn describe(db: &Db<'_>, q: &VolumeQuery<'_>) -> Result<(Found<Volume>, Option<String>)> {
    let mut qb = Sql::new("select ");
    push_select(&mut qb, q.account);
    qb.push(" from volume v where v.region = ");
    qb.push_bind(q.region);
    qb.push(" and v.account_id = ");
    qb.push_bind(q.account);
    if !q.volume_ids.is_empty() {
        super::filters::push_in(&mut qb, "v.volume_id", &q.volume_ids);
    }
    FILTERS.push(&mut qb, q.filters, q.account)?;
    q.page.push(&mut qb, "v.volume_id");
    let (found, next) = q.page.finish_shared(db.records(&qb, volume_from_columns)?, |v: &Volume| v.volume_id.clone());
    Ok((found, next))
}

/// One of `account`'s volumes in `region`.
pub async fn find_owned(conn: &mut impl Exec, account: &str, region: &str, volume_id: &str) -> Result<Option<Volume>> {
    let mut qb = Sql::new("select ");
    push_select(&mut qb, account);
    qb.push(" from volume v where v.volume_id = ");
    qb.push_bind(volume_id);
    qb.push(" and v.region = ");
    qb.push_bind(region);
    qb.push(" and v.account_id = ");
    qb.push_bind(account);
    Ok(conn.records(&qb, volume_from_columns).await?.pop())
}

/// The volume an earlier call with the same client token created, if any.
pub async fn find_by_client_token(
    conn: &mut impl Exec,
    account: &str,
    region: &str,
    token: &str,
) -> Result<Option<Volume>> {
    let mut qb = Sql::new("select volume_id from volume where account_id = ");
    qb.push_bind(account).push(" and region = ").push_bind(region).push(" and client_token = ").push_bind(token);
    let id = conn.texts(&qb).await?.pop().flatten();
    match id {
        Some(id) => find_owned(conn, account, region, &id).await,
        None => Ok(None),
    }
}

pub async fn insert(conn: &mut impl Exec, v: &Volume, client_token: Option<&str>) -> Result<()> {
    let mut qb = Sql::new(
        "insert into volume (volume_id, account_id, region, availability_zone, availability_zone_id, size, volume_type, \
         iops, throughput, encrypted, kms_key_id, snapshot_id, multi_attach_enabled, state, ready_at, client_token, created_at) \
         values (",
    );
    qb.separated(", ")
        .push_bind(&v.volume_id)
        .push_bind(&v.owner_id)
        .push_bind(&v.region)
        .push_bind(&v.availability_zone)
        .push_bind(&v.availability_zone_id)
        .push_bind(v.size)
        .push_bind(&v.volume_type)
        .push_bind(v.iops)
        .push_bind(v.throughput)
        .push_bind(v.encrypted)
        .push_bind(v.kms_key_id.as_ref())
        .push_bind(v.snapshot_id.as_ref())
        .push_bind(v.multi_attach_enabled)
        .push_bind(v.state.as_str())
        .push_bind(v.ready_at)
        .push_bind(client_token)
        .push_bind(v.create_time);
    qb.push(")");
    conn.execute(&qb).await?;
    // A volume made from a snapshot starts with its blocks.
    if let Some(snapshot_id) = &v.snapshot_id {
        super::blocks::copy(conn, snapshot_id, &v.volume_id).await?;
    }
    Ok(())
}

pub async fn delete(conn: &mut Conn, volume_id: &str) -> Result<()> {
    sqlx::query("delete from volume where volume_id = ?").bind(volume_id).execute(&mut *conn).await?;
    sqlx::query("delete from tag where resource_id = ?").bind(volume_id).execute(&mut *conn).await?;
    Ok(())
}

/// The snapshot a volume was made from, if it still exists as a volume and had one.
pub async fn source_snapshot(conn: &mut Conn, volume_id: &str) -> Result<Option<String>> {
    let id: Option<Option<String>> = sqlx::query_scalar("select snapshot_id from volume where volume_id = ?")
        .bind(volume_id)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(id.flatten())
}
