"""Presigned EC2 URLs from botocore (an independent SigV4 signer) under
--verify-signatures: accepted with the right secret until they expire, refused
otherwise."""

from __future__ import annotations

import time
import urllib.error
import urllib.request

import boto3
from botocore.config import Config


def presigned_url(endpoint: str, secret: str, expires: int, session_token: str | None = None) -> str:
    client = boto3.session.Session().client(
        "ec2",
        endpoint_url=endpoint,
        region_name="eu-west-1",
        aws_access_key_id="AKIAEXAMPLE2",
        aws_secret_access_key=secret,
        aws_session_token=session_token,
        config=Config(signature_version="v4"),
    )
    return client.generate_presigned_url(
        "describe_regions", Params={"RegionNames": ["eu-west-1"]}, ExpiresIn=expires, HttpMethod="GET"
    )


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def test_botocore_presigned_urls_are_verified_and_expire(start_server, tmp_path):
    accounts = tmp_path / "accounts.json"
    accounts.write_text(
        '{"accounts": [{"id": "222222222222", "access_keys": '
        '[{"access_key_id": "AKIAEXAMPLE2", "secret_access_key": "secret2"}]}]}'
    )
    server = start_server("--accounts", str(accounts), "--verify-signatures", "--no-catalog")

    status, body = fetch(presigned_url(server.url, "secret2", 60))
    assert status == 200, body
    assert "<regionName>eu-west-1</regionName>" in body

    status, body = fetch(presigned_url(server.url, "not-the-secret", 60))
    assert (status, "<Code>SignatureDoesNotMatch</Code>" in body) == (403, True), body

    short = presigned_url(server.url, "secret2", 1)
    time.sleep(2.2)
    status, body = fetch(short)
    assert (status, "<Code>RequestExpired</Code>" in body) == (400, True), body


def test_a_presigned_url_with_a_session_token_signs_the_token(start_server, tmp_path):
    """Temporary credentials put X-Amz-Security-Token in the query; it is part of what
    is signed, so an altered token is refused."""
    accounts = tmp_path / "accounts.json"
    accounts.write_text(
        '{"accounts": [{"id": "222222222222", "access_keys": '
        '[{"access_key_id": "AKIAEXAMPLE2", "secret_access_key": "secret2"}]}]}'
    )
    server = start_server("--accounts", str(accounts), "--verify-signatures", "--no-catalog")

    url = presigned_url(server.url, "secret2", 60, session_token="FwoGZXIvYXdzEXAMPLETOKEN")
    assert "X-Amz-Security-Token=FwoGZXIvYXdzEXAMPLETOKEN" in url
    status, body = fetch(url)
    assert status == 200, body

    altered = url.replace("FwoGZXIvYXdzEXAMPLETOKEN", "FwoGZXIvYXdzALTEREDTOKEN")
    status, body = fetch(altered)
    assert (status, "<Code>SignatureDoesNotMatch</Code>" in body) == (403, True), body
