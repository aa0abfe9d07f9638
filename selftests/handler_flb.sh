# The FLB of lutest.ko is preserved with the first file and unpreserved
# with the last, handed over once for files of two sessions, retrieved on
# demand in the next kernel and finished with the last file; lutest stays
# pinned while it has files preserved or handed over.
# STAGES: 2
# FLAVORS: default debug
# TIMEOUT: 120

stage_1() {
	handler_test_stage flb 1
}

stage_2() {
	handler_test_stage flb 2
}
