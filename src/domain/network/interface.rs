//! Network interfaces: each instance's primary one (device 0, made and deleted with the
//! instance) and secondary ones made by CreateNetworkInterface.

use rand::Rng;

use super::security_group::MAX_GROUPS_PER_INTERFACE;
use crate::ec2_err;
use crate::error::Result;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetworkInterface {
    pub network_interface_id: String,
    pub owner_id: String,
    pub region: String,
    pub subnet_id: String,
    pub vpc_id: String,
    pub availability_zone: String,
    pub private_ip: String,
    pub mac_address: String,
    pub description: String,
    pub interface_type: String,
    pub source_dest_check: bool,
    /// (group id, group name)
    pub groups: Vec<(String, String)>,
    pub attachment: Option<InterfaceAttachment>,
    /// The public address it has: an Elastic IP's, or the one its instance got at launch.
    pub association: Option<PublicAssociation>,
    pub tags: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceAttachment {
    pub attachment_id: String,
    pub instance_id: String,
    pub instance_owner_id: String,
    pub device_index: i64,
    pub attach_time: i64,
    pub delete_on_termination: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicAssociation {
    pub public_ip: String,
    /// Set for an Elastic IP: (allocation id, association id).
    pub elastic: Option<(String, String)>,
}

impl NetworkInterface {
    pub fn status(&self) -> &'static str {
        if self.attachment.is_some() {
            "in-use"
        } else {
            "available"
        }
    }

    pub fn group_ids(&self) -> Vec<String> {
        self.groups.iter().map(|(id, _)| id.clone()).collect()
    }
}

/// A locally administered unicast MAC, as EC2's `0e:..`/`02:..` addresses are.
pub fn random_mac() -> String {
    let mut rng = rand::rng();
    let tail: Vec<String> = (0..5).map(|_| format!("{:02x}", rng.random::<u8>())).collect();
    format!("0e:{}", tail.join(":"))
}

/// The attachment id of a new attachment.
pub fn new_attachment_id() -> String {
    crate::domain::ids::new_id(crate::domain::ids::IdKind::NetworkInterface).replacen("eni-", "eni-attach-", 1)
}

pub fn check_group_count(count: usize) -> Result<()> {
    if count > MAX_GROUPS_PER_INTERFACE {
        return Err(ec2_err!(
            SecurityGroupsPerInterfaceLimitExceeded,
            "The maximum number of security groups per interface has been reached."
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_and_attachment_ids_look_like_ec2s() {
        let mac = random_mac();
        assert_eq!(mac.len(), 17);
        assert!(mac.starts_with("0e:"));
        assert!(new_attachment_id().starts_with("eni-attach-"));
    }

    #[test]
    fn at_most_five_groups() {
        assert!(check_group_count(5).is_ok());
        assert_eq!(check_group_count(6).unwrap_err().code, "SecurityGroupsPerInterfaceLimitExceeded");
    }
}
