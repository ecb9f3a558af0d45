#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Finding 12 (review C12; device names f12*: a stuck 12-core-f1 may leave
# its devices behind in the same VM): bounded work per lock hold.  Discards (DM 6.1
# splits them only at target boundaries: one bio covers up to 4 GiB, 1M
# regions of 4 KiB), the snapshot's new point in time (resync) and the
# restore run O(regions) loops under the relationship's irqsave spinlock,
# and the worker runs bio after bio without rescheduling.
#
# A mirror over two sparse 64 GiB loop devices (tmpfs files; they take
# discards) with 4 KiB regions (16M regions), one blkdiscard of the whole
# device; then a snapshot over the same devices: suspend, resync (a new
# point in time), resume, restore.  Expected: no soft lockup and no RCU
# stall in the kernel log.  Today: RCU stalls and soft lockups of the
# worker in process_bio_list (the discard) and of the restore.
#
# Not 1 TiB: under TCG, loading a 64 GiB table already takes about 12 s
# (load_state's per-region loops) and its discard about 40 s, so 1 TiB
# would need about 3 minutes to load and 10 to discard.  64 GiB is enough:
# one discard bio covers 1M regions, the same as on a 1 TiB device.
#
# The VM boots with watchdog_thresh=60 and a 300 s RCU stall timeout (TCG
# is slow); for the operations under test the test lowers them to a 2 s
# soft-lockup (watchdog_thresh 1) and 3 s RCU-stall threshold (restored
# afterwards; table loads run with the boot values): on any kernel, a CPU that does not schedule
# for seconds, or keeps interrupts off that long, is a bug.  C12_GIB
# (default 64) sets the device size.
# timeout: 300
. "$(dirname "$0")/../lib.sh"
. "$SELFTESTS_DIR/pit-lib.sh"
. "$SELFTESTS_DIR/mirror-lib.sh"
require_cmd blkdiscard timeout

GIB=${C12_GIB:-64}
LEN=$((GIB * 2097152))
RS=8
NR=$((LEN / RS))
BLOCKS=$(((NR + 32639) / 32640))
META=$(ramdisk $(((2 + 2 * BLOCKS) * 4 + 1024))K)
SRC=$(ramdisk "${GIB}G")
TGT=$(ramdisk "${GIB}G")
log "$GIB GiB, $NR regions of 4 KiB, $BLOCKS bitmap blocks per area"

WD=/proc/sys/kernel/watchdog_thresh
RCU=/sys/module/rcupdate/parameters/rcu_cpu_stall_timeout
read -r WD0 < "$WD" || skip "no $WD"
RCU0=
[[ -w $RCU ]] && read -r RCU0 < "$RCU"
strict() {
	echo 1 > "$WD"
	[[ -z $RCU0 ]] || echo 3 > "$RCU"
}
relaxed() {
	sleep 3		# reports of a stall that just ended come a little later
	echo "$WD0" > "$WD"
	[[ -z $RCU0 ]] || echo "$RCU0" > "$RCU"
}
defer relaxed
LOCKUP_RE='soft lockup|self-detected stall|detected stalls? on CPU|rcu_sched .*stall|rcu_preempt .*stall|hard LOCKUP'
check_klog() {
	local bad
	bad=$(klog_since | grep -E -m 3 -- "$LOCKUP_RE" || true)
	[[ -z $bad ]] || BAD+="$1: ${bad%%$'\n'*}; "
}
BAD=

# --- mirror: one discard of the whole device ------------------------------------
step "mirror create"
dm_create f12m "0 $LEN replica mirror sync $META $SRC $TGT $RS 1 nosync"
rstat f12m
assert_eq "$S_TOTAL $S_STATE" "$NR synchronized" "mirror"
step "discard of all $GIB GiB"
klog_mark
strict
t0=$SECONDS
timeout 150 blkdiscard "$(dm_dev f12m)" || BAD+="blkdiscard failed or took over 150 s; "
relaxed
step "discard took $((SECONDS - t0)) s"
check_klog discard
rstat f12m
log "after the discard: $S_LINE"
dm_remove f12m
dd if=/dev/zero of="$META" bs=4k count=2 oflag=direct status=none

# --- snapshot: a new point in time, then a restore -------------------------------
step "snapshot create"
dm_create f12org "0 $LEN replica snapshot sync $META $SRC $TGT $RS"
dmsetup suspend f12org
step "resync (new point in time)"
klog_mark
strict
t0=$SECONDS
dmsetup message f12org 0 resync
relaxed
step "resync took $((SECONDS - t0)) s"
check_klog "snapshot resync"
dmsetup resume f12org
step "restore"
klog_mark
strict
t0=$SECONDS
dmsetup message f12org 0 restore
relaxed
step "restore message took $((SECONDS - t0)) s"
wait_state 60 f12org synchronized completed
check_klog "snapshot restore"
dm_remove f12org
[[ -z $BAD ]] || fail "${BAD%; }"
