//! Elastic IP addresses and their associations with network interfaces.
//!
//! The interface an address is associated with is stored; the instance it shows comes
//! from the interface's attachment, so it follows attach and detach. `address.instance_id`
//! is set only while the address is on an instance's primary interface: that is what
//! termination lets go of (`interfaces::release_instance`).

use crate::store::sql::Sql;
use sqlx::sqlite::SqliteRow;
use sqlx::Row;

use crate::domain::filter::Filter;
use crate::domain::network::address::{Address, AddressAssociation};
use crate::error::Result;
use crate::store::filters::{push_in, FilterSpec, Page, Target};
use crate::store::{is_unique_violation, parse_tags, push_tags_column, Conn};

/// The filters of DescribeAddresses.
pub static ADDRESS_FILTERS: FilterSpec = FilterSpec {
    id_column: "a.allocation_id",
    fields: &[
        ("allocation-id", Target::Text("a.allocation_id")),
        ("association-id", Target::Text("a.association_id")),
        ("domain", Target::Text("'vpc'")),
        ("instance-id", Target::Text("n.instance_id")),
        ("network-border-group", Target::Text("a.network_border_group")),
        ("network-interface-id", Target::Text("a.network_interface_id")),
        ("network-interface-owner-id", Target::Text("n.account_id")),
        ("private-ip-address", Target::Text("a.private_ip_address")),
        ("public-ip", Target::Text("a.public_ip")),
    ],
};

fn select_addresses<'a>(account: &'a str, region: &'a str) -> Sql {
    let mut qb = Sql::new(
        "select a.allocation_id, a.account_id, a.region, a.public_ip, a.network_border_group, a.association_id, \
         a.network_interface_id, n.account_id, a.private_ip_address, n.instance_id, n.device_index, ",
    );
    push_tags_column(&mut qb, account, "a.allocation_id");
    qb.push(" from address a left join network_interface n on n.network_interface_id = a.network_interface_id");
    qb.push(" where a.account_id = ").push_bind(account);
    qb.push(" and a.region = ").push_bind(region);
    qb
}

fn address_from_row(r: &SqliteRow) -> Address {
    let association = r.get::<Option<String>, _>(5).map(|association_id| AddressAssociation {
        association_id,
        network_interface_id: r.get::<Option<String>, _>(6).unwrap_or_default(),
        network_interface_owner_id: r.get::<Option<String>, _>(7).unwrap_or_default(),
        private_ip: r.get::<Option<String>, _>(8).unwrap_or_default(),
        instance: r.get::<Option<String>, _>(9).zip(r.get::<Option<i64>, _>(10)),
    });
    Address {
        allocation_id: r.get(0),
        owner_id: r.get(1),
        region: r.get(2),
        public_ip: r.get(3),
        network_border_group: r.get(4),
        association,
        tags: parse_tags(r.get(11)),
    }
}

pub struct AddressQuery<'a> {
    pub account: &'a str,
    pub region: &'a str,
    pub allocation_ids: &'a [String],
    pub public_ips: &'a [String],
    pub filters: &'a [Filter],
    pub page: &'a Page,
}

pub async fn describe_addresses(conn: &mut Conn, q: &AddressQuery<'_>) -> Result<(Vec<Address>, Option<String>)> {
    let mut qb = select_addresses(q.account, q.region);
    match (q.allocation_ids.is_empty(), q.public_ips.is_empty()) {
        (false, true) => push_in(&mut qb, "a.allocation_id", q.allocation_ids),
        (true, false) => push_in(&mut qb, "a.public_ip", q.public_ips),
        // Addresses named either way.
        (false, false) => {
            qb.push(" and (1 = 0");
            for (column, values) in [("a.allocation_id", q.allocation_ids), ("a.public_ip", q.public_ips)] {
                qb.push(&format!(" or {column} in ("));
                let mut separated = qb.separated(", ");
                for value in values {
                    separated.push_bind(value.as_str());
                }
                qb.push(")");
            }
            qb.push(")");
        }
        (true, true) => {}
    }
    ADDRESS_FILTERS.push(&mut qb, q.filters, q.account)?;
    q.page.push(&mut qb, "a.allocation_id");
    let rows = qb.query().fetch_all(&mut *conn).await?;
    let mut addresses: Vec<Address> = rows.iter().map(address_from_row).collect();
    let next = q.page.finish(&mut addresses, |a| a.allocation_id.clone());
    Ok((addresses, next))
}

/// How one address of the caller is looked up.
#[derive(Debug, Clone, Copy)]
pub enum AddressKey<'a> {
    Allocation(&'a str),
    PublicIp(&'a str),
    Association(&'a str),
    /// The address on this private address of this interface.
    Interface(&'a str, &'a str),
}

pub async fn find_address(
    conn: &mut Conn,
    account: &str,
    region: &str,
    key: AddressKey<'_>,
) -> Result<Option<Address>> {
    let mut qb = select_addresses(account, region);
    match key {
        AddressKey::Allocation(id) => qb.push(" and a.allocation_id = ").push_bind(id),
        AddressKey::PublicIp(ip) => qb.push(" and a.public_ip = ").push_bind(ip),
        AddressKey::Association(id) => qb.push(" and a.association_id = ").push_bind(id),
        AddressKey::Interface(id, ip) => {
            qb.push(" and a.network_interface_id = ").push_bind(id).push(" and a.private_ip_address = ").push_bind(ip)
        }
    };
    Ok(qb.query().fetch_optional(&mut *conn).await?.as_ref().map(address_from_row))
}

pub async fn count_addresses(conn: &mut Conn, account: &str, region: &str) -> Result<i64> {
    let n = sqlx::query_scalar("select count(*) from address where account_id = ? and region = ?")
        .bind(account)
        .bind(region)
        .fetch_one(&mut *conn)
        .await?;
    Ok(n)
}

/// Whether an instance that is not gone holds `ip` as its public address.
pub async fn held_by_instance(conn: &mut Conn, ip: &str) -> Result<bool> {
    let found: Option<i64> = sqlx::query_scalar(
        "select 1 from instance where public_ip = ? and state not in ('shutting-down', 'terminated')",
    )
    .bind(ip)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(found.is_some())
}

/// Stores a new, unassociated address. `false`: its public IP is already allocated (to
/// any account: the unique index on `address.public_ip` says so).
pub async fn insert_address(conn: &mut Conn, a: &Address, now: i64) -> Result<bool> {
    let inserted = sqlx::query(
        "insert into address (allocation_id, account_id, region, public_ip, network_border_group, created_at) \
         values (?, ?, ?, ?, ?, ?)",
    )
    .bind(&a.allocation_id)
    .bind(&a.owner_id)
    .bind(&a.region)
    .bind(&a.public_ip)
    .bind(&a.network_border_group)
    .bind(now)
    .execute(&mut *conn)
    .await;
    match inserted {
        Ok(_) => Ok(true),
        Err(err) if is_unique_violation(&err, "address.public_ip") => Ok(false),
        Err(err) => Err(err.into()),
    }
}

pub async fn associate(conn: &mut Conn, allocation_id: &str, association: &AddressAssociation) -> Result<()> {
    sqlx::query(
        "update address set association_id = ?, network_interface_id = ?, private_ip_address = ?, instance_id = ? \
         where allocation_id = ?",
    )
    .bind(&association.association_id)
    .bind(&association.network_interface_id)
    .bind(&association.private_ip)
    .bind(association.primary_of())
    .bind(allocation_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn disassociate(conn: &mut Conn, allocation_id: &str) -> Result<()> {
    sqlx::query(
        "update address set association_id = null, network_interface_id = null, private_ip_address = null, \
         instance_id = null where allocation_id = ?",
    )
    .bind(allocation_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Releases an address with its tags.
pub async fn delete_address(conn: &mut Conn, allocation_id: &str) -> Result<()> {
    for sql in ["delete from address where allocation_id = ?", "delete from tag where resource_id = ?"] {
        sqlx::query(sql).bind(allocation_id).execute(&mut *conn).await?;
    }
    Ok(())
}
