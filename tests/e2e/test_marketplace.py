"""Marketplace images need a subscription (from the accounts file or the admin endpoint)
before they launch; their product code follows the instance and the images made from it.
Also the spellings real clients send that EC2 accepts: capitalised image attribute names
(Ansible) and the `platform-details` / `usage-operation` filters."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from support import error_code, make_client

OTHER = "111111111111"


def marketplace_image(ec2) -> dict:
    images = ec2.describe_images(Owners=["aws-marketplace"])["Images"]
    return next(i for i in images if any(c["ProductCodeType"] == "marketplace" for c in i.get("ProductCodes", [])))


def launch(ec2, image_id: str, **extra) -> dict:
    return ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1, InstanceType="t3.micro", **extra)["Instances"][0]


def refused_opt_in(ec2, image_id: str) -> str:
    with pytest.raises(ClientError) as caught:
        launch(ec2, image_id)
    assert error_code(caught.value) == "OptInRequired"
    return caught.value.response["Error"]["Message"]


def test_subscription_story(server, ec2, client_factory):
    image = marketplace_image(ec2)
    code = image["ProductCodes"][0]["ProductCodeId"]
    message = refused_opt_in(ec2, image["ImageId"])
    assert message == ("In order to use this AWS Marketplace product you need to accept terms and subscribe. "
                       f"To do so please visit https://aws.amazon.com/marketplace/pp?sku={code}")

    status, _ = server.admin("PUT", f"/_ec2lite/marketplace/000000000000/{code}")
    assert status == 200
    assert server.admin("GET", "/_ec2lite/marketplace/000000000000")[1]["product_codes"] == [code]
    instance = launch(ec2, image["ImageId"])
    assert instance["ProductCodes"] == [{"ProductCodeId": code, "ProductCodeType": "marketplace"}]
    attribute = ec2.describe_instance_attribute(InstanceId=instance["InstanceId"], Attribute="productCodes")
    assert attribute["ProductCodes"] == [{"ProductCodeId": code, "ProductCodeType": "marketplace"}]

    # An image of the instance keeps the product code, so sharing it launders nothing.
    made = ec2.create_image(InstanceId=instance["InstanceId"], Name="from-marketplace", NoReboot=True)["ImageId"]
    ec2.get_waiter("image_available").wait(ImageIds=[made], WaiterConfig={"Delay": 1})
    assert ec2.describe_images(ImageIds=[made])["Images"][0]["ProductCodes"][0]["ProductCodeId"] == code
    ec2.modify_image_attribute(ImageId=made, LaunchPermission={"Add": [{"UserId": OTHER}]})
    other = client_factory(access_key=OTHER)
    refused_opt_in(other, made)
    with pytest.raises(ClientError) as caught:
        other.copy_image(SourceImageId=made, SourceRegion="us-east-1", Name="laundered")
    assert error_code(caught.value) in ("AuthFailure", "InvalidRequest", "OperationNotPermitted")

    # Subscriptions made here survive a restart; ending one stops launches again.
    server.restart()
    again = make_client(server.url)
    launch(again, image["ImageId"])
    assert server.admin("DELETE", f"/_ec2lite/marketplace/000000000000/{code}")[0] == 200
    assert server.admin("DELETE", f"/_ec2lite/marketplace/000000000000/{code}")[0] == 404
    refused_opt_in(again, image["ImageId"])
    assert server.admin("PUT", f"/_ec2lite/marketplace/not-an-account/{code}")[0] == 400


def test_subscriptions_from_the_accounts_file(start_server, tmp_path):
    probe = start_server()
    code = marketplace_image(make_client(probe.url))["ProductCodes"][0]["ProductCodeId"]
    accounts = tmp_path / "accounts.json"
    accounts.write_text(json.dumps({"accounts": [
        {"id": "222222222222", "marketplace_subscriptions": [code]},
        {"id": "333333333333"},
    ]}))
    server = start_server("--accounts", str(accounts))
    subscribed = make_client(server.url, access_key="222222222222")
    image = marketplace_image(subscribed)
    assert launch(subscribed, image["ImageId"])["ProductCodes"][0]["ProductCodeId"] == code
    refused_opt_in(make_client(server.url, access_key="333333333333"), image["ImageId"])
    listed = server.admin("GET", "/_ec2lite/marketplace/222222222222")[1]
    assert listed["product_codes"] == [code]


def test_spellings_clients_send(ec2):
    image = ec2.describe_images(Owners=["amazon"], Filters=[
        {"Name": "platform-details", "Values": ["Linux/UNIX"]},
        {"Name": "usage-operation", "Values": ["RunInstances"]},
        {"Name": "architecture", "Values": ["x86_64"]},
    ])["Images"]
    assert image and all(i["PlatformDetails"] == "Linux/UNIX" for i in image)
    windows = ec2.describe_images(Owners=["amazon"], Filters=[{"Name": "platform-details", "Values": ["Windows*"]}])
    assert windows["Images"] and all(i["Platform"] == "windows" for i in windows["Images"])
    launched = launch(ec2, image[0]["ImageId"])
    by_usage = ec2.describe_instances(Filters=[{"Name": "usage-operation", "Values": ["RunInstances"]}])
    assert by_usage["Reservations"][0]["Instances"][0]["InstanceId"] == launched["InstanceId"]
    with pytest.raises(ClientError) as caught:
        ec2.describe_images(Owners=["amazon"], Filters=[{"Name": "platform-detail", "Values": ["x"]}])
    assert error_code(caught.value) == "InvalidParameterValue"

    # Ansible's ec2_ami sends capitalised attribute names.
    made = ec2.create_image(InstanceId=launched["InstanceId"], Name="spelled", NoReboot=True)["ImageId"]
    ec2.modify_image_attribute(ImageId=made, Attribute="LaunchPermission", OperationType="add", UserIds=[OTHER])
    ec2.modify_image_attribute(ImageId=made, Attribute="Description", Value="capitalised")
    shown = ec2.describe_image_attribute(ImageId=made, Attribute="LaunchPermission")
    assert shown["LaunchPermissions"] == [{"UserId": OTHER}]
    assert ec2.describe_image_attribute(ImageId=made, Attribute="Description")["Description"]["Value"] == "capitalised"
    ec2.reset_image_attribute(ImageId=made, Attribute="LaunchPermission")
    assert ec2.describe_image_attribute(ImageId=made, Attribute="launchPermission")["LaunchPermissions"] == []


def test_structured_instance_attribute_forms(ec2):
    image = ec2.describe_images(Owners=["amazon"], Filters=[{"Name": "architecture", "Values": ["x86_64"]},
                                                           {"Name": "platform-details", "Values": ["Linux/UNIX"]}])
    instance_id = launch(ec2, image["Images"][0]["ImageId"])["InstanceId"]

    def attribute(name: str, key: str):
        return ec2.describe_instance_attribute(InstanceId=instance_id, Attribute=name).get(key)

    # Kernel and ramdisk change only while stopped.
    with pytest.raises(ClientError) as caught:
        ec2.modify_instance_attribute(InstanceId=instance_id, Kernel={"Value": "aki-0123456789abcdef0"})
    assert error_code(caught.value) == "IncorrectInstanceState"
    ec2.stop_instances(InstanceIds=[instance_id])
    ec2.get_waiter("instance_stopped").wait(InstanceIds=[instance_id], WaiterConfig={"Delay": 1})
    ec2.modify_instance_attribute(InstanceId=instance_id, Kernel={"Value": "aki-0123456789abcdef0"})
    ec2.modify_instance_attribute(InstanceId=instance_id, Ramdisk={"Value": "ari-0123456789abcdef0"})
    ec2.modify_instance_attribute(InstanceId=instance_id, SriovNetSupport={"Value": "simple"})
    ec2.modify_instance_attribute(InstanceId=instance_id, InstanceType={"Value": "t3.small"})
    assert attribute("kernel", "KernelId") == {"Value": "aki-0123456789abcdef0"}
    assert attribute("ramdisk", "RamdiskId") == {"Value": "ari-0123456789abcdef0"}
    assert attribute("sriovNetSupport", "SriovNetSupport") == {"Value": "simple"}
    assert attribute("instanceType", "InstanceType") == {"Value": "t3.small"}

    # BlockDeviceMapping.N: the root volume outlives the instance.
    [root] = attribute("blockDeviceMapping", "BlockDeviceMappings")
    ec2.modify_instance_attribute(InstanceId=instance_id, BlockDeviceMappings=[
        {"DeviceName": root["DeviceName"], "Ebs": {"DeleteOnTermination": False}}])
    assert attribute("blockDeviceMapping", "BlockDeviceMappings")[0]["Ebs"]["DeleteOnTermination"] is False
    with pytest.raises(ClientError) as caught:
        ec2.modify_instance_attribute(InstanceId=instance_id, BlockDeviceMappings=[
            {"DeviceName": "/dev/sdz", "Ebs": {"DeleteOnTermination": False}}])
    assert error_code(caught.value) == "InvalidInstanceAttributeValue"
    ec2.terminate_instances(InstanceIds=[instance_id])
    ec2.get_waiter("instance_terminated").wait(InstanceIds=[instance_id], WaiterConfig={"Delay": 1})
    volume = ec2.describe_volumes(VolumeIds=[root["Ebs"]["VolumeId"]])["Volumes"][0]
    assert volume["State"] == "available"
