//! VPCs and subnets.

use crate::store::sql::Sql;
use sqlx::sqlite::SqliteRow;
use sqlx::Row;

use crate::domain::filter::Filter;
use crate::domain::ids::stable_id;
use crate::domain::network::{Subnet, Vpc, VpcAttribute};
use crate::error::Result;
use crate::store::filters::{push_in, FilterSpec, Page, Target};
use crate::store::{parse_tags, push_tags_column, Conn};

/// The VPC filters of DescribeVpcs, with the aliases EC2 accepts (`isDefault`).
pub static VPC_FILTERS: FilterSpec = FilterSpec {
    id_column: "v.vpc_id",
    fields: &[
        ("cidr", Target::Text("v.cidr_block")),
        ("cidr-block-association.cidr-block", Target::Text("v.cidr_block")),
        ("cidr-block-association.association-id", Target::Text("v.cidr_association_id")),
        ("cidr-block-association.state", Target::Text("'associated'")),
        ("dhcp-options-id", Target::Text("v.dhcp_options_id")),
        ("ipv6-cidr-block-association.ipv6-cidr-block", Target::Text("v.ipv6_cidr_block")),
        ("ipv6-cidr-block-association.association-id", Target::Text("v.ipv6_association_id")),
        ("ipv6-cidr-block-association.ipv6-pool", Target::Text(IPV6_POOL)),
        ("ipv6-cidr-block-association.state", Target::Text(IPV6_STATE)),
        ("is-default", Target::Bool("v.is_default")),
        ("isDefault", Target::Bool("v.is_default")),
        ("owner-id", Target::Text("v.account_id")),
        ("state", Target::Text("v.state")),
        ("vpc-id", Target::Text("v.vpc_id")),
    ],
};

const IPV6_POOL: &str = "(case when v.ipv6_cidr_block is not null then 'Amazon' end)";
const IPV6_STATE: &str = "(case when v.ipv6_cidr_block is not null then 'associated' end)";

/// Addresses of subnet `s` that are neither reserved (5) nor held by an interface.
macro_rules! available_addresses {
    () => {
        "((1 << (32 - cast(substr(s.cidr_block, instr(s.cidr_block, '/') + 1) as integer))) - 5 \
         - (select count(*) from network_interface n where n.subnet_id = s.subnet_id))"
    };
}
const AVAILABLE_ADDRESSES: &str = available_addresses!();
const AVAILABLE_ADDRESSES_TEXT: &str = concat!("cast(", available_addresses!(), " as text)");

/// The subnet filters of DescribeSubnets, with the aliases EC2 accepts (`defaultForAz`,
/// `availabilityZone`, `cidr`, `cidrBlock`, …).
pub static SUBNET_FILTERS: FilterSpec = FilterSpec {
    id_column: "s.subnet_id",
    fields: &[
        ("availability-zone", Target::Text("s.availability_zone")),
        ("availabilityZone", Target::Text("s.availability_zone")),
        ("availability-zone-id", Target::Text("s.availability_zone_id")),
        ("availabilityZoneId", Target::Text("s.availability_zone_id")),
        ("available-ip-address-count", Target::Text(AVAILABLE_ADDRESSES_TEXT)),
        ("availableIpAddressCount", Target::Text(AVAILABLE_ADDRESSES_TEXT)),
        ("cidr-block", Target::Text("s.cidr_block")),
        ("cidr", Target::Text("s.cidr_block")),
        ("cidrBlock", Target::Text("s.cidr_block")),
        ("default-for-az", Target::Bool("s.default_for_az")),
        ("defaultForAz", Target::Bool("s.default_for_az")),
        ("enable-dns64", Target::Bool("s.enable_dns64")),
        ("ipv6-cidr-block-association.ipv6-cidr-block", Target::Text("s.ipv6_cidr_block")),
        ("ipv6-cidr-block-association.association-id", Target::Text("s.ipv6_association_id")),
        ("ipv6-cidr-block-association.state", Target::Text(SUBNET_IPV6_STATE)),
        ("ipv6-native", Target::Bool("s.ipv6_native")),
        ("map-customer-owned-ip-on-launch", Target::Bool("0")),
        ("map-public-ip-on-launch", Target::Bool("s.map_public_ip_on_launch")),
        ("owner-id", Target::Text("s.account_id")),
        ("private-dns-name-options-on-launch.hostname-type", Target::Text("s.hostname_type")),
        ("private-dns-name-options-on-launch.enable-resource-name-dns-a-record", Target::Bool("s.dns_a_record")),
        ("private-dns-name-options-on-launch.enable-resource-name-dns-aaaa-record", Target::Bool("s.dns_aaaa_record")),
        ("state", Target::Text("s.state")),
        ("subnet-arn", Target::Text(SUBNET_ARN)),
        ("subnet-id", Target::Text("s.subnet_id")),
        ("vpc-id", Target::Text("s.vpc_id")),
    ],
};

const SUBNET_IPV6_STATE: &str = "(case when s.ipv6_cidr_block is not null then 'associated' end)";
const SUBNET_ARN: &str = "('arn:aws:ec2:' || s.region || ':' || s.account_id || ':subnet/' || s.subnet_id)";

/// `select <vpc columns and the caller's tags> from vpc v where v.account_id = … and v.region = …`
fn select_vpcs<'a>(account: &'a str, region: &'a str) -> Sql {
    let mut qb = Sql::new(
        "select v.vpc_id, v.account_id, v.region, v.cidr_block, v.cidr_association_id, v.ipv6_cidr_block, \
         v.ipv6_association_id, v.is_default, v.state, v.instance_tenancy, v.dhcp_options_id, v.enable_dns_support, \
         v.enable_dns_hostnames, v.enable_network_address_usage_metrics, ",
    );
    push_tags_column(&mut qb, account, "v.vpc_id");
    qb.push(" from vpc v where v.account_id = ").push_bind(account);
    qb.push(" and v.region = ").push_bind(region);
    qb
}

fn vpc_from_row(r: &SqliteRow) -> Vpc {
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
        tags: parse_tags(r.get(14)),
    }
}

/// `select <subnet columns, free addresses and the caller's tags> from subnet s where …`
fn select_subnets<'a>(account: &'a str, region: &'a str) -> Sql {
    let mut qb = Sql::new(&format!(
        "select s.subnet_id, s.account_id, s.region, s.vpc_id, s.cidr_block, s.ipv6_cidr_block, s.ipv6_association_id, \
         s.availability_zone, s.availability_zone_id, s.default_for_az, s.map_public_ip_on_launch, \
         s.assign_ipv6_address_on_creation, s.state, s.enable_dns64, s.ipv6_native, s.hostname_type, s.dns_a_record, \
         s.dns_aaaa_record, {AVAILABLE_ADDRESSES}, "
    ));
    push_tags_column(&mut qb, account, "s.subnet_id");
    qb.push(" from subnet s where s.account_id = ").push_bind(account);
    qb.push(" and s.region = ").push_bind(region);
    qb
}

fn subnet_from_row(r: &SqliteRow) -> Subnet {
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
        enable_dns64: r.get(13),
        ipv6_native: r.get(14),
        hostname_type: r.get(15),
        enable_resource_name_dns_a_record: r.get(16),
        enable_resource_name_dns_aaaa_record: r.get(17),
        available_ip_address_count: r.get(18),
        tags: parse_tags(r.get(19)),
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
         assign_ipv6_address_on_creation, state, ipv6_native, hostname_type, created_at) \
         values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
    .bind(s.ipv6_native)
    .bind(&s.hostname_type)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub struct VpcQuery<'a> {
    pub account: &'a str,
    pub region: &'a str,
    pub ids: &'a [String],
    pub filters: &'a [Filter],
    pub page: &'a Page,
}

pub async fn describe_vpcs(conn: &mut Conn, q: &VpcQuery<'_>) -> Result<(Vec<Vpc>, Option<String>)> {
    let mut qb = select_vpcs(q.account, q.region);
    if !q.ids.is_empty() {
        push_in(&mut qb, "v.vpc_id", q.ids);
    }
    VPC_FILTERS.push(&mut qb, q.filters, q.account)?;
    q.page.push(&mut qb, "v.vpc_id");
    let rows = qb.query().fetch_all(&mut *conn).await?;
    let mut vpcs: Vec<Vpc> = rows.iter().map(vpc_from_row).collect();
    let next = q.page.finish(&mut vpcs, |v| v.vpc_id.clone());
    Ok((vpcs, next))
}

pub async fn find_vpc(conn: &mut Conn, account: &str, region: &str, vpc_id: &str) -> Result<Option<Vpc>> {
    let mut qb = select_vpcs(account, region);
    qb.push(" and v.vpc_id = ").push_bind(vpc_id);
    let row = qb.query().fetch_optional(&mut *conn).await?;
    Ok(row.as_ref().map(vpc_from_row))
}

/// The scope's default VPC, if it has one (it may have been deleted).
pub async fn default_vpc(conn: &mut Conn, account: &str, region: &str) -> Result<Option<Vpc>> {
    let mut qb = select_vpcs(account, region);
    qb.push(" and v.is_default = 1");
    let row = qb.query().fetch_optional(&mut *conn).await?;
    Ok(row.as_ref().map(vpc_from_row))
}

pub async fn count_vpcs(conn: &mut Conn, account: &str, region: &str) -> Result<i64> {
    let n = sqlx::query_scalar("select count(*) from vpc where account_id = ? and region = ?")
        .bind(account)
        .bind(region)
        .fetch_one(&mut *conn)
        .await?;
    Ok(n)
}

/// Whether something a VPC cannot be deleted with still lives in it: subnets, an attached
/// gateway, security groups but its default one, route tables but its main one (which
/// ReplaceRouteTableAssociation may have moved), interfaces.
pub async fn vpc_has_dependencies(conn: &mut Conn, vpc: &Vpc) -> Result<bool> {
    let found: Option<i64> = sqlx::query_scalar(
        "select 1 where exists (select 1 from subnet where vpc_id = ?1) \
         or exists (select 1 from internet_gateway where vpc_id = ?1) \
         or exists (select 1 from security_group where vpc_id = ?1 and group_id != ?2) \
         or exists (select 1 from network_interface where vpc_id = ?1)",
    )
    .bind(&vpc.vpc_id)
    .bind(vpc.default_security_group_id())
    .fetch_optional(&mut *conn)
    .await?;
    Ok(found.is_some() || super::routing::vpc_has_other_route_tables(conn, &vpc.vpc_id).await?)
}

/// Deletes a VPC without dependencies, with what it was created with and its tags.
pub async fn delete_vpc(conn: &mut Conn, vpc: &Vpc) -> Result<()> {
    let group = vpc.default_security_group_id();
    super::routing::delete_vpc_routing(conn, &vpc.vpc_id).await?;
    for (sql, id) in [
        ("delete from security_group_rule where group_id = ?", &group),
        ("delete from security_group where group_id = ?", &group),
        ("delete from vpc where vpc_id = ?", &vpc.vpc_id),
    ] {
        sqlx::query(sql).bind(id).execute(&mut *conn).await?;
    }
    sqlx::query("delete from tag where resource_id in (?, ?, ?)")
        .bind(&vpc.vpc_id)
        .bind(&group)
        .bind(stable_id("sgr", &[&group, "egress-all"]))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn set_vpc_attribute(conn: &mut Conn, vpc_id: &str, attribute: VpcAttribute, value: bool) -> Result<()> {
    sqlx::query(&format!("update vpc set {} = ? where vpc_id = ?", attribute.column()))
        .bind(value)
        .bind(vpc_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub struct SubnetQuery<'a> {
    pub account: &'a str,
    pub region: &'a str,
    pub ids: &'a [String],
    pub filters: &'a [Filter],
    pub page: &'a Page,
}

pub async fn describe_subnets(conn: &mut Conn, q: &SubnetQuery<'_>) -> Result<(Vec<Subnet>, Option<String>)> {
    let mut qb = select_subnets(q.account, q.region);
    if !q.ids.is_empty() {
        push_in(&mut qb, "s.subnet_id", q.ids);
    }
    SUBNET_FILTERS.push(&mut qb, q.filters, q.account)?;
    q.page.push(&mut qb, "s.subnet_id");
    let rows = qb.query().fetch_all(&mut *conn).await?;
    let mut subnets: Vec<Subnet> = rows.iter().map(subnet_from_row).collect();
    let next = q.page.finish(&mut subnets, |s| s.subnet_id.clone());
    Ok((subnets, next))
}

pub async fn find_subnet(conn: &mut Conn, account: &str, region: &str, subnet_id: &str) -> Result<Option<Subnet>> {
    let mut qb = select_subnets(account, region);
    qb.push(" and s.subnet_id = ").push_bind(subnet_id);
    let row = qb.query().fetch_optional(&mut *conn).await?;
    Ok(row.as_ref().map(subnet_from_row))
}

/// The default subnets of the scope's default VPC, in zone order.
pub async fn default_subnets(conn: &mut Conn, account: &str, region: &str) -> Result<Vec<Subnet>> {
    let mut qb = select_subnets(account, region);
    qb.push(" and s.default_for_az = 1 order by s.availability_zone");
    let rows = qb.query().fetch_all(&mut *conn).await?;
    Ok(rows.iter().map(subnet_from_row).collect())
}

/// The IPv4 and IPv6 blocks of the VPC's subnets.
pub async fn subnet_blocks(conn: &mut Conn, vpc_id: &str) -> Result<(Vec<String>, Vec<String>)> {
    let rows: Vec<(String, Option<String>)> =
        sqlx::query_as("select cidr_block, ipv6_cidr_block from subnet where vpc_id = ?")
            .bind(vpc_id)
            .fetch_all(&mut *conn)
            .await?;
    let ipv4 = rows.iter().map(|(b, _)| b.clone()).collect();
    let ipv6 = rows.into_iter().filter_map(|(_, b)| b).collect();
    Ok((ipv4, ipv6))
}

/// Whether an interface or an instance that is not terminated sits in the subnet.
pub async fn subnet_in_use(conn: &mut Conn, subnet_id: &str) -> Result<bool> {
    let found: Option<i64> = sqlx::query_scalar(
        "select 1 where exists (select 1 from network_interface where subnet_id = ?1) \
         or exists (select 1 from instance where subnet_id = ?1 and state != 'terminated')",
    )
    .bind(subnet_id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(found.is_some())
}

/// Deletes a subnet not in use, its explicit route table association and its tags.
pub async fn delete_subnet(conn: &mut Conn, subnet_id: &str) -> Result<()> {
    for sql in [
        "delete from route_table_association where subnet_id = ?",
        "delete from subnet where subnet_id = ?",
        "delete from tag where resource_id = ?",
    ] {
        sqlx::query(sql).bind(subnet_id).execute(&mut *conn).await?;
    }
    Ok(())
}

/// Sets one of the subnet's attributes (a column of `subnet`, named by the action).
pub async fn set_subnet_attribute<T>(conn: &mut Conn, subnet_id: &str, column: &str, value: T) -> Result<()>
where
    T: for<'q> sqlx::Encode<'q, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite> + Send,
{
    sqlx::query(&format!("update subnet set {column} = ? where subnet_id = ?"))
        .bind(value)
        .bind(subnet_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
