//! CreateTags, DeleteTags, DescribeTags.

use super::Ctx;
use crate::domain::ids::{self, IdKind};
use crate::domain::image::state as image_state;
use crate::domain::tags as tag_rules;
use crate::ec2_err;
use crate::error::{Ec2Error, Result};
use crate::store::tags::TagDescription;
use crate::store::{images, snapshots, tags, volumes, Conn};
use crate::wire::params::Params;
use crate::wire::query::{dedup, parse_filters, parse_page, parse_tags, write_next_token};
use crate::wire::xml::Xml;

/// The resource type of an id the caller may tag, or the error EC2 gives for it.
async fn taggable(ctx: &Ctx<'_>, conn: &mut Conn, resource_id: &str) -> Result<&'static str> {
    let kind = IdKind::of(resource_id).ok_or_else(|| ec2_err!(InvalidID, "The ID '{resource_id}' is not valid"))?;
    ids::check(kind, resource_id)?;
    let exists = match kind {
        IdKind::Image | IdKind::Kernel | IdKind::Ramdisk => {
            images::find_visible(conn, ctx.scope.account, ctx.scope.region, resource_id)
                .await?
                .is_some_and(|i| i.state != image_state::DEREGISTERED)
        }
        IdKind::Snapshot => {
            snapshots::find_visible(conn, ctx.scope.account, ctx.scope.region, resource_id).await?.is_some()
        }
        IdKind::Volume => volumes::find_owned(conn, ctx.scope.account, ctx.scope.region, resource_id).await?.is_some(),
        IdKind::Instance => {
            crate::store::instances::find_owned(conn, ctx.scope.account, ctx.scope.region, resource_id).await?.is_some()
        }
        IdKind::KeyPair => {
            crate::store::key_pairs::find(conn, ctx.scope.account, ctx.scope.region, None, Some(resource_id))
                .await?
                .is_some()
        }
        IdKind::Reservation | IdKind::Subnet | IdKind::SecurityGroup | IdKind::Vpc => {
            return Err(ec2_err!(
                InvalidParameterValue,
                "ec2lite does not keep tags on '{}' resources ({resource_id})",
                kind.resource_type()
            ))
        }
    };
    if !exists {
        return Err(match kind {
            IdKind::Image | IdKind::Kernel | IdKind::Ramdisk => Ec2Error::image_not_found(&[resource_id]),
            IdKind::Snapshot => Ec2Error::snapshot_not_found(resource_id),
            IdKind::Volume => ec2_err!(InvalidVolume_NotFound, "The volume '{resource_id}' does not exist."),
            IdKind::KeyPair => Ec2Error::key_pair_not_found(resource_id),
            _ => Ec2Error::instance_not_found(&[resource_id]),
        });
    }
    Ok(kind.resource_type())
}

fn resource_ids(p: &Params) -> Result<Vec<String>> {
    let ids = dedup(p.list("ResourceId")?);
    if ids.is_empty() {
        return Err(Ec2Error::missing_parameter("ResourceId"));
    }
    Ok(ids)
}

/// Read by the handler until this action has a typed input.
pub type CreateTagsInput = Params;

pub async fn create_tags(ctx: &Ctx<'_>, p: CreateTagsInput) -> Result<Xml> {
    let p = &p;
    let resource_ids = resource_ids(p)?;
    let new_tags = parse_tags(p, "Tag")?;
    if new_tags.is_empty() {
        return Err(Ec2Error::missing_parameter("Tag"));
    }
    let mut tx = ctx.app.store.write().await?;
    let mut targets = Vec::with_capacity(resource_ids.len());
    for id in &resource_ids {
        let resource_type = taggable(ctx, &mut tx, id).await?;
        tag_rules::check_count(tags::count_after_upsert(&mut tx, ctx.scope.account, id, &new_tags).await?)?;
        targets.push((id, resource_type));
    }
    ctx.check_dry_run()?;
    for (id, resource_type) in targets {
        tags::upsert(&mut tx, ctx.scope.account, ctx.scope.region, id, resource_type, &new_tags, ctx.now).await?;
    }
    tx.commit().await?;
    Ok(Xml::return_true())
}

/// Read by the handler until this action has a typed input.
pub type DeleteTagsInput = Params;

pub async fn delete_tags(ctx: &Ctx<'_>, p: DeleteTagsInput) -> Result<Xml> {
    let p = &p;
    let resource_ids = resource_ids(p)?;
    // A tag without `Value` deletes the key whatever its value; `Value=` only an empty one.
    let mut doomed: Vec<(String, Option<String>)> = Vec::new();
    for t in p.structs("Tag")? {
        let key = t.raw("Key").unwrap_or_default();
        if key.to_ascii_lowercase().starts_with("aws:") {
            return Err(ec2_err!(InvalidParameterValue, "Tag keys starting with 'aws:' are reserved for internal use"));
        }
        doomed.push((key.to_string(), t.raw("Value").map(str::to_string)));
    }
    let mut tx = ctx.app.store.write().await?;
    for id in &resource_ids {
        taggable(ctx, &mut tx, id).await?;
    }
    ctx.check_dry_run()?;
    for id in &resource_ids {
        if doomed.is_empty() {
            tags::delete(&mut tx, ctx.scope.account, id, None, None).await?;
        }
        for (key, value) in &doomed {
            tags::delete(&mut tx, ctx.scope.account, id, Some(key), value.as_deref()).await?;
        }
    }
    tx.commit().await?;
    Ok(Xml::return_true())
}

/// Read by the handler until this action has a typed input.
pub type DescribeTagsInput = Params;

pub async fn describe_tags(ctx: &Ctx<'_>, p: DescribeTagsInput) -> Result<Xml> {
    let p = &p;
    let filters = parse_filters(p, "Filter")?;
    tags::FILTERS.validate(&filters)?;
    let page = parse_page(p, false, "", 5, 1000)?;
    ctx.check_dry_run()?;
    let mut conn = ctx.app.store.read().await?;
    let (found, next) = tags::describe(&mut conn, ctx.scope.account, ctx.scope.region, &filters, &page).await?;
    let mut x = Xml::new();
    write_tag_descriptions(&mut x, &found);
    write_next_token(&mut x, next);
    Ok(x)
}

pub fn write_tag_descriptions(x: &mut Xml, found: &[TagDescription]) {
    x.list("tagSet", found, |x, t| {
        x.text("resourceId", &t.resource_id)
            .text("resourceType", &t.resource_type)
            .text("key", &t.key)
            .text("value", &t.value);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn golden_tag_descriptions() {
        let mut x = Xml::new();
        write_tag_descriptions(
            &mut x,
            &[TagDescription {
                resource_id: "ami-12345678".into(),
                resource_type: "image".into(),
                key: "k".into(),
                value: "v".into(),
            }],
        );
        assert_eq!(
            x.as_str(),
            "<tagSet><item><resourceId>ami-12345678</resourceId><resourceType>image</resourceType><key>k</key><value>v</value></item></tagSet>"
        );
    }
}
