//! The `SecurityGroup` shape (DescribeSecurityGroups).

use crate::wire::xml::Xml;

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

    const OWNER: &str = "000000000000";
    const VPC: &str = "vpc-0123456789abcdef0";

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
