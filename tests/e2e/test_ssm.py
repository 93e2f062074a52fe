"""SSM Parameter Store on the EC2 port: AWS's public AMI parameters derived from each
region's catalog, an account's own parameters (versions, history, aws:ec2:image
validation), through boto3's ssm client and `aws ssm`."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from support import DEFAULT_REGION, error_code, make_snapshot, register

AL2023 = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
NOBLE = "/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id"
JAMMY_ARM = "/aws/service/canonical/ubuntu/server/22.04/stable/current/arm64/hvm/ebs-gp2/ami-id"
DEBIAN = "/aws/service/debian/release/12/latest/amd64"
WINDOWS = "/aws/service/ami-windows-latest/Windows_Server-2022-English-Full-Base"
OTHER_ACCOUNT = "111122223333"


def make_ssm(endpoint: str, region: str = DEFAULT_REGION, access_key: str = "test"):
    return boto3.session.Session().client(
        "ssm",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=access_key,
        aws_secret_access_key="test",
        config=Config(retries={"mode": "standard", "max_attempts": 1}),
    )


@pytest.fixture
def ssm(server):
    return make_ssm(server.url)


def aws_ssm(server, tmp_path, *args: str, region: str = DEFAULT_REGION):
    """Runs `aws ssm ...` with no user configuration: (returncode, JSON output or stderr)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        HOME=str(tmp_path),
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
        AWS_PAGER="",
        AWS_MAX_ATTEMPTS="1",
    )
    command = [sys.executable, "-m", "awscli", "ssm", *args, "--endpoint-url", server.url, "--region", region]
    done = subprocess.run(
        [*command, "--output", "json"], env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL
    )
    if done.returncode != 0:
        return done.returncode, done.stderr
    return 0, json.loads(done.stdout) if done.stdout.strip() else None


def newest_image(ec2, owner: str, name_pattern: str, architecture: str = "x86_64") -> dict:
    images = ec2.describe_images(
        Owners=[owner],
        Filters=[{"Name": "name", "Values": [name_pattern]}, {"Name": "architecture", "Values": [architecture]}],
    )["Images"]
    return max(images, key=lambda i: i["CreationDate"])


# Public parameters ------------------------------------------------------------------------


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1", "ap-southeast-2"])
def test_public_parameters_point_at_the_newest_catalog_image_of_the_region(server, client_factory, region):
    ssm = make_ssm(server.url, region)
    ec2 = client_factory(region=region)
    cases = {
        AL2023: ("amazon", "al2023-ami-2023.*-kernel-6.1-x86_64", "x86_64"),
        NOBLE: ("099720109477", "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*", "x86_64"),
        JAMMY_ARM: ("099720109477", "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-arm64-server-*", "arm64"),
        DEBIAN: ("136693071363", "debian-12-amd64-*", "x86_64"),
        WINDOWS: ("amazon", "Windows_Server-2022-English-Full-Base-*", "x86_64"),
    }
    for name, (owner, pattern, arch) in cases.items():
        parameter = ssm.get_parameter(Name=name)["Parameter"]
        image = newest_image(ec2, owner, pattern, arch)
        assert parameter["Value"] == image["ImageId"], name
        assert parameter["Type"] == "String" and parameter["DataType"] == "text"
        assert parameter["ARN"] == f"arn:aws:ssm:{region}::parameter{name}"
        assert parameter["Version"] >= 1
        assert parameter["LastModifiedDate"].isoformat().startswith(image["CreationDate"][:19])


def test_public_values_differ_per_region(server):
    east = make_ssm(server.url, "us-east-1").get_parameter(Name=AL2023)["Parameter"]["Value"]
    west = make_ssm(server.url, "eu-west-1").get_parameter(Name=AL2023)["Parameter"]["Value"]
    assert east != west


def test_unknown_names_and_get_parameters(ssm):
    with pytest.raises(ClientError) as err:
        ssm.get_parameter(Name="/aws/service/ami-amazon-linux-latest/no-such-image")
    assert error_code(err.value) == "ParameterNotFound"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    out = ssm.get_parameters(Names=[AL2023, "/nope", f"{AL2023}:1", f"{AL2023}:999"])
    assert sorted(p["Name"] for p in out["Parameters"]) == [AL2023, AL2023]
    assert [p.get("Selector") for p in out["Parameters"] if p["Version"] == 1] == [":1"]
    assert sorted(out["InvalidParameters"]) == sorted(["/nope", f"{AL2023}:999"])


def test_public_history_lists_every_catalog_release(ssm, ec2):
    history = ssm.get_parameter_history(Name=AL2023)["Parameters"]
    images = ec2.describe_images(
        Owners=["amazon"],
        Filters=[{"Name": "name", "Values": ["al2023-ami-2023.*-kernel-6.1-x86_64"]}],
        IncludeDeprecated=True,  # history keeps the releases EC2 has since deprecated
    )["Images"]
    oldest_first = [i["ImageId"] for i in sorted(images, key=lambda i: i["CreationDate"])]
    assert [p["Value"] for p in history] == oldest_first
    assert [p["Version"] for p in history] == list(range(1, len(images) + 1))
    latest = ssm.get_parameter(Name=AL2023)["Parameter"]
    assert latest["Version"] == len(images)
    assert ssm.get_parameter(Name=f"{AL2023}:1")["Parameter"]["Value"] == oldest_first[0]
    with pytest.raises(ClientError) as err:
        ssm.get_parameter(Name=f"{AL2023}:{len(images) + 1}")
    assert error_code(err.value) == "ParameterVersionNotFound"


def test_by_path_pages_of_ten_and_recursion(ssm):
    root = "/aws/service/ami-amazon-linux-latest"
    paginator = ssm.get_paginator("get_parameters_by_path")
    pages = list(paginator.paginate(Path=root, PaginationConfig={"PageSize": 3}))
    names = [p["Name"] for page in pages for p in page["Parameters"]]
    assert len(pages) > 1 and all(len(page["Parameters"]) <= 3 for page in pages)
    assert len(names) == len(set(names)) and AL2023 in names
    assert "/aws/service/ami-amazon-linux-latest/amzn2-ami-kernel-5.10-hvm-arm64-gp2" in names
    # One level only: the Ubuntu tree is deep, so a shallow listing of it is empty.
    assert ssm.get_parameters_by_path(Path="/aws/service/canonical")["Parameters"] == []
    deep = [
        p["Name"]
        for page in paginator.paginate(Path="/aws/service/canonical", Recursive=True)
        for p in page["Parameters"]
    ]
    assert NOBLE in deep and "/aws/service/canonical/ubuntu/server/noble/stable/current/amd64/hvm/ebs-gp3/ami-id" in deep
    with pytest.raises(ClientError) as err:
        ssm.get_parameters_by_path(Path=root, MaxResults=11)
    assert error_code(err.value) == "ValidationException"
    with pytest.raises(ClientError) as err:
        ssm.get_parameters_by_path(Path=root, ParameterFilters=[{"Key": "Name", "Values": ["x"]}])
    assert error_code(err.value) == "InvalidFilterKey"
    typed = ssm.get_parameters_by_path(
        Path=root, ParameterFilters=[{"Key": "Type", "Option": "Equals", "Values": ["StringList"]}]
    )
    assert typed["Parameters"] == []


def test_aws_cli_reads_public_parameters(server, tmp_path, client_factory):
    rc, out = aws_ssm(server, tmp_path, "get-parameter", "--name", NOBLE, region="eu-central-1")
    assert rc == 0, out
    ec2 = client_factory(region="eu-central-1")
    image = newest_image(ec2, "099720109477", "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*")
    assert out["Parameter"]["Value"] == image["ImageId"]
    rc, out = aws_ssm(
        server, tmp_path, "get-parameters-by-path", "--path", "/aws/service/debian/release/12", "--recursive"
    )
    assert rc == 0, out
    assert DEBIAN in [p["Name"] for p in out["Parameters"]]
    rc, err = aws_ssm(server, tmp_path, "get-parameter", "--name", "/aws/service/none")
    assert rc == 254 or rc == 255, err
    assert "ParameterNotFound" in err


# Own parameters ------------------------------------------------------------------------------


def own_image(ec2, name: str = "golden") -> str:
    return register(ec2, name, make_snapshot(ec2))


def test_put_versions_history_and_delete(ssm):
    out = ssm.put_parameter(Name="/app/config", Value="one", Type="String")
    assert (out["Version"], out["Tier"]) == (1, "Standard")
    with pytest.raises(ClientError) as err:
        ssm.put_parameter(Name="/app/config", Value="two", Type="String")
    assert error_code(err.value) == "ParameterAlreadyExists"
    assert ssm.put_parameter(Name="/app/config", Value="two", Overwrite=True, Description="second")["Version"] == 2
    parameter = ssm.get_parameter(Name="/app/config")["Parameter"]
    assert (parameter["Value"], parameter["Version"], parameter["DataType"]) == ("two", 2, "text")
    assert parameter["ARN"] == "arn:aws:ssm:us-east-1:000000000000:parameter/app/config"
    assert ssm.get_parameter(Name="/app/config:1")["Parameter"]["Value"] == "one"
    history = ssm.get_parameter_history(Name="/app/config")["Parameters"]
    assert [(h["Version"], h["Value"]) for h in history] == [(1, "one"), (2, "two")]
    assert history[1]["Description"] == "second"
    described = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": ["/app/config"]}])["Parameters"]
    assert [(d["Name"], d["Version"]) for d in described] == [("/app/config", 2)]
    ssm.delete_parameter(Name="/app/config")
    with pytest.raises(ClientError) as err:
        ssm.get_parameter(Name="/app/config")
    assert error_code(err.value) == "ParameterNotFound"
    with pytest.raises(ClientError) as err:
        ssm.delete_parameter(Name="/app/config")
    assert error_code(err.value) == "ParameterNotFound"
    ssm.put_parameter(Name="/app/a", Value="1", Type="String")
    out = ssm.delete_parameters(Names=["/app/a", "/app/missing"])
    assert (out["DeletedParameters"], out["InvalidParameters"]) == (["/app/a"], ["/app/missing"])


def test_own_parameters_by_path_and_isolation(server, ssm):
    for i in range(12):
        ssm.put_parameter(Name=f"/fleet/web/{i:02d}", Value=str(i), Type="String")
    ssm.put_parameter(Name="/fleet/top", Value="t", Type="StringList")
    pages = list(ssm.get_paginator("get_parameters_by_path").paginate(Path="/fleet/web"))
    assert [len(p["Parameters"]) for p in pages] == [10, 2]
    assert [p["Name"] for p in ssm.get_parameters_by_path(Path="/fleet")["Parameters"]] == ["/fleet/top"]
    everything = [p["Name"] for page in ssm.get_paginator("get_parameters_by_path").paginate(Path="/", Recursive=True)
                  for p in page["Parameters"]]  # fmt: skip
    assert len(everything) == 13
    other = make_ssm(server.url, access_key=OTHER_ACCOUNT)
    with pytest.raises(ClientError) as err:
        other.get_parameter(Name="/fleet/top")
    assert error_code(err.value) == "ParameterNotFound"
    elsewhere = make_ssm(server.url, region="eu-west-1")
    assert elsewhere.get_parameters_by_path(Path="/fleet", Recursive=True)["Parameters"] == []


def test_reserved_names_and_bad_input(ssm):
    with pytest.raises(ClientError) as err:
        ssm.put_parameter(Name="/aws/service/mine", Value="x", Type="String")
    assert error_code(err.value) == "AccessDeniedException"
    with pytest.raises(ClientError) as err:
        ssm.put_parameter(Name="ssm-thing", Value="x", Type="String")
    assert error_code(err.value) == "ValidationException"
    with pytest.raises(ClientError) as err:
        ssm.put_parameter(Name="/x", Value="x")
    assert error_code(err.value) == "ValidationException"
    with pytest.raises(ClientError) as err:
        ssm.put_parameter(Name="/x", Value="x", Type="String", DataType="aws:ec2:Image")
    assert error_code(err.value) == "ValidationException"
    with pytest.raises(ClientError) as err:
        ssm.put_parameter(Name="/x", Value="x", Type="SecureString")
    assert error_code(err.value) == "UnsupportedParameterType"


def test_image_parameters_are_validated(ssm, ec2, server):
    image_id = own_image(ec2)
    out = ssm.put_parameter(Name="/golden/ami", Value=image_id, Type="String", DataType="aws:ec2:image")
    assert out["Version"] == 1
    assert ssm.get_parameter(Name="/golden/ami")["Parameter"]["DataType"] == "aws:ec2:image"
    for bad in ["not-an-ami", "ami-00000000000000000"]:
        with pytest.raises(ClientError) as err:
            ssm.put_parameter(Name="/golden/ami", Value=bad, Overwrite=True, DataType="aws:ec2:image")
        assert error_code(err.value) == "ValidationException", bad
    # Another account's image that is not shared with the caller cannot be named.
    other_ec2 = boto3.session.Session().client(
        "ec2", endpoint_url=server.url, region_name=DEFAULT_REGION,
        aws_access_key_id=OTHER_ACCOUNT, aws_secret_access_key="test",
    )  # fmt: skip
    private = own_image(other_ec2, "theirs")
    with pytest.raises(ClientError) as err:
        ssm.put_parameter(Name="/golden/ami", Value=private, Overwrite=True, DataType="aws:ec2:image")
    assert error_code(err.value) == "ValidationException"
    # A public catalog image can be named.
    al2023 = ssm.get_parameter(Name=AL2023)["Parameter"]["Value"]
    assert ssm.put_parameter(Name="/golden/ami", Value=al2023, Overwrite=True)["Version"] == 2
    assert ssm.get_parameter(Name="/golden/ami")["Parameter"]["DataType"] == "aws:ec2:image"


def test_parameter_of_a_deregistered_image_is_still_served(ssm, ec2):
    image_id = own_image(ec2)
    ssm.put_parameter(Name="/golden/ami", Value=image_id, Type="String", DataType="aws:ec2:image")
    ec2.deregister_image(ImageId=image_id)
    assert ssm.get_parameter(Name="/golden/ami")["Parameter"]["Value"] == image_id
    # A new version cannot point at it any more.
    with pytest.raises(ClientError) as err:
        ssm.put_parameter(Name="/golden/ami", Value=image_id, Overwrite=True)
    assert error_code(err.value) == "ValidationException"


def test_parameters_survive_a_restart(server, ec2):
    ssm = make_ssm(server.url)
    image_id = own_image(ec2)
    ssm.put_parameter(Name="/golden/ami", Value=image_id, Type="String", DataType="aws:ec2:image")
    ssm.put_parameter(Name="/golden/ami", Value=image_id, Overwrite=True, Description="again")
    public = ssm.get_parameter(Name=AL2023)["Parameter"]
    server.restart()
    ssm = make_ssm(server.url)
    assert [h["Version"] for h in ssm.get_parameter_history(Name="/golden/ami")["Parameters"]] == [1, 2]
    assert ssm.get_parameter(Name="/golden/ami")["Parameter"]["Value"] == image_id
    assert ssm.get_parameter(Name=AL2023)["Parameter"] == public


def test_aws_cli_put_and_get(server, tmp_path, ec2):
    image_id = own_image(ec2)
    rc, out = aws_ssm(
        server, tmp_path, "put-parameter", "--name", "/cli/ami", "--value", image_id,
        "--type", "String", "--data-type", "aws:ec2:image",
    )  # fmt: skip
    assert rc == 0, out
    assert out["Version"] == 1
    rc, out = aws_ssm(server, tmp_path, "get-parameter", "--name", "/cli/ami")
    assert rc == 0, out
    assert out["Parameter"]["Value"] == image_id
    rc, err = aws_ssm(server, tmp_path, "put-parameter", "--name", "/cli/ami", "--value", "x", "--type", "String")
    assert rc != 0 and "ParameterAlreadyExists" in err
    rc, out = aws_ssm(server, tmp_path, "delete-parameter", "--name", "/cli/ami")
    assert rc == 0, out


def test_names_by_arn_and_single_level_spellings(ssm):
    ssm.put_parameter(Name="/plain", Value="p", Type="String")
    assert ssm.get_parameter(Name="plain")["Parameter"]["Name"] == "/plain"
    with pytest.raises(ClientError) as err:
        ssm.put_parameter(Name="plain", Value="q", Type="String")
    assert error_code(err.value) == "ParameterAlreadyExists"
    arn = ssm.get_parameter(Name="/plain")["Parameter"]["ARN"]
    assert ssm.get_parameter(Name=arn)["Parameter"]["Value"] == "p"
    public_arn = f"arn:aws:ssm:{DEFAULT_REGION}::parameter{AL2023}"
    assert ssm.get_parameter(Name=public_arn)["Parameter"]["Name"] == AL2023
    assert len(ssm.get_parameter_history(Name=public_arn)["Parameters"]) >= 1


def test_signed_requests_are_verified_and_act_as_the_keys_account(start_server, tmp_path):
    accounts = tmp_path / "accounts.json"
    accounts.write_text(
        '{"accounts": [{"id": "222222222222", "access_keys": '
        '[{"access_key_id": "AKIAEXAMPLE2", "secret_access_key": "secret2"}]}]}'
    )
    server = start_server("--accounts", str(accounts), "--verify-signatures")

    def client(secret: str):
        return boto3.session.Session().client(
            "ssm",
            endpoint_url=server.url,
            region_name="eu-west-1",
            aws_access_key_id="AKIAEXAMPLE2",
            aws_secret_access_key=secret,
            config=Config(retries={"max_attempts": 1}),
        )

    good = client("secret2")
    good.put_parameter(Name="/signed", Value="yes", Type="String")
    assert good.get_parameter(Name="/signed")["Parameter"]["ARN"] == "arn:aws:ssm:eu-west-1:222222222222:parameter/signed"
    with pytest.raises(ClientError) as refused:
        client("wrong").get_parameter(Name=AL2023)
    assert error_code(refused.value) == "InvalidSignatureException"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


# resolve:ssm: launches ----------------------------------------------------------------------


def test_run_instances_resolves_ssm_parameters(ssm, ec2):
    public = ssm.get_parameter(Name=AL2023)["Parameter"]["Value"]
    [instance] = ec2.run_instances(ImageId=f"resolve:ssm:{AL2023}", MinCount=1, MaxCount=1)["Instances"]
    assert instance["ImageId"] == public

    # An account's own parameter, by name and by version.
    first, second = own_image(ec2, "golden-1"), own_image(ec2, "golden-2")
    ssm.put_parameter(Name="/golden/ami", Value=first, Type="String", DataType="aws:ec2:image")
    ssm.put_parameter(Name="/golden/ami", Value=second, Type="String", DataType="aws:ec2:image", Overwrite=True)
    [latest] = ec2.run_instances(ImageId="resolve:ssm:/golden/ami", MinCount=1, MaxCount=1)["Instances"]
    [pinned] = ec2.run_instances(ImageId="resolve:ssm:/golden/ami:1", MinCount=1, MaxCount=1)["Instances"]
    assert (latest["ImageId"], pinned["ImageId"]) == (second, first)

    # A launch template rolls with the parameter.
    template = ec2.create_launch_template(LaunchTemplateName="golden", LaunchTemplateData={
        "ImageId": "resolve:ssm:/golden/ami", "InstanceType": "t3.micro"})["LaunchTemplate"]
    [from_template] = ec2.run_instances(LaunchTemplate={"LaunchTemplateId": template["LaunchTemplateId"]},
                                        MinCount=1, MaxCount=1)["Instances"]
    assert from_template["ImageId"] == second

    # The parameter outlives its AMI; launching through it then fails as a direct launch.
    ec2.deregister_image(ImageId=second)
    assert ssm.get_parameter(Name="/golden/ami")["Parameter"]["Value"] == second
    with pytest.raises(ClientError) as direct:
        ec2.run_instances(ImageId=second, MinCount=1, MaxCount=1)
    with pytest.raises(ClientError) as resolved:
        ec2.run_instances(ImageId="resolve:ssm:/golden/ami", MinCount=1, MaxCount=1)
    assert error_code(resolved.value) == error_code(direct.value)
    with pytest.raises(ClientError) as unknown:
        ec2.run_instances(ImageId="resolve:ssm:/no/such/parameter", MinCount=1, MaxCount=1)
    assert "/no/such/parameter" in unknown.value.response["Error"]["Message"]


def test_aws_cli_launches_through_a_public_parameter(aws, ssm):
    public = ssm.get_parameter(Name=DEBIAN)["Parameter"]["Value"]
    [instance] = aws.ok("run-instances", "--image-id", f"resolve:ssm:{DEBIAN}", "--count", "1")["Instances"]
    assert instance["ImageId"] == public
