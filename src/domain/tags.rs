//! Tag rules: 50 user tags per resource, keys of 1-128 and values of 0-256 characters,
//! and the `aws:` prefix reserved.

use crate::ec2_err;
use crate::error::Result;

pub const MAX_TAGS_PER_RESOURCE: usize = 50;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

/// Tags requested for one resource type by a create call's `TagSpecification`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagSpec {
    pub resource_type: String,
    pub tags: Vec<Tag>,
}

pub fn validate(tag: &Tag) -> Result<()> {
    if tag.key.is_empty() {
        return Err(ec2_err!(InvalidParameterValue, "Tag key cannot be empty"));
    }
    if tag.key.chars().count() > 128 {
        return Err(ec2_err!(InvalidParameterValue, "Tag key exceeds the maximum length of 128 characters"));
    }
    if tag.value.chars().count() > 256 {
        return Err(ec2_err!(InvalidParameterValue, "Tag value exceeds the maximum length of 256 characters"));
    }
    if crate::domain::text::has_control_char(&tag.key) {
        return Err(ec2_err!(InvalidParameterValue, "Tag keys may not contain control characters"));
    }
    if crate::domain::text::first_non_xml_char(&tag.value).is_some() {
        return Err(ec2_err!(
            InvalidParameterValue,
            "Tag values may not contain control characters other than tab and newline"
        ));
    }
    if tag.key.to_ascii_lowercase().starts_with("aws:") {
        return Err(ec2_err!(InvalidParameterValue, "Tag keys starting with 'aws:' are reserved for internal use"));
    }
    Ok(())
}

/// The tags of `specs` meant for `resource_type`, after checking that every spec names
/// a type the operation can tag.
pub fn for_type(specs: &[TagSpec], allowed: &[&str], resource_type: &str) -> Result<Vec<Tag>> {
    for spec in specs {
        if !allowed.contains(&spec.resource_type.as_str()) {
            return Err(ec2_err!(
                InvalidParameterValue,
                "'{}' is not a valid taggable resource type for this operation.",
                spec.resource_type
            ));
        }
    }
    let tags: Vec<Tag> =
        specs.iter().filter(|s| s.resource_type == resource_type).flat_map(|s| s.tags.iter().cloned()).collect();
    check_count(tags.len())?;
    Ok(tags)
}

pub fn check_count(count: usize) -> Result<()> {
    if count > MAX_TAGS_PER_RESOURCE {
        return Err(ec2_err!(
            TagLimitExceeded,
            "The maximum number of tags per resource ({MAX_TAGS_PER_RESOURCE}) has been exceeded"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(k: &str, v: &str) -> Tag {
        Tag { key: k.into(), value: v.into() }
    }

    #[test]
    fn reserved_and_oversized_tags_are_refused() {
        assert!(validate(&tag("Name", "")).is_ok());
        assert!(validate(&tag("aws:cloudformation", "x")).is_err());
        assert!(validate(&tag("", "x")).is_err());
        assert!(validate(&tag(&"k".repeat(129), "x")).is_err());
        assert!(validate(&tag("k", &"v".repeat(257))).is_err());
        assert!(validate(&tag("a\u{0}b", "x")).is_err());
        assert!(validate(&tag("a\tb", "x")).is_err());
        assert!(validate(&tag("k", "a\u{1}b")).is_err());
        assert!(validate(&tag("k", "line\nbreak")).is_ok());
    }

    #[test]
    fn specs_must_name_allowed_types() {
        let specs = vec![TagSpec { resource_type: "snapshot".into(), tags: vec![tag("a", "b")] }];
        assert_eq!(for_type(&specs, &["image"], "image").unwrap_err().code, "InvalidParameterValue");
        assert_eq!(for_type(&specs, &["image", "snapshot"], "snapshot").unwrap(), vec![tag("a", "b")]);
    }
}
