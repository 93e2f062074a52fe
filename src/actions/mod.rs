//! One handler per EC2 action, grouped by resource. Each handler reads its typed input
//! from the request parameters, applies the domain rules, uses the store, and writes
//! the body of its XML answer.

pub mod block_public_access;
pub mod copy_image;
pub mod create_image;
pub mod ebs;
pub mod image_attributes;
pub mod image_lifecycle;
pub mod images;
pub mod imports;
pub mod instance_attributes;
pub mod instances;
pub mod key_pairs;
pub mod network;
pub mod regions;
pub mod snapshot_attributes;
pub mod snapshots;
pub mod tags;
pub mod volumes;

use crate::app::App;
use crate::domain::filter::Filter;
use crate::domain::tags::{self as tag_rules, Tag, TagSpec};
use crate::ec2_err;
use crate::error::{Ec2Error, Result};
use crate::store::filters::Page;
use crate::wire::params::Params;
use crate::wire::xml::Xml;

/// The request as a handler sees it.
pub struct Ctx<'a> {
    pub app: &'a App,
    pub account: &'a str,
    pub region: &'static str,
    pub now: i64,
    pub dry_run: bool,
}

impl Ctx<'_> {
    /// Call once the request has been validated and would succeed: with `DryRun` set,
    /// this is where the call stops.
    pub fn check_dry_run(&self) -> Result<()> {
        if self.dry_run {
            Err(Ec2Error::dry_run())
        } else {
            Ok(())
        }
    }
}

/// Runs the handler of `action`.
pub async fn dispatch(action: &str, ctx: &Ctx<'_>, p: &Params) -> Result<Xml> {
    match action {
        "DescribeRegions" => regions::describe_regions(ctx, p),
        "DescribeAvailabilityZones" => regions::describe_availability_zones(ctx, p),
        "CreateVolume" => volumes::create_volume(ctx, p).await,
        "DescribeVolumes" => volumes::describe_volumes(ctx, p).await,
        "DeleteVolume" => volumes::delete_volume(ctx, p).await,
        "CreateSnapshot" => snapshots::create_snapshot(ctx, p).await,
        "CreateKeyPair" => key_pairs::create_key_pair(ctx, p).await,
        "ImportKeyPair" => key_pairs::import_key_pair(ctx, p).await,
        "DescribeKeyPairs" => key_pairs::describe_key_pairs(ctx, p).await,
        "DeleteKeyPair" => key_pairs::delete_key_pair(ctx, p).await,
        "ImportSnapshot" => imports::import_snapshot(ctx, p).await,
        "ImportImage" => imports::import_image(ctx, p).await,
        "DescribeImportSnapshotTasks" => imports::describe_import_snapshot_tasks(ctx, p).await,
        "DescribeImportImageTasks" => imports::describe_import_image_tasks(ctx, p).await,
        "CancelImportTask" => imports::cancel_import_task(ctx, p).await,
        "DescribeSnapshots" => snapshots::describe_snapshots(ctx, p).await,
        "DeleteSnapshot" => snapshots::delete_snapshot(ctx, p).await,
        "CopySnapshot" => snapshots::copy_snapshot(ctx, p).await,
        "ModifySnapshotAttribute" => snapshot_attributes::modify_snapshot_attribute(ctx, p).await,
        "DescribeSnapshotAttribute" => snapshot_attributes::describe_snapshot_attribute(ctx, p).await,
        "ResetSnapshotAttribute" => snapshot_attributes::reset_snapshot_attribute(ctx, p).await,
        "RegisterImage" => images::register_image(ctx, p).await,
        "DescribeImages" => images::describe_images(ctx, p).await,
        "DeregisterImage" => images::deregister_image(ctx, p).await,
        "ModifyImageAttribute" => image_attributes::modify_image_attribute(ctx, p).await,
        "DescribeImageAttribute" => image_attributes::describe_image_attribute(ctx, p).await,
        "ResetImageAttribute" => image_attributes::reset_image_attribute(ctx, p).await,
        "EnableImageDeprecation" => image_lifecycle::enable_image_deprecation(ctx, p).await,
        "DisableImageDeprecation" => image_lifecycle::disable_image_deprecation(ctx, p).await,
        "EnableImage" => image_lifecycle::enable_image(ctx, p).await,
        "DisableImage" => image_lifecycle::disable_image(ctx, p).await,
        "EnableImageDeregistrationProtection" => image_lifecycle::enable_image_deregistration_protection(ctx, p).await,
        "DisableImageDeregistrationProtection" => {
            image_lifecycle::disable_image_deregistration_protection(ctx, p).await
        }
        "RunInstances" => instances::run_instances(ctx, p).await,
        "DescribeInstances" => instances::describe_instances(ctx, p).await,
        "StartInstances" => instances::start_instances(ctx, p).await,
        "StopInstances" => instances::stop_instances(ctx, p).await,
        "RebootInstances" => instances::reboot_instances(ctx, p).await,
        "TerminateInstances" => instances::terminate_instances(ctx, p).await,
        "DescribeInstanceStatus" => instances::describe_instance_status(ctx, p).await,
        "DescribeInstanceAttribute" => instance_attributes::describe_instance_attribute(ctx, p).await,
        "ModifyInstanceAttribute" => instance_attributes::modify_instance_attribute(ctx, p).await,
        "AttachVolume" => volumes::attach_volume(ctx, p).await,
        "DetachVolume" => volumes::detach_volume(ctx, p).await,
        "CreateImage" => create_image::create_image(ctx, p).await,
        "DescribeVpcs" => network::describe_vpcs(ctx, p),
        "DescribeSubnets" => network::describe_subnets(ctx, p),
        "DescribeSecurityGroups" => network::describe_security_groups(ctx, p),
        "CopyImage" => copy_image::copy_image(ctx, p).await,
        "EnableImageBlockPublicAccess" => block_public_access::enable_image_block_public_access(ctx, p).await,
        "DisableImageBlockPublicAccess" => block_public_access::disable_image_block_public_access(ctx, p).await,
        "GetImageBlockPublicAccessState" => block_public_access::get_image_block_public_access_state(ctx, p).await,
        "EnableSnapshotBlockPublicAccess" => block_public_access::enable_snapshot_block_public_access(ctx, p).await,
        "DisableSnapshotBlockPublicAccess" => block_public_access::disable_snapshot_block_public_access(ctx, p).await,
        "GetSnapshotBlockPublicAccessState" => {
            block_public_access::get_snapshot_block_public_access_state(ctx, p).await
        }
        "CreateTags" => tags::create_tags(ctx, p).await,
        "DeleteTags" => tags::delete_tags(ctx, p).await,
        "DescribeTags" => tags::describe_tags(ctx, p).await,
        other if is_ec2_action(other) => {
            Err(ec2_err!("UnsupportedOperation", "The action {other} is not implemented by ec2lite yet."))
        }
        other => Err(ec2_err!("InvalidAction", "The action {other} is not valid for this web service.")),
    }
}

/// Every operation of the EC2 API (botocore's `ec2/2016-11-15` model), one per line.
static EC2_ACTIONS: &str = include_str!("ec2_actions.txt");

pub fn is_ec2_action(name: &str) -> bool {
    EC2_ACTIONS.lines().any(|line| line == name)
}

/// `Filter.N.Name` / `Filter.N.Value.M` (or `Filters.N...` for the import-task calls).
pub fn parse_filters(p: &Params, prefix: &str) -> Result<Vec<Filter>> {
    p.structs(prefix)?
        .into_iter()
        .map(|f| {
            let name = f.str("Name").ok_or_else(|| {
                ec2_err!("InvalidParameterValue", "The filter name in {}.Name must be specified", f.prefix())
            })?;
            Ok(Filter { name: name.to_string(), values: f.list("Value")? })
        })
        .collect()
}

/// `Tag.N.Key` / `Tag.N.Value` under `prefix`, validated.
pub fn parse_tags(p: &Params, prefix: &str) -> Result<Vec<Tag>> {
    let tags = p
        .structs(prefix)?
        .into_iter()
        .map(|t| {
            let key = t.raw("Key").unwrap_or_default().to_string();
            let value = t.raw("Value").unwrap_or_default().to_string();
            let tag = Tag { key, value };
            tag_rules::validate(&tag)?;
            Ok(tag)
        })
        .collect::<Result<Vec<_>>>()?;
    tag_rules::check_count(tags.len())?;
    Ok(tags)
}

/// `TagSpecification.N.ResourceType` with its `Tag.M.*`.
pub fn parse_tag_specs(p: &Params) -> Result<Vec<TagSpec>> {
    p.structs("TagSpecification")?
        .into_iter()
        .map(|spec| {
            let resource_type = spec.str("ResourceType").ok_or_else(|| {
                ec2_err!("InvalidParameterValue", "A resource type must be specified in {}.", spec.prefix())
            })?;
            let tags = parse_tags(p, &format!("{}.Tag", spec.prefix()))?;
            Ok(TagSpec { resource_type: resource_type.to_string(), tags })
        })
        .collect()
}

/// The page a Describe call asks for: `MaxResults` within `[min, max]` (larger values
/// are clamped, as EC2 does), never together with explicit ids, and `NextToken`.
pub fn parse_page(p: &Params, ids_given: bool, ids_element: &str, min: i64, max: i64) -> Result<Page> {
    let limit = p.int("MaxResults")?;
    if let Some(n) = limit {
        if ids_given {
            return Err(ec2_err!(
                "InvalidParameterCombination",
                "The parameter {ids_element} cannot be used with the parameter maxResults"
            ));
        }
        if n < min {
            return Err(ec2_err!(
                "InvalidParameterValue",
                "Value ( {n} ) for parameter maxResults is invalid. Expecting a value greater than {min}."
            ));
        }
    }
    let after = p.str("NextToken").map(decode_token).transpose()?;
    Ok(Page { after, limit: limit.map(|n| n.min(max) as usize) })
}

const TOKEN_VERSION: &str = "1:";

/// Opaque page tokens: the hex of the last key returned.
pub fn encode_token(last_key: &str) -> String {
    let mut token = String::with_capacity((TOKEN_VERSION.len() + last_key.len()) * 2);
    for b in TOKEN_VERSION.bytes().chain(last_key.bytes()) {
        token.push_str(&format!("{b:02x}"));
    }
    token
}

fn decode_token(token: &str) -> Result<String> {
    let invalid = || ec2_err!("InvalidPaginationToken", "The pagination token '{token}' is invalid.");
    if !token.len().is_multiple_of(2) || !token.is_ascii() {
        return Err(invalid());
    }
    let bytes = (0..token.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&token[i..i + 2], 16))
        .collect::<std::result::Result<Vec<u8>, _>>()
        .map_err(|_| invalid())?;
    String::from_utf8(bytes).ok().and_then(|s| s.strip_prefix(TOKEN_VERSION).map(str::to_string)).ok_or_else(invalid)
}

/// `<nextToken>` when another page follows.
pub fn write_next_token(x: &mut Xml, next: Option<String>) {
    if let Some(key) = next {
        x.text("nextToken", &encode_token(&key));
    }
}

/// Lists of distinct values keep their first occurrence.
pub fn dedup(values: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    values.into_iter().filter(|v| seen.insert(v.clone())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_garbage_is_refused() {
        let token = encode_token("ami-0123456789abcdef0");
        assert_eq!(decode_token(&token).unwrap(), "ami-0123456789abcdef0");
        assert_eq!(decode_token("zz").unwrap_err().code, "InvalidPaginationToken");
        assert_eq!(decode_token("616d69").unwrap_err().code, "InvalidPaginationToken");
    }

    #[test]
    fn max_results_rules() {
        let p = Params::from_pairs([("MaxResults", "3")]);
        assert_eq!(parse_page(&p, false, "imagesSet", 5, 1000).unwrap_err().code, "InvalidParameterValue");
        let p = Params::from_pairs([("MaxResults", "5000")]);
        assert_eq!(parse_page(&p, false, "imagesSet", 5, 1000).unwrap().limit, Some(1000));
        let p = Params::from_pairs([("MaxResults", "10")]);
        assert_eq!(parse_page(&p, true, "imagesSet", 5, 1000).unwrap_err().code, "InvalidParameterCombination");
    }

    #[test]
    fn every_implemented_action_is_a_real_ec2_action() {
        for action in ["DescribeImages", "RegisterImage", "CreateTags", "DescribeAvailabilityZones", "RunInstances"] {
            assert!(is_ec2_action(action), "{action}");
        }
        assert!(!is_ec2_action("FrobnicateImages"));
    }
}
