# luoctl inspect across a real kexec: it decodes the KHO trees in debugfs.
# Before the module loads, the outgoing tree has no liveupdate-module
# subtree; once it loads, inspect shows our root record outgoing
# (generation 1, open, with the session payload once a file is preserved).
# In the next kernel the same record shows incoming (sealed, not yet taken),
# then taken once the module loads, next to the new outgoing record
# (generation 2). Also --json, and inspect mounting debugfs itself.
# STAGES: 2
# FLAVORS: default
# SOAK_FLAVORS: debug
# TIMEOUT: 90

# section NAME: the outgoing or incoming part of `luoctl inspect`.
section() {
	luoctl inspect | awk -v want="$1" '/^[a-z]+:/ { on = ($1 == want ":") } on'
}

# has NAME LINE: the section holds exactly LINE.
has() {
	section "$1" | grep -qxF -- "$2"
}

# matches NAME REGEX: a line of the section matches the extended REGEX.
matches() {
	section "$1" | grep -Eq -- "$2"
}

stage_1() {
	check "inspect runs before the module loads" luoctl inspect
	check "no incoming tree after a cold boot" \
		has incoming "incoming: none (this boot did not come from a kexec with KHO)"
	check "no liveupdate-module subtree yet" \
		has outgoing "  liveupdate-module: absent (the liveupdate module is not loaded)"
	check "the kernel's kexec-metadata is decoded" \
		has outgoing "    version 1, written by $(uname -r), kexec count 1"

	lu_load || bail "no /dev/liveupdate"
	check "outgoing: our root record" \
		matches outgoing '^  liveupdate-module: 80 bytes.*, the liveupdate module.s root record$'
	check "outgoing: a valid version-2 record" \
		has outgoing "    magic LUMODHO, version 2, 80 bytes, checksum ok"
	check "outgoing: generation 1, open until the reboot" \
		has outgoing "    generation 1, state open"
	check "outgoing: no session payload yet" has outgoing "    session payload: none"
	check "outgoing: the root tree is read (whole, or as far as debugfs shows it)" \
		matches outgoing '^  root tree: (kho-v|debugfs shows [0-9]+ of its [0-9]+ bytes)'

	check "agent starts" luoctl agent --detach --log /dev/console || bail "no agent"
	check "a client preserves a memfd" luoctl-memfd run 8192 5 -- \
		sh -c 'luoctl preserve --session insp --token 1 --fd $MEMFD_FD'
	check "outgoing: the record points at the session payload" \
		matches outgoing '^    session payload: 0x[0-9a-f]+ \([1-9][0-9]* bytes\)$'
	check "--json: our record, generation 1, open" sh -c "luoctl -j inspect | grep -q '\"format\":\"liveupdate-module\",\"decoded\":{\"version\":2,\"size\":80,\"generation\":1,\"state\":\"open\",'"
	check "--json: no incoming tree" sh -c "luoctl -j inspect | grep -q '\"incoming\":null}\$'"
	section outgoing | sed 's/^/# /'

	# Without debugfs, inspect mounts it.
	if umount /sys/kernel/debug; then
		check "inspect mounts debugfs when it is not mounted" luoctl inspect
		check "debugfs stays mounted" grep -q ' /sys/kernel/debug debugfs ' /proc/mounts
		grep -q ' /sys/kernel/debug debugfs ' /proc/mounts ||
			mount -t debugfs debugfs /sys/kernel/debug
	else
		skip "inspect mounts debugfs when it is not mounted" "cannot unmount debugfs"
	fi
}

stage_2() {
	luoctl inspect | sed 's/^/# before insmod: /'
	check "incoming: the root tree is decoded" \
		matches incoming '^  root tree: kho-v[0-9]+, preserved-memory-map at 0x[0-9a-f]+, [0-9]+ subtree\(s\)$'
	check "incoming: our record, with its address" \
		matches incoming '^  liveupdate-module: 80 bytes at 0x[0-9a-f]+, the liveupdate module.s root record$'
	check "incoming: generation 1, sealed by the reboot" \
		has incoming "    generation 1, state sealed"
	check "incoming: checksum ok" has incoming "    magic LUMODHO, version 2, 80 bytes, checksum ok"
	check "incoming: it points at the session payload" \
		matches incoming '^    session payload: 0x[0-9a-f]+ \([1-9][0-9]* bytes\)$'
	check "incoming: not taken before the module loads" \
		has incoming "    taken by the next kernel: no; payload not read"
	check "outgoing: no record of this kernel yet" \
		has outgoing "  liveupdate-module: absent (the liveupdate module is not loaded)"
	check "kexec-metadata counts the kexec" \
		has incoming "    version 1, written by $(uname -r), kexec count 1"

	lu_load || bail "no /dev/liveupdate"
	luoctl inspect | sed 's/^/# after insmod: /'
	check "incoming: taken once the module loads" \
		matches incoming '^    taken by the next kernel: yes; payload '
	check "outgoing: this kernel's record, generation 2, open" \
		has outgoing "    generation 2, state open"
	check "--json: the incoming record is sealed and adopted" sh -c "luoctl -j inspect | grep -q '\"incoming\":{.*\"format\":\"liveupdate-module\",\"decoded\":{\"version\":2,\"size\":80,\"generation\":1,\"state\":\"sealed\",.*\"adopted\":true,'"
	check "agent starts and takes the session back" luoctl agent --detach --log /dev/console
	check "incoming: the payload was read" \
		has incoming "    taken by the next kernel: yes; payload read"
	check "finish" luoctl finish --session insp
}
