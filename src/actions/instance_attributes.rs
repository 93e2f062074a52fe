//! DescribeInstanceAttribute and ModifyInstanceAttribute, for the attributes tools read.
//! The answer's shape is `wire::shapes::instance::write_instance_attribute`.

use super::{Ctx, FromParams};
use crate::access::own_instance;
use crate::domain::ids::{self, IdKind};
use crate::domain::image::check_enum;
use crate::domain::instance::{check_compatible, instance_type, Instance, InstanceType};
use crate::domain::lifecycle::InstanceState;
use crate::domain::network::interface::check_group_count;
use crate::ec2_err;
use crate::error::{Ec2Error, Result};
use crate::store::instances::{self as store, InstanceColumn};
use crate::store::network::{interfaces, not_found, security_groups};
use crate::store::Conn;
use crate::wire::params::Params;
use crate::wire::query::dedup;
use crate::wire::shapes::instance::{write_instance_attribute, INSTANCE_ATTRIBUTES};
use crate::wire::xml::Xml;

fn unknown_attribute(attribute: &str) -> Ec2Error {
    ec2_err!(InvalidParameterValue, "Value ({attribute}) for parameter attribute is invalid. Unknown attribute.")
}

// DescribeInstanceAttribute ----------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescribeInstanceAttributeInput {
    pub instance_id: String,
    /// One of `INSTANCE_ATTRIBUTES`.
    pub attribute: String,
}

impl FromParams for DescribeInstanceAttributeInput {
    fn from_params(p: &Params) -> Result<Self> {
        let instance_id = p.required("InstanceId")?;
        let attribute = p.required("Attribute")?;
        if !INSTANCE_ATTRIBUTES.contains(&attribute) {
            return Err(unknown_attribute(attribute));
        }
        ids::check(IdKind::Instance, instance_id)?;
        Ok(DescribeInstanceAttributeInput { instance_id: instance_id.to_string(), attribute: attribute.to_string() })
    }
}

pub async fn describe_instance_attribute(ctx: &Ctx<'_>, input: DescribeInstanceAttributeInput) -> Result<Xml> {
    let mut conn = ctx.app.store.read().await?;
    let instance = own_instance(ctx.scope, &mut conn, &input.instance_id).await?;
    ctx.check_dry_run()?;
    let mut x = Xml::new();
    write_instance_attribute(&mut x, &instance, &input.attribute);
    Ok(x)
}

// ModifyInstanceAttribute ------------------------------------------------------------------

/// The one attribute a ModifyInstanceAttribute call changes, with its checked value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttributeChange {
    /// Only while stopped, to a type that runs the instance's image.
    InstanceType(&'static InstanceType),
    /// Only while stopped.
    UserData(String),
    /// Only while stopped: an `aki-` / `ari-` id.
    Kernel(String),
    Ramdisk(String),
    /// `simple`: enhanced networking with the Intel 82599 VF.
    SriovNetSupport(String),
    /// `BlockDeviceMapping.N`: (device, delete on termination) of attached volumes.
    DeleteOnTermination(Vec<(String, bool)>),
    DisableApiTermination(bool),
    ShutdownBehavior(String),
    /// `GroupId.N`: the groups of the primary interface, in the instance's VPC.
    Groups(Vec<String>),
    /// The primary network interface's.
    SourceDestCheck(bool),
    EbsOptimized(bool),
    /// Only while stopped.
    EnaSupport(bool),
    DisableApiStop(bool),
}

impl AttributeChange {
    /// The change `Attribute=attribute&Value=value` (or `Attribute.Value=value`) asks for.
    fn parse(attribute: &str, value: &str) -> Result<Self> {
        let boolean = || match value {
            "true" => Ok(true),
            "false" => Ok(false),
            other => Err(ec2_err!(InvalidParameterValue, "Value ({other}) for parameter {attribute} is invalid.")),
        };
        Ok(match attribute {
            "instanceType" => AttributeChange::InstanceType(instance_type(value)?),
            "userData" => AttributeChange::UserData(value.to_string()),
            "kernel" => {
                ids::check(IdKind::Kernel, value)?;
                AttributeChange::Kernel(value.to_string())
            }
            "ramdisk" => {
                ids::check(IdKind::Ramdisk, value)?;
                AttributeChange::Ramdisk(value.to_string())
            }
            "sriovNetSupport" => {
                check_enum("SriovNetSupport", value, &["simple"])?;
                AttributeChange::SriovNetSupport(value.to_string())
            }
            "disableApiTermination" => AttributeChange::DisableApiTermination(boolean()?),
            "instanceInitiatedShutdownBehavior" => {
                check_enum("InstanceInitiatedShutdownBehavior", value, &["stop", "terminate"])?;
                AttributeChange::ShutdownBehavior(value.to_string())
            }
            "sourceDestCheck" => AttributeChange::SourceDestCheck(boolean()?),
            "ebsOptimized" => AttributeChange::EbsOptimized(boolean()?),
            "enaSupport" => AttributeChange::EnaSupport(boolean()?),
            "disableApiStop" => AttributeChange::DisableApiStop(boolean()?),
            other => return Err(unknown_attribute(other)),
        })
    }

    /// Whether `instance` may take this change now, answered with EC2's errors.
    fn check_allowed(&self, instance: &Instance) -> Result<()> {
        let must_be_stopped = || {
            if instance.state == InstanceState::Stopped {
                Ok(())
            } else {
                Err(ec2_err!(
                    IncorrectInstanceState,
                    "The instance '{}' is not in the 'stopped' state.",
                    instance.instance_id
                ))
            }
        };
        match self {
            AttributeChange::InstanceType(itype) => {
                must_be_stopped()?;
                check_compatible(itype, &instance.architecture, &instance.virtualization_type)
            }
            AttributeChange::UserData(_)
            | AttributeChange::Kernel(_)
            | AttributeChange::Ramdisk(_)
            | AttributeChange::EnaSupport(_) => must_be_stopped(),
            _ => Ok(()),
        }
    }

    /// The column this change writes, with its stored value; `None` when nothing is kept.
    fn stored(&self) -> Option<(InstanceColumn, String)> {
        match self {
            AttributeChange::InstanceType(itype) => Some((InstanceColumn::InstanceType, itype.name.to_string())),
            AttributeChange::UserData(data) => Some((InstanceColumn::UserData, data.clone())),
            AttributeChange::DisableApiTermination(on) => Some((InstanceColumn::DisableApiTermination, on.to_string())),
            AttributeChange::ShutdownBehavior(behavior) => Some((InstanceColumn::ShutdownBehavior, behavior.clone())),
            AttributeChange::Kernel(id) => Some((InstanceColumn::KernelId, id.clone())),
            AttributeChange::Ramdisk(id) => Some((InstanceColumn::RamdiskId, id.clone())),
            AttributeChange::SriovNetSupport(value) => Some((InstanceColumn::SriovNetSupport, value.clone())),
            AttributeChange::DeleteOnTermination(_) => None,
            AttributeChange::Groups(ids) => {
                Some((InstanceColumn::SecurityGroupIds, serde_json::to_string(ids).expect("json")))
            }
            AttributeChange::EbsOptimized(on) => Some((InstanceColumn::EbsOptimized, on.to_string())),
            AttributeChange::EnaSupport(on) => Some((InstanceColumn::EnaSupport, on.to_string())),
            AttributeChange::DisableApiStop(on) => Some((InstanceColumn::DisableApiStop, on.to_string())),
            AttributeChange::SourceDestCheck(_) => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModifyInstanceAttributeInput {
    pub instance_id: String,
    pub change: AttributeChange,
}

impl FromParams for ModifyInstanceAttributeInput {
    fn from_params(p: &Params) -> Result<Self> {
        let instance_id = p.required("InstanceId")?;
        ids::check(IdKind::Instance, instance_id)?;
        let groups = dedup(p.list("GroupId")?);
        let mappings = parse_delete_on_termination(p)?;
        let change = if !mappings.is_empty() {
            AttributeChange::DeleteOnTermination(mappings)
        } else if groups.is_empty() {
            let (attribute, value) = requested_change(p)?;
            AttributeChange::parse(attribute, value)?
        } else {
            ids::check_all(IdKind::SecurityGroup, &groups)?;
            check_group_count(groups.len())?;
            AttributeChange::Groups(groups)
        };
        Ok(ModifyInstanceAttributeInput { instance_id: instance_id.to_string(), change })
    }
}

/// `BlockDeviceMapping.N.DeviceName` with `.Ebs.DeleteOnTermination`: the only thing EC2
/// lets this call change about attached volumes.
fn parse_delete_on_termination(p: &Params) -> Result<Vec<(String, bool)>> {
    let mut changes = Vec::new();
    for m in p.structs("BlockDeviceMapping")? {
        let device = m.str("DeviceName").ok_or_else(|| Ec2Error::missing_parameter("BlockDeviceMapping.DeviceName"))?;
        let delete = m.bool("Ebs.DeleteOnTermination")?.unwrap_or(true);
        changes.push((device.to_string(), delete));
    }
    Ok(changes)
}

/// The attribute and value of the change, in either request form: `Attribute=x&Value=y`
/// or `X.Value=y`.
fn requested_change(p: &Params) -> Result<(&str, &str)> {
    if let Some(attribute) = p.str("Attribute") {
        let value = p.raw("Value").ok_or_else(|| Ec2Error::missing_parameter("Value"))?;
        return Ok((attribute, value));
    }
    for (member, attribute) in [
        ("InstanceType", "instanceType"),
        ("UserData", "userData"),
        ("Kernel", "kernel"),
        ("Ramdisk", "ramdisk"),
        ("SriovNetSupport", "sriovNetSupport"),
        ("DisableApiTermination", "disableApiTermination"),
        ("InstanceInitiatedShutdownBehavior", "instanceInitiatedShutdownBehavior"),
        ("SourceDestCheck", "sourceDestCheck"),
        ("EbsOptimized", "ebsOptimized"),
        ("EnaSupport", "enaSupport"),
        ("DisableApiStop", "disableApiStop"),
    ] {
        if let Some(value) = p.nested(member).raw("Value") {
            return Ok((attribute, value));
        }
    }
    Err(Ec2Error::missing_parameter("Attribute"))
}

pub async fn modify_instance_attribute(ctx: &Ctx<'_>, input: ModifyInstanceAttributeInput) -> Result<Xml> {
    let mut tx = ctx.app.store.write().await?;
    let instance = own_instance(ctx.scope, &mut tx, &input.instance_id).await?;
    input.change.check_allowed(&instance)?;
    if let AttributeChange::Groups(ids) = &input.change {
        check_groups_in_vpc(ctx, &mut tx, ids, &instance.vpc_id).await?;
    }
    if let AttributeChange::DeleteOnTermination(changes) = &input.change {
        if let Some((device, _)) = changes.iter().find(|(d, _)| !instance.volumes.iter().any(|v| &v.0 == d)) {
            return Err(ec2_err!(InvalidInstanceAttributeValue, "No device is currently mapped at {device}"));
        }
    }
    ctx.check_dry_run()?;
    if let Some((column, value)) = input.change.stored() {
        store::set_attribute(&mut tx, &input.instance_id, column, &value).await?;
    }
    if let AttributeChange::Groups(ids) = &input.change {
        interfaces::set_primary_groups(&mut tx, &input.instance_id, ids).await?;
    }
    if let AttributeChange::SourceDestCheck(check) = input.change {
        interfaces::set_primary_source_dest_check(&mut tx, &input.instance_id, check).await?;
    }
    if let AttributeChange::DeleteOnTermination(changes) = &input.change {
        for (device, delete) in changes {
            store::set_delete_on_termination(&mut tx, &input.instance_id, device, *delete).await?;
        }
    }
    tx.commit().await?;
    Ok(Xml::return_true())
}

/// Every group must be the caller's, in the instance's VPC.
async fn check_groups_in_vpc(ctx: &Ctx<'_>, conn: &mut Conn, ids: &[String], vpc_id: &str) -> Result<()> {
    let found = security_groups::group_vpcs(conn, ctx.scope.account, ctx.scope.region, ids).await?;
    for id in ids {
        match found.iter().find(|(group, _)| group == id) {
            None => return Err(not_found(IdKind::SecurityGroup, id)),
            Some((_, vpc)) if vpc != vpc_id => {
                return Err(ec2_err!(
                    InvalidGroup_NotFound,
                    "The security group '{id}' does not exist in VPC '{vpc_id}'"
                ))
            }
            Some(_) => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn describe(pairs: &[(&str, &str)]) -> Result<DescribeInstanceAttributeInput> {
        DescribeInstanceAttributeInput::from_params(&Params::from_pairs(pairs.iter().copied()))
    }

    fn modify(pairs: &[(&str, &str)]) -> Result<ModifyInstanceAttributeInput> {
        let mut all = vec![("InstanceId", "i-0123456789abcdef0")];
        all.extend_from_slice(pairs);
        ModifyInstanceAttributeInput::from_params(&Params::from_pairs(all))
    }

    #[test]
    fn describe_reads_a_known_attribute_of_a_well_formed_instance() {
        let input = describe(&[("InstanceId", "i-0123456789abcdef0"), ("Attribute", "userData")]).unwrap();
        assert_eq!((input.instance_id.as_str(), input.attribute.as_str()), ("i-0123456789abcdef0", "userData"));
        let unknown = describe(&[("InstanceId", "i-0123456789abcdef0"), ("Attribute", "colour")]).unwrap_err();
        assert_eq!(unknown.message, "Value (colour) for parameter attribute is invalid. Unknown attribute.");
        assert_eq!(describe(&[("InstanceId", "i-0123456789abcdef0")]).unwrap_err().code, "MissingParameter");
        let malformed = describe(&[("InstanceId", "i-xyz"), ("Attribute", "kernel")]).unwrap_err();
        assert_eq!(malformed.code, "InvalidInstanceID.Malformed");
    }

    #[test]
    fn modify_reads_both_request_forms() {
        let change = |pairs: &[(&str, &str)]| modify(pairs).unwrap().change;
        assert_eq!(
            change(&[("InstanceType.Value", "t3.small")]),
            AttributeChange::InstanceType(instance_type("t3.small").unwrap())
        );
        assert_eq!(
            change(&[("Attribute", "disableApiTermination"), ("Value", "true")]),
            AttributeChange::DisableApiTermination(true)
        );
        assert_eq!(change(&[("UserData.Value", "")]), AttributeChange::UserData(String::new()));
        assert_eq!(
            change(&[("InstanceInitiatedShutdownBehavior.Value", "terminate")]),
            AttributeChange::ShutdownBehavior("terminate".into())
        );
        assert_eq!(change(&[("SourceDestCheck.Value", "false")]), AttributeChange::SourceDestCheck(false));
        assert_eq!(change(&[("DisableApiStop.Value", "true")]), AttributeChange::DisableApiStop(true));
    }

    #[test]
    fn modify_refusals() {
        let code = |pairs: &[(&str, &str)]| modify(pairs).unwrap_err().code;
        assert_eq!(code(&[]), "MissingParameter");
        assert_eq!(code(&[("Attribute", "userData")]), "MissingParameter");
        assert_eq!(code(&[("Attribute", "colour"), ("Value", "red")]), "InvalidParameterValue");
        assert_eq!(code(&[("InstanceType.Value", "z9.huge")]), "InvalidParameterValue");
        assert_eq!(code(&[("EnaSupport.Value", "True")]), "InvalidParameterValue");
        assert_eq!(code(&[("InstanceInitiatedShutdownBehavior.Value", "hibernate")]), "InvalidParameterValue");
        let malformed = ModifyInstanceAttributeInput::from_params(&Params::from_pairs([
            ("InstanceId", "i-xyz"),
            ("InstanceType.Value", "z9.huge"),
        ]));
        assert_eq!(malformed.unwrap_err().code, "InvalidInstanceID.Malformed");
    }

    #[test]
    fn type_and_user_data_change_only_while_stopped() {
        let running = Instance {
            instance_id: "i-0123456789abcdef0".into(),
            state: InstanceState::Running,
            architecture: "x86_64".into(),
            virtualization_type: "hvm".into(),
            ..Default::default()
        };
        let to_small = AttributeChange::InstanceType(instance_type("t3.small").unwrap());
        let err = to_small.check_allowed(&running).unwrap_err();
        assert_eq!(err.message, "The instance 'i-0123456789abcdef0' is not in the 'stopped' state.");
        assert!(AttributeChange::DisableApiTermination(true).check_allowed(&running).is_ok());

        let stopped = Instance { state: InstanceState::Stopped, ..running };
        assert!(to_small.check_allowed(&stopped).is_ok());
        let to_arm = AttributeChange::InstanceType(instance_type("t4g.micro").unwrap());
        assert_eq!(to_arm.check_allowed(&stopped).unwrap_err().code, "InvalidParameterValue");
        assert_eq!(AttributeChange::DisableApiTermination(false).stored().map(|(_, v)| v).as_deref(), Some("false"));
    }
}
