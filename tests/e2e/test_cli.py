"""aws-cli (v1, pinned) against ec2lite: the commands people type, with real assertions on
their JSON output, exit status and error codes."""

from __future__ import annotations

import uuid

from support import make_client, make_snapshot, register

BDM_ROOT = "DeviceName=/dev/xvda,Ebs={{SnapshotId={snap},VolumeType=gp3}}"


def image_ids(images: list[dict]) -> list[str]:
    return [image["ImageId"] for image in images]


def test_ami_lifecycle(aws, ec2, server):
    prefix = f"e2e-cli-{uuid.uuid4().hex[:8]}"

    volume = aws.ok("create-volume", "--availability-zone", "us-east-1a", "--size", "8", "--volume-type", "gp3")
    assert volume["VolumeId"].startswith("vol-")
    assert (volume["Size"], volume["AvailabilityZone"], volume["VolumeType"]) == (8, "us-east-1a", "gp3")
    assert volume["State"] == "creating"

    snapshot = aws.ok("create-snapshot", "--volume-id", volume["VolumeId"], "--description", "root of " + prefix)
    snap = snapshot["SnapshotId"]
    assert snap.startswith("snap-")
    assert (snapshot["VolumeId"], snapshot["VolumeSize"], snapshot["State"]) == (volume["VolumeId"], 8, "pending")

    assert aws.ok("wait", "snapshot-completed", "--snapshot-ids", snap) is None
    [described] = aws.ok("describe-snapshots", "--snapshot-ids", snap)["Snapshots"]
    assert described["State"] == "completed"
    assert described["Progress"] == "100%"
    assert described["Description"] == "root of " + prefix
    assert described["OwnerId"] == "000000000000"

    registered = aws.ok(
        "register-image",
        "--name", f"{prefix}-root",
        "--description", "built by the e2e suite",
        "--root-device-name", "/dev/xvda",
        "--block-device-mappings", BDM_ROOT.format(snap=snap),
        "--architecture", "x86_64",
        "--virtualization-type", "hvm",
        "--ena-support",
    )  # fmt: skip
    ami = registered["ImageId"]
    assert ami.startswith("ami-")

    # Decoys the owner/name filters must leave out: another name of ours, and the same
    # prefix owned by another account.
    decoy = register(ec2, f"other-{prefix}", snap)
    other_account = make_client(server.url, access_key="111111111111")
    register(other_account, f"{prefix}-foreign", make_snapshot(other_account))

    assert aws.ok("wait", "image-available", "--image-ids", ami) is None

    found = aws.ok("describe-images", "--owners", "self", "--filters", f"Name=name,Values={prefix}*")["Images"]
    assert image_ids(found) == [ami]
    [image] = found
    assert image["Name"] == f"{prefix}-root"
    assert image["State"] == "available"
    assert image["Public"] is False
    assert image["OwnerId"] == "000000000000"
    assert image["Architecture"] == "x86_64"
    assert image["VirtualizationType"] == "hvm"
    assert image["RootDeviceName"] == "/dev/xvda"
    assert image["RootDeviceType"] == "ebs"
    assert image["EnaSupport"] is True
    assert image["Description"] == "built by the e2e suite"
    [mapping] = image["BlockDeviceMappings"]
    assert mapping["DeviceName"] == "/dev/xvda"
    assert mapping["Ebs"]["SnapshotId"] == snap
    assert mapping["Ebs"]["VolumeType"] == "gp3"
    assert mapping["Ebs"]["VolumeSize"] == 8

    # Launch permissions.
    assert (
        aws.ok("modify-image-attribute", "--image-id", ami, "--launch-permission", "Add=[{UserId=123456789012}]")
        is None
    )
    permissions = aws.ok("describe-image-attribute", "--image-id", ami, "--attribute", "launchPermission")
    assert permissions["ImageId"] == ami
    assert permissions["LaunchPermissions"] == [{"UserId": "123456789012"}]

    # Description.
    aws.ok("modify-image-attribute", "--image-id", ami, "--description", "Value=second edition")
    description = aws.ok("describe-image-attribute", "--image-id", ami, "--attribute", "description")
    assert description["Description"] == {"Value": "second edition"}

    # Tags.
    assert aws.ok("create-tags", "--resources", ami, "--tags", "Key=team,Value=platform", f"Key=Name,Value={prefix}") is None
    tags = aws.ok("describe-tags", "--filters", f"Name=resource-id,Values={ami}")["Tags"]
    assert sorted(tags, key=lambda t: t["Key"]) == [
        {"Key": "Name", "ResourceId": ami, "ResourceType": "image", "Value": prefix},
        {"Key": "team", "ResourceId": ami, "ResourceType": "image", "Value": "platform"},
    ]
    # Tags and the new description show in DescribeImages, and tag filters select on them.
    tagged = aws.ok("describe-images", "--owners", "self", "--filters", "Name=tag:team,Values=platform")["Images"]
    assert image_ids(tagged) == [ami]
    assert tagged[0]["Description"] == "second edition"
    assert {t["Key"]: t["Value"] for t in tagged[0]["Tags"]} == {"team": "platform", "Name": prefix}

    # The snapshot backs two images: it cannot be deleted.
    stderr = aws.err("delete-snapshot", "--snapshot-id", snap)
    assert "InvalidSnapshot.InUse" in stderr

    # Names are unique per owner and region.
    stderr = aws.err(
        "register-image",
        "--name", f"{prefix}-root",
        "--root-device-name", "/dev/xvda",
        "--block-device-mappings", BDM_ROOT.format(snap=snap),
        "--architecture", "x86_64",
        "--virtualization-type", "hvm",
    )  # fmt: skip
    assert "InvalidAMIName.Duplicate" in stderr

    assert aws.ok("deregister-image", "--image-id", ami) == {"Return": True}
    assert aws.ok("describe-images", "--image-ids", ami) == {"Images": []}

    # Once no image uses it, the snapshot can go.
    ec2.deregister_image(ImageId=decoy)
    assert aws.ok("delete-snapshot", "--snapshot-id", snap) is None
    assert "(InvalidSnapshot.NotFound)" in aws.err("describe-snapshots", "--snapshot-ids", snap)


def test_describe_images_unknown_and_malformed_ids(aws):
    stderr = aws.err("describe-images", "--image-ids", "ami-0123456789abcdef0")
    assert "(InvalidAMIID.NotFound)" in stderr
    assert "ami-0123456789abcdef0" in stderr

    for bad in ["ami-xyz", "not-an-image"]:
        stderr = aws.err("describe-images", "--image-ids", bad)
        assert "(InvalidAMIID.Malformed)" in stderr, (bad, stderr)


def test_dry_run_create_volume_creates_nothing(aws):
    aws.ok("create-volume", "--availability-zone", "us-east-1a", "--size", "4")
    before = aws.ok("describe-volumes")["Volumes"]
    assert len(before) == 1

    stderr = aws.err("create-volume", "--availability-zone", "us-east-1a", "--size", "4", "--dry-run")
    assert "(DryRunOperation)" in stderr
    assert "Request would have succeeded" in stderr

    after = aws.ok("describe-volumes")["Volumes"]
    assert [v["VolumeId"] for v in after] == [v["VolumeId"] for v in before]


def test_describe_images_auto_paginates(aws, ec2, server):
    snap = make_snapshot(ec2)
    mine = {register(ec2, f"page-{i:02d}", snap) for i in range(12)}
    # Someone else's image must not show up under --owners self.
    other = make_client(server.url, access_key="222222222222")
    register(other, "page-foreign", make_snapshot(other))

    # With --page-size the CLI sends MaxResults=5 and follows nextToken to the end.
    paged = image_ids(aws.ok("describe-images", "--owners", "self", "--page-size", "5")["Images"])
    assert len(paged) == 12
    assert sorted(paged) == sorted(mine)

    # The server really pages: a first page of 5 hands back a token, which resumes.
    first = aws.ok("describe-images", "--owners", "self", "--page-size", "5", "--max-items", "5")
    assert len(first["Images"]) == 5
    assert first.get("NextToken")
    rest = aws.ok(
        "describe-images", "--owners", "self", "--page-size", "5", "--starting-token", first["NextToken"]
    )
    assert "NextToken" not in rest
    combined = image_ids(first["Images"]) + image_ids(rest["Images"])
    assert len(combined) == 12
    assert sorted(combined) == sorted(mine)


def test_describe_images_page_size_below_minimum_is_refused(aws, ec2):
    # EC2 refuses MaxResults below 5 on its paginated Describe calls with this exact
    # message; ec2lite applies the same floor to DescribeImages (see README/digest).
    snap = make_snapshot(ec2)
    for i in range(5):
        register(ec2, f"small-page-{i}", snap)
    stderr = aws.err("describe-images", "--owners", "self", "--page-size", "2")
    assert "(InvalidParameterValue)" in stderr
    assert "Value ( 2 ) for parameter maxResults is invalid" in stderr
