#!/usr/bin/env bash
# Builds the disk image of the vm:full guests: a Debian root filesystem with systemd
# (mmdebstrap, from Debian's packages), the static probe at /usr/local/bin/coldstart-probe
# and a unit that starts it after multi-user.target, speaking the line protocol on the
# second serial port (/dev/ttyS1). The directory becomes an ext4 image with `mke2fs -d`:
# no mount, no loop device.
#
# Cached under the target directory (<target>/vm/): the root filesystem tarball (keyed by
# suite and package list, ~80 s to make) and the image (keyed by the probe's SHA-256, ~5 s
# from the tarball). probes/out/vm-full.img links to the current image, and
# probes/out/vm-full.img.json (its manifest) names the probe inside, which the harness
# checks. A second run with the same probe reuses the image and says so.
#
# Needs root (the tarball's files belong to root and device nodes are made), mmdebstrap
# and e2fsprogs (`apt-get install mmdebstrap e2fsprogs`), and Debian's package mirror.
# VM_SUITE (default bookworm) picks the Debian release; VM_IMAGE_DIR (default <target>/vm)
# where images go, VM_ROOTFS_CACHE (default <target>/vm) where the tarball is cached,
# VM_IMAGE_LINK (default probes/out/vm-full.img) the link to the current image.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require mmdebstrap "install it with: apt-get install mmdebstrap"
require mke2fs "install it with: apt-get install e2fsprogs"
[ "$(id -u)" = 0 ] || { echo "error: build-vm-image.sh needs root (the root filesystem's files belong to root)" >&2; exit 2; }
cd "$repo"
[ -x probes/out/coldstart-probe ] || scripts/build-probes.sh

suite=${VM_SUITE:-bookworm}
packages=systemd-sysv,udev
dir="${VM_IMAGE_DIR:-$(target_dir)/vm}"
rootfs_dir="${VM_ROOTFS_CACHE:-$(target_dir)/vm}"
link_path="${VM_IMAGE_LINK:-probes/out/vm-full.img}"
mkdir -p "$dir" "$rootfs_dir"
probe_sha=$(sha256sum probes/out/coldstart-probe | cut -d' ' -f1)
img="$dir/full-${probe_sha:0:16}.img"

link() {
  ln -sfn "$img" "$link_path"
  ln -sfn "$img.json" "$link_path.json"
}

if [ -f "$img" ] && [ -f "$img.json" ]; then
  link
  echo "build-vm-image: up to date: $img (probe ${probe_sha:0:16}), linked as $link_path" >&2
  exit 0
fi

key=$(printf '%s %s' "$suite" "$packages" | sha256sum | cut -c1-12)
rootfs="$rootfs_dir/rootfs-$suite-$key.tar"
if [ ! -f "$rootfs" ]; then
  echo "build-vm-image: building the $suite root filesystem with mmdebstrap (about a minute)" >&2
  start=$(date +%s)
  mmdebstrap --quiet --format=tar --variant=minbase --include="$packages" "$suite" "$rootfs.partial"
  mv "$rootfs.partial" "$rootfs"
  echo "build-vm-image: $rootfs in $(( $(date +%s) - start )) s" >&2
fi

staging=$(mktemp -d "$dir/staging.XXXXXX")
trap 'rm -rf "$staging" "$img.partial"' EXIT
tar --numeric-owner -xpf "$rootfs" -C "$staging"
install -m 0755 probes/out/coldstart-probe "$staging/usr/local/bin/coldstart-probe"
cat >"$staging/etc/systemd/system/coldstart-probe.service" <<'UNIT'
[Unit]
Description=coldstart probe: the line protocol on the second serial port
After=multi-user.target
# The harness's EXIT ends the probe: the guest powers off as `systemctl poweroff` does.
SuccessAction=poweroff
FailureAction=poweroff

[Service]
Type=simple
ExecStart=/usr/local/bin/coldstart-probe serve --vm --tty /dev/ttyS1 --cmdline

[Install]
WantedBy=multi-user.target
UNIT
mkdir -p "$staging/etc/systemd/system/multi-user.target.wants"
ln -sfn /etc/systemd/system/coldstart-probe.service \
  "$staging/etc/systemd/system/multi-user.target.wants/coldstart-probe.service"
echo coldstart-guest >"$staging/etc/hostname"
echo '/dev/vda / ext4 rw,relatime 0 1' >"$staging/etc/fstab"

# Room for the journal and what systemd writes at boot (writes go to a QEMU snapshot).
size_mib=$(( $(du -sm "$staging" | cut -f1) * 13 / 10 + 64 ))
mke2fs -q -t ext4 -L coldstart -d "$staging" "$img.partial" "${size_mib}M" >/dev/null
bytes=$(stat -c %s "$img.partial")
cat >"$img.json" <<JSON
{
  "probe_sha256": "$probe_sha",
  "suite": "$suite",
  "variant": "minbase",
  "packages": "$packages",
  "rootfs": "$(basename "$rootfs")",
  "image_bytes": $bytes,
  "mmdebstrap": "$(mmdebstrap --version | head -n 1)",
  "built_at": "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
}
JSON
mv "$img.partial" "$img"
# Older images (of earlier probes) are not used again.
for old in "$dir"/full-*.img; do
  [ "$old" = "$img" ] || rm -f "$old" "$old.json"
done
link
echo "build-vm-image: $img ($((bytes >> 20)) MiB, probe ${probe_sha:0:16}), linked as $link_path" >&2
