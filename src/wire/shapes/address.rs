//! The Elastic IP shapes: `Address` (DescribeAddresses), AllocateAddress's answer and
//! `AddressAttribute` (DescribeAddressesAttribute).

use crate::domain::network::address::{Address, AMAZON_POOL};
use crate::wire::xml::Xml;

/// One address; its association fields only while it is associated.
pub fn write_address(x: &mut Xml, a: &Address) {
    x.text("publicIp", &a.public_ip).text("allocationId", &a.allocation_id).text("domain", "vpc");
    if let Some(association) = &a.association {
        x.opt_text("instanceId", association.instance_id())
            .text("associationId", &association.association_id)
            .text("networkInterfaceId", &association.network_interface_id)
            .text("networkInterfaceOwnerId", &association.network_interface_owner_id)
            .text("privateIpAddress", &association.private_ip);
    }
    x.tag_set(&a.tags).text("publicIpv4Pool", AMAZON_POOL).text("networkBorderGroup", &a.network_border_group);
}

/// The answer of AllocateAddress.
pub fn write_allocation(x: &mut Xml, a: &Address) {
    x.text("publicIp", &a.public_ip)
        .text("domain", "vpc")
        .text("allocationId", &a.allocation_id)
        .text("publicIpv4Pool", AMAZON_POOL)
        .text("networkBorderGroup", &a.network_border_group);
}

/// The domain-name attribute of an address; it has no reverse DNS record of its own.
pub fn write_address_attribute(x: &mut Xml, a: &Address) {
    x.text("publicIp", &a.public_ip).text("allocationId", &a.allocation_id);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::network::address::AddressAssociation;

    fn address() -> Address {
        Address {
            allocation_id: "eipalloc-0123456789abcdef0".into(),
            owner_id: "000000000000".into(),
            region: "us-east-1".into(),
            public_ip: "44.200.1.2".into(),
            network_border_group: "us-east-1".into(),
            association: None,
            tags: vec![("Name".into(), "web".into())],
        }
    }

    fn written(write: impl FnOnce(&mut Xml)) -> String {
        let mut x = Xml::new();
        write(&mut x);
        x.into_string()
    }

    #[test]
    fn unassociated_address_is_exact() {
        let expected = "<publicIp>44.200.1.2</publicIp><allocationId>eipalloc-0123456789abcdef0</allocationId>\
            <domain>vpc</domain><tagSet><item><key>Name</key><value>web</value></item></tagSet>\
            <publicIpv4Pool>amazon</publicIpv4Pool><networkBorderGroup>us-east-1</networkBorderGroup>";
        assert_eq!(written(|x| write_address(x, &address())), expected);
    }

    #[test]
    fn associated_address_is_exact() {
        let mut a = address();
        a.tags.clear();
        a.association = Some(AddressAssociation {
            association_id: "eipassoc-0123456789abcdef0".into(),
            network_interface_id: "eni-0123456789abcdef0".into(),
            network_interface_owner_id: "000000000000".into(),
            private_ip: "172.31.0.10".into(),
            instance: Some(("i-0123456789abcdef0".into(), 0)),
        });
        let expected = "<publicIp>44.200.1.2</publicIp><allocationId>eipalloc-0123456789abcdef0</allocationId>\
            <domain>vpc</domain><instanceId>i-0123456789abcdef0</instanceId>\
            <associationId>eipassoc-0123456789abcdef0</associationId>\
            <networkInterfaceId>eni-0123456789abcdef0</networkInterfaceId>\
            <networkInterfaceOwnerId>000000000000</networkInterfaceOwnerId>\
            <privateIpAddress>172.31.0.10</privateIpAddress><tagSet/>\
            <publicIpv4Pool>amazon</publicIpv4Pool><networkBorderGroup>us-east-1</networkBorderGroup>";
        assert_eq!(written(|x| write_address(x, &a)), expected);
        // On an interface that is attached to no instance, there is no instance id.
        a.association.as_mut().unwrap().instance = None;
        assert!(!written(|x| write_address(x, &a)).contains("instanceId"));
    }

    #[test]
    fn attribute_is_exact() {
        let expected = "<publicIp>44.200.1.2</publicIp><allocationId>eipalloc-0123456789abcdef0</allocationId>";
        assert_eq!(written(|x| write_address_attribute(x, &address())), expected);
    }

    #[test]
    fn allocation_is_exact() {
        let expected = "<publicIp>44.200.1.2</publicIp><domain>vpc</domain>\
            <allocationId>eipalloc-0123456789abcdef0</allocationId><publicIpv4Pool>amazon</publicIpv4Pool>\
            <networkBorderGroup>us-east-1</networkBorderGroup>";
        assert_eq!(written(|x| write_allocation(x, &address())), expected);
    }
}
