//! DescribeVpcs.

use super::{check_known, Ctx, FromParams};
use crate::domain::filter::{filter_in_memory, Filter};
use crate::domain::ids::stable_id;
use crate::domain::network::{default_vpc_id, DEFAULT_VPC_CIDR};
use crate::error::{Code, Result};
use crate::wire::params::Params;
use crate::wire::query::{check_filter_names, parse_filters};
use crate::wire::shapes::vpc::write_default_vpc;
use crate::wire::xml::Xml;

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
}
