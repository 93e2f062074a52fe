//! CreateNetworkInterface, DescribeNetworkInterfaces, DeleteNetworkInterface,
//! AttachNetworkInterface, DetachNetworkInterface, ModifyNetworkInterfaceAttribute,
//! DescribeNetworkInterfaceAttribute. Instances' primary interfaces are made and deleted
//! by RunInstances and termination (`instances`).

use super::{Ctx, FromParams};
use crate::access::own_instance;
use crate::domain::filter::Filter;
use crate::domain::ids::{self, IdKind};
use crate::domain::instance_types;
use crate::domain::lifecycle::InstanceState;
use crate::domain::network::cidr;
use crate::domain::network::interface::{
    check_group_count, new_attachment_id, random_mac, InterfaceAttachment, NetworkInterface,
};
use crate::domain::network::security_group::check_description;
use crate::domain::tags::{self as tag_rules, Tag};
use crate::ec2_err;
use crate::error::{Ec2Error, Result};
use crate::store::filters::Page;
use crate::store::instances::{self as instance_store, InstanceColumn};
use crate::store::network::interfaces::{self as store, InterfaceColumn};
use crate::store::network::{not_found, security_groups, vpcs};
use crate::store::{tags, Conn};
use crate::wire::params::Params;
use crate::wire::query::{dedup, parse_filters, parse_page, parse_tag_specs, write_next_token};
use crate::wire::shapes::network_interface::{
    write_interface_attribute, write_network_interface, INTERFACE_ATTRIBUTES,
};
use crate::wire::xml::Xml;

pub struct CreateNetworkInterfaceInput {
    pub subnet_id: String,
    pub description: String,
    pub private_ip: Option<String>,
    pub group_ids: Vec<String>,
    pub tags: Vec<Tag>,
}

impl FromParams for CreateNetworkInterfaceInput {
    fn from_params(p: &Params) -> Result<Self> {
        let subnet_id = p.required("SubnetId")?;
        ids::check(IdKind::Subnet, subnet_id)?;
        let description = p.str("Description").unwrap_or_default();
        check_description("Description", description)?;
        let group_ids = dedup(p.list("SecurityGroupId")?);
        ids::check_all(IdKind::SecurityGroup, &group_ids)?;
        check_group_count(group_ids.len())?;
        if let Some(kind) = p.str("InterfaceType").filter(|t| *t != "interface") {
            return Err(ec2_err!(UnsupportedOperation, "Interfaces of type '{kind}' are not implemented by ec2lite."));
        }
        for unsupported in ["SecondaryPrivateIpAddressCount", "PrivateIpAddresses", "Ipv6AddressCount", "Ipv6Addresses"]
        {
            if p.has(unsupported) {
                return Err(ec2_err!(
                    UnsupportedOperation,
                    "{unsupported}: secondary addresses are not implemented by ec2lite."
                ));
            }
        }
        Ok(CreateNetworkInterfaceInput {
            subnet_id: subnet_id.to_string(),
            description: description.to_string(),
            private_ip: p.str("PrivateIpAddress").map(str::to_string),
            group_ids,
            tags: tag_rules::for_type(&parse_tag_specs(p)?, &["network-interface"], "network-interface")?,
        })
    }
}

pub async fn create_network_interface(ctx: &Ctx<'_>, input: CreateNetworkInterfaceInput) -> Result<Xml> {
    ctx.ensure_default_network().await?;
    let (account, region) = (ctx.scope.account, ctx.scope.region);
    let mut tx = ctx.app.store.write().await?;
    let subnet = vpcs::find_subnet(&mut tx, account, region, &input.subnet_id)
        .await?
        .ok_or_else(|| not_found(IdKind::Subnet, &input.subnet_id))?;
    let groups = groups_in_vpc(ctx, &mut tx, &input.group_ids, &subnet.vpc_id).await?;
    let private_ip = interface_address(&mut tx, &subnet.subnet_id, &subnet.cidr_block, input.private_ip).await?;
    ctx.check_dry_run()?;
    let interface = NetworkInterface {
        network_interface_id: ids::new_id(IdKind::NetworkInterface),
        owner_id: account.to_string(),
        region: region.to_string(),
        subnet_id: subnet.subnet_id,
        vpc_id: subnet.vpc_id,
        availability_zone: subnet.availability_zone,
        private_ip,
        mac_address: random_mac(),
        description: input.description,
        interface_type: "interface".into(),
        source_dest_check: true,
        groups,
        attachment: None,
        association: None,
        tags: input.tags.iter().map(|t| (t.key.clone(), t.value.clone())).collect(),
    };
    store::insert_interface(&mut tx, &interface, ctx.now).await?;
    let id = &interface.network_interface_id;
    tags::upsert(&mut tx, account, region, id, "network-interface", &input.tags, ctx.now).await?;
    tx.commit().await?;
    let mut x = Xml::new();
    x.open("networkInterface");
    write_network_interface(&mut x, &interface);
    x.close("networkInterface");
    Ok(x)
}

/// The groups by id, each the caller's and in `vpc_id`; the VPC's default group when
/// none is given. Returns (id, name) pairs.
async fn groups_in_vpc(ctx: &Ctx<'_>, conn: &mut Conn, ids: &[String], vpc_id: &str) -> Result<Vec<(String, String)>> {
    let (account, region) = (ctx.scope.account, ctx.scope.region);
    if ids.is_empty() {
        let default = security_groups::find_group_by_name(conn, account, region, vpc_id, "default").await?;
        return Ok(default.map(|g| vec![(g.group_id, g.group_name)]).unwrap_or_default());
    }
    let mut groups = Vec::with_capacity(ids.len());
    for id in ids {
        let group = security_groups::find_group(conn, account, region, id)
            .await?
            .ok_or_else(|| not_found(IdKind::SecurityGroup, id))?;
        if group.vpc_id != vpc_id {
            return Err(ec2_err!(
                InvalidParameter,
                "The security group '{id}' does not belong to the VPC '{vpc_id}' of the network interface."
            ));
        }
        groups.push((group.group_id, group.group_name));
    }
    Ok(groups)
}

/// The address asked for (usable in the subnet and free) or the lowest free one.
async fn interface_address(conn: &mut Conn, subnet_id: &str, block: &str, asked: Option<String>) -> Result<String> {
    let taken = store::taken_addresses(conn, subnet_id).await?;
    match asked {
        Some(ip) if !cidr::is_usable_address(block, &ip) => Err(ec2_err!(
            InvalidParameterValue,
            "Address {ip} does not fall within the subnet's address range"
        )),
        Some(ip) if taken.contains(&ip) => Err(ec2_err!(InvalidIPAddress_InUse, "Address {ip} is in use.")),
        Some(ip) => Ok(ip),
        None => cidr::free_addresses(block, &taken, 1).pop().ok_or_else(|| {
            ec2_err!(
                InsufficientFreeAddressesInSubnet,
                "There are not enough free addresses in subnet '{subnet_id}' to satisfy the requested number of instances."
            )
        }),
    }
}

pub struct DescribeNetworkInterfacesInput {
    pub ids: Vec<String>,
    pub filters: Vec<Filter>,
    pub page: Page,
}

impl FromParams for DescribeNetworkInterfacesInput {
    fn from_params(p: &Params) -> Result<Self> {
        let ids = dedup(p.list("NetworkInterfaceId")?);
        ids::check_all(IdKind::NetworkInterface, &ids)?;
        let filters = parse_filters(p, "Filter")?;
        store::INTERFACE_FILTERS.validate(&filters)?;
        let page = parse_page(p, !ids.is_empty(), "networkInterfaceIds", 5, 1000)?;
        Ok(DescribeNetworkInterfacesInput { ids, filters, page })
    }
}

pub async fn describe_network_interfaces(ctx: &Ctx<'_>, input: DescribeNetworkInterfacesInput) -> Result<Xml> {
    ctx.ensure_default_network().await?;
    ctx.check_dry_run()?;
    let query = store::InterfaceQuery {
        account: ctx.scope.account,
        region: ctx.scope.region,
        ids: &input.ids,
        filters: &input.filters,
        page: &input.page,
    };
    let (found, next) = store::describe_interfaces(&mut *ctx.app.store.read().await?, &query).await?;
    if input.filters.is_empty() {
        if let Some(missing) = input.ids.iter().find(|id| !found.iter().any(|n| &n.network_interface_id == *id)) {
            return Err(not_found(IdKind::NetworkInterface, missing));
        }
    }
    let mut x = Xml::new();
    x.list("networkInterfaceSet", &found, write_network_interface);
    write_next_token(&mut x, next);
    Ok(x)
}

/// One interface of the caller, by id.
pub struct InterfaceIdInput {
    pub interface_id: String,
}

impl FromParams for InterfaceIdInput {
    fn from_params(p: &Params) -> Result<Self> {
        let interface_id = p.required("NetworkInterfaceId")?;
        ids::check(IdKind::NetworkInterface, interface_id)?;
        Ok(InterfaceIdInput { interface_id: interface_id.to_string() })
    }
}

async fn owned_interface(ctx: &Ctx<'_>, conn: &mut Conn, id: &str) -> Result<NetworkInterface> {
    store::find_interface(conn, ctx.scope.account, ctx.scope.region, id)
        .await?
        .ok_or_else(|| not_found(IdKind::NetworkInterface, id))
}

pub type DeleteNetworkInterfaceInput = InterfaceIdInput;

pub async fn delete_network_interface(ctx: &Ctx<'_>, input: DeleteNetworkInterfaceInput) -> Result<Xml> {
    ctx.ensure_default_network().await?;
    let mut tx = ctx.app.store.write().await?;
    let interface = owned_interface(ctx, &mut tx, &input.interface_id).await?;
    if interface.attachment.is_some() {
        return Err(ec2_err!(
            InvalidNetworkInterface_InUse,
            "The network interface '{}' is currently in use.",
            interface.network_interface_id
        ));
    }
    ctx.check_dry_run()?;
    store::delete_interface(&mut tx, &interface.network_interface_id).await?;
    tx.commit().await?;
    Ok(Xml::return_true())
}

pub struct AttachNetworkInterfaceInput {
    pub interface_id: String,
    pub instance_id: String,
    pub device_index: i64,
}

impl FromParams for AttachNetworkInterfaceInput {
    fn from_params(p: &Params) -> Result<Self> {
        let InterfaceIdInput { interface_id } = InterfaceIdInput::from_params(p)?;
        let instance_id = p.required("InstanceId")?;
        ids::check(IdKind::Instance, instance_id)?;
        let device_index = p.int("DeviceIndex")?.ok_or_else(|| Ec2Error::missing_parameter("DeviceIndex"))?;
        if !(1..=31).contains(&device_index) {
            return Err(ec2_err!(InvalidParameterValue, "Invalid value '{device_index}' for deviceIndex"));
        }
        if p.int("NetworkCardIndex")?.is_some_and(|card| card != 0) {
            return Err(ec2_err!(
                InvalidParameterValue,
                "Invalid value for networkCardIndex: the instance has one card"
            ));
        }
        Ok(AttachNetworkInterfaceInput { interface_id, instance_id: instance_id.to_string(), device_index })
    }
}

/// Attaches a free interface to a running or stopped instance of its zone, at a free
/// device index, within the instance type's interface limit.
pub async fn attach_network_interface(ctx: &Ctx<'_>, input: AttachNetworkInterfaceInput) -> Result<Xml> {
    ctx.ensure_default_network().await?;
    let mut tx = ctx.app.store.write().await?;
    let interface = owned_interface(ctx, &mut tx, &input.interface_id).await?;
    let instance = own_instance(ctx.scope, &mut tx, &input.instance_id).await?;
    if interface.attachment.is_some() {
        return Err(ec2_err!(InvalidNetworkInterface_InUse, "Interface: [{}] in use.", interface.network_interface_id));
    }
    if !matches!(instance.state, InstanceState::Running | InstanceState::Stopped) {
        return Err(ec2_err!(
            IncorrectInstanceState,
            "The instance '{}' is not in a valid state for this operation.",
            instance.instance_id
        ));
    }
    if instance.availability_zone != interface.availability_zone {
        return Err(ec2_err!(
            InvalidParameterCombination,
            "You may not attach a network interface to an instance if they are not in the same availability zone"
        ));
    }
    let taken = store::device_indices(&mut tx, &instance.instance_id).await?;
    if taken.contains(&input.device_index) {
        return Err(ec2_err!(
            InvalidParameterValue,
            "Instance '{}' already has an interface attached at device index '{}'.",
            instance.instance_id,
            input.device_index
        ));
    }
    let limit = instance_types::find(&instance.instance_type).map_or(2, |t| t.network.max_interfaces);
    if taken.len() as i64 >= limit {
        return Err(ec2_err!(
            AttachmentLimitExceeded,
            "Interface count {} exceeds the limit for {}",
            taken.len() + 1,
            instance.instance_type
        ));
    }
    ctx.check_dry_run()?;
    let attachment = InterfaceAttachment {
        attachment_id: new_attachment_id(),
        instance_id: instance.instance_id,
        instance_owner_id: instance.owner_id,
        device_index: input.device_index,
        attach_time: ctx.now,
        delete_on_termination: false,
    };
    store::attach(&mut tx, &interface.network_interface_id, &attachment).await?;
    tx.commit().await?;
    let mut x = Xml::new();
    x.text("attachmentId", &attachment.attachment_id).num("networkCardIndex", 0);
    Ok(x)
}

pub struct DetachNetworkInterfaceInput {
    pub attachment_id: String,
}

impl FromParams for DetachNetworkInterfaceInput {
    fn from_params(p: &Params) -> Result<Self> {
        let attachment_id = p.required("AttachmentId")?;
        if !attachment_id.starts_with("eni-attach-") {
            return Err(ec2_err!(
                InvalidNetworkInterfaceAttachmentId_Malformed,
                "Invalid id: \"{attachment_id}\" (expecting \"eni-attach-...\")"
            ));
        }
        p.bool("Force")?;
        Ok(DetachNetworkInterfaceInput { attachment_id: attachment_id.to_string() })
    }
}

pub async fn detach_network_interface(ctx: &Ctx<'_>, input: DetachNetworkInterfaceInput) -> Result<Xml> {
    ctx.ensure_default_network().await?;
    let mut tx = ctx.app.store.write().await?;
    let interface = store::find_by_attachment(&mut tx, ctx.scope.account, ctx.scope.region, &input.attachment_id)
        .await?
        .ok_or_else(|| {
            ec2_err!(InvalidAttachmentID_NotFound, "The attachment ID '{}' does not exist", input.attachment_id)
        })?;
    if interface.attachment.as_ref().is_some_and(|a| a.device_index == 0) {
        return Err(ec2_err!(OperationNotPermitted, "The network interface at device index 0 cannot be detached."));
    }
    ctx.check_dry_run()?;
    store::detach(&mut tx, &interface.network_interface_id).await?;
    tx.commit().await?;
    Ok(Xml::return_true())
}

/// The one attribute a ModifyNetworkInterfaceAttribute call changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InterfaceChange {
    Description(String),
    SourceDestCheck(bool),
    Groups(Vec<String>),
    /// (attachment id, delete on termination)
    DeleteOnTermination(String, bool),
}

pub struct ModifyNetworkInterfaceAttributeInput {
    pub interface_id: String,
    pub change: InterfaceChange,
}

impl FromParams for ModifyNetworkInterfaceAttributeInput {
    fn from_params(p: &Params) -> Result<Self> {
        let InterfaceIdInput { interface_id } = InterfaceIdInput::from_params(p)?;
        let mut changes = Vec::new();
        if let Some(description) = p.str("Description.Value") {
            check_description("Description", description)?;
            changes.push(InterfaceChange::Description(description.to_string()));
        }
        if let Some(check) = p.bool("SourceDestCheck.Value")? {
            changes.push(InterfaceChange::SourceDestCheck(check));
        }
        let groups = dedup(p.list("SecurityGroupId")?);
        if !groups.is_empty() {
            ids::check_all(IdKind::SecurityGroup, &groups)?;
            check_group_count(groups.len())?;
            changes.push(InterfaceChange::Groups(groups));
        }
        if let Some(attachment_id) = p.str("Attachment.AttachmentId") {
            let delete = p.bool("Attachment.DeleteOnTermination")?.unwrap_or(false);
            changes.push(InterfaceChange::DeleteOnTermination(attachment_id.to_string(), delete));
        }
        match <[InterfaceChange; 1]>::try_from(changes) {
            Ok([change]) => Ok(ModifyNetworkInterfaceAttributeInput { interface_id, change }),
            Err(changes) if changes.is_empty() => {
                Err(ec2_err!(MissingParameter, "You must specify an attribute to modify"))
            }
            Err(_) => Err(ec2_err!(InvalidParameterCombination, "Only one attribute can be modified at a time")),
        }
    }
}

pub async fn modify_network_interface_attribute(
    ctx: &Ctx<'_>,
    input: ModifyNetworkInterfaceAttributeInput,
) -> Result<Xml> {
    ctx.ensure_default_network().await?;
    let mut tx = ctx.app.store.write().await?;
    let interface = owned_interface(ctx, &mut tx, &input.interface_id).await?;
    let id = interface.network_interface_id.as_str();
    match input.change {
        InterfaceChange::Description(description) => {
            ctx.check_dry_run()?;
            store::set_column(&mut tx, id, InterfaceColumn::Description, description).await?;
        }
        InterfaceChange::SourceDestCheck(check) => {
            ctx.check_dry_run()?;
            store::set_column(&mut tx, id, InterfaceColumn::SourceDestCheck, check).await?;
        }
        InterfaceChange::Groups(group_ids) => {
            groups_in_vpc(ctx, &mut tx, &group_ids, &interface.vpc_id).await?;
            ctx.check_dry_run()?;
            let json = serde_json::to_string(&group_ids).expect("json");
            store::set_column(&mut tx, id, InterfaceColumn::SecurityGroupIds, json.clone()).await?;
            // The primary interface's groups are its instance's.
            if let Some(a) = interface.attachment.as_ref().filter(|a| a.device_index == 0) {
                instance_store::set_attribute(&mut tx, &a.instance_id, InstanceColumn::SecurityGroupIds, &json).await?;
            }
        }
        InterfaceChange::DeleteOnTermination(attachment_id, delete) => {
            if interface.attachment.as_ref().is_none_or(|a| a.attachment_id != attachment_id) {
                return Err(ec2_err!(
                    InvalidAttachmentID_NotFound,
                    "The attachment ID '{attachment_id}' does not exist"
                ));
            }
            ctx.check_dry_run()?;
            store::set_column(&mut tx, id, InterfaceColumn::DeleteOnTermination, delete).await?;
        }
    }
    tx.commit().await?;
    Ok(Xml::return_true())
}

pub struct DescribeNetworkInterfaceAttributeInput {
    pub interface_id: String,
    pub attribute: String,
}

impl FromParams for DescribeNetworkInterfaceAttributeInput {
    fn from_params(p: &Params) -> Result<Self> {
        let InterfaceIdInput { interface_id } = InterfaceIdInput::from_params(p)?;
        let attribute = p.required("Attribute")?;
        if !INTERFACE_ATTRIBUTES.contains(&attribute) {
            return Err(ec2_err!(InvalidParameterValue, "Value ({attribute}) for parameter attribute is invalid."));
        }
        Ok(DescribeNetworkInterfaceAttributeInput { interface_id, attribute: attribute.to_string() })
    }
}

pub async fn describe_network_interface_attribute(
    ctx: &Ctx<'_>,
    input: DescribeNetworkInterfaceAttributeInput,
) -> Result<Xml> {
    ctx.ensure_default_network().await?;
    ctx.check_dry_run()?;
    let interface = owned_interface(ctx, &mut *ctx.app.store.read().await?, &input.interface_id).await?;
    let mut x = Xml::new();
    write_interface_attribute(&mut x, &interface, &input.attribute);
    Ok(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_needs_a_subnet_and_at_most_five_groups() {
        let err = CreateNetworkInterfaceInput::from_params(&Params::default()).err().unwrap();
        assert_eq!(err.code, "MissingParameter");
        let mut pairs = vec![("SubnetId".to_string(), "subnet-0123456789abcdef0".to_string())];
        for i in 1..=6 {
            pairs.push((format!("SecurityGroupId.{i}"), format!("sg-012345678{i}abcdef0")));
        }
        let p = Params::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let err = CreateNetworkInterfaceInput::from_params(&p).err().unwrap();
        assert_eq!(err.code, "SecurityGroupsPerInterfaceLimitExceeded");
    }

    #[test]
    fn attach_needs_a_secondary_device_index() {
        let p = Params::from_pairs([
            ("NetworkInterfaceId", "eni-0123456789abcdef0"),
            ("InstanceId", "i-0123456789abcdef0"),
            ("DeviceIndex", "0"),
        ]);
        assert_eq!(AttachNetworkInterfaceInput::from_params(&p).err().unwrap().code, "InvalidParameterValue");
    }

    #[test]
    fn modify_changes_exactly_one_attribute() {
        let p = Params::from_pairs([("NetworkInterfaceId", "eni-0123456789abcdef0")]);
        assert_eq!(ModifyNetworkInterfaceAttributeInput::from_params(&p).err().unwrap().code, "MissingParameter");
        let p = Params::from_pairs([
            ("NetworkInterfaceId", "eni-0123456789abcdef0"),
            ("Description.Value", "x"),
            ("SourceDestCheck.Value", "false"),
        ]);
        let err = ModifyNetworkInterfaceAttributeInput::from_params(&p).err().unwrap();
        assert_eq!(err.code, "InvalidParameterCombination");
        let p =
            Params::from_pairs([("NetworkInterfaceId", "eni-0123456789abcdef0"), ("SourceDestCheck.Value", "false")]);
        let input = ModifyNetworkInterfaceAttributeInput::from_params(&p).unwrap();
        assert_eq!(input.change, InterfaceChange::SourceDestCheck(false));
    }

    #[test]
    fn detach_needs_an_attachment_id() {
        let p = Params::from_pairs([("AttachmentId", "eni-0123456789abcdef0")]);
        let err = DetachNetworkInterfaceInput::from_params(&p).err().unwrap();
        assert_eq!(err.code, "InvalidNetworkInterfaceAttachmentId.Malformed");
    }
}
