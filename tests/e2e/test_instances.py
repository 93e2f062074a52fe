"""Instances end to end, through aws-cli and boto3: launching from registered, created,
catalog and shared images; the state machine with real waits; CreateImage; volumes
attached and released; every refused state change; idempotent launches; restarts in the
middle of a transition; terminated-instance retention; DescribeInstances paging and filters."""

from __future__ import annotations

import base64
import ipaddress
import re
import signal
import time
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

from support import WAITER, error_code, make_client, make_snapshot, register

AL2023_X86 = "al2023-ami-2023.*-kernel-6.1-x86_64"
AL2023_ARM = "al2023-ami-2023.*-kernel-6.1-arm64"
PARAVIRTUAL = "amzn-ami-pv-*"
INSTANCE_STORE = "amzn-ami-hvm-*-x86_64-s3"
AMAZON = "137112412989"

# Transitions that last long enough for a waiter to poll at least once.
TIMED = (
    "--instance-pending-ms", "800",
    "--instance-stopping-ms", "800",
    "--instance-shutting-down-ms", "800",
    "--snapshot-pending-ms", "800",
)  # fmt: skip

USER_REASON = re.compile(r"^User initiated \((\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) GMT\)$")
USER_SHUTDOWN = {
    "Code": "Client.UserInitiatedShutdown",
    "Message": "Client.UserInitiatedShutdown: User initiated shutdown",
}

PENDING = {"Code": 0, "Name": "pending"}
RUNNING = {"Code": 16, "Name": "running"}
SHUTTING_DOWN = {"Code": 32, "Name": "shutting-down"}
TERMINATED = {"Code": 48, "Name": "terminated"}
STOPPING = {"Code": 64, "Name": "stopping"}
STOPPED = {"Code": 80, "Name": "stopped"}


# Helpers ---------------------------------------------------------------------------------


def expect_error(code: str, call, **params) -> ClientError:
    with pytest.raises(ClientError) as caught:
        call(**params)
    assert error_code(caught.value) == code, caught.value.response["Error"]
    return caught.value


def cli_error_code(stderr: str) -> str:
    match = re.search(r"An error occurred \(([^)]+)\)", stderr)
    assert match, stderr
    return match.group(1)


def tag_dict(tags: list[dict] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in tags or []}


def instances_of(reservations: list[dict]) -> list[dict]:
    return [i for r in reservations for i in r["Instances"]]


def describe(ec2, instance_id: str) -> dict:
    [reservation] = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"]
    [instance] = reservation["Instances"]
    return instance


def state_of(ec2, instance_id: str) -> str:
    return describe(ec2, instance_id)["State"]["Name"]


def volume(ec2, volume_id: str) -> dict:
    [found] = ec2.describe_volumes(VolumeIds=[volume_id])["Volumes"]
    return found


def image(ec2, image_id: str) -> dict:
    [found] = ec2.describe_images(ImageIds=[image_id])["Images"]
    return found


def ebs_mappings(item: dict) -> dict[str, dict]:
    """device name -> Ebs of an image's or an instance's block device mappings."""
    mappings = item["BlockDeviceMappings"]
    assert all("Ebs" in m for m in mappings), mappings
    return {m["DeviceName"]: m["Ebs"] for m in mappings}


def catalog_image(ec2, pattern: str, deprecated: bool = False) -> dict:
    """The newest catalog image whose name matches `pattern`."""
    found = ec2.describe_images(
        Owners=["amazon"], IncludeDeprecated=deprecated, Filters=[{"Name": "name", "Values": [pattern]}]
    )["Images"]
    assert found, pattern
    assert {i["OwnerId"] for i in found} == {AMAZON}
    return max(found, key=lambda i: i["CreationDate"])


def launch(ec2, image_id: str, **params) -> dict:
    """One instance; returns it as the RunInstances answer shows it."""
    params.setdefault("InstanceType", "t3.micro")
    [instance] = ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1, **params)["Instances"]
    return instance


def wait(ec2, waiter: str, instance_ids: list[str]) -> float:
    """Runs an instance waiter; returns when it finished (time.monotonic)."""
    ec2.get_waiter(waiter).wait(InstanceIds=instance_ids, WaiterConfig=WAITER)
    return time.monotonic()


def recent(text: str, fmt: str | None = None) -> bool:
    """Whether an EC2 timestamp is within two minutes of now."""
    if fmt:
        when = datetime.strptime(text, fmt).replace(tzinfo=timezone.utc)
    else:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return abs(datetime.now(timezone.utc) - when) < timedelta(minutes=2)


def assert_user_stopped(instance: dict) -> None:
    assert instance["StateReason"] == USER_SHUTDOWN
    match = USER_REASON.match(instance["StateTransitionReason"])
    assert match, instance["StateTransitionReason"]
    assert recent(match.group(1), "%Y-%m-%d %H:%M:%S")


def default_network(ec2) -> tuple[dict, dict[str, dict], dict]:
    """The default VPC, its default subnets by zone, and its default security group."""
    [vpc] = ec2.describe_vpcs()["Vpcs"]
    subnets = {s["AvailabilityZone"]: s for s in ec2.describe_subnets()["Subnets"]}
    [group] = ec2.describe_security_groups()["SecurityGroups"]
    return vpc, subnets, group


def in_subnet(address: str, subnet: dict) -> bool:
    return ipaddress.ip_address(address) in ipaddress.ip_network(subnet["CidrBlock"])


# 1. aws-cli, the whole story ---------------------------------------------------------------


def test_cli_instance_story(aws, ec2):
    vpc, subnets, group = default_network(ec2)
    assert (vpc["CidrBlock"], vpc["IsDefault"]) == ("172.31.0.0/16", True)
    assert {s["VpcId"] for s in subnets.values()} == {vpc["VpcId"]}
    assert all(s["DefaultForAz"] for s in subnets.values())
    assert (group["GroupName"], group["VpcId"]) == ("default", vpc["VpcId"])

    # A registered image: volume -> snapshot -> register-image.
    source = aws.ok("create-volume", "--availability-zone", "us-east-1a", "--size", "8", "--volume-type", "gp3")
    snap = aws.ok("create-snapshot", "--volume-id", source["VolumeId"], "--description", "story root")["SnapshotId"]
    assert aws.ok("wait", "snapshot-completed", "--snapshot-ids", snap) is None
    root_ami = aws.ok(
        "register-image",
        "--name", "story-root",
        "--root-device-name", "/dev/xvda",
        "--block-device-mappings", f"DeviceName=/dev/xvda,Ebs={{SnapshotId={snap},VolumeType=gp3}}",
        "--architecture", "x86_64",
        "--virtualization-type", "hvm",
        "--ena-support",
    )["ImageId"]  # fmt: skip
    assert "LastLaunchedTime" not in image(ec2, root_ami)

    # The catalog's newest Amazon Linux 2023.
    catalog = aws.ok("describe-images", "--owners", "amazon", "--filters", f"Name=name,Values={AL2023_X86}")["Images"]
    newest = max(catalog, key=lambda i: i["CreationDate"])
    assert re.fullmatch(r"al2023-ami-2023\.[0-9.]+-kernel-6\.1-x86_64", newest["Name"]), newest["Name"]
    assert (newest["OwnerId"], newest["ImageOwnerAlias"], newest["Architecture"]) == (AMAZON, "amazon", "x86_64")
    catalog_root = ebs_mappings(newest)["/dev/xvda"]

    reservation = aws.ok(
        "run-instances", "--image-id", newest["ImageId"], "--instance-type", "t3.micro", "--count", "1"
    )
    [from_catalog] = reservation["Instances"]
    assert (from_catalog["ImageId"], from_catalog["InstanceType"]) == (newest["ImageId"], "t3.micro")
    assert from_catalog["State"] == PENDING
    assert reservation["OwnerId"] == "000000000000"
    catalog_volume = volume(ec2, ebs_mappings(from_catalog)["/dev/xvda"]["VolumeId"])
    assert (catalog_volume["SnapshotId"], catalog_volume["Size"]) == (catalog_root["SnapshotId"], 8)

    # The registered image, with a key, a zone and tags for the instance and its volume.
    aws.ok("create-key-pair", "--key-name", "story-key", "--key-type", "ed25519")
    reservation = aws.ok(
        "run-instances",
        "--image-id", root_ami,
        "--instance-type", "t3.micro",
        "--count", "1",
        "--key-name", "story-key",
        "--placement", "AvailabilityZone=us-east-1a",
        "--tag-specifications",
        "ResourceType=instance,Tags=[{Key=Name,Value=story-web}]",
        "ResourceType=volume,Tags=[{Key=team,Value=e2e}]",
    )  # fmt: skip
    [web] = reservation["Instances"]
    iid = web["InstanceId"]
    assert web["State"] == PENDING
    assert aws.ok("wait", "instance-running", "--instance-ids", iid) is None

    [[described]] = [r["Instances"] for r in aws.ok("describe-instances", "--instance-ids", iid)["Reservations"]]
    assert described["State"] == RUNNING
    assert (described["ImageId"], described["InstanceType"]) == (root_ami, "t3.micro")
    assert described["KeyName"] == "story-key"
    assert described["Placement"]["AvailabilityZone"] == "us-east-1a"
    assert (described["SubnetId"], described["VpcId"]) == (subnets["us-east-1a"]["SubnetId"], vpc["VpcId"])
    assert in_subnet(described["PrivateIpAddress"], subnets["us-east-1a"])
    assert [g["GroupId"] for g in described["SecurityGroups"]] == [group["GroupId"]]
    assert tag_dict(described["Tags"]) == {"Name": "story-web"}
    assert (described["RootDeviceType"], described["RootDeviceName"]) == ("ebs", "/dev/xvda")
    root_id = ebs_mappings(described)["/dev/xvda"]["VolumeId"]
    root = volume(ec2, root_id)
    assert (root["State"], root["Size"], root["SnapshotId"]) == ("in-use", 8, snap)
    assert root["AvailabilityZone"] == "us-east-1a"
    assert tag_dict(root["Tags"]) == {"team": "e2e"}
    [attachment] = root["Attachments"]
    assert (attachment["InstanceId"], attachment["Device"], attachment["State"]) == (iid, "/dev/xvda", "attached")
    assert attachment["DeleteOnTermination"] is True
    assert recent(image(ec2, root_ami)["LastLaunchedTime"])

    # A second volume, attached.
    data = aws.ok("create-volume", "--availability-zone", "us-east-1a", "--size", "5", "--volume-type", "gp3")
    data_id = data["VolumeId"]
    assert aws.ok("wait", "volume-available", "--volume-ids", data_id) is None
    attached = aws.ok("attach-volume", "--volume-id", data_id, "--instance-id", iid, "--device", "/dev/sdf")
    assert (attached["VolumeId"], attached["InstanceId"], attached["Device"]) == (data_id, iid, "/dev/sdf")
    assert attached["State"] == "attaching"
    assert aws.ok("wait", "volume-in-use", "--volume-ids", data_id) is None
    [attachment] = volume(ec2, data_id)["Attachments"]
    assert (attachment["InstanceId"], attachment["Device"], attachment["State"]) == (iid, "/dev/sdf", "attached")
    assert attachment["DeleteOnTermination"] is False
    assert sorted(ebs_mappings(describe(ec2, iid))) == ["/dev/sdf", "/dev/xvda"]

    # create-image, with and without --no-reboot.
    ami_a = aws.ok(
        "create-image", "--instance-id", iid, "--name", "story-a", "--description", "web with data", "--no-reboot"
    )["ImageId"]
    ami_b = aws.ok("create-image", "--instance-id", iid, "--name", "story-b")["ImageId"]
    assert aws.ok("wait", "image-available", "--image-ids", ami_a, ami_b) is None
    assert state_of(ec2, iid) == "running"  # the reboot of CreateImage leaves it running

    snapshots = aws.ok("describe-snapshots", "--owner-ids", "self")["Snapshots"]
    by_id = {s["SnapshotId"]: s for s in snapshots}
    assert len(snapshots) == 5  # the story's root plus two per created image
    for ami, name in [(ami_a, "story-a"), (ami_b, "story-b")]:
        created = image(ec2, ami)
        assert (created["State"], created["Name"], created["SourceInstanceId"]) == ("available", name, iid)
        assert (created["RootDeviceName"], created["RootDeviceType"]) == ("/dev/xvda", "ebs")
        assert (created["Architecture"], created["VirtualizationType"]) == ("x86_64", "hvm")
        mappings = ebs_mappings(created)
        assert sorted(mappings) == ["/dev/sdf", "/dev/xvda"]
        assert (mappings["/dev/xvda"]["VolumeSize"], mappings["/dev/xvda"]["DeleteOnTermination"]) == (8, True)
        assert (mappings["/dev/sdf"]["VolumeSize"], mappings["/dev/sdf"]["DeleteOnTermination"]) == (5, False)
        for device, from_volume in [("/dev/xvda", root_id), ("/dev/sdf", data_id)]:
            snapshot = by_id[mappings[device]["SnapshotId"]]
            assert snapshot["Description"] == f"Created by CreateImage({iid}) for {ami}"
            assert (snapshot["State"], snapshot["VolumeId"]) == ("completed", from_volume)
    assert image(ec2, ami_a)["Description"] == "web with data"

    # A second instance from the new image gets both of its volumes.
    [second] = aws.ok("run-instances", "--image-id", ami_a, "--instance-type", "t3.micro", "--count", "1")["Instances"]
    second_id = second["InstanceId"]
    assert aws.ok("wait", "instance-running", "--instance-ids", second_id) is None
    second_volumes = {d: volume(ec2, e["VolumeId"]) for d, e in ebs_mappings(describe(ec2, second_id)).items()}
    image_a = ebs_mappings(image(ec2, ami_a))
    assert {d: (v["SnapshotId"], v["Size"], v["State"]) for d, v in second_volumes.items()} == {
        "/dev/xvda": (image_a["/dev/xvda"]["SnapshotId"], 8, "in-use"),
        "/dev/sdf": (image_a["/dev/sdf"]["SnapshotId"], 5, "in-use"),
    }

    # Deregistering the first image leaves its instance alone but refuses new launches.
    assert aws.ok("deregister-image", "--image-id", root_ami) == {"Return": True}
    assert state_of(ec2, iid) == "running"
    refused = aws.err("run-instances", "--image-id", root_ami, "--instance-type", "t3.micro", "--count", "1")
    assert cli_error_code(refused) == "InvalidAMIID.NotFound"

    # stop, start, terminate.
    stopping = aws.ok("stop-instances", "--instance-ids", iid)["StoppingInstances"]
    assert stopping == [{"InstanceId": iid, "CurrentState": STOPPING, "PreviousState": RUNNING}]
    assert aws.ok("wait", "instance-stopped", "--instance-ids", iid) is None
    stopped = describe(ec2, iid)
    assert stopped["State"] == STOPPED
    assert_user_stopped(stopped)
    assert "PublicIpAddress" not in stopped
    assert volume(ec2, root_id)["State"] == volume(ec2, data_id)["State"] == "in-use"

    starting = aws.ok("start-instances", "--instance-ids", iid)["StartingInstances"]
    assert starting == [{"InstanceId": iid, "CurrentState": PENDING, "PreviousState": STOPPED}]
    assert aws.ok("wait", "instance-running", "--instance-ids", iid) is None
    restarted = describe(ec2, iid)
    assert (restarted["State"], restarted["StateTransitionReason"]) == (RUNNING, "")
    assert "StateReason" not in restarted

    everyone = [iid, second_id, from_catalog["InstanceId"]]
    terminating = aws.ok("terminate-instances", "--instance-ids", *everyone)["TerminatingInstances"]
    assert sorted(terminating, key=lambda t: t["InstanceId"]) == sorted(
        [{"InstanceId": i, "CurrentState": SHUTTING_DOWN, "PreviousState": RUNNING} for i in everyone],
        key=lambda t: t["InstanceId"],
    )
    assert aws.ok("wait", "instance-terminated", "--instance-ids", *everyone) is None
    assert all(state_of(ec2, i) == "terminated" for i in everyone)

    # DeleteOnTermination volumes are gone; the others are back to available.
    gone = [root_id, catalog_volume["VolumeId"], second_volumes["/dev/xvda"]["VolumeId"]]
    for volume_id in gone:
        expect_error("InvalidVolume.NotFound", ec2.describe_volumes, VolumeIds=[volume_id])
    for volume_id in [data_id, second_volumes["/dev/sdf"]["VolumeId"]]:
        kept = volume(ec2, volume_id)
        assert (kept["State"], kept["Attachments"]) == ("available", [])
    remaining = {v["VolumeId"] for v in aws.ok("describe-volumes")["Volumes"]}
    assert remaining == {source["VolumeId"], data_id, second_volumes["/dev/sdf"]["VolumeId"]}


# 2. boto3, the same story with transitions that last -------------------------------------


def test_boto3_instance_story_with_waiters(start_server):
    server = start_server(*TIMED)
    ec2 = make_client(server.url)
    _, subnets, group = default_network(ec2)
    subnet_b = subnets["us-east-1b"]

    snap = make_snapshot(ec2, az="us-east-1b")
    root_ami = register(ec2, "timed-root", snap)
    ec2.get_waiter("image_available").wait(ImageIds=[root_ami], WaiterConfig=WAITER)

    user_data = "#!/bin/sh\necho hello\n"
    ec2.create_key_pair(KeyName="timed-key", KeyType="ed25519")
    # No transition can be over before its 800 ms have passed since the request was sent.
    sent = time.monotonic()
    launched = launch(
        ec2,
        root_ami,
        KeyName="timed-key",
        UserData=user_data,
        SubnetId=subnet_b["SubnetId"],
        SecurityGroupIds=[group["GroupId"]],
        InstanceInitiatedShutdownBehavior="terminate",
        BlockDeviceMappings=[
            {"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 12}},
            {"DeviceName": "/dev/sdh", "Ebs": {"VolumeSize": 3, "VolumeType": "gp3", "DeleteOnTermination": False}},
        ],
        TagSpecifications=[
            {"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "timed"}]},
            {"ResourceType": "volume", "Tags": [{"Key": "role", "Value": "disk"}]},
        ],
    )
    iid = launched["InstanceId"]
    assert launched["State"] == PENDING
    assert describe(ec2, iid)["State"] == PENDING
    assert wait(ec2, "instance_running", [iid]) - sent >= 0.8
    web = describe(ec2, iid)
    assert web["State"] == RUNNING
    assert (web["Placement"]["AvailabilityZone"], web["SubnetId"]) == ("us-east-1b", subnet_b["SubnetId"])
    assert in_subnet(web["PrivateIpAddress"], subnet_b)
    assert tag_dict(web["Tags"]) == {"Name": "timed"}

    attribute = ec2.describe_instance_attribute
    assert attribute(InstanceId=iid, Attribute="userData")["UserData"]["Value"] == base64.b64encode(
        user_data.encode()
    ).decode()
    assert attribute(InstanceId=iid, Attribute="instanceInitiatedShutdownBehavior")[
        "InstanceInitiatedShutdownBehavior"
    ] == {"Value": "terminate"}
    assert attribute(InstanceId=iid, Attribute="disableApiTermination")["DisableApiTermination"] == {"Value": False}
    [status] = ec2.describe_instance_status(InstanceIds=[iid])["InstanceStatuses"]
    assert (status["InstanceState"], status["AvailabilityZone"]) == (RUNNING, "us-east-1b")
    assert status["InstanceStatus"]["Status"] == status["SystemStatus"]["Status"] == "ok"

    # The overrides: a bigger root, an extra empty volume kept on termination.
    launched_volumes = {d: volume(ec2, e["VolumeId"]) for d, e in ebs_mappings(web).items()}
    assert {d: (v["Size"], v.get("SnapshotId") or None, v["State"]) for d, v in launched_volumes.items()} == {
        "/dev/xvda": (12, snap, "in-use"),
        "/dev/sdh": (3, None, "in-use"),
    }
    assert {d: v["Attachments"][0]["DeleteOnTermination"] for d, v in launched_volumes.items()} == {
        "/dev/xvda": True,
        "/dev/sdh": False,
    }
    assert all(tag_dict(v["Tags"]) == {"role": "disk"} for v in launched_volumes.values())

    data_id = ec2.create_volume(AvailabilityZone="us-east-1b", Size=4, VolumeType="gp3")["VolumeId"]
    ec2.get_waiter("volume_available").wait(VolumeIds=[data_id], WaiterConfig=WAITER)
    attached = ec2.attach_volume(VolumeId=data_id, InstanceId=iid, Device="/dev/sdf")
    assert (attached["State"], attached["Device"], attached["InstanceId"]) == ("attaching", "/dev/sdf", iid)
    ec2.get_waiter("volume_in_use").wait(VolumeIds=[data_id], WaiterConfig=WAITER)

    # CreateImage leaving out /dev/sdh: pending while its snapshots are.
    sent = time.monotonic()
    ami = ec2.create_image(
        InstanceId=iid,
        Name="timed-image",
        Description="made while running",
        NoReboot=True,
        BlockDeviceMappings=[{"DeviceName": "/dev/sdh", "NoDevice": ""}],
        TagSpecifications=[
            {"ResourceType": "image", "Tags": [{"Key": "kind", "Value": "golden"}]},
            {"ResourceType": "snapshot", "Tags": [{"Key": "kind", "Value": "part"}]},
        ],
    )["ImageId"]
    assert image(ec2, ami)["State"] == "pending"
    expect_error("InvalidAMIID.Unavailable", ec2.run_instances, ImageId=ami, MinCount=1, MaxCount=1)
    ec2.get_waiter("image_available").wait(ImageIds=[ami], WaiterConfig=WAITER)
    assert time.monotonic() - sent >= 0.8
    created = image(ec2, ami)
    assert (created["State"], created["SourceInstanceId"], created["Description"]) == (
        "available",
        iid,
        "made while running",
    )
    assert tag_dict(created["Tags"]) == {"kind": "golden"}
    assert "LastLaunchedTime" not in created
    mappings = ebs_mappings(created)
    assert {d: (e["VolumeSize"], e["DeleteOnTermination"]) for d, e in mappings.items()} == {
        "/dev/xvda": (12, True),
        "/dev/sdf": (4, False),
    }
    made = ec2.describe_snapshots(SnapshotIds=[e["SnapshotId"] for e in mappings.values()])["Snapshots"]
    assert {s["VolumeId"]: s["Description"] for s in made} == {
        launched_volumes["/dev/xvda"]["VolumeId"]: f"Created by CreateImage({iid}) for {ami}",
        data_id: f"Created by CreateImage({iid}) for {ami}",
    }
    assert all(s["State"] == "completed" and tag_dict(s["Tags"]) == {"kind": "part"} for s in made)

    # A second instance from it.
    second_id = launch(ec2, ami)["InstanceId"]
    assert describe(ec2, second_id)["State"] == PENDING
    wait(ec2, "instance_running", [second_id])
    second_volumes = {d: volume(ec2, e["VolumeId"]) for d, e in ebs_mappings(describe(ec2, second_id)).items()}
    assert {d: (v["SnapshotId"], v["Size"]) for d, v in second_volumes.items()} == {
        d: (e["SnapshotId"], e["VolumeSize"]) for d, e in mappings.items()
    }
    assert recent(image(ec2, ami)["LastLaunchedTime"])

    # The first image goes; its instance stays.
    ec2.deregister_image(ImageId=root_ami)
    expect_error("InvalidAMIID.NotFound", ec2.run_instances, ImageId=root_ami, MinCount=1, MaxCount=1)
    assert state_of(ec2, iid) == "running"

    # Stop, resize while stopped, start again.
    sent = time.monotonic()
    stopping = ec2.stop_instances(InstanceIds=[iid])["StoppingInstances"]
    assert stopping == [{"InstanceId": iid, "CurrentState": STOPPING, "PreviousState": RUNNING}]
    assert describe(ec2, iid)["State"] == STOPPING
    assert wait(ec2, "instance_stopped", [iid]) - sent >= 0.8
    stopped = describe(ec2, iid)
    assert stopped["State"] == STOPPED
    assert_user_stopped(stopped)
    from_stopped = ec2.create_image(InstanceId=iid, Name="timed-stopped")["ImageId"]
    pending_image = image(ec2, from_stopped)
    assert (pending_image["State"], pending_image["SourceInstanceId"]) == ("pending", iid)
    assert sorted(ebs_mappings(pending_image)) == ["/dev/sdf", "/dev/sdh", "/dev/xvda"]
    assert state_of(ec2, iid) == "stopped"
    ec2.modify_instance_attribute(InstanceId=iid, InstanceType={"Value": "t3.small"})
    ec2.modify_instance_attribute(InstanceId=iid, UserData={"Value": b"echo again"})
    assert attribute(InstanceId=iid, Attribute="instanceType")["InstanceType"] == {"Value": "t3.small"}
    assert attribute(InstanceId=iid, Attribute="userData")["UserData"]["Value"] == base64.b64encode(
        b"echo again"
    ).decode()

    sent = time.monotonic()
    starting = ec2.start_instances(InstanceIds=[iid])["StartingInstances"]
    assert starting == [{"InstanceId": iid, "CurrentState": PENDING, "PreviousState": STOPPED}]
    assert describe(ec2, iid)["State"] == PENDING
    assert wait(ec2, "instance_running", [iid]) - sent >= 0.8
    assert describe(ec2, iid)["InstanceType"] == "t3.small"

    # Terminate both.
    sent = time.monotonic()
    terminating = ec2.terminate_instances(InstanceIds=[iid, second_id])["TerminatingInstances"]
    assert {t["InstanceId"]: (t["PreviousState"], t["CurrentState"]) for t in terminating} == {
        iid: (RUNNING, SHUTTING_DOWN),
        second_id: (RUNNING, SHUTTING_DOWN),
    }
    assert {i: state_of(ec2, i) for i in (iid, second_id)} == {iid: "shutting-down", second_id: "shutting-down"}
    assert wait(ec2, "instance_terminated", [iid, second_id]) - sent >= 0.8
    for gone in [launched_volumes["/dev/xvda"], second_volumes["/dev/xvda"]]:
        expect_error("InvalidVolume.NotFound", ec2.describe_volumes, VolumeIds=[gone["VolumeId"]])
    for kept in [launched_volumes["/dev/sdh"], second_volumes["/dev/sdf"], volume(ec2, data_id)]:
        now = volume(ec2, kept["VolumeId"])
        assert (now["State"], now["Attachments"]) == ("available", [])


# 3. Refused state changes ------------------------------------------------------------------


def test_state_errors_change_nothing(start_server):
    server = start_server()
    ec2 = make_client(server.url)
    ami = catalog_image(ec2, AL2023_X86)["ImageId"]

    def refused(code: str, call, instance_ids: list[str], **params):
        before = [describe(ec2, i) for i in instance_ids]
        expect_error(code, call, InstanceIds=instance_ids, **params)
        assert [describe(ec2, i) for i in instance_ids] == before

    running = launch(ec2, ami)["InstanceId"]
    assert state_of(ec2, running) == "running"

    # Starting a running instance is a no-op that answers `running`.
    assert ec2.start_instances(InstanceIds=[running])["StartingInstances"] == [
        {"InstanceId": running, "CurrentState": RUNNING, "PreviousState": RUNNING}
    ]
    assert state_of(ec2, running) == "running"

    # Termination protection, alone and in a batch with an unprotected instance.
    protected = launch(ec2, ami, DisableApiTermination=True)["InstanceId"]
    assert ec2.describe_instance_attribute(InstanceId=protected, Attribute="disableApiTermination")[
        "DisableApiTermination"
    ] == {"Value": True}
    refused("OperationNotPermitted", ec2.terminate_instances, [protected])
    refused("OperationNotPermitted", ec2.terminate_instances, [running, protected])
    ec2.modify_instance_attribute(InstanceId=protected, DisableApiTermination={"Value": False})
    [change] = ec2.terminate_instances(InstanceIds=[protected])["TerminatingInstances"]
    assert (change["PreviousState"], change["CurrentState"]) == (RUNNING, SHUTTING_DOWN)
    terminated = protected
    assert state_of(ec2, terminated) == "terminated"

    # Nothing brings a terminated instance back.
    refused("IncorrectInstanceState", ec2.start_instances, [terminated])
    refused("IncorrectInstanceState", ec2.stop_instances, [terminated])
    refused("IncorrectInstanceState", ec2.reboot_instances, [terminated])
    refused("IncorrectInstanceState", ec2.start_instances, [running, terminated])

    # A stopped instance cannot be rebooted.
    stopped = launch(ec2, ami)["InstanceId"]
    ec2.stop_instances(InstanceIds=[stopped])
    assert state_of(ec2, stopped) == "stopped"
    refused("IncorrectInstanceState", ec2.reboot_instances, [stopped])
    refused("IncorrectInstanceState", ec2.reboot_instances, [running, stopped])

    # Attributes that need a stopped instance.
    before = describe(ec2, running)
    expect_error(
        "IncorrectInstanceState", ec2.modify_instance_attribute, InstanceId=running, InstanceType={"Value": "t3.large"}
    )
    expect_error("IncorrectInstanceState", ec2.modify_instance_attribute, InstanceId=running, UserData={"Value": b"x"})
    assert describe(ec2, running) == before
    assert "Value" not in ec2.describe_instance_attribute(InstanceId=running, Attribute="userData").get("UserData", {})

    # An instance-store instance: no root volume, and it cannot be stopped.
    store_image = catalog_image(ec2, INSTANCE_STORE, deprecated=True)
    assert store_image["RootDeviceType"] == "instance-store"
    store = launch(ec2, store_image["ImageId"], InstanceType="m1.small")
    assert (store["RootDeviceType"], store["BlockDeviceMappings"]) == ("instance-store", [])
    assert state_of(ec2, store["InstanceId"]) == "running"
    refused("UnsupportedOperation", ec2.stop_instances, [store["InstanceId"]])
    assert not ec2.describe_volumes(Filters=[{"Name": "attachment.instance-id", "Values": [store["InstanceId"]]}])[
        "Volumes"
    ]

    # Unknown and malformed ids, alone or among good ones.
    unknown = "i-0123456789abcdef0"
    for call in (ec2.start_instances, ec2.stop_instances, ec2.reboot_instances, ec2.terminate_instances):
        expect_error("InvalidInstanceID.NotFound", call, InstanceIds=[unknown])
        before = describe(ec2, running)
        expect_error("InvalidInstanceID.NotFound", call, InstanceIds=[running, unknown])
        assert describe(ec2, running) == before
        for malformed in ("i-xyz", "instance-1"):
            expect_error("InvalidInstanceID.Malformed", call, InstanceIds=[malformed])
    expect_error("InvalidInstanceID.NotFound", ec2.describe_instances, InstanceIds=[unknown])
    expect_error("InvalidInstanceID.NotFound", ec2.describe_instance_status, InstanceIds=[unknown])
    expect_error(
        "InvalidInstanceID.NotFound", ec2.describe_instance_attribute, InstanceId=unknown, Attribute="instanceType"
    )
    expect_error("InvalidInstanceID.Malformed", ec2.describe_instances, InstanceIds=["i-xyz"])
    assert state_of(ec2, running) == "running"


def test_stopping_a_pending_instance_is_refused(start_server):
    server = start_server("--instance-pending-ms", "60000")
    ec2 = make_client(server.url)
    iid = launch(ec2, catalog_image(ec2, AL2023_X86)["ImageId"])["InstanceId"]
    before = describe(ec2, iid)
    assert before["State"] == PENDING
    expect_error("IncorrectInstanceState", ec2.stop_instances, InstanceIds=[iid])
    assert describe(ec2, iid) == before


def test_volume_and_image_errors(ec2):
    ami = catalog_image(ec2, AL2023_X86)["ImageId"]
    instance = launch(ec2, ami, Placement={"AvailabilityZone": "us-east-1a"})
    iid = instance["InstanceId"]

    elsewhere = ec2.create_volume(AvailabilityZone="us-east-1b", Size=2)["VolumeId"]
    here = ec2.create_volume(AvailabilityZone="us-east-1a", Size=2)["VolumeId"]
    spare = ec2.create_volume(AvailabilityZone="us-east-1a", Size=2)["VolumeId"]
    ec2.get_waiter("volume_available").wait(VolumeIds=[elsewhere, here, spare], WaiterConfig=WAITER)
    expect_error("InvalidVolume.ZoneMismatch", ec2.attach_volume, VolumeId=elsewhere, InstanceId=iid, Device="/dev/sdf")
    expect_error("InvalidParameterValue", ec2.attach_volume, VolumeId=here, InstanceId=iid, Device="/dev/xvda")
    expect_error("IncorrectState", ec2.detach_volume, VolumeId=here)
    assert [volume(ec2, v)["State"] for v in (elsewhere, here, spare)] == ["available"] * 3
    assert sorted(ebs_mappings(describe(ec2, iid))) == ["/dev/xvda"]

    root_id = ebs_mappings(describe(ec2, iid))["/dev/xvda"]["VolumeId"]
    expect_error("IncorrectState", ec2.detach_volume, VolumeId=root_id)
    assert volume(ec2, root_id)["Attachments"][0]["State"] == "attached"

    assert ec2.attach_volume(VolumeId=here, InstanceId=iid, Device="/dev/sdf")["State"] == "attaching"
    expect_error("InvalidParameterValue", ec2.attach_volume, VolumeId=spare, InstanceId=iid, Device="/dev/sdf")
    expect_error("VolumeInUse", ec2.attach_volume, VolumeId=here, InstanceId=iid, Device="/dev/sdg")
    assert (volume(ec2, spare)["State"], volume(ec2, spare)["Attachments"]) == ("available", [])
    detached = ec2.detach_volume(VolumeId=here)
    assert (detached["State"], detached["InstanceId"], detached["Device"]) == ("detaching", iid, "/dev/sdf")
    ec2.get_waiter("volume_available").wait(VolumeIds=[here], WaiterConfig=WAITER)
    assert volume(ec2, here)["Attachments"] == []

    first = ec2.create_image(InstanceId=iid, Name="only-once", NoReboot=True)["ImageId"]
    expect_error("InvalidAMIName.Duplicate", ec2.create_image, InstanceId=iid, Name="only-once", NoReboot=True)
    assert [i["ImageId"] for i in ec2.describe_images(Owners=["self"])["Images"]] == [first]

    ec2.terminate_instances(InstanceIds=[iid])
    assert state_of(ec2, iid) == "terminated"
    expect_error("InvalidParameterValue", ec2.create_image, InstanceId=iid, Name="too-late")
    assert [i["ImageId"] for i in ec2.describe_images(Owners=["self"])["Images"]] == [first]
    expect_error("InvalidInstanceID.NotFound", ec2.create_image, InstanceId="i-0123456789abcdef0", Name="nobody")


def test_launch_errors(start_server):
    server = start_server()
    ec2 = make_client(server.url)
    x86 = catalog_image(ec2, AL2023_X86)
    arm = catalog_image(ec2, AL2023_ARM)
    assert (x86["Architecture"], arm["Architecture"]) == ("x86_64", "arm64")

    def refused(code: str, **params):
        params = {"MinCount": 1, "MaxCount": 1, **params}
        expect_error(code, ec2.run_instances, **params)

    refused("InvalidParameterValue", ImageId=arm["ImageId"], InstanceType="t3.micro")
    refused("InvalidParameterValue", ImageId=x86["ImageId"], InstanceType="t4g.micro")
    refused("InvalidParameterValue", ImageId=x86["ImageId"], InstanceType="m6g.medium")
    refused("InvalidParameterValue", ImageId=x86["ImageId"], InstanceType="z9.huge")

    # The paravirtual image is deprecated: found only with IncludeDeprecated.
    assert not ec2.describe_images(Owners=["amazon"], Filters=[{"Name": "name", "Values": [PARAVIRTUAL]}])["Images"]
    pv = catalog_image(ec2, PARAVIRTUAL, deprecated=True)
    assert pv["VirtualizationType"] == "paravirtual"
    refused("InvalidParameterCombination", ImageId=pv["ImageId"], InstanceType="t3.micro")

    refused("InvalidAMIID.NotFound", ImageId="ami-0123456789abcdef0")
    refused("InvalidAMIID.Malformed", ImageId="ami-xyz")
    refused("InvalidSubnetID.NotFound", ImageId=x86["ImageId"], SubnetId="subnet-0123456789abcdef0")
    refused("InvalidGroup.NotFound", ImageId=x86["ImageId"], SecurityGroupIds=["sg-0123456789abcdef0"])

    # Disabled, then enabled again.
    own = register(ec2, "own-root", make_snapshot(ec2))
    ec2.get_waiter("image_available").wait(ImageIds=[own], WaiterConfig=WAITER)
    ec2.disable_image(ImageId=own)
    refused("InvalidAMIID.Unavailable", ImageId=own, InstanceType="t3.micro")
    assert ec2.describe_instances()["Reservations"] == []

    ec2.enable_image(ImageId=own)
    assert launch(ec2, own)["ImageId"] == own
    on_arm = launch(ec2, arm["ImageId"], InstanceType="t4g.micro")
    assert (on_arm["Architecture"], on_arm["InstanceType"]) == ("arm64", "t4g.micro")
    [on_m1] = ec2.run_instances(ImageId=pv["ImageId"], MinCount=1, MaxCount=1)["Instances"]
    assert on_m1["InstanceType"] == "m1.small"  # the default type
    assert on_m1["KernelId"] == pv["KernelId"]
    assert (on_m1["VirtualizationType"], on_m1["Architecture"]) == ("paravirtual", "x86_64")
    assert len(instances_of(ec2.describe_instances()["Reservations"])) == 3


def test_accept_unknown_images_flag(start_server):
    unknown = "ami-0123456789abcdef0"
    strict = make_client(start_server().url)
    expect_error("InvalidAMIID.NotFound", strict.run_instances, ImageId=unknown, MinCount=1, MaxCount=1)

    lenient = make_client(start_server("--accept-unknown-images").url)
    instance = launch(lenient, unknown)
    assert (instance["ImageId"], instance["RootDeviceType"]) == (unknown, "ebs")
    [root] = instance["BlockDeviceMappings"]
    assert volume(lenient, root["Ebs"]["VolumeId"])["Size"] == 8
    assert state_of(lenient, instance["InstanceId"]) == "running"
    expect_error("InvalidAMIID.Malformed", lenient.run_instances, ImageId="ami-nothex", MinCount=1, MaxCount=1)


# 4. ClientToken idempotency ---------------------------------------------------------------


def test_client_token_idempotency(ec2, aws, client_factory):
    ami = catalog_image(ec2, AL2023_X86)["ImageId"]
    params = dict(ImageId=ami, InstanceType="t3.micro", MinCount=2, MaxCount=2, ClientToken="idem-token-1")
    first = ec2.run_instances(**params)
    again = ec2.run_instances(**params)
    ids = [i["InstanceId"] for i in first["Instances"]]
    assert len(set(ids)) == 2
    assert again["ReservationId"] == first["ReservationId"]
    assert [i["InstanceId"] for i in again["Instances"]] == ids
    assert [i["AmiLaunchIndex"] for i in again["Instances"]] == [0, 1]
    assert {i["ClientToken"] for i in again["Instances"]} == {"idem-token-1"}

    cli = aws.ok(
        "run-instances", "--image-id", ami, "--instance-type", "t3.micro", "--count", "2",
        "--client-token", "idem-token-1",
    )  # fmt: skip
    assert (cli["ReservationId"], [i["InstanceId"] for i in cli["Instances"]]) == (first["ReservationId"], ids)

    everything = instances_of(ec2.describe_instances()["Reservations"])
    assert sorted(i["InstanceId"] for i in everything) == sorted(ids)
    by_token = ec2.describe_instances(Filters=[{"Name": "client-token", "Values": ["idem-token-1"]}])
    assert sorted(i["InstanceId"] for i in instances_of(by_token["Reservations"])) == sorted(ids)

    # Another token launches anew; the same token with another image is refused.
    other = ec2.run_instances(**{**params, "ClientToken": "idem-token-2"})
    assert not set(ids) & {i["InstanceId"] for i in other["Instances"]}
    pv = catalog_image(ec2, PARAVIRTUAL, deprecated=True)["ImageId"]
    expect_error(
        "IdempotentParameterMismatch", ec2.run_instances, **{**params, "ImageId": pv, "InstanceType": "m1.small"}
    )
    assert len(instances_of(ec2.describe_instances()["Reservations"])) == 4

    # Tokens belong to an account.
    neighbour = client_factory(access_key="222222222222")
    theirs = neighbour.run_instances(**params)
    assert theirs["ReservationId"] != first["ReservationId"]
    assert len(instances_of(ec2.describe_instances()["Reservations"])) == 4


# 5. Restart in the middle of a transition --------------------------------------------------


def test_pending_survives_a_kill(start_server):
    server = start_server("--instance-pending-ms", "1500")
    ec2 = make_client(server.url)
    ami = catalog_image(ec2, AL2023_X86)["ImageId"]
    started = time.monotonic()
    instance = launch(ec2, ami)
    iid = instance["InstanceId"]
    assert instance["State"] == PENDING

    assert server.kill() == -signal.SIGKILL
    server.start()
    ec2 = make_client(server.url)
    reopened = describe(ec2, iid)
    assert time.monotonic() - started < 1.5, "the restart took too long for the check to mean anything"
    assert reopened["State"] == PENDING
    assert ebs_mappings(reopened)["/dev/xvda"]["VolumeId"] == ebs_mappings(instance)["/dev/xvda"]["VolumeId"]

    assert wait(ec2, "instance_running", [iid]) - started >= 1.5
    assert describe(ec2, iid)["State"] == RUNNING


# 6. Launching a shared image ---------------------------------------------------------------


def test_shared_image_launch(client_factory):
    owner = client_factory(access_key="111111111111")
    friend = client_factory(access_key="222222222222")
    stranger = client_factory(access_key="333333333333")

    snap = make_snapshot(owner, size=6)
    ami = register(owner, "shared-root", snap)
    owner.get_waiter("image_available").wait(ImageIds=[ami], WaiterConfig=WAITER)
    expect_error("AuthFailure", friend.run_instances, ImageId=ami, MinCount=1, MaxCount=1)

    owner.modify_image_attribute(ImageId=ami, LaunchPermission={"Add": [{"UserId": "222222222222"}]})
    reservation = friend.run_instances(ImageId=ami, InstanceType="t3.micro", MinCount=1, MaxCount=1)
    assert reservation["OwnerId"] == "222222222222"
    [instance] = reservation["Instances"]
    iid = instance["InstanceId"]
    assert instance["ImageId"] == ami
    root = volume(friend, ebs_mappings(instance)["/dev/xvda"]["VolumeId"])
    assert (root["SnapshotId"], root["Size"], root["State"]) == (snap, 6, "in-use")
    assert state_of(friend, iid) == "running"
    # The instance belongs to the launcher, not to the image's owner.
    assert owner.describe_instances()["Reservations"] == []
    expect_error("InvalidInstanceID.NotFound", owner.describe_instances, InstanceIds=[iid])

    expect_error("AuthFailure", stranger.run_instances, ImageId=ami, MinCount=1, MaxCount=1)
    assert stranger.describe_instances()["Reservations"] == []

    owner.modify_image_attribute(ImageId=ami, LaunchPermission={"Remove": [{"UserId": "222222222222"}]})
    expect_error("AuthFailure", friend.run_instances, ImageId=ami, MinCount=1, MaxCount=1)
    still = describe(friend, iid)
    assert (still["State"], still["ImageId"]) == (RUNNING, ami)
    assert len(instances_of(friend.describe_instances()["Reservations"])) == 1


# 7. Terminated retention -------------------------------------------------------------------




@pytest.mark.parametrize(
    "shutting_down_ms",
    ["0", "200"],
    ids=["immediate", "shutting-down-200ms"],
)
def test_terminated_instances_vanish_after_retention(start_server, shutting_down_ms):
    server = start_server("--terminated-retention-ms", "500", "--instance-shutting-down-ms", shutting_down_ms)
    ec2 = make_client(server.url)
    ami = catalog_image(ec2, AL2023_X86)["ImageId"]
    iid = launch(ec2, ami)["InstanceId"]
    kept = launch(ec2, ami)["InstanceId"]

    ec2.terminate_instances(InstanceIds=[iid])
    ec2.get_waiter("instance_terminated").wait(InstanceIds=[iid], WaiterConfig={"Delay": 0.25, "MaxAttempts": 20})
    gone_at = time.monotonic()
    terminated = describe(ec2, iid)
    assert terminated["State"] == TERMINATED
    assert terminated["StateReason"] == USER_SHUTDOWN
    for hidden in ("SubnetId", "VpcId", "PrivateIpAddress", "PublicIpAddress"):
        assert hidden not in terminated
    assert terminated["BlockDeviceMappings"] == []

    time.sleep(0.6)
    expect_error("InvalidInstanceID.NotFound", ec2.describe_instances, InstanceIds=[iid])
    expect_error("InvalidInstanceID.NotFound", ec2.terminate_instances, InstanceIds=[iid])
    assert [i["InstanceId"] for i in instances_of(ec2.describe_instances()["Reservations"])] == [kept]
    assert state_of(ec2, kept) == "running"
    assert time.monotonic() - gone_at < 5


# 8. DescribeInstances paging and filters ---------------------------------------------------


def test_describe_instances_pagination_and_filters(ec2):
    vpc, subnets, group = default_network(ec2)
    ami = catalog_image(ec2, AL2023_X86)["ImageId"]
    own = register(ec2, "filters-root", make_snapshot(ec2))
    ec2.get_waiter("image_available").wait(ImageIds=[own], WaiterConfig=WAITER)

    def run(count: int, image_id: str, itype: str, zone: str, name: str | None = None) -> list[str]:
        extra = {}
        if name:
            extra["TagSpecifications"] = [{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": name}]}]
        reservation = ec2.run_instances(
            ImageId=image_id,
            InstanceType=itype,
            MinCount=count,
            MaxCount=count,
            Placement={"AvailabilityZone": zone},
            **extra,
        )
        return sorted(i["InstanceId"] for i in reservation["Instances"])

    web = run(3, ami, "t3.micro", "us-east-1a", "web")
    workers = run(4, ami, "t3.small", "us-east-1b", "worker")
    batch = run(2, ami, "m1.small", "us-east-1c")
    db = run(3, own, "t3.micro", "us-east-1a", "db")
    everyone = sorted(web + workers + batch + db)
    assert len(everyone) == 12
    ec2.stop_instances(InstanceIds=batch)

    pages = list(ec2.get_paginator("describe_instances").paginate(PaginationConfig={"PageSize": 5}))
    per_page = [[i["InstanceId"] for i in instances_of(p["Reservations"])] for p in pages]
    assert [len(p) for p in per_page] == [5, 5, 2]
    seen = [i for p in per_page for i in p]
    assert sorted(seen) == everyone and len(set(seen)) == 12
    assert "NextToken" not in pages[-1]

    micro = list(
        ec2.get_paginator("describe_instances").paginate(
            Filters=[{"Name": "instance-type", "Values": ["t3.micro"]}], PaginationConfig={"PageSize": 5}
        )
    )
    assert [len(instances_of(p["Reservations"])) for p in micro] == [5, 1]
    assert sorted(i["InstanceId"] for p in micro for i in instances_of(p["Reservations"])) == sorted(web + db)

    def found(*filters: tuple[str, list[str]], **params) -> list[str]:
        answer = ec2.describe_instances(Filters=[{"Name": n, "Values": v} for n, v in filters], **params)
        return sorted(i["InstanceId"] for i in instances_of(answer["Reservations"]))

    assert found(("instance-state-name", ["stopped"])) == batch
    assert found(("instance-state-name", ["running"])) == sorted(web + workers + db)
    assert found(("instance-state-code", ["80"])) == batch
    assert found(("instance-type", ["t3.small"])) == workers
    assert found(("image-id", [own])) == db
    assert found(("tag:Name", ["web"])) == web
    assert found(("tag:Name", ["web", "db"])) == sorted(web + db)
    assert found(("tag:Name", ["w*"])) == sorted(web + workers)
    assert found(("tag-key", ["Name"])) == sorted(web + workers + db)
    assert found(("availability-zone", ["us-east-1b"])) == workers
    assert found(("subnet-id", [subnets["us-east-1c"]["SubnetId"]])) == batch
    assert found(("vpc-id", [vpc["VpcId"]])) == everyone
    assert found(("vpc-id", ["vpc-0123456789abcdef0"])) == []
    assert found(("instance.group-id", [group["GroupId"]])) == everyone
    assert found(("instance-type", ["t3.micro"]), ("availability-zone", ["us-east-1a"])) == sorted(web + db)
    assert found(("instance-type", ["t3.micro"]), ("tag:Name", ["worker"])) == []
    [one_web] = ec2.describe_instances(InstanceIds=[web[0]])["Reservations"]
    assert found(("reservation-id", [one_web["ReservationId"]])) == web
    assert found(("instance-id", [web[0], db[0]])) == sorted([web[0], db[0]])
    # Ids and filters together: the filters narrow the ids.
    assert found(("instance-type", ["t3.small"]), InstanceIds=web) == []
    assert found(("instance-type", ["t3.micro"]), InstanceIds=web + workers) == web

    expect_error("InvalidParameterCombination", ec2.describe_instances, InstanceIds=web, MaxResults=5)
    expect_error("InvalidParameterValue", ec2.describe_instances, MaxResults=4)
    expect_error("InvalidParameterValue", ec2.describe_instances, Filters=[{"Name": "flavour", "Values": ["x"]}])

    running_only = ec2.describe_instance_status()["InstanceStatuses"]
    assert sorted(s["InstanceId"] for s in running_only) == sorted(web + workers + db)
    everything = ec2.describe_instance_status(IncludeAllInstances=True)["InstanceStatuses"]
    assert sorted(s["InstanceId"] for s in everything) == everyone
    assert {s["InstanceId"]: s["InstanceState"] for s in everything if s["InstanceId"] in batch} == {
        i: STOPPED for i in batch
    }


# Deviations once reported by these tests, now fixed ---------------------------------------


def test_client_token_reused_with_another_instance_type_is_refused(ec2):
    ami = catalog_image(ec2, AL2023_X86)["ImageId"]
    first = launch(ec2, ami, InstanceType="t3.micro", ClientToken="mismatch-token")
    expect_error(
        "IdempotentParameterMismatch",
        ec2.run_instances,
        ImageId=ami,
        InstanceType="t3.large",
        MinCount=1,
        MaxCount=1,
        ClientToken="mismatch-token",
    )
    assert [i["InstanceId"] for i in instances_of(ec2.describe_instances()["Reservations"])] == [first["InstanceId"]]


def test_unknown_key_name_is_refused(ec2):
    ami = catalog_image(ec2, AL2023_X86)["ImageId"]
    expect_error(
        "InvalidKeyPair.NotFound", ec2.run_instances, ImageId=ami, KeyName="no-such-key", MinCount=1, MaxCount=1
    )


def test_start_assigns_a_new_public_ip(ec2):
    iid = launch(ec2, catalog_image(ec2, AL2023_X86)["ImageId"])["InstanceId"]
    before = describe(ec2, iid)["PublicIpAddress"]
    ec2.stop_instances(InstanceIds=[iid])
    assert state_of(ec2, iid) == "stopped"
    ec2.start_instances(InstanceIds=[iid])
    after = describe(ec2, iid)
    assert after["State"] == RUNNING
    assert after["PublicIpAddress"] != before


def test_uefi_preferred_boots_uefi_where_supported(ec2):
    image_id = catalog_image(ec2, AL2023_X86)
    assert image_id["BootMode"] == "uefi-preferred"
    on_xen = launch(ec2, image_id["ImageId"], InstanceType="m1.small")
    assert (on_xen["BootMode"], on_xen["CurrentInstanceBootMode"]) == ("uefi-preferred", "legacy-bios")
    on_nitro = launch(ec2, image_id["ImageId"], InstanceType="t3.micro")
    assert (on_nitro["BootMode"], on_nitro["CurrentInstanceBootMode"]) == ("uefi-preferred", "uefi")


def test_account_attributes_name_the_default_vpc(ec2):
    [vpc] = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]
    every = {a["AttributeName"]: [v["AttributeValue"] for v in a["AttributeValues"]]
             for a in ec2.describe_account_attributes()["AccountAttributes"]}
    assert every["default-vpc"] == [vpc["VpcId"]]
    assert every["supported-platforms"] == ["VPC"]
    assert {"max-instances", "max-elastic-ips", "vpc-max-elastic-ips",
            "vpc-max-security-groups-per-interface"} <= every.keys()
    [only] = ec2.describe_account_attributes(AttributeNames=["supported-platforms"])["AccountAttributes"]
    assert only["AttributeName"] == "supported-platforms"
    with pytest.raises(ClientError) as refused:
        ec2.describe_account_attributes(AttributeNames=["max-vcpus"])
    assert error_code(refused.value) == "InvalidParameterValue"
