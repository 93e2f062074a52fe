//! Elastic IP addresses (AllocateAddress and friends): the address, its association with
//! an interface, and the rules EC2 applies to both.

use std::net::Ipv4Addr;

use rand::Rng;

use crate::domain::ids::{self, IdKind};
use crate::domain::lifecycle::InstanceState;
use crate::ec2_err;
use crate::error::Result;

/// Elastic IPs an account may hold in a region (EC2's default quota).
pub const MAX_ADDRESSES_PER_REGION: i64 = 5;

/// The pool of Amazon's own addresses, the only one ec2lite allocates from.
pub const AMAZON_POOL: &str = "amazon";

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Address {
    pub allocation_id: String,
    pub owner_id: String,
    pub region: String,
    pub public_ip: String,
    pub network_border_group: String,
    pub association: Option<AddressAssociation>,
    pub tags: Vec<(String, String)>,
}

/// Where an associated address points: one private address of one interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressAssociation {
    pub association_id: String,
    pub network_interface_id: String,
    pub network_interface_owner_id: String,
    pub private_ip: String,
    /// The instance the interface is attached to, and at which device index.
    pub instance: Option<(String, i64)>,
}

impl AddressAssociation {
    pub fn instance_id(&self) -> Option<&str> {
        self.instance.as_ref().map(|(id, _)| id.as_str())
    }

    /// The instance whose primary interface holds the address: its public address is
    /// the Elastic IP's.
    pub fn primary_of(&self) -> Option<&str> {
        match &self.instance {
            Some((id, 0)) => Some(id),
            _ => None,
        }
    }

    /// Whether the association is with this private address of this interface.
    pub fn is_on(&self, interface_id: &str, private_ip: &str) -> bool {
        self.network_interface_id == interface_id && self.private_ip == private_ip
    }
}

impl Address {
    pub fn new(account: &str, region: &str, public_ip: String) -> Address {
        Address {
            allocation_id: ids::new_id(IdKind::ElasticIp),
            owner_id: account.to_string(),
            region: region.to_string(),
            public_ip,
            network_border_group: region.to_string(),
            association: None,
            tags: Vec::new(),
        }
    }
}

/// A public address from 44.192.0.0/10, a block of Amazon's that the addresses
/// instances get at launch (3.x.x.x) never come from.
pub fn random_public_ip() -> String {
    let mut rng = rand::rng();
    format!("44.{}.{}.{}", rng.random_range(192..=255), rng.random_range(0..=255), rng.random_range(1..=254))
}

/// The id of a new association (`eipassoc-` and 17 hex digits).
pub fn new_association_id() -> String {
    ids::new_id(IdKind::ElasticIp).replacen("eipalloc-", "eipassoc-", 1)
}

/// Checks the form of an association id, answering EC2's Malformed error.
pub fn check_association_id(id: &str) -> Result<()> {
    let hex = id.strip_prefix("eipassoc-").unwrap_or_default();
    if (hex.len() == 8 || hex.len() == 17) && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        Ok(())
    } else {
        Err(ec2_err!(InvalidAssociationID_Malformed, "Invalid id: \"{id}\" (expecting \"eipassoc-...\")"))
    }
}

/// Checks that `value` of parameter `name` is a dotted IPv4 address.
pub fn check_ipv4(name: &str, value: &str) -> Result<()> {
    match value.parse::<Ipv4Addr>() {
        Ok(_) => Ok(()),
        Err(_) => Err(ec2_err!(InvalidParameterValue, "Invalid value '{value}' for {name}. Not a valid IPv4 address")),
    }
}

/// Whether an instance in `state` may take an Elastic IP: not before it runs (EC2 answers
/// "The pending instance … is not in a valid state", which Terraform waits out), nor
/// once it is going away.
fn takes_addresses(state: InstanceState) -> bool {
    !matches!(state, InstanceState::Pending | InstanceState::ShuttingDown | InstanceState::Terminated)
}

pub fn check_instance_state(instance_id: &str, state: InstanceState) -> Result<()> {
    if !takes_addresses(state) {
        return Err(ec2_err!(
            InvalidInstanceID,
            "The {} instance '{instance_id}' is not in a valid state for this operation.",
            state.as_str()
        ));
    }
    Ok(())
}

/// The same rule for an interface attached to an instance.
pub fn check_attached_instance_state(interface_id: &str, state: InstanceState) -> Result<()> {
    if !takes_addresses(state) {
        return Err(ec2_err!(
            IncorrectInstanceState,
            "The {} instance to which '{interface_id}' is attached is not in a valid state for this operation",
            state.as_str()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_addresses_are_public_and_ids_well_formed() {
        let address = Address::new("000000000000", "us-east-1", random_public_ip());
        let ip: Ipv4Addr = address.public_ip.parse().unwrap();
        assert_eq!(ip.octets()[0], 44);
        assert!(ip.octets()[1] >= 192 && ip.octets()[3] != 0);
        assert!(ids::is_well_formed(IdKind::ElasticIp, &address.allocation_id));
        assert_eq!(address.network_border_group, "us-east-1");
        let association = new_association_id();
        assert!(association.starts_with("eipassoc-") && association.len() == 26);
        assert!(check_association_id(&association).is_ok());
    }

    #[test]
    fn malformed_inputs_get_ec2_codes() {
        assert_eq!(check_association_id("eipalloc-12345678").unwrap_err().code, "InvalidAssociationID.Malformed");
        assert_eq!(check_association_id("eipassoc-1234").unwrap_err().code, "InvalidAssociationID.Malformed");
        let err = check_ipv4("PublicIp", "eipalloc-12345678").unwrap_err();
        assert_eq!(err.message, "Invalid value 'eipalloc-12345678' for PublicIp. Not a valid IPv4 address");
        assert!(check_ipv4("PublicIp", "44.200.1.2").is_ok());
    }

    #[test]
    fn only_instances_that_run_or_are_stopped_take_addresses() {
        for state in [InstanceState::Running, InstanceState::Stopping, InstanceState::Stopped] {
            assert!(check_instance_state("i-1", state).is_ok());
            assert!(check_attached_instance_state("eni-1", state).is_ok());
        }
        let err = check_instance_state("i-1", InstanceState::Pending).unwrap_err();
        assert_eq!(err.message, "The pending instance 'i-1' is not in a valid state for this operation.");
        let err = check_instance_state("i-1", InstanceState::Terminated).unwrap_err();
        assert_eq!(err.code, "InvalidInstanceID");
        assert_eq!(err.message, "The terminated instance 'i-1' is not in a valid state for this operation.");
        let err = check_attached_instance_state("eni-1", InstanceState::ShuttingDown).unwrap_err();
        assert_eq!(err.code, "IncorrectInstanceState");
    }

    #[test]
    fn the_primary_interface_carries_the_instance_address() {
        let mut association = AddressAssociation {
            association_id: new_association_id(),
            network_interface_id: "eni-1".into(),
            network_interface_owner_id: "000000000000".into(),
            private_ip: "172.31.0.10".into(),
            instance: Some(("i-1".into(), 0)),
        };
        assert_eq!((association.primary_of(), association.instance_id()), (Some("i-1"), Some("i-1")));
        association.instance = Some(("i-1".into(), 1));
        assert_eq!(association.primary_of(), None);
        assert!(association.is_on("eni-1", "172.31.0.10") && !association.is_on("eni-1", "172.31.0.11"));
    }
}
