//! Networking: VPCs and what lives in them, per account and region.
//!
//! Every scope (account, region) has a default network, created on first use with ids
//! stable per scope: the default VPC `172.31.0.0/16`, one default `/20` subnet per
//! availability zone, the VPC's main route table (local route and a default route to the
//! attached internet gateway), its default network ACL and its default security group.

pub mod address;
pub mod cidr;
pub mod interface;
pub mod routing;
pub mod security_group;

use super::ids::{new_id, stable_id, IdKind};
use super::regions::{self, Region, Zone};

pub const DEFAULT_VPC_CIDR: &str = "172.31.0.0/16";

/// The `/20` default subnet of the zone at `zone_index`.
pub fn default_subnet_cidr(zone_index: usize) -> String {
    format!("172.31.{}.0/20", zone_index * 16)
}

pub fn default_vpc_id(account: &str, region: &str) -> String {
    stable_id("vpc", &[account, region, "default-vpc"])
}

pub fn default_security_group_id(account: &str, region: &str) -> String {
    stable_id("sg", &[account, region, "default-sg"])
}

pub fn default_internet_gateway_id(account: &str, region: &str) -> String {
    stable_id("igw", &[account, region, "default-igw"])
}

pub fn default_subnet_id(account: &str, region: &str, zone: &str) -> String {
    stable_id("subnet", &[account, region, zone])
}

pub fn dhcp_options_id(account: &str, region: &str) -> String {
    stable_id("dopt", &[account, region])
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Vpc {
    pub vpc_id: String,
    pub owner_id: String,
    pub region: String,
    pub cidr_block: String,
    pub cidr_association_id: String,
    pub ipv6_cidr_block: Option<String>,
    pub ipv6_association_id: Option<String>,
    pub is_default: bool,
    pub state: String,
    pub instance_tenancy: String,
    pub dhcp_options_id: String,
    pub enable_dns_support: bool,
    pub enable_dns_hostnames: bool,
    pub enable_network_address_usage_metrics: bool,
    pub tags: Vec<(String, String)>,
}

impl Vpc {
    /// The security group every VPC is created with (the scope's first default VPC keeps
    /// the id its group has always had).
    pub fn default_security_group_id(&self) -> String {
        if self.vpc_id == default_vpc_id(&self.owner_id, &self.region) {
            default_security_group_id(&self.owner_id, &self.region)
        } else {
            stable_id("sg", &[&self.vpc_id, "default-sg"])
        }
    }

    pub fn main_route_table_id(&self) -> String {
        stable_id("rtb", &[&self.vpc_id, "main"])
    }

    pub fn main_association_id(&self) -> String {
        stable_id("rtbassoc", &[&self.vpc_id, "main"])
    }

    pub fn default_network_acl_id(&self) -> String {
        stable_id("acl", &[&self.vpc_id, "default"])
    }

    /// The first default VPC of a scope (its id is stable per scope).
    pub fn default_for(account: &str, region: &str) -> Vpc {
        Vpc::new_default(account, region, default_vpc_id(account, region))
    }

    /// A default VPC with id `vpc_id` (CreateDefaultVpc makes one with a new id).
    pub fn new_default(account: &str, region: &str, vpc_id: String) -> Vpc {
        Vpc {
            cidr_association_id: stable_id("vpc-cidr-assoc", &[&vpc_id]),
            vpc_id,
            owner_id: account.to_string(),
            region: region.to_string(),
            cidr_block: DEFAULT_VPC_CIDR.to_string(),
            is_default: true,
            state: "available".to_string(),
            instance_tenancy: "default".to_string(),
            dhcp_options_id: dhcp_options_id(account, region),
            enable_dns_support: true,
            enable_dns_hostnames: true,
            ..Default::default()
        }
    }

    /// A new VPC of the caller (CreateVpc): DNS support on, hostnames off, as EC2 makes them.
    pub fn new(account: &str, region: &str, cidr_block: &str, instance_tenancy: &str) -> Vpc {
        let vpc_id = new_id(IdKind::Vpc);
        Vpc {
            cidr_association_id: stable_id("vpc-cidr-assoc", &[&vpc_id]),
            vpc_id,
            owner_id: account.to_string(),
            region: region.to_string(),
            cidr_block: cidr_block.to_string(),
            state: "available".to_string(),
            instance_tenancy: instance_tenancy.to_string(),
            dhcp_options_id: dhcp_options_id(account, region),
            enable_dns_support: true,
            ..Default::default()
        }
    }

    /// Gives the VPC an Amazon-provided IPv6 /56, numbered from its id.
    pub fn with_amazon_ipv6(mut self) -> Vpc {
        let n = u64::from_str_radix(&self.vpc_id[self.vpc_id.len() - 8..], 16).unwrap_or(0);
        self.ipv6_cidr_block = Some(cidr::amazon_ipv6_block(n));
        self.ipv6_association_id = Some(stable_id("vpc-cidr-assoc", &[&self.vpc_id, "ipv6"]));
        self
    }

    pub fn arn(&self) -> String {
        format!("arn:aws:ec2:{}:{}:vpc/{}", self.region, self.owner_id, self.vpc_id)
    }
}

/// The attributes of a VPC that ModifyVpcAttribute and DescribeVpcAttribute name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VpcAttribute {
    EnableDnsSupport,
    EnableDnsHostnames,
    EnableNetworkAddressUsageMetrics,
}

impl VpcAttribute {
    pub const ALL: [VpcAttribute; 3] = [
        VpcAttribute::EnableDnsSupport,
        VpcAttribute::EnableDnsHostnames,
        VpcAttribute::EnableNetworkAddressUsageMetrics,
    ];

    /// The name as DescribeVpcAttribute's `Attribute` and its answer spell it.
    pub fn name(self) -> &'static str {
        match self {
            VpcAttribute::EnableDnsSupport => "enableDnsSupport",
            VpcAttribute::EnableDnsHostnames => "enableDnsHostnames",
            VpcAttribute::EnableNetworkAddressUsageMetrics => "enableNetworkAddressUsageMetrics",
        }
    }

    /// The member ModifyVpcAttribute sets it with (`<Member>.Value`).
    pub fn member(self) -> &'static str {
        match self {
            VpcAttribute::EnableDnsSupport => "EnableDnsSupport",
            VpcAttribute::EnableDnsHostnames => "EnableDnsHostnames",
            VpcAttribute::EnableNetworkAddressUsageMetrics => "EnableNetworkAddressUsageMetrics",
        }
    }

    pub fn column(self) -> &'static str {
        match self {
            VpcAttribute::EnableDnsSupport => "enable_dns_support",
            VpcAttribute::EnableDnsHostnames => "enable_dns_hostnames",
            VpcAttribute::EnableNetworkAddressUsageMetrics => "enable_network_address_usage_metrics",
        }
    }

    pub fn value_of(self, vpc: &Vpc) -> bool {
        match self {
            VpcAttribute::EnableDnsSupport => vpc.enable_dns_support,
            VpcAttribute::EnableDnsHostnames => vpc.enable_dns_hostnames,
            VpcAttribute::EnableNetworkAddressUsageMetrics => vpc.enable_network_address_usage_metrics,
        }
    }

    pub fn from_name(name: &str) -> Option<VpcAttribute> {
        VpcAttribute::ALL.into_iter().find(|a| a.name() == name)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subnet {
    pub subnet_id: String,
    pub owner_id: String,
    pub region: String,
    pub vpc_id: String,
    pub cidr_block: String,
    pub ipv6_cidr_block: Option<String>,
    pub ipv6_association_id: Option<String>,
    pub availability_zone: String,
    pub availability_zone_id: String,
    pub default_for_az: bool,
    pub map_public_ip_on_launch: bool,
    pub assign_ipv6_address_on_creation: bool,
    pub state: String,
    pub enable_dns64: bool,
    pub ipv6_native: bool,
    /// `ip-name` or `resource-name`: how instances launched here are named.
    pub hostname_type: String,
    pub enable_resource_name_dns_a_record: bool,
    pub enable_resource_name_dns_aaaa_record: bool,
    /// Addresses not reserved (5 per subnet) nor taken by a network interface.
    pub available_ip_address_count: i64,
    pub tags: Vec<(String, String)>,
}

impl Subnet {
    pub fn arn(&self) -> String {
        format!("arn:aws:ec2:{}:{}:subnet/{}", self.region, self.owner_id, self.subnet_id)
    }
}

/// The default subnets of a scope, one per standard availability zone.
pub fn default_subnets(account: &str, region: &Region) -> Vec<Subnet> {
    let vpc_id = default_vpc_id(account, region.name);
    regions::availability_zones(region)
        .into_iter()
        .enumerate()
        .map(|(zone_index, zone): (usize, Zone)| {
            let cidr_block = default_subnet_cidr(zone_index);
            Subnet {
                subnet_id: default_subnet_id(account, region.name, &zone.name),
                owner_id: account.to_string(),
                region: region.name.to_string(),
                vpc_id: vpc_id.clone(),
                available_ip_address_count: cidr::usable_addresses(&cidr_block),
                cidr_block,
                availability_zone: zone.name,
                availability_zone_id: zone.id,
                default_for_az: true,
                map_public_ip_on_launch: true,
                hostname_type: "ip-name".to_string(),
                state: "available".to_string(),
                ..Default::default()
            }
        })
        .collect()
}

/// `ip-172-31-5-10.ec2.internal` in us-east-1, `ip-….<region>.compute.internal` elsewhere.
/// An address Amazon gives an instance at launch (from 3.80.0.0-3.239.255.255; Elastic
/// IPs come from elsewhere, so the two never collide).
pub fn random_public_ip() -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    format!("3.{}.{}.{}", rng.random_range(80..240), rng.random_range(0..256), rng.random_range(1..255))
}

pub fn private_dns_name(ip: &str, region: &str) -> String {
    let host = format!("ip-{}", ip.replace('.', "-"));
    if region == "us-east-1" {
        format!("{host}.ec2.internal")
    } else {
        format!("{host}.{region}.compute.internal")
    }
}

pub fn public_dns_name(ip: &str, region: &str) -> String {
    let host = format!("ec2-{}", ip.replace('.', "-"));
    if region == "us-east-1" {
        format!("{host}.compute-1.amazonaws.com")
    } else {
        format!("{host}.{region}.compute.amazonaws.com")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_network_is_stable_per_scope() {
        let region = regions::find("us-east-1").unwrap();
        let subnets = default_subnets("123456789012", region);
        assert_eq!(subnets.len(), regions::availability_zones(region).len());
        assert_eq!(subnets[1].cidr_block, "172.31.16.0/20");
        assert_eq!(subnets[1].available_ip_address_count, 4091);
        assert_eq!(subnets, default_subnets("123456789012", region));
        assert_ne!(default_vpc_id("123456789012", "us-east-1"), default_vpc_id("123456789013", "us-east-1"));
        assert!(Vpc::default_for("123456789012", "us-east-1").is_default);
    }

    #[test]
    fn dns_names() {
        assert_eq!(private_dns_name("172.31.16.4", "us-east-1"), "ip-172-31-16-4.ec2.internal");
        assert_eq!(private_dns_name("172.31.0.9", "eu-west-1"), "ip-172-31-0-9.eu-west-1.compute.internal");
    }
}
