//! The late lifecycle of an image: deprecation, disabling, deregistration protection.

use crate::access::own_image;

use super::Ctx;
use crate::domain::clock::{iso, parse_iso};
use crate::domain::image::{state, Image};
use crate::ec2_err;
use crate::error::{Ec2Error, Result};
use crate::store::images::{self, ImageField};
use crate::wire::params::Params;
use crate::wire::xml::Xml;

const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 24 * 60 * MINUTE_MS;
const YEAR_MS: i64 = 365 * DAY_MS;
/// How long protection "with cooldown" outlives its disabling.
pub const PROTECTION_COOLDOWN_MS: i64 = DAY_MS;

/// The caller's image, not deregistered.
async fn own_live_image(ctx: &Ctx<'_>, tx: &mut crate::store::Tx, p: &Params) -> Result<Image> {
    let image_id = p.required("ImageId")?;
    let image = own_image(ctx.scope, tx, image_id).await?;
    if image.state == state::DEREGISTERED {
        return Err(Ec2Error::image_unavailable(&image.image_id, &image.state));
    }
    Ok(image)
}

/// Read by the handler until this action has a typed input.
pub type EnableImageDeprecationInput = Params;

pub async fn enable_image_deprecation(ctx: &Ctx<'_>, p: EnableImageDeprecationInput) -> Result<Xml> {
    let p = &p;
    let deprecate_at = p.required("DeprecateAt")?;
    let at = parse_iso(deprecate_at).ok_or_else(|| {
        ec2_err!(InvalidParameterValue, "Value ({deprecate_at}) for parameter DeprecateAt is invalid.")
    })?;
    // EC2 rounds to the nearest minute.
    let at = (at + MINUTE_MS / 2).div_euclid(MINUTE_MS) * MINUTE_MS;
    if at <= ctx.now {
        return Err(ec2_err!(InvalidParameterValue, "The deprecation time must be in the future."));
    }
    let mut tx = ctx.app.store.write().await?;
    let image = own_live_image(ctx, &mut tx, p).await?;
    let created = parse_iso(&image.creation_date).unwrap_or(ctx.now);
    if at > ctx.now + 10 * YEAR_MS {
        return Err(ec2_err!(InvalidParameterValue, "The deprecation time can't be more than 10 years in the future."));
    }
    if image.is_public && at > created + 2 * YEAR_MS {
        return Err(ec2_err!(
            InvalidParameterValue,
            "The deprecation time of a public AMI can't be more than 2 years after its creation date."
        ));
    }
    ctx.check_dry_run()?;
    images::set_field(&mut tx, &image.image_id, ImageField::DeprecationTime, Some(&iso(at))).await?;
    tx.commit().await?;
    Ok(Xml::return_true())
}

/// Read by the handler until this action has a typed input.
pub type DisableImageDeprecationInput = Params;

pub async fn disable_image_deprecation(ctx: &Ctx<'_>, p: DisableImageDeprecationInput) -> Result<Xml> {
    let p = &p;
    let mut tx = ctx.app.store.write().await?;
    let image = own_live_image(ctx, &mut tx, p).await?;
    ctx.check_dry_run()?;
    images::set_field(&mut tx, &image.image_id, ImageField::DeprecationTime, None).await?;
    tx.commit().await?;
    Ok(Xml::return_true())
}

/// Disabling hides the image and takes away every launch permission; enabling does not
/// give them back.
/// Read by the handler until this action has a typed input.
pub type DisableImageInput = Params;

pub async fn disable_image(ctx: &Ctx<'_>, p: DisableImageInput) -> Result<Xml> {
    let p = &p;
    let mut tx = ctx.app.store.write().await?;
    let image = own_live_image(ctx, &mut tx, p).await?;
    if image.state != state::AVAILABLE {
        return Err(ec2_err!(
            IncorrectState,
            "The image {} is in state '{}' and cannot be disabled.",
            image.image_id,
            image.state
        ));
    }
    ctx.check_dry_run()?;
    images::set_field(&mut tx, &image.image_id, ImageField::State, Some(state::DISABLED)).await?;
    images::reset_launch_permissions(&mut tx, &image.image_id).await?;
    tx.commit().await?;
    Ok(Xml::return_true())
}

/// Read by the handler until this action has a typed input.
pub type EnableImageInput = Params;

pub async fn enable_image(ctx: &Ctx<'_>, p: EnableImageInput) -> Result<Xml> {
    let p = &p;
    let mut tx = ctx.app.store.write().await?;
    let image = own_live_image(ctx, &mut tx, p).await?;
    if image.state != state::DISABLED {
        return Err(ec2_err!(
            IncorrectState,
            "The image {} is in state '{}' and cannot be enabled.",
            image.image_id,
            image.state
        ));
    }
    ctx.check_dry_run()?;
    images::set_field(&mut tx, &image.image_id, ImageField::State, Some(state::AVAILABLE)).await?;
    tx.commit().await?;
    Ok(Xml::return_true())
}

/// Read by the handler until this action has a typed input.
pub type EnableImageDeregistrationProtectionInput = Params;

pub async fn enable_image_deregistration_protection(
    ctx: &Ctx<'_>,
    p: EnableImageDeregistrationProtectionInput,
) -> Result<Xml> {
    let p = &p;
    let with_cooldown = p.flag("WithCooldown")?;
    let mut tx = ctx.app.store.write().await?;
    let image = own_live_image(ctx, &mut tx, p).await?;
    ctx.check_dry_run()?;
    let value = if with_cooldown { "enabled-with-cooldown" } else { "enabled-without-cooldown" };
    images::set_deregistration_protection(&mut tx, &image.image_id, value, None).await?;
    tx.commit().await?;
    let mut x = Xml::new();
    x.text("return", value);
    Ok(x)
}

/// Read by the handler until this action has a typed input.
pub type DisableImageDeregistrationProtectionInput = Params;

pub async fn disable_image_deregistration_protection(
    ctx: &Ctx<'_>,
    p: DisableImageDeregistrationProtectionInput,
) -> Result<Xml> {
    let p = &p;
    let mut tx = ctx.app.store.write().await?;
    let image = own_live_image(ctx, &mut tx, p).await?;
    ctx.check_dry_run()?;
    let until =
        (image.deregistration_protection == "enabled-with-cooldown").then_some(ctx.now + PROTECTION_COOLDOWN_MS);
    images::set_deregistration_protection(&mut tx, &image.image_id, "disabled", until.or(image.protected_until))
        .await?;
    tx.commit().await?;
    let mut x = Xml::new();
    x.text("return", "disabled");
    Ok(x)
}
