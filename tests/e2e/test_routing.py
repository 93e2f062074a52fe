"""Internet gateways, route tables and network ACLs through boto3: the default network's
gateway, main table and default ACL, the reads Terraform makes for every aws_vpc, the
full story of gateways, tables, routes and associations with EC2's errors, routes to
instances, other accounts' isolation, and restart / kill -9 durability."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from support import make_client

OTHER = "111111111111"


def expect_error(code: str, call, **params) -> str:
    with pytest.raises(ClientError) as caught:
        call(**params)
    assert caught.value.response["Error"]["Code"] == code, caught.value.response["Error"]
    return caught.value.response["Error"]["Message"]


def default_vpc_id(ec2) -> str:
    [vpc] = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"]
    return vpc["VpcId"]


def main_table(ec2, vpc_id: str) -> dict:
    """What Terraform reads for aws_vpc.main_route_table_id."""
    [table] = ec2.describe_route_tables(
        Filters=[{"Name": "association.main", "Values": ["true"]}, {"Name": "vpc-id", "Values": [vpc_id]}]
    )["RouteTables"]
    return table


def default_acl(ec2, vpc_id: str) -> dict:
    """What Terraform reads for aws_vpc.default_network_acl_id."""
    [acl] = ec2.describe_network_acls(
        Filters=[{"Name": "default", "Values": ["true"]}, {"Name": "vpc-id", "Values": [vpc_id]}]
    )["NetworkAcls"]
    return acl


def routes_of(table: dict) -> dict:
    return {r.get("DestinationCidrBlock") or r["DestinationIpv6CidrBlock"]: r for r in table["Routes"]}


def table_by_id(ec2, table_id: str) -> dict:
    [table] = ec2.describe_route_tables(RouteTableIds=[table_id])["RouteTables"]
    return table


def ipv6_vpc(ec2, cidr: str) -> tuple[str, str]:
    vpc = ec2.create_vpc(CidrBlock=cidr, AmazonProvidedIpv6CidrBlock=True)["Vpc"]
    [vpc] = ec2.describe_vpcs(VpcIds=[vpc["VpcId"]])["Vpcs"]
    return vpc["VpcId"], vpc["Ipv6CidrBlockAssociationSet"][0]["Ipv6CidrBlock"]


def test_default_network_has_its_gateway_main_table_and_acl(ec2):
    vpc_id = default_vpc_id(ec2)
    [igw] = ec2.describe_internet_gateways(
        Filters=[{"Name": "attachment.vpc-id", "Values": [vpc_id]}]
    )["InternetGateways"]
    assert igw["Attachments"] == [{"VpcId": vpc_id, "State": "available"}]
    assert igw["OwnerId"] == "000000000000" and igw["InternetGatewayId"].startswith("igw-")

    table = main_table(ec2, vpc_id)
    routes = routes_of(table)
    assert routes["172.31.0.0/16"] == {"DestinationCidrBlock": "172.31.0.0/16", "GatewayId": "local",
                                       "Origin": "CreateRouteTable", "State": "active"}
    assert routes["0.0.0.0/0"] == {"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": igw["InternetGatewayId"],
                                   "Origin": "CreateRoute", "State": "active"}
    [association] = table["Associations"]
    assert association["Main"] is True and "SubnetId" not in association
    assert association["AssociationState"] == {"State": "associated"}
    assert association["RouteTableAssociationId"].startswith("rtbassoc-")
    assert table["VpcId"] == vpc_id and table["OwnerId"] == "000000000000" and table["PropagatingVgws"] == []

    acl = default_acl(ec2, vpc_id)
    assert acl["IsDefault"] is True and acl["VpcId"] == vpc_id and acl["NetworkAclId"].startswith("acl-")
    entries = [(e["RuleNumber"], e["Egress"], e["RuleAction"], e["CidrBlock"], e["Protocol"]) for e in acl["Entries"]]
    assert entries == [
        (100, True, "allow", "0.0.0.0/0", "-1"), (32767, True, "deny", "0.0.0.0/0", "-1"),
        (100, False, "allow", "0.0.0.0/0", "-1"), (32767, False, "deny", "0.0.0.0/0", "-1"),
    ]  # fmt: skip
    subnets = {s["SubnetId"] for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]}
    assert {a["SubnetId"] for a in acl["Associations"]} == subnets and len(subnets) == 6
    assert all(a["NetworkAclId"] == acl["NetworkAclId"] for a in acl["Associations"])
    assert all(a["NetworkAclAssociationId"].startswith("aclassoc-") for a in acl["Associations"])


def test_terraform_reads_for_a_new_vpc(ec2):
    vpc_id, ipv6 = ipv6_vpc(ec2, "10.20.0.0/16")
    table = main_table(ec2, vpc_id)
    assert routes_of(table) == {
        "10.20.0.0/16": {"DestinationCidrBlock": "10.20.0.0/16", "GatewayId": "local",
                         "Origin": "CreateRouteTable", "State": "active"},
        ipv6: {"DestinationIpv6CidrBlock": ipv6, "GatewayId": "local", "Origin": "CreateRouteTable",
               "State": "active"},
    }  # fmt: skip
    acl = default_acl(ec2, vpc_id)
    assert acl["Associations"] == []
    assert [(e["RuleNumber"], e.get("Ipv6CidrBlock")) for e in acl["Entries"] if e["Egress"]] == [
        (100, None), (101, "::/0"), (32767, None), (32768, "::/0")
    ]  # fmt: skip
    subnet_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.20.1.0/24")["Subnet"]["SubnetId"]
    assert [a["SubnetId"] for a in default_acl(ec2, vpc_id)["Associations"]] == [subnet_id]
    # The other filters Terraform and others use.
    assert ec2.describe_route_tables(
        Filters=[{"Name": "association.main", "Values": ["false"]}, {"Name": "vpc-id", "Values": [vpc_id]}]
    )["RouteTables"] == []
    acls = ec2.describe_network_acls(Filters=[{"Name": "association.subnet-id", "Values": [subnet_id]}])["NetworkAcls"]
    assert [a["NetworkAclId"] for a in acls] == [acl["NetworkAclId"]]
    found = ec2.describe_network_acls(Filters=[{"Name": "entry.rule-number", "Values": ["101"]}])["NetworkAcls"]
    assert [a["VpcId"] for a in found] == [vpc_id]
    assert ec2.describe_network_acls(NetworkAclIds=[acl["NetworkAclId"]])["NetworkAcls"][0]["VpcId"] == vpc_id
    expect_error("InvalidNetworkAclID.NotFound", ec2.describe_network_acls, NetworkAclIds=["acl-0123456789abcdef0"])
    expect_error("InvalidParameterValue", ec2.describe_network_acls, Filters=[{"Name": "bogus", "Values": ["x"]}])
    seen, token = [], None
    while True:
        page = ec2.describe_network_acls(MaxResults=5, **({"NextToken": token} if token else {}))
        seen += [a["NetworkAclId"] for a in page["NetworkAcls"]]
        token = page.get("NextToken")
        if not token:
            break
    assert len(seen) == 2 and len(set(seen)) == 2


def test_internet_gateway_story(ec2):
    vpc_id = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    created = ec2.create_internet_gateway(
        TagSpecifications=[{"ResourceType": "internet-gateway", "Tags": [{"Key": "Name", "Value": "edge"}]}]
    )["InternetGateway"]
    igw_id = created["InternetGatewayId"]
    assert created["Attachments"] == [] and created["Tags"] == [{"Key": "Name", "Value": "edge"}]
    expect_error("DryRunOperation", ec2.attach_internet_gateway, InternetGatewayId=igw_id, VpcId=vpc_id, DryRun=True)
    ec2.attach_internet_gateway(InternetGatewayId=igw_id, VpcId=vpc_id)
    [igw] = ec2.describe_internet_gateways(InternetGatewayIds=[igw_id])["InternetGateways"]
    assert igw["Attachments"] == [{"VpcId": vpc_id, "State": "available"}]

    # One gateway per VPC, one VPC per gateway.
    message = expect_error("Resource.AlreadyAssociated", ec2.attach_internet_gateway,
                           InternetGatewayId=igw_id, VpcId=vpc_id)
    assert message == f"resource {igw_id} is already attached to network {vpc_id}"
    second = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    message = expect_error("InvalidParameterValue", ec2.attach_internet_gateway, InternetGatewayId=second, VpcId=vpc_id)
    assert message == f"Network {vpc_id} already has an internet gateway attached"
    expect_error("InvalidVpcID.NotFound", ec2.attach_internet_gateway, InternetGatewayId=second,
                 VpcId="vpc-0123456789abcdef0")
    expect_error("InvalidInternetGatewayID.NotFound", ec2.attach_internet_gateway,
                 InternetGatewayId="igw-0123456789abcdef0", VpcId=vpc_id)
    expect_error("InvalidInternetGatewayId.Malformed", ec2.attach_internet_gateway, InternetGatewayId="igw-x",
                 VpcId=vpc_id)

    # Dependencies: an attached gateway keeps its VPC and cannot be deleted.
    message = expect_error("DependencyViolation", ec2.delete_internet_gateway, InternetGatewayId=igw_id)
    assert message == f"The internetGateway '{igw_id}' has dependencies and cannot be deleted."
    expect_error("DependencyViolation", ec2.delete_vpc, VpcId=vpc_id)
    message = expect_error("Gateway.NotAttached", ec2.detach_internet_gateway, InternetGatewayId=second, VpcId=vpc_id)
    assert message == f"resource {second} is not attached to network {vpc_id}"
    ec2.detach_internet_gateway(InternetGatewayId=igw_id, VpcId=vpc_id)
    expect_error("Gateway.NotAttached", ec2.detach_internet_gateway, InternetGatewayId=igw_id, VpcId=vpc_id)

    # Filters and pages.
    def found(name: str, *values: str) -> set[str]:
        gateways = ec2.describe_internet_gateways(Filters=[{"Name": name, "Values": list(values)}])["InternetGateways"]
        return {g["InternetGatewayId"] for g in gateways}

    assert found("tag:Name", "edge") == {igw_id}
    assert found("tag-key", "Name") == {igw_id}
    assert found("internet-gateway-id", igw_id, second) == {igw_id, second}
    assert found("attachment.state", "available") == {ec2.describe_internet_gateways(
        Filters=[{"Name": "attachment.vpc-id", "Values": [default_vpc_id(ec2)]}])["InternetGateways"][0]["InternetGatewayId"]}
    assert found("owner-id", "000000000000") >= {igw_id, second}
    expect_error("InvalidParameterValue", ec2.describe_internet_gateways, Filters=[{"Name": "state", "Values": ["x"]}])
    page = ec2.describe_internet_gateways(MaxResults=5)
    assert len(page["InternetGateways"]) == 3 and "NextToken" not in page
    expect_error("InvalidParameterCombination", ec2.describe_internet_gateways, InternetGatewayIds=[igw_id],
                 MaxResults=5)

    ec2.delete_internet_gateway(InternetGatewayId=igw_id)
    expect_error("InvalidInternetGatewayID.NotFound", ec2.describe_internet_gateways, InternetGatewayIds=[igw_id])
    expect_error("InvalidInternetGatewayID.NotFound", ec2.delete_internet_gateway, InternetGatewayId=igw_id)
    assert ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [igw_id]}])["Tags"] == []
    ec2.delete_vpc(VpcId=vpc_id)


def test_route_table_and_route_story(ec2):
    vpc_id, vpc_ipv6 = ipv6_vpc(ec2, "10.2.0.0/16")
    subnet_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.2.1.0/24")["Subnet"]["SubnetId"]
    created = ec2.create_route_table(
        VpcId=vpc_id, TagSpecifications=[{"ResourceType": "route-table", "Tags": [{"Key": "tier", "Value": "web"}]}]
    )["RouteTable"]
    table_id = created["RouteTableId"]
    assert set(routes_of(created)) == {"10.2.0.0/16", vpc_ipv6} and created["Associations"] == []
    assert created["Tags"] == [{"Key": "tier", "Value": "web"}]
    expect_error("InvalidVpcID.NotFound", ec2.create_route_table, VpcId="vpc-0123456789abcdef0")

    # Routes to a gateway need it attached to the table's VPC.
    igw_id = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    message = expect_error("InvalidParameterValue", ec2.create_route, RouteTableId=table_id,
                           DestinationCidrBlock="0.0.0.0/0", GatewayId=igw_id)
    assert message == f"route table {table_id} and network gateway {igw_id} belong to different networks"
    ec2.attach_internet_gateway(InternetGatewayId=igw_id, VpcId=vpc_id)
    expect_error("DryRunOperation", ec2.create_route, RouteTableId=table_id, DestinationCidrBlock="0.0.0.0/0",
                 GatewayId=igw_id, DryRun=True)
    ec2.create_route(RouteTableId=table_id, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw_id)
    ec2.create_route(RouteTableId=table_id, DestinationIpv6CidrBlock="::/0", GatewayId=igw_id)
    message = expect_error("RouteAlreadyExists", ec2.create_route, RouteTableId=table_id,
                           DestinationCidrBlock="0.0.0.0/0", GatewayId=igw_id)
    assert message == "The route identified by 0.0.0.0/0 already exists."
    expect_error("RouteAlreadyExists", ec2.create_route, RouteTableId=table_id, DestinationCidrBlock="10.2.0.0/16",
                 GatewayId=igw_id)
    expect_error("InvalidParameterValue", ec2.create_route, RouteTableId=table_id, DestinationCidrBlock="10.2.5.0/24",
                 GatewayId=igw_id)
    expect_error("InvalidGatewayID.NotFound", ec2.create_route, RouteTableId=table_id,
                 DestinationCidrBlock="192.168.0.0/16", GatewayId="igw-0123456789abcdef0")
    expect_error("InvalidGatewayID.NotFound", ec2.create_route, RouteTableId=table_id,
                 DestinationCidrBlock="192.168.0.0/16", GatewayId="vgw-0123456789abcdef0")
    expect_error("InvalidParameterValue", ec2.create_route, RouteTableId=table_id, DestinationCidrBlock="10.300.0.0/16",
                 GatewayId=igw_id)
    expect_error("InvalidRouteTableID.NotFound", ec2.create_route, RouteTableId="rtb-0123456789abcdef0",
                 DestinationCidrBlock="0.0.0.0/0", GatewayId=igw_id)
    expect_error("InvalidNetworkInterfaceID.NotFound", ec2.create_route, RouteTableId=table_id,
                 DestinationCidrBlock="192.168.0.0/16", NetworkInterfaceId="eni-0123456789abcdef0")
    # A misaligned block is stored aligned.
    ec2.create_route(RouteTableId=table_id, DestinationCidrBlock="198.51.100.7/24", GatewayId=igw_id)
    routes = routes_of(table_by_id(ec2, table_id))
    assert routes["198.51.100.0/24"]["State"] == "active" and routes["::/0"]["GatewayId"] == igw_id

    # Local routes stay; other routes go when asked.
    message = expect_error("InvalidParameterValue", ec2.delete_route, RouteTableId=table_id,
                           DestinationCidrBlock="10.2.0.0/16")
    assert message == f"cannot remove local route 10.2.0.0/16 in route table {table_id}"
    expect_error("InvalidParameterValue", ec2.replace_route, RouteTableId=table_id,
                 DestinationCidrBlock="10.2.0.0/16", GatewayId=igw_id)
    message = expect_error("InvalidRoute.NotFound", ec2.delete_route, RouteTableId=table_id,
                           DestinationCidrBlock="203.0.113.0/24")
    assert message == f"no route with destination-cidr-block 203.0.113.0/24 in route table {table_id}"
    expect_error("InvalidParameterValue", ec2.replace_route, RouteTableId=table_id,
                 DestinationCidrBlock="203.0.113.0/24", GatewayId=igw_id)
    ec2.replace_route(RouteTableId=table_id, DestinationCidrBlock="198.51.100.0/24", GatewayId=igw_id)
    ec2.delete_route(RouteTableId=table_id, DestinationCidrBlock="198.51.100.0/24")
    assert "198.51.100.0/24" not in routes_of(table_by_id(ec2, table_id))

    # Associations.
    association_id = ec2.associate_route_table(RouteTableId=table_id, SubnetId=subnet_id)["AssociationId"]
    message = expect_error("Resource.AlreadyAssociated", ec2.associate_route_table, RouteTableId=table_id,
                           SubnetId=subnet_id)
    assert message == f"the specified association for route table {table_id} conflicts with an existing association"
    other_subnet = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"][0]
    message = expect_error("InvalidParameterValue", ec2.associate_route_table, RouteTableId=table_id,
                           SubnetId=other_subnet["SubnetId"])
    assert message.endswith("belong to different networks")
    [association] = table_by_id(ec2, table_id)["Associations"]
    assert association == {"Main": False, "RouteTableAssociationId": association_id, "RouteTableId": table_id,
                           "SubnetId": subnet_id, "AssociationState": {"State": "associated"}}
    message = expect_error("DependencyViolation", ec2.delete_route_table, RouteTableId=table_id)
    assert message == f"The routeTable '{table_id}' has dependencies and cannot be deleted."

    def found(name: str, *values: str) -> set[str]:
        tables = ec2.describe_route_tables(Filters=[{"Name": name, "Values": list(values)}])["RouteTables"]
        return {t["RouteTableId"] for t in tables}

    main_id = main_table(ec2, vpc_id)["RouteTableId"]
    assert found("association.subnet-id", subnet_id) == {table_id}
    assert found("association.route-table-association-id", association_id) == {table_id}
    assert found("association.main", "false") == {table_id}
    assert found("vpc-id", vpc_id) == {table_id, main_id}
    assert found("route.gateway-id", igw_id) == {table_id}
    assert found("route.destination-ipv6-cidr-block", "::/0") == {table_id}
    assert found("route.destination-cidr-block", "10.2.0.0/16") == {table_id, main_id}
    assert found("route.origin", "CreateRoute") >= {table_id}
    assert found("tag:tier", "web") == {table_id}

    # A gateway no longer attached leaves its routes as blackholes.
    ec2.detach_internet_gateway(InternetGatewayId=igw_id, VpcId=vpc_id)
    assert routes_of(table_by_id(ec2, table_id))["0.0.0.0/0"]["State"] == "blackhole"
    assert found("route.state", "blackhole") == {table_id}
    ec2.delete_internet_gateway(InternetGatewayId=igw_id)
    assert routes_of(table_by_id(ec2, table_id))["::/0"]["State"] == "blackhole"

    # The main association can move to another table, not be disassociated.
    main_association = main_table(ec2, vpc_id)["Associations"][0]["RouteTableAssociationId"]
    message = expect_error("InvalidParameterValue", ec2.disassociate_route_table, AssociationId=main_association)
    assert message == f"cannot disassociate the main route table association {main_association}"
    new_main = ec2.replace_route_table_association(AssociationId=main_association, RouteTableId=table_id)
    assert new_main["AssociationState"] == {"State": "associated"}
    assert new_main["NewAssociationId"] != main_association
    assert main_table(ec2, vpc_id)["RouteTableId"] == table_id
    expect_error("InvalidAssociationID.NotFound", ec2.disassociate_route_table, AssociationId=main_association)
    # The former main table is now an ordinary one: deletable, and it keeps the VPC meanwhile.
    expect_error("DependencyViolation", ec2.delete_vpc, VpcId=vpc_id)
    ec2.delete_route_table(RouteTableId=main_id)
    expect_error("InvalidRouteTableID.NotFound", ec2.describe_route_tables, RouteTableIds=[main_id])
    expect_error("DependencyViolation", ec2.delete_route_table, RouteTableId=table_id)

    ec2.disassociate_route_table(AssociationId=association_id)
    expect_error("InvalidAssociationID.NotFound", ec2.disassociate_route_table, AssociationId=association_id)
    expect_error("InvalidAssociationID.Malformed", ec2.disassociate_route_table, AssociationId="assoc-1")
    ec2.delete_subnet(SubnetId=subnet_id)
    ec2.delete_vpc(VpcId=vpc_id)
    expect_error("InvalidRouteTableID.NotFound", ec2.describe_route_tables, RouteTableIds=[table_id])
    assert ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [table_id]}])["Tags"] == []


def test_subnet_association_follows_subnet_deletion_and_replacement(ec2):
    vpc_id = ec2.create_vpc(CidrBlock="10.3.0.0/16")["Vpc"]["VpcId"]
    subnet_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.3.1.0/24")["Subnet"]["SubnetId"]
    first = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
    second = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
    association_id = ec2.associate_route_table(RouteTableId=first, SubnetId=subnet_id)["AssociationId"]
    replaced = ec2.replace_route_table_association(AssociationId=association_id, RouteTableId=second)
    assert table_by_id(ec2, first)["Associations"] == []
    [association] = table_by_id(ec2, second)["Associations"]
    assert association["RouteTableAssociationId"] == replaced["NewAssociationId"]
    assert association["SubnetId"] == subnet_id
    ec2.delete_route_table(RouteTableId=first)
    # Deleting the subnet ends its association.
    ec2.delete_subnet(SubnetId=subnet_id)
    assert table_by_id(ec2, second)["Associations"] == []
    ec2.delete_route_table(RouteTableId=second)
    ec2.delete_vpc(VpcId=vpc_id)


def test_routes_to_instances(ec2):
    vpc_id = default_vpc_id(ec2)
    table_id = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
    image_id = ec2.describe_images(Owners=["amazon"], Filters=[
        {"Name": "name", "Values": ["al2023-ami-2023.*-kernel-6.1-x86_64"]}])["Images"][0]["ImageId"]
    [instance] = ec2.run_instances(ImageId=image_id, InstanceType="t3.micro", MinCount=1, MaxCount=1)["Instances"]
    instance_id = instance["InstanceId"]
    assert instance["VpcId"] == vpc_id
    ec2.create_route(RouteTableId=table_id, DestinationCidrBlock="0.0.0.0/0", InstanceId=instance_id)
    route = routes_of(table_by_id(ec2, table_id))["0.0.0.0/0"]
    assert (route["InstanceId"], route["InstanceOwnerId"], route["State"]) == (instance_id, "000000000000", "active")
    found = ec2.describe_route_tables(Filters=[{"Name": "route.instance-id", "Values": [instance_id]}])["RouteTables"]
    assert [t["RouteTableId"] for t in found] == [table_id]
    # Routes inside the VPC may go to an instance, not to a gateway.
    ec2.create_route(RouteTableId=table_id, DestinationCidrBlock="172.31.200.0/24", InstanceId=instance_id)
    igw_id = routes_of(main_table(ec2, vpc_id))["0.0.0.0/0"]["GatewayId"]
    message = expect_error("InvalidParameterValue", ec2.create_route, RouteTableId=table_id,
                           DestinationCidrBlock="172.31.201.0/24", GatewayId=igw_id)
    assert message == ("The destination CIDR block 172.31.201.0/24 is equal to or more specific than one of this "
                       "VPC's CIDR blocks. This route can target only an interface or an instance.")

    # An instance of another VPC, or none at all.
    other_vpc = ec2.create_vpc(CidrBlock="10.4.0.0/16")["Vpc"]["VpcId"]
    other_table = main_table(ec2, other_vpc)["RouteTableId"]
    message = expect_error("InvalidParameterValue", ec2.create_route, RouteTableId=other_table,
                           DestinationCidrBlock="192.0.2.0/24", InstanceId=instance_id)
    assert message == f"route table {other_table} and instance {instance_id} belong to different networks"
    expect_error("InvalidInstanceID.NotFound", ec2.create_route, RouteTableId=table_id,
                 DestinationCidrBlock="192.0.2.0/24", InstanceId="i-0123456789abcdef0")
    expect_error("InvalidInstanceID.Malformed", ec2.create_route, RouteTableId=table_id,
                 DestinationCidrBlock="192.0.2.0/24", InstanceId="instance-1")

    # The gateway keeps its VPC's public addresses reachable: no detaching while they are there.
    message = expect_error("DependencyViolation", ec2.detach_internet_gateway, InternetGatewayId=igw_id, VpcId=vpc_id)
    assert message.startswith(f"Network {vpc_id} has some mapped public address(es).")

    ec2.terminate_instances(InstanceIds=[instance_id])
    ec2.get_waiter("instance_terminated").wait(InstanceIds=[instance_id], WaiterConfig={"Delay": 1})
    assert routes_of(table_by_id(ec2, table_id))["0.0.0.0/0"]["State"] == "blackhole"
    expect_error("InvalidInstanceID.NotFound", ec2.create_route, RouteTableId=table_id,
                 DestinationCidrBlock="192.0.2.0/24", InstanceId=instance_id)


def test_other_accounts_see_none_of_it(ec2, client_factory):
    other = client_factory(access_key=OTHER)
    vpc_id = ec2.create_vpc(CidrBlock="10.5.0.0/16")["Vpc"]["VpcId"]
    subnet_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.5.0.0/24")["Subnet"]["SubnetId"]
    igw_id = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw_id, VpcId=vpc_id)
    table_id = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
    association_id = ec2.associate_route_table(RouteTableId=table_id, SubnetId=subnet_id)["AssociationId"]
    acl_id = default_acl(ec2, vpc_id)["NetworkAclId"]

    expect_error("InvalidInternetGatewayID.NotFound", other.describe_internet_gateways, InternetGatewayIds=[igw_id])
    expect_error("InvalidInternetGatewayID.NotFound", other.delete_internet_gateway, InternetGatewayId=igw_id)
    expect_error("InvalidRouteTableID.NotFound", other.describe_route_tables, RouteTableIds=[table_id])
    expect_error("InvalidRouteTableID.NotFound", other.create_route, RouteTableId=table_id,
                 DestinationCidrBlock="0.0.0.0/0", GatewayId=igw_id)
    expect_error("InvalidRouteTableID.NotFound", other.delete_route_table, RouteTableId=table_id)
    expect_error("InvalidAssociationID.NotFound", other.disassociate_route_table, AssociationId=association_id)
    expect_error("InvalidNetworkAclID.NotFound", other.describe_network_acls, NetworkAclIds=[acl_id])
    # Its own resources cannot reach into the first account's either.
    other_vpc = default_vpc_id(other)
    other_table = main_table(other, other_vpc)["RouteTableId"]
    expect_error("InvalidSubnetID.NotFound", other.associate_route_table, RouteTableId=other_table, SubnetId=subnet_id)
    expect_error("InvalidVpcID.NotFound", other.create_route_table, VpcId=vpc_id)
    expect_error("InvalidGatewayID.NotFound", other.create_route, RouteTableId=other_table,
                 DestinationCidrBlock="192.0.2.0/24", GatewayId=igw_id)
    # Lists hold only the caller's own.
    assert {g["OwnerId"] for g in other.describe_internet_gateways()["InternetGateways"]} == {OTHER}
    assert {t["VpcId"] for t in other.describe_route_tables()["RouteTables"]} == {other_vpc}
    assert [a["VpcId"] for a in other.describe_network_acls()["NetworkAcls"]] == [other_vpc]
    assert table_by_id(ec2, table_id)["Associations"][0]["RouteTableAssociationId"] == association_id


def test_routing_survives_restart_and_kill(server, ec2):
    vpc_id = ec2.create_vpc(CidrBlock="10.6.0.0/16")["Vpc"]["VpcId"]
    subnet_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.6.1.0/24")["Subnet"]["SubnetId"]
    igw_id = ec2.create_internet_gateway(
        TagSpecifications=[{"ResourceType": "internet-gateway", "Tags": [{"Key": "k", "Value": "v"}]}]
    )["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw_id, VpcId=vpc_id)
    table_id = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=table_id, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw_id)
    association_id = ec2.associate_route_table(RouteTableId=table_id, SubnetId=subnet_id)["AssociationId"]
    main_before = main_table(ec2, vpc_id)
    acl_before = default_acl(ec2, vpc_id)
    server.kill()
    server.start()
    again = make_client(server.url)
    [igw] = again.describe_internet_gateways(InternetGatewayIds=[igw_id])["InternetGateways"]
    assert igw["Attachments"] == [{"VpcId": vpc_id, "State": "available"}]
    assert igw["Tags"] == [{"Key": "k", "Value": "v"}]
    table = table_by_id(again, table_id)
    assert routes_of(table)["0.0.0.0/0"]["GatewayId"] == igw_id
    assert table["Associations"][0]["RouteTableAssociationId"] == association_id
    assert main_table(again, vpc_id) == main_before
    assert default_acl(again, vpc_id) == acl_before
    server.restart()
    assert table_by_id(make_client(server.url), table_id)["RouteTableId"] == table_id


def test_hostile_route_inputs(ec2):
    table_id = main_table(ec2, default_vpc_id(ec2))["RouteTableId"]
    for block in ("banana", "10.0.0.0/33", "300.1.2.3/8", "::/0"):
        expect_error("InvalidParameterValue", ec2.create_route, RouteTableId=table_id, DestinationCidrBlock=block,
                     GatewayId="igw-0123456789abcdef0")
    expect_error("InvalidParameterValue", ec2.create_route, RouteTableId=table_id,
                 DestinationIpv6CidrBlock="0.0.0.0/0", GatewayId="igw-0123456789abcdef0")
    expect_error("InvalidParameterCombination", ec2.create_route, RouteTableId=table_id,
                 DestinationCidrBlock="192.0.2.0/24", GatewayId="igw-0123456789abcdef0",
                 InstanceId="i-0123456789abcdef0")
    expect_error("MissingParameter", ec2.create_route, RouteTableId=table_id, DestinationCidrBlock="192.0.2.0/24")
    expect_error("InvalidRouteTableId.Malformed", ec2.delete_route, RouteTableId="rtb", DestinationCidrBlock="0.0.0.0/0")
    # Routes up to EC2's quota of 50 per table (the main table has its default route).
    igw_id = routes_of(main_table(ec2, default_vpc_id(ec2)))["0.0.0.0/0"]["GatewayId"]
    for n in range(49):
        ec2.create_route(RouteTableId=table_id, DestinationCidrBlock=f"100.64.{n}.0/24", GatewayId=igw_id)
    message = expect_error("RouteLimitExceeded", ec2.create_route, RouteTableId=table_id,
                           DestinationCidrBlock="100.64.99.0/24", GatewayId=igw_id)
    assert message == "The maximum number of routes has been reached."
    assert len(main_table(ec2, default_vpc_id(ec2))["Routes"]) == 51
    ec2.delete_route(RouteTableId=table_id, DestinationCidrBlock="100.64.0.0/24")
    ec2.create_route(RouteTableId=table_id, DestinationCidrBlock="100.64.99.0/24", GatewayId=igw_id)


def test_route_tables_are_paged(ec2):
    vpc_id = default_vpc_id(ec2)
    created = {ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"] for _ in range(6)}
    everything = {t["RouteTableId"] for t in ec2.describe_route_tables()["RouteTables"]}
    assert everything == created | {main_table(ec2, vpc_id)["RouteTableId"]}
    seen, token, pages = set(), None, 0
    while True:
        page = ec2.describe_route_tables(MaxResults=5, **({"NextToken": token} if token else {}))
        seen |= {t["RouteTableId"] for t in page["RouteTables"]}
        pages += 1
        token = page.get("NextToken")
        if not token:
            break
    assert seen == everything and pages == 2
    expect_error("InvalidPaginationToken", ec2.describe_route_tables, NextToken="zz")
