# A retrieved memfd is charged to the memory cgroup (v2) of the process that
# retrieves it, with a limit well above the file, on the module and on the
# in-kernel LUO alike: see selftests/src/memfd_cgroup.c.
# STAGES: 2
# FLAVORS: default debug upstream
# TIMEOUT: 120

CG=/sys/fs/cgroup

stage_1() {
	lu_load || bail "no /dev/liveupdate"
	{
		memfd-cgroup --stage 1
		echo "exit $?" >/tmp/memfd-cgroup.ready
	} &
	lu_wait_ready /tmp/memfd-cgroup.ready 100 || bail "stage 1 of memfd-cgroup failed"
}

stage_2() {
	mkdir -p $CG
	check "cgroup2 mounts" mount -t cgroup2 none $CG || bail "no cgroup2"
	check "the memory controller is enabled for children" \
		sh -c "echo +memory >$CG/cgroup.subtree_control" || bail "no memory controller"
	mkdir $CG/retriever
	echo $((512 * 1024 * 1024)) >$CG/retriever/memory.max
	lu_load || bail "no /dev/liveupdate"
	# The program runs in the cgroup from its first instruction on.
	sh -c "echo \$\$ >$CG/retriever/cgroup.procs && exec memfd-cgroup --stage 2 --cgroup $CG/retriever" ||
		not_ok "memfd-cgroup --stage 2 exited $?"
}
