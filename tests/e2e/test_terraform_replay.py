"""Replays, call for call, what Terraform's AWS provider sends for a usual AMI stack:
`aws_vpc`, `aws_subnet`, `aws_security_group`, `aws_instance` and
`aws_ami_from_instance` on create, refresh (read) and destroy, and checks the attributes
the provider reads back. The sequences follow the provider's resource code (create →
wait → read; read = the describe calls it makes on every plan; destroy → wait for
NotFound), so a stack that applies and destroys here applies and destroys there."""

from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError

from support import error_code

AL2023_X86 = "al2023-ami-2023.*-kernel-6.1-x86_64"


def tag_specs(resource_type: str, name: str) -> list[dict]:
    return [{"ResourceType": resource_type, "Tags": [{"Key": "Name", "Value": name}]}]


def wait_until(check, timeout: float = 30.0):
    """Polls like the provider's state waiters (every 0.2 s here, not 10 s)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def gone(call, code: str, **params) -> bool:
    try:
        call(**params)
    except ClientError as err:
        assert error_code(err) == code, err.response["Error"]
        return True
    return False


def retry_on_dependency(call, **params) -> None:
    """The provider retries deletes on DependencyViolation for minutes."""
    for _ in range(50):
        try:
            call(**params)
            return
        except ClientError as err:
            if error_code(err) != "DependencyViolation":
                raise
            time.sleep(0.2)
    pytest.fail(f"{call} kept answering DependencyViolation")


# aws_vpc -----------------------------------------------------------------------------


def vpc_create(ec2) -> str:
    vpc_id = ec2.create_vpc(
        CidrBlock="10.10.0.0/16",
        AmazonProvidedIpv6CidrBlock=False,
        InstanceTenancy="default",
        TagSpecifications=tag_specs("vpc", "tf-vpc"),
    )["Vpc"]["VpcId"]
    wait_until(lambda: ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0]["State"] == "available")
    # enable_dns_hostnames = true differs from the default: modify, then read it back.
    ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": True})
    wait_until(
        lambda: ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute="enableDnsHostnames")["EnableDnsHostnames"]["Value"]
    )
    return vpc_id


def vpc_read(ec2, vpc_id: str) -> dict:
    [vpc] = ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"]
    state = {
        "cidr_block": vpc["CidrBlock"],
        "instance_tenancy": vpc["InstanceTenancy"],
        "dhcp_options_id": vpc["DhcpOptionsId"],
        "owner_id": vpc["OwnerId"],
        "tags": {t["Key"]: t["Value"] for t in vpc.get("Tags", [])},
        "ipv6_association_id": next(iter(vpc.get("Ipv6CidrBlockAssociationSet", [])), {}).get("AssociationId", ""),
    }
    for name, key in (
        ("enableDnsHostnames", "EnableDnsHostnames"),
        ("enableDnsSupport", "EnableDnsSupport"),
        ("enableNetworkAddressUsageMetrics", "EnableNetworkAddressUsageMetrics"),
    ):
        state[name] = ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute=name)[key]["Value"]
    [acl] = ec2.describe_network_acls(
        Filters=[{"Name": "default", "Values": ["true"]}, {"Name": "vpc-id", "Values": [vpc_id]}]
    )["NetworkAcls"]
    state["default_network_acl_id"] = acl["NetworkAclId"]
    [table] = ec2.describe_route_tables(
        Filters=[{"Name": "association.main", "Values": ["true"]}, {"Name": "vpc-id", "Values": [vpc_id]}]
    )["RouteTables"]
    state["main_route_table_id"] = table["RouteTableId"]
    state["default_route_table_id"] = table["RouteTableId"]
    [group] = ec2.describe_security_groups(
        Filters=[{"Name": "group-name", "Values": ["default"]}, {"Name": "vpc-id", "Values": [vpc_id]}]
    )["SecurityGroups"]
    state["default_security_group_id"] = group["GroupId"]
    return state


def vpc_destroy(ec2, vpc_id: str) -> None:
    retry_on_dependency(ec2.delete_vpc, VpcId=vpc_id)
    wait_until(lambda: gone(ec2.describe_vpcs, "InvalidVpcID.NotFound", VpcIds=[vpc_id]))


# aws_subnet --------------------------------------------------------------------------


def subnet_create(ec2, vpc_id: str) -> str:
    subnet_id = ec2.create_subnet(
        VpcId=vpc_id,
        CidrBlock="10.10.1.0/24",
        AvailabilityZone="us-east-1a",
        TagSpecifications=tag_specs("subnet", "tf-subnet"),
    )["Subnet"]["SubnetId"]
    wait_until(lambda: ec2.describe_subnets(SubnetIds=[subnet_id])["Subnets"][0]["State"] == "available")
    # map_public_ip_on_launch = true
    ec2.modify_subnet_attribute(SubnetId=subnet_id, MapPublicIpOnLaunch={"Value": True})
    wait_until(lambda: ec2.describe_subnets(SubnetIds=[subnet_id])["Subnets"][0]["MapPublicIpOnLaunch"])
    return subnet_id


def subnet_read(ec2, subnet_id: str) -> dict:
    [s] = ec2.describe_subnets(SubnetIds=[subnet_id])["Subnets"]
    return {
        "arn": s["SubnetArn"],
        "availability_zone": s["AvailabilityZone"],
        "availability_zone_id": s["AvailabilityZoneId"],
        "cidr_block": s["CidrBlock"],
        "map_public_ip_on_launch": s["MapPublicIpOnLaunch"],
        "assign_ipv6_address_on_creation": s["AssignIpv6AddressOnCreation"],
        "enable_dns64": s["EnableDns64"],
        "ipv6_native": s["Ipv6Native"],
        "map_customer_owned_ip_on_launch": s["MapCustomerOwnedIpOnLaunch"],
        "private_dns_hostname_type_on_launch": s["PrivateDnsNameOptionsOnLaunch"]["HostnameType"],
        "owner_id": s["OwnerId"],
        "vpc_id": s["VpcId"],
    }


def subnet_destroy(ec2, subnet_id: str) -> None:
    retry_on_dependency(ec2.delete_subnet, SubnetId=subnet_id)
    wait_until(lambda: gone(ec2.describe_subnets, "InvalidSubnetID.NotFound", SubnetIds=[subnet_id]))


# aws_security_group ------------------------------------------------------------------


def security_group_create(ec2, vpc_id: str) -> str:
    group_id = ec2.create_security_group(
        GroupName="tf-web",
        Description="Managed by Terraform",
        VpcId=vpc_id,
        TagSpecifications=tag_specs("security-group", "tf-web"),
    )["GroupId"]
    wait_until(lambda: ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"])
    # The provider removes the default egress rule, then adds what the configuration has.
    ec2.revoke_security_group_egress(
        GroupId=group_id,
        IpPermissions=[{"IpProtocol": "-1", "FromPort": 0, "ToPort": 0, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
    )
    ec2.authorize_security_group_ingress(
        GroupId=group_id,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "10.0.0.0/8", "Description": "ssh"}]},
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
             "Ipv6Ranges": [{"CidrIpv6": "::/0"}]},
        ],
    )
    ec2.authorize_security_group_egress(
        GroupId=group_id,
        IpPermissions=[{"IpProtocol": "-1", "FromPort": 0, "ToPort": 0, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
    )
    return group_id


def security_group_read(ec2, group_id: str) -> dict:
    [g] = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"]

    def rules(permissions: list[dict]) -> set[tuple]:
        out = set()
        for p in permissions:
            for r in p.get("IpRanges", []):
                out.add((p["IpProtocol"], p.get("FromPort", 0), p.get("ToPort", 0), r["CidrIp"], r.get("Description")))
            for r in p.get("Ipv6Ranges", []):
                out.add((p["IpProtocol"], p.get("FromPort", 0), p.get("ToPort", 0), r["CidrIpv6"], r.get("Description")))
        return out

    return {
        "name": g["GroupName"],
        "description": g["Description"],
        "vpc_id": g["VpcId"],
        "owner_id": g["OwnerId"],
        "arn": g.get("SecurityGroupArn"),
        "ingress": rules(g["IpPermissions"]),
        "egress": rules(g["IpPermissionsEgress"]),
    }


def security_group_destroy(ec2, group_id: str) -> None:
    retry_on_dependency(ec2.delete_security_group, GroupId=group_id)
    wait_until(lambda: gone(ec2.describe_security_groups, "InvalidGroup.NotFound", GroupIds=[group_id]))


# aws_instance ------------------------------------------------------------------------


def instance_create(ec2, image_id: str, subnet_id: str, group_id: str) -> str:
    [instance] = ec2.run_instances(
        ImageId=image_id,
        InstanceType="t3.micro",
        MinCount=1,
        MaxCount=1,
        SubnetId=subnet_id,
        SecurityGroupIds=[group_id],
        TagSpecifications=tag_specs("instance", "tf-instance"),
    )["Instances"]
    instance_id = instance["InstanceId"]
    wait_until(
        lambda: ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]["State"]["Name"]
        == "running"
    )
    return instance_id


def instance_read(ec2, instance_id: str) -> dict:
    [i] = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"]
    state = {
        "ami": i["ImageId"],
        "instance_type": i["InstanceType"],
        "subnet_id": i["SubnetId"],
        "vpc_security_group_ids": {g["GroupId"] for g in i["SecurityGroups"]},
        "private_ip": i["PrivateIpAddress"],
        "public_ip": i.get("PublicIpAddress", ""),
        "primary_network_interface_id": i["NetworkInterfaces"][0]["NetworkInterfaceId"],
        "availability_zone": i["Placement"]["AvailabilityZone"],
    }
    for attribute, key in (
        ("disableApiTermination", "DisableApiTermination"),
        ("disableApiStop", "DisableApiStop"),
        ("instanceInitiatedShutdownBehavior", "InstanceInitiatedShutdownBehavior"),
        ("userData", "UserData"),
    ):
        answer = ec2.describe_instance_attribute(InstanceId=instance_id, Attribute=attribute)
        state[attribute] = answer.get(key, {}).get("Value")
    volumes = ec2.describe_volumes(Filters=[{"Name": "attachment.instance-id", "Values": [instance_id]}])["Volumes"]
    state["root_volume"] = [v["VolumeId"] for v in volumes]
    [credit] = ec2.describe_instance_credit_specifications(InstanceIds=[instance_id])["InstanceCreditSpecifications"]
    state["cpu_credits"] = credit["CpuCredits"]
    [itype] = ec2.describe_instance_types(InstanceTypes=[i["InstanceType"]])["InstanceTypes"]
    state["default_vcpus"] = itype["VCpuInfo"]["DefaultVCpus"]
    return state


def instance_destroy(ec2, instance_id: str) -> None:
    ec2.terminate_instances(InstanceIds=[instance_id])
    wait_until(
        lambda: ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]["State"]["Name"]
        == "terminated"
    )


# aws_ami_from_instance ---------------------------------------------------------------


def ami_create(ec2, instance_id: str) -> str:
    image_id = ec2.create_image(
        InstanceId=instance_id,
        Name="tf-ami-from-instance",
        Description="baked by terraform",
        NoReboot=False,
        TagSpecifications=tag_specs("image", "tf-ami"),
    )["ImageId"]
    wait_until(lambda: ec2.describe_images(ImageIds=[image_id])["Images"][0]["State"] == "available")
    return image_id


def ami_read(ec2, image_id: str) -> dict:
    [image] = ec2.describe_images(ImageIds=[image_id])["Images"]
    return {
        "name": image["Name"],
        "architecture": image["Architecture"],
        "root_device_name": image["RootDeviceName"],
        "snapshots": [m["Ebs"]["SnapshotId"] for m in image["BlockDeviceMappings"] if "Ebs" in m],
        "tags": {t["Key"]: t["Value"] for t in image.get("Tags", [])},
    }


def ami_destroy(ec2, image_id: str, snapshots: list[str]) -> None:
    ec2.deregister_image(ImageId=image_id)
    for snapshot_id in snapshots:
        ec2.delete_snapshot(SnapshotId=snapshot_id)
    wait_until(lambda: ec2.describe_images(ImageIds=[image_id])["Images"] == [] or
               ec2.describe_images(ImageIds=[image_id])["Images"][0]["State"] == "deregistered")


def test_terraform_stack_applies_refreshes_and_destroys(ec2):
    image_id = max(
        ec2.describe_images(Owners=["amazon"], Filters=[{"Name": "name", "Values": [AL2023_X86]}])["Images"],
        key=lambda i: i["CreationDate"],
    )["ImageId"]

    # terraform apply
    vpc_id = vpc_create(ec2)
    subnet_id = subnet_create(ec2, vpc_id)
    group_id = security_group_create(ec2, vpc_id)
    instance_id = instance_create(ec2, image_id, subnet_id, group_id)
    ami_id = ami_create(ec2, instance_id)

    # terraform plan (refresh): every attribute the provider reads matches the configuration.
    vpc = vpc_read(ec2, vpc_id)
    assert (vpc["cidr_block"], vpc["instance_tenancy"], vpc["tags"]) == ("10.10.0.0/16", "default", {"Name": "tf-vpc"})
    assert (vpc["enableDnsHostnames"], vpc["enableDnsSupport"], vpc["enableNetworkAddressUsageMetrics"]) == (
        True, True, False)
    assert vpc["ipv6_association_id"] == ""
    assert vpc["default_security_group_id"].startswith("sg-") and vpc["main_route_table_id"].startswith("rtb-")
    assert vpc["default_network_acl_id"].startswith("acl-")

    subnet = subnet_read(ec2, subnet_id)
    assert subnet["cidr_block"] == "10.10.1.0/24" and subnet["vpc_id"] == vpc_id
    assert (subnet["availability_zone"], subnet["map_public_ip_on_launch"]) == ("us-east-1a", True)
    assert subnet["private_dns_hostname_type_on_launch"] == "ip-name"

    group = security_group_read(ec2, group_id)
    assert (group["name"], group["description"], group["vpc_id"]) == ("tf-web", "Managed by Terraform", vpc_id)
    assert group["ingress"] == {("tcp", 22, 22, "10.0.0.0/8", "ssh"), ("tcp", 443, 443, "0.0.0.0/0", None),
                                ("tcp", 443, 443, "::/0", None)}
    assert group["egress"] == {("-1", 0, 0, "0.0.0.0/0", None)}

    instance = instance_read(ec2, instance_id)
    assert (instance["ami"], instance["instance_type"], instance["subnet_id"]) == (image_id, "t3.micro", subnet_id)
    assert instance["vpc_security_group_ids"] == {group_id}
    assert instance["private_ip"].startswith("10.10.1.") and instance["public_ip"]
    assert instance["primary_network_interface_id"].startswith("eni-")
    assert (instance["disableApiTermination"], instance["instanceInitiatedShutdownBehavior"]) == (False, "stop")
    assert instance["cpu_credits"] == "unlimited" and instance["default_vcpus"] == 2
    assert len(instance["root_volume"]) == 1

    ami = ami_read(ec2, ami_id)
    assert (ami["name"], ami["architecture"], ami["tags"]) == ("tf-ami-from-instance", "x86_64", {"Name": "tf-ami"})
    assert ami["snapshots"]

    # A second refresh reads the same: no drift.
    assert vpc_read(ec2, vpc_id) == vpc
    assert security_group_read(ec2, group_id) == group

    # terraform destroy, in dependency order (the provider's graph walks it backwards).
    ami_destroy(ec2, ami_id, ami["snapshots"])
    instance_destroy(ec2, instance_id)
    security_group_destroy(ec2, group_id)
    subnet_destroy(ec2, subnet_id)
    vpc_destroy(ec2, vpc_id)

    # Nothing is left but the default network.
    assert [v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]] != [] and all(
        v["IsDefault"] for v in ec2.describe_vpcs()["Vpcs"])
    assert ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["tf-web"]}])["SecurityGroups"] == []
