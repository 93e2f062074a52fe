//! ModifyImageAttribute, DescribeImageAttribute, ResetImageAttribute.
//!
//! ModifyImageAttribute takes two request forms, often mixed by real tools: the
//! structured one (`LaunchPermission.Add.N.UserId`, `Description.Value`) and the legacy
//! one (`Attribute=launchPermission&OperationType=add&UserId.N`).

use crate::access::own_image;
use crate::wire::shapes::image::write_block_device_mappings;

use super::Ctx;
use crate::domain::image::{state, validate_description, Image, LaunchPermission};
use crate::ec2_err;
use crate::error::{Ec2Error, Result};
use crate::store::images::{self, ImageField};
use crate::store::Conn;
use crate::wire::params::Params;
use crate::wire::xml::Xml;

/// The one attribute a ModifyImageAttribute call changes.
#[derive(Debug, PartialEq, Eq)]
enum Modification {
    LaunchPermission { add: Vec<LaunchPermission>, remove: Vec<LaunchPermission> },
    Description(String),
    ImdsSupport(String),
}

const LEGACY_LISTS: [&str; 4] = ["UserId", "UserGroup", "OrganizationArn", "OrganizationalUnitArn"];

fn parse_modification(p: &Params) -> Result<Modification> {
    let wants_launch_permission = p.has("LaunchPermission") || LEGACY_LISTS.iter().any(|l| p.has(l));
    let attribute = match p.str("Attribute") {
        Some(a) => a,
        None if wants_launch_permission => "launchPermission",
        None if p.has("Description") => "description",
        None if p.has("ImdsSupport") => "imdsSupport",
        None if p.has("ProductCode") => "productCodes",
        None => return Err(Ec2Error::missing_parameter("Attribute")),
    };
    match attribute {
        "launchPermission" => parse_launch_permission_changes(p),
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

fn parse_launch_permission_changes(p: &Params) -> Result<Modification> {
    let mut add = structured_grants(p, "Add")?;
    let mut remove = structured_grants(p, "Remove")?;
    let legacy = legacy_grants(p)?;
    if !legacy.is_empty() {
        let operation = match p.str("OperationType") {
            Some(op) => op,
            // Packer sends its grants in both forms without an operation type.
            None if !add.is_empty() && remove.is_empty() => "add",
            None if add.is_empty() && !remove.is_empty() => "remove",
            None => return Err(Ec2Error::missing_parameter("OperationType")),
        };
        match operation {
            "add" => add.extend(legacy),
            "remove" => remove.extend(legacy),
            other => {
                return Err(ec2_err!(InvalidParameterValue, "Value ({other}) for parameter operationType is invalid."))
            }
        }
    }
    if add.is_empty() && remove.is_empty() {
        return Err(Ec2Error::missing_parameter("LaunchPermission"));
    }
    for grant in add.iter().chain(&remove) {
        grant.validate()?;
    }
    add.sort();
    add.dedup();
    remove.sort();
    remove.dedup();
    Ok(Modification::LaunchPermission { add, remove })
}

fn structured_grants(p: &Params, op: &str) -> Result<Vec<LaunchPermission>> {
    let mut grants = Vec::new();
    for item in p.structs(&format!("LaunchPermission.{op}"))? {
        if let Some(v) = item.str("UserId") {
            grants.push(LaunchPermission::User(v.to_string()));
        }
        if let Some(v) = item.str("Group") {
            grants.push(LaunchPermission::Group(v.to_string()));
        }
        if let Some(v) = item.str("OrganizationArn") {
            grants.push(LaunchPermission::Organization(v.to_string()));
        }
        if let Some(v) = item.str("OrganizationalUnitArn") {
            grants.push(LaunchPermission::OrganizationalUnit(v.to_string()));
        }
    }
    Ok(grants)
}

fn legacy_grants(p: &Params) -> Result<Vec<LaunchPermission>> {
    let mut grants: Vec<LaunchPermission> = p.list("UserId")?.into_iter().map(LaunchPermission::User).collect();
    grants.extend(p.list("UserGroup")?.into_iter().map(LaunchPermission::Group));
    grants.extend(p.list("OrganizationArn")?.into_iter().map(LaunchPermission::Organization));
    grants.extend(p.list("OrganizationalUnitArn")?.into_iter().map(LaunchPermission::OrganizationalUnit));
    Ok(grants)
}

/// The caller's image, usable for attribute changes (not pending, failed or gone).
async fn modifiable_image(ctx: &Ctx<'_>, conn: &mut Conn, image_id: &str) -> Result<Image> {
    let image = own_image(ctx.scope, conn, image_id).await?;
    match image.state.as_str() {
        state::AVAILABLE | state::DISABLED => Ok(image),
        _ => Err(Ec2Error::image_unavailable(&image.image_id, &image.state)),
    }
}

/// Read by the handler until this action has a typed input.
pub type ModifyImageAttributeInput = Params;

pub async fn modify_image_attribute(ctx: &Ctx<'_>, p: ModifyImageAttributeInput) -> Result<Xml> {
    let p = &p;
    let image_id = p.required("ImageId")?;
    let modification = parse_modification(p)?;
    let mut tx = ctx.app.store.write().await?;
    let image = modifiable_image(ctx, &mut tx, image_id).await?;
    ctx.check_dry_run()?;
    match modification {
        Modification::LaunchPermission { add, remove } => {
            if image.state == state::DISABLED && !add.is_empty() {
                return Err(ec2_err!(OperationNotPermitted, "The image {image_id} is disabled and cannot be shared."));
            }
            let makes_public = add.iter().any(|g| matches!(g, LaunchPermission::Group(_)));
            if makes_public {
                if crate::store::settings::image_block_public_access(&mut tx, ctx.scope.account, ctx.scope.region)
                    .await?
                    != "unblocked"
                {
                    return Err(Ec2Error::image_sharing_blocked());
                }
                if image.product_codes.iter().any(|c| c.code_type == "marketplace") {
                    return Err(ec2_err!(
                        InvalidParameterValue,
                        "Images with AWS Marketplace product codes cannot be made public."
                    ));
                }
            }
            for grant in &remove {
                images::remove_launch_permission(&mut tx, image_id, grant).await?;
            }
            for grant in &add {
                images::add_launch_permission(&mut tx, image_id, grant, ctx.now).await?;
            }
        }
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

const ATTRIBUTES: &[&str] = &[
    "description",
    "kernel",
    "ramdisk",
    "launchPermission",
    "productCodes",
    "blockDeviceMapping",
    "sriovNetSupport",
    "bootMode",
    "tpmSupport",
    "uefiData",
    "lastLaunchedTime",
    "imdsSupport",
    "deregistrationProtection",
];

/// Read by the handler until this action has a typed input.
pub type DescribeImageAttributeInput = Params;

pub async fn describe_image_attribute(ctx: &Ctx<'_>, p: DescribeImageAttributeInput) -> Result<Xml> {
    let p = &p;
    let image_id = p.required("ImageId")?;
    let attribute = p.required("Attribute")?;
    if !ATTRIBUTES.contains(&attribute) {
        return Err(ec2_err!(
            InvalidParameterValue,
            "Value ({attribute}) for parameter attribute is invalid. Unknown attribute."
        ));
    }
    let mut conn = ctx.app.store.read().await?;
    let image = own_image(ctx.scope, &mut conn, image_id).await?;
    if image.state == state::DEREGISTERED {
        return Err(Ec2Error::image_unavailable(&image.image_id, &image.state));
    }
    if attribute == "blockDeviceMapping" {
        return Err(ec2_err!(AuthFailure, "Unauthorized attempt to access restricted resource"));
    }
    ctx.check_dry_run()?;
    let permissions = if attribute == "launchPermission" {
        images::launch_permissions(&mut conn, image_id).await?
    } else {
        Vec::new()
    };
    let mut x = Xml::new();
    write_attribute(&mut x, &image, attribute, &permissions);
    Ok(x)
}

pub fn write_attribute(x: &mut Xml, image: &Image, attribute: &str, permissions: &[LaunchPermission]) {
    x.text("imageId", &image.image_id);
    match attribute {
        "launchPermission" => {
            x.list("launchPermission", permissions, |x, grant| {
                let (kind, value) = grant.parts();
                let tag = match kind {
                    "user" => "userId",
                    "group" => "group",
                    "organization" => "organizationArn",
                    _ => "organizationalUnitArn",
                };
                x.text(tag, value);
            });
        }
        "productCodes" => {
            x.list("productCodes", &image.product_codes, |x, c| {
                x.text("productCode", &c.id).text("type", &c.code_type);
            });
        }
        "blockDeviceMapping" => write_block_device_mappings(x, &image.block_device_mappings),
        scalar => {
            let value = match scalar {
                "description" => image.description.as_deref(),
                "kernel" => image.kernel_id.as_deref(),
                "ramdisk" => image.ramdisk_id.as_deref(),
                "sriovNetSupport" => image.sriov_net_support.as_deref(),
                "bootMode" => image.boot_mode.as_deref(),
                "tpmSupport" => image.tpm_support.as_deref(),
                "uefiData" => image.uefi_data.as_deref(),
                "lastLaunchedTime" => image.last_launched_time.as_deref(),
                "imdsSupport" => image.imds_support.as_deref(),
                _ => Some(image.deregistration_protection.as_str()),
            };
            x.attribute_value(scalar, value);
        }
    }
}

/// Read by the handler until this action has a typed input.
pub type ResetImageAttributeInput = Params;

pub async fn reset_image_attribute(ctx: &Ctx<'_>, p: ResetImageAttributeInput) -> Result<Xml> {
    let p = &p;
    let image_id = p.required("ImageId")?;
    let attribute = p.required("Attribute")?;
    if attribute != "launchPermission" {
        return Err(ec2_err!(
            InvalidParameterValue,
            "Value ({attribute}) for parameter attribute is invalid. Only launchPermission can be reset."
        ));
    }
    let mut tx = ctx.app.store.write().await?;
    modifiable_image(ctx, &mut tx, image_id).await?;
    ctx.check_dry_run()?;
    images::reset_launch_permissions(&mut tx, image_id).await?;
    tx.commit().await?;
    Ok(Xml::return_true())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grants(m: Modification) -> (Vec<LaunchPermission>, Vec<LaunchPermission>) {
        match m {
            Modification::LaunchPermission { add, remove } => (add, remove),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn packer_style_mixed_forms_grant_once() {
        let p = Params::from_pairs([
            ("ImageId", "ami-12345678"),
            ("LaunchPermission.Add.1.UserId", "123456789012"),
            ("UserId.1", "123456789012"),
            ("Description.Value", ""),
        ]);
        let (add, remove) = grants(parse_modification(&p).unwrap());
        assert_eq!(add, vec![LaunchPermission::User("123456789012".into())]);
        assert!(remove.is_empty());
    }

    #[test]
    fn legacy_form_with_operation_type() {
        let p = Params::from_pairs([
            ("Attribute", "launchPermission"),
            ("OperationType", "remove"),
            ("UserGroup.1", "all"),
        ]);
        let (add, remove) = grants(parse_modification(&p).unwrap());
        assert!(add.is_empty());
        assert_eq!(remove, vec![LaunchPermission::Group("all".into())]);
    }

    #[test]
    fn description_in_both_forms() {
        let structured = Params::from_pairs([("Description.Value", "new")]);
        assert_eq!(parse_modification(&structured).unwrap(), Modification::Description("new".into()));
        let legacy = Params::from_pairs([("Attribute", "description"), ("Value", "old style")]);
        assert_eq!(parse_modification(&legacy).unwrap(), Modification::Description("old style".into()));
    }

    #[test]
    fn bad_grants_are_refused() {
        let p = Params::from_pairs([("LaunchPermission.Add.1.UserId", "12")]);
        assert_eq!(parse_modification(&p).unwrap_err().code, "InvalidAMIAttributeItemValue");
        let p = Params::from_pairs([("Attribute", "kernel")]);
        assert_eq!(parse_modification(&p).unwrap_err().code, "InvalidParameterValue");
    }

    #[test]
    fn golden_attributes() {
        let image = Image { image_id: "ami-12345678".into(), description: Some("d".into()), ..Default::default() };
        let mut x = Xml::new();
        write_attribute(
            &mut x,
            &image,
            "launchPermission",
            &[LaunchPermission::Group("all".into()), LaunchPermission::User("123456789012".into())],
        );
        assert_eq!(
            x.as_str(),
            "<imageId>ami-12345678</imageId><launchPermission><item><group>all</group></item><item><userId>123456789012</userId></item></launchPermission>"
        );
        let mut x = Xml::new();
        write_attribute(&mut x, &image, "description", &[]);
        assert_eq!(x.as_str(), "<imageId>ami-12345678</imageId><description><value>d</value></description>");
        let mut x = Xml::new();
        write_attribute(&mut x, &image, "kernel", &[]);
        assert_eq!(x.as_str(), "<imageId>ami-12345678</imageId><kernel/>");
    }
}
