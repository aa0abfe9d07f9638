# LIVEUPDATE_SESSION_PRESERVE_FD before any reboot, errno for errno as the
# in-kernel LUO of 7.3 has it: which files are taken, tokens, the same inode
# twice, size rules, what preserving does to a memfd and what closing the
# session undoes. The list is at the top of selftests/src/uapi_preserve.c.
# FLAVORS: default upstream
# SOAK_FLAVORS: debug

stage_1() {
	check "liveupdate is available" lu_load || bail "no /dev/liveupdate"
	uapi-preserve
	rc=$?
	# 0: all ok, 1: some not ok (already reported); anything else is a crash.
	[ $rc -le 1 ] || not_ok "uapi-preserve ran to the end" "exit status $rc"
}
