//! The shapes of the default network every account has: `Vpc` (DescribeVpcs), `Subnet`
//! (DescribeSubnets) and `SecurityGroup` (DescribeSecurityGroups).

use crate::domain::instance::DEFAULT_VPC_CIDR;
use crate::domain::network::Subnet;
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
        .text("cidrBlock", &s.cidr)
        .empty("ipv6CidrBlockAssociationSet")
        .num("availableIpAddressCount", 4091)
        .text("availabilityZone", &s.zone.name)
        .text("availabilityZoneId", &s.zone.id)
        .bool("defaultForAz", true)
        .bool("mapPublicIpOnLaunch", true)
        .bool("assignIpv6AddressOnCreation", false);
}

/// The default security group `group_id` of VPC `vpc_id`: all traffic in from its own
/// members, all traffic out.
pub fn write_default_security_group(x: &mut Xml, owner_id: &str, group_id: &str, vpc_id: &str) {
    x.text("ownerId", owner_id)
        .text("groupId", group_id)
        .text("groupName", "default")
        .text("groupDescription", "default VPC security group")
        .text("vpcId", vpc_id)
        .open("ipPermissions")
        .open("item")
        .text("ipProtocol", "-1")
        .open("groups")
        .open("item")
        .text("userId", owner_id)
        .text("groupId", group_id)
        .close("item")
        .close("groups")
        .empty("ipRanges")
        .close("item")
        .close("ipPermissions")
        .open("ipPermissionsEgress")
        .open("item")
        .text("ipProtocol", "-1")
        .empty("groups")
        .open("ipRanges")
        .open("item")
        .text("cidrIp", "0.0.0.0/0")
        .close("item")
        .close("ipRanges")
        .close("item")
        .close("ipPermissionsEgress");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::regions;

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
        let region = regions::find("us-east-1").unwrap();
        let subnet = Subnet {
            subnet_id: "subnet-0123456789abcdef0".into(),
            vpc_id: VPC.into(),
            zone: regions::zone_by_name(region, "us-east-1b").unwrap(),
            zone_index: 1,
            cidr: "172.31.16.0/20".into(),
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

    #[test]
    fn golden_security_group() {
        let mut x = Xml::new();
        write_default_security_group(&mut x, OWNER, "sg-0123456789abcdef0", VPC);
        assert_eq!(
            x.as_str(),
            "<ownerId>000000000000</ownerId><groupId>sg-0123456789abcdef0</groupId><groupName>default</groupName>\
             <groupDescription>default VPC security group</groupDescription><vpcId>vpc-0123456789abcdef0</vpcId>\
             <ipPermissions><item><ipProtocol>-1</ipProtocol><groups><item><userId>000000000000</userId>\
             <groupId>sg-0123456789abcdef0</groupId></item></groups><ipRanges/></item></ipPermissions>\
             <ipPermissionsEgress><item><ipProtocol>-1</ipProtocol><groups/><ipRanges><item><cidrIp>0.0.0.0/0</cidrIp>\
             </item></ipRanges></item></ipPermissionsEgress>"
        );
    }
}
