# STAGES: 3
stage_1() { check "nothing" false || bail "cannot go on"; ok "never printed"; }
stage_2() { ok "stage 2 must not run"; }
