#!/usr/bin/env bash
# Runs every test of ec2lite, from a fresh machine on:
#   1. Rust unit tests, golden-XML tests and integration tests against the real binary
#      (raw HTTP, and the official aws-sdk-ec2 in the tests/sdk package);
#   2. end-to-end tests with aws-cli and boto3, installed (pinned) into a local venv.
#   3. Packer's amazon-ebs builder (Debian's packer, installed with apt), its own step,
#      and the dashboard in headless Chromium (Debian's chromium), another;
#      and instances that really run (--runtime podman; podman, runc and debootstrap
#      installed with apt, the base root filesystem built once by scripts/runtime-rootfs.sh
#      and cached in /root/.cache/ec2lite-ci/runtime), a third;
#   4. the EBS upload story with the real coldsnap CLI (built from crates.io once, into
#      $EC2LITE_TOOLS, about 10 minutes), and VM Import with disk images made by qemu-img.
# Environment: CARGO_TARGET_DIR (reused if set), EC2LITE_VENV (default .venv),
# EC2LITE_TOOLS (default .tools).
set -euo pipefail
cd "$(dirname "$0")/.."

venv="${EC2LITE_VENV:-.venv}"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r tests/e2e/requirements.txt

# qemu-img: the server converts VMDK/VHD/VHDX with it, and the import tests make images;
# ssh-keygen and openssl check key pair fingerprints.
missing=""
command -v qemu-img >/dev/null || missing="$missing qemu-utils"
command -v ssh-keygen >/dev/null || missing="$missing openssh-client"
command -v openssl >/dev/null || missing="$missing openssl"
# packer: Debian's 1.6.6, with the amazon-ebs builder compiled in (the Packer suite).
command -v packer >/dev/null || missing="$missing packer"
# The runtime suite: e2fsprogs makes and reads instances' ext4 disks (mke2fs, debugfs,
# e2fsck), sfdisk writes a partition table.
command -v mke2fs >/dev/null || missing="$missing e2fsprogs"
command -v sfdisk >/dev/null || missing="$missing fdisk"
# chromium + chromedriver: the dashboard test (headless).
command -v chromium >/dev/null || missing="$missing chromium"
command -v chromedriver >/dev/null || missing="$missing chromium-driver"
if [ -n "$missing" ]; then
    echo "== apt-get install$missing"
    sudo=""
    if [ "$(id -u)" != 0 ]; then sudo=sudo; fi
    $sudo apt-get install -y --no-install-recommends $missing \
        || { $sudo apt-get update -qq && $sudo apt-get install -y --no-install-recommends $missing; }
fi

tools="${EC2LITE_TOOLS:-.tools}"
if [ ! -x "$tools/bin/coldsnap" ]; then
    echo "== cargo install coldsnap 0.12.0 (once, into $tools)"
    CARGO_TARGET_DIR="$tools/build" cargo install coldsnap --version 0.12.0 --locked --root "$tools"
    rm -rf "$tools/build"
fi
export EC2LITE_COLDSNAP
EC2LITE_COLDSNAP="$(cd "$tools" && pwd)/bin/coldsnap"

echo "== cargo test (unit, golden XML, wire, durability, aws-sdk-ec2)"
cargo build --workspace --bins
cargo test --workspace

echo "== pytest (aws-cli, boto3, coldsnap)"
target_dir="${CARGO_TARGET_DIR:-target}"
export EC2LITE_BIN
EC2LITE_BIN="$(cd "$target_dir" && pwd)/debug/ec2lite"
"$venv/bin/python" -m pytest -q -m "not packer and not browser and not runtime" tests/e2e

echo "== pytest -m packer (Packer amazon-ebs builds against ec2lite)"
EC2LITE_REQUIRE_PACKER=1 "$venv/bin/python" -m pytest -q -m packer tests/e2e

echo "== pytest -m browser (the dashboard in headless Chromium)"
export EC2LITE_ARTEFACTS="${EC2LITE_ARTEFACTS:-$(cd "$target_dir" && pwd)/artefacts}"
EC2LITE_REQUIRE_BROWSER=1 "$venv/bin/python" -m pytest -q -m browser tests/e2e
echo "dashboard screenshot: $EC2LITE_ARTEFACTS/dashboard.png"

echo "== pytest -m runtime (instances that really run: podman containers over SSH)"
EC2LITE_RUNTIME_ROOTFS="$(scripts/runtime-rootfs.sh)"
export EC2LITE_RUNTIME_ROOTFS
EC2LITE_REQUIRE_RUNTIME=1 "$venv/bin/python" -m pytest -q -m runtime tests/e2e
