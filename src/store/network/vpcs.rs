//! VPCs and subnets.

use sqlx::sqlite::SqliteRow;
use sqlx::Row;

use crate::domain::ids::stable_id;
use crate::domain::network::cidr::RESERVED_PER_SUBNET;
use crate::domain::network::{Subnet, Vpc};
use crate::error::Result;
use crate::store::Conn;

const VPC_COLUMNS: &str = "v.vpc_id, v.account_id, v.region, v.cidr_block, v.cidr_association_id, v.ipv6_cidr_block, \
     v.ipv6_association_id, v.is_default, v.state, v.instance_tenancy, v.dhcp_options_id, v.enable_dns_support, \
     v.enable_dns_hostnames, v.enable_network_address_usage_metrics";

pub fn vpc_from_row(r: &SqliteRow) -> Vpc {
    Vpc {
        vpc_id: r.get(0),
        owner_id: r.get(1),
        region: r.get(2),
        cidr_block: r.get(3),
        cidr_association_id: r.get(4),
        ipv6_cidr_block: r.get(5),
        ipv6_association_id: r.get(6),
        is_default: r.get(7),
        state: r.get(8),
        instance_tenancy: r.get(9),
        dhcp_options_id: r.get(10),
        enable_dns_support: r.get(11),
        enable_dns_hostnames: r.get(12),
        enable_network_address_usage_metrics: r.get(13),
        tags: Vec::new(),
    }
}

/// The columns of a subnet, its free address count included (`s` is the subnet).
pub fn subnet_columns() -> String {
    format!(
        "s.subnet_id, s.account_id, s.region, s.vpc_id, s.cidr_block, s.ipv6_cidr_block, s.ipv6_association_id, \
         s.availability_zone, s.availability_zone_id, s.default_for_az, s.map_public_ip_on_launch, \
         s.assign_ipv6_address_on_creation, s.state, \
         (1 << (32 - cast(substr(s.cidr_block, instr(s.cidr_block, '/') + 1) as integer))) - {RESERVED_PER_SUBNET} \
           - (select count(*) from network_interface n where n.subnet_id = s.subnet_id)"
    )
}

pub fn subnet_from_row(r: &SqliteRow) -> Subnet {
    Subnet {
        subnet_id: r.get(0),
        owner_id: r.get(1),
        region: r.get(2),
        vpc_id: r.get(3),
        cidr_block: r.get(4),
        ipv6_cidr_block: r.get(5),
        ipv6_association_id: r.get(6),
        availability_zone: r.get(7),
        availability_zone_id: r.get(8),
        default_for_az: r.get(9),
        map_public_ip_on_launch: r.get(10),
        assign_ipv6_address_on_creation: r.get(11),
        state: r.get(12),
        available_ip_address_count: r.get(13),
        tags: Vec::new(),
    }
}

/// A VPC with what every VPC is created with: its main route table (with the local
/// route) and main association, its default network ACL, its default security group
/// (all traffic in from its own members, all traffic out).
pub async fn insert_vpc_with_companions(conn: &mut Conn, vpc: &Vpc, now: i64) -> Result<()> {
    sqlx::query(
        "insert into vpc (vpc_id, account_id, region, cidr_block, cidr_association_id, ipv6_cidr_block, \
         ipv6_association_id, is_default, state, instance_tenancy, dhcp_options_id, enable_dns_support, \
         enable_dns_hostnames, enable_network_address_usage_metrics, created_at) \
         values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&vpc.vpc_id)
    .bind(&vpc.owner_id)
    .bind(&vpc.region)
    .bind(&vpc.cidr_block)
    .bind(&vpc.cidr_association_id)
    .bind(&vpc.ipv6_cidr_block)
    .bind(&vpc.ipv6_association_id)
    .bind(vpc.is_default)
    .bind(&vpc.state)
    .bind(&vpc.instance_tenancy)
    .bind(&vpc.dhcp_options_id)
    .bind(vpc.enable_dns_support)
    .bind(vpc.enable_dns_hostnames)
    .bind(vpc.enable_network_address_usage_metrics)
    .bind(now)
    .execute(&mut *conn)
    .await?;

    let table = vpc.main_route_table_id();
    sqlx::query(
        "insert into route_table (route_table_id, account_id, region, vpc_id, created_at) values (?, ?, ?, ?, ?)",
    )
    .bind(&table)
    .bind(&vpc.owner_id)
    .bind(&vpc.region)
    .bind(&vpc.vpc_id)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    for destination in [Some(&vpc.cidr_block), vpc.ipv6_cidr_block.as_ref()].into_iter().flatten() {
        sqlx::query(
            "insert into route (route_table_id, destination, gateway_id, origin) values (?, ?, 'local', 'CreateRouteTable')",
        )
        .bind(&table)
        .bind(destination)
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query(
        "insert into route_table_association (association_id, route_table_id, vpc_id, main) values (?, ?, ?, 1)",
    )
    .bind(vpc.main_association_id())
    .bind(&table)
    .bind(&vpc.vpc_id)
    .execute(&mut *conn)
    .await?;

    sqlx::query(
        "insert into network_acl (network_acl_id, account_id, region, vpc_id, is_default, created_at) values (?, ?, ?, ?, 1, ?)",
    )
    .bind(vpc.default_network_acl_id())
    .bind(&vpc.owner_id)
    .bind(&vpc.region)
    .bind(&vpc.vpc_id)
    .bind(now)
    .execute(&mut *conn)
    .await?;

    let group = vpc.default_security_group_id();
    sqlx::query(
        "insert into security_group (group_id, account_id, region, vpc_id, group_name, description, created_at) \
         values (?, ?, ?, ?, 'default', 'default VPC security group', ?)",
    )
    .bind(&group)
    .bind(&vpc.owner_id)
    .bind(&vpc.region)
    .bind(&vpc.vpc_id)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "insert into security_group_rule (rule_id, group_id, account_id, region, is_egress, ip_protocol, \
         referenced_group_id, referenced_user_id, created_at) values (?, ?, ?, ?, 0, '-1', ?, ?, ?)",
    )
    .bind(stable_id("sgr", &[&group, "ingress-self"]))
    .bind(&group)
    .bind(&vpc.owner_id)
    .bind(&vpc.region)
    .bind(&group)
    .bind(&vpc.owner_id)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    insert_default_egress(conn, &group, &vpc.owner_id, &vpc.region, now).await
}

/// The rule every new security group starts with: all traffic out to 0.0.0.0/0.
pub async fn insert_default_egress(
    conn: &mut Conn,
    group_id: &str,
    account: &str,
    region: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "insert into security_group_rule (rule_id, group_id, account_id, region, is_egress, ip_protocol, cidr_ipv4, \
         created_at) values (?, ?, ?, ?, 1, '-1', '0.0.0.0/0', ?)",
    )
    .bind(stable_id("sgr", &[group_id, "egress-all"]))
    .bind(group_id)
    .bind(account)
    .bind(region)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn insert_subnet(conn: &mut Conn, s: &Subnet, now: i64) -> Result<()> {
    sqlx::query(
        "insert into subnet (subnet_id, account_id, region, vpc_id, cidr_block, ipv6_cidr_block, ipv6_association_id, \
         availability_zone, availability_zone_id, default_for_az, map_public_ip_on_launch, \
         assign_ipv6_address_on_creation, state, created_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&s.subnet_id)
    .bind(&s.owner_id)
    .bind(&s.region)
    .bind(&s.vpc_id)
    .bind(&s.cidr_block)
    .bind(&s.ipv6_cidr_block)
    .bind(&s.ipv6_association_id)
    .bind(&s.availability_zone)
    .bind(&s.availability_zone_id)
    .bind(s.default_for_az)
    .bind(s.map_public_ip_on_launch)
    .bind(s.assign_ipv6_address_on_creation)
    .bind(&s.state)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn find_vpc(conn: &mut Conn, account: &str, region: &str, vpc_id: &str) -> Result<Option<Vpc>> {
    let sql = format!("select {VPC_COLUMNS} from vpc v where v.vpc_id = ? and v.account_id = ? and v.region = ?");
    let row = sqlx::query(&sql).bind(vpc_id).bind(account).bind(region).fetch_optional(&mut *conn).await?;
    Ok(row.as_ref().map(vpc_from_row))
}

/// The scope's default VPC, if it has one (it may have been deleted).
pub async fn default_vpc(conn: &mut Conn, account: &str, region: &str) -> Result<Option<Vpc>> {
    let sql = format!("select {VPC_COLUMNS} from vpc v where v.account_id = ? and v.region = ? and v.is_default = 1");
    let row = sqlx::query(&sql).bind(account).bind(region).fetch_optional(&mut *conn).await?;
    Ok(row.as_ref().map(vpc_from_row))
}

pub async fn find_subnet(conn: &mut Conn, account: &str, region: &str, subnet_id: &str) -> Result<Option<Subnet>> {
    let sql = format!(
        "select {} from subnet s where s.subnet_id = ? and s.account_id = ? and s.region = ?",
        subnet_columns()
    );
    let row = sqlx::query(&sql).bind(subnet_id).bind(account).bind(region).fetch_optional(&mut *conn).await?;
    Ok(row.as_ref().map(subnet_from_row))
}

/// The default subnets of the scope's default VPC, in zone order.
pub async fn default_subnets(conn: &mut Conn, account: &str, region: &str) -> Result<Vec<Subnet>> {
    let sql = format!(
        "select {} from subnet s where s.account_id = ? and s.region = ? and s.default_for_az = 1 \
         order by s.availability_zone",
        subnet_columns()
    );
    let rows = sqlx::query(&sql).bind(account).bind(region).fetch_all(&mut *conn).await?;
    Ok(rows.iter().map(subnet_from_row).collect())
}
