//! DescribeSecurityGroups.

use super::{check_known, Ctx, FromParams};
use crate::domain::filter::{filter_in_memory, Filter};
use crate::domain::network::{default_security_group_id, default_vpc_id};
use crate::ec2_err;
use crate::error::{Code, Result};
use crate::wire::params::Params;
use crate::wire::query::{check_filter_names, parse_filters};
use crate::wire::shapes::security_group::write_default_security_group;
use crate::wire::xml::Xml;

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
    fn only_the_default_group_has_a_name() {
        let p = Params::from_pairs([("GroupName.1", "default")]);
        assert!(DescribeSecurityGroupsInput::from_params(&p).is_ok());
        let p = Params::from_pairs([("GroupName.1", "default"), ("GroupName.2", "web")]);
        let err = DescribeSecurityGroupsInput::from_params(&p).err().unwrap();
        assert_eq!(err.code, "InvalidGroup.NotFound");
        assert_eq!(err.message, "The security group 'web' does not exist in default VPC");
    }
}
