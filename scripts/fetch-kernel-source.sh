#!/bin/bash
# Fetch Debian's linux-source package from trixie-backports without touching
# the system's apt configuration, and unpack the kernel tree.
#
#   fetch-kernel-source.sh PACKAGE DESTDIR
#
# DESTDIR/linux/ receives the tree and DESTDIR/version the package version
# actually used. The archive URI is the one the system already uses for its
# own suite, so no mirror host is hard-coded here.
set -euo pipefail

pkg=${1:?package name}
dest=${2:?destination directory}
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)

if [ -f "$dest/linux/Makefile" ] && [ "$(cat "$dest/package" 2>/dev/null)" = "$pkg" ]; then
	exit 0
fi

suite=$(. /etc/os-release && echo "$VERSION_CODENAME")
uri=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE)' |
	awk -v s="$suite" '$2 == s { print $1; exit }')
if [ -z "$uri" ]; then
	echo "fetch-kernel-source: no apt source for suite '$suite' found" >&2
	exit 1
fi

apt_dir="$dest/apt"
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri trixie-backports main" \
	>"$apt_dir/sources.list"
apt_opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list"
	-o Dir::Etc::SourceParts=/dev/null
	-o "Dir::State::Lists=$apt_dir/lists"
	-o "Dir::Cache=$apt_dir/cache"
	-o Dir::Etc::Preferences=/dev/null
	-o Dir::Etc::PreferencesParts=/dev/null)

echo "fetch-kernel-source: $pkg from $uri trixie-backports"
apt-get "${apt_opts[@]}" -qq update
rm -f "$dest"/*.deb
if ! (cd "$dest" && apt-get "${apt_opts[@]}" -qq download "$pkg"); then
	echo "fetch-kernel-source: $pkg cannot be fetched from trixie-backports;" \
		"a newer series may have replaced it (set KERNEL_PKG)" >&2
	exit 1
fi
deb=$(ls "$dest"/*.deb)
dpkg-deb -f "$deb" Version >"$dest/version.tmp"

rm -rf "$dest/extract" "$dest/linux"
dpkg -x "$deb" "$dest/extract"
tarball=$(ls "$dest"/extract/usr/src/linux-source-*.tar.xz)
mkdir -p "$dest/linux"
tar -xJf "$tarball" -C "$dest/linux" --strip-components=1
rm -rf "$dest/extract" "$deb"
mv "$dest/version.tmp" "$dest/version"
echo "$pkg" >"$dest/package"
echo "fetch-kernel-source: $pkg $(cat "$dest/version") unpacked in $dest/linux"
