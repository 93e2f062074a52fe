//! The late lifecycle of an image: deprecation, disabling, deregistration protection.

use super::images::{owned_image, unavailable};
use super::volumes::return_true;
use super::Ctx;
use crate::domain::clock::{iso, parse_iso};
use crate::domain::image::{state, Image};
use crate::ec2_err;
use crate::error::Result;
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
    let image = owned_image(ctx, tx, image_id).await?;
    if image.state == state::DEREGISTERED {
        return Err(unavailable(&image));
    }
    Ok(image)
}

pub async fn enable_image_deprecation(ctx: &Ctx<'_>, p: &Params) -> Result<Xml> {
    let deprecate_at = p.required("DeprecateAt")?;
    let at = parse_iso(deprecate_at).ok_or_else(|| {
        ec2_err!("InvalidParameterValue", "Value ({deprecate_at}) for parameter DeprecateAt is invalid.")
    })?;
    // EC2 rounds to the nearest minute.
    let at = (at + MINUTE_MS / 2).div_euclid(MINUTE_MS) * MINUTE_MS;
    if at <= ctx.now {
        return Err(ec2_err!("InvalidParameterValue", "The deprecation time must be in the future."));
    }
    let mut tx = ctx.app.store.write().await?;
    let image = own_live_image(ctx, &mut tx, p).await?;
    let created = parse_iso(&image.creation_date).unwrap_or(ctx.now);
    if at > ctx.now + 10 * YEAR_MS {
        return Err(ec2_err!(
            "InvalidParameterValue",
            "The deprecation time can't be more than 10 years in the future."
        ));
    }
    if image.is_public && at > created + 2 * YEAR_MS {
        return Err(ec2_err!(
            "InvalidParameterValue",
            "The deprecation time of a public AMI can't be more than 2 years after its creation date."
        ));
    }
    ctx.check_dry_run()?;
    images::set_field(&mut tx, &image.image_id, ImageField::DeprecationTime, Some(&iso(at))).await?;
    tx.commit().await?;
    Ok(return_true())
}

pub async fn disable_image_deprecation(ctx: &Ctx<'_>, p: &Params) -> Result<Xml> {
    let mut tx = ctx.app.store.write().await?;
    let image = own_live_image(ctx, &mut tx, p).await?;
    ctx.check_dry_run()?;
    images::set_field(&mut tx, &image.image_id, ImageField::DeprecationTime, None).await?;
    tx.commit().await?;
    Ok(return_true())
}

/// Disabling hides the image and takes away every launch permission; enabling does not
/// give them back.
pub async fn disable_image(ctx: &Ctx<'_>, p: &Params) -> Result<Xml> {
    let mut tx = ctx.app.store.write().await?;
    let image = own_live_image(ctx, &mut tx, p).await?;
    if image.state != state::AVAILABLE {
        return Err(ec2_err!(
            "IncorrectState",
            "The image {} is in state '{}' and cannot be disabled.",
            image.image_id,
            image.state
        ));
    }
    ctx.check_dry_run()?;
    images::set_field(&mut tx, &image.image_id, ImageField::State, Some(state::DISABLED)).await?;
    images::reset_launch_permissions(&mut tx, &image.image_id).await?;
    tx.commit().await?;
    Ok(return_true())
}

pub async fn enable_image(ctx: &Ctx<'_>, p: &Params) -> Result<Xml> {
    let mut tx = ctx.app.store.write().await?;
    let image = own_live_image(ctx, &mut tx, p).await?;
    if image.state != state::DISABLED {
        return Err(ec2_err!(
            "IncorrectState",
            "The image {} is in state '{}' and cannot be enabled.",
            image.image_id,
            image.state
        ));
    }
    ctx.check_dry_run()?;
    images::set_field(&mut tx, &image.image_id, ImageField::State, Some(state::AVAILABLE)).await?;
    tx.commit().await?;
    Ok(return_true())
}

pub async fn enable_image_deregistration_protection(ctx: &Ctx<'_>, p: &Params) -> Result<Xml> {
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

pub async fn disable_image_deregistration_protection(ctx: &Ctx<'_>, p: &Params) -> Result<Xml> {
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

/// Why deregistering `image` is refused at `now`, if it is.
pub fn deregistration_refusal(image: &Image, now: i64) -> Option<String> {
    if image.deregistration_protection.starts_with("enabled") {
        return Some(format!(
            "Image {} has deregistration protection enabled. Disable it before deregistering the image.",
            image.image_id
        ));
    }
    match image.protected_until {
        Some(until) if until > now => Some(format!(
            "Image {} is protected from deregistration until {} (cooldown after protection was disabled).",
            image.image_id,
            iso(until)
        )),
        _ => None,
    }
}
