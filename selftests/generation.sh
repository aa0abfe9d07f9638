# The handover channel: a generation number that the module hands to the next
# kernel through KHO goes 1 -> 2 -> 3 -> 4 across three real kexecs.
# FLAVORS: default
# SOAK_FLAVORS: debug
# STAGES: 4

stage_1() {
	check "module loads" insmod "$LU_KO" || bail "cannot load the module"
	check_output "cold boot is generation 1" 1 cat "$LU_SYSFS/generation"
	check_output "nothing was handed over" none cat "$LU_SYSFS/handover"
	check "our subtree is in the outgoing KHO tree" \
		sh -c "ls -R /sys/kernel/debug/kho/out | grep -q liveupdate-module"
}

later_stage() {
	check "module loads after kexec" insmod "$LU_KO" || bail "cannot load the module"
	check_output "generation is $1" "$1" cat "$LU_SYSFS/generation"
	check_output "the previous kernel's handover is accepted" accepted \
		cat "$LU_SYSFS/handover"
	check "our subtree came in through KHO" \
		sh -c "ls -R /sys/kernel/debug/kho/in | grep -q liveupdate-module"
}

stage_2() {
	later_stage 2
	# A reload in the same boot reads the record it already restored.
	check "module unloads" rmmod liveupdate
	check "module reloads" insmod "$LU_KO"
	check_output "a reload keeps generation 2" 2 cat "$LU_SYSFS/generation"
	check_output "a reload still reports the handover" accepted cat "$LU_SYSFS/handover"
}

stage_3() {
	later_stage 3
}

stage_4() {
	later_stage 4
}
