#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Finding 4 (review C4): "resync" sent while a restore runs must be refused
# with EPERM ("Operation not permitted") AND change nothing: the restore goes
# on in the same direction (target -> source) to its end, and the source
# then equals the point-in-time image (sha256).  Today the message clears
# the restoring flag before it is refused, so the rest of the "restore" is
# copied source -> target over the data being restored.
#   1. clone: hydrated, the origin overwritten, restore (copy_rate_max
#      slows it), resync -> EPERM, copy state stays "unsynchronized
#      restoring", at the end source == PIT image.
#   2. snapshot: restore running, resync while resumed (EPERM; EBUSY, the
#      "devices must be suspended" answer, is accepted too) and with every
#      device suspended (where EBUSY does not apply: must be EPERM; today it
#      succeeds and takes a new point in time, abandoning the restore).
#   3. mirror: fractured, source changed, restore, resync -> EPERM, the
#      source ends up holding the target's (pre-fracture) image.
# timeout: 240
. "$(dirname "$0")/../lib.sh"
. "$SELFTESTS_DIR/pit-lib.sh"
. "$SELFTESTS_DIR/mirror-lib.sh"

brd_setup 3 16M
META=${RAMDISKS[0]} SRC=${RAMDISKS[1]} TGT=${RAMDISKS[2]}
SZ=$(sectors "$SRC")
RS=128 R=65536
NR=$((SZ / RS))
DEVS="$META $SRC $TGT $RS"
PIT_IMG=$TEST_TMP/pit.img
zero_meta() { dd if=/dev/zero of="$META" bs=4k count=2 oflag=direct status=none; }

# after_refused NAME WHAT: the restore must still be running
after_refused() {
	soft_eq "$(st_state "$1")" "unsynchronized restoring" "$2: copy state after the refused resync"
}

# --- 1. clone -------------------------------------------------------------
step "clone"
fill_random "$SRC"
save_image "$SRC" "$PIT_IMG"
PIT_SHA=$(sha_file "$PIT_IMG")
dm_create org "0 $SZ replica clone sync $DEVS"
ORG=$(dm_dev org)
wait_state 60 org synchronized completed
fill_random "$ORG"		# hydrated regions: the source alone changes
[[ $(sha256_dev "$SRC") != "$PIT_SHA" ]] || fail "clone: the source did not change"
msg org set copy_rate_max 512	# 8 regions/s: 32 s for the 256 regions
msg org restore
assert_eq "$(st_state org)" "unsynchronized restoring" "clone: state after restore"
sleep 1
expect_errno "Operation not permitted" dmsetup message org 0 resync
st org
log "clone after the refused resync: ${ST[line]}"
after_refused org clone
msg org set copy_rate_max 0
wait_state 60 org synchronized completed
soft_eq "$(sha256_dev "$SRC")" "$PIT_SHA" "clone: sha256 of the source after the restore (want the PIT image)"
st org
log "clone done: ${ST[line]}"
dm_remove org
zero_meta

# --- 2. snapshot ------------------------------------------------------------
step "snapshot"
fill_random "$SRC"
save_image "$SRC" "$PIT_IMG"
PIT_SHA=$(sha_file "$PIT_IMG")
dm_create org "0 $SZ replica snapshot sync $DEVS"
dm_create snap "0 $SZ replica view snapshot $DEVS"
ORG=$(dm_dev org)
fill_random "$ORG"		# every region preserved
assert_eq "$(stv org in_sync)" "$NR" "snapshot: regions preserved"
msg org set copy_rate_max 512
msg org restore
assert_eq "$(st_state org)" "unsynchronized restoring" "snapshot: state after restore"
sleep 1
if out=$(dmsetup message org 0 resync 2>&1); then
	SOFT_FAILS+=("snapshot (resumed): resync during the restore succeeded")
	log "CHECK FAILED: resync accepted during a restore (resumed)"
else
	[[ $out == *"Operation not permitted"* || $out == *"Device or resource busy"* ]] ||
		SOFT_FAILS+=("snapshot (resumed): resync refused with '$out', want EPERM")
	log "resumed: resync refused: $out"
fi
after_refused org "snapshot (resumed)"
dmsetup suspend snap
dmsetup suspend org
if out=$(dmsetup message org 0 resync 2>&1); then
	SOFT_FAILS+=("snapshot (suspended): resync during the restore succeeded, want 'Operation not permitted'")
	log "CHECK FAILED: resync accepted during a restore (suspended): $(dmsetup status org)"
else
	[[ $out == *"Operation not permitted"* ]] ||
		SOFT_FAILS+=("snapshot (suspended): resync refused with '$out', want 'Operation not permitted'")
	log "suspended: resync refused: $out"
fi
dmsetup resume org
dmsetup resume snap
st org
log "snapshot after the refused resyncs: ${ST[line]}"
after_refused org "snapshot (suspended)"
msg org set copy_rate_max 0
wait_state 60 org synchronized completed
soft_eq "$(sha256_dev "$SRC")" "$PIT_SHA" "snapshot: sha256 of the source after the restore (want the PIT image)"
dm_remove snap
dm_remove org
zero_meta

# --- 3. mirror ----------------------------------------------------------------
step "mirror"
dm_create m1 "0 $SZ replica mirror sync $DEVS"
DEV=$(dm_dev m1)
wait_synced m1 60
msg m1 fracture
save_image "$TGT" "$PIT_IMG"	# what the restore must bring back
PIT_SHA=$(sha_file "$PIT_IMG")
fill_random "$DEV"
msg m1 set copy_rate_max 512
msg m1 restore
rstat m1
assert_eq "$S_STATE $S_PROGRESS" "unsynchronized restoring" "mirror: state after restore"
sleep 1
expect_msg_fail m1 "Operation not permitted" resync
rstat m1
log "mirror after the refused resync: $S_LINE"
soft_eq "$S_STATE $S_PROGRESS" "unsynchronized restoring" "mirror: copy state after the refused resync"
msg m1 set copy_rate_max 0
wait_synced m1 60
soft_eq "$(sha256_dev "$SRC")" "$PIT_SHA" "mirror: sha256 of the source after the restore (want the pre-fracture target image)"
soft_eq "$(sha256_dev "$TGT")" "$PIT_SHA" "mirror: sha256 of the target after the restore"
dm_remove m1
soft_done
