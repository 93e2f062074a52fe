//! CreateSubnet, DescribeSubnets, DeleteSubnet, ModifySubnetAttribute.

use super::{Ctx, FromParams};
use crate::domain::filter::Filter;
use crate::domain::ids::{self, IdKind};
use crate::domain::network::{cidr, Subnet};
use crate::domain::regions::{self, Zone};
use crate::domain::tags::{self as tag_rules, Tag};
use crate::ec2_err;
use crate::error::{Ec2Error, Result};
use crate::store::filters::Page;
use crate::store::network::{not_found, vpcs as store};
use crate::store::{tags, Conn};
use crate::wire::params::Params;
use crate::wire::query::{dedup, parse_filters, parse_page, parse_tag_specs, write_next_token};
use crate::wire::shapes::vpc::write_subnet;
use crate::wire::xml::Xml;

/// Subnets a VPC may have (EC2's default quota).
pub const MAX_SUBNETS_PER_VPC: usize = 200;

/// The zone asked for, by name or by id.
pub enum ZoneRef {
    Name(String),
    Id(String),
}

pub struct CreateSubnetInput {
    pub vpc_id: String,
    pub cidr_block: String,
    pub ipv6_cidr_block: Option<String>,
    pub zone: Option<ZoneRef>,
    pub tags: Vec<Tag>,
}

impl FromParams for CreateSubnetInput {
    fn from_params(p: &Params) -> Result<Self> {
        let vpc_id = p.required("VpcId")?;
        ids::check(IdKind::Vpc, vpc_id)?;
        if p.flag("Ipv6Native")? {
            return Err(ec2_err!(UnsupportedOperation, "IPv6-only subnets are not implemented by ec2lite."));
        }
        let cidr_block = p.required("CidrBlock")?;
        let zone = match (p.str("AvailabilityZone"), p.str("AvailabilityZoneId")) {
            (Some(_), Some(_)) => {
                return Err(ec2_err!(
                    InvalidParameterCombination,
                    "Only one of availabilityZone or availabilityZoneId may be specified."
                ))
            }
            (Some(name), None) => Some(ZoneRef::Name(name.to_string())),
            (None, Some(id)) => Some(ZoneRef::Id(id.to_string())),
            (None, None) => None,
        };
        let ipv6_cidr_block = p.str("Ipv6CidrBlock").map(str::to_string);
        if let Some(block) = &ipv6_cidr_block {
            if cidr::parse_ipv6(block).is_none_or(|net| net.prefix_len() != 64) {
                return Err(ec2_err!(InvalidSubnet_Range, "The IPv6 CIDR '{block}' is invalid."));
            }
        }
        Ok(CreateSubnetInput {
            vpc_id: vpc_id.to_string(),
            cidr_block: cidr_block.to_string(),
            ipv6_cidr_block,
            zone,
            tags: tag_rules::for_type(&parse_tag_specs(p)?, &["subnet"], "subnet")?,
        })
    }
}

/// The zone of the caller's region named by `asked`; the region's first when none is.
fn zone_for(region: &str, asked: Option<&ZoneRef>) -> Result<Zone> {
    let zones = regions::availability_zones(regions::find(region).expect("known region"));
    let found = match asked {
        None => zones.first().cloned(),
        Some(ZoneRef::Name(name)) => zones.iter().find(|z| &z.name == name).cloned(),
        Some(ZoneRef::Id(id)) => zones.iter().find(|z| &z.id == id).cloned(),
    };
    found.ok_or_else(|| {
        let (parameter, value) = match asked {
            Some(ZoneRef::Id(id)) => ("availabilityZoneId", id.as_str()),
            Some(ZoneRef::Name(name)) => ("availabilityZone", name.as_str()),
            None => ("availabilityZone", ""),
        };
        let names: Vec<&str> = zones.iter().map(|z| z.name.as_str()).collect();
        ec2_err!(
            InvalidParameterValue,
            "Value ({value}) for parameter {parameter} is invalid. Subnets can currently only be created in the \
             following availability zones: {}.",
            names.join(", ")
        )
    })
}

pub async fn create_subnet(ctx: &Ctx<'_>, input: CreateSubnetInput) -> Result<Xml> {
    ctx.ensure_default_network().await?;
    let (account, region) = (ctx.scope.account, ctx.scope.region);
    let zone = zone_for(region, input.zone.as_ref())?;
    let mut tx = ctx.app.store.write().await?;
    let vpc =
        store::find_vpc(&mut tx, account, region, &input.vpc_id).await?.ok_or_else(|| not_found(IdKind::Vpc, &input.vpc_id))?;
    let (ipv4_blocks, ipv6_blocks) = store::subnet_blocks(&mut tx, &vpc.vpc_id).await?;
    cidr::check_subnet_cidr(&input.cidr_block, &vpc.cidr_block, &ipv4_blocks)?;
    if let Some(block) = &input.ipv6_cidr_block {
        check_subnet_ipv6(block, vpc.ipv6_cidr_block.as_deref(), &ipv6_blocks)?;
    }
    if ipv4_blocks.len() >= MAX_SUBNETS_PER_VPC {
        return Err(ec2_err!(SubnetLimitExceeded, "The maximum number of subnets has been reached."));
    }
    ctx.check_dry_run()?;
    let subnet_id = ids::new_id(IdKind::Subnet);
    let mut subnet = Subnet {
        ipv6_association_id: input.ipv6_cidr_block.as_ref().map(|_| subnet_id.replace("subnet-", "subnet-cidr-assoc-")),
        subnet_id,
        owner_id: account.to_string(),
        region: region.to_string(),
        vpc_id: vpc.vpc_id.clone(),
        available_ip_address_count: cidr::usable_addresses(&input.cidr_block),
        cidr_block: input.cidr_block,
        ipv6_cidr_block: input.ipv6_cidr_block,
        availability_zone: zone.name,
        availability_zone_id: zone.id,
        hostname_type: "ip-name".to_string(),
        state: "available".to_string(),
        ..Default::default()
    };
    store::insert_subnet(&mut tx, &subnet, ctx.now).await?;
    tags::upsert(&mut tx, account, region, &subnet.subnet_id, "subnet", &input.tags, ctx.now).await?;
    tx.commit().await?;
    subnet.tags = input.tags.iter().map(|t| (t.key.clone(), t.value.clone())).collect();
    let mut x = Xml::new();
    x.open("subnet");
    write_subnet(&mut x, &subnet, "pending");
    x.close("subnet");
    Ok(x)
}

/// A subnet's IPv6 /64: inside the VPC's /56, overlapping no sibling's.
fn check_subnet_ipv6(block: &str, vpc_block: Option<&str>, siblings: &[String]) -> Result<()> {
    let net = cidr::parse_ipv6(block).expect("checked while parsing");
    let inside = vpc_block.and_then(cidr::parse_ipv6).is_some_and(|vpc| vpc.contains(&net));
    if !inside {
        return Err(ec2_err!(InvalidSubnet_Range, "The IPv6 CIDR '{block}' is invalid."));
    }
    if siblings.iter().filter_map(|s| cidr::parse_ipv6(s)).any(|other| other.contains(&net) || net.contains(&other)) {
        return Err(ec2_err!(InvalidSubnet_Conflict, "The CIDR '{block}' conflicts with another subnet"));
    }
    Ok(())
}

pub struct DescribeSubnetsInput {
    pub subnet_ids: Vec<String>,
    pub filters: Vec<Filter>,
    pub page: Page,
}

impl FromParams for DescribeSubnetsInput {
    fn from_params(p: &Params) -> Result<Self> {
        let subnet_ids = dedup(p.list("SubnetId")?);
        ids::check_all(IdKind::Subnet, &subnet_ids)?;
        let filters = parse_filters(p, "Filter")?;
        store::SUBNET_FILTERS.validate(&filters)?;
        let page = parse_page(p, !subnet_ids.is_empty(), "subnetIds", 5, 1000)?;
        Ok(DescribeSubnetsInput { subnet_ids, filters, page })
    }
}

pub async fn describe_subnets(ctx: &Ctx<'_>, input: DescribeSubnetsInput) -> Result<Xml> {
    ctx.ensure_default_network().await?;
    ctx.check_dry_run()?;
    let query = store::SubnetQuery {
        account: ctx.scope.account,
        region: ctx.scope.region,
        ids: &input.subnet_ids,
        filters: &input.filters,
        page: &input.page,
    };
    let (subnets, next) = store::describe_subnets(&mut *ctx.app.store.read().await?, &query).await?;
    if input.filters.is_empty() {
        if let Some(missing) = input.subnet_ids.iter().find(|id| !subnets.iter().any(|s| &s.subnet_id == *id)) {
            return Err(not_found(IdKind::Subnet, missing));
        }
    }
    let mut x = Xml::new();
    x.list("subnetSet", &subnets, |x, s| write_subnet(x, s, &s.state));
    write_next_token(&mut x, next);
    Ok(x)
}

pub struct DeleteSubnetInput {
    pub subnet_id: String,
}

impl FromParams for DeleteSubnetInput {
    fn from_params(p: &Params) -> Result<Self> {
        let subnet_id = p.required("SubnetId")?;
        ids::check(IdKind::Subnet, subnet_id)?;
        Ok(DeleteSubnetInput { subnet_id: subnet_id.to_string() })
    }
}

async fn owned_subnet(ctx: &Ctx<'_>, conn: &mut Conn, subnet_id: &str) -> Result<Subnet> {
    store::find_subnet(conn, ctx.scope.account, ctx.scope.region, subnet_id)
        .await?
        .ok_or_else(|| not_found(IdKind::Subnet, subnet_id))
}

pub async fn delete_subnet(ctx: &Ctx<'_>, input: DeleteSubnetInput) -> Result<Xml> {
    ctx.ensure_default_network().await?;
    let mut tx = ctx.app.store.write().await?;
    let subnet = owned_subnet(ctx, &mut tx, &input.subnet_id).await?;
    if store::subnet_in_use(&mut tx, &subnet.subnet_id).await? {
        return Err(ec2_err!(
            DependencyViolation,
            "The subnet '{}' has dependencies and cannot be deleted.",
            subnet.subnet_id
        ));
    }
    ctx.check_dry_run()?;
    store::delete_subnet(&mut tx, &subnet.subnet_id).await?;
    tx.commit().await?;
    Ok(Xml::return_true())
}

/// The one attribute ModifySubnetAttribute sets.
#[derive(Debug, PartialEq, Eq)]
pub enum SubnetAttribute {
    Flag { member: &'static str, column: &'static str, value: bool },
    HostnameType(String),
}

/// Boolean attributes: the member (`<Member>.Value`) and its column.
const SUBNET_FLAGS: &[(&str, &str)] = &[
    ("MapPublicIpOnLaunch", "map_public_ip_on_launch"),
    ("AssignIpv6AddressOnCreation", "assign_ipv6_address_on_creation"),
    ("EnableDns64", "enable_dns64"),
    ("EnableResourceNameDnsARecordOnLaunch", "dns_a_record"),
    ("EnableResourceNameDnsAAAARecordOnLaunch", "dns_aaaa_record"),
];

pub struct ModifySubnetAttributeInput {
    pub subnet_id: String,
    pub attribute: SubnetAttribute,
}

impl FromParams for ModifySubnetAttributeInput {
    fn from_params(p: &Params) -> Result<Self> {
        let DeleteSubnetInput { subnet_id } = DeleteSubnetInput::from_params(p)?;
        if p.has("MapCustomerOwnedIpOnLaunch") || p.has("EnableLniAtDeviceIndex") || p.has("DisableLniAtDeviceIndex") {
            return Err(ec2_err!(UnsupportedOperation, "Outpost subnet attributes are not implemented by ec2lite."));
        }
        let mut given = Vec::new();
        for (member, column) in SUBNET_FLAGS {
            if let Some(value) = p.bool(&format!("{member}.Value"))? {
                given.push(SubnetAttribute::Flag { member, column, value });
            }
        }
        if let Some(kind) = p.str("PrivateDnsHostnameTypeOnLaunch") {
            if !matches!(kind, "ip-name" | "resource-name") {
                return Err(Ec2Error::invalid_value("PrivateDnsHostnameTypeOnLaunch", kind));
            }
            given.push(SubnetAttribute::HostnameType(kind.to_string()));
        }
        if given.len() > 1 {
            return Err(ec2_err!(InvalidParameterCombination, "You can only modify one attribute at a time."));
        }
        let attribute =
            given.pop().ok_or_else(|| ec2_err!(InvalidParameterCombination, "No attributes specified."))?;
        Ok(ModifySubnetAttributeInput { subnet_id, attribute })
    }
}

pub async fn modify_subnet_attribute(ctx: &Ctx<'_>, input: ModifySubnetAttributeInput) -> Result<Xml> {
    ctx.ensure_default_network().await?;
    let mut tx = ctx.app.store.write().await?;
    let subnet = owned_subnet(ctx, &mut tx, &input.subnet_id).await?;
    ctx.check_dry_run()?;
    match input.attribute {
        SubnetAttribute::Flag { member: "AssignIpv6AddressOnCreation", value: true, .. }
            if subnet.ipv6_cidr_block.is_none() =>
        {
            return Err(ec2_err!(
                InvalidParameterValue,
                "Invalid value 'true' for assignIpv6AddressOnCreation. Cannot set assignIpv6AddressOnCreation to \
                 true unless the subnet ({}) has an IPv6 CIDR block associated with it.",
                subnet.subnet_id
            ));
        }
        SubnetAttribute::Flag { column, value, .. } => {
            store::set_subnet_attribute(&mut tx, &subnet.subnet_id, column, value).await?
        }
        SubnetAttribute::HostnameType(kind) => {
            store::set_subnet_attribute(&mut tx, &subnet.subnet_id, "hostname_type", kind).await?
        }
    }
    tx.commit().await?;
    Ok(Xml::return_true())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn subnet_filter_names_and_aliases_are_checked() {
        for name in ["default-for-az", "defaultForAz", "availabilityZone", "cidr", "tag-value"] {
            assert!(DescribeSubnetsInput::from_params(&params(&[("Filter.1.Name", name), ("Filter.1.Value.1", "x")]))
                .is_ok());
        }
        let p = params(&[("Filter.1.Name", "is-default"), ("Filter.1.Value.1", "true")]);
        assert_eq!(DescribeSubnetsInput::from_params(&p).err().unwrap().code, "InvalidParameterValue");
    }

    #[test]
    fn zones_are_found_by_name_or_id() {
        assert_eq!(zone_for("us-east-1", Some(&ZoneRef::Name("us-east-1b".into()))).unwrap().id, "use1-az2");
        assert_eq!(zone_for("us-east-1", Some(&ZoneRef::Id("use1-az2".into()))).unwrap().name, "us-east-1b");
        assert_eq!(zone_for("us-east-1", None).unwrap().name, "us-east-1a");
        let err = zone_for("us-east-1", Some(&ZoneRef::Name("us-west-2a".into()))).unwrap_err();
        assert!(err.message.starts_with("Value (us-west-2a) for parameter availabilityZone is invalid."));
    }

    #[test]
    fn one_subnet_attribute_at_a_time() {
        let subnet = ("SubnetId", "subnet-0123456789abcdef0");
        let input =
            ModifySubnetAttributeInput::from_params(&params(&[subnet, ("MapPublicIpOnLaunch.Value", "true")])).unwrap();
        assert_eq!(
            input.attribute,
            SubnetAttribute::Flag { member: "MapPublicIpOnLaunch", column: "map_public_ip_on_launch", value: true }
        );
        let both = params(&[subnet, ("MapPublicIpOnLaunch.Value", "true"), ("EnableDns64.Value", "true")]);
        assert_eq!(ModifySubnetAttributeInput::from_params(&both).err().unwrap().code, "InvalidParameterCombination");
        let bad = params(&[subnet, ("PrivateDnsHostnameTypeOnLaunch", "fqdn")]);
        assert_eq!(ModifySubnetAttributeInput::from_params(&bad).err().unwrap().code, "InvalidParameterValue");
    }

    #[test]
    fn subnet_ipv6_blocks_sit_in_the_vpc_block() {
        let vpc = Some("2600:1f18:12:3400::/56");
        assert!(check_subnet_ipv6("2600:1f18:12:3401::/64", vpc, &[]).is_ok());
        assert_eq!(check_subnet_ipv6("2600:1f18:12:3500::/64", vpc, &[]).unwrap_err().code, "InvalidSubnet.Range");
        assert_eq!(check_subnet_ipv6("2600:1f18:12:3401::/64", None, &[]).unwrap_err().code, "InvalidSubnet.Range");
        let taken = vec!["2600:1f18:12:3401::/64".to_string()];
        assert_eq!(check_subnet_ipv6("2600:1f18:12:3401::/64", vpc, &taken).unwrap_err().code, "InvalidSubnet.Conflict");
    }
}
