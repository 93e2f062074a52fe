"""VM Import end to end, through boto3 and aws-cli: ImportSnapshot of raw, VMDK
(stream-optimized), VHD (dynamic and fixed) and VHDX disks served over HTTP or from an
S3 endpoint, with the imported bytes read back through the EBS direct API; the failures
EC2 reports for unsupported, mislabelled, missing, empty and corrupt disks; ImportImage
to a launchable AMI; DescribeImport*Tasks filters, paging and tags; CancelImportTask;
and a task that survives a SIGKILL of the server.

Disk images are made from one raw image with qemu-img (qemu-utils)."""

from __future__ import annotations

import functools
import math
import random
import re
import shutil
import subprocess
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from support import DEFAULT_REGION, WAITER, error_code, make_client

GIB = 1 << 30
BLOCK = 524288
RAW_SIZE = 8 << 20
TASK_ID = re.compile(r"^import-snap-[0-9a-f]{17}$")
IMAGE_TASK_ID = re.compile(r"^import-ami-[0-9a-f]{17}$")
SIGV4_S3 = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=test/\d{8}/us-east-1/s3/aws4_request, ?"
    r"SignedHeaders=[a-z0-9;-]+, ?Signature=[0-9a-f]{64}$"
)

# (id, qemu-img output options, Format EC2 reports)
FORMATS = [
    ("raw", None, "RAW"),
    ("vmdk-stream", ("-O", "vmdk", "-o", "subformat=streamOptimized"), "VMDK"),
    ("vhd-dynamic", ("-O", "vpc"), "VHD"),
    ("vhd-fixed", ("-O", "vpc", "-o", "subformat=fixed"), "VHD"),
    ("vhdx", ("-O", "vhdx"), "VHDX"),
]
QEMU = {name: options for name, options, _ in FORMATS}
QEMU.update(vmdk_sparse=("-O", "vmdk"), qcow2=("-O", "qcow2"))

VALIDATION = "ClientError: Disk validation failed"
UNSUPPORTED_FORMAT = f"{VALIDATION} [Unsupported specified file format]"
UNSUPPORTED_VMDK = f"{VALIDATION} [Unsupported VMDK File Format]"
NOT_FOUND = f"{VALIDATION} [We do not have access to the given resource. Reason 404 Not Found]"
EMPTY = f"{VALIDATION} [Invalid disk image size]"
UNKNOWN_OS = "ClientError: Unknown OS / Missing OS files."
MALFORMED = "InvalidConversionTaskId.Malformed"
UNKNOWN_SNAP_TASK = "import-snap-0123456789abcdef0"

IMAGE_STEPS = [
    ("pending", "2"),
    ("validated", "6"),
    ("converting", "19"),
    ("updating", "34"),
    ("booting", "58"),
    ("preparing ami", "76"),
]


# Disk images -----------------------------------------------------------------------------


def raw_disk(boot: bool = True, seed: int = 7) -> bytes:
    """8 MiB: a first sector ending in the MBR signature, random data at two offsets."""
    rng = random.Random(seed)
    data = bytearray(RAW_SIZE)
    data[0:446] = rng.randbytes(446)
    if boot:
        data[510:512] = b"\x55\xaa"
    data[3 * BLOCK + 1000 : 3 * BLOCK + 1000 + 300_000] = rng.randbytes(300_000)
    data[12 * BLOCK + 17 : 12 * BLOCK + 17 + 700_000] = rng.randbytes(700_000)
    return bytes(data)


class Disks:
    """Disk images made once per session, by name, from the raw source."""

    def __init__(self, root: Path):
        self.root = root
        self.raw = raw_disk()
        self.raw_path = root / "source.raw"
        self.raw_path.write_bytes(self.raw)
        self.made: dict[str, Path] = {"raw": self.raw_path}

    def path(self, name: str) -> Path:
        if name not in self.made:
            out = self.root / f"disk-{name}.img"
            subprocess.run(
                ["qemu-img", "convert", "-f", "raw", *QEMU[name], str(self.raw_path), str(out)],
                check=True,
                capture_output=True,
            )
            self.made[name] = out
        return self.made[name]

    def data(self, name: str) -> bytes:
        return self.path(name).read_bytes()


@pytest.fixture(scope="session")
def disks(tmp_path_factory) -> Disks:
    if shutil.which("qemu-img") is None:
        pytest.fail("qemu-img (qemu-utils) is needed by the import tests", pytrace=False)
    return Disks(tmp_path_factory.mktemp("disks"))


# Local HTTP and S3 endpoints -------------------------------------------------------------


class Quiet:
    def log_message(self, *args):  # no request lines on stderr
        pass


class QuietFiles(Quiet, SimpleHTTPRequestHandler):
    pass


def serve(handler) -> ThreadingHTTPServer:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


class Web:
    """Files served over plain HTTP from a directory."""

    def __init__(self, root: Path, httpd: ThreadingHTTPServer):
        self.root = root
        self.base = f"http://127.0.0.1:{httpd.server_address[1]}"

    def put(self, name: str, data: bytes) -> str:
        (self.root / name).write_bytes(data)
        return self.url(name)

    def url(self, name: str) -> str:
        return f"{self.base}/{name}"


@pytest.fixture
def web(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    httpd = serve(functools.partial(QuietFiles, directory=str(root)))
    yield Web(root, httpd)
    httpd.shutdown()
    httpd.server_close()


class FakeS3:
    """Answers path-style GET /<bucket>/<key> from `objects`; records every request."""

    def __init__(self):
        self.objects: dict[tuple[str, str], bytes] = {}
        self.requests: list[dict] = []
        fake = self

        class Handler(Quiet, BaseHTTPRequestHandler):
            def do_GET(self):
                path = urllib.parse.urlsplit(self.path).path
                bucket, _, key = path.lstrip("/").partition("/")
                bucket, key = urllib.parse.unquote(bucket), urllib.parse.unquote(key)
                fake.requests.append({"bucket": bucket, "key": key, "headers": dict(self.headers.items())})
                if not self.headers.get("Authorization"):
                    return self.reply(403, b"<Error><Code>AccessDenied</Code></Error>")
                body = fake.objects.get((bucket, key))
                if body is None:
                    return self.reply(404, b"<Error><Code>NoSuchKey</Code></Error>")
                self.reply(200, body, "application/octet-stream")

            def reply(self, status, body, content_type="application/xml"):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = serve(Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"


@pytest.fixture
def fake_s3():
    s3 = FakeS3()
    yield s3
    s3.httpd.shutdown()
    s3.httpd.server_close()


# Task helpers ----------------------------------------------------------------------------


def expect_error(code: str, call, **params) -> ClientError:
    with pytest.raises(ClientError) as caught:
        call(**params)
    assert error_code(caught.value) == code, caught.value.response["Error"]
    return caught.value


def import_snapshot(ec2, url: str | None = None, fmt: str | None = None, **extra) -> dict:
    container = dict(extra.pop("DiskContainer", {}))
    if url is not None:
        container["Url"] = url
    if fmt is not None:
        container["Format"] = fmt
    return ec2.import_snapshot(DiskContainer=container, **extra)


def snapshot_task(ec2, task_id: str) -> dict:
    [task] = ec2.describe_import_snapshot_tasks(ImportTaskIds=[task_id])["ImportSnapshotTasks"]
    return task


def image_task(ec2, task_id: str) -> dict:
    [task] = ec2.describe_import_image_tasks(ImportTaskIds=[task_id])["ImportImageTasks"]
    return task


def wait_snapshot_task(ec2, task_id: str, timeout: float = 30) -> dict:
    """Polls every 0.2 s until the task is completed or deleted; returns the task."""
    deadline = time.monotonic() + timeout
    while True:
        task = snapshot_task(ec2, task_id)
        if task["SnapshotTaskDetail"]["Status"] in ("completed", "deleted"):
            return task
        assert time.monotonic() < deadline, f"task still open after {timeout}s: {task}"
        time.sleep(0.2)


def wait_image_task(ec2, task_id: str, timeout: float = 30, seen: list | None = None) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        task = image_task(ec2, task_id)
        if seen is not None:
            seen.append((task["Status"], task.get("StatusMessage"), task.get("Progress")))
        if task["Status"] in ("completed", "deleted"):
            return task
        assert time.monotonic() < deadline, f"task still open after {timeout}s: {task}"
        time.sleep(0.2)


def completed_snapshot(ec2, url: str | None = None, fmt: str | None = None, **extra) -> tuple[str, dict]:
    task_id = import_snapshot(ec2, url, fmt, **extra)["ImportTaskId"]
    detail = wait_snapshot_task(ec2, task_id)["SnapshotTaskDetail"]
    assert detail["Status"] == "completed", detail
    return task_id, detail


def failed_snapshot(ec2, url: str, fmt: str | None = None) -> dict:
    task_id = import_snapshot(ec2, url, fmt)["ImportTaskId"]
    detail = wait_snapshot_task(ec2, task_id)["SnapshotTaskDetail"]
    assert detail["Status"] == "deleted", detail
    assert "SnapshotId" not in detail, detail
    return detail


def describe_snapshot(ec2, snapshot_id: str) -> dict:
    [snapshot] = ec2.describe_snapshots(SnapshotIds=[snapshot_id])["Snapshots"]
    return snapshot


def imported_snapshots(ec2, task_id: str) -> list[dict]:
    snapshots = ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]
    return [s for s in snapshots if s.get("Description") == f"Created by AWS-VMImport service for {task_id}"]


def ebs_client(endpoint: str):
    return boto3.session.Session().client(
        "ebs",
        endpoint_url=endpoint,
        region_name=DEFAULT_REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"mode": "standard", "max_attempts": 1}),
    )


def snapshot_blocks(endpoint: str, snapshot_id: str) -> tuple[int, dict[int, bytes]]:
    """(volume size in GiB, {block index: data}) of a snapshot, through the EBS direct API."""
    ebs = ebs_client(endpoint)
    blocks: dict[int, bytes] = {}
    volume_size = None
    params = {"SnapshotId": snapshot_id, "MaxResults": 10000}
    while True:
        page = ebs.list_snapshot_blocks(**params)
        volume_size = page["VolumeSize"]
        assert page["BlockSize"] == BLOCK
        for block in page.get("Blocks", []):
            index = block["BlockIndex"]
            assert index not in blocks, f"block {index} listed twice"
            data = ebs.get_snapshot_block(
                SnapshotId=snapshot_id, BlockIndex=index, BlockToken=block["BlockToken"]
            )["BlockData"].read()
            blocks[index] = data
        if not page.get("NextToken"):
            return volume_size, blocks
        params["NextToken"] = page["NextToken"]


def assert_snapshot_holds(endpoint: str, snapshot_id: str, raw: bytes) -> None:
    """The snapshot's disk is `raw` followed by zeros up to its volume size."""
    volume_size, blocks = snapshot_blocks(endpoint, snapshot_id)
    assert volume_size == math.ceil(len(raw) / GIB)
    volume_blocks = volume_size * GIB // BLOCK
    assert all(0 <= i < volume_blocks for i in blocks), sorted(blocks)
    zeros = bytes(BLOCK)
    for index in range(math.ceil(len(raw) / BLOCK)):
        expected = raw[index * BLOCK : (index + 1) * BLOCK].ljust(BLOCK, b"\0")
        assert blocks.get(index, zeros) == expected, f"block {index} differs"
    for index in blocks:
        if index * BLOCK >= len(raw):
            assert blocks[index] == zeros, f"block {index} past the source is not zero"


def tag_dict(tags: list[dict] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in tags or []}


# ImportSnapshot: every supported format ---------------------------------------------------


@pytest.mark.parametrize("name,fmt", [(name, fmt) for name, _, fmt in FORMATS], ids=[f[0] for f in FORMATS])
def test_import_snapshot_of_each_format_holds_the_source_bytes(server, ec2, web, disks, name, fmt):
    data = disks.data(name)
    url = web.put(f"disk.{name}", data)

    started = import_snapshot(ec2, url, fmt, Description=f"e2e {name}")
    task_id = started["ImportTaskId"]
    assert TASK_ID.match(task_id), task_id
    assert started["Description"] == f"e2e {name}"
    first = started["SnapshotTaskDetail"]
    assert (first["Status"], first["StatusMessage"], first["Progress"]) == ("active", "pending", "0")
    assert first["Url"] == url

    task = wait_snapshot_task(ec2, task_id)
    detail = task["SnapshotTaskDetail"]
    assert detail["Status"] == "completed", detail
    assert detail["Format"] == fmt
    assert detail["DiskImageSize"] == float(len(data))
    assert isinstance(detail["DiskImageSize"], float)
    assert detail["Url"] == url
    assert "Progress" not in detail and "StatusMessage" not in detail, detail
    assert detail["Encrypted"] is False

    snapshot = describe_snapshot(ec2, detail["SnapshotId"])
    assert snapshot["Description"] == f"Created by AWS-VMImport service for {task_id}"
    assert snapshot["State"] == "completed"
    assert snapshot["Progress"] == "100%"
    assert snapshot["VolumeId"] == "vol-ffffffff"
    assert snapshot["VolumeSize"] == math.ceil(RAW_SIZE / GIB) == 1
    assert snapshot["OwnerId"] == "000000000000"
    assert snapshot["Encrypted"] is False
    assert_snapshot_holds(server.url, detail["SnapshotId"], disks.raw)


def test_format_is_detected_when_not_given(server, ec2, web, disks):
    url = web.put("disk.vmdk", disks.data("vmdk-stream"))
    _, detail = completed_snapshot(ec2, url)
    assert detail["Format"] == "VMDK"
    assert_snapshot_holds(server.url, detail["SnapshotId"], disks.raw)


def test_snapshot_imported_waiter(server, ec2, web, disks):
    url = web.put("disk.vhdx", disks.data("vhdx"))
    task_id = import_snapshot(ec2, url, "VHDX")["ImportTaskId"]
    ec2.get_waiter("snapshot_imported").wait(ImportTaskIds=[task_id], WaiterConfig=WAITER)
    assert snapshot_task(ec2, task_id)["SnapshotTaskDetail"]["Status"] == "completed"


def test_client_token_makes_import_snapshot_idempotent(ec2, web, disks):
    url = web.put("disk.raw", disks.raw)
    first = import_snapshot(ec2, url, "RAW", ClientToken="token-1")["ImportTaskId"]
    assert import_snapshot(ec2, url, "RAW", ClientToken="token-1")["ImportTaskId"] == first
    other = import_snapshot(ec2, url, "RAW", ClientToken="token-2")["ImportTaskId"]
    assert other != first
    for task_id in (first, other):
        wait_snapshot_task(ec2, task_id)
    listed = ec2.describe_import_snapshot_tasks()["ImportSnapshotTasks"]
    assert sorted(t["ImportTaskId"] for t in listed) == sorted([first, other])
    assert len(imported_snapshots(ec2, first)) == 1
    expect_error(
        "IdempotentParameterMismatch",
        ec2.import_snapshot,
        DiskContainer={"Url": url, "Format": "VHD"},
        ClientToken="token-1",
    )


def test_encrypted_import_uses_the_default_ebs_key(ec2, web, disks):
    url = web.put("disk.raw", disks.raw)
    # Without KmsKeyId the account's default EBS key is used, as for an encrypted volume.
    default_key = ec2.create_volume(AvailabilityZone="us-east-1a", Size=1, Encrypted=True)["KmsKeyId"]
    _, detail = completed_snapshot(ec2, url, "RAW", Encrypted=True)
    assert detail["Encrypted"] is True
    snapshot = describe_snapshot(ec2, detail["SnapshotId"])
    assert snapshot["Encrypted"] is True
    assert snapshot.get("KmsKeyId") == default_key, snapshot


def test_encrypted_import_with_a_kms_key(server, ec2, web, disks):
    url = web.put("disk.raw", disks.raw)
    key = "arn:aws:kms:us-east-1:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    _, detail = completed_snapshot(ec2, url, "RAW", Encrypted=True, KmsKeyId=key)
    assert detail["KmsKeyId"] == key
    snapshot = describe_snapshot(ec2, detail["SnapshotId"])
    assert (snapshot["Encrypted"], snapshot["KmsKeyId"]) == (True, key)
    assert_snapshot_holds(server.url, detail["SnapshotId"], disks.raw)


# ImportSnapshot: failures -----------------------------------------------------------------


def test_monolithic_sparse_vmdk_is_refused(ec2, web, disks):
    url = web.put("sparse.vmdk", disks.data("vmdk_sparse"))
    assert failed_snapshot(ec2, url, "VMDK")["StatusMessage"] == UNSUPPORTED_VMDK


def test_qcow2_is_refused(ec2, web, disks):
    url = web.put("disk.qcow2", disks.data("qcow2"))
    assert failed_snapshot(ec2, url)["StatusMessage"] == UNSUPPORTED_FORMAT


def test_format_that_differs_from_the_file_is_refused(ec2, web, disks):
    url = web.put("disk.vmdk", disks.data("vmdk-stream"))
    assert failed_snapshot(ec2, url, "VHD")["StatusMessage"] == UNSUPPORTED_FORMAT


def test_missing_url_is_refused_with_404(ec2, web):
    detail = failed_snapshot(ec2, web.url("nothing-here.vhdx"), "VHDX")
    assert detail["StatusMessage"] == NOT_FOUND


def test_empty_file_is_refused(ec2, web):
    url = web.put("empty.raw", b"")
    detail = failed_snapshot(ec2, url, "RAW")
    assert detail["StatusMessage"] == EMPTY
    assert detail["DiskImageSize"] == 0.0


@pytest.mark.parametrize("name,fmt,keep", [("vhdx", "VHDX", 4 << 20), ("vmdk-stream", "VMDK", 200_000)])
def test_truncated_disk_is_refused_as_invalid(ec2, web, disks, name, fmt, keep):
    url = web.put(f"truncated.{name}", disks.data(name)[:keep])
    message = failed_snapshot(ec2, url, fmt)["StatusMessage"]
    assert message.startswith(f"{VALIDATION} [Invalid"), message


def test_a_disk_naming_a_parent_file_never_reads_it(server, ec2, web, tmp_path):
    """A VMDK whose parentFileNameHint points at a file of the server's machine: the
    import must not pull that file's bytes into the snapshot."""
    secret = tmp_path / "secret.raw"
    secret.write_bytes(b"secret!\n" * (RAW_SIZE // 8))
    parent = tmp_path / "parent.vmdk"
    child = tmp_path / "child.vmdk"
    qemu = ["qemu-img", "convert", "-f", "raw", "-O", "vmdk", "-o", "subformat=streamOptimized"]
    subprocess.run([*qemu, str(secret), str(parent)], check=True, capture_output=True)
    subprocess.run(
        ["qemu-img", "create", "-f", "vmdk", "-o", "subformat=streamOptimized", "-b", str(parent), "-F", "vmdk"]
        + [str(child)],
        check=True,
        capture_output=True,
    )
    task_id = import_snapshot(ec2, web.put("child.vmdk", child.read_bytes()), "VMDK")["ImportTaskId"]
    detail = wait_snapshot_task(ec2, task_id)["SnapshotTaskDetail"]
    assert (detail["Status"], detail["StatusMessage"]) == ("deleted", UNSUPPORTED_VMDK)
    assert imported_snapshots(ec2, task_id) == []


def test_failed_import_leaves_no_snapshot(ec2, web, disks):
    url = web.put("disk.qcow2", disks.data("qcow2"))
    task_id = import_snapshot(ec2, url)["ImportTaskId"]
    assert wait_snapshot_task(ec2, task_id)["SnapshotTaskDetail"]["Status"] == "deleted"
    assert imported_snapshots(ec2, task_id) == []


# ImportSnapshot from S3 -------------------------------------------------------------------


def assert_signed_for_s3(request: dict) -> None:
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert SIGV4_S3.match(headers.get("authorization", "")), headers
    assert "x-amz-date" in headers, headers
    assert "x-amz-content-sha256" in headers, headers


def test_s3_url_is_read_signed_from_the_s3_endpoint(start_server, fake_s3, disks):
    server = start_server("--s3-endpoint", fake_s3.url)
    ec2 = make_client(server.url)
    fake_s3.objects[("imports", "disks/root disk.vhdx")] = disks.data("vhdx")

    task_id, detail = completed_snapshot(ec2, "s3://imports/disks/root disk.vhdx", "VHDX")
    assert detail["Format"] == "VHDX"
    assert detail["UserBucket"] == {"S3Bucket": "imports", "S3Key": "disks/root disk.vhdx"}
    [request] = fake_s3.requests
    assert (request["bucket"], request["key"]) == ("imports", "disks/root disk.vhdx")
    assert_signed_for_s3(request)
    assert_snapshot_holds(server.url, detail["SnapshotId"], disks.raw)


def test_user_bucket_is_read_signed_from_the_s3_endpoint(start_server, fake_s3, disks):
    server = start_server("--s3-endpoint", fake_s3.url)
    ec2 = make_client(server.url)
    fake_s3.objects[("my-bucket", "vm.vmdk")] = disks.data("vmdk-stream")

    bucket = {"S3Bucket": "my-bucket", "S3Key": "vm.vmdk"}
    _, detail = completed_snapshot(ec2, DiskContainer={"UserBucket": bucket, "Format": "VMDK"})
    assert detail["UserBucket"] == bucket
    assert detail["Format"] == "VMDK"
    [request] = fake_s3.requests
    assert (request["bucket"], request["key"]) == ("my-bucket", "vm.vmdk")
    assert_signed_for_s3(request)
    assert_snapshot_holds(server.url, detail["SnapshotId"], disks.raw)


def test_missing_s3_key_is_refused_with_404(start_server, fake_s3):
    server = start_server("--s3-endpoint", fake_s3.url)
    ec2 = make_client(server.url)
    detail = failed_snapshot(ec2, "s3://imports/absent.vhdx", "VHDX")
    assert detail["StatusMessage"] == NOT_FOUND
    assert_signed_for_s3(fake_s3.requests[0])


def test_s3_source_without_an_s3_endpoint_fails_at_once(ec2):
    for container in (
        {"Url": "s3://imports/disk.vhdx", "Format": "VHDX"},
        {"UserBucket": {"S3Bucket": "imports", "S3Key": "disk.vhdx"}, "Format": "VHDX"},
    ):
        err = expect_error("InvalidParameter", ec2.import_snapshot, DiskContainer=container)
        assert "--s3-endpoint" in err.response["Error"]["Message"]
    assert ec2.describe_import_snapshot_tasks()["ImportSnapshotTasks"] == []


# ImportImage -------------------------------------------------------------------------------


def test_import_image_makes_a_launchable_ami(server, ec2, web, disks):
    url = web.put("root.vmdk", disks.data("vmdk-stream"))
    started = ec2.import_image(DiskContainers=[{"Url": url, "Format": "VMDK"}])
    task_id = started["ImportTaskId"]
    assert IMAGE_TASK_ID.match(task_id), task_id
    assert started["Status"] == "active"

    task = wait_image_task(ec2, task_id)
    assert task["Status"] == "completed", task
    assert (task["Architecture"], task["Platform"], task["LicenseType"]) == ("x86_64", "Linux", "BYOL")
    [disk] = task["SnapshotDetails"]
    assert disk["DeviceName"] == "/dev/sda1"
    assert disk["Status"] == "completed"
    assert disk["Format"] == "VMDK"
    assert disk["DiskImageSize"] == float(len(disks.data("vmdk-stream")))
    assert "Progress" not in task and "StatusMessage" not in task, task

    [image] = ec2.describe_images(ImageIds=[task["ImageId"]])["Images"]
    assert image["Name"] == task_id
    assert image["State"] == "available"
    assert image["RootDeviceName"] == "/dev/sda1"
    assert image["RootDeviceType"] == "ebs"
    assert image["Architecture"] == "x86_64"
    assert image["OwnerId"] == "000000000000"
    assert image["Description"] == "AWS-VMImport service: Linux - Other Linux"
    assert "Platform" not in image
    root = {m["DeviceName"]: m for m in image["BlockDeviceMappings"]}["/dev/sda1"]
    assert root["Ebs"]["SnapshotId"] == disk["SnapshotId"]
    assert_snapshot_holds(server.url, disk["SnapshotId"], disks.raw)

    launched = ec2.run_instances(ImageId=image["ImageId"], InstanceType="t3.micro", MinCount=1, MaxCount=1)
    [instance] = launched["Instances"]
    assert instance["ImageId"] == image["ImageId"]
    ec2.get_waiter("instance_running").wait(InstanceIds=[instance["InstanceId"]], WaiterConfig=WAITER)


def test_import_image_roots_the_ami_at_the_first_disks_device(ec2, web, disks):
    url = web.put("root.raw", disks.raw)
    data = web.put("data.raw", disks.raw)
    task_id = ec2.import_image(
        DiskContainers=[{"Url": url, "DeviceName": "/dev/xvda"}, {"Url": data}]
    )["ImportTaskId"]
    task = wait_image_task(ec2, task_id)
    assert [d["DeviceName"] for d in task["SnapshotDetails"]] == ["/dev/xvda", "/dev/sdb"]
    [image] = ec2.describe_images(ImageIds=[task["ImageId"]])["Images"]
    assert image["RootDeviceName"] == "/dev/xvda"
    assert sorted(m["DeviceName"] for m in image["BlockDeviceMappings"]) == ["/dev/sdb", "/dev/xvda"]


class Stalled(Quiet, BaseHTTPRequestHandler):
    """Sends the start of a large file, then stalls."""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(1 << 30))
        self.end_headers()
        self.wfile.write(b"\0" * 65536)
        self.wfile.flush()
        time.sleep(60)


def test_cancel_stops_a_stalled_download(ec2):
    httpd = serve(Stalled)
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/disk.raw"
        task_id = import_snapshot(ec2, url, "RAW")["ImportTaskId"]
        time.sleep(0.5)
        assert ec2.cancel_import_task(ImportTaskId=task_id)["State"] == "deleting"
        detail = wait_snapshot_task(ec2, task_id, timeout=10)["SnapshotTaskDetail"]
        assert detail["Status"] == "deleted"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_import_image_reports_each_step(start_server, web, disks):
    server = start_server("--import-step-ms", "150")
    ec2 = make_client(server.url)
    url = web.put("root.raw", disks.raw)
    task_id = ec2.import_image(DiskContainers=[{"Url": url}], Description="stepped")["ImportTaskId"]
    seen: list = []
    task = wait_image_task(ec2, task_id, seen=seen)
    assert task["Status"] == "completed", task
    open_steps = [(message, progress) for status, message, progress in seen if status == "active"]
    assert open_steps, seen
    order = [IMAGE_STEPS.index(step) for step in open_steps]  # raises if a step is unknown
    assert order == sorted(order), seen
    [image] = ec2.describe_images(ImageIds=[task["ImageId"]])["Images"]
    assert image["Description"] == "stepped"


def test_import_image_for_windows(ec2, web, disks):
    url = web.put("win.vhd", disks.data("vhd-dynamic"))
    task_id = ec2.import_image(
        DiskContainers=[{"Url": url, "Format": "VHD"}], Platform="Windows", LicenseType="AWS"
    )["ImportTaskId"]
    task = wait_image_task(ec2, task_id)
    assert task["Status"] == "completed", task
    assert (task["Platform"], task["LicenseType"]) == ("Windows", "AWS")
    [image] = ec2.describe_images(ImageIds=[task["ImageId"]])["Images"]
    assert image["Platform"] == "windows"
    assert image["PlatformDetails"] == "Windows"
    assert image["Description"] == "AWS-VMImport service: Windows - Other Windows"


def test_import_image_without_a_boot_sector_fails(ec2, web):
    url = web.put("data.raw", raw_disk(boot=False))
    task_id = ec2.import_image(DiskContainers=[{"Url": url, "Format": "RAW"}])["ImportTaskId"]
    task = wait_image_task(ec2, task_id)
    assert task["Status"] == "deleted", task
    assert task["StatusMessage"] == UNKNOWN_OS
    assert "ImageId" not in task
    assert ec2.describe_images(Owners=["self"])["Images"] == []


def test_import_image_from_an_imported_snapshot(server, ec2, web, disks):
    url = web.put("disk.vhdx", disks.data("vhdx"))
    _, snap = completed_snapshot(ec2, url, "VHDX")

    task_id = ec2.import_image(DiskContainers=[{"SnapshotId": snap["SnapshotId"]}], Architecture="arm64")[
        "ImportTaskId"
    ]
    task = wait_image_task(ec2, task_id)
    assert task["Status"] == "completed", task
    assert task["Architecture"] == "arm64"
    [disk] = task["SnapshotDetails"]
    assert disk["DeviceName"] == "/dev/sda1"
    [image] = ec2.describe_images(ImageIds=[task["ImageId"]])["Images"]
    assert image["Architecture"] == "arm64"
    root = {m["DeviceName"]: m for m in image["BlockDeviceMappings"]}["/dev/sda1"]
    assert root["Ebs"]["SnapshotId"] == disk["SnapshotId"]
    assert_snapshot_holds(server.url, disk["SnapshotId"], disks.raw)


# Describe: filters, ids, paging, tags ------------------------------------------------------


def test_describe_filters_by_task_state(ec2, web, disks):
    good, _ = completed_snapshot(ec2, web.put("disk.raw", disks.raw), "RAW")
    bad = import_snapshot(ec2, web.url("missing.raw"), "RAW")["ImportTaskId"]
    assert wait_snapshot_task(ec2, bad)["SnapshotTaskDetail"]["Status"] == "deleted"

    def ids(*states):
        tasks = ec2.describe_import_snapshot_tasks(Filters=[{"Name": "task-state", "Values": list(states)}])
        return sorted(t["ImportTaskId"] for t in tasks["ImportSnapshotTasks"])

    assert ids("completed") == [good]
    assert ids("deleted") == [bad]
    assert ids("completed", "deleted") == sorted([good, bad])
    assert ids("active") == []
    everything = ec2.describe_import_snapshot_tasks()["ImportSnapshotTasks"]
    assert sorted(t["ImportTaskId"] for t in everything) == sorted([good, bad])
    # Image tasks are listed apart.
    assert ec2.describe_import_image_tasks()["ImportImageTasks"] == []


def test_describe_refuses_an_unknown_filter(ec2):
    expect_error(
        "InvalidParameterValue",
        ec2.describe_import_snapshot_tasks,
        Filters=[{"Name": "status", "Values": ["completed"]}],
    )
    expect_error(
        "InvalidParameterValue",
        ec2.describe_import_image_tasks,
        Filters=[{"Name": "image-id", "Values": ["ami-12345678"]}],
    )


def test_describe_unknown_or_malformed_task_ids(ec2, web, disks):
    for task_id in (UNKNOWN_SNAP_TASK, "snap-0123456789abcdef0", "import-snap-zz"):
        expect_error(MALFORMED, ec2.describe_import_snapshot_tasks, ImportTaskIds=[task_id])
    expect_error(MALFORMED, ec2.describe_import_image_tasks, ImportTaskIds=["import-ami-0123456789abcdef0"])
    known, _ = completed_snapshot(ec2, web.put("disk.raw", disks.raw), "RAW")
    expect_error(MALFORMED, ec2.describe_import_snapshot_tasks, ImportTaskIds=[known, UNKNOWN_SNAP_TASK])
    # A snapshot task is not an image task.
    expect_error(MALFORMED, ec2.describe_import_image_tasks, ImportTaskIds=[known])


def test_describe_pages_through_every_task_once(ec2, web, disks):
    url = web.put("disk.raw", disks.raw)
    created = {import_snapshot(ec2, url, "RAW")["ImportTaskId"] for _ in range(3)}
    for task_id in created:
        wait_snapshot_task(ec2, task_id)

    seen, pages, token = [], 0, None
    while True:
        params = {"MaxResults": 1, **({"NextToken": token} if token else {})}
        page = ec2.describe_import_snapshot_tasks(**params)
        pages += 1
        assert len(page["ImportSnapshotTasks"]) <= 1
        seen += [t["ImportTaskId"] for t in page["ImportSnapshotTasks"]]
        token = page.get("NextToken")
        if not token:
            break
        assert pages < 10, "paging does not end"
    assert sorted(seen) == sorted(created)
    assert len(seen) == 3


def test_tags_from_tag_specifications_are_shown(ec2, web, disks):
    url = web.put("disk.raw", disks.raw)
    started = import_snapshot(
        ec2,
        url,
        "RAW",
        TagSpecifications=[{"ResourceType": "import-snapshot-task", "Tags": [{"Key": "team", "Value": "vm"}]}],
    )
    assert tag_dict(started.get("Tags")) == {"team": "vm"}
    task = wait_snapshot_task(ec2, started["ImportTaskId"])
    assert tag_dict(task.get("Tags")) == {"team": "vm"}

    image = ec2.import_image(
        DiskContainers=[{"Url": url}],
        TagSpecifications=[{"ResourceType": "import-image-task", "Tags": [{"Key": "os", "Value": "linux"}]}],
    )
    assert tag_dict(image.get("Tags")) == {"os": "linux"}
    assert tag_dict(wait_image_task(ec2, image["ImportTaskId"]).get("Tags")) == {"os": "linux"}


# CancelImportTask --------------------------------------------------------------------------


def test_cancel_an_active_snapshot_import(start_server, web, disks):
    server = start_server("--import-step-ms", "500")
    ec2 = make_client(server.url)
    url = web.put("disk.vhdx", disks.data("vhdx"))
    task_id = import_snapshot(ec2, url, "VHDX")["ImportTaskId"]

    cancelled = ec2.cancel_import_task(ImportTaskId=task_id, CancelReason="changed my mind")
    assert (cancelled["ImportTaskId"], cancelled["PreviousState"], cancelled["State"]) == (
        task_id,
        "active",
        "deleting",
    )
    assert snapshot_task(ec2, task_id)["SnapshotTaskDetail"]["Status"] in ("deleting", "deleted")
    # A task being deleted can no longer be cancelled.
    if snapshot_task(ec2, task_id)["SnapshotTaskDetail"]["Status"] == "deleting":
        expect_error("InvalidParameterValue", ec2.cancel_import_task, ImportTaskId=task_id)

    detail = wait_snapshot_task(ec2, task_id)["SnapshotTaskDetail"]
    assert detail["Status"] == "deleted", detail
    assert "SnapshotId" not in detail
    time.sleep(1.5)  # past the steps the task would have taken
    assert snapshot_task(ec2, task_id)["SnapshotTaskDetail"]["Status"] == "deleted"
    assert imported_snapshots(ec2, task_id) == []
    assert ec2.describe_import_snapshot_tasks(Filters=[{"Name": "task-state", "Values": ["deleted"]}])[
        "ImportSnapshotTasks"
    ][0]["ImportTaskId"] == task_id


def test_cancel_an_active_image_import(start_server, web, disks):
    server = start_server("--import-step-ms", "500")
    ec2 = make_client(server.url)
    task_id = ec2.import_image(DiskContainers=[{"Url": web.put("root.raw", disks.raw)}])["ImportTaskId"]
    cancelled = ec2.cancel_import_task(ImportTaskId=task_id)
    assert (cancelled["PreviousState"], cancelled["State"]) == ("active", "deleting")
    task = wait_image_task(ec2, task_id)
    assert task["Status"] == "deleted", task
    assert "ImageId" not in task
    assert ec2.describe_images(Owners=["self"])["Images"] == []
    assert imported_snapshots(ec2, task_id) == []


def test_cancel_refuses_completed_and_unknown_tasks(ec2, web, disks):
    task_id, _ = completed_snapshot(ec2, web.put("disk.raw", disks.raw), "RAW")
    expect_error("InvalidParameterValue", ec2.cancel_import_task, ImportTaskId=task_id)
    assert snapshot_task(ec2, task_id)["SnapshotTaskDetail"]["Status"] == "completed"
    expect_error(MALFORMED, ec2.cancel_import_task, ImportTaskId=UNKNOWN_SNAP_TASK)
    expect_error(MALFORMED, ec2.cancel_import_task, ImportTaskId="bogus")


# Restart ---------------------------------------------------------------------------------


def test_active_task_survives_a_sigkill(start_server, web, disks):
    server = start_server("--import-step-ms", "300")
    ec2 = make_client(server.url)
    url = web.put("disk.vmdk", disks.data("vmdk-stream"))
    task_id = import_snapshot(ec2, url, "VMDK")["ImportTaskId"]
    time.sleep(0.4)
    assert snapshot_task(ec2, task_id)["SnapshotTaskDetail"]["Status"] == "active"

    server.kill()
    server.start()
    ec2 = make_client(server.url)

    detail = wait_snapshot_task(ec2, task_id)["SnapshotTaskDetail"]
    assert detail["Status"] == "completed", detail
    assert detail["Format"] == "VMDK"
    [snapshot] = imported_snapshots(ec2, task_id)
    assert snapshot["SnapshotId"] == detail["SnapshotId"]
    assert_snapshot_holds(server.url, detail["SnapshotId"], disks.raw)


# aws-cli -----------------------------------------------------------------------------------


def test_aws_cli_import_snapshot_and_wait(aws, web, disks):
    url = web.put("disk.vhdx", disks.data("vhdx"))
    started = aws.ok("import-snapshot", "--disk-container", f"Format=VHDX,Url={url}", "--description", "from cli")
    task_id = started["ImportTaskId"]
    assert TASK_ID.match(task_id)
    assert started["SnapshotTaskDetail"]["Status"] == "active"

    assert aws.ok("wait", "snapshot-imported", "--import-task-ids", task_id) is None

    listed = aws.ok("describe-import-snapshot-tasks", "--filters", "Name=task-state,Values=completed")
    [task] = listed["ImportSnapshotTasks"]
    assert task["ImportTaskId"] == task_id
    assert task["Description"] == "from cli"
    detail = task["SnapshotTaskDetail"]
    assert (detail["Status"], detail["Format"]) == ("completed", "VHDX")
    assert detail["DiskImageSize"] == float(len(disks.data("vhdx")))
    assert aws.ok("describe-import-snapshot-tasks", "--filters", "Name=task-state,Values=active")[
        "ImportSnapshotTasks"
    ] == []
