# Declared dependencies: one outside the session fails the freeze; a cycle
# (1->2->3->1) and a chain (4->5) cross the kexec; FINISH is refused while
# a retrieved file's dependency was never retrieved.
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
		handler-test deps --stage 1
		echo "exit $?" >/tmp/handler-test.ready
	} &
	lu_wait_ready /tmp/handler-test.ready 100 ||
		bail "stage 1 of handler-test deps failed"
}

stage_2() {
	load_all
	handler-test deps --stage 2 || not_ok "handler-test deps --stage 2 exited $?"
}
