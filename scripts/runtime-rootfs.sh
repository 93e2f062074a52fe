#!/usr/bin/env bash
# Builds, once, the base root filesystem that `ec2lite --runtime podman` gives instances
# of catalog Linux AMIs: Debian bookworm (minbase) with sshd, sudo and the default login
# users of the image families (ec2-user, admin, ubuntu; passwordless sudo).
#
# The result is a directory keyed by a hash of this script, so editing the script rebuilds:
#   $EC2LITE_RUNTIME_CACHE/rootfs-<hash>/   (default cache: /root/.cache/ec2lite-ci/runtime)
# and a stable symlink `current` to it. Prints the directory on stdout.
set -euo pipefail
CACHE=${EC2LITE_RUNTIME_CACHE:-/root/.cache/ec2lite-ci/runtime}
MIRROR=${EC2LITE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
HASH=$(sha256sum "$0" | cut -c1-16)
OUT=$CACHE/rootfs-$HASH
if [ -f "$OUT/.ec2lite-rootfs-complete" ]; then
  ln -sfn "$OUT" "$CACHE/current"
  echo "$OUT"
  exit 0
fi

need=()
for b in debootstrap podman runc; do command -v "$b" >/dev/null || need+=("$b"); done
if ((${#need[@]})); then
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null
fi

mkdir -p "$CACHE"
WORK=$(mktemp -d "$CACHE/build.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
# A shell provisioner needs bash, coreutils and dpkg (all in minbase); sshd and sudo to log
# in; iproute2/procps so a login looks like a machine; ca-certificates for apt in user data.
debootstrap --variant=minbase \
  --include=openssh-server,sudo,iproute2,procps,ca-certificates,less,curl \
  bookworm "$WORK/rootfs" "$MIRROR" >&2

R=$WORK/rootfs
for user in ec2-user admin ubuntu; do
  chroot "$R" useradd --create-home --shell /bin/bash --groups sudo "$user"
  # `*`: no password, but not locked (sshd without PAM refuses locked accounts' keys too).
  chroot "$R" usermod --password '*' "$user"
  echo "$user ALL=(ALL) NOPASSWD:ALL" > "$R/etc/sudoers.d/90-$user"
  chmod 0440 "$R/etc/sudoers.d/90-$user"
  install -d -m 0700 -o "$(chroot "$R" id -u "$user")" -g "$(chroot "$R" id -g "$user")" "$R/home/$user/.ssh"
done
# Key login only; host keys are made per instance at first boot (not baked into the image).
cat > "$R/etc/ssh/sshd_config.d/ec2lite.conf" <<'CONF'
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
UseDNS no
CONF
rm -f "$R"/etc/ssh/ssh_host_*
mkdir -p "$R/run/sshd"
# The container's entrypoint, /usr/local/sbin/ec2lite-init, is written by ec2lite at each
# launch (any root filesystem gets it).
rm -rf "$R"/var/cache/apt/archives/*.deb "$R"/var/cache/apt/*.bin "$R"/var/lib/apt/lists/* \
       "$R"/usr/share/doc/* "$R"/usr/share/man/* "$R"/usr/share/info/*
touch "$R/.ec2lite-rootfs-complete"
mv "$R" "$OUT"
ln -sfn "$OUT" "$CACHE/current"
# Older builds of an earlier version of this script.
find "$CACHE" -mindepth 1 -maxdepth 1 -name 'rootfs-*' ! -name "rootfs-$HASH" -exec rm -rf {} +
echo "$OUT"
