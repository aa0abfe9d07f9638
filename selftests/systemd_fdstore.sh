# systemd's own use of /dev/liveupdate, unmodified (Debian sid, systemd
# 262): a service keeps a 64 MiB memfd and a small sealed one in its
# file-descriptor store (FDSTORE=1, FDNAME=, FileDescriptorStorePreserve=yes:
# qemu/guest/debian/units/fdstore-service.service); `systemctl kexec` into
# the same kernel, where systemd-shutdown preserves the store in the LUO
# session "systemd" and the next PID 1 retrieves it, FINISHes the session
# and gives the fds back to the service, which checks them byte for byte
# (selftests/src/fdstore_service.c). The same test on the in-kernel LUO
# (upstream) is the reference.
# GUEST: debian
# STAGES: 2
# FLAVORS: default upstream
# TIMEOUT: 300

# The service's own results (TAP lines and diagnostics), on the console.
service_results() {
	if [ -s /run/fdstore-service.result ]; then
		cat /run/fdstore-service.result
	else
		not_ok "fdstore-service wrote its results"
	fi
}

stage_1() {
	check "/dev/liveupdate is there before PID 1 needs it" test -c /dev/liveupdate
	diag "$(systemctl --version | head -n 1)"
	check "fdstore-service starts" systemctl start fdstore-service
	if wait_fdstore fdstore-service 2; then
		ok "its fd store holds the two memfds"
	else
		not_ok "its fd store holds the two memfds" \
			"NFileDescriptorStore=$(systemctl show -P NFileDescriptorStore fdstore-service)"
	fi
	service_results
	# Nobody holds the device: systemd-shutdown opens it at the end.
	check "/dev/liveupdate is free for systemd-shutdown" lu-open /dev/liveupdate
}

stage_2() {
	check_eq "PID 1 gave the fd store back before the service started" 2 \
		"$(systemctl show -P NFileDescriptorStore fdstore-service)"
	check "fdstore-service starts with its stored fds" systemctl start fdstore-service
	service_results
	# PID 1 retrieved every fd, finished the session and closed it and the
	# device.
	check "/dev/liveupdate is free again" lu-open /dev/liveupdate
	check_output "session 'systemd' is finished (RETRIEVE_SESSION: ENOENT)" ENOENT \
		lu-retrieve systemd
	journalctl -b -o cat -u fdstore-service --no-pager | tail -n 5 | sed 's/^/# journal: /'
}
