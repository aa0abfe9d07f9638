# The ioctl fuzzer across a live update (selftests/src/uapi_fuzz.c says what
# it does and checks). Stage 1 fuzzes /dev/liveupdate and session fds from
# 4 threads, then leaves for the next kernel the sessions it still has open,
# a few sessions of memfds with known content and a manifest of all of
# them, and kexecs; stage 2 reads the manifest back, fuzzes the incoming
# side as well and checks every preserved file it retrieves.
#
# The seed is random for each run and printed ("# fuzz: seed S"). From the
# kernel command line (make fuzz sets them): lu.fuzz_seed=S runs seed S
# again, lu.fuzz_ops=N operations per stage, lu.fuzz_threads=T threads.
# STAGES: 2
# FLAVORS: default debug upstream
# TIMEOUT: 300

READY=/tmp/uapi-fuzz.ready

# Operations per stage: make test's short form; make fuzz runs 1,000,000 a
# boot. 100,000 a stage measured under TCG on the 2-core hosts, 4 threads,
# host time: default 35-50 s; debug (KASAN, lockdep, kmemleak) 130-315 s,
# 530 s the whole chain with the host's load at 6 (the guest's own clock
# lags the host's there: it reports 100-190 s). TIMEOUT is per boot (x3 on
# debug).
OPS_DEFAULT=25000
OPS_DEBUG=25000

# fuzz_arg NAME: the value of lu.NAME= on the kernel command line, if any.
fuzz_arg() {
	set -f
	for _a in $(cat /proc/cmdline); do
		case "$_a" in
		"lu.$1="*)
			echo "${_a#*=}"
			break
			;;
		esac
	done
	set +f
}

ops=$(fuzz_arg fuzz_ops)
if [ -z "$ops" ]; then
	ops=$OPS_DEFAULT
	! grep -q 'lu\.kmemleak=1' /proc/cmdline || ops=$OPS_DEBUG
fi
threads=$(fuzz_arg fuzz_threads)
threads=${threads:-4}

stage_1() {
	check "liveupdate is available" lu_load || bail "no /dev/liveupdate"
	seed=$(fuzz_arg fuzz_seed)
	[ -n "$seed" ] || seed=0x$(tr -d - </proc/sys/kernel/random/uuid | cut -c1-16)
	{
		uapi-fuzz --stage 1 --seed "$seed" --ops "$ops" --threads "$threads" ||
			echo "exited $?" >$READY
	} &
	# The host's timeout bounds the wait: a run of millions of operations
	# takes as long as it takes.
	lu_wait_ready $READY 1000000 && return 0
	[ "$(cat $READY 2>/dev/null)" = 1 ] ||
		bail "uapi-fuzz --stage 1 is not holding: $(cat $READY 2>/dev/null)"
}

stage_2() {
	check "liveupdate is available after the kexec" lu_load || bail "no /dev/liveupdate"
	# The seed comes over in stage 1's manifest.
	uapi-fuzz --stage 2 --ops "$ops" --threads "$threads"
	rc=$?
	# 0: all ok, 1: some not ok (already reported); anything else is a crash.
	[ $rc -le 1 ] || not_ok "uapi-fuzz --stage 2 ran to the end" "exit status $rc"
}
