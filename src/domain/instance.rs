//! The instance: its state machine, instance types, and the default network it sits in.

use super::lifecycle::{InstanceState, Timed};
use crate::ec2_err;
use crate::error::Result;

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
pub struct Instance {
    pub instance_id: String,
    pub owner_id: String,
    pub region: String,
    pub reservation_id: String,
    pub image_id: String,
    pub instance_type: String,
    pub availability_zone: String,
    pub subnet_id: String,
    pub vpc_id: String,
    pub private_ip: String,
    pub public_ip: Option<String>,
    pub key_name: Option<String>,
    pub user_data: Option<String>,
    pub state: InstanceState,
    pub state_transition_reason: String,
    pub state_reason_code: Option<String>,
    pub state_reason_message: Option<String>,
    pub ready_at: Option<i64>,
    pub launch_time: i64,
    pub ami_launch_index: i64,
    pub architecture: String,
    pub virtualization_type: String,
    pub root_device_type: String,
    pub root_device_name: Option<String>,
    pub platform: Option<String>,
    pub platform_details: String,
    pub usage_operation: String,
    pub boot_mode: Option<String>,
    pub ena_support: Option<bool>,
    pub kernel_id: Option<String>,
    pub client_token: Option<String>,
    pub shutdown_behavior: String,
    pub disable_api_termination: bool,
    pub security_group_ids: Vec<String>,
    /// (group id, group name) of `security_group_ids`, as read back.
    pub groups: Vec<(String, String)>,
    /// Attached network interfaces, by device index.
    pub interfaces: Vec<InstanceInterface>,
    pub tags: Vec<(String, String)>,
    /// Attached volumes: (device, volume id, attach time, delete on termination).
    pub volumes: Vec<(String, String, i64, bool)>,
}

/// A network interface as its instance shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
pub struct InstanceInterface {
    pub network_interface_id: String,
    pub subnet_id: String,
    pub vpc_id: String,
    pub private_ip: String,
    pub mac_address: String,
    pub description: String,
    pub source_dest_check: bool,
    pub attachment_id: String,
    pub device_index: i64,
    pub attach_time: i64,
    pub delete_on_termination: bool,
    pub groups: Vec<(String, String)>,
}

impl Instance {
    /// The instance as it is at `now`: a transitional state whose time is up has moved on.
    pub fn settled(&self, now: i64) -> Instance {
        let mut instance = self.clone();
        if let (Some(next), Some(at)) = (instance.state.settles_to(), instance.ready_at) {
            if at <= now {
                instance.state = next;
                instance.ready_at = None;
            }
        }
        instance
    }
}

/// An instance type: its architecture and whether it can run paravirtual images.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InstanceType {
    pub name: &'static str,
    pub architecture: &'static str,
    pub paravirtual: bool,
    pub vcpus: i64,
    /// Nitro types boot UEFI; the older Xen ones only legacy BIOS.
    pub uefi: bool,
}

const fn t(name: &'static str, architecture: &'static str, paravirtual: bool, vcpus: i64) -> InstanceType {
    // Every type of this table that is not Xen-era is a Nitro type.
    let xen = paravirtual || matches!(name.as_bytes(), [b't', b'2', ..]);
    InstanceType { name, architecture, paravirtual, vcpus, uefi: !xen }
}

pub static INSTANCE_TYPES: &[InstanceType] = &[
    t("t1.micro", "x86_64", true, 1),
    t("m1.small", "x86_64", true, 1),
    t("m1.medium", "x86_64", true, 1),
    t("m1.large", "x86_64", true, 2),
    t("m1.xlarge", "x86_64", true, 4),
    t("c1.medium", "x86_64", true, 2),
    t("c1.xlarge", "x86_64", true, 8),
    t("m2.xlarge", "x86_64", true, 2),
    t("m3.medium", "x86_64", true, 1),
    t("m3.large", "x86_64", true, 2),
    t("t2.nano", "x86_64", false, 1),
    t("t2.micro", "x86_64", false, 1),
    t("t2.small", "x86_64", false, 1),
    t("t2.medium", "x86_64", false, 2),
    t("t2.large", "x86_64", false, 2),
    t("t3.nano", "x86_64", false, 2),
    t("t3.micro", "x86_64", false, 2),
    t("t3.small", "x86_64", false, 2),
    t("t3.medium", "x86_64", false, 2),
    t("t3.large", "x86_64", false, 2),
    t("t3.xlarge", "x86_64", false, 4),
    t("t3a.micro", "x86_64", false, 2),
    t("t3a.small", "x86_64", false, 2),
    t("t3a.medium", "x86_64", false, 2),
    t("t4g.nano", "arm64", false, 2),
    t("t4g.micro", "arm64", false, 2),
    t("t4g.small", "arm64", false, 2),
    t("t4g.medium", "arm64", false, 2),
    t("t4g.large", "arm64", false, 2),
    t("a1.medium", "arm64", false, 1),
    t("a1.large", "arm64", false, 2),
    t("m5.large", "x86_64", false, 2),
    t("m5.xlarge", "x86_64", false, 4),
    t("m5.2xlarge", "x86_64", false, 8),
    t("m6i.large", "x86_64", false, 2),
    t("m6i.xlarge", "x86_64", false, 4),
    t("m6a.large", "x86_64", false, 2),
    t("m6g.medium", "arm64", false, 1),
    t("m6g.large", "arm64", false, 2),
    t("m7g.medium", "arm64", false, 1),
    t("m7g.large", "arm64", false, 2),
    t("m7i.large", "x86_64", false, 2),
    t("c5.large", "x86_64", false, 2),
    t("c5.xlarge", "x86_64", false, 4),
    t("c6i.large", "x86_64", false, 2),
    t("c6g.medium", "arm64", false, 1),
    t("c6g.large", "arm64", false, 2),
    t("c7g.large", "arm64", false, 2),
    t("r5.large", "x86_64", false, 2),
    t("r6g.large", "arm64", false, 2),
    t("r6i.large", "x86_64", false, 2),
    t("mac1.metal", "x86_64_mac", false, 12),
    t("mac2.metal", "arm64_mac", false, 12),
];

pub fn instance_type(name: &str) -> Result<&'static InstanceType> {
    INSTANCE_TYPES
        .iter()
        .find(|t| t.name == name)
        .ok_or_else(|| ec2_err!(InvalidParameterValue, "Invalid value '{name}' for InstanceType."))
}

/// Whether an image of this architecture and virtualization may run on `itype`,
/// answered with the errors EC2 gives.
pub fn check_compatible(itype: &InstanceType, architecture: &str, virtualization_type: &str) -> Result<()> {
    let same_family = itype.architecture == architecture || (architecture == "i386" && itype.architecture == "x86_64");
    if !same_family {
        return Err(ec2_err!(
            InvalidParameterValue,
            "The architecture '{}' of the specified instance type does not match the architecture '{architecture}' of the specified AMI. Specify an instance type and an AMI that have matching architectures, and try again. You can use 'describe-instance-types' or 'describe-images' to discover the architecture of the instance type or AMI.",
            itype.architecture
        ));
    }
    if virtualization_type == "paravirtual" && !itype.paravirtual {
        return Err(ec2_err!(
            InvalidParameterCombination,
            "Virtualization type 'hvm' is required for instances of type '{}'.",
            itype.name
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn architecture_and_virtualization_are_checked() {
        let arm = instance_type("t4g.micro").unwrap();
        assert!(check_compatible(arm, "arm64", "hvm").is_ok());
        assert_eq!(check_compatible(arm, "x86_64", "hvm").unwrap_err().code, "InvalidParameterValue");
        let hvm_only = instance_type("t3.micro").unwrap();
        assert_eq!(
            check_compatible(hvm_only, "x86_64", "paravirtual").unwrap_err().code,
            "InvalidParameterCombination"
        );
        assert!(check_compatible(instance_type("m1.small").unwrap(), "x86_64", "paravirtual").is_ok());
        assert!(instance_type("z9.huge").is_err());
    }
}
