//! DescribeInstanceAttribute and ModifyInstanceAttribute, for the attributes tools read.

use crate::access::own_instance;

use super::Ctx;
use crate::domain::clock::iso;
use crate::domain::instance::{instance_type, state};
use crate::ec2_err;
use crate::error::{Ec2Error, Result};
use crate::store::instances::{self as store, InstanceColumn};
use crate::wire::params::Params;
use crate::wire::xml::Xml;

const ATTRIBUTES: &[&str] = &[
    "instanceType",
    "kernel",
    "ramdisk",
    "userData",
    "disableApiTermination",
    "instanceInitiatedShutdownBehavior",
    "rootDeviceName",
    "blockDeviceMapping",
    "productCodes",
    "sourceDestCheck",
    "groupSet",
    "ebsOptimized",
    "sriovNetSupport",
    "enaSupport",
    "enclaveOptions",
    "disableApiStop",
];

/// Read by the handler until this action has a typed input.
pub type DescribeInstanceAttributeInput = Params;

pub async fn describe_instance_attribute(ctx: &Ctx<'_>, p: DescribeInstanceAttributeInput) -> Result<Xml> {
    let p = &p;
    let instance_id = p.required("InstanceId")?;
    let attribute = p.required("Attribute")?;
    if !ATTRIBUTES.contains(&attribute) {
        return Err(ec2_err!(
            InvalidParameterValue,
            "Value ({attribute}) for parameter attribute is invalid. Unknown attribute."
        ));
    }
    let mut conn = ctx.app.store.read().await?;
    let i = own_instance(ctx.scope, &mut conn, instance_id).await?;
    ctx.check_dry_run()?;
    let mut x = Xml::new();
    x.text("instanceId", &i.instance_id);
    let value = |x: &mut Xml, v: &str| {
        x.open(attribute).text("value", v).close(attribute);
    };
    match attribute {
        "instanceType" => value(&mut x, &i.instance_type),
        "kernel" => {
            x.attribute_value("kernel", i.kernel_id.as_deref());
        }
        "ramdisk" => {
            x.empty("ramdisk");
        }
        "userData" => {
            x.attribute_value("userData", i.user_data.as_deref());
        }
        "disableApiTermination" => value(&mut x, if i.disable_api_termination { "true" } else { "false" }),
        "instanceInitiatedShutdownBehavior" => value(&mut x, &i.shutdown_behavior),
        "rootDeviceName" => {
            x.attribute_value("rootDeviceName", i.root_device_name.as_deref());
        }
        "blockDeviceMapping" => {
            x.list("blockDeviceMapping", &i.volumes, |x, (device, volume_id, attach_time, dot)| {
                x.text("deviceName", device)
                    .open("ebs")
                    .text("volumeId", volume_id)
                    .text("status", "attached")
                    .text("attachTime", &iso(*attach_time))
                    .bool("deleteOnTermination", *dot)
                    .close("ebs");
            });
        }
        "productCodes" => {
            x.empty("productCodes");
        }
        "groupSet" => {
            x.list("groupSet", &i.security_group_ids, |x, id| {
                x.text("groupId", id);
            });
        }
        "enaSupport" => value(&mut x, if i.ena_support == Some(true) { "true" } else { "false" }),
        "sourceDestCheck" => value(&mut x, "true"),
        "enclaveOptions" => {
            x.open("enclaveOptions").bool("enabled", false).close("enclaveOptions");
        }
        "sriovNetSupport" => {
            x.empty("sriovNetSupport");
        }
        _ => value(&mut x, "false"),
    }
    Ok(x)
}

/// The one attribute a ModifyInstanceAttribute call changes, in either request form:
/// `Attribute=x&Value=y` or `X.Value=y`.
fn parse_change(p: &Params) -> Result<(String, String)> {
    if let Some(attribute) = p.str("Attribute") {
        let value = p.raw("Value").ok_or_else(|| Ec2Error::missing_parameter("Value"))?;
        return Ok((attribute.to_string(), value.to_string()));
    }
    for (member, attribute) in [
        ("InstanceType", "instanceType"),
        ("UserData", "userData"),
        ("DisableApiTermination", "disableApiTermination"),
        ("InstanceInitiatedShutdownBehavior", "instanceInitiatedShutdownBehavior"),
        ("SourceDestCheck", "sourceDestCheck"),
        ("EbsOptimized", "ebsOptimized"),
        ("EnaSupport", "enaSupport"),
        ("DisableApiStop", "disableApiStop"),
    ] {
        if let Some(value) = p.nested(member).raw("Value") {
            return Ok((attribute.to_string(), value.to_string()));
        }
    }
    Err(Ec2Error::missing_parameter("Attribute"))
}

/// Read by the handler until this action has a typed input.
pub type ModifyInstanceAttributeInput = Params;

pub async fn modify_instance_attribute(ctx: &Ctx<'_>, p: ModifyInstanceAttributeInput) -> Result<Xml> {
    let p = &p;
    let instance_id = p.required("InstanceId")?;
    let (attribute, value) = parse_change(p)?;
    let mut tx = ctx.app.store.write().await?;
    let i = own_instance(ctx.scope, &mut tx, instance_id).await?;
    let must_be_stopped = || {
        if i.state == state::STOPPED {
            Ok(())
        } else {
            Err(ec2_err!(IncorrectInstanceState, "The instance '{instance_id}' is not in the 'stopped' state."))
        }
    };
    let boolean = |v: &str| match v {
        "true" | "false" => Ok(v.to_string()),
        other => Err(ec2_err!(InvalidParameterValue, "Value ({other}) for parameter {attribute} is invalid.")),
    };
    let change = match attribute.as_str() {
        "instanceType" => {
            must_be_stopped()?;
            let itype = instance_type(&value)?;
            crate::domain::instance::check_compatible(itype, &i.architecture, &i.virtualization_type)?;
            Some((InstanceColumn::InstanceType, value.clone()))
        }
        "userData" => {
            must_be_stopped()?;
            Some((InstanceColumn::UserData, value.clone()))
        }
        "disableApiTermination" => Some((InstanceColumn::DisableApiTermination, boolean(&value)?)),
        "instanceInitiatedShutdownBehavior" => {
            crate::domain::image::check_enum("InstanceInitiatedShutdownBehavior", &value, &["stop", "terminate"])?;
            Some((InstanceColumn::ShutdownBehavior, value.clone()))
        }
        // Accepted and kept as EC2's defaults: there is no network or hardware to change.
        "sourceDestCheck" | "ebsOptimized" | "enaSupport" | "disableApiStop" => {
            boolean(&value)?;
            None
        }
        other => {
            return Err(ec2_err!(
                InvalidParameterValue,
                "Value ({other}) for parameter attribute is invalid. Unknown attribute."
            ))
        }
    };
    ctx.check_dry_run()?;
    if let Some((column, value)) = change {
        store::set_attribute(&mut tx, instance_id, column, &value).await?;
    }
    tx.commit().await?;
    Ok(Xml::return_true())
}
