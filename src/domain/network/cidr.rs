//! IPv4/IPv6 CIDR rules of VPCs and subnets, on `ipnet`.

use std::net::Ipv4Addr;

use ipnet::{Ipv4Net, Ipv6Net};

use crate::ec2_err;
use crate::error::Result;

/// Addresses AWS reserves in every subnet: network, router, DNS, future use, broadcast.
pub const RESERVED_PER_SUBNET: i64 = 5;

/// A well-formed IPv4 CIDR whose host bits are zero (what EC2 accepts for VPCs and
/// subnets), or `None`.
pub fn parse_ipv4(cidr: &str) -> Option<Ipv4Net> {
    let net: Ipv4Net = cidr.parse().ok()?;
    (net.network() == net.addr()).then_some(net)
}

pub fn parse_ipv6(cidr: &str) -> Option<Ipv6Net> {
    let net: Ipv6Net = cidr.parse().ok()?;
    (net.network() == net.addr()).then_some(net)
}

fn not_a_cidr(cidr: &str) -> crate::error::Ec2Error {
    ec2_err!(
        InvalidParameterValue,
        "Value ({cidr}) for parameter cidrBlock is invalid. This is not a valid CIDR block."
    )
}

/// A VPC's primary block: /16 to /28.
pub fn check_vpc_cidr(cidr: &str) -> Result<Ipv4Net> {
    let net = parse_ipv4(cidr).ok_or_else(|| not_a_cidr(cidr))?;
    if !(16..=28).contains(&net.prefix_len()) {
        return Err(ec2_err!(InvalidVpc_Range, "The CIDR '{cidr}' is invalid."));
    }
    Ok(net)
}

/// A subnet's block: /16 to /28, inside its VPC's block, overlapping none of `siblings`.
pub fn check_subnet_cidr(cidr: &str, vpc_cidr: &str, siblings: &[String]) -> Result<Ipv4Net> {
    let net = parse_ipv4(cidr).ok_or_else(|| not_a_cidr(cidr))?;
    let vpc = parse_ipv4(vpc_cidr).expect("stored VPC CIDRs are valid");
    if !(16..=28).contains(&net.prefix_len()) || !vpc.contains(&net) {
        return Err(ec2_err!(InvalidSubnet_Range, "The CIDR '{cidr}' is invalid."));
    }
    if siblings.iter().filter_map(|s| parse_ipv4(s)).any(|other| overlaps(net, other)) {
        return Err(ec2_err!(InvalidSubnet_Conflict, "The CIDR '{cidr}' conflicts with another subnet"));
    }
    Ok(net)
}

pub fn overlaps(a: Ipv4Net, b: Ipv4Net) -> bool {
    a.contains(&b) || b.contains(&a)
}

/// The addresses a new subnet of this block offers: its size less the reserved five.
pub fn usable_addresses(cidr: &str) -> i64 {
    parse_ipv4(cidr).map_or(0, |net| (1i64 << (32 - net.prefix_len())) - RESERVED_PER_SUBNET)
}

/// The first address of `cidr` at or after `first_offset` (4: after the reserved ones)
/// that `taken` does not hold, leaving out the broadcast address.
pub fn first_free_address(cidr: &str, taken: &[String]) -> Option<String> {
    let net = parse_ipv4(cidr)?;
    let base = u32::from(net.network());
    let size = 1u32 << (32 - net.prefix_len());
    (4..size - 1).map(|offset| Ipv4Addr::from(base + offset).to_string()).find(|ip| !taken.contains(ip))
}

/// Up to `n` usable addresses of `cidr` that `taken` does not hold, lowest first.
pub fn free_addresses(cidr: &str, taken: &std::collections::HashSet<String>, n: usize) -> Vec<String> {
    let Some(net) = parse_ipv4(cidr) else { return Vec::new() };
    let base = u32::from(net.network());
    let size = 1u32 << (32 - net.prefix_len());
    (4..size - 1)
        .map(|offset| Ipv4Addr::from(base + offset).to_string())
        .filter(|ip| !taken.contains(ip))
        .take(n)
        .collect()
}

/// The usable address number `n` of `cidr` (wrapping), counting from the first after
/// the reserved ones.
pub fn address_at(cidr: &str, n: u32) -> Option<String> {
    let net = parse_ipv4(cidr)?;
    let usable = (1u32 << (32 - net.prefix_len())) - RESERVED_PER_SUBNET as u32;
    Some(Ipv4Addr::from(u32::from(net.network()) + 4 + n % usable).to_string())
}

/// Whether `ip` is a usable host address of `cidr` (not one of the reserved five).
pub fn is_usable_address(cidr: &str, ip: &str) -> bool {
    let (Some(net), Ok(addr)) = (parse_ipv4(cidr), ip.parse::<Ipv4Addr>()) else { return false };
    let offset = u32::from(addr).wrapping_sub(u32::from(net.network()));
    net.contains(&addr) && offset >= 4 && addr != net.broadcast()
}

/// An Amazon-provided IPv6 /56, from a number.
pub fn amazon_ipv6_block(n: u64) -> String {
    format!("2600:1f18:{:x}:{:x}00::/56", (n >> 8) & 0xffff, n & 0xff)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vpc_blocks() {
        assert!(check_vpc_cidr("10.0.0.0/16").is_ok());
        assert!(check_vpc_cidr("10.0.0.0/28").is_ok());
        assert_eq!(check_vpc_cidr("10.0.0.0/8").unwrap_err().code, "InvalidVpc.Range");
        assert_eq!(check_vpc_cidr("10.0.0.0/29").unwrap_err().code, "InvalidVpc.Range");
        assert_eq!(check_vpc_cidr("10.0.0.1/16").unwrap_err().code, "InvalidParameterValue");
        assert_eq!(check_vpc_cidr("10.0.0.0/33").unwrap_err().code, "InvalidParameterValue");
        assert_eq!(check_vpc_cidr("banana").unwrap_err().code, "InvalidParameterValue");
    }

    #[test]
    fn subnet_blocks() {
        let siblings = vec!["10.0.1.0/24".to_string()];
        assert!(check_subnet_cidr("10.0.2.0/24", "10.0.0.0/16", &siblings).is_ok());
        assert_eq!(
            check_subnet_cidr("10.0.1.128/25", "10.0.0.0/16", &siblings).unwrap_err().code,
            "InvalidSubnet.Conflict"
        );
        assert_eq!(check_subnet_cidr("10.0.0.0/15", "10.0.0.0/16", &siblings).unwrap_err().code, "InvalidSubnet.Range");
        assert_eq!(check_subnet_cidr("10.1.0.0/24", "10.0.0.0/16", &siblings).unwrap_err().code, "InvalidSubnet.Range");
    }

    #[test]
    fn addresses() {
        assert_eq!(usable_addresses("172.31.0.0/20"), 4091);
        assert_eq!(usable_addresses("10.0.0.0/28"), 11);
        assert_eq!(first_free_address("10.0.0.0/28", &[]).as_deref(), Some("10.0.0.4"));
        assert_eq!(first_free_address("10.0.0.0/28", &["10.0.0.4".into()]).as_deref(), Some("10.0.0.5"));
        let all: Vec<String> = (4..15).map(|i| format!("10.0.0.{i}")).collect();
        assert_eq!(first_free_address("10.0.0.0/28", &all), None);
        let taken: std::collections::HashSet<String> = ["10.0.0.5".to_string()].into();
        assert_eq!(free_addresses("10.0.0.0/28", &taken, 2), ["10.0.0.4", "10.0.0.6"]);
        assert_eq!(free_addresses("10.0.0.0/28", &taken, 20).len(), 10);
        assert!(is_usable_address("10.0.0.0/28", "10.0.0.9"));
        assert!(!is_usable_address("10.0.0.0/28", "10.0.0.2"));
        assert!(!is_usable_address("10.0.0.0/28", "10.0.0.15"));
        assert!(!is_usable_address("10.0.0.0/28", "10.0.1.9"));
        assert_eq!(amazon_ipv6_block(0x1234), "2600:1f18:12:3400::/56");
    }
}
