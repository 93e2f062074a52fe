//! The request parsers every action shares: filters, tags and tag specifications,
//! pages and their tokens, block-device mappings. Each reads EC2's query serialization
//! into a typed value, so a handler never sees the raw parameters.

use crate::domain::filter::Filter;
use crate::domain::ids::{self, IdKind};
use crate::domain::image::{check_enum, BlockDeviceMapping, EbsBlockDevice};
use crate::domain::tags::{self as tag_rules, Tag, TagSpec};
use crate::domain::volume::VOLUME_TYPES;
use crate::ec2_err;
use crate::error::{Ec2Error, Result};
use crate::store::filters::Page;
use crate::wire::params::{Nested, Params};
use crate::wire::xml::Xml;

/// `Filter.N.Name` / `Filter.N.Value.M` (or `Filters.N...` for the import-task calls).
pub fn parse_filters(p: &Params, prefix: &str) -> Result<Vec<Filter>> {
    p.structs(prefix)?
        .into_iter()
        .map(|f| {
            let name = f.str("Name").ok_or_else(|| {
                ec2_err!(InvalidParameterValue, "The filter name in {}.Name must be specified", f.prefix())
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
