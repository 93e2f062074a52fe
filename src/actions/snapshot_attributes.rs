//! ModifySnapshotAttribute, DescribeSnapshotAttribute, ResetSnapshotAttribute: who may
//! create volumes from a snapshot (`createVolumePermission`).

use super::Ctx;
use crate::domain::ids::{self};
use crate::domain::snapshot::CreateVolumePermission;
use crate::ec2_err;
use crate::error::{Ec2Error, Result};
use crate::store::snapshots;
use crate::wire::params::Params;
use crate::wire::xml::Xml;

fn check_attribute(attribute: &str) -> Result<()> {
    match attribute {
        "createVolumePermission" | "productCodes" => Ok(()),
        other => Err(ec2_err!(InvalidParameterValue, "Value ({other}) for parameter attribute is invalid.")),
    }
}

/// Grants from `CreateVolumePermission.{Add|Remove}.N.*` plus, for the legacy form,
/// `UserId.N` / `UserGroup.N` when `OperationType` is `op` (`add` or `remove`).
fn grants(p: &Params, op: &str) -> Result<Vec<CreateVolumePermission>> {
    let mut grants = Vec::new();
    let member = if op == "add" { "Add" } else { "Remove" };
    for item in p.structs(&format!("CreateVolumePermission.{member}"))? {
        if let Some(user) = item.str("UserId") {
            grants.push(CreateVolumePermission::User(user.to_string()));
        }
        if let Some(group) = item.str("Group") {
            grants.push(CreateVolumePermission::Group(group.to_string()));
        }
    }
    if p.str("OperationType").is_some_and(|o| o.eq_ignore_ascii_case(op)) {
        grants.extend(p.list("UserId")?.into_iter().map(CreateVolumePermission::User));
        grants.extend(p.list("UserGroup")?.into_iter().map(CreateVolumePermission::Group));
    }
    for grant in &grants {
        match grant {
            CreateVolumePermission::User(v) if !ids::is_account_id(v) => return Err(Ec2Error::malformed_user(v)),
            CreateVolumePermission::Group(v) if v != "all" => {
                return Err(ec2_err!(InvalidParameterValue, "Value ({v}) for parameter group is invalid."))
            }
            _ => {}
        }
    }
    Ok(grants)
}

/// Read by the handler until this action has a typed input.
pub type ModifySnapshotAttributeInput = Params;

pub async fn modify_snapshot_attribute(ctx: &Ctx<'_>, p: ModifySnapshotAttributeInput) -> Result<Xml> {
    let p = &p;
    let snapshot_id = p.required("SnapshotId")?;
    if let Some(attribute) = p.str("Attribute") {
        check_attribute(attribute)?;
        if attribute == "productCodes" {
            return Err(ec2_err!(
                InvalidParameterValue,
                "The productCodes attribute of a snapshot cannot be modified."
            ));
        }
    }
    if let Some(op) = p.str("OperationType") {
        if op != "add" && op != "remove" {
            return Err(ec2_err!(InvalidParameterValue, "Value ({op}) for parameter operationType is invalid."));
        }
    }
    let added = grants(p, "add")?;
    let removed = grants(p, "remove")?;
    if added.is_empty() && removed.is_empty() {
        return Err(Ec2Error::missing_parameter("CreateVolumePermission"));
    }
    if !added.is_empty() && !removed.is_empty() {
        return Err(ec2_err!(
            InvalidParameterCombination,
            "A single request can either add or remove create volume permissions, not both."
        ));
    }
    let mut tx = ctx.app.store.write().await?;
    let snapshot = crate::access::own_snapshot(ctx.scope, &mut tx, snapshot_id).await?;
    if added.iter().any(|g| matches!(g, CreateVolumePermission::Group(_))) {
        if snapshot.encrypted {
            return Err(ec2_err!(InvalidParameterValue, "Encrypted snapshots cannot be made public."));
        }
        if crate::store::settings::snapshot_block_public_access(&mut tx, ctx.scope.account, ctx.scope.region).await?
            != "unblocked"
        {
            return Err(Ec2Error::snapshot_sharing_blocked());
        }
    }
    ctx.check_dry_run()?;
    for grant in &added {
        snapshots::add_permission(&mut tx, snapshot_id, grant.grantee(), ctx.now).await?;
    }
    for grant in &removed {
        snapshots::remove_permission(&mut tx, snapshot_id, grant.grantee()).await?;
    }
    tx.commit().await?;
    Ok(Xml::return_true())
}

/// Read by the handler until this action has a typed input.
pub type DescribeSnapshotAttributeInput = Params;

pub async fn describe_snapshot_attribute(ctx: &Ctx<'_>, p: DescribeSnapshotAttributeInput) -> Result<Xml> {
    let p = &p;
    let snapshot_id = p.required("SnapshotId")?;
    let attribute = p.required("Attribute")?;
    check_attribute(attribute)?;
    let mut conn = ctx.app.store.read().await?;
    crate::access::own_snapshot(ctx.scope, &mut conn, snapshot_id).await?;
    ctx.check_dry_run()?;
    let mut x = Xml::new();
    x.text("snapshotId", snapshot_id);
    if attribute == "createVolumePermission" {
        let permissions = snapshots::permissions(&mut conn, snapshot_id).await?;
        write_permissions(&mut x, &permissions);
    } else {
        x.empty("productCodes");
    }
    Ok(x)
}

pub fn write_permissions(x: &mut Xml, permissions: &[CreateVolumePermission]) {
    x.list("createVolumePermission", permissions, |x, g| match g {
        CreateVolumePermission::User(id) => {
            x.text("userId", id);
        }
        CreateVolumePermission::Group(group) => {
            x.text("group", group);
        }
    });
}

/// Read by the handler until this action has a typed input.
pub type ResetSnapshotAttributeInput = Params;

pub async fn reset_snapshot_attribute(ctx: &Ctx<'_>, p: ResetSnapshotAttributeInput) -> Result<Xml> {
    let p = &p;
    let snapshot_id = p.required("SnapshotId")?;
    let attribute = p.required("Attribute")?;
    check_attribute(attribute)?;
    if attribute != "createVolumePermission" {
        return Err(ec2_err!(InvalidParameterValue, "The productCodes attribute of a snapshot cannot be reset."));
    }
    let mut tx = ctx.app.store.write().await?;
    crate::access::own_snapshot(ctx.scope, &mut tx, snapshot_id).await?;
    ctx.check_dry_run()?;
    snapshots::reset_permissions(&mut tx, snapshot_id).await?;
    tx.commit().await?;
    Ok(Xml::return_true())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn golden_create_volume_permissions() {
        let mut x = Xml::new();
        write_permissions(
            &mut x,
            &[CreateVolumePermission::User("123456789012".into()), CreateVolumePermission::Group("all".into())],
        );
        assert_eq!(
            x.as_str(),
            "<createVolumePermission><item><userId>123456789012</userId></item><item><group>all</group></item></createVolumePermission>"
        );
    }

    #[test]
    fn structured_and_legacy_forms_both_grant() {
        let p = Params::from_pairs([
            ("CreateVolumePermission.Add.1.UserId", "123456789012"),
            ("OperationType", "add"),
            ("UserGroup.1", "all"),
        ]);
        assert_eq!(
            grants(&p, "add").unwrap(),
            vec![CreateVolumePermission::User("123456789012".into()), CreateVolumePermission::Group("all".into())]
        );
        assert!(grants(&p, "remove").unwrap().is_empty());
    }
}
