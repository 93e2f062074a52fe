//! Block public access for AMIs and for snapshots: one setting per account and region.

use super::Ctx;
use crate::domain::image::check_enum;
use crate::error::Result;
use crate::store::settings;
use crate::wire::params::Params;
use crate::wire::xml::Xml;

use crate::store::settings::{IMAGE_BLOCK_PUBLIC_ACCESS as IMAGE_KEY, SNAPSHOT_BLOCK_PUBLIC_ACCESS as SNAPSHOT_KEY};

async fn set(ctx: &Ctx<'_>, key: &str, value: &str, element: &str) -> Result<Xml> {
    ctx.check_dry_run()?;
    let mut tx = ctx.app.store.write().await?;
    settings::set(&mut tx, ctx.scope.account, ctx.scope.region, key, value, ctx.now).await?;
    tx.commit().await?;
    let mut x = Xml::new();
    x.text(element, value);
    Ok(x)
}

/// Read by the handler until this action has a typed input.
pub type EnableImageBlockPublicAccessInput = Params;

pub async fn enable_image_block_public_access(ctx: &Ctx<'_>, p: EnableImageBlockPublicAccessInput) -> Result<Xml> {
    let p = &p;
    let state = p.required("ImageBlockPublicAccessState")?;
    check_enum("ImageBlockPublicAccessState", state, &["block-new-sharing"])?;
    set(ctx, IMAGE_KEY, state, "imageBlockPublicAccessState").await
}

/// Read by the handler until this action has a typed input.
pub type DisableImageBlockPublicAccessInput = Params;

pub async fn disable_image_block_public_access(ctx: &Ctx<'_>, _p: DisableImageBlockPublicAccessInput) -> Result<Xml> {
    set(ctx, IMAGE_KEY, "unblocked", "imageBlockPublicAccessState").await
}

/// Read by the handler until this action has a typed input.
pub type GetImageBlockPublicAccessStateInput = Params;

pub async fn get_image_block_public_access_state(
    ctx: &Ctx<'_>,
    _p: GetImageBlockPublicAccessStateInput,
) -> Result<Xml> {
    ctx.check_dry_run()?;
    let mut conn = ctx.app.store.read().await?;
    let state = settings::image_block_public_access(&mut conn, ctx.scope.account, ctx.scope.region).await?;
    let mut x = Xml::new();
    x.text("imageBlockPublicAccessState", &state).text("managedBy", "account");
    Ok(x)
}

/// Read by the handler until this action has a typed input.
pub type EnableSnapshotBlockPublicAccessInput = Params;

pub async fn enable_snapshot_block_public_access(
    ctx: &Ctx<'_>,
    p: EnableSnapshotBlockPublicAccessInput,
) -> Result<Xml> {
    let p = &p;
    let state = p.required("State")?;
    check_enum("State", state, &["block-all-sharing", "block-new-sharing"])?;
    set(ctx, SNAPSHOT_KEY, state, "state").await
}

/// Read by the handler until this action has a typed input.
pub type DisableSnapshotBlockPublicAccessInput = Params;

pub async fn disable_snapshot_block_public_access(
    ctx: &Ctx<'_>,
    _p: DisableSnapshotBlockPublicAccessInput,
) -> Result<Xml> {
    set(ctx, SNAPSHOT_KEY, "unblocked", "state").await
}

/// Read by the handler until this action has a typed input.
pub type GetSnapshotBlockPublicAccessStateInput = Params;

pub async fn get_snapshot_block_public_access_state(
    ctx: &Ctx<'_>,
    _p: GetSnapshotBlockPublicAccessStateInput,
) -> Result<Xml> {
    ctx.check_dry_run()?;
    let mut conn = ctx.app.store.read().await?;
    let state = settings::snapshot_block_public_access(&mut conn, ctx.scope.account, ctx.scope.region).await?;
    let mut x = Xml::new();
    x.text("state", &state).text("managedBy", "account");
    Ok(x)
}
