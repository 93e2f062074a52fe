#!/usr/bin/env bash
# Runs every test of ec2lite, from a fresh machine on:
#   1. Rust unit tests, golden-XML tests and integration tests against the real binary
#      (raw HTTP, and the official aws-sdk-ec2 in the tests/sdk package);
#   2. end-to-end tests with aws-cli and boto3, installed (pinned) into a local venv.
# Environment: CARGO_TARGET_DIR (reused if set), EC2LITE_VENV (default .venv).
set -euo pipefail
cd "$(dirname "$0")/.."

venv="${EC2LITE_VENV:-.venv}"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r tests/e2e/requirements.txt

echo "== cargo test (unit, golden XML, wire, durability, aws-sdk-ec2)"
cargo build --workspace --bins
cargo test --workspace

echo "== pytest (aws-cli, boto3)"
target_dir="${CARGO_TARGET_DIR:-target}"
EC2LITE_BIN="$(cd "$target_dir" && pwd)/debug/ec2lite" "$venv/bin/python" -m pytest -q tests/e2e
