//! Internet gateways, route tables with their routes and associations, network ACLs.
//!
//! Every VPC has a main route table (its `local` routes, one per CIDR block of the VPC)
//! and a default network ACL that every subnet of the VPC is associated with. Routes
//! name one target: an internet gateway attached to the table's VPC, an instance, or a
//! network interface; a route whose target went away stays, as a `blackhole`.

use ipnet::{Ipv4Net, Ipv6Net};

use super::Vpc;
use crate::domain::ids::{new_id, IdKind};
use crate::ec2_err;
use crate::error::{Ec2Error, Result};

/// The `gatewayId` of the routes within the VPC.
pub const LOCAL: &str = "local";

/// Route tables a VPC may have, and routes (besides the local ones) a table may hold:
/// EC2's default quotas.
pub const MAX_ROUTE_TABLES_PER_VPC: i64 = 200;
pub const MAX_ROUTES_PER_TABLE: usize = 50;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InternetGateway {
    pub internet_gateway_id: String,
    pub owner_id: String,
    /// The VPC it is attached to (at most one).
    pub vpc_id: Option<String>,
    pub tags: Vec<(String, String)>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouteTable {
    pub route_table_id: String,
    pub owner_id: String,
    pub vpc_id: String,
    pub routes: Vec<Route>,
    pub associations: Vec<RouteTableAssociation>,
    pub tags: Vec<(String, String)>,
}

impl RouteTable {
    pub fn route(&self, destination: &str) -> Option<&Route> {
        self.routes.iter().find(|r| r.destination == destination)
    }

    /// Whether another route would pass the quota of routes per table.
    pub fn is_full(&self) -> bool {
        self.routes.iter().filter(|r| !r.is_local()).count() >= MAX_ROUTES_PER_TABLE
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Route {
    /// An IPv4 or IPv6 CIDR.
    pub destination: String,
    pub gateway_id: Option<String>,
    pub instance_id: Option<String>,
    pub instance_owner_id: Option<String>,
    pub network_interface_id: Option<String>,
    /// `CreateRouteTable` (the local routes) or `CreateRoute`.
    pub origin: String,
    /// `active`, or `blackhole` once its target is gone.
    pub state: String,
}

impl Route {
    pub fn is_ipv6(&self) -> bool {
        is_ipv6_destination(&self.destination)
    }

    pub fn is_local(&self) -> bool {
        self.gateway_id.as_deref() == Some(LOCAL)
    }
}

pub fn is_ipv6_destination(destination: &str) -> bool {
    destination.contains(':')
}

/// The local routes of a new route table of `vpc`: one per CIDR block of the VPC.
pub fn local_routes(vpc: &Vpc) -> Vec<Route> {
    [Some(&vpc.cidr_block), vpc.ipv6_cidr_block.as_ref()]
        .into_iter()
        .flatten()
        .map(|block| Route {
            destination: block.clone(),
            gateway_id: Some(LOCAL.to_string()),
            origin: "CreateRouteTable".to_string(),
            state: "active".to_string(),
            ..Default::default()
        })
        .collect()
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouteTableAssociation {
    pub association_id: String,
    pub route_table_id: String,
    pub vpc_id: String,
    pub subnet_id: Option<String>,
    pub main: bool,
}

/// A new `rtbassoc-` id.
pub fn new_association_id() -> String {
    new_id(IdKind::RouteTable).replacen("rtb-", "rtbassoc-", 1)
}

/// Checks the form of a route table association id.
pub fn check_association_id(id: &str) -> Result<()> {
    let hex = id.strip_prefix("rtbassoc-").unwrap_or("");
    let well_formed =
        (hex.len() == 8 || hex.len() == 17) && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if well_formed {
        Ok(())
    } else {
        Err(ec2_err!(InvalidAssociationID_Malformed, "Invalid id: \"{id}\" (expecting \"rtbassoc-...\")"))
    }
}

pub fn association_not_found(id: &str) -> Ec2Error {
    ec2_err!(InvalidAssociationID_NotFound, "The association ID '{id}' does not exist")
}

/// A route's destination, IPv4 or IPv6, as EC2 stores it: host bits cleared, the
/// canonical spelling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    V4(Ipv4Net),
    V6(Ipv6Net),
}

impl Destination {
    /// `DestinationCidrBlock` or `DestinationIpv6CidrBlock` (exactly one).
    pub fn parse(ipv4: Option<&str>, ipv6: Option<&str>) -> Result<Destination> {
        match (ipv4, ipv6) {
            (Some(_), Some(_)) => Err(ec2_err!(
                InvalidParameterCombination,
                "The parameter destinationCidrBlock cannot be used with the parameter destinationIpv6CidrBlock"
            )),
            (Some(block), None) => block
                .parse::<Ipv4Net>()
                .map(|net| Destination::V4(net.trunc()))
                .map_err(|_| not_a_cidr("destinationCidrBlock", block)),
            (None, Some(block)) => block
                .parse::<Ipv6Net>()
                .map(|net| Destination::V6(net.trunc()))
                .map_err(|_| not_a_cidr("destinationIpv6CidrBlock", block)),
            (None, None) => Err(ec2_err!(
                MissingParameter,
                "The request must contain the parameter destinationCidrBlock or destinationIpv6CidrBlock"
            )),
        }
    }

    /// The parameter EC2 names in its messages about this destination.
    pub fn parameter(&self) -> &'static str {
        match self {
            Destination::V4(_) => "destination-cidr-block",
            Destination::V6(_) => "destination-ipv6-cidr-block",
        }
    }

    /// Whether the destination lies within one of the VPC's blocks (equal or more
    /// specific): such routes may only go to an interface or an instance.
    pub fn inside_vpc(&self, vpc: &Vpc) -> bool {
        match self {
            Destination::V4(net) => vpc.cidr_block.parse::<Ipv4Net>().is_ok_and(|block| block.contains(net)),
            Destination::V6(net) => {
                vpc.ipv6_cidr_block.as_deref().and_then(|b| b.parse::<Ipv6Net>().ok()).is_some_and(|b| b.contains(net))
            }
        }
    }
}

impl std::fmt::Display for Destination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Destination::V4(net) => net.fmt(f),
            Destination::V6(net) => net.fmt(f),
        }
    }
}

fn not_a_cidr(parameter: &str, value: &str) -> Ec2Error {
    ec2_err!(
        InvalidParameterValue,
        "Value ({value}) for parameter {parameter} is invalid. This is not a valid CIDR block."
    )
}

/// What a route sends its traffic to, as the request names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteTarget {
    Gateway(String),
    Instance(String),
    NetworkInterface(String),
}

/// The target members of CreateRoute / ReplaceRoute that ec2lite has no resources for.
pub const UNSUPPORTED_TARGETS: &[&str] = &[
    "NatGatewayId",
    "TransitGatewayId",
    "VpcPeeringConnectionId",
    "EgressOnlyInternetGatewayId",
    "LocalGatewayId",
    "CarrierGatewayId",
    "VpcEndpointId",
    "CoreNetworkArn",
];

impl RouteTarget {
    /// Exactly one of `GatewayId`, `InstanceId`, `NetworkInterfaceId` (as read from the
    /// request, in that order of members).
    pub fn from_members(gateway: Option<&str>, instance: Option<&str>, interface: Option<&str>) -> Result<RouteTarget> {
        let given: Vec<RouteTarget> = [
            gateway.map(|id| RouteTarget::Gateway(id.to_string())),
            instance.map(|id| RouteTarget::Instance(id.to_string())),
            interface.map(|id| RouteTarget::NetworkInterface(id.to_string())),
        ]
        .into_iter()
        .flatten()
        .collect();
        match <[RouteTarget; 1]>::try_from(given) {
            Ok([target]) => Ok(target),
            Err(given) if given.is_empty() => Err(ec2_err!(
                MissingParameter,
                "The request must contain exactly one of gatewayId, natGatewayId, networkInterfaceId, \
                 vpcPeeringConnectionId, egressOnlyInternetGatewayId, transitGatewayId, localGatewayId, \
                 carrierGatewayId, coreNetworkArn, vpcEndpointId or instanceId"
            )),
            Err(_) => Err(ec2_err!(InvalidParameterCombination, "More than one target specified for the route.")),
        }
    }

    pub fn is_gateway(&self) -> bool {
        matches!(self, RouteTarget::Gateway(_))
    }
}

/// A route table and a resource of another VPC: EC2's refusal.
pub fn different_networks(route_table_id: &str, noun: &str, other_id: &str) -> Ec2Error {
    ec2_err!(InvalidParameterValue, "route table {route_table_id} and {noun} {other_id} belong to different networks")
}

/// The default network ACL of a VPC, associated with every subnet of the VPC.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetworkAcl {
    pub network_acl_id: String,
    pub owner_id: String,
    pub vpc_id: String,
    pub is_default: bool,
    /// Whether the VPC has an IPv6 block (the ACL then has IPv6 entries too).
    pub ipv6: bool,
    pub subnet_ids: Vec<String>,
    pub tags: Vec<(String, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AclEntry {
    pub rule_number: u32,
    pub egress: bool,
    pub allow: bool,
    pub cidr: &'static str,
}

impl AclEntry {
    pub fn is_ipv6(&self) -> bool {
        is_ipv6_destination(self.cidr)
    }
}

/// The rule number of the catch-all deny entry (shown as `*` by the console).
pub const DENY_ALL_RULE: u32 = 32767;

impl NetworkAcl {
    /// A default ACL's entries: allow all (100) and deny all (32767), out then in, and
    /// the same for `::/0` (101 and 32768) when the VPC has IPv6.
    pub fn entries(&self) -> Vec<AclEntry> {
        let mut entries = Vec::new();
        for egress in [true, false] {
            let mut rules = vec![(100, true, "0.0.0.0/0"), (DENY_ALL_RULE, false, "0.0.0.0/0")];
            if self.ipv6 {
                rules.extend([(101, true, "::/0"), (DENY_ALL_RULE + 1, false, "::/0")]);
            }
            rules.sort_by_key(|(n, _, _)| *n);
            entries.extend(rules.into_iter().map(|(rule_number, allow, cidr)| AclEntry {
                rule_number,
                egress,
                allow,
                cidr,
            }));
        }
        entries
    }
}

/// The id of the association of a subnet with its VPC's default ACL: derived from the
/// subnet's id, so that it is stable and the store can compute it too.
pub fn acl_association_id(subnet_id: &str) -> String {
    format!("aclassoc-{}", subnet_id.strip_prefix("subnet-").unwrap_or(subnet_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations_are_aligned_and_checked() {
        let dest = Destination::parse(Some("10.0.1.7/24"), None).unwrap();
        assert_eq!(dest.to_string(), "10.0.1.0/24");
        let dest = Destination::parse(None, Some("2600:1F18:0:1::/64")).unwrap();
        assert_eq!(
            (dest.to_string().as_str(), dest.parameter()),
            ("2600:1f18:0:1::/64", "destination-ipv6-cidr-block")
        );
        let err = Destination::parse(Some("banana"), None).unwrap_err();
        assert_eq!(
            err.message,
            "Value (banana) for parameter destinationCidrBlock is invalid. This is not a valid CIDR block."
        );
        assert_eq!(Destination::parse(None, None).unwrap_err().code, "MissingParameter");
        assert_eq!(Destination::parse(None, Some("10.0.0.0/8")).unwrap_err().code, "InvalidParameterValue");
        let both = Destination::parse(Some("0.0.0.0/0"), Some("::/0")).unwrap_err();
        assert_eq!(both.code, "InvalidParameterCombination");
    }

    #[test]
    fn destinations_inside_the_vpc_are_known() {
        let vpc = Vpc {
            cidr_block: "10.0.0.0/16".into(),
            ipv6_cidr_block: Some("2600:1f18:12:3400::/56".into()),
            ..Default::default()
        };
        let inside = |v4: Option<&str>, v6: Option<&str>| Destination::parse(v4, v6).unwrap().inside_vpc(&vpc);
        assert!(inside(Some("10.0.0.0/16"), None));
        assert!(inside(Some("10.0.3.0/24"), None));
        assert!(!inside(Some("0.0.0.0/0"), None));
        assert!(inside(None, Some("2600:1f18:12:3401::/64")));
        assert!(!inside(None, Some("::/0")));
    }

    #[test]
    fn a_route_has_exactly_one_target() {
        assert_eq!(RouteTarget::from_members(Some("igw-1"), None, None).unwrap(), RouteTarget::Gateway("igw-1".into()));
        assert_eq!(RouteTarget::from_members(None, None, None).unwrap_err().code, "MissingParameter");
        let two = RouteTarget::from_members(Some("igw-1"), Some("i-1"), None).unwrap_err();
        assert_eq!(two.code, "InvalidParameterCombination");
    }

    #[test]
    fn local_routes_cover_every_block_of_the_vpc() {
        let vpc = Vpc {
            cidr_block: "10.0.0.0/16".into(),
            ipv6_cidr_block: Some("2600:1f18:12:3400::/56".into()),
            ..Default::default()
        };
        let routes = local_routes(&vpc);
        assert_eq!(routes.len(), 2);
        assert!(routes.iter().all(|r| r.is_local() && r.origin == "CreateRouteTable"));
        assert!(routes[1].is_ipv6() && !routes[0].is_ipv6());
    }

    #[test]
    fn default_acl_entries() {
        let mut acl = NetworkAcl::default();
        let rules: Vec<(u32, bool, bool)> = acl.entries().iter().map(|e| (e.rule_number, e.egress, e.allow)).collect();
        assert_eq!(rules, [(100, true, true), (32767, true, false), (100, false, true), (32767, false, false)]);
        acl.ipv6 = true;
        let entries = acl.entries();
        assert_eq!(entries.len(), 8);
        assert_eq!(
            entries.iter().filter(|e| e.is_ipv6()).map(|e| e.rule_number).collect::<Vec<_>>(),
            [101, 32768, 101, 32768]
        );
    }

    #[test]
    fn association_ids() {
        assert!(check_association_id(&new_association_id()).is_ok());
        assert_eq!(check_association_id("rtb-12345678").unwrap_err().code, "InvalidAssociationID.Malformed");
        assert_eq!(acl_association_id("subnet-0123456789abcdef0"), "aclassoc-0123456789abcdef0");
    }
}
