# memfds of every shape (64 MiB of data, empty, sparse with an unaligned
# size, a moved position, each kind of seal, MFD_NOEXEC_SEAL, an O_RDONLY
# reopen, a chmod, large folios) survive a live update: every byte, size,
# position, seals, mode and access mode, and they behave as memfds after.
# After preserve, writes still land and the size is frozen (EPERM).
# On the in-kernel LUO (flavor upstream) the mode, seals and access mode of
# the retrieved file follow upstream's documented behaviour instead (mode
# 0777, write seals added to F_SEAL_EXEC, always O_RDWR): memfd-content
# branches on lu_is_module() there and says so in its header.
# STAGES: 2
# FLAVORS: default upstream
# SOAK_FLAVORS: debug
# TIMEOUT: 120

stage_1() {
	lu_load || bail "no /dev/liveupdate"
	{
		memfd-content --stage 1
		echo "exit $?" >/tmp/memfd-content.ready
	} &
	lu_wait_ready /tmp/memfd-content.ready 100 ||
		bail "stage 1 of memfd-content failed"
}

stage_2() {
	lu_load || bail "no /dev/liveupdate"
	memfd-content --stage 2 || not_ok "memfd-content --stage 2 exited $?"
}
