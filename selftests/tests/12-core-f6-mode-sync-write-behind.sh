#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Finding 6 (review C6): `mode sync` with write-behinds in flight must not
# put a second write to the same blocks on the target while the first is
# still in flight there: the block layer does not order two writes in flight
# to the same sectors, so the older (async) data could land last and the
# target would hold stale data in a region the bitmap calls in sync.
# The target leg sits behind dm-delay (writes +5 s):
#   1. async mirror, write A to region R: the host write completes with the
#      source, the write-behind is held by dm-delay (1 write in flight);
#   2. `mode sync`, then write B over the same 4 KiB: while A is still held,
#      the target must never have two writes in flight (sampled from
#      dm-delay's status: the writes it holds).  Today B goes straight to the target
#      next to A;
#   3. after the copy has caught up, both legs hold B.
# timeout: 120
. "$(dirname "$0")/../lib.sh"
. "$SELFTESTS_DIR/pit-lib.sh"
. "$SELFTESTS_DIR/mirror-lib.sh"
require_module dm-delay

brd_setup 3 16M
META=${RAMDISKS[0]} SRC=${RAMDISKS[1]} TGT0=${RAMDISKS[2]}
SZ=$(sectors "$SRC")
RS=128			# 64 KiB regions
R=5			# the region written twice
dm_create tleg "0 $SZ delay $TGT0 0 0 $TGT0 0 5000"
TGT=$(dm_dev tleg)
DEV=$(dm_dev m1)
cd "$TEST_TMP"
head -c 4096 /dev/zero | tr '\0' 'A' > a.dat
head -c 4096 /dev/zero | tr '\0' 'B' > b.dat

# writes dm-delay holds now ("<start> <len> delay <reads> <writes> [<flushes>]")
target_writes() { dmsetup status tleg | awk '{ print $5 }'; }

dm_create m1 "0 $SZ replica mirror async $META $SRC $TGT $RS 1 nosync"
wait_synced m1 20

step "1. async write A to region $R"
write_at "$DEV" $((R * 64)) 4 a.dat
w=$(target_writes)
assert_eq "$w" 1 "writes in flight on the target after A (its write-behind)"

step "2. mode sync, then write B over A while A is in flight"
msg m1 mode sync
write_at "$DEV" $((R * 64)) 4 b.dat &
WPID=$!
max=0 samples=0 end=$((SECONDS + 3))
while ((SECONDS < end)); do	# 3 s: A is held for 5 s
	w=$(target_writes)
	((w > max)) && max=$w
	samples=$((samples + 1))
	sleep 0.1
done
wait "$WPID" || fail "write B failed"
log "most writes in flight on the target while A was held: $max ($samples samples)"
((max <= 1)) || fail "$max writes in flight on the target at once: B was sent next to A's write-behind (they may land in either order)"

step "3. the legs converge on B"
wait_synced m1 40
rstat m1
log "$S_LINE"
got_src=$(dd if="$SRC" bs=4k skip=$((R * 16)) count=1 iflag=direct status=none | sha256sum)
got_tgt=$(dd if="$TGT0" bs=4k skip=$((R * 16)) count=1 iflag=direct status=none | sha256sum)
want=$(sha256sum < b.dat)
assert_eq "$got_src" "$want" "source block after B"
assert_eq "$got_tgt" "$want" "target block after the copy"
legs_equal "$SRC" "$TGT0"
dm_remove m1
