# The live update that `make demo` shows (scripts/demo.sh runs it): a client
# process puts 64 MiB of data in a memfd and hands it to the luoctl agent;
# `luoctl kexec` boots a new kernel; there the agent gets the session back
# and `luoctl retrieve` reads the same bytes. The narrative is "# " lines,
# each step with its time; the checks are ordinary results.
# STAGES: 2
# FLAVORS: default
# TIMEOUT: 180

DEMO_SIZE=67108864
DEMO_SEED=42

say() {
	echo "# $*"
}

# Prints each line of CMD's output indented, as narrative.
show() {
	"$@" 2>&1 | sed 's/^/#     /'
}

uptime_s() {
	cut -d' ' -f1 /proc/uptime
}

# since T0: seconds elapsed since uptime T0, two decimals.
since() {
	awk -v a="$1" -v b="$(uptime_s)" 'BEGIN { printf "%.2f s", b - a }'
}

cmdline_value() {
	tr ' ' '\n' </proc/cmdline | sed -n "s/^$1=//p" | tail -n 1
}

stage_1() {
	say "=== kernel 1: $(uname -r), cold boot ==="
	t=$(uptime_s)
	lu_load || bail "cannot load the liveupdate module"
	say "insmod liveupdate.ko: generation $(cat "$LU_SYSFS/generation") ($(since "$t"))"
	t=$(uptime_s)
	check "the agent starts" luoctl agent --detach --log /dev/null || bail "no agent"
	say "luoctl agent --detach: $(luoctl status | sed -n 's/^agent: *//p'), socket /run/luoctl.sock ($(since "$t"))"

	t=$(uptime_s)
	sum=$(luoctl-memfd run $DEMO_SIZE $DEMO_SEED -- sh -c '
		sha256sum </proc/self/fd/$MEMFD_FD | cut -d" " -f1
		luoctl preserve --session vm-1 --token 1 --fd $MEMFD_FD >/dev/null')
	if [ ${#sum} -eq 64 ]; then
		ok "a client preserved its memfd through the agent"
	else
		bail "preserve failed"
	fi
	say "a client process filled a memfd with 64 MiB, sha256 ${sum}"
	say "and handed it over: luoctl preserve --session vm-1 --token 1 --fd N; then it exited ($(since "$t"), incl. the checksum)"
	say "luoctl sessions (the agent holds it now):"
	show luoctl sessions
	t=$(uptime_s)
	luoctl load /boot/bzImage --initrd /boot/initramfs.cpio.gz --reuse-cmdline \
		--append "lu.stage=2 demo.sum=$sum demo.t=$(date +%s)" >/dev/null ||
		bail "luoctl load failed"
	say "luoctl load /boot/bzImage --initrd /boot/initramfs.cpio.gz --reuse-cmdline ($(since "$t"))"
	t=$(uptime_s)
	say "luoctl check:"
	show luoctl check
	check "luoctl check passes" luoctl check
	say "(check took $(since "$t"): each check, incl. a trial freeze of every preserved file)"
	say "luoctl kexec: rebooting into the new kernel..."
	luoctl kexec 2>&1 | grep -v '^ok ' | sed 's/^/# /'
	not_ok "luoctl kexec returned"
	exit 125
}

stage_2() {
	boot=$(uptime_s)
	sum=$(cmdline_value demo.sum)
	t0=$(cmdline_value demo.t)
	say "=== kernel 2: $(uname -r), booted by kexec; /init reached ${boot} s after the new kernel started ==="
	t=$(uptime_s)
	lu_load || bail "cannot load the liveupdate module"
	say "insmod liveupdate.ko: generation $(cat "$LU_SYSFS/generation"), handover $(cat "$LU_SYSFS/handover") ($(since "$t"))"
	t=$(uptime_s)
	check "the agent starts and adopts the incoming session" \
		luoctl agent --detach --log /dev/null || bail "no agent"
	say "luoctl agent --detach: read its predecessor's registry, retrieved the sessions ($(since "$t"))"
	say "wall clock from 'luoctl load' in kernel 1 to here: ~$(($(date +%s) - t0)) s (1 s resolution)"
	say "luoctl sessions:"
	show luoctl sessions
	t=$(uptime_s)
	got=$(luoctl retrieve --session vm-1 --token 1 -- \
		sh -c 'sha256sum <&$LUOCTL_FD | cut -d" " -f1')
	say "luoctl retrieve --session vm-1 --token 1 -- sh -c 'sha256sum <&\$LUOCTL_FD': ($(since "$t"), incl. the checksum)"
	say "  before: $sum"
	say "  after:  $got"
	check_eq "the 64 MiB came back byte for byte" "$sum" "$got"
	t=$(uptime_s)
	check "luoctl finish completes the live update" luoctl finish --session vm-1
	say "luoctl finish --session vm-1: the memfd is an ordinary file again ($(since "$t"))"
	say "luoctl status:"
	show luoctl status
}
