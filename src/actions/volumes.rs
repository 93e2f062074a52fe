//! CreateVolume, DescribeVolumes, DeleteVolume.

use super::Ctx;
use crate::domain::clock::iso;
use crate::domain::ids::{self, IdKind};
use crate::domain::image::check_enum;
use crate::domain::regions;
use crate::domain::snapshot::state as snapshot_state;
use crate::domain::tags as tag_rules;
use crate::domain::volume::{self, default_kms_key, state, Volume, VOLUME_TYPES};
use crate::ec2_err;
use crate::error::{Ec2Error, Result};
use crate::store::{snapshots, tags, volumes};
use crate::wire::params::Params;
use crate::wire::query::{dedup, parse_filters, parse_page, parse_tag_specs, write_next_token};
use crate::wire::xml::Xml;

/// Read by the handler until this action has a typed input.
pub type CreateVolumeInput = Params;

pub async fn create_volume(ctx: &Ctx<'_>, p: CreateVolumeInput) -> Result<Xml> {
    let p = &p;
    let region = regions::find(ctx.scope.region).expect("known region");
    let zone = match (p.str("AvailabilityZone"), p.str("AvailabilityZoneId")) {
        (Some(_), Some(_)) => {
            return Err(ec2_err!(
                InvalidParameterCombination,
                "Only one of AvailabilityZone or AvailabilityZoneId can be specified"
            ))
        }
        (Some(name), None) => regions::zone_by_name(region, name)
            .ok_or_else(|| ec2_err!(InvalidZone_NotFound, "The zone '{name}' does not exist."))?,
        (None, Some(id)) => regions::zone_by_id(region, id)
            .ok_or_else(|| ec2_err!(InvalidZone_NotFound, "The zone ID '{id}' does not exist."))?,
        (None, None) => return Err(Ec2Error::missing_parameter("AvailabilityZone")),
    };
    let volume_type = p.str("VolumeType").unwrap_or("gp2");
    check_enum("VolumeType", volume_type, VOLUME_TYPES)?;
    let size = p.int("Size")?;
    let snapshot_id = p.str("SnapshotId");
    let encrypted_param = p.flag("Encrypted")?;
    let kms_key_id = p.str("KmsKeyId");
    if kms_key_id.is_some() && !encrypted_param {
        return Err(ec2_err!(
            InvalidParameterDependency,
            "The parameter KmsKeyId requires the parameter Encrypted to be set."
        ));
    }
    let multi_attach = p.flag("MultiAttachEnabled")?;
    if multi_attach && !matches!(volume_type, "io1" | "io2") {
        return Err(ec2_err!(InvalidParameterCombination, "Multi-Attach is supported only for io1 and io2 volumes."));
    }
    let tag_specs = parse_tag_specs(p)?;
    let tags = tag_rules::for_type(&tag_specs, &["volume"], "volume")?;
    let client_token = p.str("ClientToken");

    let mut tx = ctx.app.store.write().await?;
    if let Some(token) = client_token {
        if let Some(existing) =
            volumes::find_by_client_token(&mut tx, ctx.scope.account, ctx.scope.region, token).await?
        {
            if existing.availability_zone != zone.name || size.is_some_and(|s| s != existing.size) {
                return Err(ec2_err!(
                    IdempotentParameterMismatch,
                    "Client token '{token}' was already used with different parameters."
                ));
            }
            ctx.check_dry_run()?;
            return Ok(volume_xml(&existing));
        }
    }
    let snapshot = match snapshot_id {
        Some(id) => {
            ids::check(IdKind::Snapshot, id)?;
            let snapshot = snapshots::find_visible(&mut tx, ctx.scope.account, ctx.scope.region, id)
                .await?
                .ok_or_else(|| ec2_err!(InvalidSnapshot_NotFound, "The snapshot '{id}' does not exist."))?;
            if snapshot.state != snapshot_state::COMPLETED {
                return Err(ec2_err!(IncorrectState, "Snapshot is in invalid state - {}", snapshot.state));
            }
            Some(snapshot)
        }
        None => None,
    };
    let size = match (size, &snapshot) {
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
    volume::check_size(volume_type, size)?;
    let (iops, throughput) = volume::performance(volume_type, size, p.int("Iops")?, p.int("Throughput")?)?;
    let encrypted = encrypted_param || snapshot.as_ref().is_some_and(|s| s.encrypted);
    let kms_key_id = encrypted.then(|| {
        kms_key_id
            .map(str::to_string)
            .or_else(|| snapshot.as_ref().and_then(|s| s.kms_key_id.clone()))
            .unwrap_or_else(|| default_kms_key(ctx.scope.account, ctx.scope.region))
    });
    ctx.check_dry_run()?;

    let ready_at = ctx.now + ctx.app.timings.volume_creating_ms;
    let volume = Volume {
        volume_id: ids::new_id(IdKind::Volume),
        owner_id: ctx.scope.account.to_string(),
        region: ctx.scope.region.to_string(),
        availability_zone: zone.name,
        availability_zone_id: zone.id,
        size,
        volume_type: volume_type.to_string(),
        iops,
        throughput,
        encrypted,
        kms_key_id,
        snapshot_id: snapshot.map(|s| s.snapshot_id),
        multi_attach_enabled: multi_attach,
        state: state::CREATING.to_string(),
        create_time: ctx.now,
        ready_at: Some(ready_at),
        attachment: None,
        tags: tags.iter().map(|t| (t.key.clone(), t.value.clone())).collect(),
    };
    let stored = volume.settled(ctx.now);
    volumes::insert(&mut tx, &stored, client_token).await?;
    tags::upsert(&mut tx, ctx.scope.account, ctx.scope.region, &volume.volume_id, "volume", &tags, ctx.now).await?;
    tx.commit().await?;
    ctx.app.store.schedule_transition(stored.ready_at);
    Ok(volume_xml(&volume))
}

fn volume_xml(v: &Volume) -> Xml {
    let mut x = Xml::new();
    write_volume(&mut x, v);
    x
}

/// Read by the handler until this action has a typed input.
pub type DescribeVolumesInput = Params;

pub async fn describe_volumes(ctx: &Ctx<'_>, p: DescribeVolumesInput) -> Result<Xml> {
    let p = &p;
    let volume_ids = dedup(p.list("VolumeId")?);
    ids::check_all(IdKind::Volume, &volume_ids)?;
    let filters = parse_filters(p, "Filter")?;
    let page = parse_page(p, !volume_ids.is_empty(), "volumeSet", 5, 500)?;
    volumes::FILTERS.validate(&filters)?;
    ctx.check_dry_run()?;
    let query = volumes::VolumeQuery {
        account: ctx.scope.account,
        region: ctx.scope.region,
        volume_ids,
        filters: &filters,
        page,
    };
    let mut conn = ctx.app.store.read().await?;
    let (found, next) = volumes::describe(&mut conn, &query).await?;
    // A requested id that is missing is unknown, unless a filter merely excluded it.
    for missing in query.volume_ids.iter().filter(|id| !found.iter().any(|v| &v.volume_id == *id)) {
        if filters.is_empty()
            || volumes::find_owned(&mut conn, ctx.scope.account, ctx.scope.region, missing).await?.is_none()
        {
            return Err(Ec2Error::volume_not_found(missing));
        }
    }
    let mut x = Xml::new();
    x.list("volumeSet", &found, write_volume);
    write_next_token(&mut x, next);
    Ok(x)
}

/// Read by the handler until this action has a typed input.
pub type DeleteVolumeInput = Params;

pub async fn delete_volume(ctx: &Ctx<'_>, p: DeleteVolumeInput) -> Result<Xml> {
    let p = &p;
    let volume_id = p.required("VolumeId")?;
    ids::check(IdKind::Volume, volume_id)?;
    let mut tx = ctx.app.store.write().await?;
    let volume = volumes::find_owned(&mut tx, ctx.scope.account, ctx.scope.region, volume_id)
        .await?
        .ok_or_else(|| Ec2Error::volume_not_found(volume_id))?;
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

/// Read by the handler until this action has a typed input.
pub type AttachVolumeInput = Params;

pub async fn attach_volume(ctx: &Ctx<'_>, p: AttachVolumeInput) -> Result<Xml> {
    let p = &p;
    let volume_id = p.required("VolumeId")?;
    let instance_id = p.required("InstanceId")?;
    let device = p.required("Device")?;
    ids::check(IdKind::Volume, volume_id)?;
    check_device(device)?;
    let mut tx = ctx.app.store.write().await?;
    let volume = volumes::find_owned(&mut tx, ctx.scope.account, ctx.scope.region, volume_id)
        .await?
        .ok_or_else(|| Ec2Error::volume_not_found(volume_id))?;
    let instance = crate::access::own_instance(ctx.scope, &mut tx, instance_id).await?;
    if let Some(a) = &volume.attachment {
        return Err(ec2_err!(VolumeInUse, "{volume_id} is already attached to an instance ({})", a.instance_id));
    }
    if volume.state != state::AVAILABLE {
        return Err(ec2_err!(IncorrectState, "Volume '{volume_id}' is in the '{}' state.", volume.state));
    }
    if !matches!(instance.state.as_str(), "running" | "stopped" | "pending" | "stopping") {
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
    ctx.check_dry_run()?;
    crate::store::instances::attach_volume(&mut tx, volume_id, instance_id, device, false, ctx.now).await?;
    tx.commit().await?;
    Ok(attachment_xml(volume_id, instance_id, device, "attaching", ctx.now, false))
}

/// Read by the handler until this action has a typed input.
pub type DetachVolumeInput = Params;

pub async fn detach_volume(ctx: &Ctx<'_>, p: DetachVolumeInput) -> Result<Xml> {
    let p = &p;
    let volume_id = p.required("VolumeId")?;
    ids::check(IdKind::Volume, volume_id)?;
    p.flag("Force")?;
    let mut tx = ctx.app.store.write().await?;
    let volume = volumes::find_owned(&mut tx, ctx.scope.account, ctx.scope.region, volume_id)
        .await?
        .ok_or_else(|| Ec2Error::volume_not_found(volume_id))?;
    let Some(attachment) = volume.attachment else {
        return Err(ec2_err!(IncorrectState, "Volume '{volume_id}' is in the '{}' state.", volume.state));
    };
    let wrong_instance = p.str("InstanceId").is_some_and(|i| i != attachment.instance_id);
    let wrong_device = p.str("Device").is_some_and(|d| d != attachment.device);
    if wrong_instance || wrong_device {
        return Err(ec2_err!(
            InvalidAttachment_NotFound,
            "The volume '{volume_id}' is not attached to the given instance and device."
        ));
    }
    let instance = crate::access::own_instance(ctx.scope, &mut tx, &attachment.instance_id).await?;
    if instance.root_device_name.as_deref() == Some(attachment.device.as_str()) && instance.state != "stopped" {
        return Err(ec2_err!(
            IncorrectState,
            "Unable to detach root volume '{volume_id}' from instance '{}'",
            attachment.instance_id
        ));
    }
    ctx.check_dry_run()?;
    crate::store::instances::detach_volume(&mut tx, volume_id).await?;
    tx.commit().await?;
    Ok(attachment_xml(
        volume_id,
        &attachment.instance_id,
        &attachment.device,
        "detaching",
        attachment.attach_time,
        attachment.delete_on_termination,
    ))
}

/// The `VolumeAttachment` answer of AttachVolume / DetachVolume.
fn attachment_xml(
    volume_id: &str,
    instance_id: &str,
    device: &str,
    status: &str,
    attach_time: i64,
    delete_on_termination: bool,
) -> Xml {
    let mut x = Xml::new();
    x.text("volumeId", volume_id)
        .text("instanceId", instance_id)
        .text("device", device)
        .text("status", status)
        .text("attachTime", &iso(attach_time))
        .bool("deleteOnTermination", delete_on_termination);
    x
}

pub fn write_volume(x: &mut Xml, v: &Volume) {
    x.text("volumeId", &v.volume_id).num("size", v.size);
    match &v.snapshot_id {
        Some(id) => x.text("snapshotId", id),
        None => x.empty("snapshotId"),
    };
    x.text("availabilityZone", &v.availability_zone)
        .text("availabilityZoneId", &v.availability_zone_id)
        .text("status", &v.state)
        .text("createTime", &iso(v.create_time));
    let attachments: Vec<_> = v.attachment.iter().collect();
    x.list("attachmentSet", &attachments, |x, a| {
        x.text("volumeId", &v.volume_id)
            .text("instanceId", &a.instance_id)
            .text("device", &a.device)
            .text("status", &a.state)
            .text("attachTime", &iso(a.attach_time))
            .bool("deleteOnTermination", a.delete_on_termination);
    });
    if !v.tags.is_empty() {
        x.tag_set(&v.tags);
    }
    x.text("volumeType", &v.volume_type)
        .opt_num("iops", v.iops)
        .opt_num("throughput", v.throughput)
        .bool("encrypted", v.encrypted)
        .opt_text("kmsKeyId", v.kms_key_id.as_deref())
        .bool("multiAttachEnabled", v.multi_attach_enabled)
        .bool("fastRestored", false);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn golden_volume() {
        let v = Volume {
            volume_id: "vol-0123456789abcdef0".into(),
            owner_id: "000000000000".into(),
            region: "us-east-1".into(),
            availability_zone: "us-east-1a".into(),
            availability_zone_id: "use1-az1".into(),
            size: 8,
            volume_type: "gp3".into(),
            iops: Some(3000),
            throughput: Some(125),
            encrypted: false,
            state: "creating".into(),
            create_time: 0,
            tags: vec![("Name".into(), "root".into())],
            ..Default::default()
        };
        let mut x = Xml::new();
        write_volume(&mut x, &v);
        assert_eq!(
            x.as_str(),
            "<volumeId>vol-0123456789abcdef0</volumeId><size>8</size><snapshotId/><availabilityZone>us-east-1a</availabilityZone>\
             <availabilityZoneId>use1-az1</availabilityZoneId><status>creating</status><createTime>1970-01-01T00:00:00.000Z</createTime>\
             <attachmentSet/><tagSet><item><key>Name</key><value>root</value></item></tagSet><volumeType>gp3</volumeType><iops>3000</iops>\
             <throughput>125</throughput><encrypted>false</encrypted><multiAttachEnabled>false</multiAttachEnabled><fastRestored>false</fastRestored>"
        );
    }
}
