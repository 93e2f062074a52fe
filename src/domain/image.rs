//! The AMI: its fields, its states, and the rules on names and attributes.

use std::borrow::Cow;

use super::lifecycle::ImageState;
use serde::{Deserialize, Serialize};

use crate::ec2_err;
use crate::error::Result;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Image {
    pub image_id: String,
    pub owner_id: String,
    pub region: String,
    pub name: String,
    pub description: Option<String>,
    pub image_location: String,
    pub state: ImageState,
    pub state_reason: Option<StateReason>,
    pub architecture: String,
    pub image_type: String,
    pub platform: Option<String>,
    pub platform_details: String,
    pub usage_operation: String,
    pub root_device_type: String,
    pub root_device_name: Option<String>,
    pub virtualization_type: String,
    pub hypervisor: String,
    pub kernel_id: Option<String>,
    pub ramdisk_id: Option<String>,
    pub ena_support: Option<bool>,
    pub sriov_net_support: Option<String>,
    pub boot_mode: Option<String>,
    pub tpm_support: Option<String>,
    pub uefi_data: Option<String>,
    pub imds_support: Option<String>,
    pub owner_alias: Option<String>,
    pub source_instance_id: Option<String>,
    pub source_image_id: Option<String>,
    pub source_image_region: Option<String>,
    pub deprecation_time: Option<String>,
    pub last_launched_time: Option<String>,
    pub deregistration_protection: String,
    pub creation_date: String,
    pub block_device_mappings: Vec<BlockDeviceMapping>,
    pub product_codes: Vec<ProductCode>,
    /// When a `pending` image becomes `available` (ms since the epoch).
    pub ready_at: Option<i64>,
    /// The CopyImage client token that made this image, for idempotent retries.
    pub client_token: Option<String>,
    /// Until when deregistration stays refused after protection with cooldown was disabled.
    pub protected_until: Option<i64>,
    /// Derived from the launch permissions (`all` granted).
    pub is_public: bool,
    /// The caller's tags on this image.
    pub tags: Vec<(String, String)>,
}

impl Image {
    /// The image as it is at `now`: a pending image whose time has come is available.
    /// With no pending time configured, the create call stores this final state at once
    /// while its answer still says `pending`.
    pub fn settled(&self, now: i64) -> Image {
        let mut image = self.clone();
        if image.state == ImageState::Pending && image.ready_at.is_some_and(|t| t <= now) {
            image.state = ImageState::Available;
            image.ready_at = None;
        }
        image
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StateReason {
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockDeviceMapping {
    pub device_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub virtual_name: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_device: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ebs: Option<EbsBlockDevice>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EbsBlockDevice {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_size: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_on_termination: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iops: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throughput: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encrypted: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductCode {
    pub id: String,
    #[serde(rename = "type")]
    pub code_type: String,
}

/// One grant of a launch permission.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LaunchPermission {
    User(String),
    /// Only `all` (public) exists.
    Group(String),
    Organization(String),
    OrganizationalUnit(String),
}

impl LaunchPermission {
    /// `(grantee_type, grantee)` as stored.
    pub fn parts(&self) -> (&'static str, &str) {
        match self {
            LaunchPermission::User(v) => ("user", v),
            LaunchPermission::Group(v) => ("group", v),
            LaunchPermission::Organization(v) => ("organization", v),
            LaunchPermission::OrganizationalUnit(v) => ("organizational-unit", v),
        }
    }

    pub fn from_parts(kind: &str, value: String) -> Option<LaunchPermission> {
        Some(match kind {
            "user" => LaunchPermission::User(value),
            "group" => LaunchPermission::Group(value),
            "organization" => LaunchPermission::Organization(value),
            "organizational-unit" => LaunchPermission::OrganizationalUnit(value),
            _ => return None,
        })
    }

    /// Checks the grant's value as EC2 does before storing it.
    pub fn validate(&self) -> Result<()> {
        let (ok, item_type, value) = match self {
            LaunchPermission::User(v) => (crate::domain::ids::is_account_id(v), "userId", v),
            LaunchPermission::Group(v) => (v == "all", "group", v),
            LaunchPermission::Organization(v) => (is_organization_arn(v), "organizationArn", v),
            LaunchPermission::OrganizationalUnit(v) => (is_ou_arn(v), "organizationalUnitArn", v),
        };
        if ok {
            Ok(())
        } else {
            Err(ec2_err!(
                InvalidAMIAttributeItemValue,
                "Invalid attribute item value \"{value}\" for {item_type} item type."
            ))
        }
    }
}

fn is_organization_arn(v: &str) -> bool {
    v.strip_prefix("arn:aws:organizations::")
        .and_then(|r| r.split_once(":organization/o-"))
        .is_some_and(|(acct, org)| crate::domain::ids::is_account_id(acct) && is_org_suffix(org))
}

fn is_ou_arn(v: &str) -> bool {
    let Some((acct, path)) = v.strip_prefix("arn:aws:organizations::").and_then(|r| r.split_once(":ou/o-")) else {
        return false;
    };
    let Some((org, ou)) = path.split_once("/ou-") else { return false };
    crate::domain::ids::is_account_id(acct)
        && is_org_suffix(org)
        && !ou.is_empty()
        && ou.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn is_org_suffix(s: &str) -> bool {
    (10..=32).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

pub const ARCHITECTURES: &[&str] = &["i386", "x86_64", "arm64", "x86_64_mac", "arm64_mac"];
pub const VIRTUALIZATION_TYPES: &[&str] = &["hvm", "paravirtual"];
pub const BOOT_MODES: &[&str] = &["legacy-bios", "uefi", "uefi-preferred"];

/// Names: 3-128 characters of letters, digits and `()[] ./-'@_`.
pub fn validate_name(name: &str) -> Result<()> {
    let len = name.chars().count();
    let allowed = |c: char| c.is_ascii_alphanumeric() || "()[] ./-'@_".contains(c);
    if !(3..=128).contains(&len) || !name.chars().all(allowed) {
        return Err(ec2_err!(
            InvalidAMIName_Malformed,
            "AMI names must be between 3 and 128 characters long, and may contain letters, numbers, '(', ')', '[', ']', ' ', '.', '/', '-', ''', '@' and '_'"
        ));
    }
    Ok(())
}

pub fn validate_description(description: &str) -> Result<()> {
    if description.chars().count() > 255 {
        return Err(ec2_err!(
            InvalidParameterValue,
            "Value for parameter description is invalid: the description must be at most 255 characters long"
        ));
    }
    if let Some(c) = crate::domain::text::first_non_xml_char(description) {
        return Err(ec2_err!(
            InvalidParameterValue,
            "Value for parameter description is invalid: the character U+{:04X} is not allowed",
            c as u32
        ));
    }
    Ok(())
}

/// Checks that `value` is one of `allowed` for parameter `name`.
pub fn check_enum(name: &str, value: &str, allowed: &[&str]) -> Result<()> {
    if allowed.contains(&value) {
        Ok(())
    } else {
        Err(ec2_err!(
            InvalidParameterValue,
            "Value ({value}) for parameter {name} is invalid. Valid values: {}",
            allowed.join(", ")
        ))
    }
}

/// The protection as DescribeImages shows it at `now`: while the cooldown after disabling
/// runs, `disabled after <time>`, as EC2 words it.
pub fn protection_shown(image: &Image, now: i64) -> Cow<'_, str> {
    match image.protected_until {
        Some(until) if until > now && image.deregistration_protection == "disabled" => {
            Cow::Owned(format!("disabled after {}", crate::domain::clock::iso(until)))
        }
        _ => Cow::Borrowed(&image.deregistration_protection),
    }
}

/// Why deregistering `image` is refused at `now`, if it is.
pub fn deregistration_refusal(image: &Image, now: i64) -> Option<String> {
    if image.deregistration_protection.starts_with("enabled") {
        return Some(format!(
            "Image {} has deregistration protection enabled. Disable it before deregistering the image.",
            image.image_id
        ));
    }
    match image.protected_until {
        Some(until) if until > now => Some(format!(
            "Image {} is protected from deregistration until {} (cooldown after protection was disabled).",
            image.image_id,
            crate::domain::clock::iso(until)
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_model_rules() {
        assert!(validate_name("my-ami (v1) [x] 'a'@b_c/d.e").is_ok());
        for bad in ["ab", &"x".repeat(129), "bad*name", "tab\tname"] {
            assert_eq!(validate_name(bad).unwrap_err().code, "InvalidAMIName.Malformed", "{bad}");
        }
    }

    #[test]
    fn launch_permission_values_are_checked() {
        assert!(LaunchPermission::User("123456789012".into()).validate().is_ok());
        assert!(LaunchPermission::User("12345".into()).validate().is_err());
        assert!(LaunchPermission::Group("all".into()).validate().is_ok());
        assert!(LaunchPermission::Group("everyone".into()).validate().is_err());
        assert!(LaunchPermission::Organization("arn:aws:organizations::123456789012:organization/o-abcdefghij".into())
            .validate()
            .is_ok());
        assert!(LaunchPermission::Organization("o-abcdefghij".into()).validate().is_err());
        assert!(LaunchPermission::OrganizationalUnit(
            "arn:aws:organizations::123456789012:ou/o-abcdefghij/ou-ab12-cdefgh34".into()
        )
        .validate()
        .is_ok());
    }
}
