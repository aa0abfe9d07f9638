# What a process changes on a memfd after PRESERVE_FD is what comes back:
# seals added after it (F_SEAL_FUTURE_WRITE, F_SEAL_SHRINK|F_SEAL_GROW,
# F_SEAL_SEAL), fchmod(), lseek() and writes (write(), old and new shared
# mappings), also after a trial freeze; F_SEAL_WRITE cannot be added while
# preserved (EBUSY), and F_SEAL_FUTURE_WRITE is enforced by the new kernel.
# On the in-kernel LUO (flavor upstream) seals come back as they were at
# PRESERVE_FD and the mode as 0777 (an MFD_NOEXEC_SEAL memfd: 0777, seals
# 0x3e): memfd-changes checks that as it is and says where it differs.
# STAGES: 2
# FLAVORS: default debug upstream
# TIMEOUT: 60

stage_1() {
	lu_load || bail "no /dev/liveupdate"
	{
		memfd-changes --stage 1
		echo "exit $?" >/tmp/memfd-changes.ready
	} &
	lu_wait_ready /tmp/memfd-changes.ready 50 ||
		bail "stage 1 of memfd-changes failed"
}

stage_2() {
	lu_load || bail "no /dev/liveupdate"
	memfd-changes --stage 2 || not_ok "memfd-changes --stage 2 exited $?"
}
