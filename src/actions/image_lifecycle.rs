//! The late lifecycle of an image: deprecation, disabling, deregistration protection.

use super::{Ctx, FromParams};
use crate::access::own_image;
use crate::domain::clock::{iso, parse_iso};
use crate::domain::ids::{self, IdKind};
use crate::domain::image::Image;
use crate::domain::lifecycle::ImageState;
use crate::ec2_err;
use crate::error::{Ec2Error, Result};
use crate::store::images::{self, ImageField};
use crate::store::Conn;
use crate::wire::params::Params;
use crate::wire::xml::Xml;

const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 24 * 60 * MINUTE_MS;
const YEAR_MS: i64 = 365 * DAY_MS;
/// How long protection "with cooldown" outlives its disabling.
pub const PROTECTION_COOLDOWN_MS: i64 = DAY_MS;

/// The input of the lifecycle actions that take nothing but the image.
pub struct ImageIdInput {
    pub image_id: String,
}

impl FromParams for ImageIdInput {
    fn from_params(p: &Params) -> Result<Self> {
        Ok(ImageIdInput { image_id: image_id(p)? })
    }
}

fn image_id(p: &Params) -> Result<String> {
    let image_id = p.required("ImageId")?;
    ids::check(IdKind::Image, image_id)?;
    Ok(image_id.to_string())
}

/// The caller's image, not deregistered.
async fn own_live_image(ctx: &Ctx<'_>, tx: &mut Conn, image_id: &str) -> Result<Image> {
    let image = own_image(ctx.scope, tx, image_id).await?;
    if image.state == ImageState::Deregistered {
        return Err(Ec2Error::image_unavailable(&image.image_id, image.state.as_str()));
    }
    Ok(image)
}

pub struct EnableImageDeprecationInput {
    pub image_id: String,
    /// Epoch milliseconds, rounded to the minute as EC2 does.
    pub deprecate_at: i64,
}

impl FromParams for EnableImageDeprecationInput {
    fn from_params(p: &Params) -> Result<Self> {
        let text = p.required("DeprecateAt")?;
        let at = parse_iso(text)
            .ok_or_else(|| ec2_err!(InvalidParameterValue, "Value ({text}) for parameter DeprecateAt is invalid."))?;
        let deprecate_at = (at + MINUTE_MS / 2).div_euclid(MINUTE_MS) * MINUTE_MS;
        Ok(EnableImageDeprecationInput { image_id: image_id(p)?, deprecate_at })
    }
}

pub async fn enable_image_deprecation(ctx: &Ctx<'_>, input: EnableImageDeprecationInput) -> Result<Xml> {
    let at = input.deprecate_at;
    if at <= ctx.now {
        return Err(ec2_err!(InvalidParameterValue, "The deprecation time must be in the future."));
    }
    let mut tx = ctx.app.store.write().await?;
    let image = own_live_image(ctx, &mut tx, &input.image_id).await?;
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

pub type DisableImageDeprecationInput = ImageIdInput;

pub async fn disable_image_deprecation(ctx: &Ctx<'_>, input: DisableImageDeprecationInput) -> Result<Xml> {
    let mut tx = ctx.app.store.write().await?;
    let image = own_live_image(ctx, &mut tx, &input.image_id).await?;
    ctx.check_dry_run()?;
    images::set_field(&mut tx, &image.image_id, ImageField::DeprecationTime, None).await?;
    tx.commit().await?;
    Ok(Xml::return_true())
}

pub type DisableImageInput = ImageIdInput;

/// Disabling hides the image and takes away every launch permission; enabling does not
/// give them back.
pub async fn disable_image(ctx: &Ctx<'_>, input: DisableImageInput) -> Result<Xml> {
    let mut tx = ctx.app.store.write().await?;
    let image = own_live_image(ctx, &mut tx, &input.image_id).await?;
    if image.state != ImageState::Available {
        return Err(ec2_err!(
            IncorrectState,
            "The image {} is in state '{}' and cannot be disabled.",
            image.image_id,
            image.state
        ));
    }
    ctx.check_dry_run()?;
    images::set_field(&mut tx, &image.image_id, ImageField::State, Some(ImageState::Disabled.as_str())).await?;
    images::reset_launch_permissions(&mut tx, &image.image_id).await?;
    tx.commit().await?;
    Ok(Xml::return_true())
}

pub type EnableImageInput = ImageIdInput;

pub async fn enable_image(ctx: &Ctx<'_>, input: EnableImageInput) -> Result<Xml> {
    let mut tx = ctx.app.store.write().await?;
    let image = own_live_image(ctx, &mut tx, &input.image_id).await?;
    if image.state != ImageState::Disabled {
        return Err(ec2_err!(
            IncorrectState,
            "The image {} is in state '{}' and cannot be enabled.",
            image.image_id,
            image.state
        ));
    }
    ctx.check_dry_run()?;
    images::set_field(&mut tx, &image.image_id, ImageField::State, Some(ImageState::Available.as_str())).await?;
    tx.commit().await?;
    Ok(Xml::return_true())
}

pub struct EnableImageDeregistrationProtectionInput {
    pub image_id: String,
    pub with_cooldown: bool,
}

impl FromParams for EnableImageDeregistrationProtectionInput {
    fn from_params(p: &Params) -> Result<Self> {
        let with_cooldown = p.flag("WithCooldown")?;
        Ok(EnableImageDeregistrationProtectionInput { image_id: image_id(p)?, with_cooldown })
    }
}

pub async fn enable_image_deregistration_protection(
    ctx: &Ctx<'_>,
    input: EnableImageDeregistrationProtectionInput,
) -> Result<Xml> {
    let mut tx = ctx.app.store.write().await?;
    let image = own_live_image(ctx, &mut tx, &input.image_id).await?;
    ctx.check_dry_run()?;
    let value = if input.with_cooldown { "enabled-with-cooldown" } else { "enabled-without-cooldown" };
    images::set_deregistration_protection(&mut tx, &image.image_id, value, None).await?;
    tx.commit().await?;
    let mut x = Xml::new();
    x.text("return", value);
    Ok(x)
}

pub type DisableImageDeregistrationProtectionInput = ImageIdInput;

pub async fn disable_image_deregistration_protection(
    ctx: &Ctx<'_>,
    input: DisableImageDeregistrationProtectionInput,
) -> Result<Xml> {
    let mut tx = ctx.app.store.write().await?;
    let image = own_live_image(ctx, &mut tx, &input.image_id).await?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deprecation_time_is_rounded_to_the_minute() {
        let p = Params::from_pairs([("ImageId", "ami-12345678"), ("DeprecateAt", "2030-01-01T00:00:31.000Z")]);
        let input = EnableImageDeprecationInput::from_params(&p).unwrap();
        assert_eq!(iso(input.deprecate_at), "2030-01-01T00:01:00.000Z");
        assert_eq!(input.image_id, "ami-12345678");
    }

    #[test]
    fn deprecation_refusals() {
        let code = |pairs: &[(&str, &str)]| {
            EnableImageDeprecationInput::from_params(&Params::from_pairs(pairs.iter().copied())).err().unwrap().code
        };
        assert_eq!(code(&[("ImageId", "ami-12345678")]), "MissingParameter");
        assert_eq!(code(&[("ImageId", "ami-12345678"), ("DeprecateAt", "next year")]), "InvalidParameterValue");
        assert_eq!(code(&[("DeprecateAt", "2030-01-01T00:00:00Z")]), "MissingParameter");
    }

    #[test]
    fn protection_and_image_id_inputs() {
        let p = Params::from_pairs([("ImageId", "ami-12345678"), ("WithCooldown", "true")]);
        assert!(EnableImageDeregistrationProtectionInput::from_params(&p).unwrap().with_cooldown);
        let p = Params::from_pairs([("ImageId", "ami-12345678"), ("WithCooldown", "maybe")]);
        assert_eq!(
            EnableImageDeregistrationProtectionInput::from_params(&p).err().unwrap().code,
            "InvalidParameterValue"
        );
        let p = Params::from_pairs([("ImageId", "snap-12345678")]);
        assert_eq!(ImageIdInput::from_params(&p).err().unwrap().code, "InvalidAMIID.Malformed");
        assert_eq!(ImageIdInput::from_params(&Params::default()).err().unwrap().code, "MissingParameter");
    }
}
