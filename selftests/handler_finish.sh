# FINISH asks every file can_finish first: a refusal leaves everything
# owned and retryable; a failed retrieve is remembered; files never
# retrieved are finished too.
# STAGES: 2
# FLAVORS: default debug
# TIMEOUT: 120

LUTEST_KO=/lib/modules/lutest.ko

load_all() {
	lu_load || bail "no /dev/liveupdate"
	insmod "$LUTEST_KO" || bail "lutest.ko does not load"
}

stage_1() {
	load_all
	{
		handler-test finish --stage 1
		echo "exit $?" >/tmp/handler-test.ready
	} &
	lu_wait_ready /tmp/handler-test.ready 100 ||
		bail "stage 1 of handler-test finish failed"
}

stage_2() {
	load_all
	handler-test finish --stage 2 || not_ok "handler-test finish --stage 2 exited $?"
}
