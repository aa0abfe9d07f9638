# Without KHO (kho=off) there is nothing to hand over with: the module must
# refuse to load and say why.
# FLAVORS: default
# SOAK_FLAVORS: debug
# STAGES: 1
# CMDLINE: kho=off

stage_1() {
	check_fails "load is refused with kho=off" insmod "$LU_KO"
	check "the refusal names the cause" sh -c \
		'dmesg | grep -q "liveupdate: kexec handover is disabled; boot with kho=on"'
	check_fails "no /dev/liveupdate appears" test -e /dev/liveupdate
	check_fails "the module is not left loaded" test -d /sys/module/liveupdate
}
