//! The `SecurityGroup` (DescribeSecurityGroups), `IpPermission` and
//! `SecurityGroupRule` (DescribeSecurityGroupRules, Authorize*) shapes.

use crate::domain::network::security_group::{Peer, RuleSpec, SecurityGroup, SecurityGroupRule};
use crate::wire::xml::Xml;

pub fn write_security_group(x: &mut Xml, g: &SecurityGroup) {
    x.text("ownerId", &g.owner_id)
        .text("groupId", &g.group_id)
        .text("groupName", &g.group_name)
        .text("groupDescription", &g.description)
        .text("vpcId", &g.vpc_id);
    write_permissions(x, "ipPermissions", g.ingress.iter().map(|r| &r.spec));
    write_permissions(x, "ipPermissionsEgress", g.egress.iter().map(|r| &r.spec));
    x.tag_set(&g.tags).text("securityGroupArn", &g.arn());
}

/// Rules as EC2 lists them in a group: one `IpPermission` per protocol and port range,
/// in the order each first appeared, with every peer of that traffic in its lists.
pub fn write_permissions<'a>(x: &mut Xml, tag: &str, specs: impl Iterator<Item = &'a RuleSpec>) {
    let mut permissions: Vec<Vec<&RuleSpec>> = Vec::new();
    for spec in specs {
        let same = |p: &&mut Vec<&RuleSpec>| {
            (&p[0].protocol, p[0].from_port, p[0].to_port) == (&spec.protocol, spec.from_port, spec.to_port)
        };
        match permissions.iter_mut().find(same) {
            Some(permission) => permission.push(spec),
            None => permissions.push(vec![spec]),
        }
    }
    x.list(tag, &permissions, |x, specs| write_permission(x, specs));
}

fn write_permission(x: &mut Xml, specs: &[&RuleSpec]) {
    let first = specs[0];
    x.text("ipProtocol", &first.protocol).opt_num("fromPort", first.from_port).opt_num("toPort", first.to_port);
    let groups: Vec<_> = specs.iter().filter(|s| matches!(s.peer, Peer::Group { .. })).collect();
    x.list("groups", &groups, |x, s| {
        if let Peer::Group { group_id, user_id } = &s.peer {
            x.opt_text("description", s.description.as_deref()).opt_text("userId", user_id.as_deref());
            x.text("groupId", group_id);
        }
    });
    let of = |kind: fn(&Peer) -> Option<&String>| -> Vec<(&String, Option<&str>)> {
        specs.iter().filter_map(|s| kind(&s.peer).map(|v| (v, s.description.as_deref()))).collect()
    };
    let ranges = |x: &mut Xml, tag: &str, member: &str, items: Vec<(&String, Option<&str>)>| {
        x.list(tag, &items, |x, (value, description)| {
            x.text(member, value).opt_text("description", *description);
        });
    };
    ranges(x, "ipRanges", "cidrIp", of(|p| if let Peer::Ipv4(c) = p { Some(c) } else { None }));
    ranges(x, "ipv6Ranges", "cidrIpv6", of(|p| if let Peer::Ipv6(c) = p { Some(c) } else { None }));
    ranges(x, "prefixListIds", "prefixListId", of(|p| if let Peer::PrefixList(c) = p { Some(c) } else { None }));
}

pub fn write_security_group_rule(x: &mut Xml, r: &SecurityGroupRule) {
    x.text("securityGroupRuleId", &r.rule_id)
        .text("groupId", &r.group_id)
        .text("groupOwnerId", &r.group_owner_id)
        .bool("isEgress", r.is_egress)
        .text("ipProtocol", &r.spec.protocol)
        .num("fromPort", r.spec.from_port.unwrap_or(-1))
        .num("toPort", r.spec.to_port.unwrap_or(-1));
    match &r.spec.peer {
        Peer::Ipv4(cidr) => x.text("cidrIpv4", cidr),
        Peer::Ipv6(cidr) => x.text("cidrIpv6", cidr),
        Peer::PrefixList(id) => x.text("prefixListId", id),
        Peer::Group { group_id, user_id } => x
            .open("referencedGroupInfo")
            .text("groupId", group_id)
            .opt_text("userId", user_id.as_deref())
            .close("referencedGroupInfo"),
    };
    x.opt_text("description", r.spec.description.as_deref()).tag_set(&r.tags).text("securityGroupRuleArn", &r.arn());
}

/// A `RevokedSecurityGroupRule` (RevokeSecurityGroupIngress/Egress).
pub fn write_revoked_rule(x: &mut Xml, r: &SecurityGroupRule) {
    x.text("securityGroupRuleId", &r.rule_id)
        .text("groupId", &r.group_id)
        .bool("isEgress", r.is_egress)
        .text("ipProtocol", &r.spec.protocol)
        .num("fromPort", r.spec.from_port.unwrap_or(-1))
        .num("toPort", r.spec.to_port.unwrap_or(-1));
    match &r.spec.peer {
        Peer::Ipv4(cidr) => x.text("cidrIpv4", cidr),
        Peer::Ipv6(cidr) => x.text("cidrIpv6", cidr),
        Peer::PrefixList(id) => x.text("prefixListId", id),
        Peer::Group { group_id, .. } => x.text("referencedSecurityGroupId", group_id),
    };
    x.opt_text("description", r.spec.description.as_deref());
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWNER: &str = "000000000000";

    fn rule(id: &str, egress: bool, protocol: &str, ports: Option<(i64, i64)>, peer: Peer) -> SecurityGroupRule {
        SecurityGroupRule {
            rule_id: id.into(),
            group_id: "sg-0123456789abcdef0".into(),
            group_owner_id: OWNER.into(),
            region: "us-east-1".into(),
            is_egress: egress,
            spec: RuleSpec {
                protocol: protocol.into(),
                from_port: ports.map(|p| p.0),
                to_port: ports.map(|p| p.1),
                peer,
                description: None,
            },
            tags: Vec::new(),
        }
    }

    #[test]
    fn golden_security_group() {
        let mut ssh = rule("sgr-2", false, "tcp", Some((22, 22)), Peer::Ipv4("10.0.0.0/8".into()));
        ssh.spec.description = Some("ssh".into());
        let group = SecurityGroup {
            group_id: "sg-0123456789abcdef0".into(),
            owner_id: OWNER.into(),
            region: "us-east-1".into(),
            vpc_id: "vpc-0123456789abcdef0".into(),
            group_name: "web".into(),
            description: "web servers".into(),
            tags: vec![("Name".into(), "web".into())],
            ingress: vec![
                rule(
                    "sgr-1",
                    false,
                    "-1",
                    None,
                    Peer::Group { group_id: "sg-0123456789abcdef0".into(), user_id: Some(OWNER.into()) },
                ),
                ssh,
                rule("sgr-3", false, "tcp", Some((22, 22)), Peer::Ipv6("::/0".into())),
            ],
            egress: vec![rule("sgr-4", true, "-1", None, Peer::Ipv4("0.0.0.0/0".into()))],
        };
        let mut x = Xml::new();
        write_security_group(&mut x, &group);
        assert_eq!(
            x.as_str(),
            "<ownerId>000000000000</ownerId><groupId>sg-0123456789abcdef0</groupId><groupName>web</groupName>\
             <groupDescription>web servers</groupDescription><vpcId>vpc-0123456789abcdef0</vpcId>\
             <ipPermissions><item><ipProtocol>-1</ipProtocol><groups><item><userId>000000000000</userId>\
             <groupId>sg-0123456789abcdef0</groupId></item></groups><ipRanges/><ipv6Ranges/><prefixListIds/></item>\
             <item><ipProtocol>tcp</ipProtocol><fromPort>22</fromPort><toPort>22</toPort><groups/><ipRanges><item>\
             <cidrIp>10.0.0.0/8</cidrIp><description>ssh</description></item></ipRanges><ipv6Ranges><item>\
             <cidrIpv6>::/0</cidrIpv6></item></ipv6Ranges><prefixListIds/></item></ipPermissions>\
             <ipPermissionsEgress><item><ipProtocol>-1</ipProtocol><groups/><ipRanges><item><cidrIp>0.0.0.0/0</cidrIp>\
             </item></ipRanges><ipv6Ranges/><prefixListIds/></item></ipPermissionsEgress>\
             <tagSet><item><key>Name</key><value>web</value></item></tagSet>\
             <securityGroupArn>arn:aws:ec2:us-east-1:000000000000:security-group/sg-0123456789abcdef0</securityGroupArn>"
        );
    }

    #[test]
    fn golden_security_group_rule() {
        let r = rule("sgr-0123456789abcdef0", true, "-1", None, Peer::Ipv4("0.0.0.0/0".into()));
        let mut x = Xml::new();
        write_security_group_rule(&mut x, &r);
        assert_eq!(
            x.as_str(),
            "<securityGroupRuleId>sgr-0123456789abcdef0</securityGroupRuleId><groupId>sg-0123456789abcdef0</groupId>\
             <groupOwnerId>000000000000</groupOwnerId><isEgress>true</isEgress><ipProtocol>-1</ipProtocol>\
             <fromPort>-1</fromPort><toPort>-1</toPort><cidrIpv4>0.0.0.0/0</cidrIpv4><tagSet/>\
             <securityGroupRuleArn>arn:aws:ec2:us-east-1:000000000000:security-group-rule/sgr-0123456789abcdef0\
             </securityGroupRuleArn>"
        );
    }
}
