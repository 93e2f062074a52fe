"""`GET /_ec2lite/metrics` in the Prometheus text format, and `--log-format json`."""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request

import pytest
from botocore.exceptions import ClientError

from support import make_client


def scrape(server) -> str:
    with urllib.request.urlopen(server.url + "/_ec2lite/metrics", timeout=10) as response:
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        return response.read().decode()


def value(text: str, series: str) -> float:
    match = re.search(rf"^{re.escape(series)} (\S+)$", text, re.MULTILINE)
    assert match, f"{series} not in metrics:\n{text[:3000]}"
    return float(match.group(1))


def test_metrics_count_requests_resources_and_writes(server, ec2):
    volume = ec2.create_volume(AvailabilityZone="us-east-1a", Size=1)["VolumeId"]
    ec2.describe_volumes(VolumeIds=[volume])
    with pytest.raises(ClientError):
        ec2.describe_volumes(VolumeIds=["vol-0123456789abcdef0"])
    ec2.create_security_group(GroupName="m", Description="m")
    text = scrape(server)
    assert value(text, 'ec2lite_requests_total{action="CreateVolume",outcome="ok"}') == 1
    assert value(text, 'ec2lite_requests_total{action="DescribeVolumes",outcome="ok"}') == 1
    assert value(text, 'ec2lite_requests_total{action="DescribeVolumes",outcome="InvalidVolume.NotFound"}') == 1
    assert value(text, 'ec2lite_request_duration_seconds_count{action="DescribeVolumes"}') == 2
    assert value(text, 'ec2lite_request_duration_seconds_bucket{action="DescribeVolumes",le="+Inf"}') == 2
    assert value(text, "ec2lite_write_transaction_seconds_count") >= 2
    assert value(text, 'ec2lite_resources{type="volume",state="available"}') == 1
    # The default network and the new group: two groups in us-east-1.
    assert value(text, 'ec2lite_resources{type="security-group",state="available"}') == 2
    assert value(text, 'ec2lite_block_bytes{kind="stored"}') == 0
    # Junk actions share one label.
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(urllib.request.Request(server.url + "/?Action=Frobnicate&Version=2016-11-15"))
    assert value(scrape(server), 'ec2lite_requests_total{action="(unknown)",outcome="InvalidAction"}') == 1


def test_json_logs_have_one_object_per_request(start_server):
    server = start_server("--log-format", "json")
    ec2 = make_client(server.url)
    ec2.describe_regions()
    time.sleep(0.2)
    lines = [json.loads(line) for line in server.log().splitlines() if line.startswith("{")]
    [request] = [line for line in lines if line.get("action") == "DescribeRegions"]
    assert request["outcome"] == "ok" and request["account"] == "000000000000"
    assert request["region"] == "us-east-1" and request["latency_us"] >= 0
    assert request["level"] == "INFO"
