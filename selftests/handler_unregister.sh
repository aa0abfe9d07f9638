# Unregistering the handler is refused (EBUSY) while one of its files is
# preserved or handed over and not finished; a duplicate register is EEXIST;
# required ops and unique compatibles are checked at registration.
# STAGES: 2
# FLAVORS: default
# SOAK_FLAVORS: debug
# TIMEOUT: 120

stage_1() {
	handler_test_stage unregister 1
}

stage_2() {
	handler_test_stage unregister 2
}
