# The /dev/liveupdate ioctl ABI on a cold boot, errno for errno as the
# in-kernel LUO of 7.3 has it: exclusive open, ioctl dispatch and size rules,
# session names, the session fd's own ioctls. The list of what it pins down
# is at the top of selftests/src/uapi_device.c.
# FLAVORS: default upstream
# SOAK_FLAVORS: debug

stage_1() {
	check "liveupdate is available" lu_load || bail "no /dev/liveupdate"
	uapi-device
	rc=$?
	# 0: all ok, 1: some not ok (already reported); anything else is a crash.
	[ $rc -le 1 ] || not_ok "uapi-device ran to the end" "exit status $rc"
}
