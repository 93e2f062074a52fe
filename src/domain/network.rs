//! The default network every account has in every region: one VPC (172.31.0.0/16), one
//! default subnet per availability zone, one default security group. Derived, not stored:
//! their ids are stable per account and region.

use super::ids::stable_id;
use super::regions::{self, Region, Zone};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subnet {
    pub subnet_id: String,
    pub vpc_id: String,
    pub zone: Zone,
    pub zone_index: usize,
    pub cidr: String,
}

pub fn default_vpc_id(account: &str, region: &str) -> String {
    stable_id("vpc", &[account, region, "default-vpc"])
}

pub fn default_security_group_id(account: &str, region: &str) -> String {
    stable_id("sg", &[account, region, "default-sg"])
}

pub fn default_subnets(account: &str, region: &Region) -> Vec<Subnet> {
    let vpc_id = default_vpc_id(account, region.name);
    regions::availability_zones(region)
        .into_iter()
        .enumerate()
        .map(|(zone_index, zone)| Subnet {
            subnet_id: stable_id("subnet", &[account, region.name, &zone.name]),
            vpc_id: vpc_id.clone(),
            cidr: super::instance::default_subnet_cidr(zone_index),
            zone,
            zone_index,
        })
        .collect()
}
