# Unloading and reloading liveupdate.ko is safe in every state: the unload
# is refused as busy (the module stays loaded and working) or a reload
# finds everything; no file is lost, no kernel warning. A cold boot; open
# outgoing sessions; after a kexec before the first open, and right after
# it while restore-ahead restores a big memfd; incoming sessions partly
# retrieved; a reload after everything finished, whose own handover
# (memfds, lutest.ko files with their FLB) crosses a second kexec; a
# handover without sessions.
# module-unload (src/module_unload.c) loads and unloads with finit_module
# and delete_module itself, for the exact errno (busy is EWOULDBLOCK).
# On the debug kernel the chain takes 410-460 s: there it runs in make soak.
# STAGES: 4
# FLAVORS: default
# SOAK_FLAVORS: debug
# TIMEOUT: 240

# 512 MiB makes restore-ahead outlast the unload right after the first open by
# far (about 3 s against 0.1 s); the debug kernel (KASAN) restores 64 MiB
# in about 4 s.
big_mib() {
	if [ -e /sys/kernel/debug/kmemleak ]; then echo 64; else echo 512; fi
}

# Seconds a stage may take (the debug kernel is about three times slower).
stage_secs() {
	if [ -e /sys/kernel/debug/kmemleak ]; then echo 660; else echo 220; fi
}

stage_1() {
	{
		module-unload --stage 1 --big-mib "$(big_mib)"
		echo "exit $?" >/tmp/module-unload.ready
	} &
	lu_wait_ready /tmp/module-unload.ready "$(stage_secs)" ||
		bail "stage 1 of module-unload failed"
}

stage_2() {
	{
		module-unload --stage 2 --big-mib "$(big_mib)"
		echo "exit $?" >/tmp/module-unload.ready
	} &
	lu_wait_ready /tmp/module-unload.ready "$(stage_secs)" ||
		bail "stage 2 of module-unload failed"
}

stage_3() {
	module-unload --stage 3 --big-mib "$(big_mib)" ||
		not_ok "module-unload --stage 3 exited $?"
}

stage_4() {
	module-unload --stage 4 ||
		not_ok "module-unload --stage 4 exited $?"
	check_fails "/dev/liveupdate is gone" test -e /dev/liveupdate
}
