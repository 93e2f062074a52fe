//! DescribeSubnets.

use super::{check_known, Ctx, FromParams};
use crate::domain::filter::{filter_in_memory, Filter};
use crate::domain::network::{default_subnets, Subnet};
use crate::domain::regions;
use crate::error::{Code, Result};
use crate::wire::params::Params;
use crate::wire::query::{check_filter_names, parse_filters};
use crate::wire::shapes::vpc::write_default_subnet;
use crate::wire::xml::Xml;

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
            "availability-zone" => s.availability_zone.clone(),
            "availability-zone-id" => s.availability_zone_id.clone(),
            "cidr-block" => s.cidr_block.clone(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subnet_filter_names_are_checked() {
        let p = Params::from_pairs([("Filter.1.Name", "default-for-az"), ("Filter.1.Value.1", "true")]);
        assert!(DescribeSubnetsInput::from_params(&p).is_ok());
        let p = Params::from_pairs([("Filter.1.Name", "is-default"), ("Filter.1.Value.1", "true")]);
        assert_eq!(DescribeSubnetsInput::from_params(&p).err().unwrap().code, "InvalidParameterValue");
    }
}
