//! CreateSnapshot, DescribeSnapshots, DeleteSnapshot, CopySnapshot.

use super::{new_snapshot, store_new_snapshot, Ctx};
use crate::domain::clock::iso;
use crate::domain::ids::{self, IdKind};
use crate::domain::image::validate_description;
use crate::domain::regions;
use crate::domain::snapshot::{state, Snapshot};
use crate::domain::tags::{self as tag_rules};
use crate::domain::volume::default_kms_key;
use crate::domain::volume::state as volume_state;
use crate::ec2_err;
use crate::error::{Ec2Error, Result};
use crate::store::snapshots::{Owner, SnapshotQuery};
use crate::store::{images, snapshots, volumes};
use crate::wire::params::Params;
use crate::wire::query::{dedup, parse_filters, parse_page, parse_tag_specs, write_next_token};
use crate::wire::xml::Xml;

/// Read by the handler until this action has a typed input.
pub type CreateSnapshotInput = Params;

pub async fn create_snapshot(ctx: &Ctx<'_>, p: CreateSnapshotInput) -> Result<Xml> {
    let p = &p;
    let volume_id = p.required("VolumeId")?;
    ids::check(IdKind::Volume, volume_id)?;
    let description = p.raw("Description").unwrap_or_default();
    validate_description(description)?;
    let tag_specs = parse_tag_specs(p)?;
    let tags = tag_rules::for_type(&tag_specs, &["snapshot"], "snapshot")?;
    let mut tx = ctx.app.store.write().await?;
    let volume = volumes::find_owned(&mut tx, ctx.scope.account, ctx.scope.region, volume_id)
        .await?
        .ok_or_else(|| ec2_err!(InvalidVolume_NotFound, "The volume '{volume_id}' does not exist."))?;
    if !matches!(volume.state.as_str(), volume_state::AVAILABLE | volume_state::IN_USE) {
        return Err(ec2_err!(IncorrectState, "The volume '{volume_id}' is in state '{}'.", volume.state));
    }
    ctx.check_dry_run()?;
    let mut snapshot = new_snapshot(ctx, volume_id, volume.size, description.to_string());
    snapshot.encrypted = volume.encrypted;
    snapshot.kms_key_id = volume.kms_key_id;
    snapshot.tags = tags.iter().map(|t| (t.key.clone(), t.value.clone())).collect();
    store_new_snapshot(ctx, &mut tx, &snapshot, &tags, volume_id).await?;
    tx.commit().await?;
    let mut x = Xml::new();
    write_snapshot(&mut x, &snapshot, ctx.now);
    Ok(x)
}

/// `self`, an account id, or an owner alias.
fn parse_owner(ctx: &Ctx<'_>, value: &str) -> Result<Owner> {
    match value {
        "self" => Ok(Owner::Account(ctx.scope.account.to_string())),
        "amazon" | "aws-marketplace" | "aws-backup-vault" => Ok(Owner::Alias(value.to_string())),
        v if ids::is_account_id(v) => Ok(Owner::Account(v.to_string())),
        v => Err(Ec2Error::malformed_user(v)),
    }
}

/// Read by the handler until this action has a typed input.
pub type DescribeSnapshotsInput = Params;

pub async fn describe_snapshots(ctx: &Ctx<'_>, p: DescribeSnapshotsInput) -> Result<Xml> {
    let p = &p;
    let snapshot_ids = dedup(p.list("SnapshotId")?);
    ids::check_all(IdKind::Snapshot, &snapshot_ids)?;
    let owners = p.list("Owner")?.iter().map(|o| parse_owner(ctx, o)).collect::<Result<Vec<_>>>()?;
    let restorable_by = p
        .list("RestorableBy")?
        .into_iter()
        .map(|r| match r.as_str() {
            "self" => Ok(ctx.scope.account.to_string()),
            "all" => Ok(r),
            v if ids::is_account_id(v) => Ok(r),
            v => Err(Ec2Error::malformed_user(v)),
        })
        .collect::<Result<Vec<_>>>()?;
    let filters = parse_filters(p, "Filter")?;
    let page = parse_page(p, !snapshot_ids.is_empty(), "snapshotSet", 5, 1000)?;
    snapshots::FILTERS.validate(&filters)?;
    ctx.check_dry_run()?;
    let scoped = !owners.is_empty() || !restorable_by.is_empty() || !filters.is_empty();
    let query = SnapshotQuery {
        account: ctx.scope.account,
        region: ctx.scope.region,
        snapshot_ids,
        owners,
        restorable_by,
        filters: &filters,
        page,
    };
    let mut conn = ctx.app.store.read().await?;
    let (found, next) = snapshots::describe(&mut conn, &query).await?;
    for missing in query.snapshot_ids.iter().filter(|id| !found.iter().any(|s| &s.snapshot_id == *id)) {
        if !scoped || snapshots::find_visible(&mut conn, ctx.scope.account, ctx.scope.region, missing).await?.is_none()
        {
            return Err(Ec2Error::snapshot_not_found(missing));
        }
    }
    let mut x = Xml::new();
    x.list("snapshotSet", &found, |x, s| write_snapshot(x, s, ctx.now));
    write_next_token(&mut x, next);
    Ok(x)
}

/// Read by the handler until this action has a typed input.
pub type DeleteSnapshotInput = Params;

pub async fn delete_snapshot(ctx: &Ctx<'_>, p: DeleteSnapshotInput) -> Result<Xml> {
    let p = &p;
    let snapshot_id = p.required("SnapshotId")?;
    ids::check(IdKind::Snapshot, snapshot_id)?;
    let mut tx = ctx.app.store.write().await?;
    let snapshot = snapshots::find_visible(&mut tx, ctx.scope.account, ctx.scope.region, snapshot_id)
        .await?
        .ok_or_else(|| Ec2Error::snapshot_not_found(snapshot_id))?;
    if snapshot.owner_id != ctx.scope.account {
        return Err(Ec2Error::not_owner());
    }
    if let Some(image_id) = images::images_using_snapshot(&mut tx, snapshot_id).await?.first() {
        return Err(ec2_err!(InvalidSnapshot_InUse, "The snapshot {snapshot_id} is currently in use by {image_id}"));
    }
    ctx.check_dry_run()?;
    snapshots::delete(&mut tx, snapshot_id).await?;
    tx.commit().await?;
    Ok(Xml::return_true())
}

/// Read by the handler until this action has a typed input.
pub type CopySnapshotInput = Params;

pub async fn copy_snapshot(ctx: &Ctx<'_>, p: CopySnapshotInput) -> Result<Xml> {
    let p = &p;
    let source_region_name = p.required("SourceRegion")?;
    let source_region = regions::find(&source_region_name.to_ascii_lowercase())
        .ok_or_else(|| ec2_err!(InvalidRegion, "The source region '{source_region_name}' does not exist."))?;
    let source_id = p.required("SourceSnapshotId")?;
    ids::check(IdKind::Snapshot, source_id)?;
    let encrypted_param = p.bool("Encrypted")?;
    let kms_key_id = p.str("KmsKeyId");
    if kms_key_id.is_some() && encrypted_param != Some(true) {
        return Err(ec2_err!(
            InvalidParameterDependency,
            "The parameter KmsKeyId requires the parameter Encrypted to be set."
        ));
    }
    let description = p.raw("Description").map(str::to_string);
    if let Some(d) = &description {
        validate_description(d)?;
    }
    let tag_specs = parse_tag_specs(p)?;
    let tags = tag_rules::for_type(&tag_specs, &["snapshot"], "snapshot")?;

    ctx.app.catalog.ensure(&ctx.app.store, source_region.name, ctx.now).await?;
    let mut tx = ctx.app.store.write().await?;
    let source = snapshots::find_visible(&mut tx, ctx.scope.account, source_region.name, source_id)
        .await?
        .ok_or_else(|| Ec2Error::snapshot_not_found(source_id))?;
    if source.state != state::COMPLETED {
        return Err(ec2_err!(IncorrectState, "Snapshot {source_id} is in invalid state - {}", source.state));
    }
    if source.encrypted && encrypted_param == Some(false) {
        return Err(ec2_err!(InvalidParameterCombination, "A copy of an encrypted snapshot must be encrypted."));
    }
    ctx.check_dry_run()?;
    let description = description.unwrap_or_else(|| format!("[Copied {source_id} from {}]", source_region.name));
    // Copies do not keep the source volume: EC2 reports this placeholder id.
    let mut copy = new_snapshot(ctx, "vol-ffffffff", source.volume_size, description);
    copy.encrypted = source.encrypted || encrypted_param == Some(true);
    copy.kms_key_id = if copy.encrypted {
        Some(
            kms_key_id
                .map(str::to_string)
                .or(source.kms_key_id)
                .unwrap_or_else(|| default_kms_key(ctx.scope.account, ctx.scope.region)),
        )
    } else {
        None
    };
    store_new_snapshot(ctx, &mut tx, &copy, &tags, source_id).await?;
    tx.commit().await?;
    let mut x = Xml::new();
    x.text("snapshotId", &copy.snapshot_id);
    if !tags.is_empty() {
        let pairs: Vec<(String, String)> = tags.into_iter().map(|t| (t.key, t.value)).collect();
        x.tag_set(&pairs);
    }
    Ok(x)
}

pub fn write_snapshot(x: &mut Xml, s: &Snapshot, now: i64) {
    x.text("snapshotId", &s.snapshot_id)
        .text("volumeId", &s.volume_id)
        .text("status", &s.state)
        .opt_text("statusMessage", s.state_message.as_deref())
        .text("startTime", &iso(s.start_time))
        .text("progress", &s.progress(now))
        .text("ownerId", &s.owner_id)
        .num("volumeSize", s.volume_size)
        .text("description", &s.description)
        .bool("encrypted", s.encrypted)
        .opt_text("kmsKeyId", s.kms_key_id.as_deref())
        .opt_text("ownerAlias", s.owner_alias.as_deref());
    if !s.tags.is_empty() {
        x.tag_set(&s.tags);
    }
    x.text("storageTier", "standard").opt_text("completionTime", s.completion_time.map(iso).as_deref());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn golden_snapshot() {
        let s = Snapshot {
            snapshot_id: "snap-0123456789abcdef0".into(),
            owner_id: "123456789012".into(),
            volume_id: "vol-0123456789abcdef0".into(),
            volume_size: 8,
            description: "root & data".into(),
            state: "completed".into(),
            start_time: 0,
            completion_time: Some(1000),
            ..Default::default()
        };
        let mut x = Xml::new();
        write_snapshot(&mut x, &s, 5000);
        assert_eq!(
            x.as_str(),
            "<snapshotId>snap-0123456789abcdef0</snapshotId><volumeId>vol-0123456789abcdef0</volumeId><status>completed</status>\
             <startTime>1970-01-01T00:00:00.000Z</startTime><progress>100%</progress><ownerId>123456789012</ownerId>\
             <volumeSize>8</volumeSize><description>root &amp; data</description><encrypted>false</encrypted>\
             <storageTier>standard</storageTier><completionTime>1970-01-01T00:00:01.000Z</completionTime>"
        );
    }
}
