//! Networking rows, per account and region. The default network of a scope is created
//! here, on first use.

pub mod addresses;
pub mod interfaces;
pub mod routing;
pub mod security_groups;
pub mod vpcs;

use super::sql::Sql;
use super::{Conn, Exec};
use crate::domain::ids::{new_id, IdKind};
use crate::domain::network::{self, default_subnets, Vpc};
use crate::domain::regions;
use crate::error::{Code, Ec2Error, Result};

/// Creates the default network of a scope unless it was created before (and perhaps
/// deleted since: a deleted default VPC stays deleted). Returns whether it created it.
pub async fn ensure_default(conn: &mut Conn, account: &str, region: &str, now: i64) -> Result<bool> {
    let created = sqlx::query(
        "insert into network_scope (account_id, region, created_at) values (?, ?, ?) on conflict do nothing",
    )
    .bind(account)
    .bind(region)
    .bind(now)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    if created {
        insert_default_network(conn, &Vpc::default_for(account, region), now).await?;
    }
    Ok(created)
}

/// A default VPC with its companions, a default subnet per zone and an attached internet
/// gateway. The scope's first default network has ids stable per scope; the one
/// CreateDefaultVpc makes after a deletion has new ids.
pub async fn insert_default_network(conn: &mut Conn, vpc: &Vpc, now: i64) -> Result<()> {
    let (account, region) = (vpc.owner_id.as_str(), vpc.region.as_str());
    let first = vpc.vpc_id == network::default_vpc_id(account, region);
    vpcs::insert_vpc_with_companions(conn, vpc, now).await?;
    let known = regions::find(region).expect("known region");
    for mut subnet in default_subnets(account, known) {
        if !first {
            subnet.subnet_id = new_id(IdKind::Subnet);
            subnet.vpc_id = vpc.vpc_id.clone();
        }
        vpcs::insert_subnet(conn, &subnet, now).await?;
    }
    let igw =
        if first { network::default_internet_gateway_id(account, region) } else { new_id(IdKind::InternetGateway) };
    sqlx::query(
        "insert into internet_gateway (internet_gateway_id, account_id, region, vpc_id, created_at) values (?, ?, ?, ?, ?)",
    )
    .bind(&igw)
    .bind(account)
    .bind(region)
    .bind(&vpc.vpc_id)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    let main_table = vpc.main_route_table_id();
    sqlx::query(
        "insert into route (route_table_id, destination, gateway_id, origin) values (?, '0.0.0.0/0', ?, 'CreateRoute')",
    )
    .bind(&main_table)
    .bind(&igw)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The table and id column of each network resource kind.
fn table_of(kind: IdKind) -> Option<(&'static str, &'static str)> {
    Some(match kind {
        IdKind::Vpc => ("vpc", "vpc_id"),
        IdKind::Subnet => ("subnet", "subnet_id"),
        IdKind::SecurityGroup => ("security_group", "group_id"),
        IdKind::SecurityGroupRule => ("security_group_rule", "rule_id"),
        IdKind::InternetGateway => ("internet_gateway", "internet_gateway_id"),
        IdKind::RouteTable => ("route_table", "route_table_id"),
        IdKind::NetworkAcl => ("network_acl", "network_acl_id"),
        IdKind::NetworkInterface => ("network_interface", "network_interface_id"),
        IdKind::ElasticIp => ("address", "allocation_id"),
        IdKind::LaunchTemplate => ("launch_template", "launch_template_id"),
        _ => return None,
    })
}

/// Whether the caller owns the network resource `id` of `kind` in the region.
pub async fn exists_owned(conn: &mut impl Exec, account: &str, region: &str, kind: IdKind, id: &str) -> Result<bool> {
    if kind == IdKind::DhcpOptions {
        return Ok(id == network::dhcp_options_id(account, region));
    }
    let Some((table, column)) = table_of(kind) else { return Ok(false) };
    let mut qb = Sql::new(&format!("select '1' from {table} where {column} = "));
    qb.push_bind(id).push(" and account_id = ").push_bind(account).push(" and region = ").push_bind(region);
    Ok(!conn.texts(&qb).await?.is_empty())
}

/// EC2's NotFound error for a network resource id.
pub fn not_found(kind: IdKind, id: &str) -> Ec2Error {
    let (code, noun) = match kind {
        IdKind::Vpc => (Code::InvalidVpcID_NotFound, "vpc ID"),
        IdKind::Subnet => (Code::InvalidSubnetID_NotFound, "subnet ID"),
        IdKind::SecurityGroup => (Code::InvalidGroup_NotFound, "security group"),
        IdKind::SecurityGroupRule => (Code::InvalidSecurityGroupRuleId_NotFound, "security group rule ID"),
        IdKind::InternetGateway => (Code::InvalidInternetGatewayID_NotFound, "internetGateway ID"),
        IdKind::RouteTable => (Code::InvalidRouteTableID_NotFound, "routeTable ID"),
        IdKind::NetworkAcl => (Code::InvalidNetworkAclID_NotFound, "networkAcl ID"),
        IdKind::NetworkInterface => (Code::InvalidNetworkInterfaceID_NotFound, "networkInterface ID"),
        IdKind::ElasticIp => (Code::InvalidAllocationID_NotFound, "allocation ID"),
        _ => (Code::InvalidID, "ID"),
    };
    Ec2Error::new(code, format!("The {noun} '{id}' does not exist"))
}
