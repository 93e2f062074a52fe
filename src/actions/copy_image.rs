//! CopyImage: sent to the destination region; copies an image the caller owns or may
//! launch, from `SourceRegion`, into a new image and new snapshots the caller owns.

use super::Ctx;
use super::{new_snapshot, store_new_snapshot};
use crate::domain::clock::iso;
use crate::domain::ids::{self, IdKind};
use crate::domain::image::{state, validate_description, validate_name, Image};
use crate::domain::regions;
use crate::domain::tags::{self as tag_rules, Tag};
use crate::ec2_err;
use crate::error::{Ec2Error, Result};
use crate::store::{images, tags};
use crate::wire::params::Params;
use crate::wire::query::parse_tag_specs;
use crate::wire::xml::Xml;

/// Read by the handler until this action has a typed input.
pub type CopyImageInput = Params;

pub async fn copy_image(ctx: &Ctx<'_>, p: CopyImageInput) -> Result<Xml> {
    let p = &p;
    let name = p.required("Name")?;
    validate_name(name)?;
    let source_id = p.required("SourceImageId")?;
    ids::check(IdKind::Image, source_id)?;
    let source_region_name = p.required("SourceRegion")?;
    let source_region = regions::find(&source_region_name.to_ascii_lowercase())
        .ok_or_else(|| ec2_err!(InvalidRegion, "The source region '{source_region_name}' does not exist."))?;
    let description = p.str("Description");
    if let Some(d) = description {
        validate_description(d)?;
    }
    let encrypt = p.flag("Encrypted")?;
    let kms_key_id = p.str("KmsKeyId");
    if kms_key_id.is_some() && !encrypt {
        return Err(ec2_err!(InvalidParameterCombination, "KmsKeyId requires Encrypted to be true."));
    }
    if p.str("DestinationOutpostArn").is_some() {
        return Err(ec2_err!(UnsupportedOperation, "Copying to an Outpost is not supported by ec2lite."));
    }
    let copy_tags = p.flag("CopyImageTags")?;
    let tag_specs = parse_tag_specs(p)?;
    let allowed = ["image", "snapshot"];
    let mut image_tags = tag_rules::for_type(&tag_specs, &allowed, "image")?;
    let snapshot_tags = tag_rules::for_type(&tag_specs, &allowed, "snapshot")?;
    let client_token = p.str("ClientToken");

    ctx.app.catalog.ensure(&ctx.app.store, source_region.name, ctx.now).await?;
    let mut tx = ctx.app.store.write().await?;
    if let Some(token) = client_token {
        if let Some(earlier) = images::find_by_client_token(&mut tx, ctx.scope.account, ctx.scope.region, token).await?
        {
            if earlier.source_image_id.as_deref() != Some(source_id) || earlier.name != name {
                return Err(ec2_err!(
                    IdempotentParameterMismatch,
                    "Client token '{token}' was already used with different parameters."
                ));
            }
            ctx.check_dry_run()?;
            let mut x = Xml::new();
            x.text("imageId", &earlier.image_id);
            return Ok(x);
        }
    }
    let source = images::find_visible(&mut tx, ctx.scope.account, source_region.name, source_id)
        .await?
        .filter(|i| i.state != state::DEREGISTERED)
        .ok_or_else(|| Ec2Error::image_not_found(&[source_id]))?;
    if source.state != state::AVAILABLE {
        return Err(Ec2Error::image_unavailable(&source.image_id, &source.state));
    }
    if source.owner_id != ctx.scope.account && source.product_codes.iter().any(|c| c.code_type == "marketplace") {
        return Err(ec2_err!(
            InvalidRequest,
            "Images with AWS Marketplace product codes that are shared with you cannot be copied."
        ));
    }
    ctx.check_dry_run()?;

    let image_id = ids::new_id(IdKind::Image);
    let snapshot_ready_at = ctx.now + ctx.app.timings.snapshot_pending_ms;
    let mut mappings = source.block_device_mappings.clone();
    let mut pending_snapshots = false;
    for mapping in mappings.iter_mut() {
        let Some(ebs) = mapping.ebs.as_mut() else { continue };
        let Some(source_snapshot) = ebs.snapshot_id.clone() else { continue };
        let (size, was_encrypted, source_key) = images::snapshot_facts(&mut tx, &source_snapshot).await?.unwrap_or((
            ebs.volume_size.unwrap_or(8),
            false,
            None,
        ));
        let encrypted = was_encrypted || encrypt;
        let description = format!(
            "Copied for DestinationAmi {image_id} from SourceAmi {source_id} for SourceSnapshot {source_snapshot}. Task created on {}.",
            ctx.now
        );
        // Copies do not keep a source volume: EC2 reports this placeholder id.
        let mut copy = new_snapshot(ctx, "vol-ffffffff", size, description);
        copy.encrypted = encrypted;
        copy.kms_key_id = encrypted.then(|| {
            kms_key_id
                .map(str::to_string)
                .or(source_key)
                .unwrap_or_else(|| crate::domain::volume::default_kms_key(ctx.scope.account, ctx.scope.region))
        });
        pending_snapshots |= store_new_snapshot(ctx, &mut tx, &copy, &snapshot_tags, &source_snapshot).await?;
        ebs.snapshot_id = Some(copy.snapshot_id);
        ebs.encrypted = Some(encrypted);
    }
    if copy_tags {
        // Only the caller's own tags on the source: other accounts' tags are never copied.
        for (key, value) in &source.tags {
            if !image_tags.iter().any(|t| &t.key == key) {
                image_tags.push(Tag { key: key.clone(), value: value.clone() });
            }
        }
        tag_rules::check_count(image_tags.len())?;
    }
    let ready_at = ctx.now + ctx.app.timings.image_pending_ms;
    let copy = Image {
        image_id: image_id.clone(),
        owner_id: ctx.scope.account.to_string(),
        region: ctx.scope.region.to_string(),
        name: name.to_string(),
        description: description.map(str::to_string),
        image_location: format!("{}/{name}", ctx.scope.account),
        state: state::PENDING.into(),
        ready_at: Some(ready_at),
        source_image_id: Some(source_id.to_string()),
        source_image_region: Some(source_region.name.to_string()),
        creation_date: iso(ctx.now),
        deregistration_protection: "disabled".into(),
        block_device_mappings: mappings,
        client_token: client_token.map(str::to_string),
        // Not copied: the owner alias, launch permissions, deprecation and protection.
        owner_alias: None,
        deprecation_time: None,
        last_launched_time: None,
        source_instance_id: None,
        protected_until: None,
        is_public: false,
        tags: Vec::new(),
        ..source
    };
    let stored = if pending_snapshots { copy.clone() } else { copy.settled(ctx.now) };
    images::insert(&mut tx, &stored, ctx.now).await?;
    tags::upsert(&mut tx, ctx.scope.account, ctx.scope.region, &image_id, "image", &image_tags, ctx.now).await?;
    tx.commit().await?;
    ctx.app.store.schedule_transition(stored.ready_at.map(|t| t.max(snapshot_ready_at)));
    let mut x = Xml::new();
    x.text("imageId", &image_id);
    Ok(x)
}
