#!/bin/bash
# Configure and build one guest kernel flavor, cached by source version and
# config fragments.
#
#   build-kernel.sh SRCDIR BUILDDIR OUTDIR FRAGMENT...
#
# SRCDIR is the unpacked kernel tree (left clean: the build is out of tree in
# BUILDDIR). OUTDIR receives bzImage, gen_init_cpio, include/ (headers_install)
# and kernel-version. Nothing is rebuilt when the stamp matches.
set -euo pipefail

src=$(cd "${1:?source dir}" && pwd)
mkdir -p "${2:?build dir}" "${3:?out dir}"
obj=$(cd "$2" && pwd)
out=$(cd "$3" && pwd)
shift 3
fragments=()
for f in "$@"; do fragments+=("$(cd "$(dirname "$f")" && pwd)/$(basename "$f")"); done

# Two builds of one flavor at once (two make runs) would configure and
# compile in the same tree: the second waits, then finds the stamp.
exec 9>"$obj/.lu-lock"
flock 9

jobs=$(($(nproc) + 1))
stamp=$( (cat "$src/../version"; cat "${fragments[@]}") | sha256sum | cut -d' ' -f1)
if [ -f "$obj/.lu-stamp" ] && [ "$(cat "$obj/.lu-stamp")" = "$stamp" ] &&
	[ -f "$out/bzImage" ]; then
	exit 0
fi

echo "build-kernel: configuring $obj from ${fragments[*]##*/}"
rm -f "$obj/.lu-stamp"
make -s -C "$src" O="$obj" tinyconfig
"$src/scripts/kconfig/merge_config.sh" -m -O "$obj" "$obj/.config" "${fragments[@]}" >/dev/null
make -s -C "$src" O="$obj" olddefconfig

# merge_config only warns when Kconfig drops a requested symbol; a guest
# without KHO (or with the wrong LUO setting) must not be built silently.
# A later fragment overrides an earlier one, as in merge_config.
declare -A want
for f in "${fragments[@]}"; do
	while IFS= read -r line; do
		case "$line" in CONFIG_*=*) want[${line%%=*}]=${line#*=} ;; esac
	done <"$f"
done
missing=0
for sym in "${!want[@]}"; do
	if [ "${want[$sym]}" = n ]; then
		! grep -q "^$sym=" "$obj/.config" || { echo "build-kernel: $sym is set" >&2; missing=1; }
	else
		grep -qx "$sym=${want[$sym]}" "$obj/.config" ||
			{ echo "build-kernel: $sym=${want[$sym]} did not take" >&2; missing=1; }
	fi
done
[ $missing -eq 0 ] || exit 1

echo "build-kernel: building in $obj (-j$jobs)"
start=$(date +%s)
make -s -C "$src" O="$obj" -j"$jobs" bzImage modules
make -s -C "$src" O="$obj" INSTALL_HDR_PATH="$out" headers_install
echo "build-kernel: built in $(($(date +%s) - start)) s"

cp "$obj/arch/x86/boot/bzImage" "$out/bzImage"
cp "$obj/usr/gen_init_cpio" "$out/gen_init_cpio"
make -s -C "$src" O="$obj" kernelrelease >"$out/kernel-release"
cp "$src/../version" "$out/source-version"
echo "$stamp" >"$obj/.lu-stamp"
