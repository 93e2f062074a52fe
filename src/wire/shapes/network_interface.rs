//! The `NetworkInterface` shape (CreateNetworkInterface, DescribeNetworkInterfaces) and
//! DescribeNetworkInterfaceAttribute's answer.

use crate::domain::clock::iso;
use crate::domain::network::interface::{NetworkInterface, PublicAssociation};
use crate::domain::network::{private_dns_name, public_dns_name};
use crate::wire::xml::Xml;

pub fn write_network_interface(x: &mut Xml, n: &NetworkInterface) {
    let private_dns = private_dns_name(&n.private_ip, &n.region);
    x.text("networkInterfaceId", &n.network_interface_id)
        .text("subnetId", &n.subnet_id)
        .text("vpcId", &n.vpc_id)
        .text("availabilityZone", &n.availability_zone)
        .text("description", &n.description)
        .text("ownerId", &n.owner_id)
        .bool("requesterManaged", false)
        .text("status", n.status())
        .text("macAddress", &n.mac_address)
        .text("privateIpAddress", &n.private_ip)
        .text("privateDnsName", &private_dns)
        .bool("sourceDestCheck", n.source_dest_check);
    write_groups(x, n);
    write_attachment(x, n);
    if let Some(a) = &n.association {
        write_association(x, n, a);
    }
    x.tag_set(&n.tags)
        .open("privateIpAddressesSet")
        .open("item")
        .text("privateIpAddress", &n.private_ip)
        .text("privateDnsName", &private_dns)
        .bool("primary", true);
    if let Some(a) = &n.association {
        write_association(x, n, a);
    }
    x.close("item").close("privateIpAddressesSet").empty("ipv6AddressesSet").text("interfaceType", &n.interface_type);
}

fn write_groups(x: &mut Xml, n: &NetworkInterface) {
    x.list("groupSet", &n.groups, |x, (id, name)| {
        x.text("groupId", id).text("groupName", name);
    });
}

fn write_attachment(x: &mut Xml, n: &NetworkInterface) {
    if let Some(a) = &n.attachment {
        x.open("attachment")
            .text("attachmentId", &a.attachment_id)
            .text("instanceId", &a.instance_id)
            .text("instanceOwnerId", &a.instance_owner_id)
            .num("deviceIndex", a.device_index)
            .num("networkCardIndex", 0)
            .text("status", "attached")
            .text("attachTime", &iso(a.attach_time))
            .bool("deleteOnTermination", a.delete_on_termination)
            .close("attachment");
    }
}

/// An Elastic IP is owned by the account; an address given at launch by `amazon`.
fn write_association(x: &mut Xml, n: &NetworkInterface, a: &PublicAssociation) {
    x.open("association")
        .text("publicIp", &a.public_ip)
        .text("publicDnsName", &public_dns_name(&a.public_ip, &n.region))
        .text("ipOwnerId", if a.elastic.is_some() { &n.owner_id } else { "amazon" });
    if let Some((allocation, association)) = &a.elastic {
        x.text("allocationId", allocation).text("associationId", association);
    }
    x.close("association");
}

/// The attributes DescribeNetworkInterfaceAttribute answers.
pub const INTERFACE_ATTRIBUTES: &[&str] = &["description", "groupSet", "sourceDestCheck", "attachment"];

pub fn write_interface_attribute(x: &mut Xml, n: &NetworkInterface, attribute: &str) {
    x.text("networkInterfaceId", &n.network_interface_id);
    match attribute {
        "description" => {
            x.open("description").text("value", &n.description).close("description");
        }
        "sourceDestCheck" => {
            x.open("sourceDestCheck").bool("value", n.source_dest_check).close("sourceDestCheck");
        }
        "groupSet" => write_groups(x, n),
        _ => write_attachment(x, n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::network::interface::InterfaceAttachment;

    fn interface() -> NetworkInterface {
        NetworkInterface {
            network_interface_id: "eni-0123456789abcdef0".into(),
            owner_id: "000000000000".into(),
            region: "us-east-1".into(),
            subnet_id: "subnet-0123456789abcdef0".into(),
            vpc_id: "vpc-0123456789abcdef0".into(),
            availability_zone: "us-east-1a".into(),
            private_ip: "10.0.1.4".into(),
            mac_address: "0e:01:02:03:04:05".into(),
            description: "db".into(),
            interface_type: "interface".into(),
            source_dest_check: true,
            groups: vec![("sg-0123456789abcdef0".into(), "web".into())],
            attachment: None,
            association: None,
            tags: Vec::new(),
        }
    }

    #[test]
    fn golden_available_interface() {
        let mut x = Xml::new();
        write_network_interface(&mut x, &interface());
        assert_eq!(
            x.as_str(),
            "<networkInterfaceId>eni-0123456789abcdef0</networkInterfaceId><subnetId>subnet-0123456789abcdef0</subnetId>\
             <vpcId>vpc-0123456789abcdef0</vpcId><availabilityZone>us-east-1a</availabilityZone>\
             <description>db</description><ownerId>000000000000</ownerId><requesterManaged>false</requesterManaged>\
             <status>available</status><macAddress>0e:01:02:03:04:05</macAddress><privateIpAddress>10.0.1.4</privateIpAddress>\
             <privateDnsName>ip-10-0-1-4.ec2.internal</privateDnsName><sourceDestCheck>true</sourceDestCheck>\
             <groupSet><item><groupId>sg-0123456789abcdef0</groupId><groupName>web</groupName></item></groupSet><tagSet/>\
             <privateIpAddressesSet><item><privateIpAddress>10.0.1.4</privateIpAddress>\
             <privateDnsName>ip-10-0-1-4.ec2.internal</privateDnsName><primary>true</primary></item></privateIpAddressesSet>\
             <ipv6AddressesSet/><interfaceType>interface</interfaceType>"
        );
    }

    #[test]
    fn golden_attached_interface_with_an_elastic_ip() {
        let mut n = interface();
        n.attachment = Some(InterfaceAttachment {
            attachment_id: "eni-attach-0123456789abcdef0".into(),
            instance_id: "i-0123456789abcdef0".into(),
            instance_owner_id: "000000000000".into(),
            device_index: 1,
            attach_time: 1_714_564_800_000,
            delete_on_termination: false,
        });
        n.association = Some(PublicAssociation {
            public_ip: "3.90.1.2".into(),
            elastic: Some(("eipalloc-0123456789abcdef0".into(), "eipassoc-0123456789abcdef0".into())),
        });
        let mut x = Xml::new();
        write_attachment(&mut x, &n);
        write_association(&mut x, &n, n.association.as_ref().unwrap());
        assert_eq!(
            x.as_str(),
            "<attachment><attachmentId>eni-attach-0123456789abcdef0</attachmentId><instanceId>i-0123456789abcdef0</instanceId>\
             <instanceOwnerId>000000000000</instanceOwnerId><deviceIndex>1</deviceIndex><networkCardIndex>0</networkCardIndex>\
             <status>attached</status><attachTime>2024-05-01T12:00:00.000Z</attachTime>\
             <deleteOnTermination>false</deleteOnTermination></attachment>\
             <association><publicIp>3.90.1.2</publicIp><publicDnsName>ec2-3-90-1-2.compute-1.amazonaws.com</publicDnsName>\
             <ipOwnerId>000000000000</ipOwnerId><allocationId>eipalloc-0123456789abcdef0</allocationId>\
             <associationId>eipassoc-0123456789abcdef0</associationId></association>"
        );
    }
}
