//! CreateVolume, DescribeVolumes, DeleteVolume, AttachVolume, DetachVolume.

use super::{Ctx, FromParams};
use crate::access;
use crate::domain::filter::Filter;
use crate::domain::ids::{self, IdKind};
use crate::domain::image::check_enum;
use crate::domain::instance::Instance;
use crate::domain::lifecycle::{InstanceState, SnapshotState, VolumeState};
use crate::domain::regions::{self, Zone};
use crate::domain::snapshot::Snapshot;
use crate::domain::tags::{self as tag_rules, Tag};
use crate::domain::volume::{self, default_kms_key, Attachment, Volume, VOLUME_TYPES};
use crate::ec2_err;
use crate::error::{Ec2Error, Result};
use crate::store::filters::{Found, Page};
use crate::store::{self, tags, volumes, Exec};
use crate::wire::params::Params;
use crate::wire::query::{dedup, parse_filters, parse_page, parse_tag_specs, write_next_token};
use crate::wire::shapes::volume::{write_attachment, write_volume};
use crate::wire::xml::Xml;

/// The zone CreateVolume is asked for, by name or by id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ZoneRef {
    Name(String),
    Id(String),
}

pub struct CreateVolumeInput {
    pub zone: ZoneRef,
    pub volume_type: String,
    /// GiB; without it, the size of the snapshot.
    pub size: Option<i64>,
    pub snapshot_id: Option<String>,
    pub encrypted: bool,
    pub kms_key_id: Option<String>,
    pub iops: Option<i64>,
    pub throughput: Option<i64>,
    pub multi_attach: bool,
    pub tags: Vec<Tag>,
    pub client_token: Option<String>,
}

impl FromParams for CreateVolumeInput {
    fn from_params(p: &Params) -> Result<Self> {
        let zone = match (p.str("AvailabilityZone"), p.str("AvailabilityZoneId")) {
            (Some(_), Some(_)) => {
                return Err(ec2_err!(
                    InvalidParameterCombination,
                    "Only one of AvailabilityZone or AvailabilityZoneId can be specified"
                ))
            }
            (Some(name), None) => ZoneRef::Name(name.to_string()),
            (None, Some(id)) => ZoneRef::Id(id.to_string()),
            (None, None) => return Err(Ec2Error::missing_parameter("AvailabilityZone")),
        };
        let volume_type = p.str("VolumeType").unwrap_or("gp2");
        check_enum("VolumeType", volume_type, VOLUME_TYPES)?;
        let size = p.int("Size")?;
        let snapshot_id = p.str("SnapshotId");
        if let Some(id) = snapshot_id {
            ids::check(IdKind::Snapshot, id)?;
        }
        let encrypted = p.flag("Encrypted")?;
        let kms_key_id = p.str("KmsKeyId");
        if kms_key_id.is_some() && !encrypted {
            return Err(Ec2Error::kms_key_without_encryption());
        }
        let multi_attach = p.flag("MultiAttachEnabled")?;
        if multi_attach && !matches!(volume_type, "io1" | "io2") {
            return Err(ec2_err!(
                InvalidParameterCombination,
                "Multi-Attach is supported only for io1 and io2 volumes."
            ));
        }
        let tags = tag_rules::for_type(&parse_tag_specs(p)?, &["volume"], "volume")?;
        Ok(CreateVolumeInput {
            zone,
            volume_type: volume_type.to_string(),
            size,
            snapshot_id: snapshot_id.map(str::to_string),
            encrypted,
            kms_key_id: kms_key_id.map(str::to_string),
            iops: p.int("Iops")?,
            throughput: p.int("Throughput")?,
            multi_attach,
            tags,
            client_token: p.str("ClientToken").map(str::to_string),
        })
    }
}

pub async fn create_volume(ctx: &Ctx<'_>, input: CreateVolumeInput) -> Result<Xml> {
    let zone = resolve_zone(ctx, &input.zone)?;
    let mut tx = ctx.app.store.write_now().await?;
    if let Some(earlier) = created_with_token(ctx, &mut tx, &input, &zone).await? {
        ctx.check_dry_run()?;
        return Ok(volume_xml(&earlier));
    }
    let snapshot = match &input.snapshot_id {
        Some(id) => Some(source_snapshot(ctx, &mut tx, id).await?),
        None => None,
    };
    let volume = new_volume(ctx, &input, zone, snapshot.as_ref())?;
    ctx.check_dry_run()?;
    let stored = volume.settled(ctx.now);
    volumes::insert(&mut tx, &stored, input.client_token.as_deref()).await?;
    tags::upsert(&mut tx, ctx.scope.account, ctx.scope.region, &volume.volume_id, "volume", &input.tags, ctx.now)
        .await?;
    tx.commit()?;
    ctx.app.store.schedule_transition(stored.ready_at);
    Ok(volume_xml(&volume))
}

fn resolve_zone(ctx: &Ctx<'_>, zone: &ZoneRef) -> Result<Zone> {
    let region = regions::find(ctx.scope.region).expect("known region");
    match zone {
        ZoneRef::Name(name) => regions::zone_by_name(region, name)
            .ok_or_else(|| ec2_err!(InvalidZone_NotFound, "The zone '{name}' does not exist.")),
        ZoneRef::Id(id) => regions::zone_by_id(region, id)
            .ok_or_else(|| ec2_err!(InvalidZone_NotFound, "The zone ID '{id}' does not exist.")),
    }
}

/// The volume an earlier call with the same client token created: a retry answers
/// with it, a different request (other zone or size) is refused.
async fn created_with_token(
    ctx: &Ctx<'_>,
    conn: &mut impl Exec,
    input: &CreateVolumeInput,
    zone: &Zone,
) -> Result<Option<Volume>> {
    let Some(token) = &input.client_token else { return Ok(None) };
    let Some(earlier) = volumes::find_by_client_token(conn, ctx.scope.account, ctx.scope.region, token).await? else {
        return Ok(None);
    };
    if earlier.availability_zone != zone.name || input.size.is_some_and(|s| s != earlier.size) {
        return Err(Ec2Error::client_token_reused(token));
    }
    Ok(Some(earlier))
}

/// The snapshot a volume is made from: visible to the caller and completed.
async fn source_snapshot(ctx: &Ctx<'_>, conn: &mut impl Exec, snapshot_id: &str) -> Result<Snapshot> {
    let snapshot = access::visible_snapshot(ctx.scope, conn, snapshot_id).await?;
    if snapshot.state != SnapshotState::Completed {
        return Err(ec2_err!(IncorrectState, "Snapshot is in invalid state - {}", snapshot.state));
    }
    Ok(snapshot)
}

/// The new volume: its size (at least the snapshot's), performance and encryption
/// (a volume of an encrypted snapshot is encrypted, with the snapshot's key unless
/// another is given).
fn new_volume(ctx: &Ctx<'_>, input: &CreateVolumeInput, zone: Zone, snapshot: Option<&Snapshot>) -> Result<Volume> {
    let size = match (input.size, snapshot) {
        (Some(size), Some(s)) if size < s.volume_size => {
            return Err(ec2_err!(
                InvalidParameterValue,
                "Volume of size {size}GiB is smaller than snapshot '{}', expect size >= {}GiB",
                s.snapshot_id,
                s.volume_size
            ))
        }
        (Some(size), _) => size,
        (None, Some(s)) => s.volume_size,
        (None, None) => return Err(Ec2Error::missing_parameter("Size")),
    };
    volume::check_size(&input.volume_type, size)?;
    let (iops, throughput) = volume::performance(&input.volume_type, size, input.iops, input.throughput)?;
    let encrypted = input.encrypted || snapshot.is_some_and(|s| s.encrypted);
    let kms_key_id = encrypted.then(|| {
        input
            .kms_key_id
            .clone()
            .or_else(|| snapshot.and_then(|s| s.kms_key_id.clone()))
            .unwrap_or_else(|| default_kms_key(ctx.scope.account, ctx.scope.region))
    });
    Ok(Volume {
        volume_id: ids::new_id(IdKind::Volume),
        owner_id: ctx.scope.account.to_string(),
        region: ctx.scope.region.to_string(),
        availability_zone: zone.name,
        availability_zone_id: zone.id,
        size,
        volume_type: input.volume_type.clone(),
        iops,
        throughput,
        encrypted,
        kms_key_id,
        snapshot_id: snapshot.map(|s| s.snapshot_id.clone()),
        multi_attach_enabled: input.multi_attach,
        state: VolumeState::Creating,
        create_time: ctx.now,
        ready_at: Some(ctx.now + ctx.app.timings.volume_creating_ms),
        attachment: None,
        tags: input.tags.iter().map(|t| (t.key.clone(), t.value.clone())).collect(),
    })
}

fn volume_xml(v: &Volume) -> Xml {
    let mut x = Xml::new();
    write_volume(&mut x, v);
    x
}

pub struct DescribeVolumesInput {
    pub volume_ids: Vec<String>,
    pub filters: Vec<Filter>,
    pub page: Page,
}

impl FromParams for DescribeVolumesInput {
    fn from_params(p: &Params) -> Result<Self> {
        let volume_ids = dedup(p.list("VolumeId")?);
        ids::check_all(IdKind::Volume, &volume_ids)?;
        let filters = parse_filters(p, "Filter")?;
        let page = parse_page(p, !volume_ids.is_empty(), "volumeSet", 5, 500)?;
        volumes::FILTERS.validate(&filters)?;
        Ok(DescribeVolumesInput { volume_ids, filters, page })
    }
}

pub async fn describe_volumes(ctx: &Ctx<'_>, input: DescribeVolumesInput) -> Result<Xml> {
    ctx.check_dry_run()?;
    let query = volumes::VolumeQuery {
        account: ctx.scope.account,
        region: ctx.scope.region,
        volume_ids: input.volume_ids,
        filters: &input.filters,
        page: input.page,
    };
    let (found, next) = ctx.app.store.query(|db| {
        let (found, next) = volumes::describe(db, &query)?;
        // A requested id that is missing is unknown, unless a filter merely excluded it.
        let missing: Vec<String> =
            query.volume_ids.iter().filter(|id| !found.iter().any(|v| &v.volume_id == *id)).cloned().collect();
        if !missing.is_empty() {
            let owned = if input.filters.is_empty() {
                Found::default()
            } else {
                let by_id = volumes::VolumeQuery { volume_ids: missing.clone(), filters: &[], ..query };
                volumes::describe(db, &by_id)?.0
            };
            if let Some(unknown) = missing.iter().find(|id| !owned.iter().any(|v| &v.volume_id == *id)) {
                return Err(Ec2Error::volume_not_found(unknown));
            }
        }
        Ok((found, next))
    })?;
    let mut x = Xml::new();
    x.list("volumeSet", &found, write_volume);
    write_next_token(&mut x, next);
    Ok(x)
}

pub struct DeleteVolumeInput {
    pub volume_id: String,
}

impl FromParams for DeleteVolumeInput {
    fn from_params(p: &Params) -> Result<Self> {
        let volume_id = p.required("VolumeId")?;
        ids::check(IdKind::Volume, volume_id)?;
        Ok(DeleteVolumeInput { volume_id: volume_id.to_string() })
    }
}

pub async fn delete_volume(ctx: &Ctx<'_>, input: DeleteVolumeInput) -> Result<Xml> {
    let volume_id = input.volume_id.as_str();
    let mut tx = ctx.app.store.write().await?;
    let volume = access::own_volume(ctx.scope, &mut tx, volume_id).await?;
    if let Some(attachment) = &volume.attachment {
        return Err(ec2_err!(VolumeInUse, "Volume {volume_id} is currently attached to {}", attachment.instance_id));
    }
    ctx.check_dry_run()?;
    volumes::delete(&mut tx, volume_id).await?;
    tx.commit().await?;
    Ok(Xml::return_true())
}

/// `/dev/sdf`, `/dev/xvdb`, `xvdh`: the device names EBS accepts.
fn check_device(device: &str) -> Result<()> {
    let name = device.strip_prefix("/dev/").unwrap_or(device);
    let valid = (name.starts_with("sd") || name.starts_with("xvd") || name.starts_with("hd"))
        && name.len() <= 12
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if valid {
        Ok(())
    } else {
        Err(ec2_err!(
            InvalidParameterValue,
            "Value ({device}) for parameter device is invalid. {device} is not a valid EBS device name."
        ))
    }
}

pub struct AttachVolumeInput {
    pub volume_id: String,
    pub instance_id: String,
    pub device: String,
}

impl FromParams for AttachVolumeInput {
    fn from_params(p: &Params) -> Result<Self> {
        let volume_id = p.required("VolumeId")?;
        let instance_id = p.required("InstanceId")?;
        let device = p.required("Device")?;
        ids::check(IdKind::Volume, volume_id)?;
        ids::check(IdKind::Instance, instance_id)?;
        check_device(device)?;
        Ok(AttachVolumeInput {
            volume_id: volume_id.to_string(),
            instance_id: instance_id.to_string(),
            device: device.to_string(),
        })
    }
}

pub async fn attach_volume(ctx: &Ctx<'_>, input: AttachVolumeInput) -> Result<Xml> {
    let mut tx = ctx.app.store.write().await?;
    let volume = access::own_volume(ctx.scope, &mut tx, &input.volume_id).await?;
    let instance = access::own_instance(ctx.scope, &mut tx, &input.instance_id).await?;
    check_attachable(&volume, &instance, &input.device)?;
    ctx.check_dry_run()?;
    store::instances::attach_volume(&mut tx, &input.volume_id, &input.instance_id, &input.device, false, ctx.now)
        .await?;
    tx.commit().await?;
    let attachment = Attachment {
        instance_id: input.instance_id,
        device: input.device,
        state: "attaching".to_string(),
        attach_time: ctx.now,
        delete_on_termination: false,
    };
    let mut x = Xml::new();
    write_attachment(&mut x, &input.volume_id, &attachment);
    Ok(x)
}

/// Whether `volume` may be attached to `instance` as `device`: a free, available
/// volume in the instance's zone, an instance that is not ending, a device not in use.
fn check_attachable(volume: &Volume, instance: &Instance, device: &str) -> Result<()> {
    let (volume_id, instance_id) = (&volume.volume_id, &instance.instance_id);
    if let Some(a) = &volume.attachment {
        return Err(ec2_err!(VolumeInUse, "{volume_id} is already attached to an instance ({})", a.instance_id));
    }
    if volume.state != VolumeState::Available {
        return Err(ec2_err!(IncorrectState, "Volume '{volume_id}' is in the '{}' state.", volume.state));
    }
    let attachable_states =
        [InstanceState::Running, InstanceState::Stopped, InstanceState::Pending, InstanceState::Stopping];
    if !attachable_states.contains(&instance.state) {
        return Err(ec2_err!(IncorrectInstanceState, "Instance '{instance_id}' is not 'running' or 'stopped'."));
    }
    if volume.availability_zone != instance.availability_zone {
        return Err(ec2_err!(
            InvalidVolume_ZoneMismatch,
            "The volume '{volume_id}' is not in the same availability zone as instance '{instance_id}'"
        ));
    }
    if instance.volumes.iter().any(|(d, ..)| d == device) || instance.root_device_name.as_deref() == Some(device) {
        return Err(ec2_err!(
            InvalidParameterValue,
            "Invalid value '{device}' for unixDevice. Attachment point {device} is already in use"
        ));
    }
    Ok(())
}

/// `InstanceId` and `Device`, when given, must name the volume's attachment. `Force`
/// is accepted: nothing here ever hangs detaching.
pub struct DetachVolumeInput {
    pub volume_id: String,
    pub instance_id: Option<String>,
    pub device: Option<String>,
}

impl FromParams for DetachVolumeInput {
    fn from_params(p: &Params) -> Result<Self> {
        let volume_id = p.required("VolumeId")?;
        ids::check(IdKind::Volume, volume_id)?;
        p.flag("Force")?;
        Ok(DetachVolumeInput {
            volume_id: volume_id.to_string(),
            instance_id: p.str("InstanceId").map(str::to_string),
            device: p.str("Device").map(str::to_string),
        })
    }
}

pub async fn detach_volume(ctx: &Ctx<'_>, input: DetachVolumeInput) -> Result<Xml> {
    let volume_id = input.volume_id.as_str();
    let mut tx = ctx.app.store.write().await?;
    let volume = access::own_volume(ctx.scope, &mut tx, volume_id).await?;
    let Some(attachment) = volume.attachment else {
        return Err(ec2_err!(IncorrectState, "Volume '{volume_id}' is in the '{}' state.", volume.state));
    };
    let wrong_instance = input.instance_id.is_some_and(|i| i != attachment.instance_id);
    let wrong_device = input.device.is_some_and(|d| d != attachment.device);
    if wrong_instance || wrong_device {
        return Err(ec2_err!(
            InvalidAttachment_NotFound,
            "The volume '{volume_id}' is not attached to the given instance and device."
        ));
    }
    let instance = access::own_instance(ctx.scope, &mut tx, &attachment.instance_id).await?;
    let is_root = instance.root_device_name.as_deref() == Some(attachment.device.as_str());
    if is_root && instance.state != InstanceState::Stopped {
        return Err(ec2_err!(
            IncorrectState,
            "Unable to detach root volume '{volume_id}' from instance '{}'",
            attachment.instance_id
        ));
    }
    ctx.check_dry_run()?;
    store::instances::detach_volume(&mut tx, volume_id).await?;
    tx.commit().await?;
    let mut x = Xml::new();
    write_attachment(&mut x, volume_id, &Attachment { state: "detaching".to_string(), ..attachment });
    Ok(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse<T: FromParams>(pairs: &[(&str, &str)]) -> Result<T> {
        T::from_params(&Params::from_pairs(pairs.iter().copied()))
    }

    #[test]
    fn create_reads_a_complete_request() {
        let input: CreateVolumeInput = parse(&[
            ("AvailabilityZoneId", "use1-az2"),
            ("VolumeType", "io2"),
            ("Size", "10"),
            ("Iops", "1000"),
            ("SnapshotId", "snap-0123456789abcdef0"),
            ("Encrypted", "true"),
            ("KmsKeyId", "alias/mine"),
            ("MultiAttachEnabled", "true"),
            ("TagSpecification.1.ResourceType", "volume"),
            ("TagSpecification.1.Tag.1.Key", "Name"),
            ("TagSpecification.1.Tag.1.Value", "data"),
            ("ClientToken", "t-1"),
        ])
        .unwrap();
        assert_eq!(input.zone, ZoneRef::Id("use1-az2".into()));
        assert_eq!((input.volume_type.as_str(), input.size, input.iops), ("io2", Some(10), Some(1000)));
        assert_eq!(input.snapshot_id.as_deref(), Some("snap-0123456789abcdef0"));
        assert!(input.encrypted && input.multi_attach);
        assert_eq!(input.tags, [Tag { key: "Name".into(), value: "data".into() }]);
        assert_eq!(input.client_token.as_deref(), Some("t-1"));

        let defaults: CreateVolumeInput = parse(&[("AvailabilityZone", "us-east-1a")]).unwrap();
        assert_eq!(
            (defaults.zone, defaults.volume_type.as_str(), defaults.size),
            (ZoneRef::Name("us-east-1a".into()), "gp2", None)
        );
    }

    #[test]
    fn create_refusals() {
        let refused = |pairs: &[(&str, &str)]| parse::<CreateVolumeInput>(pairs).err().unwrap();
        assert_eq!(refused(&[("Size", "1")]).message, "The request must contain the parameter AvailabilityZone");
        let both = refused(&[("AvailabilityZone", "us-east-1a"), ("AvailabilityZoneId", "use1-az1")]);
        assert_eq!(both.code, "InvalidParameterCombination");
        let zone = ("AvailabilityZone", "us-east-1a");
        assert_eq!(refused(&[zone, ("VolumeType", "gp9")]).code, "InvalidParameterValue");
        assert_eq!(refused(&[zone, ("Size", "big")]).code, "InvalidParameterValue");
        assert_eq!(refused(&[zone, ("SnapshotId", "snap-x")]).code, "InvalidSnapshotID.Malformed");
        assert_eq!(refused(&[zone, ("KmsKeyId", "alias/mine")]), Ec2Error::kms_key_without_encryption());
        assert_eq!(refused(&[zone, ("MultiAttachEnabled", "true")]).code, "InvalidParameterCombination");
        let untaggable = [zone, ("TagSpecification.1.ResourceType", "snapshot"), ("TagSpecification.1.Tag.1.Key", "a")];
        assert_eq!(refused(&untaggable).code, "InvalidParameterValue");
    }

    #[test]
    fn describe_pages_only_without_ids() {
        let input: DescribeVolumesInput =
            parse(&[("VolumeId.1", "vol-0123456789abcdef0"), ("VolumeId.2", "vol-0123456789abcdef0")]).unwrap();
        assert_eq!(input.volume_ids, ["vol-0123456789abcdef0"]);
        let with_page = parse::<DescribeVolumesInput>(&[("VolumeId.1", "vol-0123456789abcdef0"), ("MaxResults", "5")]);
        assert_eq!(with_page.err().unwrap().code, "InvalidParameterCombination");
        assert_eq!(
            parse::<DescribeVolumesInput>(&[("VolumeId.1", "vol-1")]).err().unwrap().code,
            "InvalidVolumeID.Malformed"
        );
        let unknown_filter = parse::<DescribeVolumesInput>(&[("Filter.1.Name", "colour"), ("Filter.1.Value.1", "red")]);
        assert_eq!(unknown_filter.err().unwrap().code, "InvalidParameterValue");
    }

    #[test]
    fn attach_checks_ids_and_device() {
        let ok = [("VolumeId", "vol-0123456789abcdef0"), ("InstanceId", "i-0123456789abcdef0"), ("Device", "/dev/sdf")];
        assert_eq!(parse::<AttachVolumeInput>(&ok).unwrap().device, "/dev/sdf");
        assert_eq!(parse::<AttachVolumeInput>(&ok[..2]).err().unwrap().code, "MissingParameter");
        let bad_device = [ok[0], ok[1], ("Device", "/dev/nvme1n1")];
        let err = parse::<AttachVolumeInput>(&bad_device).err().unwrap();
        assert_eq!(
            err.message,
            "Value (/dev/nvme1n1) for parameter device is invalid. /dev/nvme1n1 is not a valid EBS device name."
        );
        let bad_instance = [ok[0], ("InstanceId", "i-zz"), ok[2]];
        assert_eq!(parse::<AttachVolumeInput>(&bad_instance).err().unwrap().code, "InvalidInstanceID.Malformed");
    }

    #[test]
    fn attachable_needs_a_free_volume_in_the_zone_and_a_free_device() {
        let volume = Volume {
            volume_id: "vol-0123456789abcdef0".into(),
            availability_zone: "us-east-1a".into(),
            state: VolumeState::Available,
            ..Default::default()
        };
        let instance = Instance {
            instance_id: "i-0123456789abcdef0".into(),
            availability_zone: "us-east-1a".into(),
            state: InstanceState::Running,
            root_device_name: Some("/dev/xvda".into()),
            ..Default::default()
        };
        assert!(check_attachable(&volume, &instance, "/dev/sdf").is_ok());
        assert_eq!(check_attachable(&volume, &instance, "/dev/xvda").unwrap_err().code, "InvalidParameterValue");
        let elsewhere = Volume { availability_zone: "us-east-1b".into(), ..volume.clone() };
        assert_eq!(check_attachable(&elsewhere, &instance, "/dev/sdf").unwrap_err().code, "InvalidVolume.ZoneMismatch");
        let creating = Volume { state: VolumeState::Creating, ..volume.clone() };
        assert_eq!(check_attachable(&creating, &instance, "/dev/sdf").unwrap_err().code, "IncorrectState");
        let ended = Instance { state: InstanceState::Terminated, ..instance.clone() };
        assert_eq!(check_attachable(&volume, &ended, "/dev/sdf").unwrap_err().code, "IncorrectInstanceState");
    }

    #[test]
    fn detach_reads_the_optional_attachment() {
        let input: DetachVolumeInput = parse(&[("VolumeId", "vol-0123456789abcdef0"), ("Device", "/dev/sdf")]).unwrap();
        assert_eq!((input.instance_id, input.device.as_deref()), (None, Some("/dev/sdf")));
        let bad_force = parse::<DetachVolumeInput>(&[("VolumeId", "vol-0123456789abcdef0"), ("Force", "maybe")]);
        assert_eq!(bad_force.err().unwrap().code, "InvalidParameterValue");
        assert_eq!(parse::<DeleteVolumeInput>(&[]).err().unwrap().code, "MissingParameter");
    }
}
