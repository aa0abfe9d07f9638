# Rollbacks: a failing preserve fails PRESERVE_FD and rolls the FLB back;
# a failing freeze of the 2nd file unfreezes the 1st (trial freeze), and at
# the kexec costs only its own session: the next kernel reports that one
# (handover report, RETRIEVE_SESSION EIO) and restores the other.
# STAGES: 2
# FLAVORS: default debug
# TIMEOUT: 120

stage_1() {
	handler_test_stage rollback 1
}

stage_2() {
	handler_test_stage rollback 2
}
