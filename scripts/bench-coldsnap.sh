#!/usr/bin/env bash
# Upload and download throughput of a 1 GiB disk image through the real coldsnap CLI
# against a release ec2lite, and the disk space its blocks take.
#
#   scripts/bench-coldsnap.sh [random|sparse]
#
# random: every block distinct (the worst case for storage); sparse: 1 GiB with 64 MiB
# of data, the rest zeros (what OS images look like). Reports wall-clock MiB/s for each
# direction and the server's own CPU time, from which "server-side MiB/s" (MiB per
# CPU-second of ec2lite) follows: the client (hashing, 64 workers) shares the 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
kind="${1:-random}"
target="${CARGO_TARGET_DIR:-target}"
coldsnap="${EC2LITE_COLDSNAP:-${EC2LITE_TOOLS:-.tools}/bin/coldsnap}"
cargo build --release --quiet --bin ec2lite
work="$(mktemp -d)"
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT

"$target/release/ec2lite" --listen 127.0.0.1:0 --data-dir "$work/data" --log warn > "$work/out" &
server=$!
until grep -q listening "$work/out" 2>/dev/null; do sleep 0.05; done
endpoint="$(sed -n 's/^ec2lite listening on //p' "$work/out")"

if [ "$kind" = random ]; then
    head -c 1073741824 /dev/urandom > "$work/disk.img"
else
    truncate -s 1G "$work/disk.img"
    for offset in 0 100 300 600 900; do
        head -c 13421772 /dev/urandom | dd of="$work/disk.img" bs=1M seek="$offset" conv=notrunc status=none
    done
fi

cpu() { awk '{print $14 + $15}' "/proc/$server/stat"; }
ticks="$(getconf CLK_TCK)"
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true

c0="$(cpu)"; t0="$(date +%s.%N)"
snapshot="$("$coldsnap" --endpoint "$endpoint" upload --no-progress "$work/disk.img")"
t1="$(date +%s.%N)"; c1="$(cpu)"
"$coldsnap" --endpoint "$endpoint" download --no-progress --force "$snapshot" "$work/down.img"
t2="$(date +%s.%N)"; c2="$(cpu)"

cmp "$work/disk.img" "$work/down.img"
blocks_bytes="$(du -sb "$work/data/blocks" | cut -f1)"
awk -v kind="$kind" -v up="$(echo "$t1 - $t0" | bc)" -v down="$(echo "$t2 - $t1" | bc)" \
    -v cup="$(( c1 - c0 ))" -v cdown="$(( c2 - c1 ))" -v hz="$ticks" -v bytes="$blocks_bytes" 'BEGIN {
    printf "image: 1024 MiB (%s), byte-identical after download\n", kind
    printf "upload:   %6.2f s wall = %6.0f MiB/s; server CPU %5.2f s = %6.0f MiB per server CPU-second\n", up, 1024/up, cup/hz, 1024/(cup/hz)
    printf "download: %6.2f s wall = %6.0f MiB/s; server CPU %5.2f s = %6.0f MiB per server CPU-second\n", down, 1024/down, cdown/hz, 1024/(cdown/hz)
    printf "blocks on disk: %.1f MiB\n", bytes/1048576
}'
