#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Finding 7 (review C7): host flushes and a dead target.  dm-replica.rst
# (Errors): "A failed copy or target write marks the target leg failed (D)
# and the relationship broken; source I/O goes on ...
# fail_host_on_target_error fails the host write too"; health "F" is a
# flush error.  So a target that fails flushes must not fail the host's
# fsync.  The target sits on dm-flakey, switched to error_writes (which,
# unlike the `error` target, also fails empty flushes); the host then sends
# a pure flush (fsync of the block device with nothing written: dd count=0
# conv=fsync).  Loop devices are used, since flushes to a brd-backed stack
# are completed by the block layer (no write cache) and never reach the
# target.  Expected, per relationship:
#   sync mirror: fsync succeeds, target health D or F, copy state broken,
#     a following write succeeds;
#   async mirror: the host flush does not wait for the target at all
#     (dm-replica.rst: the mirror flushes its target itself before it
#     clears a bit): fsync succeeds; the target's failure shows once the
#     next write's write-behind or the mirror's own flush meets it (D or F,
#     broken, within a few commit periods), and writes go on;
#   fractured mirror: fsync succeeds (the target gets no writes: it may
#     not be flushed at all, then health A and state fractured; else D/F
#     and broken);
#   snapshot origin: a host flush reaches only the source (as dm-snapshot's
#     origin); fsync succeeds; a first write to a region then meets the
#     dead target in its copy-on-write: the write and the fsync after it
#     succeed, target health D or F, point in time lost (state broken, view
#     reads fail);
#   sync mirror with fail_host_on_target_error: the fsync fails (EIO).
# Today every one of the first four fsyncs fails with EIO: num_flush_bios
# = 2 sends the flush to the target and nothing handles its error.
# timeout: 240
. "$(dirname "$0")/../lib.sh"
. "$SELFTESTS_DIR/pit-lib.sh"
. "$SELFTESTS_DIR/mirror-lib.sh"
require_module dm-flakey

META=$(ramdisk 4M)
SRC=$(ramdisk 16M)
TGT0=$(ramdisk 16M)
SZ=$(sectors "$SRC")
RS=128
GOOD="0 $SZ flakey $TGT0 0 180 0"
BAD="0 $SZ flakey $TGT0 0 0 180 1 error_writes"
dm_create tleg "$GOOD"
TGT=$(dm_dev tleg)
DEVS="$META $SRC $TGT $RS"
zero_meta() { dd if=/dev/zero of="$META" bs=4k count=2 oflag=direct status=none; }
# a flush and nothing else (blkdev_fsync: write back nothing, then flush)
host_flush() { dd if=/dev/null of="${1:?}" count=0 conv=fsync,notrunc status=none; }

# flush_case WHAT NAME: the target fails writes and flushes from now on
flush_case() {
	local what=$1 name=$2 dev
	dev=$(dm_dev "$name")
	dm_swap tleg "$BAD"
	if host_flush "$dev" 2>"$TEST_TMP/err"; then
		log "$what: host fsync succeeded"
		FSYNC_OK=1
	else
		SOFT_FAILS+=("$what: host fsync failed with a dead target: $(head -n1 "$TEST_TMP/err")")
		log "CHECK FAILED: $what: host fsync failed: $(head -n1 "$TEST_TMP/err")"
		FSYNC_OK=0
	fi
	st "$name"
	log "$what after the flush: ${ST[line]}"
}
target_failed() {	# WHAT STATE: target health D or F and copy state STATE
	[[ ${ST[health]} == A[DF] ]] ||
		SOFT_FAILS+=("$1: target health '${ST[health]}' after a failed target flush, want AD or AF")
	soft_eq "${ST[state]}" "$2" "$1: copy state after a failed target flush"
}

# --- sync and async mirror ------------------------------------------------------
for mode in sync async; do
	step "$mode mirror"
	zero_meta
	dm_create m1 "0 $SZ replica mirror $mode $DEVS 1 nosync"
	wait_synced m1 20
	write_at "$(dm_dev m1)" 0 64
	wait_synced m1 20
	flush_case "$mode mirror" m1
	# source I/O goes on
	write_at "$(dm_dev m1)" 128 64 ||
		SOFT_FAILS+=("$mode mirror: a write after the target died failed")
	if [[ $mode == async ]]; then
		dead() { st m1; [[ ${ST[health]} == A[DF] ]]; }
		wait_for 20 dead || true
		host_flush "$(dm_dev m1)" ||
			SOFT_FAILS+=("async mirror: host fsync failed after the target died")
	fi
	st m1
	target_failed "$mode mirror" broken
	dm_remove m1
	dm_swap tleg "$GOOD"
done

# --- fractured mirror -----------------------------------------------------------
step "fractured mirror"
zero_meta
dm_create m1 "0 $SZ replica mirror sync $DEVS 1 nosync"
wait_synced m1 20
msg m1 fracture
write_at "$(dm_dev m1)" 0 64
flush_case "fractured mirror" m1
if [[ ${ST[health]} != AA || ${ST[state]} != fractured ]]; then
	target_failed "fractured mirror" broken
fi
dm_remove m1
dm_swap tleg "$GOOD"

# --- snapshot origin --------------------------------------------------------------
step "snapshot"
zero_meta
dm_create org "0 $SZ replica snapshot sync $DEVS"
dm_create snap "0 $SZ replica view snapshot $DEVS"
flush_case "snapshot origin" org
# a first write: its copy-on-write meets the dead target
dd if=/dev/urandom of="$(dm_dev org)" bs=64k count=1 seek=5 oflag=direct status=none ||
	SOFT_FAILS+=("snapshot: a first origin write failed with a dead target")
host_flush "$(dm_dev org)" ||
	SOFT_FAILS+=("snapshot: host fsync failed after the copy-on-write met a dead target")
st org
target_failed "snapshot origin" broken
if dd if="$(dm_dev snap)" of=/dev/null bs=64k count=1 iflag=direct status=none 2>/dev/null; then
	[[ ${ST[health]} == AA ]] ||
		SOFT_FAILS+=("snapshot: the view still reads after its target failed a flush")
fi
dd if=/dev/urandom of="$(dm_dev org)" bs=64k count=1 seek=3 oflag=direct status=none ||
	SOFT_FAILS+=("snapshot: an origin write after the target died failed")
dm_remove snap
dm_remove org
dm_swap tleg "$GOOD"

# --- fail_host_on_target_error: the host error is expected ---------------------
step "fail_host_on_target_error"
zero_meta
dm_create m1 "0 $SZ replica mirror sync $DEVS 2 nosync fail_host_on_target_error"
wait_synced m1 20
dm_swap tleg "$BAD"
expect_fail host_flush "$(dm_dev m1)"
rstat m1
log "fail_host_on_target_error after the flush: $S_LINE"
dm_remove m1
dm_swap tleg "$GOOD"
soft_done
