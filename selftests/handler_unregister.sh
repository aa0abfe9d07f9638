# Unregistering the handler is refused (EBUSY) while one of its files is
# preserved or handed over and not finished; a duplicate register is EEXIST;
# required ops and unique compatibles are checked at registration.
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
		handler-test unregister --stage 1
		echo "exit $?" >/tmp/handler-test.ready
	} &
	lu_wait_ready /tmp/handler-test.ready 100 ||
		bail "stage 1 of handler-test unregister failed"
}

stage_2() {
	load_all
	handler-test unregister --stage 2 || not_ok "handler-test unregister --stage 2 exited $?"
}
