#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Finding 2 (review C2): a copy-on-write or hydration bit durable before
# its data.  With two committers, the second one (a view's postsuspend)
# decided "no target flush" before it waited for the commit lock; a copy
# that ended meanwhile had its bit written by that commit while the copied
# data sat only in the target's cache.  After a power cut the view showed
# garbage for that region.
#
# Snapshot, then clone (hydration paused): the metadata, source and target
# sit on one dm-log-writes log (replay-lib.sh); the metadata's writes are
# slowed by dm-delay (each commit holds the commit lock longer); fio writes
# 4 KiB regions of the origin at random (each first write a copy) while the
# view is suspended and resumed in bursts.  Then every durable state of the
# log (every flush/FUA entry, target writes durable only after a target
# flush) is checked (rp_sweep): a region whose bit is committed must hold
# the point in time on the target.  Origin writes that never complete
# (finding 1, the same trigger) fail the test too.
# timeout: 400
# cpus: 2
. "$(dirname "$0")/../lib.sh"
. "$SELFTESTS_DIR/mirror-lib.sh"
. "$SELFTESTS_DIR/pit-lib.sh"
RP_RS=8
. "$SELFTESTS_DIR/replay-lib.sh"
require_module dm-log-writes dm-delay
require_cmd fio timeout
RUNTIME=12
BASE_DIR=$RP_DIR

run_case() {
	local type=$1 ot vt fio_pid c n=0 i=0 t_end waited
	step "$type"
	RP_DIR=$BASE_DIR/$type RP_MAN=$BASE_DIR/$type/manifest
	rp_setup
	ot="0 $RP_SECT replica $type sync $RP_META $RP_SRC $RP_TGT $RP_RS 0 2 commit_ms 50"
	vt="0 $RP_SECT replica view $type $RP_META $RP_SRC $RP_TGT $RP_RS"
	rp_pit_image
	dm_create f2org "$ot"
	# a clone paused before it hydrates anything: every origin write a copy
	[[ $type == snapshot ]] || msg f2org pause
	dm_remove f2org
	rp_log_start
	# every metadata write 15 ms late: a commit holds the commit lock long
	dmsetup suspend rmeta
	dmsetup load rmeta --table "0 $RP_META_SECT delay /dev/mapper/lw 0 0 /dev/mapper/lw 0 15"
	dmsetup resume rmeta
	dm_create f2org "$ot"
	dm_create f2view "$vt"
	fio --name=cow --filename="$(dm_dev f2org)" --direct=1 --ioengine=libaio \
		--iodepth=16 --rw=randwrite --bs=4k --time_based=1 --runtime="$RUNTIME" \
		--randrepeat=0 --output="$TEST_TMP/fio-$type.out" &
	fio_pid=$!
	t_end=$((SECONDS + RUNTIME))
	while ((SECONDS < t_end)); do
		i=$((i + 1))
		c=$(suspend_burst f2view 3) || fail "$type: view suspend/resume burst $i failed"
		n=$((n + c))
	done
	waited=0
	while kill -0 "$fio_pid" 2>/dev/null && ((waited < 60)); do
		sleep 1
		waited=$((waited + 1))
	done
	if kill -0 "$fio_pid" 2>/dev/null; then
		: > "$_CLEANUP"	# the writes can never end: leave the devices
		fail "$type: origin writes stranded (finding 1): fio still waiting 60s after its ${RUNTIME}s runtime: $(dmsetup status f2org)"
	fi
	wait "$fio_pid" || fail "$type: fio failed: $(tail -n 3 "$TEST_TMP/fio-$type.out")"
	st f2org
	log "$type: $n view suspend/resume cycles while fio wrote; ${ST[line]}"
	dm_remove f2view
	dm_remove f2org
	rp_log_stop
	rp_sweep --pit "$PIT"
}

run_case snapshot
run_case clone
rp_done f2
