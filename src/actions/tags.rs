//! CreateTags, DeleteTags, DescribeTags.

use super::{Ctx, FromParams};
use crate::access;
use crate::domain::filter::Filter;
use crate::domain::ids::{self, IdKind};
use crate::domain::lifecycle::ImageState;

use crate::domain::tags::{self as tag_rules, Tag};
use crate::ec2_err;
use crate::error::{Ec2Error, Result};
use crate::store::filters::Page;
use crate::store::{images, key_pairs, network, tags, Exec};
use crate::wire::params::Params;
use crate::wire::query::{dedup, parse_filters, parse_page, parse_tags, write_next_token};
use crate::wire::shapes::tag::write_tag_descriptions;
use crate::wire::xml::Xml;

/// The kinds of resources ec2lite keeps tags on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetKind {
    /// Machine, kernel and ramdisk images alike.
    Image,
    Snapshot,
    Volume,
    Instance,
    KeyPair,
    /// VPCs, subnets, security groups, gateways, route tables, interfaces, addresses
    /// (and launch templates: owned, per region, looked up by `network::exists_owned`).
    Network(IdKind),
}

impl TargetKind {
    fn resource_type(self) -> &'static str {
        match self {
            TargetKind::Image => IdKind::Image.resource_type(),
            TargetKind::Snapshot => IdKind::Snapshot.resource_type(),
            TargetKind::Volume => IdKind::Volume.resource_type(),
            TargetKind::Instance => IdKind::Instance.resource_type(),
            TargetKind::KeyPair => IdKind::KeyPair.resource_type(),
            TargetKind::Network(kind) => kind.resource_type(),
        }
    }
}

/// A resource whose tags a call changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagTarget {
    pub id: String,
    pub kind: TargetKind,
}

/// `ResourceId.N`, required, without repeats.
fn parse_resource_ids(p: &Params) -> Result<Vec<String>> {
    let ids = dedup(p.list("ResourceId")?);
    if ids.is_empty() {
        return Err(Ec2Error::missing_parameter("ResourceId"));
    }
    Ok(ids)
}

/// What each id names, by its prefix: a well-formed id of a kind ec2lite tags.
fn tag_targets(resource_ids: Vec<String>) -> Result<Vec<TagTarget>> {
    resource_ids
        .into_iter()
        .map(|id| {
            let id_kind = IdKind::of(&id).ok_or_else(|| ec2_err!(InvalidID, "The ID '{id}' is not valid"))?;
            ids::check(id_kind, &id)?;
            let kind = match id_kind {
                IdKind::Image | IdKind::Kernel | IdKind::Ramdisk => TargetKind::Image,
                IdKind::Snapshot => TargetKind::Snapshot,
                IdKind::Volume => TargetKind::Volume,
                IdKind::Instance => TargetKind::Instance,
                IdKind::KeyPair => TargetKind::KeyPair,
                IdKind::Vpc
                | IdKind::Subnet
                | IdKind::SecurityGroup
                | IdKind::InternetGateway
                | IdKind::RouteTable
                | IdKind::NetworkAcl
                | IdKind::NetworkInterface
                | IdKind::ElasticIp
                | IdKind::SecurityGroupRule
                | IdKind::DhcpOptions
                | IdKind::LaunchTemplate => TargetKind::Network(id_kind),
                IdKind::Reservation => {
                    return Err(ec2_err!(
                        InvalidParameterValue,
                        "ec2lite does not keep tags on '{}' resources ({id})",
                        id_kind.resource_type()
                    ))
                }
            };
            Ok(TagTarget { id, kind })
        })
        .collect()
}

/// Checks the caller may tag `target`: an image, snapshot it sees (deregistered images
/// aside), or a volume, instance, key pair of its own.
async fn check_taggable(ctx: &Ctx<'_>, conn: &mut impl Exec, target: &TagTarget) -> Result<()> {
    let (scope, id) = (ctx.scope, target.id.as_str());
    match target.kind {
        TargetKind::Image => {
            // Kernel and ramdisk ids too, so not through `access::visible_image`.
            let image = images::find_visible(conn, scope.account, scope.region, id).await?;
            if image.is_none_or(|i| i.state == ImageState::Deregistered) {
                return Err(Ec2Error::image_not_found(&[id]));
            }
        }
        TargetKind::Snapshot => {
            access::visible_snapshot(scope, conn, id).await?;
        }
        TargetKind::Volume => {
            access::own_volume(scope, conn, id).await?;
        }
        TargetKind::Instance => {
            access::own_instance(scope, conn, id).await?;
        }
        TargetKind::Network(kind) => {
            if !network::exists_owned(conn, scope.account, scope.region, kind, id).await? {
                return Err(network::not_found(kind, id));
            }
        }
        TargetKind::KeyPair => {
            if !key_pairs::exists(conn, scope.account, scope.region, id).await? {
                return Err(Ec2Error::key_pair_not_found(id));
            }
        }
    }
    Ok(())
}

pub struct CreateTagsInput {
    pub targets: Vec<TagTarget>,
    pub tags: Vec<Tag>,
}

impl FromParams for CreateTagsInput {
    fn from_params(p: &Params) -> Result<Self> {
        let resource_ids = parse_resource_ids(p)?;
        let tags = parse_tags(p, "Tag")?;
        if tags.is_empty() {
            return Err(Ec2Error::missing_parameter("Tag"));
        }
        Ok(CreateTagsInput { targets: tag_targets(resource_ids)?, tags })
    }
}

pub async fn create_tags(ctx: &Ctx<'_>, input: CreateTagsInput) -> Result<Xml> {
    let (account, region) = (ctx.scope.account, ctx.scope.region);
    let mut tx = ctx.app.store.write_now().await?;
    for target in &input.targets {
        check_taggable(ctx, &mut tx, target).await?;
        tag_rules::check_count(tags::count_after_upsert(&mut tx, account, &target.id, &input.tags).await?)?;
    }
    ctx.check_dry_run()?;
    for target in &input.targets {
        tags::upsert(&mut tx, account, region, &target.id, target.kind.resource_type(), &input.tags, ctx.now).await?;
    }
    tx.commit()?;
    Ok(Xml::return_true())
}

/// A tag DeleteTags removes: without a value whatever its value is, with `Value=`
/// only when its value is empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagToDelete {
    pub key: String,
    pub value: Option<String>,
}

pub struct DeleteTagsInput {
    pub targets: Vec<TagTarget>,
    /// No tags: every tag of the targets goes.
    pub tags: Vec<TagToDelete>,
}

impl FromParams for DeleteTagsInput {
    fn from_params(p: &Params) -> Result<Self> {
        let resource_ids = parse_resource_ids(p)?;
        let mut tags = Vec::new();
        for t in p.structs("Tag")? {
            let key = t.raw("Key").unwrap_or_default();
            if key.to_ascii_lowercase().starts_with("aws:") {
                return Err(ec2_err!(
                    InvalidParameterValue,
                    "Tag keys starting with 'aws:' are reserved for internal use"
                ));
            }
            tags.push(TagToDelete { key: key.to_string(), value: t.raw("Value").map(str::to_string) });
        }
        Ok(DeleteTagsInput { targets: tag_targets(resource_ids)?, tags })
    }
}

pub async fn delete_tags(ctx: &Ctx<'_>, input: DeleteTagsInput) -> Result<Xml> {
    let account = ctx.scope.account;
    let mut tx = ctx.app.store.write_now().await?;
    for target in &input.targets {
        check_taggable(ctx, &mut tx, target).await?;
    }
    ctx.check_dry_run()?;
    for target in &input.targets {
        if input.tags.is_empty() {
            tags::delete(&mut tx, account, &target.id, None, None).await?;
        }
        for tag in &input.tags {
            tags::delete(&mut tx, account, &target.id, Some(&tag.key), tag.value.as_deref()).await?;
        }
    }
    tx.commit()?;
    Ok(Xml::return_true())
}

pub struct DescribeTagsInput {
    pub filters: Vec<Filter>,
    pub page: Page,
}

impl FromParams for DescribeTagsInput {
    fn from_params(p: &Params) -> Result<Self> {
        let filters = parse_filters(p, "Filter")?;
        tags::FILTERS.validate(&filters)?;
        let page = parse_page(p, false, "", 5, 1000)?;
        Ok(DescribeTagsInput { filters, page })
    }
}

pub async fn describe_tags(ctx: &Ctx<'_>, input: DescribeTagsInput) -> Result<Xml> {
    ctx.check_dry_run()?;
    let mut conn = ctx.app.store.read().await?;
    let (found, next) =
        tags::describe(&mut conn, ctx.scope.account, ctx.scope.region, &input.filters, &input.page).await?;
    let mut x = Xml::new();
    write_tag_descriptions(&mut x, &found);
    write_next_token(&mut x, next);
    Ok(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn create_tags_reads_targets_of_every_taggable_kind() {
        let input = CreateTagsInput::from_params(&params(&[
            ("ResourceId.1", "ami-12345678"),
            ("ResourceId.2", "aki-12345678"),
            ("ResourceId.3", "snap-0123456789abcdef0"),
            ("ResourceId.4", "ami-12345678"),
            ("Tag.1.Key", "Name"),
            ("Tag.1.Value", "web"),
        ]))
        .unwrap();
        let kinds: Vec<TargetKind> = input.targets.iter().map(|t| t.kind).collect();
        assert_eq!(kinds, [TargetKind::Image, TargetKind::Image, TargetKind::Snapshot]);
        assert_eq!(input.tags, [Tag { key: "Name".into(), value: "web".into() }]);
    }

    #[test]
    fn create_tags_refusals() {
        let code = |pairs: &[(&str, &str)]| CreateTagsInput::from_params(&params(pairs)).err().unwrap().code;
        let tag = ("Tag.1.Key", "k");
        assert_eq!(code(&[tag]), "MissingParameter");
        assert_eq!(code(&[("ResourceId.1", "ami-12345678")]), "MissingParameter");
        assert_eq!(code(&[("ResourceId.1", "thing-1"), tag]), "InvalidID");
        assert_eq!(code(&[("ResourceId.1", "ami-xyz"), tag]), "InvalidAMIID.Malformed");
        assert_eq!(code(&[("ResourceId.1", "r-12345678"), tag]), "InvalidParameterValue");
        assert_eq!(code(&[("ResourceId.1", "ami-12345678"), ("Tag.1.Key", "aws:x")]), "InvalidParameterValue");
    }

    #[test]
    fn delete_tags_tell_a_missing_value_from_an_empty_one() {
        let input = DeleteTagsInput::from_params(&params(&[
            ("ResourceId.1", "vol-0123456789abcdef0"),
            ("Tag.1.Key", "a"),
            ("Tag.2.Key", "b"),
            ("Tag.2.Value", ""),
        ]))
        .unwrap();
        assert_eq!(input.targets[0].kind, TargetKind::Volume);
        assert_eq!(
            input.tags,
            [TagToDelete { key: "a".into(), value: None }, TagToDelete { key: "b".into(), value: Some(String::new()) }]
        );
        let reserved = params(&[("ResourceId.1", "vol-0123456789abcdef0"), ("Tag.1.Key", "AWS:name")]);
        assert_eq!(DeleteTagsInput::from_params(&reserved).err().unwrap().code, "InvalidParameterValue");
    }

    #[test]
    fn describe_tags_checks_filter_names() {
        let ok = params(&[("Filter.1.Name", "key"), ("Filter.1.Value.1", "Name"), ("MaxResults", "10")]);
        assert_eq!(DescribeTagsInput::from_params(&ok).unwrap().page.limit, Some(10));
        let bad = params(&[("Filter.1.Name", "colour"), ("Filter.1.Value.1", "red")]);
        assert_eq!(DescribeTagsInput::from_params(&bad).err().unwrap().code, "InvalidParameterValue");
    }
}
