//! Network interfaces, their attachments and the addresses they hold in their subnet.

use std::collections::HashSet;

use crate::store::sql::Sql;
use sqlx::sqlite::SqliteRow;
use sqlx::Row;

use crate::domain::filter::Filter;
use crate::domain::network::interface::{InterfaceAttachment, NetworkInterface, PublicAssociation};
use crate::error::Result;
use crate::store::filters::{push_in, FilterSpec, Page, Target};
use crate::store::{parse_tags, push_tags_column, Conn, Exec};

/// The public address of an interface: its Elastic IP's, else (on an instance's primary
/// interface while it runs) the address the instance got at launch.
const PUBLIC_IP: &str = "coalesce(a.public_ip, case when n.device_index = 0 then (select i.public_ip from instance i \
     where i.instance_id = n.instance_id and i.state in ('pending', 'running')) end)";

/// `json([[group id, group name], ...])` of a JSON array of group ids.
macro_rules! groups_json {
    ($ids:literal) => {
        concat!(
            "(select json_group_array(json_array(j.value, coalesce(sg.group_name, ''))) from json_each(",
            $ids,
            ") j left join security_group sg on sg.group_id = j.value)"
        )
    };
}

pub static INTERFACE_FILTERS: FilterSpec = FilterSpec {
    id_column: "n.network_interface_id",
    fields: &[
        ("addresses.private-ip-address", Target::Text("n.private_ip_address")),
        ("addresses.primary", Target::Text("'true'")),
        ("association.allocation-id", Target::Text("a.allocation_id")),
        ("association.association-id", Target::Text("a.association_id")),
        ("association.public-ip", Target::Text(PUBLIC_IP)),
        ("attachment.attachment-id", Target::Text("n.attachment_id")),
        ("attachment.delete-on-termination", Target::Bool("n.delete_on_termination")),
        ("attachment.device-index", Target::Text("cast(n.device_index as text)")),
        ("attachment.instance-id", Target::Text("n.instance_id")),
        ("attachment.instance-owner-id", Target::Text("(case when n.instance_id is not null then n.account_id end)")),
        ("attachment.status", Target::Text("(case when n.instance_id is not null then 'attached' end)")),
        ("availability-zone", Target::Text("n.availability_zone")),
        ("description", Target::Text("n.description")),
        ("group-id", Target::Any { from: "json_each(n.security_group_ids) g", expr: "g.value" }),
        (
            "group-name",
            Target::Any {
                from: "json_each(n.security_group_ids) g join security_group fg on fg.group_id = g.value",
                expr: "fg.group_name",
            },
        ),
        ("interface-type", Target::Text("n.interface_type")),
        ("mac-address", Target::Text("n.mac_address")),
        ("network-interface-id", Target::Text("n.network_interface_id")),
        ("owner-id", Target::Text("n.account_id")),
        ("private-ip-address", Target::Text("n.private_ip_address")),
        ("requester-managed", Target::Text("'false'")),
        ("source-dest-check", Target::Bool("n.source_dest_check")),
        ("status", Target::Text("(case when n.instance_id is not null then 'in-use' else 'available' end)")),
        ("subnet-id", Target::Text("n.subnet_id")),
        ("vpc-id", Target::Text("n.vpc_id")),
    ],
};

fn select_interfaces<'a>(account: &'a str, region: &'a str) -> Sql {
    let mut qb = Sql::new(&format!(
        "select n.network_interface_id, n.account_id, n.region, n.subnet_id, n.vpc_id, n.availability_zone, \
         n.private_ip_address, n.mac_address, n.description, n.interface_type, n.source_dest_check, {}, \
         n.attachment_id, n.instance_id, n.device_index, n.attach_time, n.delete_on_termination, \
         {PUBLIC_IP}, a.allocation_id, a.association_id, ",
        groups_json!("n.security_group_ids")
    ));
    push_tags_column(&mut qb, account, "n.network_interface_id");
    qb.push(" from network_interface n left join address a on a.network_interface_id = n.network_interface_id");
    qb.push(" where n.account_id = ").push_bind(account);
    qb.push(" and n.region = ").push_bind(region);
    qb
}

fn interface_from_row(r: &SqliteRow) -> NetworkInterface {
    let owner_id: String = r.get(1);
    let attachment = r.get::<Option<String>, _>(12).map(|attachment_id| InterfaceAttachment {
        attachment_id,
        instance_id: r.get(13),
        instance_owner_id: owner_id.clone(),
        device_index: r.get(14),
        attach_time: r.get(15),
        delete_on_termination: r.get(16),
    });
    let association = r.get::<Option<String>, _>(17).map(|public_ip| PublicAssociation {
        public_ip,
        elastic: r.get::<Option<String>, _>(18).zip(r.get::<Option<String>, _>(19)),
    });
    NetworkInterface {
        network_interface_id: r.get(0),
        owner_id,
        region: r.get(2),
        subnet_id: r.get(3),
        vpc_id: r.get(4),
        availability_zone: r.get(5),
        private_ip: r.get(6),
        mac_address: r.get(7),
        description: r.get(8),
        interface_type: r.get(9),
        source_dest_check: r.get(10),
        groups: serde_json::from_str(r.get::<&str, _>(11)).unwrap_or_default(),
        attachment,
        association,
        tags: parse_tags(r.get(20)),
    }
}

pub struct InterfaceQuery<'a> {
    pub account: &'a str,
    pub region: &'a str,
    pub ids: &'a [String],
    pub filters: &'a [Filter],
    pub page: &'a Page,
}

pub async fn describe_interfaces(
    conn: &mut Conn,
    q: &InterfaceQuery<'_>,
) -> Result<(Vec<NetworkInterface>, Option<String>)> {
    let mut qb = select_interfaces(q.account, q.region);
    if !q.ids.is_empty() {
        push_in(&mut qb, "n.network_interface_id", q.ids);
    }
    INTERFACE_FILTERS.push(&mut qb, q.filters, q.account)?;
    q.page.push(&mut qb, "n.network_interface_id");
    let rows = qb.query().fetch_all(&mut *conn).await?;
    let mut found: Vec<NetworkInterface> = rows.iter().map(interface_from_row).collect();
    let next = q.page.finish(&mut found, |n| n.network_interface_id.clone());
    Ok((found, next))
}

pub async fn find_interface(
    conn: &mut Conn,
    account: &str,
    region: &str,
    id: &str,
) -> Result<Option<NetworkInterface>> {
    let mut qb = select_interfaces(account, region);
    qb.push(" and n.network_interface_id = ").push_bind(id);
    Ok(qb.query().fetch_optional(&mut *conn).await?.as_ref().map(interface_from_row))
}

/// The interface attached as `attachment_id`, of the caller.
pub async fn find_by_attachment(
    conn: &mut Conn,
    account: &str,
    region: &str,
    attachment_id: &str,
) -> Result<Option<NetworkInterface>> {
    let mut qb = select_interfaces(account, region);
    qb.push(" and n.attachment_id = ").push_bind(attachment_id);
    Ok(qb.query().fetch_optional(&mut *conn).await?.as_ref().map(interface_from_row))
}

pub async fn insert_interface(conn: &mut Conn, n: &NetworkInterface, now: i64) -> Result<()> {
    let attachment = n.attachment.as_ref();
    sqlx::query(
        "insert into network_interface (network_interface_id, account_id, region, subnet_id, vpc_id, \
         availability_zone, private_ip_address, mac_address, description, interface_type, source_dest_check, \
         security_group_ids, attachment_id, instance_id, device_index, attach_time, delete_on_termination, created_at) \
         values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&n.network_interface_id)
    .bind(&n.owner_id)
    .bind(&n.region)
    .bind(&n.subnet_id)
    .bind(&n.vpc_id)
    .bind(&n.availability_zone)
    .bind(&n.private_ip)
    .bind(&n.mac_address)
    .bind(&n.description)
    .bind(&n.interface_type)
    .bind(n.source_dest_check)
    .bind(serde_json::to_string(&n.group_ids()).expect("json"))
    .bind(attachment.map(|a| &a.attachment_id))
    .bind(attachment.map(|a| &a.instance_id))
    .bind(attachment.map(|a| a.device_index))
    .bind(attachment.map(|a| a.attach_time))
    .bind(attachment.is_some_and(|a| a.delete_on_termination))
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The addresses interfaces hold in a subnet.
pub async fn taken_addresses(conn: &mut Conn, subnet_id: &str) -> Result<HashSet<String>> {
    let taken: Vec<String> = sqlx::query_scalar("select private_ip_address from network_interface where subnet_id = ?")
        .bind(subnet_id)
        .fetch_all(&mut *conn)
        .await?;
    Ok(taken.into_iter().collect())
}

/// The device indices taken on an instance.
pub async fn device_indices(conn: &mut Conn, instance_id: &str) -> Result<Vec<i64>> {
    let taken = sqlx::query_scalar("select device_index from network_interface where instance_id = ?")
        .bind(instance_id)
        .fetch_all(&mut *conn)
        .await?;
    Ok(taken)
}

pub async fn attach(conn: &mut Conn, interface_id: &str, a: &InterfaceAttachment) -> Result<()> {
    sqlx::query(
        "update network_interface set attachment_id = ?, instance_id = ?, device_index = ?, attach_time = ?, \
         delete_on_termination = ? where network_interface_id = ?",
    )
    .bind(&a.attachment_id)
    .bind(&a.instance_id)
    .bind(a.device_index)
    .bind(a.attach_time)
    .bind(a.delete_on_termination)
    .bind(interface_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn detach(conn: &mut Conn, interface_id: &str) -> Result<()> {
    sqlx::query(
        "update network_interface set attachment_id = null, instance_id = null, device_index = null, \
         attach_time = null, delete_on_termination = 0 where network_interface_id = ?",
    )
    .bind(interface_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// One settable column of an interface.
#[derive(Debug, Clone, Copy)]
pub enum InterfaceColumn {
    Description,
    SourceDestCheck,
    SecurityGroupIds,
    DeleteOnTermination,
}

impl InterfaceColumn {
    fn name(self) -> &'static str {
        match self {
            InterfaceColumn::Description => "description",
            InterfaceColumn::SourceDestCheck => "source_dest_check",
            InterfaceColumn::SecurityGroupIds => "security_group_ids",
            InterfaceColumn::DeleteOnTermination => "delete_on_termination",
        }
    }
}

pub async fn set_column<T>(conn: &mut Conn, interface_id: &str, column: InterfaceColumn, value: T) -> Result<()>
where
    T: for<'q> sqlx::Encode<'q, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite> + Send,
{
    sqlx::query(&format!("update network_interface set {} = ? where network_interface_id = ?", column.name()))
        .bind(value)
        .bind(interface_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Sets the groups of an instance's primary interface (ModifyInstanceAttribute GroupId).
pub async fn set_primary_groups(conn: &mut Conn, instance_id: &str, group_ids: &[String]) -> Result<()> {
    sqlx::query("update network_interface set security_group_ids = ? where instance_id = ? and device_index = 0")
        .bind(serde_json::to_string(group_ids).expect("json"))
        .bind(instance_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The source/destination check of an instance's primary interface.
pub async fn set_primary_source_dest_check(conn: &mut Conn, instance_id: &str, check: bool) -> Result<()> {
    sqlx::query("update network_interface set source_dest_check = ? where instance_id = ? and device_index = 0")
        .bind(check)
        .bind(instance_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Deletes an interface with its tags; an Elastic IP on it stays allocated, unassociated.
pub async fn delete_interface(conn: &mut impl Exec, interface_id: &str) -> Result<()> {
    disassociate_addresses(conn, "network_interface_id = ?", interface_id).await?;
    conn.execute(&Sql::bound("delete from tag where resource_id = ?", [interface_id.into()])).await?;
    conn.execute(&Sql::bound("delete from network_interface where network_interface_id = ?", [interface_id.into()]))
        .await?;
    Ok(())
}

async fn disassociate_addresses(conn: &mut impl Exec, condition: &str, value: &str) -> Result<()> {
    let text = format!(
        "update address set association_id = null, instance_id = null, network_interface_id = null, \
         private_ip_address = null where {condition}"
    );
    conn.execute(&Sql::bound(&text, [value.into()])).await?;
    Ok(())
}

/// What a terminated instance lets go: interfaces marked delete-on-termination are
/// deleted (their addresses return to the subnet), the others detached; its Elastic IPs
/// are disassociated.
pub async fn release_instance(conn: &mut impl Exec, instance_id: &str) -> Result<()> {
    disassociate_addresses(conn, "instance_id = ?", instance_id).await?;
    let doomed = conn
        .texts(&Sql::bound(
            "select network_interface_id from network_interface where instance_id = ? and delete_on_termination = 1",
            [instance_id.into()],
        ))
        .await?;
    for interface_id in doomed.into_iter().flatten() {
        delete_interface(conn, &interface_id).await?;
    }
    let sql = Sql::bound(
        "update network_interface set attachment_id = null, instance_id = null, device_index = null, \
         attach_time = null where instance_id = ?",
        [instance_id.into()],
    );
    conn.execute(&sql).await?;
    Ok(())
}
