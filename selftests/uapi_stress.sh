# Concurrency: threads sharing one /dev/liveupdate fd race CREATE_SESSION,
# PRESERVE_FD (one memfd into two sessions at once), closing sessions in use,
# MOD_STATUS (module only) and writes, mmap writes, ftruncate and seals on
# preserved memfds, every result errno-checked against the ABI; what is left
# goes over a live update, where threads race RETRIEVE_SESSION, RETRIEVE_FD,
# FINISH and close, and every byte is checked. The list is at the top of
# selftests/src/uapi_stress.c; the seed is printed (--seed N repeats the choices).
# The stress lasts 10 s, 30 s on the debug kernel (lu.kmemleak=1). Measured
# alone on the 2-core machines: default ~60 s for the chain; debug ~335 s, of
# which stage 1 (storm, checks, kmemleak scan, kexec) ~190 s of its 540.
# STAGES: 2
# FLAVORS: default debug upstream
# TIMEOUT: 180

READY=/tmp/uapi-stress.ready

seconds() {
	if grep -q 'lu\.kmemleak=1' /proc/cmdline; then echo 30; else echo 10; fi
}

stage_1() {
	check "liveupdate is available" lu_load || bail "no /dev/liveupdate"
	# In the background it holds the sessions until the kexec; if it dies
	# first, its status lands in $READY and ends the wait. The stage's
	# TIMEOUT (scaled per flavor) bounds the wait.
	{ uapi-stress --stage 1 --seconds "$(seconds)" || echo "exited $?" >$READY; } &
	lu_wait_ready $READY 100000 && return 0
	[ "$(cat $READY 2>/dev/null)" = 1 ] ||
		bail "uapi-stress --stage 1 is not holding: $(cat $READY 2>/dev/null)"
}

stage_2() {
	check "liveupdate is available after the kexec" lu_load || bail "no /dev/liveupdate"
	uapi-stress --stage 2 --seconds "$(seconds)"
	rc=$?
	[ $rc -le 1 ] || not_ok "uapi-stress --stage 2 ran to the end" "exit status $rc"
}
