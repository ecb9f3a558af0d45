#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Finding 13 (review C13 and C14): two ways a restore brings back the wrong
# data.
#  (a) C13: a restore started while a whole-region view write is in flight
#      (the target is slowed by dm-delay) loses that write: the overwrite
#      completes under "restoring" and its bit is never set, so the region
#      is not copied back.  Expected: after the restore the source holds
#      the view's written data for that region (the whole source equals
#      the view image); a restore refused with EBUSY while the view write
#      runs is accepted too, it is then sent again after the write.
#  (b) C14: a mirror fractured during its INITIAL sync must refuse
#      "restore" with EPERM ("Operation not permitted") and stay fractured:
#      the target never received the source's data.  Today the restore is
#      accepted and would copy never-synced target regions over the source.
# timeout: 180
. "$(dirname "$0")/../lib.sh"
. "$SELFTESTS_DIR/pit-lib.sh"
. "$SELFTESTS_DIR/mirror-lib.sh"
require_module dm-delay

brd_setup 3 16M
META=${RAMDISKS[0]} SRC=${RAMDISKS[1]} TGT0=${RAMDISKS[2]}
SZ=$(sectors "$SRC")
RS=128 R=65536
DELAY_MS=3000
dm_create tdly "0 $SZ delay $TGT0 0 0"
TGT=$(dm_dev tdly)
DEVS="$META $SRC $TGT $RS"

# --- (a) restore during a whole-region view write ------------------------------
step "(a) snapshot"
fill_random "$SRC"
IMG=$TEST_TMP/view.img
save_image "$SRC" "$IMG"
dm_create org "0 $SZ replica snapshot sync $DEVS"
dm_create snap "0 $SZ replica view snapshot $DEVS"
ORG=$(dm_dev org) SNAP=$(dm_dev snap)
# something to restore besides the raced region: origin writes (COW) to 2..5
dd if=/dev/urandom of="$ORG" bs=64k seek=2 count=4 oflag=direct status=none
# slow target writes from now on
dmsetup suspend tdly
dmsetup load tdly --table "0 $SZ delay $TGT0 0 0 $TGT0 0 $DELAY_MS"
dmsetup resume tdly
RACE=40
head -c "$R" /dev/urandom > "$TEST_TMP/chunk"
dd if="$TEST_TMP/chunk" of="$IMG" bs="$R" seek="$RACE" conv=notrunc status=none
dd if="$TEST_TMP/chunk" of="$SNAP" bs="$R" seek="$RACE" oflag=direct status=none &
VW=$!
_overwrite_in_flight() { st org; ((ST[copying] > 0)); }
wait_for 5 _overwrite_in_flight || fail "the whole-region view write is not in flight: ${ST[line]}"
step "restore while the view write is in flight"
if ! out=$(dmsetup message org 0 restore 2>&1); then
	[[ $out == *"Device or resource busy"* ]] || fail "restore refused: $out"
	log "restore refused while the view write runs ($out): sent again after it"
	wait "$VW" || fail "view write failed"
	VW=
	dmsetup message org 0 restore
fi
st org
log "after restore: ${ST[line]}"
if [[ -n $VW ]]; then
	wait "$VW" || fail "whole-region view write failed (it was accepted before the restore)"
fi
dmsetup suspend tdly
dmsetup load tdly --table "0 $SZ delay $TGT0 0 0"
dmsetup resume tdly
wait_state 60 org synchronized completed
st org
log "restore done: ${ST[line]}"
assert_eq "${ST[health]} ${ST[copy_errors]}" "AA 0" "health after the restore"
drop_caches
soft_eq "$(range_md5 "$SRC" $((RACE * 64)) 64)" "$(range_md5 "$IMG" $((RACE * 64)) 64)" \
	"(a) source region $RACE after the restore: md5 of the view write"
if ! cmp -s "$SRC" "$IMG"; then
	SOFT_FAILS+=("(a) source after the restore differs from the view image: $(cmp "$SRC" "$IMG" 2>&1 | head -n1 || true) (region $RACE is at byte $((RACE * R)))")
fi
dm_remove snap
dm_remove org
dd if=/dev/zero of="$META" bs=4k count=2 oflag=direct status=none

# --- (b) fracture during the initial sync, then restore ----------------------
step "(b) mirror"
dm_create m1 "0 $SZ replica mirror sync $DEVS 0 2 copy_rate_max 256"
rstat m1
assert_eq "$S_STATE $S_PROGRESS" "unsynchronized synchronizing" "initial sync running"
msg m1 fracture
rstat m1
log "fractured during the initial sync: $S_LINE"
((S_INSYNC < S_TOTAL)) || fail "initial sync already complete: $S_LINE"
ST0="$S_STATE $S_PROGRESS $S_HEALTH"
SRC_MD5=$(dev_md5 "$SRC")
if dmsetup message m1 0 restore 2>"$TEST_TMP/err"; then
	SOFT_FAILS+=("(b) restore of a mirror fractured during its initial sync was accepted, want 'Operation not permitted'")
	rstat m1
	log "CHECK FAILED: restore accepted: $S_LINE"
	msg m1 set copy_rate_max 0
	sleep 2
	rstat m1
	log "and then: $S_LINE"
	[[ $(dev_md5 "$SRC") == "$SRC_MD5" ]] ||
		log "the source was overwritten with never-synced target data"
else
	err=$(cat "$TEST_TMP/err")
	[[ $err == *"Operation not permitted"* ]] ||
		SOFT_FAILS+=("(b) restore refused with '$err', want 'Operation not permitted'")
	rstat m1
	soft_eq "$S_STATE $S_PROGRESS $S_HEALTH" "$ST0" "(b) state after the refused restore"
fi
dm_remove m1
soft_done
