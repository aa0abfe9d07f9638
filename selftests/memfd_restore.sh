# A retrieved memfd is made of the very pages the old kernel had (zero-copy:
# each page holds the PFN stage 1 saw), 2 MiB folios still 2 MiB (THP in
# /proc/kpageflags), and behaves as a shmem file under migration
# (compaction), hole punching, truncation through a large folio, writes
# and munmap; once closed and finished, Shmem and ShmemHugePages are back
# where they were before /dev/liveupdate was set up.
# STAGES: 2
# FLAVORS: default upstream
# SOAK_FLAVORS: debug
# TIMEOUT: 90

stage_1() {
	lu_load || bail "no /dev/liveupdate"
	{
		memfd-restore --stage 1
		echo "exit $?" >/tmp/memfd-restore.ready
	} &
	lu_wait_ready /tmp/memfd-restore.ready 80 ||
		bail "stage 1 of memfd-restore failed"
}

stage_2() {
	# Before the module loads: it starts restoring memfds right away.
	shmem=$(sed -n 's/^Shmem: *\([0-9]*\) kB/\1/p' /proc/meminfo)
	huge=$(sed -n 's/^ShmemHugePages: *\([0-9]*\) kB/\1/p' /proc/meminfo)
	lu_load || bail "no /dev/liveupdate"
	memfd-restore --stage 2 --meminfo-kib "$shmem,$huge" ||
		not_ok "memfd-restore --stage 2 exited $?"
}
