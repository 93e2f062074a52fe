"""EBS direct APIs end to end, through coldsnap and boto3's `ebs` client: uploads and
downloads byte for byte, images registered from an upload and launched, refused blocks,
CompleteSnapshot mismatches, an upload interrupted by SIGKILL, content-addressed block
sharing between copies (and the sweep that reclaims it), incremental snapshots and
changed blocks, idempotent StartSnapshot, and cross-account access to blocks."""

from __future__ import annotations

import base64
import hashlib
import os
import random
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from support import DEFAULT_REGION, WAITER, error_code, make_client

BLOCK = 524288
BLOCKS_PER_GIB = 2048
MIB = 1024 * 1024
GIB = 1024 * MIB
ZERO_BLOCK = bytes(BLOCK)
OTHER_ACCOUNT = "111122223333"
COLDSNAP_DEFAULT = "/root/.cache/ec2lite-ci/coldsnap/bin/coldsnap"


# Helpers ---------------------------------------------------------------------------------


def ebs_client(server, access_key: str = "test", region: str = DEFAULT_REGION, validate: bool = True):
    """boto3 EBS client; `validate=False` sends what botocore would refuse client-side."""
    return boto3.session.Session().client(
        "ebs",
        endpoint_url=server.url,
        region_name=region,
        aws_access_key_id=access_key,
        aws_secret_access_key="test",
        config=Config(retries={"mode": "standard", "max_attempts": 1}, parameter_validation=validate),
    )


@pytest.fixture
def ebs(server):
    """boto3 EBS client for account 000000000000 in us-east-1."""
    return ebs_client(server)


_DIGESTS: dict[bytes, bytes] = {}


def digest(data: bytes) -> bytes:
    """SHA-256, remembered per content (a 1 GiB upload repeats the zero block 2000 times)."""
    found = _DIGESTS.get(data)
    if found is None:
        found = _DIGESTS[data] = hashlib.sha256(data).digest()
    return found


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def checksum(data: bytes) -> str:
    return b64(digest(data))


def linear_checksum(blocks: dict[int, bytes]) -> str:
    """The LINEAR aggregate: SHA-256 of the written blocks' digests in index order."""
    return b64(digest(b"".join(digest(blocks[i]) for i in sorted(blocks))))


def pattern_block(seed: int) -> bytes:
    """A distinct, reproducible, non-zero 512 KiB block."""
    return random.Random(seed).randbytes(BLOCK)


def ebs_error(call, *args, **params) -> tuple[str, str | None]:
    """Calls an EBS operation that must fail; returns (exception type, Reason)."""
    with pytest.raises(ClientError) as caught:
        call(*args, **params)
    response = caught.value.response
    reason = response.get("Reason") or response["Error"].get("Reason")
    return error_code(caught.value), reason


def start(ebs, volume_size: int = 1, **params) -> str:
    started = ebs.start_snapshot(VolumeSize=volume_size, **params)
    assert started["Status"] == "pending"
    return started["SnapshotId"]


def put_block(ebs, snapshot_id: str, index: int, data: bytes, progress: int | None = None) -> dict:
    params = dict(
        SnapshotId=snapshot_id,
        BlockIndex=index,
        BlockData=data,
        DataLength=len(data),
        Checksum=checksum(data),
        ChecksumAlgorithm="SHA256",
    )
    if progress is not None:
        params["Progress"] = progress
    return ebs.put_snapshot_block(**params)


def put_blocks(ebs, snapshot_id: str, blocks: dict[int, bytes], workers: int = 8) -> None:
    indexes = sorted(blocks)
    total = len(indexes)

    def one(position_index):
        position, index = position_index
        put_block(ebs, snapshot_id, index, blocks[index], progress=min(99, position * 100 // total))

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(one, enumerate(indexes)))


def complete(ebs, snapshot_id: str, blocks: dict[int, bytes], count: int | None = None, aggregate: str | None = None):
    return ebs.complete_snapshot(
        SnapshotId=snapshot_id,
        ChangedBlocksCount=len(blocks) if count is None else count,
        Checksum=aggregate or linear_checksum(blocks),
        ChecksumAlgorithm="SHA256",
        ChecksumAggregationMethod="LINEAR",
    )["Status"]


def upload(ebs, blocks: dict[int, bytes], volume_size: int = 1, **params) -> str:
    """StartSnapshot, every block, CompleteSnapshot with the right count and checksum."""
    snapshot_id = start(ebs, volume_size, **params)
    put_blocks(ebs, snapshot_id, blocks)
    assert complete(ebs, snapshot_id, blocks) == "completed"
    return snapshot_id


def list_blocks(ebs, snapshot_id: str, **params) -> dict[int, str]:
    """Every block of a snapshot (all pages): index -> token."""
    tokens: dict[int, str] = {}
    while True:
        page = ebs.list_snapshot_blocks(SnapshotId=snapshot_id, **params)
        for block in page["Blocks"]:
            assert block["BlockIndex"] not in tokens
            tokens[block["BlockIndex"]] = block["BlockToken"]
        if not page.get("NextToken"):
            return tokens
        params["NextToken"] = page["NextToken"]


def get_block(ebs, snapshot_id: str, index: int, token: str) -> bytes:
    got = ebs.get_snapshot_block(SnapshotId=snapshot_id, BlockIndex=index, BlockToken=token)
    data = got["BlockData"].read()
    assert got["DataLength"] == BLOCK == len(data)
    assert (got["Checksum"], got["ChecksumAlgorithm"]) == (checksum(data), "SHA256")
    return data


def read_snapshot(ebs, snapshot_id: str, workers: int = 8) -> dict[int, bytes]:
    tokens = list_blocks(ebs, snapshot_id)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        datas = pool.map(lambda item: get_block(ebs, snapshot_id, *item), tokens.items())
        return dict(zip(tokens, datas))


def nonzero(blocks: dict[int, bytes]) -> dict[int, bytes]:
    return {i: d for i, d in blocks.items() if d != ZERO_BLOCK}


def block_files(data_dir: Path) -> list[Path]:
    """The stored block files (not the temporary ones)."""
    root = data_dir / "blocks"
    return [p for p in root.glob("*/*") if p.parent.name != "tmp" and p.is_file()]


def stored_bytes(data_dir: Path) -> int:
    return sum(p.stat().st_size for p in block_files(data_dir))


def sweep(server) -> dict:
    status, report = server.admin("POST", "/_ec2lite/sweep")
    assert status == 200, report
    return report


def snapshot_of(ec2, snapshot_id: str) -> dict:
    [snapshot] = ec2.describe_snapshots(SnapshotIds=[snapshot_id])["Snapshots"]
    return snapshot


def wait_snapshot(ec2, snapshot_id: str) -> None:
    ec2.get_waiter("snapshot_completed").wait(SnapshotIds=[snapshot_id], WaiterConfig=WAITER)


# coldsnap ----------------------------------------------------------------------------------


def coldsnap_bin() -> str:
    path = os.environ.get("EC2LITE_COLDSNAP")
    if not path:
        if not Path(COLDSNAP_DEFAULT).is_file():
            pytest.skip("coldsnap not available (set EC2LITE_COLDSNAP)")
        path = COLDSNAP_DEFAULT
    return path


def coldsnap(server, home: Path, *args: str) -> str:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_REGION": DEFAULT_REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    done = subprocess.run(
        [coldsnap_bin(), "--endpoint", server.url, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, f"coldsnap {' '.join(args)} failed ({done.returncode}):\n{done.stderr}\n{server.log()}"
    return done.stdout.strip()


def make_disk_image(path: Path, size: int) -> bytes:
    """A sparse disk image: an MBR-like header, random data at a few offsets, zeros
    between. Returns its content."""
    rng = random.Random(20240611)
    image = bytearray(size)
    mbr = bytearray(512)
    mbr[446:462] = bytes([0x80, 0, 2, 0, 0xEE, 0xFF, 0xFF, 0xFF, 1, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF])
    mbr[510:512] = b"\x55\xaa"
    image[0:512] = mbr
    image[512:4096] = rng.randbytes(3584)  # a GPT-ish header and table
    for offset, length in ((1 * MIB, 3 * MIB), (7 * MIB + 4096, 2 * MIB), (15 * MIB, MIB // 2), (22 * MIB, 2 * MIB)):
        image[offset : offset + length] = rng.randbytes(length)
    image[9 * MIB + 100 : 9 * MIB + 200] = b"\x01" * 100  # a tiny write inside an otherwise zero block
    with open(path, "wb") as f:
        f.truncate(size)
        for start_block in range(0, size, BLOCK):
            chunk = bytes(image[start_block : start_block + BLOCK])
            if chunk.strip(b"\0"):
                f.seek(start_block)
                f.write(chunk)
    return bytes(image)


def assert_disk_matches(path: Path, original: bytes, volume_size_gib: int) -> None:
    """`path` is `original` followed by zeros up to the volume size."""
    assert path.stat().st_size == volume_size_gib * GIB
    with open(path, "rb") as f:
        assert f.read(len(original)) == original
        fd = f.fileno()
        end = path.stat().st_size
        position = len(original)
        # Holes read as zeros: only the data regions of the tail need reading.
        while position < end:
            try:
                data_at = os.lseek(fd, position, os.SEEK_DATA)
            except OSError:  # no data after position
                break
            hole_at = os.lseek(fd, data_at, os.SEEK_HOLE)
            f.seek(data_at)
            remaining = hole_at - data_at
            while remaining:
                chunk = f.read(min(remaining, 8 * MIB))
                assert not chunk.strip(b"\0"), f"non-zero byte in the tail of {path} after offset {data_at}"
                remaining -= len(chunk)
            position = hole_at


def wait_running(ec2, instance_id: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        [reservation] = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"]
        if reservation["Instances"][0]["State"]["Name"] == "running":
            return
        time.sleep(0.2)
    raise AssertionError(f"{instance_id} is not running after 30 s")


# Tests -------------------------------------------------------------------------------------


def test_coldsnap_upload_register_launch_create_image_and_download(server, ec2, tmp_path):
    coldsnap_bin()  # skips when coldsnap is not installed
    size = 24 * MIB
    image_path = tmp_path / "disk.img"
    original = make_disk_image(image_path, size)
    home = tmp_path / "coldsnap-home"
    home.mkdir()

    uploaded = coldsnap(server, home, "upload", "--no-progress", "--wait", str(image_path))
    assert uploaded.startswith("snap-"), uploaded
    snapshot = snapshot_of(ec2, uploaded)
    assert (snapshot["State"], snapshot["VolumeSize"], snapshot["VolumeId"]) == ("completed", 1, "vol-ffffffff")

    image_id = ec2.register_image(
        Name="coldsnap-image",
        RootDeviceName="/dev/xvda",
        BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": uploaded}}],
        Architecture="x86_64",
        VirtualizationType="hvm",
        EnaSupport=True,
        BootMode="uefi",
    )["ImageId"]
    [instance] = ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1, InstanceType="t3.micro")["Instances"]
    wait_running(ec2, instance["InstanceId"])
    created = ec2.create_image(InstanceId=instance["InstanceId"], Name="from-instance", NoReboot=True)["ImageId"]
    ec2.get_waiter("image_available").wait(ImageIds=[created], WaiterConfig=WAITER)
    [created_image] = ec2.describe_images(ImageIds=[created])["Images"]
    [root] = [m for m in created_image["BlockDeviceMappings"] if m["DeviceName"] == "/dev/xvda"]
    created_snapshot = root["Ebs"]["SnapshotId"]
    assert created_snapshot != uploaded
    wait_snapshot(ec2, created_snapshot)

    for snapshot_id in (uploaded, created_snapshot):
        target = tmp_path / f"{snapshot_id}.img"
        coldsnap(server, home, "download", "--no-progress", "--force", snapshot_id, str(target))
        assert_disk_matches(target, original, 1)

    # One file per distinct non-zero block, shared by the upload, the root volume and
    # the CreateImage snapshot.
    distinct = {digest(original[o : o + BLOCK]) for o in range(0, size, BLOCK)} - {digest(ZERO_BLOCK)}
    files = block_files(server.data_dir)
    assert len(files) <= len(distinct)
    assert stored_bytes(server.data_dir) <= len(distinct) * BLOCK
    report = sweep(server)
    assert report["blocks"] == len(files) and report["bytes"] <= len(distinct) * BLOCK


def test_boto3_upload_list_pages_and_read_back(server, ebs, ec2):
    blocks = {i: pattern_block(i) for i in range(0, 250)}
    blocks.update({i: pattern_block(i) for i in (700, 701, 2047)})
    started = ebs.start_snapshot(VolumeSize=1, Description="boto3 upload", Tags=[{"Key": "k", "Value": "v"}])
    snapshot_id = started["SnapshotId"]
    assert (started["Status"], started["OwnerId"], started["BlockSize"], started["VolumeSize"]) == (
        "pending",
        "000000000000",
        BLOCK,
        1,
    )
    assert started["Description"] == "boto3 upload" and started["Tags"] == [{"Key": "k", "Value": "v"}]
    assert started["SseType"] == "none"

    put_blocks(ebs, snapshot_id, blocks)
    put_block(ebs, snapshot_id, 5, blocks[5], progress=60)  # rewriting a block is allowed
    pending = snapshot_of(ec2, snapshot_id)
    assert (pending["State"], pending["VolumeId"], pending["Progress"]) == ("pending", "vol-ffffffff", "60%")
    assert ebs_error(ebs.list_snapshot_blocks, SnapshotId=snapshot_id)[0] == "ValidationException"

    assert complete(ebs, snapshot_id, blocks) == "completed"
    assert snapshot_of(ec2, snapshot_id)["State"] == "completed"

    first = ebs.list_snapshot_blocks(SnapshotId=snapshot_id, MaxResults=100)
    assert [b["BlockIndex"] for b in first["Blocks"]] == list(range(100))
    assert (first["VolumeSize"], first["BlockSize"]) == (1, BLOCK)
    assert first["ExpiryTime"].timestamp() > time.time() + 3600
    assert first["NextToken"]
    pages = 1
    tokens = {b["BlockIndex"]: b["BlockToken"] for b in first["Blocks"]}
    next_token = first["NextToken"]
    while next_token:
        page = ebs.list_snapshot_blocks(SnapshotId=snapshot_id, MaxResults=100, NextToken=next_token)
        assert len(page["Blocks"]) <= 100
        tokens.update({b["BlockIndex"]: b["BlockToken"] for b in page["Blocks"]})
        next_token = page.get("NextToken")
        pages += 1
    assert pages == 3
    assert sorted(tokens) == sorted(blocks)
    full = ebs.list_snapshot_blocks(SnapshotId=snapshot_id, StartingBlockIndex=150, MaxResults=100)
    assert [b["BlockIndex"] for b in full["Blocks"]] == list(range(150, 250))
    assert full.get("NextToken")  # 700, 701 and 2047 remain
    # A page that ends exactly at the last block names no next page.
    last = ebs.list_snapshot_blocks(SnapshotId=snapshot_id, StartingBlockIndex=153, MaxResults=100)
    assert [b["BlockIndex"] for b in last["Blocks"]] == [*range(153, 250), 700, 701, 2047]
    assert not last.get("NextToken")

    tail = ebs.list_snapshot_blocks(SnapshotId=snapshot_id, StartingBlockIndex=240, MaxResults=100)
    assert [b["BlockIndex"] for b in tail["Blocks"]] == [*range(240, 250), 700, 701, 2047]
    assert not tail.get("NextToken")
    unchecked = ebs_client(server, validate=False)
    assert ebs_error(unchecked.list_snapshot_blocks, SnapshotId=snapshot_id, MaxResults=99)[0] == "ValidationException"

    assert read_snapshot(ebs, snapshot_id) == blocks
    assert ebs_error(ebs.get_snapshot_block, SnapshotId=snapshot_id, BlockIndex=6, BlockToken=tokens[5]) == (
        "ValidationException",
        "INVALID_BLOCK_TOKEN",
    )
    assert ebs_error(ebs.get_snapshot_block, SnapshotId=snapshot_id, BlockIndex=5, BlockToken="garbage") == (
        "ValidationException",
        "INVALID_BLOCK_TOKEN",
    )


def test_refused_blocks_store_nothing(server, ebs):
    snapshot_id = start(ebs, 1)
    unchecked = ebs_client(server, validate=False)
    good = pattern_block(1)
    bad = pattern_block(2)

    refused = [
        # A checksum of other data.
        dict(BlockIndex=3, BlockData=bad, DataLength=BLOCK, Checksum=checksum(good), ChecksumAlgorithm="SHA256"),
        # A checksum that is no SHA-256 at all.
        dict(BlockIndex=4, BlockData=bad, DataLength=BLOCK, Checksum="bm90LWEtc2hhMjU2", ChecksumAlgorithm="SHA256"),
    ]
    for params in refused:
        assert ebs_error(ebs.put_snapshot_block, SnapshotId=snapshot_id, **params) == (
            "ValidationException",
            "INVALID_BLOCK",
        )
    short = bad[:4096]
    assert ebs_error(
        unchecked.put_snapshot_block,
        SnapshotId=snapshot_id,
        BlockIndex=5,
        BlockData=short,
        DataLength=4096,
        Checksum=checksum(short),
        ChecksumAlgorithm="SHA256",
    ) == ("ValidationException", "INVALID_PARAMETER_VALUE")
    assert ebs_error(
        unchecked.put_snapshot_block,
        SnapshotId=snapshot_id,
        BlockIndex=6,
        BlockData=short,
        DataLength=BLOCK,
        Checksum=checksum(short),
        ChecksumAlgorithm="SHA256",
    ) == ("ValidationException", "INVALID_BLOCK")
    assert ebs_error(put_block, ebs, snapshot_id, BLOCKS_PER_GIB, bad) == ("ValidationException", "INVALID_BLOCK")
    assert ebs_error(put_block, ebs, "snap-0123456789abcdef0", 0, bad) == (
        "ResourceNotFoundException",
        "SNAPSHOT_NOT_FOUND",
    )

    put_block(ebs, snapshot_id, 0, good)
    put_block(ebs, snapshot_id, BLOCKS_PER_GIB - 1, good)
    assert complete(ebs, snapshot_id, {0: good, BLOCKS_PER_GIB - 1: good}) == "completed"
    assert ebs_error(put_block, ebs, snapshot_id, 1, bad) == ("ValidationException", "INVALID_SNAPSHOT_ID")

    assert sorted(list_blocks(ebs, snapshot_id)) == [0, BLOCKS_PER_GIB - 1]
    assert read_snapshot(ebs, snapshot_id) == {0: good, BLOCKS_PER_GIB - 1: good}
    # Only the one accepted content is stored; nothing of the refused blocks survives a sweep.
    report = sweep(server)
    assert (report["blocks"], report["bytes"]) == (1, BLOCK)
    assert [p.name for p in block_files(server.data_dir)] == [digest(good).hex()]


def test_complete_with_wrong_count_fails_the_snapshot(server, ebs, ec2):
    blocks = {0: pattern_block(10), 9: pattern_block(11)}
    snapshot_id = start(ebs, 1)
    put_blocks(ebs, snapshot_id, blocks)
    assert complete(ebs, snapshot_id, blocks, count=3) == "error"
    assert snapshot_of(ec2, snapshot_id)["State"] == "error"
    assert ebs_error(ebs.list_snapshot_blocks, SnapshotId=snapshot_id)[0] == "ValidationException"
    assert ebs_error(put_block, ebs, snapshot_id, 1, blocks[0]) == ("ValidationException", "INVALID_SNAPSHOT_ID")
    assert sweep(server)["blocks"] == 0
    assert block_files(server.data_dir) == []


def test_complete_with_wrong_aggregate_checksum_fails_the_snapshot(server, ebs, ec2):
    blocks = {0: pattern_block(12), 1: pattern_block(13)}
    snapshot_id = start(ebs, 1)
    put_blocks(ebs, snapshot_id, blocks)
    # The digests concatenated in the wrong order.
    swapped = b64(digest(digest(blocks[1]) + digest(blocks[0])))
    assert complete(ebs, snapshot_id, blocks, aggregate=swapped) == "error"
    assert snapshot_of(ec2, snapshot_id)["State"] == "error"

    # The same upload with the right aggregate completes.
    again = start(ebs, 1)
    put_blocks(ebs, again, blocks)
    assert complete(ebs, again, blocks) == "completed"
    assert snapshot_of(ec2, again)["State"] == "completed"


def test_upload_survives_sigkill_and_restart_sweeps_strays(server, ebs):
    blocks = {i: pattern_block(100 + i) for i in range(0, 40, 2)}
    indexes = sorted(blocks)
    first_half = {i: blocks[i] for i in indexes[: len(indexes) // 2]}
    second_half = {i: blocks[i] for i in indexes[len(indexes) // 2 :]}
    snapshot_id = start(ebs, 1)
    put_blocks(ebs, snapshot_id, first_half)

    stray = server.data_dir / "blocks" / "ab" / ("ab" * 32)
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(pattern_block(999))
    leftover = server.data_dir / "blocks" / "tmp" / "partial-write"
    leftover.write_bytes(b"half a block")

    server.kill()
    server.start()
    # The address is announced before the start-up sweep; requests are served after it.
    ec2 = make_client(server.url)
    assert snapshot_of(ec2, snapshot_id)["State"] == "pending"
    assert not stray.exists(), "an unreferenced block file survived the start-up sweep"
    assert not leftover.exists(), "a temporary file survived the start-up sweep"

    ebs = ebs_client(server)
    put_blocks(ebs, snapshot_id, second_half)
    assert complete(ebs, snapshot_id, blocks) == "completed"
    assert read_snapshot(ebs, snapshot_id) == blocks
    assert len(block_files(server.data_dir)) == len(blocks)


def test_sweep_during_upload_keeps_every_block(server, ebs):
    blocks = {i: pattern_block(9000 + i) for i in range(80)}
    stop = threading.Event()
    sweeps = []

    def sweeper():
        while not stop.is_set():
            sweeps.append(sweep(server))

    thread = threading.Thread(target=sweeper)
    thread.start()
    try:
        snapshot_id = upload(ebs, blocks)
    finally:
        stop.set()
        thread.join()
    assert len(sweeps) > 1
    assert sweep(server)["blocks"] == len(blocks)
    assert read_snapshot(ebs, snapshot_id) == blocks


def assert_reads_back(ebs, snapshot_id: str, data: dict[int, bytes]) -> None:
    """A 1 GiB snapshot holds `data` and zeros elsewhere: every index is listed; the data
    blocks and a sample of the zero ones are read."""
    tokens = list_blocks(ebs, snapshot_id, MaxResults=1000)
    assert sorted(tokens) == list(range(BLOCKS_PER_GIB))
    zeros = random.Random(7).sample(sorted(set(tokens) - set(data)), 16)
    with ThreadPoolExecutor(max_workers=8) as pool:
        indexes = [*data, *zeros]
        read = dict(zip(indexes, pool.map(lambda i: get_block(ebs, snapshot_id, i, tokens[i]), indexes)))
    assert {i: read[i] for i in data} == data
    assert all(read[i] == ZERO_BLOCK for i in zeros)


def test_copies_share_blocks_and_sweep_reclaims_only_unreferenced(server, ebs, ec2, client_factory):
    # A 1 GiB volume with 16 distinct non-zero blocks (8 MiB), every block uploaded.
    data = {i: pattern_block(5000 + i) for i in range(0, BLOCKS_PER_GIB, BLOCKS_PER_GIB // 16)}
    blocks = {i: data.get(i, ZERO_BLOCK) for i in range(BLOCKS_PER_GIB)}
    content = len(data) * BLOCK
    snapshot_id = upload(ebs, blocks)
    assert stored_bytes(server.data_dir) == content

    copy = ec2.copy_snapshot(SourceRegion=DEFAULT_REGION, SourceSnapshotId=snapshot_id)["SnapshotId"]
    west = client_factory(region="us-west-2")
    west_copy = west.copy_snapshot(SourceRegion=DEFAULT_REGION, SourceSnapshotId=snapshot_id)["SnapshotId"]
    wait_snapshot(ec2, copy)
    wait_snapshot(west, west_copy)

    assert stored_bytes(server.data_dir) <= content + BLOCK
    report = sweep(server)
    assert report["bytes"] <= content + BLOCK and report["blocks"] <= len(data) + 1
    assert report["removed"] == 0

    ec2.delete_snapshot(SnapshotId=snapshot_id)
    report = sweep(server)
    assert (report["blocks"], report["bytes"]) == (len(data), content)
    assert_reads_back(ebs, copy, data)
    assert_reads_back(ebs_client(server, region="us-west-2"), west_copy, data)

    ec2.delete_snapshot(SnapshotId=copy)
    assert sweep(server)["blocks"] == len(data)  # the us-west-2 copy still refers to them
    west.delete_snapshot(SnapshotId=west_copy)
    report = sweep(server)
    assert (report["blocks"], report["bytes"], report["removed"]) == (0, 0, len(data))
    assert block_files(server.data_dir) == []


def test_incremental_snapshot_and_changed_blocks(server, ebs, ec2):
    parent_blocks = {i: pattern_block(200 + i) for i in range(4)}
    parent = upload(ebs, parent_blocks)
    changed = {1: pattern_block(301), 10: pattern_block(310)}
    started = ebs.start_snapshot(VolumeSize=1, ParentSnapshotId=parent)
    assert started["ParentSnapshotId"] == parent
    child = started["SnapshotId"]
    put_blocks(ebs, child, changed)
    assert complete(ebs, child, changed) == "completed"

    expected_child = {**parent_blocks, **changed}
    assert sorted(list_blocks(ebs, child)) == [0, 1, 2, 3, 10]
    assert read_snapshot(ebs, child) == expected_child
    assert read_snapshot(ebs, parent) == parent_blocks

    diff = ebs.list_changed_blocks(FirstSnapshotId=parent, SecondSnapshotId=child)
    by_index = {b["BlockIndex"]: b for b in diff["ChangedBlocks"]}
    assert sorted(by_index) == [1, 10]
    assert {"FirstBlockToken", "SecondBlockToken"} <= set(by_index[1])
    assert "FirstBlockToken" not in by_index[10] and "SecondBlockToken" in by_index[10]
    assert (diff["VolumeSize"], diff["BlockSize"]) == (1, BLOCK)
    assert get_block(ebs, parent, 1, by_index[1]["FirstBlockToken"]) == parent_blocks[1]
    assert get_block(ebs, child, 1, by_index[1]["SecondBlockToken"]) == changed[1]
    assert get_block(ebs, child, 10, by_index[10]["SecondBlockToken"]) == changed[10]
    # A first token names the parent's block: it reads nothing from the child.
    assert ebs_error(
        ebs.get_snapshot_block, SnapshotId=child, BlockIndex=1, BlockToken=by_index[1]["FirstBlockToken"]
    ) == ("ValidationException", "INVALID_BLOCK_TOKEN")

    # Without a first snapshot every block of the second one is listed.
    alone = ebs.list_changed_blocks(SecondSnapshotId=child)
    assert [b["BlockIndex"] for b in alone["ChangedBlocks"]] == [0, 1, 2, 3, 10]

    unrelated = upload(ebs, {0: pattern_block(400)})
    assert ebs_error(ebs.list_changed_blocks, FirstSnapshotId=unrelated, SecondSnapshotId=child) == (
        "ValidationException",
        "UNRELATED_SNAPSHOTS",
    )

    # A snapshot of a volume made from the child is of its lineage, and holds its blocks.
    volume = ec2.create_volume(AvailabilityZone="us-east-1a", SnapshotId=child)["VolumeId"]
    ec2.get_waiter("volume_available").wait(VolumeIds=[volume], WaiterConfig=WAITER)
    of_volume = ec2.create_snapshot(VolumeId=volume)["SnapshotId"]
    wait_snapshot(ec2, of_volume)
    same = ebs.list_changed_blocks(FirstSnapshotId=child, SecondSnapshotId=of_volume)
    assert same["ChangedBlocks"] == []
    from_parent = ebs.list_changed_blocks(FirstSnapshotId=parent, SecondSnapshotId=of_volume)
    assert [b["BlockIndex"] for b in from_parent["ChangedBlocks"]] == [1, 10]

    # The child keeps the blocks it shares with a deleted parent.
    ec2.delete_snapshot(SnapshotId=parent)
    sweep(server)
    assert read_snapshot(ebs, child) == expected_child
    assert read_snapshot(ebs, of_volume) == expected_child


def test_client_token_idempotency_and_volume_size(server, ebs):
    first = ebs.start_snapshot(VolumeSize=2, ClientToken="upload-token-1", Description="d")
    again = ebs.start_snapshot(VolumeSize=2, ClientToken="upload-token-1", Description="d")
    assert again["SnapshotId"] == first["SnapshotId"]
    with pytest.raises(ClientError) as caught:
        ebs.start_snapshot(VolumeSize=3, ClientToken="upload-token-1", Description="d")
    assert error_code(caught.value) == "ConflictException"
    other = ebs.start_snapshot(VolumeSize=2, ClientToken="upload-token-2", Description="d")
    assert other["SnapshotId"] != first["SnapshotId"]

    unchecked = ebs_client(server, validate=False)  # botocore itself refuses VolumeSize 0
    assert ebs_error(unchecked.start_snapshot, VolumeSize=0) == ("ValidationException", "INVALID_VOLUME_SIZE")
    assert ebs_error(unchecked.start_snapshot, VolumeSize=65537) == ("ValidationException", "INVALID_VOLUME_SIZE")
    assert ebs.start_snapshot(VolumeSize=65536)["VolumeSize"] == 65536
    assert ebs_error(unchecked.start_snapshot, VolumeSize=1, Timeout=9)[0] == "ValidationException"
    assert ebs_error(unchecked.start_snapshot, VolumeSize=1, Timeout=4321)[0] == "ValidationException"
    assert ebs.start_snapshot(VolumeSize=1, Timeout=10)["Status"] == "pending"


def test_other_account_needs_create_volume_permission(server, ebs, ec2):
    neighbour = ebs_client(server, access_key=OTHER_ACCOUNT)
    block = pattern_block(600)

    open_upload = start(ebs, 1)
    code, _ = ebs_error(put_block, neighbour, open_upload, 0, block)
    assert code in ("ResourceNotFoundException", "AccessDeniedException")

    private = upload(ebs, {0: block, 3: pattern_block(601)})
    assert ebs_error(neighbour.list_snapshot_blocks, SnapshotId=private)[0] == "ResourceNotFoundException"
    tokens = list_blocks(ebs, private)
    assert ebs_error(neighbour.get_snapshot_block, SnapshotId=private, BlockIndex=0, BlockToken=tokens[0])[0] == (
        "ResourceNotFoundException"
    )

    ec2.modify_snapshot_attribute(
        SnapshotId=private,
        Attribute="createVolumePermission",
        OperationType="add",
        UserIds=[OTHER_ACCOUNT],
    )
    assert read_snapshot(neighbour, private) == {0: block, 3: pattern_block(601)}
    # Shared for reading, not for writing.
    code, _ = ebs_error(put_block, neighbour, open_upload, 0, block)
    assert code in ("ResourceNotFoundException", "AccessDeniedException")


def test_signed_uploads_are_verified_with_the_accounts_secret(start_server, tmp_path):
    """With --verify-signatures every EBS call, the block PUTs (signed with an unsigned
    body and signed checksum headers) included, needs the secret of its access key."""
    accounts = tmp_path / "accounts.json"
    accounts.write_text(
        '{"accounts": [{"id": "222222222222", "access_keys": '
        '[{"access_key_id": "AKIAEXAMPLE2", "secret_access_key": "secret2"}]}]}'
    )
    server = start_server("--accounts", str(accounts), "--verify-signatures")

    def client(secret: str):
        return boto3.session.Session().client(
            "ebs",
            endpoint_url=server.url,
            region_name=DEFAULT_REGION,
            aws_access_key_id="AKIAEXAMPLE2",
            aws_secret_access_key=secret,
            config=Config(retries={"max_attempts": 1}),
        )

    good = client("secret2")
    started = good.start_snapshot(VolumeSize=1)
    assert started["OwnerId"] == "222222222222"
    data = os.urandom(BLOCK)
    put_block(good, started["SnapshotId"], 0, data)
    assert complete(good, started["SnapshotId"], {0: data}) == "completed"
    with pytest.raises(ClientError) as refused:
        client("wrong").list_snapshot_blocks(SnapshotId=started["SnapshotId"])
    assert refused.value.response["Error"]["Code"] == "InvalidSignatureException"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_children_take_their_parents_encryption_and_retry_idempotently(ebs):
    parent = upload(ebs, {0: pattern_block(700)}, Encrypted=True)
    assert ebs_error(ebs.start_snapshot, VolumeSize=1, ParentSnapshotId=parent, Encrypted=True) == (
        "ValidationException",
        "INVALID_PARAMETER_VALUE",
    )
    child = ebs.start_snapshot(VolumeSize=1, ParentSnapshotId=parent, ClientToken="child-token")
    assert child["SseType"] == "sse-kms" and child["KmsKeyArn"].endswith(":alias/aws/ebs")
    retried = ebs.start_snapshot(VolumeSize=1, ParentSnapshotId=parent, ClientToken="child-token")
    assert retried["SnapshotId"] == child["SnapshotId"], "a retry of the same request is not a conflict"


def test_a_retried_complete_answers_the_sealed_status(ebs):
    snapshot_id = start(ebs, 1)
    block = pattern_block(710)
    put_block(ebs, snapshot_id, 0, block)
    assert complete(ebs, snapshot_id, {0: block}) == "completed"
    assert complete(ebs, snapshot_id, {0: block}) == "completed"
    assert ebs_error(put_block, ebs, snapshot_id, 1, block) == ("ValidationException", "INVALID_SNAPSHOT_ID")
