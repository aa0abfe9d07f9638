# The module refuses to load, with one clear log line, when something else
# already provides /dev/liveupdate.
# FLAVORS: default
# SOAK_FLAVORS: debug
# STAGES: 1

stage_1() {
	mknod /dev/liveupdate c 1 3
	check_fails "load is refused while /dev/liveupdate exists" insmod "$LU_KO"
	check "the refusal is logged" sh -c \
		'dmesg | grep -q "liveupdate: /dev/liveupdate already exists"'
	check_fails "nothing is left loaded" test -d /sys/module/liveupdate
	rm /dev/liveupdate
	check "load succeeds once the node is gone" insmod "$LU_KO"
	check_fails "a second instance is refused" insmod "$LU_KO"
	check "module unloads" rmmod liveupdate
}
