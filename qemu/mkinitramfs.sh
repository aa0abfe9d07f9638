#!/bin/bash
# Build the guest initramfs for one kernel flavor and one kind of guest.
#
#   mkinitramfs.sh OUTDIR DESTFILE [FLAVOR [GUEST]]
#
# FLAVOR defaults to the name of OUTDIR: out -> default, out-X -> X.
# GUEST is busybox (the default: our /init runs the test) or debian (Debian
# sid with systemd as PID 1, from scripts/build-debian-rootfs.sh, cached in
# build/debian; this project's files follow in a second archive that the
# kernel unpacks on top of the first).
#
# Each stage kexecs the next kernel with this same initramfs. Rather than
# nesting the archive inside itself, the guest boots with retain_initrd,
# which keeps the initrd in memory as /sys/firmware/initrd; the busybox
# archive holds /boot/initramfs.cpio.gz as a symlink to it. The kernel image
# cannot be read back that way, so /boot/bzImage is a plain copy.
set -euo pipefail

usage="usage: mkinitramfs.sh OUTDIR DESTFILE [FLAVOR [busybox|debian]]"
outdir=$(cd "${1:?$usage}" && pwd)
dest=${2:?$usage}
base=$(basename "$outdir")
flavor=${3:-$([ "$base" = out ] && echo default || echo "${base#out-}")}
guest=${4:-busybox}
root=$(cd "$(dirname "$0")/.." && pwd)
rootfs=$root/build/debian/debian-sid.cpio.zst

needed=("$outdir/bzImage" "$outdir/gen_init_cpio")
case $guest in
busybox) ;;
debian) needed+=("$rootfs") ;;
*)
	echo "$usage" >&2
	exit 2
	;;
esac
for f in "${needed[@]}"; do
	if [ ! -f "$f" ]; then
		echo "mkinitramfs: $f is missing (make artifacts; for debian also make debian-rootfs)" >&2
		exit 1
	fi
done

mkdir -p "$(dirname "$dest")"
dest=$(cd "$(dirname "$dest")" && pwd)/$(basename "$dest")

# The busybox guest: busybox, our /init and lu-kexec (host-built, shared by
# all flavors: busybox has no kexec applet and kexec-tools is not static).
busybox_files() {
	local busybox lu_kexec
	busybox=$(command -v busybox)
	lu_kexec=$(dirname "$dest")/lu-kexec
	if [ ! -x "$lu_kexec" ] || [ "$root/qemu/guest/lu-kexec.c" -nt "$lu_kexec" ]; then
		gcc -static -O2 -Wall -Wextra -Werror -o "$lu_kexec" "$root/qemu/guest/lu-kexec.c"
	fi
	for d in /bin /sbin /usr /usr/bin /usr/sbin /dev /proc /sys /tmp /run \
		/boot /lib /lib/modules /selftests /selftests/bin; do
		echo "dir $d 0755 0 0"
	done
	echo "nod /dev/console 0600 0 0 c 5 1"
	echo "file /init $root/qemu/guest/init 0755 0 0"
	echo "file /bin/busybox $busybox 0755 0 0"
	"$busybox" --list-full | while read -r applet; do
		# linuxrc is the only applet without a directory; /init replaces it.
		[ "$applet" = linuxrc ] || [ "$applet" = bin/busybox ] ||
			echo "slink /$applet /bin/busybox 0777 0 0"
	done
	echo "file /sbin/lu-kexec $lu_kexec 0755 0 0"
	echo "slink /boot/initramfs.cpio.gz /sys/firmware/initrd 0777 0 0"
}

# The Debian guest's additions: an /init that loads liveupdate.ko and
# becomes systemd, the unit that runs the stage, the test units.
debian_files() {
	local units=$root/qemu/guest/debian
	# /lib is Debian's symlink to usr/lib: only the directories below it.
	for d in /lib/modules /selftests /selftests/bin /etc/systemd/system/multi-user.target.wants; do
		echo "dir $d 0755 0 0"
	done
	echo "file /init $units/init 0755 0 0"
	echo "file /usr/local/sbin/lu-stage $units/lu-stage 0755 0 0"
	for u in "$units"/units/*.service "$root"/dist/systemd/*.service; do
		echo "file /etc/systemd/system/$(basename "$u") $u 0644 0 0"
	done
	echo "slink /etc/systemd/system/multi-user.target.wants/lu-test.service ../lu-test.service 0777 0 0"
}

# What every guest carries of this project: the kernel for the next stage,
# luoctl (in BINDIR), the modules, the tests and their programs.
project_files() {
	echo "file /boot/bzImage $outdir/bzImage 0644 0 0"
	[ ! -f "$outdir/luoctl" ] || echo "file $1/luoctl $outdir/luoctl 0755 0 0"
	for ko in "$outdir"/*.ko; do
		[ ! -f "$ko" ] || echo "file /lib/modules/$(basename "$ko") $ko 0644 0 0"
	done
	echo "file /selftests/lib.sh $root/selftests/lib/lib.sh 0644 0 0"
	for t in "$root"/selftests/*.sh; do
		[ ! -f "$t" ] || [ "$(basename "$t")" = lib.sh ] || echo "file /selftests/$(basename "$t") $t 0644 0 0"
	done
	for b in "$root/build/selftests/$flavor/bin"/*; do
		[ ! -f "$b" ] || echo "file /selftests/bin/$(basename "$b") $b 0755 0 0"
	done
}

# Private temporaries: several runners may build the same flavor at once.
list=$(mktemp "$dest.list.XXXXXX")
tmp=$(mktemp "$dest.XXXXXX")
trap 'rm -f "$list" "$tmp"' EXIT
case $guest in
busybox)
	{
		busybox_files
		project_files /bin
	} >"$list"
	"$outdir/gen_init_cpio" "$list" | gzip -n -6 >"$tmp"
	;;
debian)
	{
		debian_files
		project_files /usr/local/bin
	} >"$list"
	{
		cat "$rootfs"
		"$outdir/gen_init_cpio" "$list" | gzip -n -1
	} >"$tmp"
	;;
esac
chmod 0644 "$tmp"
mv "$tmp" "$dest"
