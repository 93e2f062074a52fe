//! RegisterImage, DescribeImages, DeregisterImage.

use super::{Ctx, FromParams};
use crate::access::own_image;
use crate::domain::clock::iso;
use crate::domain::filter::Filter;
use crate::domain::ids::{self, IdKind};
use crate::domain::image::{
    check_enum, validate_description, validate_name, BlockDeviceMapping, Image, ARCHITECTURES, BOOT_MODES,
    VIRTUALIZATION_TYPES,
};
use crate::domain::lifecycle::{ImageState, SnapshotState};

use crate::domain::tags::{self as tag_rules, Tag};
use crate::domain::volume;
use crate::ec2_err;
use crate::error::{Code, Ec2Error, Result};
use crate::store::filters::Page;
use crate::store::images::{Executor, ImageQuery, Owner};
use crate::store::{images, snapshots, tags, Conn, Exec};
use crate::wire::params::Params;
use crate::wire::query::{
    dedup, parse_block_device_mappings, parse_filters, parse_owners, parse_page, parse_tag_specs, write_next_token,
    OwnerSpec,
};
use crate::wire::shapes::image::{write_image, write_snapshot_deletions};
use crate::wire::xml::Xml;

/// Where a registered image boots from, decided by the request alone: an EBS root
/// device with a snapshot mapping, or else the instance store at `ImageLocation`.
#[derive(Debug, PartialEq, Eq)]
pub struct ImageRoot {
    pub device_type: &'static str,
    pub device_name: String,
    /// `None` for an EBS image registered without one: `<account>/<name>`.
    pub location: Option<String>,
}

pub struct RegisterImageInput {
    pub name: String,
    pub description: Option<String>,
    pub root: ImageRoot,
    pub architecture: String,
    pub virtualization_type: String,
    pub boot_mode: Option<String>,
    pub tpm_support: Option<String>,
    pub imds_support: Option<String>,
    pub sriov_net_support: Option<String>,
    pub uefi_data: Option<String>,
    pub ena_support: Option<bool>,
    pub kernel_id: Option<String>,
    pub ramdisk_id: Option<String>,
    pub block_device_mappings: Vec<BlockDeviceMapping>,
    pub tags: Vec<Tag>,
}

impl FromParams for RegisterImageInput {
    fn from_params(p: &Params) -> Result<Self> {
        let name = p.required("Name")?;
        validate_name(name)?;
        let description = p.str("Description");
        if let Some(d) = description {
            validate_description(d)?;
        }
        let architecture = p.str("Architecture").unwrap_or("i386");
        check_enum("Architecture", architecture, ARCHITECTURES)?;
        let virtualization_type = p.str("VirtualizationType").unwrap_or("paravirtual");
        check_enum("VirtualizationType", virtualization_type, VIRTUALIZATION_TYPES)?;
        let boot_mode = optional_enum(p, "BootMode", BOOT_MODES)?;
        let tpm_support = optional_enum(p, "TpmSupport", &["v2.0"])?;
        let imds_support = optional_enum(p, "ImdsSupport", &["v2.0"])?;
        let sriov_net_support = optional_enum(p, "SriovNetSupport", &["simple"])?;
        let uefi_data = p.str("UefiData");
        if uefi_data.is_some_and(|d| d.len() > 64_000) {
            return Err(ec2_err!(
                InvalidParameterValue,
                "The parameter UefiData must be at most 64000 characters long."
            ));
        }
        let kernel_id = optional_id(p, "KernelId", IdKind::Kernel)?;
        let ramdisk_id = optional_id(p, "RamdiskId", IdKind::Ramdisk)?;
        let block_device_mappings = parse_block_device_mappings(p)?;
        let tags = tag_rules::for_type(&parse_tag_specs(p)?, &["image"], "image")?;
        let root = image_root(p.str("RootDeviceName"), p.str("ImageLocation"), &block_device_mappings)?;
        Ok(RegisterImageInput {
            name: name.to_string(),
            description: description.map(str::to_string),
            root,
            architecture: architecture.to_string(),
            virtualization_type: virtualization_type.to_string(),
            boot_mode,
            tpm_support,
            imds_support,
            sriov_net_support,
            uefi_data: uefi_data.map(str::to_string),
            ena_support: p.bool("EnaSupport")?,
            kernel_id,
            ramdisk_id,
            block_device_mappings,
            tags,
        })
    }
}

fn optional_enum(p: &Params, name: &str, allowed: &[&str]) -> Result<Option<String>> {
    let value = p.str(name);
    if let Some(v) = value {
        check_enum(name, v, allowed)?;
    }
    Ok(value.map(str::to_string))
}

fn optional_id(p: &Params, name: &str, kind: IdKind) -> Result<Option<String>> {
    let id = p.str(name);
    if let Some(id) = id {
        ids::check(kind, id)?;
    }
    Ok(id.map(str::to_string))
}

fn image_root(root_device: Option<&str>, location: Option<&str>, mappings: &[BlockDeviceMapping]) -> Result<ImageRoot> {
    let has_snapshot = |root: &str| {
        mappings.iter().any(|m| m.device_name == root && m.ebs.as_ref().is_some_and(|e| e.snapshot_id.is_some()))
    };
    match (root_device, location) {
        (Some(root), location) if has_snapshot(root) => {
            Ok(ImageRoot { device_type: "ebs", device_name: root.to_string(), location: location.map(str::to_string) })
        }
        (root, Some(location)) => Ok(ImageRoot {
            device_type: "instance-store",
            device_name: root.unwrap_or("/dev/sda1").to_string(),
            location: Some(location.to_string()),
        }),
        (None, None) => {
            Err(ec2_err!(MissingParameter, "The request must contain the parameter rootDeviceName or imageLocation"))
        }
        (Some(root), None) => Err(ec2_err!(
            InvalidBlockDeviceMapping,
            "The root device {root} must have a block device mapping with an EBS snapshot"
        )),
    }
}

pub async fn register_image(ctx: &Ctx<'_>, mut input: RegisterImageInput) -> Result<Xml> {
    let mut tx = ctx.app.store.write_now().await?;
    let mut mappings = std::mem::take(&mut input.block_device_mappings);
    resolve_snapshots(ctx, &mut tx, &mut mappings).await?;
    ctx.check_dry_run()?;
    let image = registered_image(ctx, &input, mappings);
    let stored = image.settled(ctx.now);
    images::insert(&mut tx, &stored, ctx.now).await?;
    tags::upsert(&mut tx, ctx.scope.account, ctx.scope.region, &image.image_id, "image", &input.tags, ctx.now).await?;
    tx.commit()?;
    ctx.app.store.schedule_transition(stored.ready_at);
    let mut x = Xml::new();
    x.text("imageId", &image.image_id);
    Ok(x)
}

/// The new pending image a RegisterImage call describes, with its completed mappings.
fn registered_image(ctx: &Ctx<'_>, input: &RegisterImageInput, mappings: Vec<BlockDeviceMapping>) -> Image {
    let name = &input.name;
    Image {
        image_id: ids::new_id(IdKind::Image),
        owner_id: ctx.scope.account.to_string(),
        region: ctx.scope.region.to_string(),
        name: name.clone(),
        description: input.description.clone(),
        image_location: input.root.location.clone().unwrap_or_else(|| format!("{}/{name}", ctx.scope.account)),
        state: ImageState::Pending,
        ready_at: Some(ctx.now + ctx.app.timings.image_pending_ms),
        architecture: input.architecture.clone(),
        image_type: "machine".to_string(),
        platform_details: "Linux/UNIX".to_string(),
        usage_operation: "RunInstances".to_string(),
        root_device_type: input.root.device_type.to_string(),
        root_device_name: Some(input.root.device_name.clone()),
        virtualization_type: input.virtualization_type.clone(),
        hypervisor: "xen".to_string(),
        kernel_id: input.kernel_id.clone(),
        ramdisk_id: input.ramdisk_id.clone(),
        ena_support: input.ena_support,
        sriov_net_support: input.sriov_net_support.clone(),
        boot_mode: input.boot_mode.clone(),
        tpm_support: input.tpm_support.clone(),
        uefi_data: input.uefi_data.clone(),
        imds_support: input.imds_support.clone(),
        deregistration_protection: "disabled".to_string(),
        creation_date: iso(ctx.now),
        block_device_mappings: mappings,
        ..Default::default()
    }
}

/// Completes each EBS mapping from its snapshot (size, encryption) and EC2's defaults,
/// refusing snapshots the caller cannot use.
async fn resolve_snapshots(ctx: &Ctx<'_>, conn: &mut impl Exec, mappings: &mut [BlockDeviceMapping]) -> Result<()> {
    for mapping in mappings.iter_mut() {
        let Some(ebs) = mapping.ebs.as_mut() else { continue };
        let volume_type = ebs.volume_type.get_or_insert_with(|| "gp2".to_string()).clone();
        ebs.delete_on_termination.get_or_insert(true);
        match ebs.snapshot_id.as_deref() {
            Some(snapshot_id) => {
                let snapshot = snapshots::find_visible(conn, ctx.scope.account, ctx.scope.region, snapshot_id)
                    .await?
                    .ok_or_else(|| Ec2Error::snapshot_not_found(snapshot_id))?;
                if snapshot.state != SnapshotState::Completed {
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
            .map_err(|e| Ec2Error::new(Code::InvalidBlockDeviceMapping, e.message))?;
        if matches!(volume_type.as_str(), "gp3" | "io1" | "io2") {
            let (iops, throughput) = volume::performance(&volume_type, size, ebs.iops, ebs.throughput)?;
            ebs.iops = iops;
            ebs.throughput = throughput;
        }
    }
    Ok(())
}

/// One `ExecutableBy.N`: who must be able to launch the images. The caller's own id
/// means what `self` means (organization and OU grants included), so it is resolved
/// by the handler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecutableBy {
    Caller,
    Everyone,
    Account(String),
}

impl ExecutableBy {
    fn parse(value: String) -> Result<ExecutableBy> {
        match value.as_str() {
            "self" => Ok(ExecutableBy::Caller),
            "all" => Ok(ExecutableBy::Everyone),
            v if ids::is_account_id(v) => Ok(ExecutableBy::Account(value)),
            v => Err(Ec2Error::malformed_user(v)),
        }
    }

    fn resolve(&self, caller: &str) -> Executor {
        match self {
            ExecutableBy::Caller => Executor::Caller(caller.to_string()),
            ExecutableBy::Account(id) if id == caller => Executor::Caller(caller.to_string()),
            ExecutableBy::Account(id) => Executor::Account(id.clone()),
            ExecutableBy::Everyone => Executor::Public,
        }
    }
}

pub struct DescribeImagesInput {
    pub image_ids: Vec<String>,
    pub owners: Vec<OwnerSpec>,
    pub executable_by: Vec<ExecutableBy>,
    pub filters: Vec<Filter>,
    pub include_deprecated: bool,
    pub include_disabled: bool,
    pub page: Page,
}

impl FromParams for DescribeImagesInput {
    fn from_params(p: &Params) -> Result<Self> {
        let image_ids = dedup(p.list("ImageId")?);
        ids::check_all(IdKind::Image, &image_ids)?;
        let owners = parse_owners(p)?;
        let executable_by = p.list("ExecutableBy")?.into_iter().map(ExecutableBy::parse).collect::<Result<_>>()?;
        let filters = parse_filters(p, "Filter")?;
        images::FILTERS.validate(&filters)?;
        let page = parse_page(p, !image_ids.is_empty(), "imagesSet", 5, 1000)?;
        Ok(DescribeImagesInput {
            image_ids,
            owners,
            executable_by,
            filters,
            include_deprecated: p.flag("IncludeDeprecated")?,
            include_disabled: p.flag("IncludeDisabled")?,
            page,
        })
    }
}

pub async fn describe_images(ctx: &Ctx<'_>, input: DescribeImagesInput) -> Result<Xml> {
    let caller = ctx.scope.account;
    let query = ImageQuery {
        account: caller,
        region: ctx.scope.region,
        image_ids: input.image_ids,
        owners: input.owners.iter().map(|o| o.resolve(caller, Owner::Account, Owner::Alias)).collect(),
        executors: input.executable_by.iter().map(|e| e.resolve(caller)).collect(),
        filters: &input.filters,
        include_deprecated: input.include_deprecated,
        include_disabled: input.include_disabled,
        // The current second: every stored deprecation time is a whole second (minutes from
        // EnableImageDeprecation, seconds from the catalog), so `time > now` and
        // `time > this second` agree, and a repeated search is a repeated statement that
        // the read cache can answer.
        now_iso: iso(ctx.now - ctx.now.rem_euclid(1000)),
        page: input.page,
    };
    ctx.check_dry_run()?;
    let (found, next) = ctx.app.store.query(|db| {
        let (found, next) = images::describe(db, &query)?;
        if found.len() < query.image_ids.len() {
            // Ids that were never visible here are errors; filtered-out or deregistered ones are not.
            let known = images::known_ids(db, caller, ctx.scope.region, &query.image_ids)?;
            let unknown: Vec<&str> =
                query.image_ids.iter().filter(|id| !known.contains(id)).map(String::as_str).collect();
            if !unknown.is_empty() {
                return Err(Ec2Error::image_not_found(&unknown));
            }
        }
        Ok((found, next))
    })?;
    let mut x = Xml::new();
    x.list("imagesSet", &found, |x, image| write_image(x, image, ctx.now));
    write_next_token(&mut x, next);
    Ok(x)
}

pub struct DeregisterImageInput {
    pub image_id: String,
    pub delete_associated_snapshots: bool,
}

impl FromParams for DeregisterImageInput {
    fn from_params(p: &Params) -> Result<Self> {
        let image_id = p.required("ImageId")?;
        let delete_associated_snapshots = p.flag("DeleteAssociatedSnapshots")?;
        ids::check(IdKind::Image, image_id)?;
        Ok(DeregisterImageInput { image_id: image_id.to_string(), delete_associated_snapshots })
    }
}

pub async fn deregister_image(ctx: &Ctx<'_>, input: DeregisterImageInput) -> Result<Xml> {
    let image_id = input.image_id.as_str();
    let mut tx = ctx.app.store.write().await?;
    let image = own_image(ctx.scope, &mut tx, image_id).await?;
    if image.state == ImageState::Deregistered {
        return Err(Ec2Error::image_unavailable(&image.image_id, image.state.as_str()));
    }
    if let Some(reason) = crate::domain::image::deregistration_refusal(&image, ctx.now) {
        return Err(Ec2Error::new(Code::OperationNotPermitted, reason));
    }
    ctx.check_dry_run()?;
    images::deregister(&mut tx, image_id, ctx.now).await?;
    let mut results = Vec::new();
    if input.delete_associated_snapshots {
        for snapshot_id in image_snapshot_ids(&image) {
            let code = delete_associated_snapshot(ctx, &mut tx, &snapshot_id).await?;
            results.push((snapshot_id, code));
        }
    }
    tx.commit().await?;
    let mut x = Xml::return_true();
    if input.delete_associated_snapshots {
        write_snapshot_deletions(&mut x, &results);
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

    fn register(pairs: &[(&str, &str)]) -> Result<RegisterImageInput> {
        RegisterImageInput::from_params(&Params::from_pairs(pairs.iter().copied()))
    }

    const EBS_ROOT: [(&str, &str); 3] = [
        ("RootDeviceName", "/dev/xvda"),
        ("BlockDeviceMapping.1.DeviceName", "/dev/xvda"),
        ("BlockDeviceMapping.1.Ebs.SnapshotId", "snap-0123456789abcdef0"),
    ];

    #[test]
    fn register_ebs_image_with_defaults() {
        let input = register(&[[("Name", "my-ami")].as_slice(), &EBS_ROOT].concat()).unwrap();
        assert_eq!(input.root, ImageRoot { device_type: "ebs", device_name: "/dev/xvda".into(), location: None });
        assert_eq!((input.architecture.as_str(), input.virtualization_type.as_str()), ("i386", "paravirtual"));
        assert_eq!(input.block_device_mappings.len(), 1);
    }

    #[test]
    fn register_instance_store_image_defaults_its_root_device() {
        let input = register(&[("Name", "s3-ami"), ("ImageLocation", "bucket/manifest.xml")]).unwrap();
        assert_eq!(
            input.root,
            ImageRoot {
                device_type: "instance-store",
                device_name: "/dev/sda1".into(),
                location: Some("bucket/manifest.xml".into())
            }
        );
    }

    #[test]
    fn register_refusals() {
        let code = |pairs: &[(&str, &str)]| register(pairs).err().map(|e| e.code.as_str());
        assert_eq!(code(&[]), Some("MissingParameter"));
        assert_eq!(code(&[("Name", "my-ami")]), Some("MissingParameter"));
        assert_eq!(code(&[("Name", "my-ami"), ("RootDeviceName", "/dev/xvda")]), Some("InvalidBlockDeviceMapping"));
        let with_root =
            |extra: (&'static str, &'static str)| [[("Name", "my-ami"), extra].as_slice(), &EBS_ROOT].concat();
        assert_eq!(code(&with_root(("Architecture", "sparc"))), Some("InvalidParameterValue"));
        assert_eq!(code(&with_root(("TpmSupport", "v1.0"))), Some("InvalidParameterValue"));
        assert_eq!(code(&with_root(("KernelId", "ami-12345678"))), Some("InvalidKernelId.Malformed"));
        assert_eq!(code(&with_root(("EnaSupport", "yes"))), Some("InvalidParameterValue"));
        assert_eq!(code(&with_root(("TagSpecification.1.ResourceType", "snapshot"))), Some("InvalidParameterValue"));
    }

    #[test]
    fn describe_reads_owners_and_executors() {
        let p = Params::from_pairs([
            ("ImageId.1", "ami-12345678"),
            ("ImageId.2", "ami-12345678"),
            ("Owner.1", "self"),
            ("Owner.2", "amazon"),
            ("Owner.3", "210987654321"),
            ("ExecutableBy.1", "123456789012"),
            ("ExecutableBy.2", "all"),
        ]);
        let input = DescribeImagesInput::from_params(&p).unwrap();
        assert_eq!(input.image_ids, ["ami-12345678"]);
        let owners: Vec<Owner> =
            input.owners.iter().map(|o| o.resolve("123456789012", Owner::Account, Owner::Alias)).collect();
        assert_eq!(
            owners,
            [
                Owner::Account("123456789012".into()),
                Owner::Alias("amazon".into()),
                Owner::Account("210987654321".into())
            ]
        );
        let executors: Vec<Executor> = input.executable_by.iter().map(|e| e.resolve("123456789012")).collect();
        assert_eq!(executors, [Executor::Caller("123456789012".into()), Executor::Public]);
    }

    #[test]
    fn describe_refusals() {
        let code = |pairs: &[(&str, &str)]| {
            DescribeImagesInput::from_params(&Params::from_pairs(pairs.iter().copied())).err().map(|e| e.code.as_str())
        };
        assert_eq!(code(&[("ImageId.1", "ami-x")]), Some("InvalidAMIID.Malformed"));
        assert_eq!(code(&[("Owner.1", "someone")]), Some("InvalidUserID.Malformed"));
        assert_eq!(code(&[("ExecutableBy.1", "12")]), Some("InvalidUserID.Malformed"));
        assert_eq!(code(&[("Filter.1.Name", "no-such-filter")]), Some("InvalidParameterValue"));
        assert_eq!(code(&[("ImageId.1", "ami-12345678"), ("MaxResults", "10")]), Some("InvalidParameterCombination"));
    }

    #[test]
    fn deregister_input() {
        let p = Params::from_pairs([("ImageId", "ami-12345678"), ("DeleteAssociatedSnapshots", "true")]);
        let input = DeregisterImageInput::from_params(&p).unwrap();
        assert_eq!((input.image_id.as_str(), input.delete_associated_snapshots), ("ami-12345678", true));
        let err = DeregisterImageInput::from_params(&Params::default()).err().unwrap();
        assert_eq!(err.code, "MissingParameter");
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
