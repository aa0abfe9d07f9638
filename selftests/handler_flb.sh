# The FLB of lutest.ko is preserved with the first file and unpreserved
# with the last, handed over once for files of two sessions, retrieved on
# demand in the next kernel and finished with the last file; lutest stays
# pinned while it has files preserved or handed over.
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
		handler-test flb --stage 1
		echo "exit $?" >/tmp/handler-test.ready
	} &
	lu_wait_ready /tmp/handler-test.ready 100 ||
		bail "stage 1 of handler-test flb failed"
}

stage_2() {
	load_all
	handler-test flb --stage 2 || not_ok "handler-test flb --stage 2 exited $?"
}
