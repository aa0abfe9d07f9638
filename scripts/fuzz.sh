#!/bin/bash
# make fuzz: the ioctl fuzzer (selftests/uapi_fuzz.sh, selftests/src/uapi_fuzz.c)
# for longer than make test runs it: SEEDS boot chains per flavor, each with
# a seed of its own and OPS operations per boot (stage 1 before the kexec,
# stage 2 after it), on the default and debug kernels.
#
#   SEEDS=N          boot chains per flavor (default 3)
#   OPS=N            operations per boot (default 1000000)
#   THREADS=N        fuzzer threads (default 4)
#   SEED=S           run seed S (a failing run prints it), SEEDS defaults to 1
#   FLAVORS="..."    default debug (upstream, the in-kernel LUO, works too)
#   NO_BUILD=1       take the artifacts as they are (no make artifacts)
#   LU_BUILD_LOCK=F  run the build steps under flock F (shared build hosts)
#
# How the run's settings reach the guest: the guest reads lu.fuzz_seed,
# lu.fuzz_ops and lu.fuzz_threads from its kernel command line, which
# qemu/run-test.py builds from the CMDLINE header of the test file it is
# given, with the TIMEOUT header as the limit per boot. So each chain gets a
# copy of selftests/uapi_fuzz.sh whose header says this run's command line
# and a timeout sized for OPS; the guest runs the test of the same name from
# its initramfs, that is the real file's stages. qemu/ is not changed.
#
# Results: a summary table at the end; serial logs of failed chains in
# build/fuzz/logs/FLAVOR/SEED/. A fuzzer, not a test: make test never runs it
# (it runs selftests/uapi_fuzz.sh with a short count).
set -euo pipefail
cd "$(dirname "$0")/.."

ops=${OPS:-1000000}
threads=${THREADS:-4}
flavors=${FLAVORS:-default debug}
if [ -n "${SEED:-}" ]; then
	seeds=${SEEDS:-1}
else
	seeds=${SEEDS:-3}
fi
lock=()
[ -z "${LU_BUILD_LOCK:-}" ] || lock=(flock "$LU_BUILD_LOCK")

# Seconds per boot on the default kernel: boot and kexec, then the
# operations at 500 a second; run-test.py triples it for debug. Measured by
# the host's clock, 4 threads, the host's load at 6: 1,000,000 operations a
# boot took 690 s for the whole chain on default and about 1,500 s for
# stage 1 alone on debug.
ops_per_sec=500
timeout=$((300 + ops / ops_per_sec))

if [ -z "${NO_BUILD:-}" ]; then
	scripts/install-deps.sh
	for f in $flavors; do
		"${lock[@]}" make -s artifacts FLAVOR="$f"
	done
fi

work=build/fuzz
mkdir -p "$work"
summary=()
failed=0
for f in $flavors; do
	out=build/out
	[ "$f" = default ] || out=build/out-$f
	for n in $(seq 1 "$seeds"); do
		if [ -n "${SEED:-}" ] && [ "$n" = 1 ]; then
			seed=$SEED
		else
			seed=0x$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')
		fi
		dir=$work/$f/$seed
		mkdir -p "$dir"
		# The test file with this run's header.
		sed -e "s|^# TIMEOUT:.*|# TIMEOUT: $timeout|" \
			-e "s|^# STAGES:|# CMDLINE: lu.fuzz_seed=$seed lu.fuzz_ops=$ops lu.fuzz_threads=$threads\n&|" \
			selftests/uapi_fuzz.sh >"$dir/uapi_fuzz.sh"
		echo "# fuzz: $f, seed $seed, $ops operations per boot, $threads threads"
		start=$(date +%s)
		set +e
		RUN_TEST_ARGS="--log-dir $work/logs/$f/$seed ${RUN_TEST_ARGS:-}" LU_JOBS=1 \
			qemu/run-tests.sh "$f" "$out" "$PWD/$dir/uapi_fuzz.sh" 2>&1 | tee "$dir/output.txt"
		rc=${PIPESTATUS[0]}
		set -e
		secs=$(($(date +%s) - start))
		# The guest's own rates run on its clock, which lags the host's
		# under a loaded TCG; the host's figure includes both boots.
		rates=$(sed -n 's/.*fuzz: stage \([12]\): .* ops in \([0-9.]*\) s: \([0-9]*\) ops\/s.*/\3/p' \
			"$dir/output.txt" | paste -sd/ -)
		if [ "$rc" = 0 ]; then
			result=pass
		else
			result=FAIL
			failed=$((failed + 1))
		fi
		summary+=("$(printf '%-8s %-20s %-5s %6d s %9d %15s' "$f" "$seed" "$result" "$secs" \
			$((2 * ops / (secs > 0 ? secs : 1))) "${rates:--}")")
	done
done

echo
echo "# fuzz summary ($ops operations per boot, $threads threads)"
printf '%-8s %-20s %-5s %8s %9s %15s\n' flavor seed result wall "ops/s" "guest ops/s"
printf '%s\n' "${summary[@]}"
if [ $failed -gt 0 ]; then
	echo "$failed chain(s) failed; serial logs in $work/logs/FLAVOR/SEED/;" \
		"run one again with: make fuzz SEED=S FLAVORS=F OPS=$ops THREADS=$threads"
	exit 1
fi
