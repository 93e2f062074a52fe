"""Fixtures for the aws-cli and boto3 end-to-end tests.

Every test gets its own ec2lite process (it starts in milliseconds) on a free port with
a fresh data directory, so tests never see each other's state.

The binary is, in order: $EC2LITE_BIN, $CARGO_TARGET_DIR/debug/ec2lite, or
<repo>/target/debug/ec2lite.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from support import DEFAULT_REGION, AwsCli, Server, make_client


@pytest.fixture(scope="session", autouse=True)
def isolated_aws_environment(tmp_path_factory):
    """No user configuration, profile, endpoint or credentials leaks into boto3."""
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as mp:
        for key in list(os.environ):
            if key.startswith("AWS_"):
                mp.delenv(key)
        mp.setenv("AWS_CONFIG_FILE", os.devnull)
        mp.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
        mp.setenv("AWS_EC2_METADATA_DISABLED", "true")
        mp.setenv("HOME", str(home))
        yield


@pytest.fixture
def start_server(tmp_path):
    """Factory: start_server(*flags, data_dir=None) -> Server (stopped after the test)."""
    servers: list[Server] = []

    def start(*args: str, data_dir: Path | None = None) -> Server:
        n = len(servers)
        server = Server(data_dir or tmp_path / f"data-{n}", tmp_path / f"logs-{n}", args)
        server.log_dir.mkdir(parents=True, exist_ok=True)
        servers.append(server)
        server.start()
        return server

    yield start
    for server in servers:
        if server.proc is not None:
            server.stop()


@pytest.fixture
def server(start_server) -> Server:
    """A fresh server with the default (zero) transition delays."""
    return start_server()


@pytest.fixture
def endpoint(server) -> str:
    """The endpoint URL of a fresh server."""
    return server.url


@pytest.fixture
def client_factory(server):
    """client_factory(region=..., access_key=..., endpoint=...) -> boto3 EC2 client."""

    def factory(region: str = DEFAULT_REGION, access_key: str = "test", endpoint: str | None = None):
        return make_client(endpoint or server.url, region, access_key)

    return factory


@pytest.fixture
def ec2(client_factory):
    """boto3 EC2 client for account 000000000000 in us-east-1."""
    return client_factory()


@pytest.fixture
def aws(server, tmp_path) -> AwsCli:
    """aws-cli runner bound to the test's server: aws("describe-images", ...) -> (rc, out)."""
    home = tmp_path / "cli-home"
    home.mkdir()
    return AwsCli(server, home)
