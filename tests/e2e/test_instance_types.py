"""Instance types through boto3 and aws-cli: DescribeInstanceTypes (named types, region
support, every documented filter family, paging), DescribeInstanceTypeOfferings by region,
zone and zone id, the CPU credit options of burstable instances (launch defaults,
CreditSpecification, ModifyInstanceCreditSpecification and its per-instance refusals,
surviving kill -9), and RunInstances refusing types that do not fit the image."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from support import error_code, make_client

AL2023_X86 = "al2023-ami-2023.*-kernel-6.1-x86_64"
AL2023_ARM = "al2023-ami-2023.*-kernel-6.1-arm64"


def expect_error(code: str, call, **params) -> str:
    with pytest.raises(ClientError) as caught:
        call(**params)
    assert error_code(caught.value) == code, caught.value.response["Error"]
    return caught.value.response["Error"]["Message"]


def catalog_image(ec2, pattern: str) -> str:
    found = ec2.describe_images(Owners=["amazon"], Filters=[{"Name": "name", "Values": [pattern]}])["Images"]
    assert found, pattern
    return max(found, key=lambda i: i["CreationDate"])["ImageId"]


def described(ec2, *names: str) -> dict[str, dict]:
    types = ec2.describe_instance_types(InstanceTypes=list(names))["InstanceTypes"]
    return {t["InstanceType"]: t for t in types}


def names_where(ec2, *filters: tuple[str, list[str]]) -> list[str]:
    pages = ec2.get_paginator("describe_instance_types").paginate(
        Filters=[{"Name": n, "Values": v} for n, v in filters]
    )
    return sorted(t["InstanceType"] for page in pages for t in page["InstanceTypes"])


def test_described_types_carry_real_values(ec2):
    found = described(ec2, "t3.micro", "t2.micro", "t4g.nano", "i3.large", "p3.8xlarge", "g5.xlarge", "mac1.metal")
    t3 = found["t3.micro"]
    assert t3["VCpuInfo"] == {
        "DefaultVCpus": 2, "DefaultCores": 1, "DefaultThreadsPerCore": 2, "ValidCores": [1], "ValidThreadsPerCore": [1, 2],
    }  # fmt: skip
    assert t3["MemoryInfo"] == {"SizeInMiB": 1024}
    assert t3["ProcessorInfo"]["SupportedArchitectures"] == ["x86_64"]
    assert (t3["BurstablePerformanceSupported"], t3["FreeTierEligible"], t3["CurrentGeneration"]) == (True, True, True)
    assert (t3["Hypervisor"], t3["InstanceStorageSupported"], t3["SupportedBootModes"]) == (
        "nitro", False, ["legacy-bios", "uefi"],
    )  # fmt: skip
    network = t3["NetworkInfo"]
    assert (network["MaximumNetworkInterfaces"], network["Ipv4AddressesPerInterface"]) == (2, 2)
    assert (network["EnaSupport"], network["NetworkPerformance"]) == ("required", "Up to 5 Gigabit")
    assert network["NetworkCards"][0]["PeakBandwidthInGbps"] == 5.0
    assert t3["EbsInfo"]["EbsOptimizedInfo"]["BaselineThroughputInMBps"] == 10.875
    assert t3["SupportedInRegion"] is True

    t2 = found["t2.micro"]
    assert t2["ProcessorInfo"]["SupportedArchitectures"] == ["i386", "x86_64"]
    assert (t2["Hypervisor"], t2["SupportedBootModes"], t2["NetworkInfo"]["EnaSupport"]) == (
        "xen", ["legacy-bios"], "unsupported",
    )  # fmt: skip
    assert found["t4g.nano"]["ProcessorInfo"]["SupportedArchitectures"] == ["arm64"]
    assert found["t4g.nano"]["SupportedBootModes"] == ["uefi"]

    storage = found["i3.large"]["InstanceStorageInfo"]
    assert storage["TotalSizeInGB"] == 475 and storage["Disks"] == [{"SizeInGB": 475, "Count": 1, "Type": "ssd"}]
    gpus = found["p3.8xlarge"]["GpuInfo"]
    assert gpus["Gpus"] == [{"Name": "V100", "Manufacturer": "NVIDIA", "Count": 4, "MemoryInfo": {"SizeInMiB": 16384}}]
    assert gpus["TotalGpuMemoryInMiB"] == 65536
    assert found["g5.xlarge"]["GpuInfo"]["Gpus"][0]["Name"] == "A10G"
    mac = found["mac1.metal"]
    assert (mac["BareMetal"], "Hypervisor" in mac, mac["ProcessorInfo"]["SupportedArchitectures"]) == (
        True, False, ["x86_64_mac"],
    )  # fmt: skip


def test_unknown_and_unoffered_types(client_factory):
    ec2 = client_factory()
    message = expect_error("InvalidInstanceType", ec2.describe_instance_types, InstanceTypes=["t3.micro", "z9.huge"])
    assert message == "The following supplied instance types do not exist: [z9.huge]"
    # Stockholm has no T2: not listed, and named it does not exist, unless asked for.
    stockholm = client_factory(region="eu-north-1")
    expect_error("InvalidInstanceType", stockholm.describe_instance_types, InstanceTypes=["t2.micro"])
    [t2] = stockholm.describe_instance_types(InstanceTypes=["t2.micro"], IncludeUnsupportedInRegion=True)[
        "InstanceTypes"
    ]
    assert t2["SupportedInRegion"] is False
    assert not names_where(stockholm, ("instance-type", ["t2.*"]))
    assert len(names_where(ec2, ("instance-type", ["t2.*"]))) == 7


def test_filters(ec2):
    assert names_where(ec2, ("free-tier-eligible", ["true"])) == ["t2.micro", "t3.micro"]
    arm_burstable = names_where(
        ec2, ("burstable-performance-supported", ["true"]), ("processor-info.supported-architecture", ["arm64"])
    )
    assert arm_burstable == sorted(f"t4g.{s}" for s in ["nano", "micro", "small", "medium", "large", "xlarge", "2xlarge"])
    assert names_where(ec2, ("instance-type", ["t3.*"]), ("vcpu-info.default-vcpus", ["8"])) == ["t3.2xlarge"]
    assert names_where(ec2, ("instance-type", ["m5.*", "m6i.*"]), ("memory-info.size-in-mib", ["8192"])) == [
        "m5.large", "m6i.large",
    ]  # fmt: skip
    assert names_where(ec2, ("instance-type", ["t2.*"]), ("supported-boot-mode", ["uefi"])) == []
    assert "m1.small" in names_where(ec2, ("supported-virtualization-type", ["paravirtual"]))
    with_storage = names_where(ec2, ("instance-storage-supported", ["true"]))
    assert "i3.large" in with_storage and "m5.large" not in with_storage
    assert names_where(ec2, ("bare-metal", ["true"]), ("instance-type", ["mac?.*"])) == ["mac1.metal", "mac2.metal"]
    assert "t2.nano" in names_where(ec2, ("network-info.ena-support", ["unsupported"]))
    assert "c7i.large" in names_where(ec2, ("current-generation", ["true"]), ("hypervisor", ["nitro"]))
    message = expect_error(
        "InvalidParameterValue", ec2.describe_instance_types, Filters=[{"Name": "colour", "Values": ["red"]}]
    )
    assert message == "The filter 'colour' is invalid"


def test_paging(ec2, aws):
    first = ec2.describe_instance_types()
    assert len(first["InstanceTypes"]) == 100 and "NextToken" in first  # EC2's default page
    seen, token = [], None
    while True:
        page = ec2.describe_instance_types(MaxResults=25, **({"NextToken": token} if token else {}))
        assert len(page["InstanceTypes"]) <= 25
        seen += [t["InstanceType"] for t in page["InstanceTypes"]]
        token = page.get("NextToken")
        if not token:
            break
    assert len(seen) == len(set(seen)) and len(seen) > 200
    assert sorted(seen) == names_where(ec2)
    expect_error("InvalidPaginationToken", ec2.describe_instance_types, NextToken="zz")
    # aws-cli follows the pages by itself.
    listed = aws.ok("describe-instance-types", "--query", "InstanceTypes[].InstanceType")
    assert sorted(listed) == sorted(seen)
    t2 = aws.ok("describe-instance-types", "--instance-types", "t2.micro")["InstanceTypes"][0]
    assert (t2["FreeTierEligible"], t2["VCpuInfo"]["DefaultVCpus"]) == (True, 1)
    assert "InvalidInstanceType" in aws.err("describe-instance-types", "--instance-types", "t9.tiny")


def test_offerings(ec2, client_factory, aws):
    by_region = ec2.describe_instance_type_offerings()["InstanceTypeOfferings"]
    assert {o["Location"] for o in by_region} == {"us-east-1"}
    assert {o["LocationType"] for o in by_region} == {"region"}
    assert {"t3.micro", "mac2.metal", "m1.small"} <= {o["InstanceType"] for o in by_region}

    zones = ec2.describe_instance_type_offerings(
        LocationType="availability-zone", Filters=[{"Name": "instance-type", "Values": ["t3.micro"]}]
    )["InstanceTypeOfferings"]
    all_zones = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]]
    assert sorted(o["Location"] for o in zones) == sorted(all_zones)
    ids = ec2.describe_instance_type_offerings(
        LocationType="availability-zone-id",
        Filters=[{"Name": "location", "Values": ["use1-az1"]}, {"Name": "instance-type", "Values": ["t3.*"]}],
    )["InstanceTypeOfferings"]
    assert sorted(o["InstanceType"] for o in ids) == sorted(
        f"t3.{s}" for s in ["nano", "micro", "small", "medium", "large", "xlarge", "2xlarge"]
    )
    assert {o["Location"] for o in ids} == {"use1-az1"}

    # Mac instances only where EC2 offers them.
    stockholm = client_factory(region="eu-north-1")
    offered_there = stockholm.describe_instance_type_offerings(
        Filters=[{"Name": "instance-type", "Values": ["mac2.metal", "t2.micro", "t3.micro"]}]
    )["InstanceTypeOfferings"]
    assert [o["InstanceType"] for o in offered_there] == ["t3.micro"]

    pages = ec2.get_paginator("describe_instance_type_offerings").paginate(
        LocationType="availability-zone", PaginationConfig={"PageSize": 400}
    )
    counts = [len(p["InstanceTypeOfferings"]) for p in pages]
    assert len(counts) > 2 and max(counts) == 400
    expect_error("InvalidParameterValue", ec2.describe_instance_type_offerings, LocationType="planet")
    listed = aws.ok("describe-instance-type-offerings", "--location-type", "availability-zone",
                    "--filters", "Name=location,Values=us-east-1b", "Name=instance-type,Values=m5.large")
    assert listed["InstanceTypeOfferings"] == [
        {"InstanceType": "m5.large", "LocationType": "availability-zone", "Location": "us-east-1b"}
    ]


def launch(ec2, image_id: str, instance_type: str, **params) -> str:
    [instance] = ec2.run_instances(
        ImageId=image_id, InstanceType=instance_type, MinCount=1, MaxCount=1, **params
    )["Instances"]
    return instance["InstanceId"]


def credits_of(ec2, *instance_ids: str) -> dict[str, str]:
    specs = ec2.describe_instance_credit_specifications(**({"InstanceIds": list(instance_ids)} if instance_ids else {}))
    return {s["InstanceId"]: s["CpuCredits"] for s in specs["InstanceCreditSpecifications"]}


def test_credit_specifications(server, ec2, aws):
    x86 = catalog_image(ec2, AL2023_X86)
    t2 = launch(ec2, x86, "t2.micro")
    t3 = launch(ec2, x86, "t3.micro")
    t3_standard = launch(ec2, x86, "t3.small", CreditSpecification={"CpuCredits": "standard"})
    m5 = launch(ec2, x86, "m5.large")
    message = expect_error(
        "InstanceCreditSpecification.NotSupported", ec2.run_instances, ImageId=x86, InstanceType="m5.large",
        MinCount=1, MaxCount=1, CreditSpecification={"CpuCredits": "unlimited"},
    )  # fmt: skip
    assert message == "The m5.large instance type does not support T2 Unlimited."

    # Named: each instance's option, `standard` for a type that is not burstable.
    assert credits_of(ec2, t2, t3, t3_standard, m5) == {
        t2: "standard", t3: "unlimited", t3_standard: "standard", m5: "standard",
    }  # fmt: skip
    # Unnamed: the instances running unlimited.
    assert credits_of(ec2) == {t3: "unlimited"}
    expect_error("InvalidInstanceID.NotFound", ec2.describe_instance_credit_specifications,
                 InstanceIds=["i-0123456789abcdef0"])  # fmt: skip
    expect_error("InvalidInstanceID.Malformed", ec2.describe_instance_credit_specifications, InstanceIds=["i-nothex"])
    filtered = ec2.describe_instance_credit_specifications(Filters=[{"Name": "instance-id", "Values": [t2, t3]}])
    assert {s["InstanceId"] for s in filtered["InstanceCreditSpecifications"]} == {t3}

    answer = ec2.modify_instance_credit_specification(
        InstanceCreditSpecifications=[
            {"InstanceId": t2, "CpuCredits": "unlimited"},
            {"InstanceId": t3, "CpuCredits": "standard"},
            {"InstanceId": m5, "CpuCredits": "unlimited"},
            {"InstanceId": "i-0123456789abcdef0", "CpuCredits": "unlimited"},
        ]
    )
    assert [s["InstanceId"] for s in answer["SuccessfulInstanceCreditSpecifications"]] == [t2, t3]
    refused = {u["InstanceId"]: u["Error"]["Code"] for u in answer["UnsuccessfulInstanceCreditSpecifications"]}
    assert refused == {m5: "InstanceCreditSpecification.NotSupported", "i-0123456789abcdef0": "InvalidInstanceID.NotFound"}
    expect_error("InvalidParameterValue", ec2.modify_instance_credit_specification,
                 InstanceCreditSpecifications=[{"InstanceId": t2, "CpuCredits": "infinite"}])  # fmt: skip
    expect_error("DryRunOperation", ec2.modify_instance_credit_specification, DryRun=True,
                 InstanceCreditSpecifications=[{"InstanceId": t2, "CpuCredits": "standard"}])  # fmt: skip

    server.kill()
    server.start()
    again = make_client(server.url)
    assert credits_of(again, t2, t3) == {t2: "unlimited", t3: "standard"}
    assert credits_of(again) == {t2: "unlimited"}
    # Another account sees none of them.
    other = make_client(server.url, access_key="111111111111")
    assert credits_of(other) == {}

    cli = aws.ok("describe-instance-credit-specifications", "--instance-ids", t3)
    assert cli["InstanceCreditSpecifications"] == [{"InstanceId": t3, "CpuCredits": "standard"}]
    changed = aws.ok("modify-instance-credit-specification", "--instance-credit-specification",
                     f"InstanceId={t3},CpuCredits=unlimited")  # fmt: skip
    assert changed["SuccessfulInstanceCreditSpecifications"] == [{"InstanceId": t3}]


def test_run_instances_checks_the_type_against_the_image(ec2):
    x86 = catalog_image(ec2, AL2023_X86)
    arm = catalog_image(ec2, AL2023_ARM)
    message = expect_error("InvalidParameterValue", ec2.run_instances, ImageId=arm, InstanceType="t3.micro",
                           MinCount=1, MaxCount=1)  # fmt: skip
    assert message.startswith(
        "The architecture 'x86_64' of the specified instance type does not match the architecture 'arm64' of the specified AMI."
    )
    message = expect_error("InvalidParameterValue", ec2.run_instances, ImageId=x86, InstanceType="t4g.micro",
                           MinCount=1, MaxCount=1)  # fmt: skip
    assert "'arm64' of the specified instance type" in message
    message = expect_error("InvalidParameterValue", ec2.run_instances, ImageId=x86, InstanceType="z9.huge",
                           MinCount=1, MaxCount=1)  # fmt: skip
    assert message == "Invalid value 'z9.huge' for InstanceType."
    # Types of every family launch their own architecture.
    for instance_type, image in [("c7i.large", x86), ("r6g.large", arm), ("m7g.medium", arm), ("g5.xlarge", x86)]:
        assert launch(ec2, image, instance_type)
    [reservation] = ec2.describe_instances(Filters=[{"Name": "instance-type", "Values": ["r6g.large"]}])["Reservations"]
    assert reservation["Instances"][0]["Architecture"] == "arm64"
