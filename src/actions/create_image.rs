//! CreateImage: an EBS-backed image of a running or stopped instance, with one new
//! snapshot per attached volume; the image is `pending` until its snapshots complete.

use super::{machines, new_snapshot, store_new_snapshot, Ctx, FromParams};
use crate::access::own_instance;
use crate::domain::clock::iso;
use crate::domain::ids::{self, IdKind};
use crate::domain::image::{validate_description, validate_name, BlockDeviceMapping, EbsBlockDevice, Image};
use crate::domain::instance::Instance;
use crate::domain::lifecycle::{ImageState, InstanceState};
use crate::domain::tags::{self as tag_rules, Tag};
use crate::ec2_err;
use crate::error::Result;
use crate::store::{images, tags, volumes, Conn};
use crate::wire::params::Params;
use crate::wire::query::{parse_block_device_mappings, parse_tag_specs};
use crate::wire::xml::Xml;

pub struct CreateImageInput {
    pub instance_id: String,
    pub name: String,
    pub description: Option<String>,
    pub image_tags: Vec<Tag>,
    pub snapshot_tags: Vec<Tag>,
    /// Changes to the instance's devices: `NoDevice` leaves one out, others are added.
    pub block_device_mappings: Vec<BlockDeviceMapping>,
    pub no_reboot: bool,
}

impl FromParams for CreateImageInput {
    fn from_params(p: &Params) -> Result<Self> {
        let instance_id = p.required("InstanceId")?;
        let name = p.required("Name")?;
        validate_name(name)?;
        let description = p.str("Description");
        if let Some(d) = description {
            validate_description(d)?;
        }
        // Without NoReboot EC2 reboots a running instance for consistent snapshots; the
        // reboot leaves it `running`, so only the flag's form is checked here.
        let no_reboot = p.flag("NoReboot")?;
        let tag_specs = parse_tag_specs(p)?;
        let allowed = ["image", "snapshot"];
        let image_tags = tag_rules::for_type(&tag_specs, &allowed, "image")?;
        let snapshot_tags = tag_rules::for_type(&tag_specs, &allowed, "snapshot")?;
        let block_device_mappings = parse_block_device_mappings(p)?;
        ids::check(IdKind::Instance, instance_id)?;
        Ok(CreateImageInput {
            instance_id: instance_id.to_string(),
            name: name.to_string(),
            description: description.map(str::to_string),
            image_tags,
            snapshot_tags,
            block_device_mappings,
            no_reboot,
        })
    }
}

pub async fn create_image(ctx: &Ctx<'_>, input: CreateImageInput) -> Result<Xml> {
    let mut tx = ctx.app.store.write().await?;
    let instance = imageable_instance(ctx, &mut tx, &input.instance_id).await?;
    ctx.check_dry_run()?;

    let image_id = ids::new_id(IdKind::Image);
    let snapshot_ready_at = ctx.now + ctx.app.timings.snapshot_pending_ms;
    let (mut mappings, snapshots_pending) = snapshot_volumes(ctx, &mut tx, &input, &instance, &image_id).await?;
    let capture = capture_of(ctx, &input, &instance, &mappings);
    // Mappings the request adds: instance-store volumes and new empty EBS volumes.
    mappings.extend(
        input
            .block_device_mappings
            .iter()
            .filter(|o| !o.no_device && !instance.volumes.iter().any(|(d, ..)| *d == o.device_name))
            .cloned(),
    );
    let image = instance_image(ctx, &input, &instance, &image_id, mappings);
    // The image becomes available only once its snapshots have completed.
    let stored = if snapshots_pending { image.clone() } else { image.settled(ctx.now) };
    images::insert(&mut tx, &stored, ctx.now).await?;
    tags::upsert(&mut tx, ctx.scope.account, ctx.scope.region, &image_id, "image", &input.image_tags, ctx.now).await?;
    tx.commit().await?;
    ctx.app.store.schedule_transition(stored.ready_at.map(|t| t.max(snapshot_ready_at)));
    if let Some(capture) = capture {
        machines::capture(ctx, capture);
    }
    let mut x = Xml::new();
    x.text("imageId", &image_id);
    Ok(x)
}

/// The caller's instance, running or stopped, with an EBS root device.
async fn imageable_instance(ctx: &Ctx<'_>, conn: &mut Conn, instance_id: &str) -> Result<Instance> {
    let instance = own_instance(ctx.scope, conn, instance_id).await?;
    if !matches!(instance.state, InstanceState::Running | InstanceState::Stopping | InstanceState::Stopped) {
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
    Ok(instance)
}

/// One new snapshot per attached volume the request does not leave out; returns the
/// image's mappings of them and whether any snapshot is still pending.
async fn snapshot_volumes(
    ctx: &Ctx<'_>,
    conn: &mut Conn,
    input: &CreateImageInput,
    instance: &Instance,
    image_id: &str,
) -> Result<(Vec<BlockDeviceMapping>, bool)> {
    let mut mappings = Vec::new();
    let mut pending = false;
    for (device, volume_id, _, delete_on_termination) in &instance.volumes {
        let over = input.block_device_mappings.iter().find(|o| &o.device_name == device);
        if over.is_some_and(|o| o.no_device) {
            continue;
        }
        let Some(volume) = volumes::find_owned(conn, ctx.scope.account, ctx.scope.region, volume_id).await? else {
            continue;
        };
        let description = format!("Created by CreateImage({}) for {image_id}", input.instance_id);
        let mut snapshot = new_snapshot(ctx, &volume.volume_id, volume.size, description);
        if machines::captures(ctx, instance) {
            // Completed by the capture of the instance's disks, not by a timer.
            snapshot.ready_at = None;
        }
        snapshot.encrypted = volume.encrypted;
        snapshot.kms_key_id = volume.kms_key_id.clone();
        pending |= store_new_snapshot(ctx, conn, &snapshot, &input.snapshot_tags, &volume.volume_id).await?;
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
    Ok((mappings, pending))
}

/// The capture of a running instance's disks into the image's snapshots, under `--runtime`.
fn capture_of(
    ctx: &Ctx<'_>,
    input: &CreateImageInput,
    instance: &Instance,
    mappings: &[BlockDeviceMapping],
) -> Option<machines::Capture> {
    if !machines::captures(ctx, instance) {
        return None;
    }
    let volumes =
        mappings.iter().filter_map(|m| Some((m.device_name.clone(), m.ebs.as_ref()?.snapshot_id.clone()?))).collect();
    Some(machines::Capture {
        instance_id: instance.instance_id.clone(),
        root_device: instance.root_device_name.clone()?,
        volumes,
        // A stopped instance has nothing to reboot.
        reboot: !input.no_reboot && instance.state == InstanceState::Running,
    })
}

/// The new pending image of `instance`, which it takes its platform and boot from.
fn instance_image(
    ctx: &Ctx<'_>,
    input: &CreateImageInput,
    instance: &Instance,
    image_id: &str,
    mappings: Vec<BlockDeviceMapping>,
) -> Image {
    Image {
        image_id: image_id.to_string(),
        owner_id: ctx.scope.account.to_string(),
        region: ctx.scope.region.to_string(),
        name: input.name.clone(),
        description: input.description.clone(),
        image_location: format!("{}/{}", ctx.scope.account, input.name),
        state: ImageState::Pending,
        ready_at: Some(ctx.now + ctx.app.timings.image_pending_ms),
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
        source_instance_id: Some(instance.instance_id.clone()),
        // As on EC2: an image of a Marketplace instance keeps its product code.
        product_codes: instance.product_codes.clone(),
        deregistration_protection: "disabled".into(),
        creation_date: iso(ctx.now),
        block_device_mappings: mappings,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn create(extra: &[(&str, &str)]) -> Result<CreateImageInput> {
        let base = [("InstanceId", "i-0123456789abcdef0"), ("Name", "from-instance")];
        CreateImageInput::from_params(&Params::from_pairs(base.into_iter().chain(extra.iter().copied())))
    }

    #[test]
    fn accepted_request() {
        let input = create(&[
            ("NoReboot", "true"),
            ("BlockDeviceMapping.1.DeviceName", "/dev/sdf"),
            ("BlockDeviceMapping.1.NoDevice", ""),
            ("TagSpecification.1.ResourceType", "image"),
            ("TagSpecification.1.Tag.1.Key", "k"),
        ])
        .unwrap();
        assert_eq!(input.instance_id, "i-0123456789abcdef0");
        assert!(input.block_device_mappings[0].no_device);
        assert_eq!(input.image_tags, [Tag { key: "k".into(), value: String::new() }]);
        assert!(input.snapshot_tags.is_empty());
    }

    #[test]
    fn refusals() {
        let code = |extra: &[(&str, &str)]| create(extra).err().unwrap().code;
        assert_eq!(code(&[("Name", "x")]), "InvalidAMIName.Malformed");
        assert_eq!(code(&[("NoReboot", "sometimes")]), "InvalidParameterValue");
        assert_eq!(code(&[("InstanceId", "ami-12345678")]), "InvalidInstanceID.Malformed");
        assert_eq!(code(&[("TagSpecification.1.ResourceType", "instance")]), "InvalidParameterValue");
        let p = Params::from_pairs([("Name", "from-instance")]);
        assert_eq!(CreateImageInput::from_params(&p).err().unwrap().code, "MissingParameter");
    }
}
