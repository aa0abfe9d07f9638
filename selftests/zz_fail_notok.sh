# STAGES: 2
stage_1() { ok "fine"; check_eq "deliberate mismatch" a b; skip "skipped thing" "because"; }
