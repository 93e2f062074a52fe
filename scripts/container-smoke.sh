#!/usr/bin/env bash
# Proves the container image: builds docker/Dockerfile exactly as users do (repo root as
# context) with podman, runs it, creates an AMI through the published port with aws-cli,
# restarts the container and finds the AMI again, runs its HEALTHCHECK, reports the
# image size and the container's cold start; then validates docker/compose.yaml against
# the compose-spec schema and brings it up with podman-compose.
#
# No container registry is reachable here: the two base images of the Dockerfile are made
# locally (debian:bookworm-slim by debootstrap, rust:*-slim from the host's toolchain) and
# kept in podman's storage for later runs. Skips, saying so, only where podman cannot run.
# Needs: root (apt-get), the venv of scripts/test.sh ($EC2LITE_VENV) for aws-cli.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${EC2LITE_VENV:-$root/.venv}"
dockerfile="$root/docker/Dockerfile"
image=localhost/ec2lite:smoke
name="ec2lite-smoke-$$"
volume="ec2lite-smoke-data-$$"
port="${SMOKE_PORT:-14566}"
work="$(mktemp -d "${TMPDIR:-/tmp}/ec2lite-smoke.XXXXXX")"
export CONTAINERS_CONF="$work/containers.conf"
passed=0
started=$SECONDS
step() { echo "[$((SECONDS - started))s] $*"; }
cleanup() {
    podman rm -f -t 0 "$name" >/dev/null 2>&1 || true
    podman volume rm -f "$volume" >/dev/null 2>&1 || true
    (cd "$root/docker" && podman-compose -p ec2lite-smoke -f compose.yaml down -t 0 >/dev/null 2>&1) || true
    podman network rm -f ec2lite-smoke_default >/dev/null 2>&1 || true
    podman volume rm -f ec2lite-smoke_ec2lite-data >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

step "tools: podman, runc, debootstrap, podman-compose"
need=()
for tool in podman runc debootstrap podman-compose curl; do command -v "$tool" >/dev/null || need+=("$tool"); done
if ((${#need[@]})); then
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
fi
# This machine kind: crun refuses the hybrid cgroup layout, and the hard RLIMIT_NOFILE
# cannot be raised to podman's default.
cat > "$CONTAINERS_CONF" <<EOF
[containers]
default_ulimits = ["nofile=$(ulimit -Hn):$(ulimit -Hn)", "nproc=32768:32768"]
[engine]
runtime = "runc"
EOF
if ! podman info >/dev/null 2>&1; then
    echo "container smoke: skipped, podman cannot run on this machine: $(podman info 2>&1 | tail -1)"
    exit 0
fi

step "base image debian:bookworm-slim"
if ! podman image exists docker.io/library/debian:bookworm-slim; then
    # The Debian mirror the host's apt uses.
    mirror="$(sed -nE 's|^URIs:[[:space:]]+([^[:space:]]+/debian)[[:space:]]*$|\1|p' /etc/apt/sources.list.d/*.sources \
        2>/dev/null | head -1)"
    debootstrap --variant=minbase bookworm "$work/rootfs" "${mirror:-http://deb.debian.org/debian}" >/dev/null
    rm -rf "$work"/rootfs/var/cache/apt/archives/*.deb "$work"/rootfs/var/cache/apt/*.bin \
        "$work"/rootfs/var/lib/apt/lists/* "$work"/rootfs/usr/share/doc/* "$work"/rootfs/usr/share/man/* \
        "$work"/rootfs/usr/share/info/* "$work"/rootfs/var/log/*.log "$work"/rootfs/var/log/apt/*
    find "$work/rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
    tar --numeric-owner -C "$work/rootfs" -c . |
        podman import -q --change 'CMD ["/bin/bash"]' - docker.io/library/debian:bookworm-slim >/dev/null
    rm -rf "$work/rootfs"
fi

rust_tag="$(sed -nE 's/^FROM[[:space:]]+(docker\.io\/library\/)?(rust:[^[:space:]]+).*/\2/p' "$dockerfile" | head -1)"
if ! podman image exists "docker.io/library/$rust_tag"; then
    step "base image $rust_tag from the host toolchain ($(rustc --version))"
    sysroot="$(rustc --print sysroot)"
    mkdir -p "$work/rust/toolchain/bin"
    cp -a "$sysroot/bin/cargo" "$sysroot/bin/rustc" "$sysroot/bin/rustdoc" "$work/rust/toolchain/bin/"
    cp -a "$sysroot/lib" "$work/rust/toolchain/"
    # The host's trust store: crates.io is reached through this workplace's TLS proxy.
    cp /etc/ssl/certs/ca-certificates.crt "$work/rust/host-ca.crt"
    cat > "$work/rust/Dockerfile" <<'EOF'
FROM docker.io/library/debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY host-ca.crt /etc/ssl/certs/ca-certificates.crt
COPY toolchain /usr/local/rust
ENV PATH=/usr/local/cargo/bin:/usr/local/rust/bin:$PATH CARGO_HOME=/usr/local/cargo
RUN rustc --version && cargo --version
EOF
    podman build -q --pull=never -t "docker.io/library/$rust_tag" "$work/rust" >/dev/null
    rm -rf "$work/rust"
fi

step "podman build -f docker/Dockerfile (release build inside the image)"
build_started=$SECONDS
# Docker's image format: OCI images have no HEALTHCHECK.
podman build --pull=never --format docker -f "$dockerfile" -t "$image" "$root"
size_mb=$(( $(podman image inspect "$image" --format '{{.Size}}') / 1000000 ))
step "image built in $((SECONDS - build_started)) s: $size_mb MB"

aws() {
    AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 \
        AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
        "$venv/bin/aws" --endpoint-url "http://127.0.0.1:$port" --output text "$@"
}
wait_healthy() {
    for _ in $(seq 1 200); do
        if curl -fsS --max-time 1 "http://127.0.0.1:$port/_ec2lite/health" >/dev/null 2>&1; then return 0; fi
        sleep 0.05
    done
    podman logs "$name" || true
    return 1
}

step "run, create an AMI through the published port"
podman volume create "$volume" >/dev/null
t0=$(date +%s%N)
podman run -d --name "$name" -p "127.0.0.1:$port:4566" -v "$volume:/data" "$image" >/dev/null
wait_healthy
cold_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
vol="$(aws ec2 create-volume --availability-zone us-east-1a --size 8 --query VolumeId)"
snap="$(aws ec2 create-snapshot --volume-id "$vol" --query SnapshotId)"
aws ec2 wait snapshot-completed --snapshot-ids "$snap"
ami="$(aws ec2 register-image --name smoke-ami --root-device-name /dev/xvda \
    --block-device-mappings "DeviceName=/dev/xvda,Ebs={SnapshotId=$snap}" --architecture x86_64 \
    --virtualization-type hvm --query ImageId)"
passed=$((passed + 1))

step "restart: the AMI is still there"
podman restart -t 10 "$name" >/dev/null
wait_healthy
found="$(aws ec2 describe-images --image-ids "$ami" --query 'Images[0].Name')"
[ "$found" = smoke-ami ] || { echo "AMI $ami lost across a restart: '$found'"; exit 1; }
passed=$((passed + 1))

step "HEALTHCHECK"
podman healthcheck run "$name"
passed=$((passed + 1))
podman stop -t 10 "$name" >/dev/null
exit_code="$(podman inspect "$name" --format '{{.State.ExitCode}}')"
[ "$exit_code" = 0 ] || { echo "SIGTERM: exit code $exit_code"; podman logs "$name"; exit 1; }
passed=$((passed + 1))

step "compose: schema, then podman-compose up"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "check-jsonschema==0.39.0"
"$venv/bin/check-jsonschema" --builtin-schema vendor.compose-spec "$root/docker/compose.yaml"
podman tag "$image" localhost/ec2lite:latest
(cd "$root/docker" && EC2LITE_PORT="$port" podman-compose -p ec2lite-smoke -f compose.yaml up -d >/dev/null)
wait_healthy
[ "$(aws ec2 describe-images --owners self --query 'length(Images)')" = 0 ]
(cd "$root/docker" && podman-compose -p ec2lite-smoke -f compose.yaml down -t 10 >/dev/null)
passed=$((passed + 1))

step "done: image $size_mb MB, cold start to first answer $cold_ms ms"
echo "container smoke: $passed passed, 0 failed"
