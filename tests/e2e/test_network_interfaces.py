"""Network interfaces through boto3 and aws-cli: every instance's primary interface (its
address from its subnet, its groups, released on termination), secondary interfaces
created, attached, modified, detached and deleted, with EC2's errors, and durability."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from support import error_code, make_client, make_snapshot, register

OTHER = "111111111111"


def expect_error(code: str, call, **params) -> str:
    with pytest.raises(ClientError) as caught:
        call(**params)
    assert error_code(caught.value) == code, caught.value.response["Error"]
    return caught.value.response["Error"]["Message"]


@pytest.fixture
def image(ec2) -> str:
    return register(ec2, "eni-image", make_snapshot(ec2))


@pytest.fixture
def network(ec2) -> dict:
    vpc = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.8.1.0/28", AvailabilityZone="us-east-1b")["Subnet"]
    group = ec2.create_security_group(GroupName="app", Description="app", VpcId=vpc)["GroupId"]
    return {"vpc": vpc, "subnet": subnet["SubnetId"], "group": group}


def interface(ec2, eni: str) -> dict:
    return ec2.describe_network_interfaces(NetworkInterfaceIds=[eni])["NetworkInterfaces"][0]


def free_addresses(ec2, subnet: str) -> int:
    return ec2.describe_subnets(SubnetIds=[subnet])["Subnets"][0]["AvailableIpAddressCount"]


def test_instances_get_a_primary_interface_in_their_subnet(ec2, image, network):
    assert free_addresses(ec2, network["subnet"]) == 11
    [instance] = ec2.run_instances(
        ImageId=image, MinCount=1, MaxCount=1, InstanceType="t3.micro",
        SubnetId=network["subnet"], SecurityGroupIds=[network["group"]],
        TagSpecifications=[{"ResourceType": "network-interface", "Tags": [{"Key": "role", "Value": "primary"}]}],
    )["Instances"]
    assert instance["PrivateIpAddress"] == "10.8.1.4" and "PublicIpAddress" not in instance
    assert instance["SecurityGroups"] == [{"GroupId": network["group"], "GroupName": "app"}]
    [primary] = instance["NetworkInterfaces"]
    assert primary["Attachment"]["DeviceIndex"] == 0 and primary["Attachment"]["DeleteOnTermination"] is True
    assert primary["PrivateIpAddress"] == "10.8.1.4" and primary["SubnetId"] == network["subnet"]
    assert free_addresses(ec2, network["subnet"]) == 10

    eni = interface(ec2, primary["NetworkInterfaceId"])
    assert eni["Status"] == "in-use" and eni["Attachment"]["InstanceId"] == instance["InstanceId"]
    assert eni["Groups"] == [{"GroupId": network["group"], "GroupName": "app"}]
    assert eni["TagSet"] == [{"Key": "role", "Value": "primary"}]
    by_instance = ec2.describe_network_interfaces(
        Filters=[{"Name": "attachment.instance-id", "Values": [instance["InstanceId"]]}])["NetworkInterfaces"]
    assert [n["NetworkInterfaceId"] for n in by_instance] == [primary["NetworkInterfaceId"]]
    found = ec2.describe_instances(
        Filters=[{"Name": "network-interface.network-interface-id", "Values": [primary["NetworkInterfaceId"]]}])
    assert found["Reservations"][0]["Instances"][0]["InstanceId"] == instance["InstanceId"]

    # The group and the subnet are in use; the primary interface cannot be detached.
    expect_error("DependencyViolation", ec2.delete_security_group, GroupId=network["group"])
    expect_error("DependencyViolation", ec2.delete_subnet, SubnetId=network["subnet"])
    assert "device index 0" in expect_error("OperationNotPermitted", ec2.detach_network_interface,
                                            AttachmentId=primary["Attachment"]["AttachmentId"])
    expect_error("InvalidNetworkInterface.InUse", ec2.delete_network_interface,
                 NetworkInterfaceId=primary["NetworkInterfaceId"])

    # Groups changed on the instance are the primary interface's, and back.
    other = ec2.create_security_group(GroupName="other", Description="o", VpcId=network["vpc"])["GroupId"]
    ec2.modify_instance_attribute(InstanceId=instance["InstanceId"], Groups=[other])
    assert interface(ec2, primary["NetworkInterfaceId"])["Groups"][0]["GroupId"] == other
    ec2.modify_network_interface_attribute(NetworkInterfaceId=primary["NetworkInterfaceId"], Groups=[network["group"]])
    groups = ec2.describe_instance_attribute(InstanceId=instance["InstanceId"], Attribute="groupSet")["Groups"]
    assert groups == [{"GroupId": network["group"]}]
    default_group = ec2.describe_security_groups(GroupNames=["default"])["SecurityGroups"][0]["GroupId"]
    expect_error("InvalidGroup.NotFound", ec2.modify_instance_attribute, InstanceId=instance["InstanceId"],
                 Groups=[default_group])

    # Termination deletes the interface and frees its address.
    ec2.terminate_instances(InstanceIds=[instance["InstanceId"]])
    ec2.get_waiter("instance_terminated").wait(InstanceIds=[instance["InstanceId"]], WaiterConfig={"Delay": 1})
    expect_error("InvalidNetworkInterfaceID.NotFound", ec2.describe_network_interfaces,
                 NetworkInterfaceIds=[primary["NetworkInterfaceId"]])
    assert free_addresses(ec2, network["subnet"]) == 11
    ec2.delete_security_group(GroupId=other)


def test_launch_placement_errors(ec2, image, network):
    def launch(**extra):
        return ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, **extra)

    default_group = ec2.describe_security_groups(GroupNames=["default"])["SecurityGroups"][0]["GroupId"]
    assert "different networks" in expect_error("InvalidParameter", launch, SubnetId=network["subnet"],
                                                SecurityGroupIds=[default_group])
    expect_error("InvalidParameterCombination", launch, SubnetId=network["subnet"], SecurityGroups=["app"])
    expect_error("InvalidSubnetID.NotFound", launch, SubnetId="subnet-0123456789abcdef0")
    expect_error("InvalidGroup.NotFound", launch, SecurityGroupIds=["sg-0123456789abcdef0"])
    # A /28 has 11 usable addresses.
    expect_error("InsufficientFreeAddressesInSubnet", ec2.run_instances, ImageId=image, MinCount=12, MaxCount=12,
                 SubnetId=network["subnet"])
    [placed] = launch(SubnetId=network["subnet"], PrivateIpAddress="10.8.1.9")["Instances"]
    assert placed["PrivateIpAddress"] == "10.8.1.9"
    expect_error("InvalidIPAddress.InUse", launch, SubnetId=network["subnet"], PrivateIpAddress="10.8.1.9")
    expect_error("InvalidParameterValue", launch, SubnetId=network["subnet"], PrivateIpAddress="10.8.2.9")
    # A public address when asked for, in a subnet that does not map them.
    [public] = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, NetworkInterfaces=[
        {"DeviceIndex": 0, "SubnetId": network["subnet"], "AssociatePublicIpAddress": True,
         "Groups": [network["group"]]}])["Instances"]
    assert public["PublicIpAddress"] and public["SecurityGroups"][0]["GroupId"] == network["group"]
    # In the default VPC, by group name; subnets there map public addresses.
    [default] = launch(SecurityGroups=["default"], Placement={"AvailabilityZone": "us-east-1c"})["Instances"]
    assert default["PublicIpAddress"] and default["Placement"]["AvailabilityZone"] == "us-east-1c"
    assert default["PrivateIpAddress"].startswith("172.31.32.")


def test_secondary_interface_story(ec2, image, network):
    created = ec2.create_network_interface(
        SubnetId=network["subnet"], Description="db link", Groups=[network["group"]],
        TagSpecifications=[{"ResourceType": "network-interface", "Tags": [{"Key": "k", "Value": "v"}]}],
    )["NetworkInterface"]
    eni = created["NetworkInterfaceId"]
    assert (created["Status"], created["PrivateIpAddress"], created["Description"]) == ("available", "10.8.1.4", "db link")
    assert created["AvailabilityZone"] == "us-east-1b" and created["InterfaceType"] == "interface"
    assert created["MacAddress"].count(":") == 5
    assert free_addresses(ec2, network["subnet"]) == 10
    fixed = ec2.create_network_interface(SubnetId=network["subnet"], PrivateIpAddress="10.8.1.10")["NetworkInterface"]
    assert fixed["Groups"][0]["GroupName"] == "default"
    expect_error("InvalidIPAddress.InUse", ec2.create_network_interface, SubnetId=network["subnet"],
                 PrivateIpAddress="10.8.1.10")

    # Filters.
    def ids(name: str, *values: str) -> list[str]:
        found = ec2.describe_network_interfaces(Filters=[{"Name": name, "Values": list(values)}])
        return sorted(n["NetworkInterfaceId"] for n in found["NetworkInterfaces"])

    assert ids("subnet-id", network["subnet"]) == sorted([eni, fixed["NetworkInterfaceId"]])
    assert ids("group-id", network["group"]) == [eni]
    assert ids("group-name", "app") == [eni]
    assert ids("description", "db*") == [eni]
    assert ids("private-ip-address", "10.8.1.10") == [fixed["NetworkInterfaceId"]]
    assert ids("status", "available") == sorted([eni, fixed["NetworkInterfaceId"]])
    assert ids("tag:k", "v") == [eni]

    # Attach to an instance of the same zone, at a free device index.
    [instance] = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType="t3.large",
                                   SubnetId=network["subnet"])["Instances"]
    instance_id = instance["InstanceId"]
    expect_error("InvalidParameterValue", ec2.attach_network_interface, NetworkInterfaceId=eni,
                 InstanceId=instance_id, DeviceIndex=0)
    attachment = ec2.attach_network_interface(NetworkInterfaceId=eni, InstanceId=instance_id, DeviceIndex=1)
    attachment_id = attachment["AttachmentId"]
    assert attachment_id.startswith("eni-attach-")
    attached = interface(ec2, eni)
    assert attached["Status"] == "in-use"
    assert (attached["Attachment"]["DeviceIndex"], attached["Attachment"]["DeleteOnTermination"]) == (1, False)
    expect_error("InvalidNetworkInterface.InUse", ec2.attach_network_interface, NetworkInterfaceId=eni,
                 InstanceId=instance_id, DeviceIndex=2)
    assert "device index '1'" in expect_error("InvalidParameterValue", ec2.attach_network_interface,
                                              NetworkInterfaceId=fixed["NetworkInterfaceId"],
                                              InstanceId=instance_id, DeviceIndex=1)
    shown = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
    assert sorted(n["Attachment"]["DeviceIndex"] for n in shown["NetworkInterfaces"]) == [0, 1]
    expect_error("InvalidNetworkInterface.InUse", ec2.delete_network_interface, NetworkInterfaceId=eni)

    # Attributes, one at a time.
    ec2.modify_network_interface_attribute(NetworkInterfaceId=eni, Description={"Value": "renamed"})
    ec2.modify_network_interface_attribute(NetworkInterfaceId=eni, SourceDestCheck={"Value": False})
    ec2.modify_network_interface_attribute(NetworkInterfaceId=eni, Attachment={
        "AttachmentId": attachment_id, "DeleteOnTermination": True})
    described = ec2.describe_network_interface_attribute(NetworkInterfaceId=eni, Attribute="description")
    assert described["Description"]["Value"] == "renamed"
    check = ec2.describe_network_interface_attribute(NetworkInterfaceId=eni, Attribute="sourceDestCheck")
    assert check["SourceDestCheck"]["Value"] is False
    assert interface(ec2, eni)["Attachment"]["DeleteOnTermination"] is True
    expect_error("InvalidParameterCombination", ec2.modify_network_interface_attribute, NetworkInterfaceId=eni,
                 Description={"Value": "x"}, SourceDestCheck={"Value": True})

    # Detach, then delete.
    ec2.detach_network_interface(AttachmentId=attachment_id)
    assert interface(ec2, eni)["Status"] == "available"
    expect_error("InvalidAttachmentID.NotFound", ec2.detach_network_interface, AttachmentId=attachment_id)
    ec2.delete_network_interface(NetworkInterfaceId=eni)
    expect_error("InvalidNetworkInterfaceID.NotFound", ec2.delete_network_interface, NetworkInterfaceId=eni)


def test_interfaces_belong_to_their_account(ec2, client_factory, network):
    eni = ec2.create_network_interface(SubnetId=network["subnet"])["NetworkInterface"]["NetworkInterfaceId"]
    other = client_factory(access_key=OTHER)
    expect_error("InvalidNetworkInterfaceID.NotFound", other.describe_network_interfaces, NetworkInterfaceIds=[eni])
    expect_error("InvalidNetworkInterfaceID.NotFound", other.delete_network_interface, NetworkInterfaceId=eni)
    expect_error("InvalidSubnetID.NotFound", other.create_network_interface, SubnetId=network["subnet"])
    assert other.describe_network_interfaces(Filters=[{"Name": "subnet-id", "Values": [network["subnet"]]}])[
        "NetworkInterfaces"] == []


def test_interfaces_survive_restart_and_kill(server, ec2, image, network):
    eni = ec2.create_network_interface(SubnetId=network["subnet"], Description="keep")["NetworkInterface"]
    [instance] = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, SubnetId=network["subnet"])["Instances"]
    server.kill()
    server.start()
    again = make_client(server.url)
    assert interface(again, eni["NetworkInterfaceId"])["Description"] == "keep"
    shown = again.describe_instances(InstanceIds=[instance["InstanceId"]])["Reservations"][0]["Instances"][0]
    assert shown["NetworkInterfaces"][0]["PrivateIpAddress"] == instance["PrivateIpAddress"]
    assert free_addresses(again, network["subnet"]) == 9


def test_cli_network_interface(aws):
    vpc = aws.ok("create-vpc", "--cidr-block", "10.9.0.0/16")["Vpc"]["VpcId"]
    subnet = aws.ok("create-subnet", "--vpc-id", vpc, "--cidr-block", "10.9.0.0/24")["Subnet"]["SubnetId"]
    eni = aws.ok("create-network-interface", "--subnet-id", subnet, "--description", "cli")["NetworkInterface"]
    listed = aws.ok("describe-network-interfaces", "--filters", f"Name=vpc-id,Values={vpc}")["NetworkInterfaces"]
    assert [n["NetworkInterfaceId"] for n in listed] == [eni["NetworkInterfaceId"]]
    aws.ok("delete-network-interface", "--network-interface-id", eni["NetworkInterfaceId"])
