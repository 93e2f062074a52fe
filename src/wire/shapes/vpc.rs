//! The `Vpc` (DescribeVpcs) and `Subnet` (DescribeSubnets) shapes.

use crate::domain::network::{Subnet, DEFAULT_VPC_CIDR};
use crate::wire::xml::Xml;

/// The default VPC `vpc_id` of account `owner_id`.
pub fn write_default_vpc(x: &mut Xml, owner_id: &str, vpc_id: &str, dhcp_options_id: &str) {
    x.text("vpcId", vpc_id)
        .text("ownerId", owner_id)
        .text("state", "available")
        .text("cidrBlock", DEFAULT_VPC_CIDR)
        .open("cidrBlockAssociationSet")
        .open("item")
        .text("cidrBlock", DEFAULT_VPC_CIDR)
        .text("associationId", &vpc_id.replace("vpc-", "vpc-cidr-assoc-"))
        .open("cidrBlockState")
        .text("state", "associated")
        .close("cidrBlockState")
        .close("item")
        .close("cidrBlockAssociationSet")
        .text("dhcpOptionsId", dhcp_options_id)
        .text("instanceTenancy", "default")
        .bool("isDefault", true);
}

/// A default subnet of account `owner_id` in `region`.
pub fn write_default_subnet(x: &mut Xml, owner_id: &str, region: &str, s: &Subnet) {
    x.text("subnetId", &s.subnet_id)
        .text("subnetArn", &format!("arn:aws:ec2:{region}:{owner_id}:subnet/{}", s.subnet_id))
        .text("state", "available")
        .text("ownerId", owner_id)
        .text("vpcId", &s.vpc_id)
        .text("cidrBlock", &s.cidr_block)
        .empty("ipv6CidrBlockAssociationSet")
        .num("availableIpAddressCount", 4091)
        .text("availabilityZone", &s.availability_zone)
        .text("availabilityZoneId", &s.availability_zone_id)
        .bool("defaultForAz", true)
        .bool("mapPublicIpOnLaunch", true)
        .bool("assignIpv6AddressOnCreation", false);
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWNER: &str = "000000000000";
    const VPC: &str = "vpc-0123456789abcdef0";

    #[test]
    fn golden_vpc() {
        let mut x = Xml::new();
        write_default_vpc(&mut x, OWNER, VPC, "dopt-0123456789abcdef0");
        assert_eq!(
            x.as_str(),
            "<vpcId>vpc-0123456789abcdef0</vpcId><ownerId>000000000000</ownerId><state>available</state>\
             <cidrBlock>172.31.0.0/16</cidrBlock><cidrBlockAssociationSet><item><cidrBlock>172.31.0.0/16</cidrBlock>\
             <associationId>vpc-cidr-assoc-0123456789abcdef0</associationId><cidrBlockState><state>associated</state>\
             </cidrBlockState></item></cidrBlockAssociationSet><dhcpOptionsId>dopt-0123456789abcdef0</dhcpOptionsId>\
             <instanceTenancy>default</instanceTenancy><isDefault>true</isDefault>"
        );
    }

    #[test]
    fn golden_subnet() {
        let subnet = Subnet {
            subnet_id: "subnet-0123456789abcdef0".into(),
            vpc_id: VPC.into(),
            availability_zone: "us-east-1b".into(),
            availability_zone_id: "use1-az2".into(),
            cidr_block: "172.31.16.0/20".into(),
            ..Default::default()
        };
        let mut x = Xml::new();
        write_default_subnet(&mut x, OWNER, "us-east-1", &subnet);
        assert_eq!(
            x.as_str(),
            "<subnetId>subnet-0123456789abcdef0</subnetId>\
             <subnetArn>arn:aws:ec2:us-east-1:000000000000:subnet/subnet-0123456789abcdef0</subnetArn>\
             <state>available</state><ownerId>000000000000</ownerId><vpcId>vpc-0123456789abcdef0</vpcId>\
             <cidrBlock>172.31.16.0/20</cidrBlock><ipv6CidrBlockAssociationSet/><availableIpAddressCount>4091</availableIpAddressCount>\
             <availabilityZone>us-east-1b</availabilityZone><availabilityZoneId>use1-az2</availabilityZoneId>\
             <defaultForAz>true</defaultForAz><mapPublicIpOnLaunch>true</mapPublicIpOnLaunch>\
             <assignIpv6AddressOnCreation>false</assignIpv6AddressOnCreation>"
        );
    }
}
