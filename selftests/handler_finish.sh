# FINISH asks every file can_finish first: a refusal leaves everything
# owned and retryable; a failed retrieve is remembered; files never
# retrieved are finished too.
# STAGES: 2
# FLAVORS: default
# SOAK_FLAVORS: debug
# TIMEOUT: 120

stage_1() {
	handler_test_stage finish 1
}

stage_2() {
	handler_test_stage finish 2
}
