#!/bin/bash
# Build the Debian packages (liveupdate-dkms, luoctl) from a scratch copy of
# the tree, so that nothing is written outside build/: dpkg-buildpackage
# puts its results in the parent of the tree it builds.
#
#   build-deb.sh [OUT_DIR]       (default build/deb)
#
# OUT_DIR/liveupdate-VERSION/ is the copy (the files git knows of, committed
# or not, or everything but build/ outside a git checkout); the .debs,
# .buildinfo and .changes land in OUT_DIR. Needs debhelper, dh-dkms, scdoc,
# g++ and libfdt-dev (scripts/install-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
version=$(cat VERSION)
out=${1:-build/deb}
mkdir -p "$out"
out=$(cd "$out" && pwd)
src=$out/liveupdate-$version

# The changelog names the version the packages get: it must be VERSION.
changelog_version=$(dpkg-parsechangelog -S Version)
[ "$changelog_version" = "$version" ] ||
	{ echo "build-deb: debian/changelog is at $changelog_version, VERSION is $version" >&2; exit 1; }

rm -rf "$src" "$out"/*.deb "$out"/*.changes "$out"/*.buildinfo
mkdir -p "$src"
if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	# Tracked and untracked-but-not-ignored files that exist (a file
	# deleted in the work tree is not copied).
	git ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
		tar --null -T - -cf - | tar -xf - -C "$src"
else
	tar --exclude=./build -cf - . | tar -xf - -C "$src"
fi

cd "$src"
start=$(date +%s)
if ! dpkg-buildpackage -us -uc -b -J"$(nproc)" >"$out/build.log" 2>&1; then
	tail -n 40 "$out/build.log" >&2
	echo "build-deb: dpkg-buildpackage failed (log: $out/build.log)" >&2
	exit 1
fi
echo "build-deb: built in $(($(date +%s) - start)) s:" "$(cd "$out" && echo *.deb)"
