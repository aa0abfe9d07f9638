# TAP helpers for the in-guest test files (busybox ash), sourced by /init
# before the test file. Every result is one line, `ok - DESC` or
# `not ok - DESC`, with no number: the host numbers them across stages.
# Diagnostics are lines starting with "# ".
#
# Each helper returns 0 for ok and 1 for not ok, so that a test can write
# `check "module loads" insmod "$LU_KO" || bail "no module"`.

# Where the initramfs puts the module, and where its device's attributes
# appear once loaded (module/glue/device.c).
# shellcheck disable=SC2034 # used by the test files
LU_KO=/lib/modules/liveupdate.ko
LU_SYSFS=/sys/class/misc/liveupdate

# diag TEXT: TEXT as diagnostic lines (multi-line TEXT is fine).
diag() {
	printf '%s\n' "$1" | sed 's/^/# /'
}

ok() {
	echo "ok - $1"
}

# not_ok DESC [DIAGNOSTIC]
not_ok() {
	echo "not ok - $1"
	[ -z "${2-}" ] || diag "$2"
	return 1
}

# skip DESC REASON
skip() {
	echo "ok - $1 # SKIP $2"
}

# bail REASON: a failure that makes the later stages pointless. /init sees
# the exit status, skips the kexec and ends the test; the host then reports
# the stages that never ran.
bail() {
	not_ok "$1"
	exit 125
}

# check DESC CMD [ARG...]: ok if CMD exits 0; its output shows up only on
# failure.
check() {
	_desc=$1
	shift
	if _out=$("$@" 2>&1); then
		ok "$_desc"
	else
		not_ok "$_desc" "\`$*\` exited $?${_out:+:
$_out}"
	fi
}

# check_fails DESC CMD [ARG...]: ok if CMD exits non-zero.
check_fails() {
	_desc=$1
	shift
	if _out=$("$@" 2>&1); then
		not_ok "$_desc" "\`$*\` succeeded but should have failed${_out:+:
$_out}"
	else
		ok "$_desc"
	fi
}

# check_eq DESC EXPECTED ACTUAL
check_eq() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1" "expected: $2
actual:   $3"
	fi
}

# check_output DESC EXPECTED CMD [ARG...]: ok if CMD's stdout (trailing
# newlines dropped) is EXPECTED. The exit status is not checked, so that a
# probe may report e.g. "open 2: EBUSY" and exit with that errno; it is shown
# on a mismatch. CMD's stderr goes to the console.
check_output() {
	_desc=$1
	_want=$2
	shift 2
	_out=$("$@")
	_rc=$?
	if [ "$_out" = "$_want" ]; then
		ok "$_desc"
	else
		not_ok "$_desc" "\`$*\` exited $_rc
expected: $_want
actual:   $_out"
	fi
}

# lu_wait_ready FILE [SECONDS]: wait until a background test program that
# holds sessions across the kexec has written FILE (see lu_hold_until_kexec
# in lu_test.h); fails if it does not within SECONDS (default 60) or if it
# reported failures.
lu_wait_ready() {
	_i=0
	while [ ! -s "$1" ]; do
		_i=$((_i + 1))
		[ $_i -le $((${2:-60} * 10)) ] || { not_ok "program ready within ${2:-60} s"; return 1; }
		sleep 0.1
	done
	[ "$(cat "$1")" = 0 ]
}

# lu_load: make /dev/liveupdate available: load our module, or use the
# in-kernel LUO where the kernel has it (FLAVOR=upstream).
lu_load() {
	if [ -e /dev/liveupdate ] && [ ! -d /sys/module/liveupdate ]; then
		return 0
	fi
	insmod "$LU_KO"
}

# handler_test_stage SCENARIO STAGE: one stage of `handler-test SCENARIO`
# with liveupdate.ko and lutest.ko loaded. Stage 1 keeps its sessions open
# in the background until the kexec, so it reports through a ready file.
handler_test_stage() {
	lu_load || bail "no /dev/liveupdate"
	insmod /lib/modules/lutest.ko || bail "lutest.ko does not load"
	if [ "$2" = 1 ]; then
		{
			handler-test "$1" --stage 1
			echo "exit $?" >/tmp/handler-test.ready
		} &
		lu_wait_ready /tmp/handler-test.ready 100 ||
			bail "stage 1 of handler-test $1 failed"
	else
		handler-test "$1" --stage "$2" ||
			not_ok "handler-test $1 --stage $2 exited $?"
	fi
}

# wait_fdstore UNIT N: systemd's fd store of UNIT holds N fds (30 s at most).
# FDSTORE=1/FDSTOREREMOVE=1 are datagrams that PID 1 reads when it gets to
# them: a count right after the sender's own reply may be stale.
wait_fdstore() {
	_i=0
	while [ "$(systemctl show -P NFileDescriptorStore "$1")" != "$2" ]; do
		_i=$((_i + 1))
		[ $_i -le 300 ] || { echo "NFileDescriptorStore=$(systemctl show -P NFileDescriptorStore "$1")"; return 1; }
		sleep 0.1
	done
}
