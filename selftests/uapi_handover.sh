# Sessions across two consecutive live updates, errno for errno as the
# in-kernel LUO of 7.3 has it: retrieving sessions and files once and again,
# FINISH, closing without FINISH, sessions left unretrieved, and files
# retrieved, preserved again and carried over a second kexec. The list is
# at the top of selftests/src/uapi_handover.c.
# STAGES: 3
# FLAVORS: default upstream
# SOAK_FLAVORS: debug

READY=/tmp/uapi-handover.ready

# hold N: run stage N of the program in the background, where it keeps its
# sessions open until the kexec. Failures it reports do not stop the chain;
# a program that is not holding (it died, or never got ready) does.
hold() {
	{ uapi-handover --stage "$1" || echo "exited $?" >$READY; } &
	lu_wait_ready $READY 120 && return 0
	[ "$(cat $READY 2>/dev/null)" = 1 ] ||
		bail "uapi-handover --stage $1 is not holding: $(cat $READY 2>/dev/null)"
}

stage_1() {
	check "liveupdate is available" lu_load || bail "no /dev/liveupdate"
	hold 1
}

stage_2() {
	check "liveupdate is available after the kexec" lu_load || bail "no /dev/liveupdate"
	hold 2
}

stage_3() {
	check "liveupdate is available after the second kexec" lu_load || bail "no /dev/liveupdate"
	uapi-handover --stage 3
	rc=$?
	[ $rc -le 1 ] || not_ok "uapi-handover --stage 3 ran to the end" "exit status $rc"
}
