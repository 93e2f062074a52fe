"""Conventions for people coming from moto and LocalStack: `POST /moto-api/reset` (what
moto's server-mode fixtures call) and `--default-account` (LocalStack's 000000000000 by
default, moto's 123456789012 on request)."""

from __future__ import annotations

import subprocess

from support import ec2lite_bin, make_client


def test_moto_reset_alias_wipes_every_account(server, ec2, client_factory):
    ec2.create_volume(AvailabilityZone="us-east-1a", Size=1)
    client_factory(access_key="111111111111").create_key_pair(KeyName="k")
    status, body = server.admin("POST", "/moto-api/reset")
    assert (status, body) == (200, {"status": "reset"})
    assert ec2.describe_volumes()["Volumes"] == []
    assert client_factory(access_key="111111111111").describe_key_pairs()["KeyPairs"] == []
    # The default network and the catalog come back on first use.
    assert ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"]
    assert ec2.describe_images(Owners=["amazon"], MaxResults=5)["Images"]


def test_default_account_is_configurable(start_server):
    server = start_server("--default-account", "123456789012")
    ec2 = make_client(server.url)  # access key "test"
    volume = ec2.create_volume(AvailabilityZone="us-east-1a", Size=1)
    assert ec2.describe_volumes(VolumeIds=[volume["VolumeId"]])["Volumes"][0]["VolumeId"] == volume["VolumeId"]
    group = ec2.describe_security_groups(GroupNames=["default"])["SecurityGroups"][0]
    assert group["OwnerId"] == "123456789012"
    # A 12-digit key is still its own account.
    other = make_client(server.url, access_key="111111111111")
    assert other.describe_security_groups(GroupNames=["default"])["SecurityGroups"][0]["OwnerId"] == "111111111111"


def test_a_malformed_default_account_stops_start_up(tmp_path):
    done = subprocess.run([str(ec2lite_bin()), "--listen", "127.0.0.1:0", "--data-dir", str(tmp_path),
                           "--default-account", "moto"], capture_output=True, text=True, timeout=30)
    assert done.returncode != 0
    assert "--default-account 'moto' is not 12 digits" in done.stderr
