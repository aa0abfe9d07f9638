#!/bin/bash
# Build a minimal Debian sid root filesystem as a zstd-compressed newc cpio,
# for guests that boot systemd from the initramfs (no disk). A second cpio
# with a small /init wrapper is appended later by the caller; this script
# only makes the Debian part.
#
#   build-debian-rootfs.sh OUT_DIR
#
# Writes OUT_DIR/debian-sid.cpio.zst, OUT_DIR/debian-sid.manifest ("name
# version" per installed package, sorted) and OUT_DIR/debian-sid.key, and
# prints the systemd version. Needs root (mmdebstrap --mode=root, mknod,
# file ownership). It is heavy when it rebuilds: run it under
# `nice -n 19 ionice -c3` on a busy machine.
#
# The archive is rebuilt only when this script or the versions that sid
# would install change: a private apt (OUT_DIR/apt, sid only) resolves the
# package set first, which costs one small `apt-get update`.
#
# For whoever boots it: systemd is /usr/lib/systemd/systemd, and
# /sbin/init (/sbin -> usr/sbin) links to it; /dev/console is in the
# archive; there is no /etc/initrd-release, so systemd runs as on a normal
# root and must be started as PID 1 (exec, not fork).
set -euo pipefail

# What the guest needs on top of minbase (Essential + Priority:required +
# apt). systemd 262 only Recommends the libraries it dlopen()s; those that
# matter to us are named here so that a change in minbase cannot silently
# drop them (kmod loading via libkmod, SystemCallFilter= via libseccomp, ACLs
# on journal files, PAM for PAMName= units, zstd journal compression).
packages=(
	systemd systemd-sysv udev kmod kexec-tools
	libkmod2 libseccomp2 libacl1 libpam0g libzstd1
)

# Units that make no sense in a diskless VM without network or console
# login, or that only cost boot time there. Masked only if installed.
mask_units=(
	# No logins are needed: the tests drive the guest from its init/units.
	getty.target getty@.service serial-getty@.service console-getty.service
	container-getty@.service getty-static.service
	# No network in the guest.
	systemd-networkd.service systemd-networkd.socket
	systemd-networkd-wait-online.service systemd-network-generator.service
	systemd-timesyncd.service
	# Periodic maintenance of a system that lives for one test.
	apt-daily.timer apt-daily.service apt-daily-upgrade.timer
	apt-daily-upgrade.service dpkg-db-backup.timer dpkg-db-backup.service
	e2scrub_all.timer e2scrub_all.service e2scrub_reap.service
	fstrim.timer fstrim.service systemd-tmpfiles-clean.timer
	# machine-id is fixed below, so there is never a first boot to set up.
	systemd-firstboot.service
	# Needs autofs, which the guest kernels do not have.
	proc-sys-fs-binfmt_misc.automount
)
# Generators that only look for disks, TPMs, sshd, hibernation images or
# gettys; fstab (empty), debug (systemd.mask= etc.) and run (systemd.run=)
# generators stay because they can be useful from the kernel command line.
mask_generators=(
	systemd-getty-generator systemd-gpt-auto-generator systemd-ssh-generator
	systemd-hibernate-resume-generator systemd-factory-reset-generator
	systemd-tpm2-generator systemd-bless-boot-generator
	systemd-system-update-generator
)
# A valid, fixed machine-id: with it systemd neither treats the boot as the
# first one (which "uninitialized" or a missing file would) nor invents a
# new ID each boot (which an empty file would), so the ID also stays the same
# across kexec. The hex spells "lu-guest-machine".
machine_id=6c752d67756573742d6d616368696e65
# Measured on the 2-core machine (100 MiB of cpio): -10 takes ~5 s for
# 29.5 MiB; -15 takes ~28 s for the same size, -19 ~80 s for 26 MiB. The
# kernel decompresses all of them about equally fast; -10's window is 4 MiB
# (the kernel takes up to 128 MiB).
zstd_level=10

self=$(readlink -f "$0")
prog=$(basename "$0")

die() {
	echo "$prog: error: $*" >&2
	exit 1
}
warn() { echo "$prog: WARNING: $*" >&2; }
note() { echo "$prog: $*" >&2; }

[ $# -eq 1 ] || die "usage: $prog OUT_DIR"
[ "$(id -u)" = 0 ] || die "must run as root (mmdebstrap --mode=root, mknod)"
mkdir -p "$1"
out=$(cd "$1" && pwd)
archive=$out/debian-sid.cpio.zst
manifest=$out/debian-sid.manifest
keyfile=$out/debian-sid.key
aptdir=$out/apt

# Two runs at once would share the private apt and staging directories.
exec 9>"$out/.lock"
flock 9

systemd_version() { awk '$1 == "systemd" { print $2 }' "$manifest"; }

# The cached archive is usable without asking the network at all.
have_cache() { [ -f "$archive" ] && [ -f "$manifest" ] && [ -f "$keyfile" ]; }

# Used when sid cannot be asked or cannot be installed right now: a stale
# but working rootfs is more useful to the tests than none.
use_stale_cache() {
	have_cache || die "$1, and there is no cached archive to fall back on"
	warn "$1; using the cached archive, which may be out of date"
	echo "debian rootfs: cached (systemd $(systemd_version))"
	exit 0
}

# --- host tools ---------------------------------------------------------
# Only touch apt when something is missing, so the cached path stays fast;
# update the host's lists only if the packages are not installable as is.
missing=()
for p in mmdebstrap zstd cpio; do
	[ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" = installed ] ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	note "installing ${missing[*]}"
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"; then
		apt-get update
		DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
	fi
fi

# --- private apt for sid --------------------------------------------------
# The mirror is the host's own (the first URIs: of its Debian archive
# sources), never a name written here: it is the one this machine can reach.
mirror=$(awk '
	/^URIs:/ && $2 !~ /-security/ { print $2; exit }
' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
[ -n "$mirror" ] ||
	mirror=$(awk '$1 == "deb" && $0 !~ /-security/ {
		for (i = 2; i <= NF; i++) if ($i ~ /^[a-z+]+:\/\//) { print $i; exit }
	}' /etc/apt/sources.list 2>/dev/null || true)
[ -n "$mirror" ] || die "cannot find the Debian mirror in the host's apt sources"

arch=$(dpkg --print-architecture)
host_keyring=/usr/share/keyrings/debian-archive-keyring.gpg
mkdir -p "$aptdir/state/lists/partial" "$aptdir/cache" "$aptdir/empty.d"
touch "$aptdir/state/status" # empty: a simulation resolves a whole system

# Options, not an APT_CONFIG file: the host's apt.conf.d (e.g. a proxy) is
# still read, but command-line options override anything in it. The empty
# status makes `install -s` resolve the complete package set from scratch.
# $1: directory for lists and caches, $2: sources.list.
apt_opts_for() {
	apt_opts=(
		-o "Dir::State=$1/state" -o "Dir::State::status=$1/state/status"
		-o "Dir::Cache=$1/cache" -o "Dir::Etc::SourceList=$2"
		-o "Dir::Etc::SourceParts=$aptdir/empty.d"
		-o "Dir::Etc::PreferencesParts=$aptdir/empty.d"
		-o "Dir::Etc::Preferences=$aptdir/empty.d/none"
		-o "APT::Architectures=$arch" -o "Acquire::Languages=none"
		"${extra_apt_opts[@]}"
	)
}
extra_apt_opts=()
mm_opts=()
# The host's apt may be set up for its mirror: one that is a frozen
# snapshot needs Check-Valid-Until "false", because its Release is past its
# Valid-Until. The private apt reads the host's apt.conf.d, but mmdebstrap
# does not, so carry those checks over to it. Signatures are still checked.
for opt in Acquire::Check-Valid-Until Acquire::Check-Date; do
	if [ "$(apt-config dump --format '%v%n' "$opt")" = false ]; then
		note "as the host's apt does: $opt false"
		mm_opts+=(--aptopt="$opt \"false\"")
	fi
done

# Runs apt-get update for the apt in $1 with sources $2, logging to $3.
# --error-on=any: without it apt-get update exits 0 on a failed download and
# quietly keeps the old lists, which would make the cache key stale. A
# mirror that is a frozen snapshot serves a Release whose Valid-Until has
# passed: then only that freshness check is dropped (here and for
# mmdebstrap); signatures are still verified.
apt_update() {
	apt_opts_for "$1" "$2"
	apt-get "${apt_opts[@]}" -q update --error-on=any >"$3" 2>&1 && return 0
	if ! grep -q 'is expired' "$3" || [ ${#extra_apt_opts[@]} -ne 0 ]; then
		return 1
	fi
	warn "the mirror's Release is past its Valid-Until (a frozen snapshot?);" \
		"ignoring Valid-Until; signatures are still checked"
	extra_apt_opts=(-o Acquire::Check-Valid-Until=false)
	mm_opts+=(--aptopt='Acquire::Check-Valid-Until "false"')
	apt_opts_for "$1" "$2"
	apt-get "${apt_opts[@]}" -q update --error-on=any >"$3" 2>&1
}

# sid's Release is signed with the archive keys of the current and the
# previous stable release; bookworm's debian-archive-keyring (which has the
# bookworm and trixie keys) verifies it as long as one of those is in use.
# When that stops, take debian-archive-keyring from testing or stable, whose
# Release the host keyring still verifies: apt checks the .deb against that
# signed index, so trust stays anchored in the host's keyring. Signature
# checking is never turned off.
keyring=$host_keyring
fetch_newer_keyring() {
	local kdir=$aptdir/keyring suite deb
	rm -rf "$kdir"
	mkdir -p "$kdir/state/lists/partial" "$kdir/cache" "$kdir/deb"
	touch "$kdir/state/status"
	for suite in testing stable; do
		echo "deb [arch=$arch signed-by=$host_keyring] $mirror $suite main" \
			>"$kdir/sources.list"
		if apt_update "$kdir" "$kdir/sources.list" "$kdir/update.log" &&
			(cd "$kdir/deb" && apt-get "${apt_opts[@]}" -q download \
				debian-archive-keyring >>"$kdir/update.log" 2>&1); then
			deb=$(echo "$kdir"/deb/debian-archive-keyring_*.deb)
			dpkg-deb -x "$deb" "$kdir/root"
			keyring=$kdir/root/usr/share/keyrings/debian-archive-keyring.gpg
			[ -s "$keyring" ] || die "no keyring in $deb"
			note "verifying sid with $(basename "$deb") from $suite"
			return 0
		fi
	done
	sed 's/^/  /' "$kdir/update.log" >&2
	return 1
}

update_sid() {
	echo "deb [arch=$arch signed-by=$keyring] $mirror sid main" >"$aptdir/sources.list"
	apt_update "$aptdir" "$aptdir/sources.list" "$aptdir/update.log"
}
bad_sig="NO_PUBKEY|EXPKEYSIG|REVKEYSIG|BADSIG|is not signed|signatures couldn't be verified|signatures were invalid"
# DEBIAN_ROOTFS_FETCH_KEYRING=1 takes the keyring fallback always (to test it).
if [ "${DEBIAN_ROOTFS_FETCH_KEYRING:-0}" = 1 ] || ! update_sid; then
	if [ "${DEBIAN_ROOTFS_FETCH_KEYRING:-0}" = 1 ] ||
		grep -Eq "$bad_sig" "$aptdir/update.log"; then
		note "fetching a newer debian-archive-keyring to verify sid"
		fetch_newer_keyring ||
			use_stale_cache "no keyring that verifies sid could be fetched"
		if ! update_sid; then
			sed 's/^/  /' "$aptdir/update.log" >&2
			use_stale_cache "cannot update sid's package lists"
		fi
	else
		sed 's/^/  /' "$aptdir/update.log" >&2
		use_stale_cache "cannot update sid's package lists"
	fi
fi

# --- cache key ---------------------------------------------------------------
# What mmdebstrap --variant=minbase would install: Essential, Priority
# required, apt, and our packages with their dependencies (no Recommends).
resolved=$(apt-get "${apt_opts[@]}" -q -s --no-install-recommends install \
	'?essential' '?priority(required)' apt "${packages[@]}" 2>"$aptdir/resolve.log" |
	awk '$1 == "Inst" { v = $3; sub(/^\(/, "", v); print $2 "=" v }' | LC_ALL=C sort) ||
	resolved=""
if ! grep -qx "systemd=.*" <<<"$resolved"; then
	sed 's/^/  /' "$aptdir/resolve.log" >&2
	use_stale_cache "sid's package set does not resolve"
fi
key=$({ cat "$self"; printf '%s\n' "$resolved"; } | sha256sum | cut -d' ' -f1)

if have_cache && [ "$(cat "$keyfile")" = "$key" ]; then
	echo "debian rootfs: cached (systemd $(systemd_version))"
	exit 0
fi

# --- build -------------------------------------------------------------
# Leftovers of an interrupted run: mmdebstrap unmounts its /dev, /proc and
# /sys bind mounts even on failure, but check before deleting anything.
for d in "$out"/stage.*; do
	[ -d "$d" ] || continue
	! grep -q " $d/" /proc/mounts || die "$d still has mounts; unmount them first"
	rm -rf --one-file-system "$d"
done
stage=$(mktemp -d "$out/stage.XXXXXX")
chmod 0755 "$stage" # apt in the chroot downloads as _apt, which must get in
root=$stage/root
trap 'rm -rf --one-file-system "$stage"' EXIT

excludes=(
	# Nobody reads documentation in the guest; copyright files stay, they
	# are small and say what the image contains.
	--dpkgopt='path-exclude=/usr/share/doc/*'
	--dpkgopt='path-include=/usr/share/doc/*/copyright'
	--dpkgopt='path-exclude=/usr/share/man/*'
	--dpkgopt='path-exclude=/usr/share/info/*'
	--dpkgopt='path-exclude=/usr/share/locale/*'
	--dpkgopt='path-include=/usr/share/locale/locale.alias'
	--dpkgopt='path-exclude=/usr/share/lintian/*'
	--dpkgopt='path-exclude=/usr/share/bash-completion/*'
	--dpkgopt='path-exclude=/usr/share/zsh/*'
	--dpkgopt='path-exclude=/usr/share/fish/*'
	# The hardware database names USB/PCI devices and fixes up keyboards;
	# useless in a VM, and its compiled hwdb.bin is ~10 MB of guest RAM.
	--dpkgopt='path-exclude=/usr/lib/udev/hwdb.d/*'
)

note "building Debian sid rootfs in $root (mirror from host apt sources)"
start=$(date +%s)
# The essential hook runs after debconf is installed and before apt
# installs kexec-tools: preseed its only question (read the GRUB config to
# choose the kexec kernel?) to "no". kexec-tools >= 1:2.0.27 no longer loads
# a kernel at boot on its own, so nothing else needs configuring. "$1" in
# the hook is the chroot, expanded by mmdebstrap's shell, not by this one.
# shellcheck disable=SC2016
if ! mmdebstrap --mode=root --variant=minbase --format=directory \
	--architectures="$arch" \
	--include="$(IFS=,; echo "${packages[*]}")" \
	--aptopt='Acquire::Languages "none"' \
	"${mm_opts[@]}" "${excludes[@]}" \
	--essential-hook='echo "kexec-tools kexec-tools/use_grub_config boolean false" |
		chroot "$1" debconf-set-selections' \
	sid "$root" "deb [arch=$arch signed-by=$keyring] $mirror sid main" \
	>"$stage/mmdebstrap.log" 2>&1; then
	tail -n 40 "$stage/mmdebstrap.log" >&2
	use_stale_cache "mmdebstrap failed (log above)"
fi

# --- configure the guest -------------------------------------------------------
echo lu-guest >"$root/etc/hostname"
cat >"$root/etc/hosts" <<'EOF'
127.0.0.1	localhost
127.0.1.1	lu-guest
::1		localhost ip6-localhost ip6-loopback
EOF
cat >"$root/etc/fstab" <<'EOF'
# The root file system is the initramfs itself; there is nothing to mount.
EOF
# An empty root password rather than a locked one: nothing logs in (the
# gettys are masked), but systemd's emergency and rescue shells then work
# when a boot goes wrong instead of refusing a locked root.
chroot "$root" passwd -q -d root
printf '%s\n' "$machine_id" >"$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id"
# systemctl set-default and mask only make these symlinks; making them
# directly avoids running sid's systemctl in a chroot without /proc.
ln -sfn /usr/lib/systemd/system/multi-user.target \
	"$root/etc/systemd/system/default.target"
# The initramfs rootfs is never the initrd of another root: systemd must
# not find initrd-release, or it would behave as an initrd and switch root.
rm -f "$root/etc/initrd-release"

# Units with ConditionNeedsUpdate= would run on every boot of this rootfs,
# which has no /etc/.updated (and whose mtimes depend on how the kernel
# unpacks it): they rebuild the hwdb, ld.so.cache and journal catalog and
# create system users, all of which the packages' maintainer scripts
# already did at build time. In 262: ldconfig, systemd-hwdb-update,
# systemd-journal-catalog-update, systemd-sysusers, systemd-update-done.
unitdir=$root/usr/lib/systemd/system
while IFS= read -r f; do
	mask_units+=("$(basename "$f")")
done < <(grep -l '^ConditionNeedsUpdate=' "$unitdir"/*.service 2>/dev/null || true)
masked=()
for u in "${mask_units[@]}"; do
	if [ -e "$unitdir/$u" ] || [ -e "$root/etc/systemd/system/$u" ]; then
		masked+=("$u")
	fi
done
mapfile -t masked < <(printf '%s\n' "${masked[@]}" | LC_ALL=C sort -u | sed '/^$/d')
for u in "${masked[@]}"; do
	ln -sfn /dev/null "$root/etc/systemd/system/$u"
done
gendir=$root/usr/lib/systemd/system-generators
mkdir -p "$root/etc/systemd/system-generators"
masked_gens=()
for g in "${mask_generators[@]}"; do
	if [ -e "$gendir/$g" ]; then
		ln -sfn /dev/null "$root/etc/systemd/system-generators/$g"
		masked_gens+=("$g")
	fi
done
note "masked units: ${masked[*]}"
note "masked generators: ${masked_gens[*]}"

# The kernel opens /dev/console on the initramfs root before running /init,
# for init's stdin/out/err; without the node early output is lost ("unable
# to open an initial console"). systemd mounts devtmpfs over /dev later.
mkdir -p "$root/dev"
[ -c "$root/dev/console" ] || mknod -m 0600 "$root/dev/console" c 5 1
[ -c "$root/dev/null" ] || mknod -m 0666 "$root/dev/null" c 1 3

# Leftovers of the build that have no use in the guest.
rm -rf "$root"/var/cache/apt/*.bin "$root"/var/cache/debconf/*-old \
	"$root"/var/lib/dpkg/*-old "$root"/var/log/apt/* "$root"/var/log/*.log

dpkg-query --admindir="$root/var/lib/dpkg" -W -f='${Package} ${Version}\n' |
	LC_ALL=C sort >"$stage/manifest"

# newc cannot carry xattrs, so file capabilities are lost; say which.
if command -v getcap >/dev/null; then
	caps=$(getcap -r "$root" 2>/dev/null | sed "s|^$root||") || true
	[ -z "$caps" ] || warn "file capabilities not kept by cpio: $(paste -sd';' <<<"$caps")"
fi

# --- pack ----------------------------------------------------------------
# Sorted paths keep a parent directory before its entries (the kernel does
# not create missing parents) and make the archive order stable. Owners and
# modes are the staging tree's own (root and a few system groups, setuid
# bits included); symlinks such as /bin -> usr/bin are stored as links.
tmp=$(mktemp "$archive.XXXXXX")
trap 'rm -rf --one-file-system "$stage"; rm -f "$tmp"' EXIT
(cd "$root" && find . -mindepth 1 -print0 | LC_ALL=C sort -z |
	cpio --null --create --format=newc --quiet) |
	zstd -q -T0 -"$zstd_level" -f -o "$tmp"
chmod 0644 "$tmp"
mv -f "$tmp" "$archive"
mv -f "$stage/manifest" "$manifest"
# The key goes last: an interrupted run leaves a mismatch and rebuilds.
echo "$key" >"$keyfile.tmp"
mv -f "$keyfile.tmp" "$keyfile"

unpacked=$(du -sb "$root" | cut -f1)
note "$(wc -l <"$manifest") packages, unpacked $((unpacked / 1048576)) MiB," \
	"archive $(($(stat -c %s "$archive") / 1048576)) MiB, built in $(($(date +%s) - start)) s"
echo "debian rootfs: built (systemd $(systemd_version))"
