//! CreateSnapshot, CreateSnapshots, DescribeSnapshots, DeleteSnapshot, CopySnapshot.

use super::{new_snapshot, store_new_snapshot, Ctx, FromParams};
use crate::access::{self, Scope};
use crate::domain::filter::Filter;
use crate::domain::ids::{self, IdKind};
use crate::domain::image::validate_description;
use crate::domain::lifecycle::{SnapshotState, VolumeState};
use crate::domain::regions::{self, Region};
use crate::domain::snapshot::Snapshot;
use crate::domain::tags::{self as tag_rules, Tag};
use crate::domain::volume::default_kms_key;

use crate::ec2_err;
use crate::error::{Ec2Error, Result};
use crate::store::filters::{Found, Page};
use crate::store::snapshots::{Owner, SnapshotQuery};
use crate::store::{images, snapshots};
use crate::wire::params::Params;
use crate::wire::query::{
    dedup, parse_filters, parse_owners, parse_page, parse_tag_specs, write_next_token, OwnerSpec,
};
use crate::wire::shapes::snapshot::{write_snapshot, write_snapshot_info};
use crate::wire::xml::Xml;

/// Snapshot tags from `TagSpecification.N` (resource type `snapshot` only).
fn parse_snapshot_tags(p: &Params) -> Result<Vec<Tag>> {
    tag_rules::for_type(&parse_tag_specs(p)?, &["snapshot"], "snapshot")
}

fn tag_pairs(tags: &[Tag]) -> Vec<(String, String)> {
    tags.iter().map(|t| (t.key.clone(), t.value.clone())).collect()
}

pub struct CreateSnapshotInput {
    pub volume_id: String,
    pub description: String,
    pub tags: Vec<Tag>,
}

impl FromParams for CreateSnapshotInput {
    fn from_params(p: &Params) -> Result<Self> {
        let volume_id = p.required("VolumeId")?;
        ids::check(IdKind::Volume, volume_id)?;
        let description = p.raw("Description").unwrap_or_default();
        validate_description(description)?;
        Ok(CreateSnapshotInput {
            volume_id: volume_id.to_string(),
            description: description.to_string(),
            tags: parse_snapshot_tags(p)?,
        })
    }
}

pub async fn create_snapshot(ctx: &Ctx<'_>, input: CreateSnapshotInput) -> Result<Xml> {
    let mut tx = ctx.app.store.write_now().await?;
    let volume = access::own_volume(ctx.scope, &mut tx, &input.volume_id).await?;
    if !matches!(volume.state, VolumeState::Available | VolumeState::InUse) {
        return Err(ec2_err!(IncorrectState, "The volume '{}' is in state '{}'.", input.volume_id, volume.state));
    }
    ctx.check_dry_run()?;
    let mut snapshot = new_snapshot(ctx, &input.volume_id, volume.size, input.description);
    snapshot.encrypted = volume.encrypted;
    snapshot.kms_key_id = volume.kms_key_id;
    snapshot.tags = tag_pairs(&input.tags);
    store_new_snapshot(ctx, &mut tx, &snapshot, &input.tags, &input.volume_id).await?;
    tx.commit()?;
    let mut x = Xml::new();
    write_snapshot(&mut x, &snapshot, ctx.now);
    Ok(x)
}

/// Crash-consistent snapshots of the volumes of one instance.
pub struct CreateSnapshotsInput {
    pub instance_id: String,
    pub exclude_boot_volume: bool,
    pub exclude_data_volumes: Vec<String>,
    pub description: String,
    /// `CopyTagsFromSource=volume`: each snapshot also gets its volume's tags.
    pub copy_volume_tags: bool,
    pub tags: Vec<Tag>,
}

impl FromParams for CreateSnapshotsInput {
    fn from_params(p: &Params) -> Result<Self> {
        let spec = p.nested("InstanceSpecification");
        let instance_id = spec.str("InstanceId").ok_or_else(|| Ec2Error::missing_parameter("InstanceSpecification"))?;
        ids::check(IdKind::Instance, instance_id)?;
        let exclude_data_volumes = spec.list("ExcludeDataVolumeId")?;
        ids::check_all(IdKind::Volume, &exclude_data_volumes)?;
        let description = p.raw("Description").unwrap_or_default();
        validate_description(description)?;
        let copy_volume_tags = match p.str("CopyTagsFromSource") {
            None => false,
            Some("volume") => true,
            Some(other) => return Err(Ec2Error::invalid_value("CopyTagsFromSource", other)),
        };
        Ok(CreateSnapshotsInput {
            instance_id: instance_id.to_string(),
            exclude_boot_volume: spec.bool("ExcludeBootVolume")?.unwrap_or(false),
            exclude_data_volumes,
            description: description.to_string(),
            copy_volume_tags,
            tags: parse_snapshot_tags(p)?,
        })
    }
}

pub async fn create_snapshots(ctx: &Ctx<'_>, input: CreateSnapshotsInput) -> Result<Xml> {
    let mut tx = ctx.app.store.write().await?;
    let instance = access::own_instance(ctx.scope, &mut tx, &input.instance_id).await?;
    let root = instance.root_device_name.as_deref();
    let chosen: Vec<&String> = instance
        .volumes
        .iter()
        .filter(|(device, volume_id, ..)| {
            let is_boot = Some(device.as_str()) == root;
            if is_boot {
                !input.exclude_boot_volume
            } else {
                !input.exclude_data_volumes.contains(volume_id)
            }
        })
        .map(|(_, volume_id, ..)| volume_id)
        .collect();
    ctx.check_dry_run()?;
    let mut made = Vec::with_capacity(chosen.len());
    for volume_id in chosen {
        let volume = access::own_volume(ctx.scope, &mut tx, volume_id).await?;
        let tags = snapshot_tags(&input, &volume.tags);
        let mut snapshot = new_snapshot(ctx, volume_id, volume.size, input.description.clone());
        snapshot.encrypted = volume.encrypted;
        snapshot.kms_key_id = volume.kms_key_id.clone();
        snapshot.tags = tag_pairs(&tags);
        store_new_snapshot(ctx, &mut tx, &snapshot, &tags, volume_id).await?;
        made.push((snapshot, volume.availability_zone));
    }
    tx.commit().await?;
    let mut x = Xml::new();
    x.list("snapshotSet", &made, |x, (s, zone)| write_snapshot_info(x, s, zone, ctx.now));
    Ok(x)
}

/// The request's tags, over the volume's when it asks to copy them.
fn snapshot_tags(input: &CreateSnapshotsInput, volume_tags: &[(String, String)]) -> Vec<Tag> {
    let mut tags: Vec<Tag> = Vec::new();
    if input.copy_volume_tags {
        tags.extend(volume_tags.iter().map(|(key, value)| Tag { key: key.clone(), value: value.clone() }));
    }
    for tag in &input.tags {
        tags.retain(|t| t.key != tag.key);
        tags.push(tag.clone());
    }
    tags
}

/// One `RestorableBy.N`: `self`, `all` or an account id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Restorer {
    Caller,
    /// An account id, or `all` (snapshots restorable by everyone).
    Grantee(String),
}

pub struct DescribeSnapshotsInput {
    pub snapshot_ids: Vec<String>,
    pub owners: Vec<OwnerSpec>,
    pub restorable_by: Vec<Restorer>,
    pub filters: Vec<Filter>,
    pub page: Page,
}

impl FromParams for DescribeSnapshotsInput {
    fn from_params(p: &Params) -> Result<Self> {
        let snapshot_ids = dedup(p.list("SnapshotId")?);
        ids::check_all(IdKind::Snapshot, &snapshot_ids)?;
        let owners = parse_owners(p)?;
        let restorable_by = p
            .list("RestorableBy")?
            .into_iter()
            .map(|r| match r.as_str() {
                "self" => Ok(Restorer::Caller),
                v if v == "all" || ids::is_account_id(v) => Ok(Restorer::Grantee(r)),
                v => Err(Ec2Error::malformed_user(v)),
            })
            .collect::<Result<Vec<_>>>()?;
        let filters = parse_filters(p, "Filter")?;
        let page = parse_page(p, !snapshot_ids.is_empty(), "snapshotSet", 5, 1000)?;
        snapshots::FILTERS.validate(&filters)?;
        Ok(DescribeSnapshotsInput { snapshot_ids, owners, restorable_by, filters, page })
    }
}

impl DescribeSnapshotsInput {
    /// Whether the answer is narrowed beyond the ids: then an asked-for id that is
    /// visible but left out is no error.
    fn is_scoped(&self) -> bool {
        !self.owners.is_empty() || !self.restorable_by.is_empty() || !self.filters.is_empty()
    }
}

pub async fn describe_snapshots(ctx: &Ctx<'_>, input: DescribeSnapshotsInput) -> Result<Xml> {
    ctx.check_dry_run()?;
    let scoped = input.is_scoped();
    let account = ctx.scope.account;
    let query = SnapshotQuery {
        account,
        region: ctx.scope.region,
        snapshot_ids: input.snapshot_ids,
        owners: input.owners.iter().map(|o| o.resolve(account, Owner::Account, Owner::Alias)).collect(),
        restorable_by: input
            .restorable_by
            .into_iter()
            .map(|r| match r {
                Restorer::Caller => account.to_string(),
                Restorer::Grantee(grantee) => grantee,
            })
            .collect(),
        filters: &input.filters,
        page: input.page,
    };
    let (found, next) = ctx.app.store.query(|db| {
        let (found, next) = snapshots::describe(db, &query)?;
        let missing: Vec<String> =
            query.snapshot_ids.iter().filter(|id| !found.iter().any(|s| &s.snapshot_id == *id)).cloned().collect();
        if !missing.is_empty() {
            // A visible id that the owners, restorers or filters left out is no error.
            let visible = if scoped {
                let by_id = SnapshotQuery {
                    account,
                    region: ctx.scope.region,
                    snapshot_ids: missing.clone(),
                    ..Default::default()
                };
                snapshots::describe(db, &by_id)?.0
            } else {
                Found::default()
            };
            if let Some(unknown) = missing.iter().find(|id| !visible.iter().any(|s| &s.snapshot_id == *id)) {
                return Err(Ec2Error::snapshot_not_found(unknown));
            }
        }
        Ok((found, next))
    })?;
    let mut x = Xml::new();
    x.list("snapshotSet", &found, |x, s| write_snapshot(x, s, ctx.now));
    write_next_token(&mut x, next);
    Ok(x)
}

pub struct DeleteSnapshotInput {
    pub snapshot_id: String,
}

impl FromParams for DeleteSnapshotInput {
    fn from_params(p: &Params) -> Result<Self> {
        let snapshot_id = p.required("SnapshotId")?;
        ids::check(IdKind::Snapshot, snapshot_id)?;
        Ok(DeleteSnapshotInput { snapshot_id: snapshot_id.to_string() })
    }
}

pub async fn delete_snapshot(ctx: &Ctx<'_>, input: DeleteSnapshotInput) -> Result<Xml> {
    let snapshot_id = input.snapshot_id.as_str();
    let mut tx = ctx.app.store.write().await?;
    access::own_snapshot(ctx.scope, &mut tx, snapshot_id).await?;
    if let Some(image_id) = images::images_using_snapshot(&mut tx, snapshot_id).await?.first() {
        return Err(ec2_err!(InvalidSnapshot_InUse, "The snapshot {snapshot_id} is currently in use by {image_id}"));
    }
    ctx.check_dry_run()?;
    snapshots::delete(&mut tx, snapshot_id).await?;
    tx.commit().await?;
    Ok(Xml::return_true())
}

pub struct CopySnapshotInput {
    pub source_region: &'static Region,
    pub source_snapshot_id: String,
    /// `Encrypted` as sent: `false` is refused for an encrypted source.
    pub encrypted: Option<bool>,
    pub kms_key_id: Option<String>,
    pub description: Option<String>,
    pub tags: Vec<Tag>,
}

impl FromParams for CopySnapshotInput {
    fn from_params(p: &Params) -> Result<Self> {
        let source_region_name = p.required("SourceRegion")?;
        let source_region = regions::find(&source_region_name.to_ascii_lowercase())
            .ok_or_else(|| ec2_err!(InvalidRegion, "The source region '{source_region_name}' does not exist."))?;
        let source_snapshot_id = p.required("SourceSnapshotId")?;
        ids::check(IdKind::Snapshot, source_snapshot_id)?;
        let encrypted = p.bool("Encrypted")?;
        let kms_key_id = p.str("KmsKeyId").map(str::to_string);
        if kms_key_id.is_some() && encrypted != Some(true) {
            return Err(Ec2Error::kms_key_without_encryption());
        }
        let description = p.raw("Description").map(str::to_string);
        if let Some(d) = &description {
            validate_description(d)?;
        }
        Ok(CopySnapshotInput {
            source_region,
            source_snapshot_id: source_snapshot_id.to_string(),
            encrypted,
            kms_key_id,
            description,
            tags: parse_snapshot_tags(p)?,
        })
    }
}

pub async fn copy_snapshot(ctx: &Ctx<'_>, input: CopySnapshotInput) -> Result<Xml> {
    let source_region = input.source_region.name;
    let source_id = input.source_snapshot_id.as_str();
    ctx.app.catalog.ensure(&ctx.app.store, source_region, ctx.now).await?;
    let mut tx = ctx.app.store.write().await?;
    let source_scope = Scope { account: ctx.scope.account, region: source_region };
    let source = access::visible_snapshot(source_scope, &mut tx, source_id).await?;
    check_copyable(&source, input.encrypted)?;
    ctx.check_dry_run()?;
    let description = input.description.clone().unwrap_or_else(|| format!("[Copied {source_id} from {source_region}]"));
    // Copies do not keep the source volume: EC2 reports this placeholder id.
    let mut copy = new_snapshot(ctx, "vol-ffffffff", source.volume_size, description);
    copy.encrypted = source.encrypted || input.encrypted == Some(true);
    copy.kms_key_id = copy.encrypted.then(|| copy_kms_key(ctx, &input, source.kms_key_id));
    store_new_snapshot(ctx, &mut tx, &copy, &input.tags, source_id).await?;
    tx.commit().await?;
    let mut x = Xml::new();
    x.text("snapshotId", &copy.snapshot_id);
    if !input.tags.is_empty() {
        x.tag_set(&tag_pairs(&input.tags));
    }
    Ok(x)
}

/// Only completed snapshots are copied, and an encrypted one only into an encrypted copy.
fn check_copyable(source: &Snapshot, encrypted: Option<bool>) -> Result<()> {
    if source.state != SnapshotState::Completed {
        return Err(ec2_err!(IncorrectState, "Snapshot {} is in invalid state - {}", source.snapshot_id, source.state));
    }
    if source.encrypted && encrypted == Some(false) {
        return Err(ec2_err!(InvalidParameterCombination, "A copy of an encrypted snapshot must be encrypted."));
    }
    Ok(())
}

/// The key of an encrypted copy: the one asked for, else the source's, else the
/// account's default EBS key.
fn copy_kms_key(ctx: &Ctx<'_>, input: &CopySnapshotInput, source_key: Option<String>) -> String {
    input.kms_key_id.clone().or(source_key).unwrap_or_else(|| default_kms_key(ctx.scope.account, ctx.scope.region))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_code<T: FromParams>(pairs: &[(&str, &str)]) -> String {
        T::from_params(&Params::from_pairs(pairs.iter().copied())).err().expect("refused").code.to_string()
    }

    #[test]
    fn create_snapshot_reads_volume_description_and_tags() {
        let p = Params::from_pairs([
            ("VolumeId", "vol-0123456789abcdef0"),
            ("Description", "nightly"),
            ("TagSpecification.1.ResourceType", "snapshot"),
            ("TagSpecification.1.Tag.1.Key", "Name"),
            ("TagSpecification.1.Tag.1.Value", "db"),
        ]);
        let input = CreateSnapshotInput::from_params(&p).unwrap();
        assert_eq!((input.volume_id.as_str(), input.description.as_str()), ("vol-0123456789abcdef0", "nightly"));
        assert_eq!(tag_pairs(&input.tags), [("Name".to_string(), "db".to_string())]);
    }

    #[test]
    fn create_snapshot_refusals() {
        assert_eq!(error_code::<CreateSnapshotInput>(&[]), "MissingParameter");
        assert_eq!(error_code::<CreateSnapshotInput>(&[("VolumeId", "vol-xyz")]), "InvalidVolumeID.Malformed");
        let long = "d".repeat(256);
        assert_eq!(
            error_code::<CreateSnapshotInput>(&[("VolumeId", "vol-0123456789abcdef0"), ("Description", &long)]),
            "InvalidParameterValue"
        );
        assert_eq!(
            error_code::<CreateSnapshotInput>(&[
                ("VolumeId", "vol-0123456789abcdef0"),
                ("TagSpecification.1.ResourceType", "image"),
                ("TagSpecification.1.Tag.1.Key", "k"),
            ]),
            "InvalidParameterValue"
        );
    }

    #[test]
    fn describe_snapshots_keeps_self_for_the_handler() {
        let p = Params::from_pairs([
            ("Owner.1", "self"),
            ("Owner.2", "amazon"),
            ("RestorableBy.1", "self"),
            ("RestorableBy.2", "all"),
            ("MaxResults", "5"),
        ]);
        let input = DescribeSnapshotsInput::from_params(&p).unwrap();
        assert_eq!(input.owners, [OwnerSpec::Caller, OwnerSpec::Alias("amazon".into())]);
        assert_eq!(input.restorable_by, [Restorer::Caller, Restorer::Grantee("all".into())]);
        assert_eq!(input.page.limit, Some(5));
        assert!(input.is_scoped());
    }

    #[test]
    fn describe_snapshots_refusals() {
        assert_eq!(error_code::<DescribeSnapshotsInput>(&[("SnapshotId.1", "snap-x")]), "InvalidSnapshotID.Malformed");
        assert_eq!(error_code::<DescribeSnapshotsInput>(&[("Owner.1", "someone")]), "InvalidUserID.Malformed");
        assert_eq!(error_code::<DescribeSnapshotsInput>(&[("RestorableBy.1", "everyone")]), "InvalidUserID.Malformed");
        assert_eq!(
            error_code::<DescribeSnapshotsInput>(&[("SnapshotId.1", "snap-0123456789abcdef0"), ("MaxResults", "5")]),
            "InvalidParameterCombination"
        );
        assert_eq!(
            error_code::<DescribeSnapshotsInput>(&[("Filter.1.Name", "no-such-filter"), ("Filter.1.Value.1", "x")]),
            "InvalidParameterValue"
        );
    }

    #[test]
    fn delete_snapshot_needs_a_well_formed_id() {
        assert_eq!(error_code::<DeleteSnapshotInput>(&[]), "MissingParameter");
        assert_eq!(error_code::<DeleteSnapshotInput>(&[("SnapshotId", "snap-x")]), "InvalidSnapshotID.Malformed");
        let p = Params::from_pairs([("SnapshotId", "snap-0123456789abcdef0")]);
        assert_eq!(DeleteSnapshotInput::from_params(&p).unwrap().snapshot_id, "snap-0123456789abcdef0");
    }

    #[test]
    fn copy_snapshot_reads_region_case_insensitively() {
        let p = Params::from_pairs([
            ("SourceRegion", "US-WEST-2"),
            ("SourceSnapshotId", "snap-0123456789abcdef0"),
            ("Encrypted", "true"),
            ("KmsKeyId", "alias/mine"),
        ]);
        let input = CopySnapshotInput::from_params(&p).unwrap();
        assert_eq!(input.source_region.name, "us-west-2");
        assert_eq!((input.encrypted, input.kms_key_id.as_deref()), (Some(true), Some("alias/mine")));
        assert_eq!(input.description, None);
    }

    #[test]
    fn copy_snapshot_refusals() {
        let source = ("SourceSnapshotId", "snap-0123456789abcdef0");
        assert_eq!(error_code::<CopySnapshotInput>(&[source]), "MissingParameter");
        assert_eq!(error_code::<CopySnapshotInput>(&[("SourceRegion", "mars-1"), source]), "InvalidRegion");
        let region = ("SourceRegion", "us-east-1");
        assert_eq!(
            error_code::<CopySnapshotInput>(&[region, ("SourceSnapshotId", "snap-1")]),
            "InvalidSnapshotID.Malformed"
        );
        let err = CopySnapshotInput::from_params(&Params::from_pairs([region, source, ("KmsKeyId", "alias/k")]))
            .err()
            .unwrap();
        assert_eq!(err, Ec2Error::kms_key_without_encryption());
        assert_eq!(
            error_code::<CopySnapshotInput>(&[region, source, ("Encrypted", "false"), ("KmsKeyId", "alias/k")]),
            "InvalidParameterDependency"
        );
    }

    #[test]
    fn only_completed_snapshots_copy_and_encryption_sticks() {
        let completed =
            Snapshot { snapshot_id: "snap-1".into(), state: SnapshotState::Completed, ..Default::default() };
        assert!(check_copyable(&completed, None).is_ok());
        let pending = Snapshot { state: SnapshotState::Pending, ..completed.clone() };
        assert_eq!(check_copyable(&pending, None).unwrap_err().code, "IncorrectState");
        let encrypted = Snapshot { encrypted: true, ..completed };
        assert_eq!(check_copyable(&encrypted, Some(false)).unwrap_err().code, "InvalidParameterCombination");
        assert!(check_copyable(&encrypted, None).is_ok());
    }
}
