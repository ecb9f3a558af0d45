#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Mirror restore: fracture, change the source, restore -> the source holds
# the target's contents as of the fracture again, both legs equal.  During a
# (throttled) restore the device already reads the restored image, and a
# write to a region not yet restored waits for that region's copy and then
# lands on both legs.
# timeout: 300
. "$(dirname "$0")/../lib.sh"
. "$SELFTESTS_DIR/mirror-lib.sh"

brd_setup 3 64M
META=${RAMDISKS[0]} SRC=${RAMDISKS[1]} TGT=${RAMDISKS[2]}
SZ=$(sectors "$SRC")
RS=128
NR=$((SZ / RS))
DEV=/dev/mapper/m1

dm_create m1 "0 $SZ replica mirror sync $META $SRC $TGT $RS 1 nosync"
write_at "$DEV" 0 16384				# 16 MiB through both legs
wait_synced m1 10
A=$(dev_md5 "$TGT")

# --- 1. plain restore ----------------------------------------------------------
msg m1 fracture
write_at "$DEV" 1024 2048			# regions 16-47
write_at "$DEV" 40000 64			# region 625
write_at "$DEV" 8190 4				# regions 127+128 (across)
rstat m1
assert_eq "$S_INSYNC" "$((NR - 35))" "in_sync after writes"
drop_caches
SUMS=$(md5sum "$SRC" "$TGT" | cut -d' ' -f1 | tr '\n' ' ')
[[ $SUMS != "$A $A " ]] || fail "source unchanged by the writes"
[[ $SUMS == *" $A " ]] || fail "target changed while fractured"
C0=${S_KV[regions_copied]}
msg m1 restore
wait_synced m1 30
rstat m1
assert_eq "$((S_KV[regions_copied] - C0))" 35 "regions copied back by restore"
drop_caches
assert_eq "$(md5sum "$SRC" "$TGT" | cut -d' ' -f1 | tr '\n' ' ')" "$A $A " "source, target after restore"
expect_msg_fail m1 "Operation not permitted" restore	# synchronized: no

# --- 2. restore in progress: reads and writes through the device ------------
msg m1 fracture
write_at "$DEV" 0 16384				# regions 0-255 all changed
msg m1 set copy_rate_max 64			# about one region per 100 ms
msg m1 restore
rstat m1
assert_eq "$S_STATE $S_PROGRESS" "unsynchronized restoring" "state during restore"
((S_INSYNC < NR - 100)) || fail "restore too far already ($S_LINE)"
# the device shows the restored image at once
assert_eq "$(range_md5 "$DEV" 0 16384)" "$(range_md5 "$TGT" 0 16384)" "device reads during restore"
# a write into a region far from the copy cursor (region 250)
MODEL=$TEST_TMP/model
dd if="$TGT" of="$MODEL" bs=1M count=64 iflag=direct status=none
head -c 8192 /dev/urandom > "$TEST_TMP/w"
write_at "$DEV" 16004 8 "$TEST_TMP/w"
dd if="$TEST_TMP/w" of="$MODEL" bs=1K seek=16004 conv=notrunc status=none
rstat m1
log "during restore after write: $S_LINE"
msg m1 set copy_rate_max 0
wait_synced m1 30
WANT=$(dev_md5 "$MODEL")
drop_caches
assert_eq "$(md5sum "$SRC" "$TGT" | cut -d' ' -f1 | tr '\n' ' ')" "$WANT $WANT " "source, target after restore with a write"
