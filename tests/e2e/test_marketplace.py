"""Marketplace images need a subscription (from the accounts file or the admin endpoint)
before they launch; their product code follows the instance and the images made from it."""

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


def test_cli_marketplace_subscription(server, aws):
    images = aws.ok("describe-images", "--owners", "aws-marketplace")["Images"]
    image = next(i for i in images if i.get("ProductCodes"))
    code = image["ProductCodes"][0]["ProductCodeId"]
    run = ("run-instances", "--image-id", image["ImageId"], "--count", "1", "--instance-type", "t3.micro")
    assert "OptInRequired" in aws.err(*run)
    assert server.admin("PUT", f"/_ec2lite/marketplace/000000000000/{code}")[0] == 200
    [instance] = aws.ok(*run)["Instances"]
    assert instance["ProductCodes"] == [{"ProductCodeId": code, "ProductCodeType": "marketplace"}]
