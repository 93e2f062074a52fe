//! EC2 resource ids: `<prefix>-<hex>` with 17 lower-case hex digits for new ids
//! (8 for ids made before 2018, still accepted as well-formed).

use rand::Rng;

use crate::error::{Code, Ec2Error, Result};

/// The kinds of ids ec2lite hands out or accepts, with the codes EC2 uses for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    Image,
    Snapshot,
    Volume,
    Instance,
    Kernel,
    Ramdisk,
    Reservation,
    Subnet,
    SecurityGroup,
    Vpc,
    KeyPair,
    InternetGateway,
    RouteTable,
    NetworkAcl,
    NetworkInterface,
    SecurityGroupRule,
    ElasticIp,
    DhcpOptions,
    LaunchTemplate,
}

impl IdKind {
    pub fn prefix(self) -> &'static str {
        match self {
            IdKind::Image => "ami",
            IdKind::Snapshot => "snap",
            IdKind::Volume => "vol",
            IdKind::Instance => "i",
            IdKind::Kernel => "aki",
            IdKind::Ramdisk => "ari",
            IdKind::Reservation => "r",
            IdKind::Subnet => "subnet",
            IdKind::SecurityGroup => "sg",
            IdKind::Vpc => "vpc",
            IdKind::KeyPair => "key",
            IdKind::InternetGateway => "igw",
            IdKind::RouteTable => "rtb",
            IdKind::NetworkAcl => "acl",
            IdKind::NetworkInterface => "eni",
            IdKind::SecurityGroupRule => "sgr",
            IdKind::ElasticIp => "eipalloc",
            IdKind::DhcpOptions => "dopt",
            IdKind::LaunchTemplate => "lt",
        }
    }

    pub fn malformed_code(self) -> Code {
        match self {
            IdKind::Image => Code::InvalidAMIID_Malformed,
            IdKind::Snapshot => Code::InvalidSnapshotID_Malformed,
            IdKind::Volume => Code::InvalidVolumeID_Malformed,
            IdKind::Instance => Code::InvalidInstanceID_Malformed,
            IdKind::Kernel => Code::InvalidKernelId_Malformed,
            IdKind::Ramdisk => Code::InvalidRamDiskId_Malformed,
            IdKind::Reservation => Code::InvalidReservationID_Malformed,
            IdKind::Subnet => Code::InvalidSubnetID_Malformed,
            IdKind::SecurityGroup => Code::InvalidGroupId_Malformed,
            IdKind::Vpc => Code::InvalidVpcID_Malformed,
            IdKind::KeyPair => Code::InvalidKeyPair_Malformed,
            IdKind::InternetGateway => Code::InvalidInternetGatewayId_Malformed,
            IdKind::RouteTable => Code::InvalidRouteTableId_Malformed,
            IdKind::NetworkAcl => Code::InvalidNetworkAclId_Malformed,
            IdKind::NetworkInterface => Code::InvalidNetworkInterfaceId_Malformed,
            IdKind::SecurityGroupRule => Code::InvalidSecurityGroupRuleId_Malformed,
            IdKind::ElasticIp => Code::InvalidAllocationID_Malformed,
            IdKind::DhcpOptions => Code::InvalidParameterValue,
            IdKind::LaunchTemplate => Code::InvalidLaunchTemplateId_Malformed,
        }
    }

    /// The resource type name used by tags and `TagSpecification`.
    pub fn resource_type(self) -> &'static str {
        match self {
            IdKind::Image | IdKind::Kernel | IdKind::Ramdisk => "image",
            IdKind::Snapshot => "snapshot",
            IdKind::Volume => "volume",
            IdKind::Instance => "instance",
            IdKind::Reservation => "reservation",
            IdKind::Subnet => "subnet",
            IdKind::SecurityGroup => "security-group",
            IdKind::Vpc => "vpc",
            IdKind::KeyPair => "key-pair",
            IdKind::InternetGateway => "internet-gateway",
            IdKind::RouteTable => "route-table",
            IdKind::NetworkAcl => "network-acl",
            IdKind::NetworkInterface => "network-interface",
            IdKind::SecurityGroupRule => "security-group-rule",
            IdKind::ElasticIp => "elastic-ip",
            IdKind::DhcpOptions => "dhcp-options",
            IdKind::LaunchTemplate => "launch-template",
        }
    }

    /// Which kind an id claims to be, by its prefix alone.
    pub fn of(id: &str) -> Option<IdKind> {
        let prefix = id.split_once('-')?.0;
        [
            IdKind::Image,
            IdKind::Snapshot,
            IdKind::Volume,
            IdKind::Instance,
            IdKind::Kernel,
            IdKind::Ramdisk,
            IdKind::Reservation,
            IdKind::Subnet,
            IdKind::SecurityGroup,
            IdKind::Vpc,
            IdKind::KeyPair,
            IdKind::InternetGateway,
            IdKind::RouteTable,
            IdKind::NetworkAcl,
            IdKind::NetworkInterface,
            IdKind::SecurityGroupRule,
            IdKind::ElasticIp,
            IdKind::DhcpOptions,
            IdKind::LaunchTemplate,
        ]
        .into_iter()
        .find(|k| k.prefix() == prefix)
    }
}

pub fn new_id(kind: IdKind) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut rng = rand::rng();
    let mut id = String::with_capacity(kind.prefix().len() + 18);
    id.push_str(kind.prefix());
    id.push('-');
    for _ in 0..17 {
        id.push(HEX[rng.random_range(0..16)] as char);
    }
    id
}

/// FNV-1a, 64 bits: a stable hash for ids (std's hasher may change between releases).
pub fn fnv1a(seed: u64, parts: &[&str]) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325u64 ^ seed;
    for part in parts {
        for byte in part.bytes().chain([0u8]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    hash
}

/// `prefix-` and 17 hex digits derived from `parts`.
pub fn stable_id(prefix: &str, parts: &[&str]) -> String {
    let high = fnv1a(0, parts) & 0xf;
    let low = fnv1a(0x9e37_79b9_7f4a_7c15, parts);
    format!("{prefix}-{high:x}{low:016x}")
}

pub fn is_well_formed(kind: IdKind, id: &str) -> bool {
    let Some(hex) = id.strip_prefix(kind.prefix()).and_then(|r| r.strip_prefix('-')) else {
        return false;
    };
    (hex.len() == 8 || hex.len() == 17) && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Checks an id's form, answering EC2's `.Malformed` error for its kind.
pub fn check(kind: IdKind, id: &str) -> Result<()> {
    if is_well_formed(kind, id) {
        Ok(())
    } else {
        Err(malformed(kind, id))
    }
}

pub fn malformed(kind: IdKind, id: &str) -> Ec2Error {
    Ec2Error::new(kind.malformed_code(), format!("Invalid id: \"{id}\" (expecting \"{}-...\")", kind.prefix()))
}

pub fn check_all(kind: IdKind, ids: &[String]) -> Result<()> {
    ids.iter().try_for_each(|id| check(kind, id))
}

pub fn is_account_id(value: &str) -> bool {
    value.len() == 12 && value.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_ids_are_well_formed() {
        let id = new_id(IdKind::Image);
        assert!(is_well_formed(IdKind::Image, &id), "{id}");
        assert_eq!(id.len(), 21);
    }

    #[test]
    fn malformed_ids_are_refused_with_the_kind_code() {
        assert!(is_well_formed(IdKind::Image, "ami-12345678"));
        for bad in ["ami-0ebf472962bc6715", "ami-1234567G", "ami-ABCDEF12", "snap-12345678", "{var.ami_id}", "ami-"] {
            let err = check(IdKind::Image, bad).unwrap_err();
            assert_eq!(err.code, "InvalidAMIID.Malformed", "{bad}");
        }
        assert_eq!(malformed(IdKind::Image, "x").message, "Invalid id: \"x\" (expecting \"ami-...\")");
    }

    #[test]
    fn kinds_are_known_by_prefix() {
        assert_eq!(IdKind::of("vol-12345678"), Some(IdKind::Volume));
        assert_eq!(IdKind::of("i-12345678"), Some(IdKind::Instance));
        assert_eq!(IdKind::of("sg-12345678"), Some(IdKind::SecurityGroup));
        assert_eq!(IdKind::of("eni-12345678"), Some(IdKind::NetworkInterface));
        assert_eq!(IdKind::of("xyz-12345678"), None);
    }
}
