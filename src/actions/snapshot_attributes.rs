//! ModifySnapshotAttribute, DescribeSnapshotAttribute, ResetSnapshotAttribute: who may
//! create volumes from a snapshot (`createVolumePermission`).

use super::{Ctx, FromParams};
use crate::access;
use crate::domain::ids::{self, IdKind};
use crate::domain::snapshot::CreateVolumePermission;
use crate::ec2_err;
use crate::error::{Ec2Error, Result};
use crate::store::{settings, snapshots};
use crate::wire::params::Params;
use crate::wire::query::{parse_create_volume_permission_changes, CreateVolumePermissionChanges};
use crate::wire::shapes::snapshot::write_create_volume_permissions;
use crate::wire::xml::Xml;

/// The attributes a snapshot has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotAttribute {
    CreateVolumePermission,
    ProductCodes,
}

impl SnapshotAttribute {
    fn parse(attribute: &str) -> Result<SnapshotAttribute> {
        match attribute {
            "createVolumePermission" => Ok(SnapshotAttribute::CreateVolumePermission),
            "productCodes" => Ok(SnapshotAttribute::ProductCodes),
            other => Err(ec2_err!(InvalidParameterValue, "Value ({other}) for parameter attribute is invalid.")),
        }
    }
}

pub struct ModifySnapshotAttributeInput {
    pub snapshot_id: String,
    /// Grants to add or to remove: never both, never neither.
    pub changes: CreateVolumePermissionChanges,
}

impl FromParams for ModifySnapshotAttributeInput {
    fn from_params(p: &Params) -> Result<Self> {
        let snapshot_id = p.required("SnapshotId")?;
        if let Some(attribute) = p.str("Attribute") {
            if SnapshotAttribute::parse(attribute)? == SnapshotAttribute::ProductCodes {
                return Err(ec2_err!(
                    InvalidParameterValue,
                    "The productCodes attribute of a snapshot cannot be modified."
                ));
            }
        }
        let changes = parse_create_volume_permission_changes(p)?;
        if changes.add.is_empty() && changes.remove.is_empty() {
            return Err(Ec2Error::missing_parameter("CreateVolumePermission"));
        }
        if !changes.add.is_empty() && !changes.remove.is_empty() {
            return Err(ec2_err!(
                InvalidParameterCombination,
                "A single request can either add or remove create volume permissions, not both."
            ));
        }
        ids::check(IdKind::Snapshot, snapshot_id)?;
        Ok(ModifySnapshotAttributeInput { snapshot_id: snapshot_id.to_string(), changes })
    }
}

impl ModifySnapshotAttributeInput {
    fn makes_public(&self) -> bool {
        self.changes.add.iter().any(|g| matches!(g, CreateVolumePermission::Group(_)))
    }
}

pub async fn modify_snapshot_attribute(ctx: &Ctx<'_>, input: ModifySnapshotAttributeInput) -> Result<Xml> {
    let snapshot_id = input.snapshot_id.as_str();
    let mut tx = ctx.app.store.write().await?;
    let snapshot = access::own_snapshot(ctx.scope, &mut tx, snapshot_id).await?;
    if input.makes_public() {
        if snapshot.encrypted {
            return Err(ec2_err!(InvalidParameterValue, "Encrypted snapshots cannot be made public."));
        }
        if settings::snapshot_block_public_access(&mut tx, ctx.scope.account, ctx.scope.region).await? != "unblocked" {
            return Err(Ec2Error::snapshot_sharing_blocked());
        }
    }
    ctx.check_dry_run()?;
    for grant in &input.changes.add {
        snapshots::add_permission(&mut tx, snapshot_id, grant.grantee(), ctx.now).await?;
    }
    for grant in &input.changes.remove {
        snapshots::remove_permission(&mut tx, snapshot_id, grant.grantee()).await?;
    }
    tx.commit().await?;
    Ok(Xml::return_true())
}

pub struct DescribeSnapshotAttributeInput {
    pub snapshot_id: String,
    pub attribute: SnapshotAttribute,
}

impl FromParams for DescribeSnapshotAttributeInput {
    fn from_params(p: &Params) -> Result<Self> {
        let snapshot_id = p.required("SnapshotId")?;
        let attribute = SnapshotAttribute::parse(p.required("Attribute")?)?;
        ids::check(IdKind::Snapshot, snapshot_id)?;
        Ok(DescribeSnapshotAttributeInput { snapshot_id: snapshot_id.to_string(), attribute })
    }
}

pub async fn describe_snapshot_attribute(ctx: &Ctx<'_>, input: DescribeSnapshotAttributeInput) -> Result<Xml> {
    let snapshot_id = input.snapshot_id.as_str();
    let mut conn = ctx.app.store.read().await?;
    access::own_snapshot(ctx.scope, &mut conn, snapshot_id).await?;
    ctx.check_dry_run()?;
    let mut x = Xml::new();
    x.text("snapshotId", snapshot_id);
    match input.attribute {
        SnapshotAttribute::CreateVolumePermission => {
            let permissions = snapshots::permissions(&mut conn, snapshot_id).await?;
            write_create_volume_permissions(&mut x, &permissions);
        }
        SnapshotAttribute::ProductCodes => {
            x.empty("productCodes");
        }
    }
    Ok(x)
}

/// Only `createVolumePermission` resets (to the owner alone).
pub struct ResetSnapshotAttributeInput {
    pub snapshot_id: String,
}

impl FromParams for ResetSnapshotAttributeInput {
    fn from_params(p: &Params) -> Result<Self> {
        let snapshot_id = p.required("SnapshotId")?;
        if SnapshotAttribute::parse(p.required("Attribute")?)? != SnapshotAttribute::CreateVolumePermission {
            return Err(ec2_err!(InvalidParameterValue, "The productCodes attribute of a snapshot cannot be reset."));
        }
        ids::check(IdKind::Snapshot, snapshot_id)?;
        Ok(ResetSnapshotAttributeInput { snapshot_id: snapshot_id.to_string() })
    }
}

pub async fn reset_snapshot_attribute(ctx: &Ctx<'_>, input: ResetSnapshotAttributeInput) -> Result<Xml> {
    let mut tx = ctx.app.store.write().await?;
    access::own_snapshot(ctx.scope, &mut tx, &input.snapshot_id).await?;
    ctx.check_dry_run()?;
    snapshots::reset_permissions(&mut tx, &input.snapshot_id).await?;
    tx.commit().await?;
    Ok(Xml::return_true())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SNAPSHOT: (&str, &str) = ("SnapshotId", "snap-0123456789abcdef0");

    fn modify(pairs: &[(&str, &str)]) -> Result<ModifySnapshotAttributeInput> {
        ModifySnapshotAttributeInput::from_params(&Params::from_pairs(pairs.iter().copied()))
    }

    #[test]
    fn structured_and_legacy_forms_both_grant() {
        let input = modify(&[
            SNAPSHOT,
            ("CreateVolumePermission.Add.1.UserId", "123456789012"),
            ("OperationType", "add"),
            ("UserGroup.1", "all"),
        ])
        .unwrap();
        assert_eq!(
            input.changes.add,
            vec![CreateVolumePermission::User("123456789012".into()), CreateVolumePermission::Group("all".into())]
        );
        assert!(input.changes.remove.is_empty());
        assert!(input.makes_public());
    }

    #[test]
    fn legacy_removal_is_read_with_its_operation_type() {
        let input = modify(&[SNAPSHOT, ("OperationType", "remove"), ("UserId.1", "123456789012")]).unwrap();
        assert!(input.changes.add.is_empty());
        assert_eq!(input.changes.remove, vec![CreateVolumePermission::User("123456789012".into())]);
        assert!(!input.makes_public());
    }

    #[test]
    fn modify_refusals() {
        let code = |pairs: &[(&str, &str)]| modify(pairs).err().expect("refused").code.to_string();
        let grant = ("CreateVolumePermission.Add.1.UserId", "123456789012");
        assert_eq!(code(&[grant]), "MissingParameter");
        assert_eq!(code(&[SNAPSHOT]), "MissingParameter");
        assert_eq!(code(&[SNAPSHOT, grant, ("Attribute", "productCodes")]), "InvalidParameterValue");
        assert_eq!(code(&[SNAPSHOT, grant, ("Attribute", "kernel")]), "InvalidParameterValue");
        assert_eq!(code(&[SNAPSHOT, grant, ("OperationType", "replace")]), "InvalidParameterValue");
        assert_eq!(code(&[SNAPSHOT, ("CreateVolumePermission.Add.1.UserId", "me")]), "InvalidUserID.Malformed");
        assert_eq!(code(&[SNAPSHOT, ("CreateVolumePermission.Add.1.Group", "friends")]), "InvalidParameterValue");
        assert_eq!(
            code(&[SNAPSHOT, grant, ("CreateVolumePermission.Remove.1.Group", "all")]),
            "InvalidParameterCombination"
        );
        assert_eq!(code(&[("SnapshotId", "snap-x"), grant]), "InvalidSnapshotID.Malformed");
    }

    #[test]
    fn describe_and_reset_take_known_attributes() {
        let describe = |attribute| {
            DescribeSnapshotAttributeInput::from_params(&Params::from_pairs([SNAPSHOT, ("Attribute", attribute)]))
        };
        assert_eq!(describe("productCodes").unwrap().attribute, SnapshotAttribute::ProductCodes);
        assert_eq!(describe("size").err().unwrap().code, "InvalidParameterValue");
        let reset = |attribute| {
            ResetSnapshotAttributeInput::from_params(&Params::from_pairs([SNAPSHOT, ("Attribute", attribute)]))
        };
        assert!(reset("createVolumePermission").is_ok());
        assert_eq!(reset("productCodes").err().unwrap().code, "InvalidParameterValue");
        let missing = ResetSnapshotAttributeInput::from_params(&Params::from_pairs([SNAPSHOT])).err().unwrap();
        assert_eq!(missing.code, "MissingParameter");
    }
}
