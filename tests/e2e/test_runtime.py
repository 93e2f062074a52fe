"""Instances that really run (`--runtime podman`): a container per instance, reachable
over SSH on its loopback public IP with the key pair's key.

Needs rootful podman with runc and the base root filesystem of
scripts/runtime-rootfs.sh. Skipped (with the reason) only where podman cannot run at
all; with EC2LITE_REQUIRE_RUNTIME=1 that fails instead.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

import boto3
from botocore.config import Config

from support import DEFAULT_REGION, WAITER, make_client

pytestmark = pytest.mark.runtime

ROOTFS = Path(os.environ.get("EC2LITE_RUNTIME_ROOTFS", "/root/.cache/ec2lite-ci/runtime/current"))
AL2023 = "al2023-ami-2023.*-kernel-6.1-x86_64"


def podman_problem() -> str | None:
    """Why podman cannot run containers here, or None."""
    if shutil.which("podman") is None:
        return "podman is not installed"
    probe = subprocess.run(["podman", "--runtime", "runc", "info"], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"`podman --runtime runc info` fails: {probe.stderr.strip()[:300]}"
    return None


@pytest.fixture
def runtime_server(start_server):
    server = start_runtime(start_server)
    yield server
    # Every container and instance directory goes with a reset.
    assert server.admin("POST", "/_ec2lite/reset")[0] == 200


def start_runtime(start_server, *extra: str):
    """A server with --runtime podman, or the test skips (fails under EC2LITE_REQUIRE_RUNTIME=1)."""
    problem = podman_problem()
    if problem:
        message = f"the podman runtime cannot run here: {problem}"
        if os.environ.get("EC2LITE_REQUIRE_RUNTIME") == "1":
            pytest.fail(message + " (EC2LITE_REQUIRE_RUNTIME=1)", pytrace=False)
        pytest.skip(message)
    if not (ROOTFS / "usr/sbin/sshd").exists():
        pytest.fail(f"no base root filesystem at {ROOTFS}: run scripts/runtime-rootfs.sh", pytrace=False)
    return start_server("--runtime", "podman", "--runtime-rootfs", str(ROOTFS), *extra)


def containers_of(instance_id: str) -> list[str]:
    out = subprocess.run(
        ["podman", "--runtime", "runc", "ps", "--all", "--filter", f"label=ec2lite.instance={instance_id}",
         "--format", "{{.Names}}"],
        capture_output=True, text=True, check=True,
    )
    return out.stdout.split()


def latest_image(ec2, pattern: str) -> str:
    images = ec2.describe_images(Owners=["amazon"], Filters=[{"Name": "name", "Values": [pattern]}])["Images"]
    return max(images, key=lambda i: i["CreationDate"])["ImageId"]


def ssh(key: Path, user: str, ip: str, command: str) -> str:
    result = subprocess.run(
        ["ssh", "-i", str(key), "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
         "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10",
         f"{user}@{ip}", command],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, f"ssh {user}@{ip} {command!r}: {result.stderr}"
    return result.stdout


def ssh_eventually(key: Path, user: str, ip: str, command: str, expected: str, why: str, limit: float = 30) -> None:
    """Retries `command` over SSH until it prints `expected` (an instance coming back up)."""
    deadline = time.monotonic() + limit
    while True:
        try:
            assert ssh(key, user, ip, command) == expected
            return
        except AssertionError:
            assert time.monotonic() < deadline, why
            time.sleep(0.5)


def launch(ec2, tmp_path: Path, image_id: str, key_name: str = "runtime-key", **run) -> tuple[str, str, Path]:
    """Runs one instance (RunInstances with `run` besides) with a new key pair and waits
    until it runs; (id, public ip, key file)."""
    key = tmp_path / f"{key_name}.pem"
    key.write_text(ec2.create_key_pair(KeyName=key_name)["KeyMaterial"])
    key.chmod(0o600)
    started = time.monotonic()
    instance_id = ec2.run_instances(ImageId=image_id, InstanceType="t3.micro", KeyName=key_name,
                                    MinCount=1, MaxCount=1, **run)["Instances"][0]["InstanceId"]
    ec2.get_waiter("instance_running").wait(InstanceIds=[instance_id], WaiterConfig=WAITER)
    instance = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
    print(f"{instance_id}: running {time.monotonic() - started:.2f}s after RunInstances")
    return instance_id, instance["PublicIpAddress"], key


def test_an_instance_runs_and_answers_over_ssh(runtime_server, tmp_path):
    ec2 = make_client(runtime_server.url)
    instance_id, ip, key = launch(ec2, tmp_path, latest_image(ec2, AL2023))
    assert ip.startswith("127.0.100.")
    assert containers_of(instance_id) == [f"ec2lite-{instance_id}"]

    assert ssh(key, "ec2-user", ip, "echo hello from $(whoami); sudo id -u") == "hello from ec2-user\n0\n"

    ec2.terminate_instances(InstanceIds=[instance_id])
    ec2.get_waiter("instance_terminated").wait(InstanceIds=[instance_id], WaiterConfig=WAITER)
    deadline = time.monotonic() + 30
    # The container goes first, then its files.
    while (containers_of(instance_id) or (runtime_server.data_dir / "machines" / instance_id).exists()) \
            and time.monotonic() < deadline:
        time.sleep(0.2)
    assert containers_of(instance_id) == []
    assert not (runtime_server.data_dir / "machines" / instance_id).exists()


def test_stop_start_and_reboot_map_to_the_container(runtime_server, tmp_path):
    ec2 = make_client(runtime_server.url)
    instance_id, ip, key = launch(ec2, tmp_path, latest_image(ec2, AL2023))
    ssh(key, "ec2-user", ip, "echo kept > ~/note")

    ec2.stop_instances(InstanceIds=[instance_id])
    ec2.get_waiter("instance_stopped").wait(InstanceIds=[instance_id], WaiterConfig=WAITER)
    deadline = time.monotonic() + 30
    while subprocess.run(["bash", "-c", f"exec 3<>/dev/tcp/{ip}/22"], capture_output=True).returncode == 0:
        assert time.monotonic() < deadline, "sshd still answers on a stopped instance"
        time.sleep(0.2)

    ec2.start_instances(InstanceIds=[instance_id])
    ec2.get_waiter("instance_running").wait(InstanceIds=[instance_id], WaiterConfig=WAITER)
    instance = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
    assert instance["PublicIpAddress"] == ip
    assert ssh(key, "ec2-user", ip, "cat ~/note") == "kept\n"

    ec2.reboot_instances(InstanceIds=[instance_id])
    time.sleep(1)
    ssh_eventually(key, "ec2-user", ip, "cat ~/note", "kept\n", "no SSH after a reboot")


def test_containers_are_found_again_after_a_restart(runtime_server, tmp_path):
    ec2 = make_client(runtime_server.url)
    instance_id, ip, key = launch(ec2, tmp_path, latest_image(ec2, AL2023))
    ssh(key, "ec2-user", ip, "echo kept > ~/note")
    runtime_server.restart()
    ec2 = make_client(runtime_server.url)
    ec2.get_waiter("instance_running").wait(InstanceIds=[instance_id], WaiterConfig=WAITER)
    assert ssh(key, "ec2-user", ip, "hostname") == f"ip-{ip.replace('.', '-')}\n"

    # A container gone while ec2lite was down (a host reboot) is made again from the files.
    runtime_server.stop()
    subprocess.run(["podman", "--runtime", "runc", "rm", "--force", "--time", "0", f"ec2lite-{instance_id}"],
                   check=True, capture_output=True)
    runtime_server.start()
    ssh_eventually(key, "ec2-user", ip, "cat ~/note", "kept\n", "the container was not made again", limit=60)


def test_reset_removes_every_container(runtime_server, tmp_path):
    ec2 = make_client(runtime_server.url)
    instance_id, _, _ = launch(ec2, tmp_path, latest_image(ec2, AL2023))
    assert runtime_server.admin("POST", "/_ec2lite/reset")[0] == 200
    assert containers_of(instance_id) == []
    assert not (runtime_server.data_dir / "machines").exists()


def test_without_a_usable_runtime_launches_are_refused(start_server, tmp_path):
    server = start_server("--runtime", "podman", "--runtime-rootfs", str(tmp_path / "no-rootfs"))
    ec2 = make_client(server.url)
    with pytest.raises(ClientError) as refused:
        ec2.run_instances(ImageId=latest_image(ec2, AL2023), InstanceType="t3.micro", MinCount=1, MaxCount=1)
    error = refused.value.response["Error"]
    assert error["Code"] == "InsufficientInstanceCapacity"
    assert "podman runtime" in error["Message"]


def ebs_client(endpoint: str):
    return boto3.session.Session().client(
        "ebs", endpoint_url=endpoint, region_name=DEFAULT_REGION, aws_access_key_id="test",
        aws_secret_access_key="test", config=Config(retries={"mode": "standard", "max_attempts": 1}),
    )


def download_snapshot(endpoint: str, snapshot_id: str, dest: Path) -> int:
    """Writes the snapshot as a raw disk through the EBS direct API; returns its block count."""
    ebs = ebs_client(endpoint)
    params = {"SnapshotId": snapshot_id, "MaxResults": 10000}
    count = 0
    with open(dest, "wb") as disk:
        while True:
            page = ebs.list_snapshot_blocks(**params)
            disk.truncate(page["VolumeSize"] << 30)
            for block in page.get("Blocks", []):
                data = ebs.get_snapshot_block(SnapshotId=snapshot_id, BlockIndex=block["BlockIndex"],
                                              BlockToken=block["BlockToken"])["BlockData"].read()
                disk.seek(block["BlockIndex"] * page["BlockSize"])
                disk.write(data)
                count += 1
            if not page.get("NextToken"):
                return count
            params["NextToken"] = page["NextToken"]


def debugfs_cat(disk: Path, path: str) -> str:
    out = subprocess.run(["debugfs", "-R", f"cat {path}", str(disk)], capture_output=True, text=True, check=True)
    return out.stdout


def coldsnap_download(endpoint: str, snapshot_id: str, dest: Path) -> bool:
    """`coldsnap download` of the snapshot; False (nothing done) when coldsnap is not installed."""
    binary = os.environ.get("EC2LITE_COLDSNAP") or shutil.which("coldsnap")
    if not binary or not Path(binary).is_file():
        return False
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(dest.parent), "AWS_ACCESS_KEY_ID": "test",
           "AWS_SECRET_ACCESS_KEY": "test", "AWS_REGION": DEFAULT_REGION, "AWS_EC2_METADATA_DISABLED": "true"}
    done = subprocess.run([binary, "--endpoint", endpoint, "download", "--no-progress", "--force", snapshot_id,
                           str(dest)], env=env, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    return True


def root_snapshot(ec2, image_id: str) -> str:
    image = ec2.describe_images(ImageIds=[image_id])["Images"][0]
    root = next(m for m in image["BlockDeviceMappings"] if m["DeviceName"] == image["RootDeviceName"])
    return root["Ebs"]["SnapshotId"]


def create_image(ec2, instance_id: str, name: str, **kw) -> str:
    started = time.monotonic()
    image_id = ec2.create_image(InstanceId=instance_id, Name=name, **kw)["ImageId"]
    ec2.get_waiter("image_available").wait(ImageIds=[image_id], WaiterConfig={"Delay": 1, "MaxAttempts": 120})
    print(f"{image_id}: available {time.monotonic() - started:.2f}s after CreateImage")
    return image_id


def test_create_image_captures_the_running_files(runtime_server, tmp_path):
    ec2 = make_client(runtime_server.url)
    instance_id, ip, key = launch(ec2, tmp_path, latest_image(ec2, AL2023))
    ssh(key, "ec2-user", ip, "echo baked-in > ~/marker && sudo install -m 0644 /dev/null /etc/baked && sync")

    image_id = create_image(ec2, instance_id, "captured")
    # With reboot, the instance is back and answering afterwards.
    assert ssh(key, "ec2-user", ip, "cat ~/marker") == "baked-in\n"

    # The snapshot holds the file as ext4 bytes, read back through the EBS direct API.
    disk = tmp_path / "root.img"
    download_snapshot(runtime_server.url, root_snapshot(ec2, image_id), disk)
    assert debugfs_cat(disk, "/home/ec2-user/marker") == "baked-in\n"
    fsck = subprocess.run(["e2fsck", "-fn", str(disk)], capture_output=True, text=True)
    assert fsck.returncode == 0, fsck.stdout + fsck.stderr
    # And through coldsnap, where it is installed (scripts/test.sh sets EC2LITE_COLDSNAP).
    downloaded = tmp_path / "coldsnap.img"
    if coldsnap_download(runtime_server.url, root_snapshot(ec2, image_id), downloaded):
        assert debugfs_cat(downloaded, "/home/ec2-user/marker") == "baked-in\n"

    # A new instance of the image starts with the files, owners and modes.
    second, second_ip, second_key = launch(ec2, tmp_path, image_id, key_name="second-key")
    assert second_ip != ip
    assert ssh(second_key, "ec2-user", second_ip, "cat ~/marker; stat -c %U ~/marker; stat -c %a /usr/bin/sudo; sudo id -u") \
        == "baked-in\nec2-user\n4755\n0\n"


def data_extents(path: Path):
    """(offset, length) of each stretch of a sparse file that holds data."""
    with open(path, "rb") as f:
        fd, end, offset = f.fileno(), os.fstat(f.fileno()).st_size, 0
        while offset < end:
            try:
                start = os.lseek(fd, offset, os.SEEK_DATA)
            except OSError:
                return
            stop = os.lseek(fd, start, os.SEEK_HOLE)
            yield start, stop - start
            offset = stop


def partitioned(whole: Path, dest: Path) -> None:
    """A GPT disk whose one Linux partition, from sector 2048, holds the whole-disk file system `whole`."""
    size = whole.stat().st_size
    with open(dest, "wb") as disk:
        disk.truncate(size + (2 << 20))
    table = f"label: gpt\nstart=2048, size={size // 512}, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4\n"
    subprocess.run(["sfdisk", "--quiet", str(dest)], input=table, text=True, check=True)
    copy_data(whole, dest, 0, size, 1 << 20)


def copy_data(src: Path, dest: Path, start: int, length: int, to: int) -> None:
    """Copies bytes [start, start + length) of sparse `src` to `dest` at `to`, holes left as holes."""
    with open(src, "rb") as inp, open(dest, "r+b" if dest.exists() else "wb") as out:
        for offset, size in data_extents(src):
            lo, hi = max(offset, start), min(offset + size, start + length)
            for at in range(lo, hi, 64 << 20):
                inp.seek(at)
                out.seek(to + at - start)
                out.write(inp.read(min(64 << 20, hi - at)))
        out.truncate(max(out.seek(0, 2), to + length))


def upload_disk(endpoint: str, disk: Path) -> str:
    """The disk's non-zero 512 KiB blocks as a new snapshot, through the EBS direct APIs."""
    from test_ebs import upload
    block = 512 << 10
    blocks = {}
    with open(disk, "rb") as f:
        for offset, length in data_extents(disk):
            for index in range(offset // block, (offset + length + block - 1) // block):
                f.seek(index * block)
                data = f.read(block).ljust(block, b"\0")
                if any(data):
                    blocks[index] = data
    return upload(ebs_client(endpoint), blocks, volume_size=-(-disk.stat().st_size // (1 << 30)))


def test_a_root_disk_with_a_partition_table_boots_and_keeps_it_when_captured(runtime_server, tmp_path):
    ec2 = make_client(runtime_server.url)
    instance_id, ip, key = launch(ec2, tmp_path, latest_image(ec2, AL2023))
    ssh(key, "ec2-user", ip, "echo in-a-partition > ~/marker")
    whole = tmp_path / "whole.img"
    download_snapshot(runtime_server.url, root_snapshot(ec2, create_image(ec2, instance_id, "whole")), whole)
    gpt = tmp_path / "gpt.img"
    partitioned(whole, gpt)
    snapshot_id = upload_disk(runtime_server.url, gpt)
    image_id = ec2.register_image(
        Name="partitioned-root", RootDeviceName="/dev/xvda", Architecture="x86_64", VirtualizationType="hvm",
        EnaSupport=True, BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": snapshot_id}}],
    )["ImageId"]
    ec2.get_waiter("image_available").wait(ImageIds=[image_id], WaiterConfig=WAITER)

    second, second_ip, second_key = launch(ec2, tmp_path, image_id, key_name="gpt-key")
    assert ssh(second_key, "ec2-user", second_ip, "cat ~/marker; echo captured-too > ~/second") \
        == "in-a-partition\n"
    # Its capture updates the file system inside the partition: the table stays.
    captured = tmp_path / "captured.img"
    download_snapshot(runtime_server.url, root_snapshot(ec2, create_image(ec2, second, "regpt")), captured)
    with open(captured, "rb") as disk:
        disk.seek(512)
        assert disk.read(8) == b"EFI PART"
    layout = subprocess.run(["sfdisk", "--dump", str(captured)], capture_output=True, text=True, check=True).stdout
    assert "start=        2048" in layout, layout
    copy_data(captured, tmp_path / "partition.img", 1 << 20, whole.stat().st_size, 0)
    assert debugfs_cat(tmp_path / "partition.img", "/home/ec2-user/second") == "captured-too\n"


def recovered_cat(disk: Path, path: str) -> str | None:
    """The file in a crash-consistent disk image after journal recovery (as a mount does); None if absent."""
    subprocess.run(["e2fsck", "-fy", str(disk)], capture_output=True)
    out = subprocess.run(["debugfs", "-R", f"cat {path}", str(disk)], capture_output=True, text=True)
    return out.stdout if "File not found" not in out.stderr else None


def test_no_reboot_leaves_out_what_was_not_synced_and_reboot_keeps_it(runtime_server, tmp_path):
    ec2 = make_client(runtime_server.url)
    instance_id, ip, key = launch(ec2, tmp_path, latest_image(ec2, AL2023))
    ssh(key, "ec2-user", ip, "echo synced > ~/synced && sync && echo unsynced > ~/unsynced")

    live = tmp_path / "live.img"
    download_snapshot(runtime_server.url, root_snapshot(ec2, create_image(ec2, instance_id, "live", NoReboot=True)),
                      live)
    assert recovered_cat(live, "/home/ec2-user/synced") == "synced\n"
    assert recovered_cat(live, "/home/ec2-user/unsynced") is None

    # With reboot the instance shuts down cleanly first: the file system is written back.
    rebooted = tmp_path / "rebooted.img"
    download_snapshot(runtime_server.url, root_snapshot(ec2, create_image(ec2, instance_id, "rebooted")), rebooted)
    fsck = subprocess.run(["e2fsck", "-fn", str(rebooted)], capture_output=True, text=True)
    assert fsck.returncode == 0, fsck.stdout + fsck.stderr
    assert debugfs_cat(rebooted, "/home/ec2-user/unsynced") == "unsynced\n"
    assert ssh(key, "ec2-user", ip, "cat ~/unsynced") == "unsynced\n"


def test_a_data_volume_is_a_block_device_captured_into_the_image(runtime_server, tmp_path):
    ec2 = make_client(runtime_server.url)
    mapping = [{"DeviceName": "/dev/sdb", "Ebs": {"VolumeSize": 1, "DeleteOnTermination": True}}]
    instance_id, ip, key = launch(ec2, tmp_path, latest_image(ec2, AL2023), key_name="data",
                                  BlockDeviceMappings=mapping)
    # 2 MiB into the volume: the start of its fifth 512 KiB block.
    assert ssh(key, "ec2-user", ip, "sudo blockdev --getsize64 /dev/xvdb /dev/sdb") == "1073741824\n1073741824\n"
    ssh(key, "ec2-user", ip, "printf data-volume-bytes | sudo dd of=/dev/xvdb bs=512 seek=4096 conv=notrunc status=none")

    image_id = create_image(ec2, instance_id, "with-data")
    image = ec2.describe_images(ImageIds=[image_id])["Images"][0]
    data = next(m for m in image["BlockDeviceMappings"] if m["DeviceName"] == "/dev/sdb")
    ebs = ebs_client(runtime_server.url)
    blocks = ebs.list_snapshot_blocks(SnapshotId=data["Ebs"]["SnapshotId"])["Blocks"]
    assert [b["BlockIndex"] for b in blocks] == [4]
    block = ebs.get_snapshot_block(SnapshotId=data["Ebs"]["SnapshotId"], BlockIndex=4,
                                   BlockToken=blocks[0]["BlockToken"])["BlockData"].read()
    assert block.startswith(b"data-volume-bytes")

    # An instance of the image gets the volume back with its bytes.
    second, second_ip, second_key = launch(ec2, tmp_path, image_id, key_name="data-second")
    assert ssh(second_key, "ec2-user", second_ip,
               "sudo dd if=/dev/sdb bs=512 skip=4096 count=1 status=none | head -c 17") == "data-volume-bytes"


def test_an_image_differing_by_one_file_shares_its_other_blocks(runtime_server, tmp_path):
    ec2 = make_client(runtime_server.url)
    instance_id, ip, key = launch(ec2, tmp_path, latest_image(ec2, AL2023))
    first = create_image(ec2, instance_id, "first", NoReboot=True)
    ssh(key, "ec2-user", ip, "echo one more file > ~/added && sync")
    second = create_image(ec2, instance_id, "second", NoReboot=True)

    ebs = ebs_client(runtime_server.url)
    a, b = root_snapshot(ec2, first), root_snapshot(ec2, second)
    changed = ebs.list_changed_blocks(FirstSnapshotId=a, SecondSnapshotId=b, MaxResults=10000)
    total = len(ebs.list_snapshot_blocks(SnapshotId=b, MaxResults=10000)["Blocks"])
    differing = len(changed["ChangedBlocks"])
    print(f"second image: {differing} of {total} blocks differ ({differing * changed['BlockSize']} bytes new)")
    assert 0 < differing <= total // 10


def test_user_data_runs_once_at_first_boot_and_shows_on_the_console(runtime_server, tmp_path):
    ec2 = make_client(runtime_server.url)
    script = "#!/bin/bash\necho user-data-ran-as-$(id -un)\necho $((1 + $(cat /root/runs 2>/dev/null || echo 0))) > /root/runs\n"
    instance_id, ip, key = launch(ec2, tmp_path, latest_image(ec2, AL2023), key_name="ud", UserData=script)
    assert "user-data-ran-as-root" in ec2.get_console_output(InstanceId=instance_id)["Output"]

    ec2.reboot_instances(InstanceIds=[instance_id])
    time.sleep(2)
    ec2.get_waiter("instance_running").wait(InstanceIds=[instance_id], WaiterConfig=WAITER)
    ssh_eventually(key, "ec2-user", ip, "sudo cat /root/runs", "1\n", "no SSH after a reboot")


def test_cloud_config_writes_files_and_runs_commands_at_first_boot(runtime_server, tmp_path):
    ec2 = make_client(runtime_server.url)
    config = """#cloud-config
write_files:
  - path: /etc/app/settings.conf
    content: |
      mode=baked
    permissions: '0640'
    owner: ec2-user:ec2-user
runcmd:
  - echo runcmd-ran-as-$(id -un) > /root/runcmd
  - [sh, -c, 'cat /etc/app/settings.conf >> /root/runcmd']
"""
    instance_id, ip, key = launch(ec2, tmp_path, latest_image(ec2, AL2023), key_name="cc", UserData=config)
    assert ssh(key, "ec2-user", ip, "stat -c '%a %U' /etc/app/settings.conf; sudo cat /root/runcmd") == \
        "640 ec2-user\nruncmd-ran-as-root\nmode=baked\n"
    assert "#cloud-config exited with 0" in ec2.get_console_output(InstanceId=instance_id)["Output"]


def test_the_instance_reads_its_metadata_with_an_imdsv2_token(runtime_server, tmp_path):
    ec2 = make_client(runtime_server.url)
    instance_id, ip, key = launch(ec2, tmp_path, latest_image(ec2, AL2023), key_name="imds-key")
    described = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
    imds = "http://169.254.169.254/latest"
    token = f"$(curl -s -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' {imds}/api/token)"
    get = f"curl -s -H \"X-aws-ec2-metadata-token: {token}\""
    paths = ["meta-data/instance-id", "meta-data/ami-id", "meta-data/instance-type",
             "meta-data/placement/availability-zone", "meta-data/local-ipv4", "meta-data/public-ipv4",
             "meta-data/public-keys/0/openssh-key"]
    out = ssh(key, "ec2-user", ip, "; ".join(f"{get} {imds}/{p}; echo" for p in paths))
    public_key = ec2.describe_key_pairs(KeyNames=["imds-key"], IncludePublicKey=True)["KeyPairs"][0]["PublicKey"]
    assert out.split("\n")[:7] == [
        instance_id, described["ImageId"], "t3.micro", described["Placement"]["AvailabilityZone"],
        described["PrivateIpAddress"], ip, public_key.strip(),
    ]
    document = json.loads(ssh(key, "ec2-user", ip, f"{get} {imds}/dynamic/instance-identity/document"))
    assert (document["region"], document["instanceId"]) == (DEFAULT_REGION, instance_id)
    # IMDSv1 (no token) is refused: the instance reports httpTokens=required.
    assert ssh(key, "ec2-user", ip, f"curl -s -o /dev/null -w '%{{http_code}}' {imds}/meta-data/instance-id") == "401"
    assert ssh(key, "ec2-user", ip, f"curl -s -o /dev/null -w '%{{http_code}}' -X PUT {imds}/api/token") == "400"


def register_empty_root(ec2, name: str) -> str:
    """An image named `name` whose 1 GiB root snapshot holds no bytes (no file system)."""
    volume_id = ec2.create_volume(AvailabilityZone=f"{DEFAULT_REGION}a", Size=1)["VolumeId"]
    ec2.get_waiter("volume_available").wait(VolumeIds=[volume_id], WaiterConfig=WAITER)
    snapshot_id = ec2.create_snapshot(VolumeId=volume_id)["SnapshotId"]
    ec2.get_waiter("snapshot_completed").wait(SnapshotIds=[snapshot_id], WaiterConfig=WAITER)
    image_id = ec2.register_image(
        Name=name, RootDeviceName="/dev/xvda", Architecture="x86_64", VirtualizationType="hvm", EnaSupport=True,
        BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": snapshot_id}}],
    )["ImageId"]
    ec2.get_waiter("image_available").wait(ImageIds=[image_id], WaiterConfig=WAITER)
    return image_id


def test_runtime_images_maps_ami_names_to_directories_and_container_images(start_server, tmp_path):
    podman = ["podman", "--runtime", "runc"]
    root = tmp_path / "mapped-root"
    subprocess.run(["cp", "-a", f"{ROOTFS.resolve()}/.", str(root)], check=True)
    (root / "etc/root-origin").write_text("a directory\n")
    image = "localhost/ec2lite-test-root:1"
    (root / "etc/root-origin").write_text("a container image\n")
    tar = subprocess.Popen(["tar", "-C", str(root), "--numeric-owner", "-c", "."], stdout=subprocess.PIPE)
    subprocess.run([*podman, "import", "-", image], stdin=tar.stdout, check=True, capture_output=True)
    assert tar.wait() == 0
    (root / "etc/root-origin").write_text("a directory\n")
    mapping = tmp_path / "runtime-images"
    mapping.write_text(f"# AMI name  root filesystem  login user\nfrom-dir-*  {root}  admin\nfrom-image-*  podman:{image}\n")
    server = start_runtime(start_server, "--runtime-images", str(mapping))
    try:
        ec2 = make_client(server.url)
        from_dir, dir_ip, dir_key = launch(ec2, tmp_path, register_empty_root(ec2, "from-dir-1"), key_name="dir")
        assert ssh(dir_key, "admin", dir_ip, "cat /etc/root-origin") == "a directory\n"
        from_image, image_ip, image_key = launch(ec2, tmp_path, register_empty_root(ec2, "from-image-1"),
                                                 key_name="image")
        assert ssh(image_key, "ec2-user", image_ip, "cat /etc/root-origin") == "a container image\n"
        # Any other image starts from the base root filesystem, which has no such file.
        _, base_ip, base_key = launch(ec2, tmp_path, register_empty_root(ec2, "other"), key_name="base")
        assert ssh(base_key, "ec2-user", base_ip, "cat /etc/root-origin 2>&1 || true").endswith("No such file or directory\n")
    finally:
        assert server.admin("POST", "/_ec2lite/reset")[0] == 200
        subprocess.run([*podman, "rmi", "--force", image], capture_output=True)


def test_console_output_of_an_instance_without_a_container_is_empty(start_server):
    ec2 = make_client(start_server().url)
    instance_id = ec2.run_instances(ImageId=latest_image(ec2, AL2023), InstanceType="t3.micro",
                                    MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    answer = ec2.get_console_output(InstanceId=instance_id)
    assert answer["InstanceId"] == instance_id
    assert "Output" not in answer
    with pytest.raises(ClientError) as missing:
        ec2.get_console_output(InstanceId="i-0123456789abcdef0")
    assert missing.value.response["Error"]["Code"] == "InvalidInstanceID.NotFound"


def local_package(tmp_path: Path) -> Path:
    """A tiny .deb a provisioner installs with dpkg (no network inside the instance)."""
    root = tmp_path / "pkg"
    (root / "DEBIAN").mkdir(parents=True)
    (root / "DEBIAN" / "control").write_text(
        "Package: hello-ec2lite\nVersion: 1.0\nArchitecture: all\n"
        "Maintainer: ec2lite tests <tests@example.invalid>\nDescription: installed by a Packer provisioner\n"
    )
    (root / "usr/share/hello-ec2lite").mkdir(parents=True)
    (root / "usr/share/hello-ec2lite/README").write_text("installed from a local package\n")
    deb = tmp_path / "hello.deb"
    subprocess.run(["dpkg-deb", "--build", str(root), str(deb)], check=True, capture_output=True)
    return deb


def test_packer_bakes_an_ami_with_a_shell_provisioner_over_ssh(runtime_server, tmp_path):
    packer = shutil.which("packer")
    if packer is None:
        if os.environ.get("EC2LITE_REQUIRE_RUNTIME") == "1":
            pytest.fail("packer is not installed (scripts/test.sh installs Debian's packer)", pytrace=False)
        pytest.skip("packer is not installed")
    deb = local_package(tmp_path)
    template = {
        "builders": [{
            "type": "amazon-ebs", "region": "us-east-1", "access_key": "test", "secret_key": "test",
            "custom_endpoint_ec2": runtime_server.url, "skip_region_validation": True,
            "skip_metadata_api_check": True, "skip_credential_validation": True,
            "source_ami_filter": {"filters": {"name": AL2023, "root-device-type": "ebs"},
                                  "owners": ["amazon"], "most_recent": True},
            "instance_type": "t3.micro", "ssh_username": "ec2-user", "ami_name": "baked-{{timestamp}}",
        }],
        "provisioners": [
            {"type": "file", "source": str(deb), "destination": "/tmp/hello.deb"},
            {"type": "shell", "inline": ["echo provisioned | sudo tee /etc/provisioned", "sudo dpkg -i /tmp/hello.deb"]},
        ],
    }
    (tmp_path / "build.json").write_text(json.dumps(template))
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "CHECKPOINT_DISABLE": "1",
           "AWS_POLL_DELAY_SECONDS": "1", "AWS_MAX_ATTEMPTS": "120"}
    started = time.monotonic()
    done = subprocess.run([packer, "build", "-color=false", "build.json"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    print(f"packer build: {time.monotonic() - started:.2f}s")
    ec2 = make_client(runtime_server.url)
    image_id = ec2.describe_images(Owners=["self"])["Images"][0]["ImageId"]

    # The provisioned files are in the snapshot's ext4 bytes.
    disk = tmp_path / "root.img"
    download_snapshot(runtime_server.url, root_snapshot(ec2, image_id), disk)
    assert debugfs_cat(disk, "/etc/provisioned") == "provisioned\n"
    assert debugfs_cat(disk, "/usr/share/hello-ec2lite/README") == "installed from a local package\n"

    # An instance of the image has them, and so has one of its copy in another region.
    _, ip, key = launch(ec2, tmp_path, image_id, key_name="check")
    assert ssh(key, "ec2-user", ip, "cat /etc/provisioned; dpkg-query -W -f '${Status}' hello-ec2lite") \
        == "provisioned\ninstall ok installed"
    west = make_client(runtime_server.url, region="us-west-2")
    copy = west.copy_image(SourceImageId=image_id, SourceRegion="us-east-1", Name="baked-copy")["ImageId"]
    west.get_waiter("image_available").wait(ImageIds=[copy], WaiterConfig=WAITER)
    _, west_ip, west_key = launch(west, tmp_path, copy, key_name="west")
    assert ssh(west_key, "ec2-user", west_ip, "cat /etc/provisioned") == "provisioned\n"


def test_an_instance_terminated_while_pending_leaves_no_container(runtime_server, tmp_path):
    ec2 = make_client(runtime_server.url)
    instance_id = ec2.run_instances(ImageId=latest_image(ec2, AL2023), InstanceType="t3.micro",
                                    MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    assert ec2.terminate_instances(InstanceIds=[instance_id])["TerminatingInstances"][0]["PreviousState"]["Name"] \
        == "pending"
    ec2.get_waiter("instance_terminated").wait(InstanceIds=[instance_id], WaiterConfig=WAITER)
    deadline = time.monotonic() + 30
    while (containers_of(instance_id) or (runtime_server.data_dir / "machines" / instance_id).exists()) \
            and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(3)  # a launch still under way finds its instance gone and removes what it made
    assert containers_of(instance_id) == []
    assert not (runtime_server.data_dir / "machines" / instance_id).exists()
