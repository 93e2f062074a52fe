"""Packer's amazon-ebs builder (Debian's packer 1.6.6) building against ec2lite: a catalog
source AMI found by `source_ami_filter`, a temporary key pair and security group, an
instance launched, stopped, imaged and terminated; copies to other regions, sharing,
tags in every region, an encrypted boot volume, block-device mappings, and a second
build with the same name that replaces the first. Every result is checked with boto3,
and nothing temporary may be left behind.

Run as their own step of scripts/test.sh (`pytest -m packer`), which installs packer;
without the binary these tests skip, unless EC2LITE_REQUIRE_PACKER=1 (set in CI)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from support import make_client

pytestmark = pytest.mark.packer

OTHER = "111111111111"
SOURCE_NAME = "al2023-ami-2023.*-kernel-6.1-x86_64"


@pytest.fixture
def packer() -> str:
    binary = shutil.which("packer")
    if binary is None:
        if os.environ.get("EC2LITE_REQUIRE_PACKER") == "1":
            pytest.fail("packer is not installed (scripts/test.sh installs Debian's packer)")
        pytest.skip("packer is not installed")
    return binary


def builder(endpoint: str, **settings) -> dict:
    """An amazon-ebs builder pointed at ec2lite with what an emulator needs."""
    return {
        "type": "amazon-ebs",
        "region": "us-east-1",
        "access_key": "test",
        "secret_key": "test",
        "custom_endpoint_ec2": endpoint,
        "skip_region_validation": True,
        "skip_metadata_api_check": True,
        "skip_credential_validation": True,
        "communicator": "none",
        "source_ami_filter": {
            "filters": {"name": SOURCE_NAME, "root-device-type": "ebs", "virtualization-type": "hvm"},
            "owners": ["amazon"],
            "most_recent": True,
        },
        "instance_type": "t3.micro",
        **settings,
    }


def build(packer: str, tmp_path: Path, *builders: dict) -> str:
    template = tmp_path / "build.json"
    template.write_text(json.dumps({"builders": list(builders)}))
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "CHECKPOINT_DISABLE": "1",
        "PACKER_CACHE_DIR": str(tmp_path / "cache"),
        # aws-sdk-go's waiters poll every 15 s by default.
        "AWS_POLL_DELAY_SECONDS": "1",
        "AWS_MAX_ATTEMPTS": "120",
    }
    done = subprocess.run([packer, "build", "-color=false", str(template)], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def tags_of(resource: dict) -> dict:
    return {t["Key"]: t["Value"] for t in resource.get("Tags", [])}


def image_named(ec2, name: str) -> dict:
    [image] = ec2.describe_images(Owners=["self"], Filters=[{"Name": "name", "Values": [name]}])["Images"]
    return image


def root_snapshot(ec2, image: dict) -> dict:
    root = next(m for m in image["BlockDeviceMappings"] if m["DeviceName"] == image["RootDeviceName"])
    return ec2.describe_snapshots(SnapshotIds=[root["Ebs"]["SnapshotId"]])["Snapshots"][0]


def assert_nothing_left_behind(ec2):
    assert ec2.describe_key_pairs()["KeyPairs"] == []
    groups = ec2.describe_security_groups()["SecurityGroups"]
    assert [g["GroupName"] for g in groups] == ["default"]
    assert ec2.describe_volumes()["Volumes"] == []
    running = ec2.describe_instances(Filters=[{"Name": "instance-state-name",
                                               "Values": ["pending", "running", "stopping", "stopped"]}])
    assert running["Reservations"] == []


def test_packer_builds_shares_and_copies_an_ami(packer, tmp_path, server):
    name = "packer-shared-1"
    out = build(packer, tmp_path, builder(
        server.url,
        ami_name=name,
        ami_description="built by packer",
        ami_regions=["us-west-2", "eu-west-1"],
        ami_users=[OTHER],
        ami_groups=["all"],
        snapshot_users=[OTHER],
        tags={"os": "al2023", "built-by": "packer"},
        snapshot_tags={"kind": "root"},
        run_tags={"purpose": "build"},
    ))
    assert "AMIs were created" in out

    east = make_client(server.url)
    candidates = east.describe_images(Owners=["amazon"], Filters=[{"Name": "name", "Values": [SOURCE_NAME]}])
    newest = max(candidates["Images"], key=lambda i: i["CreationDate"])
    for region in ["us-east-1", "us-west-2", "eu-west-1"]:
        ec2 = make_client(server.url, region=region)
        image = image_named(ec2, name)
        assert image["State"] == "available" and image["Description"] == "built by packer"
        assert image["Public"] is True
        assert tags_of(image) == {"os": "al2023", "built-by": "packer"}
        permissions = ec2.describe_image_attribute(ImageId=image["ImageId"], Attribute="launchPermission")
        assert {"UserId": OTHER} in permissions["LaunchPermissions"]
        assert {"Group": "all"} in permissions["LaunchPermissions"]
        snapshot = root_snapshot(ec2, image)
        # Packer tags snapshots with the AMI's tags, then its snapshot_tags.
        assert tags_of(snapshot) == {"os": "al2023", "built-by": "packer", "kind": "root"}
        volume_permissions = ec2.describe_snapshot_attribute(SnapshotId=snapshot["SnapshotId"],
                                                             Attribute="createVolumePermission")
        assert volume_permissions["CreateVolumePermissions"] == [{"UserId": OTHER}]
        # The other account sees and may launch every copy.
        other = make_client(server.url, region=region, access_key=OTHER)
        assert other.describe_images(ImageIds=[image["ImageId"]])["Images"][0]["Name"] == name
        assert_nothing_left_behind(ec2)

    # The build instance carried the run tags, came from the catalog image, and is gone.
    found = east.describe_instances(Filters=[{"Name": "tag:purpose", "Values": ["build"]}])["Reservations"]
    [instance] = [i for r in found for i in r["Instances"]]
    assert instance["State"]["Name"] == "terminated"
    assert instance["ImageId"] == newest["ImageId"]


def test_packer_encrypted_boot_with_mappings_then_forced_rebuild(packer, tmp_path, server):
    name = "packer-encrypted"
    settings = dict(
        ami_name=name,
        encrypt_boot=True,
        launch_block_device_mappings=[
            {"device_name": "/dev/xvda", "volume_size": 12, "volume_type": "gp3", "iops": 3000, "throughput": 125,
             "delete_on_termination": True},
            {"device_name": "/dev/sdb", "volume_size": 4, "volume_type": "gp2", "delete_on_termination": True},
        ],
        ami_block_device_mappings=[{"device_name": "/dev/sdc", "virtual_name": "ephemeral0"}],
        tags={"generation": "1"},
    )
    (tmp_path / "first").mkdir()
    build(packer, tmp_path / "first", builder(server.url, **settings))
    ec2 = make_client(server.url)
    first = image_named(ec2, name)
    devices = {m["DeviceName"]: m for m in first["BlockDeviceMappings"]}
    assert devices["/dev/xvda"]["Ebs"]["VolumeSize"] == 12 and devices["/dev/xvda"]["Ebs"]["Encrypted"] is True
    assert devices["/dev/sdb"]["Ebs"]["VolumeSize"] == 4
    assert devices["/dev/sdc"]["VirtualName"] == "ephemeral0"
    assert root_snapshot(ec2, first)["Encrypted"] is True
    first_snapshots = [m["Ebs"]["SnapshotId"] for m in first["BlockDeviceMappings"] if "Ebs" in m]
    # The unencrypted intermediate image was deregistered, its snapshots deleted.
    assert [i["Name"] for i in ec2.describe_images(Owners=["self"])["Images"]] == [name]
    assert all(s["Encrypted"] for s in ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"])
    assert_nothing_left_behind(ec2)

    # The same name again: force_deregister + force_delete_snapshot replace the first.
    settings.update(force_deregister=True, force_delete_snapshot=True, tags={"generation": "2"})
    (tmp_path / "second").mkdir()
    build(packer, tmp_path / "second", builder(server.url, **settings))
    second = image_named(ec2, name)
    assert second["ImageId"] != first["ImageId"] and tags_of(second) == {"generation": "2"}
    remaining = {s["SnapshotId"] for s in ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]}
    assert remaining.isdisjoint(first_snapshots)
    assert_nothing_left_behind(ec2)
