#!/bin/bash
# Build the guest initramfs for one kernel flavor.
#
#   mkinitramfs.sh OUTDIR DESTFILE [FLAVOR]
#
# FLAVOR defaults to the name of OUTDIR: out -> default, out-X -> X.
#
# Each stage kexecs the next kernel with this same initramfs. Rather than
# nesting the archive inside itself, the guest boots with retain_initrd,
# which keeps the initrd in memory as /sys/firmware/initrd; the archive
# holds /boot/initramfs.cpio.gz as a symlink to it. The kernel image cannot
# be read back that way, so /boot/bzImage is a plain copy.
set -euo pipefail

outdir=$(cd "${1:?usage: mkinitramfs.sh OUTDIR DESTFILE [FLAVOR]}" && pwd)
dest=${2:?usage: mkinitramfs.sh OUTDIR DESTFILE [FLAVOR]}
base=$(basename "$outdir")
flavor=${3:-$([ "$base" = out ] && echo default || echo "${base#out-}")}
root=$(cd "$(dirname "$0")/.." && pwd)
busybox=$(command -v busybox)

for f in bzImage gen_init_cpio; do
	if [ ! -f "$outdir/$f" ]; then
		echo "mkinitramfs: $outdir/$f is missing; build the kernel first" >&2
		exit 1
	fi
done

mkdir -p "$(dirname "$dest")"
dest=$(cd "$(dirname "$dest")" && pwd)/$(basename "$dest")

# lu-kexec is host-built and shared by all flavors.
lu_kexec=$(dirname "$dest")/lu-kexec
if [ ! -x "$lu_kexec" ] || [ "$root/qemu/guest/lu-kexec.c" -nt "$lu_kexec" ]; then
	gcc -static -O2 -Wall -Wextra -Werror -o "$lu_kexec" "$root/qemu/guest/lu-kexec.c"
fi

# Private temporaries: several runners may build the same flavor at once.
list=$(mktemp "$dest.list.XXXXXX")
tmp=$(mktemp "$dest.XXXXXX")
trap 'rm -f "$list" "$tmp"' EXIT
{
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
	echo "file /boot/bzImage $outdir/bzImage 0644 0 0"
	echo "slink /boot/initramfs.cpio.gz /sys/firmware/initrd 0777 0 0"
	[ ! -f "$outdir/luoctl" ] || echo "file /bin/luoctl $outdir/luoctl 0755 0 0"
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
} >"$list"

"$outdir/gen_init_cpio" "$list" | gzip -n -6 >"$tmp"
chmod 0644 "$tmp"
mv "$tmp" "$dest"
