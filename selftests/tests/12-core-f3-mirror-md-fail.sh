#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Finding 3 (review C3): a mirror after a failed metadata commit.
# dm-replica.rst (Errors): "A failed metadata commit makes the metadata
# read-only (ro).  A mirror then fails the writes that would need a new bit
# (nothing is written that the bitmap could not vouch for after a crash)
# and goes on with everything else ... Once the device is back, reloading
# the table reopens the last good commit, and the regions it marks are
# resynced."  The metadata sits on dm-flakey, switched to error_writes.
# For an async and a sync mirror (commit_ms 60000 at first, so nothing is
# cleared on its own):
#   1. region A is written while the metadata works: its bit is durable;
#   2. the metadata fails; the first write to a clean region B fails (EIO)
#      and the metadata goes ro;
#   3. a second write to B: it must fail, or else B must be resynced after
#      the reopen (checked in 5).  Today, async: it succeeds on the source
#      only, past the commit gate (the in-core bit of the failed commit
#      was kept);
#   4. commit_ms is cut to 100 ms and the marks age out; a write to A (its
#      bit is durable) must succeed.  Today the idle clear still clears
#      in-core bits while ro, so it fails with EIO;
#   5. the metadata is healthy again; the mirror is removed and created
#      again (reopens the last good commit): after the resync the legs
#      must be equal.  Today, async: they differ at region B.
# timeout: 180
. "$(dirname "$0")/../lib.sh"
. "$SELFTESTS_DIR/pit-lib.sh"
. "$SELFTESTS_DIR/mirror-lib.sh"
require_module dm-flakey

brd_setup 3 16M
META0=${RAMDISKS[0]} SRC=${RAMDISKS[1]} TGT=${RAMDISKS[2]}
SZ=$(sectors "$SRC")
MSZ=$(sectors "$META0")
RS=128
A=3 B=10
MGOOD="0 $MSZ flakey $META0 0 180 0"
MBAD="0 $MSZ flakey $META0 0 0 180 1 error_writes"
dm_create fmeta "$MGOOD"
META=$(dm_dev fmeta)
DEV=$(dm_dev m1)

for mode in async sync; do
	step "$mode mirror"
	dd if=/dev/zero of="$META0" bs=4k count=2 oflag=direct status=none
	TABLE="0 $SZ replica mirror $mode $META $SRC $TGT $RS 1 nosync 2 commit_ms 60000"
	dm_create m1 "$TABLE"
	wait_synced m1 20
	# 1. region A: bit set and committed
	write_at "$DEV" $((A * 64)) 64
	wait_synced m1 20
	rstat m1
	assert_eq "$S_DIRTY $S_MDMODE" "1 rw" "$mode: region $A marked"
	# 2. the metadata device fails writes
	dm_swap fmeta "$MBAD"
	expect_fail write_at "$DEV" $((B * 64)) 64
	rstat m1
	log "$mode: after the failed commit: $S_LINE"
	assert_eq "$S_MDMODE" ro "$mode: metadata mode after the failed commit"
	# 3. again: refused, or resynced later (5.)
	if write_at "$DEV" $((B * 64)) 64 2>/dev/null; then
		log "$mode: a second write to region $B succeeded (must be resynced after the reopen)"
	else
		log "$mode: a second write to region $B failed"
	fi
	# 4. a region with a durable bit keeps taking writes
	msg m1 set commit_ms 100
	sleep 1.5
	if ! write_at "$DEV" $((A * 64)) 64 2>"$TEST_TMP/err"; then
		SOFT_FAILS+=("$mode: a write to region $A (its bit durable) failed after the metadata went ro: $(head -n1 "$TEST_TMP/err")")
		log "CHECK FAILED: $mode: write to region $A failed: $(head -n1 "$TEST_TMP/err")"
	fi
	rstat m1
	log "$mode: after the idle clear: $S_LINE"
	# 5. the metadata is back: reopen the last good commit
	dm_swap fmeta "$MGOOD"
	dm_remove m1
	dm_create m1 "$TABLE"
	rstat m1
	log "$mode: reopened: $S_LINE"
	wait_synced m1 30
	drop_caches
	if ! cmp -s "$SRC" "$TGT"; then
		out=$(cmp "$SRC" "$TGT" 2>&1 | head -n1 || true)
		n=$(sed -n 's/.* byte \([0-9]*\),.*/\1/p' <<<"$out")
		SOFT_FAILS+=("$mode: legs differ after the reopen and resync: $out${n:+ (region $(((n - 1) / 65536)))}")
		log "CHECK FAILED: $mode: legs differ: $out"
	fi
	dm_remove m1
	# equal legs for the next round
	dd if="$SRC" of="$TGT" bs=1M iflag=direct oflag=direct status=none
done
soft_done
