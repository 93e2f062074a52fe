"""VPCs and subnets through boto3 and aws-cli: the default network every scope starts
with, CreateVpc / CreateSubnet with EC2's CIDR rules, attributes, filters (and the
aliases Ansible and others send), tags, dependency errors on delete, CreateDefaultVpc,
other accounts' and regions' isolation, and restart / kill -9 durability."""

from __future__ import annotations

import ipaddress

import pytest
from botocore.exceptions import ClientError

from support import error_code, make_client

OTHER = "111111111111"


def expect_error(code: str, call, **params) -> str:
    with pytest.raises(ClientError) as caught:
        call(**params)
    assert error_code(caught.value) == code, caught.value.response["Error"]
    return caught.value.response["Error"]["Message"]


def default_vpc(ec2) -> dict:
    [vpc] = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"]
    return vpc


def tags_of(resource: dict) -> dict:
    return {t["Key"]: t["Value"] for t in resource.get("Tags", [])}


def test_every_scope_starts_with_its_default_network(ec2, client_factory):
    vpc = default_vpc(ec2)
    assert (vpc["CidrBlock"], vpc["IsDefault"], vpc["State"]) == ("172.31.0.0/16", True, "available")
    assert vpc["OwnerId"] == "000000000000"
    subnets = ec2.describe_subnets(Filters=[{"Name": "defaultForAz", "Values": ["true"]}])["Subnets"]
    zones = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]]
    assert sorted(s["AvailabilityZone"] for s in subnets) == sorted(zones)
    blocks = {s["AvailabilityZone"]: s["CidrBlock"] for s in subnets}
    assert blocks["us-east-1a"] == "172.31.0.0/20" and blocks["us-east-1b"] == "172.31.16.0/20"
    assert all(s["AvailableIpAddressCount"] == 4091 and s["MapPublicIpOnLaunch"] for s in subnets)
    assert all(s["SubnetArn"].endswith(":subnet/" + s["SubnetId"]) for s in subnets)
    [attribute] = ec2.describe_account_attributes(AttributeNames=["default-vpc"])["AccountAttributes"]
    assert attribute["AttributeValues"] == [{"AttributeValue": vpc["VpcId"]}]
    # Another account and another region have their own.
    other = client_factory(access_key=OTHER)
    assert default_vpc(other)["VpcId"] != vpc["VpcId"]
    assert default_vpc(client_factory(region="eu-west-1"))["VpcId"] != vpc["VpcId"]
    assert error_code_of(lambda: other.describe_vpcs(VpcIds=[vpc["VpcId"]])) == "InvalidVpcID.NotFound"


def error_code_of(call) -> str:
    with pytest.raises(ClientError) as caught:
        call()
    return error_code(caught.value)


def test_vpc_story(ec2):
    created = ec2.create_vpc(
        CidrBlock="10.0.0.0/16",
        AmazonProvidedIpv6CidrBlock=True,
        TagSpecifications=[{"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "main"}]}],
    )["Vpc"]
    vpc_id = created["VpcId"]
    assert created["State"] == "pending" and created["IsDefault"] is False
    assert created["InstanceTenancy"] == "default" and tags_of(created) == {"Name": "main"}
    [ipv6] = created["Ipv6CidrBlockAssociationSet"]
    assert ipaddress.ip_network(ipv6["Ipv6CidrBlock"]).prefixlen == 56
    ec2.get_waiter("vpc_available").wait(VpcIds=[vpc_id], WaiterConfig={"Delay": 1})
    [vpc] = ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"]
    assert vpc["State"] == "available" and vpc["CidrBlockAssociationSet"][0]["CidrBlockState"]["State"] == "associated"

    # Attributes: what EC2 gives a new VPC, then changed one at a time.
    def attribute(name: str, key: str) -> bool:
        return ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute=name)[key]["Value"]

    assert attribute("enableDnsSupport", "EnableDnsSupport") is True
    assert attribute("enableDnsHostnames", "EnableDnsHostnames") is False
    assert attribute("enableNetworkAddressUsageMetrics", "EnableNetworkAddressUsageMetrics") is False
    ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": True})
    assert attribute("enableDnsHostnames", "EnableDnsHostnames") is True
    expect_error("InvalidParameterCombination", ec2.modify_vpc_attribute, VpcId=vpc_id,
                 EnableDnsHostnames={"Value": True}, EnableDnsSupport={"Value": True})
    expect_error("InvalidParameterValue", ec2.describe_vpc_attribute, VpcId=vpc_id, Attribute="enableMagic")

    # Filters, incl. tags and the companions every VPC gets.
    def found(name: str, *values: str) -> list[str]:
        return [v["VpcId"] for v in ec2.describe_vpcs(Filters=[{"Name": name, "Values": list(values)}])["Vpcs"]]

    assert found("cidr", "10.0.0.0/16") == [vpc_id]
    assert found("tag:Name", "main") == [vpc_id]
    assert found("tag-value", "ma*") == [vpc_id]
    assert found("is-default", "false") == [vpc_id]
    assert found("ipv6-cidr-block-association.ipv6-cidr-block", ipv6["Ipv6CidrBlock"]) == [vpc_id]
    assert len(ec2.describe_vpcs()["Vpcs"]) == 2

    # Dependencies: a subnet keeps the VPC; the default group and main table do not.
    subnet_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    message = expect_error("DependencyViolation", ec2.delete_vpc, VpcId=vpc_id)
    assert message == f"The vpc '{vpc_id}' has dependencies and cannot be deleted."
    ec2.delete_subnet(SubnetId=subnet_id)
    expect_error("DryRunOperation", ec2.delete_vpc, VpcId=vpc_id, DryRun=True)
    ec2.delete_vpc(VpcId=vpc_id)
    expect_error("InvalidVpcID.NotFound", ec2.describe_vpcs, VpcIds=[vpc_id])
    expect_error("InvalidVpcID.NotFound", ec2.delete_vpc, VpcId=vpc_id)
    assert found("vpc-id", vpc_id) == []


def test_vpc_blocks_tenancy_and_limit(ec2):
    for block in ("10.0.0.0/8", "10.0.0.0/29"):
        expect_error("InvalidVpc.Range", ec2.create_vpc, CidrBlock=block)
    for block in ("10.0.0.1/16", "banana", "10.0.0.0/33", "300.0.0.0/16"):
        expect_error("InvalidParameterValue", ec2.create_vpc, CidrBlock=block)
    expect_error("InvalidParameterValue", ec2.create_vpc, CidrBlock="10.0.0.0/16", InstanceTenancy="host")
    expect_error("DryRunOperation", ec2.create_vpc, CidrBlock="10.0.0.0/16", DryRun=True)
    assert len(ec2.describe_vpcs()["Vpcs"]) == 1
    for n in range(4):
        ec2.create_vpc(CidrBlock=f"10.{n}.0.0/16")
    message = expect_error("VpcLimitExceeded", ec2.create_vpc, CidrBlock="10.9.0.0/16")
    assert message == "The maximum number of VPCs has been reached."
    assert len(ec2.describe_vpcs()["Vpcs"]) == 5
    page = ec2.describe_vpcs(MaxResults=5)
    assert len(page["Vpcs"]) == 5 and "NextToken" not in page


def test_subnet_story(ec2):
    vpc_id = ec2.create_vpc(CidrBlock="10.1.0.0/16", AmazonProvidedIpv6CidrBlock=True)["Vpc"]["VpcId"]
    [vpc] = ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"]
    vpc_ipv6 = ipaddress.ip_network(vpc["Ipv6CidrBlockAssociationSet"][0]["Ipv6CidrBlock"])
    subnet_ipv6 = str(next(vpc_ipv6.subnets(new_prefix=64)))
    created = ec2.create_subnet(
        VpcId=vpc_id,
        CidrBlock="10.1.0.0/24",
        Ipv6CidrBlock=subnet_ipv6,
        AvailabilityZoneId="use1-az2",
        TagSpecifications=[{"ResourceType": "subnet", "Tags": [{"Key": "tier", "Value": "web"}]}],
    )["Subnet"]
    subnet_id = created["SubnetId"]
    assert (created["AvailabilityZone"], created["State"]) == ("us-east-1b", "pending")
    assert created["AvailableIpAddressCount"] == 251 and created["MapPublicIpOnLaunch"] is False
    assert created["DefaultForAz"] is False and tags_of(created) == {"tier": "web"}
    assert created["Ipv6CidrBlockAssociationSet"][0]["Ipv6CidrBlock"] == subnet_ipv6
    ec2.get_waiter("subnet_available").wait(SubnetIds=[subnet_id], WaiterConfig={"Delay": 1})

    second = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.1.1.0/28", AvailabilityZone="us-east-1c")["Subnet"]
    assert second["AvailableIpAddressCount"] == 11

    # EC2's block rules.
    expect_error("InvalidSubnet.Conflict", ec2.create_subnet, VpcId=vpc_id, CidrBlock="10.1.0.128/25")
    expect_error("InvalidSubnet.Range", ec2.create_subnet, VpcId=vpc_id, CidrBlock="10.2.0.0/24")
    expect_error("InvalidSubnet.Range", ec2.create_subnet, VpcId=vpc_id, CidrBlock="10.1.0.0/29")
    expect_error("InvalidParameterValue", ec2.create_subnet, VpcId=vpc_id, CidrBlock="10.1.2.1/24")
    expect_error("InvalidSubnet.Conflict", ec2.create_subnet, VpcId=vpc_id, CidrBlock="10.1.3.0/24",
                 Ipv6CidrBlock=subnet_ipv6)
    message = expect_error("InvalidParameterValue", ec2.create_subnet, VpcId=vpc_id, CidrBlock="10.1.4.0/24",
                           AvailabilityZone="us-west-2a")
    assert "us-east-1a" in message
    expect_error("InvalidVpcID.NotFound", ec2.create_subnet, VpcId="vpc-0123456789abcdef0", CidrBlock="10.1.5.0/24")
    expect_error("InvalidVpcID.Malformed", ec2.create_subnet, VpcId="vpc-x", CidrBlock="10.1.5.0/24")

    # Attributes.
    ec2.modify_subnet_attribute(SubnetId=subnet_id, MapPublicIpOnLaunch={"Value": True})
    ec2.modify_subnet_attribute(SubnetId=subnet_id, AssignIpv6AddressOnCreation={"Value": True})
    ec2.modify_subnet_attribute(SubnetId=subnet_id, PrivateDnsHostnameTypeOnLaunch="resource-name")
    expect_error("InvalidParameterValue", ec2.modify_subnet_attribute, SubnetId=second["SubnetId"],
                 AssignIpv6AddressOnCreation={"Value": True})
    [subnet] = ec2.describe_subnets(SubnetIds=[subnet_id])["Subnets"]
    assert subnet["MapPublicIpOnLaunch"] and subnet["AssignIpv6AddressOnCreation"]
    assert subnet["PrivateDnsNameOptionsOnLaunch"]["HostnameType"] == "resource-name"

    # Filters, aliases included.
    def found(name: str, *values: str) -> set[str]:
        return {s["SubnetId"] for s in ec2.describe_subnets(Filters=[{"Name": name, "Values": list(values)}])["Subnets"]}

    assert found("vpc-id", vpc_id) == {subnet_id, second["SubnetId"]}
    assert found("availabilityZone", "us-east-1c") & {subnet_id, second["SubnetId"]} == {second["SubnetId"]}
    assert found("cidrBlock", "10.1.1.0/28") == {second["SubnetId"]}
    assert found("available-ip-address-count", "11") == {second["SubnetId"]}
    assert found("map-public-ip-on-launch", "true") >= {subnet_id}
    assert found("tag:tier", "web") == {subnet_id}
    assert found("tag-key", "tier") == {subnet_id}
    assert found("subnet-arn", subnet["SubnetArn"]) == {subnet_id}
    expect_error("InvalidParameterValue", ec2.describe_subnets, Filters=[{"Name": "isDefault", "Values": ["true"]}])
    expect_error("InvalidSubnetID.NotFound", ec2.describe_subnets, SubnetIds=["subnet-0123456789abcdef0"])

    # Paging over every subnet of the scope.
    everything = {s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]}
    seen, token = set(), None
    while True:
        page = ec2.describe_subnets(MaxResults=5, **({"NextToken": token} if token else {}))
        seen |= {s["SubnetId"] for s in page["Subnets"]}
        token = page.get("NextToken")
        if not token:
            break
    assert seen == everything and len(everything) == 8

    ec2.delete_subnet(SubnetId=second["SubnetId"])
    expect_error("InvalidSubnetID.NotFound", ec2.delete_subnet, SubnetId=second["SubnetId"])


def test_subnet_in_use_cannot_be_deleted(ec2):
    vpc_id = ec2.create_vpc(CidrBlock="10.3.0.0/16")["Vpc"]["VpcId"]
    subnet_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.3.0.0/24")["Subnet"]["SubnetId"]
    image_id = ec2.describe_images(Owners=["amazon"], Filters=[
        {"Name": "name", "Values": ["al2023-ami-2023.*-kernel-6.1-x86_64"]}])["Images"][0]["ImageId"]
    [instance] = ec2.run_instances(ImageId=image_id, InstanceType="t3.micro", MinCount=1, MaxCount=1,
                                   SubnetId=subnet_id)["Instances"]
    assert instance["SubnetId"] == subnet_id and instance["VpcId"] == vpc_id
    assert ipaddress.ip_address(instance["PrivateIpAddress"]) in ipaddress.ip_network("10.3.0.0/24")
    message = expect_error("DependencyViolation", ec2.delete_subnet, SubnetId=subnet_id)
    assert message == f"The subnet '{subnet_id}' has dependencies and cannot be deleted."
    expect_error("DependencyViolation", ec2.delete_vpc, VpcId=vpc_id)
    ec2.terminate_instances(InstanceIds=[instance["InstanceId"]])
    ec2.get_waiter("instance_terminated").wait(InstanceIds=[instance["InstanceId"]], WaiterConfig={"Delay": 1})
    ec2.delete_subnet(SubnetId=subnet_id)
    ec2.delete_vpc(VpcId=vpc_id)


def test_default_vpc_can_be_deleted_and_recreated(ec2):
    vpc = default_vpc(ec2)
    expect_error("DefaultVpcAlreadyExists", ec2.create_default_vpc)
    expect_error("DependencyViolation", ec2.delete_vpc, VpcId=vpc["VpcId"])
    for subnet in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["Subnets"]:
        ec2.delete_subnet(SubnetId=subnet["SubnetId"])
    [gateway] = ec2.describe_internet_gateways(
        Filters=[{"Name": "attachment.vpc-id", "Values": [vpc["VpcId"]]}])["InternetGateways"]
    ec2.detach_internet_gateway(InternetGatewayId=gateway["InternetGatewayId"], VpcId=vpc["VpcId"])
    ec2.delete_internet_gateway(InternetGatewayId=gateway["InternetGatewayId"])
    ec2.delete_vpc(VpcId=vpc["VpcId"])
    assert ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"] == []
    [attribute] = ec2.describe_account_attributes(AttributeNames=["default-vpc"])["AccountAttributes"]
    assert attribute["AttributeValues"] == [{"AttributeValue": "none"}]

    created = ec2.create_default_vpc()["Vpc"]
    assert created["IsDefault"] and created["CidrBlock"] == "172.31.0.0/16"
    assert created["VpcId"] != vpc["VpcId"]
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [created["VpcId"]]}])["Subnets"]
    assert all(s["DefaultForAz"] for s in subnets) and len(subnets) == 6
    assert default_vpc(ec2)["VpcId"] == created["VpcId"]


def test_network_survives_restart_and_kill(server, ec2):
    vpc_id = ec2.create_vpc(CidrBlock="10.4.0.0/16",
                            TagSpecifications=[{"ResourceType": "vpc", "Tags": [{"Key": "k", "Value": "v"}]}])["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": True})
    subnet_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.4.1.0/24")["Subnet"]["SubnetId"]
    default_id = default_vpc(ec2)["VpcId"]
    server.kill()
    server.start()
    again = make_client(server.url)
    [vpc] = again.describe_vpcs(VpcIds=[vpc_id])["Vpcs"]
    assert tags_of(vpc) == {"k": "v"}
    assert again.describe_vpc_attribute(VpcId=vpc_id, Attribute="enableDnsHostnames")["EnableDnsHostnames"]["Value"]
    assert again.describe_subnets(SubnetIds=[subnet_id])["Subnets"][0]["CidrBlock"] == "10.4.1.0/24"
    assert default_vpc(again)["VpcId"] == default_id
    server.restart()
    assert make_client(server.url).describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0]["VpcId"] == vpc_id


def test_cli_vpc_and_subnet(aws):
    vpc = aws.ok("create-vpc", "--cidr-block", "10.5.0.0/16")["Vpc"]
    subnet = aws.ok("create-subnet", "--vpc-id", vpc["VpcId"], "--cidr-block", "10.5.0.0/20",
                    "--availability-zone", "us-east-1d")["Subnet"]
    assert subnet["AvailableIpAddressCount"] == 4091
    listed = aws.ok("describe-subnets", "--filters", f"Name=vpc-id,Values={vpc['VpcId']}")["Subnets"]
    assert [s["SubnetId"] for s in listed] == [subnet["SubnetId"]]
    assert "InvalidSubnet.Conflict" in aws.err("create-subnet", "--vpc-id", vpc["VpcId"],
                                               "--cidr-block", "10.5.8.0/24")
    aws.ok("delete-subnet", "--subnet-id", subnet["SubnetId"])
    aws.ok("delete-vpc", "--vpc-id", vpc["VpcId"])
