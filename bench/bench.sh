# The benchmark's two boots, run by the guest /init like a test's stages
# (qemu/guest/init sources lib.sh, then this file as /selftests/bench.sh).
# It is not a test: it lives in bench/, only bench/run-bench.py puts it in
# a guest, and `make test` never sees it. Stage 1 does not return: lu-bench
# kexecs into stage 2 itself, so that its last console line is the last
# thing userspace does before the reboot syscall.
# STAGES: 2

# Extra lu-bench options, written by the host into /selftests/bench.args.
bench_args() {
	cat /selftests/bench.args 2>/dev/null
}

# Our module where the kernel has no LUO of its own (FLAVOR=default).
module_arg() {
	if [ -f "$LU_KO" ] && [ ! -e /dev/liveupdate ]; then
		echo "--module $LU_KO"
	fi
}

# The host refuses a run timed in jiffies (bench/run-bench.py). Without
# ACPI there is no HPET, and a cold boot under TCG may start on
# refined-jiffies until the TSC is calibrated: wait for it (up to 20 s).
clocksource() {
	_cs=/sys/devices/system/clocksource/clocksource0/current_clocksource
	_i=0
	while grep -q jiffies $_cs && [ $_i -lt 200 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	diag "clocksource: $(cat $_cs)"
	dmesg | grep -i -E 'tsc|clocksource' | sed 's/^/# kernel: /'
}

stage_1() {
	clocksource
	# shellcheck disable=SC2046 # the options are lists of words
	lu-bench --stage 1 $(bench_args) $(module_arg) \
		--kexec /boot/bzImage /boot/initramfs.cpio.gz
	bail "lu-bench --stage 1 did not reboot (exit $?)"
}

stage_2() {
	# shellcheck disable=SC2046
	lu-bench --stage 2 $(bench_args) $(module_arg) ||
		not_ok "lu-bench --stage 2 exited $?"
	clocksource
}
