# One 1 GiB memfd, every page written, survives a live update in the 2 GiB
# guest: there is no size cap, and the copy into the new kernel frees each
# preserved folio as soon as it is copied, so half the guest's memory is
# enough. Slow under TCG (about a minute), so not on the debug flavor.
# STAGES: 2
# FLAVORS: default upstream
# TIMEOUT: 300

stage_1() {
	lu_load || bail "no /dev/liveupdate"
	{
		memfd-large --stage 1 --mib 1024
		echo "exit $?" >/tmp/memfd-large.ready
	} &
	lu_wait_ready /tmp/memfd-large.ready 280 ||
		bail "stage 1 of memfd-large --mib 1024 failed"
}

stage_2() {
	lu_load || bail "no /dev/liveupdate"
	grep -E 'MemTotal|MemFree' /proc/meminfo | sed 's/^/# before: /'
	memfd-large --stage 2 --mib 1024 || not_ok "memfd-large --stage 2 exited $?"
	grep -E 'MemTotal|MemFree' /proc/meminfo | sed 's/^/# after: /'
	dmesg | grep 'memfd: memfd:large' | sed 's/^/# kernel: /'
}
