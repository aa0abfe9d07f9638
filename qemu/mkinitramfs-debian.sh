#!/bin/bash
# Build the Debian guest's initramfs for one kernel flavor: Debian sid with
# systemd (scripts/build-debian-rootfs.sh, cached in build/debian) followed
# by a second archive with this project's files; the kernel unpacks both
# into one root file system, the second on top.
#
#   mkinitramfs-debian.sh OUTDIR DESTFILE FLAVOR
#
# As in the busybox guest, the next stage's kexec reuses the initrd the
# kernel kept (retain_initrd, /sys/firmware/initrd) and a copy of bzImage.
set -euo pipefail

outdir=$(cd "${1:?usage: mkinitramfs-debian.sh OUTDIR DESTFILE FLAVOR}" && pwd)
dest=${2:?usage: mkinitramfs-debian.sh OUTDIR DESTFILE FLAVOR}
flavor=${3:?usage: mkinitramfs-debian.sh OUTDIR DESTFILE FLAVOR}
root=$(cd "$(dirname "$0")/.." && pwd)
rootfs=$root/build/debian/debian-sid.cpio.zst
guest=$root/qemu/guest/debian

for f in "$outdir/bzImage" "$outdir/gen_init_cpio" "$rootfs"; do
	if [ ! -f "$f" ]; then
		echo "mkinitramfs-debian: $f is missing (make artifacts debian-rootfs)" >&2
		exit 1
	fi
done

mkdir -p "$(dirname "$dest")"
dest=$(cd "$(dirname "$dest")" && pwd)/$(basename "$dest")
list=$(mktemp "$dest.list.XXXXXX")
tmp=$(mktemp "$dest.XXXXXX")
trap 'rm -f "$list" "$tmp"' EXIT
{
	# /lib is Debian's symlink to usr/lib: only the directories below it.
	for d in /lib/modules /selftests /selftests/bin /etc/systemd/system/multi-user.target.wants; do
		echo "dir $d 0755 0 0"
	done
	echo "file /init $guest/init 0755 0 0"
	echo "file /usr/local/sbin/lu-stage $guest/lu-stage 0755 0 0"
	for u in "$guest"/units/*.service "$root"/dist/systemd/*.service; do
		echo "file /etc/systemd/system/$(basename "$u") $u 0644 0 0"
	done
	echo "slink /etc/systemd/system/multi-user.target.wants/lu-test.service ../lu-test.service 0777 0 0"
	echo "file /boot/bzImage $outdir/bzImage 0644 0 0"
	[ ! -f "$outdir/luoctl" ] || echo "file /usr/local/bin/luoctl $outdir/luoctl 0755 0 0"
	for ko in "$outdir"/*.ko; do
		[ ! -f "$ko" ] || echo "file /lib/modules/$(basename "$ko") $ko 0644 0 0"
	done
	echo "file /selftests/lib.sh $root/selftests/lib/lib.sh 0644 0 0"
	for t in "$root"/selftests/*.sh; do
		[ "$(basename "$t")" = lib.sh ] || echo "file /selftests/$(basename "$t") $t 0644 0 0"
	done
	for b in "$root/build/selftests/$flavor/bin"/*; do
		[ ! -f "$b" ] || echo "file /selftests/bin/$(basename "$b") $b 0755 0 0"
	done
} >"$list"

{
	cat "$rootfs"
	"$outdir/gen_init_cpio" "$list" | gzip -n -1
} >"$tmp"
chmod 0644 "$tmp"
mv "$tmp" "$dest"
