//! AllocateAddress, AssociateAddress, DisassociateAddress, ReleaseAddress,
//! DescribeAddresses, DescribeAddressesAttribute: Elastic IPs.
//!
//! An address is associated with one private address of a network interface (an
//! instance's primary one when AssociateAddress names the instance). While it is on an
//! instance's primary interface it is that instance's public address; when it leaves,
//! the instance gets a new address of Amazon's if its subnet maps public addresses on
//! launch, and none otherwise.

use super::{Ctx, FromParams};
use crate::access::own_instance;
use crate::domain::filter::Filter;
use crate::domain::ids::{self, IdKind};
use crate::domain::network::address::{
    self as rules, new_association_id, Address, AddressAssociation, AMAZON_POOL, MAX_ADDRESSES_PER_REGION,
};
use crate::domain::network::random_public_ip as amazon_public_ip;
use crate::domain::tags::{self as tag_rules, Tag};
use crate::ec2_err;
use crate::error::{Ec2Error, Result};
use crate::store::filters::Page;
use crate::store::instances as instance_store;
use crate::store::network::addresses::{self as store, AddressKey};
use crate::store::network::{interfaces, not_found, routing};
use crate::store::{tags, Conn};
use crate::wire::params::Params;
use crate::wire::query::{dedup, parse_filters, parse_page, parse_tag_specs, write_next_token};
use crate::wire::shapes::address::{write_address, write_address_attribute, write_allocation};
use crate::wire::xml::Xml;

/// Attempts at drawing a public address nobody holds before giving up.
const DRAWS: usize = 32;

// AllocateAddress ------------------------------------------------------------------------

pub struct AllocateAddressInput {
    /// A released address to recover.
    pub address: Option<String>,
    pub network_border_group: Option<String>,
    pub tags: Vec<Tag>,
}

impl FromParams for AllocateAddressInput {
    fn from_params(p: &Params) -> Result<Self> {
        // EC2-Classic is gone: `standard` is accepted and allocates a VPC address.
        if let Some(domain) = p.str("Domain").filter(|d| !matches!(*d, "vpc" | "standard")) {
            return Err(Ec2Error::invalid_value("domain", domain));
        }
        for pool in ["CustomerOwnedIpv4Pool", "IpamPoolId"] {
            if p.has(pool) {
                return Err(ec2_err!(UnsupportedOperation, "{pool}: only Amazon's pool is implemented by ec2lite."));
            }
        }
        if let Some(pool) = p.str("PublicIpv4Pool").filter(|pool| *pool != AMAZON_POOL) {
            return Err(ec2_err!(
                UnsupportedOperation,
                "PublicIpv4Pool {pool}: only Amazon's pool ('{AMAZON_POOL}') is implemented by ec2lite."
            ));
        }
        let address = p.str("Address").map(str::to_string);
        if let Some(ip) = &address {
            rules::check_ipv4("Address", ip)?;
        }
        Ok(AllocateAddressInput {
            address,
            network_border_group: p.str("NetworkBorderGroup").map(str::to_string),
            tags: tag_rules::for_type(&parse_tag_specs(p)?, &["elastic-ip"], "elastic-ip")?,
        })
    }
}

pub async fn allocate_address(ctx: &Ctx<'_>, input: AllocateAddressInput) -> Result<Xml> {
    ctx.ensure_default_network().await?;
    let (account, region) = (ctx.scope.account, ctx.scope.region);
    check_border_group(input.network_border_group.as_deref(), region)?;
    let mut tx = ctx.app.store.write().await?;
    if store::count_addresses(&mut tx, account, region).await? >= MAX_ADDRESSES_PER_REGION {
        return Err(ec2_err!(AddressLimitExceeded, "The maximum number of addresses has been reached."));
    }
    ctx.check_dry_run()?;
    let mut address = match &input.address {
        Some(ip) => recover(ctx, &mut tx, ip).await?,
        None => draw(ctx, &mut tx).await?,
    };
    tags::upsert(&mut tx, account, region, &address.allocation_id, "elastic-ip", &input.tags, ctx.now).await?;
    tx.commit().await?;
    address.tags = input.tags.iter().map(|t| (t.key.clone(), t.value.clone())).collect();
    let mut x = Xml::new();
    write_allocation(&mut x, &address);
    Ok(x)
}

/// A region advertises its addresses from its own border group (local zones' groups
/// need an opt-in ec2lite does not offer).
fn check_border_group(group: Option<&str>, region: &str) -> Result<()> {
    match group {
        Some(group) if group != region => Err(Ec2Error::invalid_value("NetworkBorderGroup", group)),
        _ => Ok(()),
    }
}

/// A new address from Amazon's pool, held by nobody.
async fn draw(ctx: &Ctx<'_>, conn: &mut Conn) -> Result<Address> {
    for _ in 0..DRAWS {
        let address = Address::new(ctx.scope.account, ctx.scope.region, rules::random_public_ip());
        if !store::held_by_instance(conn, &address.public_ip).await?
            && store::insert_address(conn, &address, ctx.now).await?
        {
            return Ok(address);
        }
    }
    tracing::error!("no free public address after {DRAWS} draws");
    Err(Ec2Error::internal())
}

/// The address asked for, if nobody holds it now (it was released, or never allocated).
async fn recover(ctx: &Ctx<'_>, conn: &mut Conn, ip: &str) -> Result<Address> {
    let address = Address::new(ctx.scope.account, ctx.scope.region, ip.to_string());
    if store::held_by_instance(conn, ip).await? || !store::insert_address(conn, &address, ctx.now).await? {
        return Err(address_not_found(ip));
    }
    Ok(address)
}

fn address_not_found(ip: &str) -> Ec2Error {
    ec2_err!(InvalidAddress_NotFound, "Address '{ip}' not found.")
}

// Finding an address ---------------------------------------------------------------------

/// An address named by its allocation id or (deprecated, VPC addresses) its public IP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddressRef {
    Allocation(String),
    PublicIp(String),
}

impl AddressRef {
    /// Exactly one of `AllocationId` and `PublicIp`.
    fn from_params(p: &Params) -> Result<Self> {
        match (p.str("AllocationId"), p.str("PublicIp")) {
            (Some(_), Some(_)) => Err(ec2_err!(
                InvalidParameterCombination,
                "You may specify public IP or allocation id, but not both in the same call"
            )),
            (Some(id), None) => {
                ids::check(IdKind::ElasticIp, id)?;
                Ok(AddressRef::Allocation(id.to_string()))
            }
            (None, Some(ip)) => {
                rules::check_ipv4("PublicIp", ip)?;
                Ok(AddressRef::PublicIp(ip.to_string()))
            }
            (None, None) => Err(ec2_err!(MissingParameter, "Either public IP or allocation id must be specified")),
        }
    }
}

/// One of the caller's addresses; another account's is not found.
async fn owned_address(ctx: &Ctx<'_>, conn: &mut Conn, address: &AddressRef) -> Result<Address> {
    let key = match address {
        AddressRef::Allocation(id) => AddressKey::Allocation(id),
        AddressRef::PublicIp(ip) => AddressKey::PublicIp(ip),
    };
    store::find_address(conn, ctx.scope.account, ctx.scope.region, key).await?.ok_or_else(|| match address {
        AddressRef::Allocation(id) => not_found(IdKind::ElasticIp, id),
        AddressRef::PublicIp(ip) => address_not_found(ip),
    })
}

/// The address leaves its interface. An instance whose primary interface it was on
/// falls back to an address of Amazon's if its subnet gives them, else to none.
async fn leave(conn: &mut Conn, allocation_id: &str, association: &AddressAssociation) -> Result<()> {
    store::disassociate(conn, allocation_id).await?;
    if let Some(instance_id) = association.primary_of() {
        let fallback = instance_store::subnet_maps_public_ip(conn, instance_id).await?.then(amazon_public_ip);
        instance_store::set_public_ip(conn, instance_id, fallback.as_deref()).await?;
    }
    Ok(())
}

// AssociateAddress -----------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssociationTarget {
    /// The instance's primary interface.
    Instance(String),
    Interface(String),
}

pub struct AssociateAddressInput {
    pub address: AddressRef,
    pub target: AssociationTarget,
    /// The interface's primary private address when not given.
    pub private_ip: Option<String>,
    pub allow_reassociation: bool,
}

impl FromParams for AssociateAddressInput {
    fn from_params(p: &Params) -> Result<Self> {
        let address = AddressRef::from_params(p)?;
        let target = match (p.str("InstanceId"), p.str("NetworkInterfaceId")) {
            (Some(_), Some(_)) => {
                return Err(ec2_err!(
                    InvalidParameterCombination,
                    "You may specify instance ID or network interface ID, but not both in the same call"
                ))
            }
            (Some(id), None) => {
                ids::check(IdKind::Instance, id)?;
                AssociationTarget::Instance(id.to_string())
            }
            (None, Some(id)) => {
                ids::check(IdKind::NetworkInterface, id)?;
                AssociationTarget::Interface(id.to_string())
            }
            (None, None) => {
                return Err(ec2_err!(MissingParameter, "Either instance ID or network interface ID must be specified"))
            }
        };
        let private_ip = p.str("PrivateIpAddress").map(str::to_string);
        if let Some(ip) = &private_ip {
            rules::check_ipv4("PrivateIpAddress", ip)?;
        }
        Ok(AssociateAddressInput { address, target, private_ip, allow_reassociation: p.flag("AllowReassociation")? })
    }
}

pub async fn associate_address(ctx: &Ctx<'_>, input: AssociateAddressInput) -> Result<Xml> {
    ctx.ensure_default_network().await?;
    let (account, region) = (ctx.scope.account, ctx.scope.region);
    let mut tx = ctx.app.store.write().await?;
    let address = owned_address(ctx, &mut tx, &input.address).await?;
    let target = association_target(ctx, &mut tx, &input).await?;
    if let Some(current) = &address.association {
        if current.is_on(&target.network_interface_id, &target.private_ip) {
            // Associating again where it already is changes nothing.
            ctx.check_dry_run()?;
            return Ok(association_xml(&current.association_id));
        }
        if !input.allow_reassociation {
            return Err(ec2_err!(
                Resource_AlreadyAssociated,
                "resource {} is already associated with associate-id {}",
                address.allocation_id,
                current.association_id
            ));
        }
    }
    let occupant = store::find_address(
        &mut tx,
        account,
        region,
        AddressKey::Interface(&target.network_interface_id, &target.private_ip),
    )
    .await?;
    if let (Some(other), false) = (&occupant, input.allow_reassociation) {
        return Err(ec2_err!(
            Resource_AlreadyAssociated,
            "resource {} and {} is already associated with public address {}",
            target.network_interface_id,
            target.private_ip,
            other.public_ip
        ));
    }
    ctx.check_dry_run()?;
    if let Some(current) = &address.association {
        leave(&mut tx, &address.allocation_id, current).await?;
    }
    if let Some(other) = occupant {
        // Replaced in place: the instance's public address becomes the new one below.
        store::disassociate(&mut tx, &other.allocation_id).await?;
    }
    store::associate(&mut tx, &address.allocation_id, &target).await?;
    if let Some(instance_id) = target.primary_of() {
        instance_store::set_public_ip(&mut tx, instance_id, Some(&address.public_ip)).await?;
    }
    tx.commit().await?;
    Ok(association_xml(&target.association_id))
}

fn association_xml(association_id: &str) -> Xml {
    let mut x = Xml::return_true();
    x.text("associationId", association_id);
    x
}

/// Where the address is to go: one of the caller's interfaces (an instance's primary one)
/// that is not on an instance going away, one of its private addresses, in a VPC with an
/// internet gateway. Returned as the association it would become.
async fn association_target(
    ctx: &Ctx<'_>,
    conn: &mut Conn,
    input: &AssociateAddressInput,
) -> Result<AddressAssociation> {
    let (account, region) = (ctx.scope.account, ctx.scope.region);
    let interface_id = match &input.target {
        AssociationTarget::Instance(instance_id) => {
            let instance = own_instance(ctx.scope, conn, instance_id).await?.settled(ctx.now);
            rules::check_instance_state(instance_id, instance.state)?;
            let primary = instance.interfaces.iter().find(|n| n.device_index == 0);
            primary.map(|n| n.network_interface_id.clone()).ok_or_else(|| {
                ec2_err!(
                    IncorrectInstanceState,
                    "The instance '{instance_id}' has no network interface to associate with."
                )
            })?
        }
        AssociationTarget::Interface(interface_id) => interface_id.clone(),
    };
    let interface = interfaces::find_interface(conn, account, region, &interface_id)
        .await?
        .ok_or_else(|| not_found(IdKind::NetworkInterface, &interface_id))?;
    if let Some(attachment) = &interface.attachment {
        if let Some(instance) = instance_store::find_owned(conn, account, region, &attachment.instance_id).await? {
            rules::check_attached_instance_state(&interface_id, instance.settled(ctx.now).state)?;
        }
    }
    let private_ip = input.private_ip.clone().unwrap_or_else(|| interface.private_ip.clone());
    if private_ip != interface.private_ip {
        return Err(ec2_err!(
            InvalidParameterValue,
            "The private IP address {private_ip} is not assigned to network interface {interface_id}"
        ));
    }
    if routing::gateway_of_vpc(conn, &interface.vpc_id).await?.is_none() {
        return Err(ec2_err!(
            Gateway_NotAttached,
            "Network {} is not attached to any internet gateway",
            interface.vpc_id
        ));
    }
    Ok(AddressAssociation {
        association_id: new_association_id(),
        network_interface_id: interface.network_interface_id,
        network_interface_owner_id: interface.owner_id,
        private_ip,
        instance: interface.attachment.map(|a| (a.instance_id, a.device_index)),
    })
}

// DisassociateAddress --------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DisassociateAddressInput {
    Association(String),
    /// Only EC2-Classic addresses were disassociated by public IP: refused for VPC ones.
    PublicIp(String),
}

impl FromParams for DisassociateAddressInput {
    fn from_params(p: &Params) -> Result<Self> {
        match (p.str("AssociationId"), p.str("PublicIp")) {
            (Some(_), Some(_)) => Err(ec2_err!(
                InvalidParameterCombination,
                "You may specify public IP or association id, but not both in the same call"
            )),
            (Some(id), None) => {
                rules::check_association_id(id)?;
                Ok(DisassociateAddressInput::Association(id.to_string()))
            }
            (None, Some(ip)) => {
                rules::check_ipv4("PublicIp", ip)?;
                Ok(DisassociateAddressInput::PublicIp(ip.to_string()))
            }
            (None, None) => Err(ec2_err!(MissingParameter, "Either public IP or association id must be specified")),
        }
    }
}

pub async fn disassociate_address(ctx: &Ctx<'_>, input: DisassociateAddressInput) -> Result<Xml> {
    ctx.ensure_default_network().await?;
    let (account, region) = (ctx.scope.account, ctx.scope.region);
    let mut tx = ctx.app.store.write().await?;
    let association_id = match input {
        DisassociateAddressInput::Association(id) => id,
        DisassociateAddressInput::PublicIp(ip) => {
            owned_address(ctx, &mut tx, &AddressRef::PublicIp(ip)).await?;
            return Err(ec2_err!(
                InvalidParameterValue,
                "You must specify an association id when unmapping an address from a VPC instance"
            ));
        }
    };
    let address = store::find_address(&mut tx, account, region, AddressKey::Association(&association_id)).await?;
    let Some((address, association)) = address.and_then(|a| a.association.clone().map(|assoc| (a, assoc))) else {
        return Err(ec2_err!(InvalidAssociationID_NotFound, "The association ID '{association_id}' does not exist"));
    };
    ctx.check_dry_run()?;
    leave(&mut tx, &address.allocation_id, &association).await?;
    tx.commit().await?;
    Ok(Xml::return_true())
}

// ReleaseAddress -------------------------------------------------------------------------

pub struct ReleaseAddressInput {
    pub address: AddressRef,
    pub network_border_group: Option<String>,
}

impl FromParams for ReleaseAddressInput {
    fn from_params(p: &Params) -> Result<Self> {
        Ok(ReleaseAddressInput {
            address: AddressRef::from_params(p)?,
            network_border_group: p.str("NetworkBorderGroup").map(str::to_string),
        })
    }
}

pub async fn release_address(ctx: &Ctx<'_>, input: ReleaseAddressInput) -> Result<Xml> {
    ctx.ensure_default_network().await?;
    let mut tx = ctx.app.store.write().await?;
    let address = owned_address(ctx, &mut tx, &input.address).await?;
    if matches!(input.address, AddressRef::PublicIp(_)) {
        return Err(ec2_err!(
            InvalidParameterValue,
            "You must specify an allocation id when releasing a VPC elastic IP address"
        ));
    }
    if input.network_border_group.as_ref().is_some_and(|group| *group != address.network_border_group) {
        return Err(address_not_found(&address.public_ip));
    }
    if address.association.is_some() {
        return Err(ec2_err!(InvalidIPAddress_InUse, "Address {} is in use.", address.public_ip));
    }
    ctx.check_dry_run()?;
    store::delete_address(&mut tx, &address.allocation_id).await?;
    tx.commit().await?;
    Ok(Xml::return_true())
}

// DescribeAddresses ----------------------------------------------------------------------

pub struct DescribeAddressesInput {
    pub allocation_ids: Vec<String>,
    pub public_ips: Vec<String>,
    pub filters: Vec<Filter>,
}

impl FromParams for DescribeAddressesInput {
    fn from_params(p: &Params) -> Result<Self> {
        let allocation_ids = dedup(p.list("AllocationId")?);
        ids::check_all(IdKind::ElasticIp, &allocation_ids)?;
        let public_ips = dedup(p.list("PublicIp")?);
        public_ips.iter().try_for_each(|ip| rules::check_ipv4("PublicIp", ip))?;
        let filters = parse_filters(p, "Filter")?;
        store::ADDRESS_FILTERS.validate(&filters)?;
        Ok(DescribeAddressesInput { allocation_ids, public_ips, filters })
    }
}

pub async fn describe_addresses(ctx: &Ctx<'_>, input: DescribeAddressesInput) -> Result<Xml> {
    ctx.ensure_default_network().await?;
    ctx.check_dry_run()?;
    let query = store::AddressQuery {
        account: ctx.scope.account,
        region: ctx.scope.region,
        allocation_ids: &input.allocation_ids,
        public_ips: &input.public_ips,
        filters: &input.filters,
        page: &Page::default(),
    };
    let (addresses, _) = store::describe_addresses(&mut *ctx.app.store.read().await?, &query).await?;
    if input.filters.is_empty() {
        check_all_found(&addresses, &input.allocation_ids)?;
        if let Some(missing) = input.public_ips.iter().find(|ip| !addresses.iter().any(|a| &a.public_ip == *ip)) {
            return Err(address_not_found(missing));
        }
    }
    let mut x = Xml::new();
    x.list("addressesSet", &addresses, write_address);
    Ok(x)
}

/// Refuses the first allocation id asked for that is not among `found`.
fn check_all_found(found: &[Address], allocation_ids: &[String]) -> Result<()> {
    match allocation_ids.iter().find(|id| !found.iter().any(|a| &a.allocation_id == *id)) {
        Some(missing) => Err(not_found(IdKind::ElasticIp, missing)),
        None => Ok(()),
    }
}

// DescribeAddressesAttribute -------------------------------------------------------------

/// The one attribute of an address: its reverse DNS record (`domain-name`), which
/// Terraform reads for every `aws_eip`. ec2lite sets none (no ModifyAddressAttribute).
pub struct DescribeAddressesAttributeInput {
    pub allocation_ids: Vec<String>,
    pub page: Page,
}

impl FromParams for DescribeAddressesAttributeInput {
    fn from_params(p: &Params) -> Result<Self> {
        let allocation_ids = dedup(p.list("AllocationId")?);
        ids::check_all(IdKind::ElasticIp, &allocation_ids)?;
        match p.required("Attribute")? {
            "domain-name" => {}
            other => {
                return Err(ec2_err!(InvalidParameterValue, "Value ({other}) for parameter attribute is invalid."))
            }
        }
        let page = parse_page(p, !allocation_ids.is_empty(), "allocationIds", 1, 1000)?;
        Ok(DescribeAddressesAttributeInput { allocation_ids, page })
    }
}

pub async fn describe_addresses_attribute(ctx: &Ctx<'_>, input: DescribeAddressesAttributeInput) -> Result<Xml> {
    ctx.ensure_default_network().await?;
    ctx.check_dry_run()?;
    let query = store::AddressQuery {
        account: ctx.scope.account,
        region: ctx.scope.region,
        allocation_ids: &input.allocation_ids,
        public_ips: &[],
        filters: &[],
        page: &input.page,
    };
    let (addresses, next) = store::describe_addresses(&mut *ctx.app.store.read().await?, &query).await?;
    check_all_found(&addresses, &input.allocation_ids)?;
    let mut x = Xml::new();
    x.list("addressSet", &addresses, write_address_attribute);
    write_next_token(&mut x, next);
    Ok(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse<T: FromParams>(pairs: &[(&str, &str)]) -> Result<T> {
        T::from_params(&Params::from_pairs(pairs.iter().copied()))
    }

    fn code<T>(result: Result<T>) -> &'static str {
        result.err().expect("an error").code.as_str()
    }

    const ALLOCATION: (&str, &str) = ("AllocationId", "eipalloc-0123456789abcdef0");

    #[test]
    fn allocate_reads_domain_pool_and_tags() {
        let input: AllocateAddressInput = parse(&[
            ("Domain", "vpc"),
            ("NetworkBorderGroup", "us-east-1"),
            ("TagSpecification.1.ResourceType", "elastic-ip"),
            ("TagSpecification.1.Tag.1.Key", "Name"),
            ("TagSpecification.1.Tag.1.Value", "web"),
        ])
        .unwrap();
        assert_eq!(input.network_border_group.as_deref(), Some("us-east-1"));
        assert_eq!((input.tags[0].key.as_str(), input.tags[0].value.as_str()), ("Name", "web"));
        assert!(parse::<AllocateAddressInput>(&[("Domain", "standard"), ("PublicIpv4Pool", "amazon")]).is_ok());
        assert_eq!(code(parse::<AllocateAddressInput>(&[("Domain", "classic")])), "InvalidParameterValue");
        assert_eq!(
            code(parse::<AllocateAddressInput>(&[("PublicIpv4Pool", "ipv4pool-ec2-012345")])),
            "UnsupportedOperation"
        );
        assert_eq!(code(parse::<AllocateAddressInput>(&[("Address", "44.1.2")])), "InvalidParameterValue");
        let wrong_type = [("TagSpecification.1.ResourceType", "instance"), ("TagSpecification.1.Tag.1.Key", "k")];
        assert_eq!(code(parse::<AllocateAddressInput>(&wrong_type)), "InvalidParameterValue");
        assert!(check_border_group(Some("us-east-1"), "us-east-1").is_ok());
        assert_eq!(check_border_group(Some("us-west-2"), "us-east-1").unwrap_err().code, "InvalidParameterValue");
    }

    #[test]
    fn associate_needs_one_address_and_one_target() {
        let input: AssociateAddressInput =
            parse(&[ALLOCATION, ("InstanceId", "i-0123456789abcdef0"), ("AllowReassociation", "true")]).unwrap();
        assert_eq!(input.address, AddressRef::Allocation("eipalloc-0123456789abcdef0".into()));
        assert_eq!(input.target, AssociationTarget::Instance("i-0123456789abcdef0".into()));
        assert!(input.allow_reassociation && input.private_ip.is_none());
        let input: AssociateAddressInput = parse(&[
            ("PublicIp", "44.200.1.2"),
            ("NetworkInterfaceId", "eni-0123456789abcdef0"),
            ("PrivateIpAddress", "10.0.0.5"),
        ])
        .unwrap();
        assert_eq!(input.address, AddressRef::PublicIp("44.200.1.2".into()));
        assert_eq!(input.private_ip.as_deref(), Some("10.0.0.5"));
        assert!(!input.allow_reassociation);

        let instance = ("InstanceId", "i-0123456789abcdef0");
        let interface = ("NetworkInterfaceId", "eni-0123456789abcdef0");
        assert_eq!(code(parse::<AssociateAddressInput>(&[instance])), "MissingParameter");
        assert_eq!(code(parse::<AssociateAddressInput>(&[ALLOCATION])), "MissingParameter");
        assert_eq!(
            code(parse::<AssociateAddressInput>(&[ALLOCATION, instance, interface])),
            "InvalidParameterCombination"
        );
        let both = [ALLOCATION, ("PublicIp", "44.200.1.2"), instance];
        assert_eq!(code(parse::<AssociateAddressInput>(&both)), "InvalidParameterCombination");
        assert_eq!(
            code(parse::<AssociateAddressInput>(&[("AllocationId", "eip-1"), instance])),
            "InvalidAllocationID.Malformed"
        );
        assert_eq!(
            code(parse::<AssociateAddressInput>(&[ALLOCATION, ("InstanceId", "x-1")])),
            "InvalidInstanceID.Malformed"
        );
        let bad_ip = [ALLOCATION, interface, ("PrivateIpAddress", "10.0.0")];
        assert_eq!(code(parse::<AssociateAddressInput>(&bad_ip)), "InvalidParameterValue");
    }

    #[test]
    fn disassociate_and_release_name_their_address() {
        let input: DisassociateAddressInput = parse(&[("AssociationId", "eipassoc-0123456789abcdef0")]).unwrap();
        assert_eq!(input, DisassociateAddressInput::Association("eipassoc-0123456789abcdef0".into()));
        assert_eq!(
            code(parse::<DisassociateAddressInput>(&[("AssociationId", "eipalloc-0123456789abcdef0")])),
            "InvalidAssociationID.Malformed"
        );
        assert_eq!(code(parse::<DisassociateAddressInput>(&[])), "MissingParameter");
        let both = [("AssociationId", "eipassoc-0123456789abcdef0"), ("PublicIp", "44.200.1.2")];
        assert_eq!(code(parse::<DisassociateAddressInput>(&both)), "InvalidParameterCombination");

        let input: ReleaseAddressInput = parse(&[ALLOCATION, ("NetworkBorderGroup", "us-east-1")]).unwrap();
        assert_eq!(input.address, AddressRef::Allocation("eipalloc-0123456789abcdef0".into()));
        assert_eq!(input.network_border_group.as_deref(), Some("us-east-1"));
        assert_eq!(code(parse::<ReleaseAddressInput>(&[])), "MissingParameter");
        assert_eq!(code(parse::<ReleaseAddressInput>(&[("PublicIp", "banana")])), "InvalidParameterValue");
    }

    #[test]
    fn describe_reads_ids_addresses_and_filters() {
        let input: DescribeAddressesInput = parse(&[
            ("AllocationId.1", "eipalloc-0123456789abcdef0"),
            ("AllocationId.2", "eipalloc-0123456789abcdef0"),
            ("PublicIp.1", "44.200.1.2"),
            ("Filter.1.Name", "instance-id"),
            ("Filter.1.Value.1", "i-0123456789abcdef0"),
        ])
        .unwrap();
        assert_eq!(input.allocation_ids, ["eipalloc-0123456789abcdef0"]);
        assert_eq!(input.public_ips, ["44.200.1.2"]);
        assert_eq!(input.filters[0].name, "instance-id");
        let err = parse::<DescribeAddressesInput>(&[("PublicIp.1", "eipalloc-0123456789abcdef0")]).err().unwrap();
        assert_eq!(err.message, "Invalid value 'eipalloc-0123456789abcdef0' for PublicIp. Not a valid IPv4 address");
        let bad_filter = [("Filter.1.Name", "state"), ("Filter.1.Value.1", "x")];
        assert_eq!(
            parse::<DescribeAddressesInput>(&bad_filter).err().unwrap().message,
            "The filter 'state' is invalid"
        );
        for name in ["tag:Name", "tag-key", "tag-value", "network-interface-owner-id", "domain", "private-ip-address"] {
            assert!(parse::<DescribeAddressesInput>(&[("Filter.1.Name", name), ("Filter.1.Value.1", "x")]).is_ok());
        }
    }

    #[test]
    fn the_only_address_attribute_is_its_domain_name() {
        const LISTED: (&str, &str) = ("AllocationId.1", "eipalloc-0123456789abcdef0");
        let attribute = ("Attribute", "domain-name");
        let input: DescribeAddressesAttributeInput = parse(&[LISTED, attribute]).unwrap();
        assert_eq!(input.allocation_ids, ["eipalloc-0123456789abcdef0"]);
        let input: DescribeAddressesAttributeInput = parse(&[attribute, ("MaxResults", "2")]).unwrap();
        assert_eq!(input.page.limit, Some(2));
        assert_eq!(code(parse::<DescribeAddressesAttributeInput>(&[LISTED])), "MissingParameter");
        let other = [LISTED, ("Attribute", "description")];
        assert_eq!(code(parse::<DescribeAddressesAttributeInput>(&other)), "InvalidParameterValue");
        let paged = [LISTED, attribute, ("MaxResults", "5")];
        assert_eq!(code(parse::<DescribeAddressesAttributeInput>(&paged)), "InvalidParameterCombination");
    }
}
