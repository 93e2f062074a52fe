//! RegisterImage, DescribeImages, DeregisterImage, and the `Image` XML shape.

use super::Ctx;
use crate::access::own_image;
use crate::domain::clock::iso;
use crate::domain::ids::{self, IdKind};
use crate::domain::image::{
    check_enum, state, validate_description, validate_name, BlockDeviceMapping, Image, ARCHITECTURES, BOOT_MODES,
    VIRTUALIZATION_TYPES,
};
use crate::domain::snapshot::state as snapshot_state;
use crate::domain::tags as tag_rules;
use crate::domain::volume::{self};
use crate::ec2_err;
use crate::error::{Ec2Error, Result};
use crate::store::images::{Executor, ImageQuery, Owner};
use crate::store::{images, snapshots, tags, Conn};
use crate::wire::params::Params;
use crate::wire::query::parse_block_device_mappings;
use crate::wire::query::{dedup, parse_filters, parse_page, parse_tag_specs, write_next_token};
use crate::wire::shapes::image::write_image;
use crate::wire::xml::Xml;

/// Read by the handler until this action has a typed input.
pub type RegisterImageInput = Params;

pub async fn register_image(ctx: &Ctx<'_>, p: RegisterImageInput) -> Result<Xml> {
    let p = &p;
    let name = p.required("Name")?;
    validate_name(name)?;
    let description = p.str("Description");
    if let Some(d) = description {
        validate_description(d)?;
    }
    let image_location = p.str("ImageLocation");
    let root_device_name = p.str("RootDeviceName");
    let architecture = p.str("Architecture").unwrap_or("i386");
    check_enum("Architecture", architecture, ARCHITECTURES)?;
    let virtualization_type = p.str("VirtualizationType").unwrap_or("paravirtual");
    check_enum("VirtualizationType", virtualization_type, VIRTUALIZATION_TYPES)?;
    if let Some(mode) = p.str("BootMode") {
        check_enum("BootMode", mode, BOOT_MODES)?;
    }
    for (param, allowed) in [("TpmSupport", "v2.0"), ("ImdsSupport", "v2.0"), ("SriovNetSupport", "simple")] {
        if let Some(value) = p.str(param) {
            check_enum(param, value, &[allowed])?;
        }
    }
    if p.str("UefiData").is_some_and(|d| d.len() > 64_000) {
        return Err(ec2_err!(InvalidParameterValue, "The parameter UefiData must be at most 64000 characters long."));
    }
    let kernel_id = p.str("KernelId");
    if let Some(id) = kernel_id {
        ids::check(IdKind::Kernel, id)?;
    }
    let ramdisk_id = p.str("RamdiskId");
    if let Some(id) = ramdisk_id {
        ids::check(IdKind::Ramdisk, id)?;
    }
    let mut mappings = parse_block_device_mappings(p)?;
    let tag_specs = parse_tag_specs(p)?;
    let tags = tag_rules::for_type(&tag_specs, &["image"], "image")?;
    let ebs_root = root_device_name.is_some_and(|root| {
        mappings.iter().any(|m| m.device_name == root && m.ebs.as_ref().is_some_and(|e| e.snapshot_id.is_some()))
    });
    let (root_device_type, root_device_name, image_location) = match (ebs_root, image_location) {
        (true, location) => {
            ("ebs", root_device_name, location.map(str::to_string).unwrap_or(format!("{}/{name}", ctx.scope.account)))
        }
        (false, Some(location)) => ("instance-store", root_device_name.or(Some("/dev/sda1")), location.to_string()),
        (false, None) => match root_device_name {
            None => {
                return Err(ec2_err!(
                    MissingParameter,
                    "The request must contain the parameter rootDeviceName or imageLocation"
                ))
            }
            Some(root) => {
                return Err(ec2_err!(
                    InvalidBlockDeviceMapping,
                    "The root device {root} must have a block device mapping with an EBS snapshot"
                ))
            }
        },
    };

    let mut tx = ctx.app.store.write().await?;
    resolve_snapshots(ctx, &mut tx, &mut mappings).await?;
    ctx.check_dry_run()?;
    let ready_at = ctx.now + ctx.app.timings.image_pending_ms;
    let image = Image {
        image_id: ids::new_id(IdKind::Image),
        owner_id: ctx.scope.account.to_string(),
        region: ctx.scope.region.to_string(),
        name: name.to_string(),
        description: description.map(str::to_string),
        image_location,
        state: state::PENDING.to_string(),
        ready_at: Some(ready_at),
        architecture: architecture.to_string(),
        image_type: "machine".to_string(),
        platform_details: "Linux/UNIX".to_string(),
        usage_operation: "RunInstances".to_string(),
        root_device_type: root_device_type.to_string(),
        root_device_name: root_device_name.map(str::to_string),
        virtualization_type: virtualization_type.to_string(),
        hypervisor: "xen".to_string(),
        kernel_id: kernel_id.map(str::to_string),
        ramdisk_id: ramdisk_id.map(str::to_string),
        ena_support: p.bool("EnaSupport")?,
        sriov_net_support: p.str("SriovNetSupport").map(str::to_string),
        boot_mode: p.str("BootMode").map(str::to_string),
        tpm_support: p.str("TpmSupport").map(str::to_string),
        uefi_data: p.str("UefiData").map(str::to_string),
        imds_support: p.str("ImdsSupport").map(str::to_string),
        deregistration_protection: "disabled".to_string(),
        creation_date: iso(ctx.now),
        block_device_mappings: mappings,
        ..Default::default()
    };
    let stored = image.settled(ctx.now);
    images::insert(&mut tx, &stored, ctx.now).await?;
    tags::upsert(&mut tx, ctx.scope.account, ctx.scope.region, &image.image_id, "image", &tags, ctx.now).await?;
    tx.commit().await?;
    ctx.app.store.schedule_transition(stored.ready_at);
    let mut x = Xml::new();
    x.text("imageId", &image.image_id);
    Ok(x)
}

/// Completes each EBS mapping from its snapshot (size, encryption) and EC2's defaults,
/// refusing snapshots the caller cannot use.
async fn resolve_snapshots(ctx: &Ctx<'_>, conn: &mut Conn, mappings: &mut [BlockDeviceMapping]) -> Result<()> {
    for mapping in mappings.iter_mut() {
        let Some(ebs) = mapping.ebs.as_mut() else { continue };
        let volume_type = ebs.volume_type.get_or_insert_with(|| "gp2".to_string()).clone();
        ebs.delete_on_termination.get_or_insert(true);
        match ebs.snapshot_id.as_deref() {
            Some(snapshot_id) => {
                let snapshot = snapshots::find_visible(conn, ctx.scope.account, ctx.scope.region, snapshot_id)
                    .await?
                    .ok_or_else(|| Ec2Error::snapshot_not_found(snapshot_id))?;
                if snapshot.state != snapshot_state::COMPLETED {
                    return Err(ec2_err!(
                        IncorrectState,
                        "Snapshot {snapshot_id} is in invalid state - {}",
                        snapshot.state
                    ));
                }
                let size = *ebs.volume_size.get_or_insert(snapshot.volume_size);
                if size < snapshot.volume_size {
                    return Err(ec2_err!(
                        InvalidBlockDeviceMapping,
                        "Volume of size {size}GiB is smaller than snapshot '{snapshot_id}', expect size >= {}GiB",
                        snapshot.volume_size
                    ));
                }
                ebs.encrypted = Some(snapshot.encrypted);
            }
            None => {
                ebs.volume_size.ok_or_else(|| {
                    ec2_err!(
                        InvalidBlockDeviceMapping,
                        "The device {} must have either a snapshot or a volume size",
                        mapping.device_name
                    )
                })?;
                ebs.encrypted.get_or_insert(false);
            }
        }
        let size = ebs.volume_size.unwrap_or_default();
        volume::check_size(&volume_type, size)
            .map_err(|e| Ec2Error::new(crate::error::Code::InvalidBlockDeviceMapping, e.message))?;
        if matches!(volume_type.as_str(), "gp3" | "io1" | "io2") {
            let (iops, throughput) = volume::performance(&volume_type, size, ebs.iops, ebs.throughput)?;
            ebs.iops = iops;
            ebs.throughput = throughput;
        }
    }
    Ok(())
}

fn parse_owner(ctx: &Ctx<'_>, value: &str) -> Result<Owner> {
    match value {
        "self" => Ok(Owner::Account(ctx.scope.account.to_string())),
        "amazon" | "aws-marketplace" | "aws-backup-vault" => Ok(Owner::Alias(value.to_string())),
        v if ids::is_account_id(v) => Ok(Owner::Account(v.to_string())),
        v => Err(Ec2Error::malformed_user(v)),
    }
}

fn parse_executor(ctx: &Ctx<'_>, value: &str) -> Result<Executor> {
    match value {
        // The caller's own id means what `self` means: organization and OU grants included.
        v if v == "self" || v == ctx.scope.account => Ok(Executor::Caller(ctx.scope.account.to_string())),
        "all" => Ok(Executor::Public),
        v if ids::is_account_id(v) => Ok(Executor::Account(v.to_string())),
        v => Err(Ec2Error::malformed_user(v)),
    }
}

/// Read by the handler until this action has a typed input.
pub type DescribeImagesInput = Params;

pub async fn describe_images(ctx: &Ctx<'_>, p: DescribeImagesInput) -> Result<Xml> {
    let p = &p;
    let image_ids = dedup(p.list("ImageId")?);
    ids::check_all(IdKind::Image, &image_ids)?;
    let owners = p.list("Owner")?.iter().map(|o| parse_owner(ctx, o)).collect::<Result<Vec<_>>>()?;
    let executors = p.list("ExecutableBy")?.iter().map(|e| parse_executor(ctx, e)).collect::<Result<Vec<_>>>()?;
    let filters = parse_filters(p, "Filter")?;
    images::FILTERS.validate(&filters)?;
    let page = parse_page(p, !image_ids.is_empty(), "imagesSet", 5, 1000)?;
    let query = ImageQuery {
        account: ctx.scope.account,
        region: ctx.scope.region,
        image_ids,
        owners,
        executors,
        filters: &filters,
        include_deprecated: p.flag("IncludeDeprecated")?,
        include_disabled: p.flag("IncludeDisabled")?,
        now_iso: iso(ctx.now),
        page,
    };
    ctx.check_dry_run()?;
    let mut conn = ctx.app.store.read().await?;
    let (found, next) = images::describe(&mut conn, &query).await?;
    if found.len() < query.image_ids.len() {
        // Ids that were never visible here are errors; filtered-out or deregistered ones are not.
        let known = images::known_ids(&mut conn, ctx.scope.account, ctx.scope.region, &query.image_ids).await?;
        let unknown: Vec<&str> = query.image_ids.iter().filter(|id| !known.contains(id)).map(String::as_str).collect();
        if !unknown.is_empty() {
            return Err(Ec2Error::image_not_found(&unknown));
        }
    }
    let mut x = Xml::new();
    x.list("imagesSet", &found, write_image);
    write_next_token(&mut x, next);
    Ok(x)
}

/// Read by the handler until this action has a typed input.
pub type DeregisterImageInput = Params;

pub async fn deregister_image(ctx: &Ctx<'_>, p: DeregisterImageInput) -> Result<Xml> {
    let p = &p;
    let image_id = p.required("ImageId")?;
    let delete_snapshots = p.flag("DeleteAssociatedSnapshots")?;
    let mut tx = ctx.app.store.write().await?;
    let image = own_image(ctx.scope, &mut tx, image_id).await?;
    if image.state == state::DEREGISTERED {
        return Err(Ec2Error::image_unavailable(&image.image_id, &image.state));
    }
    if let Some(reason) = crate::domain::image::deregistration_refusal(&image, ctx.now) {
        return Err(Ec2Error::new(crate::error::Code::OperationNotPermitted, reason));
    }
    ctx.check_dry_run()?;
    images::deregister(&mut tx, image_id, ctx.now).await?;
    let mut results = Vec::new();
    if delete_snapshots {
        for snapshot_id in image_snapshot_ids(&image) {
            let code = delete_associated_snapshot(ctx, &mut tx, &snapshot_id).await?;
            results.push((snapshot_id, code));
        }
    }
    tx.commit().await?;
    let mut x = Xml::return_true();
    if delete_snapshots {
        x.list("deleteSnapshotResultSet", &results, |x, (id, code)| {
            x.text("snapshotId", id).text("returnCode", code);
        });
    }
    Ok(x)
}

fn image_snapshot_ids(image: &Image) -> Vec<String> {
    let mut ids: Vec<String> =
        image.block_device_mappings.iter().filter_map(|m| m.ebs.as_ref()?.snapshot_id.clone()).collect();
    ids.dedup();
    ids
}

/// Deletes one snapshot of a deregistered image unless another image still uses it.
async fn delete_associated_snapshot(ctx: &Ctx<'_>, conn: &mut Conn, snapshot_id: &str) -> Result<&'static str> {
    let Some(snapshot) = snapshots::find_visible(conn, ctx.scope.account, ctx.scope.region, snapshot_id).await? else {
        return Ok("client-error");
    };
    if snapshot.owner_id != ctx.scope.account {
        return Ok("missing-permissions");
    }
    if !images::images_using_snapshot(conn, snapshot_id).await?.is_empty() {
        return Ok("skipped");
    }
    snapshots::delete(conn, snapshot_id).await?;
    Ok("success")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::image::{EbsBlockDevice, ProductCode};

    fn image() -> Image {
        Image {
            image_id: "ami-0123456789abcdef0".into(),
            owner_id: "123456789012".into(),
            region: "us-east-1".into(),
            name: "my-ami".into(),
            image_location: "123456789012/my-ami".into(),
            state: "available".into(),
            architecture: "x86_64".into(),
            image_type: "machine".into(),
            platform_details: "Linux/UNIX".into(),
            usage_operation: "RunInstances".into(),
            root_device_type: "ebs".into(),
            root_device_name: Some("/dev/xvda".into()),
            virtualization_type: "hvm".into(),
            hypervisor: "xen".into(),
            ena_support: Some(true),
            deregistration_protection: "disabled".into(),
            creation_date: "2024-05-01T12:00:00.000Z".into(),
            block_device_mappings: vec![
                BlockDeviceMapping {
                    device_name: "/dev/xvda".into(),
                    ebs: Some(EbsBlockDevice {
                        snapshot_id: Some("snap-0123456789abcdef0".into()),
                        volume_size: Some(8),
                        volume_type: Some("gp3".into()),
                        delete_on_termination: Some(true),
                        iops: Some(3000),
                        throughput: Some(125),
                        encrypted: Some(false),
                        kms_key_id: None,
                    }),
                    ..Default::default()
                },
                BlockDeviceMapping {
                    device_name: "/dev/sdb".into(),
                    virtual_name: Some("ephemeral0".into()),
                    ..Default::default()
                },
                BlockDeviceMapping { device_name: "/dev/sdc".into(), no_device: true, ..Default::default() },
            ],
            ..Default::default()
        }
    }

    #[test]
    fn golden_image() {
        let mut x = Xml::new();
        write_image(&mut x, &image());
        assert_eq!(
            x.as_str(),
            "<imageId>ami-0123456789abcdef0</imageId><imageLocation>123456789012/my-ami</imageLocation><imageState>available</imageState>\
             <imageOwnerId>123456789012</imageOwnerId><creationDate>2024-05-01T12:00:00.000Z</creationDate><isPublic>false</isPublic>\
             <productCodes/><architecture>x86_64</architecture><imageType>machine</imageType><platformDetails>Linux/UNIX</platformDetails>\
             <usageOperation>RunInstances</usageOperation><name>my-ami</name><rootDeviceType>ebs</rootDeviceType><rootDeviceName>/dev/xvda</rootDeviceName>\
             <blockDeviceMapping><item><deviceName>/dev/xvda</deviceName><ebs><snapshotId>snap-0123456789abcdef0</snapshotId><volumeSize>8</volumeSize>\
             <deleteOnTermination>true</deleteOnTermination><volumeType>gp3</volumeType><iops>3000</iops><throughput>125</throughput>\
             <encrypted>false</encrypted></ebs></item><item><deviceName>/dev/sdb</deviceName><virtualName>ephemeral0</virtualName></item>\
             <item><deviceName>/dev/sdc</deviceName><noDevice/></item></blockDeviceMapping><virtualizationType>hvm</virtualizationType>\
             <tagSet/><hypervisor>xen</hypervisor><enaSupport>true</enaSupport><deregistrationProtection>disabled</deregistrationProtection>\
             <imageAllowed>true</imageAllowed><freeTierEligible>false</freeTierEligible>"
        );
    }

    #[test]
    fn golden_image_optional_fields() {
        let mut i = image();
        i.block_device_mappings.clear();
        i.product_codes = vec![ProductCode { id: "abc123".into(), code_type: "marketplace".into() }];
        i.owner_alias = Some("aws-marketplace".into());
        i.platform = Some("windows".into());
        i.state = "failed".into();
        i.state_reason =
            Some(crate::domain::image::StateReason { code: "Server.InternalError".into(), message: "boom".into() });
        i.tags = vec![("Name".into(), "x".into())];
        let mut x = Xml::new();
        write_image(&mut x, &i);
        let xml = x.into_string();
        for part in [
            "<productCodes><item><productCode>abc123</productCode><type>marketplace</type></item></productCodes>",
            "<platform>windows</platform>",
            "<imageOwnerAlias>aws-marketplace</imageOwnerAlias>",
            "<blockDeviceMapping/>",
            "<tagSet><item><key>Name</key><value>x</value></item></tagSet>",
            "<stateReason><code>Server.InternalError</code><message>boom</message></stateReason>",
        ] {
            assert!(xml.contains(part), "{part} missing from {xml}");
        }
    }

    #[test]
    fn not_found_lists_ids_as_ec2_does() {
        assert_eq!(
            Ec2Error::image_not_found(&["ami-12345678"]).message,
            "The image id '[ami-12345678]' does not exist"
        );
        assert_eq!(
            Ec2Error::image_not_found(&["ami-1", "ami-2"]).message,
            "The image ids '[ami-1, ami-2]' do not exist"
        );
    }
}
