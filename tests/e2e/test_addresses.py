"""Elastic IPs through boto3 and aws-cli: allocation with tags and the per-region limit,
association with an instance (its primary interface) and with an interface, the rules
of reassociation, disassociation and what the instance falls back to, release errors,
termination, every DescribeAddresses filter, other accounts' and regions' isolation,
and restart / kill -9 durability."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from support import WAITER, error_code, make_client, make_snapshot, register

OTHER = "111111111111"
ACCOUNT = "000000000000"


def expect_error(code: str, call, **params) -> str:
    with pytest.raises(ClientError) as caught:
        call(**params)
    assert error_code(caught.value) == code, caught.value.response["Error"]
    return caught.value.response["Error"]["Message"]


@pytest.fixture
def image(ec2) -> str:
    return register(ec2, "eip-image", make_snapshot(ec2))


def launch(ec2, image: str, **extra) -> str:
    """A running instance (in the default VPC unless told); returns its id."""
    [instance] = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType="t3.micro", **extra)["Instances"]
    ec2.get_waiter("instance_running").wait(InstanceIds=[instance["InstanceId"]], WaiterConfig=WAITER)
    return instance["InstanceId"]


def instance_of(ec2, instance_id: str) -> dict:
    return ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]


def address_of(ec2, allocation_id: str) -> dict:
    [address] = ec2.describe_addresses(AllocationIds=[allocation_id])["Addresses"]
    return address


def allocate(ec2, **extra) -> dict:
    return ec2.allocate_address(Domain="vpc", **extra)


def test_allocate_describe_release_and_the_limit(ec2):
    tagged = allocate(ec2, TagSpecifications=[{"ResourceType": "elastic-ip", "Tags": [{"Key": "Name", "Value": "web"}]}])
    allocation_id, public_ip = tagged["AllocationId"], tagged["PublicIp"]
    assert allocation_id.startswith("eipalloc-") and len(allocation_id) == 26
    assert (tagged["Domain"], tagged["NetworkBorderGroup"], tagged["PublicIpv4Pool"]) == ("vpc", "us-east-1", "amazon")
    address = address_of(ec2, allocation_id)
    assert address["PublicIp"] == public_ip and address["Tags"] == [{"Key": "Name", "Value": "web"}]
    assert "AssociationId" not in address and "InstanceId" not in address
    assert ec2.describe_addresses(PublicIps=[public_ip])["Addresses"] == [address]
    # EC2-Classic's `standard` domain is gone: a VPC address all the same.
    assert ec2.allocate_address(Domain="standard", NetworkBorderGroup="us-east-1")["Domain"] == "vpc"
    assert ec2.allocate_address()["Domain"] == "vpc"
    addresses = ec2.describe_addresses()["Addresses"]
    assert len(addresses) == 3 and len({a["PublicIp"] for a in addresses}) == 3

    # Five per region.
    expect_error("DryRunOperation", ec2.allocate_address, Domain="vpc", DryRun=True)
    allocate(ec2)
    allocate(ec2)
    message = expect_error("AddressLimitExceeded", ec2.allocate_address, Domain="vpc")
    assert message == "The maximum number of addresses has been reached."

    # Inputs EC2 refuses.
    expect_error("InvalidParameterValue", ec2.allocate_address, Domain="classic")
    expect_error("InvalidParameterValue", ec2.allocate_address, NetworkBorderGroup="us-west-2")
    expect_error("InvalidAllocationID.Malformed", ec2.describe_addresses, AllocationIds=["eip-12345678"])
    message = expect_error("InvalidParameterValue", ec2.describe_addresses, PublicIps=[allocation_id])
    assert message == f"Invalid value '{allocation_id}' for PublicIp. Not a valid IPv4 address"
    expect_error("InvalidParameterValue", ec2.describe_addresses, Filters=[{"Name": "state", "Values": ["x"]}])

    # Release: by allocation id only, in the address's border group.
    message = expect_error("InvalidParameterValue", ec2.release_address, PublicIp=public_ip)
    assert message == "You must specify an allocation id when releasing a VPC elastic IP address"
    message = expect_error("InvalidParameterCombination", ec2.release_address, AllocationId=allocation_id,
                           PublicIp=public_ip)
    assert message == "You may specify public IP or allocation id, but not both in the same call"
    expect_error("InvalidAddress.NotFound", ec2.release_address, AllocationId=allocation_id,
                 NetworkBorderGroup="us-west-2")
    expect_error("DryRunOperation", ec2.release_address, AllocationId=allocation_id, DryRun=True)
    ec2.release_address(AllocationId=allocation_id, NetworkBorderGroup="us-east-1")
    message = expect_error("InvalidAllocationID.NotFound", ec2.release_address, AllocationId=allocation_id)
    assert message == f"The allocation ID '{allocation_id}' does not exist"
    expect_error("InvalidAllocationID.NotFound", ec2.describe_addresses, AllocationIds=[allocation_id])
    message = expect_error("InvalidAddress.NotFound", ec2.describe_addresses, PublicIps=[public_ip])
    assert message == f"Address '{public_ip}' not found."
    assert ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [allocation_id]}])["Tags"] == []

    # A released address can be recovered, once.
    recovered = ec2.allocate_address(Domain="vpc", Address=public_ip)
    assert recovered["PublicIp"] == public_ip and recovered["AllocationId"] != allocation_id
    ec2.release_address(AllocationId=recovered["AllocationId"])
    again = ec2.allocate_address(Domain="vpc", Address=public_ip)
    expect_error("AddressLimitExceeded", ec2.allocate_address, Domain="vpc", Address=public_ip)
    ec2.release_address(AllocationId=other_than(ec2, again))
    expect_error("InvalidAddress.NotFound", ec2.allocate_address, Domain="vpc", Address=public_ip)


def other_than(ec2, keep: dict) -> str:
    """The allocation id of an address other than `keep`."""
    return next(a["AllocationId"] for a in ec2.describe_addresses()["Addresses"]
                if a["AllocationId"] != keep["AllocationId"])


def test_associate_with_an_instance_and_disassociate(ec2, image):
    instance_id = launch(ec2, image)
    launched = instance_of(ec2, instance_id)
    auto_ip = launched["PublicIpAddress"]  # the default subnet maps public addresses
    eni = launched["NetworkInterfaces"][0]["NetworkInterfaceId"]
    eip = allocate(ec2)
    allocation_id, public_ip = eip["AllocationId"], eip["PublicIp"]

    expect_error("DryRunOperation", ec2.associate_address, AllocationId=allocation_id, InstanceId=instance_id,
                 DryRun=True)
    association_id = ec2.associate_address(AllocationId=allocation_id, InstanceId=instance_id)["AssociationId"]
    assert association_id.startswith("eipassoc-") and len(association_id) == 26
    # Again where it already is: nothing changes.
    assert ec2.associate_address(AllocationId=allocation_id, InstanceId=instance_id)["AssociationId"] == association_id

    address = address_of(ec2, allocation_id)
    assert address["InstanceId"] == instance_id and address["AssociationId"] == association_id
    assert address["NetworkInterfaceId"] == eni and address["NetworkInterfaceOwnerId"] == ACCOUNT
    assert address["PrivateIpAddress"] == launched["PrivateIpAddress"]

    # The instance's public address is the Elastic IP, owned by the account.
    shown = instance_of(ec2, instance_id)
    assert shown["PublicIpAddress"] == public_ip
    assert shown["PublicDnsName"] == f"ec2-{public_ip.replace('.', '-')}.compute-1.amazonaws.com"
    association = shown["NetworkInterfaces"][0]["Association"]
    assert (association["PublicIp"], association["IpOwnerId"]) == (public_ip, ACCOUNT)
    [interface] = ec2.describe_network_interfaces(NetworkInterfaceIds=[eni])["NetworkInterfaces"]
    assert interface["Association"]["AllocationId"] == allocation_id
    assert interface["Association"]["AssociationId"] == association_id
    found = ec2.describe_instances(Filters=[{"Name": "ip-address", "Values": [public_ip]}])["Reservations"]
    assert [r["Instances"][0]["InstanceId"] for r in found] == [instance_id]
    assert ec2.describe_instances(Filters=[{"Name": "ip-address", "Values": [auto_ip]}])["Reservations"] == []

    # Released only once disassociated.
    message = expect_error("InvalidIPAddress.InUse", ec2.release_address, AllocationId=allocation_id)
    assert message == f"Address {public_ip} is in use."

    # It stays through stop and start.
    ec2.stop_instances(InstanceIds=[instance_id])
    ec2.get_waiter("instance_stopped").wait(InstanceIds=[instance_id], WaiterConfig=WAITER)
    assert instance_of(ec2, instance_id)["PublicIpAddress"] == public_ip
    ec2.start_instances(InstanceIds=[instance_id])
    ec2.get_waiter("instance_running").wait(InstanceIds=[instance_id], WaiterConfig=WAITER)
    assert instance_of(ec2, instance_id)["PublicIpAddress"] == public_ip
    assert address_of(ec2, allocation_id)["AssociationId"] == association_id

    # Disassociation: by association id only; the instance gets an address of Amazon's again.
    message = expect_error("InvalidParameterValue", ec2.disassociate_address, PublicIp=public_ip)
    assert message == "You must specify an association id when unmapping an address from a VPC instance"
    expect_error("InvalidAssociationID.Malformed", ec2.disassociate_address, AssociationId="eipassoc-xyz")
    expect_error("DryRunOperation", ec2.disassociate_address, AssociationId=association_id, DryRun=True)
    ec2.disassociate_address(AssociationId=association_id)
    message = expect_error("InvalidAssociationID.NotFound", ec2.disassociate_address, AssociationId=association_id)
    assert message == f"The association ID '{association_id}' does not exist"
    after = instance_of(ec2, instance_id)
    assert after["PublicIpAddress"] not in (public_ip, None)
    assert after["NetworkInterfaces"][0]["Association"]["IpOwnerId"] == "amazon"
    address = address_of(ec2, allocation_id)
    assert not {"AssociationId", "InstanceId", "NetworkInterfaceId", "PrivateIpAddress"} & set(address)
    ec2.release_address(AllocationId=allocation_id)


def test_reassociation_rules(ec2, image):
    first, second = launch(ec2, image), launch(ec2, image)
    one, two = allocate(ec2), allocate(ec2)
    association_id = ec2.associate_address(AllocationId=one["AllocationId"], InstanceId=first)["AssociationId"]

    # The address is elsewhere: moved only when reassociation is allowed.
    message = expect_error("Resource.AlreadyAssociated", ec2.associate_address, AllocationId=one["AllocationId"],
                           InstanceId=second)
    assert message == f"resource {one['AllocationId']} is already associated with associate-id {association_id}"
    moved = ec2.associate_address(AllocationId=one["AllocationId"], InstanceId=second,
                                  AllowReassociation=True)["AssociationId"]
    assert moved != association_id
    assert address_of(ec2, one["AllocationId"])["InstanceId"] == second
    assert instance_of(ec2, second)["PublicIpAddress"] == one["PublicIp"]
    assert instance_of(ec2, first)["PublicIpAddress"] not in (one["PublicIp"], None)
    expect_error("InvalidAssociationID.NotFound", ec2.disassociate_address, AssociationId=association_id)

    # The target holds another address: replaced only when reassociation is allowed.
    private_ip = instance_of(ec2, second)["PrivateIpAddress"]
    eni = instance_of(ec2, second)["NetworkInterfaces"][0]["NetworkInterfaceId"]
    message = expect_error("Resource.AlreadyAssociated", ec2.associate_address, AllocationId=two["AllocationId"],
                           InstanceId=second)
    assert message == f"resource {eni} and {private_ip} is already associated with public address {one['PublicIp']}"
    ec2.associate_address(AllocationId=two["AllocationId"], NetworkInterfaceId=eni, AllowReassociation=True)
    assert instance_of(ec2, second)["PublicIpAddress"] == two["PublicIp"]
    assert "AssociationId" not in address_of(ec2, one["AllocationId"])

    # By public IP (the deprecated way) and with the errors of a bad target.
    ec2.associate_address(PublicIp=one["PublicIp"], InstanceId=first)
    assert instance_of(ec2, first)["PublicIpAddress"] == one["PublicIp"]
    expect_error("InvalidInstanceID.NotFound", ec2.associate_address, AllocationId=one["AllocationId"],
                 InstanceId="i-0123456789abcdef0", AllowReassociation=True)
    expect_error("InvalidNetworkInterfaceID.NotFound", ec2.associate_address, AllocationId=one["AllocationId"],
                 NetworkInterfaceId="eni-0123456789abcdef0", AllowReassociation=True)
    expect_error("InvalidAllocationID.NotFound", ec2.associate_address, AllocationId="eipalloc-0123456789abcdef0",
                 InstanceId=first)
    expect_error("InvalidParameterCombination", ec2.associate_address, AllocationId=one["AllocationId"],
                 InstanceId=first, NetworkInterfaceId=eni)
    expect_error("MissingParameter", ec2.associate_address, AllocationId=one["AllocationId"])


def test_associate_with_an_interface(ec2, image):
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.1.0/24", AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    eni = ec2.create_network_interface(SubnetId=subnet)["NetworkInterface"]
    eni_id, private_ip = eni["NetworkInterfaceId"], eni["PrivateIpAddress"]
    eip = allocate(ec2)

    # A VPC without an internet gateway cannot take a public address.
    message = expect_error("Gateway.NotAttached", ec2.associate_address, AllocationId=eip["AllocationId"],
                           NetworkInterfaceId=eni_id)
    assert message == f"Network {vpc} is not attached to any internet gateway"
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    expect_error("InvalidParameterValue", ec2.associate_address, AllocationId=eip["AllocationId"],
                 NetworkInterfaceId=eni_id, PrivateIpAddress="10.20.1.200")
    association_id = ec2.associate_address(AllocationId=eip["AllocationId"], NetworkInterfaceId=eni_id,
                                           PrivateIpAddress=private_ip)["AssociationId"]
    address = address_of(ec2, eip["AllocationId"])
    assert (address["NetworkInterfaceId"], address["PrivateIpAddress"]) == (eni_id, private_ip)
    assert "InstanceId" not in address
    [interface] = ec2.describe_network_interfaces(NetworkInterfaceIds=[eni_id])["NetworkInterfaces"]
    assert interface["Association"]["PublicIp"] == eip["PublicIp"]
    assert interface["Association"]["AssociationId"] == association_id
    # The gateway keeps the address reachable.
    expect_error("DependencyViolation", ec2.detach_internet_gateway, InternetGatewayId=igw, VpcId=vpc)

    # Attached to an instance as a secondary interface: the address shows the instance, the
    # instance keeps its own public address (none: this subnet maps none).
    instance_id = launch(ec2, image, SubnetId=subnet)
    attachment = ec2.attach_network_interface(NetworkInterfaceId=eni_id, InstanceId=instance_id, DeviceIndex=1)
    assert address_of(ec2, eip["AllocationId"])["InstanceId"] == instance_id
    shown = instance_of(ec2, instance_id)
    assert "PublicIpAddress" not in shown
    secondary = next(n for n in shown["NetworkInterfaces"] if n["NetworkInterfaceId"] == eni_id)
    assert secondary["Association"]["PublicIp"] == eip["PublicIp"]
    found = ec2.describe_addresses(Filters=[{"Name": "instance-id", "Values": [instance_id]}])["Addresses"]
    assert [a["AllocationId"] for a in found] == [eip["AllocationId"]]

    # Detached and deleted: the address stays allocated, unassociated.
    ec2.detach_network_interface(AttachmentId=attachment["AttachmentId"])
    assert "InstanceId" not in address_of(ec2, eip["AllocationId"])
    ec2.delete_network_interface(NetworkInterfaceId=eni_id)
    assert "AssociationId" not in address_of(ec2, eip["AllocationId"])
    expect_error("InvalidAssociationID.NotFound", ec2.disassociate_address, AssociationId=association_id)


def test_termination_leaves_the_address_allocated(ec2, image):
    instance_id = launch(ec2, image)
    eip = allocate(ec2)
    ec2.associate_address(AllocationId=eip["AllocationId"], InstanceId=instance_id)
    ec2.terminate_instances(InstanceIds=[instance_id])
    ec2.get_waiter("instance_terminated").wait(InstanceIds=[instance_id], WaiterConfig=WAITER)
    address = address_of(ec2, eip["AllocationId"])
    assert address["PublicIp"] == eip["PublicIp"]
    assert not {"AssociationId", "InstanceId", "NetworkInterfaceId"} & set(address)
    assert "PublicIpAddress" not in instance_of(ec2, instance_id)
    message = expect_error("InvalidInstanceID", ec2.associate_address, AllocationId=eip["AllocationId"],
                           InstanceId=instance_id)
    assert message == f"The terminated instance '{instance_id}' is not in a valid state for this operation."
    # Free to go elsewhere, or to be released.
    other = launch(ec2, image)
    ec2.associate_address(AllocationId=eip["AllocationId"], InstanceId=other)
    assert instance_of(ec2, other)["PublicIpAddress"] == eip["PublicIp"]


def test_instances_take_addresses_once_running(start_server):
    server = start_server("--instance-pending-ms", "60000")
    ec2 = make_client(server.url)
    image = register(ec2, "eip-image", make_snapshot(ec2))
    [instance] = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType="t3.micro")["Instances"]
    instance_id, eni = instance["InstanceId"], instance["NetworkInterfaces"][0]["NetworkInterfaceId"]
    eip = allocate(ec2)
    # What Terraform waits out after creating an aws_instance.
    message = expect_error("InvalidInstanceID", ec2.associate_address, AllocationId=eip["AllocationId"],
                           InstanceId=instance_id)
    assert message == f"The pending instance '{instance_id}' is not in a valid state for this operation."
    message = expect_error("IncorrectInstanceState", ec2.associate_address, AllocationId=eip["AllocationId"],
                           NetworkInterfaceId=eni)
    assert message.startswith(f"The pending instance to which '{eni}' is attached")
    assert "AssociationId" not in address_of(ec2, eip["AllocationId"])


def test_terraform_aws_eip_calls(ec2, image):
    """The calls of Terraform's aws_eip with `instance` set: create, refresh, destroy."""
    instance_id = launch(ec2, image)
    allocated = ec2.allocate_address(
        Domain="vpc", TagSpecifications=[{"ResourceType": "elastic-ip", "Tags": [{"Key": "Name", "Value": "tf"}]}])
    allocation_id = allocated["AllocationId"]
    assert address_of(ec2, allocation_id)["Tags"] == [{"Key": "Name", "Value": "tf"}]
    association_id = ec2.associate_address(AllocationId=allocation_id, InstanceId=instance_id)["AssociationId"]
    [by_association] = ec2.describe_addresses(
        Filters=[{"Name": "association-id", "Values": [association_id]}])["Addresses"]
    assert by_association["AllocationId"] == allocation_id
    # Read: the address, then its domain-name attribute (ptr_record), which has no record.
    address = address_of(ec2, allocation_id)
    assert (address["InstanceId"], address["NetworkBorderGroup"], address["PublicIpv4Pool"]) == (
        instance_id, "us-east-1", "amazon")
    [attribute] = ec2.describe_addresses_attribute(AllocationIds=[allocation_id], Attribute="domain-name")["Addresses"]
    assert attribute == {"PublicIp": allocated["PublicIp"], "AllocationId": allocation_id}
    # Destroy: disassociate, then release in its border group; both tolerate NotFound.
    ec2.disassociate_address(AssociationId=association_id)
    ec2.release_address(AllocationId=allocation_id, NetworkBorderGroup="us-east-1")
    expect_error("InvalidAssociationID.NotFound", ec2.disassociate_address, AssociationId=association_id)
    expect_error("InvalidAllocationID.NotFound", ec2.release_address, AllocationId=allocation_id)
    expect_error("InvalidAllocationID.NotFound", ec2.describe_addresses_attribute, AllocationIds=[allocation_id],
                 Attribute="domain-name")


def test_address_attributes_are_paged(ec2):
    allocation_ids = sorted(allocate(ec2)["AllocationId"] for _ in range(3))
    first = ec2.describe_addresses_attribute(Attribute="domain-name", MaxResults=2)
    assert [a["AllocationId"] for a in first["Addresses"]] == allocation_ids[:2]
    rest = ec2.describe_addresses_attribute(Attribute="domain-name", MaxResults=2, NextToken=first["NextToken"])
    assert [a["AllocationId"] for a in rest["Addresses"]] == allocation_ids[2:] and "NextToken" not in rest
    expect_error("InvalidParameterValue", ec2.describe_addresses_attribute, Attribute="description")


def test_every_filter(ec2, image):
    instance_id = launch(ec2, image)
    private_ip = instance_of(ec2, instance_id)["PrivateIpAddress"]
    eni = instance_of(ec2, instance_id)["NetworkInterfaces"][0]["NetworkInterfaceId"]
    used = allocate(ec2, TagSpecifications=[{"ResourceType": "elastic-ip", "Tags": [{"Key": "role", "Value": "web"}]}])
    idle = allocate(ec2)
    ec2.create_tags(Resources=[idle["AllocationId"]], Tags=[{"Key": "spare", "Value": "yes"}])
    association_id = ec2.associate_address(AllocationId=used["AllocationId"], InstanceId=instance_id)["AssociationId"]

    def found(name: str, *values: str) -> list[str]:
        addresses = ec2.describe_addresses(Filters=[{"Name": name, "Values": list(values)}])["Addresses"]
        return sorted(a["AllocationId"] for a in addresses)

    both = sorted([used["AllocationId"], idle["AllocationId"]])
    assert found("allocation-id", idle["AllocationId"]) == [idle["AllocationId"]]
    assert found("association-id", association_id) == [used["AllocationId"]]
    assert found("domain", "vpc") == both
    assert found("domain", "standard") == []
    assert found("instance-id", instance_id) == [used["AllocationId"]]
    assert found("network-border-group", "us-east-1") == both
    assert found("network-interface-id", eni) == [used["AllocationId"]]
    assert found("network-interface-owner-id", ACCOUNT) == [used["AllocationId"]]
    assert found("private-ip-address", private_ip) == [used["AllocationId"]]
    assert found("public-ip", idle["PublicIp"], used["PublicIp"]) == both
    assert found("public-ip", "44.*") == both
    assert found("tag:role", "web") == [used["AllocationId"]]
    assert found("tag-key", "spare") == [idle["AllocationId"]]
    assert found("tag-value", "w*") == [used["AllocationId"]]
    # Ids and public IPs name addresses either way; filters narrow them.
    named = ec2.describe_addresses(AllocationIds=[used["AllocationId"]], PublicIps=[idle["PublicIp"]])["Addresses"]
    assert sorted(a["AllocationId"] for a in named) == both
    narrowed = ec2.describe_addresses(AllocationIds=[used["AllocationId"]],
                                      Filters=[{"Name": "tag-key", "Values": ["spare"]}])["Addresses"]
    assert narrowed == []


def test_addresses_belong_to_their_account_and_region(ec2, client_factory, image):
    instance_id = launch(ec2, image)
    eip = allocate(ec2)
    association_id = ec2.associate_address(AllocationId=eip["AllocationId"], InstanceId=instance_id)["AssociationId"]
    other = client_factory(access_key=OTHER)
    expect_error("InvalidAllocationID.NotFound", other.describe_addresses, AllocationIds=[eip["AllocationId"]])
    expect_error("InvalidAddress.NotFound", other.describe_addresses, PublicIps=[eip["PublicIp"]])
    expect_error("InvalidAllocationID.NotFound", other.release_address, AllocationId=eip["AllocationId"])
    expect_error("InvalidAssociationID.NotFound", other.disassociate_address, AssociationId=association_id)
    assert other.describe_addresses()["Addresses"] == []
    assert other.describe_addresses(Filters=[{"Name": "instance-id", "Values": [instance_id]}])["Addresses"] == []
    # Neither reaches into the other's resources.
    mine = other.allocate_address(Domain="vpc")
    expect_error("InvalidInstanceID.NotFound", other.associate_address, AllocationId=mine["AllocationId"],
                 InstanceId=instance_id)
    other_instance = launch(other, register(other, "other-image", make_snapshot(other)))
    expect_error("InvalidAllocationID.NotFound", other.associate_address, AllocationId=eip["AllocationId"],
                 InstanceId=other_instance)
    # Each account and region has its own five.
    for _ in range(4):
        ec2.allocate_address(Domain="vpc")
    expect_error("AddressLimitExceeded", ec2.allocate_address, Domain="vpc")
    other.allocate_address(Domain="vpc")
    ireland = client_factory(region="eu-west-1")
    assert ireland.describe_addresses()["Addresses"] == []
    assert ireland.allocate_address(Domain="vpc")["NetworkBorderGroup"] == "eu-west-1"
    public_ips = [a["PublicIp"] for c in (ec2, other, ireland) for a in c.describe_addresses()["Addresses"]]
    assert len(public_ips) == len(set(public_ips)) == 8


def test_addresses_survive_restart_and_kill(server, ec2, image):
    instance_id = launch(ec2, image)
    kept = allocate(ec2, TagSpecifications=[{"ResourceType": "elastic-ip", "Tags": [{"Key": "k", "Value": "v"}]}])
    idle = allocate(ec2)
    association_id = ec2.associate_address(AllocationId=kept["AllocationId"], InstanceId=instance_id)["AssociationId"]
    before = sorted(ec2.describe_addresses()["Addresses"], key=lambda a: a["AllocationId"])
    server.kill()
    server.start()
    again = make_client(server.url)
    assert sorted(again.describe_addresses()["Addresses"], key=lambda a: a["AllocationId"]) == before
    assert instance_of(again, instance_id)["PublicIpAddress"] == kept["PublicIp"]
    assert address_of(again, kept["AllocationId"])["AssociationId"] == association_id
    server.restart()
    again = make_client(server.url)
    again.disassociate_address(AssociationId=association_id)
    again.release_address(AllocationId=idle["AllocationId"])
    assert [a["AllocationId"] for a in again.describe_addresses()["Addresses"]] == [kept["AllocationId"]]


def test_cli_elastic_ip(aws, ec2, image):
    instance_id = launch(ec2, image)
    eip = aws.ok("allocate-address", "--domain", "vpc")
    assert eip["Domain"] == "vpc" and eip["AllocationId"].startswith("eipalloc-")
    association = aws.ok("associate-address", "--allocation-id", eip["AllocationId"], "--instance-id", instance_id)
    listed = aws.ok("describe-addresses", "--filters", f"Name=instance-id,Values={instance_id}")["Addresses"]
    assert [(a["PublicIp"], a["AssociationId"]) for a in listed] == [(eip["PublicIp"], association["AssociationId"])]
    assert "InvalidIPAddress.InUse" in aws.err("release-address", "--allocation-id", eip["AllocationId"])
    attributes = aws.ok("describe-addresses-attribute", "--allocation-ids", eip["AllocationId"],
                        "--attribute", "domain-name")["Addresses"]
    assert [a["PublicIp"] for a in attributes] == [eip["PublicIp"]]
    aws.ok("disassociate-address", "--association-id", association["AssociationId"])
    aws.ok("release-address", "--allocation-id", eip["AllocationId"])
    assert aws.ok("describe-addresses")["Addresses"] == []
