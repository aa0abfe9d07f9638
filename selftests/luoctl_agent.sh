# luoctl and its agent across a real kexec: a client process preserves a
# memfd through the agent and exits, `luoctl check` passes, `luoctl kexec`
# stages the kernel and reboots; in the new kernel the agent retrieves the
# session, a command started by `luoctl retrieve` reads back the same bytes,
# and `luoctl finish` completes; `luoctl retrieve --to-socket` hands the
# same files to a program listening on a Unix socket. Error paths, errno-
# and exit-code-exact:
# no agent, unknown session, duplicate token, a file no handler takes,
# check/kexec refused (no kernel staged, bad image), a client killed after
# preserving (nothing lost), the agent killed (its session is lost, and
# check, status and clients say so), idle clients (they stall nobody), and
# another uid (sees and touches only its own sessions, before and after the
# kexec).
# STAGES: 2
# FLAVORS: default upstream
# SOAK_FLAVORS: debug
# TIMEOUT: 120

SIZE=1048576
SEED=7

# The same script runs on both providers. Where the in-kernel LUO has no
# MOD_STATUS, luoctl counts what its agent holds and says so.
if [ -d /sys/module/liveupdate ] || [ ! -e /dev/liveupdate ]; then
	COUNTED_BY=', '
	HELD_BY=
else
	COUNTED_BY=' held by the agent'
	HELD_BY=' held by the agent'
fi

# check_exit DESC STATUS CMD [ARG...]: CMD exits with exactly STATUS.
check_exit() {
	_desc=$1
	_want=$2
	shift 2
	_out=$("$@" 2>&1)
	_rc=$?
	if [ "$_rc" = "$_want" ]; then
		ok "$_desc"
	else
		not_ok "$_desc" "\`$*\` exited $_rc, expected $_want${_out:+:
$_out}"
	fi
}

# check_errno DESC ERRNO CMD [ARG...]: CMD (a luoctl -j command) exits 1 and
# its JSON error carries "errno":ERRNO.
check_errno() {
	_desc=$1
	_want=$2
	shift 2
	_out=$("$@" 2>/dev/null)
	_rc=$?
	case "$_rc:$_out" in
	1:*\"errno\":$_want[,}]*) ok "$_desc" ;;
	*) not_ok "$_desc" "\`$*\` exited $_rc, expected 1 with errno $_want:
$_out" ;;
	esac
}

# wait_socket PATH: wait up to 10 s for a listener (luoctl-fd-sink) at PATH.
wait_socket() {
	_i=0
	while [ ! -S "$1" ] && [ $_i -lt 100 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
}

# What luoctl-fd-sink runs: the header it got, then the checksum of the file.
SINK_REPORT='echo "$SINK_HEADER"; sha256sum </proc/self/fd/$SINK_FD | cut -d" " -f1'

# The checksum of the memfd luoctl-memfd makes from SIZE SEED.
expected_sum() {
	luoctl-memfd run "$1" "$2" -- sh -c 'sha256sum </proc/self/fd/$MEMFD_FD' | cut -d' ' -f1
}

stage_1() {
	lu_load || bail "no /dev/liveupdate"

	check_errno "no agent: sessions fails with ENOENT" 2 luoctl -j sessions
	check_output "no agent: the message says so" \
		"luoctl: the luoctl agent is not running (nothing listens on /run/luoctl.sock: No such file or directory); start it with 'luoctl agent'" \
		sh -c 'luoctl sessions 2>&1'
	check_exit "usage error exits 2" 2 luoctl preserve --session x --token 1
	check_exit "a bad session name is a usage error" 2 \
		luoctl preserve --session 'a b' --token 1 --fd 0

	check_exit "--log to an unwritable place fails the start" 1 \
		luoctl agent --detach --log /nonexistent/agent.log
	check_output "... and says why" \
		"luoctl: cannot open the agent's log /nonexistent/agent.log: No such file or directory" \
		sh -c 'luoctl agent --detach --log /nonexistent/agent.log 2>&1'

	# The agent dies holding a session: the kernel unpreserves it, and
	# everyone is told. It keeps none of the caller's descriptors (7 here)
	# and no directory busy.
	check "agent starts" sh -c 'cd /tmp && luoctl agent --detach --log /dev/console 7</proc/cmdline' ||
		bail "no agent"
	_pid=$(pidof luoctl)
	check_output "the agent runs in /" / readlink "/proc/$_pid/cwd"
	check_fails "the agent did not keep the caller's fd 7" test -e "/proc/$_pid/fd/7"
	check "a client preserves into 'doomed'" luoctl-memfd run 4096 1 -- \
		sh -c 'luoctl preserve --session doomed --token 1 --fd $MEMFD_FD'
	check "status counts it, without the agent's registry session" \
		sh -c "luoctl status | grep -q '^outgoing: *1 session(s), 1 file(s)$COUNTED_BY'"
	check "status shows the agent's registry apart" \
		sh -c "luoctl status | grep -q '^registry: *luoctl.agent, the agent.s own session, 1 file(s)'"
	agent_pid=$(cat /run/luoctl.sock.state | sed -n 's/^pid=//p')
	kill -9 "$agent_pid"
	sleep 0.2
	check_errno "dead agent: preserve fails with ECONNREFUSED" 111 \
		luoctl-memfd run 4096 1 -- sh -c 'luoctl -j preserve --session doomed --token 2 --fd $MEMFD_FD'
	check_exit "dead agent: check fails" 1 luoctl check
	check "dead agent: check names the lost session" \
		sh -c 'luoctl check | grep -q "FAIL lost: 1 session(s) lost with a dead agent, no longer preserved: doomed"'
	check "dead agent: status says it died" \
		sh -c "luoctl status | grep -q 'agent: *not running; pid $agent_pid died holding 1 session'"
	if [ -d /sys/module/liveupdate ]; then
		check "dead agent: the kernel unpreserved everything" \
			sh -c "luoctl status | grep -q '^outgoing: *0 session(s), 0 file(s), '"
	else
		skip "dead agent: the kernel unpreserved everything" \
			"the in-kernel LUO has no MOD_STATUS to count what it holds"
	fi
	check "a new agent starts" luoctl agent --detach --log /dev/console || bail "no agent"
	check "the new agent lists 'doomed' as lost" \
		sh -c 'luoctl sessions | grep -q "^doomed: outgoing, lost"'
	check_errno "retrieving a lost session is ENOLINK" 67 \
		luoctl -j retrieve --session doomed --token 1 -- true
	check "abort acknowledges the loss" luoctl abort --session doomed
	# Ten clients connect and say nothing: the others are served at once
	# (each idle one cost every other client 5 s before).
	idle-clients 10 /run/luoctl.sock >/tmp/idle.out &
	_idle=$!
	while [ ! -s /tmp/idle.out ]; do sleep 0.1; done
	check "10 idle clients stall nobody (sessions answers within 2 s)" \
		timeout 2 luoctl sessions
	kill "$_idle"
	check_output "no sessions left" "no sessions" luoctl sessions

	# The scenario: a client preserves a memfd and exits; another hands one
	# over by pid and is killed. Nothing is lost: the agent holds both.
	check "client preserves a 1 MiB memfd (--fd) and exits" luoctl-memfd run $SIZE $SEED -- \
		sh -c 'luoctl preserve --session lu-test --token 1 --fd $MEMFD_FD'
	luoctl-memfd hold 4096 9 /tmp/holder &
	while [ ! -s /tmp/holder ]; do sleep 0.1; done
	read -r hpid hfd </tmp/holder
	check "preserve --pid --pidfd-fd takes another process's memfd" \
		luoctl preserve --session lu-test --token 2 --pid "$hpid" --pidfd-fd "$hfd"
	kill -9 "$hpid"
	check_errno "a used token is EEXIST" 17 \
		luoctl -j preserve --session lu-test --token 1 --pid 1 --pidfd-fd 0
	echo data >/tmp/plain
	check_errno "a file no handler takes is ENOENT" 2 \
		luoctl -j preserve --session other --token 1 --file /tmp/plain
	check_errno "retrieve of an unknown session is ENOENT" 2 \
		luoctl -j retrieve --session nope --token 1 -- true
	check_errno "retrieve before the reboot is EINVAL" 22 \
		luoctl -j retrieve --session lu-test --token 1 -- true
	check_output "sessions lists the session and its files, with their handler" "lu-test: outgoing, preserved, uid 0, 2 file(s)
  token 1: memfd, 1048576 bytes, preserved
  token 2: memfd, 4096 bytes, preserved" luoctl sessions
	check "sessions --json" sh -c 'luoctl sessions -j | grep -q "\"name\":\"lu-test\",\"uid\":0,\"direction\":\"outgoing\",\"state\":\"preserved\",\"files\":\[{\"token\":1,\"handler\":\"memfd\",\"size\":1048576"'

	# Refusals before staging: check and kexec fail and never reboot.
	check_exit "check fails with no kernel staged" 1 luoctl check
	check "check says why" sh -c 'luoctl check | grep -q "^FAIL kernel: no kernel staged"'
	if [ -d /sys/module/liveupdate ]; then
		check "check passes the rest" sh -c 'luoctl check | grep -q "^ok   sessions: 1 outgoing session(s), 2 file(s) (and the agent.s registry, luoctl.agent), all ready"'
	else
		check "check passes the rest, saying what it cannot know" sh -c 'luoctl check | grep -q "^ok   sessions: 1 outgoing session(s), 2 file(s) held by the agent; the in-kernel LUO cannot be asked whether every file will freeze"'
	fi
	check_errno "kexec with nothing staged is ENOENT" 2 luoctl -j kexec
	check_errno "kexec of a missing image is ENOENT, no reboot" 2 luoctl -j kexec /nonexistent
	check "load stages the kernel" luoctl load /boot/bzImage \
		--initrd /boot/initramfs.cpio.gz --reuse-cmdline --append lu.stage=2
	check "check passes" luoctl check
	check "check --json" sh -c 'luoctl check -j | grep -q "^{\"ready\":true,"'
	# Another user, the socket opened to it: it sees and touches only its
	# own sessions; a name root holds is taken (EEXIST), not absent.
	chmod 666 /run/luoctl.sock
	check_output "uid 1000 sees none of root's sessions" "no sessions" run-as 1000 luoctl sessions
	check_errno "uid 1000: root's session is ENOENT" 2 \
		run-as 1000 luoctl -j retrieve --session lu-test --token 1 -- true
	check_errno "uid 1000: root's session name is EEXIST" 17 \
		run-as 1000 luoctl -j preserve --session lu-test --token 5 --file /dev/null
	check "uid 1000 preserves into its own session" run-as 1000 luoctl-memfd run 4096 5 -- \
		sh -c 'luoctl preserve --session u1000 --token 1 --fd $MEMFD_FD'
	luoctl kexec 2>&1 | sed 's/^/# /'
	not_ok "luoctl kexec returned"
	exit 125
}

stage_2() {
	lu_load || bail "no /dev/liveupdate"
	check "agent starts and adopts the incoming sessions" luoctl agent --detach --log /dev/console || bail "no agent"
	# Owners cross the kexec in the agent's registry.
	chmod 666 /run/luoctl.sock
	check_errno "root: uid 1000's incoming session is ENOENT" 2 \
		luoctl -j retrieve --session u1000 --token 1 -- true
	check_errno "uid 1000: root's incoming session is ENOENT" 2 \
		run-as 1000 luoctl -j retrieve --session lu-test --token 1 -- true
	check_output "uid 1000 gets its own session back" "$(expected_sum 4096 5)" \
		run-as 1000 luoctl retrieve --session u1000 --token 1 -- \
		sh -c 'sha256sum <&$LUOCTL_FD | cut -d" " -f1'
	check "uid 1000 finishes it" run-as 1000 luoctl finish --session u1000
	check_output "sessions lists the incoming session" "lu-test: incoming, incoming, uid 0, 2 file(s)
  token 1: memfd, 1048576 bytes, incoming
  token 2: memfd, 4096 bytes, incoming" luoctl sessions
	check_output "status counts it" "incoming:   1 session(s), 2 file(s)$HELD_BY" \
		sh -c 'luoctl status | grep ^incoming'
	check_output "the data came back (token 1, via \$LUOCTL_FD)" "$(expected_sum $SIZE $SEED)" \
		luoctl retrieve --session lu-test --token 1 -- \
		sh -c 'sha256sum <&$LUOCTL_FD | cut -d" " -f1'
	check_output "the killed client's memfd came back (token 2)" "$(expected_sum 4096 9)" \
		luoctl retrieve --session lu-test --token 2 -- \
		sh -c 'sha256sum </proc/self/fd/$LUOCTL_FD | cut -d" " -f1'
	check_output "LUOCTL_FD is 3" "3 lu-test 1" luoctl retrieve --session lu-test --token 1 -- \
		sh -c 'echo $LUOCTL_FD $LUOCTL_SESSION $LUOCTL_TOKEN'
	check_output "sd_listen_fds(3) finds it: LISTEN_FDS=1 for this pid, named" "1 yes lu-test" \
		luoctl retrieve --session lu-test --token 1 -- \
		sh -c 'echo $LISTEN_FDS $([ "$LISTEN_PID" = $$ ] && echo yes) $LISTEN_FDNAMES'
	check_exit "COMMAND replaces luoctl: its exit status is luoctl's" 7 \
		luoctl retrieve --session lu-test --token 1 -- sh -c 'exit 7'
	check_exit "a failing command makes retrieve exit 1" 1 \
		luoctl retrieve --session lu-test --token 1 -- false
	check_errno "an unknown token is ENOENT" 2 \
		luoctl -j retrieve --session lu-test --token 99 -- true
	check_errno "an unknown session is ENOENT" 2 \
		luoctl -j retrieve --session nope --token 1 -- true
	# --to-socket: the file goes to a program listening on a Unix socket,
	# with a header naming it (seqpacket, then stream and --json).
	luoctl-fd-sink /tmp/vmm.sock -- sh -c "$SINK_REPORT" >/tmp/sink.out 2>&1 &
	sink=$!
	wait_socket /tmp/vmm.sock
	check_output "retrieve --to-socket hands the file to a socket" \
		"handed token 1 of session 'lu-test' (1048576 bytes) to /tmp/vmm.sock" \
		luoctl retrieve --session lu-test --token 1 --to-socket /tmp/vmm.sock
	wait $sink
	check_output "the receiver got the header and the same bytes" "luoctl/1 fd session=lu-test token=1
$(expected_sum $SIZE $SEED)" cat /tmp/sink.out
	luoctl-fd-sink --stream /tmp/vmm2.sock -- sh -c "$SINK_REPORT" >/tmp/sink2.out 2>&1 &
	sink=$!
	wait_socket /tmp/vmm2.sock
	check_output "retrieve --to-socket --json, to a stream socket" \
		'{"session":"lu-test","token":2,"size":4096,"socket":"/tmp/vmm2.sock"}' \
		luoctl -j retrieve --session lu-test --token 2 --to-socket /tmp/vmm2.sock
	wait $sink
	check_output "the stream receiver got token 2" "luoctl/1 fd session=lu-test token=2
$(expected_sum 4096 9)" cat /tmp/sink2.out
	check_errno "retrieve --to-socket where nothing listens is ENOENT" 2 \
		luoctl -j retrieve --session lu-test --token 1 --to-socket /tmp/nobody.sock
	check "finish completes" luoctl finish --session lu-test
	check_output "nothing left" "no sessions" luoctl sessions
	check_errno "finish again is ENOENT" 2 luoctl -j finish --session lu-test
	if [ -d /sys/module/liveupdate ]; then
		check_output "generation 2" 2 cat "$LU_SYSFS/generation"
	else
		skip "generation 2" "the in-kernel LUO has no generation attribute"
	fi
}
