"""The request spellings real clients send that EC2 accepts: capitalised image attribute
names (Ansible's ec2_ami), the `platform-details` / `usage-operation` filters, the
structured ModifyInstanceAttribute forms, and CreateSnapshots."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from support import error_code

OTHER = "111111111111"


def launch(ec2, image_id: str, **extra) -> dict:
    return ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1, InstanceType="t3.micro", **extra)["Instances"][0]


def test_spellings_clients_send(ec2):
    image = ec2.describe_images(Owners=["amazon"], Filters=[
        {"Name": "platform-details", "Values": ["Linux/UNIX"]},
        {"Name": "usage-operation", "Values": ["RunInstances"]},
        {"Name": "architecture", "Values": ["x86_64"]},
    ])["Images"]
    assert image and all(i["PlatformDetails"] == "Linux/UNIX" for i in image)
    windows = ec2.describe_images(Owners=["amazon"], Filters=[{"Name": "platform-details", "Values": ["Windows*"]}])
    assert windows["Images"] and all(i["Platform"] == "windows" for i in windows["Images"])
    launched = launch(ec2, image[0]["ImageId"])
    by_usage = ec2.describe_instances(Filters=[{"Name": "usage-operation", "Values": ["RunInstances"]}])
    assert by_usage["Reservations"][0]["Instances"][0]["InstanceId"] == launched["InstanceId"]
    with pytest.raises(ClientError) as caught:
        ec2.describe_images(Owners=["amazon"], Filters=[{"Name": "platform-detail", "Values": ["x"]}])
    assert error_code(caught.value) == "InvalidParameterValue"

    # Ansible's ec2_ami sends capitalised attribute names.
    made = ec2.create_image(InstanceId=launched["InstanceId"], Name="spelled", NoReboot=True)["ImageId"]
    ec2.modify_image_attribute(ImageId=made, Attribute="LaunchPermission", OperationType="add", UserIds=[OTHER])
    ec2.modify_image_attribute(ImageId=made, Attribute="Description", Value="capitalised")
    shown = ec2.describe_image_attribute(ImageId=made, Attribute="LaunchPermission")
    assert shown["LaunchPermissions"] == [{"UserId": OTHER}]
    assert ec2.describe_image_attribute(ImageId=made, Attribute="Description")["Description"]["Value"] == "capitalised"
    ec2.reset_image_attribute(ImageId=made, Attribute="LaunchPermission")
    assert ec2.describe_image_attribute(ImageId=made, Attribute="launchPermission")["LaunchPermissions"] == []


def test_structured_instance_attribute_forms(ec2):
    image = ec2.describe_images(Owners=["amazon"], Filters=[{"Name": "architecture", "Values": ["x86_64"]},
                                                           {"Name": "platform-details", "Values": ["Linux/UNIX"]}])
    instance_id = launch(ec2, image["Images"][0]["ImageId"])["InstanceId"]

    def attribute(name: str, key: str):
        return ec2.describe_instance_attribute(InstanceId=instance_id, Attribute=name).get(key)

    # Source/destination check (the primary interface's), EBS optimization, stop protection.
    ec2.modify_instance_attribute(InstanceId=instance_id, SourceDestCheck={"Value": False})
    ec2.modify_instance_attribute(InstanceId=instance_id, EbsOptimized={"Value": True})
    ec2.modify_instance_attribute(InstanceId=instance_id, DisableApiStop={"Value": True})
    assert attribute("sourceDestCheck", "SourceDestCheck") == {"Value": False}
    assert attribute("ebsOptimized", "EbsOptimized") == {"Value": True}
    shown = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
    assert (shown["SourceDestCheck"], shown["EbsOptimized"]) == (False, True)
    assert shown["NetworkInterfaces"][0]["SourceDestCheck"] is False
    with pytest.raises(ClientError) as caught:
        ec2.stop_instances(InstanceIds=[instance_id])
    assert error_code(caught.value) == "OperationNotPermitted"
    ec2.modify_instance_attribute(InstanceId=instance_id, DisableApiStop={"Value": False})

    # Kernel and ramdisk change only while stopped.
    with pytest.raises(ClientError) as caught:
        ec2.modify_instance_attribute(InstanceId=instance_id, Kernel={"Value": "aki-0123456789abcdef0"})
    assert error_code(caught.value) == "IncorrectInstanceState"
    ec2.stop_instances(InstanceIds=[instance_id])
    ec2.get_waiter("instance_stopped").wait(InstanceIds=[instance_id], WaiterConfig={"Delay": 1})
    ec2.modify_instance_attribute(InstanceId=instance_id, Kernel={"Value": "aki-0123456789abcdef0"})
    ec2.modify_instance_attribute(InstanceId=instance_id, Ramdisk={"Value": "ari-0123456789abcdef0"})
    ec2.modify_instance_attribute(InstanceId=instance_id, SriovNetSupport={"Value": "simple"})
    ec2.modify_instance_attribute(InstanceId=instance_id, InstanceType={"Value": "t3.small"})
    ec2.modify_instance_attribute(InstanceId=instance_id, EnaSupport={"Value": False})
    assert attribute("enaSupport", "EnaSupport") == {"Value": False}
    assert attribute("kernel", "KernelId") == {"Value": "aki-0123456789abcdef0"}
    assert attribute("ramdisk", "RamdiskId") == {"Value": "ari-0123456789abcdef0"}
    assert attribute("sriovNetSupport", "SriovNetSupport") == {"Value": "simple"}
    assert attribute("instanceType", "InstanceType") == {"Value": "t3.small"}

    # BlockDeviceMapping.N: the root volume outlives the instance.
    [root] = attribute("blockDeviceMapping", "BlockDeviceMappings")
    ec2.modify_instance_attribute(InstanceId=instance_id, BlockDeviceMappings=[
        {"DeviceName": root["DeviceName"], "Ebs": {"DeleteOnTermination": False}}])
    assert attribute("blockDeviceMapping", "BlockDeviceMappings")[0]["Ebs"]["DeleteOnTermination"] is False
    with pytest.raises(ClientError) as caught:
        ec2.modify_instance_attribute(InstanceId=instance_id, BlockDeviceMappings=[
            {"DeviceName": "/dev/sdz", "Ebs": {"DeleteOnTermination": False}}])
    assert error_code(caught.value) == "InvalidInstanceAttributeValue"
    ec2.terminate_instances(InstanceIds=[instance_id])
    ec2.get_waiter("instance_terminated").wait(InstanceIds=[instance_id], WaiterConfig={"Delay": 1})
    volume = ec2.describe_volumes(VolumeIds=[root["Ebs"]["VolumeId"]])["Volumes"][0]
    assert volume["State"] == "available"


def test_create_snapshots_of_an_instance(ec2):
    image = ec2.describe_images(Owners=["amazon"], Filters=[{"Name": "architecture", "Values": ["x86_64"]},
                                                           {"Name": "platform-details", "Values": ["Linux/UNIX"]}])
    instance = launch(ec2, image["Images"][0]["ImageId"], BlockDeviceMappings=[
        {"DeviceName": "/dev/sdf", "Ebs": {"VolumeSize": 3, "VolumeType": "gp3"}}],
        TagSpecifications=[{"ResourceType": "volume", "Tags": [{"Key": "app", "Value": "db"}]}])
    instance_id = instance["InstanceId"]
    volumes = {m["DeviceName"]: m["Ebs"]["VolumeId"] for m in instance["BlockDeviceMappings"]}
    made = ec2.create_snapshots(
        InstanceSpecification={"InstanceId": instance_id}, Description="nightly", CopyTagsFromSource="volume",
        TagSpecifications=[{"ResourceType": "snapshot", "Tags": [{"Key": "when", "Value": "nightly"}]}],
    )["Snapshots"]
    assert sorted(s["VolumeId"] for s in made) == sorted(volumes.values())
    assert all(s["Description"] == "nightly" and s["SnapshotId"].startswith("snap-") for s in made)
    assert all({t["Key"]: t["Value"] for t in s["Tags"]} == {"app": "db", "when": "nightly"} for s in made)
    data_only = ec2.create_snapshots(InstanceSpecification={"InstanceId": instance_id, "ExcludeBootVolume": True})
    assert [s["VolumeId"] for s in data_only["Snapshots"]] == [volumes["/dev/sdf"]]
    ec2.get_waiter("snapshot_completed").wait(SnapshotIds=[s["SnapshotId"] for s in made], WaiterConfig={"Delay": 1})
    sizes = {s["VolumeId"]: s["VolumeSize"] for s in ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]}
    assert sizes[volumes["/dev/sdf"]] == 3
    with pytest.raises(ClientError) as caught:
        ec2.create_snapshots(InstanceSpecification={"InstanceId": "i-0123456789abcdef0"})
    assert error_code(caught.value) == "InvalidInstanceID.NotFound"
