//! The networking stories through the official Rust SDK: VPCs, subnets, security groups,
//! internet gateways and route tables, instances placed in a subnet with their groups,
//! and the instance type catalog. Assertions are on the SDK's parsed fields, so a shape
//! the SDK cannot read shows up as a missing or wrong value.

use std::net::Ipv4Addr;
use std::time::Duration;

use aws_sdk_ec2::client::Waiters;
use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_sdk_ec2::types::{
    ArchitectureType, AttributeBooleanValue, Filter, InstanceType, IpPermission, IpRange, Ipv6Range, LocationType,
    NetworkInterfaceStatus, ResourceType, RouteOrigin, RouteState, SecurityGroup, Subnet, SubnetState, Tag,
    TagSpecification, Tenancy, UserIdGroupPair, VpcAttributeName, VpcState,
};
use aws_sdk_ec2::Client;
use ec2lite_sdk_tests::{client, code, Server};

const ACCOUNT: &str = "000000000000";
const WAIT: Duration = Duration::from_secs(30);

fn filter(name: &str, value: &str) -> Filter {
    Filter::builder().name(name).values(value).build()
}

fn tagged(kind: ResourceType, key: &str, value: &str) -> TagSpecification {
    TagSpecification::builder().resource_type(kind).tags(Tag::builder().key(key).value(value).build()).build()
}

fn enabled(value: bool) -> AttributeBooleanValue {
    AttributeBooleanValue::builder().value(value).build()
}

fn start() -> (Server, Client) {
    let server = Server::start_default(&[]);
    let ec2 = client(&server, "test", "us-east-1");
    (server, ec2)
}

/// Whether `ip` lies in the IPv4 block `cidr`.
fn inside(ip: &str, cidr: &str) -> bool {
    let (network, bits) = cidr.split_once('/').unwrap();
    let mask = u32::MAX.checked_shl(32 - bits.parse::<u32>().unwrap()).unwrap_or(0);
    let (ip, network): (Ipv4Addr, Ipv4Addr) = (ip.parse().unwrap(), network.parse().unwrap());
    u32::from(ip) & mask == u32::from(network)
}

async fn create_vpc(ec2: &Client, cidr: &str) -> String {
    let out = ec2.create_vpc().cidr_block(cidr).send().await.unwrap();
    out.vpc().unwrap().vpc_id().unwrap().to_string()
}

async fn create_subnet(ec2: &Client, vpc_id: &str, cidr: &str) -> String {
    let out = ec2.create_subnet().vpc_id(vpc_id).cidr_block(cidr).send().await.unwrap();
    out.subnet().unwrap().subnet_id().unwrap().to_string()
}

async fn vpc_ids_where(ec2: &Client, name: &str, value: &str) -> Vec<String> {
    let out = ec2.describe_vpcs().filters(filter(name, value)).send().await.unwrap();
    out.vpcs().iter().map(|v| v.vpc_id().unwrap().to_string()).collect()
}

async fn subnet(ec2: &Client, subnet_id: &str) -> Subnet {
    ec2.describe_subnets().subnet_ids(subnet_id).send().await.unwrap().subnets()[0].clone()
}

async fn group(ec2: &Client, group_id: &str) -> SecurityGroup {
    ec2.describe_security_groups().group_ids(group_id).send().await.unwrap().security_groups()[0].clone()
}

async fn vpc_attribute(ec2: &Client, vpc_id: &str, name: VpcAttributeName) -> Option<bool> {
    let out = ec2.describe_vpc_attribute().vpc_id(vpc_id).attribute(name.clone()).send().await.unwrap();
    let value = match name {
        VpcAttributeName::EnableDnsHostnames => out.enable_dns_hostnames(),
        VpcAttributeName::EnableDnsSupport => out.enable_dns_support(),
        other => panic!("not asked for here: {other:?}"),
    };
    value.and_then(|v| v.value())
}

/// The newest Amazon Linux 2023 x86_64 image of the catalog.
async fn catalog_image(ec2: &Client) -> String {
    let out = ec2
        .describe_images()
        .owners("amazon")
        .filters(filter("name", "al2023-ami-2023.*-kernel-6.1-x86_64"))
        .send()
        .await
        .unwrap();
    let newest = out.images().iter().max_by_key(|i| i.creation_date().unwrap_or_default().to_string()).unwrap();
    newest.image_id().unwrap().to_string()
}

#[tokio::test]
async fn vpc_story() {
    let (server, ec2) = start();
    let default = ec2.describe_vpcs().filters(filter("isDefault", "true")).send().await.unwrap();
    let [default] = default.vpcs() else { panic!("one default VPC: {default:?}") };
    assert_eq!((default.cidr_block(), default.is_default()), (Some("172.31.0.0/16"), Some(true)));
    assert_eq!(default.owner_id(), Some(ACCOUNT));

    let created = ec2
        .create_vpc()
        .cidr_block("10.0.0.0/16")
        .amazon_provided_ipv6_cidr_block(true)
        .tag_specifications(tagged(ResourceType::Vpc, "Name", "main"))
        .send()
        .await
        .unwrap();
    let created = created.vpc().unwrap();
    let vpc_id = created.vpc_id().unwrap();
    assert_eq!((created.state(), created.is_default()), (Some(&VpcState::Pending), Some(false)));
    assert_eq!(created.instance_tenancy(), Some(&Tenancy::Default));
    assert_eq!(created.tags()[0].value(), Some("main"));
    let ipv6 = created.ipv6_cidr_block_association_set()[0].ipv6_cidr_block().unwrap();
    assert!(ipv6.ends_with("/56"), "{ipv6}");
    ec2.wait_until_vpc_available().vpc_ids(vpc_id).wait(WAIT).await.unwrap();
    let described = ec2.describe_vpcs().vpc_ids(vpc_id).send().await.unwrap();
    let vpc = &described.vpcs()[0];
    assert_eq!(vpc.state(), Some(&VpcState::Available));
    let block = &vpc.cidr_block_association_set()[0];
    assert_eq!(block.cidr_block(), Some("10.0.0.0/16"));
    assert_eq!(block.cidr_block_state().unwrap().state().map(|s| s.as_str()), Some("associated"));
    assert_eq!(vpc.ipv6_cidr_block_association_set()[0].ipv6_cidr_block(), Some(ipv6));
    let other_account = client(&server, "111111111111", "us-east-1");
    let hidden = other_account.describe_vpcs().vpc_ids(vpc_id).send().await.unwrap_err();
    assert_eq!(code(&hidden), "InvalidVpcID.NotFound");

    assert_eq!(vpc_ids_where(&ec2, "isDefault", "false").await, [vpc_id]);
    assert_eq!(vpc_ids_where(&ec2, "is-default", "true").await, [default.vpc_id().unwrap()]);
    assert_eq!(vpc_ids_where(&ec2, "cidr", "10.0.0.0/16").await, [vpc_id]);
    assert_eq!(vpc_ids_where(&ec2, "tag:Name", "main").await, [vpc_id]);
    assert_eq!(vpc_ids_where(&ec2, "ipv6-cidr-block-association.ipv6-cidr-block", ipv6).await, [vpc_id]);

    use VpcAttributeName::{EnableDnsHostnames, EnableDnsSupport};
    assert_eq!(vpc_attribute(&ec2, vpc_id, EnableDnsSupport).await, Some(true));
    assert_eq!(vpc_attribute(&ec2, vpc_id, EnableDnsHostnames).await, Some(false));
    ec2.modify_vpc_attribute().vpc_id(vpc_id).enable_dns_hostnames(enabled(true)).send().await.unwrap();
    assert_eq!(vpc_attribute(&ec2, vpc_id, EnableDnsHostnames).await, Some(true));
    let both = ec2
        .modify_vpc_attribute()
        .vpc_id(vpc_id)
        .enable_dns_hostnames(enabled(true))
        .enable_dns_support(enabled(true))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&both), "InvalidParameterCombination");

    // A subnet keeps the VPC; its default group and main route table do not.
    let subnet_id = create_subnet(&ec2, vpc_id, "10.0.1.0/24").await;
    let refused = ec2.delete_vpc().vpc_id(vpc_id).send().await.unwrap_err();
    assert_eq!(code(&refused), "DependencyViolation");
    let message = refused.as_service_error().and_then(|e| e.message());
    assert_eq!(message, Some(format!("The vpc '{vpc_id}' has dependencies and cannot be deleted.").as_str()));
    ec2.delete_subnet().subnet_id(&subnet_id).send().await.unwrap();
    ec2.delete_vpc().vpc_id(vpc_id).send().await.unwrap();
    let gone = ec2.describe_vpcs().vpc_ids(vpc_id).send().await.unwrap_err();
    assert_eq!(code(&gone), "InvalidVpcID.NotFound");
    let malformed = ec2.delete_vpc().vpc_id("vpc-x").send().await.unwrap_err();
    assert_eq!(code(&malformed), "InvalidVpcID.Malformed");
}

#[tokio::test]
async fn subnet_story() {
    let (_server, ec2) = start();
    let vpc = ec2.create_vpc().cidr_block("10.1.0.0/16").amazon_provided_ipv6_cidr_block(true).send().await;
    let vpc_id = vpc.unwrap().vpc().unwrap().vpc_id().unwrap().to_string();
    let described = ec2.describe_vpcs().vpc_ids(&vpc_id).send().await.unwrap();
    let vpc_ipv6 = described.vpcs()[0].ipv6_cidr_block_association_set()[0].ipv6_cidr_block().unwrap();
    // The first /64 of the VPC's /56 starts where the /56 does.
    let subnet_ipv6 = format!("{}/64", vpc_ipv6.split_once('/').unwrap().0);

    let created = ec2
        .create_subnet()
        .vpc_id(&vpc_id)
        .cidr_block("10.1.0.0/24")
        .ipv6_cidr_block(&subnet_ipv6)
        .availability_zone_id("use1-az2")
        .tag_specifications(tagged(ResourceType::Subnet, "tier", "web"))
        .send()
        .await
        .unwrap();
    let created = created.subnet().unwrap();
    let subnet_id = created.subnet_id().unwrap().to_string();
    assert_eq!(created.availability_zone(), Some("us-east-1b"));
    assert_eq!(created.state(), Some(&SubnetState::Pending));
    assert_eq!(created.available_ip_address_count(), Some(251));
    assert_eq!((created.map_public_ip_on_launch(), created.default_for_az()), (Some(false), Some(false)));
    assert_eq!(created.ipv6_cidr_block_association_set()[0].ipv6_cidr_block(), Some(subnet_ipv6.as_str()));
    assert!(created.subnet_arn().unwrap().ends_with(&format!(":subnet/{subnet_id}")));
    ec2.wait_until_subnet_available().subnet_ids(&subnet_id).wait(WAIT).await.unwrap();
    // The SDK's paginator over the six default subnets and this one, five at a time.
    let pages = ec2.describe_subnets().max_results(5).into_paginator().send().collect::<Result<Vec<_>, _>>().await;
    let pages = pages.unwrap();
    assert_eq!(pages.iter().map(|p| p.subnets().len()).collect::<Vec<_>>(), [5, 2]);

    for (cidr, expected) in [
        ("10.1.0.128/25", "InvalidSubnet.Conflict"),
        ("10.2.0.0/24", "InvalidSubnet.Range"),
        ("10.1.0.0/29", "InvalidSubnet.Range"),
        ("10.1.2.1/24", "InvalidParameterValue"),
    ] {
        let err = ec2.create_subnet().vpc_id(&vpc_id).cidr_block(cidr).send().await.unwrap_err();
        assert_eq!(code(&err), expected, "{cidr}");
    }
    let unknown = ec2.create_subnet().vpc_id("vpc-0123456789abcdef0").cidr_block("10.1.5.0/24").send().await;
    assert_eq!(code(&unknown.unwrap_err()), "InvalidVpcID.NotFound");

    ec2.modify_subnet_attribute().subnet_id(&subnet_id).map_public_ip_on_launch(enabled(true)).send().await.unwrap();
    assert_eq!(subnet(&ec2, &subnet_id).await.map_public_ip_on_launch(), Some(true));
    let public = ec2.describe_subnets().filters(filter("map-public-ip-on-launch", "true")).send().await.unwrap();
    assert!(public.subnets().iter().any(|s| s.subnet_id() == Some(&subnet_id)));
    let by_tag = ec2.describe_subnets().filters(filter("tag:tier", "web")).send().await.unwrap();
    assert_eq!(by_tag.subnets().iter().map(|s| s.subnet_id().unwrap()).collect::<Vec<_>>(), [&subnet_id]);

    // An instance takes one address of the subnet and keeps the subnet until it is gone.
    let image_id = catalog_image(&ec2).await;
    let run = ec2
        .run_instances()
        .image_id(&image_id)
        .instance_type(InstanceType::T3Micro)
        .min_count(1)
        .max_count(1)
        .subnet_id(&subnet_id)
        .send()
        .await
        .unwrap();
    let instance = &run.instances()[0];
    let instance_id = instance.instance_id().unwrap();
    assert_eq!((instance.subnet_id(), instance.vpc_id()), (Some(subnet_id.as_str()), Some(vpc_id.as_str())));
    assert!(inside(instance.private_ip_address().unwrap(), "10.1.0.0/24"));
    assert_eq!(subnet(&ec2, &subnet_id).await.available_ip_address_count(), Some(250));
    let described = ec2.describe_instances().instance_ids(instance_id).send().await.unwrap();
    assert!(described.reservations()[0].instances()[0].public_ip_address().is_some(), "MapPublicIpOnLaunch");
    let in_use = ec2.delete_subnet().subnet_id(&subnet_id).send().await.unwrap_err();
    assert_eq!(code(&in_use), "DependencyViolation");

    ec2.terminate_instances().instance_ids(instance_id).send().await.unwrap();
    ec2.wait_until_instance_terminated().instance_ids(instance_id).wait(WAIT).await.unwrap();
    assert_eq!(subnet(&ec2, &subnet_id).await.available_ip_address_count(), Some(251));
    ec2.delete_subnet().subnet_id(&subnet_id).send().await.unwrap();
    let gone = ec2.describe_subnets().subnet_ids(&subnet_id).send().await.unwrap_err();
    assert_eq!(code(&gone), "InvalidSubnetID.NotFound");
    ec2.delete_vpc().vpc_id(&vpc_id).send().await.unwrap();
}

fn https_from(app_group: &str) -> IpPermission {
    IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(443)
        .to_port(443)
        .ip_ranges(IpRange::builder().cidr_ip("10.0.0.0/8").description("office").build())
        .ipv6_ranges(Ipv6Range::builder().cidr_ipv6("::/0").build())
        .user_id_group_pairs(UserIdGroupPair::builder().group_id(app_group).description("from app").build())
        .build()
}

async fn create_group(ec2: &Client, name: &str) -> String {
    let out = ec2.create_security_group().group_name(name).description(name).send().await.unwrap();
    out.group_id().unwrap().to_string()
}

#[tokio::test]
async fn security_group_story() {
    let (_server, ec2) = start();
    let created = ec2
        .create_security_group()
        .group_name("web")
        .description("web servers")
        .tag_specifications(tagged(ResourceType::SecurityGroup, "team", "a"))
        .send()
        .await
        .unwrap();
    let web_id = created.group_id().unwrap().to_string();
    assert!(created.security_group_arn().unwrap().ends_with(&format!(":security-group/{web_id}")));
    assert_eq!(created.tags()[0].key(), Some("team"));
    let web = group(&ec2, &web_id).await;
    assert_eq!((web.group_name(), web.description()), (Some("web"), Some("web servers")));
    assert!(web.ip_permissions().is_empty());
    let [egress] = web.ip_permissions_egress() else { panic!("one egress rule: {web:?}") };
    assert_eq!(egress.ip_protocol(), Some("-1"));
    assert_eq!(egress.ip_ranges()[0].cidr_ip(), Some("0.0.0.0/0"));
    let duplicate = ec2.create_security_group().group_name("web").description("again").send().await.unwrap_err();
    assert_eq!(code(&duplicate), "InvalidGroup.Duplicate");

    // One permission with three peers becomes three rules.
    let app_id = create_group(&ec2, "app").await;
    let added =
        ec2.authorize_security_group_ingress().group_id(&web_id).ip_permissions(https_from(&app_id)).send().await;
    let added = added.unwrap();
    assert_eq!(added.r#return(), Some(true));
    let rules = added.security_group_rules();
    assert_eq!(rules.len(), 3);
    assert!(rules.iter().all(|r| r.security_group_rule_id().unwrap().starts_with("sgr-")));
    assert!(rules.iter().all(|r| r.is_egress() == Some(false) && r.from_port() == Some(443)));
    assert_eq!(rules[0].cidr_ipv4(), Some("10.0.0.0/8"));
    assert_eq!(rules[0].description(), Some("office"));
    assert_eq!(rules[1].cidr_ipv6(), Some("::/0"));
    let referenced = rules[2].referenced_group_info().unwrap();
    assert_eq!((referenced.group_id(), referenced.user_id()), (Some(app_id.as_str()), Some(ACCOUNT)));

    let web = group(&ec2, &web_id).await;
    let [https] = web.ip_permissions() else { panic!("one permission: {web:?}") };
    assert_eq!((https.ip_protocol(), https.from_port(), https.to_port()), (Some("tcp"), Some(443), Some(443)));
    assert_eq!(https.ip_ranges()[0].cidr_ip(), Some("10.0.0.0/8"));
    assert_eq!(https.ip_ranges()[0].description(), Some("office"));
    assert_eq!(https.ipv6_ranges()[0].cidr_ipv6(), Some("::/0"));
    let pair = &https.user_id_group_pairs()[0];
    assert_eq!((pair.group_id(), pair.user_id()), (Some(app_id.as_str()), Some(ACCOUNT)));
    assert_eq!(pair.description(), Some("from app"));
    let again = ec2.authorize_security_group_ingress().group_id(&web_id).ip_permissions(https_from(&app_id)).send();
    assert_eq!(code(&again.await.unwrap_err()), "InvalidPermission.Duplicate");

    let by_peer = ec2.describe_security_groups().filters(filter("ip-permission.group-id", &app_id)).send().await;
    let by_peer = by_peer.unwrap();
    assert_eq!(by_peer.security_groups().iter().map(|g| g.group_id().unwrap()).collect::<Vec<_>>(), [&web_id]);
    let listed = ec2.describe_security_group_rules().filters(filter("group-id", &web_id)).send().await.unwrap();
    let listed = listed.security_group_rules();
    assert_eq!(listed.len(), 4); // three inbound + the default outbound
    assert_eq!(listed.iter().filter(|r| r.is_egress() == Some(true)).count(), 1);
    assert!(listed.iter().all(|r| r.group_id() == Some(&web_id) && r.group_owner_id() == Some(ACCOUNT)));

    // Revoke one rule by id and one by permission.
    let ipv6_rule = rules[1].security_group_rule_id().unwrap();
    ec2.revoke_security_group_ingress().group_id(&web_id).security_group_rule_ids(ipv6_rule).send().await.unwrap();
    let office = IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(443)
        .to_port(443)
        .ip_ranges(IpRange::builder().cidr_ip("10.0.0.0/8").build())
        .build();
    let revoked = ec2.revoke_security_group_ingress().group_id(&web_id).ip_permissions(office).send().await;
    assert_eq!(revoked.unwrap().r#return(), Some(true));
    let web = group(&ec2, &web_id).await;
    let [left] = web.ip_permissions() else { panic!("one permission left: {web:?}") };
    assert!(left.ip_ranges().is_empty() && left.ipv6_ranges().is_empty());
    assert_eq!(left.user_id_group_pairs()[0].group_id(), Some(app_id.as_str()));
    let twice = ec2.revoke_security_group_ingress().group_id(&web_id).security_group_rule_ids(ipv6_rule).send();
    assert_eq!(code(&twice.await.unwrap_err()), "InvalidSecurityGroupRuleId.NotFound");

    // The default group cannot go; a referenced group cannot go while referenced.
    let default = ec2.describe_security_groups().group_names("default").send().await.unwrap();
    let default_id = default.security_groups()[0].group_id().unwrap();
    let refused = ec2.delete_security_group().group_id(default_id).send().await.unwrap_err();
    assert_eq!(code(&refused), "CannotDelete");
    let referenced = ec2.delete_security_group().group_id(&app_id).send().await.unwrap_err();
    assert_eq!(code(&referenced), "DependencyViolation");
    ec2.delete_security_group().group_name("web").send().await.unwrap();
    ec2.delete_security_group().group_id(&app_id).send().await.unwrap();
    let gone = ec2.describe_security_groups().group_ids(&app_id).send().await.unwrap_err();
    assert_eq!(code(&gone), "InvalidGroup.NotFound");
}

async fn route_table_ids_where(ec2: &Client, filters: &[(&str, &str)]) -> Vec<String> {
    let mut request = ec2.describe_route_tables();
    for (name, value) in filters {
        request = request.filters(filter(name, value));
    }
    let out = request.send().await.unwrap();
    out.route_tables().iter().map(|t| t.route_table_id().unwrap().to_string()).collect()
}

#[tokio::test]
async fn internet_gateway_and_route_table_story() {
    let (_server, ec2) = start();
    let vpc_id = create_vpc(&ec2, "10.2.0.0/16").await;
    let subnet_id = create_subnet(&ec2, &vpc_id, "10.2.1.0/24").await;

    // Every VPC comes with a main table holding its local route.
    let main = ec2
        .describe_route_tables()
        .filters(filter("association.main", "true"))
        .filters(filter("vpc-id", &vpc_id))
        .send()
        .await
        .unwrap();
    let [main] = main.route_tables() else { panic!("one main table: {main:?}") };
    let main_id = main.route_table_id().unwrap().to_string();
    let [local] = main.routes() else { panic!("one local route: {main:?}") };
    assert_eq!((local.destination_cidr_block(), local.gateway_id()), (Some("10.2.0.0/16"), Some("local")));
    assert_eq!((local.origin(), local.state()), (Some(&RouteOrigin::CreateRouteTable), Some(&RouteState::Active)));
    let association = &main.associations()[0];
    assert_eq!((association.main(), association.subnet_id()), (Some(true), None));
    assert!(association.route_table_association_id().unwrap().starts_with("rtbassoc-"));
    assert_eq!(association.association_state().unwrap().state().map(|s| s.as_str()), Some("associated"));

    let created = ec2
        .create_internet_gateway()
        .tag_specifications(tagged(ResourceType::InternetGateway, "Name", "edge"))
        .send()
        .await
        .unwrap();
    let created = created.internet_gateway().unwrap();
    let igw_id = created.internet_gateway_id().unwrap().to_string();
    assert!(created.attachments().is_empty());
    assert_eq!(created.tags()[0].value(), Some("edge"));

    let table = ec2.create_route_table().vpc_id(&vpc_id).send().await.unwrap();
    let table_id = table.route_table().unwrap().route_table_id().unwrap().to_string();
    let detached = ec2.create_route().route_table_id(&table_id).destination_cidr_block("0.0.0.0/0").gateway_id(&igw_id);
    assert_eq!(code(&detached.send().await.unwrap_err()), "InvalidParameterValue");

    ec2.attach_internet_gateway().internet_gateway_id(&igw_id).vpc_id(&vpc_id).send().await.unwrap();
    let described = ec2.describe_internet_gateways().internet_gateway_ids(&igw_id).send().await.unwrap();
    let attachment = &described.internet_gateways()[0].attachments()[0];
    assert_eq!(
        (attachment.vpc_id(), attachment.state().map(|s| s.as_str())),
        (Some(vpc_id.as_str()), Some("available"))
    );
    let by_vpc = ec2.describe_internet_gateways().filters(filter("attachment.vpc-id", &vpc_id)).send().await.unwrap();
    assert_eq!(by_vpc.internet_gateways()[0].internet_gateway_id(), Some(igw_id.as_str()));
    let twice = ec2.attach_internet_gateway().internet_gateway_id(&igw_id).vpc_id(&vpc_id).send().await;
    assert_eq!(code(&twice.unwrap_err()), "Resource.AlreadyAssociated");

    let route = ec2.create_route().route_table_id(&table_id).destination_cidr_block("0.0.0.0/0").gateway_id(&igw_id);
    assert_eq!(route.send().await.unwrap().r#return(), Some(true));
    let again = ec2.create_route().route_table_id(&table_id).destination_cidr_block("0.0.0.0/0").gateway_id(&igw_id);
    assert_eq!(code(&again.send().await.unwrap_err()), "RouteAlreadyExists");
    let association = ec2.associate_route_table().route_table_id(&table_id).subnet_id(&subnet_id).send().await;
    let association_id = association.unwrap().association_id().unwrap().to_string();
    let table = ec2.describe_route_tables().route_table_ids(&table_id).send().await.unwrap();
    let table = &table.route_tables()[0];
    let default_route = table.routes().iter().find(|r| r.destination_cidr_block() == Some("0.0.0.0/0")).unwrap();
    assert_eq!(default_route.gateway_id(), Some(igw_id.as_str()));
    assert_eq!(default_route.origin(), Some(&RouteOrigin::CreateRoute));
    assert_eq!(default_route.state(), Some(&RouteState::Active));
    let association = &table.associations()[0];
    assert_eq!((association.main(), association.subnet_id()), (Some(false), Some(subnet_id.as_str())));
    assert_eq!(association.route_table_association_id(), Some(association_id.as_str()));

    let vpc = ("vpc-id", vpc_id.as_str());
    assert_eq!(route_table_ids_where(&ec2, &[("association.main", "false"), vpc]).await, [table_id.as_str()]);
    assert_eq!(route_table_ids_where(&ec2, &[("association.main", "true"), vpc]).await, [main_id.as_str()]);
    assert_eq!(route_table_ids_where(&ec2, &[("route.gateway-id", &igw_id)]).await, [table_id.as_str()]);
    assert_eq!(route_table_ids_where(&ec2, &[("association.subnet-id", &subnet_id)]).await, [table_id.as_str()]);

    // An attached gateway stays; once detached its routes are blackholes.
    let attached = ec2.delete_internet_gateway().internet_gateway_id(&igw_id).send().await.unwrap_err();
    assert_eq!(code(&attached), "DependencyViolation");
    ec2.detach_internet_gateway().internet_gateway_id(&igw_id).vpc_id(&vpc_id).send().await.unwrap();
    let table = ec2.describe_route_tables().route_table_ids(&table_id).send().await.unwrap();
    let default_route = table.route_tables()[0].routes().iter().find(|r| r.gateway_id() == Some(&igw_id)).cloned();
    assert_eq!(default_route.unwrap().state(), Some(&RouteState::Blackhole));
    let not_attached = ec2.detach_internet_gateway().internet_gateway_id(&igw_id).vpc_id(&vpc_id).send().await;
    assert_eq!(code(&not_attached.unwrap_err()), "Gateway.NotAttached");
    ec2.delete_internet_gateway().internet_gateway_id(&igw_id).send().await.unwrap();
    let gone = ec2.describe_internet_gateways().internet_gateway_ids(&igw_id).send().await.unwrap_err();
    assert_eq!(code(&gone), "InvalidInternetGatewayID.NotFound");

    let associated = ec2.delete_route_table().route_table_id(&table_id).send().await.unwrap_err();
    assert_eq!(code(&associated), "DependencyViolation");
    ec2.disassociate_route_table().association_id(&association_id).send().await.unwrap();
    ec2.delete_route_table().route_table_id(&table_id).send().await.unwrap();
    ec2.delete_subnet().subnet_id(&subnet_id).send().await.unwrap();
    ec2.delete_vpc().vpc_id(&vpc_id).send().await.unwrap();
    let gone = ec2.describe_route_tables().route_table_ids(&main_id).send().await.unwrap_err();
    assert_eq!(code(&gone), "InvalidRouteTableID.NotFound");
}

#[tokio::test]
async fn instance_in_a_subnet_with_its_security_group() {
    let (_server, ec2) = start();
    let vpc_id = create_vpc(&ec2, "10.3.0.0/16").await;
    let subnet_id = create_subnet(&ec2, &vpc_id, "10.3.1.0/24").await;
    let group = ec2.create_security_group().group_name("app").description("app").vpc_id(&vpc_id).send().await;
    let group_id = group.unwrap().group_id().unwrap().to_string();
    let image_id = catalog_image(&ec2).await;
    let launch = || {
        ec2.run_instances()
            .image_id(&image_id)
            .instance_type(InstanceType::T3Micro)
            .min_count(1)
            .max_count(1)
            .subnet_id(&subnet_id)
    };

    // A group of another VPC does not go with this subnet.
    let default_group = ec2.describe_security_groups().group_names("default").send().await.unwrap();
    let default_group = default_group.security_groups()[0].group_id().unwrap();
    let mismatch = launch().security_group_ids(default_group).send().await.unwrap_err();
    assert_eq!(code(&mismatch), "InvalidParameter");

    let run = launch().security_group_ids(&group_id).send().await.unwrap();
    let instance_id = run.instances()[0].instance_id().unwrap().to_string();
    let described = ec2.describe_instances().instance_ids(&instance_id).send().await.unwrap();
    let instance = &described.reservations()[0].instances()[0];
    assert_eq!((instance.subnet_id(), instance.vpc_id()), (Some(subnet_id.as_str()), Some(vpc_id.as_str())));
    let private_ip = instance.private_ip_address().unwrap();
    assert!(inside(private_ip, "10.3.1.0/24"), "{private_ip}");
    assert!(instance.public_ip_address().is_none(), "the subnet does not map public addresses");
    let groups: Vec<_> = instance.security_groups().iter().map(|g| (g.group_id(), g.group_name())).collect();
    assert_eq!(groups, [(Some(group_id.as_str()), Some("app"))]);

    let [interface] = instance.network_interfaces() else { panic!("one interface: {instance:?}") };
    assert!(interface.network_interface_id().unwrap().starts_with("eni-"));
    assert_eq!((interface.subnet_id(), interface.vpc_id()), (Some(subnet_id.as_str()), Some(vpc_id.as_str())));
    assert_eq!((interface.private_ip_address(), interface.owner_id()), (Some(private_ip), Some(ACCOUNT)));
    assert_eq!(interface.status(), Some(&NetworkInterfaceStatus::InUse));
    assert_eq!(interface.groups()[0].group_id(), Some(group_id.as_str()));
    assert_eq!(interface.groups()[0].group_name(), Some("app"));
    let attachment = interface.attachment().unwrap();
    assert_eq!((attachment.device_index(), attachment.delete_on_termination()), (Some(0), Some(true)));
    assert_eq!(attachment.status().map(|s| s.as_str()), Some("attached"));
    let address = &interface.private_ip_addresses()[0];
    assert_eq!((address.private_ip_address(), address.primary()), (Some(private_ip), Some(true)));
    assert_eq!(interface.interface_type(), Some("interface"));

    let by_group = ec2.describe_instances().filters(filter("instance.group-id", &group_id)).send().await.unwrap();
    assert_eq!(by_group.reservations()[0].instances()[0].instance_id(), Some(instance_id.as_str()));
    let in_use = ec2.delete_security_group().group_id(&group_id).send().await.unwrap_err();
    assert_eq!(code(&in_use), "DependencyViolation");
    ec2.terminate_instances().instance_ids(&instance_id).send().await.unwrap();
    ec2.wait_until_instance_terminated().instance_ids(&instance_id).wait(WAIT).await.unwrap();
    ec2.delete_security_group().group_id(&group_id).send().await.unwrap();
    ec2.delete_subnet().subnet_id(&subnet_id).send().await.unwrap();
    ec2.delete_vpc().vpc_id(&vpc_id).send().await.unwrap();
}

#[tokio::test]
async fn instance_types_and_offerings() {
    let (_server, ec2) = start();
    let out = ec2.describe_instance_types().instance_types(InstanceType::T3Micro).send().await.unwrap();
    let [t3] = out.instance_types() else { panic!("one type: {out:?}") };
    assert_eq!(t3.instance_type(), Some(&InstanceType::T3Micro));
    assert_eq!(t3.v_cpu_info().unwrap().default_v_cpus(), Some(2));
    assert_eq!(t3.memory_info().unwrap().size_in_mib(), Some(1024));
    assert_eq!(t3.processor_info().unwrap().supported_architectures(), [ArchitectureType::X8664]);
    assert_eq!((t3.burstable_performance_supported(), t3.free_tier_eligible()), (Some(true), Some(true)));
    let network = t3.network_info().unwrap();
    assert_eq!(network.maximum_network_interfaces(), Some(2));
    assert_eq!(network.network_performance(), Some("Up to 5 Gigabit"));

    let unknown = ec2.describe_instance_types().instance_types(InstanceType::from("z9.huge")).send().await;
    assert_eq!(code(&unknown.unwrap_err()), "InvalidInstanceType");
    let bad_filter = ec2.describe_instance_types().filters(filter("colour", "red")).send().await;
    assert_eq!(code(&bad_filter.unwrap_err()), "InvalidParameterValue");

    // The SDK's paginator follows NextToken through the whole catalog.
    let pages = ec2.describe_instance_types().max_results(100).into_paginator().items().send();
    let names: Vec<_> = pages.collect::<Result<Vec<_>, _>>().await.unwrap();
    let mut names: Vec<_> = names.iter().map(|t| t.instance_type().unwrap().as_str().to_string()).collect();
    let count = names.len();
    names.sort();
    names.dedup();
    assert!(count > 200 && names.len() == count, "{count} types, {} distinct", names.len());

    let by_region = ec2.describe_instance_type_offerings().filters(filter("instance-type", "t3.micro")).send();
    let by_region = by_region.await.unwrap();
    let [offering] = by_region.instance_type_offerings() else { panic!("one offering: {by_region:?}") };
    assert_eq!((offering.location_type(), offering.location()), (Some(&LocationType::Region), Some("us-east-1")));
    let by_zone = ec2
        .describe_instance_type_offerings()
        .location_type(LocationType::AvailabilityZone)
        .filters(filter("instance-type", "t3.micro"))
        .send()
        .await
        .unwrap();
    let mut offered: Vec<_> = by_zone.instance_type_offerings().iter().map(|o| o.location().unwrap()).collect();
    offered.sort();
    let zones = ec2.describe_availability_zones().send().await.unwrap();
    let mut zones: Vec<_> = zones.availability_zones().iter().map(|z| z.zone_name().unwrap()).collect();
    zones.sort();
    assert_eq!(offered, zones);
    let planet = ec2.describe_instance_type_offerings().location_type(LocationType::from("planet")).send().await;
    assert_eq!(code(&planet.unwrap_err()), "InvalidParameterValue");
}
