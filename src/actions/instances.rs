//! RunInstances, DescribeInstances, Start/Stop/Reboot/TerminateInstances and
//! DescribeInstanceStatus. Their XML shapes are in `wire::shapes::instance`.

use crate::domain::instance_types;
use crate::domain::lifecycle::{InstanceState, VolumeState};

use super::{machines, Ctx, FromParams};
use crate::access::launchable_image;
use crate::domain::clock::iso;
use crate::domain::filter::{filter_in_memory, Filter};
use crate::domain::ids::{self, IdKind};
use crate::domain::image::{check_enum, BlockDeviceMapping, EbsBlockDevice, Image};
use crate::domain::instance::{check_compatible, instance_type, Instance, InstanceInterface, InstanceType};
use crate::domain::launch_template::{top_member, TemplateRef, VersionRef};
use crate::domain::network::interface::{
    check_group_count, new_attachment_id, random_mac, InterfaceAttachment, NetworkInterface,
};
use crate::domain::network::{cidr, random_public_ip, Subnet};
use crate::domain::tags::{self as tag_rules, Tag};
use crate::domain::volume::{self, Volume};
use crate::ec2_err;
use crate::error::{Code, Ec2Error, Result};
use crate::store::filters::{Found, Page};
use crate::store::instances::{self as store, InstanceQuery};
use crate::store::network::{interfaces, not_found, security_groups, vpcs};
use crate::store::{key_pairs, marketplace, snapshots, tags, volumes, Conn};
use crate::wire::params::Params;
use crate::wire::query::{
    dedup, parse_block_device_mappings, parse_filters, parse_page, parse_tag_specs, write_next_token,
};
use crate::wire::shapes::instance::{
    status_check, write_instance_status, write_reservation, write_state_changes, StateChange,
};
use crate::wire::xml::Xml;

/// `ImageId=resolve:ssm:<parameter>[:<version>]`: the AMI an SSM parameter names.
const SSM_PREFIX: &str = "resolve:ssm:";

/// Most instances one RunInstances call may launch.
const MAX_LAUNCH: i64 = 100;

/// The resource types a RunInstances `TagSpecification` may name.
const LAUNCH_TAGGABLE: &[&str] = &["instance", "volume", "network-interface"];

// RunInstances ---------------------------------------------------------------------------

/// Where a launch asks to go: a subnet (or a zone of the default VPC), security groups
/// by id or by name, a private address, a public one. Resolved by `placement`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlacementRequest {
    pub subnet_id: Option<String>,
    pub zone: Option<String>,
    pub security_group_ids: Vec<String>,
    pub security_group_names: Vec<String>,
    pub private_ip: Option<String>,
    /// `AssociatePublicIpAddress`; the subnet's `MapPublicIpOnLaunch` when unset.
    pub public_ip: Option<bool>,
}

#[derive(Debug, Clone)]
pub struct RunInstancesInput {
    pub image_id: String,
    /// How many instances to launch: MaxCount, capped at `MAX_LAUNCH`.
    pub count: i64,
    pub instance_type: &'static InstanceType,
    /// `CreditSpecification.CpuCredits`, or the type's default.
    pub cpu_credits: Option<String>,
    pub placement: PlacementRequest,
    pub shutdown_behavior: String,
    pub disable_api_termination: bool,
    pub disable_api_stop: bool,
    pub ebs_optimized: bool,
    pub instance_tags: Vec<Tag>,
    pub volume_tags: Vec<Tag>,
    pub interface_tags: Vec<Tag>,
    /// `BlockDeviceMapping.N`, applied over the image's own mappings.
    pub block_device_mappings: Vec<BlockDeviceMapping>,
    pub key_name: Option<String>,
    pub user_data: Option<String>,
    pub client_token: Option<String>,
}

impl FromParams for RunInstancesInput {
    fn from_params(p: &Params) -> Result<Self> {
        let image_id = p.required("ImageId")?.to_string();
        let count = parse_count(p)?;
        let instance_type = instance_type(p.str("InstanceType").unwrap_or("m1.small"))?;
        let cpu_credits = instance_types::launch_credits(p.str("CreditSpecification.CpuCredits"), instance_type)?;
        let placement = parse_placement(p)?;
        let shutdown_behavior = p.str("InstanceInitiatedShutdownBehavior").unwrap_or("stop").to_string();
        check_enum("InstanceInitiatedShutdownBehavior", &shutdown_behavior, &["stop", "terminate"])?;
        let disable_api_termination = p.flag("DisableApiTermination")?;
        let disable_api_stop = p.flag("DisableApiStop")?;
        let ebs_optimized = p.flag("EbsOptimized")?;
        let tag_specs = parse_tag_specs(p)?;
        let instance_tags = tag_rules::for_type(&tag_specs, LAUNCH_TAGGABLE, "instance")?;
        let volume_tags = tag_rules::for_type(&tag_specs, LAUNCH_TAGGABLE, "volume")?;
        let interface_tags = tag_rules::for_type(&tag_specs, LAUNCH_TAGGABLE, "network-interface")?;
        let block_device_mappings = parse_block_device_mappings(p)?;
        if !image_id.starts_with(SSM_PREFIX) {
            ids::check(IdKind::Image, &image_id)?;
        }
        Ok(RunInstancesInput {
            image_id,
            count,
            instance_type,
            cpu_credits,
            placement,
            shutdown_behavior,
            disable_api_termination,
            disable_api_stop,
            ebs_optimized,
            instance_tags,
            volume_tags,
            interface_tags,
            block_device_mappings,
            key_name: p.str("KeyName").map(str::to_string),
            user_data: p.str("UserData").map(str::to_string),
            client_token: p.str("ClientToken").map(str::to_string),
        })
    }
}

/// `MinCount` and `MaxCount`: how many instances to launch.
fn parse_count(p: &Params) -> Result<i64> {
    let min = p.int("MinCount")?.ok_or_else(|| Ec2Error::missing_parameter("MinCount"))?;
    let max = p.int("MaxCount")?.ok_or_else(|| Ec2Error::missing_parameter("MaxCount"))?;
    if min < 1 || max < min {
        return Err(ec2_err!(
            InvalidParameterValue,
            "Invalid value for MinCount ({min}) and MaxCount ({max}): MinCount must be at least 1 and no more than MaxCount."
        ));
    }
    if min > MAX_LAUNCH {
        return Err(ec2_err!(
            InstanceLimitExceeded,
            "You have requested more instances ({min}) than your current instance limit of {MAX_LAUNCH} allows for the specified instance type."
        ));
    }
    Ok(max.min(MAX_LAUNCH))
}

/// The subnet, zone, groups and addresses, from the top-level members or the first
/// network interface's.
fn parse_placement(p: &Params) -> Result<PlacementRequest> {
    if p.has("NetworkInterface.1.NetworkInterfaceId") {
        return Err(ec2_err!(
            UnsupportedOperation,
            "Launching with an existing network interface is not implemented by ec2lite."
        ));
    }
    let subnet_id = p.str("SubnetId").or(p.str("NetworkInterface.1.SubnetId"));
    if let Some(id) = subnet_id {
        ids::check(IdKind::Subnet, id)?;
    }
    let mut security_group_ids = p.list("SecurityGroupId")?;
    security_group_ids.extend(p.list("NetworkInterface.1.SecurityGroupId")?);
    ids::check_all(IdKind::SecurityGroup, &security_group_ids)?;
    let security_group_ids = dedup(security_group_ids);
    check_group_count(security_group_ids.len())?;
    let private_ip = p.str("PrivateIpAddress").or(p.str("NetworkInterface.1.PrivateIpAddress"));
    if let Some(ip) = private_ip {
        if ip.parse::<std::net::Ipv4Addr>().is_err() {
            return Err(ec2_err!(InvalidParameterValue, "Invalid value '{ip}' for privateIpAddress"));
        }
    }
    Ok(PlacementRequest {
        subnet_id: subnet_id.map(str::to_string),
        zone: p.str("Placement.AvailabilityZone").map(str::to_string),
        security_group_ids,
        security_group_names: dedup(p.list("SecurityGroup")?),
        private_ip: private_ip.map(str::to_string),
        public_ip: p.bool("NetworkInterface.1.AssociatePublicIpAddress")?,
    })
}

/// RunInstances as sent: a direct launch, or one from a launch template whose version
/// is read at launch, its data under the request's own parameters.
pub enum RunInstancesRequest {
    Direct(Box<RunInstancesInput>),
    FromTemplate(TemplateLaunch),
}

impl FromParams for RunInstancesRequest {
    fn from_params(p: &Params) -> Result<Self> {
        match TemplateLaunch::parse(p)? {
            Some(launch) => Ok(RunInstancesRequest::FromTemplate(launch)),
            None => Ok(RunInstancesRequest::Direct(Box::new(RunInstancesInput::from_params(p)?))),
        }
    }
}

pub async fn run_instances(ctx: &Ctx<'_>, request: RunInstancesRequest) -> Result<Xml> {
    let mut input = match request {
        RunInstancesRequest::Direct(input) => *input,
        RunInstancesRequest::FromTemplate(launch) => launch.input(ctx).await?,
    };
    ctx.ensure_default_network().await?;
    machines::check_capacity(ctx).await?;
    let mut tx = ctx.app.store.write().await?;
    if let Some(reference) = input.image_id.strip_prefix(SSM_PREFIX) {
        input.image_id = crate::access::resolve_ssm_image(ctx.app, ctx.scope, &mut tx, reference).await?;
    }
    if let Some(earlier) = earlier_launch(ctx, &mut tx, &input).await? {
        ctx.check_dry_run()?;
        return Ok(reservation_xml(ctx, &earlier));
    }
    let place = placement(ctx, &mut tx, &input.placement).await?;
    let addresses = private_addresses(&mut tx, &place, input.count).await?;
    let image = launch_check(ctx, &mut tx, &input).await?;
    let mappings = merge_mappings(&image, &input.block_device_mappings)?;
    let snapshots = source_snapshots(ctx, &mut tx, &mappings).await?;
    check_key_pair(ctx, &mut tx, input.key_name.as_deref()).await?;
    ctx.check_dry_run()?;
    let plan = LaunchPlan { input: &input, image: &image, place, addresses, mappings, snapshots };
    let launched = store_launch(ctx, &mut tx, &plan).await?;
    tx.commit().await?;
    machines::launch(ctx, &image, &launched).await?;
    Ok(reservation_xml(ctx, &launched))
}

fn reservation_xml(ctx: &Ctx<'_>, instances: &[Instance]) -> Xml {
    let mut x = Xml::new();
    write_reservation(&mut x, ctx.scope.account, ctx.scope.region, instances);
    x
}

/// Where the instances go: a subnet of the caller, groups of its VPC, and whether they
/// get a public address.
struct Placement {
    subnet: Subnet,
    /// (group id, group name)
    groups: Vec<(String, String)>,
    public_ip: bool,
    private_ip: Option<String>,
}

async fn placement(ctx: &Ctx<'_>, conn: &mut Conn, request: &PlacementRequest) -> Result<Placement> {
    let subnet = subnet_for(ctx, conn, request).await?;
    let groups = security_groups_for(ctx, conn, request, &subnet).await?;
    Ok(Placement {
        public_ip: request.public_ip.unwrap_or(subnet.map_public_ip_on_launch),
        subnet,
        groups,
        private_ip: request.private_ip.clone(),
    })
}

/// The subnet asked for by id, else the default subnet of the zone asked for, else the
/// default VPC's first.
async fn subnet_for(ctx: &Ctx<'_>, conn: &mut Conn, request: &PlacementRequest) -> Result<Subnet> {
    let (account, region) = (ctx.scope.account, ctx.scope.region);
    let zone = request.zone.as_deref();
    if let Some(id) = request.subnet_id.as_deref() {
        let subnet =
            vpcs::find_subnet(conn, account, region, id).await?.ok_or_else(|| not_found(IdKind::Subnet, id))?;
        if let Some(zone) = zone.filter(|z| *z != subnet.availability_zone) {
            return Err(ec2_err!(
                InvalidParameterCombination,
                "The specified subnet {id} is not in the availability zone {zone}"
            ));
        }
        return Ok(subnet);
    }
    let subnets = vpcs::default_subnets(conn, account, region).await?;
    if subnets.is_empty() {
        return Err(ec2_err!(VPCIdNotSpecified, "No default VPC for this user"));
    }
    match zone {
        Some(zone) => subnets
            .into_iter()
            .find(|s| s.availability_zone == zone)
            .ok_or_else(|| ec2_err!(InvalidParameterValue, "Invalid availability zone: [{zone}]")),
        None => Ok(subnets.into_iter().next().expect("not empty")),
    }
}

/// The groups asked for, by id (in the subnet's VPC) or by name (in the default VPC
/// only, as on EC2); the VPC's default group when none is.
async fn security_groups_for(
    ctx: &Ctx<'_>,
    conn: &mut Conn,
    request: &PlacementRequest,
    subnet: &Subnet,
) -> Result<Vec<(String, String)>> {
    let (account, region) = (ctx.scope.account, ctx.scope.region);
    let mut groups = Vec::new();
    for id in &request.security_group_ids {
        let group = security_groups::find_group(conn, account, region, id)
            .await?
            .ok_or_else(|| not_found(IdKind::SecurityGroup, id))?;
        if group.vpc_id != subnet.vpc_id {
            return Err(ec2_err!(
                InvalidParameter,
                "Security group {id} and subnet {} belong to different networks.",
                subnet.subnet_id
            ));
        }
        groups.push((group.group_id, group.group_name));
    }
    let named_outside_default_vpc = !request.security_group_names.is_empty()
        && !vpcs::find_vpc(conn, account, region, &subnet.vpc_id).await?.is_some_and(|v| v.is_default);
    if named_outside_default_vpc {
        return Err(ec2_err!(
            InvalidParameterCombination,
            "The parameter groupName cannot be used with the parameter subnet"
        ));
    }
    let mut names = request.security_group_names.clone();
    if groups.is_empty() && names.is_empty() {
        names.push("default".into());
    }
    for name in &names {
        let group = security_groups::find_group_by_name(conn, account, region, &subnet.vpc_id, name)
            .await?
            .ok_or_else(|| {
                ec2_err!(InvalidGroup_NotFound, "The security group '{name}' does not exist in VPC '{}'", subnet.vpc_id)
            })?;
        groups.push((group.group_id, group.group_name));
    }
    groups.dedup_by(|a, b| a.0 == b.0);
    check_group_count(groups.len())?;
    Ok(groups)
}

/// One private address per instance from the subnet: the one asked for, or the lowest
/// free ones.
async fn private_addresses(conn: &mut Conn, place: &Placement, count: i64) -> Result<Vec<String>> {
    let subnet = &place.subnet;
    let taken = interfaces::taken_addresses(conn, &subnet.subnet_id).await?;
    if let Some(ip) = &place.private_ip {
        if count > 1 {
            return Err(ec2_err!(
                InvalidParameterCombination,
                "Cannot specify a private IP address when launching more than one instance"
            ));
        }
        if !cidr::is_usable_address(&subnet.cidr_block, ip) {
            return Err(ec2_err!(
                InvalidParameterValue,
                "Address {ip} does not fall within the subnet's address range"
            ));
        }
        if taken.contains(ip) {
            return Err(ec2_err!(InvalidIPAddress_InUse, "Address {ip} is in use."));
        }
        return Ok(vec![ip.clone()]);
    }
    let free = cidr::free_addresses(&subnet.cidr_block, &taken, count as usize);
    if (free.len() as i64) < count {
        return Err(ec2_err!(
            InsufficientFreeAddressesInSubnet,
            "There are not enough free addresses in subnet '{}' to satisfy the requested number of instances.",
            subnet.subnet_id
        ));
    }
    Ok(free)
}

/// The instances an earlier launch with the same client token made, if any. The token
/// reused for a different launch (image, type or count) is refused.
async fn earlier_launch(ctx: &Ctx<'_>, conn: &mut Conn, input: &RunInstancesInput) -> Result<Option<Vec<Instance>>> {
    let Some(token) = input.client_token.as_deref() else { return Ok(None) };
    let earlier = store::find_by_client_token(conn, ctx.scope.account, ctx.scope.region, token).await?;
    let Some(first) = earlier.first() else { return Ok(None) };
    let same = first.image_id == input.image_id
        && first.instance_type == input.instance_type.name
        && earlier.len() as i64 == input.count;
    if !same {
        return Err(Ec2Error::client_token_reused(token));
    }
    Ok(Some(earlier))
}

/// The image to launch: one the caller may launch, whose architecture and
/// virtualization the instance type runs.
async fn launch_check(ctx: &Ctx<'_>, conn: &mut Conn, input: &RunInstancesInput) -> Result<Image> {
    let accept_unknown = ctx.app.timings.accept_unknown_images;
    let image = launchable_image(ctx.scope, conn, &input.image_id, accept_unknown).await?;
    check_compatible(input.instance_type, &image.architecture, &image.virtualization_type)?;
    check_subscribed(ctx, conn, &image).await?;
    Ok(image)
}

/// A Marketplace image launches only for accounts subscribed to its product, from the
/// accounts file or the admin endpoint.
async fn check_subscribed(ctx: &Ctx<'_>, conn: &mut Conn, image: &Image) -> Result<()> {
    let account = ctx.scope.account;
    for code in image.product_codes.iter().filter(|c| c.code_type == "marketplace") {
        let subscribed = ctx.app.directory.subscribed(account, &code.id)
            || marketplace::is_subscribed(conn, account, &code.id).await?;
        if !subscribed {
            return Err(ec2_err!(
                OptInRequired,
                "In order to use this AWS Marketplace product you need to accept terms and subscribe. \
                 To do so please visit https://aws.amazon.com/marketplace/pp?sku={}",
                code.id
            ));
        }
    }
    Ok(())
}

/// The request's `BlockDeviceMapping.N` applied over the image's mappings.
fn merge_mappings(image: &Image, overrides: &[BlockDeviceMapping]) -> Result<Vec<BlockDeviceMapping>> {
    let mut mappings = image.block_device_mappings.clone();
    for o in overrides.iter().cloned() {
        let existing = mappings.iter().position(|m| m.device_name == o.device_name);
        if o.no_device {
            if let Some(i) = existing {
                mappings.remove(i);
            }
            continue;
        }
        match (existing, o.ebs) {
            (Some(i), Some(over)) => {
                let base = mappings[i].ebs.get_or_insert_with(EbsBlockDevice::default);
                if let (Some(size), Some(min)) = (over.volume_size, base.volume_size) {
                    if size < min && base.snapshot_id.is_some() {
                        return Err(ec2_err!(
                            InvalidBlockDeviceMapping,
                            "Volume of size {size}GiB is smaller than snapshot '{}', expect size >= {min}GiB",
                            base.snapshot_id.clone().unwrap_or_default()
                        ));
                    }
                }
                base.volume_size = over.volume_size.or(base.volume_size);
                base.volume_type = over.volume_type.or(base.volume_type.take());
                base.delete_on_termination = over.delete_on_termination.or(base.delete_on_termination);
                base.iops = over.iops.or(base.iops);
                base.throughput = over.throughput.or(base.throughput);
                base.encrypted = over.encrypted.or(base.encrypted);
                base.kms_key_id = over.kms_key_id.or(base.kms_key_id.take());
            }
            (_, ebs) => {
                if let Some(e) = &ebs {
                    if e.snapshot_id.is_none() && e.volume_size.is_none() {
                        return Err(ec2_err!(
                            InvalidBlockDeviceMapping,
                            "The device {} must have either a snapshot or a volume size",
                            o.device_name
                        ));
                    }
                }
                if let Some(i) = existing {
                    mappings.remove(i);
                }
                mappings.push(BlockDeviceMapping { ebs, ..o });
            }
        }
    }
    Ok(mappings)
}

/// A snapshot a mapping restores: what its volume inherits.
struct SourceSnapshot {
    snapshot_id: String,
    volume_size: i64,
    encrypted: bool,
}

/// The visible snapshots the mappings restore.
async fn source_snapshots(
    ctx: &Ctx<'_>,
    conn: &mut Conn,
    mappings: &[BlockDeviceMapping],
) -> Result<Vec<SourceSnapshot>> {
    let mut found = Vec::new();
    for id in mappings.iter().filter_map(|m| m.ebs.as_ref()?.snapshot_id.as_deref()) {
        if let Some(s) = snapshots::find_visible(conn, ctx.scope.account, ctx.scope.region, id).await? {
            found.push(SourceSnapshot {
                snapshot_id: id.to_string(),
                volume_size: s.volume_size,
                encrypted: s.encrypted,
            });
        }
    }
    Ok(found)
}

async fn check_key_pair(ctx: &Ctx<'_>, conn: &mut Conn, key_name: Option<&str>) -> Result<()> {
    let Some(key_name) = key_name else { return Ok(()) };
    match key_pairs::find(conn, ctx.scope.account, ctx.scope.region, Some(key_name), None).await? {
        Some(_) => Ok(()),
        None => Err(Ec2Error::key_pair_not_found(key_name)),
    }
}

/// A checked launch: what every instance of its reservation shares.
struct LaunchPlan<'a> {
    input: &'a RunInstancesInput,
    image: &'a Image,
    place: Placement,
    /// One private address per instance.
    addresses: Vec<String>,
    mappings: Vec<BlockDeviceMapping>,
    snapshots: Vec<SourceSnapshot>,
}

/// Stores the reservation's instances with their tags and volumes, schedules their start,
/// and marks the image launched. Returns the instances as RunInstances shows them.
async fn store_launch(ctx: &Ctx<'_>, conn: &mut Conn, plan: &LaunchPlan<'_>) -> Result<Vec<Instance>> {
    let reservation_id = ids::new_id(IdKind::Reservation);
    let mut launched = Vec::with_capacity(plan.input.count as usize);
    for index in 0..plan.input.count {
        let mut instance = new_instance(ctx, plan, &reservation_id, index);
        machines::prepare(ctx, plan.image, &mut instance)?;
        let stored = instance.settled(ctx.now);
        store::insert(conn, &stored, ctx.now).await?;
        let instance_id = &instance.instance_id;
        let instance_tags = &plan.input.instance_tags;
        tags::upsert(conn, ctx.scope.account, ctx.scope.region, instance_id, "instance", instance_tags, ctx.now)
            .await?;
        instance.interfaces = vec![create_primary_interface(ctx, conn, plan, &instance).await?];
        instance.volumes = create_volumes(ctx, conn, plan, &instance.instance_id).await?;
        ctx.app.store.schedule_transition(stored.ready_at);
        launched.push(instance);
    }
    if !plan.image.owner_id.is_empty() && !plan.image.region.is_empty() {
        store::set_image_last_launched(conn, &plan.image.image_id, &iso(ctx.now)).await?;
    }
    Ok(launched)
}

/// Instance number `index` of the reservation, pending.
fn new_instance(ctx: &Ctx<'_>, plan: &LaunchPlan<'_>, reservation_id: &str, index: i64) -> Instance {
    let (input, image, subnet) = (plan.input, plan.image, &plan.place.subnet);
    Instance {
        instance_id: ids::new_id(IdKind::Instance),
        owner_id: ctx.scope.account.to_string(),
        region: ctx.scope.region.to_string(),
        reservation_id: reservation_id.to_string(),
        image_id: input.image_id.clone(),
        instance_type: input.instance_type.name.to_string(),
        availability_zone: subnet.availability_zone.clone(),
        subnet_id: subnet.subnet_id.clone(),
        vpc_id: subnet.vpc_id.clone(),
        private_ip: plan.addresses[index as usize].clone(),
        public_ip: plan.place.public_ip.then(random_public_ip),
        key_name: input.key_name.clone(),
        user_data: input.user_data.clone(),
        state: InstanceState::Pending,
        state_transition_reason: String::new(),
        state_reason_code: None,
        state_reason_message: None,
        ready_at: Some(ctx.now + ctx.app.timings.instance_pending_ms),
        launch_time: ctx.now,
        ami_launch_index: index,
        architecture: image.architecture.clone(),
        virtualization_type: image.virtualization_type.clone(),
        root_device_type: image.root_device_type.clone(),
        root_device_name: image.root_device_name.clone(),
        platform: image.platform.clone(),
        platform_details: image.platform_details.clone(),
        usage_operation: image.usage_operation.clone(),
        boot_mode: image.boot_mode.clone(),
        ena_support: image.ena_support,
        kernel_id: image.kernel_id.clone(),
        ramdisk_id: image.ramdisk_id.clone(),
        sriov_net_support: image.sriov_net_support.clone(),
        client_token: input.client_token.clone(),
        shutdown_behavior: input.shutdown_behavior.clone(),
        disable_api_termination: input.disable_api_termination,
        disable_api_stop: input.disable_api_stop,
        ebs_optimized: input.ebs_optimized,
        security_group_ids: plan.place.groups.iter().map(|(id, _)| id.clone()).collect(),
        groups: plan.place.groups.clone(),
        interfaces: Vec::new(),
        cpu_credits: input.cpu_credits.clone(),
        product_codes: image.product_codes.clone(),
        tags: pairs(&input.instance_tags),
        volumes: Vec::new(),
    }
}

/// The instance's primary interface (device 0, deleted with it), holding its address.
async fn create_primary_interface(
    ctx: &Ctx<'_>,
    conn: &mut Conn,
    plan: &LaunchPlan<'_>,
    instance: &Instance,
) -> Result<InstanceInterface> {
    let subnet = &plan.place.subnet;
    let interface = NetworkInterface {
        network_interface_id: ids::new_id(IdKind::NetworkInterface),
        owner_id: instance.owner_id.clone(),
        region: instance.region.clone(),
        subnet_id: subnet.subnet_id.clone(),
        vpc_id: subnet.vpc_id.clone(),
        availability_zone: subnet.availability_zone.clone(),
        private_ip: instance.private_ip.clone(),
        mac_address: random_mac(),
        description: String::new(),
        interface_type: "interface".into(),
        source_dest_check: true,
        groups: plan.place.groups.clone(),
        attachment: Some(InterfaceAttachment {
            attachment_id: new_attachment_id(),
            instance_id: instance.instance_id.clone(),
            instance_owner_id: instance.owner_id.clone(),
            device_index: 0,
            attach_time: ctx.now,
            delete_on_termination: true,
        }),
        association: None,
        tags: pairs(&plan.input.interface_tags),
    };
    interfaces::insert_interface(conn, &interface, ctx.now).await?;
    let id = &interface.network_interface_id;
    let interface_tags = &plan.input.interface_tags;
    tags::upsert(conn, ctx.scope.account, ctx.scope.region, id, "network-interface", interface_tags, ctx.now).await?;
    let attachment = interface.attachment.expect("attached");
    Ok(InstanceInterface {
        network_interface_id: interface.network_interface_id,
        subnet_id: interface.subnet_id,
        vpc_id: interface.vpc_id,
        private_ip: interface.private_ip,
        mac_address: interface.mac_address,
        description: interface.description,
        source_dest_check: true,
        attachment_id: attachment.attachment_id,
        device_index: 0,
        attach_time: attachment.attach_time,
        delete_on_termination: true,
        groups: interface.groups,
        elastic_ip: None,
    })
}

/// An address of Amazon's pool, as instances get at launch.
fn pairs(tags: &[Tag]) -> Vec<(String, String)> {
    tags.iter().map(|t| (t.key.clone(), t.value.clone())).collect()
}

/// One new volume per EBS mapping, attached to the instance and tagged. Returns them as
/// the instance shows them: (device, volume id, attach time, delete on termination).
async fn create_volumes(
    ctx: &Ctx<'_>,
    conn: &mut Conn,
    plan: &LaunchPlan<'_>,
    instance_id: &str,
) -> Result<Vec<(String, String, i64, bool)>> {
    let volume_tags = &plan.input.volume_tags;
    let mut attached = Vec::new();
    for mapping in &plan.mappings {
        let Some(ebs) = &mapping.ebs else { continue };
        let volume = volume_for_mapping(ctx, &plan.place.subnet, ebs, &plan.snapshots, volume_tags)?;
        volumes::insert(conn, &volume, None).await?;
        let delete_on_termination = ebs.delete_on_termination.unwrap_or(true);
        let device = &mapping.device_name;
        store::attach_volume(conn, &volume.volume_id, instance_id, device, delete_on_termination, ctx.now).await?;
        let volume_id = &volume.volume_id;
        tags::upsert(conn, ctx.scope.account, ctx.scope.region, volume_id, "volume", volume_tags, ctx.now).await?;
        attached.push((device.clone(), volume.volume_id, ctx.now, delete_on_termination));
    }
    Ok(attached)
}

/// The in-use volume a mapping gives an instance in `zone`: sized and encrypted like its
/// snapshot unless the mapping says otherwise.
fn volume_for_mapping(
    ctx: &Ctx<'_>,
    subnet: &Subnet,
    ebs: &EbsBlockDevice,
    snapshots: &[SourceSnapshot],
    tags: &[Tag],
) -> Result<Volume> {
    let snapshot = ebs.snapshot_id.as_ref().and_then(|id| snapshots.iter().find(|s| s.snapshot_id == *id));
    let size = ebs.volume_size.or(snapshot.map(|s| s.volume_size)).unwrap_or(8);
    let volume_type = ebs.volume_type.clone().unwrap_or_else(|| "gp2".into());
    volume::check_size(&volume_type, size).map_err(|e| Ec2Error::new(Code::InvalidBlockDeviceMapping, e.message))?;
    let (iops, throughput) = volume::performance(&volume_type, size, ebs.iops, ebs.throughput)?;
    let encrypted = ebs.encrypted.unwrap_or(false) || snapshot.is_some_and(|s| s.encrypted);
    Ok(Volume {
        volume_id: ids::new_id(IdKind::Volume),
        owner_id: ctx.scope.account.to_string(),
        region: ctx.scope.region.to_string(),
        availability_zone: subnet.availability_zone.clone(),
        availability_zone_id: subnet.availability_zone_id.clone(),
        size,
        volume_type,
        iops,
        throughput,
        encrypted,
        kms_key_id: encrypted.then(|| {
            ebs.kms_key_id.clone().unwrap_or_else(|| volume::default_kms_key(ctx.scope.account, ctx.scope.region))
        }),
        snapshot_id: ebs.snapshot_id.clone(),
        state: VolumeState::InUse,
        create_time: ctx.now,
        tags: pairs(tags),
        ..Default::default()
    })
}

// RunInstances from a template -----------------------------------------------------------

/// The resource types a template's tags reach at launch (a spot request has none here).
const LAUNCH_TAGGED: [&str; 3] = ["instance", "volume", "network-interface"];

/// `LaunchTemplate.*` of a RunInstances request, with the request itself: its own
/// parameters override the template version's data once that is loaded.
#[derive(Debug, Clone)]
pub struct TemplateLaunch {
    pub template: TemplateRef,
    pub version: VersionRef,
    pub request: Params,
}

impl TemplateLaunch {
    /// `None` for a direct launch.
    pub fn parse(p: &Params) -> Result<Option<TemplateLaunch>> {
        let Some(template) = TemplateRef::parse(p, "LaunchTemplate.")? else {
            if p.has("LaunchTemplate") {
                return Err(ec2_err!(
                    MissingParameter,
                    "The request must include either the launch template ID or the launch template name."
                ));
            }
            return Ok(None);
        };
        let version =
            p.str("LaunchTemplate.Version").map(VersionRef::parse).transpose()?.unwrap_or(VersionRef::Default);
        Ok(Some(TemplateLaunch { template, version, request: p.clone() }))
    }

    /// The launch as if its parameters had all been sent: the template version's data
    /// under every member the request does not set, its tags under the request's (by
    /// resource type and key). The launch then makes every check a direct one makes.
    pub async fn input(&self, ctx: &Ctx<'_>) -> Result<RunInstancesInput> {
        let data = {
            let mut conn = ctx.app.store.read().await?;
            let template = crate::access::owned_launch_template(ctx.scope, &mut conn, &self.template).await?;
            crate::access::launch_template_version(&mut conn, &template, self.version).await?.data
        };
        let inherited = data.as_run_params(|member| member == "TagSpecification" || self.request.has(member));
        let mut input = RunInstancesInput::from_params(&self.request.with_defaults(inherited))?;
        let template_tags = Params::from_pairs(
            data.0.iter().filter(|(k, _)| top_member(k) == "TagSpecification").map(|(k, v)| (k.as_str(), v.as_str())),
        );
        let specs = parse_tag_specs(&template_tags)?;
        for (resource_type, tags) in [
            (LAUNCH_TAGGED[0], &mut input.instance_tags),
            (LAUNCH_TAGGED[1], &mut input.volume_tags),
            (LAUNCH_TAGGED[2], &mut input.interface_tags),
        ] {
            for tag in specs.iter().filter(|s| s.resource_type == resource_type).flat_map(|s| &s.tags) {
                if !tags.iter().any(|t| t.key == tag.key) {
                    tags.push(tag.clone());
                }
            }
            tag_rules::check_count(tags.len())?;
        }
        Ok(input)
    }
}

// DescribeInstances ----------------------------------------------------------------------

#[derive(Debug, Clone)]
pub struct DescribeInstancesInput {
    pub instance_ids: Vec<String>,
    pub filters: Vec<Filter>,
    pub page: Page,
}

impl FromParams for DescribeInstancesInput {
    fn from_params(p: &Params) -> Result<Self> {
        let instance_ids = dedup(p.list("InstanceId")?);
        ids::check_all(IdKind::Instance, &instance_ids)?;
        let filters = parse_filters(p, "Filter")?;
        store::FILTERS.validate(&filters)?;
        let page = parse_page(p, !instance_ids.is_empty(), "instancesSet", 5, 1000)?;
        Ok(DescribeInstancesInput { instance_ids, filters, page })
    }
}

pub async fn describe_instances(ctx: &Ctx<'_>, input: DescribeInstancesInput) -> Result<Xml> {
    ctx.check_dry_run()?;
    let DescribeInstancesInput { instance_ids, filters, page } = input;
    let query =
        InstanceQuery { account: ctx.scope.account, region: ctx.scope.region, instance_ids, filters: &filters, page };
    let (found, next) = ctx.app.store.query(|db| {
        let (found, next) = store::describe(db, &query)?;
        // An id the filters left out is no error; one the caller has no instance of is.
        let missing: Vec<String> =
            query.instance_ids.iter().filter(|id| !found.iter().any(|i| &i.instance_id == *id)).cloned().collect();
        if !missing.is_empty() {
            let owned = if filters.is_empty() {
                Found::default()
            } else {
                let by_id = InstanceQuery {
                    account: query.account,
                    region: query.region,
                    instance_ids: missing.clone(),
                    filters: &[],
                    page: Page::default(),
                };
                store::describe(db, &by_id)?.0
            };
            if let Some(unknown) = missing.iter().find(|id| !owned.iter().any(|i| &i.instance_id == *id)) {
                return Err(Ec2Error::instance_not_found(&[unknown]));
            }
        }
        Ok((found, next))
    })?;
    let reservations = by_reservation(&found);
    let mut x = Xml::new();
    x.list("reservationSet", &reservations, |x, group| {
        write_reservation(x, ctx.scope.account, ctx.scope.region, group)
    });
    write_next_token(&mut x, next);
    Ok(x)
}

/// Instances of one launch are shown together, in the order their first one appears.
fn by_reservation(instances: &[Instance]) -> Vec<Vec<&Instance>> {
    let mut reservations: Vec<Vec<&Instance>> = Vec::new();
    for instance in instances {
        match reservations.iter_mut().find(|r| r[0].reservation_id == instance.reservation_id) {
            Some(group) => group.push(instance),
            None => reservations.push(vec![instance]),
        }
    }
    reservations
}

// Start, Stop, Reboot, TerminateInstances ------------------------------------------------

/// The instances a Start/Reboot/TerminateInstances call changes: at least one, distinct,
/// well-formed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceIdsInput {
    pub instance_ids: Vec<String>,
}

impl FromParams for InstanceIdsInput {
    fn from_params(p: &Params) -> Result<Self> {
        let instance_ids = dedup(p.list("InstanceId")?);
        if instance_ids.is_empty() {
            return Err(Ec2Error::missing_parameter("InstanceId"));
        }
        ids::check_all(IdKind::Instance, &instance_ids)?;
        Ok(InstanceIdsInput { instance_ids })
    }
}

pub type StartInstancesInput = InstanceIdsInput;
pub type TerminateInstancesInput = InstanceIdsInput;
pub type RebootInstancesInput = InstanceIdsInput;

/// The instances StopInstances stops. `Force` and `Hibernate` must be booleans but change
/// nothing: there is no guest to force off or to hibernate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StopInstancesInput {
    pub instance_ids: Vec<String>,
}

impl FromParams for StopInstancesInput {
    fn from_params(p: &Params) -> Result<Self> {
        p.flag("Force")?;
        p.flag("Hibernate")?;
        let InstanceIdsInput { instance_ids } = InstanceIdsInput::from_params(p)?;
        Ok(StopInstancesInput { instance_ids })
    }
}

pub async fn start_instances(ctx: &Ctx<'_>, input: StartInstancesInput) -> Result<Xml> {
    Ok(state_changes_xml(&change_state(ctx, &input.instance_ids, Change::Start).await?))
}

pub async fn stop_instances(ctx: &Ctx<'_>, input: StopInstancesInput) -> Result<Xml> {
    Ok(state_changes_xml(&change_state(ctx, &input.instance_ids, Change::Stop).await?))
}

pub async fn terminate_instances(ctx: &Ctx<'_>, input: TerminateInstancesInput) -> Result<Xml> {
    Ok(state_changes_xml(&change_state(ctx, &input.instance_ids, Change::Terminate).await?))
}

pub async fn reboot_instances(ctx: &Ctx<'_>, input: RebootInstancesInput) -> Result<Xml> {
    change_state(ctx, &input.instance_ids, Change::Reboot).await?;
    Ok(Xml::return_true())
}

fn state_changes_xml(changes: &[StateChange]) -> Xml {
    let mut x = Xml::new();
    write_state_changes(&mut x, changes);
    x
}

/// What a state-changing call does to one instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    Start,
    Stop,
    Terminate,
    Reboot,
}

/// The instance after `change`, or the error EC2 gives. `None`: nothing to change.
fn apply(ctx: &Ctx<'_>, i: &Instance, change: Change) -> Result<Option<Instance>> {
    let id = &i.instance_id;
    let timings = &ctx.app.timings;
    let user_reason = format!(
        "User initiated ({})",
        iso(ctx.now).replace('T', " ").split('.').next().unwrap_or_default().to_string() + " GMT"
    );
    let mut next = i.clone();
    match (change, i.state) {
        (Change::Start, InstanceState::Stopped) => {
            // A stopped instance gives up its public address and gets a new one on start.
            next.public_ip = Some(random_public_ip());
            next.state = InstanceState::Pending;
            next.ready_at = Some(ctx.now + timings.instance_pending_ms);
            next.launch_time = ctx.now;
            next.state_transition_reason = String::new();
            next.state_reason_code = None;
            next.state_reason_message = None;
        }
        (Change::Start, InstanceState::Pending | InstanceState::Running) => return Ok(None),
        (Change::Start, _) => {
            return Err(ec2_err!(IncorrectInstanceState, "The instance '{id}' is not in a state from which it can be started."))
        }
        (Change::Stop, _) if i.root_device_type != "ebs" => {
            return Err(ec2_err!(
                UnsupportedOperation,
                "The instance '{id}' does not have an 'ebs' root device type and cannot be stopped."
            ))
        }
        (Change::Stop, InstanceState::Running) if i.disable_api_stop => {
            return Err(ec2_err!(
                OperationNotPermitted,
                "The instance '{id}' may not be stopped. Modify its 'disableApiStop' instance attribute and try again."
            ))
        }
        (Change::Stop, InstanceState::Running) => {
            next.state = InstanceState::Stopping;
            next.ready_at = Some(ctx.now + timings.instance_stopping_ms);
            next.state_transition_reason = user_reason;
            next.state_reason_code = Some("Client.UserInitiatedShutdown".into());
            next.state_reason_message = Some("Client.UserInitiatedShutdown: User initiated shutdown".into());
        }
        (Change::Stop, InstanceState::Stopping | InstanceState::Stopped) => return Ok(None),
        (Change::Stop, InstanceState::Pending) => {
            return Err(ec2_err!(
                IncorrectInstanceState,
                "Instance '{id}' cannot be stopped as it has never reached the 'running' state."
            ))
        }
        (Change::Stop, _) => {
            return Err(ec2_err!(IncorrectInstanceState, "This instance '{id}' is not in a state from which it can be stopped."))
        }
        (Change::Terminate, InstanceState::ShuttingDown | InstanceState::Terminated) => return Ok(None),
        (Change::Terminate, _) if i.disable_api_termination => {
            return Err(ec2_err!(
                OperationNotPermitted,
                "The instance '{id}' may not be terminated. Modify its 'disableApiTermination' instance attribute and try again."
            ))
        }
        (Change::Terminate, _) => {
            next.state = InstanceState::ShuttingDown;
            next.ready_at = Some(ctx.now + timings.instance_shutting_down_ms);
            next.state_transition_reason = user_reason;
            next.state_reason_code = Some("Client.UserInitiatedShutdown".into());
            next.state_reason_message = Some("Client.UserInitiatedShutdown: User initiated shutdown".into());
        }
        (Change::Reboot, InstanceState::Running | InstanceState::Pending) => return Ok(None),
        (Change::Reboot, _) => {
            return Err(ec2_err!(IncorrectInstanceState, "The instance '{id}' is not in a state from which it can be rebooted."))
        }
    }
    Ok(Some(next))
}

/// Applies `change` to every instance, or to none when one of them refuses it.
async fn change_state(ctx: &Ctx<'_>, instance_ids: &[String], change: Change) -> Result<Vec<StateChange>> {
    let mut tx = ctx.app.store.write().await?;
    let mut current = Vec::with_capacity(instance_ids.len());
    let mut missing = Vec::new();
    for id in instance_ids {
        match store::find_owned(&mut tx, ctx.scope.account, ctx.scope.region, id).await? {
            Some(i) => current.push(i),
            None => missing.push(id.as_str()),
        }
    }
    if !missing.is_empty() {
        return Err(Ec2Error::instance_not_found(&missing));
    }
    let planned = current.iter().map(|i| apply(ctx, i, change)).collect::<Result<Vec<_>>>()?;
    ctx.check_dry_run()?;
    let mut changes = Vec::with_capacity(current.len());
    let mut followed = Vec::new();
    for (before, after) in current.iter().zip(planned) {
        let shown = match after {
            Some(mut next) => {
                machines::keep_address(ctx, before, &mut next);
                let stored = next.settled(ctx.now);
                store::set_state(&mut tx, &stored, ctx.now).await?;
                ctx.app.store.schedule_transition(stored.ready_at);
                if stored.state == InstanceState::Terminated {
                    // Its retention ends then; the settle pass removes it.
                    ctx.app.store.schedule_transition(Some(ctx.now + ctx.app.timings.terminated_retention_ms));
                }
                followed.push((before.clone(), stored));
                next.state
            }
            None => before.state,
        };
        changes.push(StateChange {
            instance_id: before.instance_id.clone(),
            previous_state: before.state,
            current_state: shown,
        });
    }
    tx.commit().await?;
    for (before, after) in &followed {
        machines::follow(ctx, before, after);
    }
    if change == Change::Reboot {
        current
            .iter()
            .filter(|i| i.state == InstanceState::Running)
            .for_each(|i| machines::reboot(ctx, &i.instance_id));
    }
    Ok(changes)
}

// DescribeInstanceStatus -----------------------------------------------------------------

/// The filters DescribeInstanceStatus knows.
const STATUS_FILTERS: &[&str] = &[
    "availability-zone",
    "instance-state-name",
    "instance-state-code",
    "system-status.status",
    "instance-status.status",
];

#[derive(Debug, Clone)]
pub struct DescribeInstanceStatusInput {
    pub instance_ids: Vec<String>,
    /// Stopped and other not-running instances too, not only running ones.
    pub include_all_instances: bool,
    pub filters: Vec<Filter>,
    pub page: Page,
}

impl FromParams for DescribeInstanceStatusInput {
    fn from_params(p: &Params) -> Result<Self> {
        let instance_ids = dedup(p.list("InstanceId")?);
        ids::check_all(IdKind::Instance, &instance_ids)?;
        let include_all_instances = p.flag("IncludeAllInstances")?;
        let filters = parse_filters(p, "Filter")?;
        let page = parse_page(p, !instance_ids.is_empty(), "instancesSet", 5, 1000)?;
        if let Some(unknown) = filters.iter().find(|f| !STATUS_FILTERS.contains(&f.name.as_str())) {
            return Err(ec2_err!(InvalidParameterValue, "The filter '{}' is invalid", unknown.name));
        }
        Ok(DescribeInstanceStatusInput { instance_ids, include_all_instances, filters, page })
    }
}

pub async fn describe_instance_status(ctx: &Ctx<'_>, input: DescribeInstanceStatusInput) -> Result<Xml> {
    ctx.check_dry_run()?;
    let DescribeInstanceStatusInput { instance_ids, include_all_instances, filters, page } = input;
    let query =
        InstanceQuery { account: ctx.scope.account, region: ctx.scope.region, instance_ids, filters: &[], page };
    let (found, next) = ctx.app.store.query(|db| store::describe(db, &query))?;
    if let Some(missing) = query.instance_ids.iter().find(|id| !found.iter().any(|i| &i.instance_id == *id)) {
        return Err(Ec2Error::instance_not_found(&[missing]));
    }
    let shown: Vec<Instance> =
        found.iter().filter(|i| include_all_instances || i.state == InstanceState::Running).cloned().collect();
    let shown = filter_in_memory(shown, &filters, STATUS_FILTERS, |i, name| {
        vec![match name {
            "availability-zone" => i.availability_zone.clone(),
            "instance-state-name" => i.state.to_string(),
            "instance-state-code" => i.state.code().to_string(),
            _ => status_check(i).to_string(),
        }]
    })?;
    let mut x = Xml::new();
    x.list("instanceStatusSet", &shown, write_instance_status);
    write_next_token(&mut x, next);
    Ok(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(pairs: &[(&str, &str)]) -> Result<RunInstancesInput> {
        let base = [("ImageId", "ami-0123456789abcdef0"), ("MinCount", "1"), ("MaxCount", "1")];
        let mut all: Vec<(&str, &str)> = base.into_iter().filter(|(k, _)| !pairs.iter().any(|(o, _)| o == k)).collect();
        all.extend_from_slice(pairs);
        RunInstancesInput::from_params(&Params::from_pairs(all))
    }

    fn code<T: std::fmt::Debug>(result: Result<T>) -> &'static str {
        result.unwrap_err().code.as_str()
    }

    #[test]
    fn run_instances_reads_a_full_launch() {
        let input = run(&[
            ("MaxCount", "300"),
            ("InstanceType", "t3.micro"),
            ("NetworkInterface.1.SubnetId", "subnet-0123456789abcdef0"),
            ("Placement.AvailabilityZone", "us-east-1a"),
            ("SecurityGroupId.1", "sg-0123456789abcdef0"),
            ("SecurityGroup.1", "default"),
            ("InstanceInitiatedShutdownBehavior", "terminate"),
            ("DisableApiTermination", "true"),
            ("TagSpecification.1.ResourceType", "instance"),
            ("TagSpecification.1.Tag.1.Key", "Name"),
            ("TagSpecification.1.Tag.1.Value", "web"),
            ("TagSpecification.2.ResourceType", "volume"),
            ("TagSpecification.2.Tag.1.Key", "team"),
            ("BlockDeviceMapping.1.DeviceName", "/dev/xvda"),
            ("BlockDeviceMapping.1.Ebs.VolumeSize", "12"),
            ("KeyName", "web-key"),
            ("UserData", "ZWNobw=="),
            ("ClientToken", "token-1"),
        ])
        .unwrap();
        assert_eq!(input.count, MAX_LAUNCH);
        assert_eq!(input.instance_type.name, "t3.micro");
        assert_eq!(
            input.placement,
            PlacementRequest {
                subnet_id: Some("subnet-0123456789abcdef0".into()),
                zone: Some("us-east-1a".into()),
                security_group_ids: vec!["sg-0123456789abcdef0".into()],
                security_group_names: vec!["default".into()],
                ..Default::default()
            }
        );
        assert_eq!((input.shutdown_behavior.as_str(), input.disable_api_termination), ("terminate", true));
        assert_eq!(input.instance_tags, [Tag { key: "Name".into(), value: "web".into() }]);
        assert_eq!(input.volume_tags, [Tag { key: "team".into(), value: String::new() }]);
        assert_eq!(input.block_device_mappings[0].ebs.as_ref().unwrap().volume_size, Some(12));
        assert_eq!(input.key_name.as_deref(), Some("web-key"));
        assert_eq!(input.client_token.as_deref(), Some("token-1"));
    }

    #[test]
    fn run_instances_defaults() {
        let input = run(&[]).unwrap();
        assert_eq!((input.count, input.instance_type.name), (1, "m1.small"));
        assert_eq!((input.shutdown_behavior.as_str(), input.disable_api_termination), ("stop", false));
        assert_eq!(input.placement, PlacementRequest::default());
    }

    #[test]
    fn run_instances_refusals() {
        assert_eq!(code(run(&[("ImageId", "")])), "MissingParameter");
        assert_eq!(
            code(RunInstancesInput::from_params(&Params::from_pairs([("ImageId", "ami-12345678")]))),
            "MissingParameter"
        );
        assert_eq!(code(run(&[("MinCount", "2"), ("MaxCount", "1")])), "InvalidParameterValue");
        assert_eq!(code(run(&[("MinCount", "0")])), "InvalidParameterValue");
        assert_eq!(code(run(&[("MinCount", "101"), ("MaxCount", "101")])), "InstanceLimitExceeded");
        assert_eq!(code(run(&[("InstanceType", "z9.huge")])), "InvalidParameterValue");
        assert_eq!(code(run(&[("SubnetId", "subnet-xyz")])), "InvalidSubnetID.Malformed");
        assert_eq!(code(run(&[("SecurityGroupId.1", "group")])), "InvalidGroupId.Malformed");
        assert_eq!(code(run(&[("InstanceInitiatedShutdownBehavior", "hibernate")])), "InvalidParameterValue");
        assert_eq!(code(run(&[("DisableApiTermination", "yes")])), "InvalidParameterValue");
        assert_eq!(code(run(&[("TagSpecification.1.ResourceType", "image")])), "InvalidParameterValue");
        assert_eq!(code(run(&[("BlockDeviceMapping.1.Ebs.VolumeSize", "8")])), "MissingParameter");
        assert_eq!(code(run(&[("ImageId", "ami-xyz")])), "InvalidAMIID.Malformed");
        // Parameter errors come before the image id's form.
        assert_eq!(code(run(&[("ImageId", "ami-xyz"), ("MinCount", "0")])), "InvalidParameterValue");
    }

    fn image_with_root(snapshot_id: Option<&str>, size: i64) -> Image {
        Image {
            block_device_mappings: vec![BlockDeviceMapping {
                device_name: "/dev/xvda".into(),
                ebs: Some(EbsBlockDevice {
                    snapshot_id: snapshot_id.map(str::to_string),
                    volume_size: Some(size),
                    volume_type: Some("gp2".into()),
                    ..Default::default()
                }),
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    fn mapping(device: &str, ebs: Option<EbsBlockDevice>, no_device: bool) -> BlockDeviceMapping {
        BlockDeviceMapping { device_name: device.into(), ebs, no_device, ..Default::default() }
    }

    #[test]
    fn overrides_merge_over_the_image_mappings() {
        let image = image_with_root(Some("snap-0123456789abcdef0"), 8);
        let bigger = EbsBlockDevice { volume_size: Some(12), volume_type: Some("gp3".into()), ..Default::default() };
        let extra = EbsBlockDevice { volume_size: Some(3), ..Default::default() };
        let merged = merge_mappings(
            &image,
            &[mapping("/dev/xvda", Some(bigger), false), mapping("/dev/sdh", Some(extra), false)],
        )
        .unwrap();
        let root = merged[0].ebs.as_ref().unwrap();
        assert_eq!(root.snapshot_id.as_deref(), Some("snap-0123456789abcdef0"));
        assert_eq!((root.volume_size, root.volume_type.as_deref()), (Some(12), Some("gp3")));
        assert_eq!(merged[1].device_name, "/dev/sdh");

        let dropped = merge_mappings(&image, &[mapping("/dev/xvda", None, true)]).unwrap();
        assert!(dropped.is_empty());
    }

    #[test]
    fn overrides_may_not_shrink_a_snapshot_or_leave_a_volume_unsized() {
        let image = image_with_root(Some("snap-0123456789abcdef0"), 8);
        let smaller = EbsBlockDevice { volume_size: Some(4), ..Default::default() };
        let err = merge_mappings(&image, &[mapping("/dev/xvda", Some(smaller), false)]).unwrap_err();
        assert_eq!(err.code, "InvalidBlockDeviceMapping");
        let no_size = EbsBlockDevice { volume_type: Some("gp3".into()), ..Default::default() };
        let err = merge_mappings(&image, &[mapping("/dev/sdh", Some(no_size), false)]).unwrap_err();
        assert_eq!(err.message, "The device /dev/sdh must have either a snapshot or a volume size");
    }

    #[test]
    fn describe_instances_input() {
        let p = Params::from_pairs([
            ("InstanceId.1", "i-0123456789abcdef0"),
            ("InstanceId.2", "i-0123456789abcdef0"),
            ("Filter.1.Name", "instance-type"),
            ("Filter.1.Value.1", "t3.micro"),
        ]);
        let input = DescribeInstancesInput::from_params(&p).unwrap();
        assert_eq!(input.instance_ids, ["i-0123456789abcdef0"]);
        assert_eq!(input.filters[0].name, "instance-type");

        let p = Params::from_pairs([("InstanceId.1", "i-xyz")]);
        assert_eq!(code(DescribeInstancesInput::from_params(&p)), "InvalidInstanceID.Malformed");
        let p = Params::from_pairs([("Filter.1.Name", "flavour"), ("Filter.1.Value.1", "x")]);
        assert_eq!(code(DescribeInstancesInput::from_params(&p)), "InvalidParameterValue");
        let p = Params::from_pairs([("InstanceId.1", "i-0123456789abcdef0"), ("MaxResults", "5")]);
        assert_eq!(code(DescribeInstancesInput::from_params(&p)), "InvalidParameterCombination");
    }

    #[test]
    fn state_changes_need_well_formed_instance_ids() {
        let p = Params::from_pairs([("InstanceId.1", "i-0123456789abcdef0"), ("InstanceId.2", "i-0123456789abcdef0")]);
        assert_eq!(InstanceIdsInput::from_params(&p).unwrap().instance_ids, ["i-0123456789abcdef0"]);
        assert_eq!(code(InstanceIdsInput::from_params(&Params::default())), "MissingParameter");
        let p = Params::from_pairs([("InstanceId.1", "instance-1")]);
        assert_eq!(code(InstanceIdsInput::from_params(&p)), "InvalidInstanceID.Malformed");

        let p = Params::from_pairs([("InstanceId.1", "i-0123456789abcdef0"), ("Force", "true")]);
        assert_eq!(StopInstancesInput::from_params(&p).unwrap().instance_ids, ["i-0123456789abcdef0"]);
        let p = Params::from_pairs([("InstanceId.1", "i-0123456789abcdef0"), ("Hibernate", "maybe")]);
        assert_eq!(code(StopInstancesInput::from_params(&p)), "InvalidParameterValue");
    }

    #[test]
    fn describe_instance_status_input() {
        let p = Params::from_pairs([
            ("IncludeAllInstances", "true"),
            ("Filter.1.Name", "instance-status.status"),
            ("Filter.1.Value.1", "ok"),
        ]);
        let input = DescribeInstanceStatusInput::from_params(&p).unwrap();
        assert!(input.include_all_instances);
        assert_eq!(input.filters[0].values, ["ok"]);

        let p = Params::from_pairs([("Filter.1.Name", "instance-type"), ("Filter.1.Value.1", "t3.micro")]);
        assert_eq!(code(DescribeInstanceStatusInput::from_params(&p)), "InvalidParameterValue");
        let p = Params::from_pairs([("InstanceId.1", "i-xyz")]);
        assert_eq!(code(DescribeInstanceStatusInput::from_params(&p)), "InvalidInstanceID.Malformed");
    }

    #[test]
    fn run_instances_names_a_template() {
        let p = Params::from_pairs([
            ("LaunchTemplate.LaunchTemplateId", "lt-0123456789abcdef0"),
            ("LaunchTemplate.Version", "4"),
            ("MinCount", "1"),
            ("MaxCount", "1"),
        ]);
        let launch = TemplateLaunch::parse(&p).unwrap().unwrap();
        assert_eq!(launch.template, TemplateRef::Id("lt-0123456789abcdef0".into()));
        assert_eq!(launch.version, VersionRef::Number(4));
        let p = Params::from_pairs([("LaunchTemplate.LaunchTemplateName", "web")]);
        assert_eq!(TemplateLaunch::parse(&p).unwrap().unwrap().version, VersionRef::Default);
        assert!(TemplateLaunch::parse(&Params::from_pairs([("ImageId", "ami-12345678")])).unwrap().is_none());
        let p = Params::from_pairs([("LaunchTemplate.Version", "1")]);
        assert_eq!(code(TemplateLaunch::parse(&p)), "MissingParameter");
    }
}
