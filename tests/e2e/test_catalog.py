"""The public image catalog and the late image lifecycle, through boto3 and aws-cli.

* Pagination at scale: 2,500 images of one publisher (a `--catalog` file) walked with
  every page size a user picks, by boto3's paginator and by aws-cli's auto-pagination.
* The searches users run against the built-in catalog (Terraform's `aws_ami`, Ubuntu by
  Canonical's account, Windows, arm64, marketplace, tags, dates, deprecated images), each
  compared with the exact set computed here from `catalog/default.json`, in two regions.
* Deprecation, disabling and deregistration protection of an image the caller registers.
"""

from __future__ import annotations

import copy
import functools
import json
import math
import os
import re
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import botocore.session
import pytest
from botocore.exceptions import ClientError

from support import REPO_ROOT, AwsCli, Server, ec2lite_bin, error_code, make_client, make_snapshot, register

CATALOG_PATH = REPO_ROOT / "catalog" / "default.json"
CATALOG: list[dict] = json.loads(CATALOG_PATH.read_text())["images"]
CATALOG_KEYS = sorted(CATALOG[0])

# Every search runs in two regions, to show the catalog is in each of them.
REGIONS = ["us-east-1", "ap-southeast-2"]

CANONICAL = "099720109477"
OTHER_ACCOUNT = "444455556666"
THIRD_ACCOUNT = "777788889999"


# Expected sets, computed from the catalog file ----------------------------------------------


def parse_time(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def is_deprecated(entry: dict, now: datetime | None = None) -> bool:
    at = entry["deprecation_time"]
    return at is not None and parse_time(at) <= (now or utcnow())


def entry_key(entry: dict) -> tuple[str, str]:
    return (entry["owner_id"], entry["name"])


def image_key(image: dict) -> tuple[str, str]:
    return (image["OwnerId"], image["Name"])


def expected(predicate, include_deprecated: bool = False) -> set[tuple[str, str]]:
    """(owner id, name) of the catalog entries a non-owner finds with `predicate`."""
    now = utcnow()
    return {entry_key(e) for e in CATALOG if predicate(e) and (include_deprecated or not is_deprecated(e, now))}


def keys_of(images: list[dict]) -> set[tuple[str, str]]:
    """The (owner id, name) set of `images`, asserting that none appears twice."""
    keys = [image_key(i) for i in images]
    assert len(keys) == len(set(keys)), f"duplicates in {sorted(keys)}"
    return set(keys)


def ec2_wildcard(pattern: str, text: str | None) -> bool:
    """EC2's filter matching: case-sensitive, `*` any run, `?` zero or one character."""
    if text is None:
        return False
    regex = "".join(".*" if c == "*" else ".?" if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, text, re.DOTALL) is not None


@functools.lru_cache(maxsize=None)
def client(url: str, region: str = "us-east-1", access_key: str = "test"):
    """A boto3 client reused across the read-only tests of one server (clients are slow to make)."""
    return make_client(url, region, access_key)


def describe_all(ec2, **params) -> list[dict]:
    """Every image of a DescribeImages query, through boto3's paginator."""
    images: list[dict] = []
    for page in ec2.get_paginator("describe_images").paginate(**params):
        images.extend(page["Images"])
    return images


def expect_error(code: str, call, **params) -> ClientError:
    with pytest.raises(ClientError) as caught:
        call(**params)
    assert error_code(caught.value) == code, caught.value.response["Error"]
    return caught.value


def ebs(entry: dict) -> bool:
    return entry["root_device_type"] == "ebs"


# Fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def catalog_server(tmp_path_factory):
    """One server with the built-in catalog, shared by the read-only searches."""
    base = tmp_path_factory.mktemp("catalog-server")
    server = Server(base / "data", base / "logs")
    server.start()
    yield server
    if server.proc is not None:
        server.stop()


SCALE_OWNER = "111122223333"
SCALE_COUNT = 2500


def scale_entries(count: int, owner: str = SCALE_OWNER, prefix: str = "scale") -> list[dict]:
    """`count` catalog entries of one publisher with no alias, copied from a built-in one."""
    template = next(e for e in CATALOG if e["owner_alias"] is None and ebs(e) and not e["product_codes"])
    base = datetime(2025, 1, 1, tzinfo=timezone.utc)
    entries = []
    for i in range(count):
        entry = copy.deepcopy(template)
        name = f"{prefix}-image-{i:05d}"
        entry.update(
            name=name,
            description=f"{prefix} image number {i}",
            owner_id=owner,
            owner_alias=None,
            image_location=f"{owner}/{name}",
            creation_date=(base + timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            deprecation_time=None,
        )
        entries.append(entry)
    return entries


def write_catalog(path: Path, entries: list[dict]) -> Path:
    path.write_text(json.dumps({"images": entries}))
    return path


@pytest.fixture(scope="module")
def scale_server(tmp_path_factory):
    """A server whose only catalog is 2,500 images of SCALE_OWNER, and the id -> name map
    of those images from one unpaginated call."""
    base = tmp_path_factory.mktemp("scale-server")
    catalog = write_catalog(base / "scale.json", scale_entries(SCALE_COUNT))
    server = Server(base / "data", base / "logs", ("--no-catalog", "--catalog", str(catalog)))
    server.start()
    ec2 = make_client(server.url)
    images = ec2.describe_images(Owners=[SCALE_OWNER])["Images"]
    reference = {i["ImageId"]: i["Name"] for i in images}
    assert len(images) == SCALE_COUNT
    assert len(reference) == SCALE_COUNT
    assert sorted(reference.values()) == [f"scale-image-{i:05d}" for i in range(SCALE_COUNT)]
    yield server, reference
    if server.proc is not None:
        server.stop()


# 1. Pagination at scale --------------------------------------------------------------------


def logged_requests(server: Server, action: str) -> int:
    """How many `action` requests the server has logged (one line per request)."""
    return server.log_path.read_text(errors="replace").count(f'action="{action}"')



@pytest.mark.parametrize("page_size", [5, 7, 1000])
def test_boto3_paginator_sees_every_image_once(scale_server, page_size):
    server, reference = scale_server
    ec2 = make_client(server.url)
    before = logged_requests(server, "DescribeImages")
    pages = list(
        ec2.get_paginator("describe_images").paginate(
            Owners=[SCALE_OWNER], PaginationConfig={"PageSize": page_size}
        )
    )
    assert logged_requests(server, "DescribeImages") - before == len(pages)
    ids = [i["ImageId"] for page in pages for i in page["Images"]]
    assert len(ids) == SCALE_COUNT
    assert len(set(ids)) == SCALE_COUNT
    assert set(ids) == set(reference)
    assert all(len(page["Images"]) <= page_size for page in pages), [len(p["Images"]) for p in pages]
    assert len(pages) >= math.ceil(SCALE_COUNT / page_size)
    assert all(page.get("NextToken") for page in pages[:-1])
    assert not pages[-1].get("NextToken"), "the last page carries a NextToken"


def test_paginator_of_the_owner_under_self(scale_server):
    """The publisher's own key sees the same images under Owners=['self']."""
    server, reference = scale_server
    owner = make_client(server.url, access_key=SCALE_OWNER)
    pages = list(
        owner.get_paginator("describe_images").paginate(Owners=["self"], PaginationConfig={"PageSize": 1000})
    )
    ids = [i["ImageId"] for page in pages for i in page["Images"]]
    assert len(ids) == SCALE_COUNT and set(ids) == set(reference)
    assert [len(p["Images"]) <= 1000 for p in pages] == [True] * len(pages)


@pytest.mark.parametrize("page_size", [5, 7, 1000])
def test_cli_page_size_sees_every_image_once(scale_server, tmp_path, page_size):
    server, reference = scale_server
    aws = AwsCli(server, tmp_path)
    before = logged_requests(server, "DescribeImages")
    out = aws.ok("describe-images", "--owners", SCALE_OWNER, "--page-size", str(page_size))
    assert logged_requests(server, "DescribeImages") - before >= math.ceil(SCALE_COUNT / page_size)
    ids = [i["ImageId"] for i in out["Images"]]
    assert len(ids) == SCALE_COUNT
    assert len(set(ids)) == SCALE_COUNT
    assert set(ids) == set(reference)
    assert {i["Name"] for i in out["Images"]} == set(reference.values())
    assert "NextToken" not in out


def test_max_results_bounds(scale_server):
    server, reference = scale_server
    ec2 = make_client(server.url)
    for too_small in (1, 4):
        expect_error("InvalidParameterValue", ec2.describe_images, Owners=[SCALE_OWNER], MaxResults=too_small)
    some_id = next(iter(reference))
    expect_error("InvalidParameterCombination", ec2.describe_images, ImageIds=[some_id], MaxResults=5)
    smallest = ec2.describe_images(Owners=[SCALE_OWNER], MaxResults=5)
    assert len(smallest["Images"]) == 5 and smallest.get("NextToken")
    # Above 1000 is clamped to 1000, not refused.
    clamped = ec2.describe_images(Owners=[SCALE_OWNER], MaxResults=5000)
    assert len(clamped["Images"]) == 1000
    assert clamped.get("NextToken")
    exact = ec2.describe_images(Owners=[SCALE_OWNER], MaxResults=1000)
    assert [i["ImageId"] for i in exact["Images"]] == [i["ImageId"] for i in clamped["Images"]]
    # The token continues where the page stopped, and is opaque (not an image id).
    token = clamped["NextToken"]
    assert token not in reference and not token.startswith("ami-")
    rest = describe_all(ec2, Owners=[SCALE_OWNER], NextToken=token, PaginationConfig={"PageSize": 1000})
    assert {i["ImageId"] for i in clamped["Images"]} | {i["ImageId"] for i in rest} == set(reference)
    assert len(clamped["Images"]) + len(rest) == SCALE_COUNT


def test_cli_page_size_below_minimum_is_refused(scale_server, tmp_path):
    server, _ = scale_server
    aws = AwsCli(server, tmp_path)
    stderr = aws.err("describe-images", "--owners", SCALE_OWNER, "--page-size", "4")
    assert "InvalidParameterValue" in stderr


# 2. Searches against the built-in catalog --------------------------------------------------


def test_catalog_file_is_a_real_catalog():
    """Guards the expectations below against a catalog that would make them vacuous."""
    assert len(CATALOG) >= 50
    assert all(sorted(e) == CATALOG_KEYS for e in CATALOG)
    assert len({entry_key(e) for e in CATALOG}) == len(CATALOG)
    now = utcnow()
    assert any(is_deprecated(e, now) for e in CATALOG)
    assert any(not is_deprecated(e, now) for e in CATALOG)
    assert {e["owner_alias"] for e in CATALOG} == {"amazon", "aws-marketplace", None}


@pytest.mark.parametrize("region", REGIONS)
def test_every_catalog_image_is_served_as_written(catalog_server, region):
    ec2 = client(catalog_server.url, region)
    images = ec2.describe_images(IncludeDeprecated=True)["Images"]
    assert keys_of(images) == {entry_key(e) for e in CATALOG}
    by_key = {image_key(i): i for i in images}
    for entry in CATALOG:
        image = by_key[entry_key(entry)]
        want = {
            "Name": entry["name"],
            "Description": entry["description"],
            "OwnerId": entry["owner_id"],
            "ImageOwnerAlias": entry["owner_alias"],
            "Architecture": entry["architecture"],
            "VirtualizationType": entry["virtualization_type"],
            "RootDeviceType": entry["root_device_type"],
            "RootDeviceName": entry["root_device_name"],
            "ImageLocation": entry["image_location"],
            "EnaSupport": entry["ena_support"],
            "SriovNetSupport": entry["sriov_net_support"],
            "BootMode": entry["boot_mode"],
            "TpmSupport": entry["tpm_support"],
            "ImdsSupport": entry["imds_support"],
            "Platform": entry["platform"],
            "PlatformDetails": entry["platform_details"],
            "UsageOperation": entry["usage_operation"],
            "KernelId": entry["kernel_id"],
            "RamdiskId": entry["ramdisk_id"],
            "CreationDate": entry["creation_date"],
            "DeprecationTime": entry["deprecation_time"],
            "ProductCodes": [{"ProductCodeId": c["id"], "ProductCodeType": c["type"]} for c in entry["product_codes"]],
            "State": "available",
            "Public": True,
            "ImageType": "machine",
        }
        got = {k: image.get(k) for k in want}
        assert got == want, entry["name"]
        assert image["ImageId"].startswith("ami-")
        roots = [m for m in image["BlockDeviceMappings"] if m["DeviceName"] == entry["root_device_name"]]
        if ebs(entry):
            [root] = roots
            assert root["Ebs"]["SnapshotId"].startswith("snap-")
            if entry["volume_size"] is not None:
                assert root["Ebs"]["VolumeSize"] == entry["volume_size"]
            if entry["volume_type"] is not None:
                assert root["Ebs"]["VolumeType"] == entry["volume_type"]
        else:
            assert all("Ebs" not in m for m in image["BlockDeviceMappings"]), image["BlockDeviceMappings"]
        for extra in entry["extra_mappings"]:
            assert {"DeviceName": extra["device_name"], "VirtualName": extra["virtual_name"]} in image[
                "BlockDeviceMappings"
            ]


@pytest.mark.parametrize("region", REGIONS)
def test_terraform_aws_ami_most_recent_al2023(catalog_server, region):
    """data "aws_ami" { most_recent = true, owners = ["amazon"],
    filter { name = "name", values = ["al2023-ami-2023.*-kernel-6.1-x86_64"] } }"""
    ec2 = client(catalog_server.url, region)
    pattern = "al2023-ami-2023.*-kernel-6.1-x86_64"
    images = ec2.describe_images(Owners=["amazon"], Filters=[{"Name": "name", "Values": [pattern]}])["Images"]

    def standard_al2023_x86(e):
        return (
            e["owner_alias"] == "amazon"
            and e["name"].startswith("al2023-ami-2023.")
            and e["name"].endswith("-kernel-6.1-x86_64")
        )

    want = expected(standard_al2023_x86)
    assert len(want) >= 2
    assert keys_of(images) == want
    assert all(not i["Name"].startswith("al2023-ami-minimal") for i in images)
    # most_recent: the newest by creation date.
    newest = max((e for e in CATALOG if entry_key(e) in want), key=lambda e: parse_time(e["creation_date"]))
    most_recent = max(images, key=lambda i: parse_time(i["CreationDate"]))
    assert most_recent["Name"] == newest["name"]
    assert most_recent["CreationDate"] == newest["creation_date"]
    # The deprecated releases are there when asked for.
    with_deprecated = ec2.describe_images(
        Owners=["amazon"], Filters=[{"Name": "name", "Values": [pattern]}], IncludeDeprecated=True
    )["Images"]
    assert keys_of(with_deprecated) == expected(standard_al2023_x86, include_deprecated=True)


@pytest.mark.parametrize("region", REGIONS)
def test_ubuntu_noble_arm64_by_canonical_account(catalog_server, region):
    ec2 = client(catalog_server.url, region)
    pattern = "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-arm64-server-*"
    images = ec2.describe_images(Owners=[CANONICAL], Filters=[{"Name": "name", "Values": [pattern]}])["Images"]
    want = expected(
        lambda e: e["owner_id"] == CANONICAL
        and e["name"].startswith("ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-arm64-server-")
    )
    assert len(want) >= 2
    assert keys_of(images) == want
    assert {i["Architecture"] for i in images} == {"arm64"}
    assert all("ImageOwnerAlias" not in i for i in images)
    # The same search by the owner-id filter instead of Owners.
    by_filter = ec2.describe_images(
        Filters=[{"Name": "owner-id", "Values": [CANONICAL]}, {"Name": "name", "Values": [pattern]}]
    )["Images"]
    assert keys_of(by_filter) == want


@pytest.mark.parametrize("region", REGIONS)
def test_windows_by_platform(catalog_server, region):
    ec2 = client(catalog_server.url, region)
    images = describe_all(ec2, Filters=[{"Name": "platform", "Values": ["windows"]}])
    want = expected(lambda e: e["platform"] == "windows")
    assert len(want) >= 2
    assert keys_of(images) == want
    assert {(i["Platform"], i["PlatformDetails"]) for i in images} == {("windows", "Windows")}


@pytest.mark.parametrize("region", REGIONS)
def test_arm64_from_amazon(catalog_server, region):
    ec2 = client(catalog_server.url, region)
    images = describe_all(ec2, Owners=["amazon"], Filters=[{"Name": "architecture", "Values": ["arm64"]}])
    want = expected(lambda e: e["owner_alias"] == "amazon" and e["architecture"] == "arm64")
    assert len(want) >= 2
    assert keys_of(images) == want


@pytest.mark.parametrize("region", REGIONS)
@pytest.mark.parametrize(
    "name, value, predicate",
    [
        ("root-device-type", "instance-store", lambda e: e["root_device_type"] == "instance-store"),
        ("virtualization-type", "paravirtual", lambda e: e["virtualization_type"] == "paravirtual"),
    ],
)
def test_deprecated_legacy_images_need_include_deprecated(catalog_server, region, name, value, predicate):
    ec2 = client(catalog_server.url, region)
    filters = [{"Name": name, "Values": [value]}]
    everything = expected(predicate, include_deprecated=True)
    assert everything, f"the catalog has no {name}={value} image"
    with_deprecated = ec2.describe_images(Filters=filters, IncludeDeprecated=True)["Images"]
    assert keys_of(with_deprecated) == everything
    without = ec2.describe_images(Filters=filters)["Images"]
    assert keys_of(without) == expected(predicate)
    deprecated = everything - expected(predicate)
    if deprecated:  # hidden without IncludeDeprecated, and still found by id
        assert not deprecated & keys_of(without)
        ids = [i["ImageId"] for i in with_deprecated if image_key(i) in deprecated]
        assert keys_of(ec2.describe_images(ImageIds=ids)["Images"]) == deprecated


MARKETPLACE = [e for e in CATALOG if e["product_codes"]]


@pytest.mark.parametrize("region", REGIONS)
def test_marketplace_by_product_code_and_owner_alias(catalog_server, region):
    ec2 = client(catalog_server.url, region)
    assert len(MARKETPLACE) >= 2
    for entry in MARKETPLACE:
        code = entry["product_codes"][0]["id"]
        images = ec2.describe_images(Filters=[{"Name": "product-code", "Values": [code]}])["Images"]
        want = expected(lambda e: any(c["id"] == code for c in e["product_codes"]))
        assert keys_of(images) == want == {entry_key(entry)}
        assert images[0]["ProductCodes"] == [{"ProductCodeId": code, "ProductCodeType": "marketplace"}]
    # Two codes, ORed.
    codes = [MARKETPLACE[0]["product_codes"][0]["id"], MARKETPLACE[1]["product_codes"][0]["id"]]
    both = ec2.describe_images(Filters=[{"Name": "product-code", "Values": codes}])["Images"]
    assert keys_of(both) == {entry_key(MARKETPLACE[0]), entry_key(MARKETPLACE[1])}
    by_alias = describe_all(ec2, Owners=["aws-marketplace"])
    assert keys_of(by_alias) == expected(lambda e: e["owner_alias"] == "aws-marketplace")
    assert {i["ImageOwnerAlias"] for i in by_alias} == {"aws-marketplace"}
    by_type = describe_all(ec2, Filters=[{"Name": "product-code.type", "Values": ["marketplace"]}])
    assert keys_of(by_type) == expected(lambda e: any(c["type"] == "marketplace" for c in e["product_codes"]))
    # Several owners are ORed.
    both_aliases = describe_all(ec2, Owners=["amazon", "aws-marketplace"])
    assert keys_of(both_aliases) == expected(lambda e: e["owner_alias"] in ("amazon", "aws-marketplace"))


@pytest.mark.parametrize("region", REGIONS)
def test_tags_on_a_catalog_image_are_private_to_the_caller(client_factory, region):
    mine = client_factory(region=region)
    other = client_factory(region=region, access_key=OTHER_ACCOUNT)
    entry = next(e for e in CATALOG if e["owner_alias"] == "amazon" and not is_deprecated(e))
    [image] = mine.describe_images(
        Owners=[entry["owner_id"]], Filters=[{"Name": "name", "Values": [entry["name"]]}]
    )["Images"]
    image_id = image["ImageId"]
    mine.create_tags(Resources=[image_id], Tags=[{"Key": "team", "Value": "blue"}, {"Key": "approved", "Value": ""}])

    tagged = mine.describe_images(Filters=[{"Name": "tag:team", "Values": ["blue"]}])["Images"]
    assert [i["ImageId"] for i in tagged] == [image_id]
    assert {t["Key"]: t["Value"] for t in tagged[0]["Tags"]} == {"team": "blue", "approved": ""}
    by_key = mine.describe_images(Filters=[{"Name": "tag-key", "Values": ["approved"]}])["Images"]
    assert [i["ImageId"] for i in by_key] == [image_id]
    assert mine.describe_images(Filters=[{"Name": "tag:team", "Values": ["Blue"]}])["Images"] == []

    # Another account sees the image, not the tag.
    [seen] = other.describe_images(ImageIds=[image_id])["Images"]
    assert not seen.get("Tags")
    assert other.describe_images(Filters=[{"Name": "tag:team", "Values": ["blue"]}])["Images"] == []
    assert other.describe_images(Filters=[{"Name": "tag-key", "Values": ["team", "approved"]}])["Images"] == []
    assert other.describe_tags(Filters=[{"Name": "resource-id", "Values": [image_id]}])["Tags"] == []
    # Its own tag on the same image is its own, and does not change the first caller's.
    other.create_tags(Resources=[image_id], Tags=[{"Key": "team", "Value": "red"}])
    red = other.describe_images(Filters=[{"Name": "tag:team", "Values": ["red"]}])["Images"]
    assert [i["ImageId"] for i in red] == [image_id]
    assert mine.describe_images(Filters=[{"Name": "tag:team", "Values": ["red"]}])["Images"] == []
    [again] = mine.describe_images(ImageIds=[image_id])["Images"]
    assert {t["Key"]: t["Value"] for t in again["Tags"]} == {"team": "blue", "approved": ""}


@pytest.mark.parametrize("region", REGIONS)
def test_creation_date_wildcards(catalog_server, region):
    ec2 = client(catalog_server.url, region)
    october = describe_all(ec2, Filters=[{"Name": "creation-date", "Values": ["2025-10-*"]}])
    want = expected(lambda e: e["creation_date"].startswith("2025-10-"))
    assert len(want) >= 2
    assert keys_of(october) == want
    # A whole day, as the API reference suggests, and the OR of two months.
    day = "2025-10-14"
    assert keys_of(describe_all(ec2, Filters=[{"Name": "creation-date", "Values": [f"{day}T*"]}])) == expected(
        lambda e: e["creation_date"].startswith(day + "T")
    )
    months = ["2025-03-*", "2025-07-*"]
    assert keys_of(describe_all(ec2, Filters=[{"Name": "creation-date", "Values": months}])) == expected(
        lambda e: e["creation_date"][:8] in ("2025-03-", "2025-07-")
    )


@pytest.mark.parametrize("region", REGIONS)
def test_deprecated_images_with_and_without_include_deprecated(catalog_server, region):
    ec2 = client(catalog_server.url, region)
    now = utcnow()
    deprecated = {entry_key(e) for e in CATALOG if is_deprecated(e, now)}
    current = {entry_key(e) for e in CATALOG} - deprecated
    assert deprecated and current
    assert keys_of(describe_all(ec2)) == current
    everything = describe_all(ec2, IncludeDeprecated=True)
    assert keys_of(everything) == current | deprecated
    for image in everything:
        if image_key(image) in deprecated:
            assert parse_time(image["DeprecationTime"]) <= now
    # A deprecated image asked for by id is described without IncludeDeprecated.
    ids = sorted(i["ImageId"] for i in everything if image_key(i) in deprecated)
    assert keys_of(ec2.describe_images(ImageIds=ids)["Images"]) == deprecated
    # The same holds for another account, and for public images (ExecutableUsers=all).
    other = client(catalog_server.url, region, OTHER_ACCOUNT)
    assert keys_of(describe_all(other, ExecutableUsers=["all"])) == current
    assert keys_of(describe_all(other, ExecutableUsers=["all"], IncludeDeprecated=True)) == current | deprecated


def test_concurrent_first_requests_all_see_the_seeded_catalog(server):
    """Many clients hit fresh regions at once; every answer holds the whole catalog."""
    regions = ["eu-west-1", "sa-east-1", "ap-northeast-1"]
    clients = [make_client(server.url, region, key) for region in regions for key in ("test", OTHER_ACCOUNT)]

    def everything(ec2):
        return keys_of(ec2.describe_images(IncludeDeprecated=True)["Images"])

    with ThreadPoolExecutor(max_workers=len(clients) * 2) as pool:
        results = list(pool.map(everything, clients * 2))
    assert all(r == {entry_key(e) for e in CATALOG} for r in results)


def test_ids_are_stable_across_restarts_and_distinct_per_region(start_server, tmp_path):
    server = start_server()

    def ids(url: str, region: str) -> dict[tuple[str, str], str]:
        images = make_client(url, region).describe_images(IncludeDeprecated=True)["Images"]
        assert keys_of(images) == {entry_key(e) for e in CATALOG}
        found = {image_key(i): i["ImageId"] for i in images}
        assert len(set(found.values())) == len(CATALOG)
        return found

    before = {region: ids(server.url, region) for region in REGIONS}
    # Different regions, different ids for the same image.
    east, sydney = (before[r] for r in REGIONS)
    assert not set(east.values()) & set(sydney.values())
    assert all(east[k] != sydney[k] for k in east)
    # The same data dir after a restart (and after a kill -9).
    server.restart()
    assert {region: ids(server.url, region) for region in REGIONS} == before
    server.restart(signal.SIGKILL)
    assert {region: ids(server.url, region) for region in REGIONS} == before
    # A fresh data dir (another machine): the same ids.
    fresh = start_server(data_dir=tmp_path / "fresh")
    assert {region: ids(fresh.url, region) for region in REGIONS} == before
    # After a reset the catalog comes back with the same ids.
    status, _ = fresh.admin("POST", "/_ec2lite/reset")
    assert status == 200
    assert {region: ids(fresh.url, region) for region in REGIONS} == before


@pytest.mark.parametrize("region", REGIONS)
def test_unknown_filter_name_is_refused(catalog_server, region):
    ec2 = client(catalog_server.url, region)
    for name in ("no-such-filter", "Name", "image_id", "tag", "tag:"):
        err = expect_error("InvalidParameterValue", ec2.describe_images, Filters=[{"Name": name, "Values": ["x"]}])
        assert name in err.response["Error"]["Message"]


# Every filter name, checked against the catalog file ---------------------------------------


def device_names(entry: dict) -> set[str]:
    names = {m["device_name"] for m in entry["extra_mappings"]}
    if ebs(entry):
        names.add(entry["root_device_name"])
    return names


FILTER_CASES = [
    ("architecture", ["arm64"], lambda e: e["architecture"] == "arm64"),
    ("architecture", ["x86_64", "arm64"], lambda e: True),
    ("architecture", ["i386"], lambda e: False),
    ("block-device-mapping.delete-on-termination", ["true"], ebs),
    ("block-device-mapping.device-name", ["/dev/sda1"], lambda e: "/dev/sda1" in device_names(e)),
    ("block-device-mapping.device-name", ["/dev/sdb"], lambda e: "/dev/sdb" in device_names(e)),
    ("block-device-mapping.encrypted", ["false"], ebs),
    ("block-device-mapping.encrypted", ["true"], lambda e: False),
    ("block-device-mapping.snapshot-id", ["snap-*"], ebs),
    ("block-device-mapping.volume-size", ["30"], lambda e: ebs(e) and e["volume_size"] == 30),
    ("block-device-mapping.volume-size", ["1?"], lambda e: ebs(e) and e["volume_size"] in (1, *range(10, 20))),
    ("block-device-mapping.volume-type", ["gp2"], lambda e: ebs(e) and e["volume_type"] == "gp2"),
    ("block-device-mapping.volume-type", ["standard"], lambda e: ebs(e) and e["volume_type"] == "standard"),
    ("creation-date", ["2025-*"], lambda e: e["creation_date"].startswith("2025-")),
    ("description", ["*Benchmark*"], lambda e: "Benchmark" in (e["description"] or "")),
    (
        "description",
        ["Amazon Linux 2023 AMI 2023.?.*"],
        lambda e: ec2_wildcard("Amazon Linux 2023 AMI 2023.?.*", e["description"]),
    ),
    ("ena-support", ["true"], lambda e: e["ena_support"] is True),
    ("ena-support", ["false"], lambda e: e["ena_support"] is False),
    ("hypervisor", ["xen"], lambda e: True),
    ("hypervisor", ["ovm"], lambda e: False),
    ("image-type", ["machine"], lambda e: True),
    ("image-type", ["kernel", "ramdisk"], lambda e: False),
    ("is-public", ["true"], lambda e: True),
    ("is-public", ["false"], lambda e: False),
    ("kernel-id", ["aki-*"], lambda e: (e["kernel_id"] or "").startswith("aki-")),
    ("manifest-location", ["amazon/*"], lambda e: e["image_location"].startswith("amazon/")),
    ("name", ["debian-12-a?md64-*"], lambda e: e["name"].startswith("debian-12-amd64-")),
    (
        "name",
        ["RHEL-9.?.0_HVM-*", "suse-*"],
        lambda e: ec2_wildcard("RHEL-9.?.0_HVM-*", e["name"]) or e["name"].startswith("suse-"),
    ),
    ("name", ["AL2023-*"], lambda e: False),
    ("name", ["AL2023-AMI-2023.6.20241010.0-KERNEL-6.1-X86_64"], lambda e: False),
    ("architecture", ["ARM64"], lambda e: False),
    ("owner-alias", ["Amazon"], lambda e: False),
    ("platform", ["Windows"], lambda e: False),
    ("virtualization-type", ["HVM"], lambda e: False),
    (
        "name",
        ["al2023-ami-2023.6.20241010.0-kernel-6.1-x86_64"],
        lambda e: e["name"] == "al2023-ami-2023.6.20241010.0-kernel-6.1-x86_64",
    ),
    ("owner-alias", ["amazon"], lambda e: e["owner_alias"] == "amazon"),
    ("owner-alias", ["aws-*"], lambda e: (e["owner_alias"] or "").startswith("aws-")),
    ("owner-id", [CANONICAL, "136693071363"], lambda e: e["owner_id"] in (CANONICAL, "136693071363")),
    ("platform", ["windows"], lambda e: e["platform"] == "windows"),
    ("product-code.type", ["marketplace"], lambda e: bool(e["product_codes"])),
    ("ramdisk-id", ["*"], lambda e: e["ramdisk_id"] is not None),
    ("root-device-name", ["/dev/sda1"], lambda e: e["root_device_name"] == "/dev/sda1"),
    ("root-device-type", ["ebs"], ebs),
    ("source-image-id", ["*"], lambda e: False),
    ("source-image-region", ["*"], lambda e: False),
    ("source-instance-id", ["*"], lambda e: False),
    ("state", ["available"], lambda e: True),
    ("state", ["pending", "failed", "disabled"], lambda e: False),
    ("state-reason-code", ["*"], lambda e: False),
    ("state-reason-message", ["*"], lambda e: False),
    ("sriov-net-support", ["simple"], lambda e: e["sriov_net_support"] == "simple"),
    ("virtualization-type", ["hvm"], lambda e: e["virtualization_type"] == "hvm"),
    ("tag:Name", ["*"], lambda e: False),
    ("tag-key", ["*"], lambda e: False),
]


@pytest.mark.parametrize("region", REGIONS)
@pytest.mark.parametrize(
    "name, values, predicate", FILTER_CASES, ids=[f"{n}={','.join(v)}" for n, v, _ in FILTER_CASES]
)
def test_filter_matches_the_catalog_file(catalog_server, region, name, values, predicate):
    ec2 = client(catalog_server.url, region)
    filters = [{"Name": name, "Values": values}]
    assert keys_of(describe_all(ec2, Filters=filters, IncludeDeprecated=True)) == expected(predicate, True)
    assert keys_of(describe_all(ec2, Filters=filters)) == expected(predicate)


@pytest.mark.parametrize(
    "pattern",
    [
        "debian-12-amd64-20250316-2053?",
        "debian-12-amd64-20250316-2053????",
        "d?e?b?i?an-12-amd64-*",
        "deb?ian-12-am?d64-2?025*",
    ],
)
def test_question_mark_matches_zero_or_one_character(catalog_server, pattern):
    ec2 = client(catalog_server.url)
    images = describe_all(ec2, Filters=[{"Name": "name", "Values": [pattern]}], IncludeDeprecated=True)
    want = expected(lambda e: ec2_wildcard(pattern, e["name"]), True)
    assert want
    assert keys_of(images) == want


@pytest.mark.parametrize(
    "pattern",
    [
        "debian-12-amd64-20250316-2053?????",
        "d?e?b?i?a?n-12-amd64-*",
        "?d?e?b?i?a?n?-12-amd64-20250316-2053",
    ],
)
def test_question_mark_matches_zero_characters_in_long_patterns(catalog_server, pattern):
    ec2 = client(catalog_server.url)
    images = describe_all(ec2, Filters=[{"Name": "name", "Values": [pattern]}], IncludeDeprecated=True)
    want = expected(lambda e: ec2_wildcard(pattern, e["name"]), True)
    assert want
    assert keys_of(images) == want


@pytest.mark.parametrize("region", REGIONS)
def test_filters_are_anded_and_values_ored(catalog_server, region):
    ec2 = client(catalog_server.url, region)
    filters = [
        {"Name": "architecture", "Values": ["arm64"]},
        {"Name": "name", "Values": ["debian-12-*", "RHEL-*"]},
        {"Name": "root-device-name", "Values": ["/dev/xvda", "/dev/sda1"]},
    ]
    want = expected(
        lambda e: e["architecture"] == "arm64" and (e["name"].startswith("debian-12-") or e["name"].startswith("RHEL-"))
    )
    assert len(want) >= 2
    assert keys_of(describe_all(ec2, Filters=filters)) == want
    # The same name twice is ANDed too: nothing is both arm64 and x86_64.
    twice = [{"Name": "architecture", "Values": ["arm64"]}, {"Name": "architecture", "Values": ["x86_64"]}]
    assert describe_all(ec2, Filters=twice) == []


@pytest.mark.parametrize("region", REGIONS)
def test_image_id_and_snapshot_id_filters(catalog_server, region):
    ec2 = client(catalog_server.url, region)
    images = describe_all(ec2, IncludeDeprecated=True)
    first, second = sorted(images, key=lambda i: i["ImageId"])[:2]
    picked = ec2.describe_images(
        Filters=[{"Name": "image-id", "Values": [first["ImageId"], second["ImageId"]]}], IncludeDeprecated=True
    )["Images"]
    assert {i["ImageId"] for i in picked} == {first["ImageId"], second["ImageId"]}
    every_id = describe_all(ec2, Filters=[{"Name": "image-id", "Values": ["ami-*"]}], IncludeDeprecated=True)
    assert len(every_id) == len(CATALOG)
    with_snapshot = next(i for i in images if i["RootDeviceType"] == "ebs")
    snapshot_id = next(m["Ebs"]["SnapshotId"] for m in with_snapshot["BlockDeviceMappings"] if "Ebs" in m)
    found = ec2.describe_images(
        Filters=[{"Name": "block-device-mapping.snapshot-id", "Values": [snapshot_id]}], IncludeDeprecated=True
    )["Images"]
    assert [i["ImageId"] for i in found] == [with_snapshot["ImageId"]]


# The filter names of the EC2 model, as botocore ships it -------------------------------------

# The names the brief of this feature lists; the server must accept each of them.
SPECIFIED_FILTERS = [
    "architecture", "block-device-mapping.delete-on-termination", "block-device-mapping.device-name",
    "block-device-mapping.snapshot-id", "block-device-mapping.volume-size", "block-device-mapping.volume-type",
    "block-device-mapping.encrypted", "creation-date", "description", "ena-support", "hypervisor", "image-id",
    "image-type", "is-public", "kernel-id", "manifest-location", "name", "owner-alias", "owner-id", "platform",
    "product-code", "product-code.type", "ramdisk-id", "root-device-name", "root-device-type", "source-image-id",
    "source-image-region", "source-instance-id", "state", "state-reason-code", "state-reason-message",
    "sriov-net-support", "tag:<key>", "tag-key", "virtualization-type",
]  # fmt: skip


def model_filter_names() -> list[str]:
    """The top-level filter names in the documentation of DescribeImages' Filters."""
    model = botocore.session.get_session().get_service_model("ec2")
    doc = model.operation_model("DescribeImages").input_shape.members["Filters"].documentation
    names, depth = [], 0
    for match in re.finditer(r"<ul>|</ul>|<li> <p> <code>([^<]+)</code>", doc):
        if match.group(0) == "<ul>":
            depth += 1
        elif match.group(0) == "</ul>":
            depth -= 1
        elif depth == 1:
            names.append(match.group(1).replace("&lt;", "<").replace("&gt;", ">"))
    return names


MODEL_FILTERS = model_filter_names()
# In the installed botocore model but refused by the server (none at present).
UNSUPPORTED_MODEL_FILTERS: set[str] = set()
def test_specified_filters_are_in_the_model():
    assert set(SPECIFIED_FILTERS) <= set(MODEL_FILTERS)


def filter_value(name: str) -> tuple[str, str]:
    return (name.replace("<key>", "Name"), "*")


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(
            n,
            marks=pytest.mark.xfail(
                strict=True,
                raises=ClientError,
                reason=f"ec2lite answers InvalidParameterValue for the filter '{n}' of DescribeImages, "
                "which the EC2 model of botocore 1.44.8 documents",
            ),
        )
        if n in UNSUPPORTED_MODEL_FILTERS
        else n
        for n in MODEL_FILTERS
    ],
)
def test_every_model_filter_name_is_accepted(catalog_server, name):
    ec2 = client(catalog_server.url)
    filter_name, value = filter_value(name)
    ec2.describe_images(Filters=[{"Name": filter_name, "Values": [value]}])


def test_boot_mode_filter(catalog_server):
    """boot-mode is documented by the EC2 model; the catalog has all three kinds."""
    ec2 = client(catalog_server.url)
    images = describe_all(ec2, Filters=[{"Name": "boot-mode", "Values": ["uefi"]}], IncludeDeprecated=True)
    assert keys_of(images) == expected(lambda e: e["boot_mode"] == "uefi", True)


# Catalog flags -----------------------------------------------------------------------------


def test_no_catalog_serves_no_public_images(start_server):
    server = start_server("--no-catalog")
    for region in REGIONS:
        ec2 = make_client(server.url, region)
        assert ec2.describe_images(IncludeDeprecated=True)["Images"] == []
        assert ec2.describe_images(Owners=["amazon"])["Images"] == []
        assert ec2.describe_snapshots(OwnerIds=["amazon"])["Snapshots"] == []


def test_catalog_files_add_to_the_built_in_one(start_server, tmp_path):
    first = write_catalog(tmp_path / "first.json", scale_entries(3, owner="210987654321", prefix="first"))
    second = write_catalog(tmp_path / "second.json", scale_entries(2, owner="310987654321", prefix="second"))
    server = start_server("--catalog", str(first), "--catalog", str(second))
    for region in REGIONS:
        ec2 = make_client(server.url, region)
        everything = describe_all(ec2, IncludeDeprecated=True)
        added = {("210987654321", f"first-image-{i:05d}") for i in range(3)} | {
            ("310987654321", f"second-image-{i:05d}") for i in range(2)
        }
        assert keys_of(everything) == {entry_key(e) for e in CATALOG} | added
        mine = ec2.describe_images(Owners=["210987654321"])["Images"]
        assert {i["Name"] for i in mine} == {f"first-image-{i:05d}" for i in range(3)}
        assert all(i["Public"] and "ImageOwnerAlias" not in i for i in mine)

    # Only the files with --no-catalog; a later start with another catalog replaces it.
    server.stop()
    only = start_server("--no-catalog", "--catalog", str(second), data_dir=server.data_dir)
    ec2 = make_client(only.url)
    assert {image_key(i) for i in describe_all(ec2, IncludeDeprecated=True)} == {
        ("310987654321", f"second-image-{i:05d}") for i in range(2)
    }


def run_to_exit(*args: str, timeout: float = 20) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EC2LITE_")}
    proc = subprocess.Popen(
        [str(ec2lite_bin()), "--listen", "127.0.0.1:0", "--in-memory", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=env,
        text=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"ec2lite kept running with {args}: {out} {err}")
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@pytest.mark.parametrize(
    "content",
    [
        pytest.param("not json", id="not-json"),
        pytest.param(json.dumps({"pictures": []}), id="no-images-key"),
        pytest.param(
            json.dumps({"images": [{k: v for k, v in CATALOG[0].items() if k != "name"}]}), id="entry-without-name"
        ),
        pytest.param(json.dumps({"images": [dict(CATALOG[0], name="x")]}), id="malformed-name"),
    ],
)
def test_bad_catalog_file_stops_the_server(tmp_path, content):
    path = tmp_path / "bad.json"
    path.write_text(content)
    done = run_to_exit("--catalog", str(path))
    assert done.returncode != 0
    assert "catalog" in done.stderr.lower(), done.stderr


def test_missing_catalog_file_stops_the_server(tmp_path):
    done = run_to_exit("--catalog", str(tmp_path / "nowhere.json"))
    assert done.returncode != 0
    assert "nowhere.json" in done.stderr, done.stderr


# 3. Late lifecycle of a registered image ---------------------------------------------------


def new_image(ec2, name: str) -> str:
    """An available image of the caller (the next request after register sees it available)."""
    image_id = register(ec2, name, make_snapshot(ec2))
    [image] = ec2.describe_images(ImageIds=[image_id])["Images"]
    assert image["State"] == "available"
    return image_id


def describe_one(ec2, image_id: str) -> dict:
    [image] = ec2.describe_images(ImageIds=[image_id])["Images"]
    return image


def iso_minute(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:00.000Z")


DEPRECATION_FORMAT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:00\.000Z$")


def test_enable_and_disable_image_deprecation(client_factory):
    ec2 = client_factory()
    image_id = new_image(ec2, "deprecation-rules")
    assert "DeprecationTime" not in describe_one(ec2, image_id)

    base = (utcnow() + timedelta(days=3)).replace(second=0, microsecond=0)
    # Seconds are rounded to the nearest minute: down below :30, up from :30.
    assert ec2.enable_image_deprecation(ImageId=image_id, DeprecateAt=base + timedelta(seconds=29))["Return"] is True
    shown = describe_one(ec2, image_id)["DeprecationTime"]
    assert DEPRECATION_FORMAT.match(shown), shown
    assert shown == iso_minute(base)
    ec2.enable_image_deprecation(ImageId=image_id, DeprecateAt=base + timedelta(seconds=30))
    assert describe_one(ec2, image_id)["DeprecationTime"] == iso_minute(base + timedelta(minutes=1))
    ec2.enable_image_deprecation(
        ImageId=image_id, DeprecateAt=base + timedelta(minutes=7, seconds=44, milliseconds=500)
    )
    assert describe_one(ec2, image_id)["DeprecationTime"] == iso_minute(base + timedelta(minutes=8))

    # In the past, or now: refused, and the time stays as it was.
    for past in (utcnow() - timedelta(days=1), utcnow() - timedelta(seconds=45)):
        expect_error("InvalidParameterValue", ec2.enable_image_deprecation, ImageId=image_id, DeprecateAt=past)
    assert describe_one(ec2, image_id)["DeprecationTime"] == iso_minute(base + timedelta(minutes=8))
    # More than 10 years ahead: refused; 5 years is fine for a private image.
    expect_error(
        "InvalidParameterValue",
        ec2.enable_image_deprecation,
        ImageId=image_id,
        DeprecateAt=utcnow() + timedelta(days=365 * 10 + 5),
    )
    five_years = (utcnow() + timedelta(days=365 * 5)).replace(second=0, microsecond=0)
    ec2.enable_image_deprecation(ImageId=image_id, DeprecateAt=five_years)
    assert describe_one(ec2, image_id)["DeprecationTime"] == iso_minute(five_years)

    # Public images: at most 2 years after their creation.
    ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"Group": "all"}]})
    expect_error(
        "InvalidParameterValue",
        ec2.enable_image_deprecation,
        ImageId=image_id,
        DeprecateAt=utcnow() + timedelta(days=365 * 3),
    )
    one_year = (utcnow() + timedelta(days=365)).replace(second=0, microsecond=0)
    ec2.enable_image_deprecation(ImageId=image_id, DeprecateAt=one_year)
    assert describe_one(ec2, image_id)["DeprecationTime"] == iso_minute(one_year)

    # Only the owner: another account, even one the image is public to, is refused.
    other = client_factory(access_key=OTHER_ACCOUNT)
    expect_error("AuthFailure", other.enable_image_deprecation, ImageId=image_id, DeprecateAt=one_year)
    expect_error("AuthFailure", other.disable_image_deprecation, ImageId=image_id)
    catalog_id = ec2.describe_images(Owners=["amazon"], MaxResults=5)["Images"][0]["ImageId"]
    expect_error("AuthFailure", ec2.enable_image_deprecation, ImageId=catalog_id, DeprecateAt=one_year)
    expect_error(
        "InvalidAMIID.NotFound",
        ec2.enable_image_deprecation,
        ImageId="ami-0123456789abcdef0",
        DeprecateAt=one_year,
    )

    assert ec2.disable_image_deprecation(ImageId=image_id)["Return"] is True
    assert "DeprecationTime" not in describe_one(ec2, image_id)


def test_deprecated_shared_image_is_hidden_from_the_grantee(client_factory):
    """Waits for the next minute boundary, the earliest time a deprecation can take effect."""
    owner = client_factory()
    grantee = client_factory(access_key=OTHER_ACCOUNT)
    image_id = new_image(owner, "soon-deprecated")
    owner.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"UserId": OTHER_ACCOUNT}]})
    assert image_id in {i["ImageId"] for i in grantee.describe_images(ExecutableUsers=["self"])["Images"]}

    at = (utcnow() + timedelta(seconds=3, minutes=1)).replace(second=0, microsecond=0)
    owner.enable_image_deprecation(ImageId=image_id, DeprecateAt=at)
    # Not yet deprecated: still listed.
    if utcnow() < at - timedelta(seconds=1):
        assert image_id in {i["ImageId"] for i in grantee.describe_images(ExecutableUsers=["self"])["Images"]}
    time.sleep(max(0.0, (at - utcnow()).total_seconds()) + 1.5)

    listed = grantee.describe_images(ExecutableUsers=["self"])["Images"]
    assert image_id not in {i["ImageId"] for i in listed}
    assert image_id not in {i["ImageId"] for i in describe_all(grantee)}
    included = grantee.describe_images(ExecutableUsers=["self"], IncludeDeprecated=True)["Images"]
    assert [i["ImageId"] for i in included] == [image_id]
    assert included[0]["DeprecationTime"] == iso_minute(at)
    # By id, the grantee still sees it.
    assert describe_one(grantee, image_id)["DeprecationTime"] == iso_minute(at)
    # The owner always sees its own deprecated images.
    assert image_id in {i["ImageId"] for i in owner.describe_images(Owners=["self"])["Images"]}
    # Cancelling the deprecation lists it again for the grantee.
    owner.disable_image_deprecation(ImageId=image_id)
    assert image_id in {i["ImageId"] for i in grantee.describe_images(ExecutableUsers=["self"])["Images"]}


def test_disable_and_enable_image(client_factory):
    owner = client_factory()
    grantee = client_factory(access_key=OTHER_ACCOUNT)
    stranger = client_factory(access_key=THIRD_ACCOUNT)
    image_id = new_image(owner, "to-be-disabled")
    owner.modify_image_attribute(
        ImageId=image_id, LaunchPermission={"Add": [{"UserId": OTHER_ACCOUNT}, {"Group": "all"}]}
    )
    assert describe_one(owner, image_id)["Public"] is True
    assert image_id in {i["ImageId"] for i in grantee.describe_images(ExecutableUsers=["self"])["Images"]}
    assert describe_one(stranger, image_id)["ImageId"] == image_id

    assert owner.disable_image(ImageId=image_id)["Return"] is True
    disabled = describe_one(owner, image_id)  # asked for by id, the owner sees it
    assert disabled["State"] == "disabled"
    assert disabled["Public"] is False
    assert image_id not in {i["ImageId"] for i in owner.describe_images(Owners=["self"])["Images"]}
    assert image_id not in {i["ImageId"] for i in describe_all(owner)}
    with_disabled = owner.describe_images(Owners=["self"], IncludeDisabled=True)["Images"]
    assert [(i["ImageId"], i["State"]) for i in with_disabled] == [(image_id, "disabled")]
    by_state = owner.describe_images(Filters=[{"Name": "state", "Values": ["disabled"]}], IncludeDisabled=True)
    assert [i["ImageId"] for i in by_state["Images"]] == [image_id]
    permissions = owner.describe_image_attribute(ImageId=image_id, Attribute="launchPermission")
    assert permissions["LaunchPermissions"] == []
    # Neither the grantee nor the public see it, even asking for disabled images.
    for other in (grantee, stranger):
        assert image_id not in {i["ImageId"] for i in describe_all(other, IncludeDisabled=True, IncludeDeprecated=True)}
        assert image_id not in {
            i["ImageId"] for i in other.describe_images(ExecutableUsers=["self", "all"], IncludeDisabled=True)["Images"]
        }
        try:
            by_id = other.describe_images(ImageIds=[image_id])["Images"]
        except ClientError as err:
            assert error_code(err) == "InvalidAMIID.NotFound", err.response["Error"]
        else:
            assert by_id == []

    assert owner.enable_image(ImageId=image_id)["Return"] is True
    enabled = describe_one(owner, image_id)
    assert enabled["State"] == "available"
    assert enabled["Public"] is False  # the permissions are not given back
    assert image_id in {i["ImageId"] for i in owner.describe_images(Owners=["self"])["Images"]}
    assert owner.describe_image_attribute(ImageId=image_id, Attribute="launchPermission")["LaunchPermissions"] == []
    assert image_id not in {i["ImageId"] for i in grantee.describe_images(ExecutableUsers=["self"])["Images"]}
    assert image_id not in {i["ImageId"] for i in describe_all(stranger)}
    # Only the owner can disable; a catalog image belongs to its publisher.
    catalog_id = owner.describe_images(Owners=["amazon"], MaxResults=5)["Images"][0]["ImageId"]
    expect_error("AuthFailure", owner.disable_image, ImageId=catalog_id)


def test_deregistration_protection_without_cooldown(client_factory):
    ec2 = client_factory()
    image_id = new_image(ec2, "protected-no-cooldown")
    assert describe_one(ec2, image_id)["DeregistrationProtection"] == "disabled"
    assert ec2.enable_image_deregistration_protection(ImageId=image_id)["Return"] == "enabled-without-cooldown"
    assert describe_one(ec2, image_id)["DeregistrationProtection"] == "enabled-without-cooldown"
    expect_error("OperationNotPermitted", ec2.deregister_image, ImageId=image_id)
    assert describe_one(ec2, image_id)["State"] == "available"
    assert ec2.disable_image_deregistration_protection(ImageId=image_id)["Return"] == "disabled"
    assert describe_one(ec2, image_id)["DeregistrationProtection"] == "disabled"
    ec2.deregister_image(ImageId=image_id)
    assert ec2.describe_images(ImageIds=[image_id])["Images"] == []


def test_deregistration_protection_with_cooldown(client_factory, server):
    ec2 = client_factory()
    image_id = new_image(ec2, "protected-with-cooldown")
    result = ec2.enable_image_deregistration_protection(ImageId=image_id, WithCooldown=True)
    assert result["Return"] == "enabled-with-cooldown"
    assert describe_one(ec2, image_id)["DeregistrationProtection"] == "enabled-with-cooldown"
    expect_error("OperationNotPermitted", ec2.deregister_image, ImageId=image_id)
    assert ec2.disable_image_deregistration_protection(ImageId=image_id)["Return"] == "disabled"
    # The 24-hour cooldown: still refused after disabling, also after a restart.
    expect_error("OperationNotPermitted", ec2.deregister_image, ImageId=image_id)
    server.restart()
    ec2 = client_factory()
    expect_error("OperationNotPermitted", ec2.deregister_image, ImageId=image_id)
    shown = describe_one(ec2, image_id)
    assert shown["State"] == "available"
    # While the cooldown runs, EC2 says until when: "disabled after <time>".
    assert shown["DeregistrationProtection"].startswith("disabled after 20")
    attribute = ec2.describe_image_attribute(ImageId=image_id, Attribute="deregistrationProtection")
    assert attribute["DeregistrationProtection"]["Value"] == shown["DeregistrationProtection"]
    # Other accounts and catalog images: only the owner manages protection.
    other = client_factory(access_key=OTHER_ACCOUNT)
    ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"UserId": OTHER_ACCOUNT}]})
    expect_error("AuthFailure", other.enable_image_deregistration_protection, ImageId=image_id)
    expect_error("AuthFailure", other.disable_image_deregistration_protection, ImageId=image_id)
    catalog_id = ec2.describe_images(Owners=["amazon"], MaxResults=5)["Images"][0]["ImageId"]
    expect_error("AuthFailure", ec2.enable_image_deregistration_protection, ImageId=catalog_id)


def test_catalog_images_cannot_be_deregistered_by_users(client_factory):
    ec2 = client_factory()
    catalog_id = ec2.describe_images(Owners=["amazon"], MaxResults=5)["Images"][0]["ImageId"]
    expect_error("AuthFailure", ec2.deregister_image, ImageId=catalog_id)
    assert describe_one(ec2, catalog_id)["State"] == "available"
