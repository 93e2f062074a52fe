"""boto3 (pinned) against ec2lite: lifecycle, waiters that really wait, forced failures,
pagination, accounts, regions, cross-region copies and restart durability."""

from __future__ import annotations

import signal
import time

import pytest
from botocore.exceptions import ClientError, WaiterError

from support import WAITER, error_code, make_client, make_snapshot, register


def ids_of(images: list[dict]) -> list[str]:
    return [image["ImageId"] for image in images]


def tag_dict(tags: list[dict] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in tags or []}


def expect_error(code: str, call, **params) -> ClientError:
    with pytest.raises(ClientError) as caught:
        call(**params)
    assert error_code(caught.value) == code, caught.value.response["Error"]
    return caught.value


def count_calls(client, operation: str) -> list[int]:
    """A one-element counter of the `operation` calls `client` makes from now on."""
    counter = [0]

    def bump(**_):
        counter[0] += 1

    client.meta.events.register(f"before-call.ec2.{operation}", bump)
    return counter


def test_lifecycle(ec2):
    volume = ec2.create_volume(
        AvailabilityZone="us-east-1b",
        Size=10,
        VolumeType="gp3",
        TagSpecifications=[{"ResourceType": "volume", "Tags": [{"Key": "Name", "Value": "builder-root"}]}],
    )
    assert volume["State"] == "creating"
    assert (volume["Size"], volume["AvailabilityZone"], volume["VolumeType"]) == (10, "us-east-1b", "gp3")
    assert tag_dict(volume["Tags"]) == {"Name": "builder-root"}
    ec2.get_waiter("volume_available").wait(VolumeIds=[volume["VolumeId"]], WaiterConfig=WAITER)

    snapshot = ec2.create_snapshot(
        VolumeId=volume["VolumeId"],
        Description="nightly root",
        TagSpecifications=[{"ResourceType": "snapshot", "Tags": [{"Key": "stage", "Value": "build"}]}],
    )
    snap = snapshot["SnapshotId"]
    assert snapshot["State"] == "pending"
    ec2.get_waiter("snapshot_completed").wait(SnapshotIds=[snap], WaiterConfig=WAITER)
    [described] = ec2.describe_snapshots(SnapshotIds=[snap])["Snapshots"]
    assert (described["State"], described["Progress"], described["VolumeSize"]) == ("completed", "100%", 10)
    assert described["VolumeId"] == volume["VolumeId"]
    assert tag_dict(described["Tags"]) == {"stage": "build"}

    ami = ec2.register_image(
        Name="golden-arm",
        Description="golden image",
        RootDeviceName="/dev/xvda",
        BlockDeviceMappings=[
            {"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": snap, "VolumeType": "gp3"}},
            {"DeviceName": "/dev/sdb", "VirtualName": "ephemeral0"},
        ],
        Architecture="arm64",
        VirtualizationType="hvm",
        EnaSupport=True,
        BootMode="uefi",
        TagSpecifications=[{"ResourceType": "image", "Tags": [{"Key": "os", "Value": "linux"}]}],
    )["ImageId"]
    assert ami.startswith("ami-")
    ec2.get_waiter("image_available").wait(ImageIds=[ami], WaiterConfig=WAITER)

    [image] = ec2.describe_images(ImageIds=[ami])["Images"]
    assert image["State"] == "available"
    assert (image["Name"], image["Description"]) == ("golden-arm", "golden image")
    assert (image["OwnerId"], image["Public"]) == ("000000000000", False)
    assert (image["Architecture"], image["VirtualizationType"], image["BootMode"]) == ("arm64", "hvm", "uefi")
    assert (image["RootDeviceName"], image["RootDeviceType"]) == ("/dev/xvda", "ebs")
    assert image["ImageLocation"] == "000000000000/golden-arm"
    assert image["EnaSupport"] is True
    assert tag_dict(image["Tags"]) == {"os": "linux"}
    mappings = {m["DeviceName"]: m for m in image["BlockDeviceMappings"]}
    assert set(mappings) == {"/dev/xvda", "/dev/sdb"}
    assert mappings["/dev/sdb"]["VirtualName"] == "ephemeral0"
    root = mappings["/dev/xvda"]["Ebs"]
    assert root["SnapshotId"] == snap
    assert (root["VolumeSize"], root["VolumeType"], root["Iops"], root["Throughput"]) == (10, "gp3", 3000, 125)
    assert (root["DeleteOnTermination"], root["Encrypted"]) == (True, False)

    # Launch permissions: an account and the public group, then a reset.
    ec2.modify_image_attribute(
        ImageId=ami, LaunchPermission={"Add": [{"UserId": "123456789012"}, {"Group": "all"}]}
    )
    permissions = ec2.describe_image_attribute(ImageId=ami, Attribute="launchPermission")["LaunchPermissions"]
    assert sorted(permissions, key=str) == sorted([{"UserId": "123456789012"}, {"Group": "all"}], key=str)
    assert ec2.describe_images(ImageIds=[ami])["Images"][0]["Public"] is True
    public = ec2.describe_images(Owners=["self"], Filters=[{"Name": "is-public", "Values": ["true"]}])["Images"]
    assert ids_of(public) == [ami]
    ec2.reset_image_attribute(ImageId=ami, Attribute="launchPermission")
    assert ec2.describe_image_attribute(ImageId=ami, Attribute="launchPermission")["LaunchPermissions"] == []
    assert ec2.describe_images(ImageIds=[ami])["Images"][0]["Public"] is False

    ec2.modify_image_attribute(ImageId=ami, Description={"Value": "golden image v2"})
    attribute = ec2.describe_image_attribute(ImageId=ami, Attribute="description")
    assert attribute["Description"] == {"Value": "golden image v2"}

    # Tags: add, overwrite, delete, describe with filters.
    ec2.create_tags(Resources=[ami, snap], Tags=[{"Key": "team", "Value": "infra"}, {"Key": "os", "Value": "al2023"}])
    ec2.delete_tags(Resources=[snap], Tags=[{"Key": "stage"}])
    tags = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [ami, snap]}])["Tags"]
    assert sorted((t["ResourceId"], t["ResourceType"], t["Key"], t["Value"]) for t in tags) == sorted(
        [
            (ami, "image", "os", "al2023"),
            (ami, "image", "team", "infra"),
            (snap, "snapshot", "os", "al2023"),
            (snap, "snapshot", "team", "infra"),
        ]
    )
    only_images = ec2.describe_tags(Filters=[{"Name": "resource-type", "Values": ["image"]}])["Tags"]
    assert {(t["ResourceId"], t["Key"]) for t in only_images} == {(ami, "os"), (ami, "team")}

    expect_error("InvalidSnapshot.InUse", ec2.delete_snapshot, SnapshotId=snap)
    expect_error(
        "InvalidAMIName.Duplicate",
        ec2.register_image,
        Name="golden-arm",
        RootDeviceName="/dev/xvda",
        BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": snap}}],
        Architecture="arm64",
        VirtualizationType="hvm",
    )

    gone = ec2.deregister_image(ImageId=ami, DeleteAssociatedSnapshots=True)
    assert gone["Return"] is True
    assert gone["DeleteSnapshotResults"] == [{"SnapshotId": snap, "ReturnCode": "success"}]
    assert ec2.describe_images(ImageIds=[ami])["Images"] == []
    expect_error("InvalidSnapshot.NotFound", ec2.describe_snapshots, SnapshotIds=[snap])
    # The volume the snapshot came from is untouched.
    [kept] = ec2.describe_volumes(VolumeIds=[volume["VolumeId"]])["Volumes"]
    assert kept["State"] == "available"


def test_unknown_and_malformed_ids(ec2):
    err = expect_error("InvalidAMIID.NotFound", ec2.describe_images, ImageIds=["ami-0123456789abcdef0"])
    assert "ami-0123456789abcdef0" in err.response["Error"]["Message"]
    expect_error("InvalidAMIID.Malformed", ec2.describe_images, ImageIds=["ami-nothex"])
    expect_error("InvalidSnapshot.NotFound", ec2.describe_snapshots, SnapshotIds=["snap-0123456789abcdef0"])
    expect_error("InvalidSnapshotID.Malformed", ec2.describe_snapshots, SnapshotIds=["snap-nothex"])
    expect_error("InvalidVolume.NotFound", ec2.describe_volumes, VolumeIds=["vol-0123456789abcdef0"])


def test_dry_run_changes_nothing(ec2):
    snap = make_snapshot(ec2)
    expect_error(
        "DryRunOperation",
        ec2.register_image,
        Name="dry",
        RootDeviceName="/dev/xvda",
        BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": snap}}],
        DryRun=True,
    )
    assert ec2.describe_images(Owners=["self"])["Images"] == []
    expect_error("DryRunOperation", ec2.create_volume, AvailabilityZone="us-east-1a", Size=1, DryRun=True)
    assert len(ec2.describe_volumes()["Volumes"]) == 1


def test_waiters_wait_for_pending_resources(start_server):
    server = start_server("--image-pending-ms", "1500", "--snapshot-pending-ms", "1000")
    ec2 = make_client(server.url)
    volume = ec2.create_volume(AvailabilityZone="us-east-1a", Size=8)

    started = time.monotonic()
    snap = ec2.create_snapshot(VolumeId=volume["VolumeId"])["SnapshotId"]
    [snapshot] = ec2.describe_snapshots(SnapshotIds=[snap])["Snapshots"]
    assert snapshot["State"] == "pending"
    # A pending snapshot cannot back an image yet.
    expect_error(
        "IncorrectState",
        ec2.register_image,
        Name="too-early",
        RootDeviceName="/dev/xvda",
        BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": snap}}],
    )
    polls = count_calls(ec2, "DescribeSnapshots")
    ec2.get_waiter("snapshot_completed").wait(SnapshotIds=[snap], WaiterConfig=WAITER)
    waited = time.monotonic() - started
    assert waited >= 0.95, f"snapshot_completed returned after {waited:.2f}s, before the 1s pending time"
    assert polls[0] >= 2, "the waiter never saw the snapshot pending"
    [snapshot] = ec2.describe_snapshots(SnapshotIds=[snap])["Snapshots"]
    assert (snapshot["State"], snapshot["Progress"]) == ("completed", "100%")

    started = time.monotonic()
    ami = register(ec2, "slow-image", snap)
    [image] = ec2.describe_images(ImageIds=[ami])["Images"]
    assert image["State"] == "pending"
    polls = count_calls(ec2, "DescribeImages")
    ec2.get_waiter("image_available").wait(ImageIds=[ami], WaiterConfig=WAITER)
    waited = time.monotonic() - started
    assert waited >= 1.45, f"image_available returned after {waited:.2f}s, before the 1.5s pending time"
    assert polls[0] >= 2, "the waiter never saw the image pending"
    assert ec2.describe_images(ImageIds=[ami])["Images"][0]["State"] == "available"


def test_forced_image_failure_fails_the_waiter(start_server):
    server = start_server("--image-pending-ms", "600000")
    ec2 = make_client(server.url)
    snap = make_snapshot(ec2)
    ami = register(ec2, "doomed", snap)
    assert ec2.describe_images(ImageIds=[ami])["Images"][0]["State"] == "pending"

    status, body = server.fail(ami, "disk image is corrupt")
    assert status == 200, body

    started = time.monotonic()
    with pytest.raises(WaiterError) as caught:
        ec2.get_waiter("image_available").wait(ImageIds=[ami], WaiterConfig=WAITER)
    assert time.monotonic() - started < 5, "the failure acceptor should stop the waiter at once"
    assert caught.value.last_response["Images"][0]["State"] == "failed"

    [image] = ec2.describe_images(ImageIds=[ami])["Images"]
    assert image["State"] == "failed"
    assert image["StateReason"] == {"Code": "Server.InternalError", "Message": "disk image is corrupt"}
    failed = ec2.describe_images(Owners=["self"], Filters=[{"Name": "state", "Values": ["failed"]}])["Images"]
    assert ids_of(failed) == [ami]

    # Only pending resources can be failed.
    assert server.fail(ami)[0] == 409
    assert server.fail("ami-0123456789abcdef0")[0] == 409


def test_forced_snapshot_failure_fails_the_waiter(start_server):
    server = start_server("--snapshot-pending-ms", "600000")
    ec2 = make_client(server.url)
    volume = ec2.create_volume(AvailabilityZone="us-east-1a", Size=8)
    snap = ec2.create_snapshot(VolumeId=volume["VolumeId"])["SnapshotId"]
    assert server.fail(snap, "volume read error")[0] == 200
    with pytest.raises(WaiterError) as caught:
        ec2.get_waiter("snapshot_completed").wait(SnapshotIds=[snap], WaiterConfig=WAITER)
    assert caught.value.last_response["Snapshots"][0]["State"] == "error"
    [snapshot] = ec2.describe_snapshots(SnapshotIds=[snap])["Snapshots"]
    assert snapshot["State"] == "error"
    assert snapshot["StateMessage"] == "volume read error"


def test_paginator_yields_each_image_once(ec2):
    snap = make_snapshot(ec2)
    registered = {register(ec2, f"paged-{i:02d}", snap) for i in range(12)}
    pages = list(ec2.get_paginator("describe_images").paginate(Owners=["self"], PaginationConfig={"PageSize": 5}))
    assert [len(page["Images"]) for page in pages] == [5, 5, 2]
    seen = [image["ImageId"] for page in pages for image in page["Images"]]
    assert len(seen) == len(set(seen)) == 12
    assert set(seen) == registered
    assert "NextToken" not in pages[-1]


def test_launch_permissions_across_accounts(client_factory):
    owner = client_factory(access_key="111111111111")
    friend = client_factory(access_key="222222222222")
    stranger = client_factory(access_key="333333333333")

    ami = register(owner, "shared-golden", make_snapshot(owner))
    owner.get_waiter("image_available").wait(ImageIds=[ami], WaiterConfig=WAITER)
    expect_error("InvalidAMIID.NotFound", friend.describe_images, ImageIds=[ami])

    owner.modify_image_attribute(ImageId=ami, LaunchPermission={"Add": [{"UserId": "222222222222"}]})
    assert owner.describe_image_attribute(ImageId=ami, Attribute="launchPermission")["LaunchPermissions"] == [
        {"UserId": "222222222222"}
    ]

    shared = friend.describe_images(ExecutableUsers=["self"])["Images"]
    assert ids_of(shared) == [ami]
    assert (shared[0]["OwnerId"], shared[0]["Public"], shared[0]["Name"]) == ("111111111111", False, "shared-golden")
    assert ids_of(friend.describe_images(ImageIds=[ami])["Images"]) == [ami]
    assert ids_of(friend.describe_images(Owners=["111111111111"])["Images"]) == [ami]
    assert friend.describe_images(Owners=["self"])["Images"] == []
    # Being allowed to launch it is not owning it.
    expect_error(
        "AuthFailure", friend.modify_image_attribute, ImageId=ami, LaunchPermission={"Add": [{"UserId": "333333333333"}]}
    )

    expect_error("InvalidAMIID.NotFound", stranger.describe_images, ImageIds=[ami])
    assert stranger.describe_images(ExecutableUsers=["self"])["Images"] == []
    assert stranger.describe_images(Owners=["111111111111"])["Images"] == []

    owner.modify_image_attribute(ImageId=ami, LaunchPermission={"Remove": [{"UserId": "222222222222"}]})
    assert friend.describe_images(ExecutableUsers=["self"])["Images"] == []
    expect_error("InvalidAMIID.NotFound", friend.describe_images, ImageIds=[ami])


def test_regions_are_isolated(client_factory):
    east = client_factory(region="us-east-1")
    west = client_factory(region="eu-west-1")
    zones = west.describe_availability_zones()["AvailabilityZones"]
    assert zones and {z["RegionName"] for z in zones} == {"eu-west-1"}

    snap = make_snapshot(east)
    ami = register(east, "regional", snap)
    expect_error("InvalidAMIID.NotFound", west.describe_images, ImageIds=[ami])
    expect_error("InvalidSnapshot.NotFound", west.describe_snapshots, SnapshotIds=[snap])
    assert west.describe_images(Owners=["self"])["Images"] == []
    assert west.describe_snapshots(OwnerIds=["self"])["Snapshots"] == []

    # Names are unique per region only.
    west_ami = register(west, "regional", make_snapshot(west))
    assert west_ami != ami
    assert ids_of(east.describe_images(Owners=["self"])["Images"]) == [ami]
    assert ids_of(west.describe_images(Owners=["self"])["Images"]) == [west_ami]


def test_copy_snapshot_to_another_region(client_factory):
    east = client_factory(region="us-east-1")
    west = client_factory(region="us-west-2")
    source = make_snapshot(east, size=12)

    copy = west.copy_snapshot(SourceRegion="us-east-1", SourceSnapshotId=source, Description="dr copy")["SnapshotId"]
    assert copy.startswith("snap-") and copy != source
    west.get_waiter("snapshot_completed").wait(SnapshotIds=[copy], WaiterConfig=WAITER)

    [copied] = west.describe_snapshots(SnapshotIds=[copy])["Snapshots"]
    assert (copied["State"], copied["VolumeSize"], copied["Description"]) == ("completed", 12, "dr copy")
    assert copied["OwnerId"] == "000000000000"
    assert [s["SnapshotId"] for s in west.describe_snapshots(OwnerIds=["self"])["Snapshots"]] == [copy]
    assert [s["SnapshotId"] for s in east.describe_snapshots(OwnerIds=["self"])["Snapshots"]] == [source]
    expect_error("InvalidSnapshot.NotFound", east.describe_snapshots, SnapshotIds=[copy])
    expect_error("InvalidSnapshot.NotFound", west.describe_snapshots, SnapshotIds=[source])

    # The copy is usable in its region.
    ami = register(west, "from-copy", copy)
    west.get_waiter("image_available").wait(ImageIds=[ami], WaiterConfig=WAITER)
    [image] = west.describe_images(ImageIds=[ami])["Images"]
    assert image["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"] == copy


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_state_survives_restart(server, sig):
    ec2 = make_client(server.url)
    snap = make_snapshot(ec2, size=9)
    ami = register(ec2, "durable", snap, Description="first")
    ec2.get_waiter("image_available").wait(ImageIds=[ami], WaiterConfig=WAITER)
    retired = register(ec2, "retired", snap)
    ec2.deregister_image(ImageId=retired)
    ec2.modify_image_attribute(ImageId=ami, LaunchPermission={"Add": [{"UserId": "123456789012"}]})
    ec2.modify_image_attribute(ImageId=ami, Description={"Value": "kept across restarts"})
    ec2.modify_snapshot_attribute(
        SnapshotId=snap, Attribute="createVolumePermission", OperationType="add", UserIds=["444455556666"]
    )
    # The last write lands right before the signal.
    ec2.create_tags(Resources=[ami, snap], Tags=[{"Key": "keep", "Value": "yes"}])

    images_before = ec2.describe_images(Owners=["self"])["Images"]
    snapshots_before = ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]
    volumes_before = ec2.describe_volumes()["Volumes"]
    tags_before = ec2.describe_tags()["Tags"]

    status = server.stop(sig)
    assert status == (0 if sig == signal.SIGTERM else -signal.SIGKILL)
    assert (server.data_dir / "ec2lite.db").is_file()
    server.start()
    ec2 = make_client(server.url)

    assert ec2.describe_images(Owners=["self"])["Images"] == images_before
    assert ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"] == snapshots_before
    assert ec2.describe_volumes()["Volumes"] == volumes_before
    assert sorted(ec2.describe_tags()["Tags"], key=str) == sorted(tags_before, key=str)

    [image] = ec2.describe_images(ImageIds=[ami])["Images"]
    assert (image["State"], image["Name"], image["Description"]) == ("available", "durable", "kept across restarts")
    assert image["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"] == snap
    assert tag_dict(image["Tags"]) == {"keep": "yes"}
    assert ec2.describe_image_attribute(ImageId=ami, Attribute="launchPermission")["LaunchPermissions"] == [
        {"UserId": "123456789012"}
    ]
    grantee = make_client(server.url, access_key="123456789012")
    assert ids_of(grantee.describe_images(ExecutableUsers=["self"])["Images"]) == [ami]
    assert ec2.describe_images(ImageIds=[retired])["Images"] == []

    [snapshot] = ec2.describe_snapshots(SnapshotIds=[snap])["Snapshots"]
    assert (snapshot["State"], snapshot["VolumeSize"]) == ("completed", 9)
    assert tag_dict(snapshot["Tags"]) == {"keep": "yes"}
    volume_permissions = ec2.describe_snapshot_attribute(SnapshotId=snap, Attribute="createVolumePermission")
    assert volume_permissions["CreateVolumePermissions"] == [{"UserId": "444455556666"}]

    # Constraints still hold on the reopened store.
    expect_error("InvalidSnapshot.InUse", ec2.delete_snapshot, SnapshotId=snap)
    expect_error(
        "InvalidAMIName.Duplicate",
        ec2.register_image,
        Name="durable",
        RootDeviceName="/dev/xvda",
        BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": snap}}],
    )


def test_health_and_reset(server, ec2):
    status, body = server.admin("GET", "/_ec2lite/health")
    assert status == 200 and body["status"] == "ok" and body["version"]
    make_snapshot(ec2)
    assert len(ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]) == 1
    assert server.admin("POST", "/_ec2lite/reset") == (200, {"status": "reset"})
    assert ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"] == []
    assert ec2.describe_volumes()["Volumes"] == []
