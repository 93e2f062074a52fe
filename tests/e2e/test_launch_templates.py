"""Launch templates through boto3 and aws-cli: versions ($Latest, $Default, SourceVersion),
the data given back exactly as it was sent, filters and paging, launches from a template
with overrides (and every image check a direct launch makes), rolling a fleet to a new
AMI with a new version, GetLaunchTemplateData, deletion, and restart / kill -9 durability."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from support import WAITER, error_code, make_client, make_snapshot, register

AL2023_X86 = "al2023-ami-2023.*-kernel-6.1-x86_64"
AL2023_ARM = "al2023-ami-2023.*-kernel-6.1-arm64"


def expect_error(code: str, call, **params) -> str:
    with pytest.raises(ClientError) as caught:
        call(**params)
    assert error_code(caught.value) == code, caught.value.response["Error"]
    return caught.value.response["Error"]["Message"]


def code_of(call, **params) -> str:
    with pytest.raises(ClientError) as caught:
        call(**params)
    return error_code(caught.value)


def catalog_image(ec2, pattern: str) -> str:
    found = ec2.describe_images(Owners=["amazon"], Filters=[{"Name": "name", "Values": [pattern]}])["Images"]
    return max(found, key=lambda i: i["CreationDate"])["ImageId"]


def own_image(ec2, name: str) -> str:
    ami = register(ec2, name, make_snapshot(ec2))
    ec2.get_waiter("image_available").wait(ImageIds=[ami], WaiterConfig=WAITER)
    return ami


def tags_of(resource: dict) -> dict:
    return {t["Key"]: t["Value"] for t in resource.get("Tags", [])}


def versions(ec2, template_id: str, **params) -> list[dict]:
    return ec2.describe_launch_template_versions(LaunchTemplateId=template_id, **params)["LaunchTemplateVersions"]


def launch(ec2, template: dict, **params) -> dict:
    [instance] = ec2.run_instances(LaunchTemplate=template, MinCount=1, MaxCount=1, **params)["Instances"]
    return instance


DATA = {
    "InstanceType": "t3.micro",
    "KeyName": "web-key",
    "UserData": "ZWNobyBoaQ==",
    "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 12, "VolumeType": "gp3",
                                                                 "DeleteOnTermination": True}}],
    "TagSpecifications": [{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "web"},
                                                                {"Key": "tier", "Value": "front"}]},
                          {"ResourceType": "volume", "Tags": [{"Key": "team", "Value": "web"}]}],
    "MetadataOptions": {"HttpTokens": "required", "HttpPutResponseHopLimit": 2, "HttpEndpoint": "enabled"},
    "Placement": {"AvailabilityZone": "us-east-1b"},
    "CreditSpecification": {"CpuCredits": "unlimited"},
    "DisableApiTermination": False,
    "InstanceInitiatedShutdownBehavior": "terminate",
    "IamInstanceProfile": {"Name": "web-role"},
    "Monitoring": {"Enabled": True},
}  # fmt: skip


def test_template_story(ec2):
    ec2.create_key_pair(KeyName="web-key")
    ami = catalog_image(ec2, AL2023_X86)
    group = ec2.create_security_group(GroupName="web", Description="web")["GroupId"]
    data = {**DATA, "ImageId": ami, "SecurityGroupIds": [group]}
    created = ec2.create_launch_template(
        LaunchTemplateName="web-fleet",
        VersionDescription="first",
        LaunchTemplateData=data,
        TagSpecifications=[{"ResourceType": "launch-template", "Tags": [{"Key": "env", "Value": "prod"}]}],
    )["LaunchTemplate"]
    lt = created["LaunchTemplateId"]
    assert lt.startswith("lt-") and len(lt) == 20
    assert (created["DefaultVersionNumber"], created["LatestVersionNumber"]) == (1, 1)
    assert created["CreatedBy"] == "arn:aws:iam::000000000000:root"
    assert tags_of(created) == {"env": "prod"}
    expect_error("InvalidLaunchTemplateName.AlreadyExistsException", ec2.create_launch_template,
                 LaunchTemplateName="web-fleet", LaunchTemplateData={"ImageId": ami})
    expect_error("InvalidLaunchTemplateName.MalformedException", ec2.create_launch_template,
                 LaunchTemplateName="no spaces", LaunchTemplateData={"ImageId": ami})
    expect_error("MissingParameter", ec2.create_launch_template, LaunchTemplateName="empty", LaunchTemplateData={})

    # The data comes back exactly as it was given.
    [v1] = versions(ec2, lt)
    assert (v1["VersionNumber"], v1["DefaultVersion"], v1["VersionDescription"]) == (1, True, "first")
    assert v1["LaunchTemplateData"] == data

    # Version 2 from version 1: a new type, everything else inherited.
    v2 = ec2.create_launch_template_version(LaunchTemplateId=lt, SourceVersion="1", VersionDescription="bigger",
                                            LaunchTemplateData={"InstanceType": "t3.large"})["LaunchTemplateVersion"]
    assert (v2["VersionNumber"], v2["DefaultVersion"]) == (2, False)
    assert v2["LaunchTemplateData"] == {**data, "InstanceType": "t3.large"}
    # Version 3 from nothing: only what it says.
    v3 = ec2.create_launch_template_version(LaunchTemplateName="web-fleet",
                                            LaunchTemplateData={"ImageId": ami})["LaunchTemplateVersion"]
    assert v3["LaunchTemplateData"] == {"ImageId": ami}
    expect_error("InvalidLaunchTemplateId.VersionNotFound", ec2.create_launch_template_version,
                 LaunchTemplateId=lt, SourceVersion="9", LaunchTemplateData={"InstanceType": "t3.micro"})

    assert [v["VersionNumber"] for v in versions(ec2, lt, Versions=["$Latest"])] == [3]
    assert [v["VersionNumber"] for v in versions(ec2, lt, Versions=["$Default", "2"])] == [1, 2]
    assert [v["VersionNumber"] for v in versions(ec2, lt, MinVersion="2")] == [2, 3]
    assert [v["VersionNumber"] for v in versions(ec2, lt, MaxVersion="2")] == [1, 2]
    assert [v["VersionNumber"] for v in versions(ec2, lt, Filters=[{"Name": "instance-type",
                                                                     "Values": ["t3.large"]}])] == [2]
    assert [v["VersionNumber"] for v in versions(ec2, lt, Filters=[{"Name": "image-id", "Values": [ami]}])] == [1, 2, 3]
    assert [v["VersionNumber"] for v in versions(ec2, lt, Filters=[{"Name": "is-default-version",
                                                                     "Values": ["true"]}])] == [1]
    expect_error("InvalidLaunchTemplateId.VersionNotFound", ec2.describe_launch_template_versions,
                 LaunchTemplateId=lt, Versions=["7"])
    expect_error("InvalidParameterValue", ec2.describe_launch_template_versions,
                 LaunchTemplateId=lt, Filters=[{"Name": "flavour", "Values": ["x"]}])

    # The default moves; the template shows it.
    modified = ec2.modify_launch_template(LaunchTemplateId=lt, DefaultVersion="2")["LaunchTemplate"]
    assert (modified["DefaultVersionNumber"], modified["LatestVersionNumber"]) == (2, 3)
    expect_error("InvalidLaunchTemplateId.VersionNotFound", ec2.modify_launch_template,
                 LaunchTemplateId=lt, DefaultVersion="66")
    [listed] = ec2.describe_launch_templates(LaunchTemplateNames=["web-fleet"])["LaunchTemplates"]
    assert (listed["LaunchTemplateId"], listed["DefaultVersionNumber"], tags_of(listed)) == (lt, 2, {"env": "prod"})

    # Deleting versions: the default one stays.
    deleted = ec2.delete_launch_template_versions(LaunchTemplateId=lt, Versions=["2", "3", "8"])
    assert [d["VersionNumber"] for d in deleted["SuccessfullyDeletedLaunchTemplateVersions"]] == [3]
    failed = {d["VersionNumber"]: d["ResponseError"]["Code"]
              for d in deleted["UnsuccessfullyDeletedLaunchTemplateVersions"]}
    assert failed == {2: "unexpectedError", 8: "launchTemplateVersionDoesNotExist"}
    assert [v["VersionNumber"] for v in versions(ec2, lt)] == [1, 2]
    # Numbers are not reused.
    v4 = ec2.create_launch_template_version(LaunchTemplateId=lt, LaunchTemplateData={"ImageId": ami})
    assert v4["LaunchTemplateVersion"]["VersionNumber"] == 4

    ec2.delete_launch_template(LaunchTemplateName="web-fleet")
    expect_error("InvalidLaunchTemplateId.NotFound", ec2.describe_launch_templates, LaunchTemplateIds=[lt])
    expect_error("InvalidLaunchTemplateName.NotFoundException", ec2.describe_launch_templates,
                 LaunchTemplateNames=["web-fleet"])
    expect_error("InvalidLaunchTemplateId.Malformed", ec2.describe_launch_templates, LaunchTemplateIds=["lt-xyz"])


def test_describe_filters_paging_and_isolation(ec2, client_factory):
    ami = catalog_image(ec2, AL2023_X86)
    ids = []
    for n in range(5):
        t = ec2.create_launch_template(
            LaunchTemplateName=f"tpl-{n}", LaunchTemplateData={"ImageId": ami},
            TagSpecifications=[{"ResourceType": "launch-template", "Tags": [{"Key": "n", "Value": str(n % 2)}]}],
        )["LaunchTemplate"]
        ids.append(t["LaunchTemplateId"])
    pages = ec2.get_paginator("describe_launch_templates").paginate(PaginationConfig={"PageSize": 2})
    assert sorted(t["LaunchTemplateId"] for page in pages for t in page["LaunchTemplates"]) == sorted(ids)
    odd = ec2.describe_launch_templates(Filters=[{"Name": "tag:n", "Values": ["1"]}])["LaunchTemplates"]
    assert sorted(t["LaunchTemplateName"] for t in odd) == ["tpl-1", "tpl-3"]
    named = ec2.describe_launch_templates(Filters=[{"Name": "launch-template-name", "Values": ["tpl-[24]"]}])
    assert named["LaunchTemplates"] == [] or all(t["LaunchTemplateName"] in ("tpl-2", "tpl-4")
                                                  for t in named["LaunchTemplates"])
    glob = ec2.describe_launch_templates(Filters=[{"Name": "launch-template-name", "Values": ["tpl-*"]}])
    assert len(glob["LaunchTemplates"]) == 5
    assert len(ec2.describe_launch_templates(Filters=[{"Name": "create-time", "Values": ["20*"]}])["LaunchTemplates"]) == 5
    # $Latest of every template of the account.
    latest = ec2.describe_launch_template_versions(Versions=["$Latest"])["LaunchTemplateVersions"]
    assert sorted(v["LaunchTemplateId"] for v in latest) == sorted(ids)
    # CreateTags / DescribeTags know launch templates.
    ec2.create_tags(Resources=[ids[0]], Tags=[{"Key": "extra", "Value": "x"}])
    tagged = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [ids[0]]}])["Tags"]
    assert {(t["Key"], t["ResourceType"]) for t in tagged} == {("n", "launch-template"), ("extra", "launch-template")}
    # Another account and another region see none of them.
    other = client_factory(access_key="111111111111")
    expect_error("InvalidLaunchTemplateId.NotFound", other.describe_launch_templates, LaunchTemplateIds=[ids[0]])
    assert other.describe_launch_templates()["LaunchTemplates"] == []
    assert client_factory(region="eu-west-1").describe_launch_templates()["LaunchTemplates"] == []
    # Another account may use the same name.
    other.create_launch_template(LaunchTemplateName="tpl-0", LaunchTemplateData={"ImageId": ami})


def test_launch_from_template_with_overrides_and_rolling(ec2):
    ec2.create_key_pair(KeyName="web-key")
    x86 = catalog_image(ec2, AL2023_X86)
    group = ec2.create_security_group(GroupName="web", Description="web")["GroupId"]
    data = {**DATA, "ImageId": x86, "SecurityGroupIds": [group]}
    data.pop("IamInstanceProfile")
    lt = ec2.create_launch_template(LaunchTemplateName="fleet", LaunchTemplateData=data)["LaunchTemplate"]
    lt_id = lt["LaunchTemplateId"]

    plain = launch(ec2, {"LaunchTemplateId": lt_id})
    assert (plain["ImageId"], plain["InstanceType"], plain["KeyName"]) == (x86, "t3.micro", "web-key")
    assert plain["Placement"]["AvailabilityZone"] == "us-east-1b"
    assert [g["GroupId"] for g in plain["SecurityGroups"]] == [group]
    assert tags_of(plain) == {"Name": "web", "tier": "front"}
    [root] = ec2.describe_volumes(Filters=[{"Name": "attachment.instance-id", "Values": [plain["InstanceId"]]}])["Volumes"]
    assert (root["Size"], root["VolumeType"], tags_of(root)) == (12, "gp3", {"team": "web"})
    attribute = ec2.describe_instance_attribute(InstanceId=plain["InstanceId"],
                                                Attribute="instanceInitiatedShutdownBehavior")
    assert attribute["InstanceInitiatedShutdownBehavior"]["Value"] == "terminate"

    # The request's own parameters win; the template's tags stay under its own.
    override = launch(ec2, {"LaunchTemplateName": "fleet", "Version": "$Latest"}, InstanceType="t3.small",
                      TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "canary"}]}])
    assert (override["ImageId"], override["InstanceType"]) == (x86, "t3.small")
    assert tags_of(override) == {"Name": "canary", "tier": "front"}

    # Rolling to a new AMI: a new version with a new ImageId, made the default.
    new_ami = own_image(ec2, "web-v2")
    ec2.create_launch_template_version(LaunchTemplateId=lt_id, SourceVersion="$Latest",
                                       LaunchTemplateData={"ImageId": new_ami})
    assert launch(ec2, {"LaunchTemplateId": lt_id})["ImageId"] == x86  # the default is still version 1
    assert launch(ec2, {"LaunchTemplateId": lt_id, "Version": "2"})["ImageId"] == new_ami
    ec2.modify_launch_template(LaunchTemplateId=lt_id, DefaultVersion="2")
    rolled = launch(ec2, {"LaunchTemplateId": lt_id})
    assert (rolled["ImageId"], rolled["InstanceType"]) == (new_ami, "t3.micro")

    for code, template in [
        ("InvalidLaunchTemplateId.VersionNotFound", {"LaunchTemplateId": lt_id, "Version": "9"}),
        ("InvalidLaunchTemplateId.NotFound", {"LaunchTemplateId": "lt-0123456789abcdef0"}),
        ("InvalidLaunchTemplateName.NotFoundException", {"LaunchTemplateName": "nope"}),
        ("InvalidLaunchTemplateId.Malformed", {"LaunchTemplateId": "lt-nope"}),
    ]:
        expect_error(code, ec2.run_instances, LaunchTemplate=template, MinCount=1, MaxCount=1)

    # GetLaunchTemplateData gives the instance back in the same shape.
    got = ec2.get_launch_template_data(InstanceId=rolled["InstanceId"])["LaunchTemplateData"]
    assert (got["ImageId"], got["InstanceType"], got["KeyName"]) == (new_ami, "t3.micro", "web-key")
    assert got["Placement"]["AvailabilityZone"] == "us-east-1b"
    assert got["InstanceInitiatedShutdownBehavior"] == "terminate"
    [interface] = got["NetworkInterfaces"]
    assert (interface["DeviceIndex"], interface["Groups"]) == (0, [group])
    assert got["BlockDeviceMappings"][0]["Ebs"]["VolumeSize"] == 12
    assert {t["Key"]: t["Value"] for t in got["TagSpecifications"][0]["Tags"]} == {"Name": "web", "tier": "front"}
    # ... which makes a template that launches the same.
    copy = ec2.create_launch_template(LaunchTemplateName="copy", LaunchTemplateData={
        k: got[k] for k in ("ImageId", "InstanceType", "KeyName", "Placement")})["LaunchTemplate"]
    assert launch(ec2, {"LaunchTemplateId": copy["LaunchTemplateId"]})["ImageId"] == new_ami
    expect_error("InvalidInstanceID.NotFound", ec2.get_launch_template_data, InstanceId="i-0123456789abcdef0")


def test_template_image_checked_as_a_direct_launch(ec2, client_factory):
    arm = catalog_image(ec2, AL2023_ARM)

    made = iter(range(100))

    def same_refusal(image_id: str, client=ec2, **data):
        name = f"check-{next(made)}"
        template = client.create_launch_template(LaunchTemplateName=name,
                                                 LaunchTemplateData={"ImageId": image_id, **data})["LaunchTemplate"]
        direct = code_of(client.run_instances, ImageId=image_id, MinCount=1, MaxCount=1, **data)
        via_template = code_of(client.run_instances, MinCount=1, MaxCount=1,
                               LaunchTemplate={"LaunchTemplateId": template["LaunchTemplateId"]})
        assert via_template == direct
        return direct

    # Architecture against type.
    assert same_refusal(arm, InstanceType="t3.micro") == "InvalidParameterValue"
    # Disabled, then deregistered.
    own = own_image(ec2, "retired")
    ec2.disable_image(ImageId=own)
    assert same_refusal(own) == "InvalidAMIID.Unavailable"
    ec2.enable_image(ImageId=own)
    ec2.deregister_image(ImageId=own)
    assert same_refusal(own) in ("InvalidAMIID.NotFound", "InvalidAMIID.Unavailable")
    # Not shared with the caller.
    owner = client_factory(access_key="111111111111")
    private = own_image(owner, "private")
    assert same_refusal(private) == "AuthFailure"
    # Once shared, the template launches it.
    owner.modify_image_attribute(ImageId=private, LaunchPermission={"Add": [{"UserId": "000000000000"}]})
    assert launch(ec2, {"LaunchTemplateName": "check-3"})["ImageId"] == private
    # A template without an image, launched without one.
    ec2.create_launch_template(LaunchTemplateName="no-image", LaunchTemplateData={"InstanceType": "t3.micro"})
    expect_error("MissingParameter", ec2.run_instances, LaunchTemplate={"LaunchTemplateName": "no-image"},
                 MinCount=1, MaxCount=1)


def test_templates_survive_restart_and_kill(server, ec2):
    ami = catalog_image(ec2, AL2023_X86)
    lt = ec2.create_launch_template(LaunchTemplateName="durable", LaunchTemplateData={"ImageId": ami,
                                    "InstanceType": "t3.micro"})["LaunchTemplate"]["LaunchTemplateId"]
    ec2.create_launch_template_version(LaunchTemplateId=lt, SourceVersion="1",
                                       LaunchTemplateData={"InstanceType": "t3.small"})
    ec2.modify_launch_template(LaunchTemplateId=lt, DefaultVersion="2")
    server.kill()
    server.start()
    again = make_client(server.url)
    [template] = again.describe_launch_templates(LaunchTemplateIds=[lt])["LaunchTemplates"]
    assert (template["DefaultVersionNumber"], template["LatestVersionNumber"]) == (2, 2)
    assert versions(again, lt, Versions=["$Default"])[0]["LaunchTemplateData"] == {"ImageId": ami,
                                                                                   "InstanceType": "t3.small"}
    server.restart()
    after = make_client(server.url)
    assert launch(after, {"LaunchTemplateId": lt})["InstanceType"] == "t3.small"


def test_cli_launch_template(aws, ec2):
    ami = catalog_image(ec2, AL2023_X86)
    created = aws.ok("create-launch-template", "--launch-template-name", "cli-tpl",
                     "--launch-template-data", f'{{"ImageId":"{ami}","InstanceType":"t3.micro"}}')["LaunchTemplate"]
    listed = aws.ok("describe-launch-template-versions", "--launch-template-id", created["LaunchTemplateId"],
                    "--versions", "$Latest")["LaunchTemplateVersions"]
    assert listed[0]["LaunchTemplateData"] == {"ImageId": ami, "InstanceType": "t3.micro"}
    reservation = aws.ok("run-instances", "--launch-template", "LaunchTemplateName=cli-tpl,Version=$Default",
                         "--count", "1")
    assert reservation["Instances"][0]["ImageId"] == ami
    assert "InvalidLaunchTemplateName.AlreadyExistsException" in aws.err(
        "create-launch-template", "--launch-template-name", "cli-tpl", "--launch-template-data", '{"ImageId":"x"}')
    aws.ok("delete-launch-template", "--launch-template-id", created["LaunchTemplateId"])
