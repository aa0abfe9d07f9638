# A kernel that never loads the module hands nothing over: the next one
# starts again at generation 1 instead of trusting stale state.
# FLAVORS: default
# SOAK_FLAVORS: debug
# STAGES: 3

stage_1() {
	check "module loads" insmod "$LU_KO" || bail "cannot load the module"
	check_output "cold boot is generation 1" 1 cat "$LU_SYSFS/generation"
}

stage_2() {
	check_fails "the module is not loaded in this kernel" test -d /sys/module/liveupdate
}

stage_3() {
	check "module loads" insmod "$LU_KO" || bail "cannot load the module"
	check_output "generation restarts at 1" 1 cat "$LU_SYSFS/generation"
	check_output "nothing was handed over" none cat "$LU_SYSFS/handover"
}
