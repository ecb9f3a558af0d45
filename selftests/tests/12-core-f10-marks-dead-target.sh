#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Finding 10 (review C10): marks cleared after flushing only the source
# when the target is not alive.  A write the target acknowledged (possibly
# from its volatile cache) is durable there only after a flush of the
# target.  clear_idle_marks skips the target flush when its health is not
# A and clears the marks anyway, so a region written just before the target
# died loses its mark: clear_errors and the resync never copy it.
#
# The volatile cache is emulated: the target leg (dm-linear over brd) is
# imaged while everything on it is durable (legs identical, nothing written
# since); region R is then written (both legs acknowledge, no flush
# follows: commit_ms 5000 keeps the periodic clear away); the target leg
# then dies (error table) and a write to region R2 breaks the mirror; the
# clear period is shortened and the marks age out.  The target "comes back
# after losing power": the raw device gets its last-flushed image back and
# the leg is linear again.  Expected: after clear_errors the resync brings
# the legs equal (R must still be marked, or be marked for a copy, since
# the target never flushed it).  Today the legs differ at region R.
# timeout: 120
. "$(dirname "$0")/../lib.sh"
. "$SELFTESTS_DIR/mirror-lib.sh"

brd_setup 3 16M
META=${RAMDISKS[0]} SRC=${RAMDISKS[1]} TGT0=${RAMDISKS[2]}
SZ=$(sectors "$SRC")
RS=128
GOOD="0 $SZ linear $TGT0 0"
dm_create tleg "$GOOD"
TGT=$(dm_dev tleg)
DEV=$(dm_dev m1)
R=7 R2=100

dm_create m1 "0 $SZ replica mirror sync $META $SRC $TGT $RS 1 nosync 2 commit_ms 5000"
wait_clean m1 20
# the target's durable state: both legs zero, nothing written yet
dd if="$TGT0" of="$TEST_TMP/flushed.img" bs=1M iflag=direct status=none
write_at "$DEV" $((R * 64)) 64
rstat m1
log "after the write to region $R: $S_LINE"
assert_eq "$S_STATE $S_DIRTY $S_HEALTH" "synchronized 1 AA" "region $R marked"
dm_swap tleg "0 $SZ error"
write_at "$DEV" $((R2 * 64)) 64		# the target write fails: broken
rstat m1
assert_eq "$S_STATE $S_HEALTH" "broken AD" "after the target died"
log "target dead: $S_LINE"
msg m1 set commit_ms 100
sleep 2					# several clear periods
rstat m1
log "after the clear periods: $S_LINE (dirty: regions still marked)"
# the target is back, with what it had made durable
dd if="$TEST_TMP/flushed.img" of="$TGT0" bs=1M oflag=direct status=none
dm_swap tleg "$GOOD"
msg m1 clear_errors
rstat m1
[[ $S_STATE == unsynchronized || $S_STATE == synchronized ]] || msg m1 resync
wait_synced m1 30
rstat m1
log "after clear_errors and the resync: $S_LINE"
drop_caches
if ! cmp -s "$SRC" "$TGT0"; then
	fail "legs differ after clear_errors + resync: $(cmp "$SRC" "$TGT0" 2>&1 | head -n1 || true) (region $R starts at byte $((R * 65536 + 1)): its mark was cleared without a target flush)"
fi
