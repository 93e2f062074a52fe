//! CreateVpc, DescribeVpcs, DeleteVpc, ModifyVpcAttribute, DescribeVpcAttribute,
//! CreateDefaultVpc.

use super::{Ctx, FromParams};
use crate::domain::filter::Filter;
use crate::domain::ids::{self, IdKind};
use crate::domain::network::{cidr, Vpc, VpcAttribute};
use crate::domain::tags::{self as tag_rules, Tag};
use crate::ec2_err;
use crate::error::{Ec2Error, Result};
use crate::store::filters::Page;
use crate::store::network::{self as network_store, not_found, vpcs as store};
use crate::store::tags;
use crate::wire::params::Params;
use crate::wire::query::{dedup, parse_filters, parse_page, parse_tag_specs, write_next_token};
use crate::wire::shapes::vpc::{write_vpc, write_vpc_attribute};
use crate::wire::xml::Xml;

/// VPCs an account may have in a region (EC2's default quota).
pub const MAX_VPCS_PER_REGION: i64 = 5;

pub struct CreateVpcInput {
    pub cidr_block: String,
    pub amazon_ipv6: bool,
    pub instance_tenancy: String,
    pub tags: Vec<Tag>,
}

impl FromParams for CreateVpcInput {
    fn from_params(p: &Params) -> Result<Self> {
        let Some(cidr_block) = p.str("CidrBlock") else {
            if p.has("Ipv4IpamPoolId") {
                return Err(ec2_err!(UnsupportedOperation, "IPAM pools are not implemented by ec2lite."));
            }
            return Err(ec2_err!(MissingParameter, "Either 'cidrBlock' or 'ipv4IpamPoolId' should be provided."));
        };
        cidr::check_vpc_cidr(cidr_block)?;
        if p.has("Ipv6Pool") || p.has("Ipv6CidrBlock") || p.has("Ipv6IpamPoolId") {
            return Err(ec2_err!(UnsupportedOperation, "Only Amazon-provided IPv6 blocks are implemented by ec2lite."));
        }
        let instance_tenancy = match p.str("InstanceTenancy").unwrap_or("default") {
            tenancy @ ("default" | "dedicated") => tenancy.to_string(),
            other => return Err(Ec2Error::invalid_value("instanceTenancy", other)),
        };
        Ok(CreateVpcInput {
            cidr_block: cidr_block.to_string(),
            amazon_ipv6: p.bool("AmazonProvidedIpv6CidrBlock")?.unwrap_or(false),
            instance_tenancy,
            tags: tag_rules::for_type(&parse_tag_specs(p)?, &["vpc"], "vpc")?,
        })
    }
}

pub async fn create_vpc(ctx: &Ctx<'_>, input: CreateVpcInput) -> Result<Xml> {
    ctx.ensure_default_network().await?;
    let (account, region) = (ctx.scope.account, ctx.scope.region);
    let mut tx = ctx.app.store.write().await?;
    if store::count_vpcs(&mut tx, account, region).await? >= MAX_VPCS_PER_REGION {
        return Err(ec2_err!(VpcLimitExceeded, "The maximum number of VPCs has been reached."));
    }
    ctx.check_dry_run()?;
    let mut vpc = Vpc::new(account, region, &input.cidr_block, &input.instance_tenancy);
    if input.amazon_ipv6 {
        vpc = vpc.with_amazon_ipv6();
    }
    store::insert_vpc_with_companions(&mut tx, &vpc, ctx.now).await?;
    tags::upsert(&mut tx, account, region, &vpc.vpc_id, "vpc", &input.tags, ctx.now).await?;
    tx.commit().await?;
    vpc.tags = input.tags.iter().map(|t| (t.key.clone(), t.value.clone())).collect();
    let mut x = Xml::new();
    x.open("vpc");
    write_vpc(&mut x, &vpc, "pending");
    x.close("vpc");
    Ok(x)
}

pub struct DescribeVpcsInput {
    pub vpc_ids: Vec<String>,
    pub filters: Vec<Filter>,
    pub page: Page,
}

impl FromParams for DescribeVpcsInput {
    fn from_params(p: &Params) -> Result<Self> {
        let vpc_ids = dedup(p.list("VpcId")?);
        ids::check_all(IdKind::Vpc, &vpc_ids)?;
        let filters = parse_filters(p, "Filter")?;
        store::VPC_FILTERS.validate(&filters)?;
        let page = parse_page(p, !vpc_ids.is_empty(), "vpcIds", 5, 1000)?;
        Ok(DescribeVpcsInput { vpc_ids, filters, page })
    }
}

pub async fn describe_vpcs(ctx: &Ctx<'_>, input: DescribeVpcsInput) -> Result<Xml> {
    ctx.ensure_default_network().await?;
    ctx.check_dry_run()?;
    let query = store::VpcQuery {
        account: ctx.scope.account,
        region: ctx.scope.region,
        ids: &input.vpc_ids,
        filters: &input.filters,
        page: &input.page,
    };
    let (vpcs, next) = store::describe_vpcs(&mut *ctx.app.store.read().await?, &query).await?;
    if let Some(missing) = input.vpc_ids.iter().find(|id| !vpcs.iter().any(|v| &v.vpc_id == *id)) {
        if input.filters.is_empty() {
            return Err(not_found(IdKind::Vpc, missing));
        }
    }
    let mut x = Xml::new();
    x.list("vpcSet", &vpcs, |x, v| write_vpc(x, v, &v.state));
    write_next_token(&mut x, next);
    Ok(x)
}

/// One VPC of the caller, by id.
pub struct VpcIdInput {
    pub vpc_id: String,
}

impl FromParams for VpcIdInput {
    fn from_params(p: &Params) -> Result<Self> {
        let vpc_id = p.required("VpcId")?;
        ids::check(IdKind::Vpc, vpc_id)?;
        Ok(VpcIdInput { vpc_id: vpc_id.to_string() })
    }
}

pub type DeleteVpcInput = VpcIdInput;

/// Deletes a VPC with nothing left in it, and what it was created with.
pub async fn delete_vpc(ctx: &Ctx<'_>, input: DeleteVpcInput) -> Result<Xml> {
    ctx.ensure_default_network().await?;
    let mut tx = ctx.app.store.write().await?;
    let vpc = owned_vpc(ctx, &mut tx, &input.vpc_id).await?;
    if store::vpc_has_dependencies(&mut tx, &vpc).await? {
        return Err(ec2_err!(
            DependencyViolation,
            "The vpc '{}' has dependencies and cannot be deleted.",
            vpc.vpc_id
        ));
    }
    ctx.check_dry_run()?;
    store::delete_vpc(&mut tx, &vpc).await?;
    tx.commit().await?;
    Ok(Xml::return_true())
}

async fn owned_vpc(ctx: &Ctx<'_>, conn: &mut crate::store::Conn, vpc_id: &str) -> Result<Vpc> {
    store::find_vpc(conn, ctx.scope.account, ctx.scope.region, vpc_id)
        .await?
        .ok_or_else(|| not_found(IdKind::Vpc, vpc_id))
}

/// Exactly one attribute, as `<Member>.Value`.
pub struct ModifyVpcAttributeInput {
    pub vpc_id: String,
    pub attribute: VpcAttribute,
    pub value: bool,
}

impl FromParams for ModifyVpcAttributeInput {
    fn from_params(p: &Params) -> Result<Self> {
        let VpcIdInput { vpc_id } = VpcIdInput::from_params(p)?;
        let mut given = Vec::new();
        for attribute in VpcAttribute::ALL {
            let member = format!("{}.Value", attribute.member());
            if let Some(value) = p.bool(&member)? {
                given.push((attribute, value));
            }
        }
        match given[..] {
            [(attribute, value)] => Ok(ModifyVpcAttributeInput { vpc_id, attribute, value }),
            [] => Err(ec2_err!(InvalidParameterCombination, "No attributes specified.")),
            _ => Err(ec2_err!(InvalidParameterCombination, "Fields for multiple attribute types specified")),
        }
    }
}

pub async fn modify_vpc_attribute(ctx: &Ctx<'_>, input: ModifyVpcAttributeInput) -> Result<Xml> {
    ctx.ensure_default_network().await?;
    let mut tx = ctx.app.store.write().await?;
    let vpc = owned_vpc(ctx, &mut tx, &input.vpc_id).await?;
    let hostnames_without_dns = match input.attribute {
        VpcAttribute::EnableDnsHostnames => input.value && !vpc.enable_dns_support,
        VpcAttribute::EnableDnsSupport => !input.value && vpc.enable_dns_hostnames,
        VpcAttribute::EnableNetworkAddressUsageMetrics => false,
    };
    if hostnames_without_dns {
        return Err(ec2_err!(
            InvalidParameterValue,
            "Cannot enable DNS hostnames when DNS resolution is disabled for the VPC."
        ));
    }
    ctx.check_dry_run()?;
    store::set_vpc_attribute(&mut tx, &vpc.vpc_id, input.attribute, input.value).await?;
    tx.commit().await?;
    Ok(Xml::return_true())
}

pub struct DescribeVpcAttributeInput {
    pub vpc_id: String,
    pub attribute: VpcAttribute,
}

impl FromParams for DescribeVpcAttributeInput {
    fn from_params(p: &Params) -> Result<Self> {
        let VpcIdInput { vpc_id } = VpcIdInput::from_params(p)?;
        let name = p.required("Attribute")?;
        let attribute = VpcAttribute::from_name(name).ok_or_else(|| {
            ec2_err!(InvalidParameterValue, "Value ({name}) for parameter attribute is invalid. Unknown attribute.")
        })?;
        Ok(DescribeVpcAttributeInput { vpc_id, attribute })
    }
}

pub async fn describe_vpc_attribute(ctx: &Ctx<'_>, input: DescribeVpcAttributeInput) -> Result<Xml> {
    ctx.ensure_default_network().await?;
    ctx.check_dry_run()?;
    let vpc = owned_vpc(ctx, &mut *ctx.app.store.read().await?, &input.vpc_id).await?;
    let mut x = Xml::new();
    write_vpc_attribute(&mut x, &vpc, input.attribute);
    Ok(x)
}

pub struct CreateDefaultVpcInput;

impl FromParams for CreateDefaultVpcInput {
    fn from_params(_: &Params) -> Result<Self> {
        Ok(CreateDefaultVpcInput)
    }
}

/// A new default VPC (with new ids) once the scope's default VPC was deleted.
pub async fn create_default_vpc(ctx: &Ctx<'_>, _: CreateDefaultVpcInput) -> Result<Xml> {
    ctx.ensure_default_network().await?;
    let (account, region) = (ctx.scope.account, ctx.scope.region);
    let mut tx = ctx.app.store.write().await?;
    if store::default_vpc(&mut tx, account, region).await?.is_some() {
        return Err(ec2_err!(DefaultVpcAlreadyExists, "A Default VPC already exists for this account in this region."));
    }
    if store::count_vpcs(&mut tx, account, region).await? >= MAX_VPCS_PER_REGION {
        return Err(ec2_err!(VpcLimitExceeded, "The maximum number of VPCs has been reached."));
    }
    ctx.check_dry_run()?;
    let vpc = Vpc::new_default(account, region, ids::new_id(IdKind::Vpc));
    network_store::insert_default_network(&mut tx, &vpc, ctx.now).await?;
    tx.commit().await?;
    let mut x = Xml::new();
    x.open("vpc");
    write_vpc(&mut x, &vpc, "pending");
    x.close("vpc");
    Ok(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vpc_ids_and_filters_are_read() {
        let p = Params::from_pairs([
            ("VpcId.1", "vpc-0123456789abcdef0"),
            ("Filter.1.Name", "isDefault"),
            ("Filter.1.Value.1", "true"),
        ]);
        let input = DescribeVpcsInput::from_params(&p).unwrap();
        assert_eq!(input.vpc_ids, ["vpc-0123456789abcdef0"]);
        assert_eq!(input.filters[0].name, "isDefault");
        let p = Params::from_pairs([("Filter.1.Name", "tenancy"), ("Filter.1.Value.1", "default")]);
        assert_eq!(DescribeVpcsInput::from_params(&p).err().unwrap().message, "The filter 'tenancy' is invalid");
        let p = Params::from_pairs([("VpcId.1", "vpc-xyz")]);
        assert_eq!(DescribeVpcsInput::from_params(&p).err().unwrap().code, "InvalidVpcID.Malformed");
    }

    #[test]
    fn create_vpc_checks_its_block_and_tenancy() {
        let create = |pairs: &[(&str, &str)]| CreateVpcInput::from_params(&Params::from_pairs(pairs.iter().copied()));
        assert_eq!(create(&[("CidrBlock", "10.0.0.0/8")]).err().unwrap().code, "InvalidVpc.Range");
        assert_eq!(create(&[]).err().unwrap().code, "MissingParameter");
        let err = create(&[("CidrBlock", "10.0.0.0/16"), ("InstanceTenancy", "host")]).err().unwrap();
        assert_eq!(err.code, "InvalidParameterValue");
        let input = create(&[("CidrBlock", "10.0.0.0/16"), ("AmazonProvidedIpv6CidrBlock", "true")]).unwrap();
        assert!(input.amazon_ipv6);
        assert_eq!(input.instance_tenancy, "default");
    }

    #[test]
    fn one_attribute_is_modified_at_a_time() {
        let modify = |pairs: &[(&str, &str)]| {
            ModifyVpcAttributeInput::from_params(&Params::from_pairs(pairs.iter().copied()))
        };
        let vpc = ("VpcId", "vpc-0123456789abcdef0");
        let input = modify(&[vpc, ("EnableDnsHostnames.Value", "true")]).unwrap();
        assert_eq!((input.attribute, input.value), (VpcAttribute::EnableDnsHostnames, true));
        let both = modify(&[vpc, ("EnableDnsHostnames.Value", "true"), ("EnableDnsSupport.Value", "true")]);
        assert_eq!(both.err().unwrap().code, "InvalidParameterCombination");
        assert_eq!(modify(&[vpc]).err().unwrap().code, "InvalidParameterCombination");
    }
}
