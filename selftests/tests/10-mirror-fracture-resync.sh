#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Mirror fracture -> writes -> resync: the target is not written while
# fractured, in_sync drops by exactly the number of regions written,
# resync copies exactly those regions (regions_copied delta) and the legs
# are equal afterwards.  split is allowed only when synchronized (EPERM
# when fractured or while a resync runs) and a split mirror resyncs too.
# timeout: 300
. "$(dirname "$0")/../lib.sh"
. "$SELFTESTS_DIR/mirror-lib.sh"

brd_setup 3 64M
META=${RAMDISKS[0]} SRC=${RAMDISKS[1]} TGT=${RAMDISKS[2]}
SZ=$(sectors "$SRC")
RS=128					# 64 KiB regions
NR=$((SZ / RS))
DEV=/dev/mapper/m1

# Both legs zero (fresh brd): nosync is truthful.
dm_create m1 "0 $SZ replica mirror sync $META $SRC $TGT $RS 1 nosync"
wait_synced m1 10
# some data through the synchronous mirror: both legs get it
write_at "$DEV" 4096 8192
wait_synced m1 10
rstat m1
C0=${S_KV[regions_copied]}
TSUM=$(dev_md5 "$TGT")

EV0=$(dmsetup info -c --noheadings -o events m1)
msg m1 fracture
assert_status m1 "^mirror sync fractured dormant $NR/$NR 0 [0-9]+ 0 0 AA rw "
# a copy state change raises a dm event
EV1=$(dmsetup info -c --noheadings -o events m1)
((EV1 > EV0)) || fail "no dm event for the change to fractured (event number $EV0 -> $EV1)"
expect_msg_fail m1 "Operation not permitted" fracture	# already fractured

# Writes hitting a known set of regions (offsets/lengths in KiB; 64 KiB
# regions): 3 (twice), 10+11 (one write across the boundary), 100 (whole),
# 500-504 (one 320 KiB write), 1023 (the last one).
write_at "$DEV" 192 4
write_at "$DEV" 200 4
write_at "$DEV" 700 8
write_at "$DEV" 6400 64
write_at "$DEV" 32000 320
write_at "$DEV" 65472 4
N=10
rstat m1
log "fractured after writes: $S_LINE"
assert_eq "$S_STATE $S_PROGRESS" "fractured dormant" "state after writes"
assert_eq "$S_INSYNC/$S_TOTAL" "$((NR - N))/$NR" "in_sync after writing $N regions"
((S_DIRTY >= N)) || fail "dirty $S_DIRTY < $N regions written"
assert_eq "${S_KV[regions_copied]}" "$C0" "regions_copied while fractured"
assert_eq "$(dev_md5 "$TGT")" "$TSUM" "target changed while fractured"
expect_msg_fail m1 "Operation not permitted" split	# not synchronized
rstat m1
assert_eq "$S_STATE" fractured "state after refused split"

msg m1 resync
wait_synced m1 30
rstat m1
assert_eq "$((S_KV[regions_copied] - C0))" "$N" "regions copied by the resync"
assert_eq "${S_KV[copy_errors]} $S_HEALTH" "0 AA" "errors/health"
legs_equal "$SRC" "$TGT"

# --- split: only when synchronized ------------------------------------------
msg m1 split
assert_status m1 "^mirror sync split dormant $NR/$NR "
expect_msg_fail m1 "Operation not permitted" split
expect_msg_fail m1 "Operation not permitted" fracture
write_at "$DEV" 12800 128			# regions 200, 201
rstat m1
assert_eq "$S_INSYNC" "$((NR - 2))" "in_sync after writes to a split mirror"
C1=${S_KV[regions_copied]}
msg m1 resync
wait_synced m1 30
rstat m1
assert_eq "$((S_KV[regions_copied] - C1))" 2 "regions copied after split"

# split refused while a resync is still copying (throttled: 200 regions at
# 64 KiB/s), and the resync then completes
msg m1 fracture
write_at "$DEV" 19200 12800			# regions 300-499
msg m1 set copy_rate_max 64
msg m1 resync
rstat m1
assert_eq "$S_STATE" unsynchronized "state during resync"
assert_eq "$S_PROGRESS" resyncing "progress during resync"
((S_INSYNC < NR)) || fail "resync finished too early to test split ($S_LINE)"
expect_msg_fail m1 "Operation not permitted" split
msg m1 set copy_rate_max 0
wait_synced m1 30
rstat m1
assert_eq "$((S_KV[regions_copied] - C1 - 2))" 200 "regions copied by the third resync"
legs_equal "$SRC" "$TGT"
