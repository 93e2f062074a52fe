//! The `InternetGateway`, `RouteTable` and `NetworkAcl` shapes, and the association
//! state AssociateRouteTable and ReplaceRouteTableAssociation answer with.

use crate::domain::network::routing::{acl_association_id, InternetGateway, NetworkAcl, Route, RouteTable};
use crate::wire::xml::Xml;

/// An internet gateway; an attached one shows its VPC with state `available`, as EC2 does.
pub fn write_internet_gateway(x: &mut Xml, igw: &InternetGateway) {
    x.text("internetGatewayId", &igw.internet_gateway_id).text("ownerId", &igw.owner_id);
    let attachments: Vec<&String> = igw.vpc_id.iter().collect();
    x.list("attachmentSet", &attachments, |x, vpc_id| {
        x.text("vpcId", vpc_id).text("state", "available");
    })
    .tag_set(&igw.tags);
}

pub fn write_route_table(x: &mut Xml, table: &RouteTable) {
    x.text("routeTableId", &table.route_table_id)
        .text("vpcId", &table.vpc_id)
        .text("ownerId", &table.owner_id)
        .list("routeSet", &table.routes, write_route)
        .list("associationSet", &table.associations, |x, a| {
            x.text("routeTableAssociationId", &a.association_id)
                .text("routeTableId", &a.route_table_id)
                .opt_text("subnetId", a.subnet_id.as_deref())
                .bool("main", a.main);
            write_association_state(x);
        })
        .empty("propagatingVgwSet")
        .tag_set(&table.tags);
}

fn write_route(x: &mut Xml, route: &Route) {
    let destination = if route.is_ipv6() { "destinationIpv6CidrBlock" } else { "destinationCidrBlock" };
    x.text(destination, &route.destination)
        .opt_text("gatewayId", route.gateway_id.as_deref())
        .opt_text("instanceId", route.instance_id.as_deref())
        .opt_text("instanceOwnerId", route.instance_owner_id.as_deref())
        .opt_text("networkInterfaceId", route.network_interface_id.as_deref())
        .text("state", &route.state)
        .text("origin", &route.origin);
}

/// `<associationState><state>associated</state></associationState>`: associations take
/// effect at once.
pub fn write_association_state(x: &mut Xml) {
    x.open("associationState").text("state", "associated").close("associationState");
}

pub fn write_network_acl(x: &mut Xml, acl: &NetworkAcl) {
    x.text("networkAclId", &acl.network_acl_id)
        .text("vpcId", &acl.vpc_id)
        .bool("default", acl.is_default)
        .list("entrySet", &acl.entries(), |x, e| {
            let block = if e.is_ipv6() { "ipv6CidrBlock" } else { "cidrBlock" };
            x.num("ruleNumber", e.rule_number)
                .text("protocol", "-1")
                .text("ruleAction", if e.allow { "allow" } else { "deny" })
                .bool("egress", e.egress)
                .text(block, e.cidr);
        })
        .list("associationSet", &acl.subnet_ids, |x, subnet_id| {
            x.text("networkAclAssociationId", &acl_association_id(subnet_id))
                .text("networkAclId", &acl.network_acl_id)
                .text("subnetId", subnet_id);
        })
        .tag_set(&acl.tags)
        .text("ownerId", &acl.owner_id);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::network::routing::RouteTableAssociation;

    #[test]
    fn golden_internet_gateway() {
        let mut igw = InternetGateway {
            internet_gateway_id: "igw-0123456789abcdef0".into(),
            owner_id: "000000000000".into(),
            vpc_id: None,
            tags: vec![("Name".into(), "edge".into())],
        };
        let mut x = Xml::new();
        write_internet_gateway(&mut x, &igw);
        assert_eq!(
            x.as_str(),
            "<internetGatewayId>igw-0123456789abcdef0</internetGatewayId><ownerId>000000000000</ownerId>\
             <attachmentSet/><tagSet><item><key>Name</key><value>edge</value></item></tagSet>"
        );
        igw.vpc_id = Some("vpc-0123456789abcdef0".into());
        igw.tags.clear();
        let mut x = Xml::new();
        write_internet_gateway(&mut x, &igw);
        assert_eq!(
            x.as_str(),
            "<internetGatewayId>igw-0123456789abcdef0</internetGatewayId><ownerId>000000000000</ownerId>\
             <attachmentSet><item><vpcId>vpc-0123456789abcdef0</vpcId><state>available</state></item></attachmentSet>\
             <tagSet/>"
        );
    }

    #[test]
    fn golden_route_table() {
        let table = RouteTable {
            route_table_id: "rtb-0123456789abcdef0".into(),
            owner_id: "000000000000".into(),
            vpc_id: "vpc-0123456789abcdef0".into(),
            routes: vec![
                Route {
                    destination: "10.0.0.0/16".into(),
                    gateway_id: Some("local".into()),
                    origin: "CreateRouteTable".into(),
                    state: "active".into(),
                    ..Default::default()
                },
                Route {
                    destination: "::/0".into(),
                    gateway_id: Some("igw-0123456789abcdef0".into()),
                    origin: "CreateRoute".into(),
                    state: "blackhole".into(),
                    ..Default::default()
                },
                Route {
                    destination: "192.168.0.0/24".into(),
                    instance_id: Some("i-0123456789abcdef0".into()),
                    instance_owner_id: Some("000000000000".into()),
                    network_interface_id: Some("eni-0123456789abcdef0".into()),
                    origin: "CreateRoute".into(),
                    state: "active".into(),
                    ..Default::default()
                },
            ],
            associations: vec![
                RouteTableAssociation {
                    association_id: "rtbassoc-0123456789abcdef0".into(),
                    route_table_id: "rtb-0123456789abcdef0".into(),
                    main: true,
                    ..Default::default()
                },
                RouteTableAssociation {
                    association_id: "rtbassoc-0123456789abcdef1".into(),
                    route_table_id: "rtb-0123456789abcdef0".into(),
                    subnet_id: Some("subnet-0123456789abcdef0".into()),
                    ..Default::default()
                },
            ],
            tags: vec![],
        };
        let mut x = Xml::new();
        write_route_table(&mut x, &table);
        assert_eq!(
            x.as_str(),
            "<routeTableId>rtb-0123456789abcdef0</routeTableId><vpcId>vpc-0123456789abcdef0</vpcId>\
             <ownerId>000000000000</ownerId><routeSet>\
             <item><destinationCidrBlock>10.0.0.0/16</destinationCidrBlock><gatewayId>local</gatewayId>\
             <state>active</state><origin>CreateRouteTable</origin></item>\
             <item><destinationIpv6CidrBlock>::/0</destinationIpv6CidrBlock>\
             <gatewayId>igw-0123456789abcdef0</gatewayId><state>blackhole</state><origin>CreateRoute</origin></item>\
             <item><destinationCidrBlock>192.168.0.0/24</destinationCidrBlock><instanceId>i-0123456789abcdef0</instanceId>\
             <instanceOwnerId>000000000000</instanceOwnerId><networkInterfaceId>eni-0123456789abcdef0</networkInterfaceId>\
             <state>active</state><origin>CreateRoute</origin></item></routeSet>\
             <associationSet><item><routeTableAssociationId>rtbassoc-0123456789abcdef0</routeTableAssociationId>\
             <routeTableId>rtb-0123456789abcdef0</routeTableId><main>true</main>\
             <associationState><state>associated</state></associationState></item>\
             <item><routeTableAssociationId>rtbassoc-0123456789abcdef1</routeTableAssociationId>\
             <routeTableId>rtb-0123456789abcdef0</routeTableId><subnetId>subnet-0123456789abcdef0</subnetId>\
             <main>false</main><associationState><state>associated</state></associationState></item></associationSet>\
             <propagatingVgwSet/><tagSet/>"
        );
    }

    #[test]
    fn golden_network_acl() {
        let acl = NetworkAcl {
            network_acl_id: "acl-0123456789abcdef0".into(),
            owner_id: "000000000000".into(),
            vpc_id: "vpc-0123456789abcdef0".into(),
            is_default: true,
            ipv6: false,
            subnet_ids: vec!["subnet-0123456789abcdef0".into()],
            tags: vec![],
        };
        let mut x = Xml::new();
        write_network_acl(&mut x, &acl);
        let entry = |rule: u32, action: &str, egress: bool| {
            format!(
                "<item><ruleNumber>{rule}</ruleNumber><protocol>-1</protocol><ruleAction>{action}</ruleAction>\
                 <egress>{egress}</egress><cidrBlock>0.0.0.0/0</cidrBlock></item>"
            )
        };
        let expected = format!(
            "<networkAclId>acl-0123456789abcdef0</networkAclId><vpcId>vpc-0123456789abcdef0</vpcId>\
             <default>true</default><entrySet>{}{}{}{}</entrySet>\
             <associationSet><item><networkAclAssociationId>aclassoc-0123456789abcdef0</networkAclAssociationId>\
             <networkAclId>acl-0123456789abcdef0</networkAclId><subnetId>subnet-0123456789abcdef0</subnetId></item>\
             </associationSet><tagSet/><ownerId>000000000000</ownerId>",
            entry(100, "allow", true),
            entry(32767, "deny", true),
            entry(100, "allow", false),
            entry(32767, "deny", false)
        );
        assert_eq!(x.as_str(), expected);
    }

    #[test]
    fn ipv6_acl_entries_name_their_block() {
        let acl = NetworkAcl { ipv6: true, ..Default::default() };
        let mut x = Xml::new();
        write_network_acl(&mut x, &acl);
        assert!(x.as_str().contains(
            "<item><ruleNumber>101</ruleNumber><protocol>-1</protocol><ruleAction>allow</ruleAction>\
             <egress>true</egress><ipv6CidrBlock>::/0</ipv6CidrBlock></item>"
        ));
    }
}
