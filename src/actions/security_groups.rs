//! CreateSecurityGroup, DescribeSecurityGroups, DeleteSecurityGroup. The rules of a
//! group are changed by the actions of `security_group_rules`.

use super::{Ctx, FromParams};
use crate::access::own_group;
use crate::domain::filter::Filter;
use crate::domain::ids::{self, new_id, IdKind};
use crate::domain::network::security_group::{
    check_description, check_group_name, group_name_not_found, GroupRef, SecurityGroup, MAX_GROUPS_PER_REGION,
};
use crate::domain::tags::{self as tag_rules, Tag};
use crate::ec2_err;
use crate::error::{Ec2Error, Result};
use crate::store::filters::Page;
use crate::store::network::{not_found, security_groups as store, vpcs};
use crate::store::{tags, Conn};
use crate::wire::params::Params;
use crate::wire::query::{dedup, parse_filters, parse_group_ref, parse_page, parse_tag_specs, write_next_token};
use crate::wire::shapes::security_group::write_security_group;
use crate::wire::xml::Xml;

pub struct CreateSecurityGroupInput {
    pub group_name: String,
    pub description: String,
    pub vpc_id: Option<String>,
    pub tags: Vec<Tag>,
}

impl FromParams for CreateSecurityGroupInput {
    fn from_params(p: &Params) -> Result<Self> {
        let group_name = p.str("GroupName").ok_or_else(|| Ec2Error::missing_parameter("GroupName"))?;
        let description = p.str("GroupDescription").ok_or_else(|| Ec2Error::missing_parameter("GroupDescription"))?;
        check_group_name(group_name)?;
        check_description("GroupDescription", description)?;
        let vpc_id = p.str("VpcId").map(str::to_string);
        if let Some(id) = &vpc_id {
            ids::check(IdKind::Vpc, id)?;
        }
        Ok(CreateSecurityGroupInput {
            group_name: group_name.to_string(),
            description: description.to_string(),
            vpc_id,
            tags: tag_rules::for_type(&parse_tag_specs(p)?, &["security-group"], "security-group")?,
        })
    }
}

pub async fn create_security_group(ctx: &Ctx<'_>, input: CreateSecurityGroupInput) -> Result<Xml> {
    ctx.ensure_default_network().await?;
    let (account, region) = (ctx.scope.account, ctx.scope.region);
    let mut tx = ctx.app.store.write().await?;
    let vpc_id = match &input.vpc_id {
        Some(id) => {
            vpcs::find_vpc(&mut tx, account, region, id).await?.ok_or_else(|| not_found(IdKind::Vpc, id))?.vpc_id
        }
        None => default_vpc_id(&mut tx, ctx).await?,
    };
    if store::find_group_by_name(&mut tx, account, region, &vpc_id, &input.group_name).await?.is_some() {
        return Err(ec2_err!(
            InvalidGroup_Duplicate,
            "The security group '{}' already exists for VPC '{vpc_id}'",
            input.group_name
        ));
    }
    if store::count_groups(&mut tx, account, region).await? >= MAX_GROUPS_PER_REGION {
        return Err(ec2_err!(SecurityGroupLimitExceeded, "The maximum number of security groups has been reached."));
    }
    ctx.check_dry_run()?;
    let group = SecurityGroup {
        group_id: new_id(IdKind::SecurityGroup),
        owner_id: account.to_string(),
        region: region.to_string(),
        vpc_id,
        group_name: input.group_name,
        description: input.description,
        ..Default::default()
    };
    store::insert_group(&mut tx, &group, ctx.now).await?;
    vpcs::insert_default_egress(&mut tx, &group.group_id, account, region, ctx.now).await?;
    tags::upsert(&mut tx, account, region, &group.group_id, "security-group", &input.tags, ctx.now).await?;
    tx.commit().await?;
    let mut x = Xml::return_true();
    x.text("groupId", &group.group_id);
    if !input.tags.is_empty() {
        let pairs: Vec<(String, String)> = input.tags.iter().map(|t| (t.key.clone(), t.value.clone())).collect();
        x.tag_set(&pairs);
    }
    x.text("securityGroupArn", &group.arn());
    Ok(x)
}

/// The caller's default VPC, where groups go (and are named) when no VPC is given.
async fn default_vpc_id(conn: &mut Conn, ctx: &Ctx<'_>) -> Result<String> {
    match vpcs::default_vpc(conn, ctx.scope.account, ctx.scope.region).await? {
        Some(vpc) => Ok(vpc.vpc_id),
        None => Err(ec2_err!(VPCIdNotSpecified, "No default VPC for this user")),
    }
}

pub struct DeleteSecurityGroupInput {
    pub group: GroupRef,
}

impl FromParams for DeleteSecurityGroupInput {
    fn from_params(p: &Params) -> Result<Self> {
        Ok(DeleteSecurityGroupInput { group: parse_group_ref(p, "GroupId", "GroupName")? })
    }
}

pub async fn delete_security_group(ctx: &Ctx<'_>, input: DeleteSecurityGroupInput) -> Result<Xml> {
    ctx.ensure_default_network().await?;
    let mut tx = ctx.app.store.write().await?;
    let group = own_group(ctx.scope, &mut tx, &input.group).await?;
    if group.is_default() {
        return Err(ec2_err!(
            CannotDelete,
            "the specified group: \"{}\" name: \"default\" cannot be deleted by a user",
            group.group_id
        ));
    }
    if store::group_in_use(&mut tx, &group.group_id).await? {
        return Err(ec2_err!(DependencyViolation, "resource {} has a dependent object", group.group_id));
    }
    ctx.check_dry_run()?;
    store::delete_group(&mut tx, &group).await?;
    tx.commit().await?;
    let mut x = Xml::return_true();
    x.text("groupId", &group.group_id);
    Ok(x)
}

pub struct DescribeSecurityGroupsInput {
    pub group_ids: Vec<String>,
    pub group_names: Vec<String>,
    pub filters: Vec<Filter>,
    pub page: Page,
}

impl FromParams for DescribeSecurityGroupsInput {
    fn from_params(p: &Params) -> Result<Self> {
        let group_ids = dedup(p.list("GroupId")?);
        ids::check_all(IdKind::SecurityGroup, &group_ids)?;
        let group_names = dedup(p.list("GroupName")?);
        let filters = parse_filters(p, "Filter")?;
        store::SECURITY_GROUP_FILTERS.validate(&filters)?;
        let explicit = !group_ids.is_empty() || !group_names.is_empty();
        let page = parse_page(p, explicit, "groupIds", 5, 1000)?;
        Ok(DescribeSecurityGroupsInput { group_ids, group_names, filters, page })
    }
}

pub async fn describe_security_groups(ctx: &Ctx<'_>, input: DescribeSecurityGroupsInput) -> Result<Xml> {
    ctx.ensure_default_network().await?;
    ctx.check_dry_run()?;
    let (account, region) = (ctx.scope.account, ctx.scope.region);
    let mut conn = ctx.app.store.read().await?;
    let default_vpc = if input.group_names.is_empty() {
        None
    } else {
        vpcs::default_vpc(&mut conn, account, region).await?.map(|v| v.vpc_id)
    };
    let query = store::GroupQuery {
        account,
        region,
        ids: &input.group_ids,
        names: &input.group_names,
        names_vpc: default_vpc.as_deref(),
        filters: &input.filters,
        page: &input.page,
    };
    let (groups, next) = store::describe_groups(&mut conn, &query).await?;
    if input.filters.is_empty() {
        if let Some(id) = input.group_ids.iter().find(|id| !groups.iter().any(|g| &g.group_id == *id)) {
            return Err(not_found(IdKind::SecurityGroup, id));
        }
        if let Some(name) = input.group_names.iter().find(|n| !groups.iter().any(|g| &g.group_name == *n)) {
            return Err(group_name_not_found(name, default_vpc.as_deref()));
        }
    }
    let mut x = Xml::new();
    x.list("securityGroupInfo", &groups, write_security_group);
    write_next_token(&mut x, next);
    Ok(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_needs_a_name_and_a_description() {
        let p = Params::from_pairs([("GroupName", "web")]);
        let err = CreateSecurityGroupInput::from_params(&p).err().unwrap();
        assert_eq!(err.code, "MissingParameter");
        assert_eq!(err.message, "The request must contain the parameter GroupDescription");
        let p = Params::from_pairs([("GroupName", "default"), ("GroupDescription", "d")]);
        assert_eq!(CreateSecurityGroupInput::from_params(&p).err().unwrap().code, "InvalidGroup.Reserved");
        let p = Params::from_pairs([("GroupName", "web"), ("GroupDescription", "d"), ("VpcId", "vpc-xyz")]);
        assert_eq!(CreateSecurityGroupInput::from_params(&p).err().unwrap().code, "InvalidVpcID.Malformed");
    }

    #[test]
    fn groups_are_named_by_id_or_name() {
        let p = Params::from_pairs([("GroupName", "web")]);
        assert!(matches!(parse_group_ref(&p, "GroupId", "GroupName").unwrap(), GroupRef::Name(n) if n == "web"));
        let err = parse_group_ref(&Params::default(), "GroupId", "GroupName").unwrap_err();
        assert_eq!(err.code, "MissingParameter");
        let p = Params::from_pairs([("GroupId", "web")]);
        assert_eq!(parse_group_ref(&p, "GroupId", "GroupName").unwrap_err().code, "InvalidGroupId.Malformed");
    }

    #[test]
    fn describe_pages_only_without_ids() {
        let p = Params::from_pairs([("GroupId.1", "sg-0123456789abcdef0"), ("MaxResults", "5")]);
        assert_eq!(DescribeSecurityGroupsInput::from_params(&p).err().unwrap().code, "InvalidParameterCombination");
        let p = Params::from_pairs([("Filter.1.Name", "ip-permission.bogus"), ("Filter.1.Value.1", "x")]);
        assert_eq!(DescribeSecurityGroupsInput::from_params(&p).err().unwrap().code, "InvalidParameterValue");
    }
}
