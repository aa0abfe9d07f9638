# A memfd survives two live updates in a row: retrieved after the first, it
# is changed and preserved again into a new session (EBUSY until the first
# session is finished), and arrives intact after the second, where it is a
# plain memfd again (resized, hole-punched, truncated to 0).
# STAGES: 3
# FLAVORS: default upstream
# SOAK_FLAVORS: debug
# TIMEOUT: 90

stage_1() {
	lu_load || bail "no /dev/liveupdate"
	{
		memfd-twice --stage 1
		echo "exit $?" >/tmp/memfd-twice.ready
	} &
	lu_wait_ready /tmp/memfd-twice.ready 80 || bail "stage 1 of memfd-twice failed"
}

stage_2() {
	lu_load || bail "no /dev/liveupdate"
	{
		memfd-twice --stage 2
		echo "exit $?" >/tmp/memfd-twice.ready
	} &
	lu_wait_ready /tmp/memfd-twice.ready 80 || bail "stage 2 of memfd-twice failed"
}

stage_3() {
	lu_load || bail "no /dev/liveupdate"
	memfd-twice --stage 3 || not_ok "memfd-twice --stage 3 exited $?"
}
