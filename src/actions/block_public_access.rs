//! Block public access for AMIs and for snapshots: one setting per account and region.

use super::{Ctx, FromParams};
use crate::domain::image::check_enum;
use crate::error::Result;
use crate::store::settings::{
    self, IMAGE_BLOCK_PUBLIC_ACCESS as IMAGE_KEY, SNAPSHOT_BLOCK_PUBLIC_ACCESS as SNAPSHOT_KEY,
};
use crate::wire::params::Params;
use crate::wire::xml::Xml;

/// The input of the calls that take no parameters of their own.
pub struct NoInput;

impl FromParams for NoInput {
    fn from_params(_: &Params) -> Result<Self> {
        Ok(NoInput)
    }
}

/// The state an Enable call turns block public access to: `parameter`, one of `allowed`.
fn read_state(p: &Params, parameter: &str, allowed: &[&str]) -> Result<String> {
    let state = p.required(parameter)?;
    check_enum(parameter, state, allowed)?;
    Ok(state.to_string())
}

async fn set(ctx: &Ctx<'_>, key: &str, value: &str, element: &str) -> Result<Xml> {
    ctx.check_dry_run()?;
    let mut tx = ctx.app.store.write().await?;
    settings::set(&mut tx, ctx.scope.account, ctx.scope.region, key, value, ctx.now).await?;
    tx.commit().await?;
    let mut x = Xml::new();
    x.text(element, value);
    Ok(x)
}

/// The answer of the Get calls: the state, set by the account itself.
fn state_answer(element: &str, state: &str) -> Xml {
    let mut x = Xml::new();
    x.text(element, state).text("managedBy", "account");
    x
}

pub struct EnableImageBlockPublicAccessInput {
    pub state: String,
}

impl FromParams for EnableImageBlockPublicAccessInput {
    fn from_params(p: &Params) -> Result<Self> {
        read_state(p, "ImageBlockPublicAccessState", &["block-new-sharing"]).map(|state| Self { state })
    }
}

pub async fn enable_image_block_public_access(ctx: &Ctx<'_>, input: EnableImageBlockPublicAccessInput) -> Result<Xml> {
    set(ctx, IMAGE_KEY, &input.state, "imageBlockPublicAccessState").await
}

pub type DisableImageBlockPublicAccessInput = NoInput;

pub async fn disable_image_block_public_access(ctx: &Ctx<'_>, _: DisableImageBlockPublicAccessInput) -> Result<Xml> {
    set(ctx, IMAGE_KEY, "unblocked", "imageBlockPublicAccessState").await
}

pub type GetImageBlockPublicAccessStateInput = NoInput;

pub async fn get_image_block_public_access_state(ctx: &Ctx<'_>, _: GetImageBlockPublicAccessStateInput) -> Result<Xml> {
    ctx.check_dry_run()?;
    let mut conn = ctx.app.store.read().await?;
    let state = settings::image_block_public_access(&mut conn, ctx.scope.account, ctx.scope.region).await?;
    Ok(state_answer("imageBlockPublicAccessState", &state))
}

pub struct EnableSnapshotBlockPublicAccessInput {
    pub state: String,
}

impl FromParams for EnableSnapshotBlockPublicAccessInput {
    fn from_params(p: &Params) -> Result<Self> {
        read_state(p, "State", &["block-all-sharing", "block-new-sharing"]).map(|state| Self { state })
    }
}

pub async fn enable_snapshot_block_public_access(
    ctx: &Ctx<'_>,
    input: EnableSnapshotBlockPublicAccessInput,
) -> Result<Xml> {
    set(ctx, SNAPSHOT_KEY, &input.state, "state").await
}

pub type DisableSnapshotBlockPublicAccessInput = NoInput;

pub async fn disable_snapshot_block_public_access(
    ctx: &Ctx<'_>,
    _: DisableSnapshotBlockPublicAccessInput,
) -> Result<Xml> {
    set(ctx, SNAPSHOT_KEY, "unblocked", "state").await
}

pub type GetSnapshotBlockPublicAccessStateInput = NoInput;

pub async fn get_snapshot_block_public_access_state(
    ctx: &Ctx<'_>,
    _: GetSnapshotBlockPublicAccessStateInput,
) -> Result<Xml> {
    ctx.check_dry_run()?;
    let mut conn = ctx.app.store.read().await?;
    let state = settings::snapshot_block_public_access(&mut conn, ctx.scope.account, ctx.scope.region).await?;
    Ok(state_answer("state", &state))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enable_states() {
        let p = Params::from_pairs([("ImageBlockPublicAccessState", "block-new-sharing")]);
        assert_eq!(EnableImageBlockPublicAccessInput::from_params(&p).unwrap().state, "block-new-sharing");
        let p = Params::from_pairs([("ImageBlockPublicAccessState", "block-all-sharing")]);
        assert_eq!(EnableImageBlockPublicAccessInput::from_params(&p).err().unwrap().code, "InvalidParameterValue");
        let p = Params::from_pairs([("State", "block-all-sharing")]);
        assert_eq!(EnableSnapshotBlockPublicAccessInput::from_params(&p).unwrap().state, "block-all-sharing");
        let p = Params::from_pairs([("State", "unblocked")]);
        assert_eq!(EnableSnapshotBlockPublicAccessInput::from_params(&p).err().unwrap().code, "InvalidParameterValue");
        assert_eq!(
            EnableSnapshotBlockPublicAccessInput::from_params(&Params::default()).err().unwrap().code,
            "MissingParameter"
        );
    }

    #[test]
    fn golden_state_answer() {
        assert_eq!(
            state_answer("state", "block-all-sharing").as_str(),
            "<state>block-all-sharing</state><managedBy>account</managedBy>"
        );
    }
}
