//! DescribeVpcs, DescribeSubnets, DescribeSecurityGroups: the default network of the
//! caller's account in the region (what instances need, without real networking).

use super::Ctx;
use crate::domain::filter::filter_in_memory;
use crate::domain::instance::DEFAULT_VPC_CIDR;
use crate::domain::network::{default_security_group_id, default_subnets, default_vpc_id, Subnet};
use crate::domain::regions;
use crate::ec2_err;
use crate::error::{Code, Ec2Error, Result};
use crate::wire::params::Params;
use crate::wire::query::parse_filters;
use crate::wire::xml::Xml;

fn check_known(kind: &str, code: Code, asked: &[String], known: &[String]) -> Result<()> {
    match asked.iter().find(|id| !known.contains(id)) {
        Some(missing) => Err(Ec2Error::new(code, format!("The {kind} ID '{missing}' does not exist"))),
        None => Ok(()),
    }
}

/// Read by the handler until this action has a typed input.
pub type DescribeVpcsInput = Params;

pub async fn describe_vpcs(ctx: &Ctx<'_>, p: DescribeVpcsInput) -> Result<Xml> {
    let p = &p;
    let vpc_id = default_vpc_id(ctx.scope.account, ctx.scope.region);
    let asked = p.list("VpcId")?;
    check_known("vpc", Code::InvalidVpcID_NotFound, &asked, std::slice::from_ref(&vpc_id))?;
    let filters = parse_filters(p, "Filter")?;
    let known =
        ["vpc-id", "is-default", "state", "cidr", "cidr-block-association.cidr-block", "owner-id", "dhcp-options-id"];
    let vpcs = filter_in_memory(vec![vpc_id], &filters, &known, |id, name| {
        vec![match name {
            "vpc-id" => id.clone(),
            "is-default" => "true".into(),
            "state" => "available".into(),
            "owner-id" => ctx.scope.account.to_string(),
            "dhcp-options-id" => dhcp_options_id(ctx),
            _ => DEFAULT_VPC_CIDR.into(),
        }]
    })?;
    ctx.check_dry_run()?;
    let mut x = Xml::new();
    x.list("vpcSet", &vpcs, |x, id| {
        x.text("vpcId", id)
            .text("ownerId", ctx.scope.account)
            .text("state", "available")
            .text("cidrBlock", DEFAULT_VPC_CIDR)
            .open("cidrBlockAssociationSet")
            .open("item")
            .text("cidrBlock", DEFAULT_VPC_CIDR)
            .text("associationId", &id.replace("vpc-", "vpc-cidr-assoc-"))
            .open("cidrBlockState")
            .text("state", "associated")
            .close("cidrBlockState")
            .close("item")
            .close("cidrBlockAssociationSet")
            .text("dhcpOptionsId", &dhcp_options_id(ctx))
            .text("instanceTenancy", "default")
            .bool("isDefault", true);
    });
    Ok(x)
}

fn dhcp_options_id(ctx: &Ctx<'_>) -> String {
    crate::domain::ids::stable_id("dopt", &[ctx.scope.account, ctx.scope.region])
}

/// Read by the handler until this action has a typed input.
pub type DescribeSubnetsInput = Params;

pub async fn describe_subnets(ctx: &Ctx<'_>, p: DescribeSubnetsInput) -> Result<Xml> {
    let p = &p;
    let region = regions::find(ctx.scope.region).expect("known region");
    let subnets = default_subnets(ctx.scope.account, region);
    let asked = p.list("SubnetId")?;
    let ids: Vec<String> = subnets.iter().map(|s| s.subnet_id.clone()).collect();
    check_known("subnet", Code::InvalidSubnetID_NotFound, &asked, &ids)?;
    let filters = parse_filters(p, "Filter")?;
    let known = [
        "availability-zone",
        "availability-zone-id",
        "cidr-block",
        "default-for-az",
        "owner-id",
        "state",
        "subnet-id",
        "vpc-id",
    ];
    let subnets: Vec<Subnet> =
        subnets.into_iter().filter(|s| asked.is_empty() || asked.contains(&s.subnet_id)).collect();
    let subnets = filter_in_memory(subnets, &filters, &known, |s, name| {
        vec![match name {
            "availability-zone" => s.zone.name.clone(),
            "availability-zone-id" => s.zone.id.clone(),
            "cidr-block" => s.cidr.clone(),
            "default-for-az" => "true".into(),
            "owner-id" => ctx.scope.account.to_string(),
            "state" => "available".into(),
            "subnet-id" => s.subnet_id.clone(),
            _ => s.vpc_id.clone(),
        }]
    })?;
    ctx.check_dry_run()?;
    let mut x = Xml::new();
    x.list("subnetSet", &subnets, |x, s| {
        x.text("subnetId", &s.subnet_id)
            .text(
                "subnetArn",
                &format!("arn:aws:ec2:{}:{}:subnet/{}", ctx.scope.region, ctx.scope.account, s.subnet_id),
            )
            .text("state", "available")
            .text("ownerId", ctx.scope.account)
            .text("vpcId", &s.vpc_id)
            .text("cidrBlock", &s.cidr)
            .empty("ipv6CidrBlockAssociationSet")
            .num("availableIpAddressCount", 4091)
            .text("availabilityZone", &s.zone.name)
            .text("availabilityZoneId", &s.zone.id)
            .bool("defaultForAz", true)
            .bool("mapPublicIpOnLaunch", true)
            .bool("assignIpv6AddressOnCreation", false);
    });
    Ok(x)
}

/// Read by the handler until this action has a typed input.
pub type DescribeSecurityGroupsInput = Params;

pub async fn describe_security_groups(ctx: &Ctx<'_>, p: DescribeSecurityGroupsInput) -> Result<Xml> {
    let p = &p;
    let group_id = default_security_group_id(ctx.scope.account, ctx.scope.region);
    check_known("security group", Code::InvalidGroup_NotFound, &p.list("GroupId")?, std::slice::from_ref(&group_id))?;
    if let Some(name) = p.list("GroupName")?.into_iter().find(|n| n != "default") {
        return Err(ec2_err!(InvalidGroup_NotFound, "The security group '{name}' does not exist in default VPC"));
    }
    let filters = parse_filters(p, "Filter")?;
    let vpc_id = default_vpc_id(ctx.scope.account, ctx.scope.region);
    let groups = filter_in_memory(
        vec![group_id],
        &filters,
        &["group-id", "group-name", "vpc-id", "owner-id", "description"],
        |id, name| {
            vec![match name {
                "group-id" => id.clone(),
                "group-name" => "default".into(),
                "vpc-id" => vpc_id.clone(),
                "owner-id" => ctx.scope.account.to_string(),
                _ => "default VPC security group".into(),
            }]
        },
    )?;
    ctx.check_dry_run()?;
    let mut x = Xml::new();
    x.list("securityGroupInfo", &groups, |x, id| {
        x.text("ownerId", ctx.scope.account)
            .text("groupId", id)
            .text("groupName", "default")
            .text("groupDescription", "default VPC security group")
            .text("vpcId", &vpc_id)
            .open("ipPermissions")
            .open("item")
            .text("ipProtocol", "-1")
            .open("groups")
            .open("item")
            .text("userId", ctx.scope.account)
            .text("groupId", id)
            .close("item")
            .close("groups")
            .empty("ipRanges")
            .close("item")
            .close("ipPermissions")
            .open("ipPermissionsEgress")
            .open("item")
            .text("ipProtocol", "-1")
            .empty("groups")
            .open("ipRanges")
            .open("item")
            .text("cidrIp", "0.0.0.0/0")
            .close("item")
            .close("ipRanges")
            .close("item")
            .close("ipPermissionsEgress");
    });
    Ok(x)
}
