//! The `Vpc` (CreateVpc, DescribeVpcs) and `Subnet` (CreateSubnet, DescribeSubnets)
//! shapes, and DescribeVpcAttribute's answer.

use crate::domain::network::{Subnet, Vpc, VpcAttribute};
use crate::wire::xml::Xml;

/// A VPC as EC2 shows it; `state` is `pending` in CreateVpc's answer, as on EC2.
pub fn write_vpc(x: &mut Xml, vpc: &Vpc, state: &str) {
    x.text("vpcId", &vpc.vpc_id)
        .text("ownerId", &vpc.owner_id)
        .text("state", state)
        .text("cidrBlock", &vpc.cidr_block)
        .open("cidrBlockAssociationSet")
        .open("item")
        .text("cidrBlock", &vpc.cidr_block)
        .text("associationId", &vpc.cidr_association_id)
        .open("cidrBlockState")
        .text("state", "associated")
        .close("cidrBlockState")
        .close("item")
        .close("cidrBlockAssociationSet");
    if let (Some(block), Some(association)) = (&vpc.ipv6_cidr_block, &vpc.ipv6_association_id) {
        x.open("ipv6CidrBlockAssociationSet")
            .open("item")
            .text("ipv6CidrBlock", block)
            .text("associationId", association)
            .open("ipv6CidrBlockState")
            .text("state", "associated")
            .close("ipv6CidrBlockState")
            .text("networkBorderGroup", &vpc.region)
            .text("ipv6Pool", "Amazon")
            .close("item")
            .close("ipv6CidrBlockAssociationSet");
    }
    x.text("dhcpOptionsId", &vpc.dhcp_options_id)
        .tag_set(&vpc.tags)
        .text("instanceTenancy", &vpc.instance_tenancy)
        .bool("isDefault", vpc.is_default)
        .open("blockPublicAccessStates")
        .text("internetGatewayBlockMode", "off")
        .close("blockPublicAccessStates");
}

/// A subnet as EC2 shows it; `state` is `pending` in CreateSubnet's answer.
pub fn write_subnet(x: &mut Xml, s: &Subnet, state: &str) {
    x.text("subnetId", &s.subnet_id)
        .text("subnetArn", &s.arn())
        .text("state", state)
        .text("ownerId", &s.owner_id)
        .text("vpcId", &s.vpc_id)
        .text("cidrBlock", &s.cidr_block);
    match (&s.ipv6_cidr_block, &s.ipv6_association_id) {
        (Some(block), Some(association)) => {
            x.open("ipv6CidrBlockAssociationSet")
                .open("item")
                .text("ipv6CidrBlock", block)
                .text("associationId", association)
                .open("ipv6CidrBlockState")
                .text("state", "associated")
                .close("ipv6CidrBlockState")
                .close("item")
                .close("ipv6CidrBlockAssociationSet");
        }
        _ => {
            x.empty("ipv6CidrBlockAssociationSet");
        }
    }
    x.num("availableIpAddressCount", s.available_ip_address_count)
        .text("availabilityZone", &s.availability_zone)
        .text("availabilityZoneId", &s.availability_zone_id)
        .bool("defaultForAz", s.default_for_az)
        .bool("mapPublicIpOnLaunch", s.map_public_ip_on_launch)
        .bool("assignIpv6AddressOnCreation", s.assign_ipv6_address_on_creation)
        .bool("mapCustomerOwnedIpOnLaunch", false)
        .bool("enableDns64", s.enable_dns64)
        .bool("ipv6Native", s.ipv6_native)
        .open("privateDnsNameOptionsOnLaunch")
        .text("hostnameType", &s.hostname_type)
        .bool("enableResourceNameDnsARecord", s.enable_resource_name_dns_a_record)
        .bool("enableResourceNameDnsAAAARecord", s.enable_resource_name_dns_aaaa_record)
        .close("privateDnsNameOptionsOnLaunch")
        .open("blockPublicAccessStates")
        .text("internetGatewayBlockMode", "off")
        .close("blockPublicAccessStates")
        .tag_set(&s.tags);
}

/// DescribeVpcAttribute's answer: the VPC and the one attribute asked for.
pub fn write_vpc_attribute(x: &mut Xml, vpc: &Vpc, attribute: VpcAttribute) {
    x.text("vpcId", &vpc.vpc_id).open(attribute.name()).bool("value", attribute.value_of(vpc)).close(attribute.name());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vpc() -> Vpc {
        Vpc {
            vpc_id: "vpc-0123456789abcdef0".into(),
            owner_id: "000000000000".into(),
            region: "us-east-1".into(),
            cidr_block: "10.0.0.0/16".into(),
            cidr_association_id: "vpc-cidr-assoc-0123456789abcdef0".into(),
            ipv6_cidr_block: Some("2600:1f18:12:3400::/56".into()),
            ipv6_association_id: Some("vpc-cidr-assoc-0123456789abcdef1".into()),
            state: "available".into(),
            instance_tenancy: "default".into(),
            dhcp_options_id: "dopt-0123456789abcdef0".into(),
            enable_dns_support: true,
            tags: vec![("Name".into(), "main".into())],
            ..Default::default()
        }
    }

    #[test]
    fn golden_vpc() {
        let mut x = Xml::new();
        write_vpc(&mut x, &vpc(), "pending");
        assert_eq!(
            x.as_str(),
            "<vpcId>vpc-0123456789abcdef0</vpcId><ownerId>000000000000</ownerId><state>pending</state>\
             <cidrBlock>10.0.0.0/16</cidrBlock><cidrBlockAssociationSet><item><cidrBlock>10.0.0.0/16</cidrBlock>\
             <associationId>vpc-cidr-assoc-0123456789abcdef0</associationId><cidrBlockState><state>associated</state>\
             </cidrBlockState></item></cidrBlockAssociationSet><ipv6CidrBlockAssociationSet><item>\
             <ipv6CidrBlock>2600:1f18:12:3400::/56</ipv6CidrBlock><associationId>vpc-cidr-assoc-0123456789abcdef1</associationId>\
             <ipv6CidrBlockState><state>associated</state></ipv6CidrBlockState><networkBorderGroup>us-east-1</networkBorderGroup>\
             <ipv6Pool>Amazon</ipv6Pool></item></ipv6CidrBlockAssociationSet><dhcpOptionsId>dopt-0123456789abcdef0</dhcpOptionsId>\
             <tagSet><item><key>Name</key><value>main</value></item></tagSet>\
             <instanceTenancy>default</instanceTenancy><isDefault>false</isDefault>\
             <blockPublicAccessStates><internetGatewayBlockMode>off</internetGatewayBlockMode></blockPublicAccessStates>"
        );
    }

    #[test]
    fn golden_vpc_attribute() {
        let mut x = Xml::new();
        write_vpc_attribute(&mut x, &vpc(), VpcAttribute::EnableDnsHostnames);
        assert_eq!(
            x.as_str(),
            "<vpcId>vpc-0123456789abcdef0</vpcId><enableDnsHostnames><value>false</value></enableDnsHostnames>"
        );
    }

    #[test]
    fn golden_subnet() {
        let subnet = Subnet {
            subnet_id: "subnet-0123456789abcdef0".into(),
            owner_id: "000000000000".into(),
            region: "us-east-1".into(),
            vpc_id: "vpc-0123456789abcdef0".into(),
            availability_zone: "us-east-1b".into(),
            availability_zone_id: "use1-az2".into(),
            cidr_block: "172.31.16.0/20".into(),
            default_for_az: true,
            map_public_ip_on_launch: true,
            hostname_type: "ip-name".into(),
            available_ip_address_count: 4091,
            ..Default::default()
        };
        let mut x = Xml::new();
        write_subnet(&mut x, &subnet, "available");
        assert_eq!(
            x.as_str(),
            "<subnetId>subnet-0123456789abcdef0</subnetId>\
             <subnetArn>arn:aws:ec2:us-east-1:000000000000:subnet/subnet-0123456789abcdef0</subnetArn>\
             <state>available</state><ownerId>000000000000</ownerId><vpcId>vpc-0123456789abcdef0</vpcId>\
             <cidrBlock>172.31.16.0/20</cidrBlock><ipv6CidrBlockAssociationSet/><availableIpAddressCount>4091</availableIpAddressCount>\
             <availabilityZone>us-east-1b</availabilityZone><availabilityZoneId>use1-az2</availabilityZoneId>\
             <defaultForAz>true</defaultForAz><mapPublicIpOnLaunch>true</mapPublicIpOnLaunch>\
             <assignIpv6AddressOnCreation>false</assignIpv6AddressOnCreation>\
             <mapCustomerOwnedIpOnLaunch>false</mapCustomerOwnedIpOnLaunch><enableDns64>false</enableDns64>\
             <ipv6Native>false</ipv6Native><privateDnsNameOptionsOnLaunch><hostnameType>ip-name</hostnameType>\
             <enableResourceNameDnsARecord>false</enableResourceNameDnsARecord>\
             <enableResourceNameDnsAAAARecord>false</enableResourceNameDnsAAAARecord></privateDnsNameOptionsOnLaunch>\
             <blockPublicAccessStates><internetGatewayBlockMode>off</internetGatewayBlockMode></blockPublicAccessStates>\
             <tagSet/>"
        );
    }
}
