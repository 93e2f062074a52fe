//! Security groups and their rules: what a rule is (one protocol and port range, one
//! peer), how EC2 spells and checks it, and the limits of a group.

use ipnet::{Ipv4Net, Ipv6Net};

use crate::ec2_err;
use crate::error::Result;

/// Security groups an account may have in a region's VPCs (EC2's default quota).
pub const MAX_GROUPS_PER_REGION: i64 = 2500;
/// Inbound or outbound rules per group, counted apart for IPv4 and IPv6 (EC2's quota).
pub const MAX_RULES_PER_DIRECTION: usize = 60;
/// Security groups an interface (and so an instance's primary one) may have.
pub const MAX_GROUPS_PER_INTERFACE: usize = 5;

/// Where a rule lets traffic come from (ingress) or go to (egress).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Peer {
    Ipv4(String),
    Ipv6(String),
    PrefixList(String),
    /// Members of a group, of the caller (`user_id` None until resolved) or another account.
    Group {
        group_id: String,
        user_id: Option<String>,
    },
}

impl Peer {
    pub fn is_ipv6(&self) -> bool {
        matches!(self, Peer::Ipv6(_))
    }

    fn label(&self) -> String {
        match self {
            Peer::Ipv4(cidr) | Peer::Ipv6(cidr) => cidr.clone(),
            Peer::PrefixList(id) => id.clone(),
            Peer::Group { group_id, .. } => group_id.clone(),
        }
    }
}

/// One rule: a protocol, its port range (None for protocols without ports) and one peer.
#[derive(Debug, Clone)]
pub struct RuleSpec {
    pub protocol: String,
    pub from_port: Option<i64>,
    pub to_port: Option<i64>,
    pub peer: Peer,
    pub description: Option<String>,
}

impl RuleSpec {
    /// Whether two rules allow the same traffic (descriptions aside), as EC2 compares
    /// them for duplicates and revocation.
    pub fn same_traffic(&self, other: &RuleSpec) -> bool {
        self.protocol == other.protocol
            && self.from_port == other.from_port
            && self.to_port == other.to_port
            && same_peer(&self.peer, &other.peer)
    }

    /// EC2's wording of a rule in `InvalidPermission.Duplicate`.
    pub fn describe(&self) -> String {
        let protocol = match self.protocol.as_str() {
            "-1" => "ALL".to_string(),
            other => other.to_uppercase(),
        };
        let ports = match (self.from_port, self.to_port) {
            (Some(from), Some(to)) => format!(", from port: {from}, to port: {to}"),
            _ => String::new(),
        };
        format!("peer: {}, {protocol}{ports}, ALLOW", self.peer.label())
    }
}

/// Group peers match by group id: the owner may be left out in a revocation.
fn same_peer(a: &Peer, b: &Peer) -> bool {
    match (a, b) {
        (Peer::Group { group_id: x, .. }, Peer::Group { group_id: y, .. }) => x == y,
        _ => a == b,
    }
}

/// A stored rule of a group.
#[derive(Debug, Clone)]
pub struct SecurityGroupRule {
    pub rule_id: String,
    pub group_id: String,
    pub group_owner_id: String,
    pub region: String,
    pub is_egress: bool,
    pub spec: RuleSpec,
    pub tags: Vec<(String, String)>,
}

impl SecurityGroupRule {
    pub fn arn(&self) -> String {
        format!("arn:aws:ec2:{}:{}:security-group-rule/{}", self.region, self.group_owner_id, self.rule_id)
    }
}

#[derive(Debug, Clone, Default)]
pub struct SecurityGroup {
    pub group_id: String,
    pub owner_id: String,
    pub region: String,
    pub vpc_id: String,
    pub group_name: String,
    pub description: String,
    pub tags: Vec<(String, String)>,
    pub ingress: Vec<SecurityGroupRule>,
    pub egress: Vec<SecurityGroupRule>,
}

impl SecurityGroup {
    pub fn arn(&self) -> String {
        format!("arn:aws:ec2:{}:{}:security-group/{}", self.region, self.owner_id, self.group_id)
    }

    pub fn is_default(&self) -> bool {
        self.group_name == "default"
    }

    pub fn rules(&self, egress: bool) -> &[SecurityGroupRule] {
        if egress {
            &self.egress
        } else {
            &self.ingress
        }
    }
}

/// A group of the caller named by id, or by name in its default VPC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupRef {
    Id(String),
    Name(String),
}

/// EC2's NotFound for a group named in the default VPC (`None`: the scope has none).
pub fn group_name_not_found(name: &str, default_vpc: Option<&str>) -> crate::error::Ec2Error {
    match default_vpc {
        Some(vpc) => {
            ec2_err!(InvalidGroup_NotFound, "The security group '{name}' does not exist in default VPC '{vpc}'")
        }
        None => ec2_err!(InvalidGroup_NotFound, "The security group '{name}' does not exist"),
    }
}

/// EC2's name for a protocol given by name or number: `tcp`, `udp`, `icmp`, `icmpv6`,
/// `-1` for all, or another protocol's number.
pub fn normalize_protocol(given: &str) -> Result<String> {
    let lower = given.to_ascii_lowercase();
    let name = match lower.as_str() {
        "-1" | "all" => "-1",
        "tcp" | "6" => "tcp",
        "udp" | "17" => "udp",
        "icmp" | "1" => "icmp",
        "icmpv6" | "58" => "icmpv6",
        number => match number.parse::<u8>() {
            Ok(n) => return Ok(n.to_string()),
            Err(_) => {
                return Err(ec2_err!(
                    InvalidParameterValue,
                    "Invalid value '{given}' for IP protocol. Unknown protocol."
                ))
            }
        },
    };
    Ok(name.to_string())
}

/// The port range a protocol keeps: TCP and UDP need both ends (0-65535, from <= to);
/// ICMP keeps a type and code (-1 for any); every other protocol ignores ports, as EC2
/// does with the `0`/`0` that Terraform sends for `-1`.
pub fn check_ports(protocol: &str, from: Option<i64>, to: Option<i64>) -> Result<(Option<i64>, Option<i64>)> {
    match protocol {
        "tcp" | "udp" => {
            let (Some(from), Some(to)) = (from, to) else {
                return Err(ec2_err!(
                    InvalidParameterValue,
                    "Invalid value 'Must specify both from and to ports with TCP/UDP.' for portRange."
                ));
            };
            // -1/-1 is EC2's spelling of every port.
            let (from, to) = if (from, to) == (-1, -1) { (0, 65535) } else { (from, to) };
            if !(0..=65535).contains(&from) || !(0..=65535).contains(&to) || from > to {
                return Err(ec2_err!(InvalidParameterValue, "Invalid TCP/UDP port range {from}-{to}"));
            }
            Ok((Some(from), Some(to)))
        }
        "icmp" | "icmpv6" => {
            let (icmp_type, code) = (from.unwrap_or(-1), to.unwrap_or(-1));
            if !(-1..=255).contains(&icmp_type) || !(-1..=255).contains(&code) {
                return Err(ec2_err!(
                    InvalidParameterValue,
                    "Invalid value for ICMP type {icmp_type} or code {code}: must be -1 to 255"
                ));
            }
            Ok((Some(icmp_type), Some(code)))
        }
        _ => Ok((None, None)),
    }
}

/// An IPv4 CIDR of a rule, in canonical form (host bits cleared, as EC2 stores it).
pub fn check_ipv4_cidr(cidr: &str) -> Result<String> {
    let net: Ipv4Net = cidr.parse().map_err(|_| ec2_err!(InvalidParameterValue, "CIDR block {cidr} is malformed"))?;
    Ok(net.trunc().to_string())
}

pub fn check_ipv6_cidr(cidr: &str) -> Result<String> {
    let net: Ipv6Net = cidr.parse().map_err(|_| ec2_err!(InvalidParameterValue, "CIDR block {cidr} is malformed"))?;
    Ok(net.trunc().to_string())
}

/// Characters EC2 allows in a VPC security group's name and description.
fn allowed_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || " ._-:/()#,@[]+=&;{}!$*".contains(c)
}

/// A new group's name: 1-255 allowed characters, not `sg-*`, not `default`.
pub fn check_group_name(name: &str) -> Result<()> {
    if name.is_empty() || name.len() > 255 || !name.chars().all(allowed_char) {
        return Err(ec2_err!(
            InvalidParameterValue,
            "Value ({name}) for parameter GroupName is invalid. Character sets beyond ASCII are not supported."
        ));
    }
    if name.starts_with("sg-") {
        return Err(ec2_err!(InvalidParameterValue, "Group names may not be in the format sg-*."));
    }
    if name == "default" {
        return Err(ec2_err!(InvalidGroup_Reserved, "The security group 'default' is reserved"));
    }
    Ok(())
}

/// A group's or rule's description: at most 255 allowed characters.
pub fn check_description(field: &str, description: &str) -> Result<()> {
    if description.len() > 255 || !description.chars().all(allowed_char) {
        return Err(ec2_err!(
            InvalidParameterValue,
            "Value ({description}) for parameter {field} is invalid. Character sets beyond ASCII are not supported."
        ));
    }
    Ok(())
}

/// Refuses a direction whose IPv4 or IPv6 rules would pass EC2's quota.
pub fn check_rule_count(existing: &[SecurityGroupRule], added: &[RuleSpec]) -> Result<()> {
    for ipv6 in [false, true] {
        let count = existing.iter().filter(|r| r.spec.peer.is_ipv6() == ipv6).count()
            + added.iter().filter(|r| r.peer.is_ipv6() == ipv6).count();
        if count > MAX_RULES_PER_DIRECTION {
            return Err(ec2_err!(
                RulesPerSecurityGroupLimitExceeded,
                "The maximum number of rules per security group has been reached."
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocols_are_named_as_ec2_names_them() {
        assert_eq!(normalize_protocol("TCP").unwrap(), "tcp");
        assert_eq!(normalize_protocol("6").unwrap(), "tcp");
        assert_eq!(normalize_protocol("all").unwrap(), "-1");
        assert_eq!(normalize_protocol("50").unwrap(), "50");
        assert_eq!(normalize_protocol("bogus").unwrap_err().code, "InvalidParameterValue");
        assert_eq!(normalize_protocol("300").unwrap_err().code, "InvalidParameterValue");
    }

    #[test]
    fn ports_follow_the_protocol() {
        assert_eq!(check_ports("tcp", Some(22), Some(22)).unwrap(), (Some(22), Some(22)));
        assert_eq!(check_ports("tcp", Some(-1), Some(-1)).unwrap(), (Some(0), Some(65535)));
        assert!(check_ports("tcp", Some(22), None).is_err());
        assert!(check_ports("udp", Some(100), Some(99)).is_err());
        assert!(check_ports("tcp", Some(0), Some(70000)).is_err());
        assert_eq!(check_ports("-1", Some(0), Some(0)).unwrap(), (None, None));
        assert_eq!(check_ports("icmp", None, None).unwrap(), (Some(-1), Some(-1)));
        assert!(check_ports("icmp", Some(256), Some(0)).is_err());
    }

    #[test]
    fn cidrs_are_stored_canonical_and_bad_ones_refused() {
        assert_eq!(check_ipv4_cidr("10.1.2.3/16").unwrap(), "10.1.0.0/16");
        assert_eq!(check_ipv4_cidr("10.0.0.0/33").unwrap_err().message, "CIDR block 10.0.0.0/33 is malformed");
        assert_eq!(check_ipv6_cidr("::/0").unwrap(), "::/0");
        assert!(check_ipv6_cidr("10.0.0.0/8").is_err());
    }

    #[test]
    fn names_are_checked() {
        assert!(check_group_name("packer_6578a1b2").is_ok());
        assert_eq!(check_group_name("default").unwrap_err().code, "InvalidGroup.Reserved");
        assert!(check_group_name("sg-web").is_err());
        assert!(check_group_name("").is_err());
        assert!(check_group_name("caf\u{e9}").is_err());
    }

    #[test]
    fn duplicates_are_worded_as_on_ec2() {
        let spec = RuleSpec {
            protocol: "tcp".into(),
            from_port: Some(22),
            to_port: Some(22),
            peer: Peer::Ipv4("0.0.0.0/0".into()),
            description: None,
        };
        assert_eq!(spec.describe(), "peer: 0.0.0.0/0, TCP, from port: 22, to port: 22, ALLOW");
    }
}
