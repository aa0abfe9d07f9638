# STAGES: 1
# CMDLINE: lu.extra=1
stage_1() { check "extra cmdline arg" grep -q lu.extra=1 /proc/cmdline; echo "WARNING: fake report from the test" > /dev/kmsg; ok "wrote"; }
