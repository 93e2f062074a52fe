//! Block public access for AMIs and for snapshots: one setting per account and region.

use super::Ctx;
use crate::domain::image::check_enum;
use crate::ec2_err;
use crate::error::{Ec2Error, Result};
use crate::store::{settings, Conn};
use crate::wire::params::Params;
use crate::wire::xml::Xml;

const IMAGE_KEY: &str = "image-block-public-access";
const SNAPSHOT_KEY: &str = "snapshot-block-public-access";

pub async fn image_state(conn: &mut Conn, account: &str, region: &str) -> Result<String> {
    Ok(settings::get(conn, account, region, IMAGE_KEY).await?.unwrap_or_else(|| "unblocked".into()))
}

pub async fn snapshot_state(conn: &mut Conn, account: &str, region: &str) -> Result<String> {
    Ok(settings::get(conn, account, region, SNAPSHOT_KEY).await?.unwrap_or_else(|| "unblocked".into()))
}

/// The refusal EC2 gives when an image would be made public while that is blocked.
pub fn image_sharing_blocked() -> Ec2Error {
    ec2_err!(
        "OperationNotPermitted",
        "You can't publicly share this image because block public access for AMIs is enabled for this account. To publicly share the image, you must call the DisableImageBlockPublicAccess API."
    )
}

pub fn snapshot_sharing_blocked() -> Ec2Error {
    ec2_err!(
        "OperationNotPermitted",
        "You can't publicly share this snapshot because block public access for snapshots is enabled for this account. To publicly share the snapshot, you must call the DisableSnapshotBlockPublicAccess API."
    )
}

async fn set(ctx: &Ctx<'_>, key: &str, value: &str, element: &str) -> Result<Xml> {
    ctx.check_dry_run()?;
    let mut tx = ctx.app.store.write().await?;
    settings::set(&mut tx, ctx.account, ctx.region, key, value, ctx.now).await?;
    tx.commit().await?;
    let mut x = Xml::new();
    x.text(element, value);
    Ok(x)
}

pub async fn enable_image_block_public_access(ctx: &Ctx<'_>, p: &Params) -> Result<Xml> {
    let state = p.required("ImageBlockPublicAccessState")?;
    check_enum("ImageBlockPublicAccessState", state, &["block-new-sharing"])?;
    set(ctx, IMAGE_KEY, state, "imageBlockPublicAccessState").await
}

pub async fn disable_image_block_public_access(ctx: &Ctx<'_>, _p: &Params) -> Result<Xml> {
    set(ctx, IMAGE_KEY, "unblocked", "imageBlockPublicAccessState").await
}

pub async fn get_image_block_public_access_state(ctx: &Ctx<'_>, _p: &Params) -> Result<Xml> {
    ctx.check_dry_run()?;
    let mut conn = ctx.app.store.read().await?;
    let state = image_state(&mut conn, ctx.account, ctx.region).await?;
    let mut x = Xml::new();
    x.text("imageBlockPublicAccessState", &state).text("managedBy", "account");
    Ok(x)
}

pub async fn enable_snapshot_block_public_access(ctx: &Ctx<'_>, p: &Params) -> Result<Xml> {
    let state = p.required("State")?;
    check_enum("State", state, &["block-all-sharing", "block-new-sharing"])?;
    set(ctx, SNAPSHOT_KEY, state, "state").await
}

pub async fn disable_snapshot_block_public_access(ctx: &Ctx<'_>, _p: &Params) -> Result<Xml> {
    set(ctx, SNAPSHOT_KEY, "unblocked", "state").await
}

pub async fn get_snapshot_block_public_access_state(ctx: &Ctx<'_>, _p: &Params) -> Result<Xml> {
    ctx.check_dry_run()?;
    let mut conn = ctx.app.store.read().await?;
    let state = snapshot_state(&mut conn, ctx.account, ctx.region).await?;
    let mut x = Xml::new();
    x.text("state", &state).text("managedBy", "account");
    Ok(x)
}
