# Rollbacks: a failing preserve fails PRESERVE_FD and rolls the FLB back;
# a failing freeze of the 2nd file unfreezes the 1st (trial freeze), and at
# the kexec fails the live update, which the next kernel reports.
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
		handler-test rollback --stage 1
		echo "exit $?" >/tmp/handler-test.ready
	} &
	lu_wait_ready /tmp/handler-test.ready 100 ||
		bail "stage 1 of handler-test rollback failed"
}

stage_2() {
	load_all
	handler-test rollback --stage 2 || not_ok "handler-test rollback --stage 2 exited $?"
}
