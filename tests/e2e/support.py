"""Shared helpers of the end-to-end tests: the ec2lite process, the aws-cli runner,
boto3 clients and a few resource builders."""

from __future__ import annotations

import json
import os
import re
import select
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_REGION = "us-east-1"
LISTENING = re.compile(r"^ec2lite listening on (http://\S+)\s*$")

# Waiters poll once a second: fast, and still long enough to see real waiting.
WAITER = {"Delay": 1, "MaxAttempts": 30}


def ec2lite_bin() -> Path:
    if os.environ.get("EC2LITE_BIN"):
        return Path(os.environ["EC2LITE_BIN"])
    target = Path(os.environ.get("CARGO_TARGET_DIR") or REPO_ROOT / "target")
    if not target.is_absolute():
        target = REPO_ROOT / target
    return target / "debug" / "ec2lite"


class Server:
    """One ec2lite process on a data directory; can be stopped and started again."""

    def __init__(self, data_dir: Path, log_dir: Path, args: tuple[str, ...] = ()):
        self.data_dir = data_dir
        self.log_dir = log_dir
        self.args = tuple(args)
        self.proc: subprocess.Popen | None = None
        self.url: str | None = None
        self.starts = 0

    def start(self) -> str:
        binary = ec2lite_bin()
        if not binary.is_file():
            pytest.fail(f"ec2lite binary not found at {binary} (set EC2LITE_BIN or build it)", pytrace=False)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.starts += 1
        self.log_path = self.log_dir / f"ec2lite-{self.starts}.log"
        log = open(self.log_path, "wb")
        env = {k: v for k, v in os.environ.items() if not k.startswith("EC2LITE_")}
        env["NO_COLOR"] = "1"
        self.proc = subprocess.Popen(
            [str(binary), "--listen", "127.0.0.1:0", "--data-dir", str(self.data_dir), *self.args],
            stdout=subprocess.PIPE,
            stderr=log,
            stdin=subprocess.DEVNULL,
            env=env,
        )
        log.close()
        line = self._first_line(timeout=15)
        match = LISTENING.match(line)
        if not match:
            self.kill()
            pytest.fail(f"ec2lite did not announce its address; stdout {line!r}; log:\n{self.log()}", pytrace=False)
        self.url = match.group(1)
        return self.url

    def _first_line(self, timeout: float) -> str:
        assert self.proc is not None and self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        data = b""
        while b"\n" not in data:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                break
            chunk = os.read(fd, 4096)
            if not chunk:  # the process exited
                break
            data += chunk
        return data.decode("utf-8", "replace").split("\n", 1)[0]

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except (OSError, AttributeError):
            return ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10) -> int:
        """Sends `sig` and waits for the process to exit; returns its exit status."""
        if self.proc is None:
            raise RuntimeError("server is not running")
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            proc.send_signal(sig)
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise AssertionError(f"ec2lite did not exit within {timeout}s of signal {sig}")
        finally:
            if proc.stdout:
                proc.stdout.close()
        return code

    def kill(self) -> int:
        return self.stop(signal.SIGKILL)

    def restart(self, sig: int = signal.SIGTERM) -> str:
        self.stop(sig)
        return self.start()

    # Control endpoints -----------------------------------------------------------------

    def admin(self, method: str, path: str) -> tuple[int, dict]:
        request = urllib.request.Request(self.url + path, method=method, data=b"" if method == "POST" else None)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as err:
            body = err.read()
            try:
                return err.code, json.loads(body or b"{}")
            except ValueError:
                return err.code, {"raw": body.decode("utf-8", "replace")}

    def fail(self, resource_id: str, message: str | None = None) -> tuple[int, dict]:
        path = f"/_ec2lite/fail/{resource_id}"
        if message is not None:
            path += "?" + urllib.parse.urlencode({"message": message})
        return self.admin("POST", path)


def make_client(endpoint: str, region: str = DEFAULT_REGION, access_key: str = "test"):
    session = boto3.session.Session()
    return session.client(
        "ec2",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=access_key,
        aws_secret_access_key="test",
        # One attempt: a server error must surface, not be retried away.
        config=Config(retries={"mode": "standard", "max_attempts": 1}),
    )


class AwsCli:
    """Runs `aws ec2 ...` against one server with no user configuration."""

    def __init__(self, server: Server, home: Path):
        self.server = server
        self.home = home

    def __call__(self, *args: str, region: str = DEFAULT_REGION, access_key: str = "test", endpoint: str | None = None):
        """Returns (returncode, parsed JSON output, or None if empty) or (returncode, stderr)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(
            HOME=str(self.home),
            AWS_ACCESS_KEY_ID=access_key,
            AWS_SECRET_ACCESS_KEY="test",
            AWS_CONFIG_FILE=os.devnull,
            AWS_SHARED_CREDENTIALS_FILE=os.devnull,
            AWS_EC2_METADATA_DISABLED="true",
            AWS_PAGER="",
            AWS_MAX_ATTEMPTS="1",
            AWS_RETRY_MODE="standard",
        )
        command = [
            sys.executable, "-m", "awscli", "ec2", *args,
            "--endpoint-url", endpoint or self.server.url,
            "--region", region,
            "--output", "json",
        ]  # fmt: skip
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
        if done.returncode != 0:
            return done.returncode, done.stderr
        out = done.stdout.strip()
        return 0, (json.loads(out) if out else None)

    def ok(self, *args: str, **kw):
        """Like calling, but asserts success and returns only the output."""
        rc, out = self(*args, **kw)
        assert rc == 0, f"aws ec2 {' '.join(args)} failed ({rc}): {out}"
        return out

    def err(self, *args: str, **kw) -> str:
        """Asserts failure with aws-cli's service-error status 255 and returns stderr."""
        rc, out = self(*args, **kw)
        assert rc == 255, f"aws ec2 {' '.join(args)}: expected rc 255, got {rc}: {out}"
        return out


def error_code(err) -> str:
    """The EC2 error code of a botocore ClientError."""
    return err.response["Error"]["Code"]


# Resource builders (boto3) ---------------------------------------------------------------


def make_snapshot(ec2, size: int = 8, az: str | None = None, wait: bool = True) -> str:
    """A volume and a snapshot of it; returns the snapshot id (completed when `wait`)."""
    region = ec2.meta.region_name
    volume = ec2.create_volume(AvailabilityZone=az or f"{region}a", Size=size, VolumeType="gp3")
    snapshot = ec2.create_snapshot(VolumeId=volume["VolumeId"], Description="e2e root")
    if wait:
        ec2.get_waiter("snapshot_completed").wait(SnapshotIds=[snapshot["SnapshotId"]], WaiterConfig=WAITER)
    return snapshot["SnapshotId"]


def register(ec2, name: str, snapshot_id: str, **extra) -> str:
    """Registers an EBS-backed x86_64 HVM image rooted on `snapshot_id`; returns its id."""
    params = dict(
        Name=name,
        RootDeviceName="/dev/xvda",
        BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": snapshot_id, "VolumeType": "gp3"}}],
        Architecture="x86_64",
        VirtualizationType="hvm",
        EnaSupport=True,
    )
    params.update(extra)
    return ec2.register_image(**params)["ImageId"]
