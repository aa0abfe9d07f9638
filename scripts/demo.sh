#!/bin/bash
# make demo: build everything, boot the guest, run a live update with luoctl
# (selftests/demo.sh, two boots joined by a real kexec) and show it.
set -euo pipefail
cd "$(dirname "$0")/.."

start=$(date +%s)
echo "== building: kernel, liveupdate.ko, luoctl, test programs (make artifacts) =="
make -s artifacts
echo "   done in $(($(date +%s) - start)) s"
echo "== booting the guest in QEMU (TCG) and running the live update =="
echo

boot=$(date +%s)
set +e
output=$(qemu/run-tests.sh default build/out demo 2>&1)
status=$?
set -e
# The guest's narrative is its "# " lines; its checks are the numbered results.
printf '%s\n' "$output" | sed -n \
	-e 's/^    # \{0,1\}\(.*\)$/\1/p' \
	-e 's/^    ok [0-9]* - \[stage [0-9]*\] \(.*\)$/  [ok] \1/p' \
	-e 's/^    not ok [0-9]* - \(.*\)$/  [FAILED] \1/p'
echo
if [ $status -eq 0 ]; then
	echo "== live update done: guest run $(($(date +%s) - boot)) s, total $(($(date +%s) - start)) s =="
else
	printf '%s\n' "$output" | grep -E '^(RESULT|# serial log)' || true
	echo "== the demo FAILED (serial log in build/logs/default/demo.log) =="
fi
exit $status
