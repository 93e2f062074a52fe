//! The instance and its state machine. Its types are in `instance_types`.

pub use super::instance_types::{check_compatible, instance_type, InstanceType};
use super::lifecycle::{InstanceState, Timed};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
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
    pub ramdisk_id: Option<String>,
    pub sriov_net_support: Option<String>,
    pub ebs_optimized: bool,
    pub disable_api_stop: bool,
    pub client_token: Option<String>,
    pub shutdown_behavior: String,
    pub disable_api_termination: bool,
    pub security_group_ids: Vec<String>,
    /// (group id, group name) of `security_group_ids`, as read back.
    pub groups: Vec<(String, String)>,
    /// Attached network interfaces, by device index.
    pub interfaces: Vec<InstanceInterface>,
    /// The image's product codes, which images made from the instance keep.
    pub product_codes: Vec<crate::domain::image::ProductCode>,
    /// The CPU credit option set at launch or by ModifyInstanceCreditSpecification; none:
    /// the default of its type (`InstanceType::default_cpu_credits`).
    pub cpu_credits: Option<String>,
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
    /// The Elastic IP associated with the interface, if any.
    pub elastic_ip: Option<String>,
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
