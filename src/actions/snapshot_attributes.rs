//! ModifySnapshotAttribute, DescribeSnapshotAttribute, ResetSnapshotAttribute: who may
//! create volumes from a snapshot (`createVolumePermission`).

use super::snapshots::{malformed_user, not_found, not_owner};
use super::volumes::return_true;
use super::Ctx;
use crate::domain::ids::{self, IdKind};
use crate::domain::snapshot::{CreateVolumePermission, Snapshot};
use crate::ec2_err;
use crate::error::{Ec2Error, Result};
use crate::store::{snapshots, Conn};
use crate::wire::params::Params;
use crate::wire::xml::Xml;

/// The caller's own snapshot, or the error EC2 gives.
async fn owned_snapshot(ctx: &Ctx<'_>, conn: &mut Conn, snapshot_id: &str) -> Result<Snapshot> {
    ids::check(IdKind::Snapshot, snapshot_id)?;
    let snapshot = snapshots::find_visible(conn, ctx.account, ctx.region, snapshot_id)
        .await?
        .ok_or_else(|| not_found(snapshot_id))?;
    if snapshot.owner_id != ctx.account {
        return Err(not_owner());
    }
    Ok(snapshot)
}

fn check_attribute(attribute: &str) -> Result<()> {
    match attribute {
        "createVolumePermission" | "productCodes" => Ok(()),
        other => Err(ec2_err!("InvalidParameterValue", "Value ({other}) for parameter attribute is invalid.")),
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
            CreateVolumePermission::User(v) if !ids::is_account_id(v) => return Err(malformed_user(v)),
            CreateVolumePermission::Group(v) if v != "all" => {
                return Err(ec2_err!("InvalidParameterValue", "Value ({v}) for parameter group is invalid."))
            }
            _ => {}
        }
    }
    Ok(grants)
}

pub async fn modify_snapshot_attribute(ctx: &Ctx<'_>, p: &Params) -> Result<Xml> {
    let snapshot_id = p.required("SnapshotId")?;
    if let Some(attribute) = p.str("Attribute") {
        check_attribute(attribute)?;
        if attribute == "productCodes" {
            return Err(ec2_err!(
                "InvalidParameterValue",
                "The productCodes attribute of a snapshot cannot be modified."
            ));
        }
    }
    if let Some(op) = p.str("OperationType") {
        if op != "add" && op != "remove" {
            return Err(ec2_err!("InvalidParameterValue", "Value ({op}) for parameter operationType is invalid."));
        }
    }
    let added = grants(p, "add")?;
    let removed = grants(p, "remove")?;
    if added.is_empty() && removed.is_empty() {
        return Err(Ec2Error::missing_parameter("CreateVolumePermission"));
    }
    if !added.is_empty() && !removed.is_empty() {
        return Err(ec2_err!(
            "InvalidParameterCombination",
            "A single request can either add or remove create volume permissions, not both."
        ));
    }
    let mut tx = ctx.app.store.write().await?;
    let snapshot = owned_snapshot(ctx, &mut tx, snapshot_id).await?;
    if added.iter().any(|g| matches!(g, CreateVolumePermission::Group(_))) {
        if snapshot.encrypted {
            return Err(ec2_err!("InvalidParameterValue", "Encrypted snapshots cannot be made public."));
        }
        if super::block_public_access::snapshot_state(&mut tx, ctx.account, ctx.region).await? != "unblocked" {
            return Err(super::block_public_access::snapshot_sharing_blocked());
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
    Ok(return_true())
}

pub async fn describe_snapshot_attribute(ctx: &Ctx<'_>, p: &Params) -> Result<Xml> {
    let snapshot_id = p.required("SnapshotId")?;
    let attribute = p.required("Attribute")?;
    check_attribute(attribute)?;
    let mut conn = ctx.app.store.read().await?;
    owned_snapshot(ctx, &mut conn, snapshot_id).await?;
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

pub async fn reset_snapshot_attribute(ctx: &Ctx<'_>, p: &Params) -> Result<Xml> {
    let snapshot_id = p.required("SnapshotId")?;
    let attribute = p.required("Attribute")?;
    check_attribute(attribute)?;
    if attribute != "createVolumePermission" {
        return Err(ec2_err!("InvalidParameterValue", "The productCodes attribute of a snapshot cannot be reset."));
    }
    let mut tx = ctx.app.store.write().await?;
    owned_snapshot(ctx, &mut tx, snapshot_id).await?;
    ctx.check_dry_run()?;
    snapshots::reset_permissions(&mut tx, snapshot_id).await?;
    tx.commit().await?;
    Ok(return_true())
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
