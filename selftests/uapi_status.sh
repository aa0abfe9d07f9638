# The module's own LIVEUPDATE_IOCTL_MOD_STATUS on a cold boot: generation,
# outgoing counts that follow create/preserve/close, ready, metadata size,
# and the size rules every command has. Module only: the in-kernel LUO
# answers EINVAL (pinned in uapi_device). The list is at the top of
# selftests/src/uapi_status.c.
# FLAVORS: default
# SOAK_FLAVORS: debug

stage_1() {
	check "module loads" lu_load || bail "no /dev/liveupdate"
	uapi-status
	rc=$?
	# 0: all ok, 1: some not ok (already reported); anything else is a crash.
	[ $rc -le 1 ] || not_ok "uapi-status ran to the end" "exit status $rc"
}
