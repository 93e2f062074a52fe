//! Internet gateways, route tables, routes and associations, network ACLs.
//!
//! A route's state is not stored: it is `blackhole` while its target is gone (a gateway
//! no longer attached to the table's VPC, an instance not running, an interface not
//! attached), computed by every read.

use crate::store::sql::Sql;
use sqlx::sqlite::SqliteRow;
use sqlx::Row;

use crate::domain::filter::Filter;
use crate::domain::network::routing::{InternetGateway, NetworkAcl, Route, RouteTable, RouteTableAssociation};
use crate::error::Result;
use crate::store::filters::{push_in, FilterSpec, Page, Target};
use crate::store::{parse_tags, push_tags_column, Conn};

/// A correlated set for `Target::Any`: rows of `$table` for which `$on` holds.
macro_rules! rows_of {
    ($table:literal, $on:literal) => {
        concat!("(select 1) join ", $table, " on ", $on)
    };
}

/// The rows of route table `r`'s routes (alias `rt`) and associations (alias `ra`).
const ROUTES_OF_TABLE: &str = rows_of!("route rt", "rt.route_table_id = r.route_table_id");
const ASSOCIATIONS_OF_TABLE: &str = rows_of!("route_table_association ra", "ra.route_table_id = r.route_table_id");

/// `active` or `blackhole`, for route `rt` of table `r`.
macro_rules! route_state {
    () => {
        "(case \
         when rt.gateway_id = 'local' then 'active' \
         when rt.gateway_id is not null then (case when exists (select 1 from internet_gateway g \
           where g.internet_gateway_id = rt.gateway_id and g.vpc_id = r.vpc_id) then 'active' else 'blackhole' end) \
         when rt.instance_id is not null then (case when exists (select 1 from instance i \
           where i.instance_id = rt.instance_id and i.state in ('pending', 'running')) then 'active' else 'blackhole' end) \
         when rt.network_interface_id is not null then (case when exists (select 1 from network_interface n \
           where n.network_interface_id = rt.network_interface_id and n.instance_id is not null) \
           then 'active' else 'blackhole' end) \
         else 'blackhole' end)"
    };
}
const ROUTE_STATE: &str = route_state!();

/// The instance of route `rt`: named, or the one its interface is attached to.
const ROUTE_INSTANCE: &str = "coalesce(rt.instance_id, (select n.instance_id from network_interface n \
     where n.network_interface_id = rt.network_interface_id))";
/// The interface of route `rt`: named, or its instance's primary one.
const ROUTE_INTERFACE: &str = "coalesce(rt.network_interface_id, (select n.network_interface_id from \
     network_interface n where n.instance_id = rt.instance_id and n.device_index = 0))";
const ROUTE_IPV4: &str = "(case when instr(rt.destination, ':') = 0 then rt.destination end)";
const ROUTE_IPV6: &str = "(case when instr(rt.destination, ':') > 0 then rt.destination end)";

/// The filters of DescribeInternetGateways.
pub static INTERNET_GATEWAY_FILTERS: FilterSpec = FilterSpec {
    id_column: "g.internet_gateway_id",
    fields: &[
        ("attachment.state", Target::Text("(case when g.vpc_id is not null then 'available' end)")),
        ("attachment.vpc-id", Target::Text("g.vpc_id")),
        ("internet-gateway-id", Target::Text("g.internet_gateway_id")),
        ("owner-id", Target::Text("g.account_id")),
    ],
};

/// The filters of DescribeRouteTables. Targets ec2lite has no resources for (NAT and
/// transit gateways, peering connections, prefix lists) match nothing.
pub static ROUTE_TABLE_FILTERS: FilterSpec = FilterSpec {
    id_column: "r.route_table_id",
    fields: &[
        ("association.gateway-id", Target::Any { from: ASSOCIATIONS_OF_TABLE, expr: "ra.gateway_id" }),
        ("association.main", Target::Any { from: ASSOCIATIONS_OF_TABLE, expr: MAIN_TEXT }),
        (
            "association.route-table-association-id",
            Target::Any { from: ASSOCIATIONS_OF_TABLE, expr: "ra.association_id" },
        ),
        ("association.route-table-id", Target::Any { from: ASSOCIATIONS_OF_TABLE, expr: "ra.route_table_id" }),
        ("association.subnet-id", Target::Any { from: ASSOCIATIONS_OF_TABLE, expr: "ra.subnet_id" }),
        ("owner-id", Target::Text("r.account_id")),
        ("route-table-id", Target::Text("r.route_table_id")),
        ("route.destination-cidr-block", Target::Any { from: ROUTES_OF_TABLE, expr: ROUTE_IPV4 }),
        ("route.destination-ipv6-cidr-block", Target::Any { from: ROUTES_OF_TABLE, expr: ROUTE_IPV6 }),
        ("route.destination-prefix-list-id", Target::Text("null")),
        ("route.egress-only-internet-gateway-id", Target::Text("null")),
        ("route.gateway-id", Target::Any { from: ROUTES_OF_TABLE, expr: "rt.gateway_id" }),
        ("route.instance-id", Target::Any { from: ROUTES_OF_TABLE, expr: ROUTE_INSTANCE }),
        ("route.nat-gateway-id", Target::Text("null")),
        ("route.network-interface-id", Target::Any { from: ROUTES_OF_TABLE, expr: ROUTE_INTERFACE }),
        ("route.origin", Target::Any { from: ROUTES_OF_TABLE, expr: "rt.origin" }),
        ("route.state", Target::Any { from: ROUTES_OF_TABLE, expr: ROUTE_STATE }),
        ("route.transit-gateway-id", Target::Text("null")),
        ("route.vpc-peering-connection-id", Target::Text("null")),
        ("vpc-id", Target::Text("r.vpc_id")),
    ],
};

const MAIN_TEXT: &str = "(case when ra.main then 'true' else 'false' end)";

/// The subnets of ACL `a`'s VPC: each is associated with the default ACL.
const SUBNETS_OF_ACL: &str = rows_of!("subnet s", "s.vpc_id = a.vpc_id");
/// The rule numbers of ACL `a`'s entries (the IPv6 ones only with an IPv6 VPC).
const ACL_RULES: &str =
    "(select '100' as n union all select '32767' union all select '101' union all select '32768') e";
const ACL_RULE: &str = "(case when e.n in ('100', '32767') or v.ipv6_cidr_block is not null then e.n end)";
const BOTH_BOOLS: &str = "(select 'true' as b union all select 'false') e";
const BOTH_ACTIONS: &str = "(select 'allow' as b union all select 'deny') e";

/// The filters of DescribeNetworkAcls. Entries are those of a default ACL (all
/// protocols, no ports, no ICMP codes).
pub static NETWORK_ACL_FILTERS: FilterSpec = FilterSpec {
    id_column: "a.network_acl_id",
    fields: &[
        (
            "association.association-id",
            Target::Any { from: SUBNETS_OF_ACL, expr: "('aclassoc-' || substr(s.subnet_id, 8))" },
        ),
        ("association.network-acl-id", Target::Any { from: SUBNETS_OF_ACL, expr: "a.network_acl_id" }),
        ("association.subnet-id", Target::Any { from: SUBNETS_OF_ACL, expr: "s.subnet_id" }),
        ("default", Target::Bool("a.is_default")),
        ("entry.cidr", Target::Text("'0.0.0.0/0'")),
        ("entry.egress", Target::Any { from: BOTH_BOOLS, expr: "e.b" }),
        ("entry.icmp.code", Target::Text("null")),
        ("entry.icmp.type", Target::Text("null")),
        ("entry.ipv6-cidr", Target::Text("(case when v.ipv6_cidr_block is not null then '::/0' end)")),
        ("entry.port-range.from", Target::Text("null")),
        ("entry.port-range.to", Target::Text("null")),
        ("entry.protocol", Target::Text("'-1'")),
        ("entry.rule-action", Target::Any { from: BOTH_ACTIONS, expr: "e.b" }),
        ("entry.rule-number", Target::Any { from: ACL_RULES, expr: ACL_RULE }),
        ("network-acl-id", Target::Text("a.network_acl_id")),
        ("owner-id", Target::Text("a.account_id")),
        ("vpc-id", Target::Text("a.vpc_id")),
    ],
};

/// A Describe call of the caller's resources of one kind.
pub struct Query<'a> {
    pub account: &'a str,
    pub region: &'a str,
    pub ids: &'a [String],
    pub filters: &'a [Filter],
    pub page: &'a Page,
}

// Internet gateways.

fn select_gateways<'a>(account: &'a str, region: &'a str) -> Sql {
    let mut qb = Sql::new("select g.internet_gateway_id, g.account_id, g.vpc_id, ");
    push_tags_column(&mut qb, account, "g.internet_gateway_id");
    qb.push(" from internet_gateway g where g.account_id = ").push_bind(account);
    qb.push(" and g.region = ").push_bind(region);
    qb
}

fn gateway_from_row(r: &SqliteRow) -> InternetGateway {
    InternetGateway { internet_gateway_id: r.get(0), owner_id: r.get(1), vpc_id: r.get(2), tags: parse_tags(r.get(3)) }
}

pub async fn insert_gateway(conn: &mut Conn, igw: &InternetGateway, region: &str, now: i64) -> Result<()> {
    sqlx::query(
        "insert into internet_gateway (internet_gateway_id, account_id, region, vpc_id, created_at) values (?, ?, ?, ?, ?)",
    )
    .bind(&igw.internet_gateway_id)
    .bind(&igw.owner_id)
    .bind(region)
    .bind(&igw.vpc_id)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn find_gateway(conn: &mut Conn, account: &str, region: &str, id: &str) -> Result<Option<InternetGateway>> {
    let mut qb = select_gateways(account, region);
    qb.push(" and g.internet_gateway_id = ").push_bind(id);
    Ok(qb.query().fetch_optional(&mut *conn).await?.as_ref().map(gateway_from_row))
}

pub async fn describe_gateways(conn: &mut Conn, q: &Query<'_>) -> Result<(Vec<InternetGateway>, Option<String>)> {
    let mut qb = select_gateways(q.account, q.region);
    if !q.ids.is_empty() {
        push_in(&mut qb, "g.internet_gateway_id", q.ids);
    }
    INTERNET_GATEWAY_FILTERS.push(&mut qb, q.filters, q.account)?;
    q.page.push(&mut qb, "g.internet_gateway_id");
    let mut gateways: Vec<InternetGateway> =
        qb.query().fetch_all(&mut *conn).await?.iter().map(gateway_from_row).collect();
    let next = q.page.finish(&mut gateways, |g| g.internet_gateway_id.clone());
    Ok((gateways, next))
}

/// The internet gateway attached to the VPC, if any.
pub async fn gateway_of_vpc(conn: &mut Conn, vpc_id: &str) -> Result<Option<String>> {
    let id = sqlx::query_scalar("select internet_gateway_id from internet_gateway where vpc_id = ?")
        .bind(vpc_id)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(id)
}

/// Attaches the gateway to `vpc_id`, or detaches it (`None`).
pub async fn set_gateway_vpc(conn: &mut Conn, id: &str, vpc_id: Option<&str>) -> Result<()> {
    sqlx::query("update internet_gateway set vpc_id = ? where internet_gateway_id = ?")
        .bind(vpc_id)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Deletes a detached gateway and its tags. Routes to it stay, as blackholes.
pub async fn delete_gateway(conn: &mut Conn, id: &str) -> Result<()> {
    for sql in ["delete from internet_gateway where internet_gateway_id = ?", "delete from tag where resource_id = ?"] {
        sqlx::query(sql).bind(id).execute(&mut *conn).await?;
    }
    Ok(())
}

/// Whether something in the VPC has a public address that needs its internet gateway:
/// an instance that is not terminated, or an Elastic IP on one of its interfaces.
pub async fn vpc_has_public_addresses(conn: &mut Conn, vpc_id: &str) -> Result<bool> {
    let found: Option<i64> = sqlx::query_scalar(
        "select 1 where exists (select 1 from instance where vpc_id = ?1 and public_ip is not null \
           and state not in ('shutting-down', 'terminated')) \
         or exists (select 1 from address ad join network_interface n \
           on n.network_interface_id = ad.network_interface_id where n.vpc_id = ?1)",
    )
    .bind(vpc_id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(found.is_some())
}

// Route tables.

fn select_tables<'a>(account: &'a str, region: &'a str) -> Sql {
    let mut qb = Sql::new("select r.route_table_id, r.account_id, r.vpc_id, ");
    push_tags_column(&mut qb, account, "r.route_table_id");
    qb.push(" from route_table r where r.account_id = ").push_bind(account);
    qb.push(" and r.region = ").push_bind(region);
    qb
}

fn table_from_row(r: &SqliteRow) -> RouteTable {
    RouteTable {
        route_table_id: r.get(0),
        owner_id: r.get(1),
        vpc_id: r.get(2),
        tags: parse_tags(r.get(3)),
        ..Default::default()
    }
}

/// A new route table with its (local) routes.
pub async fn insert_route_table(conn: &mut Conn, table: &RouteTable, region: &str, now: i64) -> Result<()> {
    sqlx::query(
        "insert into route_table (route_table_id, account_id, region, vpc_id, created_at) values (?, ?, ?, ?, ?)",
    )
    .bind(&table.route_table_id)
    .bind(&table.owner_id)
    .bind(region)
    .bind(&table.vpc_id)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    for route in &table.routes {
        insert_route(conn, &table.route_table_id, route).await?;
    }
    Ok(())
}

pub async fn count_route_tables(conn: &mut Conn, vpc_id: &str) -> Result<i64> {
    let n = sqlx::query_scalar("select count(*) from route_table where vpc_id = ?")
        .bind(vpc_id)
        .fetch_one(&mut *conn)
        .await?;
    Ok(n)
}

pub async fn find_route_table(conn: &mut Conn, account: &str, region: &str, id: &str) -> Result<Option<RouteTable>> {
    let mut qb = select_tables(account, region);
    qb.push(" and r.route_table_id = ").push_bind(id);
    let Some(row) = qb.query().fetch_optional(&mut *conn).await? else { return Ok(None) };
    let mut tables = vec![table_from_row(&row)];
    fill_tables(conn, &mut tables).await?;
    Ok(tables.pop())
}

pub async fn describe_route_tables(conn: &mut Conn, q: &Query<'_>) -> Result<(Vec<RouteTable>, Option<String>)> {
    let mut qb = select_tables(q.account, q.region);
    if !q.ids.is_empty() {
        push_in(&mut qb, "r.route_table_id", q.ids);
    }
    ROUTE_TABLE_FILTERS.push(&mut qb, q.filters, q.account)?;
    q.page.push(&mut qb, "r.route_table_id");
    let mut tables: Vec<RouteTable> = qb.query().fetch_all(&mut *conn).await?.iter().map(table_from_row).collect();
    let next = q.page.finish(&mut tables, |t| t.route_table_id.clone());
    fill_tables(conn, &mut tables).await?;
    Ok((tables, next))
}

/// Loads the routes (with their states) and the associations of `tables`.
async fn fill_tables(conn: &mut Conn, tables: &mut [RouteTable]) -> Result<()> {
    if tables.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = tables.iter().map(|t| t.route_table_id.clone()).collect();
    let mut qb = Sql::new(&format!(
        "select rt.route_table_id, rt.destination, rt.gateway_id, {ROUTE_INSTANCE}, {ROUTE_INTERFACE}, rt.origin, \
         {ROUTE_STATE}, r.account_id from route rt join route_table r on r.route_table_id = rt.route_table_id \
         where 1 = 1"
    ));
    push_in(&mut qb, "rt.route_table_id", &ids);
    qb.push(" order by rt.origin != 'CreateRouteTable', instr(rt.destination, ':') > 0, rt.destination");
    for row in qb.query().fetch_all(&mut *conn).await? {
        let table_id: String = row.get(0);
        let instance_id: Option<String> = row.get(3);
        let route = Route {
            destination: row.get(1),
            gateway_id: row.get(2),
            instance_owner_id: instance_id.as_ref().map(|_| row.get(7)),
            instance_id,
            network_interface_id: row.get(4),
            origin: row.get(5),
            state: row.get(6),
        };
        if let Some(table) = tables.iter_mut().find(|t| t.route_table_id == table_id) {
            table.routes.push(route);
        }
    }
    let mut qb = Sql::new(
        "select association_id, route_table_id, vpc_id, subnet_id, main from route_table_association where 1 = 1",
    );
    push_in(&mut qb, "route_table_id", &ids);
    qb.push(" order by main desc, subnet_id");
    for row in qb.query().fetch_all(&mut *conn).await? {
        let association = association_from_row(&row);
        if let Some(table) = tables.iter_mut().find(|t| t.route_table_id == association.route_table_id) {
            table.associations.push(association);
        }
    }
    Ok(())
}

/// Deletes a route table without associations, its routes and its tags.
pub async fn delete_route_table(conn: &mut Conn, id: &str) -> Result<()> {
    for sql in [
        "delete from route where route_table_id = ?",
        "delete from route_table where route_table_id = ?",
        "delete from tag where resource_id = ?",
    ] {
        sqlx::query(sql).bind(id).execute(&mut *conn).await?;
    }
    Ok(())
}

pub async fn insert_route(conn: &mut Conn, table_id: &str, route: &Route) -> Result<()> {
    sqlx::query(
        "insert into route (route_table_id, destination, gateway_id, instance_id, network_interface_id, origin) \
         values (?, ?, ?, ?, ?, ?)",
    )
    .bind(table_id)
    .bind(&route.destination)
    .bind(&route.gateway_id)
    .bind(&route.instance_id)
    .bind(&route.network_interface_id)
    .bind(&route.origin)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Points an existing route at the target of `route`.
pub async fn replace_route_target(conn: &mut Conn, table_id: &str, route: &Route) -> Result<()> {
    sqlx::query(
        "update route set gateway_id = ?, instance_id = ?, network_interface_id = ? \
         where route_table_id = ? and destination = ?",
    )
    .bind(&route.gateway_id)
    .bind(&route.instance_id)
    .bind(&route.network_interface_id)
    .bind(table_id)
    .bind(&route.destination)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn delete_route(conn: &mut Conn, table_id: &str, destination: &str) -> Result<()> {
    sqlx::query("delete from route where route_table_id = ? and destination = ?")
        .bind(table_id)
        .bind(destination)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

// Associations.

fn association_from_row(r: &SqliteRow) -> RouteTableAssociation {
    RouteTableAssociation {
        association_id: r.get(0),
        route_table_id: r.get(1),
        vpc_id: r.get(2),
        subnet_id: r.get(3),
        main: r.get(4),
    }
}

/// One of the caller's associations, by id.
pub async fn find_association(
    conn: &mut Conn,
    account: &str,
    region: &str,
    id: &str,
) -> Result<Option<RouteTableAssociation>> {
    let row = sqlx::query(
        "select ra.association_id, ra.route_table_id, ra.vpc_id, ra.subnet_id, ra.main from route_table_association ra \
         join route_table r on r.route_table_id = ra.route_table_id \
         where ra.association_id = ? and r.account_id = ? and r.region = ?",
    )
    .bind(id)
    .bind(account)
    .bind(region)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.as_ref().map(association_from_row))
}

/// The explicit association of a subnet, if it has one.
pub async fn association_of_subnet(conn: &mut Conn, subnet_id: &str) -> Result<Option<RouteTableAssociation>> {
    let row = sqlx::query(
        "select association_id, route_table_id, vpc_id, subnet_id, main from route_table_association where subnet_id = ?",
    )
    .bind(subnet_id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.as_ref().map(association_from_row))
}

pub async fn insert_association(conn: &mut Conn, a: &RouteTableAssociation) -> Result<()> {
    sqlx::query(
        "insert into route_table_association (association_id, route_table_id, vpc_id, subnet_id, main) \
         values (?, ?, ?, ?, ?)",
    )
    .bind(&a.association_id)
    .bind(&a.route_table_id)
    .bind(&a.vpc_id)
    .bind(&a.subnet_id)
    .bind(a.main)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Moves association `old_id` (main or a subnet's) to another table, under a new id.
pub async fn replace_association(conn: &mut Conn, old_id: &str, new_id: &str, route_table_id: &str) -> Result<()> {
    sqlx::query("update route_table_association set association_id = ?, route_table_id = ? where association_id = ?")
        .bind(new_id)
        .bind(route_table_id)
        .bind(old_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn delete_association(conn: &mut Conn, id: &str) -> Result<()> {
    sqlx::query("delete from route_table_association where association_id = ?").bind(id).execute(&mut *conn).await?;
    Ok(())
}

// Route targets.

/// What a route needs to know of an instance it targets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceTarget {
    pub vpc_id: String,
    /// Its attached network interfaces.
    pub interfaces: i64,
}

/// One of the caller's instances that is not terminated, by id.
pub async fn find_instance_target(
    conn: &mut Conn,
    account: &str,
    region: &str,
    id: &str,
) -> Result<Option<InstanceTarget>> {
    let row: Option<(String, i64)> = sqlx::query_as(
        "select i.vpc_id, (select count(*) from network_interface n where n.instance_id = i.instance_id) \
         from instance i where i.instance_id = ? and i.account_id = ? and i.region = ? and i.state != 'terminated'",
    )
    .bind(id)
    .bind(account)
    .bind(region)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(|(vpc_id, interfaces)| InstanceTarget { vpc_id, interfaces }))
}

/// The VPC of one of the caller's network interfaces.
pub async fn interface_vpc(conn: &mut Conn, account: &str, region: &str, id: &str) -> Result<Option<String>> {
    let vpc = sqlx::query_scalar(
        "select vpc_id from network_interface where network_interface_id = ? and account_id = ? and region = ?",
    )
    .bind(id)
    .bind(account)
    .bind(region)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(vpc)
}

// Network ACLs.

fn select_acls<'a>(account: &'a str, region: &'a str) -> Sql {
    let mut qb =
        Sql::new("select a.network_acl_id, a.account_id, a.vpc_id, a.is_default, v.ipv6_cidr_block is not null, ");
    push_tags_column(&mut qb, account, "a.network_acl_id");
    qb.push(" from network_acl a join vpc v on v.vpc_id = a.vpc_id where a.account_id = ").push_bind(account);
    qb.push(" and a.region = ").push_bind(region);
    qb
}

fn acl_from_row(r: &SqliteRow) -> NetworkAcl {
    NetworkAcl {
        network_acl_id: r.get(0),
        owner_id: r.get(1),
        vpc_id: r.get(2),
        is_default: r.get(3),
        ipv6: r.get(4),
        tags: parse_tags(r.get(5)),
        ..Default::default()
    }
}

/// The caller's network ACLs, each with the subnets of its VPC.
pub async fn describe_network_acls(conn: &mut Conn, q: &Query<'_>) -> Result<(Vec<NetworkAcl>, Option<String>)> {
    let mut qb = select_acls(q.account, q.region);
    if !q.ids.is_empty() {
        push_in(&mut qb, "a.network_acl_id", q.ids);
    }
    NETWORK_ACL_FILTERS.push(&mut qb, q.filters, q.account)?;
    q.page.push(&mut qb, "a.network_acl_id");
    let mut acls: Vec<NetworkAcl> = qb.query().fetch_all(&mut *conn).await?.iter().map(acl_from_row).collect();
    let next = q.page.finish(&mut acls, |a| a.network_acl_id.clone());
    if !acls.is_empty() {
        let vpcs: Vec<String> = acls.iter().map(|a| a.vpc_id.clone()).collect();
        let mut qb = Sql::new("select subnet_id, vpc_id from subnet where 1 = 1");
        push_in(&mut qb, "vpc_id", &vpcs);
        qb.push(" order by subnet_id");
        let rows: Vec<(String, String)> = qb.query_as().fetch_all(&mut *conn).await?;
        for acl in &mut acls {
            acl.subnet_ids = rows.iter().filter(|(_, vpc)| *vpc == acl.vpc_id).map(|(s, _)| s.clone()).collect();
        }
    }
    Ok((acls, next))
}

// VPCs.

/// Deletes what routing rows a VPC still has when it is deleted (its main route table
/// with its routes and association, its default ACL) and their tags.
pub async fn delete_vpc_routing(conn: &mut Conn, vpc_id: &str) -> Result<()> {
    for sql in [
        "delete from tag where resource_id in (select route_table_id from route_table where vpc_id = ?1 \
           union all select network_acl_id from network_acl where vpc_id = ?1)",
        "delete from route_table_association where vpc_id = ?1",
        "delete from route where route_table_id in (select route_table_id from route_table where vpc_id = ?1)",
        "delete from route_table where vpc_id = ?1",
        "delete from network_acl where vpc_id = ?1",
    ] {
        sqlx::query(sql).bind(vpc_id).execute(&mut *conn).await?;
    }
    Ok(())
}

/// Whether the VPC has a route table besides its main one (whichever table that is now).
pub async fn vpc_has_other_route_tables(conn: &mut Conn, vpc_id: &str) -> Result<bool> {
    let found: Option<i64> = sqlx::query_scalar(
        "select 1 from route_table where vpc_id = ?1 and route_table_id not in \
         (select route_table_id from route_table_association where vpc_id = ?1 and main = 1) limit 1",
    )
    .bind(vpc_id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(found.is_some())
}
