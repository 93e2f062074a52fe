"""The dashboard (`/_ec2lite/ui`) in headless Chromium: resources made with boto3 show
up, a state change appears without a reload, an image's sharing is drawn, the page fits
1280 px, and a screenshot is kept ($EC2LITE_ARTEFACTS, else the test's tmp dir).

Run as their own step of scripts/test.sh (`pytest -m browser`), which installs Debian's
chromium and chromium-driver; without them these tests skip, unless
EC2LITE_REQUIRE_BROWSER=1 (set in CI)."""

from __future__ import annotations

import json
import os
import shutil
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from support import make_client, make_snapshot, register

pytestmark = pytest.mark.browser

OTHER = "111111111111"


@pytest.fixture
def browser():
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        if os.environ.get("EC2LITE_REQUIRE_BROWSER") == "1":
            pytest.fail("chromium and chromium-driver are not installed (scripts/test.sh installs them)")
        pytest.skip("chromium is not installed")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000"]:
        options.add_argument(flag)
    session = webdriver.Chrome(service=Service(executable_path=driver), options=options)
    yield session
    session.quit()


def wait_for_text(browser, element_id: str, text: str, timeout: float = 10) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, timeout, poll_frequency=0.1).until(
        lambda b: text in b.find_element("id", element_id).text,
        message=f"'{text}' never showed in #{element_id}",
    )


def test_dashboard_shows_resources_and_live_state_changes(start_server, browser, tmp_path):
    server = start_server("--image-pending-ms", "2500")
    ec2 = make_client(server.url)
    snapshot = make_snapshot(ec2)
    browser.get(server.url + "/_ec2lite/ui")
    wait_for_text(browser, "snapshots", snapshot)
    browser.execute_script("window.notReloaded = true;")
    # An image registered while the page is open appears pending, then available.
    image = register(ec2, "dashboard-image", snapshot)
    wait_for_text(browser, "images", image)
    assert "pending" in browser.find_element("id", "images").text
    wait_for_text(browser, "images", "available")
    ec2.modify_image_attribute(ImageId=image, LaunchPermission={"Add": [{"UserId": OTHER}]})
    wait_for_text(browser, "images", f"shared with {OTHER}")
    assert browser.execute_script("return window.notReloaded === true;"), "the page reloaded"

    # Its sharing, drawn on click; a copy in another region is part of it.
    west = make_client(server.url, region="us-west-2")
    copy = west.copy_image(SourceImageId=image, SourceRegion="us-east-1", Name="dashboard-copy")["ImageId"]
    browser.find_element("css selector", f'a[data-image="{image}"]').click()
    wait_for_text(browser, "sharing", f"user {OTHER}")
    wait_for_text(browser, "sharing", f"copy {copy} in us-west-2")

    # Block public access, as the account set it.
    ec2.enable_image_block_public_access(ImageBlockPublicAccessState="block-new-sharing")
    wait_for_text(browser, "bpa", "images block-new-sharing")

    # Other scopes are offered; the page is readable at 1280 px.
    wait_for_text(browser, "region", "us-west-2")
    width = browser.execute_script("return document.documentElement.scrollWidth;")
    assert width <= 1280, f"horizontal scroll: {width} px"

    artefacts = Path(os.environ.get("EC2LITE_ARTEFACTS", tmp_path))
    artefacts.mkdir(parents=True, exist_ok=True)
    shot = artefacts / "dashboard.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
    print(f"dashboard screenshot: {shot}")


def test_api_endpoints_answer_json(server, ec2):
    snapshot = make_snapshot(ec2)
    image = register(ec2, "api-image", snapshot)

    def get(path: str):
        with urllib.request.urlopen(server.url + path, timeout=10) as response:
            assert response.headers["Content-Type"] == "application/json"
            return json.loads(response.read())

    assert ["000000000000", "us-east-1"] in get("/_ec2lite/api/scopes")
    resources = get("/_ec2lite/api/resources?account=000000000000&region=us-east-1")
    assert resources["image_block_public_access"] == "unblocked"
    [shown] = resources["images"]
    assert (shown["id"], shown["state"], shown["public"], shown["snapshots"]) == (image, "available", False, [snapshot])
    assert get(f"/_ec2lite/api/images/{image}/sharing")["grants"] == []
    with pytest.raises(urllib.error.HTTPError) as missing:
        get("/_ec2lite/api/images/ami-0123456789abcdef0/sharing")
    assert missing.value.code == 404


def test_the_page_asks_for_the_admin_token_when_one_is_required(start_server, browser, tmp_path):
    accounts = tmp_path / "accounts.json"
    accounts.write_text('{"accounts": [{"id": "222222222222", "access_keys": []}]}')
    server = start_server("--accounts", str(accounts), "--verify-signatures", "--admin-token", "ui-token")
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    def answer_dialog(text: str | None = None) -> str:
        alert = WebDriverWait(browser, 10).until(expected_conditions.alert_is_present())
        message = alert.text
        if text is not None:
            alert.send_keys(text)
        alert.accept()
        return message

    # The page's data needs the token: asked for once, then the page fills.
    browser.get(server.url + "/_ec2lite/ui")
    assert "requires the admin token" in answer_dialog("ui-token")
    wait_for_text(browser, "updated", "updated")
    # The token is kept: a reset is not refused (no second prompt).
    browser.find_element("id", "reset").click()
    answer_dialog()  # "Delete every resource ...?"
    status = browser.execute_async_script(
        "const done = arguments[arguments.length - 1]; admin('/_ec2lite/reset').then((r) => done(r.status));"
    )
    assert status == 200
    assert browser.execute_script("return sessionStorage.getItem('ec2liteAdminToken');") == "ui-token"
