# Declared dependencies: one outside the session fails the freeze; a cycle
# (1->2->3->1) and a chain (4->5) cross the kexec; FINISH is refused while
# a retrieved file's dependency was never retrieved.
# STAGES: 2
# FLAVORS: default
# SOAK_FLAVORS: debug
# TIMEOUT: 120

stage_1() {
	handler_test_stage deps 1
}

stage_2() {
	handler_test_stage deps 2
}
