# luoctl's agent as a systemd service (dist/systemd/luoctl-agent.service)
# beside systemd's own use of /dev/liveupdate: clients preserve memfds
# through the agent; restarting the agent loses nothing (its sessions wait
# in its fd store); the live update goes through systemd (`luoctl kexec`
# runs `systemctl kexec`), where systemd stops the agent, which releases
# the device, keeps the agent's session fds across the reboot and gives
# them back to the next agent; the files come back byte for byte and
# `luoctl finish` ends the sessions. fdstore-service runs beside it: both
# users of the device get everything back.
# GUEST: debian
# STAGES: 2
# FLAVORS: default
# TIMEOUT: 300

SIZE=8388608

# The checksum of the memfd luoctl-memfd makes from SIZE SEED.
expected_sum() {
	luoctl-memfd run "$1" "$2" -- sh -c 'sha256sum </proc/self/fd/$MEMFD_FD' | cut -d' ' -f1
}

preserve() {
	check "a client preserves $3 bytes as token $2 of '$1'" luoctl-memfd run "$3" "$4" -- \
		sh -c "luoctl preserve --session $1 --token $2 --fd \$MEMFD_FD"
}

stage_1() {
	check "the agent starts under systemd (Type=notify)" systemctl start luoctl-agent ||
		bail "no agent"
	check "fdstore-service starts beside it" systemctl start fdstore-service
	preserve vm-a 1 $SIZE 11
	preserve vm-a 2 4096 12
	preserve vm-b 1 65536 13
	check "the agent's sessions and its registry are in its fd store (3)" \
		wait_fdstore luoctl-agent 3

	check "the agent restarts" systemctl restart luoctl-agent
	check_output "... and takes its sessions back" "vm-a: outgoing, preserved, uid 0, 2 file(s)
  token 1: memfd, $SIZE bytes, preserved
  token 2: memfd, 4096 bytes, preserved
vm-b: outgoing, preserved, uid 0, 1 file(s)
  token 1: memfd, 65536 bytes, preserved" luoctl sessions
	check "... which the module still holds" \
		sh -c 'luoctl status | grep -q "^outgoing:   2 session(s), 3 file(s), "'
	check "the agent stops" systemctl stop luoctl-agent
	# The module's counts include the agent's registry here: no agent to subtract it.
	check "check: nothing lost with the agent stopped (its sessions are in the fd store)" \
		sh -c 'luoctl check | grep -q "^ok   sessions: 3 outgoing session(s), 4 file(s)"'
	check "the agent starts again" systemctl start luoctl-agent
	preserve vm-c 1 4096 14

	check "luoctl load stages the kernel" luoctl load /boot/bzImage \
		--initrd /sys/firmware/initrd --reuse-cmdline --append lu.stage=2
	check "luoctl check passes" luoctl check
	touch /run/lu-kexec-started
	# It returns at once: systemd takes the system down.
	luoctl kexec 2>&1 | sed 's/^/# /'
}

stage_2() {
	check "PID 1 kept the agent's sessions for it (4)" wait_fdstore luoctl-agent 4
	check "the agent starts and takes them" systemctl start luoctl-agent || bail "no agent"
	check_output "sessions lists them as incoming" "vm-a: incoming, incoming, uid 0, 2 file(s)
  token 1: memfd, $SIZE bytes, incoming
  token 2: memfd, 4096 bytes, incoming
vm-b: incoming, incoming, uid 0, 1 file(s)
  token 1: memfd, 65536 bytes, incoming
vm-c: incoming, incoming, uid 0, 1 file(s)
  token 1: memfd, 4096 bytes, incoming" luoctl sessions
	for f in "vm-a 1 $SIZE 11" "vm-a 2 4096 12" "vm-b 1 65536 13" "vm-c 1 4096 14"; do
		# shellcheck disable=SC2086 # four words
		set -- $f
		check_output "$1 token $2 comes back byte for byte" "$(expected_sum "$3" "$4")" \
			luoctl retrieve --session "$1" --token "$2" -- \
			sh -c 'sha256sum <&$LUOCTL_FD | cut -d" " -f1'
	done
	for s in vm-a vm-b vm-c; do
		check "luoctl finish $s" luoctl finish --session "$s"
	done
	check_output "nothing is left" "no sessions" luoctl sessions
	check "the fd store is empty" wait_fdstore luoctl-agent 0
	check "fdstore-service gets its memfds back too" systemctl start fdstore-service
	if [ -s /run/fdstore-service.result ]; then
		cat /run/fdstore-service.result
	else
		not_ok "fdstore-service wrote its results"
	fi
}
