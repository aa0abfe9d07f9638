# What preserve takes, unpreserve and finish give back: a memfd whose session
# is closed before the reboot is a plain memfd again and can be preserved
# again (and write-sealed again: while preserved, F_SEAL_WRITE is EBUSY, its
# folios being pinned); a sparse memfd larger than all memory is refused
# (E2BIG, module only: the in-kernel LUO tries to fill it); after the
# reboot, retrieve and finish (for a memfd never retrieved) return every
# preserved folio to the kernel (MemTotal grows by both sizes).
# STAGES: 2
# FLAVORS: default debug upstream
# TIMEOUT: 120

stage_1() {
	lu_load || bail "no /dev/liveupdate"
	{
		memfd-lifecycle --stage 1
		echo "exit $?" >/tmp/memfd-lifecycle.ready
	} &
	lu_wait_ready /tmp/memfd-lifecycle.ready 100 ||
		bail "stage 1 of memfd-lifecycle failed"
}

stage_2() {
	# Before the module loads: it starts restoring memfds right away.
	kib=$(sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo)
	lu_load || bail "no /dev/liveupdate"
	memfd-lifecycle --stage 2 --memtotal-kib "$kib" ||
		not_ok "memfd-lifecycle --stage 2 exited $?"
}
