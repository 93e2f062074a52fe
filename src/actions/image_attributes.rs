//! ModifyImageAttribute, DescribeImageAttribute, ResetImageAttribute.
//!
//! ModifyImageAttribute takes two request forms, often mixed by real tools: the
//! structured one (`LaunchPermission.Add.N.UserId`, `Description.Value`) and the legacy
//! one (`Attribute=launchPermission&OperationType=add&UserId.N`).

use super::{Ctx, FromParams};
use crate::access::own_image;
use crate::domain::ids::{self, IdKind};
use crate::domain::image::{protection_shown, validate_description, Image, LaunchPermission};
use crate::domain::lifecycle::ImageState;
use crate::ec2_err;
use crate::error::{Ec2Error, Result};
use crate::store::images::{self, ImageField};
use crate::store::{settings, Conn};
use crate::wire::params::Params;
use crate::wire::query::{has_launch_permission_grants, parse_launch_permission_changes, LaunchPermissionChanges};
use crate::wire::shapes::image::{write_attribute, ImageAttribute};
use crate::wire::xml::Xml;

/// The one attribute a ModifyImageAttribute call changes.
#[derive(Debug, PartialEq, Eq)]
pub enum Modification {
    LaunchPermission(LaunchPermissionChanges),
    Description(String),
    ImdsSupport(String),
}

pub struct ModifyImageAttributeInput {
    pub image_id: String,
    pub modification: Modification,
}

impl FromParams for ModifyImageAttributeInput {
    fn from_params(p: &Params) -> Result<Self> {
        let image_id = p.required("ImageId")?;
        let modification = parse_modification(p)?;
        ids::check(IdKind::Image, image_id)?;
        Ok(ModifyImageAttributeInput { image_id: image_id.to_string(), modification })
    }
}

/// EC2 also takes attribute names capitalised (`LaunchPermission`, `Description`,
/// `BlockDeviceMapping`: what Ansible's `ec2_ami` sends).
fn attribute_name(given: &str) -> String {
    let mut chars = given.chars();
    chars.next().map(|first| first.to_ascii_lowercase().to_string() + chars.as_str()).unwrap_or_default()
}

/// The attribute is named by `Attribute` or, in the structured form, by which
/// member was sent.
fn parse_modification(p: &Params) -> Result<Modification> {
    let named = p.str("Attribute").map(attribute_name);
    let attribute = match named.as_deref() {
        Some(a) => a,
        None if has_launch_permission_grants(p) => "launchPermission",
        None if p.has("Description") => "description",
        None if p.has("ImdsSupport") => "imdsSupport",
        None if p.has("ProductCode") => "productCodes",
        None => return Err(Ec2Error::missing_parameter("Attribute")),
    };
    match attribute {
        "launchPermission" => Ok(Modification::LaunchPermission(parse_launch_permission_changes(p)?)),
        "description" => {
            let value = p.nested("Description").raw("Value").or(p.raw("Value")).unwrap_or_default();
            validate_description(value)?;
            Ok(Modification::Description(value.to_string()))
        }
        "imdsSupport" => {
            let value = p.nested("ImdsSupport").str("Value").or(p.str("Value")).unwrap_or_default();
            if value != "v2.0" {
                return Err(ec2_err!(
                    InvalidParameterValue,
                    "Value ({value}) for parameter imdsSupport is invalid. Valid values: v2.0"
                ));
            }
            Ok(Modification::ImdsSupport(value.to_string()))
        }
        "productCodes" => Err(ec2_err!(InvalidParameterValue, "The productCodes attribute can no longer be modified.")),
        other => Err(ec2_err!(
            InvalidParameterValue,
            "Value ({other}) for parameter attribute is invalid. Unknown attribute."
        )),
    }
}

/// The caller's image, usable for attribute changes (not pending, failed or gone).
async fn modifiable_image(ctx: &Ctx<'_>, conn: &mut Conn, image_id: &str) -> Result<Image> {
    let image = own_image(ctx.scope, conn, image_id).await?;
    match image.state {
        ImageState::Available | ImageState::Disabled => Ok(image),
        _ => Err(Ec2Error::image_unavailable(&image.image_id, image.state.as_str())),
    }
}

pub async fn modify_image_attribute(ctx: &Ctx<'_>, input: ModifyImageAttributeInput) -> Result<Xml> {
    let image_id = input.image_id.as_str();
    let mut tx = ctx.app.store.write().await?;
    let image = modifiable_image(ctx, &mut tx, image_id).await?;
    ctx.check_dry_run()?;
    match input.modification {
        Modification::LaunchPermission(changes) => change_launch_permissions(ctx, &mut tx, &image, &changes).await?,
        Modification::Description(text) => {
            images::set_field(&mut tx, image_id, ImageField::Description, Some(&text)).await?
        }
        Modification::ImdsSupport(value) => {
            images::set_field(&mut tx, image_id, ImageField::ImdsSupport, Some(&value)).await?
        }
    }
    tx.commit().await?;
    Ok(Xml::return_true())
}

/// Grants and revokes launch permissions, refusing to share a disabled image and to
/// make public one that block public access or a Marketplace product code keeps private.
async fn change_launch_permissions(
    ctx: &Ctx<'_>,
    conn: &mut Conn,
    image: &Image,
    changes: &LaunchPermissionChanges,
) -> Result<()> {
    let image_id = image.image_id.as_str();
    if image.state == ImageState::Disabled && !changes.add.is_empty() {
        return Err(ec2_err!(OperationNotPermitted, "The image {image_id} is disabled and cannot be shared."));
    }
    if changes.add.iter().any(|g| matches!(g, LaunchPermission::Group(_))) {
        if settings::image_block_public_access(conn, ctx.scope.account, ctx.scope.region).await? != "unblocked" {
            return Err(Ec2Error::image_sharing_blocked());
        }
        if image.product_codes.iter().any(|c| c.code_type == "marketplace") {
            return Err(ec2_err!(
                InvalidParameterValue,
                "Images with AWS Marketplace product codes cannot be made public."
            ));
        }
    }
    for grant in &changes.remove {
        images::remove_launch_permission(conn, image_id, grant).await?;
    }
    for grant in &changes.add {
        images::add_launch_permission(conn, image_id, grant, ctx.now).await?;
    }
    Ok(())
}

pub struct DescribeImageAttributeInput {
    pub image_id: String,
    pub attribute: ImageAttribute,
}

impl FromParams for DescribeImageAttributeInput {
    fn from_params(p: &Params) -> Result<Self> {
        let image_id = p.required("ImageId")?;
        let name = p.required("Attribute")?;
        let attribute = ImageAttribute::from_name(&attribute_name(name)).ok_or_else(|| {
            ec2_err!(InvalidParameterValue, "Value ({name}) for parameter attribute is invalid. Unknown attribute.")
        })?;
        ids::check(IdKind::Image, image_id)?;
        Ok(DescribeImageAttributeInput { image_id: image_id.to_string(), attribute })
    }
}

pub async fn describe_image_attribute(ctx: &Ctx<'_>, input: DescribeImageAttributeInput) -> Result<Xml> {
    let mut conn = ctx.app.store.read().await?;
    let mut image = own_image(ctx.scope, &mut conn, &input.image_id).await?;
    image.deregistration_protection = protection_shown(&image, ctx.now).into_owned();
    if image.state == ImageState::Deregistered {
        return Err(Ec2Error::image_unavailable(&image.image_id, image.state.as_str()));
    }
    if input.attribute == ImageAttribute::BlockDeviceMapping {
        return Err(ec2_err!(AuthFailure, "Unauthorized attempt to access restricted resource"));
    }
    ctx.check_dry_run()?;
    let permissions = if input.attribute == ImageAttribute::LaunchPermission {
        images::launch_permissions(&mut conn, &image.image_id).await?
    } else {
        Vec::new()
    };
    let mut x = Xml::new();
    write_attribute(&mut x, &image, input.attribute, &permissions);
    Ok(x)
}

pub struct ResetImageAttributeInput {
    pub image_id: String,
}

impl FromParams for ResetImageAttributeInput {
    fn from_params(p: &Params) -> Result<Self> {
        let image_id = p.required("ImageId")?;
        let attribute = p.required("Attribute")?;
        if attribute_name(attribute) != "launchPermission" {
            return Err(ec2_err!(
                InvalidParameterValue,
                "Value ({attribute}) for parameter attribute is invalid. Only launchPermission can be reset."
            ));
        }
        ids::check(IdKind::Image, image_id)?;
        Ok(ResetImageAttributeInput { image_id: image_id.to_string() })
    }
}

pub async fn reset_image_attribute(ctx: &Ctx<'_>, input: ResetImageAttributeInput) -> Result<Xml> {
    let mut tx = ctx.app.store.write().await?;
    modifiable_image(ctx, &mut tx, &input.image_id).await?;
    ctx.check_dry_run()?;
    images::reset_launch_permissions(&mut tx, &input.image_id).await?;
    tx.commit().await?;
    Ok(Xml::return_true())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capitalised_attribute_names_are_accepted() {
        let p = Params::from_pairs([("ImageId", "ami-12345678"), ("Attribute", "LaunchPermission")]);
        assert!(DescribeImageAttributeInput::from_params(&p).is_ok());
        let p = Params::from_pairs([("ImageId", "ami-12345678"), ("Attribute", "Description"), ("Value", "d")]);
        assert!(ModifyImageAttributeInput::from_params(&p).is_ok());
        let p = Params::from_pairs([("ImageId", "ami-12345678"), ("Attribute", "LaunchPermission")]);
        assert!(ResetImageAttributeInput::from_params(&p).is_ok());
        let p = Params::from_pairs([("ImageId", "ami-12345678"), ("Attribute", "Colour")]);
        assert!(DescribeImageAttributeInput::from_params(&p).is_err());
    }

    fn modification(pairs: &[(&str, &str)]) -> Result<Modification> {
        let p = Params::from_pairs([("ImageId", "ami-12345678")].into_iter().chain(pairs.iter().copied()));
        ModifyImageAttributeInput::from_params(&p).map(|input| input.modification)
    }

    fn grants(m: Modification) -> LaunchPermissionChanges {
        match m {
            Modification::LaunchPermission(changes) => changes,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn packer_style_mixed_forms_grant_once() {
        let changes = grants(
            modification(&[
                ("LaunchPermission.Add.1.UserId", "123456789012"),
                ("UserId.1", "123456789012"),
                ("Description.Value", ""),
            ])
            .unwrap(),
        );
        assert_eq!(changes.add, vec![LaunchPermission::User("123456789012".into())]);
        assert!(changes.remove.is_empty());
    }

    #[test]
    fn legacy_form_with_operation_type() {
        let changes = grants(
            modification(&[("Attribute", "launchPermission"), ("OperationType", "remove"), ("UserGroup.1", "all")])
                .unwrap(),
        );
        assert!(changes.add.is_empty());
        assert_eq!(changes.remove, vec![LaunchPermission::Group("all".into())]);
    }

    #[test]
    fn legacy_form_needs_a_known_operation_type() {
        let code = |pairs: &[(&str, &str)]| modification(pairs).unwrap_err().code;
        assert_eq!(code(&[("Attribute", "launchPermission"), ("UserId.1", "123456789012")]), "MissingParameter");
        assert_eq!(code(&[("OperationType", "replace"), ("UserId.1", "123456789012")]), "InvalidParameterValue");
        assert_eq!(code(&[("Attribute", "launchPermission")]), "MissingParameter");
    }

    #[test]
    fn description_in_both_forms() {
        assert_eq!(modification(&[("Description.Value", "new")]).unwrap(), Modification::Description("new".into()));
        assert_eq!(
            modification(&[("Attribute", "description"), ("Value", "old style")]).unwrap(),
            Modification::Description("old style".into())
        );
    }

    #[test]
    fn imds_support_takes_only_v2() {
        assert_eq!(modification(&[("ImdsSupport.Value", "v2.0")]).unwrap(), Modification::ImdsSupport("v2.0".into()));
        assert_eq!(modification(&[("ImdsSupport.Value", "v1.0")]).unwrap_err().code, "InvalidParameterValue");
    }

    #[test]
    fn bad_requests_are_refused() {
        let code = |pairs: &[(&str, &str)]| modification(pairs).unwrap_err().code;
        assert_eq!(code(&[("LaunchPermission.Add.1.UserId", "12")]), "InvalidAMIAttributeItemValue");
        assert_eq!(code(&[("LaunchPermission.Add.1.Group", "everyone")]), "InvalidAMIAttributeItemValue");
        assert_eq!(code(&[("Attribute", "kernel")]), "InvalidParameterValue");
        assert_eq!(code(&[("ProductCode.1", "abc")]), "InvalidParameterValue");
        assert_eq!(code(&[]), "MissingParameter");
        let p = Params::from_pairs([("ImageId", "ami-x"), ("Description.Value", "d")]);
        assert_eq!(ModifyImageAttributeInput::from_params(&p).err().unwrap().code, "InvalidAMIID.Malformed");
    }

    #[test]
    fn describe_and_reset_name_their_attribute() {
        let p = Params::from_pairs([("ImageId", "ami-12345678"), ("Attribute", "launchPermission")]);
        assert_eq!(DescribeImageAttributeInput::from_params(&p).unwrap().attribute, ImageAttribute::LaunchPermission);
        assert_eq!(ResetImageAttributeInput::from_params(&p).unwrap().image_id, "ami-12345678");
        let p = Params::from_pairs([("ImageId", "ami-12345678"), ("Attribute", "colour")]);
        assert_eq!(DescribeImageAttributeInput::from_params(&p).err().unwrap().code, "InvalidParameterValue");
        let p = Params::from_pairs([("ImageId", "ami-12345678"), ("Attribute", "description")]);
        assert_eq!(ResetImageAttributeInput::from_params(&p).err().unwrap().code, "InvalidParameterValue");
        let p = Params::from_pairs([("Attribute", "description")]);
        assert_eq!(DescribeImageAttributeInput::from_params(&p).err().unwrap().code, "MissingParameter");
    }
}
