# One 512 MiB memfd, every page written, survives a live update in the 2 GiB
# guest and every byte is checked after; write, preserve, retrieve and
# verify times are printed as diagnostics (and the module's copy rate from
# the kernel log).
# STAGES: 2
# FLAVORS: default upstream
# SOAK_FLAVORS: debug
# TIMEOUT: 300

stage_1() {
	lu_load || bail "no /dev/liveupdate"
	{
		memfd-large --stage 1
		echo "exit $?" >/tmp/memfd-large.ready
	} &
	lu_wait_ready /tmp/memfd-large.ready 280 ||
		bail "stage 1 of memfd-large failed"
}

stage_2() {
	lu_load || bail "no /dev/liveupdate"
	memfd-large --stage 2 || not_ok "memfd-large --stage 2 exited $?"
	dmesg | grep 'memfd: memfd:large' | sed 's/^/# kernel: /'
}
