#!/bin/bash
# The test command: build everything, run the unit tests, then the guest
# tests on the default, upstream (in-kernel LUO) and debug kernels. Ends with one line
# "N passed, M failed, K skipped" and exits non-zero if anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."

passed=0
failed=0
skipped=0
start=$(date +%s)

# A build step that fails is a failed test, and the run goes on where it can.
build() {
	local what=$1
	shift
	echo "# build: $what"
	if ! "$@"; then
		echo "not ok - build: $what"
		failed=$((failed + 1))
		return 1
	fi
}

# Counts a GoogleTest binary's results from its own summary lines.
gtest() {
	local name=$1 bin=$2 out rc p f
	echo "# unit: $name"
	out=$("$bin" 2>&1)
	rc=$?
	printf '%s\n' "$out"
	p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p')
	f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p')
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	if [ $rc -ne 0 ] && [ -z "$f" ]; then
		echo "not ok - unit: $name exited $rc"
		failed=$((failed + 1))
	fi
}

# Counts a TAP run: "ok N", "not ok N", and "ok N ... # SKIP" as skipped. A
# non-zero exit without a "not ok" (the script died) is one failure more.
tap() {
	local name=$1 line last= rc bad=0
	shift
	echo "# tap: $name"
	while IFS= read -r line; do
		printf '%s\n' "$line"
		last=$line
		case "$line" in
		"not ok "*) failed=$((failed + 1)) bad=1 ;;
		"ok "*"# SKIP"*) skipped=$((skipped + 1)) ;;
		"ok "*) passed=$((passed + 1)) ;;
		esac
	done < <("$@" 2>&1; echo "# exit status $?")
	rc=${last##* }
	if [ "$rc" != 0 ] && [ $bad -eq 0 ]; then
		echo "not ok - $name exited $rc"
		failed=$((failed + 1))
	fi
}

# Counts a guest run from the RESULT lines qemu/run-test.py prints.
guest() {
	local flavor=$1 out=$2 line p f s
	echo "# guest: $flavor"
	while IFS= read -r line; do
		printf '%s\n' "$line"
		case "$line" in
		RESULT\ *)
			p=$(echo "$line" | sed -n 's/.* passed=\([0-9]*\).*/\1/p')
			f=$(echo "$line" | sed -n 's/.* failed=\([0-9]*\).*/\1/p')
			s=$(echo "$line" | sed -n 's/.* skipped=\([0-9]*\).*/\1/p')
			passed=$((passed + ${p:-0}))
			failed=$((failed + ${f:-0}))
			skipped=$((skipped + ${s:-0}))
			;;
		esac
	done < <(qemu/run-tests.sh "$flavor" "$out" 2>&1)
}

build "host packages" make -s deps || exit 1
build "kernel source" make -s kernel-src || exit 1

if build "unit tests (core)" make -s unit; then
	gtest core build/unit/core_unit
fi
if build "unit tests (luoctl)" make -s -C tool OUT="$PWD/build/tool" unit; then
	gtest luoctl build/tool/luoctl_unit
fi

# The Debian guest (systemd's fd store across kexec); if it cannot be built,
# only the tests that boot it fail.
build "Debian rootfs" make -s debian-rootfs

# The upstream flavor runs the uAPI and memfd tests against the in-kernel
# LUO of 7.3: the same binaries must pass on both.
for flavor in default upstream debug; do
	if build "artifacts ($flavor)" make -s artifacts FLAVOR=$flavor; then
		out=build/out
		[ $flavor = default ] || out=build/out-$flavor
		guest $flavor $out
	fi
	# make install, DKMS, the Debian packages: they need the default and
	# upstream kernel trees, so after the upstream flavor's build (a test
	# whose tree is missing is skipped).
	[ $flavor != upstream ] || tap packaging scripts/test-packaging.sh
done

echo "# total time: $(($(date +%s) - start)) s"
line="$passed passed, $failed failed"
[ $skipped -eq 0 ] || line="$line, $skipped skipped"
echo "$line"
[ $failed -eq 0 ]
