# FLAVORS: debug
stage_1() { ok "x"; }
