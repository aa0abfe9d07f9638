#!/bin/bash
# Run guest tests for one kernel flavor.
#
#   run-tests.sh FLAVOR OUTDIR [TEST...]
#
# TEST is a test file (selftests/NAME.sh) or a bare NAME; without any, every
# selftests/*.sh runs. Exits non-zero if any test failed. Extra run-test.py
# options (e.g. --kvm, -v) can be passed in RUN_TEST_ARGS.
set -euo pipefail

flavor=${1:?usage: run-tests.sh FLAVOR OUTDIR [TEST...]}
outdir=${2:?usage: run-tests.sh FLAVOR OUTDIR [TEST...]}
shift 2
root=$(cd "$(dirname "$0")/.." && pwd)

tests=()
if [ $# -eq 0 ]; then
	for t in "$root"/selftests/*.sh; do
		[ "$(basename "$t")" = lib.sh ] || tests+=(--test "$t")
	done
else
	for t in "$@"; do
		[ -f "$t" ] || t=$root/selftests/${t%.sh}.sh
		tests+=(--test "$t")
	done
fi
[ ${#tests[@]} -gt 0 ] || { echo "run-tests: no tests in $root/selftests" >&2; exit 1; }

# shellcheck disable=SC2086 # RUN_TEST_ARGS is a list of options
exec python3 "$root/qemu/run-test.py" --outdir "$outdir" --flavor "$flavor" \
	${RUN_TEST_ARGS:-} "${tests[@]}"
