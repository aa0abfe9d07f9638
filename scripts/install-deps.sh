#!/bin/bash
# Install the Debian packages the build, the guest and the tests need.
# Idempotent: does nothing when every package is already present.
set -euo pipefail

PKGS=(build-essential bc flex bison libelf-dev libssl-dev cpio rsync xz-utils
      qemu-system-x86 busybox-static kexec-tools libfdt-dev
      googletest libgtest-dev cmake g++ python3 gnuplot-nox debian-archive-keyring kmod
      # Installing and packaging (make install, scripts/test-packaging.sh):
      # the man page, DKMS, the Debian packages and their checks.
      scdoc groff-base man-db bash-completion dkms dh-dkms debhelper dpkg-dev lintian mmdebstrap)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=
[ "$(id -u)" -ne 0 ] && SUDO=sudo
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
