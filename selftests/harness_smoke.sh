# Proves the harness itself: two stages, the second reached by a real
# kexec_file_load reboot that carried a KHO tree.
# STAGES: 2
# FLAVORS: default upstream
# SOAK_FLAVORS: debug

# has_arg ARG: the running kernel's command line contains ARG as a word.
has_arg() {
	case " $(cat /proc/cmdline) " in
	*" $1 "*) return 0 ;;
	esac
	return 1
}

# online_cpus_as_asked: as many CPUs online as the harness gave the guest
# (lu.cpus=N): an SMP guest that boots uniprocessor hides every race.
online_cpus_as_asked() {
	want=$(sed -n 's/.*lu\.cpus=\([0-9]*\).*/\1/p' /proc/cmdline)
	got=$(grep -c '^processor' /proc/cpuinfo)
	[ -n "$want" ] && [ "$got" = "$want" ] || {
		echo "online CPUs: $got, asked for: ${want:-?} ($(cat /sys/devices/system/cpu/online))"
		return 1
	}
}

stage_1() {
	check "cmdline has lu.stage=1" has_arg lu.stage=1
	check "every CPU the harness gave the guest is online" online_cpus_as_asked
	check "cmdline has kho=on" has_arg kho=on
	# /sys/kernel/debug/kho/in only exists in a kernel that received a KHO
	# tree, so a cold boot must not have it.
	check "KHO is set up for the next kernel" test -d /sys/kernel/debug/kho/out
	check_fails "cold boot has no incoming KHO tree" test -e /sys/kernel/debug/kho/in
	check "own initrd is readable for the kexec" test -s /sys/firmware/initrd
}

stage_2() {
	check "cmdline has lu.stage=2" has_arg lu.stage=2
	check "every CPU is online after the kexec" online_cpus_as_asked
	check "booted with an incoming KHO tree" test -e /sys/kernel/debug/kho/in/fdt
	check "KHO is set up again for a further kexec" test -d /sys/kernel/debug/kho/out
}
