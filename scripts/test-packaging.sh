#!/bin/bash
# Tests of what installs the project on a host, as TAP: make install and
# uninstall (files, modes, the man page, bash completion), DKMS against the
# default guest kernel's tree and its refusal of the upstream one, the
# Debian packages (dpkg-buildpackage, lintian) and, as root, their
# installation into a Debian bookworm chroot, where DKMS builds the module.
#
#   test-packaging.sh
#
# Needs build/kernel-default and build/kernel-upstream (make kernel, FLAVOR
# upstream): a test whose tree is missing is skipped. Everything is written
# to a temporary directory or to build/ (build/deb: the packages,
# build/pkg-chroot: the cached chroot); nothing on the host's /lib/modules,
# /usr/src or /var/lib/dkms is touched.
#
# Environment:
#   LU_PKG_KERNEL_DEFAULT, LU_PKG_KERNEL_UPSTREAM  other kernel build trees
#   LU_PKG_CHROOT=0   skip the chroot test (it needs root and the mirror)
#   LU_PKG_GUEST=0    skip booting the default guest with the files the
#                     packages installed in the chroot (the DKMS-built
#                     liveupdate.ko, the packaged luoctl) to run the
#                     luoctl_agent guest test with them (about 10 s)
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
version=$(cat VERSION)
kdefault=${LU_PKG_KERNEL_DEFAULT:-$top/build/kernel-default}
kupstream=${LU_PKG_KERNEL_UPSTREAM:-$top/build/kernel-upstream}

work=$(mktemp -d "${TMPDIR:-/tmp}/lu-pkg.XXXXXX")
trap 'rm -rf --one-file-system "$work"' EXIT

n=0
failed=0

# t DESCRIPTION FUNCTION [ARG...]: one test. FUNCTION runs with errexit in a
# subshell (not as an if condition, where bash would ignore errexit); its
# output is shown, as TAP comments, only when it fails or when it writes to
# fd 3 (notes worth keeping in the log).
t() {
	local desc=$1 rc t0=$SECONDS
	shift
	n=$((n + 1))
	set +e
	(
		set -e
		"$@"
	) >"$work/log" 2>&1 3>"$work/notes"
	rc=$?
	set -e
	if [ $rc -eq 0 ]; then
		echo "ok $n - $desc"
	elif [ $rc -eq 77 ]; then
		echo "ok $n - $desc # SKIP $(tail -n 1 "$work/log")"
		return 0
	else
		echo "not ok $n - $desc"
		tail -n 30 "$work/log" | sed 's/^/#   /'
		failed=$((failed + 1))
	fi
	sed 's/^/# /' "$work/notes"
	echo "# time: $((SECONDS - t0)) s"
}
skip() {
	echo "$*"
	exit 77
}
note() { echo "$*" >&3; }
need_tree() { [ -f "$1/include/config/kernel.release" ] || skip "no kernel tree $1 (make kernel FLAVOR=...)"; }

# --- make install / uninstall ---------------------------------------------------

dest=$work/dest
dkms_src=/usr/src/liveupdate-$version

# The module sources Kbuild builds from, as a sorted list: what the DKMS
# directory must hold besides Kbuild, VERSION and dkms.conf.
module_sources() {
	git -C "$top" ls-files module include uapi 2>/dev/null | grep -E '\.(c|h|cpp|hpp)$' ||
		find module include uapi -type f \( -name '*.[ch]' -o -name '*.[ch]pp' \)
}

test_install() {
	rm -rf "$dest"
	make -s install DESTDIR="$dest" >/dev/null
	{
		echo "755 /usr/local/sbin/luoctl"
		echo "644 /usr/local/share/man/man8/luoctl.8"
		echo "644 /usr/local/share/bash-completion/completions/luoctl"
		echo "644 /usr/local/lib/systemd/system/luoctl-agent.service"
		for f in Kbuild VERSION dkms.conf $(module_sources); do
			echo "644 $dkms_src/$f"
		done
	} | LC_ALL=C sort >"$work/expected"
	(cd "$dest" && find . ! -type d -printf '%m /%P\n') | LC_ALL=C sort >"$work/got"
	diff -u "$work/expected" "$work/got"
	# Directories as make install creates them: 0755.
	local dirs
	dirs=$(find "$dest" -type d ! -perm 0755)
	[ -z "$dirs" ] || { echo "not 0755: $dirs"; exit 1; }
	grep -qx "PACKAGE_VERSION=\"$version\"" "$dest$dkms_src/dkms.conf" ||
		{ echo "dkms.conf does not name version $version"; exit 1; }
	"$dest/usr/local/sbin/luoctl" --version | grep -qx "luoctl $version" ||
		{ echo "the installed luoctl is not version $version"; exit 1; }
}

test_install_prefix_usr() {
	rm -rf "$work/dest-usr"
	make -s install DESTDIR="$work/dest-usr" PREFIX=/usr >/dev/null
	for f in /usr/sbin/luoctl /usr/share/man/man8/luoctl.8 \
		/usr/share/bash-completion/completions/luoctl \
		/lib/systemd/system/luoctl-agent.service "$dkms_src/dkms.conf"; do
		[ -f "$work/dest-usr$f" ] || { echo "missing $f"; exit 1; }
	done
}

# The commands luoctl --help lists.
luoctl_commands() {
	"$dest/usr/local/sbin/luoctl" --help |
		sed -n '/^Commands:/,/^$/{s/^  \([a-z]\+\) .*/\1/p}'
}

test_man() {
	local man=$dest/usr/local/share/man/man8/luoctl.8 text c opt
	# groff -ww: every warning; -z: no output but the warnings.
	[ -z "$(LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z "$man" 2>&1)" ]
	text=$(MANWIDTH=80 LC_ALL=C.UTF-8 man -l "$man" 2>"$work/man.err")
	[ ! -s "$work/man.err" ] || { cat "$work/man.err"; exit 1; }
	for section in NAME SYNOPSIS DESCRIPTION OPTIONS COMMANDS ENVIRONMENT FILES \
		"EXIT STATUS" "SEE ALSO"; do
		grep -qx "$section" <<<"$text" || { echo "no section $section"; exit 1; }
	done
	# Every command, and every option its help names, is documented.
	for c in $(luoctl_commands); do
		grep -qE "^       $c( |$)" <<<"$text" || { echo "command $c not documented"; exit 1; }
		for opt in $("$dest/usr/local/sbin/luoctl" help "$c" | head -n 1 | grep -oE -- '--[a-z-]+'); do
			grep -qF -- "$opt" <<<"$text" || { echo "$c $opt not documented"; exit 1; }
		done
	done
	for word in LUOCTL_TIMEOUT LUOCTL_SOCKET --timeout /dev/liveupdate /run/luoctl.sock \
		/run/luoctl.sock.state /run/luoctl.staged; do
		grep -qF -- "$word" <<<"$text" || { echo "$word not documented"; exit 1; }
	done
}

# Completes the words given (the last one being completed) with the installed
# completion in a clean bash; prints the candidates, sorted, one a line.
# $_luoctl_cmd is the luoctl it asks for sessions. With $with_bc set, the
# bash-completion package's helpers are loaded first, as in a login shell.
# $LINE is the command line when it is not the words joined by spaces.
with_bc=
complete_words() {
	local luoctl=$1
	shift
	bash --norc --noprofile -c '
		[ -z "$3" ] || source /usr/share/bash-completion/bash_completion
		set -u
		source "$1"
		complete -p luoctl >/dev/null
		_luoctl_cmd=$2
		shift 3
		COMP_WORDS=("$@")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMP_LINE=${LINE:-$*}
		COMP_POINT=${#COMP_LINE}
		COMPREPLY=()
		_luoctl luoctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		printf "%s\n" "${COMPREPLY[@]}"
	' bash "$dest/usr/local/share/bash-completion/completions/luoctl" "$luoctl" "$with_bc" "$@" |
		sed '/^$/d' | LC_ALL=C sort
}

test_completion() {
	local luoctl=$dest/usr/local/sbin/luoctl got
	[ "$(complete_words "$luoctl" luoctl se)" = sessions ]
	[ "$(complete_words "$luoctl" luoctl "")" = "$(luoctl_commands | LC_ALL=C sort)" ]
	[ "$(complete_words "$luoctl" luoctl -j ret --s)" = "$(printf '%s\n' --session --socket)" ]
	got=$(complete_words "$luoctl" luoctl status --)
	grep -qx -- --socket <<<"$got"
	grep -qx -- --timeout <<<"$got"
	[ "$(complete_words "$luoctl" luoctl help ki)" = "" ]
	[ "$(complete_words "$luoctl" luoctl help ke)" = kexec ]
	# Session names come from `luoctl sessions` (a stand-in prints its
	# format here); no agent: no names and nothing on the terminal.
	cat >"$work/fake-luoctl" <<-'EOF'
		#!/bin/sh
		[ "$1" = sessions ] || exit 2
		printf '%s\n' 'vm-1: outgoing, preserved, uid 0, 1 file(s)' \
			'  token 1: memfd, 4096 bytes, preserved' \
			'db@2: incoming, incoming, uid 0, 0 file(s)'
	EOF
	chmod +x "$work/fake-luoctl"
	[ "$(complete_words "$work/fake-luoctl" luoctl finish --session "")" = "$(printf '%s\n' db@2 vm-1)" ]
	[ "$(complete_words "$work/fake-luoctl" luoctl retrieve --session v)" = vm-1 ]
	got=$(LUOCTL_SOCKET=$work/no-agent.sock complete_words "$luoctl" luoctl abort --session "" 2>&1)
	[ -z "$got" ]
	# With bash-completion, a name with ':' (which bash splits words at)
	# completes after the ':'.
	printf '%s\n' "echo 'db:2: incoming, incoming, uid 0, 0 file(s)'" >>"$work/fake-luoctl"
	with_bc=1
	[ "$(complete_words "$work/fake-luoctl" luoctl se)" = sessions ]
	[ "$(LINE="luoctl finish --session db:" complete_words "$work/fake-luoctl" \
		luoctl finish --session db :)" = 2 ]
	[ "$(complete_words "$work/fake-luoctl" luoctl finish --session v)" = vm-1 ]
}

test_uninstall() {
	make -s uninstall DESTDIR="$dest" >/dev/null
	local left
	left=$(find "$dest" ! -type d)
	[ -z "$left" ] || { echo "left behind: $left"; exit 1; }
}

t "make install DESTDIR: the expected files and modes" test_install
t "make install PREFIX=/usr: units in /lib/systemd/system" test_install_prefix_usr
t "luoctl(8) renders without warnings and documents every command and option" test_man
t "bash completion: commands, options, session names from the agent" test_completion
t "make uninstall leaves no file behind" test_uninstall

# --- DKMS -------------------------------------------------------------------

# A DKMS of our own: source, DKMS and module trees in $work, the kernel tree
# as /lib/modules/VER/build of a fake root. No depmod, no signing key
# (sign_file is read from the environment when /etc/dkms does not set it).
dkms_setup() {
	local tree=$1 root=$2
	rm -rf "$root"
	make -s install-dkms-src DESTDIR="$root" >/dev/null
	kver=$(cat "$tree/include/config/kernel.release")
	mkdir -p "$root/lib/modules/$kver" "$root/var/lib/dkms"
	ln -s "$tree" "$root/lib/modules/$kver/build"
	dkms_opts=(-m liveupdate -v "$version" -k "$kver"
		--dkmstree "$root/var/lib/dkms" --sourcetree "$root/usr/src"
		--installtree "$root/lib/modules" --kernelsourcedir "$root/lib/modules/$kver/build")
}
export sign_file=/nonexistent/sign-file

# A tree prepared for modules only (no vmlinux) has no Module.symvers:
# modpost can then only warn about the kernel's symbols.
modpost_warn() {
	[ -f "$1/Module.symvers" ] || export KBUILD_MODPOST_WARN=1
}

test_dkms_default() {
	need_tree "$kdefault"
	modpost_warn "$kdefault"
	local root=$work/dkms-default ko magic status
	dkms_setup "$kdefault" "$root"
	dkms add "${dkms_opts[@]}"
	dkms build "${dkms_opts[@]}"
	dkms install --no-depmod "${dkms_opts[@]}"
	ko=$root/lib/modules/$kver/updates/dkms/liveupdate.ko
	[ -f "$ko" ]
	magic=$(modinfo -F vermagic "$ko")
	[ "${magic%% *}" = "$kver" ]
	[ "$(modinfo -F version "$ko")" = "$version" ]
	# The same vermagic as the module make builds against this tree.
	if [ "$kdefault" = "$top/build/kernel-default" ] && [ -f build/out/liveupdate.ko ]; then
		[ "$magic" = "$(modinfo -F vermagic build/out/liveupdate.ko)" ]
	fi
	status=$(dkms status "${dkms_opts[@]}")
	grep -q "^liveupdate/$version, $kver, .*: installed" <<<"$status"
	note "dkms status: $status"
	note "modinfo vermagic: $magic"
	dkms remove --no-depmod "${dkms_opts[@]}" >/dev/null
	[ ! -e "$ko" ]
}

test_dkms_upstream() {
	need_tree "$kupstream"
	local root=$work/dkms-upstream rc out
	dkms_setup "$kupstream" "$root"
	# DKMS: not applicable (77), so that installing such a kernel goes on.
	set +e
	out=$(dkms build "${dkms_opts[@]}" 2>&1)
	rc=$?
	set -e
	echo "$out"
	[ $rc -eq 77 ]
	grep -q BUILD_EXCLUSIVE <<<"$out"
	# Kbuild itself, for a build without DKMS: fails and says why.
	kbuild_refuses "$kupstream" "$root$dkms_src" "$work/mo-upstream" \
		'CONFIG_LIVEUPDATE=y: the in-kernel LUO owns /dev/liveupdate'
	note "refusal: $(grep -o 'liveupdate: kernel .*owns /dev/liveupdate' <<<"$refusal" | head -n 1)"
}

# kbuild_refuses TREE SRC OUT MESSAGE [MAKEVAR=VALUE...]: building the module
# in SRC against TREE fails, says MESSAGE and leaves no object in OUT. The
# output is kept in $refusal.
kbuild_refuses() {
	local tree=$1 src=$2 mo=$3 message=$4 rc
	shift 4
	mkdir -p "$mo"
	set +e
	refusal=$(make -C "$tree" M="$src" MO="$mo" "$@" modules 2>&1)
	rc=$?
	set -e
	echo "$refusal"
	[ $rc -ne 0 ]
	grep -q "$message" <<<"$refusal"
	[ -z "$(find "$mo" -name '*.o')" ]
}

# A kernel without KHO: the default tree, with CONFIG_KEXEC_HANDOVER emptied
# on the command line (which overrides its auto.conf) rather than a third
# kernel build.
test_kbuild_no_kho() {
	need_tree "$kdefault"
	rm -rf "$work/nokho"
	make -s install-dkms-src DESTDIR="$work/nokho" >/dev/null
	kbuild_refuses "$kdefault" "$work/nokho$dkms_src" "$work/mo-nokho" \
		'lacks CONFIG_KEXEC_HANDOVER=y: the module preserves memory through kexec handover' \
		CONFIG_KEXEC_HANDOVER=
}

t "DKMS builds and installs liveupdate.ko against the default guest kernel" test_dkms_default
t "DKMS and Kbuild refuse a kernel with the in-kernel LUO (upstream)" test_dkms_upstream
t "Kbuild refuses a kernel without KHO" test_kbuild_no_kho

# --- Debian packages --------------------------------------------------------

debs=$top/build/deb

test_debs() {
	scripts/build-deb.sh "$debs"
	local f
	dpkg-deb -c "$debs/luoctl_${version}_"*.deb | awk '$1 !~ /^d/ { print $6 }' |
		sed 's|^\./|/|' | grep -v '^/usr/share/doc/' | LC_ALL=C sort >"$work/luoctl.files"
	printf '%s\n' /lib/systemd/system/luoctl-agent.service /usr/sbin/luoctl \
		/usr/share/bash-completion/completions/luoctl /usr/share/lintian/overrides/luoctl \
		/usr/share/man/man8/luoctl.8.gz |
		diff -u - "$work/luoctl.files"
	dpkg-deb -c "$debs/liveupdate-dkms_${version}_all.deb" | awk '$1 !~ /^d/ { print $6 }' |
		sed -n "s|^\./usr/src/liveupdate-$version/||p" | LC_ALL=C sort >"$work/dkms.files"
	for f in Kbuild VERSION dkms.conf $(module_sources); do echo "$f"; done |
		LC_ALL=C sort | diff -u - "$work/dkms.files"
	# The C++ core needs g++, which dkms does not bring.
	dpkg-deb -f "$debs/liveupdate-dkms_${version}_all.deb" Depends | grep -qE '(^|, )dkms'
	dpkg-deb -f "$debs/liveupdate-dkms_${version}_all.deb" Depends | grep -qE '(^|, )g\+\+'
}

test_lintian() {
	[ -f "$debs/liveupdate_${version}_$(dpkg --print-architecture).changes" ] ||
		skip "no packages (the previous test failed)"
	# Errors and warnings fail; info, pedantic and experimental tags are
	# shown.
	lintian --display-info --display-experimental --pedantic --fail-on error,warning \
		"$debs/liveupdate_${version}_$(dpkg --print-architecture).changes" >"$work/lintian" 2>&1 ||
		{ cat "$work/lintian"; exit 1; }
	grep -v 'running with root privileges' "$work/lintian" | sed 's/^/lintian: /' >&3 || true
}

t "dpkg-buildpackage: liveupdate-dkms and luoctl with the expected files" test_debs
t "lintian: no errors or warnings" test_lintian

# --- the packages in a Debian chroot ------------------------------------------------

chroot_cache=$top/build/pkg-chroot
# The chroot: bookworm minbase with what DKMS needs to build (liveupdate-dkms
# depends on g++ too; test_debs checks that), and libelf1, which the kernel
# tree's objtool runs with (a linux-headers package would bring it), so that
# the packages install from their .debs without downloading anything.
chroot_packages=dkms,gcc,g++,make,libc6-dev,kmod,libelf1

# Builds (or takes from the cache) the chroot's tarball. The key is this
# list and the mirror; a stable release's packages change rarely, and the
# test only needs a working bookworm.
chroot_tarball() {
	local mirror key tar=$chroot_cache/bookworm.tar
	mirror=$(awk '/^URIs:/ && $2 !~ /-security/ { print $2; exit }' \
		/etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
	[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)
	[ -n "$mirror" ] || skip "no Debian mirror in the host's apt sources"
	key="$chroot_packages $mirror"
	mkdir -p "$chroot_cache"
	if [ -f "$tar" ] && [ "$(cat "$chroot_cache/key" 2>/dev/null)" = "$key" ]; then
		echo "$tar"
		return
	fi
	rm -f "$tar" "$chroot_cache/key"
	local start=$SECONDS
	mmdebstrap --mode=root --variant=minbase --format=tar \
		--aptopt='APT::Install-Recommends "false"' --aptopt='Acquire::Languages "none"' \
		--dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
		--include="$chroot_packages" bookworm "$tar.tmp" "deb $mirror bookworm main" \
		>"$chroot_cache/mmdebstrap.log" 2>&1 ||
		{ tail -n 20 "$chroot_cache/mmdebstrap.log" >&2; rm -f "$tar.tmp"; return 1; }
	mv "$tar.tmp" "$tar"
	echo "$key" >"$chroot_cache/key"
	note "chroot built in $((SECONDS - start)) s (cached in $tar)"
	echo "$tar"
}

test_chroot() {
	[ "${LU_PKG_CHROOT:-1}" != 0 ] || skip "LU_PKG_CHROOT=0"
	[ "$(id -u)" = 0 ] || skip "needs root (mmdebstrap --mode=root, chroot)"
	need_tree "$kdefault"
	ls "$debs"/liveupdate-dkms_"$version"_all.deb "$debs"/luoctl_"$version"_*.deb >/dev/null ||
		skip "no packages (the package test failed)"
	local tar root=$work/chroot tree src kver
	tar=$(chroot_tarball)
	mkdir -p "$root"
	tar -xf "$tar" -C "$root"
	cp "$debs"/liveupdate-dkms_"$version"_all.deb "$debs"/luoctl_"$version"_*.deb "$root/tmp/"
	# The kernel tree and its source at the same paths inside, read-only:
	# an O= tree names its source by absolute path.
	tree=$(readlink -f "$kdefault")
	src=$(readlink -f "$tree/source")
	kver=$(cat "$tree/include/config/kernel.release")
	mkdir -p "$root$tree" "$root$src" "$root/lib/modules/$kver"
	ln -s "$tree" "$root/lib/modules/$kver/build"
	modpost_warn "$tree"
	# A private mount namespace: the mounts go when it ends, even on failure.
	unshare --mount --propagation private -- /bin/sh -ec '
		root=$1 tree=$2 src=$3 kver=$4 version=$5
		mount --bind "$tree" "$root$tree"
		mount -o remount,bind,ro "$root$tree"
		mount --bind "$src" "$root$src"
		mount -o remount,bind,ro "$root$src"
		mount -t proc proc "$root/proc"
		run_in() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
			DEBIAN_FRONTEND=noninteractive ${KBUILD_MODPOST_WARN:+KBUILD_MODPOST_WARN=1} "$@"; }
		# No pty in the chroot: dpkg runs without one.
		run_in sh -c "apt-get install -y -o Dpkg::Use-Pty=0 /tmp/liveupdate-dkms_${version}_all.deb /tmp/luoctl_${version}_*.deb" ||
			{ run_in sh -c "tail -n 30 /var/lib/dkms/liveupdate/$version/build/make.log"; exit 1; }
		run_in test -f "/lib/modules/$kver/updates/dkms/liveupdate.ko"
		run_in modinfo -F vermagic "/lib/modules/$kver/updates/dkms/liveupdate.ko" | grep -q "^$kver "
		run_in dkms status | grep "^liveupdate/$version, $kver, .*: installed"
		run_in luoctl --version | grep -qx "luoctl $version"
		run_in test -f /lib/systemd/system/luoctl-agent.service
		run_in test -f /usr/share/bash-completion/completions/luoctl
		# What the guest test boots with.
		mkdir -p "$6"
		cp "$root/lib/modules/$kver/updates/dkms/liveupdate.ko" "$root/usr/sbin/luoctl" "$6/"
		run_in apt-get purge -y -o Dpkg::Use-Pty=0 liveupdate-dkms luoctl
		# (sh -e does not stop at a failing "! command".)
		if run_in test -e "/lib/modules/$kver/updates/dkms/liveupdate.ko" ||
			run_in test -e "/usr/src/liveupdate-$version"; then
			echo "purge left the module or its source"
			exit 1
		fi
	' sh "$root" "$tree" "$src" "$kver" "$version" "$work/installed" | tee "$work/chroot.log"
	note "chroot: $(grep -m1 "^liveupdate/$version" "$work/chroot.log")"
}

# The default guest with the installed module and tool: build/out-pkg is
# build/out with them in place of the ones make built.
test_guest() {
	[ "${LU_PKG_GUEST:-1}" != 0 ] || skip "LU_PKG_GUEST=0"
	[ -f "$work/installed/liveupdate.ko" ] || skip "nothing installed (the chroot test did not run)"
	[ "$kdefault" = "$top/build/kernel-default" ] && [ -f build/out/bzImage ] ||
		skip "no default guest kernel in build/out (make artifacts)"
	local out=build/out-pkg
	rm -rf "$out"
	mkdir -p "$out"
	cp build/out/bzImage build/out/gen_init_cpio "$out/"
	cp "$work/installed/liveupdate.ko" "$work/installed/luoctl" "$out/"
	LU_JOBS=1 qemu/run-tests.sh default "$out" luoctl_agent | tee "$work/guest.log"
	note "$(grep '^RESULT ' "$work/guest.log")"
}

t "apt installs both packages in a bookworm chroot; DKMS builds the module there" test_chroot
t "a live update in the default guest with the installed liveupdate.ko and luoctl" test_guest

echo "1..$n"
[ $failed -eq 0 ]
