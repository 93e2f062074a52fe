//! DescribeVpcs, DescribeSubnets, DescribeSecurityGroups: the default network of the
//! caller's account in the region (what instances need, without real networking).

use super::{Ctx, FromParams};
use crate::domain::filter::{filter_in_memory, Filter};
use crate::domain::ids::stable_id;
use crate::domain::instance::DEFAULT_VPC_CIDR;
use crate::domain::network::{default_security_group_id, default_subnets, default_vpc_id, Subnet};
use crate::domain::regions;
use crate::ec2_err;
use crate::error::{Code, Ec2Error, Result};
use crate::wire::params::Params;
use crate::wire::query::{check_filter_names, parse_filters};
use crate::wire::shapes::network::{write_default_security_group, write_default_subnet, write_default_vpc};
use crate::wire::xml::Xml;

/// Refuses the first id of `asked` that is not `known`.
fn check_known(kind: &str, code: Code, asked: &[String], known: &[String]) -> Result<()> {
    match asked.iter().find(|id| !known.contains(id)) {
        Some(missing) => Err(Ec2Error::new(code, format!("The {kind} ID '{missing}' does not exist"))),
        None => Ok(()),
    }
}

const VPC_FILTERS: &[&str] =
    &["vpc-id", "is-default", "state", "cidr", "cidr-block-association.cidr-block", "owner-id", "dhcp-options-id"];

pub struct DescribeVpcsInput {
    pub vpc_ids: Vec<String>,
    pub filters: Vec<Filter>,
}

impl FromParams for DescribeVpcsInput {
    fn from_params(p: &Params) -> Result<Self> {
        let vpc_ids = p.list("VpcId")?;
        let filters = parse_filters(p, "Filter")?;
        check_filter_names(&filters, VPC_FILTERS)?;
        Ok(DescribeVpcsInput { vpc_ids, filters })
    }
}

pub async fn describe_vpcs(ctx: &Ctx<'_>, input: DescribeVpcsInput) -> Result<Xml> {
    let vpc_id = default_vpc_id(ctx.scope.account, ctx.scope.region);
    check_known("vpc", Code::InvalidVpcID_NotFound, &input.vpc_ids, std::slice::from_ref(&vpc_id))?;
    let dhcp_options_id = stable_id("dopt", &[ctx.scope.account, ctx.scope.region]);
    let vpcs = filter_in_memory(vec![vpc_id], &input.filters, VPC_FILTERS, |id, name| {
        vec![match name {
            "vpc-id" => id.clone(),
            "is-default" => "true".into(),
            "state" => "available".into(),
            "owner-id" => ctx.scope.account.to_string(),
            "dhcp-options-id" => dhcp_options_id.clone(),
            _ => DEFAULT_VPC_CIDR.into(),
        }]
    })?;
    ctx.check_dry_run()?;
    let mut x = Xml::new();
    x.list("vpcSet", &vpcs, |x, id| write_default_vpc(x, ctx.scope.account, id, &dhcp_options_id));
    Ok(x)
}

const SUBNET_FILTERS: &[&str] = &[
    "availability-zone",
    "availability-zone-id",
    "cidr-block",
    "default-for-az",
    "owner-id",
    "state",
    "subnet-id",
    "vpc-id",
];

pub struct DescribeSubnetsInput {
    pub subnet_ids: Vec<String>,
    pub filters: Vec<Filter>,
}

impl FromParams for DescribeSubnetsInput {
    fn from_params(p: &Params) -> Result<Self> {
        let subnet_ids = p.list("SubnetId")?;
        let filters = parse_filters(p, "Filter")?;
        check_filter_names(&filters, SUBNET_FILTERS)?;
        Ok(DescribeSubnetsInput { subnet_ids, filters })
    }
}

pub async fn describe_subnets(ctx: &Ctx<'_>, input: DescribeSubnetsInput) -> Result<Xml> {
    let region = regions::find(ctx.scope.region).expect("known region");
    let subnets = default_subnets(ctx.scope.account, region);
    let known: Vec<String> = subnets.iter().map(|s| s.subnet_id.clone()).collect();
    check_known("subnet", Code::InvalidSubnetID_NotFound, &input.subnet_ids, &known)?;
    let asked: Vec<Subnet> = subnets
        .into_iter()
        .filter(|s| input.subnet_ids.is_empty() || input.subnet_ids.contains(&s.subnet_id))
        .collect();
    let subnets = filter_in_memory(asked, &input.filters, SUBNET_FILTERS, |s, name| {
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
    x.list("subnetSet", &subnets, |x, s| write_default_subnet(x, ctx.scope.account, ctx.scope.region, s));
    Ok(x)
}

const SECURITY_GROUP_FILTERS: &[&str] = &["group-id", "group-name", "vpc-id", "owner-id", "description"];

/// `GroupName.N` is checked while parsing: only `default` exists.
pub struct DescribeSecurityGroupsInput {
    pub group_ids: Vec<String>,
    pub filters: Vec<Filter>,
}

impl FromParams for DescribeSecurityGroupsInput {
    fn from_params(p: &Params) -> Result<Self> {
        let group_ids = p.list("GroupId")?;
        if let Some(name) = p.list("GroupName")?.into_iter().find(|n| n != "default") {
            return Err(ec2_err!(InvalidGroup_NotFound, "The security group '{name}' does not exist in default VPC"));
        }
        let filters = parse_filters(p, "Filter")?;
        check_filter_names(&filters, SECURITY_GROUP_FILTERS)?;
        Ok(DescribeSecurityGroupsInput { group_ids, filters })
    }
}

pub async fn describe_security_groups(ctx: &Ctx<'_>, input: DescribeSecurityGroupsInput) -> Result<Xml> {
    let group_id = default_security_group_id(ctx.scope.account, ctx.scope.region);
    check_known("security group", Code::InvalidGroup_NotFound, &input.group_ids, std::slice::from_ref(&group_id))?;
    let vpc_id = default_vpc_id(ctx.scope.account, ctx.scope.region);
    let groups = filter_in_memory(vec![group_id], &input.filters, SECURITY_GROUP_FILTERS, |id, name| {
        vec![match name {
            "group-id" => id.clone(),
            "group-name" => "default".into(),
            "vpc-id" => vpc_id.clone(),
            "owner-id" => ctx.scope.account.to_string(),
            _ => "default VPC security group".into(),
        }]
    })?;
    ctx.check_dry_run()?;
    let mut x = Xml::new();
    x.list("securityGroupInfo", &groups, |x, id| write_default_security_group(x, ctx.scope.account, id, &vpc_id));
    Ok(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vpc_ids_and_filters_are_read() {
        let p = Params::from_pairs([
            ("VpcId.1", "vpc-0123456789abcdef0"),
            ("Filter.1.Name", "is-default"),
            ("Filter.1.Value.1", "true"),
        ]);
        let input = DescribeVpcsInput::from_params(&p).unwrap();
        assert_eq!(input.vpc_ids, ["vpc-0123456789abcdef0"]);
        assert_eq!(input.filters[0].name, "is-default");
        let p = Params::from_pairs([("Filter.1.Name", "tenancy"), ("Filter.1.Value.1", "default")]);
        assert_eq!(DescribeVpcsInput::from_params(&p).err().unwrap().message, "The filter 'tenancy' is invalid");
    }

    #[test]
    fn subnet_filter_names_are_checked() {
        let p = Params::from_pairs([("Filter.1.Name", "default-for-az"), ("Filter.1.Value.1", "true")]);
        assert!(DescribeSubnetsInput::from_params(&p).is_ok());
        let p = Params::from_pairs([("Filter.1.Name", "is-default"), ("Filter.1.Value.1", "true")]);
        assert_eq!(DescribeSubnetsInput::from_params(&p).err().unwrap().code, "InvalidParameterValue");
    }

    #[test]
    fn only_the_default_group_has_a_name() {
        let p = Params::from_pairs([("GroupName.1", "default")]);
        assert!(DescribeSecurityGroupsInput::from_params(&p).is_ok());
        let p = Params::from_pairs([("GroupName.1", "default"), ("GroupName.2", "web")]);
        let err = DescribeSecurityGroupsInput::from_params(&p).err().unwrap();
        assert_eq!(err.code, "InvalidGroup.NotFound");
        assert_eq!(err.message, "The security group 'web' does not exist in default VPC");
    }

    #[test]
    fn unknown_ids_are_refused_by_kind() {
        let known = ["vpc-1".to_string()];
        assert!(check_known("vpc", Code::InvalidVpcID_NotFound, &["vpc-1".into()], &known).is_ok());
        let err =
            check_known("vpc", Code::InvalidVpcID_NotFound, &["vpc-1".into(), "vpc-2".into()], &known).unwrap_err();
        assert_eq!(
            (err.code, err.message.as_str()),
            (Code::InvalidVpcID_NotFound, "The vpc ID 'vpc-2' does not exist")
        );
    }
}
