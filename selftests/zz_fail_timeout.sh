# STAGES: 2
# TIMEOUT: 8
stage_1() { ok "before"; }
stage_2() { ok "about to hang"; sleep 1000; }
