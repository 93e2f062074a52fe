//! RunInstances, DescribeInstances, Start/Stop/Reboot/TerminateInstances,
//! DescribeInstanceStatus, and the `Instance` XML shape.

use rand::Rng;

use crate::wire::query::parse_block_device_mappings;

use super::Ctx;
use crate::domain::clock::iso;
use crate::domain::filter::filter_in_memory;
use crate::domain::ids::{self, IdKind};
use crate::domain::image::{BlockDeviceMapping, EbsBlockDevice, Image};
use crate::domain::instance::{self, check_compatible, instance_type, state, state_code, Instance};
use crate::domain::network::{default_security_group_id, default_subnets, Subnet};
use crate::domain::regions;
use crate::domain::tags::{self as tag_rules, Tag};
use crate::domain::volume::{self, state as volume_state, Volume};
use crate::ec2_err;
use crate::error::{Ec2Error, Result};
use crate::store::instances::{self as store, InstanceQuery};
use crate::store::{snapshots, tags, volumes, Conn};
use crate::wire::params::Params;
use crate::wire::query::{dedup, parse_filters, parse_page, parse_tag_specs, write_next_token};
use crate::wire::xml::Xml;

/// Most instances one RunInstances call may launch.
const MAX_LAUNCH: i64 = 100;

/// The request's `BlockDeviceMapping.N` applied over the image's mappings.
fn merge_mappings(image: &Image, overrides: Vec<BlockDeviceMapping>) -> Result<Vec<BlockDeviceMapping>> {
    let mut mappings = image.block_device_mappings.clone();
    for o in overrides {
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

struct Placement {
    subnet: Subnet,
    security_groups: Vec<String>,
}

fn placement(ctx: &Ctx<'_>, p: &Params) -> Result<Placement> {
    let region = regions::find(ctx.scope.region).expect("known region");
    let subnets = default_subnets(ctx.scope.account, region);
    let subnet_id = p.str("SubnetId").or(p.str("NetworkInterface.1.SubnetId"));
    let zone = p.str("Placement.AvailabilityZone");
    let subnet = match (subnet_id, zone) {
        (Some(id), _) => {
            ids::check(IdKind::Subnet, id)?;
            let subnet = subnets
                .into_iter()
                .find(|s| s.subnet_id == id)
                .ok_or_else(|| ec2_err!(InvalidSubnetID_NotFound, "The subnet ID '{id}' does not exist"))?;
            if zone.is_some_and(|z| z != subnet.zone.name) {
                return Err(ec2_err!(
                    InvalidParameterCombination,
                    "The specified subnet {id} is not in the availability zone {}",
                    zone.unwrap_or_default()
                ));
            }
            subnet
        }
        (None, Some(zone)) => subnets
            .into_iter()
            .find(|s| s.zone.name == zone)
            .ok_or_else(|| ec2_err!(InvalidParameterValue, "Invalid availability zone: [{zone}]"))?,
        (None, None) => subnets.into_iter().next().expect("every region has zones"),
    };
    let default_group = default_security_group_id(ctx.scope.account, ctx.scope.region);
    let mut groups = p.list("SecurityGroupId")?;
    groups.extend(p.list("NetworkInterface.1.SecurityGroupId")?);
    for id in &groups {
        ids::check(IdKind::SecurityGroup, id)?;
        if *id != default_group {
            return Err(ec2_err!(InvalidGroup_NotFound, "The security group '{id}' does not exist"));
        }
    }
    for name in p.list("SecurityGroup")? {
        if name != "default" {
            return Err(ec2_err!(
                InvalidGroup_NotFound,
                "The security group '{name}' does not exist in default VPC '{}'",
                subnet.vpc_id
            ));
        }
        groups.push(default_group.clone());
    }
    if groups.is_empty() {
        groups.push(default_group);
    }
    Ok(Placement { subnet, security_groups: dedup(groups) })
}

/// Read by the handler until this action has a typed input.
pub type RunInstancesInput = Params;

pub async fn run_instances(ctx: &Ctx<'_>, p: RunInstancesInput) -> Result<Xml> {
    let p = &p;
    let image_id = p.required("ImageId")?;
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
    let count = max.min(MAX_LAUNCH);
    let itype = instance_type(p.str("InstanceType").unwrap_or("m1.small"))?;
    let place = placement(ctx, p)?;
    let shutdown_behavior = p.str("InstanceInitiatedShutdownBehavior").unwrap_or("stop");
    crate::domain::image::check_enum("InstanceInitiatedShutdownBehavior", shutdown_behavior, &["stop", "terminate"])?;
    let disable_api_termination = p.flag("DisableApiTermination")?;
    let tag_specs = parse_tag_specs(p)?;
    let allowed = ["instance", "volume", "network-interface"];
    let instance_tags = tag_rules::for_type(&tag_specs, &allowed, "instance")?;
    let volume_tags = tag_rules::for_type(&tag_specs, &allowed, "volume")?;
    let overrides = parse_block_device_mappings(p)?;
    let client_token = p.str("ClientToken");

    let mut tx = ctx.app.store.write().await?;
    if let Some(token) = client_token {
        let earlier = store::find_by_client_token(&mut tx, ctx.scope.account, ctx.scope.region, token).await?;
        if let Some(first) = earlier.first() {
            let same = first.image_id == image_id && first.instance_type == itype.name && earlier.len() as i64 == count;
            if !same {
                return Err(ec2_err!(
                    IdempotentParameterMismatch,
                    "Client token '{token}' was already used with different parameters."
                ));
            }
            ctx.check_dry_run()?;
            let mut x = Xml::new();
            write_reservation(&mut x, ctx, &earlier);
            return Ok(x);
        }
    }
    let image =
        crate::access::launchable_image(ctx.scope, &mut tx, image_id, ctx.app.timings.accept_unknown_images).await?;
    check_compatible(itype, &image.architecture, &image.virtualization_type)?;
    let mappings = merge_mappings(&image, overrides)?;
    let sizes = snapshot_sizes(ctx, &mut tx, &mappings).await?;
    if let Some(key_name) = p.str("KeyName") {
        if crate::store::key_pairs::find(&mut tx, ctx.scope.account, ctx.scope.region, Some(key_name), None)
            .await?
            .is_none()
        {
            return Err(Ec2Error::key_pair_not_found(key_name));
        }
    }
    ctx.check_dry_run()?;

    let reservation_id = ids::new_id(IdKind::Reservation);
    let ready_at = ctx.now + ctx.app.timings.instance_pending_ms;
    let mut launched = Vec::with_capacity(count as usize);
    for index in 0..count {
        let private_ip = instance::private_ip(place.subnet.zone_index, rand::rng().random_range(0..4088));
        let public_ip = random_public_ip();
        let mut instance = Instance {
            instance_id: ids::new_id(IdKind::Instance),
            owner_id: ctx.scope.account.to_string(),
            region: ctx.scope.region.to_string(),
            reservation_id: reservation_id.clone(),
            image_id: image_id.to_string(),
            instance_type: itype.name.to_string(),
            availability_zone: place.subnet.zone.name.clone(),
            subnet_id: place.subnet.subnet_id.clone(),
            vpc_id: place.subnet.vpc_id.clone(),
            private_ip,
            public_ip: Some(public_ip),
            key_name: p.str("KeyName").map(str::to_string),
            user_data: p.str("UserData").map(str::to_string),
            state: state::PENDING.to_string(),
            state_transition_reason: String::new(),
            state_reason_code: None,
            state_reason_message: None,
            ready_at: Some(ready_at),
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
            client_token: client_token.map(str::to_string),
            shutdown_behavior: shutdown_behavior.to_string(),
            disable_api_termination,
            security_group_ids: place.security_groups.clone(),
            tags: pairs(&instance_tags),
            volumes: Vec::new(),
        };
        let stored = instance.settled(ctx.now);
        store::insert(&mut tx, &stored, ctx.now).await?;
        tags::upsert(
            &mut tx,
            ctx.scope.account,
            ctx.scope.region,
            &instance.instance_id,
            "instance",
            &instance_tags,
            ctx.now,
        )
        .await?;
        for mapping in &mappings {
            let Some(ebs) = &mapping.ebs else { continue };
            let volume = volume_for_mapping(ctx, &instance, ebs, &sizes, &volume_tags)?;
            volumes::insert(&mut tx, &volume, None).await?;
            let delete_on_termination = ebs.delete_on_termination.unwrap_or(true);
            store::attach_volume(
                &mut tx,
                &volume.volume_id,
                &instance.instance_id,
                &mapping.device_name,
                delete_on_termination,
                ctx.now,
            )
            .await?;
            tags::upsert(
                &mut tx,
                ctx.scope.account,
                ctx.scope.region,
                &volume.volume_id,
                "volume",
                &volume_tags,
                ctx.now,
            )
            .await?;
            instance.volumes.push((mapping.device_name.clone(), volume.volume_id, ctx.now, delete_on_termination));
        }
        ctx.app.store.schedule_transition(stored.ready_at);
        launched.push(instance);
    }
    if !image.owner_id.is_empty() && !image.region.is_empty() {
        store::set_image_last_launched(&mut tx, image_id, &iso(ctx.now)).await?;
    }
    tx.commit().await?;
    let mut x = Xml::new();
    write_reservation(&mut x, ctx, &launched);
    Ok(x)
}

fn random_public_ip() -> String {
    let mut rng = rand::rng();
    format!("3.{}.{}.{}", rng.random_range(80..240), rng.random_range(0..256), rng.random_range(1..255))
}

fn pairs(tags: &[Tag]) -> Vec<(String, String)> {
    tags.iter().map(|t| (t.key.clone(), t.value.clone())).collect()
}

/// The sizes of the snapshots the mappings restore, checking that each is usable.
async fn snapshot_sizes(
    ctx: &Ctx<'_>,
    conn: &mut Conn,
    mappings: &[BlockDeviceMapping],
) -> Result<Vec<(String, i64, bool)>> {
    let mut sizes = Vec::new();
    for id in mappings.iter().filter_map(|m| m.ebs.as_ref()?.snapshot_id.as_deref()) {
        if let Some(s) = snapshots::find_visible(conn, ctx.scope.account, ctx.scope.region, id).await? {
            sizes.push((id.to_string(), s.volume_size, s.encrypted));
        }
    }
    Ok(sizes)
}

fn volume_for_mapping(
    ctx: &Ctx<'_>,
    instance: &Instance,
    ebs: &EbsBlockDevice,
    sizes: &[(String, i64, bool)],
    tags: &[Tag],
) -> Result<Volume> {
    let snapshot = ebs.snapshot_id.as_ref().and_then(|id| sizes.iter().find(|(s, _, _)| s == id));
    let size = ebs.volume_size.or(snapshot.map(|s| s.1)).unwrap_or(8);
    let volume_type = ebs.volume_type.clone().unwrap_or_else(|| "gp2".into());
    volume::check_size(&volume_type, size)
        .map_err(|e| Ec2Error::new(crate::error::Code::InvalidBlockDeviceMapping, e.message))?;
    let (iops, throughput) = volume::performance(&volume_type, size, ebs.iops, ebs.throughput)?;
    let encrypted = ebs.encrypted.unwrap_or(false) || snapshot.is_some_and(|s| s.2);
    Ok(Volume {
        volume_id: ids::new_id(IdKind::Volume),
        owner_id: ctx.scope.account.to_string(),
        region: ctx.scope.region.to_string(),
        availability_zone: instance.availability_zone.clone(),
        availability_zone_id: regions::zone_by_name(
            regions::find(ctx.scope.region).expect("known"),
            &instance.availability_zone,
        )
        .map(|z| z.id)
        .unwrap_or_default(),
        size,
        volume_type,
        iops,
        throughput,
        encrypted,
        kms_key_id: encrypted.then(|| {
            ebs.kms_key_id
                .clone()
                .unwrap_or_else(|| crate::domain::volume::default_kms_key(ctx.scope.account, ctx.scope.region))
        }),
        snapshot_id: ebs.snapshot_id.clone(),
        state: volume_state::IN_USE.to_string(),
        create_time: ctx.now,
        tags: pairs(tags),
        ..Default::default()
    })
}

/// Read by the handler until this action has a typed input.
pub type DescribeInstancesInput = Params;

pub async fn describe_instances(ctx: &Ctx<'_>, p: DescribeInstancesInput) -> Result<Xml> {
    let p = &p;
    let instance_ids = dedup(p.list("InstanceId")?);
    ids::check_all(IdKind::Instance, &instance_ids)?;
    let filters = parse_filters(p, "Filter")?;
    store::FILTERS.validate(&filters)?;
    let page = parse_page(p, !instance_ids.is_empty(), "instancesSet", 5, 1000)?;
    ctx.check_dry_run()?;
    let query =
        InstanceQuery { account: ctx.scope.account, region: ctx.scope.region, instance_ids, filters: &filters, page };
    let mut conn = ctx.app.store.read().await?;
    let (found, next) = store::describe(&mut conn, &query).await?;
    for missing in query.instance_ids.iter().filter(|id| !found.iter().any(|i| &i.instance_id == *id)) {
        if filters.is_empty()
            || store::find_owned(&mut conn, ctx.scope.account, ctx.scope.region, missing).await?.is_none()
        {
            return Err(Ec2Error::instance_not_found(&[missing]));
        }
    }
    // Instances of one launch are shown together, in the order their first one appears.
    let mut reservations: Vec<Vec<Instance>> = Vec::new();
    for instance in found {
        match reservations.iter_mut().find(|r| r[0].reservation_id == instance.reservation_id) {
            Some(group) => group.push(instance),
            None => reservations.push(vec![instance]),
        }
    }
    let mut x = Xml::new();
    x.list("reservationSet", &reservations, |x, group| write_reservation(x, ctx, group));
    write_next_token(&mut x, next);
    Ok(x)
}

/// A reservation's members: the body of RunInstances, and each `reservationSet` item.
fn write_reservation(x: &mut Xml, ctx: &Ctx<'_>, instances: &[Instance]) {
    x.text("reservationId", instances.first().map(|i| i.reservation_id.as_str()).unwrap_or_default())
        .text("ownerId", ctx.scope.account)
        .empty("groupSet");
    x.list("instancesSet", instances, |x, i| write_instance(x, i, ctx.scope.region));
}

pub fn write_instance(x: &mut Xml, i: &Instance, region: &str) {
    let shows_public = matches!(i.state.as_str(), state::PENDING | state::RUNNING);
    let public_ip = i.public_ip.as_deref().filter(|_| shows_public);
    let private_dns =
        if i.state == state::TERMINATED { String::new() } else { instance::private_dns_name(&i.private_ip, region) };
    x.text("instanceId", &i.instance_id)
        .text("imageId", &i.image_id)
        .open("instanceState")
        .num("code", state_code(&i.state))
        .text("name", &i.state)
        .close("instanceState")
        .text("privateDnsName", &private_dns)
        .text("dnsName", &public_ip.map(|ip| instance::public_dns_name(ip, region)).unwrap_or_default())
        .text("reason", &i.state_transition_reason)
        .opt_text("keyName", i.key_name.as_deref())
        .num("amiLaunchIndex", i.ami_launch_index)
        .empty("productCodes")
        .text("instanceType", &i.instance_type)
        .text("launchTime", &iso(i.launch_time))
        .open("placement")
        .text("availabilityZone", &i.availability_zone)
        .empty("groupName")
        .text("tenancy", "default")
        .close("placement")
        .opt_text("kernelId", i.kernel_id.as_deref())
        .opt_text("platform", i.platform.as_deref())
        .text("platformDetails", &i.platform_details)
        .text("usageOperation", &i.usage_operation)
        .open("monitoring")
        .text("state", "disabled")
        .close("monitoring");
    if i.state != state::TERMINATED {
        x.text("subnetId", &i.subnet_id).text("vpcId", &i.vpc_id).text("privateIpAddress", &i.private_ip);
    }
    x.opt_text("ipAddress", public_ip).bool("sourceDestCheck", true);
    x.list("groupSet", &i.security_group_ids, |x, id| {
        x.text("groupId", id).text("groupName", "default");
    });
    if let Some(code) = &i.state_reason_code {
        x.open("stateReason")
            .text("code", code)
            .text("message", i.state_reason_message.as_deref().unwrap_or_default())
            .close("stateReason");
    }
    x.text("architecture", &i.architecture)
        .text("rootDeviceType", &i.root_device_type)
        .opt_text("rootDeviceName", i.root_device_name.as_deref());
    x.list("blockDeviceMapping", &i.volumes, |x, (device, volume_id, attach_time, delete_on_termination)| {
        x.text("deviceName", device)
            .open("ebs")
            .text("volumeId", volume_id)
            .text("status", "attached")
            .text("attachTime", &iso(*attach_time))
            .bool("deleteOnTermination", *delete_on_termination)
            .close("ebs");
    });
    x.text("virtualizationType", &i.virtualization_type)
        .opt_text("clientToken", i.client_token.as_deref())
        .tag_set(&i.tags)
        .text("hypervisor", "xen")
        .bool("ebsOptimized", false)
        .opt_bool("enaSupport", i.ena_support)
        .open("cpuOptions")
        .num("coreCount", 1)
        .num("threadsPerCore", 2)
        .close("cpuOptions")
        .open("capacityReservationSpecification")
        .text("capacityReservationPreference", "open")
        .close("capacityReservationSpecification")
        .open("hibernationOptions")
        .bool("configured", false)
        .close("hibernationOptions")
        .open("metadataOptions")
        .text("state", "applied")
        .text("httpTokens", "required")
        .num("httpPutResponseHopLimit", 2)
        .text("httpEndpoint", "enabled")
        .text("httpProtocolIpv6", "disabled")
        .text("instanceMetadataTags", "disabled")
        .close("metadataOptions")
        .open("enclaveOptions")
        .bool("enabled", false)
        .close("enclaveOptions")
        .opt_text("bootMode", i.boot_mode.as_deref())
        .text("currentInstanceBootMode", current_boot_mode(i));
}

/// The boot mode the instance actually uses: UEFI when the image asks for it, or prefers
/// it and the instance type (Nitro) supports it; legacy BIOS otherwise.
fn current_boot_mode(i: &Instance) -> &'static str {
    let supports_uefi = instance_type(&i.instance_type).is_ok_and(|t| t.uefi);
    match i.boot_mode.as_deref() {
        Some("uefi") => "uefi",
        Some("uefi-preferred") if supports_uefi => "uefi",
        _ => "legacy-bios",
    }
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
    match (change, i.state.as_str()) {
        (Change::Start, state::STOPPED) => {
            // A stopped instance gives up its public address and gets a new one on start.
            next.public_ip = Some(random_public_ip());
            next.state = state::PENDING.into();
            next.ready_at = Some(ctx.now + timings.instance_pending_ms);
            next.launch_time = ctx.now;
            next.state_transition_reason = String::new();
            next.state_reason_code = None;
            next.state_reason_message = None;
        }
        (Change::Start, state::PENDING | state::RUNNING) => return Ok(None),
        (Change::Start, _) => {
            return Err(ec2_err!(IncorrectInstanceState, "The instance '{id}' is not in a state from which it can be started."))
        }
        (Change::Stop, _) if i.root_device_type != "ebs" => {
            return Err(ec2_err!(
                UnsupportedOperation,
                "The instance '{id}' does not have an 'ebs' root device type and cannot be stopped."
            ))
        }
        (Change::Stop, state::RUNNING) => {
            next.state = state::STOPPING.into();
            next.ready_at = Some(ctx.now + timings.instance_stopping_ms);
            next.state_transition_reason = user_reason;
            next.state_reason_code = Some("Client.UserInitiatedShutdown".into());
            next.state_reason_message = Some("Client.UserInitiatedShutdown: User initiated shutdown".into());
        }
        (Change::Stop, state::STOPPING | state::STOPPED) => return Ok(None),
        (Change::Stop, state::PENDING) => {
            return Err(ec2_err!(
                IncorrectInstanceState,
                "Instance '{id}' cannot be stopped as it has never reached the 'running' state."
            ))
        }
        (Change::Stop, _) => {
            return Err(ec2_err!(IncorrectInstanceState, "This instance '{id}' is not in a state from which it can be stopped."))
        }
        (Change::Terminate, state::SHUTTING_DOWN | state::TERMINATED) => return Ok(None),
        (Change::Terminate, _) if i.disable_api_termination => {
            return Err(ec2_err!(
                OperationNotPermitted,
                "The instance '{id}' may not be terminated. Modify its 'disableApiTermination' instance attribute and try again."
            ))
        }
        (Change::Terminate, _) => {
            next.state = state::SHUTTING_DOWN.into();
            next.ready_at = Some(ctx.now + timings.instance_shutting_down_ms);
            next.state_transition_reason = user_reason;
            next.state_reason_code = Some("Client.UserInitiatedShutdown".into());
            next.state_reason_message = Some("Client.UserInitiatedShutdown: User initiated shutdown".into());
        }
        (Change::Reboot, state::RUNNING | state::PENDING) => return Ok(None),
        (Change::Reboot, _) => {
            return Err(ec2_err!(IncorrectInstanceState, "The instance '{id}' is not in a state from which it can be rebooted."))
        }
    }
    Ok(Some(next))
}

async fn change_state(ctx: &Ctx<'_>, p: &Params, change: Change) -> Result<Vec<(String, String, String)>> {
    let instance_ids = dedup(p.list("InstanceId")?);
    if instance_ids.is_empty() {
        return Err(Ec2Error::missing_parameter("InstanceId"));
    }
    ids::check_all(IdKind::Instance, &instance_ids)?;
    let mut tx = ctx.app.store.write().await?;
    let mut current = Vec::with_capacity(instance_ids.len());
    let mut missing = Vec::new();
    for id in &instance_ids {
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
    let mut transitions = Vec::with_capacity(current.len());
    for (before, after) in current.iter().zip(planned) {
        let shown = match after {
            Some(next) => {
                let stored = next.settled(ctx.now);
                store::set_state(&mut tx, &stored, ctx.now).await?;
                ctx.app.store.schedule_transition(stored.ready_at);
                if stored.state == state::TERMINATED {
                    // Its retention ends then; the settle pass removes it.
                    ctx.app.store.schedule_transition(Some(ctx.now + ctx.app.timings.terminated_retention_ms));
                }
                next.state
            }
            None => before.state.clone(),
        };
        transitions.push((before.instance_id.clone(), before.state.clone(), shown));
    }
    tx.commit().await?;
    Ok(transitions)
}

fn write_state_changes(transitions: &[(String, String, String)]) -> Xml {
    let mut x = Xml::new();
    x.list("instancesSet", transitions, |x, (id, previous, current)| {
        x.text("instanceId", id)
            .open("currentState")
            .num("code", state_code(current))
            .text("name", current)
            .close("currentState")
            .open("previousState")
            .num("code", state_code(previous))
            .text("name", previous)
            .close("previousState");
    });
    x
}

/// Read by the handler until this action has a typed input.
pub type StartInstancesInput = Params;

pub async fn start_instances(ctx: &Ctx<'_>, p: StartInstancesInput) -> Result<Xml> {
    let p = &p;
    Ok(write_state_changes(&change_state(ctx, p, Change::Start).await?))
}

/// Read by the handler until this action has a typed input.
pub type StopInstancesInput = Params;

pub async fn stop_instances(ctx: &Ctx<'_>, p: StopInstancesInput) -> Result<Xml> {
    let p = &p;
    p.flag("Force")?;
    p.flag("Hibernate")?;
    Ok(write_state_changes(&change_state(ctx, p, Change::Stop).await?))
}

/// Read by the handler until this action has a typed input.
pub type TerminateInstancesInput = Params;

pub async fn terminate_instances(ctx: &Ctx<'_>, p: TerminateInstancesInput) -> Result<Xml> {
    let p = &p;
    Ok(write_state_changes(&change_state(ctx, p, Change::Terminate).await?))
}

/// Read by the handler until this action has a typed input.
pub type RebootInstancesInput = Params;

pub async fn reboot_instances(ctx: &Ctx<'_>, p: RebootInstancesInput) -> Result<Xml> {
    let p = &p;
    change_state(ctx, p, Change::Reboot).await?;
    Ok(Xml::return_true())
}

/// Read by the handler until this action has a typed input.
pub type DescribeInstanceStatusInput = Params;

pub async fn describe_instance_status(ctx: &Ctx<'_>, p: DescribeInstanceStatusInput) -> Result<Xml> {
    let p = &p;
    let instance_ids = dedup(p.list("InstanceId")?);
    ids::check_all(IdKind::Instance, &instance_ids)?;
    let include_all = p.flag("IncludeAllInstances")?;
    let filters = parse_filters(p, "Filter")?;
    let page = parse_page(p, !instance_ids.is_empty(), "instancesSet", 5, 1000)?;
    ctx.check_dry_run()?;
    let query =
        InstanceQuery { account: ctx.scope.account, region: ctx.scope.region, instance_ids, filters: &[], page };
    let mut conn = ctx.app.store.read().await?;
    let (found, next) = store::describe(&mut conn, &query).await?;
    if let Some(missing) = query.instance_ids.iter().find(|id| !found.iter().any(|i| &i.instance_id == *id)) {
        return Err(Ec2Error::instance_not_found(&[missing]));
    }
    let shown: Vec<Instance> = found.into_iter().filter(|i| include_all || i.state == state::RUNNING).collect();
    let known = [
        "availability-zone",
        "instance-state-name",
        "instance-state-code",
        "system-status.status",
        "instance-status.status",
    ];
    let shown = filter_in_memory(shown, &filters, &known, |i, name| {
        vec![match name {
            "availability-zone" => i.availability_zone.clone(),
            "instance-state-name" => i.state.clone(),
            "instance-state-code" => state_code(&i.state).to_string(),
            _ => status_of(i).to_string(),
        }]
    })?;
    let mut x = Xml::new();
    x.list("instanceStatusSet", &shown, |x, i| {
        let status = status_of(i);
        x.text("instanceId", &i.instance_id)
            .text("availabilityZone", &i.availability_zone)
            .open("instanceState")
            .num("code", state_code(&i.state))
            .text("name", &i.state)
            .close("instanceState");
        for tag in ["systemStatus", "instanceStatus"] {
            x.open(tag).text("status", status);
            if status == "ok" {
                x.open("details")
                    .open("item")
                    .text("name", "reachability")
                    .text("status", "passed")
                    .close("item")
                    .close("details");
            } else {
                x.empty("details");
            }
            x.close(tag);
        }
    });
    write_next_token(&mut x, next);
    Ok(x)
}

fn status_of(i: &Instance) -> &'static str {
    if i.state == state::RUNNING {
        "ok"
    } else {
        "not-applicable"
    }
}
