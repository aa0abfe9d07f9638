#!/bin/bash
# make bench: build the guest with our module (FLAVOR=default) and the guest
# with the in-kernel LUO of 7.3 (FLAVOR=upstream), run the same benchmark
# program (bench/src/lu_bench.c) in both under the same QEMU settings, and
# print the table (bench/run-bench.py). Results: build/bench/ (runs.json,
# results.json, table.md, scaling.png); the plot is copied to docs/.
#
#   RUNS=N          boot chains per flavor and mode (default 3); medians
#   SETTLE_MS=N     the second mode's pause before retrieving (default 3000,
#                   0: only retrieve at once)
#   BENCH_ARGS=...  extra lu-bench options (e.g. "--mib 64,256")
#   LU_BUILD_LOCK=F run the build steps under flock F (shared build hosts)
#
# A benchmark, not a test: `make test` never runs it.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${RUNS:-3}
lock=()
[ -z "${LU_BUILD_LOCK:-}" ] || lock=(flock "$LU_BUILD_LOCK")

scripts/install-deps.sh
"${lock[@]}" make -s artifacts
"${lock[@]}" make -s kernel FLAVOR=upstream
"${lock[@]}" make -s -C bench OUT="$PWD/build/bench" KHDR="$PWD/build/out/include"

python3 bench/run-bench.py --runs "$runs" --out build/bench \
	--settle-ms "${SETTLE_MS:-3000}" --bench-args "${BENCH_ARGS:-}"

mkdir -p docs
cp build/bench/scaling.png docs/bench-scaling.png
echo "bench: build/bench/table.md, build/bench/results.json, docs/bench-scaling.png"
