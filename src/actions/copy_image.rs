//! CopyImage: sent to the destination region; copies an image the caller owns or may
//! launch, from `SourceRegion`, into a new image and new snapshots the caller owns.

use super::{new_snapshot, store_new_snapshot, Ctx, FromParams};
use crate::domain::clock::iso;
use crate::domain::ids::{self, IdKind};
use crate::domain::image::{validate_description, validate_name, BlockDeviceMapping, Image};
use crate::domain::lifecycle::ImageState;
use crate::domain::regions;
use crate::domain::tags::{self as tag_rules, Tag};
use crate::domain::volume::default_kms_key;
use crate::ec2_err;
use crate::error::{Ec2Error, Result};
use crate::store::{images, tags, Conn};
use crate::wire::params::Params;
use crate::wire::query::parse_tag_specs;
use crate::wire::xml::Xml;

pub struct CopyImageInput {
    pub name: String,
    pub source_image_id: String,
    pub source_region: &'static str,
    pub description: Option<String>,
    pub encrypted: bool,
    pub kms_key_id: Option<String>,
    pub copy_image_tags: bool,
    pub image_tags: Vec<Tag>,
    pub snapshot_tags: Vec<Tag>,
    pub client_token: Option<String>,
}

impl FromParams for CopyImageInput {
    fn from_params(p: &Params) -> Result<Self> {
        let name = p.required("Name")?;
        validate_name(name)?;
        let source_image_id = p.required("SourceImageId")?;
        ids::check(IdKind::Image, source_image_id)?;
        let source_region_name = p.required("SourceRegion")?;
        let source_region = regions::find(&source_region_name.to_ascii_lowercase())
            .ok_or_else(|| ec2_err!(InvalidRegion, "The source region '{source_region_name}' does not exist."))?;
        let description = p.str("Description");
        if let Some(d) = description {
            validate_description(d)?;
        }
        let encrypted = p.flag("Encrypted")?;
        let kms_key_id = p.str("KmsKeyId");
        if kms_key_id.is_some() && !encrypted {
            return Err(Ec2Error::kms_key_without_encryption());
        }
        if p.str("DestinationOutpostArn").is_some() {
            return Err(ec2_err!(UnsupportedOperation, "Copying to an Outpost is not supported by ec2lite."));
        }
        let copy_image_tags = p.flag("CopyImageTags")?;
        let tag_specs = parse_tag_specs(p)?;
        let allowed = ["image", "snapshot"];
        Ok(CopyImageInput {
            name: name.to_string(),
            source_image_id: source_image_id.to_string(),
            source_region: source_region.name,
            description: description.map(str::to_string),
            encrypted,
            kms_key_id: kms_key_id.map(str::to_string),
            copy_image_tags,
            image_tags: tag_rules::for_type(&tag_specs, &allowed, "image")?,
            snapshot_tags: tag_rules::for_type(&tag_specs, &allowed, "snapshot")?,
            client_token: p.str("ClientToken").map(str::to_string),
        })
    }
}

pub async fn copy_image(ctx: &Ctx<'_>, input: CopyImageInput) -> Result<Xml> {
    ctx.app.catalog.ensure(&ctx.app.store, input.source_region, ctx.now).await?;
    let mut tx = ctx.app.store.write().await?;
    if let Some(earlier_id) = earlier_copy(ctx, &mut tx, &input).await? {
        ctx.check_dry_run()?;
        return Ok(image_id_answer(&earlier_id));
    }
    let source = copyable_source(ctx, &mut tx, &input).await?;
    ctx.check_dry_run()?;

    let image_id = ids::new_id(IdKind::Image);
    let snapshot_ready_at = ctx.now + ctx.app.timings.snapshot_pending_ms;
    let (mappings, pending_snapshots) = copy_snapshots(ctx, &mut tx, &input, &source, &image_id).await?;
    let image_tags = copied_tags(&input, &source)?;
    let copy = copied_image(ctx, &input, source, &image_id, mappings);
    let stored = if pending_snapshots { copy.clone() } else { copy.settled(ctx.now) };
    images::insert(&mut tx, &stored, ctx.now).await?;
    tags::upsert(&mut tx, ctx.scope.account, ctx.scope.region, &image_id, "image", &image_tags, ctx.now).await?;
    tx.commit().await?;
    ctx.app.store.schedule_transition(stored.ready_at.map(|t| t.max(snapshot_ready_at)));
    Ok(image_id_answer(&image_id))
}

fn image_id_answer(image_id: &str) -> Xml {
    let mut x = Xml::new();
    x.text("imageId", image_id);
    x
}

/// The copy an earlier request with the same client token made, if any; the token may
/// only be reused for the same source and name.
async fn earlier_copy(ctx: &Ctx<'_>, conn: &mut Conn, input: &CopyImageInput) -> Result<Option<String>> {
    let Some(token) = input.client_token.as_deref() else { return Ok(None) };
    let Some(earlier) = images::find_by_client_token(conn, ctx.scope.account, ctx.scope.region, token).await? else {
        return Ok(None);
    };
    if earlier.source_image_id.as_deref() != Some(input.source_image_id.as_str()) || earlier.name != input.name {
        return Err(Ec2Error::client_token_reused(token));
    }
    Ok(Some(earlier.image_id))
}

/// The source image: visible to the caller in the source region, available, and not
/// a Marketplace image someone else shared.
async fn copyable_source(ctx: &Ctx<'_>, conn: &mut Conn, input: &CopyImageInput) -> Result<Image> {
    let source_id = input.source_image_id.as_str();
    let source = images::find_visible(conn, ctx.scope.account, input.source_region, source_id)
        .await?
        .filter(|i| i.state != ImageState::Deregistered)
        .ok_or_else(|| Ec2Error::image_not_found(&[source_id]))?;
    if source.state != ImageState::Available {
        return Err(Ec2Error::image_unavailable(&source.image_id, source.state.as_str()));
    }
    if source.owner_id != ctx.scope.account && source.product_codes.iter().any(|c| c.code_type == "marketplace") {
        return Err(ec2_err!(
            InvalidRequest,
            "Images with AWS Marketplace product codes that are shared with you cannot be copied."
        ));
    }
    Ok(source)
}

/// One new snapshot per snapshot of the source, encrypted if either is; returns the
/// copy's mappings and whether any new snapshot is still pending.
async fn copy_snapshots(
    ctx: &Ctx<'_>,
    conn: &mut Conn,
    input: &CopyImageInput,
    source: &Image,
    image_id: &str,
) -> Result<(Vec<BlockDeviceMapping>, bool)> {
    let mut mappings = source.block_device_mappings.clone();
    let mut pending = false;
    for mapping in mappings.iter_mut() {
        let Some(ebs) = mapping.ebs.as_mut() else { continue };
        let Some(source_snapshot) = ebs.snapshot_id.clone() else { continue };
        let (size, was_encrypted, source_key) = images::snapshot_facts(conn, &source_snapshot).await?.unwrap_or((
            ebs.volume_size.unwrap_or(8),
            false,
            None,
        ));
        let encrypted = was_encrypted || input.encrypted;
        let description = format!(
            "Copied for DestinationAmi {image_id} from SourceAmi {} for SourceSnapshot {source_snapshot}. Task created on {}.",
            input.source_image_id, ctx.now
        );
        // Copies do not keep a source volume: EC2 reports this placeholder id.
        let mut copy = new_snapshot(ctx, "vol-ffffffff", size, description);
        copy.encrypted = encrypted;
        copy.kms_key_id = encrypted.then(|| {
            input
                .kms_key_id
                .clone()
                .or(source_key)
                .unwrap_or_else(|| default_kms_key(ctx.scope.account, ctx.scope.region))
        });
        pending |= store_new_snapshot(ctx, conn, &copy, &input.snapshot_tags, &source_snapshot).await?;
        ebs.snapshot_id = Some(copy.snapshot_id);
        ebs.encrypted = Some(encrypted);
    }
    Ok((mappings, pending))
}

/// The copy's tags: those of the request and, with `CopyImageTags`, the caller's own
/// tags on the source (other accounts' tags are never copied).
fn copied_tags(input: &CopyImageInput, source: &Image) -> Result<Vec<Tag>> {
    let mut image_tags = input.image_tags.clone();
    if input.copy_image_tags {
        for (key, value) in &source.tags {
            if !image_tags.iter().any(|t| &t.key == key) {
                image_tags.push(Tag { key: key.clone(), value: value.clone() });
            }
        }
        tag_rules::check_count(image_tags.len())?;
    }
    Ok(image_tags)
}

fn copied_image(
    ctx: &Ctx<'_>,
    input: &CopyImageInput,
    source: Image,
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
        source_image_id: Some(input.source_image_id.clone()),
        source_image_region: Some(input.source_region.to_string()),
        creation_date: iso(ctx.now),
        deregistration_protection: "disabled".into(),
        block_device_mappings: mappings,
        client_token: input.client_token.clone(),
        // Not copied: the owner alias, launch permissions, deprecation and protection.
        owner_alias: None,
        deprecation_time: None,
        last_launched_time: None,
        source_instance_id: None,
        protected_until: None,
        is_public: false,
        tags: Vec::new(),
        ..source
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn copy(extra: &[(&str, &str)]) -> Result<CopyImageInput> {
        let base = [("Name", "my-copy"), ("SourceImageId", "ami-12345678"), ("SourceRegion", "US-EAST-1")];
        CopyImageInput::from_params(&Params::from_pairs(base.into_iter().chain(extra.iter().copied())))
    }

    #[test]
    fn accepted_copy() {
        let input = copy(&[
            ("Encrypted", "true"),
            ("KmsKeyId", "alias/mine"),
            ("ClientToken", "t-1"),
            ("TagSpecification.1.ResourceType", "snapshot"),
            ("TagSpecification.1.Tag.1.Key", "k"),
            ("TagSpecification.1.Tag.1.Value", "v"),
        ])
        .unwrap();
        assert_eq!(input.source_region, "us-east-1");
        assert_eq!(input.kms_key_id.as_deref(), Some("alias/mine"));
        assert_eq!(input.client_token.as_deref(), Some("t-1"));
        assert!(input.image_tags.is_empty());
        assert_eq!(input.snapshot_tags, [Tag { key: "k".into(), value: "v".into() }]);
    }

    #[test]
    fn refusals() {
        let code = |extra: &[(&str, &str)]| copy(extra).err().unwrap().code;
        assert_eq!(code(&[("KmsKeyId", "alias/mine")]), "InvalidParameterDependency");
        assert_eq!(code(&[("KmsKeyId", "alias/mine"), ("Encrypted", "false")]), "InvalidParameterDependency");
        assert_eq!(code(&[("SourceRegion", "mars-north-1")]), "InvalidRegion");
        assert_eq!(code(&[("SourceImageId", "snap-12345678")]), "InvalidAMIID.Malformed");
        assert_eq!(code(&[("DestinationOutpostArn", "arn:aws:outposts:x")]), "UnsupportedOperation");
        assert_eq!(code(&[("TagSpecification.1.ResourceType", "volume")]), "InvalidParameterValue");
        let p = Params::from_pairs([("SourceImageId", "ami-12345678"), ("SourceRegion", "us-east-1")]);
        assert_eq!(CopyImageInput::from_params(&p).err().unwrap().code, "MissingParameter");
    }
}
