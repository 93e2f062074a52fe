//! The request parsers every action shares: filters, tags and tag specifications,
//! pages and their tokens, block-device mappings. Each reads EC2's query serialization
//! into a typed value, so a handler never sees the raw parameters.

use crate::domain::filter::Filter;
use crate::domain::ids::{self, IdKind};
use crate::domain::image::{check_enum, BlockDeviceMapping, EbsBlockDevice};
use crate::domain::network::security_group::GroupRef;
use crate::domain::tags::{self as tag_rules, Tag, TagSpec};
use crate::domain::volume::VOLUME_TYPES;
use crate::ec2_err;
use crate::error::{Ec2Error, Result};
use crate::store::filters::Page;
use crate::wire::params::{Nested, Params};
use crate::wire::xml::Xml;

/// `Filter.N.Name` / `Filter.N.Value.M` (or `Filters.N...` for the import-task calls),
/// within EC2's limits on filters.
pub fn parse_filters(p: &Params, prefix: &str) -> Result<Vec<Filter>> {
    let filters = p
        .structs(prefix)?
        .into_iter()
        .map(|f| {
            let name = f.str("Name").ok_or_else(|| {
                ec2_err!(InvalidParameterValue, "The filter name in {}.Name must be specified", f.prefix())
            })?;
            Ok(Filter { name: name.to_string(), values: f.list("Value")? })
        })
        .collect::<Result<Vec<_>>>()?;
    crate::domain::filter::check_limits(&filters)?;
    Ok(filters)
}

/// Refuses a filter name not in `known`, for resources filtered in memory: the refusal
/// `filter_in_memory` gives, found while parsing.
pub fn check_filter_names(filters: &[Filter], known: &[&str]) -> Result<()> {
    crate::domain::filter::filter_in_memory(Vec::<()>::new(), filters, known, |_, _| Vec::new()).map(|_| ())
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
                ec2_err!(InvalidParameterValue, "A resource type must be specified in {}.", spec.prefix())
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
                InvalidParameterCombination,
                "The parameter {ids_element} cannot be used with the parameter maxResults"
            ));
        }
        if n < min {
            return Err(ec2_err!(
                InvalidParameterValue,
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
    let invalid = || ec2_err!(InvalidPaginationToken, "The pagination token '{token}' is invalid.");
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

/// A security group named by `id_key` (an `sg-` id) or, failing that, by `name_key`.
pub fn parse_group_ref(p: &Params, id_key: &str, name_key: &str) -> Result<GroupRef> {
    match (p.str(id_key), p.str(name_key)) {
        (Some(id), _) => {
            ids::check(IdKind::SecurityGroup, id)?;
            Ok(GroupRef::Id(id.to_string()))
        }
        (None, Some(name)) => Ok(GroupRef::Name(name.to_string())),
        (None, None) => Err(ec2_err!(MissingParameter, "The request must contain the parameter groupName or groupId")),
    }
}

/// Lists of distinct values keep their first occurrence.
pub fn dedup(values: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    values.into_iter().filter(|v| seen.insert(v.clone())).collect()
}

/// `BlockDeviceMapping.N.*` as sent; checked against the snapshots by the action.
pub fn parse_block_device_mappings(p: &Params) -> Result<Vec<BlockDeviceMapping>> {
    let mut mappings: Vec<BlockDeviceMapping> = Vec::new();
    for m in p.structs("BlockDeviceMapping")? {
        let device_name =
            m.str("DeviceName").ok_or_else(|| Ec2Error::missing_parameter(&format!("{}.DeviceName", m.prefix())))?;
        if mappings.iter().any(|other| other.device_name == device_name) {
            return Err(ec2_err!(
                InvalidBlockDeviceMapping,
                "The device '{device_name}' is used in more than one block-device mapping"
            ));
        }
        let ebs = if m.has("Ebs") { Some(parse_ebs(&m.nested("Ebs"))?) } else { None };
        mappings.push(BlockDeviceMapping {
            device_name: device_name.to_string(),
            virtual_name: m.str("VirtualName").map(str::to_string),
            no_device: m.has("NoDevice"),
            ebs,
        });
    }
    Ok(mappings)
}

fn parse_ebs(ebs: &Nested<'_>) -> Result<EbsBlockDevice> {
    let volume_type = ebs.str("VolumeType");
    if let Some(t) = volume_type {
        check_enum("VolumeType", t, VOLUME_TYPES)?;
    }
    let snapshot_id = ebs.str("SnapshotId");
    if let Some(id) = snapshot_id {
        ids::check(IdKind::Snapshot, id)?;
    }
    Ok(EbsBlockDevice {
        snapshot_id: snapshot_id.map(str::to_string),
        volume_size: ebs.int("VolumeSize")?,
        volume_type: volume_type.map(str::to_string),
        delete_on_termination: ebs.bool("DeleteOnTermination")?,
        iops: ebs.int("Iops")?,
        throughput: ebs.int("Throughput")?,
        encrypted: ebs.bool("Encrypted")?,
        kms_key_id: ebs.str("KmsKeyId").map(str::to_string),
    })
}

/// One `Owner.N` of DescribeImages or DescribeSnapshots. `self` stays unresolved here:
/// only the handler knows who the caller is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OwnerSpec {
    Caller,
    Account(String),
    Alias(String),
}

impl OwnerSpec {
    /// The owner as the store takes it, built by `account` or `alias` (each store's
    /// query has its own owner type).
    pub fn resolve<O>(&self, caller: &str, account: impl FnOnce(String) -> O, alias: impl FnOnce(String) -> O) -> O {
        match self {
            OwnerSpec::Caller => account(caller.to_string()),
            OwnerSpec::Account(id) => account(id.clone()),
            OwnerSpec::Alias(name) => alias(name.clone()),
        }
    }
}

/// `Owner.N`: `self`, an account id, or an owner alias.
pub fn parse_owners(p: &Params) -> Result<Vec<OwnerSpec>> {
    p.list("Owner")?
        .into_iter()
        .map(|value| match value.as_str() {
            "self" => Ok(OwnerSpec::Caller),
            "amazon" | "aws-marketplace" | "aws-backup-vault" => Ok(OwnerSpec::Alias(value)),
            v if ids::is_account_id(v) => Ok(OwnerSpec::Account(value)),
            v => Err(Ec2Error::malformed_user(v)),
        })
        .collect()
}

use crate::domain::image::LaunchPermission;

/// The launch permissions one ModifyImageAttribute call grants and takes away, each
/// list validated, sorted and without repeats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaunchPermissionChanges {
    pub add: Vec<LaunchPermission>,
    pub remove: Vec<LaunchPermission>,
}

/// The legacy form's lists of grantees, all taken by `OperationType`.
const LEGACY_LAUNCH_PERMISSION_LISTS: [&str; 4] = ["UserId", "UserGroup", "OrganizationArn", "OrganizationalUnitArn"];

/// Whether the request carries launch-permission grants in either form.
pub fn has_launch_permission_grants(p: &Params) -> bool {
    p.has("LaunchPermission") || LEGACY_LAUNCH_PERMISSION_LISTS.iter().any(|l| p.has(l))
}

/// Launch-permission grants in both forms real tools send, often mixed: the
/// structured `LaunchPermission.{Add|Remove}.N.*` and the legacy `UserId.N`,
/// `UserGroup.N`, ... with `OperationType`.
pub fn parse_launch_permission_changes(p: &Params) -> Result<LaunchPermissionChanges> {
    let mut add = structured_launch_permissions(p, "Add")?;
    let mut remove = structured_launch_permissions(p, "Remove")?;
    let legacy = legacy_launch_permissions(p)?;
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
    Ok(LaunchPermissionChanges { add, remove })
}

fn structured_launch_permissions(p: &Params, operation: &str) -> Result<Vec<LaunchPermission>> {
    let mut grants = Vec::new();
    for item in p.structs(&format!("LaunchPermission.{operation}"))? {
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

fn legacy_launch_permissions(p: &Params) -> Result<Vec<LaunchPermission>> {
    let [users, groups, organizations, units] = LEGACY_LAUNCH_PERMISSION_LISTS;
    let mut grants: Vec<LaunchPermission> = p.list(users)?.into_iter().map(LaunchPermission::User).collect();
    grants.extend(p.list(groups)?.into_iter().map(LaunchPermission::Group));
    grants.extend(p.list(organizations)?.into_iter().map(LaunchPermission::Organization));
    grants.extend(p.list(units)?.into_iter().map(LaunchPermission::OrganizationalUnit));
    Ok(grants)
}

use crate::domain::snapshot::CreateVolumePermission;

/// The create-volume permissions one ModifySnapshotAttribute call grants and takes away.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateVolumePermissionChanges {
    pub add: Vec<CreateVolumePermission>,
    pub remove: Vec<CreateVolumePermission>,
}

/// Create-volume permissions in both forms: the structured
/// `CreateVolumePermission.{Add|Remove}.N.*` and the legacy `UserId.N` / `UserGroup.N`
/// with `OperationType`. Grantees are account ids or the group `all`.
pub fn parse_create_volume_permission_changes(p: &Params) -> Result<CreateVolumePermissionChanges> {
    if let Some(op) = p.str("OperationType") {
        if op != "add" && op != "remove" {
            return Err(ec2_err!(InvalidParameterValue, "Value ({op}) for parameter operationType is invalid."));
        }
    }
    Ok(CreateVolumePermissionChanges {
        add: create_volume_permissions(p, "add")?,
        remove: create_volume_permissions(p, "remove")?,
    })
}

/// The grants of one operation (`add` or `remove`) in either form.
fn create_volume_permissions(p: &Params, operation: &str) -> Result<Vec<CreateVolumePermission>> {
    let mut grants = Vec::new();
    let member = if operation == "add" { "Add" } else { "Remove" };
    for item in p.structs(&format!("CreateVolumePermission.{member}"))? {
        if let Some(user) = item.str("UserId") {
            grants.push(CreateVolumePermission::User(user.to_string()));
        }
        if let Some(group) = item.str("Group") {
            grants.push(CreateVolumePermission::Group(group.to_string()));
        }
    }
    if p.str("OperationType") == Some(operation) {
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
}
