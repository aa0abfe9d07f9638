# A damaged handover is refused cleanly: lucorrupt.ko (selftests/corruptmod)
# damages what the previous kernel handed over, in place, before
# liveupdate.ko loads; the module refuses what it cannot trust, with a
# reason (the handover attribute, the log, RETRIEVE_FD's errno), restores
# the rest, raises no kernel report, and comes back usable.
#
# Every stage but the first damages the handover it was given:
#   memfd  the memfd handler's records (descriptors, run tables, KHO's
#          vmalloc chunks, the list): many cases at once, each on its own
#          file, plus seeded random bit flips (the seeds are in the
#          "lucorrupt:" lines); RETRIEVE_FD refuses exactly the damaged
#          files with EINVAL and the others come back intact
#   core   the core's record chains: /dev/liveupdate opens with EIO for the
#          boot (as upstream), the log names the errno, a reload of the
#          module reports the same; seeded random flips of the memfd
#          records in the same boot are checked on the way out (rmmod
#          discards the files restored ahead). Random flips of the chains
#          themselves may be harmless: then whatever is read is reported
#          and the module must take a new session.
#          Stages 16 (a link to a copy of a valid block, in memory KHO never
#          held) and 38 (a link into a firmware hole) need module/glue/kho.c
#          to check KHO's per-page mark before kho_restore_folio() and
#          page_is_ram() before reading.
#   root   the core's root record: the handover attribute reads
#          "rejected <why> (errno N)"
#   fresh  nothing to damage: preserve again for the next core stage
# The workload (120 memfds in 52 sessions, a lutest dependency and its FLB)
# is described at the top of selftests/src/handover_corrupt.c; descriptor
# and session numbers below are its.
# make test boots 15 of the 39 stages (QUICK below: every memfd case and
# all 160 random flips of the memfd records, a looping session chain, two
# root records, the links kho.c must check); make soak boots all 39, on the
# default kernel (about 7 minutes on a 2-core host) and on the debug one
# (about 20).
# STAGES: 15
# SOAK_STAGES: 39
# FLAVORS: default
# SOAK_FLAVORS: default debug
# TIMEOUT: 120

READY=/tmp/handover-corrupt.ready

# The plan: KIND|LUCORRUPT PARAMETERS|EXPECTATION
#   memfd: "--refused LIST --any LIST" for handover-corrupt check
#   core:  the errno the log names; "any" for random damage
#   root:  the errno in the handover attribute
plan() {
	case $1 in
	1) echo "start||" ;;
	2) echo "memfd|cases=mroot-count,run-misaligned@0,run-order@1,run-overlap@2,desc-table-nonram@3,desc-table-hole@4,desc-table-kernel@5,desc-table-unpreserved@6,chunk-dup@7,run-past-end@8,run-nonram@10,run-hole@11,run-kernel@12,run-unpreserved@13,run-past-end@14,run-pfn-zero@15,run-crc@16,run-same-page@17:18,file-data-other@51:5,file-data-unpreserved@51:6,desc-magic@30 mode=flip-crc target=table first=70 count=25 seed=2000|--refused 0=run-misaligned,1=run-order,2=run-overlap,3=desc-table-nonram,4=desc-table-hole,5=desc-table-kernel,6=desc-table-unpreserved,7=chunk-dup,8=run-past-end,10=run-nonram,11=run-hole,12=run-kernel,13=run-unpreserved,14=run-past-end,15=run-pfn-zero,16=run-crc,17-18=run-same-page,30=desc-magic,65=file-data-other,66=file-data-unpreserved --any 70-94=flip-crc-table --collateral" ;;
	3) echo "memfd|cases=mroot-magic,chunk-nonram@2,chunk-kernel@3,chunk-unpreserved@4,chunk-loop@5,chunk-dup@6,desc-table-pages@7,run-misaligned@0,run-order@1,run-past-end@8,desc-magic@10,desc-runs-huge@11,run-unpreserved@12,run-kernel@13,run-hole@14,run-nonram@15,run-pfn-zero@16,desc-size@17,run-same-page@18:19,file-data-nonram@51:1,file-data-hole@51:2,file-data-kernel@51:3,file-data-misaligned@51:4,file-data-other@51:5 mode=flip-crc target=desc first=70 count=25 seed=3000|--refused 0=run-misaligned,1=run-order,2=chunk-nonram,3=chunk-kernel,4=chunk-unpreserved,5=chunk-loop,6=chunk-dup,7=desc-table-pages,8=run-past-end,10=desc-magic,11=desc-runs-huge,12=run-unpreserved,13=run-kernel,14=run-hole,15=run-nonram,16=run-pfn-zero,17=desc-size,19=run-same-page,61=file-data-nonram,62=file-data-hole,63=file-data-kernel,64=file-data-misaligned,65=file-data-other --any 18=run-same-page,70-94=flip-crc-desc" ;;
	4) echo "memfd|cases=chunk-unpreserved@2,chunk-dup@3,chunk-loop@4,chunk-kernel@5,run-overlap@6,run-same-page@60:61,mroot-loop@100 mode=flip-crc target=table first=10 count=50 seed=4000|--refused 2=chunk-unpreserved,3=chunk-dup,4=chunk-loop,5=chunk-kernel,6=run-overlap,60-61=run-same-page --any 10-59=flip-crc-table --collateral" ;;
	5) echo "memfd|cases=mroot-head-nonram,desc-table-nonram@2,desc-table-kernel@3,desc-table-misaligned@4,desc-table-hole@5,desc-table-unpreserved@6,chunk-nonram@7,run-order@0,run-misaligned@1,desc-version@10,desc-name@11,desc-flags@12,desc-pos@13,desc-runs-zero@14,run-crc@15,desc-crc@16,desc-size@17,desc-runs-huge@18 mode=flip-crc target=desc first=60 count=60 seed=5000|--refused 0=run-order,1=run-misaligned,2=desc-table-nonram,3=desc-table-kernel,4=desc-table-misaligned,5=desc-table-hole,6=desc-table-unpreserved,7=chunk-nonram,10=desc-version,11=desc-name,12=desc-flags,13=desc-pos,14=desc-runs-zero,15=run-crc,16=desc-crc,17=desc-size,18=desc-runs-huge --any 60-119=flip-crc-desc" ;;
	6) echo "core|cases=sessions-loop mode=flip-crc target=table first=10 count=20 seed=6000|74" ;;
	7) echo "root|cases=root-magic|74" ;;
	8) echo "root|cases=root-version|93" ;;
	9) echo "root|cases=root-crc|74" ;;
	10) echo "root|cases=root-state|22" ;;
	11) echo "root|cases=root-consumed|22" ;;
	12) echo "root|cases=root-size|74" ;;
	14) echo "core|cases=payload-nonram mode=flip-crc target=desc first=10 count=20 seed=14000|14" ;;
	16) echo "core|cases=payload-copy mode=flip-crc target=table first=30 count=20 seed=16000|116" ;;
	18) echo "core|cases=payload-kernel mode=flip target=chunk first=2 count=6 seed=18000|74" ;;
	20) echo "core|cases=payload-unpreserved mode=flip-crc target=table first=60 count=20 seed=20000|74" ;;
	22) echo "core|cases=payload-misaligned mode=flip-crc target=desc first=80 count=20 seed=22000|14" ;;
	24) echo "core|cases=sessions-state mode=flip-crc target=table first=0 count=8 seed=24000|74" ;;
	26) echo "core|cases=session-share-files@1:2 mode=flip-crc target=desc first=100 count=20 seed=26000|74" ;;
	28) echo "core|cases=file-token-dup@51:1|17" ;;
	30) echo "core|cases=deps-token@52|74" ;;
	32) echo "core|cases=flb-count-zero|74" ;;
	34) echo "core|mode=flip-crc target=files first=51 seed=34000|any" ;;
	36) echo "core|mode=flip-crc target=sessions seed=36000|any" ;;
	38) echo "core|cases=payload-hole|14" ;;
	39) echo "last||" ;;
	*) echo "fresh||" ;;
	esac
}

# Damage the handover; what lucorrupt did, as diagnostics (with the seeds).
corrupt() {
	# shellcheck disable=SC2086 # the parameters are words
	if _out=$(insmod /lib/modules/lucorrupt.ko $1 2>&1); then
		check_eq "lucorrupt finds every target: $1" 0 \
			"$(cat /sys/module/lucorrupt/parameters/failures)"
	else
		not_ok "lucorrupt loads: $1" "$_out"
	fi
	dmesg | sed -n 's/^.*\] lucorrupt: /# lucorrupt: /p'
}

load() {
	lu_load || bail "no /dev/liveupdate"
	insmod /lib/modules/lutest.ko || bail "lutest.ko does not load"
}

hold() {
	{
		handover-corrupt preserve
		echo "exit $?" >$READY
	} &
	lu_wait_ready $READY 100 || bail "the workload is not preserved for the next stage"
}

# The reload keeps the verdict and leaves nothing behind (rmmod also
# discards the files restored ahead, damaged ones included).
reload() {
	_before=$(cat "$LU_SYSFS/handover")
	check "lutest.ko unloads" rmmod lutest
	check "liveupdate.ko unloads after the refusal" rmmod liveupdate
	load
	check_eq "the reloaded module reports the same handover" "$_before" \
		"$(cat "$LU_SYSFS/handover")"
	handover-corrupt check --eio
}

# The module's log since it loaded.
module_log() {
	dmesg | sed -n '/liveupdate: generation/,$p' | grep -e 'liveupdate: ' -e 'lutest: '
}

run_stage() {
	_plan=$(plan "$1")
	diag "plan stage $1 of 39: ${_plan%%|*}"
	_kind=${_plan%%|*}
	_rest=${_plan#*|}
	_args=${_rest%%|*}
	_expect=${_rest#*|}

	case $_kind in
	start)
		load
		hold
		return
		;;
	fresh | last)
		load
		diag "incoming: $(cat "$LU_SYSFS/handover")"
		if [ "$_kind" = last ]; then
			handover-corrupt usable
		else
			hold
		fi
		return
		;;
	esac

	corrupt "$_args"
	load
	_status=$(cat "$LU_SYSFS/handover")
	diag "handover: $_status"
	case $_kind in
	memfd)
		check_eq "the handover is accepted" accepted "$_status"
		# shellcheck disable=SC2086 # the expectation is words
		handover-corrupt check $_expect
		module_log | grep -e 'memfd: ' | sed 's/^/# kernel: /'
		hold
		;;
	core)
		check_eq "the root record is accepted" accepted "$_status"
		if [ "$_expect" != any ]; then
			handover-corrupt check --eio
			check "the log says why: errno $_expect" sh -c \
				"dmesg | grep 'liveupdate: ' | grep -q 'errno $_expect)'"
			module_log | sed 's/^/# kernel: /'
			reload
			return
		fi
		# Random damage may be harmless: then the sessions are read.
		handover-corrupt check --lenient
		module_log | sed 's/^/# kernel: /'
		if [ "$(lu-open /dev/liveupdate)" = "open 1: EIO" ]; then
			reload
		else
			handover-corrupt usable
		fi
		;;
	root)
		case $_status in
		"rejected "*"(errno $_expect)") ok "the handover is rejected: errno $_expect" ;;
		*) not_ok "the handover is rejected: errno $_expect" "handover: $_status" ;;
		esac
		handover-corrupt check --eio
		reload
		;;
	esac
}

# Boot N runs plan N, or in make test (fewer stages) the Nth of QUICK: each
# core stage follows one that held the workload, as in the full plan.
QUICK="1 2 3 4 5 6 7 8 13 14 15 16 37 38 39"
n=1
plan_ids=$QUICK
if [ "$stages" -eq 39 ]; then
	plan_ids=$(i=1; while [ $i -le 39 ]; do echo $i; i=$((i + 1)); done)
fi
for id in $plan_ids; do
	eval "stage_$n() { run_stage $id; }"
	n=$((n + 1))
done
