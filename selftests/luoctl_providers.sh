# luoctl on both providers of /dev/liveupdate, the same binary and script:
# our module (default) and the in-kernel LUO of 7.3 (upstream), which has no
# LIVEUPDATE_IOCTL_MOD_STATUS. A client preserves a memfd through the agent,
# `luoctl check` passes and says what it cannot know on the in-kernel LUO,
# `luoctl kexec` reboots, and in the next kernel the agent hands the same
# bytes back. Also the agent's registry past one 64 KiB chunk (long names)
# and a list longer than one datagram.
# STAGES: 2
# FLAVORS: default upstream
# TIMEOUT: 120

SIZE=65536
# Long names make each session's registry entry ~150 bytes: 500 of them
# need two registry chunks and two list datagrams.
SESSIONS=500
LONG=abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz

expected_sum() {
	luoctl-memfd run "$1" "$2" -- sh -c 'sha256sum </proc/self/fd/$MEMFD_FD' | cut -d' ' -f1
}

provider() {
	if [ -d /sys/module/liveupdate ]; then echo module; else echo in-kernel; fi
}

stage_1() {
	lu_load || bail "no /dev/liveupdate"
	check "agent starts" luoctl agent --detach --log /dev/console || bail "no agent"
	check "a client preserves a memfd" luoctl-memfd run $SIZE 3 -- \
		sh -c 'luoctl preserve --session prov --token 1 --fd $MEMFD_FD'
	# Many sessions, each with its own small memfd, from one client.
	_i=0
	_failed=0
	while [ $_i -lt $SESSIONS ]; do
		luoctl-memfd run 4096 $_i -- sh -c \
			"luoctl preserve --session many-$_i-$LONG --token 1 --fd \$MEMFD_FD" ||
			_failed=$((_failed + 1))
		_i=$((_i + 1))
	done
	check_output "$SESSIONS more sessions preserved" 0 echo $_failed
	check_output "sessions lists all $((SESSIONS + 1))" $((SESSIONS + 1)) \
		sh -c 'luoctl sessions | grep -c "^[a-z].*: outgoing, preserved"'
	check "load stages the kernel" luoctl load /boot/bzImage \
		--initrd /boot/initramfs.cpio.gz --reuse-cmdline --append lu.stage=2
	check "check passes on the $(provider) provider" luoctl check
	if [ "$(provider)" = in-kernel ]; then
		check "check says what it cannot know there" sh -c \
			"luoctl check | grep -q '^ok   sessions: $((SESSIONS + 1)) outgoing session(s), $((SESSIONS + 1)) file(s) held by the agent; the in-kernel LUO cannot be asked'"
	else
		check "check asked the module" sh -c \
			"luoctl check | grep -q '^ok   sessions: $((SESSIONS + 1)) outgoing session(s), $((SESSIONS + 1)) file(s) (and the agent.s registry, luoctl.agent), all ready'"
	fi
	luoctl -j kexec 2>&1 | sed 's/^/# /'
	not_ok "luoctl kexec returned"
	exit 125
}

stage_2() {
	lu_load || bail "no /dev/liveupdate"
	check "agent starts and adopts the incoming sessions" \
		luoctl agent --detach --log /dev/console || bail "no agent"
	check_output "every session came back registered (the registry's chunks joined)" \
		$((SESSIONS + 1)) sh -c 'luoctl sessions | grep -c "^[a-z].*: incoming, incoming, uid 0, 1 file(s)"'
	check_output "the bytes came back" "$(expected_sum $SIZE 3)" \
		luoctl retrieve --session prov --token 1 -- \
		sh -c 'sha256sum <&$LUOCTL_FD | cut -d" " -f1'
	check_output "the last of the many came back" "$(expected_sum 4096 $((SESSIONS - 1)))" \
		luoctl retrieve --session many-$((SESSIONS - 1))-$LONG --token 1 -- \
		sh -c 'sha256sum <&$LUOCTL_FD | cut -d" " -f1'
	check "finish completes" luoctl finish --session prov
	check "status answers on the $(provider) provider" luoctl status
}
