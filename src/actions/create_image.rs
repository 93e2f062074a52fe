//! CreateImage: an EBS-backed image of a running or stopped instance, with one new
//! snapshot per attached volume; the image is `pending` until its snapshots complete.

use super::Ctx;
use super::{new_snapshot, store_new_snapshot};
use crate::access::own_instance;
use crate::domain::clock::iso;
use crate::domain::ids::{self, IdKind};
use crate::domain::image::{state, validate_description, validate_name, BlockDeviceMapping, EbsBlockDevice, Image};
use crate::domain::instance::state as instance_state;
use crate::domain::tags as tag_rules;
use crate::ec2_err;
use crate::error::Result;
use crate::store::{images, tags, volumes};
use crate::wire::params::Params;
use crate::wire::query::parse_block_device_mappings;
use crate::wire::query::parse_tag_specs;
use crate::wire::xml::Xml;

/// Read by the handler until this action has a typed input.
pub type CreateImageInput = Params;

pub async fn create_image(ctx: &Ctx<'_>, p: CreateImageInput) -> Result<Xml> {
    let p = &p;
    let instance_id = p.required("InstanceId")?;
    let name = p.required("Name")?;
    validate_name(name)?;
    let description = p.str("Description");
    if let Some(d) = description {
        validate_description(d)?;
    }
    // Without NoReboot EC2 reboots a running instance for consistent snapshots; the
    // reboot leaves it `running`, so only the flag's form is checked here.
    p.flag("NoReboot")?;
    let tag_specs = parse_tag_specs(p)?;
    let allowed = ["image", "snapshot"];
    let image_tags = tag_rules::for_type(&tag_specs, &allowed, "image")?;
    let snapshot_tags = tag_rules::for_type(&tag_specs, &allowed, "snapshot")?;
    let overrides = parse_block_device_mappings(p)?;

    let mut tx = ctx.app.store.write().await?;
    let instance = own_instance(ctx.scope, &mut tx, instance_id).await?;
    if !matches!(instance.state.as_str(), instance_state::RUNNING | instance_state::STOPPING | instance_state::STOPPED)
    {
        return Err(ec2_err!(
            InvalidParameterValue,
            "Invalid value '{instance_id}' for instanceId. Instance is not in state 'running' or 'stopping' or 'stopped'"
        ));
    }
    if instance.root_device_type != "ebs" {
        return Err(ec2_err!(
            InvalidParameterValue,
            "Invalid value '{instance_id}' for instanceId. CreateImage supports only instances with an EBS root device."
        ));
    }
    ctx.check_dry_run()?;

    let image_id = ids::new_id(IdKind::Image);
    let snapshot_ready_at = ctx.now + ctx.app.timings.snapshot_pending_ms;
    let mut mappings = Vec::new();
    let mut snapshots_pending = false;
    for (device, volume_id, _, delete_on_termination) in &instance.volumes {
        let over = overrides.iter().find(|o| &o.device_name == device);
        if over.is_some_and(|o| o.no_device) {
            continue;
        }
        let Some(volume) = volumes::find_owned(&mut tx, ctx.scope.account, ctx.scope.region, volume_id).await? else {
            continue;
        };
        let description = format!("Created by CreateImage({instance_id}) for {image_id}");
        let mut snapshot = new_snapshot(ctx, &volume.volume_id, volume.size, description);
        snapshot.encrypted = volume.encrypted;
        snapshot.kms_key_id = volume.kms_key_id.clone();
        snapshots_pending |= store_new_snapshot(ctx, &mut tx, &snapshot, &snapshot_tags, &volume.volume_id).await?;
        // gp2 and the magnetic types report IOPS but take none as a parameter.
        let provisioned = matches!(volume.volume_type.as_str(), "gp3" | "io1" | "io2");
        let keep =
            over.and_then(|o| o.ebs.as_ref()).and_then(|e| e.delete_on_termination).unwrap_or(*delete_on_termination);
        mappings.push(BlockDeviceMapping {
            device_name: device.clone(),
            ebs: Some(EbsBlockDevice {
                snapshot_id: Some(snapshot.snapshot_id),
                volume_size: Some(volume.size),
                volume_type: Some(volume.volume_type),
                delete_on_termination: Some(keep),
                iops: volume.iops.filter(|_| provisioned),
                throughput: volume.throughput,
                encrypted: Some(volume.encrypted),
                kms_key_id: None,
            }),
            ..Default::default()
        });
    }
    // Mappings the request adds: instance-store volumes and new empty EBS volumes.
    let added: Vec<BlockDeviceMapping> = overrides
        .into_iter()
        .filter(|o| !o.no_device && !instance.volumes.iter().any(|(d, ..)| *d == o.device_name))
        .collect();
    mappings.extend(added);
    let ready_at = ctx.now + ctx.app.timings.image_pending_ms;
    let image = Image {
        image_id: image_id.clone(),
        owner_id: ctx.scope.account.to_string(),
        region: ctx.scope.region.to_string(),
        name: name.to_string(),
        description: description.map(str::to_string),
        image_location: format!("{}/{name}", ctx.scope.account),
        state: state::PENDING.to_string(),
        ready_at: Some(ready_at),
        architecture: instance.architecture.clone(),
        image_type: "machine".into(),
        platform: instance.platform.clone(),
        platform_details: instance.platform_details.clone(),
        usage_operation: instance.usage_operation.clone(),
        root_device_type: "ebs".into(),
        root_device_name: instance.root_device_name.clone(),
        virtualization_type: instance.virtualization_type.clone(),
        hypervisor: "xen".into(),
        kernel_id: instance.kernel_id.clone(),
        ena_support: instance.ena_support,
        boot_mode: instance.boot_mode.clone(),
        source_instance_id: Some(instance_id.to_string()),
        deregistration_protection: "disabled".into(),
        creation_date: iso(ctx.now),
        block_device_mappings: mappings,
        ..Default::default()
    };
    // The image becomes available only once its snapshots have completed.
    let stored = if snapshots_pending { image.clone() } else { image.settled(ctx.now) };
    images::insert(&mut tx, &stored, ctx.now).await?;
    tags::upsert(&mut tx, ctx.scope.account, ctx.scope.region, &image_id, "image", &image_tags, ctx.now).await?;
    tx.commit().await?;
    ctx.app.store.schedule_transition(stored.ready_at.map(|t| t.max(snapshot_ready_at)));
    let mut x = Xml::new();
    x.text("imageId", &image_id);
    Ok(x)
}
