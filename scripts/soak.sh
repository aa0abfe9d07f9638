#!/bin/bash
# make soak: the guest tests too long for make test, on the flavors their
# SOAK_FLAVORS header names, with their SOAK_STAGES boot chains (e.g. all
# 39 boots of the corrupted-handover test, on the default and the
# KASAN/lockdep/kmemleak kernels). Prints TAP and "N passed, M failed" like
# make test; exits non-zero if anything failed.
#
#   FLAVORS="..."   which kernels (default: default debug)
set -uo pipefail
cd "$(dirname "$0")/.."

passed=0
failed=0
for flavor in ${FLAVORS:-default debug}; do
	out=build/out
	[ "$flavor" = default ] || out=build/out-$flavor
	make -s artifacts FLAVOR="$flavor" || { echo "not ok - build: artifacts ($flavor)"; failed=$((failed + 1)); continue; }
	tests=$(grep -l "^# SOAK_FLAVORS:.*\b$flavor\b" selftests/*.sh)
	[ -n "$tests" ] || continue
	# shellcheck disable=SC2086 # a list of test files
	while IFS= read -r line; do
		printf '%s\n' "$line"
		case "$line" in
		RESULT\ *)
			passed=$((passed + $(echo "$line" | sed -n 's/.* passed=\([0-9]*\).*/\1/p')))
			failed=$((failed + $(echo "$line" | sed -n 's/.* failed=\([0-9]*\).*/\1/p')))
			;;
		esac
	done < <(LU_SOAK=1 qemu/run-tests.sh "$flavor" "$out" $tests 2>&1)
done
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
