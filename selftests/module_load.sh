# The module loads, exposes a root-only, exclusive /dev/liveupdate with its
# sysfs attributes, and unloads cleanly (also while busy: refused).
# FLAVORS: default
# SOAK_FLAVORS: debug
# STAGES: 1

stage_1() {
	check "module loads" insmod "$LU_KO" || bail "cannot load the module"
	check "/dev/liveupdate is a character device" test -c /dev/liveupdate
	check_output "/dev/liveupdate is root-only (0600)" "600 0 0" \
		stat -c '%a %u %g' /dev/liveupdate
	check_output "cold boot is generation 1" 1 cat "$LU_SYSFS/generation"
	check_output "cold boot has no incoming handover" none cat "$LU_SYSFS/handover"
	check "module version is exported" test -s /sys/module/liveupdate/version
	luoctl_checks
	check "load logs the generation" sh -c 'dmesg | grep -q "liveupdate: generation 1, incoming handover: none"'

	check_output "first open succeeds, second is EBUSY" "open 1: ok
open 2: EBUSY" lu-open -n 2 /dev/liveupdate
	check_output "open works again once closed" "open 1: ok" lu-open /dev/liveupdate
	check_output "an unprivileged user cannot open it" "open 1: EACCES" \
		lu-open -u 65534 /dev/liveupdate

	sleep 1000 </dev/liveupdate &
	holder=$!
	sleep 0.2
	check_fails "unload is refused while the device is open" rmmod liveupdate
	kill $holder
	wait $holder 2>/dev/null

	check "module unloads" rmmod liveupdate
	check_fails "/dev/liveupdate is gone after unload" test -e /dev/liveupdate
	check "module loads again" insmod "$LU_KO"
	check_output "a reload in a cold boot stays generation 1" 1 cat "$LU_SYSFS/generation"
	check "module unloads again" rmmod liveupdate
	check_fails "luoctl status fails without the module" luoctl status
}

# luoctl reads the same state the module exposes.
luoctl_checks() {
	check_output "luoctl --version names the module's version" "luoctl $(cat /sys/module/liveupdate/version)" \
		sh -c 'luoctl --version | head -n 1'
	check "luoctl status finds module and tool of one release" \
		sh -c "luoctl status | grep -qE '^module: +loaded \\(version [^;]*\\)$'"
	check "luoctl status succeeds with the module loaded" luoctl status
	check "luoctl status shows generation 1" sh -c 'luoctl status | grep -qE "^generation: +1$"'
	check "luoctl status --json is one object with the generation" sh -c \
		'luoctl status --json | grep -q "\"generation\":1"'
}
